"""Versioned files of the Cox model and the calibrators: round trips, feature names, versions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


def _cox_table(seed=0, subjects=200):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(subjects):
        x = rng.normal(size=2)
        follow = int(rng.integers(5, 30))
        for day in range(1, follow + 1):
            event = rng.random() < 0.03 * np.exp(0.6 * x[0] - 0.4 * x[1])
            rows.append({"start": day - 1.0, "stop": float(day), "event": float(event), "a": x[0], "b": x[1]})
            if event:
                break
    return pd.DataFrame(rows)


def test_cox_model_round_trip_and_feature_check(tmp_path):
    df = _cox_table()
    m = risk.CoxModel(["a", "b"]).fit(df)
    ref = risk.CoxPH().fit(df["start"].to_numpy(), df["stop"].to_numpy(), df["event"].to_numpy(),
                           np.ascontiguousarray(df[["a", "b"]].to_numpy()))
    np.testing.assert_array_equal(m.coef, ref.coef)
    path = m.save(tmp_path / "cox.json")
    back = risk.CoxModel.load(path)
    np.testing.assert_array_equal(back.coef, m.coef)
    np.testing.assert_array_equal(back.model.standard_errors, m.model.standard_errors)
    np.testing.assert_array_equal(back.predict_log_hazard(df), df[["a", "b"]].to_numpy() @ m.coef)
    with pytest.raises(sportsmed.InvalidArgument, match="lacks covariate"):
        back.predict_log_hazard(df.rename(columns={"b": "c"}))
    d = json.loads(path.read_text())
    d["format_version"] = 2
    (tmp_path / "v2.json").write_text(json.dumps(d))
    with pytest.raises(sportsmed.FormatError, match="format version 2"):
        risk.CoxModel.load(tmp_path / "v2.json")
    with pytest.raises(sportsmed.FormatError):
        risk.Calibrator.load(path)  # a Cox file is not a calibrator
    d["format_version"] = 1
    d["coef"] = [0.1]
    (tmp_path / "short.json").write_text(json.dumps(d))
    with pytest.raises(sportsmed.FormatError):
        risk.CoxModel.load(tmp_path / "short.json")


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibrator_round_trip(tmp_path, method):
    rng = np.random.default_rng(1)
    s = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.8 * s - 2)))).astype(float)
    c = risk.Calibrator(method, score="model.json").fit(s, y)
    ref = (risk.PlattCalibration() if method == "platt" else risk.IsotonicCalibration()).fit(s, y)
    grid = np.linspace(-4, 4, 101)
    np.testing.assert_array_equal(c.predict(grid), ref.predict(grid))
    back = risk.Calibrator.load(c.save(tmp_path / "cal.json"))
    np.testing.assert_array_equal(back.predict(grid, score_name="model.json"), ref.predict(grid))
    with pytest.raises(sportsmed.InvalidArgument):
        back.predict(grid, score_name="other.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(sportsmed.FormatError):
        risk.Calibrator.load(tmp_path / "junk.json")
