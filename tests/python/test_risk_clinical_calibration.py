"""Calibration slope, calibration-in-the-large and reliability tables against statsmodels
and scikit-learn (issue 20, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")
sm = pytest.importorskip("statsmodels.api")
from sklearn.calibration import calibration_curve  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402


def _data(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 40, n)
    s = rng.normal(size=n) + 0.5 * rng.normal(size=40)[g]
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2 + 1.3 * s)))).astype(float)
    p = 1 / (1 + np.exp(-(-1.5 + s)))  # too cautious (slope > 1) and too high (CITL < 0)
    return y, p, g


@pytest.mark.parametrize("clustered", [False, True])
def test_slope_and_citl_equal_statsmodels_glm(clustered):
    y, p, g = _data()
    ours = risk.calibration_summary(y, p, groups=g if clustered else None)
    lp = np.log(p / (1 - p))
    cov = dict(cov_type="cluster", cov_kwds={"groups": g}) if clustered else {}
    slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit(**cov)
    citl = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit(**cov)
    assert ours["slope"] == pytest.approx(slope.params[1], abs=1e-9)
    assert ours["intercept"] == pytest.approx(slope.params[0], abs=1e-9)
    assert ours["slope_se"] == pytest.approx(slope.bse[1], rel=1e-6)
    np.testing.assert_allclose([ours["slope_lo"], ours["slope_hi"]], slope.conf_int()[1], rtol=1e-6)
    assert ours["citl"] == pytest.approx(citl.params[0], abs=1e-9)
    np.testing.assert_allclose([ours["citl_lo"], ours["citl_hi"]], citl.conf_int()[0], rtol=1e-6)
    assert ours["slope_lo"] > 1 and ours["citl_hi"] < 0  # the miscalibration built in is detected
    assert ours["oe_ratio"] == pytest.approx(y.sum() / p.sum())


def test_well_calibrated_predictions_cover_ideal_values():
    rng = np.random.default_rng(4)
    p = 1 / (1 + np.exp(-rng.normal(-2, 1, 20000)))
    y = (rng.random(p.size) < p).astype(float)
    c = risk.calibration_summary(y, p)
    assert c["slope_lo"] < 1 < c["slope_hi"] and c["citl_lo"] < 0 < c["citl_hi"]


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("rounded", [False, True])
def test_reliability_table_equals_sklearn_calibration_curve(strategy, rounded):
    y, p, _ = _data(1)
    if rounded:
        p = np.round(p, 1)  # tied quantile edges merge bins
    t = risk.reliability_table(y, p, bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(t["observed"], prob_true, atol=1e-12)
    np.testing.assert_allclose(t["mean_predicted"], prob_pred, atol=1e-12)
    assert t["n"].sum() == len(y) and t["events"].sum() == y.sum()
    lo, hi = proportion_confint(t["events"], t["n"], method="wilson")
    np.testing.assert_allclose(t["observed_lo"], lo, atol=1e-12)
    np.testing.assert_allclose(t["observed_hi"], hi, atol=1e-12)


def test_reliability_diagram_is_a_figure_with_counts():
    y, p, _ = _data(2)
    fig = risk.reliability_diagram(y, p, bins=5)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(int(t[2:]) for t in texts) == sorted(risk.reliability_table(y, p, 5)["n"])


def test_calibration_bad_input():
    with pytest.raises(sportsmed.InvalidArgument, match="single class"):
        risk.calibration_summary(np.zeros(5), np.full(5, 0.1))
    with pytest.raises(sportsmed.InvalidArgument, match="0 or 1"):
        risk.reliability_table(np.array([0, np.nan, 1]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(sportsmed.InvalidArgument, match="strategy"):
        risk.reliability_table(np.array([0, 1.0]), np.array([0.1, 0.2]), strategy="kmeans")


def test_soccermon_equal_width_bins_hide_everything(soccermon_table):
    """At ~1 % prevalence equal-width bins put nearly every row in the first bin (the
    issue: 36,043 of 36,053); quantile bins spread them evenly."""
    df = soccermon_table
    lab = df[df["y"].notna()]
    feats = ["ewma_acwr", "acwr_coupled", "monotony"]
    p = risk.RiskModel(feats).fit(lab, "y").predict(lab)
    y = lab["y"].to_numpy()
    uni = risk.reliability_table(y, p, 10, "uniform")
    assert len(lab) == 36053
    assert uni["n"].iloc[0] >= 0.999 * len(lab) and uni["bin"].iloc[0] == 0
    q = risk.reliability_table(y, p, 10, "quantile")
    assert len(q) >= 5 and q["n"].max() <= 0.35 * len(lab)  # tied risks (rest days) merge a few bins
    c = risk.calibration_summary(y, p, groups=lab["athlete"])
    assert c["oe_ratio"] == pytest.approx(1.0, abs=1e-6)  # an in-sample logistic fit is calibrated in the large
