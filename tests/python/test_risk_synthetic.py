"""The synthetic squad with a known hazard: models against the oracle AUC."""

from __future__ import annotations

import numpy as np
import pytest

risk = pytest.importorskip("sportsmed.risk")

FEATURES = ["ewma_acwr", "fatigue", "acwr_coupled", "monotony", "load_7d"]


@pytest.fixture(scope="module")
def cohort():
    df = risk.synthetic_cohort(athletes=60, days=730, seed=0)
    w = risk.workload(df)
    df = df.join(w.drop(columns=["athlete", "date"]))
    df["y"] = risk.injury_labels(df, 1)
    return df


def test_generator_is_seeded_and_uses_the_documented_hazard(cohort):
    again = risk.synthetic_cohort(athletes=60, days=730, seed=0)
    np.testing.assert_array_equal(again["daily_load"], cohort["daily_load"])
    assert not risk.synthetic_cohort(athletes=60, days=730, seed=1)["daily_load"].equals(cohort["daily_load"])
    h = risk.HazardModel()
    ok = ~cohort["p_true"].isna()
    # the hazard the generator drew from is the documented formula of sportsmed's own EWMA-ACWR
    expected = 1 / (1 + np.exp(-h.logit(cohort["ewma_acwr"][ok], cohort["fatigue"][ok])))
    np.testing.assert_allclose(cohort["p_true"][ok], expected, rtol=1e-9)
    # labels: the day after a healthy day with label 1 is the first injured day
    y = cohort["y"].to_numpy()
    inj = cohort["injury"].to_numpy()
    same = (cohort["athlete"].to_numpy()[1:] == cohort["athlete"].to_numpy()[:-1])
    pos = np.flatnonzero((y[:-1] == 1) & same)
    assert np.all(inj[pos + 1] == 1)
    assert 300 < np.nansum(y) < 1500
    assert cohort["injury"].mean() < 0.3


@pytest.mark.parametrize("model", ["logistic", "xgboost"])
def test_models_reach_the_oracle_auc_and_calibrate(cohort, model):
    ev = risk.evaluate(cohort, FEATURES, "y", scheme="grouped", k=5, model=model, replicates=100,
                       boosting={"n_estimators": 100, "max_depth": 2})
    pred = ev.predictions.merge(cohort[["athlete", "date", "p_true"]], on=["athlete", "date"])
    oracle = risk.roc_auc(pred["y"].to_numpy(), pred["p_true"].to_numpy())
    row = ev.table.set_index("model")
    assert row.loc["model", "roc_auc"] > oracle - 0.02
    assert row.loc["model", "roc_auc"] < oracle + 0.01  # nothing beats the truth by more than noise
    assert row.loc["athlete identity", "roc_auc"] == 0.5  # no frailty in this hazard
    for method in ("isotonic", "platt"):
        p = risk.calibrate(ev, method)
        ece = risk.reliability_curve(pred["y"].to_numpy(), p)["ece"]
        assert ece <= 0.02, (method, ece)


def test_thresholds_are_chosen_on_other_folds_like_sklearn_roc_curve(cohort):
    from sklearn.metrics import roc_curve

    ev = risk.evaluate(cohort, FEATURES, "y", scheme="grouped", k=4, replicates=20)
    t = risk.choose_threshold(ev, "youden")
    pred = ev.predictions
    for _, row in t.iterrows():
        other = pred[pred["fold"] != row["fold"]]
        fpr, tpr, thr = roc_curve(other["y"], other["p_model"], drop_intermediate=False)
        assert row["threshold"] == pytest.approx(thr[np.argmax(tpr - fpr)], rel=1e-12)
        mine = pred[pred["fold"] == row["fold"]]
        flag = mine["p_model"] >= row["threshold"]
        assert row["sensitivity"] == pytest.approx(flag[mine["y"] == 1].mean())
    a = risk.choose_threshold(ev, "alert_rate", alert_rate=0.1)
    assert np.allclose(a["alert_fraction"], 0.1, atol=0.03)
