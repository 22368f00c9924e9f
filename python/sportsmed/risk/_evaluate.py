"""Leakage-aware evaluation: splits, baselines, cluster-bootstrap intervals, guard."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._core import InvalidArgument
from .._core import risk as _r
from ._table import _days


class LeakageWarning(UserWarning):
    """A split lets information about test athletes or test days into training."""


class EvidenceWarning(UserWarning):
    """Too few injury events (or athletes with events) stand behind an interval."""


#: Fewest athletes with an event, and fewest events (injury episodes), in a test set for its
#: athlete-cluster bootstrap interval to be called reliable. The bootstrap resamples
#: athletes; with few athletes carrying the events its percentile interval is too narrow.
#: A null simulation (score independent of the label, an athlete random effect in the
#: score as large as the day-to-day noise, each episode a run of positive days; 30
#: athletes x 80 days; tests/python/test_risk_evidence.py) measured the coverage of AUC 0.5
#: by the 95 % interval: 0.77-0.82 with 3 athletes carrying 4-5 episodes (the issue's
#: 80 %), 0.86 with 4 / 8, 0.89 with 5 / 10, 0.91 with 6 / 12, 0.92-0.93 with 8 / 16 and
#: 0.94 with 10 / 20 (the seeded test: 0.905 at the minimum, 0.765 with 3 / 5). The
#: minimum is the first setting with a margin above 0.90.
MIN_ATHLETES_WITH_EVENTS = 8
MIN_EVENTS = 16

#: A feature whose values alone rank the labelled rows with a ROC AUC of at least this (or at
#: most 1 − this) separates the outcome almost perfectly: on athlete-day injury data no
#: feature known before the outcome does (published workload features reach 0.5-0.7), a copy
#: or a later-day version of the outcome does (SoccerMon's ``injury_within_14d`` as a feature
#: of "injury within 7 days": 0.997). Checked with at least :data:`SEPARATION_MIN_POSITIVES`
#: positive and negative rows (fewer rows separate by chance).
SEPARATION_AUC = 0.98
SEPARATION_MIN_POSITIVES = 10


def _norm_name(name) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


_WITHIN = re.compile(r"(.*?)within\d+(d|days?)?")


def outcome_features(features: Sequence[str], label: str, sources: Sequence[str] = ()) -> dict:
    """Features that are the outcome by name: the label itself, a column the label is built
    from (``sources``, e.g. the injury column of ``injury within h days``), or a label derived
    from one of them (``<source>_within_<h>d`` for any horizon h). Names are compared
    lower-case with everything but letters and digits removed (``Injury Within 7d`` is
    ``injury_within_7d``); ``injury_within_<h>d`` (any h) is always refused: it looks ahead.

    Returns
    -------
    dict
        feature -> why (text); empty when none is.
    """
    stems = {_norm_name(n) for n in (label, *sources) if str(n)}
    for n in list(stems):
        m = _WITHIN.fullmatch(n)
        if m and m.group(1):
            stems.add(m.group(1))  # "injury_within_7d" is built from "injury"
    found = {}
    for f in features:
        n = _norm_name(f)
        if n == _norm_name(label):
            found[f] = "it is the outcome itself"
        elif n in stems:
            found[f] = "it is the column the outcome is built from"
        else:
            m = _WITHIN.fullmatch(n)
            if m and m.group(1) in stems:
                found[f] = "it is an 'injury within h days' label built from the outcome's column"
            elif m and m.group(1) in ("injury", "injuries"):
                found[f] = "it is an 'injury within h days' label: it reads the days after the outcome's day"
    return found


def _label_sources(df: pd.DataFrame, label: str) -> list:
    """Columns the label was built from, as :func:`with_features` records them."""
    rec = df.attrs.get("label_source", {}) if hasattr(df, "attrs") else {}
    src = rec.get(label) if isinstance(rec, dict) else None
    return [src] if isinstance(src, str) and src else []


def check_outcome_features(df: pd.DataFrame, features: Sequence[str], label: str, where: str,
                           sources: Sequence[str] = (), label_text: Optional[str] = None) -> None:
    """Refuses features that are the outcome by name (:func:`outcome_features`; the label's
    sources are ``sources`` and those :func:`with_features` recorded in ``df.attrs``)."""
    found = outcome_features(features, label, [*sources, *_label_sources(df, label)])
    if found:
        raise InvalidArgument(f"{where}: feature(s) {list(found)} cannot predict the outcome "
                              f"{label_text or repr(label)}: "
                              + "; ".join(f"{f}: {why}" for f, why in found.items())
                              + ". A feature must be known before the outcome; leave it out")


def separating_features(df: pd.DataFrame, features: Sequence[str], label: str,
                        threshold: float = SEPARATION_AUC) -> dict:
    """Features that on their own separate the outcome almost perfectly.

    For each feature, the ROC AUC of its raw values against ``label`` on the rows where both
    are known; a feature with AUC >= ``threshold`` or <= 1 − ``threshold`` is returned
    (with at least :data:`SEPARATION_MIN_POSITIVES` positive and negative rows). One sort per
    feature: cheap beside any model fit.

    Returns
    -------
    dict
        feature -> {"roc_auc", "rows", "positives"}; empty when none separates.
    """
    y_all = df[label].to_numpy(dtype=float)
    found = {}
    for f in features:
        x = df[f].to_numpy(dtype=float)
        ok = ~np.isnan(y_all) & np.isfinite(x)
        y = y_all[ok]
        pos = int((y == 1).sum())
        if pos < SEPARATION_MIN_POSITIVES or len(y) - pos < SEPARATION_MIN_POSITIVES:
            continue
        auc = float(_r.roc_auc(y, x[ok]))
        if auc >= threshold or auc <= 1 - threshold:
            found[f] = {"roc_auc": auc, "rows": int(len(y)), "positives": pos}
    return found


def separation_text(found: dict) -> str:
    """The warning for :func:`separating_features`' result ("" when empty)."""
    return "; ".join(f"feature {f!r} alone separates the outcome (AUC {v['roc_auc']:.3f} on {v['rows']} rows, "
                     f"{v['positives']} positive): is it known before the outcome? possible leakage"
                     for f, v in found.items())


def check_separation(df: pd.DataFrame, features: Sequence[str], label: str, allow: bool, where: str,
                     flag: str = "allow_separating=True") -> dict:
    """:func:`separating_features`; an InvalidArgument unless ``allow``, else a
    :class:`LeakageWarning`. Returns the separating features."""
    found = separating_features(df, features, label)
    if found:
        text = separation_text(found)
        if not allow:
            raise InvalidArgument(f"{where}: {text}. Leave the feature out, or pass {flag} to go on with it "
                                  "(the result then carries this warning)")
        warnings.warn(f"{where}: {text}", LeakageWarning, stacklevel=3)
    return found


def evidence(athlete, date, y) -> dict:
    """How much evidence a set of labelled rows holds.

    Returns a dict: ``rows``, ``positives`` (positive rows), ``events`` (injury episodes:
    runs of positive rows on consecutive days of one athlete; an "injury within h days"
    label turns each onset into one such run), ``athletes``, ``athletes_with_events``,
    ``interval_reliable`` (at least :data:`MIN_EVENTS` events in at least
    :data:`MIN_ATHLETES_WITH_EVENTS` athletes) and ``warning`` (text, empty when reliable).
    """
    y = np.asarray(y, dtype=float)
    a = pd.factorize(pd.Series(athlete).to_numpy())[0]
    d = _days(pd.Series(date)) if len(y) else np.zeros(0, np.int64)
    order = np.lexsort((d, a))
    a, d, y = a[order], d[order], y[order]
    pos = y == 1
    ap, dp = a[pos], d[pos]
    new = np.ones(len(ap), bool)
    if len(ap) > 1:
        new[1:] = (ap[1:] != ap[:-1]) | (dp[1:] != dp[:-1] + 1)
    events = int(new.sum())
    with_events = int(len(np.unique(ap)))
    reliable = events >= MIN_EVENTS and with_events >= MIN_ATHLETES_WITH_EVENTS
    warning = "" if reliable else (
        f"interval unreliable: {events} event(s) in {with_events} athlete(s) (minimum {MIN_EVENTS} events in "
        f"{MIN_ATHLETES_WITH_EVENTS} athletes); an athlete-cluster bootstrap from so few athletes with events "
        "is too narrow")
    return {"rows": int(len(y)), "positives": int(pos.sum()), "events": events,
            "athletes": int(len(np.unique(a))), "athletes_with_events": with_events,
            "interval_reliable": bool(reliable), "warning": warning}


@dataclass
class Evaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    table
        One row per model (the model, ``prevalence`` and ``athlete identity`` baselines):
        roc_auc with its cluster-bootstrap interval (roc_auc_lo, roc_auc_hi), average
        precision (ap, ap_lo, ap_hi), brier, n (rows), positives (positive rows), events
        (injury episodes), athletes, athletes_with_events and ``interval_reliable``: False
        when the test set holds fewer than :data:`MIN_EVENTS` events or
        :data:`MIN_ATHLETES_WITH_EVENTS` athletes with events (the interval is then too
        narrow; ``warning`` says so).
    folds
        One row per test fold: fold, rows, positives, events, athletes,
        athletes_with_events, interval_reliable, roc_auc (NaN for a fold with one class).
    evidence
        :func:`evidence` of the pooled test set (what ``table`` was computed on).
    warning
        Text shown beside an unreliable interval ("" when reliable).
    repeats
        With ``repeats > 1``: one row per fold seed (seed, roc_auc, ap) of the model.
    spread
        With ``repeats > 1``: repeats, roc_auc_min, roc_auc_median, roc_auc_max.
    predictions
        Out-of-fold rows: athlete, date, y, fold, p_model, p_prevalence, p_identity.
    leakage
        True when the leakage guard fired (an athlete's rows on both sides of a split).
    checks
        The guard's per-fold numbers (``check_split``).
    tuning
        With a list of ``C``: the value chosen in each outer fold by the inner CV.
    normalised
        Features the guard found normalised with statistics that include test rows
        (:func:`check_normalisation`).
    separating
        Features that alone separate the outcome almost perfectly (evaluated only with
        ``allow_separating=True``): feature -> {roc_auc, rows, positives}
        (:func:`separating_features`); ``separation_warning`` says so in words.
    """

    scheme: str
    table: pd.DataFrame
    predictions: pd.DataFrame
    leakage: bool
    checks: list = field(default_factory=list)
    models: list = field(default_factory=list)
    tuning: list = field(default_factory=list)
    normalised: list = field(default_factory=list)
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence: dict = field(default_factory=dict)
    warning: str = ""
    repeats: pd.DataFrame = field(default_factory=pd.DataFrame)
    spread: dict = field(default_factory=dict)
    purge_days: Optional[int] = None
    separating: dict = field(default_factory=dict)
    separation_warning: str = ""


def _season_of(dates: pd.Series, season_start: str) -> np.ndarray:
    """Season of each date: the year in which its season began (``season_start`` "MM-DD")."""
    try:
        month, day = (int(v) for v in str(season_start).split("-"))
        pd.Timestamp(2000, month, day)
    except (ValueError, TypeError):
        raise InvalidArgument(f"evaluate: season_start must be 'MM-DD' (e.g. '07-01'), got {season_start!r}") \
            from None
    d = pd.to_datetime(dates)
    before = (d.dt.month < month) | ((d.dt.month == month) & (d.dt.day < day))
    return (d.dt.year - before.astype(int)).to_numpy()


def _folds(df: pd.DataFrame, scheme: str, k: int, seed: int, test_start, purge_days: int,
           season_start: str = "01-01") -> np.ndarray:
    codes, _ = pd.factorize(df["athlete"])
    if scheme == "grouped":
        return _r.grouped_kfold(codes.astype(np.int64), k, seed)
    if scheme == "temporal":
        if test_start is None:
            raise InvalidArgument("evaluate: scheme='temporal' needs test_start (a date)")
        try:
            when = pd.Timestamp(test_start)
        except (ValueError, TypeError):
            raise InvalidArgument(f"evaluate: test_start {test_start!r} is not a date (YYYY-MM-DD)") from None
        start = int((np.datetime64(when.date(), "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))
        days = _days(df["date"])
        first, last = int(days.min()), int(days.max())
        if start > last:
            raise InvalidArgument(f"evaluate: test_start {when.date()} is after the last labelled day "
                                  f"({pd.Timestamp(df['date'].max()).date()}); nothing to test")
        if start - purge_days <= first:
            raise InvalidArgument(f"evaluate: no training day before test_start {when.date()} minus the "
                                  f"{purge_days}-day purge (the first labelled day is "
                                  f"{pd.Timestamp(df['date'].min()).date()})")
        side = _r.temporal_split(days, start, purge_days)
        return np.where(side == 1, 0, np.where(side == 0, -2, -1)).astype(np.int64)  # one test fold
    if scheme == "season":
        season = df["season"] if "season" in df.columns else _season_of(df["date"], season_start)
        codes_s, _ = pd.factorize(season, sort=True)
        if codes_s.max() < 1:
            raise InvalidArgument("evaluate: scheme='season' needs at least two seasons")
        return codes_s.astype(np.int64)
    if scheme == "random":
        rng = np.random.default_rng(seed)
        return rng.permutation(np.arange(len(df)) % k).astype(np.int64)
    raise InvalidArgument(f"evaluate: scheme must be 'grouped', 'temporal', 'season' or 'random', got {scheme!r}")


def _tune_c(x: np.ndarray, y: np.ndarray, athletes: np.ndarray, grid: list, l1_ratio: float, seed: int,
            k: int = 3) -> float:
    """The C of ``grid`` with the best pooled AUC in a grouped K-fold over the training
    athletes (the outer test fold is never seen)."""
    inner = _r.grouped_kfold(athletes.astype(np.int64), min(k, len(np.unique(athletes))), seed + 1)
    best, best_auc = grid[0], -np.inf
    for c in grid:
        p = np.full(len(y), np.nan)
        for f in np.unique(inner):
            tr, te = inner != f, inner == f
            if y[tr].min() == y[tr].max():
                continue
            p[te] = _r.LogisticRegression(C=c, l1_ratio=l1_ratio).fit(x[tr], y[tr]).predict_proba(x[te])
        ok = ~np.isnan(p)
        if ok.any() and 0 < y[ok].sum() < ok.sum():
            auc = _r.roc_auc(y[ok], p[ok])
            if auc > best_auc:
                best, best_auc = c, auc
    return float(best)


def _standardise(train: np.ndarray, test: np.ndarray):
    """Impute NaN with the training mean and scale by training statistics only."""
    mean = np.nanmean(train, axis=0)
    if np.any(np.isnan(mean)):
        bad = int(np.where(np.isnan(mean))[0][0])
        raise InvalidArgument(f"evaluate: feature column {bad} has no value in the training rows")
    sd = np.nanstd(train, axis=0)
    sd[sd == 0] = 1.0
    out = []
    for x in (train, test):
        x = np.where(np.isnan(x), mean, x)
        out.append(np.ascontiguousarray((x - mean) / sd))
    return out


def _fit_folds(x, y, codes, days, folds, scheme, purge_days, model, C, l1_ratio, seed, boosting, fit, neural):
    """Out-of-fold predictions of the model and the two baselines for one partition."""
    p_model = np.full(len(y), np.nan)
    p_prev = np.full(len(y), np.nan)
    p_ident = np.full(len(y), np.nan)
    checks, models, tuning, leakage = [], [], [], False
    test_folds = sorted(set(folds[folds >= 0].tolist()))
    # One constant for "no information", the same in every fold: a per-fold constant
    # would rank pooled out-of-fold rows by fold and fake (anti-)skill.
    overall = float(y[folds != -1].mean())
    for f in test_folds:
        test = folds == f
        train = (folds != f) & (folds != -1)
        if scheme == "season":
            # purge training days whose label window reaches into the test season
            first = days[test].min()
            train &= ~((days >= first - purge_days) & (days < first))
        side = np.where(test, 1, np.where(train, 0, -1)).astype(np.int64)
        check = _r.check_split(codes, days, side)
        checks.append(check)
        if check["athletes_both"] > 0 and scheme not in ("temporal", "season"):
            leakage = True
        if y[train].sum() == 0:
            raise InvalidArgument(f"evaluate: training fold {f} has no positive case; use fewer folds")
        xtr, xte = _standardise(x[train], x[test])
        if fit is not None:
            m = fit(xtr, y[train])
            p_model[test] = m(xte)
        elif model == "logistic":
            c_fold = C
            if np.ndim(C) > 0:  # nested tuning: inner grouped CV on the training athletes only
                c_fold = _tune_c(xtr, y[train], codes[train], list(C), l1_ratio, seed)
                tuning.append({"fold": f, "C": c_fold})
            m = _r.LogisticRegression(C=c_fold, l1_ratio=l1_ratio).fit(xtr, y[train])
            p_model[test] = m.predict_proba(xte)
        elif model in ("xgboost", "mlp", "cnn"):
            from ._model import _neural, prior_correct, resolve_pos_weight

            # class weighting is undone as RiskModel.predict does: risks, not scores
            params = dict((boosting if model == "xgboost" else neural) or {})
            w = resolve_pos_weight(model, params, y[train])
            if model == "xgboost":
                m = _r.GradientBoosting(**params).fit(xtr, y[train])
            else:
                params["pos_weight"] = w
                m = _neural().NeuralRiskModel(architecture=model, **params).fit(xtr, y[train], codes[train])
            p_model[test] = (m.predict_proba(xte) if w == 1.0 or not w > 0
                             else prior_correct(m.decision_function(xte), w))
        else:
            raise InvalidArgument(f"evaluate: unknown model {model!r}")
        models.append(m)
        prev = y[train].mean()
        p_prev[test] = prev
        tr = pd.DataFrame({"a": codes[train], "y": y[train]}).groupby("a")["y"].mean()
        p_ident[test] = pd.Series(codes[test]).map(tr).fillna(overall).to_numpy()
    return p_model, p_prev, p_ident, checks, models, tuning, leakage, overall


def evaluate(df: pd.DataFrame, features: Sequence[str], label: str, scheme: str = "grouped", k: int = 5,
             test_start=None, purge_days: Optional[int] = None, model: str = "logistic",
             C: Union[float, Sequence[float]] = 1.0, l1_ratio: float = 0.0, replicates: int = 1000,
             level: float = 0.95, seed: int = 0, boosting: Optional[dict] = None, fit: Optional[Callable] = None,
             neural: Optional[dict] = None, horizon_days: Optional[int] = None, repeats: int = 1,
             season_start: str = "01-01", allow_separating: bool = False) -> Evaluation:
    """Evaluates a risk model with an honest split and reports it beside two baselines.

    Parameters
    ----------
    df
        Athlete-time table with ``athlete``, ``date``, the features and the label
        (1 / 0; NaN rows are excluded, e.g. days while injured).
    scheme
        ``"grouped"``: K-fold by athlete (test athletes never seen in training);
        ``"temporal"``: train before ``test_start − purge_days``, test from ``test_start``;
        ``"season"``: leave one season out (column ``season``, else the calendar year),
        purging the ``purge_days`` before each test season from training;
        ``"random"``: K-fold over rows. A random split puts each athlete on both sides:
        the leakage guard then warns (:class:`LeakageWarning`) and sets ``leakage``.
    purge_days
        Gap dropped before ``test_start`` (temporal) or before each test season (season).
        Default: the label horizon. A purge shorter than the horizon lets training labels
        look into the test period and is an InvalidArgument.
    horizon_days
        The label's horizon ("injury within h days"). Default: read from the table
        (:func:`with_features` records it for its label ``y``) or from a label named
        ``injury_within_<h>d``; when unknown, ``purge_days`` defaults to 7.
    repeats
        Grouped or random schemes: evaluate with fold seeds ``seed … seed + repeats − 1``
        and report the spread of the model's AUC (``repeats``, ``spread``); the table and
        intervals are those of ``seed``. One partition's AUC can move a lot with the seed.
    season_start
        ``"MM-DD"`` on which a season begins, for ``scheme="season"`` without a ``season``
        column (``"07-01"`` for football seasons across the new year; default the calendar
        year). A season is named by the year it begins.
    model
        ``"logistic"`` (sportsmed's L2 / elastic-net logistic regression with ``C``,
        ``l1_ratio``; a list of ``C`` values is tuned by nested grouped CV inside each
        training fold), ``"xgboost"`` (:class:`GradientBoosting` with the keyword
        arguments in ``boosting``), or ``"mlp"`` / ``"cnn"`` (:class:`NeuralRiskModel`
        with the keyword arguments in ``neural``; early stopping holds out training
        athletes only; the CNN reads each row's past ``window_days`` days of the
        features, from the whole table, so labelled rows may look back over injured days).
    fit
        Instead of ``model``: ``fit(x_train, y_train)`` returning a function that maps
        test features to probabilities.
    replicates, level, seed
        Athlete-cluster bootstrap of the pooled out-of-fold AUC / AP / Brier.
    allow_separating
        A feature that alone separates the labelled rows almost perfectly (univariate AUC
        >= :data:`SEPARATION_AUC` or <= 1 − it: :func:`separating_features`) is usually the
        outcome under another name or a value recorded after it, and is an InvalidArgument;
        True evaluates it anyway, with a :class:`LeakageWarning` and ``separating`` /
        ``separation_warning`` in the result. A feature that *is* the outcome by name
        (:func:`outcome_features`: the label, the column it is built from as
        :func:`with_features` records it, or ``<that column>_within_<h>d``) is always refused.

    Notes
    -----
    Features are standardised, and NaN imputed with the training mean, using training
    rows only (statistics from test athletes would leak). Baselines: ``prevalence``
    predicts the training prevalence for everyone (its Brier score uses each fold's
    training prevalence; its AUC is 0.5 and its AP the prevalence, by construction);
    ``athlete identity`` predicts each athlete's training prevalence (the overall label
    prevalence for athletes absent from training) and measures how much skill is "who",
    not "when". AUC, AP and Brier are computed on the pooled out-of-fold predictions.

    Evidence: ``table``, ``folds`` and ``evidence`` count rows, positive rows, events
    (injury episodes), athletes and athletes with events. With fewer than
    :data:`MIN_EVENTS` events or :data:`MIN_ATHLETES_WITH_EVENTS` athletes with events in
    the test set, ``interval_reliable`` is False, ``warning`` says why and an
    :class:`EvidenceWarning` is issued: the interval is then too narrow to trust.

    Raises
    ------
    sportsmed.InvalidArgument
        Unknown columns, no labelled row, a label with one class only, a training fold with
        no positive case, a test set without both classes, a purge shorter than the label
        horizon, a test_start outside the table, a feature that is the outcome, a feature
        that alone separates the outcome (unless ``allow_separating``).
    """
    missing = [c for c in ["athlete", "date", label, *features] if c not in df.columns]
    if missing:
        raise InvalidArgument(f"evaluate: missing column(s) {missing}")
    check_outcome_features(df, features, label, "evaluate")
    keep = ~df[label].isna().to_numpy()
    data = df[keep].reset_index(drop=True)
    y = data[label].to_numpy(dtype=float)
    check_label_classes(y, label, len(df), "evaluate")
    separating = check_separation(data, features, label, allow_separating, "evaluate")
    if model == "cnn" and fit is None:
        from ._model import _windows

        window = int((neural or {}).get("window_days", 14))
        x = _windows(df, df[list(features)].to_numpy(dtype=float), window)[keep]
    else:
        x = data[list(features)].to_numpy(dtype=float)
    if np.isinf(x).any():
        bad = [f for f in features if np.isinf(df[f].to_numpy(dtype=float)).any()]
        raise InvalidArgument(f"evaluate: feature(s) {bad} hold ±inf; replace them before evaluating")
    horizon = _horizon(df, label, horizon_days)
    if purge_days is None:
        purge_days = horizon if horizon is not None else 7
    if horizon is not None and scheme in ("temporal", "season") and purge_days < horizon:
        raise InvalidArgument(f"evaluate: a purge of {purge_days} days is shorter than the label horizon of "
                              f"{horizon} days: training labels would look into the test period "
                              f"(use purge_days >= {horizon})")
    if int(repeats) < 1:
        raise InvalidArgument(f"evaluate: repeats must be >= 1, got {repeats}")
    if repeats > 1 and scheme not in ("grouped", "random"):
        raise InvalidArgument(f"evaluate: repeats need a seeded scheme ('grouped' or 'random'); a {scheme} split "
                              "has one partition")
    folds = _folds(data, scheme, k, seed, test_start, purge_days, season_start)
    # the user may have scaled the whole table (all rows) or only the labelled rows
    normalised = check_normalisation(df, list(features))
    if not normalised:
        normalised = check_normalisation(data, list(features))
    codes, _ = pd.factorize(data["athlete"])
    codes = codes.astype(np.int64)
    days = _days(data["date"])
    fitted = _fit_folds(x, y, codes, days, folds, scheme, purge_days, model, C, l1_ratio, seed, boosting, fit,
                        neural)
    p_model, p_prev, p_ident, checks, models, tuning, leakage, overall = fitted
    if leakage:
        n = max(c["athletes_both"] for c in checks)
        warnings.warn(f"evaluate: leakage: up to {n} athletes have rows on both sides of a {scheme} split; "
                      "its AUC measures who gets injured, not when (use scheme='grouped' or 'temporal')",
                      LeakageWarning, stacklevel=2)
    used = ~np.isnan(p_model)
    yt = y[used]
    if yt.min() == yt.max():
        raise InvalidArgument("evaluate: the test rows hold a single class; AUC is undefined")
    ev_all = evidence(data.loc[used, "athlete"], data.loc[used, "date"], yt)
    if not ev_all["interval_reliable"]:
        warnings.warn(f"evaluate: {ev_all['warning']}", EvidenceWarning, stacklevel=2)
    rows = []
    for name, p in (("model", p_model), ("prevalence", p_prev), ("athlete identity", p_ident)):
        pt = p[used]
        ranked = np.full_like(pt, overall) if name == "prevalence" else pt
        auc = _r.cluster_bootstrap(yt, ranked, codes[used], "roc_auc", replicates, level, seed)
        ap = _r.cluster_bootstrap(yt, ranked, codes[used], "average_precision", replicates, level, seed)
        rows.append({"model": name, "roc_auc": auc["estimate"], "roc_auc_lo": auc["lower"],
                     "roc_auc_hi": auc["upper"], "ap": ap["estimate"], "ap_lo": ap["lower"],
                     "ap_hi": ap["upper"], "brier": _r.brier_score(yt, pt), "n": int(used.sum()),
                     "positives": int(yt.sum()), "events": ev_all["events"], "athletes": ev_all["athletes"],
                     "athletes_with_events": ev_all["athletes_with_events"],
                     "interval_reliable": ev_all["interval_reliable"]})
    preds = data.loc[used, ["athlete", "date"]].copy()
    preds["y"] = yt
    preds["fold"] = folds[used]
    preds["p_model"] = p_model[used]
    preds["p_prevalence"] = p_prev[used]
    preds["p_identity"] = p_ident[used]
    fold_rows = []
    for f in sorted(set(folds[used].tolist())):
        te = used & (folds == f)
        e = evidence(data.loc[te, "athlete"], data.loc[te, "date"], y[te])
        both = 0 < y[te].sum() < te.sum()
        fold_rows.append({"fold": int(f), **{k_: v for k_, v in e.items() if k_ != "warning"},
                          "roc_auc": _r.roc_auc(y[te], p_model[te]) if both else np.nan})
    spread, rep_rows = {}, []
    if repeats > 1:
        rep_rows.append({"seed": seed, "roc_auc": rows[0]["roc_auc"], "ap": rows[0]["ap"]})
        for r in range(1, int(repeats)):
            f_r = _folds(data, scheme, k, seed + r, test_start, purge_days, season_start)
            p_r = _fit_folds(x, y, codes, days, f_r, scheme, purge_days, model, C, l1_ratio, seed + r, boosting,
                             fit, neural)[0]
            u = ~np.isnan(p_r)
            rep_rows.append({"seed": seed + r, "roc_auc": _r.roc_auc(y[u], p_r[u]),
                             "ap": _r.average_precision(y[u], p_r[u])})
        a = np.array([r_["roc_auc"] for r_ in rep_rows])
        spread = {"repeats": int(repeats), "roc_auc_min": float(a.min()), "roc_auc_median": float(np.median(a)),
                  "roc_auc_max": float(a.max())}
    return Evaluation(scheme, pd.DataFrame(rows), preds.reset_index(drop=True), leakage, checks, models, tuning,
                      normalised, pd.DataFrame(fold_rows), ev_all, ev_all["warning"], pd.DataFrame(rep_rows),
                      spread, int(purge_days), separating, separation_text(separating))


def check_label_classes(y: np.ndarray, label: str, table_rows: int, where: str) -> None:
    """Refuses a label with no labelled row or with one class only, counting the rows."""
    n = len(y)
    if n == 0:
        raise InvalidArgument(f"{where}: no row of the {table_rows}-row table has a label {label!r} (all NaN: "
                              "injured or censored days); nothing to fit")
    pos = int(np.sum(y == 1))
    if pos == 0:
        raise InvalidArgument(f"{where}: the label {label!r} is 0 on all {n} labelled rows: the table holds no "
                              "injury to learn from")
    if pos == n:
        raise InvalidArgument(f"{where}: the label {label!r} is 1 on all {n} labelled rows: no day without an "
                              "injury to compare with")


def _horizon(df: pd.DataFrame, label: str, horizon_days: Optional[int]) -> Optional[int]:
    """The label's horizon: given, recorded by with_features, or in an injury_within_<h>d name."""
    if horizon_days is not None:
        return int(horizon_days)
    recorded = df.attrs.get("label_horizon_days", {}) if hasattr(df, "attrs") else {}
    if isinstance(recorded, dict) and label in recorded:
        return int(recorded[label])
    m = re.fullmatch(r"injury_within_(\d+)d", str(label))
    return int(m.group(1)) if m else None


def check_normalisation(df: pd.DataFrame, features: Sequence[str], train=None, tol: float = 1e-8) -> list:
    """Leakage guard for features the user normalised before evaluation.

    A feature standardised *exactly* (mean 0, standard deviation 1, ddof 0 or 1) over all rows, or over each athlete's whole record, was scaled with
    statistics of the rows it will be tested on: test athletes' values (a split by
    athlete) or later days (a split by time). Such features are returned and a
    :class:`LeakageWarning` names them. evaluate() standardises with training rows only;
    leave features unscaled, or scale them inside a ``fit`` function.

    Parameters
    ----------
    train
        Optional boolean mask of training rows: a feature normalised exactly over the
        training rows alone is fine and not reported.
    """
    found = {}
    athlete = df["athlete"] if "athlete" in df.columns else None
    for f in features:
        v = df[f].to_numpy(dtype=float)
        ok = np.isfinite(v)
        if ok.sum() < 3:
            continue
        if train is not None and _normalised(v[np.asarray(train) & ok], tol):
            continue
        # per athlete first: athletes each scaled to (0, 1) are also (0, 1) pooled
        if athlete is not None:
            groups = pd.Series(v).groupby(athlete.to_numpy())
            if all(_normalised(g.dropna().to_numpy(), tol) for _, g in groups if g.notna().sum() >= 3):
                found[f] = "per athlete over the whole record (later days included)"
                continue
        if _normalised(v[ok], tol):
            found[f] = "over all rows (test athletes and days included)"
    if found:
        warnings.warn("check_normalisation: feature(s) normalised with statistics that include test rows: "
                      + "; ".join(f"{k} {why}" for k, why in found.items())
                      + ". Pass raw features: evaluate() standardises with training rows only",
                      LeakageWarning, stacklevel=3)
    return list(found)


def _normalised(v: np.ndarray, tol: float) -> bool:
    if len(v) < 3:
        return False
    # z-scores only: a min–max check would also catch naturally bounded features (0/1 flags)
    if abs(v.mean()) > tol:
        return False
    return abs(v.std() - 1) <= tol or abs(v.std(ddof=1) - 1) <= tol


def calibrate(ev: Evaluation, method: str = "isotonic") -> np.ndarray:
    """Cross-fitted calibration of an evaluation's out-of-fold predictions.

    The rows of each test fold are calibrated by a calibrator fitted on the *other*
    folds' out-of-fold predictions, so no row calibrates itself (with a single test fold,
    e.g. a temporal split, it is split in two halves by athlete instead).

    Parameters
    ----------
    method
        ``"isotonic"`` (:class:`IsotonicCalibration`) or ``"platt"`` (:class:`PlattCalibration`
        on the log-odds).

    Returns
    -------
    Calibrated probabilities aligned with ``ev.predictions``.
    """
    pred = ev.predictions
    p = pred["p_model"].to_numpy(dtype=float)
    y = pred["y"].to_numpy(dtype=float)
    groups = pred["fold"].to_numpy()
    if len(np.unique(groups)) < 2:
        codes, _ = pd.factorize(pred["athlete"])
        groups = codes % 2
    out = np.empty_like(p)
    eps = 1e-12
    for g in np.unique(groups):
        te = groups == g
        tr = ~te
        if method == "isotonic":
            c = _r.IsotonicCalibration().fit(p[tr], y[tr])
            out[te] = c.predict(p[te])
        elif method == "platt":
            logit = lambda q: np.log(np.clip(q, eps, 1 - eps) / (1 - np.clip(q, eps, 1 - eps)))  # noqa: E731
            c = _r.PlattCalibration().fit(logit(p[tr]), y[tr])
            out[te] = c.predict(logit(p[te]))
        else:
            raise InvalidArgument(f"calibrate: method must be 'isotonic' or 'platt', got {method!r}")
    return out


def check_no_future(df: pd.DataFrame, make_features: Callable[[pd.DataFrame], pd.DataFrame],
                    features: Optional[Sequence[str]] = None, cuts: int = 3, rtol: float = 1e-9) -> list:
    """Leakage guard for feature pipelines: does a feature on day t read days after t?

    ``make_features`` is run on the whole table and on copies truncated after ``cuts``
    dates spread over the record; a causal feature has the same value on every kept day
    either way. Features that differ are returned, and a :class:`LeakageWarning` names
    them.

    Parameters
    ----------
    df
        Athlete-time table with ``athlete`` and ``date``.
    make_features
        Function of a table returning a DataFrame aligned with its rows (same order) that
        holds the feature columns, e.g. ``sportsmed.risk.workload``.
    features
        Columns to check (default: every numeric column the function returns).
    """
    full = make_features(df).reset_index(drop=True)
    names = list(features) if features is not None else [
        c for c in full.columns if c not in ("athlete", "date") and pd.api.types.is_numeric_dtype(full[c])]
    missing = [c for c in names if c not in full.columns]
    if missing:
        raise InvalidArgument(f"check_no_future: the features function does not return {missing}")
    dates = np.sort(pd.to_datetime(df["date"]).unique())
    leaky = set()
    for q in np.linspace(0.3, 0.8, cuts):
        cut = dates[int(q * (len(dates) - 1))]
        keep = (pd.to_datetime(df["date"]) <= cut).to_numpy()
        part = make_features(df[keep].reset_index(drop=True)).reset_index(drop=True)
        ref = full[keep].reset_index(drop=True)
        for c in names:
            a, b = part[c].to_numpy(dtype=float), ref[c].to_numpy(dtype=float)
            same = np.isclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True)
            if not same.all():
                leaky.add(c)
    found = [c for c in names if c in leaky]
    if found:
        warnings.warn(f"check_no_future: feature(s) {found} change when later days are removed: they read "
                      "the future", LeakageWarning, stacklevel=2)
    return found


def choose_threshold(ev: Evaluation, method: str = "youden", alert_rate: float = 0.1) -> pd.DataFrame:
    """Alert thresholds chosen on validation folds only, judged on the held-out fold.

    For each test fold the threshold is picked from the *other* folds' out-of-fold
    predictions (with one test fold, e.g. a temporal split, from the other half of the
    athletes), then applied to this fold.

    Parameters
    ----------
    method
        ``"youden"``: maximise sensitivity + specificity − 1 (Youden 1950);
        ``"alert_rate"``: flag the top ``alert_rate`` fraction of athlete-days.

    Returns
    -------
    One row per fold: threshold, sensitivity, specificity, ppv, alert_fraction, n.
    """
    pred = ev.predictions
    p = pred["p_model"].to_numpy(dtype=float)
    y = pred["y"].to_numpy(dtype=float)
    groups = pred["fold"].to_numpy()
    if len(np.unique(groups)) < 2:
        groups = pd.factorize(pred["athlete"])[0] % 2
    rows = []
    for g in np.unique(groups):
        te, tr = groups == g, groups != g
        if method == "youden":
            thr = _youden_threshold(y[tr], p[tr])
        elif method == "alert_rate":
            if not 0 < alert_rate < 1:
                raise InvalidArgument(f"choose_threshold: alert_rate must be in (0, 1), got {alert_rate}")
            thr = float(np.quantile(p[tr], 1 - alert_rate))
        else:
            raise InvalidArgument(f"choose_threshold: method must be 'youden' or 'alert_rate', got {method!r}")
        flag = p[te] >= thr
        pos, neg = y[te] == 1, y[te] == 0
        rows.append({"fold": int(g), "threshold": thr,
                     "sensitivity": flag[pos].mean() if pos.any() else np.nan,
                     "specificity": (~flag[neg]).mean() if neg.any() else np.nan,
                     "ppv": y[te][flag].mean() if flag.any() else np.nan,
                     "alert_fraction": flag.mean(), "n": int(te.sum())})
    return pd.DataFrame(rows)


def _youden_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold t (flag p >= t) maximising TPR − FPR; the highest such t on ties."""
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(1 - ys)
    last = np.r_[ps[1:] != ps[:-1], True]  # end of each run of tied scores
    j = tp[last] / max(tp[-1], 1) - fp[last] / max(fp[-1], 1)
    return float(ps[last][int(np.argmax(j))])
