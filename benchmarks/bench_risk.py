"""Injury-risk kernels against what users run instead (scikit-learn, pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.metrics import roc_auc_score

import sportsmed
from harness import Case

risk = sportsmed._core.risk


# -- logistic regression fit ------------------------------------------------------------
def _logistic_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50_000, 20))
    z = x @ np.linspace(-0.5, 0.5, 20) - 3.0
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-z))).astype(float)
    return x, y


def _ours_logistic(d):
    m = risk.LogisticRegression(C=1.0).fit(*d)
    return np.r_[m.coef, m.intercept]


def _sk_logistic(d):
    # tol tight enough that lbfgs reaches the optimum to 1e-5 (the default 1e-4 does not)
    m = SkLogistic(C=1.0, tol=1e-8, max_iter=10_000).fit(*d)
    return np.r_[m.coef_[0], m.intercept_[0]]


def _agree_coef(a, b):
    np.testing.assert_allclose(a, b, atol=1e-5)


# -- workload features ------------------------------------------------------------------
def _workload_data():
    rng = np.random.default_rng(1)
    athletes, days = 1000, 3 * 365
    load = np.round(rng.gamma(2.0, 200.0, size=(athletes, days)) * (rng.random((athletes, days)) > 0.2), 0)
    return pd.DataFrame({"athlete": np.repeat(np.arange(athletes), days), "daily_load": load.ravel()})


def _ours_workload(df):
    return risk.workload_features_panel(df["athlete"].to_numpy(np.int64), df["daily_load"].to_numpy())


def _pandas_workload(df):
    g = df.groupby("athlete")["daily_load"]
    roll = lambda w, f: getattr(g.rolling(w), f)().reset_index(level=0, drop=True)  # noqa: E731
    a, c = roll(7, "mean"), roll(28, "mean")
    older = roll(21, "mean").groupby(df["athlete"]).shift(7)
    ea = g.transform(lambda s: s.ewm(span=7, adjust=False).mean())
    ec = g.transform(lambda s: s.ewm(span=28, adjust=False).mean())
    sd = roll(7, "std")
    week = roll(7, "sum")
    prev = week.groupby(df["athlete"]).shift(7)
    mono = a / sd
    cols = [a, c, a / c, a / older, ea, ec, ea / ec, mono, week * mono, week - prev, 100 * (week - prev) / prev,
            week, roll(14, "sum"), roll(21, "sum"), roll(28, "sum"), g.cumsum()]
    return np.column_stack([np.asarray(v, dtype=float) for v in cols])


def _agree_workload(ours, theirs):
    theirs = np.where(np.isfinite(theirs), theirs, np.nan)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


# -- cluster bootstrap of the AUC -------------------------------------------------------
def _bootstrap_data():
    rng = np.random.default_rng(2)
    n, k = 36_000, 50
    cluster = np.repeat(np.arange(k), n // k).astype(np.int64)
    y = (rng.random(n) < 0.01).astype(float)
    s = np.round(rng.normal(size=n) + 0.5 * y, 3)
    counts = risk.cluster_bootstrap(y, s, cluster, "roc_auc", 1000, 0.95, 7)["counts"]
    return y, s, cluster, counts


def _ours_bootstrap(d):
    y, s, cluster, _ = d
    return risk.cluster_bootstrap(y, s, cluster, "roc_auc", 1000, 0.95, 7)["replicates"]


def _sk_bootstrap(d):
    # the usual loop: rebuild each replicate's rows from the drawn athletes, score it
    y, s, cluster, counts = d
    rows = [np.flatnonzero(cluster == c) for c in range(counts.shape[1])]
    out = np.empty(len(counts))
    for r, cnt in enumerate(counts):
        idx = np.concatenate([rows[c] for c in np.repeat(np.arange(len(cnt)), cnt)])
        yy = y[idx]
        out[r] = roc_auc_score(yy, s[idx]) if 0 < yy.sum() < len(yy) else np.nan
    return out


def _agree_bootstrap(a, b):
    np.testing.assert_allclose(a, b, atol=1e-12)


SK = f"scikit-learn {sklearn.__version__}"
CASES = [
    Case("logistic regression fit (L2, C=1), 50000×20", f"{SK} LogisticRegression lbfgs tol=1e-8",
         _logistic_data, _ours_logistic, _sk_logistic, _agree_coef, threads=1),
    Case("workload features (16 metrics), 1000 athletes × 3 years", f"pandas {pd.__version__} groupby rolling/ewm",
         _workload_data, _ours_workload, _pandas_workload, _agree_workload, threads=2),
    Case("athlete-cluster bootstrap of ROC AUC, 1000 replicates, 36000 rows", f"{SK} roc_auc_score loop",
         _bootstrap_data, _ours_bootstrap, _sk_bootstrap, _agree_bootstrap, threads=2),
]
