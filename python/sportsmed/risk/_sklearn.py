"""scikit-learn estimators over sportsmed's compiled risk models.

:class:`LogisticRiskClassifier` and :class:`BoostedRiskClassifier` follow the estimator
protocol (``fit(X, y)``, ``predict_proba`` returning n × 2, ``predict``,
``decision_function``, ``classes_``, ``coef_`` / ``intercept_``, ``get_params`` /
``set_params``, ``feature_names_in_``), so they work in ``sklearn.pipeline.Pipeline``,
``GridSearchCV`` and ``cross_val_score``; use ``GroupKFold`` by athlete, never plain
K-fold over athlete-days. :class:`sportsmed.risk.RiskModel` stays the table-based API
(named features, standardisation, persistence) on top of the same compiled models.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._core import risk as _r


class _Binary(ClassifierMixin, BaseEstimator):
    """Binary classifier plumbing: label encoding, validation, the n × 2 probabilities."""

    def _more_tags(self):
        return {"binary_only": True}

    def _core(self):  # pragma: no cover - interface
        raise NotImplementedError

    def fit(self, X, y, sample_weight=None):
        """Fits on X (n × p, finite) and y (two classes, any labels; ``classes_[1]`` is
        the positive class, e.g. 1 = injured). Returns self."""
        X, y = self._validate_data(X, y, dtype=np.float64, order="C", y_numeric=False)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(f"{type(self).__name__}: y must hold exactly two classes (binary), got "
                             f"{len(self.classes_)} class(es)")
        sw = np.zeros(0) if sample_weight is None else np.ascontiguousarray(
            _check_sample_weight(sample_weight, X, dtype=np.float64))
        self.model_ = self._core().fit(X, codes.astype(np.float64), sw)
        return self

    # The compiled models do not pickle (GridSearchCV with n_jobs and joblib do): a
    # fitted estimator travels as its parameters and is rebuilt on unpickling.
    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            state["model_"] = self._dump(state["model_"])
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "model_" in state:
            self.model_ = self._restore(state["model_"], int(state["n_features_in_"]))

    def _x(self, X):
        check_is_fitted(self, "model_")
        return self._validate_data(X, dtype=np.float64, order="C", reset=False)

    def decision_function(self, X):
        """Log-odds of ``classes_[1]`` per row (n,)."""
        x = self._x(X)
        return np.asarray(self.model_.decision_function(x), dtype=float)

    def predict_proba(self, X):
        """(n, 2): P(classes_[0]), P(classes_[1])."""
        x = self._x(X)
        p = np.asarray(self.model_.predict_proba(x), dtype=float)
        return np.c_[1.0 - p, p]

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The more probable class per row (threshold 0.5 on P(classes_[1]))."""
        d = self.decision_function(X)
        return self.classes_[(d > 0).astype(int)]


class LogisticRiskClassifier(_Binary):
    """sportsmed's L2 / elastic-net logistic regression (scikit-learn's objective
    C·Σ logloss + (1−l1_ratio)/2‖w‖² + l1_ratio‖w‖₁, intercept unpenalised) as a
    scikit-learn classifier.

    Attributes
    ----------
    coef_ : (1, p)    intercept_ : (1,)    classes_ : (2,)    n_features_in_
    """

    def __init__(self, C: float = 1.0, l1_ratio: float = 0.0, fit_intercept: bool = True, max_iter: int = 200,
                 tol: float = 1e-10):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _core(self):
        return _r.LogisticRegression(C=float(self.C), l1_ratio=float(self.l1_ratio),
                                     fit_intercept=bool(self.fit_intercept), max_iter=int(self.max_iter),
                                     tol=float(self.tol))

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.coef_ = np.asarray(self.model_.coef, dtype=float).reshape(1, -1)
        self.intercept_ = np.array([float(self.model_.intercept)])
        self.n_iter_ = np.array([int(self.model_.n_iter)])
        return self

    @staticmethod
    def _dump(model):
        return {"coef": np.asarray(model.coef, dtype=float).tolist(), "intercept": float(model.intercept)}

    def _restore(self, d, n_features):
        m = self._core()
        m.set_coefficients(np.asarray(d["coef"], dtype=float), float(d["intercept"]))
        return m


class BoostedRiskClassifier(_Binary):
    """sportsmed's gradient-boosted trees (libxgboost, binary logistic, exact splits) as
    a scikit-learn classifier. ``feature_importances_``: not provided (use TreeSHAP
    contributions through :class:`RiskModel.explain`)."""

    def __init__(self, n_estimators: int = 100, max_depth: int = 3, learning_rate: float = 0.1,
                 subsample: float = 1.0, min_child_weight: float = 1.0, reg_lambda: float = 1.0,
                 scale_pos_weight: float = 1.0, n_threads: int = 0, seed: int = 0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.scale_pos_weight = scale_pos_weight
        self.n_threads = n_threads
        self.seed = seed

    def _core(self):
        return _r.GradientBoosting(n_estimators=int(self.n_estimators), max_depth=int(self.max_depth),
                                   learning_rate=float(self.learning_rate), subsample=float(self.subsample),
                                   min_child_weight=float(self.min_child_weight), reg_lambda=float(self.reg_lambda),
                                   scale_pos_weight=float(self.scale_pos_weight), n_threads=int(self.n_threads),
                                   seed=int(self.seed))

    @staticmethod
    def _dump(model):
        return model.to_json()

    @staticmethod
    def _restore(d, n_features):
        return _r.GradientBoosting.from_json(d, n_features)
