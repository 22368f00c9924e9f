"""Workload metrics and labels against pandas references on SoccerMon and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")

SOCCERMON = "risk/soccermon/master_dataset.csv"


def _finite(a):
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


def pandas_reference(s: pd.Series, acute=7, chronic=28) -> dict:
    """Independent pandas implementation of each documented formula."""
    a = s.rolling(acute).mean()
    c = s.rolling(chronic).mean()
    older = s.rolling(chronic - acute).mean().shift(acute)
    ea = s.ewm(span=acute, adjust=False).mean()
    ec = s.ewm(span=chronic, adjust=False).mean()
    mono = a / s.rolling(acute).std()
    week = s.rolling(acute).sum()
    change = week - week.shift(acute)
    return {
        "acute_load": a, "chronic_load": c, "acwr_coupled": a / c, "acwr_uncoupled": a / older,
        "ewma_acute": ea, "ewma_chronic": ec, "ewma_acwr": ea / ec, "monotony": mono,
        "strain": week * mono, "week_change": change, "week_change_pct": 100 * change / week.shift(acute),
        "load_7d": s.rolling(7).sum(), "load_14d": s.rolling(14).sum(), "load_21d": s.rolling(21).sum(),
        "load_28d": s.rolling(28).sum(), "load_total": s.fillna(0).cumsum(),
    }


@pytest.fixture(scope="module")
def soccermon_path():
    from conftest import shared_data_dir

    path = shared_data_dir() / SOCCERMON
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent")
    return path


def test_workload_equals_pandas_on_soccermon_to_1e9(soccermon_path):
    df = risk.complete_days(risk.read_table(soccermon_path, athlete="player_id"), policy="zero")
    w = risk.workload(df)
    assert list(w.columns[2:]) == risk.workload_feature_names()
    raw = pd.read_csv(soccermon_path).sort_values(["player_id", "date"]).reset_index(drop=True)
    worst = 0.0
    for player, g in raw.groupby("player_id", sort=True):
        ours = w[w.athlete == player]
        assert len(ours) == len(g) == 731
        ref = pandas_reference(g["daily_load"].reset_index(drop=True))
        for name, expected in ref.items():
            got = ours[name].to_numpy()
            exp = _finite(expected)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(exp), err_msg=f"{player} {name}")
            m = ~np.isnan(exp)
            rel = np.abs(got[m] - exp[m]) / np.maximum(1.0, np.abs(exp[m]))
            worst = max(worst, rel.max(initial=0.0))
    assert worst < 1e-9


def test_missing_day_policies_and_nan_windows_match_pandas():
    df = pd.DataFrame({"athlete": ["a"] * 5 + ["b"] * 3,
                       "date": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-05", "2021-01-06",
                                               "2021-01-09", "2021-03-01", "2021-03-02", "2021-03-04"]),
                       "daily_load": [100.0, 200, 300, 400, 500, 10, 20, 30]})
    t = risk.read_table(df)
    zero = risk.complete_days(t, policy="zero")
    miss = risk.complete_days(t, policy="missing")
    assert len(zero) == 9 + 4
    full = pd.date_range("2021-01-01", "2021-01-09")
    ref_zero = df[df.athlete == "a"].set_index("date")["daily_load"].reindex(full, fill_value=0.0)
    np.testing.assert_array_equal(zero[zero.athlete == "a"]["daily_load"], ref_zero.to_numpy())
    ref_miss = df[df.athlete == "a"].set_index("date")["daily_load"].reindex(full)
    got = miss[miss.athlete == "a"]["daily_load"].to_numpy()
    np.testing.assert_array_equal(np.isnan(got), ref_miss.isna().to_numpy())
    # NaN-aware windows and the EWMA with gaps equal pandas
    w = risk.workload(miss, acute_days=3, chronic_days=6, min_periods=2)
    wa = w[w.athlete == "a"]
    np.testing.assert_allclose(wa["acute_load"], ref_miss.rolling(3, min_periods=2).mean(), rtol=1e-12)
    np.testing.assert_allclose(wa["ewma_chronic"], ref_miss.ewm(span=6, adjust=False).mean(), rtol=1e-12)
    np.testing.assert_allclose(risk.rolling_std(ref_miss.to_numpy(), 4, 2),
                               ref_miss.rolling(4, min_periods=2).std(), rtol=1e-12)
    with pytest.raises(sportsmed.InvalidArgument, match="complete_days"):
        risk.workload(t)  # gaps in the grid
    with pytest.raises(sportsmed.InvalidArgument, match="policy"):
        risk.complete_days(t, policy="guess")


def test_read_table_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("athlete,date,load\na,2021-01-01,3\na,2021-01-01,4\n")
    with pytest.raises(sportsmed.FormatError, match="two rows"):
        risk.read_table(p)
    p.write_text("athlete,date,load\na,2021-13-01,3\n")
    with pytest.raises(sportsmed.FormatError, match="line 2"):
        risk.read_table(p)
    with pytest.raises(sportsmed.NotFound, match="no column 'player'"):
        risk.read_table(p, athlete="player")
    with pytest.raises(sportsmed.InvalidArgument, match="missing column"):
        risk.read_table(pd.DataFrame({"athlete": ["a"], "date": ["2021-01-01"]}), columns=["load"])


def test_labels_equal_soccermon_and_a_pandas_reference(soccermon_path):
    df = risk.complete_days(risk.read_table(soccermon_path, athlete="player_id"), policy="zero")
    for h in (3, 7, 14):
        y = risk.injury_labels(df, h)
        # independent reference: onsets shifted back 1..h days, per athlete
        ref = []
        for _, g in df.groupby("athlete", sort=False):
            inj = g["injury"].to_numpy() == 1
            onset = inj & ~np.r_[False, inj[:-1]]
            n = len(g)
            lab = np.full(n, np.nan)
            for t in range(n):
                if inj[t]:
                    continue
                future = onset[t + 1: t + h + 1]
                lab[t] = 1.0 if future.any() else (0.0 if t + h <= n - 1 else np.nan)
            ref.append(lab)
        ref = np.concatenate(ref)
        np.testing.assert_array_equal(y.to_numpy(), ref)
        # the dataset's own label agrees wherever ours is defined
        m = ~np.isnan(ref)
        assert (df[f"injury_within_{h}d"].to_numpy()[m] == ref[m]).mean() > 0.999


def test_no_feature_reads_the_future():
    """Features on day t are the same whether or not the days after t exist."""
    df = risk.synthetic_cohort(athletes=5, days=200, seed=9)
    full = risk.workload(df)
    for cut in ("2024-02-10", "2024-05-01"):
        part = risk.workload(df[df["date"] <= cut].reset_index(drop=True))
        ref = full[full["date"] <= cut].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, ref, check_exact=False, rtol=1e-12, atol=1e-9)


def test_future_reading_guard_flags_a_centred_window_only():
    df = risk.synthetic_cohort(athletes=4, days=120, seed=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the causal workload features
        assert risk.check_no_future(df, risk.workload) == []

    def leaky(d):
        out = risk.workload(d)
        out["centred_load"] = d.groupby("athlete")["daily_load"].transform(
            lambda s: s.rolling(7, center=True, min_periods=1).mean())
        return out

    with pytest.warns(risk.LeakageWarning, match="centred_load"):
        assert risk.check_no_future(df, leaky) == ["centred_load"]
