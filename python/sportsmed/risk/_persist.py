"""Versioned files for the Cox model and the calibrators (the RiskModel file's conventions:
JSON with format name, format version, sportsmed version and, for models of features,
the feature names checked at prediction)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd

from .._core import FormatError, InvalidArgument
from .._core import risk as _r
from .._core import version as _version
from .._io import load_json_file, write_json_atomic
from .._schema import Int, List, Num, Obj, Optional_, Str, check

FORMAT_VERSION = 1

#: The risk pillar's file formats and what each holds (named when a file of one is given for another).
FORMATS = {"sportsmed-risk-model": "a risk model (logistic, xgboost, mlp or cnn)",
           "sportsmed-risk-cox": "a Cox proportional-hazards model",
           "sportsmed-risk-calibrator": "a risk calibrator"}


def file_format(path: Union[str, Path]) -> Optional[str]:
    """The ``format`` field of a JSON file, or None (not JSON, no such field, unreadable)."""
    try:
        d = load_json_file(path, "file_format")
    except Exception:  # any reason the file is not one of ours: the caller reports its own error
        return None
    f = d.get("format") if isinstance(d, dict) else None
    return f if isinstance(f, str) else None

_COX_SCHEMA = Obj({"format": Str(), "format_version": Int(), "sportsmed_version?": Optional_(Str()),
                   "features": List(Str(max_len=4096), min_len=1), "ties?": Str(choices=["breslow"]),
                   "coef": List(Num()), "standard_errors?": List(Num(finite=False)),
                   "log_likelihood?": Num(finite=False), "training?": Obj({}, extra=True),
                   "baseline?": Obj({"time": List(Num()), "hazard": List(Num(lo=0.0))})}, extra=True)
_CALIBRATOR_SCHEMA = Obj({"format": Str(), "format_version": Int(), "sportsmed_version?": Optional_(Str()),
                          "method": Str(choices=["platt", "isotonic"]), "score?": Optional_(Str()),
                          "params": Obj({}, extra=True)}, extra=True)
_CALIBRATOR_PARAMS = {"platt": Obj({"slope": Num(), "intercept": Num()}),
                      "isotonic": Obj({"x": List(Num(), min_len=1), "y": List(Num(lo=0.0, hi=1.0), min_len=1)})}


def write_json(path: Union[str, Path], doc: dict) -> Path:
    """Writes ``doc`` to a temporary name next to ``path``, then renames it."""
    return write_json_atomic(path, doc)


def read_json(path: Union[str, Path], fmt: str, where: str) -> dict:
    """Reads a file written by :func:`write_json` with format ``fmt``.

    Raises FormatError for non-JSON, another format or another format version."""
    d = load_json_file(path, where)
    if not isinstance(d, dict) or d.get("format") != fmt:
        got = d.get("format") if isinstance(d, dict) else None
        if isinstance(got, str) and got in FORMATS:
            raise FormatError(f"{where}: '{path}' is {FORMATS[got]} (format {got!r}), not a {fmt} file")
        raise FormatError(f"{where}: '{path}' is not a {fmt} file")
    if d.get("format_version") != FORMAT_VERSION:
        raise FormatError(f"{where}: '{path}' has format version {d.get('format_version')}, this sportsmed "
                          f"({_version()}) reads version {FORMAT_VERSION}")
    return d


class CoxModel:
    """A fitted :class:`CoxPH` bound to named covariates, with a versioned file.

    Parameters
    ----------
    features
        Covariate columns, in order.
    """

    FORMAT = "sportsmed-risk-cox"

    def __init__(self, features: Sequence[str], max_iter: int = 100, tol: float = 1e-10):
        if not features or len(set(features)) != len(features):
            raise InvalidArgument(f"CoxModel: features must be distinct and non-empty, got {list(features)}")
        self.features = list(features)
        self.model = _r.CoxPH(max_iter=max_iter, tol=tol)
        self.training: dict = {}
        self.baseline: Optional[pd.DataFrame] = None
        self._fitted = False

    def _x(self, df: pd.DataFrame, where: str) -> np.ndarray:
        missing = [f for f in self.features if f not in df.columns]
        if missing:
            raise InvalidArgument(f"CoxModel.{where}: the table lacks covariate(s) {missing}; the model was "
                                  f"fitted on {self.features}")
        return np.ascontiguousarray(df[self.features].to_numpy(dtype=float))

    def fit(self, df: pd.DataFrame, start: str = "start", stop: str = "stop", event: str = "event") -> "CoxModel":
        """Fits on counting-process rows (start, stop] of ``df``."""
        for c in (start, stop, event):
            if c not in df.columns:
                raise InvalidArgument(f"CoxModel.fit: no column {c!r}")
        x = self._x(df, "fit")
        bad = [f for f, b in zip(self.features, ~np.isfinite(x).all(axis=0)) if b]
        if bad:
            raise InvalidArgument(f"CoxModel.fit: covariate(s) {bad} hold NaN or ±inf; drop or impute those rows")
        t0, t1, ev = (df[c].to_numpy(dtype=float) for c in (start, stop, event))
        self.model.fit(t0, t1, ev, x)
        from ._survival import breslow, concordance_index

        eta = self.model.predict_log_hazard(x)
        self.baseline = breslow(t0, t1, ev, eta)
        self.training = {"rows": int(len(df)), "events": int(df[event].sum()),
                         "c_index": concordance_index(t0, t1, ev, eta)["c_index"]}
        if "athlete" in df.columns:
            self.training["athletes"] = int(df["athlete"].nunique())
            self.training["athletes_with_events"] = int(df.loc[df[event] == 1, "athlete"].nunique())
        self._fitted = True
        return self

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """One row per covariate: coef (log hazard ratio), se, hazard_ratio, hr_lo, hr_hi
        (Wald interval at ``level``), z and the two-sided Wald p-value (statsmodels PHReg's
        ``params``, ``bse``, ``conf_int``, ``pvalues`` under Breslow ties)."""
        from scipy import stats

        if not self._fitted:
            raise InvalidArgument("CoxModel.summary: the model is not fitted")
        b, se = self.model.coef, self.model.standard_errors
        q = stats.norm.ppf(0.5 + level / 2)
        z = b / se
        return pd.DataFrame({"feature": self.features, "coef": b, "se": se, "hazard_ratio": np.exp(b),
                             "hr_lo": np.exp(b - q * se), "hr_hi": np.exp(b + q * se), "z": z,
                             "p": 2 * stats.norm.sf(np.abs(z))})

    def concordance(self, df: pd.DataFrame, start: str = "start", stop: str = "stop", event: str = "event") -> dict:
        """Harrell's C-index of the log relative hazard on counting-process rows
        (:func:`concordance_index`)."""
        from ._survival import concordance_index

        return concordance_index(df[start], df[stop], df[event], self.predict_log_hazard(df))

    def absolute_risk(self, df: pd.DataFrame, horizon: float, at: str = "stop") -> np.ndarray:
        """P(event in (t, t + horizon]) per row, t = ``df[at]``, with the row's covariates
        held over the horizon: 1 − exp(−exp(x·β)·(H0(t + horizon) − H0(t))), H0 the
        Breslow baseline (a right-continuous step function). Past the training follow-up
        H0 stays flat, so risks there are underestimated: predict within it."""
        if self.baseline is None:
            raise InvalidArgument("CoxModel.absolute_risk: the model has no baseline hazard (a file written before "
                                  "it was saved): refit it")
        if not horizon > 0:
            raise InvalidArgument(f"CoxModel.absolute_risk: horizon must be > 0, got {horizon}")
        t = df[at].to_numpy(dtype=float)
        bt, bh = self.baseline["time"].to_numpy(), np.r_[0.0, self.baseline["cumulative_hazard"].to_numpy()]
        h = bh[np.searchsorted(bt, t + horizon, side="right")] - bh[np.searchsorted(bt, t, side="right")]
        return 1.0 - np.exp(-np.exp(self.predict_log_hazard(df)) * h)

    @property
    def coef(self) -> np.ndarray:
        return self.model.coef

    def predict_log_hazard(self, df: pd.DataFrame) -> np.ndarray:
        """Log relative hazard x·β per row."""
        if not self._fitted:
            raise InvalidArgument("CoxModel.predict_log_hazard: the model is not fitted")
        return self.model.predict_log_hazard(self._x(df, "predict_log_hazard"))

    def save(self, path: Union[str, Path]) -> Path:
        if not self._fitted:
            raise InvalidArgument("CoxModel.save: the model is not fitted")
        return write_json(path, {
            "format": self.FORMAT, "format_version": FORMAT_VERSION, "sportsmed_version": _version(),
            "features": self.features, "ties": "breslow", "coef": self.model.coef.tolist(),
            "standard_errors": self.model.standard_errors.tolist(), "log_likelihood": self.model.log_likelihood,
            "training": self.training,
            **({"baseline": {"time": self.baseline["time"].tolist(), "hazard": self.baseline["hazard"].tolist()}}
               if self.baseline is not None else {})})

    @classmethod
    def load(cls, path: Union[str, Path]) -> "CoxModel":
        """Reads a file written by :meth:`save`.

        Raises
        ------
        sportsmed.FormatError
            Not a Cox model file, another format version, or coefficients that do not
            match the features.
        """
        d = read_json(path, cls.FORMAT, "CoxModel.load")
        check(d, _COX_SCHEMA, "CoxModel.load", path)
        try:
            m = cls(d["features"])
        except InvalidArgument as exc:
            raise FormatError(f"CoxModel.load: '{path}': {exc}") from None
        coef = np.asarray(d["coef"], dtype=float)
        if coef.shape != (len(m.features),):
            raise FormatError(f"CoxModel.load: '{path}' has {coef.size} coefficients for {len(m.features)} features")
        se = np.asarray(d.get("standard_errors", np.full(coef.size, np.nan)), dtype=float)
        if se.shape != coef.shape:
            raise FormatError(f"CoxModel.load: '{path}' has {se.size} standard errors for {coef.size} coefficients")
        m.model.set_coefficients(coef, se, float(d.get("log_likelihood", np.nan)))
        m.training = d.get("training", {})
        if "baseline" in d:
            bt, bh = np.asarray(d["baseline"]["time"], float), np.asarray(d["baseline"]["hazard"], float)
            if bt.shape != bh.shape or np.any(np.diff(bt) <= 0):
                raise FormatError(f"CoxModel.load: '{path}': node baseline must hold increasing times and as many "
                                  "hazards")
            m.baseline = pd.DataFrame({"time": bt, "hazard": bh, "cumulative_hazard": np.cumsum(bh)})
        m._fitted = True
        return m


class Calibrator:
    """A Platt or isotonic calibrator with a versioned file.

    Parameters
    ----------
    method
        ``"platt"`` (on the score as given: pass log-odds) or ``"isotonic"``.
    score
        Name of the score it calibrates (e.g. the model file it belongs to); checked by
        :meth:`predict` when given.
    """

    FORMAT = "sportsmed-risk-calibrator"

    def __init__(self, method: str = "isotonic", score: Optional[str] = None):
        if method not in ("platt", "isotonic"):
            raise InvalidArgument(f"Calibrator: method must be 'platt' or 'isotonic', got {method!r}")
        self.method = method
        self.score = score
        self.model = _r.PlattCalibration() if method == "platt" else _r.IsotonicCalibration()
        self._fitted = False

    def fit(self, score, y) -> "Calibrator":
        """Fits on validation-fold scores and 0/1 outcomes (never the rows it will judge)."""
        self.model.fit(np.asarray(score, dtype=float), np.asarray(y, dtype=float))
        self._fitted = True
        return self

    def predict(self, score, score_name: Optional[str] = None) -> np.ndarray:
        """Calibrated probabilities; ``score_name``, when given, must equal the name the
        calibrator was fitted for."""
        if not self._fitted:
            raise InvalidArgument("Calibrator.predict: the calibrator is not fitted")
        if score_name is not None and self.score is not None and score_name != self.score:
            raise InvalidArgument(f"Calibrator.predict: fitted for score {self.score!r}, given {score_name!r}")
        return self.model.predict(np.asarray(score, dtype=float))

    def save(self, path: Union[str, Path]) -> Path:
        if not self._fitted:
            raise InvalidArgument("Calibrator.save: the calibrator is not fitted")
        if self.method == "platt":
            params = {"slope": self.model.slope, "intercept": self.model.intercept}
        else:
            params = {"x": self.model.x.tolist(), "y": self.model.y.tolist()}
        return write_json(path, {"format": self.FORMAT, "format_version": FORMAT_VERSION,
                                 "sportsmed_version": _version(), "method": self.method, "score": self.score,
                                 "params": params})

    @classmethod
    def load(cls, path: Union[str, Path]) -> "Calibrator":
        """Reads a file written by :meth:`save` (FormatError for other files or versions)."""
        d = read_json(path, cls.FORMAT, "Calibrator.load")
        check(d, _CALIBRATOR_SCHEMA, "Calibrator.load", path)
        c = cls(d["method"], d.get("score"))
        p = d["params"]
        check(p, _CALIBRATOR_PARAMS[c.method], "Calibrator.load", path, "params")
        try:
            if c.method == "platt":
                c.model.set(float(p["slope"]), float(p["intercept"]))
            else:
                x, y = np.asarray(p["x"], dtype=float), np.asarray(p["y"], dtype=float)
                if x.shape != y.shape:
                    raise FormatError(f"Calibrator.load: '{path}' has isotonic x and y of different lengths")
                c.model.set(x, y)
        except InvalidArgument as exc:
            raise FormatError(f"Calibrator.load: '{path}': {exc}") from None
        c._fitted = True
        return c
