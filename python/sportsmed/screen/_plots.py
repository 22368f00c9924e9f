"""Figures of the screening report. Every line has a legend entry; labels do not overlap
(constrained layout, rotated dates, annotations placed inside their bars)."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def drop_jump_figure(curves: dict, ic_s: float, to_s: float):
    """Knee flexion, knee abduction (valgus +, with the Bates 2020 threshold) and the
    vertical ground reaction force of each foot."""
    plt = _plt()
    has_force = curves.get("fz") is not None
    fig, axes = plt.subplots(1, 3 if has_force else 2, figsize=(12, 3.8), constrained_layout=True)
    t = np.asarray(curves["time_s"])
    panels = [("Knee flexion", "flexion", "knee flexion (°)"),
              ("Knee abduction (valgus +)", "abduction", "knee abduction (°)")]
    for ax, (title, key, ylabel) in zip(axes, panels):
        left, right = curves[key]
        ax.plot(t, left, color="tab:blue", label="left")
        ax.plot(t, right, color="tab:orange", label="right")
        if key == "abduction":
            ax.axhline(4.6, color="tab:red", lw=0.9, ls="-.", label="Bates 2020 threshold (4.6°)")
        _events(ax, ic_s, to_s)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, loc="best")
    if has_force:
        ax = axes[2]
        tf = np.asarray(curves["force_time_s"])
        ax.plot(tf, curves["fz"][0], color="tab:blue", label="left foot")
        ax.plot(tf, curves["fz"][1], color="tab:orange", label="right foot")
        _events(ax, ic_s, to_s)
        ax.set_title("Vertical ground reaction force", fontsize=10)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("force (N)")
        ax.legend(fontsize=7, loc="best")
    return fig


def _events(ax, ic_s: float, to_s: float) -> None:
    if math.isfinite(ic_s):
        ax.axvline(ic_s, color="k", ls="--", lw=0.8, label="initial contact")
    if math.isfinite(to_s):
        ax.axvline(to_s, color="k", ls=":", lw=0.8, label="take-off")


def regional_thickness_figure(rows: Sequence[dict], image: Optional[np.ndarray] = None,
                              labels: Optional[np.ndarray] = None):
    """Bars of each region's mean thickness (± SD) with the plate mean; with an image, a
    sagittal slice with the label outlines."""
    plt = _plt()
    with_image = image is not None and labels is not None
    fig, axes = plt.subplots(1, 2 if with_image else 1, figsize=(12 if with_image else 8, 4),
                             constrained_layout=True, gridspec_kw={"width_ratios": [2, 1]} if with_image else None)
    ax = axes[0] if with_image else axes
    names = [r["Region"] for r in rows]
    means = np.array([r["Mean thickness (mm)"] for r in rows], dtype=float)
    sds = np.array([r["SD (mm)"] for r in rows], dtype=float)
    colours = {"femoral": "tab:blue", "tibial": "tab:green"}
    x = np.arange(len(rows))
    for plate, colour in colours.items():
        idx = [i for i, r in enumerate(rows) if r["Plate"] == plate]
        if not idx:
            continue
        ax.bar(x[idx], means[idx], yerr=np.nan_to_num(sds[idx]), color=colour, alpha=0.75, capsize=3,
               label=f"{plate} regions (mean ± SD)")
        pm = rows[idx[0]]["Plate mean (mm)"]
        ax.hlines(pm, x[idx[0]] - 0.4, x[idx[-1]] + 0.4, color=colour, ls="--", lw=1.2,
                  label=f"{plate} plate mean ({pm:.2f} mm)")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("mean thickness (mm)")
    ax.legend(fontsize=7, loc="upper right")
    if with_image:
        a2 = axes[1]
        ci = image.shape[0] // 2
        a2.imshow(np.asarray(image)[ci].T, cmap="gray", origin="lower")
        a2.contour(np.asarray(labels)[ci].T, levels=np.arange(0.5, float(labels.max()) + 1), colors="orange",
                   linewidths=0.4)
        a2.set_title("sagittal mid-slice with label outlines", fontsize=9)
        a2.axis("off")
    return fig


def workload_figure(df, w, days: int = 180):
    """Daily load bars, acute and chronic loads, and the ACWR on a second axis with the
    Gabbett 2016 bands; one legend for both axes."""
    plt = _plt()
    d = df.tail(days)
    ww = w.tail(days)
    fig, ax = plt.subplots(figsize=(11, 3.8), constrained_layout=True)
    h = [ax.bar(d["date"], d["daily_load"], width=1.0, color="#bbb", label="daily load (AU)")]
    h += ax.plot(ww["date"], ww["acute_load"], color="#d62728", label="acute load (7-day mean)")
    h += ax.plot(ww["date"], ww["chronic_load"], color="#1f77b4", label="chronic load (28-day mean)")
    ax.set_ylabel("load (AU)")
    ax2 = ax.twinx()
    h.append(ax2.axhspan(0.8, 1.3, color="tab:green", alpha=0.08, label="ACWR 0.8–1.3 (green)"))
    h.append(ax2.axhspan(1.5, max(2.0, float(np.nanmax(ww["acwr_coupled"])) if len(ww) else 2.0), color="tab:red",
                         alpha=0.08, label="ACWR ≥ 1.5 (red)"))
    h += ax2.plot(ww["date"], ww["acwr_coupled"], color="k", lw=0.9, label="acute:chronic ratio")
    ax2.set_ylabel("acute:chronic ratio")
    ax2.set_ylim(0, max(2.0, float(np.nanmax(ww["acwr_coupled"])) * 1.05 if len(ww) else 2.0))
    ax.legend(handles=h, loc="upper left", fontsize=7, ncol=3, framealpha=0.9)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_ha("right")
    return fig


def quantile_reliability(y, p, bins: int = 10) -> dict:
    """Reliability curve with quantile bins (equal counts): per bin the mean predicted
    risk, the observed frequency, the count and the bin's edges (``bin_lo``, ``bin_hi``),
    plus the expected calibration error (count-weighted |observed − predicted|). A value on
    an inner edge falls into the lower bin (as scikit-learn's ``strategy="quantile"``); empty
    bins (many tied predictions) are dropped. Rows with NaN are skipped."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    ok = ~(np.isnan(y) | np.isnan(p))
    y, p = y[ok], p[ok]
    if y.size == 0:
        raise ValueError("quantile_reliability: no rows with both an outcome and a prediction")
    edges = np.quantile(p, np.linspace(0.0, 1.0, bins + 1))
    idx = np.searchsorted(edges[1:-1], p, side="left")
    out = {k: [] for k in ("mean_predicted", "fraction_positive", "count", "bin_lo", "bin_hi")}
    for b in range(bins):
        m = idx == b
        if m.any():
            out["mean_predicted"].append(float(p[m].mean()))
            out["fraction_positive"].append(float(y[m].mean()))
            out["count"].append(int(m.sum()))
            out["bin_lo"].append(float(edges[b]))
            out["bin_hi"].append(float(edges[b + 1]))
    r = {k: np.asarray(v) for k, v in out.items()}
    r["ece"] = float(np.sum(r["count"] * np.abs(r["fraction_positive"] - r["mean_predicted"])) / r["count"].sum())
    return r


def reliability_axes(ax, curves: dict, count_ax=None, max_p: Optional[float] = None) -> None:
    """Draws reliability curves ({name: quantile_reliability(...)}) and the diagonal on
    ``ax`` and, on ``count_ax`` (below it, sharing x), the number of rows in each bin as a
    step over the bin's extent: quantile bins hold equal counts over unequal widths."""
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    top = 0.0
    for k, (name, r) in enumerate(curves.items()):
        c = colours[k % len(colours)]
        ax.plot(r["mean_predicted"], r["fraction_positive"], "o-", ms=3, color=c,
                label=f"{name} (ECE {r['ece']:.4f}, {len(r['count'])} quantile bins)")
        top = max(top, float(np.max(r["mean_predicted"])), float(np.max(r["fraction_positive"])))
        if count_ax is not None:
            for lo, hi, n in zip(r["bin_lo"], r["bin_hi"], r["count"]):
                first = lo == r["bin_lo"][0]
                count_ax.hlines(n, lo, hi, color=c, lw=1.6, label=f"{name}: rows per bin" if first else None)
                count_ax.vlines([lo, hi], 0, n, color=c, lw=0.6, alpha=0.6)
    top = max_p or top * 1.25  # the last quantile bin can reach far: its extent runs off the axis
    ax.plot([0, top], [0, top], "k:", lw=0.8, label="perfect calibration")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_ylabel("observed frequency")
    ax.legend(fontsize=7, loc="upper left")
    if count_ax is not None:
        count_ax.set_xlim(0, top)
        count_ax.set_ylim(0, None)
        count_ax.set_ylabel("rows per bin")
        count_ax.set_xlabel("predicted risk (mean per quantile bin)")
        count_ax.legend(fontsize=6, loc="upper right")
    else:
        ax.set_xlabel("predicted risk (mean per quantile bin)")


def explanation_figure(contributions, title: str, labels: Optional[dict] = None):
    """Horizontal bars of per-feature contributions to the log-odds, sorted by size, with
    readable feature names and each value printed at its bar's end (no overlaps: the axis
    is widened to fit the text)."""
    plt = _plt()
    s = contributions.sort_values(key=lambda v: np.abs(v))
    names = [(labels or {}).get(k, k.replace("_", " ")) for k in s.index]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(s) + 1.4), constrained_layout=True)
    vals = s.to_numpy(dtype=float)
    ax.barh(names, vals, color=["#d62728" if v > 0 else "#1f77b4" for v in vals])
    span = float(np.max(np.abs(vals))) if len(vals) else 1.0
    ax.set_xlim(-span * 1.45, span * 1.45)
    for i, v in enumerate(vals):
        ax.text(v + (0.04 * span if v >= 0 else -0.04 * span), i, f"{v:+.2f}", va="center",
                ha="left" if v >= 0 else "right", fontsize=7)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("contribution to the log-odds (red raises the risk, blue lowers it)")
    ax.set_title(title, fontsize=9)
    return fig
