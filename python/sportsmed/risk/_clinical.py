"""Clinical outputs of a risk model: calibration slope and calibration-in-the-large with
intervals, reliability tables and diagrams with quantile bins and counts."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
from scipy import stats

from .._core import InvalidArgument

_EPS = 1e-12


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def _check_yp(y, p, where: str):
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise InvalidArgument(f"{where}: {y.size} labels but {p.size} predictions")
    if y.size == 0:
        raise InvalidArgument(f"{where}: no rows")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidArgument(f"{where}: labels must be 0 or 1 (drop the unlabelled rows first)")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise InvalidArgument(f"{where}: predictions must be probabilities in [0, 1]")
    if y.min() == y.max():
        raise InvalidArgument(f"{where}: the labels hold a single class; calibration is undefined")
    return y, p


def _newton_logistic(x: np.ndarray, y: np.ndarray, offset: np.ndarray, max_iter: int = 100):
    """Maximum-likelihood logistic regression of y on the columns of x with an offset
    (no penalty); returns the coefficients and the per-row scores' design pieces."""
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = offset + x @ beta
        mu = 1 / (1 + np.exp(-eta))
        w = mu * (1 - mu)
        grad = x.T @ (y - mu)
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    eta = offset + x @ beta
    mu = 1 / (1 + np.exp(-eta))
    return beta, mu


def _covariance(x, y, mu, groups) -> np.ndarray:
    """Model-based (inverse Fisher information) covariance, or with ``groups`` the
    cluster-robust sandwich with the small-sample factor G/(G−1)·(N−1)/(N−K) (the
    convention of statsmodels' cov_type="cluster")."""
    w = mu * (1 - mu)
    bread = np.linalg.inv((x * w[:, None]).T @ x)
    if groups is None:
        return bread
    codes, _ = pd.factorize(pd.Series(np.asarray(groups)))
    scores = x * (y - mu)[:, None]
    g = np.zeros((codes.max() + 1, x.shape[1]))
    np.add.at(g, codes, scores)
    n_g, n, k = g.shape[0], x.shape[0], x.shape[1]
    meat = g.T @ g
    return bread @ meat @ bread * (n_g / (n_g - 1)) * ((n - 1) / (n - k))


def calibration_summary(y, p, level: float = 0.95, groups=None) -> dict:
    """Calibration slope and calibration-in-the-large of predicted probabilities.

    - slope: the coefficient of logit(p) in a logistic regression of y on logit(p)
      (1 = ideal; < 1: predictions too extreme, typical of overfitting);
    - citl (calibration-in-the-large): the intercept of a logistic regression of y with
      logit(p) as offset (0 = ideal; > 0: risks underestimated on average);
    - observed / expected: the number of events over the sum of the predictions.

    Intervals are Wald intervals at ``level``. Days of one athlete are not independent:
    pass ``groups`` (athlete ids) for cluster-robust (sandwich) standard errors.
    (Van Calster et al. 2016, "A calibration hierarchy for risk models".)

    Parameters
    ----------
    y : (n,) 0/1 outcomes
    p : (n,) predicted probabilities (clipped to [1e-12, 1 − 1e-12] before the logit)
    groups : (n,) cluster ids, optional

    Returns
    -------
    dict with slope, slope_se, slope_lo, slope_hi, intercept (of the slope model), citl,
    citl_se, citl_lo, citl_hi, observed, expected, oe_ratio, n, events, clusters.
    """
    y, p = _check_yp(y, p, "calibration_summary")
    if groups is not None and len(groups) != len(y):
        raise InvalidArgument(f"calibration_summary: {len(groups)} groups for {len(y)} rows")
    if not 0 < level < 1:
        raise InvalidArgument(f"calibration_summary: level must be in (0, 1), got {level}")
    lp = _logit(p)
    z = stats.norm.ppf(0.5 + level / 2)
    x2 = np.c_[np.ones_like(lp), lp]
    b2, mu2 = _newton_logistic(x2, y, np.zeros_like(lp))
    se2 = np.sqrt(np.diag(_covariance(x2, y, mu2, groups)))
    x1 = np.ones((len(y), 1))
    b1, mu1 = _newton_logistic(x1, y, lp)
    se1 = float(np.sqrt(_covariance(x1, y, mu1, groups)[0, 0]))
    out = {"slope": float(b2[1]), "slope_se": float(se2[1]), "slope_lo": float(b2[1] - z * se2[1]),
           "slope_hi": float(b2[1] + z * se2[1]), "intercept": float(b2[0]),
           "citl": float(b1[0]), "citl_se": se1, "citl_lo": float(b1[0] - z * se1),
           "citl_hi": float(b1[0] + z * se1), "observed": float(y.sum()), "expected": float(p.sum()),
           "oe_ratio": float(y.sum() / p.sum()) if p.sum() > 0 else float("nan"), "n": int(len(y)),
           "events": int(y.sum()), "level": float(level),
           "clusters": None if groups is None else int(pd.Series(np.asarray(groups)).nunique())}
    return out


def reliability_table(y, p, bins: int = 10, strategy: str = "quantile", level: float = 0.95) -> pd.DataFrame:
    """Reliability (calibration) table: predicted vs observed risk per bin, with counts.

    Parameters
    ----------
    bins
        Number of bins.
    strategy
        ``"quantile"`` (default: edges at quantiles of ``p``, so bins hold about equally
        many rows; ties can merge bins) or ``"uniform"`` (equal-width bins on [0, 1]; at a
        low prevalence nearly every row falls into the first bin — 36,043 of SoccerMon's
        36,053 labelled days for a workload model — and the diagram says nothing).

    Returns
    -------
    DataFrame, one row per non-empty bin: bin, lo, hi (edges), n, events, mean_predicted,
    observed (event fraction), observed_lo, observed_hi (Wilson interval at ``level``).
    Bins, edges and the two means are those of scikit-learn's ``calibration_curve``.
    """
    y, p = _check_yp(y, p, "reliability_table")
    if int(bins) < 1:
        raise InvalidArgument(f"reliability_table: bins must be >= 1, got {bins}")
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0, 1, int(bins) + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, int(bins) + 1)
    else:
        raise InvalidArgument(f"reliability_table: strategy must be 'quantile' or 'uniform', got {strategy!r}")
    ids = np.searchsorted(edges[1:-1], p, side="left")  # bins (lo, hi], as scikit-learn
    n = np.bincount(ids, minlength=len(edges) - 1)
    ev = np.bincount(ids, weights=y, minlength=len(edges) - 1)
    sp = np.bincount(ids, weights=p, minlength=len(edges) - 1)
    keep = n > 0
    z = stats.norm.ppf(0.5 + level / 2)
    nk, ek = n[keep].astype(float), ev[keep]
    obs = ek / nk
    centre = (obs + z * z / (2 * nk)) / (1 + z * z / nk)
    half = z * np.sqrt(obs * (1 - obs) / nk + z * z / (4 * nk * nk)) / (1 + z * z / nk)
    idx = np.flatnonzero(keep)
    return pd.DataFrame({"bin": idx, "lo": edges[idx], "hi": edges[idx + 1], "n": n[keep],
                         "events": ek.astype(int), "mean_predicted": sp[keep] / nk, "observed": obs,
                         "observed_lo": np.clip(centre - half, 0, 1), "observed_hi": np.clip(centre + half, 0, 1)})


def reliability_diagram(y, p, bins: int = 10, strategy: str = "quantile", ax=None, label: Optional[str] = None):
    """A reliability diagram: observed vs mean predicted risk per bin with Wilson
    intervals, each point labelled with its row count, beside the diagonal; and the
    calibration slope / CITL in the legend. Returns the matplotlib Figure (a new one
    unless ``ax`` is given)."""
    tab = reliability_table(y, p, bins, strategy)
    cal = calibration_summary(y, p)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5, 4.5))
        ax = fig.add_subplot(111)
    else:
        fig = ax.figure
    top = float(max(tab["observed_hi"].max(), tab["mean_predicted"].max())) * 1.1 or 1.0
    ax.plot([0, top], [0, top], color="#999", lw=1, ls="--", label="perfect calibration")
    ax.errorbar(tab["mean_predicted"], tab["observed"],
                yerr=[tab["observed"] - tab["observed_lo"], tab["observed_hi"] - tab["observed"]],
                fmt="o-", color="#1f77b4", capsize=3,
                label=(label or "model") + f" (slope {cal['slope']:.2f}, CITL {cal['citl']:+.2f})")
    for _, r in tab.iterrows():
        ax.annotate(f"n={int(r['n'])}", (r["mean_predicted"], r["observed"]), textcoords="offset points",
                    xytext=(4, -10), fontsize=7, color="#555")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted risk")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"reliability, {len(tab)} {strategy} bins")
    ax.legend(loc="upper left", fontsize=8)
    return fig
