"""The risk estimators follow scikit-learn's estimator protocol: Pipeline, GridSearchCV,
check_estimator, and the same numbers as scikit-learn's own LogisticRegression
(issue 20, item 5)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

risk = pytest.importorskip("sportsmed.risk")


def _data(seed=0, n=600):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + [0, 10, 0]
    eta = -1.0 + x[:, 0] - 0.2 * (x[:, 1] - 10) + 3 * x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    groups = np.repeat(np.arange(n // 20), 20)  # "athletes"
    return x, y, groups


@pytest.mark.parametrize("est", [risk.LogisticRiskClassifier(C=0.5),
                                 risk.BoostedRiskClassifier(n_estimators=10, n_threads=1)],
                         ids=["logistic", "boosting"])
def test_check_estimator(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(est)


def test_logistic_equals_sklearn_and_has_its_attributes():
    x, y, _ = _data()
    labels = np.array(["healthy", "injured"])[y]
    ours = risk.LogisticRiskClassifier(C=0.3).fit(x, labels)
    ref = LogisticRegression(C=0.3, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(x, labels)
    assert list(ours.classes_) == ["healthy", "injured"] and ours.coef_.shape == (1, 3)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
    p = ours.predict_proba(x)
    assert p.shape == (len(x), 2)
    np.testing.assert_allclose(p, ref.predict_proba(x), atol=1e-7)
    assert (ours.predict(x) == ref.predict(x)).all()
    assert ours.get_params()["C"] == 0.3 and ours.set_params(C=2.0).C == 2.0


def test_pipeline_and_grid_search_match_sklearn():
    x, y, groups = _data(1)
    grid = {"clf__C": [0.01, 0.1, 1.0, 10.0]}
    cv = list(GroupKFold(4).split(x, y, groups))  # whole athletes per fold

    def search(clf):
        pipe = Pipeline([("scale", StandardScaler()), ("clf", clf)])
        return GridSearchCV(pipe, grid, scoring="roc_auc", cv=cv).fit(x, y)

    ours = search(risk.LogisticRiskClassifier())
    ref = search(LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000))
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], atol=1e-9)
    assert ours.best_params_ == ref.best_params_
    np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(x), atol=1e-6)


def test_boosting_equals_the_compiled_model_and_pickles():
    x, y, groups = _data(2)
    est = risk.BoostedRiskClassifier(n_estimators=20, max_depth=2, n_threads=1).fit(x, y)
    ref = risk.GradientBoosting(n_estimators=20, max_depth=2, n_threads=1).fit(np.ascontiguousarray(x),
                                                                             y.astype(float))
    np.testing.assert_allclose(est.predict_proba(x)[:, 1], ref.predict_proba(np.ascontiguousarray(x)), atol=1e-12)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(back.predict_proba(x), est.predict_proba(x), atol=1e-12)
    cv = list(GroupKFold(3).split(x, y, groups))
    gs = GridSearchCV(make_pipeline(StandardScaler(), clone(est)),
                      {"boostedriskclassifier__max_depth": [1, 3]}, scoring="roc_auc", cv=cv).fit(x, y)
    # the grid's scores, refitted by hand
    from sklearn.metrics import roc_auc_score

    for i, depth in enumerate([1, 3]):
        scores = []
        for tr, te in cv:
            m = make_pipeline(StandardScaler(), risk.BoostedRiskClassifier(
                n_estimators=20, max_depth=depth, n_threads=1)).fit(x[tr], y[tr])
            scores.append(roc_auc_score(y[te], m.predict_proba(x[te])[:, 1]))
        assert gs.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(scores), abs=1e-12)


def test_multiclass_is_refused():
    x, y, _ = _data()
    with pytest.raises(ValueError, match="two classes"):
        risk.LogisticRiskClassifier().fit(x, y + (np.arange(len(y)) % 3 == 0))
