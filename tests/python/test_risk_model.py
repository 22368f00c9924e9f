"""RiskModel: persistence round trip, feature-name guard, explanations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression as SkLogistic

import sportsmed

risk = pytest.importorskip("sportsmed.risk")

FEATURES = ["ewma_acwr", "fatigue", "monotony"]


@pytest.fixture(scope="module")
def data():
    df = risk.synthetic_cohort(athletes=20, days=365, seed=3)
    df = df.join(risk.workload(df).drop(columns=["athlete", "date"]))
    df["y"] = risk.injury_labels(df, 7)
    return df


@pytest.mark.parametrize("kind", ["logistic", "xgboost"])
def test_round_trip_and_explanations(data, tmp_path, kind):
    m = risk.RiskModel(FEATURES, kind).fit(data, "y")
    path = m.save(tmp_path / "model.json")
    back = risk.RiskModel.load(path)
    np.testing.assert_array_equal(back.predict(data), m.predict(data))
    e = back.explain(data)
    assert list(e.columns) == FEATURES + ["baseline"]
    p = m.predict(data)
    np.testing.assert_allclose(e.sum(axis=1), np.log(p / (1 - p)), atol=1e-4)
    saved = json.loads(path.read_text())
    assert saved["features"] == FEATURES and saved["training"]["athletes"] == 20
    assert not list(tmp_path.glob("*.tmp"))


def test_logistic_risk_model_equals_sklearn_pipeline(data):
    m = risk.RiskModel(FEATURES, "logistic", C=0.5).fit(data, "y")
    d = data[~data["y"].isna()]
    x = d[FEATURES].to_numpy(float)
    mu, sd = np.nanmean(x, 0), np.nanstd(x, 0)
    xs = (np.where(np.isnan(x), mu, x) - mu) / sd
    sk = SkLogistic(C=0.5, tol=1e-12, max_iter=10_000).fit(xs, d["y"])
    np.testing.assert_allclose(m.predict(d), sk.predict_proba(xs)[:, 1], atol=1e-5)


def test_feature_names_and_versions_are_enforced(data, tmp_path):
    m = risk.RiskModel(FEATURES).fit(data, "y")
    with pytest.raises(sportsmed.InvalidArgument, match="lacks feature"):
        m.predict(data.drop(columns=["fatigue"]))
    with pytest.raises(sportsmed.InvalidArgument, match="feature_names"):
        m.predict(np.zeros((2, 3)), feature_names=["fatigue", "ewma_acwr", "monotony"])
    np.testing.assert_allclose(m.predict(data[FEATURES].to_numpy(), feature_names=FEATURES), m.predict(data))
    path = m.save(tmp_path / "m.json")
    d = json.loads(path.read_text())
    d["format_version"] = 99
    path.write_text(json.dumps(d))
    with pytest.raises(sportsmed.FormatError, match="format version 99"):
        risk.RiskModel.load(path)
    path.write_text("{")
    with pytest.raises(sportsmed.FormatError, match="not JSON"):
        risk.RiskModel.load(path)
