"""Gradient boosting through libxgboost: margins by a hand tree walk, TreeSHAP identities.

python3-xgboost is not installed on these machines, so the reference is the model's own
tree dump walked in numpy, and TreeSHAP's closed form on a stump."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


def _data(seed=0, n=1500, p=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)).astype(np.float32).astype(np.float64)  # exactly representable in float32
    x[rng.random(x.shape) < 0.1] = np.nan
    z = np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 1]) ** 2 + 0.5 * np.nan_to_num(x[:, 2])
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return x, y


def _walk(node, row):
    while "leaf" not in node:
        f = int(node["split"][1:])
        v = row[f]
        if np.isnan(v):
            nxt = node["missing"]
        else:
            nxt = node["yes"] if np.float32(v) < np.float32(node["split_condition"]) else node["no"]
        node = next(c for c in node["children"] if c["nodeid"] == nxt)
    return node["leaf"]


def test_margin_equals_a_hand_walk_of_the_dumped_trees():
    x, y = _data()
    g = risk.GradientBoosting(n_estimators=30, max_depth=3, learning_rate=0.2).fit(x, y)
    trees = [json.loads(t) for t in g.dump_trees()]
    assert len(trees) == 30
    base = float(json.loads(g.to_json())["learner"]["learner_model_param"]["base_score"])
    hand = np.log(base / (1 - base)) + np.array([sum(_walk(t, row) for t in trees) for row in x[:300]])
    np.testing.assert_allclose(g.decision_function(x[:300]), hand, atol=1e-5)
    np.testing.assert_allclose(g.predict_proba(x[:300]), 1 / (1 + np.exp(-hand)), atol=1e-6)


def test_treeshap_sums_to_margin_and_matches_the_stump_closed_form():
    x, y = _data(1)
    g = risk.GradientBoosting(n_estimators=40, max_depth=4).fit(x, y)
    c = g.contributions(x)
    assert c.shape == (len(x), x.shape[1] + 1)
    np.testing.assert_allclose(c.sum(axis=1), g.decision_function(x), atol=1e-4)
    # a single stump: φ_f = leaf(x) − E[leaf], bias = E[leaf] weighted by cover
    s = risk.GradientBoosting(n_estimators=1, max_depth=1).fit(x, y)
    tree = json.loads(s.dump_trees()[0])
    f = int(tree["split"][1:])
    leaves = {ch["nodeid"]: ch for ch in tree["children"]}
    covers = {k: v["cover"] for k, v in leaves.items()}
    expected = sum(covers[k] * leaves[k]["leaf"] for k in leaves) / sum(covers.values())
    cs = s.contributions(x)
    base = float(json.loads(s.to_json())["learner"]["learner_model_param"]["base_score"])
    for row, contrib in zip(x[:50], cs[:50]):
        leaf = _walk(tree, row)
        assert contrib[f] == pytest.approx(leaf - expected, abs=1e-6)
        assert contrib[-1] == pytest.approx(expected + np.log(base / (1 - base)), abs=1e-6)
        others = np.delete(contrib[:-1], f)
        assert np.all(others == 0)


def test_boosting_round_trip_and_concurrent_predictions():
    x, y = _data(2)
    g = risk.GradientBoosting(n_estimators=25).fit(x, y)
    again = risk.GradientBoosting.from_json(g.to_json(), x.shape[1])
    np.testing.assert_array_equal(again.predict_proba(x), g.predict_proba(x))
    serial = g.predict_proba(x)
    out = [None] * 6

    def work(i):
        for _ in range(10):
            out[i] = g.predict_proba(x)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for o in out:
        np.testing.assert_array_equal(o, serial)
    with pytest.raises(sportsmed.InvalidArgument, match="columns"):
        g.predict_proba(x[:, :3])
    with pytest.raises(sportsmed.FormatError):
        risk.GradientBoosting.from_json("{not json", 5)
    with pytest.raises(sportsmed.InvalidArgument, match="single class"):
        risk.GradientBoosting().fit(x, np.zeros(len(x)))
