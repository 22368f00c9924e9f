#!/usr/bin/env python3
"""Synthetic power curves of unusual-movement detection (issue 16 §2).

The synthetic athlete (sportsmed.motion.synthesize_drop_jump) lands from a drop jump; its
*normal* landings vary the way one athlete's repetitions do (see ``normal_landing``). A
baseline is fitted to NORMAL_BASELINE (and SMALL_BASELINE) normal landings per scorer, with
and without the between-trial prior; then, for fresh normal landings and for landings with an
injected anomaly of each size, the detection rate at a 5 % false-alarm rate is measured: the
threshold is the 95th percentile of the scores of NORMAL_TEST fresh normal landings (the
false-alarm rate measured, not assumed), and the rate is the share of anomalous landings above
it. The calibrated false-alarm rate — the share of fresh normal landings (normal trials the
baseline did not see) with p < 0.05 — is reported beside it (nominal 5 %).

Anomalies (injected into the joint angles of the landing's ground contact):

- ``valgus +N deg``: the generator's knee valgus peak raised by N degrees (left knee; the
  right one 70 % of it), as the synthetic athlete produces it;
- ``stiff landing``: hip, knee and ankle sagittal excursion from initial contact reduced by
  25 % on both sides (less flexion: a stiffer landing);
- ``limp (one leg)``: the same reduction on the right leg only (an unloaded, guarded leg).

Run:  python scripts/anomaly_power_curves.py [--scorers pca,ae] [--sizes 40,16] [--single-trial 5] [--cvs 0.1,0]
      [--prior-level trial|window] [-o table.md]
Deterministic (fixed seeds). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from sportsmed import motion
from sportsmed.motion import anomaly as A

JOINTS = {"hip_flexion": 0, "hip_adduction": 1, "hip_rotation": 2, "knee_angle": 3, "knee_valgus": 4,
          "ankle_angle": 6}
SAGITTAL = (0, 3, 6)
CHANNELS = [f"{j}_{s}" for s in ("r", "l") for j in JOINTS]
NORMAL_BASELINE = 40
SMALL_BASELINE = 16
#: Windows of the single-landing baselines: the drop jump's default 0.2 s, hop 1/16 of it (the
#: synthetic ground contact lasts about 0.45 s, shorter than the addbiomechanics landings').
WINDOW_S, HOP_S = 0.2, 0.0125
NORMAL_TEST = 100
ANOMALOUS = 50
VALGUS_DEG = 8.0  # the athlete's usual peak knee valgus


def normal_landing(rng):
    """Parameters of one normal landing. Trial-level variation common to both legs — landing
    depth (sagittal excursion gain, SD 10 %) and a bilateral offset per joint (SD 2 deg) — as
    one athlete's landings vary from trial to trial; a small side-specific part (per channel
    offset SD 0.5 deg, gain SD 2 %); the valgus peak 8 ± 1 deg; contact bounds jittered by ±3 %
    of its duration; angle noise SD 0.5 deg per sample (marker/IK noise)."""
    J = len(JOINTS)
    depth = 1.0 + 0.10 * rng.standard_normal()
    common = 2.0 * rng.standard_normal(J)
    gain = np.tile(np.where(np.isin(np.arange(J), [list(JOINTS.values()).index(c) for c in SAGITTAL]), depth, 1.0), 2)
    return {"valgus": VALGUS_DEG + rng.standard_normal(),
            "offset": np.tile(common, 2) + 0.5 * rng.standard_normal(2 * J),
            "gain": gain * (1.0 + 0.02 * rng.standard_normal(2 * J)), "jitter": rng.uniform(-0.03, 0.03, 2),
            "seed": int(rng.integers(1, 1_000_000))}


def landing(p, rng, valgus_add=0.0, stiff=(1.0, 1.0), unit="cycle", source=""):
    """One landing of the synthetic athlete as Cycles: the ground contact time-normalised
    (``unit="cycle"``, one cycle) or cut into windows of WINDOW_S every HOP_S (``"window"``);
    stiff = (right, left) factor on the sagittal excursion from initial contact."""
    s = motion.synthesize_drop_jump(seed=p["seed"], knee_valgus_peak_deg=p["valgus"] + valgus_add, dropouts=0)
    t = np.asarray(s.trial.times_s, float)
    ic, to = s.initial_contact_s, s.take_off_s
    k0 = int(np.searchsorted(t, ic))
    cols = []
    for side, f in (("R", stiff[0]), ("L", stiff[1])):
        ang = np.asarray(s.true_angles_right if side == "R" else s.true_angles_left, float).copy()
        for c in SAGITTAL:
            ang[k0:, c] = ang[k0, c] + f * (ang[k0:, c] - ang[k0, c])
        cols += [ang[:, j] for j in JOINTS.values()]
    x = np.stack(cols, axis=1) * p["gain"] + p["offset"]
    x = x + 0.5 * rng.standard_normal(x.shape)
    d = to - ic
    a, b = ic + d * p["jitter"][0], to + d * p["jitter"][1]
    return A.segment(t, x, CHANNELS, "dropjump", unit, source, window_s=WINDOW_S, hop_s=HOP_S, landing=(a, b))


def batch(n, seed, unit="cycle", **kw):
    """n landings, each its own trial (source ``<seed>-<i>``)."""
    rng = np.random.default_rng(seed)
    out = None
    for i in range(n):
        c = landing(normal_landing(rng), rng, unit=unit, source=f"{seed}-{i}", **kw)
        out = c if out is None else out + c
    return out


ANOMALIES = [("valgus +3 deg", {"valgus_add": 3.0}), ("valgus +5 deg", {"valgus_add": 5.0}),
             ("valgus +8 deg", {"valgus_add": 8.0}), ("stiff landing (-25 % sagittal excursion)",
                                                      {"stiff": (0.75, 0.75)}),
             ("limp: one leg guarded (-25 % right)", {"stiff": (0.75, 1.0)})]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scorers", default="pca,ae")
    ap.add_argument("--sizes", default=f"{NORMAL_BASELINE},{SMALL_BASELINE}",
                    help="baseline sizes (normal landings) to measure")
    ap.add_argument("--cvs", default=f"{A.BETWEEN_TRIAL_CV},0",
                    help="between-trial CVs of the prior to compare (0: no prior)")
    ap.add_argument("--prior-level", choices=list(A.PRIOR_LEVELS), default="window",
                    help="the prior's level (fit_baseline's prior_level; default window, as the library)")
    ap.add_argument("--single-trial", type=int, default=5, metavar="N",
                    help="also baselines of the windows of ONE normal landing, N of them (0: skip)")
    ap.add_argument("-o", "--output", default=None, help="Markdown file to write (default: stdout)")
    args = ap.parse_args(argv)
    scorers = [s for s in args.scorers.split(",") if s]
    sizes = [int(v) for v in args.sizes.split(",") if v]
    cvs = [float(v) for v in args.cvs.split(",") if v]
    pool = batch(max(sizes), 1)
    normal = batch(NORMAL_TEST, 2)
    odd = {name: batch(ANOMALOUS, 3 + k, **kw) for k, (name, kw) in enumerate(ANOMALIES)}
    columns, rows = [], {name: [] for name, _ in ANOMALIES}
    rows["_fa"] = []
    for scorer in scorers:
        for size in sizes:
            for cv in cvs:
                t0 = time.process_time()
                base = A.fit_baseline(pool.subset(slice(0, size)), "dropjump", scorer=scorer, between_trial_cv=cv,
                                      prior_level=args.prior_level)
                s_normal = base.score(normal)
                threshold = np.percentile(s_normal.score, 95)
                columns.append(f"{scorer}, {size} landings, CV {cv:g}")
                rows["_fa"].append(f"{(s_normal.score > threshold).mean():.0%} ({(s_normal.p < 0.05).mean():.0%})")
                for name, _ in ANOMALIES:
                    sc = base.score(odd[name])
                    rows[name].append(f"{(sc.score > threshold).mean():.0%} ({(sc.p < 0.05).mean():.0%})")
                print(f"{columns[-1]}: {time.process_time() - t0:.1f} s CPU", file=sys.stderr)
    if args.single_trial:
        # the addbiomechanics regime: the baseline is the windows of ONE normal landing
        normal_w = batch(NORMAL_TEST // 5, 2, unit="window")
        odd_w = {name: batch(ANOMALOUS // 5, 3 + k, unit="window", **kw) for k, (name, kw) in enumerate(ANOMALIES)}
        for scorer in scorers:
            for cv in cvs:
                t0 = time.process_time()
                fa, det, fa_emp = [], {name: [] for name, _ in ANOMALIES}, []
                for b in range(args.single_trial):
                    base = A.fit_baseline(batch(1, 100 + b, unit="window"), "dropjump", scorer=scorer, unit="window",
                                          window_s=WINDOW_S, hop_s=HOP_S, between_trial_cv=cv,
                                          prior_level=args.prior_level)
                    s_normal = base.score(normal_w)
                    threshold = np.percentile(s_normal.score, 95)
                    fa.append((s_normal.p < 0.05).mean())
                    fa_emp.append((s_normal.score > threshold).mean())
                    for name, _ in ANOMALIES:
                        sc = base.score(odd_w[name])
                        det[name].append(((sc.score > threshold).mean(), (sc.p < 0.05).mean()))
                columns.append(f"{scorer}, windows of 1 landing, CV {cv:g}")
                rows["_fa"].append(f"{np.mean(fa_emp):.0%} ({np.mean(fa):.0%})")
                for name, _ in ANOMALIES:
                    d = np.asarray(det[name])
                    rows[name].append(f"{d[:, 0].mean():.0%} ({d[:, 1].mean():.0%})")
                print(f"{columns[-1]}: {time.process_time() - t0:.1f} s CPU", file=sys.stderr)
    lines = ["| anomaly | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, _ in ANOMALIES:
        lines.append(f"| {name} | " + " | ".join(rows[name]) + " |")
    lines.append("| normal landings flagged (false alarms) | " + " | ".join(rows["_fa"]) + " |")
    lines.append("")
    lines.append(f"Detection rate at a 5 % false-alarm rate: threshold = the 95th percentile of the scores of "
                 f"{NORMAL_TEST} fresh normal landings; {ANOMALOUS} anomalous landings per row. In brackets: the "
                 "share the baseline's own calibration flags (p < 0.05) — for the last row, the calibrated "
                 "false-alarm rate (nominal 5 %).")
    text = "\n".join(lines) + "\n"
    if args.output:
        from sportsmed._io import write_text_atomic

        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
