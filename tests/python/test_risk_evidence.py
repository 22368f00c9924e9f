"""Issue 20 items 1 and 4: evidence counts beside every AUC, unreliable intervals flagged,
repeated grouped CV, and leakage guards (purge vs horizon, test_start, season start)."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")


def _null_coverage(rng, athletes_with_events, events, sims, athletes=30, days=80, run=5, replicates=300):
    """Share of null data sets (score independent of the label; athlete random effect in
    the score; each event a run of ``run`` positive days) whose 95 % athlete-cluster
    bootstrap interval of the AUC covers 0.5."""
    a = np.repeat(np.arange(athletes), days)
    covered = 0
    for s in range(sims):
        score = rng.normal(0, 1, athletes)[a] + rng.normal(0, 1, len(a))
        y = np.zeros(len(a))
        carriers = rng.choice(athletes, athletes_with_events, replace=False)
        per = np.full(athletes_with_events, events // athletes_with_events)
        per[: events % athletes_with_events] += 1
        slots = np.arange(0, days - run, run + 3)
        for c, e in zip(carriers, per):
            for st in rng.choice(slots, e, replace=False):
                y[c * days + st: c * days + st + run] = 1
        b = risk.cluster_bootstrap(y, score, a.astype(np.int64), "roc_auc", replicates, 0.95, s)
        covered += b["lower"] <= 0.5 <= b["upper"]
    return covered / sims


def test_null_coverage_motivates_the_minimum():
    t0 = time.perf_counter()
    rng = np.random.default_rng(20)
    at_minimum = _null_coverage(rng, risk.MIN_ATHLETES_WITH_EVENTS, risk.MIN_EVENTS, 200)
    below = _null_coverage(rng, 3, 5, 200)  # the case: 3 athletes carrying 4-5 episodes
    print(f"null coverage: {at_minimum:.3f} at the minimum ({risk.MIN_ATHLETES_WITH_EVENTS} athletes, "
          f"{risk.MIN_EVENTS} events), {below:.3f} with 3 athletes and 5 events")
    assert at_minimum >= 0.90
    assert below < 0.86 and below < at_minimum - 0.05
    assert time.perf_counter() - t0 < 20


def test_evidence_counts_episodes_not_rows():
    dates = pd.date_range("2024-01-01", periods=10)
    athlete = ["a"] * 10 + ["b"] * 10
    y = np.zeros(20)
    y[[1, 2, 3, 6, 7]] = 1  # a: two runs = two episodes
    y[[15]] = 1  # b: one episode
    e = risk.evidence(athlete, list(dates) * 2, y)
    assert (e["rows"], e["positives"], e["events"], e["athletes"], e["athletes_with_events"]) == (20, 6, 3, 2, 2)
    assert e["interval_reliable"] is False and "interval unreliable" in e["warning"]


@pytest.fixture(scope="module")
def cohort():
    df = risk.synthetic_cohort(athletes=24, days=300, seed=3)
    return risk.with_features(risk.complete_days(df, policy="zero"), horizon_days=7)


FEATS = ["ewma_acwr", "fatigue", "monotony"]


def test_every_evaluation_reports_its_evidence(cohort):
    ev = risk.evaluate(cohort, FEATS, "y", k=4, replicates=50)
    row = ev.table.set_index("model").loc["model"]
    for c in ("n", "positives", "events", "athletes", "athletes_with_events", "interval_reliable"):
        assert c in ev.table.columns
    assert row["athletes"] == 24 and row["events"] <= row["positives"]
    assert len(ev.folds) == 4
    assert ev.folds["rows"].sum() == row["n"] and ev.folds["events"].sum() == row["events"]
    assert ev.folds["athletes"].sum() == 24
    assert ev.evidence["events"] == row["events"]
    assert bool(row["interval_reliable"]) == (row["events"] >= risk.MIN_EVENTS
                                               and row["athletes_with_events"] >= risk.MIN_ATHLETES_WITH_EVENTS)


def test_few_events_flag_the_interval(cohort):
    few = cohort.copy()
    keep = few["athlete"].isin(few["athlete"].unique()[:2])
    # test period where only two athletes carry an event
    few.loc[~keep & (few["date"] >= "2024-09-01"), "y"] = 0.0
    with pytest.warns(risk.EvidenceWarning, match="interval unreliable"):
        ev = risk.evaluate(few, FEATS, "y", scheme="temporal", test_start="2024-09-01", replicates=50)
    assert not ev.table["interval_reliable"].any()
    assert ev.evidence["athletes_with_events"] <= 2 and ev.warning


def test_repeated_grouped_cv_reports_the_spread(cohort):
    ev = risk.evaluate(cohort, FEATS, "y", k=4, replicates=20, repeats=4, seed=1)
    assert list(ev.repeats["seed"]) == [1, 2, 3, 4]
    assert ev.repeats["roc_auc"].iloc[0] == pytest.approx(ev.table["roc_auc"].iloc[0])
    assert ev.spread["roc_auc_min"] <= ev.spread["roc_auc_median"] <= ev.spread["roc_auc_max"]
    assert ev.spread["roc_auc_min"] < ev.spread["roc_auc_max"]  # the partition matters
    with pytest.raises(sportsmed.InvalidArgument, match="repeats"):
        risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="2024-09-01", repeats=3)


def test_purge_shorter_than_horizon_is_refused(cohort):
    with pytest.raises(sportsmed.InvalidArgument, match="shorter than the label horizon"):
        risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="2024-09-01", purge_days=3)
    df = cohort.rename(columns={"y": "injury_within_14d"})
    with pytest.raises(sportsmed.InvalidArgument, match="horizon of 14"):
        risk.evaluate(df, FEATS, "injury_within_14d", scheme="temporal", test_start="2024-09-01", purge_days=7)
    ev = risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="2024-09-01", replicates=20)
    assert ev.purge_days == 7  # follows the horizon
    assert ev.checks[0]["min_gap_days"] >= 8


def test_test_start_outside_the_table_is_a_clear_error(cohort):
    with pytest.raises(sportsmed.InvalidArgument, match="after the last labelled day"):
        risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="2031-01-01")
    with pytest.raises(sportsmed.InvalidArgument, match="no training day"):
        risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="2000-01-01")
    with pytest.raises(sportsmed.InvalidArgument, match="not a date"):
        risk.evaluate(cohort, FEATS, "y", scheme="temporal", test_start="soon")


def test_season_start_crosses_the_new_year():
    from sportsmed.risk._evaluate import _season_of

    d = pd.Series(pd.to_datetime(["2020-06-30", "2020-07-01", "2021-01-15", "2021-07-01"]))
    assert list(_season_of(d, "07-01")) == [2019, 2020, 2020, 2021]
    assert list(_season_of(d, "01-01")) == [2020, 2020, 2021, 2021]
    with pytest.raises(sportsmed.InvalidArgument, match="MM-DD"):
        _season_of(d, "July")


def test_cli_reports_evidence_and_flags(cohort, tmp_path, capsys):
    path = tmp_path / "log.csv"
    raw = risk.synthetic_cohort(athletes=24, days=300, seed=3).drop(columns=["p_true"])
    raw.to_csv(path, index=False, date_format="%Y-%m-%d")
    args = ["risk", "evaluate", str(path), "--missing", "zero", "--features", ",".join(FEATS), "--replicates", "30"]
    assert main(args + ["--json", "--repeats", "3", "--folds", "4"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert {"events", "athletes", "athletes_with_events", "rows"} <= set(rep["evidence"])
    assert len(rep["folds"]) == 4 and "events" in rep["folds"][0]
    assert rep["spread"]["repeats"] == 3 and "interval_reliable" in rep["table"][0]
    assert main(args + ["--scheme", "temporal", "--test-start", "2024-09-01"]) == 0
    out = capsys.readouterr().out
    assert "test set:" in out and "events" in out and "per test fold:" in out and "purge 7 d" in out
    assert main(args + ["--scheme", "temporal", "--test-start", "2024-09-01", "--purge", "3"]) == 1
    assert "shorter than the label horizon" in capsys.readouterr().err
    assert main(args + ["--scheme", "temporal", "--test-start", "2031-01-01"]) == 1
    assert "after the last labelled day" in capsys.readouterr().err
    assert main(args + ["--scheme", "random", "--folds", "3"]) == 0
    assert "WARNING: leakage" in capsys.readouterr().out  # stdout, not only stderr
    model = tmp_path / "m.json"
    assert main(["risk", "train", str(path), "--missing", "zero", "--features", ",".join(FEATS), "-o", str(model),
                 "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["evidence"]["athletes"] == 24 and "events (injury episodes)" in cap.err


def test_soccermon_temporal_one_athlete_is_flagged(soccermon_table):
    df = soccermon_table
    feats = ["acwr_coupled", "ewma_acwr", "monotony", "strain", "load_7d", "load_28d", "fatigue", "mood",
             "readiness", "sleep_quality", "soreness", "stress"]
    with pytest.warns(risk.EvidenceWarning, match="interval unreliable"):
        ev = risk.evaluate(df, feats, "y", scheme="temporal", test_start="2021-10-01", purge_days=7,
                           replicates=300)
    row = ev.table.set_index("model").loc["model"]
    print(ev.table.to_string(), ev.evidence)
    assert row["positives"] == 7 and row["athletes_with_events"] == 1 and row["events"] == 1
    assert not row["interval_reliable"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", risk.EvidenceWarning)
        grouped = risk.evaluate(df, feats, "y", scheme="grouped", k=5, replicates=100)
    assert grouped.evidence["interval_reliable"], grouped.evidence
