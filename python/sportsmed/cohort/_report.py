"""The squad report: one offline HTML page from a cohort output folder.

For the coach and physician: availability, each athlete's injury risk with its trend and
flags, the drop-jump screening across the squad (who changed since the last screening) and the
knee MRI (cartilage thickness and T2 per athlete, with flags). For the researcher: study-level
tables and plots (cartilage thickness and T2, landing features, failures). Built with the
screening report's HTML helpers (:mod:`sportsmed.report`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Union

#: |change| of peak knee abduction between two screenings counted as a change, in degrees.
#: An assumption of this report (about the between-session measurement error of 3-D drop-jump
#: knee abduction), not a validated minimal detectable change: set it with ``change_deg``.
CHANGE_DEG = 3.0
#: EWMA-ACWR above this on the last day is flagged as a load spike (Gabbett 2016's "danger zone").
ACWR_SPIKE = 1.5
#: share of the squad flagged at each end of the knee MRI measures (thinnest cartilage, highest T2)
MRI_DECILE = 0.1
#: fewest athletes with a value for which a "top/bottom 10% of the squad" flag is shown: in a
#: smaller squad the decile is one athlete or fewer, and the flag ranks rather than screens
MIN_DECILE_SQUAD = 10
#: relative change of the last 7 days' mean risk against the 28 days before counted as a trend
#: (daily risk moves with the weekly load pattern: smaller changes are noise, not a trend)
TREND_REL = 0.25


def _short(athlete: str) -> str:
    a = str(athlete)
    return a[:10] if len(a) == 64 and all(c in "0123456789abcdef" for c in a) else a


def _load(out: Path, step: str):
    from . import read_table

    try:
        return read_table(out, step)
    except Exception:  # noqa: BLE001  (a step not run: its section says so)
        return None


def _availability(rep, wl, plt) -> None:
    import numpy as np
    import pandas as pd

    sec = rep.section("Availability")
    if wl is None or wl.empty or "injury" not in wl.columns:
        sec.note("No training logs with an injury column in this run (workload step): availability unknown.",
                 "warning")
        return
    wl = wl.copy()
    wl["date"] = pd.to_datetime(wl["date"])
    last = wl["date"].max()
    recent = wl[wl["date"] > last - pd.Timedelta(days=28)]
    per = []
    for a, g in wl.groupby("athlete"):
        r = recent[recent["athlete"] == a]
        today = g[g["date"] == g["date"].max()]
        per.append({"athlete": _short(a), "last logged day": g["date"].max().date().isoformat(),
                    "status on last day": "injured" if (today["injury"] == 1).any() else
                    "available", "available, last 28 days (%)": 100.0 * float((r["injury"] == 0).mean()),
                    "available, whole log (%)": 100.0 * float((g["injury"] == 0).mean())})
    per = pd.DataFrame(per).sort_values(["status on last day", "available, last 28 days (%)"],
                                        ascending=[False, True])
    daily = wl.groupby("date")["injury"].apply(lambda s: float((s == 0).mean()))
    behind = int((per["last logged day"] < last.date().isoformat()).sum())
    if behind:
        sec.note(f"{behind} athlete(s) have no log on the squad's last logged day ({last.date().isoformat()}): their "
                 "status is that of their own last logged day, shown per athlete.", "warning")
    sec.metrics({"squad's last logged day": last.date().isoformat(), "athletes": int(wl["athlete"].nunique()),
                 "injured on their last logged day": int((per["status on last day"] == "injured").sum()),
                 "squad availability, last 28 days (%)": 100.0 * float((recent["injury"] == 0).mean())})
    fig, ax = plt.subplots(figsize=(9, 2.8))
    ax.plot(daily.index, 100 * daily.to_numpy(), color="#2b6cb0", lw=1)
    ax.set_ylabel("available (%)")
    ax.set_ylim(max(0, 100 * float(np.nanmin(daily.to_numpy())) - 5), 100.5)
    fig.autofmt_xdate()
    sec.figure(fig, "Squad availability per day (share of athletes not injured)")
    sec.table(per.head(40), "Availability per athlete (injured first, then least available); first 40 rows",
              float_format="{:.0f}")


def _risk(rep, rk, wl, plt) -> None:
    import numpy as np
    import pandas as pd

    sec = rep.section("Injury risk: each athlete, its trend and flags")
    if rk is None or rk.empty:
        sec.note("The risk step was not run (it needs a risk model: --risk-model or risk_model in the TOML "
                 "manifest).", "warning")
        return
    rk = rk.copy()
    rk["date"] = pd.to_datetime(rk["date"])
    last = rk["date"].max()
    inj = {}
    if wl is not None and not wl.empty and "injury" in wl.columns:
        w = wl.copy()
        w["date"] = pd.to_datetime(w["date"])
        inj = {a: bool((g[g["date"] == g["date"].max()]["injury"] == 1).any()) for a, g in w.groupby("athlete")}
    latest = rk[rk["date"] == last].set_index("athlete")["risk"]
    n_ranked = int(latest.notna().sum())
    top = float(np.nanquantile(latest.to_numpy(), 0.9)) if n_ranked >= MIN_DECILE_SQUAD else float("nan")
    rows = []
    for a, g in rk.groupby("athlete"):
        g = g.sort_values("date")
        # the windows end on the athlete's own last logged day (a log may end before the squad's)
        own = g["date"].max()
        r7 = float(g[g["date"] > own - pd.Timedelta(days=7)]["risk"].mean())
        prev = g[(g["date"] <= own - pd.Timedelta(days=7)) & (g["date"] > own - pd.Timedelta(days=35))]["risk"]
        r28 = float(prev.mean()) if len(prev) else float("nan")
        rel = (r7 - r28) / r28 if r28 and np.isfinite(r28) and np.isfinite(r7) else float("nan")
        trend = ("no data" if not np.isfinite(rel) else "rising" if rel > TREND_REL else
                 "falling" if rel < -TREND_REL else "steady")
        lastrow = g.iloc[-1]
        flags = []
        if inj.get(a):
            flags.append("injured")
        if "ewma_acwr" in g.columns and float(lastrow.get("ewma_acwr", np.nan)) > ACWR_SPIKE:
            flags.append(f"EWMA-ACWR {float(lastrow['ewma_acwr']):.2f} > {ACWR_SPIKE}")
        if np.isfinite(top) and own == last and float(lastrow["risk"]) >= top:
            flags.append("top 10% of squad")
        if trend == "rising":
            flags.append("rising")
        rows.append({"athlete": _short(a), "last logged day": own.date().isoformat(),
                     "risk, last day": float(lastrow["risk"]), "mean, last 7 days": r7,
                     "mean, 28 days before": r28, "trend": trend, "flags": ", ".join(flags) or "—"})
    table = pd.DataFrame(rows).sort_values("risk, last day", ascending=False)
    sec.text("Risk is the model's probability of the event it was trained for, per athlete-day, from the workload "
             "features rebuilt as the model records. Each athlete's values are of their own last logged day (shown "
             "per athlete). Trend: the last 7 days' mean against the 28 days before "
             f"(±{100 * TREND_REL:.0f}%; \"no data\" where either window has no risk). Flags: injured on the last "
             f"day, EWMA-ACWR above {ACWR_SPIKE} (load spike), top decile of the squad's risk on the squad's last "
             f"day ({last.date().isoformat()})"
             + ("" if n_ranked >= MIN_DECILE_SQUAD else
                f" (not shown: {n_ranked} athletes have a risk that day, fewer than {MIN_DECILE_SQUAD})")
             + ", rising trend. A risk estimate is a prompt to look, not a diagnosis.")
    sec.metrics({"athletes": len(table), "flagged": int((table["flags"] != "—").sum()),
                 "rising": int((table["trend"] == "rising").sum()),
                 "squad median risk, squad's last day": float(np.nanmedian(latest.to_numpy()))})
    fig, ax = plt.subplots(figsize=(9, 3.2))
    q = rk.groupby("date")["risk"].quantile([0.1, 0.5, 0.9]).unstack()
    ax.fill_between(q.index, q[0.1], q[0.9], color="#bee3f8", label="squad 10–90%")
    ax.plot(q.index, q[0.5], color="#2b6cb0", lw=1, label="squad median")
    for a in table["athlete"].head(3):
        full = next(x for x in rk["athlete"].unique() if _short(x) == a)
        g = rk[rk["athlete"] == full].sort_values("date")
        ax.plot(g["date"], g["risk"], lw=0.8, label=f"{a} (highest now)")
    ax.set_ylabel("risk")
    ax.legend(fontsize=7, ncol=2)
    fig.autofmt_xdate()
    sec.figure(fig, "Daily risk across the squad and the three athletes with the highest risk on the last day")
    sec.table(table.head(60), "Risk per athlete, highest first (first 60 rows)", float_format="{:.3f}")


def _screening(rep, mo, plt, change_deg: float) -> None:
    import numpy as np
    import pandas as pd

    sec = rep.section("Screening across the squad: who changed since the last screening")
    if mo is None or mo.empty:
        sec.note("The motion step was not run or every drop jump failed.", "warning")
        return
    mo = mo.copy()
    mo["peak_abduction_deg"] = mo[["left_peak_knee_abduction_deg", "right_peak_knee_abduction_deg"]].max(axis=1)
    mo["bates_flag"] = mo[["left_bates_flag", "right_bates_flag"]].max(axis=1)
    # several trials in one session: their mean
    s = mo.groupby(["athlete", "session_date"]).agg(peak=("peak_abduction_deg", "mean"),
                                                    bates=("bates_flag", "max"), trials=("item", "count"))
    s = s.reset_index().sort_values(["athlete", "session_date"])
    rows = []
    for a, g in s.groupby("athlete"):
        cur = g.iloc[-1]
        row = {"athlete": _short(a), "last screening": cur["session_date"],
               "peak knee abduction, last (deg)": float(cur["peak"]), "Bates flag, last": int(cur["bates"]),
               "previous screening": "—", "peak knee abduction, previous (deg)": float("nan"),
               "change (deg)": float("nan"), "changed": "first screening"}
        if len(g) > 1:
            prev = g.iloc[-2]
            d = float(cur["peak"] - prev["peak"])
            changed = []
            if abs(d) >= change_deg:
                changed.append("worse" if d > 0 else "better")
            if int(cur["bates"]) != int(prev["bates"]):
                changed.append("Bates flag " + ("raised" if cur["bates"] > prev["bates"] else "cleared"))
            row.update({"previous screening": prev["session_date"],
                        "peak knee abduction, previous (deg)": float(prev["peak"]), "change (deg)": d,
                        "changed": ", ".join(changed) or "no"})
        rows.append(row)
    table = pd.DataFrame(rows)
    order = table["changed"].map(lambda c: 0 if c.startswith(("worse", "Bates flag raised")) else
                                 1 if c not in ("no", "first screening") else 2)
    table = table.assign(_o=order, _a=-table["change (deg)"].abs().fillna(0)).sort_values(["_o", "_a"])
    table = table.drop(columns=["_o", "_a"])
    sec.text("Drop vertical jump at each screening: peak knee abduction (the larger side; the mean over a session's "
             f"trials) and the Bates 2020 rule on knee abduction at initial contact. A change of at least "
             f"{change_deg:g}° in peak abduction, or a Bates flag raised or cleared, counts as changed "
             f"({change_deg:g}° "
             "is this report's assumption about test-retest error, not a validated threshold).")
    sec.metrics({"athletes screened": len(table),
                 "worse since last screening": int(table["changed"].str.contains("worse").sum()),
                 "better since last screening": int(table["changed"].str.contains("better").sum()),
                 "Bates flag on last screening": int(table["Bates flag, last"].sum())})
    both = table[table["change (deg)"].notna()]
    if len(both):
        fig, ax = plt.subplots(figsize=(4.8, 4.4))
        x = both["peak knee abduction, previous (deg)"].to_numpy()
        y = both["peak knee abduction, last (deg)"].to_numpy()
        lo, hi = float(np.nanmin([x.min(), y.min()])) - 1, float(np.nanmax([x.max(), y.max()])) + 1
        ax.fill_between([lo, hi], [lo - change_deg, hi - change_deg], [lo + change_deg, hi + change_deg],
                        color="#edf2f7", label=f"±{change_deg:g}° (unchanged)")
        ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
        worse = both["changed"].str.contains("worse").to_numpy()
        ax.scatter(x[~worse], y[~worse], s=12, color="#2b6cb0", label="athlete")
        ax.scatter(x[worse], y[worse], s=16, color="#dd6b20", label="worse")
        ax.set_xlabel("previous screening (deg)")
        ax.set_ylabel("last screening (deg)")
        ax.set_title("peak knee abduction", fontsize=9)
        ax.legend(fontsize=7)
        sec.figure(fig, "Peak knee abduction at the last screening against the previous one")
    sec.table(table.head(60), "Screening per athlete, changed (worse first) then the rest; first 60 rows",
              float_format="{:.1f}")


def _knee_mri(rep, seg_t, mri, t2, plt) -> None:
    import numpy as np
    import pandas as pd

    sec = rep.section("Knee MRI: cartilage thickness and T2 per athlete")
    if (mri is None or mri.empty) and (t2 is None or t2.empty):
        sec.note("The mri and t2 steps were not run, or every knee failed.", "warning")
        return
    keys = ["athlete", "session_date"]
    rows = pd.DataFrame(columns=keys)
    if mri is not None and not mri.empty:
        m = mri[keys + ["labels_source", "thickness_mean_mm", "warnings"]].rename(
            columns={"thickness_mean_mm": "femoral thickness, mean (mm)", "labels_source": "labels",
                     "warnings": "_w_mri"})
        rows = rows.merge(m, on=keys, how="outer")
    if t2 is not None and not t2.empty:
        cols = {c: c.replace("_cartilage_t2_median_ms", " cartilage T2, median (ms)").replace("_", " ")
                for c in t2.columns if c.endswith("_cartilage_t2_median_ms")}
        t = t2[keys + list(cols) + ["warnings"]].rename(columns={**cols, "warnings": "_w_t2"})
        if "labels" not in rows.columns:
            t = t.assign(labels=t2["labels_source"])
        rows = rows.merge(t, on=keys, how="outer")
    if seg_t is not None and not seg_t.empty:
        rows = rows.merge(seg_t[keys + ["warnings"]].rename(columns={"warnings": "_w_seg"}), on=keys, how="left")
    # the last knee session of each athlete
    rows = rows.sort_values(keys).groupby("athlete").tail(1)
    thick = "femoral thickness, mean (mm)"
    t2fem = "femoral cartilage T2, median (ms)"
    n_thick = int(rows[thick].notna().sum()) if thick in rows else 0
    n_t2 = int(rows[t2fem].notna().sum()) if t2fem in rows else 0
    lo = float(np.nanquantile(rows[thick], MRI_DECILE)) if n_thick >= MIN_DECILE_SQUAD else np.nan
    hi = float(np.nanquantile(rows[t2fem], 1 - MRI_DECILE)) if n_t2 >= MIN_DECILE_SQUAD else np.nan
    flags = []
    for _, r in rows.iterrows():
        f = []
        if np.isfinite(lo) and float(r.get(thick, np.nan)) <= lo:
            f.append("thinnest 10% of squad")
        if np.isfinite(hi) and float(r.get(t2fem, np.nan)) >= hi:
            f.append("highest femoral T2 10% of squad")
        for col, what in (("_w_seg", "segmentation"), ("_w_mri", "thickness"), ("_w_t2", "T2")):
            w = r.get(col)
            if isinstance(w, str) and w.strip():
                f.append(f"{what}: {w}")
        flags.append("; ".join(f) or "—")
    rows["flags"] = flags
    rows["athlete"] = rows["athlete"].map(_short)
    rows = rows.drop(columns=[c for c in rows.columns if c.startswith("_w_")])
    rows = rows.assign(_o=(rows["flags"] == "—")).sort_values(["_o", "athlete"]).drop(columns="_o")
    sec.text("Femoral cartilage thickness (nearest-surface method, mean over the articular surface) and the median "
             "T2 of each cartilage plate (mono-exponential fit of the multi-echo series) at each athlete's last knee "
             "session. Labels: the session's label map, or the shipped model's segmentation when there is none (a "
             "demonstration model trained on phantoms: check its warnings). Flags: the thinnest cartilage and the "
             f"highest femoral T2 of the squad (each end's 10%, shown with at least {MIN_DECILE_SQUAD} knees measured"
             + ("" if min(n_thick, n_t2) >= MIN_DECILE_SQUAD else f"; this squad has {n_thick} and {n_t2}")
             + "), and every warning of the segmentation, thickness and T2 steps. A flag is a prompt to look at the "
             "images, not a diagnosis.")
    sec.metrics({"knees": len(rows), "flagged": int((rows["flags"] != "—").sum()),
                 "from segmentation": int((rows.get("labels") == "segmentation").sum()) if "labels" in rows else 0,
                 "squad median femoral T2 (ms)": float(np.nanmedian(rows[t2fem])) if t2fem in rows else float("nan")})
    if thick in rows and t2fem in rows and rows[[thick, t2fem]].notna().all(axis=1).any():
        fig, ax = plt.subplots(figsize=(4.8, 3.6))
        seg_rows = (rows.get("labels") == "segmentation").to_numpy()
        for sel, label, color in ((~seg_rows, "label map", "#2b6cb0"), (seg_rows, "segmentation", "#dd6b20")):
            ax.scatter(rows[thick][sel], rows[t2fem][sel], s=14, color=color, label=label)
        ax.set_xlabel("femoral cartilage thickness, mean (mm)")
        ax.set_ylabel("femoral cartilage T2, median (ms)")
        ax.legend(fontsize=7)
        sec.figure(fig, "Femoral cartilage thickness against T2, one point per athlete (last knee session)")
    sec.table(rows.head(60), "Knee MRI per athlete, flagged first (first 60 rows)", float_format="{:.2f}")


def _study(rep, out: Path, mo, mri, t2, failures, plt) -> None:
    import pandas as pd

    sec = rep.section("Study tables (researcher view)")
    for name, df, cols in (
            ("Drop-jump features", mo, ["jump_height_m", "contact_time_s", "reactive_strength_index",
                                        "left_peak_knee_abduction_deg", "right_peak_knee_abduction_deg",
                                        "left_peak_vgrf_bw", "right_peak_vgrf_bw", "left_peak_fppa_deg"]),
            ("Femoral cartilage thickness (MRI)", mri,
             [c for c in (mri.columns if mri is not None else []) if c.endswith("_mm") or c.endswith("_mm3")]),
            ("Cartilage T2 (MRI)", t2, [c for c in (t2.columns if t2 is not None else []) if c.endswith("_t2_median_ms")
                                        or c.endswith("_t2_mean_ms")])):
        if df is None or df.empty:
            continue
        present = [c for c in cols if c in df.columns]
        d = df[present].apply(pd.to_numeric, errors="coerce")
        summary = pd.DataFrame({"variable": present, "n": d.notna().sum().to_numpy(), "mean": d.mean().to_numpy(),
                                "SD": d.std().to_numpy(), "min": d.min().to_numpy(), "max": d.max().to_numpy()})
        sec.table(summary, f"{name}: {len(df)} items", float_format="{:.3g}")
    if mri is not None and not mri.empty and "thickness_mean_mm" in mri.columns:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(pd.to_numeric(mri["thickness_mean_mm"], errors="coerce").dropna(), bins=20, color="#2b6cb0")
        ax.set_xlabel("mean femoral cartilage thickness (mm)")
        ax.set_ylabel("knees")
        sec.figure(fig, "Mean femoral cartilage thickness across the study (nearest-surface method)")
    if failures is not None and len(failures):
        sec.note(f"{len(failures)} item(s) failed; each is listed with its typed error. The run went on without them.",
                 "warning")
        f = failures[["step", "item", "error_type", "error"]].copy()
        f["item"] = f["item"].map(lambda s: s.split("/", 1)[-1][:40])
        sec.table(f.head(50), "Failed items (first 50)")
    else:
        sec.text("No item failed.")


def squad_report(output: Union[str, os.PathLike], html_path: Union[str, os.PathLike],
                 change_deg: float = CHANGE_DEG, title: Optional[str] = None) -> Path:
    """Writes the squad report of the cohort output folder ``output`` to ``html_path``.

    Raises :class:`sportsmed.NotFound` when ``output`` is not a cohort output folder.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from .. import NotFound
    from ..report import Report

    out = Path(output)
    if not (out / "run.json").exists():
        raise NotFound(f"cohort report: '{out}' holds no run.json (not a cohort output folder)")
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    wl, rk, mo, mri, seg_t, t2 = (_load(out, s) for s in ("workload", "risk", "motion", "mri", "seg", "t2"))
    fpath = out / "tables" / "failures.csv"
    try:
        failures = pd.read_csv(fpath, keep_default_na=False) if fpath.exists() else None
    except pd.errors.EmptyDataError:
        failures = None
    summary = run.get("summary", {})
    # failures.csv covers every table in the folder, also those of steps an earlier run made
    n_failed = len(failures) if failures is not None else summary.get("failed", "?")
    shown = run.get("tables") or run.get("steps") or []
    rep = Report(title or "Squad report",
                 f"Cohort run of {run.get('started', '?')[:10]} ({run.get('state')}): {summary.get('items', '?')} "
                 f"items of steps {', '.join(run.get('steps') or []) or '?'}"
                 + (f"; tables of {', '.join(shown)}" if shown and list(shown) != list(run.get("steps") or []) else "")
                 + f"; {n_failed} failed item(s) in these tables; athletes are shown by "
                 + ("their manifest ids" if run.get("keep_ids") else "pseudonym (sm_ and 16 hex digits)"))
    _availability(rep, wl, plt)
    _risk(rep, rk, wl, plt)
    _screening(rep, mo, plt, change_deg)
    _knee_mri(rep, seg_t, mri, t2, plt)
    _study(rep, out, mo, mri, t2, failures, plt)
    return rep.save(html_path)
