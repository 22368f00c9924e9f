"""Survival pieces around the Cox model: athlete-day counting-process rows, Breslow
baseline hazard, concordance (C-index) and Kaplan–Meier curves."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._core import InvalidArgument
from ._table import _check_grid, _days


def counting_process(df: pd.DataFrame, features: Sequence[str], injury: str = "injury") -> pd.DataFrame:
    """Athlete-day rows as Cox counting-process rows (Andersen–Gill, recurrent injuries).

    Day k of an athlete (k = 1, 2, … days since the athlete's first row) is the interval
    (k−1, k]. Its covariates are the features of the *previous* day (known before the day
    starts: no same-day load after an injury). The event is an injury onset on day k
    (``injury`` 1 after a day without injury). Days after an injury day are not at risk
    of an onset and left out (the athlete is injured when the day starts); so are days
    whose covariates are missing and each athlete's first day.

    Parameters
    ----------
    df
        Table on a complete daily grid (:func:`complete_days`) with ``injury`` and the features.

    Returns
    -------
    DataFrame: athlete, date, start, stop (days), event (0/1) and the features.
    """
    _check_grid(df, "counting_process")
    missing = [c for c in [injury, *features] if c not in df.columns]
    if missing:
        raise InvalidArgument(f"counting_process: missing column(s) {missing}")
    codes, _ = pd.factorize(df["athlete"])
    first = np.r_[True, codes[1:] != codes[:-1]]
    inj = df[injury].to_numpy(dtype=float)
    prev_inj = np.r_[np.nan, inj[:-1]]
    prev_inj[first] = np.nan
    day0 = pd.Series(_days(df["date"])).groupby(codes).transform("min").to_numpy()
    stop = _days(df["date"]) - day0 + 1.0
    out = pd.DataFrame({"athlete": df["athlete"].to_numpy(), "date": df["date"].to_numpy(),
                        "start": stop - 1.0, "stop": stop,
                        "event": ((inj == 1) & (prev_inj != 1)).astype(float)})
    x = df[list(features)].to_numpy(dtype=float)
    lagged = np.vstack([np.full((1, x.shape[1]), np.nan), x[:-1]])
    lagged[first] = np.nan
    for j, f in enumerate(features):
        out[f] = lagged[:, j]
    at_risk = (prev_inj != 1) & ~first & np.isfinite(lagged).all(axis=1) & np.isfinite(inj)
    return out[at_risk].reset_index(drop=True)


def _check_surv(start, stop, event, where):
    start = np.asarray(start, dtype=float).ravel()
    stop = np.asarray(stop, dtype=float).ravel()
    event = np.asarray(event, dtype=float).ravel()
    if not (start.shape == stop.shape == event.shape):
        raise InvalidArgument(f"{where}: start, stop and event differ in length")
    if not (np.isfinite(start).all() and np.isfinite(stop).all() and (start < stop).all()):
        raise InvalidArgument(f"{where}: every row needs finite start < stop")
    if not np.isin(event, (0.0, 1.0)).all():
        raise InvalidArgument(f"{where}: events must be 0 or 1")
    return start, stop, event


def breslow(start, stop, event, log_hazard) -> pd.DataFrame:
    """Breslow baseline hazard of a fitted Cox model: at each distinct event time t,
    dH0(t) = d(t) / Σ_{start_j < t ≤ stop_j} exp(η_j), η the rows' log relative hazard.

    Returns a DataFrame: time, events, hazard (dH0), cumulative_hazard (H0)."""
    start, stop, event = _check_surv(start, stop, event, "breslow")
    r = np.exp(np.asarray(log_hazard, dtype=float))
    times = np.unique(stop[event == 1])
    # risk set at t: stop >= t minus start >= t (start >= t implies stop >= t)
    o_stop, o_start = np.argsort(stop), np.argsort(start)
    cs_stop = np.r_[np.cumsum(r[o_stop][::-1])[::-1], 0.0]
    cs_start = np.r_[np.cumsum(r[o_start][::-1])[::-1], 0.0]
    at_stop = cs_stop[np.searchsorted(stop[o_stop], times, side="left")]
    at_start = cs_start[np.searchsorted(start[o_start], times, side="left")]
    d = np.bincount(np.searchsorted(times, stop[event == 1]), minlength=len(times)).astype(float)
    dh = d / (at_stop - at_start)
    return pd.DataFrame({"time": times, "events": d.astype(int), "hazard": dh, "cumulative_hazard": np.cumsum(dh)})


def concordance_index(start, stop, event, score) -> dict:
    """Harrell's C for counting-process rows: for every event row i (time t_i), each row j
    at risk at t_i (start_j < t_i ≤ stop_j, j ≠ i, not itself an event at t_i) forms a
    pair; it is concordant when score_i > score_j, tied (½) when equal. With one row per
    subject this is Harrell's C with a censoring at t_i counted as surviving past it.

    Returns a dict: c_index, concordant, discordant, tied, pairs."""
    start, stop, event = _check_surv(start, stop, event, "concordance_index")
    s = np.asarray(score, dtype=float).ravel()
    if s.shape != stop.shape:
        raise InvalidArgument(f"concordance_index: {s.size} scores for {stop.size} rows")
    conc = disc = tied = 0.0
    for i in np.flatnonzero(event == 1):
        t = stop[i]
        comp = (start < t) & (stop >= t) & ~((stop == t) & (event == 1))
        sj = s[comp]
        conc += np.sum(sj < s[i])
        disc += np.sum(sj > s[i])
        tied += np.sum(sj == s[i])
    pairs = conc + disc + tied
    if pairs == 0:
        raise InvalidArgument("concordance_index: no comparable pairs (no event with another row at risk)")
    return {"c_index": float((conc + 0.5 * tied) / pairs), "concordant": int(conc), "discordant": int(disc),
            "tied": int(tied), "pairs": int(pairs)}


def kaplan_meier(time, event, entry=None, level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier estimate of survival (e.g. time to first injury), with left
    truncation at ``entry`` when given.

    Returns one row per distinct event time: time, at_risk, events, survival, se
    (Greenwood), lo, hi (pointwise log(−log) interval at ``level``, Kalbfleisch &
    Prentice; R survival's ``conf.type="log-log"``)."""
    time = np.asarray(time, dtype=float).ravel()
    entry = np.zeros_like(time) if entry is None else np.asarray(entry, dtype=float).ravel()
    event = np.asarray(event, dtype=float).ravel()
    if not (time.shape == entry.shape == event.shape):
        raise InvalidArgument("kaplan_meier: time, event and entry differ in length")
    if not (np.isfinite(time).all() and np.isfinite(entry).all() and (entry <= time).all()):
        raise InvalidArgument("kaplan_meier: times must be finite and not before their entry")
    if not np.isin(event, (0.0, 1.0)).all():
        raise InvalidArgument("kaplan_meier: events must be 0 or 1")
    times = np.unique(time[event == 1])
    n = np.array([np.sum((entry < t) & (time >= t)) for t in times], dtype=float)
    d = np.array([np.sum((time == t) & (event == 1)) for t in times], dtype=float)
    surv = np.cumprod(1 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumsum(d / (n * (n - d)))
        se = surv * np.sqrt(g)
        z = stats.norm.ppf(0.5 + level / 2)
        # log(-log S) interval: S^{exp(±z·sqrt(g)/log S)}
        v = np.sqrt(g) / np.log(surv)
        lo = surv ** np.exp(-z * v)
        hi = surv ** np.exp(z * v)
    return pd.DataFrame({"time": times, "at_risk": n.astype(int), "events": d.astype(int), "survival": surv,
                         "se": se, "lo": lo, "hi": hi})


def first_injury_times(df: pd.DataFrame, injury: str = "injury", by: Optional[str] = None) -> pd.DataFrame:
    """Days from each athlete's first row to the first injury onset (event 1), or to the
    last row (censored, event 0): the input of :func:`kaplan_meier`. ``by`` names a column
    whose value on the athlete's first row is kept (a group for separate curves)."""
    _check_grid(df, "first_injury_times")
    rows = []
    for a, g in df.groupby("athlete", sort=False):
        inj = g[injury].to_numpy(dtype=float)
        hit = np.flatnonzero(inj == 1)
        rec = {"athlete": a, "time": float(hit[0] + 1 if len(hit) else len(g)), "event": float(len(hit) > 0)}
        if by is not None:
            rec[by] = g[by].iloc[0]
        rows.append(rec)
    return pd.DataFrame(rows)


def plot_kaplan_meier(curves: dict, ax=None, xlabel: str = "days"):
    """Step plot of Kaplan–Meier tables (``{label: kaplan_meier(...)}``) with their
    intervals; returns the matplotlib Figure."""
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot(111)
    else:
        fig = ax.figure
    for label, km in curves.items():
        t = np.r_[0.0, km["time"]]
        line, = ax.step(t, np.r_[1.0, km["survival"]], where="post", label=f"{label} ({int(km['events'].sum())} "
                                                                                 "events)")
        ax.fill_between(t, np.r_[1.0, km["lo"]], np.r_[1.0, km["hi"]], step="post", alpha=0.2,
                        color=line.get_color())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("injury-free (Kaplan–Meier)")
    ax.legend(fontsize=8)
    return fig


def _concordance_parts(start, stop, event, s, codes, n_groups):
    """Per event row: concordant, tied and comparable counts by the comparator's group."""
    ev_idx = np.flatnonzero(event == 1)
    conc = np.zeros((len(ev_idx), n_groups))
    tied = np.zeros_like(conc)
    pairs = np.zeros_like(conc)
    for t in np.unique(stop[ev_idx]):
        comp = (start < t) & (stop >= t) & ~((stop == t) & (event == 1))
        cj, sj = codes[comp], s[comp]
        for k in np.flatnonzero(stop[ev_idx] == t):
            si = s[ev_idx[k]]
            conc[k] = np.bincount(cj[sj < si], minlength=n_groups)
            tied[k] = np.bincount(cj[sj == si], minlength=n_groups)
            pairs[k] = np.bincount(cj, minlength=n_groups)
    return conc, tied, pairs, codes[ev_idx]


def _weighted_c(conc, tied, pairs, ev_group, w):
    we = w[ev_group]
    den = we @ (pairs @ w)
    if den == 0:
        return None
    return float(we @ (conc @ w + 0.5 * (tied @ w)) / den)


def evaluate_cox(cp: pd.DataFrame, features: Sequence[str], k: int = 5, seed: int = 0, replicates: int = 200,
                 level: float = 0.95) -> dict:
    """Grouped (by athlete) cross-validation of a Cox model on counting-process rows
    (:func:`counting_process`): each fold's model is fitted on the other athletes and
    scores the fold's rows; the C-index of the pooled out-of-fold log hazards with a
    percentile interval from an athlete-cluster bootstrap, the C-index per fold and the
    evidence (events, athletes with events; :data:`MIN_EVENTS`,
    :data:`MIN_ATHLETES_WITH_EVENTS` decide ``interval_reliable``).

    Returns a dict: scheme, folds, c_index, c_index_lo, c_index_hi, per_fold (list),
    events, athletes, athletes_with_events, rows, interval_reliable, warning.
    """
    from .._core import risk as _r
    from ._evaluate import MIN_ATHLETES_WITH_EVENTS, MIN_EVENTS
    from ._persist import CoxModel

    for c in ("athlete", "start", "stop", "event", *features):
        if c not in cp.columns:
            raise InvalidArgument(f"evaluate_cox: no column {c!r}")
    codes, _ = pd.factorize(cp["athlete"])
    folds = _r.grouped_kfold(codes.astype(np.int64), int(k), int(seed))
    eta = np.full(len(cp), np.nan)
    per_fold = []
    t0, t1, ev = (cp[c].to_numpy(dtype=float) for c in ("start", "stop", "event"))
    for f in np.unique(folds):
        te = folds == f
        if cp["event"][~te].sum() == 0:
            raise InvalidArgument(f"evaluate_cox: training fold {int(f)} has no event")
        m = CoxModel(features).fit(cp[~te])
        eta[te] = m.predict_log_hazard(cp[te])
        try:
            per_fold.append(concordance_index(t0[te], t1[te], ev[te], eta[te])["c_index"])
        except InvalidArgument:
            per_fold.append(float("nan"))  # a fold without an event
    # C-index pieces per (event, athlete): an athlete-cluster bootstrap reweights them
    # (an athlete drawn w times counts w times on either side of a pair; pairs within one
    # athlete do not exist: its rows do not overlap in time)
    n_ath = int(codes.max()) + 1
    conc, tied, pairs, ev_ath = _concordance_parts(t0, t1, ev, eta, codes, n_ath)
    ones = np.ones(n_ath)
    c = _weighted_c(conc, tied, pairs, ev_ath, ones)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(int(replicates)):
        w = np.bincount(rng.integers(0, n_ath, n_ath), minlength=n_ath).astype(float)
        v = _weighted_c(conc, tied, pairs, ev_ath, w)
        if v is not None:
            boot.append(v)
    a = (1 - level) / 2
    events = int(ev.sum())
    with_events = int(cp.loc[cp["event"] == 1, "athlete"].nunique())
    reliable = events >= MIN_EVENTS and with_events >= MIN_ATHLETES_WITH_EVENTS
    return {"scheme": "grouped", "folds": int(k), "seed": int(seed), "c_index": float(c),
            "c_index_lo": float(np.quantile(boot, a)) if boot else None,
            "c_index_hi": float(np.quantile(boot, 1 - a)) if boot else None, "replicates": len(boot),
            "per_fold": [float(v) for v in per_fold], "rows": int(len(cp)), "events": events,
            "athletes": int(n_ath), "athletes_with_events": with_events, "interval_reliable": bool(reliable),
            "warning": "" if reliable else (f"interval unreliable: {events} event(s) in {with_events} athlete(s) "
                                            f"(minimum {MIN_EVENTS} events in {MIN_ATHLETES_WITH_EVENTS} athletes)")}
