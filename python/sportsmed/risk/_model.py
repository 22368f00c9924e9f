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
_NEURAL_MODEL = Obj({"n_inputs": Int(1, 1 << 24), "tensors": List(Obj({
    "name": Str(max_len=256), "shape": List(Int(0, 1 << 28), max_len=8), "values": List(Num())}))})
_MODEL_SCHEMAS = {"logistic": Obj({"coef": List(Num()), "intercept": Num()}),
                  "xgboost": Obj({"xgboost_json": Str(max_len=1 << 30)}),
                  "mlp": _NEURAL_MODEL, "cnn": _NEURAL_MODEL}


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
            raise InvalidArgument(f"RiskModel.{where}: features hold ±inf")
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

    def fit(self, df: pd.DataFrame, label: str) -> "RiskModel":
        """Fits on the rows of ``df`` whose ``label`` is 0 or 1 (NaN rows are skipped; the
        CNN's windows still read their features as earlier days)."""
        if label not in df.columns:
            raise InvalidArgument(f"RiskModel.fit: no label column {label!r}")
        keep = ~df[label].isna().to_numpy()
        d = df[keep]
        xall = self._matrix(df, None, "fit")
        x = xall[keep]
        y = d[label].to_numpy(dtype=float)
        self.mean = np.nanmean(x, axis=0)
        if np.isnan(self.mean).any():
            bad = [f for f, m in zip(self.features, self.mean) if np.isnan(m)]
            raise InvalidArgument(f"RiskModel.fit: feature(s) {bad} have no value")
        sd = np.nanstd(x, axis=0)
        self.scale = np.where(sd > 0, sd, 1.0)
        xs = np.ascontiguousarray(self._inputs(df, xall, "fit")[keep])
        if self.kind == "logistic":
            self._model = _r.LogisticRegression(**self.params).fit(xs, y)
        elif self.kind == "xgboost":
            self._model = _r.GradientBoosting(**self.params).fit(xs, y)
        else:
            groups = pd.factorize(d["athlete"])[0].astype(np.int64) if "athlete" in d else np.zeros(0, np.int64)
            self._model = _neural().NeuralRiskModel(architecture=self.kind, **self.params).fit(xs, y, groups)
        self.training = {
            "rows": int(len(d)), "positives": int(y.sum()), "label": label,
            "athletes": int(d["athlete"].nunique()) if "athlete" in d else None,
            "first_date": str(pd.Timestamp(d["date"].min()).date()) if "date" in d else None,
            "last_date": str(pd.Timestamp(d["date"].max()).date()) if "date" in d else None,
        }
        if self.kind in NEURAL:
            self.training["best_epoch"] = self._model.best_epoch
        return self

    def _check_fitted(self, where):
        if self._model is None:
            raise InvalidArgument(f"RiskModel.{where}: the model is not fitted")

    def predict(self, data, feature_names: Optional[Sequence[str]] = None) -> np.ndarray:
        """P(outcome) per row of a DataFrame (or an array with matching ``feature_names``)."""
        self._check_fitted("predict")
        return self._model.predict_proba(self._inputs(data, self._matrix(data, feature_names, "predict"), "predict"))

    def explain(self, data, feature_names: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """Per-row contributions to the log-odds, one column per feature plus ``baseline``.

        Logistic: coefficient × standardised value; XGBoost: TreeSHAP values; MLP / CNN:
        integrated gradients from the training-mean baseline (``baseline`` is the logit
        there; the CNN's attributions are summed over the days of its window). Each row
        sums to the model's log-odds (the neural models up to the quadrature error,
        ~1e-12)."""
        self._check_fitted("explain")
        c = self._model.contributions(self._inputs(data, self._matrix(data, feature_names, "explain"), "explain"))
        if self.kind == "cnn":  # window columns are day-major: (days × features)
            p = len(self.features)
            c = np.c_[c[:, :-1].reshape(len(c), -1, p).sum(axis=1), c[:, -1]]
        out = pd.DataFrame(c[:, :-1], columns=self.features)
        out["baseline"] = c[:, -1]
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
