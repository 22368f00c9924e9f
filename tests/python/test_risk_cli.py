"""`sportsmed risk` end to end: numbers agree with the Python API they wrap."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("risk") / "log.csv"
    df = risk.synthetic_cohort(athletes=16, days=300, seed=5)
    df = df.drop(index=df.index[5::37])  # absent days: the policy decides what they mean
    df.drop(columns=["p_true"]).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def test_workload_command_equals_the_api(log_csv, tmp_path, capsys):
    out = tmp_path / "w.csv"
    assert main(["risk", "workload", str(log_csv), "--missing", "zero", "-o", str(out)]) == 0
    got = pd.read_csv(out)
    ref = risk.workload(risk.complete_days(risk.read_table(log_csv), policy="zero"))
    # 7 significant digits by default (--precision), every digit with --precision 0
    np.testing.assert_allclose(got["ewma_acwr"], ref["ewma_acwr"], rtol=5e-7)
    assert len(got) == 16 * 300  # absent days restored as zero-load days
    assert main(["risk", "workload", str(log_csv), "--missing", "zero", "-o", str(out), "--precision", "0"]) == 0
    np.testing.assert_allclose(pd.read_csv(out)["ewma_acwr"], ref["ewma_acwr"], rtol=1e-12)
    with pytest.raises(SystemExit):
        main(["risk", "workload", str(log_csv)])  # the missing-day policy is required


def test_evaluate_train_predict_explain(log_csv, tmp_path, capsys):
    feats = "ewma_acwr,fatigue,monotony"
    assert main(["risk", "evaluate", str(log_csv), "--missing", "zero", "--features", feats, "--horizon", "3",
                 "--replicates", "50", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in report["table"]] == ["model", "prevalence", "athlete identity"]
    assert report["leakage"] is False
    model = tmp_path / "m.json"
    assert main(["risk", "train", str(log_csv), "--missing", "zero", "--features", feats, "--horizon", "3",
                 "-o", str(model)]) == 0
    preds = tmp_path / "p.csv"
    assert main(["risk", "predict", str(model), str(log_csv), "--missing", "zero", "-o", str(preds)]) == 0
    p = pd.read_csv(preds)
    df = risk.with_features(risk.complete_days(risk.read_table(log_csv), policy="zero"), horizon_days=3)
    np.testing.assert_allclose(p["risk"], risk.RiskModel.load(model).predict(df), rtol=5e-7)  # --precision 7
    m = ~df["y"].isna()
    assert roc_auc_score(df["y"][m], p["risk"][m]) > 0.6  # in-sample, the hazard is learnable
    capsys.readouterr()
    assert main(["risk", "explain", str(model), str(log_csv), "--missing", "zero", "--who", "S03"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("S03 on ") and "ewma_acwr" in text and "contribution" in text
    assert main(["risk", "explain", str(model), str(log_csv), "--missing", "zero", "--who", "nobody"]) == 1


def test_bad_column_is_a_plain_error(log_csv, capsys):
    assert main(["risk", "workload", str(log_csv), "--missing", "zero", "--athlete", "player"]) == 1
    assert "no column 'player'" in capsys.readouterr().err


def test_predict_rebuilds_features_as_the_model_was_trained(tmp_path, capsys):
    """The model records how its features were built (load column, missing-day policy,
    windows, label); predict uses that record, and an option that contradicts it is an
    error, not risks computed from other features."""
    model = tmp_path / "m.json"
    assert main(["risk", "train", "synthetic", "--missing", "zero", "--acute", "7", "--chronic", "28",
                 "--features", "acwr_coupled,load_7d", "-o", str(model)]) == 0
    recipe = json.loads(model.read_text())["training"]["recipe"]
    assert recipe == {"load": "daily_load", "missing": "zero", "acute": 7, "chronic": 28, "min_periods": 0}
    capsys.readouterr()
    assert main(["risk", "predict", str(model), "synthetic", "-o", str(tmp_path / "a.csv")]) == 0
    assert "risk of injury within 7 days" in capsys.readouterr().err
    assert main(["risk", "predict", str(model), "synthetic", "--acute", "7", "--missing", "zero",
                 "-o", str(tmp_path / "b.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    assert main(["risk", "predict", str(model), "synthetic", "--acute", "3", "--chronic", "21"]) == 1
    assert "--acute 3 conflicts with the model" in capsys.readouterr().err
