"""Platt and isotonic calibration against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


def _scores(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.5 * s - 1.0)))).astype(float)
    return np.round(s, 2), y  # ties


def _platt_loss(a, b, s, y):
    n1 = y.sum()
    n0 = len(y) - n1
    t = np.where(y == 1, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))
    z = a * s + b
    return np.sum(np.logaddexp(0, z) - t * z)


def test_platt_equals_sklearn_sigmoid_calibration():
    s, y = _scores()
    ours = risk.PlattCalibration().fit(s, y)
    a, b = _sigmoid_calibration(s, y)  # sklearn: p = 1/(1+exp(a·s+b))
    assert ours.slope == pytest.approx(-a, rel=1e-5)
    assert ours.intercept == pytest.approx(-b, rel=1e-5, abs=1e-6)
    assert _platt_loss(ours.slope, ours.intercept, s, y) <= _platt_loss(-a, -b, s, y) + 1e-9
    np.testing.assert_allclose(ours.predict(s), 1 / (1 + np.exp(a * s + b)), atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_isotonic_equals_sklearn(weighted):
    s, y = _scores(1)
    w = np.random.default_rng(2).random(len(s)) if weighted else None
    ours = risk.IsotonicCalibration().fit(s, y, w if weighted else np.zeros(0))
    sk = IsotonicRegression(out_of_bounds="clip").fit(s, y, sample_weight=w)
    grid = np.r_[np.linspace(-5, 5, 4001), s]
    np.testing.assert_allclose(ours.predict(grid), sk.predict(grid), atol=1e-12)
    assert np.all(np.diff(ours.y) >= 0)


def test_calibration_bad_input():
    with pytest.raises(sportsmed.InvalidArgument, match="NaN|nan"):
        risk.IsotonicCalibration().fit(np.array([0.1, np.nan]), np.array([0.0, 1.0]))
    with pytest.raises(sportsmed.InvalidArgument, match="not fitted"):
        risk.PlattCalibration().predict(np.zeros(2))
