"""The logistic regression solver on hard inputs: ill-conditioned, nearly separable,
weighted, odd shapes and memory layouts, several threads. References: scipy's
trust-region Newton on the same objective, scikit-learn, and row duplication."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression as SkLogistic

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


def _ill_conditioned(seed=11, n=3001, p=7):
    """Nearly collinear columns, scales from 1e-2 to 1e2, labels nearly separable."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    x[:, 1] = x[:, 0] + 1e-3 * rng.normal(size=n)
    x *= np.array([1e-2, 1e-2, 1, 10, 100, 1, 0.1])[:p]
    y = (40 * x[:, 2] - 0.3 * x[:, 4] + 2.0 + 0.5 * rng.normal(size=n) > 0).astype(float)
    return x, y


def _objective(C, x, y, s):
    """scikit-learn's objective C·Σ s·logloss + ½‖w‖², its gradient and Hessian (numpy)."""

    def parts(t):
        z = x @ t[:-1] + t[-1]
        q = 0.5 * (1 + np.tanh(0.5 * z))  # σ(z), overflow-free
        return z, q

    def f(t):
        z, _ = parts(t)
        return C * np.sum(s * (np.logaddexp(0, z) - y * z)) + 0.5 * t[:-1] @ t[:-1]

    def grad(t):
        _, q = parts(t)
        r = C * s * (q - y)
        return np.r_[x.T @ r + t[:-1], r.sum()]

    def hess(t):
        _, q = parts(t)
        xa = np.c_[x, np.ones(len(x))]
        h = xa.T @ (xa * (C * s * q * (1 - q))[:, None])
        h[:-1, :-1] += np.eye(x.shape[1])
        return h

    return f, grad, hess


@pytest.mark.parametrize("C", [1.0, 100.0, 1e4])
def test_ill_conditioned_nearly_separable_equals_scipy_trust_region(C):
    x, y = _ill_conditioned()
    ours = risk.LogisticRegression(C=C).fit(x, y)
    f, grad, hess = _objective(C, x, y, np.ones(len(y)))
    ref = minimize(f, np.zeros(x.shape[1] + 1), jac=grad, hess=hess, method="trust-exact",
                   options={"gtol": 1e-10, "maxiter": 10_000})
    t = np.r_[ours.coef, ours.intercept]
    np.testing.assert_allclose(t, ref.x, atol=1e-5 * max(1.0, np.abs(ref.x).max()))
    # Optimality of ours on its own: the gradient vanishes relative to the data term's scale.
    scale = C * np.abs(np.c_[x, np.ones(len(x))]).sum(axis=0)
    assert np.all(np.abs(grad(t)) <= 1e-9 * scale)
    assert f(t) <= f(ref.x) + 1e-9 * abs(f(ref.x))


def test_sample_weights_equal_row_duplication_and_sklearn():
    x, y = _ill_conditioned(seed=3, n=2003, p=5)
    x = (x - x.mean(0)) / x.std(0)
    w = np.random.default_rng(4).integers(0, 4, size=len(y)).astype(float)
    ours = risk.LogisticRegression(C=0.5).fit(x, y, w)
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    dup = risk.LogisticRegression(C=0.5).fit(x[idx], y[idx])
    np.testing.assert_allclose(ours.coef, dup.coef, atol=1e-10)
    assert ours.intercept == pytest.approx(dup.intercept, abs=1e-10)
    sk = SkLogistic(C=0.5, solver="newton-cg", tol=1e-10, max_iter=1000).fit(x, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)


def test_class_weights_as_sample_weights_equal_sklearn_balanced():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4001, 9))
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(x @ np.linspace(-1, 1, 9) - 3)))).astype(float)
    n1 = y.sum()
    w = np.where(y == 1, len(y) / (2 * n1), len(y) / (2 * (len(y) - n1)))  # sklearn's "balanced"
    ours = risk.LogisticRegression(C=2.0).fit(x, y, w)
    sk = SkLogistic(C=2.0, class_weight="balanced", solver="newton-cg", tol=1e-10, max_iter=1000).fit(x, y)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)


@pytest.mark.parametrize("n, p", [(1, 1), (9, 2), (37, 3), (1001, 4), (20_003, 13)])
def test_shapes_without_intercept_equal_sklearn(n, p):
    rng = np.random.default_rng(n + p)
    x = rng.normal(size=(n, p))
    y = (rng.random(n) < 0.4).astype(float)
    y[0], y[-1] = 0.0, 1.0
    if n == 1:
        x, y = np.r_[x, -x], np.array([0.0, 1.0])
    for icpt in (True, False):
        ours = risk.LogisticRegression(C=3.0, fit_intercept=icpt).fit(x, y)
        sk = SkLogistic(C=3.0, fit_intercept=icpt, solver="newton-cg", tol=1e-10, max_iter=1000).fit(x, y)
        np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-6)
        assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-6)


def test_memory_layouts_and_threads_give_the_same_fit():
    rng = np.random.default_rng(8)
    big = rng.normal(size=(40_001, 16))  # ≥ 32768 rows: the subsample warm start runs
    y = (rng.random(len(big)) < 1 / (1 + np.exp(-(big[:, :11] @ np.linspace(-1, 1, 11) - 2)))).astype(float)
    x = big[:, :11]  # a strided view: rows 16 values apart
    ref = risk.LogisticRegression().fit(np.ascontiguousarray(x), y)
    for arr in (x, np.asfortranarray(x)):
        m = risk.LogisticRegression().fit(arr, y)
        np.testing.assert_array_equal(m.coef, ref.coef)
    saved = sportsmed.num_threads()
    try:
        for t in (1, 2, 3):
            sportsmed.set_num_threads(t)
            m = risk.LogisticRegression().fit(x, y)
            np.testing.assert_allclose(m.coef, ref.coef, atol=1e-10)
            assert m.intercept == pytest.approx(ref.intercept, abs=1e-10)
    finally:
        sportsmed.set_num_threads(saved)


@pytest.mark.parametrize("row", [0, 7, 8, 1000, 1002])
def test_non_finite_values_anywhere_are_named(row):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(1003, 3))
    y = (rng.random(len(x)) < 0.5).astype(float)
    for bad in (np.nan, np.inf, -np.inf):
        xb = x.copy()
        xb[row, 2] = bad
        with pytest.raises(sportsmed.InvalidArgument, match=f"feature 2 of row {row} is"):
            risk.LogisticRegression().fit(xb, y)
    with pytest.raises(sportsmed.InvalidArgument, match="sample weight"):
        risk.LogisticRegression().fit(x, y, np.full(len(y), -1.0))
    with pytest.raises(sportsmed.InvalidArgument, match="single class"):
        risk.LogisticRegression().fit(x, y, (y == 1).astype(float))


@pytest.mark.parametrize("case", ["rare", "sorted", "weighted", "subsample one class"])
def test_large_inputs_with_the_warm_start_equal_sklearn(case):
    """n ≥ 32768 rows: the first Newton steps run on every k-th row; the optimum is still
    the full data's one, including when that subsample holds a single class."""
    rng = np.random.default_rng(12)
    n = 40_000
    x = rng.normal(size=(n, 6)) * np.array([1, 2, 0.5, 1, 3, 1])
    z = x @ np.array([0.8, -0.3, 1.0, 0.0, 0.2, -0.5]) - (5.0 if case == "rare" else 1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    w = None
    if case == "sorted":
        order = np.argsort(y, kind="stable")
        x, y = x[order], y[order]
    elif case == "weighted":
        w = rng.uniform(0.2, 3.0, size=n)
    elif case == "subsample one class":
        y[::4] = 0.0  # k = n // 8192 = 4: the rows 0, 4, 8, ... are all negatives
    args = (x, y) if w is None else (x, y, w)
    ours = risk.LogisticRegression(C=0.7).fit(*args)
    sk = SkLogistic(C=0.7, solver="newton-cg", tol=1e-10, max_iter=1000).fit(x, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)
    f, grad, _ = _objective(0.7, x, y, np.ones(n) if w is None else w)
    t = np.r_[ours.coef, ours.intercept]
    assert np.abs(grad(t)).max() <= 1e-9 * 0.7 * np.abs(x).sum()
