#!/usr/bin/env python3
"""Synthetic power curves of unusual-movement detection (issue 16 §2).

The synthetic athlete (sportsmed.motion.synthesize_drop_jump) lands from a drop jump; its
*normal* landings vary the way one athlete's repetitions do (see ``normal_landing``). A
baseline is fitted to NORMAL_BASELINE normal landings per scorer; then, for fresh normal
landings and for landings with an injected anomaly of each size, the detection rate at a
5 % false-alarm rate is measured: the threshold is the 95th percentile of the scores of
NORMAL_TEST fresh normal landings (the false-alarm rate measured, not assumed), and the rate
is the share of anomalous landings above it.

Anomalies (injected into the joint angles of the landing's ground contact):

- ``valgus +N deg``: the generator's knee valgus peak raised by N degrees (left knee; the
  right one 70 % of it), as the synthetic athlete produces it;
- ``stiff landing``: hip, knee and ankle sagittal excursion from initial contact reduced by
  25 % on both sides (less flexion: a stiffer landing);
- ``limp (one leg)``: the same reduction on the right leg only (an unloaded, guarded leg).

Run:  python scripts/anomaly_power_curves.py [--scorers pca,ae] [--out table.md]
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
NORMAL_TEST = 100
ANOMALOUS = 50
VALGUS_DEG = 8.0  # the athlete's usual peak knee valgus


def normal_landing(rng):
    """Parameters of one normal landing: valgus peak 8 ± 1 deg, per channel an offset
    (SD 1 deg) and a gain (SD 5 %), contact bounds jittered by ±3 % of its duration, angle
    noise SD 0.5 deg per sample (marker/IK noise)."""
    return {"valgus": VALGUS_DEG + rng.standard_normal(), "offset": rng.standard_normal(len(CHANNELS)),
            "gain": 1.0 + 0.05 * rng.standard_normal(len(CHANNELS)), "jitter": rng.uniform(-0.03, 0.03, 2),
            "seed": int(rng.integers(1, 1_000_000))}


def landing(p, rng, valgus_add=0.0, stiff=(1.0, 1.0)):
    """One landing cycle (channels × 101) of the synthetic athlete; stiff = (right, left)
    factor on the sagittal excursion from initial contact."""
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
    return A.cycles_from_signals(t, x, CHANNELS, [(a, b)], source=f"seed{p['seed']}").data[0]


def batch(n, seed, **kw):
    rng = np.random.default_rng(seed)
    data = np.stack([landing(normal_landing(rng), rng, **kw) for _ in range(n)])
    meta = [{"source": f"{seed}-{i}", "side": "both", "start_s": 0.0, "end_s": 1.0} for i in range(n)]
    return A.Cycles(data, list(CHANNELS), meta)


ANOMALIES = [("valgus +3 deg", {"valgus_add": 3.0}), ("valgus +5 deg", {"valgus_add": 5.0}),
             ("valgus +8 deg", {"valgus_add": 8.0}), ("stiff landing (-25 % sagittal excursion)",
                                                      {"stiff": (0.75, 0.75)}),
             ("limp: one leg guarded (-25 % right)", {"stiff": (0.75, 1.0)})]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scorers", default="pca,ae")
    ap.add_argument("-o", "--output", default=None, help="Markdown file to write (default: stdout)")
    args = ap.parse_args(argv)
    scorers = [s for s in args.scorers.split(",") if s]
    base_cycles = batch(NORMAL_BASELINE, 1)
    normal = batch(NORMAL_TEST, 2)
    odd = {name: batch(ANOMALOUS, 3 + k, **kw) for k, (name, kw) in enumerate(ANOMALIES)}
    rows = {}
    for scorer in scorers:
        t0 = time.process_time()
        base = A.fit_baseline(base_cycles, "dropjump", scorer=scorer)
        s_normal = base.score(normal)
        threshold = np.percentile(s_normal.score, 95)
        fa_calibrated = float((s_normal.percentile >= 95).mean())
        rows[scorer] = {"_fa": float((s_normal.score > threshold).mean()), "_fa_cal": fa_calibrated}
        for name, _ in ANOMALIES:
            s = base.score(odd[name])
            rows[scorer][name] = (float((s.score > threshold).mean()), float((s.percentile >= 95).mean()))
        print(f"{scorer}: {time.process_time() - t0:.1f} s CPU", file=sys.stderr)
    lines = ["| anomaly | " + " | ".join(f"{s}: detected at 5 % FA" for s in scorers) + " |",
             "|---|" + "---|" * len(scorers)]
    for name, _ in ANOMALIES:
        lines.append(f"| {name} | " + " | ".join(f"{rows[s][name][0]:.0%} ({rows[s][name][1]:.0%})" for s in scorers)
                     + " |")
    lines.append("| normal landings flagged (false alarms) | " + " | ".join(
        f"{rows[s]['_fa']:.0%} ({rows[s]['_fa_cal']:.0%})" for s in scorers) + " |")
    lines.append("")
    lines.append(f"Baseline: {NORMAL_BASELINE} normal landings; thresholds from {NORMAL_TEST} fresh normal landings "
                 f"(their 95th percentile); {ANOMALOUS} anomalous landings per row. In brackets: the share at or "
                 "beyond the baseline's own calibrated 95th percentile (percentile >= 95).")
    text = "\n".join(lines) + "\n"
    if args.output:
        from sportsmed._io import write_text_atomic

        write_text_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
