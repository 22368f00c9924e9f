"""Cox summary, C-index, Breslow baseline, absolute risk and Kaplan–Meier against
statsmodels and brute-force definitions; `risk train --model cox` (issue 20, item 5)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")
PHReg = pytest.importorskip("statsmodels.duration.hazard_regression").PHReg
SurvfuncRight = pytest.importorskip("statsmodels.duration.survfunc").SurvfuncRight
from test_risk_cox import counting_process  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    start, stop, event, x = counting_process(0)
    df = pd.DataFrame(x, columns=["a", "b", "c"]).assign(start=start, stop=stop, event=event)
    m = risk.CoxModel(["a", "b", "c"]).fit(df)
    ref = PHReg(stop, x, status=event, entry=start, ties="breslow").fit()
    return df, m, ref


def test_summary_equals_statsmodels_phreg(fitted):
    df, m, ref = fitted
    s = m.summary()
    np.testing.assert_allclose(s["coef"], ref.params, atol=1e-5)
    np.testing.assert_allclose(s["se"], ref.bse, rtol=1e-4)
    np.testing.assert_allclose(s["hazard_ratio"], np.exp(ref.params), rtol=1e-5)
    ci = np.exp(ref.conf_int())
    np.testing.assert_allclose(s[["hr_lo", "hr_hi"]], ci, rtol=1e-4)
    np.testing.assert_allclose(s["p"], ref.pvalues, rtol=1e-2)  # p ~ 1e-21 .. 1e-5: relative agreement
    assert list(s["feature"]) == ["a", "b", "c"]


def _brute_c(start, stop, event, s):
    conc = tied = pairs = 0
    for i in range(len(stop)):
        if event[i] != 1:
            continue
        for j in range(len(stop)):
            if j == i or not (start[j] < stop[i] <= stop[j]) or (stop[j] == stop[i] and event[j] == 1):
                continue
            pairs += 1
            conc += s[i] > s[j]
            tied += s[i] == s[j]
    return (conc + 0.5 * tied) / pairs, pairs


def test_c_index_equals_brute_force(fitted):
    df, m, _ = fitted
    sub = df.iloc[:400]
    score = np.round(m.predict_log_hazard(sub), 1)  # ties in the score count one half
    c = risk.concordance_index(sub["start"], sub["stop"], sub["event"], score)
    ref, pairs = _brute_c(*(sub[k].to_numpy() for k in ("start", "stop", "event")), score)
    assert c["c_index"] == pytest.approx(ref, abs=1e-12) and c["pairs"] == pairs and c["tied"] > 0
    assert 0.7 < m.training["c_index"] < 0.85  # the simulated hazard is strong
    # one row per subject, no ties: Harrell's C = share of ordered event pairs
    rng = np.random.default_rng(3)
    t = rng.permutation(60).astype(float) + 1
    e = (rng.random(60) < 0.7).astype(float)
    sc = -t + rng.normal(0, 20, 60)
    ref1, _ = _brute_c(np.zeros(60), t, e, sc)
    assert risk.concordance_index(np.zeros(60), t, e, sc)["c_index"] == pytest.approx(ref1)


def test_breslow_baseline_and_absolute_risk(fitted):
    df, m, ref = fitted
    times, cum_before, _ = ref.baseline_cumulative_hazard[0]  # statsmodels: H0 just before each time
    b = m.baseline
    np.testing.assert_allclose(b["time"], times)
    np.testing.assert_allclose(b["cumulative_hazard"] - b["hazard"], cum_before, rtol=1e-4, atol=1e-9)
    # absolute risk by its definition, summing statsmodels' increments over (t, t+h]
    inc = np.diff(np.r_[cum_before, cum_before[-1] + b["hazard"].iloc[-1]])
    rows = df.iloc[::25]
    eta = rows[["a", "b", "c"]].to_numpy() @ ref.params
    for h in (3.0, 7.0):
        want = [1 - np.exp(-np.exp(e) * inc[(times > t) & (times <= t + h)].sum()) for e, t in zip(eta, rows["stop"])]
        np.testing.assert_allclose(m.absolute_risk(rows, h), want, rtol=1e-4, atol=1e-9)


def test_baseline_round_trip_and_old_files(fitted, tmp_path):
    df, m, _ = fitted
    path = m.save(tmp_path / "cox.json")
    back = risk.CoxModel.load(path)
    np.testing.assert_allclose(back.absolute_risk(df.iloc[:50], 7.0), m.absolute_risk(df.iloc[:50], 7.0), rtol=1e-12)
    doc = json.loads(path.read_text())
    del doc["baseline"]
    path.write_text(json.dumps(doc))
    old = risk.CoxModel.load(path)
    assert old.summary()["coef"].tolist() == pytest.approx(m.coef.tolist())
    with pytest.raises(sportsmed.InvalidArgument, match="no baseline hazard"):
        old.absolute_risk(df, 7.0)
    doc["baseline"] = {"time": [2.0, 1.0], "hazard": [0.1, 0.1]}
    path.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="baseline"):
        risk.CoxModel.load(path)


@pytest.mark.parametrize("truncated", [False, True])
def test_kaplan_meier_equals_statsmodels(truncated):
    rng = np.random.default_rng(0)
    t = rng.integers(1, 30, 200).astype(float)
    e = (rng.random(200) < 0.6).astype(float)
    entry = np.floor(t * rng.random(200) * 0.5) if truncated else None
    km = risk.kaplan_meier(t, e, entry)
    sf = SurvfuncRight(t, e, entry=entry)
    np.testing.assert_allclose(km["time"], sf.surv_times)
    np.testing.assert_allclose(km["survival"], sf.surv_prob, atol=1e-12)
    np.testing.assert_allclose(km["se"], sf.surv_prob_se, atol=1e-12)
    np.testing.assert_array_equal(km["at_risk"], sf.n_risk)
    assert (km["lo"] <= km["survival"]).all() and (km["survival"] <= km["hi"]).all()
    fig = risk.plot_kaplan_meier({"all": km})
    assert len(fig.axes[0].lines) == 1


def test_counting_process_rows_by_hand():
    df = pd.DataFrame({"athlete": ["a"] * 6 + ["b"] * 3, "date": pd.to_datetime(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06",
         "2024-01-01", "2024-01-02", "2024-01-03"]),
        "injury": [0, 0, 1, 1, 0, 1, 0, 0, 0], "x": [1.0, 2, 3, 4, 5, 6, 7, np.nan, 9]})
    cp = risk.counting_process(df, ["x"])
    # a: day 1 has no previous day; days 2 (x of day 1), 3 (onset, x of day 2); days 4 and 5
    # follow an injured day (no onset possible: not at risk); day 6 (onset, x of day 5)
    # b: day 2 (x 7); day 3's covariate (day 2) is missing: out
    assert cp[["athlete", "start", "stop", "event", "x"]].values.tolist() == [
        ["a", 1.0, 2.0, 0.0, 1.0], ["a", 2.0, 3.0, 1.0, 2.0], ["a", 5.0, 6.0, 1.0, 5.0],
        ["b", 1.0, 2.0, 0.0, 7.0]]
    ft = risk.first_injury_times(df)
    assert ft.values.tolist() == [["a", 3.0, 1.0], ["b", 3.0, 0.0]]


def test_cli_train_cox_prints_the_summary(tmp_path, capsys):
    out = tmp_path / "cox.json"
    assert main(["risk", "train", "synthetic", "--missing", "zero", "--features", "ewma_acwr,fatigue",
                 "--model", "cox", "--json", "-o", str(out)]) == 0
    rep = json.loads(capsys.readouterr().out)
    df = risk.with_features(risk.complete_days(risk.synthetic_cohort(), policy="zero"))
    cp = risk.counting_process(df, ["ewma_acwr", "fatigue"])
    # rows start on other rows' event days: shift entries inside (start, stop) so that PHReg's
    # risk sets are those of the (start, stop] convention (R, sportsmed)
    ref = PHReg(cp["stop"], cp[["ewma_acwr", "fatigue"]], status=cp["event"], entry=cp["start"] + 0.5,
                ties="breslow").fit()
    np.testing.assert_allclose([r["hazard_ratio"] for r in rep["summary"]], np.exp(ref.params), rtol=1e-5)
    assert rep["events"] == int(cp["event"].sum()) and risk.CoxModel.load(out).features == ["ewma_acwr", "fatigue"]
    assert main(["risk", "train", "synthetic", "--missing", "zero", "--features", "ewma_acwr", "--model", "cox",
                 "--validate", "grouped", "--replicates", "50", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "hazard_ratio" in text and "C-index" in text and "out-of-fold C-index" in text
    v = json.loads(out.read_text())["training"]["validation"]
    assert v["scheme"] == "grouped" and 0.5 < v["c_index"] < 1 and v["replicates"] == 50


def test_grouped_cox_validation_equals_statsmodels_folds():
    df = risk.with_features(risk.complete_days(risk.synthetic_cohort(athletes=10, days=150, seed=4), policy="zero"))
    cp = risk.counting_process(df, ["ewma_acwr", "fatigue"])
    v = risk.evaluate_cox(cp, ["ewma_acwr", "fatigue"], k=5, seed=1, replicates=50)
    codes = pd.factorize(cp["athlete"])[0]
    folds = risk.grouped_kfold(codes.astype(np.int64), 5, 1)
    eta = np.empty(len(cp))
    x = cp[["ewma_acwr", "fatigue"]].to_numpy()
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        ref = PHReg(cp["stop"][tr], x[tr], status=cp["event"][tr], entry=cp["start"][tr] + 0.5,
                    ties="breslow").fit()
        eta[te] = x[te] @ ref.params
        assert not set(cp.loc[te, "athlete"]) & set(cp.loc[tr, "athlete"])  # whole athletes per fold
    c, _ = _brute_c(cp["start"].to_numpy(), cp["stop"].to_numpy(), cp["event"].to_numpy(), eta)
    assert v["c_index"] == pytest.approx(c, abs=1e-6)
    assert v["c_index_lo"] < v["c_index"] < v["c_index_hi"] and v["events"] == int(cp["event"].sum())
    assert len(v["per_fold"]) == 5
    # the bootstrap, written out: resample athletes (the same draws), recompute C by brute force
    rng = np.random.default_rng(1)
    ids = pd.factorize(cp["athlete"])[0]
    n = ids.max() + 1
    boot = []
    for _ in range(50):
        pick = rng.integers(0, n, n)
        idx = np.concatenate([np.flatnonzero(ids == a) for a in pick])
        sub = cp.iloc[idx]
        if sub["event"].sum():
            boot.append(risk.concordance_index(sub["start"], sub["stop"], sub["event"], eta[idx])["c_index"])
    assert v["c_index_lo"] == pytest.approx(np.quantile(boot, 0.025), abs=1e-6)
    assert v["c_index_hi"] == pytest.approx(np.quantile(boot, 0.975), abs=1e-6)
