"""NeuralRiskModel's own versioned file (written and read in C++): round trips and
typed errors for bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_neural_model_file_round_trip_gives_identical_predictions(tmp_path, arch):
    rng = np.random.default_rng(3)
    inputs = 8 if arch == "cnn" else 4  # cnn: window_days 4 × 2 features
    x = rng.normal(size=(600, inputs))
    y = (rng.random(600) < 1 / (1 + np.exp(-(x[:, 0] - 0.5 * x[:, 1] - 1)))).astype(float)
    m = risk.NeuralRiskModel(architecture=arch, hidden=[8], window_days=4, channels=4, max_epochs=4, seed=2)
    m.fit(x, y)
    path = tmp_path / f"{arch}.json"
    m.save(str(path))
    back = risk.NeuralRiskModel.load(str(path))
    xt = rng.normal(size=(100, inputs))
    np.testing.assert_array_equal(back.decision_function(xt), m.decision_function(xt))
    np.testing.assert_array_equal(back.predict_proba(xt), m.predict_proba(xt))
    assert back.architecture == arch and back.n_inputs == inputs
    doc = json.loads(path.read_text())
    assert doc["format"] == "sportsmed-risk-neural" and doc["format_version"] == 1
    assert doc["sportsmed_version"] == sportsmed.__version__
    assert doc["training"]["history"] == pytest.approx(m.history, rel=0, abs=0)
    # the same tensors as the parameters the Python RiskModel file stores
    for t, p in zip(doc["tensors"], m.parameters()):
        assert t["name"] == p["name"] and t["shape"] == list(p["shape"])
        np.testing.assert_array_equal(np.asarray(t["values"]), p["values"])

    doc["format_version"] = 99
    bad = tmp_path / "v99.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="format version 99"):
        risk.NeuralRiskModel.load(str(bad))
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(sportsmed.FormatError, match="not JSON"):
        risk.NeuralRiskModel.load(str(tmp_path / "junk.json"))
    with pytest.raises(sportsmed.NotFound):
        risk.NeuralRiskModel.load(str(tmp_path / "absent.json"))
