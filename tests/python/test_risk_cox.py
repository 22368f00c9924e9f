"""Cox PH with time-varying covariates against statsmodels PHReg."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")
PHReg = pytest.importorskip("statsmodels.duration.hazard_regression").PHReg


def counting_process(seed=0, subjects=300):
    """Subjects followed over integer days; covariates change at non-integer times and
    events fall on integer days (many tied), so no row starts at an event time: there
    PHReg's and R's risk-set conventions agree."""
    rng = np.random.default_rng(seed)
    start, stop, event, x = [], [], [], []
    beta = np.array([0.7, -0.5, 0.2])
    for _ in range(subjects):
        follow = int(rng.integers(5, 40))
        cuts = np.sort(rng.choice(np.arange(follow - 1), size=min(3, follow - 1), replace=False)) + 0.37
        bounds = np.r_[0.0, cuts, float(follow)]
        failed_at = None
        for a, b in zip(bounds[:-1], bounds[1:]):
            cov = rng.normal(size=3)
            # daily hazard from the row's covariates; an event ends follow-up at an integer day
            for day in range(int(np.floor(a)) + 1, int(np.floor(b)) + 1):
                if rng.random() < 0.02 * np.exp(cov @ beta):
                    failed_at = day
                    break
            end = float(failed_at) if failed_at is not None else b
            start.append(a)
            stop.append(end)
            event.append(1.0 if failed_at is not None else 0.0)
            x.append(cov)
            if failed_at is not None:
                break
    return np.array(start), np.array(stop), np.array(event), np.array(x)


@pytest.mark.parametrize("seed", [0, 1])
def test_cox_equals_statsmodels_phreg_breslow(seed):
    start, stop, event, x = counting_process(seed)
    assert len(np.unique(stop[event == 1])) < event.sum()  # tied event times
    ours = risk.CoxPH().fit(start, stop, event, x)
    ref = PHReg(stop, x, status=event, entry=start, ties="breslow").fit()
    np.testing.assert_allclose(ours.coef, ref.params, atol=1e-5)
    np.testing.assert_allclose(ours.standard_errors, ref.bse, rtol=1e-4)
    m = PHReg(stop, x, status=event, entry=start, ties="breslow")
    assert ours.log_likelihood == pytest.approx(m.loglike(ref.params), abs=1e-6)


def test_cox_bad_input():
    with pytest.raises(sportsmed.InvalidArgument, match="start"):
        risk.CoxPH().fit(np.array([1.0]), np.array([1.0]), np.array([1.0]), np.zeros((1, 1)))
    with pytest.raises(sportsmed.InvalidArgument, match="no events"):
        risk.CoxPH().fit(np.array([0.0, 0]), np.array([1.0, 2]), np.array([0.0, 0]), np.ones((2, 1)))
