"""Per-athlete trend and squad risk board: tables checked against pandas computations of
their definitions, the bootstrap band against a hand-written refit loop (issue 20, item 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")
FEATS = ["ewma_acwr", "acwr_coupled", "monotony"]


@pytest.fixture(scope="module")
def squad():
    df = risk.synthetic_cohort(athletes=12, days=200, seed=2)
    df = df.drop(index=df.index[7::41])
    df = risk.with_features(risk.complete_days(df, policy="missing"), horizon_days=7)
    return df, risk.RiskModel(FEATS).fit(df, "y")


def test_athlete_trend_table(squad):
    df, m = squad
    tr = risk.athlete_trend(df, m, "S05")
    mine = df[df["athlete"] == "S05"]
    np.testing.assert_allclose(tr["risk"], m.predict(mine), rtol=1e-12)
    np.testing.assert_allclose(tr["acwr"], mine["ewma_acwr"], equal_nan=True)
    np.testing.assert_allclose(tr["load"], mine["daily_load"], equal_nan=True)
    p = pd.Series(m.predict(df), index=df.index)
    for i in (0, 50, 199):
        day = mine["date"].iloc[i]
        same = p[df["date"] == day].to_numpy()
        assert tr["squad_median"].iloc[i] == pytest.approx(np.median(same))
        assert tr["squad_p90"].iloc[i] == pytest.approx(np.percentile(same, 90))
    inj = (mine["injury"] == 1).to_numpy()
    assert (tr["injured"] == inj).all()
    starts = sum(1 for k in range(len(inj)) if inj[k] and (k == 0 or not inj[k - 1]))
    assert tr["onset"].sum() == starts > 0
    with pytest.raises(sportsmed.InvalidArgument, match="no athlete"):
        risk.athlete_trend(df, m, "nobody")


def test_risk_band_is_an_athlete_bootstrap(squad):
    df, m = squad
    rows = df[df["athlete"] == "S05"].iloc[100:110]
    band = risk.risk_band(m, df, "y", rows, replicates=20, level=0.8, seed=7)
    # the definition, written out: resample whole athletes, refit, percentile interval
    lab = df[df["y"].notna()]
    ids = pd.unique(lab["athlete"])
    rng = np.random.default_rng(7)
    preds = []
    for _ in range(20):
        pick = ids[rng.choice(len(ids), size=len(ids), replace=True)]
        boot = pd.concat([lab[lab["athlete"] == a].assign(athlete=k) for k, a in enumerate(pick)])
        preds.append(risk.RiskModel(FEATS).fit(boot, "y").predict(rows))
    np.testing.assert_allclose(band["risk_lo"], np.quantile(preds, 0.1, axis=0), rtol=1e-9)
    np.testing.assert_allclose(band["risk_hi"], np.quantile(preds, 0.9, axis=0), rtol=1e-9)
    assert (band["risk_lo"] < band["risk_hi"]).all()


def test_squad_board(squad):
    df, m = squad
    day = df.loc[(df["injury"] == 1) & (df["date"] > "2024-03-01"), "date"].iloc[0]  # someone injured
    b = risk.squad_board(df, m, date=day)
    assert b["injured"].any()
    today = df[df["date"] == day]
    assert len(b) == today["athlete"].nunique() == 12
    assert b["risk"].is_monotonic_decreasing
    ref = pd.Series(m.predict(today), index=today["athlete"].to_numpy())
    np.testing.assert_allclose(b["risk"], ref[b["athlete"]].to_numpy(), rtol=1e-12)
    fit = today["injury"].to_numpy() != 1
    np.testing.assert_allclose(b["relative"], b["risk"] / ref[fit].mean(), rtol=1e-12)
    week = df[df["date"] == day - pd.Timedelta(days=7)]
    before = pd.Series(m.predict(week), index=week["athlete"].to_numpy())
    np.testing.assert_allclose(b["change"], b["risk"] - before[b["athlete"]].to_numpy(), rtol=1e-9)
    assert b["percentile"].iloc[0] == 100.0
    inj = today.set_index("athlete")["injury"] == 1
    assert (b["injured"].to_numpy() == inj[b["athlete"]].to_numpy()).all()
    nan = today.set_index("athlete")[FEATS].isna().any(axis=1)
    assert ((b["imputed"] != "").to_numpy() == nan[b["athlete"]].to_numpy()).all()
    assert risk.squad_board(df, m)["date"].iloc[0] == df["date"].max()
    with pytest.raises(sportsmed.InvalidArgument, match="no row on 2030-01-01"):
        risk.squad_board(df, m, date="2030-01-01")


def test_plots(squad):
    df, m = squad
    tr = risk.athlete_trend(df, m, "S05", train=df, replicates=10)
    fig = risk.plot_athlete_trend(tr, title="S05")
    onset_line = [ln for ln in fig.axes[1].lines if ln.get_label() == "injury onset"][0]
    assert len(onset_line.get_xdata()) == tr["onset"].sum()
    b = risk.squad_board(df, m)
    fig = risk.plot_squad_board(b)
    assert len(fig.axes[0].patches) == len(b)
    grey = sum(1 for p in fig.axes[0].patches if p.get_facecolor()[:3] == pytest.approx((0.733, 0.733, 0.733), abs=0.01))
    assert grey == int(b["injured"].sum())


def test_cli_board_and_trend(tmp_path, capsys):
    from sportsmed.cli import main

    log = tmp_path / "log.csv"
    raw = risk.synthetic_cohort(athletes=12, days=200, seed=2)
    raw.drop(columns=["p_true"]).to_csv(log, index=False, date_format="%Y-%m-%d")
    model = tmp_path / "m.json"
    assert main(["risk", "train", str(log), "--missing", "zero", "--features", ",".join(FEATS),
                 "-o", str(model)]) == 0
    df = risk.with_features(risk.complete_days(risk.read_table(log), policy="zero"))
    m = risk.RiskModel.load(model)
    assert main(["risk", "board", str(model), str(log), "--at", "2024-04-02", "--plot", str(tmp_path / "b.png"),
                 "-o", str(tmp_path / "b.csv"), "--precision", "0"]) == 0
    got = pd.read_csv(tmp_path / "b.csv")
    ref = risk.squad_board(df, m, date="2024-04-02")
    np.testing.assert_allclose(got["risk"], ref["risk"], rtol=1e-12)
    assert list(got["athlete"]) == list(ref["athlete"])
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["risk", "trend", str(model), str(log), "--who", "S05", "--plot", str(tmp_path / "t.svg"),
                 "-o", str(tmp_path / "t.csv"), "--precision", "0"]) == 0
    t = pd.read_csv(tmp_path / "t.csv")
    np.testing.assert_allclose(t["risk"], risk.athlete_trend(df, m, "S05")["risk"], rtol=1e-12)
    assert "<svg" in (tmp_path / "t.svg").read_text()
    capsys.readouterr()
    assert main(["risk", "board", str(model), str(log), "--plot", str(tmp_path / "b.jpg")]) == 1
    assert "must end in .png, .svg or .pdf" in capsys.readouterr().err and not (tmp_path / "b.jpg").exists()
