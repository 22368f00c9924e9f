"""Metrics, bootstrap, splits and logistic regression against scikit-learn."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_ap_equal_sklearn_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    y = (rng.random(n) < 0.07).astype(float)
    s = np.round(rng.normal(size=n) + y, 1)  # heavy ties
    w = rng.integers(0, 4, n).astype(float)
    assert abs(risk.roc_auc(y, s) - roc_auc_score(y, s)) < 1e-12
    assert abs(risk.average_precision(y, s) - average_precision_score(y, s)) < 1e-12
    assert abs(risk.roc_auc(y, s, w) - roc_auc_score(y, s, sample_weight=w)) < 1e-12
    assert abs(risk.average_precision(y, s, w) - average_precision_score(y, s, sample_weight=w)) < 1e-12
    p = 1 / (1 + np.exp(-s))
    assert abs(risk.brier_score(y, p) - brier_score_loss(y, p)) < 1e-13


def test_cluster_bootstrap_replicates_equal_sklearn_on_the_drawn_clusters():
    rng = np.random.default_rng(1)
    n, k = 2000, 25
    cluster = rng.integers(0, k, n).astype(np.int64)
    y = (rng.random(n) < 0.1).astype(float)
    s = rng.normal(size=n) + 0.8 * y
    r = risk.cluster_bootstrap(y, s, cluster, "roc_auc", replicates=200, level=0.9, seed=3)
    assert r["counts"].shape == (200, k) and (r["counts"].sum(axis=1) == k).all()
    ref = []
    for counts in r["counts"]:
        # the replicate as a data set: each drawn athlete's rows, repeated
        idx = np.concatenate([np.flatnonzero(cluster == c) for c in np.repeat(np.arange(k), counts)])
        ref.append(roc_auc_score(y[idx], s[idx]))
    np.testing.assert_allclose(r["replicates"], ref, atol=1e-12)
    assert r["lower"] == pytest.approx(np.quantile(ref, 0.05), abs=1e-12)
    assert r["upper"] == pytest.approx(np.quantile(ref, 0.95), abs=1e-12)
    ap = risk.cluster_bootstrap(y, s, cluster, "average_precision", replicates=20, seed=3)
    idx = np.concatenate([np.flatnonzero(cluster == c) for c in np.repeat(np.arange(k), ap["counts"][0])])
    assert ap["replicates"][0] == pytest.approx(average_precision_score(y[idx], s[idx]), abs=1e-12)


def test_reliability_curve_matches_sklearn_calibration_curve():
    rng = np.random.default_rng(2)
    p = rng.random(5000)
    y = (rng.random(5000) < p ** 1.5).astype(float)
    r = risk.reliability_curve(y, p, 10)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    np.testing.assert_allclose(r["fraction_positive"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(r["mean_predicted"], prob_pred, rtol=1e-12)
    ece = np.sum(r["count"] / len(p) * np.abs(prob_true - prob_pred))
    assert r["ece"] == pytest.approx(ece, abs=1e-12)
    t = np.array([0.1, 0.3, 0.5])
    nb = [((p >= q) & (y == 1)).mean() - ((p >= q) & (y == 0)).mean() * q / (1 - q) for q in t]
    np.testing.assert_allclose(risk.net_benefit(y, p, t), nb, rtol=1e-12)


def _data(seed=0, n=4000, p=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) * np.linspace(1, 5, p)
    z = x @ np.linspace(-0.4, 0.3, p) - 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return x, y


def _gradient(w, b, C, x, y):
    p = 1 / (1 + np.exp(-(x @ w + b)))
    return np.r_[C * x.T @ (p - y) + w, C * (p - y).sum()]


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_l2_logistic_equals_sklearn(C):
    x, y = _data()
    ours = risk.LogisticRegression(C=C).fit(x, y)
    # newton-cg converges on unscaled features; lbfgs stops early there (its gradient stays
    # at 1e-4 to 1 with tol=1e-12), so lbfgs is compared on standardised features below.
    sk = SkLogistic(C=C, solver="newton-cg", tol=1e-12, max_iter=100_000).fit(x, y)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)
    assert np.abs(_gradient(ours.coef, ours.intercept, C, x, y)).max() < 1e-6
    np.testing.assert_allclose(ours.predict_proba(x), sk.predict_proba(x)[:, 1], atol=1e-7)
    c = ours.contributions(x)
    np.testing.assert_allclose(c[:, :-1], x * sk.coef_[0], atol=1e-4)
    np.testing.assert_allclose(c.sum(axis=1), sk.decision_function(x), atol=1e-5)
    xs = (x - x.mean(0)) / x.std(0)
    ours = risk.LogisticRegression(C=C).fit(xs, y)
    sk = SkLogistic(C=C, solver="lbfgs", tol=1e-12, max_iter=100_000).fit(xs, y)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)


@pytest.mark.parametrize("l1_ratio, C", [(0.3, 0.02), (1.0, 0.01)])
def test_elastic_net_logistic_equals_sklearn_saga(l1_ratio, C):
    x, y = _data(1, n=2000)
    x = (x - x.mean(0)) / x.std(0)  # saga converges only on scaled data
    ours = risk.LogisticRegression(C=C, l1_ratio=l1_ratio).fit(x, y)
    sk = SkLogistic(C=C, penalty="elasticnet", l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                    max_iter=100_000).fit(x, y)
    np.testing.assert_allclose(ours.coef, sk.coef_[0], atol=1e-5)
    assert ours.intercept == pytest.approx(sk.intercept_[0], abs=1e-5)
    np.testing.assert_array_equal(ours.coef == 0, np.abs(sk.coef_[0]) < 1e-9)


def test_logistic_predictions_are_thread_safe():
    x, y = _data(2)
    m = risk.LogisticRegression(C=1.0).fit(x, y)
    serial = m.predict_proba(x)
    results = [None] * 8

    def work(i):
        for _ in range(20):
            results[i] = m.predict_proba(x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, serial)


def test_logistic_bad_input_raises_typed_errors():
    x, y = _data(3, n=100)
    x[5, 2] = np.nan
    with pytest.raises(sportsmed.InvalidArgument, match="feature 2 of row 5"):
        risk.LogisticRegression().fit(x, y)
    with pytest.raises(sportsmed.InvalidArgument, match="single class"):
        risk.LogisticRegression().fit(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(sportsmed.InvalidArgument, match="not fitted"):
        risk.LogisticRegression().predict_proba(np.zeros((1, 2)))
    with pytest.raises(sportsmed.InvalidArgument, match="only one class"):
        risk.roc_auc(np.zeros(3), np.arange(3.0))
