"""What a team physician reads: one athlete's trend (load, ACWR, risk with bands, injuries)
and the squad's risk board on a day, as tables and matplotlib figures."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from .._core import InvalidArgument


def risk_band(model, train: pd.DataFrame, label: str, data: pd.DataFrame, replicates: int = 100,
              level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Uncertainty band of a model's risks from an athlete-cluster bootstrap of its
    training data: the model (same kind, features and parameters) is refitted on
    ``replicates`` resamples of whole training athletes, and each row of ``data`` gets the
    percentile interval of its refitted risks.

    ``train`` must be the model's training data, not the table being predicted: its
    labelled rows and positives are checked against the model's record of them
    (``model.training["rows"]``, ``["positives"]``) when the model holds one.

    Returns a DataFrame aligned with ``data``: risk_lo, risk_hi. Replicates whose
    resample holds a single class are skipped (counted in ``attrs["skipped"]``).
    """
    from ._model import RiskModel

    if "athlete" not in train.columns:
        raise InvalidArgument("risk_band: the training table needs an 'athlete' column")
    if int(replicates) < 10:
        raise InvalidArgument(f"risk_band: replicates must be >= 10, got {replicates}")
    if not 0 < level < 1:
        raise InvalidArgument(f"risk_band: level must be in (0, 1), got {level}")
    if label not in train.columns:
        raise InvalidArgument(f"risk_band: the training table has no label column {label!r}")
    train = train[train[label].notna()]
    rec = model.training if isinstance(model.training, dict) else {}
    got = {"rows": len(train), "positives": int((train[label] == 1).sum())}
    differ = [f"{got[k]} {k} (the model records {rec[k]})" for k in got
              if rec.get(k) is not None and int(rec[k]) != got[k]]
    if differ:
        raise InvalidArgument("risk_band: the training table is not the model's training data: its labelled rows "
                              "give " + ", ".join(differ) + "; the band resamples the data the model was fitted on")
    athletes = pd.unique(train["athlete"])
    by = {a: idx for a, idx in train.groupby("athlete", sort=False).indices.items()}
    rng = np.random.default_rng(seed)
    preds, skipped = [], 0
    for _ in range(int(replicates)):
        pick = rng.choice(len(athletes), size=len(athletes), replace=True)
        rows = np.concatenate([by[athletes[i]] for i in pick])
        boot = train.iloc[rows].copy()
        # resampled athletes are distinct athletes (the CNN's windows must not mix them)
        boot["athlete"] = np.repeat(np.arange(len(pick)), [len(by[athletes[i]]) for i in pick])
        y = boot[label].to_numpy()
        if y.min() == y.max():
            skipped += 1
            continue
        # the model itself passed (or was allowed past) the separation check: a resample is not re-judged
        m = RiskModel(model.features, model.kind, **model.params).fit(boot, label, allow_separating=True)
        preds.append(m.predict(data))
    if not preds:
        raise InvalidArgument("risk_band: every bootstrap resample held a single class")
    p = np.vstack(preds)
    a = (1 - level) / 2
    out = pd.DataFrame({"risk_lo": np.quantile(p, a, axis=0), "risk_hi": np.quantile(p, 1 - a, axis=0)},
                       index=data.index)
    out.attrs["skipped"] = skipped
    out.attrs["replicates"] = len(preds)
    return out


def _acwr_column(df: pd.DataFrame, acwr: Optional[str]) -> Optional[str]:
    if acwr is not None:
        if acwr not in df.columns:
            raise InvalidArgument(f"no ACWR column {acwr!r} in the table")
        return acwr
    return next((c for c in ("ewma_acwr", "acwr_coupled") if c in df.columns), None)


def athlete_trend(df: pd.DataFrame, model, athlete, load: str = "daily_load", injury: str = "injury",
                  acwr: Optional[str] = None, train: Optional[pd.DataFrame] = None, label: str = "y",
                  replicates: int = 100, level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """One athlete's days: load, acute and chronic load, ACWR, the model's risk, the
    squad's risk that day (median and 10th–90th percentiles over athletes with a risk)
    and injury days (``injured``; ``onset`` on the first day of each injury).

    Parameters
    ----------
    df
        The squad's table with the model's features (e.g. :func:`with_features`).
    model
        A fitted :class:`RiskModel`.
    train, label, replicates, level, seed
        With a training table: ``risk_lo`` / ``risk_hi``, the athlete-cluster bootstrap
        band of the risk (:func:`risk_band`).

    Returns
    -------
    DataFrame: date, load, acute_load, chronic_load, acwr, risk, [risk_lo, risk_hi],
    squad_p10, squad_median, squad_p90, injured, onset.
    """
    if "athlete" not in df.columns or "date" not in df.columns:
        raise InvalidArgument("athlete_trend: the table needs 'athlete' and 'date' columns")
    mine = df["athlete"] == athlete
    if not mine.any():
        raise InvalidArgument(f"athlete_trend: no athlete {athlete!r} in the table")
    risk_all = pd.Series(model.predict(df), index=df.index)
    squad = risk_all.groupby(df["date"]).quantile([0.1, 0.5, 0.9]).unstack()
    rows = df[mine]
    out = pd.DataFrame({"date": rows["date"].to_numpy()})
    for col, name in ((load, "load"), ("acute_load", "acute_load"), ("chronic_load", "chronic_load")):
        out[name] = rows[col].to_numpy(dtype=float) if col in rows.columns else np.nan
    a = _acwr_column(df, acwr)
    out["acwr"] = rows[a].to_numpy(dtype=float) if a else np.nan
    out["risk"] = risk_all[mine].to_numpy()
    if train is not None:
        band = risk_band(model, train, label, rows, replicates, level, seed)
        out["risk_lo"], out["risk_hi"] = band["risk_lo"].to_numpy(), band["risk_hi"].to_numpy()
    q = squad.reindex(rows["date"].to_numpy())
    out["squad_p10"], out["squad_median"], out["squad_p90"] = (q[c].to_numpy() for c in (0.1, 0.5, 0.9))
    inj = (rows[injury] == 1).to_numpy() if injury in rows.columns else np.zeros(len(rows), bool)
    out["injured"] = inj
    out["onset"] = inj & ~np.r_[False, inj[:-1]]
    return out


def plot_athlete_trend(trend: pd.DataFrame, title: str = "", risk_label: str = "risk"):
    """Two panels sharing the date axis: daily load (bars) with acute and chronic load
    and the ACWR (right axis); the risk with its band beside the squad's median and
    10th–90th percentiles. Injury days are shaded red in both, onsets marked ▼.
    Returns the matplotlib Figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 5.5))
    top, bottom = fig.subplots(2, 1, sharex=True)
    d = trend["date"]
    top.bar(d, trend["load"], width=1.0, color="#c8c8c8", label="daily load")
    top.plot(d, trend["acute_load"], color="#d62728", lw=1, label="acute load")
    top.plot(d, trend["chronic_load"], color="#1f77b4", lw=1, label="chronic load")
    top.set_ylabel("load (AU)")
    right = top.twinx()
    right.plot(d, trend["acwr"], color="#2ca02c", lw=1, label="ACWR")
    right.set_ylabel("ACWR")
    bottom.fill_between(d, trend["squad_p10"], trend["squad_p90"], color="#bbb", alpha=0.4,
                        label="squad 10th–90th percentile")
    bottom.plot(d, trend["squad_median"], color="#777", lw=1, ls="--", label="squad median")
    if "risk_lo" in trend.columns:
        bottom.fill_between(d, trend["risk_lo"], trend["risk_hi"], color="#ff7f0e", alpha=0.3,
                            label="risk band (athlete bootstrap)")
    bottom.plot(d, trend["risk"], color="#ff7f0e", lw=1.3, label=risk_label)
    bottom.set_ylabel(risk_label)
    for ax in (top, bottom):
        for day in d[trend["injured"].to_numpy()]:
            ax.axvspan(day - pd.Timedelta(hours=12), day + pd.Timedelta(hours=12), color="#d62728", alpha=0.15,
                       lw=0)
    on = trend["onset"].to_numpy()
    ymax = float(np.nanmax(np.r_[trend["risk"], trend.get("risk_hi", trend["risk"])]))
    bottom.plot(d[on], np.full(int(on.sum()), ymax * 1.05), "v", color="#d62728", ls="none", label="injury onset")
    bottom.set_ylim(0, ymax * 1.12)
    top.legend(loc="upper left", fontsize=7, ncol=3)
    bottom.legend(loc="upper left", fontsize=7, ncol=3)
    if title:
        top.set_title(title)
    fig.autofmt_xdate()
    return fig


def squad_board(df: pd.DataFrame, model, date=None, injury: str = "injury", acwr: Optional[str] = None,
                change_days: int = 7) -> pd.DataFrame:
    """The squad's risk on one day, highest first: athlete, date, risk, relative (risk /
    the mean risk of the athletes not injured that day), percentile (within the squad that day, 0–100), change
    (risk minus the athlete's risk ``change_days`` earlier), acwr, load_7d, injured
    (already injured: the risk does not apply) and imputed (model features that were
    missing and replaced by the training mean). ``date`` defaults to the table's last day.
    """
    if "athlete" not in df.columns or "date" not in df.columns:
        raise InvalidArgument("squad_board: the table needs 'athlete' and 'date' columns")
    day = df["date"].max() if date is None else pd.Timestamp(date)
    risk_all = pd.Series(model.predict(df), index=df.index)
    today = df["date"] == day
    if not today.any():
        raise InvalidArgument(f"squad_board: no row on {day.date()} (the table runs {df['date'].min().date()} .. "
                              f"{df['date'].max().date()})")
    rows = df[today]
    before = df[df["date"] == day - pd.Timedelta(days=change_days)]
    prev = pd.Series(risk_all[before.index].to_numpy(), index=before["athlete"].to_numpy())
    r = risk_all[today].to_numpy()
    out = pd.DataFrame({"athlete": rows["athlete"].to_numpy(), "date": rows["date"].to_numpy(), "risk": r})
    injured = (rows[injury] == 1).to_numpy() if injury in rows.columns else np.zeros(len(rows), bool)
    at_risk = r[~injured] if (~injured).any() else r
    out["relative"] = r / at_risk.mean()  # the mean over athletes not injured that day
    out["percentile"] = pd.Series(r).rank(pct=True, method="average").to_numpy() * 100
    out["change"] = r - prev.reindex(out["athlete"]).to_numpy()
    a = _acwr_column(df, acwr)
    out["acwr"] = rows[a].to_numpy(dtype=float) if a else np.nan
    out["load_7d"] = rows["load_7d"].to_numpy(dtype=float) if "load_7d" in rows.columns else np.nan
    out["injured"] = injured
    nan = rows[model.features].isna().to_numpy()
    names = np.asarray(model.features, dtype=object)
    out["imputed"] = [",".join(names[k]) for k in nan]
    return out.sort_values("risk", ascending=False, kind="stable").reset_index(drop=True)


def plot_squad_board(board: pd.DataFrame, risk_label: str = "risk"):
    """Horizontal bars of the board's risks, highest on top, the squad mean as a line;
    injured athletes in grey (their risk does not apply), imputed ones hatched.
    Returns the matplotlib Figure."""
    from matplotlib.figure import Figure

    n = len(board)
    fig = Figure(figsize=(6, max(2.5, 0.22 * n + 1)))
    ax = fig.add_subplot(111)
    b = board.iloc[::-1]
    colours = ["#bbbbbb" if i else "#ff7f0e" for i in b["injured"]]
    bars = ax.barh(b["athlete"].astype(str), b["risk"], color=colours)
    for bar, imp in zip(bars, b["imputed"]):
        if imp:
            bar.set_hatch("//")
    avail = board.loc[~board["injured"].astype(bool), "risk"]
    mean = float(avail.mean()) if len(avail) else float(board["risk"].mean())
    ax.axvline(mean, color="#333", ls="--", lw=1, label=f"squad mean (not injured) {mean:.3f}")
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="#bbbbbb", label="injured (risk does not apply)"),
               Patch(facecolor="#ff7f0e", hatch="//", label="features imputed")]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], loc="lower right", fontsize=7)
    day = pd.Timestamp(board["date"].iloc[0]).date() if n else ""
    ax.set_title(f"squad risk board, {day}")
    ax.set_xlabel(risk_label)
    ax.tick_params(axis="y", labelsize=7)
    return fig
