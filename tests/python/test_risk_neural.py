"""LibTorch risk models: past-only windows, oracle AUC on the synthetic squad, integrated
gradients, persistence, concurrent prediction."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

risk = pytest.importorskip("sportsmed.risk")
import sportsmed  # noqa: E402

FEATURES = ["ewma_acwr", "fatigue", "acwr_coupled", "monotony", "load_7d"]


def _cohort(athletes, days, seed=0):
    df = risk.synthetic_cohort(athletes=athletes, days=days, seed=seed)
    df = df.join(risk.workload(df).drop(columns=["athlete", "date"]))
    df["y"] = risk.injury_labels(df, 1)
    return df


@pytest.fixture(scope="module")
def cohort():
    return _cohort(60, 730)


@pytest.fixture(scope="module")
def small():
    return _cohort(12, 240, seed=3)


def test_lagged_features_equal_a_pandas_lookup_of_earlier_days(small):
    df = small.sample(frac=1.0, random_state=1).drop(index=small.index[5:9])  # shuffled, with a gap
    lag = risk.lagged_features(df, ["daily_load", "fatigue"], 4)
    indexed = df.set_index(["athlete", "date"])
    for k in range(4):
        key = pd.MultiIndex.from_arrays([df["athlete"], df["date"] - pd.Timedelta(days=k)])
        for f in ["daily_load", "fatigue"]:
            ref = indexed[f].reindex(key).to_numpy()
            np.testing.assert_array_equal(lag[f"{f}@t-{k}"].to_numpy(), ref)
    assert list(lag.columns[:2]) == ["daily_load@t-3", "fatigue@t-3"]
    with pytest.raises(sportsmed.InvalidArgument):
        risk.lagged_features(pd.concat([df, df.iloc[:1]]), ["fatigue"], 3)  # two rows on one day


@pytest.mark.parametrize("model,k,params", [
    ("mlp", 5, {}),
    ("cnn", 5, {"window_days": 7, "channels": 8}),
])
def test_neural_models_reach_the_oracle_auc_and_calibrate(cohort, model, k, params):
    ev = risk.evaluate(cohort, FEATURES, "y", scheme="grouped", k=k, model=model, replicates=100, neural=params)
    pred = ev.predictions.merge(cohort[["athlete", "date", "p_true"]], on=["athlete", "date"])
    oracle = risk.roc_auc(pred["y"].to_numpy(), pred["p_true"].to_numpy())
    auc = ev.table.set_index("model").loc["model", "roc_auc"]
    print(f"{model}: AUC {auc:.4f}, oracle {oracle:.4f}, difference {auc - oracle:+.4f}")
    assert auc > oracle - 0.02
    assert auc < oracle + 0.01
    ece = risk.reliability_curve(pred["y"].to_numpy(), risk.calibrate(ev, "isotonic"))["ece"]
    assert ece <= 0.02


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_risk_model_round_trip_explain_and_threads(small, tmp_path, kind):
    params = {"max_epochs": 4, "hidden": [8]} if kind == "mlp" else {"max_epochs": 4, "window_days": 5, "channels": 4}
    m = risk.RiskModel(FEATURES, kind, **params).fit(small, "y")
    p = m.predict(small)
    assert p.shape == (len(small),) and np.all((p > 0) & (p < 1))

    # integrated gradients: each row sums to the logit (completeness), baseline = f(training mean)
    e = m.explain(small.iloc[:300])
    logit = np.log(p[:300] / (1 - p[:300]))
    np.testing.assert_allclose(e.sum(axis=1).to_numpy(), logit, atol=1e-9)
    assert list(e.columns) == FEATURES + ["baseline"]

    path = m.save(tmp_path / "model.json")
    d = json.loads(path.read_text())
    assert d["kind"] == kind and d["features"] == FEATURES and d["format_version"] == 1
    back = risk.RiskModel.load(path)
    np.testing.assert_array_equal(back.predict(small), p)
    np.testing.assert_array_equal(back.explain(small.iloc[:300]).to_numpy(), e.to_numpy())

    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: back.predict(small), range(8)))
    for o in outs:
        np.testing.assert_array_equal(o, p)

    with pytest.raises(sportsmed.InvalidArgument):
        back.predict(small.drop(columns=["fatigue"]))
    d["model"]["tensors"][0]["shape"] = [1, 1]
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(sportsmed.FormatError):
        risk.RiskModel.load(tmp_path / "bad.json")
    d["format_version"] = 99
    (tmp_path / "v99.json").write_text(json.dumps(d))
    with pytest.raises(sportsmed.FormatError):
        risk.RiskModel.load(tmp_path / "v99.json")


def test_cnn_needs_the_athlete_history_and_neural_inputs_must_be_finite(small):
    m = risk.RiskModel(FEATURES, "cnn", max_epochs=2, window_days=3, channels=2).fit(small, "y")
    with pytest.raises(sportsmed.InvalidArgument):
        m.predict(small[FEATURES].to_numpy(), feature_names=FEATURES)
    # the window of a day does not depend on later days
    cut = small[small["date"] <= small["date"].min() + pd.Timedelta(days=100)]
    np.testing.assert_array_equal(m.predict(cut), m.predict(small)[small.index.isin(cut.index)])
    net = risk.NeuralRiskModel(hidden=[4], max_epochs=2)
    x = np.random.default_rng(0).normal(size=(100, 3))
    y = (np.arange(100) % 5 == 0).astype(float)
    x[3, 1] = np.nan
    with pytest.raises(sportsmed.InvalidArgument):
        net.fit(x, y)
    with pytest.raises(sportsmed.InvalidArgument):
        risk.NeuralRiskModel(architecture="rnn")


def test_cli_train_predict_explain_cnn(tmp_path, capsys):
    from sportsmed.cli import main

    log = tmp_path / "log.csv"
    risk.synthetic_cohort(athletes=10, days=200, seed=4).drop(columns=["p_true"]).to_csv(
        log, index=False, date_format="%Y-%m-%d")
    model = tmp_path / "cnn.json"
    base = ["--missing", "zero", "--features", "ewma_acwr,fatigue", "--horizon", "3"]
    assert main(["risk", "train", str(log), *base, "--model", "cnn", "--window", "5", "--epochs", "3",
                 "-o", str(model)]) == 0
    loaded = risk.RiskModel.load(model)
    assert loaded.kind == "cnn" and loaded.params["window_days"] == 5
    capsys.readouterr()
    assert main(["risk", "explain", str(model), str(log), "--missing", "zero", "--who", "S02",
                 "--at", "2024-03-01"]) == 0
    text = capsys.readouterr().out
    df = risk.with_features(risk.complete_days(risk.read_table(log), policy="zero"), horizon_days=3)
    hist = df[df["athlete"] == "S02"]
    p = loaded.predict(hist)[np.flatnonzero(hist["date"] == pd.Timestamp("2024-03-01"))[0]]
    assert text.startswith(f"S02 on 2024-03-01: risk of injury within 3 days {p:.4f}")


def test_guard_warns_when_normalisation_used_test_rows(small):
    df = small.copy()
    raw = df["fatigue"]
    df["fatigue_z"] = (raw - raw.mean()) / raw.std()  # statistics of every athlete, test ones included
    g = raw.groupby(df["athlete"])
    df["fatigue_za"] = (raw - g.transform("mean")) / g.transform("std", ddof=0)  # each athlete's whole record
    with pytest.warns(risk.LeakageWarning, match="fatigue_z over all rows"):
        ev = risk.evaluate(df, ["fatigue_z", "ewma_acwr"], "y", k=3, replicates=20)
    assert ev.normalised == ["fatigue_z"]
    with pytest.warns(risk.LeakageWarning, match="fatigue_za per athlete"):
        assert risk.check_normalisation(df, ["fatigue_za", "fatigue"]) == ["fatigue_za"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert risk.check_normalisation(df, ["fatigue", "daily_load", "injury"]) == []
        # scaled with training athletes' statistics only: fine
        train = df["athlete"].isin(df["athlete"].unique()[:8]).to_numpy()
        df["fatigue_t"] = (raw - raw[train].mean()) / raw[train].std()
        assert risk.check_normalisation(df, ["fatigue_t"], train=train) == []
