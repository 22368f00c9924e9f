"""A fitted risk model with its preprocessing, persisted as a versioned JSON file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._core import FormatError, InvalidArgument
from .._core import risk as _r
from .._core import version as _version
from .._schema import Bool, Int, List, Num, Obj, OneOf, Optional_, Str, check
from ._evaluate import (Evaluation, check_label_classes, check_outcome_features, check_separation, evidence,
                        separation_text)
from ._persist import FORMAT_VERSION, read_json, write_json
from ._table import _days

FORMAT = "sportsmed-risk-model"


def _neural():
    """The LibTorch half of the risk models (sportsmed._torch.risk), loaded on first use."""
    from .._torch import risk

    return risk


KINDS = ("logistic", "xgboost", "mlp", "cnn")
NEURAL = ("mlp", "cnn")

# What RiskModel.load accepts (checked node by node before anything is built).
_PARAM = OneOf(Num(), Str(max_len=64), Bool(), Optional_(Bool()), List(Int(0, 1 << 20), max_len=64))
_FILE_SCHEMA = Obj({
    "format": Str(), "format_version": Int(), "sportsmed_version?": Optional_(Str()),
    "xgboost_version?": Optional_(Str()), "kind": Str(choices=KINDS),
    "features": List(Str(max_len=4096), min_len=1, max_len=1 << 20),
    "params?": Obj({}, values=_PARAM),
    "preprocessing": Obj({"impute?": Str(), "mean": List(Num()), "scale": List(Num(lo=1e-300))}),
    "training?": Obj({}, extra=True), "model": Obj({}, extra=True),
}, extra=True)
# The training record (older files hold fewer of these nodes; all are optional).
_COUNT = Optional_(Int(0, 1 << 40))
_FIGURE = Optional_(Num(finite=False))
_EVIDENCE = Obj({"rows?": _COUNT, "positives?": _COUNT, "events?": _COUNT, "athletes?": _COUNT,
                 "athletes_with_events?": _COUNT}, extra=True)
_TRAINING_SCHEMA = Obj({
    "pos_weight?": Num(lo=1e-300),
    "rows?": _COUNT, "positives?": _COUNT, "events?": _COUNT, "athletes?": _COUNT,
    "athletes_with_events?": _COUNT, "label?": OneOf(Str(), Obj({
        "injury?": Str(max_len=4096), "horizon_days?": Int(1, 1 << 20), "text?": Str(max_len=4096)}, extra=True)),
    "first_date?": Optional_(Str(max_len=64)), "last_date?": Optional_(Str(max_len=64)),
    "recipe?": Obj({"load?": Str(max_len=4096), "missing?": Optional_(Str(choices=["zero", "missing"])),
                    "acute?": Int(1, 1 << 20), "chronic?": Int(1, 1 << 20), "min_periods?": Int(0, 1 << 20)},
                   extra=True),
    "validation?": Obj({
        "scheme": Str(choices=["grouped", "temporal", "season", "random"]), "roc_auc": _FIGURE,
        "roc_auc_lo": _FIGURE, "roc_auc_hi": _FIGURE, "interval_reliable": Bool(), "evidence": _EVIDENCE,
        "level?": Num(lo=0.0, hi=1.0), "folds?": Optional_(Int(1, 1 << 20)), "ap?": _FIGURE, "ap_lo?": _FIGURE,
        "ap_hi?": _FIGURE, "brier?": _FIGURE, "baselines?": Obj({}, values=Obj({}, extra=True)),
        "warning?": Str(), "leakage?": Bool()}, extra=True),
}, extra=True)
_NEURAL_MODEL = Obj({"n_inputs": Int(1, 1 << 24), "tensors": List(Obj({
    "name": Str(max_len=256), "shape": List(Int(0, 1 << 28), max_len=8), "values": List(Num())}))})
_MODEL_SCHEMAS = {"logistic": Obj({"coef": List(Num()), "intercept": Num()}),
                  "xgboost": Obj({"xgboost_json": Str(max_len=1 << 30)}),
                  "mlp": _NEURAL_MODEL, "cnn": _NEURAL_MODEL}


def resolve_pos_weight(kind: str, params: dict, y: np.ndarray) -> float:
    """The weight of positive rows a model of ``kind`` with ``params`` trains with on
    labels ``y``: ``pos_weight`` (mlp, cnn; <= 0: n_neg / n_pos of ``y``),
    ``scale_pos_weight`` (xgboost), 1 otherwise (unweighted)."""
    if kind in NEURAL:
        w = float(params.get("pos_weight", 1.0))
        if not w > 0:
            pos = float(np.sum(y))
            w = (len(y) - pos) / pos if pos > 0 else 1.0
        return w
    if kind == "xgboost":
        return float(params.get("scale_pos_weight", 1.0))
    return 1.0


def prior_correct(logit: np.ndarray, pos_weight: float) -> np.ndarray:
    """P(outcome) from the log-odds of a model trained with positive rows weighted by
    ``pos_weight`` = w: weighted likelihood multiplies the fitted odds by w, so the
    probability is sigmoid(logit − log w) (prior correction; King & Zeng 2001)."""
    z = np.asarray(logit, dtype=float) - np.log(pos_weight)
    return 1.0 / (1.0 + np.exp(-z))


def _check_counts(rec: dict, path, node: str) -> None:
    """Counts that contradict each other (hand-edited files): rows > 0, positives <= rows,
    events <= positives, athletes with events <= events and <= athletes."""
    def bad(field, why):
        raise FormatError(f"RiskModel.load: '{path}': node {node}.{field} is {rec[field]}: {why}")

    get = lambda k: rec.get(k)  # noqa: E731
    if get("rows") is not None and get("rows") <= 0:
        bad("rows", "a fitted model has at least one training row")
    for field, bound in (("positives", "rows"), ("events", "positives"), ("athletes_with_events", "events"),
                         ("athletes_with_events", "athletes")):
        if get(field) is not None and get(bound) is not None and get(field) > get(bound):
            bad(field, f"more than {node}.{bound} ({rec[bound]})")


def _windows(df: pd.DataFrame, x: np.ndarray, window_days: int) -> np.ndarray:
    """lagged_windows of the rows of ``df`` in their own order (sorted internally)."""
    codes = pd.factorize(df["athlete"])[0].astype(np.int64)
    days = _days(df["date"])
    order = np.lexsort((days, codes))
    w = _r.lagged_windows(codes[order], days[order], np.ascontiguousarray(x[order], dtype=float), window_days)
    out = np.empty_like(w)
    out[order] = w
    return out


def lagged_features(df: pd.DataFrame, features: Sequence[str], window_days: int) -> pd.DataFrame:
    """The last ``window_days`` days of ``features`` for every athlete-day, past days of
    the same athlete only: columns ``<feature>@t-<lag>`` (lag = window_days−1 … 0, oldest
    first), NaN where the athlete has no row that day. Aligned with ``df``'s rows.

    Raises
    ------
    sportsmed.InvalidArgument
        Missing columns, or two rows of one athlete on the same day.
    """
    missing = [c for c in ["athlete", "date", *features] if c not in df.columns]
    if missing:
        raise InvalidArgument(f"lagged_features: missing column(s) {missing}")
    w = _windows(df, df[list(features)].to_numpy(dtype=float), window_days)
    names = [f"{f}@t-{lag}" for lag in range(window_days - 1, -1, -1) for f in features]
    return pd.DataFrame(w, columns=names, index=df.index)


class RiskModel:
    """A risk model bound to named features: standardisation (training statistics),
    NaN imputation (training means) and a logistic, gradient-boosting or neural model.

    Parameters
    ----------
    features
        Feature column names, in order. Predicting from a table that lacks one of them,
        or from an array declared with other names, raises :class:`sportsmed.InvalidArgument`.
    kind
        ``"logistic"``, ``"xgboost"``, ``"mlp"`` or ``"cnn"`` (:class:`NeuralRiskModel`; the
        CNN reads each athlete-day's last ``window_days`` days of the features, past days
        of the same athlete only, so it needs a DataFrame with ``athlete`` and ``date``).
    params
        Keyword arguments of :class:`LogisticRegression`, :class:`GradientBoosting` or
        :class:`NeuralRiskModel` (``architecture`` is set from ``kind``).
    """

    def __init__(self, features: Sequence[str], kind: str = "logistic", **params):
        if kind not in KINDS:
            raise InvalidArgument(f"RiskModel: kind must be one of {list(KINDS)}, got {kind!r}")
        if len(set(features)) != len(features) or not features:
            raise InvalidArgument(f"RiskModel: features must be distinct and non-empty, got {list(features)}")
        self.features = list(features)
        self.kind = kind
        self.params = params
        self.mean: Optional[np.ndarray] = None
        self.scale: Optional[np.ndarray] = None
        self.training: dict = {}
        self._model = None

    # -- data --------------------------------------------------------------------------
    def _matrix(self, data: Union[pd.DataFrame, np.ndarray], feature_names: Optional[Sequence[str]],
                where: str) -> np.ndarray:
        if isinstance(data, pd.DataFrame):
            missing = [f for f in self.features if f not in data.columns]
            if missing:
                raise InvalidArgument(f"RiskModel.{where}: the table lacks feature(s) {missing}; the model was "
                                      f"trained on {self.features}")
            x = data[self.features].to_numpy(dtype=float)
        else:
            if feature_names is None or list(feature_names) != self.features:
                raise InvalidArgument(f"RiskModel.{where}: an array needs feature_names equal to the model's "
                                      f"{self.features}, got {None if feature_names is None else list(feature_names)}")
            x = np.asarray(data, dtype=float)
        if np.isinf(x).any():
            bad = [f for f, b in zip(self.features, np.isinf(x).any(axis=0)) if b]
            raise InvalidArgument(f"RiskModel.{where}: feature(s) {bad} hold ±inf")
        return x

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        x = np.where(np.isnan(x), self.mean, x)
        return np.ascontiguousarray((x - self.mean) / self.scale)

    # -- fit / predict -----------------------------------------------------------------
    def _inputs(self, data, x: np.ndarray, where: str) -> np.ndarray:
        """Model inputs of every row: standardised features, or for the CNN their
        past-only windows (days the athlete lacks sit at the training mean, 0)."""
        xs = self._prepare(x)
        if self.kind != "cnn":
            return xs
        if not isinstance(data, pd.DataFrame) or not {"athlete", "date"} <= set(data.columns):
            raise InvalidArgument(f"RiskModel.{where}: a cnn model needs a DataFrame with 'athlete' and 'date' "
                                  "columns (it reads each athlete's previous days)")
        return np.nan_to_num(_windows(data, xs, int(self.params.get("window_days", 14))), nan=0.0)

    def fit(self, df: pd.DataFrame, label: str, allow_separating: bool = False) -> "RiskModel":
        """Fits on the rows of ``df`` whose ``label`` is 0 or 1 (NaN rows are skipped; the
        CNN's windows still read their features as earlier days).

        A feature that is the outcome by name (:func:`sportsmed.risk.outcome_features`) is an
        InvalidArgument, and so is one that alone separates the labelled rows almost
        perfectly (:func:`sportsmed.risk.separating_features`) unless ``allow_separating``:
        the model then records it (``training["separating_features"]``, ``training["warnings"]``,
        shown by :meth:`describe`)."""
        if label not in df.columns:
            raise InvalidArgument(f"RiskModel.fit: no label column {label!r}")
        check_outcome_features(df, self.features, label, "RiskModel.fit")
        keep = ~df[label].isna().to_numpy()
        d = df[keep]
        xall = self._matrix(df, None, "fit")
        x = xall[keep]
        y = d[label].to_numpy(dtype=float)
        check_label_classes(y, label, len(df), "RiskModel.fit")
        separating = check_separation(d, self.features, label, allow_separating, "RiskModel.fit")
        self.mean = np.nanmean(x, axis=0)
        if np.isnan(self.mean).any():
            bad = [f for f, m in zip(self.features, self.mean) if np.isnan(m)]
            raise InvalidArgument(f"RiskModel.fit: feature(s) {bad} have no value")
        sd = np.nanstd(x, axis=0)
        self.scale = np.where(sd > 0, sd, 1.0)
        xs = np.ascontiguousarray(self._inputs(df, xall, "fit")[keep])
        # class weighting: the weight actually used is recorded and undone at prediction
        pos_weight = resolve_pos_weight(self.kind, self.params, y)
        if self.kind == "logistic":
            self._model = _r.LogisticRegression(**self.params).fit(xs, y)
        elif self.kind == "xgboost":
            self._model = _r.GradientBoosting(**self.params).fit(xs, y)
        else:
            groups = pd.factorize(d["athlete"])[0].astype(np.int64) if "athlete" in d else np.zeros(0, np.int64)
            params = {**self.params, "pos_weight": pos_weight}
            self._model = _neural().NeuralRiskModel(architecture=self.kind, **params).fit(xs, y, groups)
        self.training = {
            "rows": int(len(d)), "positives": int(y.sum()), "label": label,
            "athletes": int(d["athlete"].nunique()) if "athlete" in d else None,
            "first_date": str(pd.Timestamp(d["date"].min()).date()) if "date" in d else None,
            "last_date": str(pd.Timestamp(d["date"].max()).date()) if "date" in d else None,
        }
        if {"athlete", "date"} <= set(d.columns):
            e = evidence(d["athlete"], d["date"], y)
            self.training["events"] = e["events"]
            self.training["athletes_with_events"] = e["athletes_with_events"]
        if self.kind in NEURAL:
            self.training["best_epoch"] = self._model.best_epoch
        if pos_weight != 1.0:
            self.training["pos_weight"] = pos_weight
        if separating:
            self.training["separating_features"] = separating
            self.training["warnings"] = [separation_text(separating)]
        return self

    def record_validation(self, ev: Evaluation, **settings) -> dict:
        """Stores an evaluation of this model's recipe (features, kind, parameters) in
        ``training["validation"]``, saved with the model: scheme, the model's AUC with its
        interval, AP, Brier, the baselines' AUC and Brier, the test set's evidence counts
        and whether the interval is reliable. ``settings`` (e.g. ``folds=5, seed=0``) are
        recorded beside them. Returns the record.

        The evaluation must be of the same features (checked); it is the caller's word that
        it used the same kind and parameters (``sportsmed risk train --validate`` does).
        """
        if not isinstance(ev, Evaluation):
            raise InvalidArgument(f"RiskModel.record_validation: expected an Evaluation, got {type(ev).__name__}")
        t = ev.table.set_index("model")
        m = t.loc["model"]

        def f(v):
            v = float(v)
            return v if np.isfinite(v) else None

        rec = {"scheme": ev.scheme, "roc_auc": f(m["roc_auc"]), "roc_auc_lo": f(m["roc_auc_lo"]),
               "roc_auc_hi": f(m["roc_auc_hi"]), "ap": f(m["ap"]), "ap_lo": f(m["ap_lo"]), "ap_hi": f(m["ap_hi"]),
               "brier": f(m["brier"]), "level": float(settings.pop("level", 0.95)),
               "interval_reliable": bool(ev.evidence["interval_reliable"]), "warning": ev.warning,
               "leakage": bool(ev.leakage),
               "separating_features": dict(ev.separating), "separation_warning": ev.separation_warning,
               "evidence": {k: int(ev.evidence[k]) for k in ("rows", "positives", "events", "athletes",
                                                              "athletes_with_events")},
               "baselines": {name: {"roc_auc": f(t.loc[name, "roc_auc"]), "brier": f(t.loc[name, "brier"])}
                             for name in t.index if name != "model"}}
        if ev.scheme in ("temporal", "season"):
            rec["purge_days"] = int(ev.purge_days)
        if ev.spread:
            rec["spread"] = {k: (float(v) if k != "repeats" else int(v)) for k, v in ev.spread.items()}
        rec.update(settings)
        self.training["validation"] = rec
        return rec

    def describe(self) -> dict:
        """What a reader of this model's risks needs first: ``label`` (risk of what),
        ``base_rate`` (share of positive training rows), ``validation`` (text: the validated
        AUC with its interval and scheme, or "not validated"), the training period, and
        ``pos_weight`` / ``weighting``: the positive-class weight of training (1: none; None:
        unknown, then the outputs are scores and ``warnings`` says so) and what it means."""
        t = self.training if isinstance(self.training, dict) else {}
        lab = t.get("label")
        label = lab.get("text") if isinstance(lab, dict) else None
        rows, pos = t.get("rows"), t.get("positives")
        v = t.get("validation")
        if isinstance(v, dict) and v.get("roc_auc") is not None:
            e = v.get("evidence", {})
            lo, hi = v.get("roc_auc_lo"), v.get("roc_auc_hi")
            ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
            text = (f"validated AUC {v['roc_auc']:.3f}{ci} ({v['scheme']} evaluation; {e.get('events')} events in "
                    f"{e.get('athletes_with_events')} of {e.get('athletes')} athletes)")
            if not v.get("interval_reliable", True):
                text += "; interval unreliable: too few events"
        else:
            text = "not validated (train with --validate to record a validated AUC)"
        notes = [w for w in (t.get("warnings") or []) if isinstance(w, str) and w]
        if isinstance(v, dict) and isinstance(v.get("separation_warning"), str) and v["separation_warning"] \
                and v["separation_warning"] not in notes:
            notes.append(v["separation_warning"])
        w, weighting = self._weighting()
        if w is None:
            notes.append(weighting)
        if notes:
            text += "; WARNING: " + "; ".join(notes)
        return {"label": label or "the label the model was trained on (not recorded)",
                "base_rate": (pos / rows) if rows else None, "validation": text,
                "pos_weight": w, "weighting": weighting,
                "first_date": t.get("first_date"), "last_date": t.get("last_date"),
                "athletes": t.get("athletes"), "events": t.get("events"), "warnings": notes}

    def _weighting(self):
        """(w, text): the weight of positive rows the model was trained with (1: unweighted;
        None: weighted by an amount the file does not record) and what that means for its
        outputs (None when unweighted)."""
        t = self.training if isinstance(self.training, dict) else {}
        how = ""
        if t.get("pos_weight") is not None:
            w = float(t["pos_weight"])
        elif self.kind in NEURAL and not float(self.params.get("pos_weight", 1.0)) > 0:
            rows, pos = t.get("rows"), t.get("positives")
            if not (rows and pos and pos < rows):
                return None, ("trained with class weighting (pos_weight n_neg/n_pos) by an amount this file does "
                              "not record: its outputs are scores that rank athlete-days, not probabilities")
            w = (rows - pos) / pos
            how = " (the weight n_neg/n_pos from the recorded training counts: the file does not record it)"
        else:
            w = resolve_pos_weight(self.kind, self.params, np.zeros(0))
        if w == 1.0:
            return 1.0, None
        if not w > 0:
            return None, (f"trained with a positive-class weight of {w:g}: its outputs are scores that rank "
                          "athlete-days, not probabilities")
        return w, (f"trained with positive rows weighted {w:.4g} (class weighting): risks are prior-corrected to "
                   f"probabilities, log-odds {-np.log(w):+.3f} (= -log {w:.4g}){how}")

    def _check_fitted(self, where):
        if self._model is None:
            raise InvalidArgument(f"RiskModel.{where}: the model is not fitted")

    def predict(self, data, feature_names: Optional[Sequence[str]] = None) -> np.ndarray:
        """P(outcome) per row of a DataFrame (or an array with matching ``feature_names``).

        A model trained with positive rows weighted w (``pos_weight``, ``scale_pos_weight``;
        recorded as ``training["pos_weight"]``) fits odds w times too high: its log-odds are
        prior-corrected by −log w (:func:`prior_correct`), so the risks are probabilities
        again (their ranking, hence the AUC, is unchanged)."""
        self._check_fitted("predict")
        x = self._inputs(data, self._matrix(data, feature_names, "predict"), "predict")
        w = self._weighting()[0]
        if w is None or w == 1.0:
            return self._model.predict_proba(x)
        return prior_correct(self._model.decision_function(x), w)

    def explain(self, data, feature_names: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """Per-row contributions to the log-odds, one column per feature plus ``baseline``.

        Logistic: coefficient × standardised value; XGBoost: TreeSHAP values; MLP / CNN:
        integrated gradients from the training-mean baseline (``baseline`` is the logit
        there; the CNN's attributions are summed over the days of its window). Each row
        sums to the model's log-odds (the neural models up to the quadrature error,
        ~1e-12). For a class-weighted model ``baseline`` includes the prior correction
        −log w, so rows sum to the log-odds of :meth:`predict`."""
        self._check_fitted("explain")
        c = self._model.contributions(self._inputs(data, self._matrix(data, feature_names, "explain"), "explain"))
        if self.kind == "cnn":  # window columns are day-major: (days × features)
            p = len(self.features)
            c = np.c_[c[:, :-1].reshape(len(c), -1, p).sum(axis=1), c[:, -1]]
        out = pd.DataFrame(c[:, :-1], columns=self.features)
        w = self._weighting()[0]
        # the prior correction of class-weighted training moves the baseline (see predict)
        out["baseline"] = c[:, -1] - (np.log(w) if w is not None else 0.0)
        if isinstance(data, pd.DataFrame):
            out.index = data.index
        return out

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:
        self._check_fitted("save")
        if self.kind == "logistic":
            model = {"coef": self._model.coef.tolist(), "intercept": self._model.intercept}
        elif self.kind == "xgboost":
            model = {"xgboost_json": self._model.to_json()}
        else:
            model = {"n_inputs": self._model.n_inputs,
                     "tensors": [{"name": t["name"], "shape": list(t["shape"]), "values": t["values"].tolist()}
                                 for t in self._model.parameters()]}
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "sportsmed_version": _version(),
            "xgboost_version": _r.xgboost_version() if self.kind == "xgboost" else None,
            "kind": self.kind, "params": self.params, "features": self.features,
            "preprocessing": {"impute": "training mean", "mean": self.mean.tolist(), "scale": self.scale.tolist()},
            "training": self.training, "model": model,
        }

    def save(self, path: Union[str, Path]) -> Path:
        """Writes the model as JSON (to a temporary name, then renamed)."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Union[str, Path]) -> "RiskModel":
        """Reads a model saved by :meth:`save`.

        Raises
        ------
        sportsmed.FormatError
            Not a sportsmed risk model, written in another format version, or a node
            (key, type, length, value range) that does not fit the format; the message
            names the node.
        """
        d = read_json(path, FORMAT, "RiskModel.load")
        check(d, _FILE_SCHEMA, "RiskModel.load", path)
        if "training" in d:
            check(d["training"], _TRAINING_SCHEMA, "RiskModel.load", path, "training")
            _check_counts(d["training"], path, "training")
            v = d["training"].get("validation")
            if isinstance(v, dict):
                _check_counts(v["evidence"], path, "training.validation.evidence")
        kind, n = d["kind"], len(d["features"])
        check(d["model"], _MODEL_SCHEMAS[kind], "RiskModel.load", path, "model")
        pre = d["preprocessing"]
        for key in ("mean", "scale"):
            if len(pre[key]) != n:
                raise FormatError(f"RiskModel.load: '{path}': node preprocessing.{key} has {len(pre[key])} "
                                  f"values for {n} features")
        if kind == "logistic" and len(d["model"]["coef"]) != n:
            raise FormatError(f"RiskModel.load: '{path}': node model.coef has {len(d['model']['coef'])} "
                              f"values for {n} features")
        try:
            m = cls(d["features"], kind, **d.get("params", {}))
            m.mean = np.asarray(pre["mean"], dtype=float)
            m.scale = np.asarray(pre["scale"], dtype=float)
            m.training = d.get("training", {})
            if kind == "logistic":
                m._model = _r.LogisticRegression(**m.params)
                m._model.set_coefficients(np.asarray(d["model"]["coef"], dtype=float),
                                          float(d["model"]["intercept"]))
            elif kind == "xgboost":
                m._model = _r.GradientBoosting.from_json(d["model"]["xgboost_json"], n)
            else:
                m._model = _neural().NeuralRiskModel(architecture=kind, **m.params)
                tensors = []
                for i, t in enumerate(d["model"]["tensors"]):
                    size = int(np.prod(t["shape"], dtype=np.int64)) if t["shape"] else 1
                    if size != len(t["values"]):
                        raise FormatError(f"RiskModel.load: '{path}': node model.tensors[{i}] has shape "
                                          f"{t['shape']} but {len(t['values'])} values")
                    tensors.append({"name": t["name"], "shape": t["shape"],
                                    "values": np.asarray(t["values"], dtype=float)})
                m._model.set_parameters(int(d["model"]["n_inputs"]), tensors)
        except (InvalidArgument, TypeError) as exc:
            # parameters the constructors refuse (unknown names, out-of-range values)
            raise FormatError(f"RiskModel.load: '{path}': {exc}") from None
        return m
