"""Unusual-movement detection against an athlete's own baseline (issue 16, part 2).

A *cycle* is one repetition of a task — a gait cycle, a drop-jump landing, a squat — or a
fixed-length window of a trial, time-normalised to 101 points: an array (channels × 101)
of joint angles in degrees with named channels. A :class:`Baseline` is fitted to an
athlete's normal cycles and scores new ones:

- per-phase mean and standard deviation (the channel × phase z-score map of a new cycle);
- the cycles in **bilateral parts**: the bilateral mean (R + L)/2 per joint (``sym``, with any
  channel without a partner) and the asymmetry R − L (``asym``), each scored by its own model
  (pca: a probabilistic PCA, components to 90 % of the part's variance but none inside the
  Marchenko–Pastur bulk of the marker/IK noise; ae: the autoencoder's reconstruction error in
  the same coordinates over its out-of-fold residual variance);
- a **between-trial prior**: cycles of one trial cannot show how the athlete's trials differ
  (depth, speed, effort), so each side's joint gets a trial effect — an offset of SD
  max(sd_floor_deg, CV × the joint's excursion) and a gain of SD CV (:data:`BETWEEN_TRIAL_CV`
  = 0.10), the sides correlated :data:`BETWEEN_SIDE_CORRELATION` (0.8: trial-to-trial change
  is mostly common to both legs, so the bilateral mean gets most of it, the asymmetry little);
  the prior's variance shrinks as PRIOR_TRIALS / (PRIOR_TRIALS + T − 1) with the baseline's T
  trials (hierarchical: T trials already show T − 1 degrees of freedom). **Trial level**
  (``prior_level="trial"``, format 4, an option): a new trial — the cycles of one ``source``
  (and side, for gait cycles) — has ONE effect, its posterior mean θ̂ estimated from all its cycles jointly; a cycle's part score is
  its Mahalanobis distance under the within-trial covariance after that effect plus the
  effect's prior cost θ̂ᵀT⁻¹θ̂ (summed over a trial, with the cost once, the distance of the
  stacked trial under block-diag(A) + U T Uᵀ), so a change the whole trial shares is priced
  once against the prior instead of each cycle fitting its own offsets and gains.
  ``prior_level="window"`` (the default, format 3's only way): each cycle's own effect
  marginalised (Woodbury, per cycle);
- each part calibrated against its own null — leave one cycle out (pca) or cross-fitted
  folds (ae), the left-out cycles given trial effects drawn from the prior (trial level: per
  draw, each baseline trial re-observed as a new trial with one effect, scored as a new trial
  is) — by a scaled chi-square matched to the null's mean and variance (Box 1954), and the
  parts combined by the smallest tail probability with a Šidák correction: ``score`` = −log10 p;
- left/right asymmetry per joint (mean right − left, or ipsilateral − contralateral, over
  the cycle) as a z-score against the baseline's asymmetry.

The scorer is chosen by name: ``scorer="pca"`` (the transparent statistical one, NumPy) or
``scorer="ae"`` (the deep one: a LibTorch 1-D convolutional autoencoder,
:class:`sportsmed._torch.motion.CycleAutoencoder`, pre-trained on the synthetic athlete's
landings and adapted to the baseline), behind the same :func:`fit_baseline` /
:meth:`Baseline.score` API. Both deterministic for a seed. Baselines of format versions 1-3
(1-2: one model of the raw channels; 3: the prior per cycle) are still read and scored as they were.

Drop-jump landings are found from foot-marker kinematics alone (:func:`foot_contacts`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._core import FormatError, InvalidArgument

__all__ = ["Cycles", "Baseline", "POINTS", "TASKS", "IK_JOINTS", "FORMAT", "FORMAT_VERSION",
           "signals_from_ik", "foot_contacts", "segment", "segment_trial", "cycles_from_signals", "fit_baseline",
           "load_baseline", "auc"]

#: Samples per time-normalised cycle (0 … 100 % of the cycle).
POINTS = 101
TASKS = ("gait", "dropjump", "squat")
#: OpenSim IK coordinates used per side (gait2392 / Rajagopal names, degrees).
IK_JOINTS = ("hip_flexion", "hip_adduction", "hip_rotation", "knee_angle", "ankle_angle")
FORMAT = "sportsmed.motion.baseline"
FORMAT_VERSION = 4
SCORERS = ("pca", "ae")
#: The deep scorer's training schedule (never tuned per data set): pre-training on the
#: synthetic athlete's cycles, adaptation to the baseline, folds of its calibration null.
AE_PRETRAIN_CYCLES = 192
AE_PRETRAIN_EPOCHS = 30
AE_ADAPT_STEPS = 200
AE_ADAPT_LEARNING_RATE = 3e-3
AE_BATCH = 32
AE_FOLDS = 5


@dataclass
class Cycles:
    """Time-normalised cycles.

    Attributes
    ----------
    data : ndarray (n, channels, 101), degrees
    channels : list of str, names ending in ``_r``/``_l`` (bilateral) or ``_ipsi``/``_contra``
        (gait cycles of either side, the cycle's own side first)
    meta : list of dict per cycle: ``source``, ``side`` (``R``, ``L`` or ``both``),
        ``start_s``, ``end_s``
    """

    data: np.ndarray
    channels: List[str]
    meta: List[Dict] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def kinds(self) -> set:
        """The (task, unit) pairs the cycles' meta record (``segment_trial`` records them)."""
        return {(m["task"], m["unit"]) for m in self.meta if "task" in m and "unit" in m}

    def __add__(self, other: "Cycles") -> "Cycles":
        if list(other.channels) != list(self.channels):
            raise InvalidArgument(f"Cycles: cannot join channels {other.channels} to {self.channels}")
        kinds = self.kinds() | other.kinds()
        if len(kinds) > 1:
            raise InvalidArgument("Cycles: cannot join cycles of different tasks or units ("
                                  + ", ".join(f"{t} {u}s" for t, u in sorted(kinds)) + "): a baseline is one task")
        return Cycles(np.concatenate([self.data, other.data]), list(self.channels), list(self.meta) + list(other.meta))

    def subset(self, index) -> "Cycles":
        idx = np.arange(len(self))[index]
        return Cycles(self.data[idx], list(self.channels), [self.meta[i] for i in idx])


# ----------------------------------------------------------------------------- signals

def signals_from_ik(ik) -> Tuple[np.ndarray, np.ndarray, List[str], Optional[np.ndarray]]:
    """Joint angles per side from an OpenSim IK table.

    Parameters
    ----------
    ik : path or :class:`MotTable`

    Returns
    -------
    times_s (frames,), angles_deg (frames, 10), channels (``hip_flexion_r`` … ``ankle_angle_l``),
    pelvis_height_m (frames,) from ``pelvis_ty`` or None.
    """
    from . import read_mot  # noqa: F401  (late: the compiled reader)

    table = ik if hasattr(ik, "labels") else read_mot(os.fspath(ik))
    labels = list(table.labels)
    data = np.asarray(table.data, dtype=float)
    name = getattr(table, "name", "") or str(ik)
    if "time" not in labels:
        raise FormatError(f"anomaly: IK table '{name}' has no 'time' column")
    channels = [f"{j}_{s}" for s in ("r", "l") for j in IK_JOINTS]
    missing = [c for c in channels if c not in labels]
    if missing:
        raise FormatError(f"anomaly: IK table '{name}' lacks the coordinates {missing} (has {labels[:12]} ...)")
    x = data[:, [labels.index(c) for c in channels]]
    if not table.in_degrees:
        from .opensim_model import check_radians

        check_radians(x, name, "joint angles")
        x = np.degrees(x)
    py = data[:, labels.index("pelvis_ty")] if "pelvis_ty" in labels else None
    return data[:, labels.index("time")], x, channels, py


def _trc_heights(trc, times_s):
    """Vertical heel (r, l) and pelvis heights from a TRC/Trial, resampled to times_s (mm)."""
    from . import read_trc

    trial = trc if hasattr(trc, "point_labels") else read_trc(os.fspath(trc))
    labels = [s.lower() for s in trial.point_labels]
    pts = np.asarray(trial.points, dtype=float)
    t = np.asarray(trial.times_s, dtype=float)

    def find(cands):
        for c in cands:
            if c.lower() in labels:
                return pts[:, labels.index(c.lower()), :]
        return None

    heel_r = find(["r_calc", "RHEE", "R.Heel", "RCAL"])
    heel_l = find(["L_calc", "LHEE", "L.Heel", "LCAL"])
    pel = [p for p in (find([n]) for n in ("r.ASIS", "L.ASIS", "r.PSIS", "L.PSIS", "RASI", "LASI", "RPSI", "LPSI",
                                             "SACR")) if p is not None]
    if heel_r is None or heel_l is None or not pel:
        raise InvalidArgument(f"anomaly: trial '{getattr(trial, 'name', trc)}' needs heel markers (r_calc/L_calc or "
                              "RHEE/LHEE) and pelvis markers (ASIS/PSIS or RASI/LASI/SACR) to find cycles")
    pelvis = np.nanmean(np.stack(pel), axis=0)
    # vertical axis: the one along which the pelvis stands furthest above the heels
    up = int(np.argmax(np.abs(np.nanmean(pelvis - heel_r, axis=0))))
    sign = np.sign(np.nanmean(pelvis - heel_r, axis=0)[up])
    # The IK times must lie within the markers' (np.interp would hold the first or last
    # height and the cycles would come from nowhere).
    ts = np.asarray(times_s, dtype=float)
    inside = (ts >= t[0] - 0.5 / max(trial.point_rate_hz, 1e-9)) & (ts <= t[-1] + 0.5 / max(trial.point_rate_hz, 1e-9))
    if ts.size and inside.mean() < 0.9:
        raise InvalidArgument(f"anomaly: the IK runs {ts[0]:g}-{ts[-1]:g} s but the markers of "
                              f"'{getattr(trial, 'name', trc)}' {t[0]:g}-{t[-1]:g} s: "
                              f"{100 * (1 - inside.mean()):.0f} % of the IK lies outside the trial (a different trial, "
                              "or a time offset?)")
    out = []
    for m in (heel_r, heel_l, pelvis):
        v = sign * m[:, up]
        ok = np.isfinite(v)
        out.append(np.interp(times_s, t[ok], v[ok]))
    return out[0], out[1], out[2], trial, up


# Toe markers first (drop-jump landings and take-offs are made on the forefoot), then the
# fifth metatarsal, then the heel, in the marker sets the project reads.
_FOOT_MARKERS = {
    "R": ["r_toe", "RTOE", "R.TO", "R.Toe", "RTO", "r_5meta", "RMT5", "R.MT5", "r_calc", "RHEE", "R.Heel"],
    "L": ["L_toe", "LTOE", "L.TO", "L.Toe", "LTO", "L_5meta", "LMT5", "L.MT5", "L_calc", "LHEE", "L.Heel"],
}
#: A flight lifts the forefoot marker at least this far above its floor level (mm).
FLIGHT_MM = 100.0
#: The forefoot marker is on the floor within this height of its floor level (mm).
FLOOR_MM = 20.0


def _vertex(v, i):
    """Sub-frame position of the extremum of v at frame i (parabola through i-1, i, i+1)."""
    if 0 < i < v.size - 1:
        a, b, c = v[i - 1], v[i], v[i + 1]
        d = a - 2 * b + c
        if d != 0 and np.isfinite(d):
            return i + float(np.clip(0.5 * (a - c) / d, -0.5, 0.5))
    return float(i)


def foot_contacts(trial) -> Dict[str, Dict[str, List[float]]]:
    """Ground contacts of jumps and drop jumps from foot-marker kinematics alone (no forces).

    Rule (per foot, on its forefoot marker: toe, else fifth metatarsal, else heel):

    - height h = vertical position − the marker's floor level (its 2nd-percentile height over
      the trial: the frames the foot stands on the floor);
    - a *flight* is a maximum of h at least :data:`FLIGHT_MM` (100 mm) high and prominent —
      or, when the trial starts that high, the start on the box of a drop jump;
    - **initial contact** after a flight = the instant of the foot's fastest descent between the
      flight's apex and the marker's return to within :data:`FLOOR_MM` (20 mm) of the floor:
      in flight the foot falls with a downward acceleration, the ground reverses it, so the
      vertical velocity is most negative at contact;
    - **take-off** before a flight = the instant of the fastest ascent between the marker's last
      frame within 20 mm of the floor and the apex: the push accelerates the foot upward until
      the forefoot leaves the ground, after which it decelerates.

    Extremes are located to a sub-frame by a parabola through three velocity samples.
    Velocities are central differences of the marker heights (no filter: the extremes are
    broad, a filter would shift them). Validated against force plates on Sample_Jump2.c3d
    (see tests/python/test_motion_anomaly.py and the README).

    Parameters
    ----------
    trial : path (TRC or C3D) or Trial

    Returns
    -------
    ``{"R": {"contact_s": [...], "take_off_s": [...], "marker": name}, "L": {...}}`` in seconds
    of the trial's time axis.
    """
    from . import read_c3d, read_trc

    if not hasattr(trial, "point_labels"):
        path = os.fspath(trial)
        trial = read_c3d(path).trial if path.lower().endswith(".c3d") else read_trc(path)
    labels = list(trial.point_labels)
    lower = [s.lower() for s in labels]
    pts = np.asarray(trial.points, dtype=float)
    t = np.asarray(trial.times_s, dtype=float)
    scale = 1000.0 if str(getattr(trial, "point_units", "mm")).strip().lower() == "m" else 1.0
    name = getattr(trial, "name", "") or "trial"
    if t.size < 5:
        raise InvalidArgument(f"foot_contacts: '{name}' holds {t.size} frames")
    up, sign = _vertical(pts, lower, name)
    out = {}
    for side, cands in _FOOT_MARKERS.items():
        marker = next((c for c in cands if c.lower() in lower), None)
        if marker is None:
            raise InvalidArgument(f"foot_contacts: '{name}' has none of the {side} foot markers {cands}")
        z = sign * scale * pts[:, lower.index(marker.lower()), up]
        ok = np.isfinite(z)
        if ok.sum() < 5:
            raise InvalidArgument(f"foot_contacts: marker {marker} of '{name}' is missing in most frames")
        z = np.interp(t, t[ok], z[ok])
        h = z - np.percentile(z, 2)
        v = np.gradient(z, t)
        apexes = [int(i) for i in _maxima(h, FLIGHT_MM, 1) if h[i] >= FLIGHT_MM]
        start_high = h[0] >= FLIGHT_MM
        contact, take_off = [], []
        if start_high:
            floor = np.flatnonzero(h < FLOOR_MM)
            first = int(floor[0]) if floor.size else t.size - 1
            apexes = [a for a in apexes if a > first] 
            apexes.insert(0, int(np.argmax(h[:first + 1])))
        for k, a in enumerate(apexes):
            on = np.flatnonzero(h[:a] < FLOOR_MM)
            if not (k == 0 and start_high) and on.size:
                i = on[-1] + int(np.argmax(v[on[-1]:a + 1]))
                take_off.append(float(np.interp(_vertex(v, i), np.arange(t.size), t)))
            down = np.flatnonzero(h[a:] < FLOOR_MM)
            if down.size:
                e = a + int(down[0])
                i = a + int(np.argmin(v[a:e + 1]))
                contact.append(float(np.interp(_vertex(v, i), np.arange(t.size), t)))
        out[side] = {"contact_s": contact, "take_off_s": take_off, "marker": marker}
    return out


def _vertical(pts, lower, name):
    """The vertical axis and its sign: the axis along which the pelvis markers stand furthest
    above the foot markers."""
    def first(cands):
        for c in cands:
            if c.lower() in lower:
                return pts[:, lower.index(c.lower()), :]
        return None

    pel = [p for p in (first([n]) for n in ("r.ASIS", "L.ASIS", "RASI", "LASI", "r.PSIS", "L.PSIS", "RPSI", "LPSI",
                                             "SACR", "VSAC")) if p is not None]
    foot = [p for p in (first(c) for c in _FOOT_MARKERS.values()) if p is not None]
    if not pel or not foot:
        raise InvalidArgument(f"foot_contacts: '{name}' needs pelvis markers (ASIS/PSIS, RASI/LASI or SACR) and foot "
                              "markers to find the vertical")
    d = np.nanmean(np.nanmean(np.stack(pel), axis=0) - np.nanmean(np.stack(foot), axis=0), axis=0)
    up = int(np.argmax(np.abs(d)))
    return up, float(np.sign(d[up]))


def _minima(x, prominence, distance):
    from scipy.signal import find_peaks

    idx, _ = find_peaks(-np.asarray(x, float), prominence=prominence, distance=max(1, int(distance)))
    return idx


def _maxima(x, prominence, distance):
    from scipy.signal import find_peaks

    idx, _ = find_peaks(np.asarray(x, float), prominence=prominence, distance=max(1, int(distance)))
    return idx


def _heel_strikes(h, rate):
    """Foot strikes: the heel coming down through 20 % of its height range after a swing
    peak (a height minimum is a plateau through stance, its first frame is the strike)."""
    h = np.asarray(h, float)
    lo, rng = np.nanmin(h), np.nanmax(h) - np.nanmin(h)
    below = h < lo + 0.2 * rng
    idx = np.flatnonzero(below[1:] & ~below[:-1]) + 1
    out = []
    for i in idx:  # strides last more than 0.6 s
        if not out or i - out[-1] > 0.6 * rate:
            out.append(int(i))
    return np.asarray(out, int)


def _resample(t, x, a, b, points=POINTS):
    tt = np.linspace(a, b, points)
    return np.stack([np.interp(tt, t, x[:, j]) for j in range(x.shape[1])])


def cycles_from_signals(times_s, x, channels, bounds: Sequence[Tuple[float, float]], source: str = "",
                        sides: Optional[Sequence[str]] = None, points: int = POINTS) -> Cycles:
    """Cycles cut from signals at given (start_s, end_s) bounds and time-normalised.

    Parameters
    ----------
    times_s : (frames,)
    x : (frames, channels), degrees
    bounds : list of (start_s, end_s) inside the signals' time span
    sides : per cycle ``R``/``L``/``both`` (default both)
    """
    t = np.asarray(times_s, float)
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[0] != t.size or x.shape[1] != len(channels):
        raise InvalidArgument(f"cycles_from_signals: x must be frames × {len(channels)} with {t.size} frames, "
                              f"got {x.shape}")
    data, meta = [], []
    for i, (a, b) in enumerate(bounds):
        if not (t[0] - 1e-9 <= a < b <= t[-1] + 1e-9):
            raise InvalidArgument(f"cycles_from_signals: cycle {i} [{a}, {b}] s outside the signals' "
                                  f"[{t[0]}, {t[-1]}] s")
        data.append(_resample(t, x, a, b, points))
        meta.append({"source": source, "side": sides[i] if sides else "both", "start_s": float(a), "end_s": float(b)})
    return Cycles(np.stack(data) if data else np.zeros((0, len(channels), points)), list(channels), meta)


def _to_ipsi(x, channels, side):
    """Reorders r/l channels so the cycle's own side comes first, renamed _ipsi/_contra."""
    own, other = ("_r", "_l") if side == "R" else ("_l", "_r")
    names, cols = [], []
    for suffix, tag in ((own, "_ipsi"), (other, "_contra")):
        for k, c in enumerate(channels):
            if c.endswith(suffix):
                names.append(c[: -len(suffix)] + tag)
                cols.append(k)
    return x[:, cols], names


def segment(times_s, x, channels, task: str, unit: str = "cycle", source: str = "",
            pelvis_height=None, heel_heights=None, window_s: Optional[float] = None, hop_s: Optional[float] = None,
            landing: Optional[Tuple[float, float]] = None) -> Cycles:
    """Cycles of a task from joint-angle signals.

    Parameters
    ----------
    times_s : (frames,) s;  x : (frames, channels) degrees, channels ending in ``_r``/``_l``
    task : ``gait`` (cycles from heel strikes: each heel coming down to its stance height, one cycle per
        strike-to-strike interval, channels turned ipsilateral/contralateral), ``dropjump``
        (the landing's ground contact ``landing`` = (first initial contact, last take-off) found by
        :func:`foot_contacts`; without it, from the pelvis-height maximum before the deepest
        pelvis drop to the next maximum), ``squat`` (one repetition per
        pelvis-height minimum with a prominence of at least 30 % of the trial's range,
        bounded by the standing maxima between repetitions)
    unit : ``cycle`` (the task's repetitions) or ``window`` (windows of ``window_s`` every
        ``hop_s`` over the span the task covers — for a drop jump with ``landing``, the landing's
        ground contact; for trials holding a single repetition). Default window and hop per task
        (:func:`window_defaults`): about a third of one repetition, hop an eighth of the window.
    pelvis_height : (frames,) any unit, up positive (``squat``, ``dropjump``)
    heel_heights : ((frames,), (frames,)) right and left heel heights (``gait``)
    """
    t = np.asarray(times_s, float)
    x = np.asarray(x, float)
    if task not in TASKS:
        raise InvalidArgument(f"segment: task must be one of {list(TASKS)}, got '{task}'")
    if unit not in ("cycle", "window"):
        raise InvalidArgument(f"segment: unit must be 'cycle' or 'window', got '{unit}'")
    if t.size < 4:
        raise InvalidArgument(f"segment: '{source}' holds {t.size} frames")
    rate = (t.size - 1) / (t[-1] - t[0])
    note = ""
    if landing is not None:
        a, b = max(float(landing[0]), t[0]), min(float(landing[1]), t[-1])
        if not a < b:
            raise InvalidArgument(f"segment: the landing [{landing[0]:.3f}, {landing[1]:.3f}] s of '{source}' lies "
                                  f"outside its joint angles' [{t[0]:.3f}, {t[-1]:.3f}] s")
        if a - landing[0] > 1.5 / rate or landing[1] - b > 1.5 / rate:
            note = (f"the joint angles cover only [{a:.3f}, {b:.3f}] s of the landing [{landing[0]:.3f}, "
                    f"{landing[1]:.3f}] s found from the foot markers")
    if unit == "window":
        window_s, hop_s = window_defaults(task, window_s, hop_s)
        lo, hi = (a, b) if task == "dropjump" and landing is not None else (t[0], t[-1])
        starts = np.arange(lo, hi - window_s + 1e-9, hop_s)
        return _noted(cycles_from_signals(t, x, channels, [(s, s + window_s) for s in starts], source), note)
    if task == "gait":
        if heel_heights is None:
            raise InvalidArgument(f"segment: gait cycles of '{source}' need heel heights (a TRC with heel markers)")
        out = None
        for side, h in zip(("R", "L"), heel_heights):
            strikes = _heel_strikes(h, rate)
            xs, names = _to_ipsi(x, channels, side)
            c = cycles_from_signals(t, xs, names, [(t[a], t[b]) for a, b in zip(strikes[:-1], strikes[1:])], source,
                                    [side] * max(0, strikes.size - 1))
            out = c if out is None else out + c
        return out
    if pelvis_height is None and not (task == "dropjump" and landing is not None):
        raise InvalidArgument(f"segment: {task} cycles of '{source}' need the pelvis height (IK pelvis_ty or a TRC)")
    if task == "dropjump" and landing is not None:
        return _noted(cycles_from_signals(t, x, channels, [(a, b)], source), note)
    h = np.asarray(pelvis_height, float)
    rng = float(np.nanmax(h) - np.nanmin(h))
    if task == "dropjump":
        lo = int(np.nanargmin(h))
        maxima = _maxima(h, 0.1 * rng, 0.1 * rate)
        before, after = maxima[maxima < lo], maxima[maxima > lo]
        a = t[before[-1]] if before.size else t[0]
        b = t[after[0]] if after.size else t[-1]
        return cycles_from_signals(t, x, channels, [(a, b)], source)
    minima = _minima(h, 0.3 * rng, 0.5 * rate)
    bounds = []
    for i, m in enumerate(minima):
        lo = minima[i - 1] if i else 0
        hi = minima[i + 1] if i + 1 < minima.size else t.size - 1
        a = lo + int(np.argmax(h[lo:m + 1])) if i else int(np.argmax(h[: m + 1]))
        b = m + int(np.argmax(h[m:hi + 1]))
        if a < m < b:
            bounds.append((t[a], t[b]))
    return cycles_from_signals(t, x, channels, bounds, source)


def _noted(cycles: Cycles, note: str) -> Cycles:
    """Adds a ``warning`` to every cycle's meta (it becomes a column of the score table)."""
    if note:
        for m in cycles.meta:
            m["warning"] = note
    return cycles


def window_defaults(task: str, window_s: Optional[float] = None, hop_s: Optional[float] = None):
    """Window and hop (s) of ``unit="window"``: given values, else the task's defaults — about
    a third of one repetition (a gait stride ~1.1 s: 0.4 s; a squat: 0.4 s; a drop-jump
    landing's ground contact ~0.6 s: 0.2 s), hop an eighth of the window."""
    default = {"dropjump": 0.2}.get(task, 0.4)
    w = default if window_s is None else float(window_s)
    h = w / 8.0 if hop_s is None else float(hop_s)
    if not (w > 0 and h > 0):
        raise InvalidArgument(f"segment: window_s and hop_s must be > 0, got {w}, {h}")
    return w, h


def landing_of(contacts) -> Tuple[float, float]:
    """The drop-jump landing's ground contact from :func:`foot_contacts`: (the first foot's first
    initial contact, the last foot's take-off after it)."""
    ics = [c["contact_s"][0] for c in contacts.values() if c["contact_s"]]
    if not ics:
        raise InvalidArgument("landing: no initial contact found (no flight of the forefoot markers of 100 mm "
                              "or more ending on the floor)")
    ic = min(ics)
    tos = [next((x for x in c["take_off_s"] if x > ic), None) for c in contacts.values()]
    if any(x is None for x in tos):
        raise InvalidArgument(f"landing: a foot does not take off after the initial contact at {ic:.3f} s "
                              "(a drop jump rebounds; the trial may end too early)")
    return ic, max(tos)


def segment_trial(trc=None, ik=None, task: str = "gait", unit: str = "cycle", window_s: Optional[float] = None,
                  hop_s: Optional[float] = None) -> Cycles:
    """Cycles of one trial: joint angles from the IK .mot, cycle bounds from the TRC's foot
    markers (drop-jump landings, :func:`foot_contacts`; gait, heel strikes) or the IK's pelvis
    height (squat; drop jump without a TRC).

    Parameters
    ----------
    trc : path or Trial, optional (needed for gait cycles)
    ik : path or MotTable (OpenSim IK, degrees); required in this version
    """
    if ik is None:
        raise InvalidArgument("segment_trial: joint angles come from an OpenSim IK .mot in this version; "
                              "pass ik= (--ik on the command line)")
    t, x, channels, py = signals_from_ik(ik)
    source = os.path.basename(os.fspath(ik)) if not hasattr(ik, "labels") else (ik.name or "ik")
    heels, landing, timing = None, None, {}
    if trc is not None and task == "dropjump":
        try:
            contacts = foot_contacts(trc)
            landing = landing_of(contacts)
        except InvalidArgument as e:
            raise InvalidArgument(f"segment_trial: '{os.fspath(trc) if not hasattr(trc, 'points') else 'trial'}': {e}")
        # left/right timing of the landing (right − left, ms): a foot landing or leaving first
        r, l = contacts["R"], contacts["L"]
        timing["contact_asym_ms"] = (1000.0 * (r["contact_s"][0] - l["contact_s"][0])
                                     if r["contact_s"] and l["contact_s"] else float("nan"))
        tr = next(v for v in r["take_off_s"] if v > landing[0])
        tl = next(v for v in l["take_off_s"] if v > landing[0])
        timing["take_off_asym_ms"] = 1000.0 * (tr - tl)
    if trc is not None and (task == "gait" or py is None):
        hr, hl, pel, _, _ = _trc_heights(trc, t)
        heels = (hr, hl)
        py = pel if py is None else py
    cycles = segment(t, x, channels, task, unit, source, pelvis_height=py, heel_heights=heels, window_s=window_s,
                     hop_s=hop_s, landing=landing)
    for m in cycles.meta:
        m.update(timing)
        m.update(task=task, unit=unit)  # what the cycles are: a baseline refuses others
    return cycles


# ----------------------------------------------------------------------------- scorer

def _asym_pairs(channels):
    pairs = []
    for k, c in enumerate(channels):
        for a, b in (("_r", "_l"), ("_ipsi", "_contra")):
            if c.endswith(a) and (c[: -len(a)] + b) in channels:
                pairs.append((c[: -len(a)], k, channels.index(c[: -len(a)] + b)))
    return pairs


def _asym_score(asym, mean, sd, floor):
    """Asymmetry score of each cycle: the mean over joints of the squared asymmetry z-score
    (a chi-square over the number of joints when the baseline's asymmetries are Gaussian)."""
    if asym.shape[1] == 0:
        return np.zeros(asym.shape[0])
    z = (asym - mean) / np.maximum(sd, floor)
    return (z ** 2).mean(1)


def _asymmetry(data, pairs):
    """Mean (first − second side) over the cycle per joint: (n, joints) degrees."""
    return np.stack([data[:, i, :].mean(1) - data[:, j, :].mean(1) for _, i, j in pairs], axis=1) \
        if pairs else np.zeros((data.shape[0], 0))


class _Pca:
    """PCA of stacked cycle vectors (degrees, centred, not scaled: all channels are angles)."""

    def __init__(self, X, variance=None, k=None, noise_var=0.0):
        n = X.shape[0]
        self.mean = X.mean(0)
        Y = X - self.mean
        if n < Y.shape[1]:
            # fewer cycles than values per cycle (the usual case): the eigenvectors of the
            # n × n Gram matrix give the same components at a fraction of the SVD's cost
            w, U = np.linalg.eigh(Y @ Y.T)
            w, U = np.maximum(w[::-1], 0.0), U[:, ::-1]
            s = np.sqrt(w)
            r = int(np.sum(s > s[0] * 1e-10)) if s.size and s[0] > 0 else 1
            vt = (U[:, :r].T @ Y) / s[:r, None] if s[0] > 0 else np.eye(1, Y.shape[1])
            lam = w / (n - 1)
        else:
            _, s, vt = np.linalg.svd(Y, full_matrices=False)
            lam = s ** 2 / (n - 1)
        if k is None:
            cum = np.cumsum(lam) / max(lam.sum(), 1e-300)
            k = int(np.searchsorted(cum, variance - 1e-12) + 1)
            # components inside the bulk of the measurement noise's eigenvalues carry no
            # movement: white noise of variance s² in D dimensions sampled n times has its
            # sample eigenvalues up to s² (1 + √(D / (n − 1)))² (Marchenko & Pastur 1967;
            # as in MP-PCA denoising, Veraart et al. 2016)
            if noise_var > 0:
                edge = noise_var * (1.0 + math.sqrt(X.shape[1] / max(n - 1, 1))) ** 2
                k = min(k, max(1, int(np.sum(lam > edge))))
        k = max(1, min(k, n - 1, vt.shape[0]))
        vt = vt[:k]
        # deterministic signs: each component's largest loading positive
        sign = np.sign(vt[np.arange(k), np.argmax(np.abs(vt), axis=1)])
        self.components = vt * sign[:, None]
        self.eigenvalues = np.maximum(lam[:k], 1e-12)
        self.residual_var = max(float(lam[k:].sum()) / max(X.shape[1] - k, 1), noise_var, 1e-12)
        self.explained = float(lam[:k].sum() / max(lam.sum(), 1e-300))
        self.k = k

    def parts(self, X):
        y = X - self.mean
        t = y @ self.components.T
        t2 = (t ** 2 / self.eigenvalues).sum(1)
        q = ((y - t @ self.components) ** 2).sum(1)
        return t2, q, t2 + q / self.residual_var


# ----------------------------------------------------------------------------- bilateral parts, between-trial prior

#: Between-trial coefficient of variation of a joint's movement (the trial-level prior, see
#: the module docstring): per side, offset SD = max(sd_floor_deg, CV × the joint's excursion
#: in the baseline), gain SD = CV. Fixed, not tuned per data set.
BETWEEN_TRIAL_CV = 0.10
#: Correlation between the two sides' trial effects: most of what changes from one trial to
#: the next (depth, speed, effort) changes both legs alike. Fixed, not tuned per data set.
BETWEEN_SIDE_CORRELATION = 0.8
#: Trial effects drawn from the prior per left-out cycle of the calibration null.
PRIOR_DRAWS = 5
#: Weight of the between-trial prior, in trials (see :func:`_prior_weight`).
PRIOR_TRIALS = 2.0


def _parts(data, channels):
    """The cycles in bilateral coordinates: ``sym`` (n, J + unpaired, P) — per joint the
    bilateral mean (first + second side) / 2, then channels without a partner — and ``asym``
    (n, J, P) — first − second side (right − left, ipsilateral − contralateral). Returns
    {part: (joint names, array)}; ``asym`` only when the channels hold pairs."""
    pairs = _asym_pairs(list(channels))
    paired = {i for _, i, _ in pairs} | {j for _, _, j in pairs}
    rest = [k for k in range(len(channels)) if k not in paired]
    sym = [(data[:, i] + data[:, j]) / 2.0 for _, i, j in pairs] + [data[:, k] for k in rest]
    out = {"sym": ([p[0] for p in pairs] + [channels[k] for k in rest], np.stack(sym, axis=1))}
    if pairs:
        out["asym"] = ([p[0] for p in pairs], np.stack([data[:, i] - data[:, j] for _, i, j in pairs], axis=1))
    return out


def _prior_weight(meta):
    """The share of the prior's between-trial variance a baseline still needs (hierarchical
    shrinkage): its cycles from T distinct trials already show T − 1 degrees of freedom of the
    between-trial variation, the prior counts as :data:`PRIOR_TRIALS` trials, so the prior's
    variance is scaled by PRIOR_TRIALS / (PRIOR_TRIALS + T − 1): all of it for one trial."""
    trials = max(1, len({m.get("source", "") for m in meta}))
    return PRIOR_TRIALS / (PRIOR_TRIALS + trials - 1.0)


def _side_sd(Ysym, cv, floor, weight):
    """Per joint, the SD of one side's trial effects: offset max(floor, cv × the joint's
    excursion in the baseline) (deg) and relative gain cv, times √weight."""
    excursion = Ysym.max(axis=(0, 2)) - Ysym.min(axis=(0, 2))
    w = math.sqrt(weight)
    return w * np.maximum(floor, cv * excursion), np.full(Ysym.shape[1], w * float(cv))


def _prior_sd(part, Ysym, cv, floor, weight=1.0, rho=BETWEEN_SIDE_CORRELATION, paired=None):
    """Trial-effect SDs (offset in degrees, relative gain) per joint of a part, from per-side
    effects of SD :func:`_side_sd` correlated rho between the sides: the bilateral mean has
    SD × √((1 + rho)/2) (× 1 for a channel without a partner), the difference SD × √(2(1 − rho)).
    ``Ysym``: the symmetric part of the baseline (n, joints, P); ``paired``: how many of its
    joints are pairs (all by default)."""
    J = Ysym.shape[1] if paired is None else paired
    if cv <= 0:
        n = J if part == "asym" else Ysym.shape[1]
        return np.zeros(n), np.zeros(n)
    off, gain = _side_sd(Ysym, cv, floor, weight)
    if part == "asym":
        f = math.sqrt(2.0 * (1.0 - rho))
        return f * off[:J], f * gain[:J]
    f = np.where(np.arange(Ysym.shape[1]) < J, math.sqrt((1.0 + rho) / 2.0), 1.0)
    return f * off, f * gain


def _prior_quadratic(R, G, ainv, tau_off, tau_gain):
    """rᵀ (A + U T Uᵀ)⁻¹ r per cycle (Woodbury): r the residual (n, J, P), A the within-trial
    covariance (``ainv`` applies A⁻¹ to rows), U the trial-effect modes of each joint — an
    offset (constant over the phase) and a gain (the cycle's own centred bilateral-mean curve
    of the joint, from G (n, J, P): a gain common to both sides scales it in the bilateral
    mean, a gain differing between the sides adds it to the difference) — with prior SDs
    T = (tau_off, tau_gain). Without modes: rᵀ A⁻¹ r."""
    n, J, P = R.shape
    r = R.reshape(n, -1)
    ar = ainv(r)
    q = (r * ar).sum(1)
    active = [(j, "o", t) for j, t in enumerate(tau_off) if t > 0] + [(j, "g", t) for j, t in enumerate(tau_gain)
                                                                       if t > 0]
    if not active:
        return q
    for c in range(n):
        cols, taus = [], []
        for j, kind, t in active:
            u = np.zeros((J, P))
            u[j] = 1.0 if kind == "o" else G[c, j] - G[c, j].mean()
            if np.any(u[j] != 0):
                cols.append(u.reshape(-1))
                taus.append(t)
        U = np.stack(cols, axis=1)
        AU = ainv(U.T).T
        M = np.diag(1.0 / np.asarray(taus) ** 2) + U.T @ AU
        b = U.T @ ar[c]
        q[c] -= b @ np.linalg.solve(M, b)
    return np.maximum(q, 0.0)


#: Trial effects drawn for the trial-level null (prior_level="trial"): each draw re-observes
#: each of the baseline's trials, every cycle left out of its own model, as a new trial with
#: one effect of its own.
TRIAL_DRAWS = 40
PRIOR_LEVELS = ("trial", "window")


def _mode_stats(R, G, ainv, tau_off, tau_gain, centre=None):
    """Per cycle, what the trial-effect modes need: rᵀA⁻¹r (n,), UᵀA⁻¹r (n, m) and UᵀA⁻¹U
    (n, m, m), the modes U (offsets, then gains, of the joints whose prior SD is > 0) and their
    prior SDs (m,). A gain scales the bilateral-mean curve G about ``centre`` (J,), the
    baseline's mean angle per joint — the centre the null's trial effects scale about — or,
    if None, about each cycle's own mean (:func:`_prior_quadratic`: there every cycle has its
    own offset too, so the two agree; a trial-level effect shares one offset, so a gain about
    each window's mean would be a different offset per window). A zero mode is kept: its
    prior adds nothing and a trial's modes stay the same for every cycle."""
    n, J, P = R.shape
    r = R.reshape(n, -1)
    ar = ainv(r)
    offs = [j for j in range(J) if tau_off[j] > 0]
    gains = [j for j in range(J) if tau_gain[j] > 0]
    taus = np.array([tau_off[j] for j in offs] + [tau_gain[j] for j in gains], float)
    m = taus.size
    U = np.zeros((n, m, J, P))
    for k, j in enumerate(offs):
        U[:, k, j] = 1.0
    for k, j in enumerate(gains):
        U[:, len(offs) + k, j] = G[:, j] - (G[:, j].mean(axis=1, keepdims=True) if centre is None else centre[j])
    U = U.reshape(n, m, J * P)
    AU = ainv(U.reshape(n * m, J * P)).reshape(n, m, J * P) if m else U
    return (r * ar).sum(1), np.einsum("nmd,nd->nm", U, ar), np.einsum("nmd,nkd->nmk", U, AU), taus


def _trial_quadratic(stats, groups):
    """Per cycle, its distance with ONE trial effect shared by all cycles of its trial:
    θ̂ the posterior mean of the trial's effect (offset and gain per joint, prior N(0, T)) from
    all its cycles jointly, θ̂ = (T⁻¹ + Σ UᵢᵀA⁻¹Uᵢ)⁻¹ Σ UᵢᵀA⁻¹rᵢ; the cycle's score is
    (rᵢ − Uᵢθ̂)ᵀA⁻¹(rᵢ − Uᵢθ̂) + θ̂ᵀT⁻¹θ̂ (what is left of it after the trial's effect, plus
    the trial effect's own prior cost). Summed over a trial's cycles with θ̂ᵀT⁻¹θ̂ counted once
    it is the Mahalanobis distance of the trial's stacked cycles under block-diag(A) + U T Uᵀ;
    for a trial of one cycle, with gains about its own mean (``centre=None`` in
    :func:`_mode_stats`), it is :func:`_prior_quadratic`. ``stats``: :func:`_mode_stats`;
    ``groups``: a trial label per cycle. Returns (score (n,), θ̂ᵀT⁻¹θ̂ (n,), both ≥ 0)."""
    rar, uar, uau, taus = stats
    n = rar.size
    score, trial = rar.copy(), np.zeros(n)
    if taus.size == 0:
        return np.maximum(score, 0.0), trial
    tinv = np.diag(1.0 / taus ** 2)
    groups = np.asarray(groups)
    for g in dict.fromkeys(groups.tolist()):
        idx = np.flatnonzero(groups == g)
        th = np.linalg.solve(tinv + uau[idx].sum(0), uar[idx].sum(0))
        t = float(th @ tinv @ th)
        score[idx] += -2.0 * uar[idx] @ th + np.einsum("m,nmk,k->n", th, uau[idx], th) + t
        trial[idx] = t
    return np.maximum(score, 0.0), trial


def _draw_trial_effects(channels, prior, rng, draws):
    """Trial effects (offsets (draws, C) deg, gains (draws, C)) from the prior, the two sides'
    correlated rho (as :func:`_perturb_channels`, one effect per draw)."""
    C = len(channels)
    rho = prior["rho"]
    own = rng.standard_normal((2, draws, C))
    common = rng.standard_normal((2, draws, C))
    paired = np.zeros(C, bool)
    for _, i, j in _asym_pairs(list(channels)):
        common[:, :, j] = common[:, :, i]
        paired[[i, j]] = True
    z = np.where(paired, math.sqrt(rho), 1.0) * common + np.where(paired, math.sqrt(1.0 - rho), 0.0) * own
    return z[0] * prior["tau_off"], z[1] * prior["tau_gain"]


def _apply_trial_effect(data, off, gain, centre):
    """Cycles (n, C, P) with trial effects per channel, (C,) one for all or (n, C) one per
    cycle: x ← c + (1 + g)(x − c) + o."""
    c = centre[None, :, None]
    off, gain = np.broadcast_to(off, data.shape[:2]), np.broadcast_to(gain, data.shape[:2])
    return c + (1.0 + gain[:, :, None]) * (data - c) + off[:, :, None]


def _null_trials(meta, idx, channels, prior, rng, draws, cv):
    """The trial-level null's trials: per draw, each baseline trial (:func:`_trial_key`) of the cycles
    ``idx`` gets its own effect from the prior. Returns the effect per (draw, cycle) — offsets
    and gains (draws, len(idx), C), None without a prior — and the null trial label of each
    (draws · len(idx),), in (draw, cycle) order."""
    src = [_trial_key(meta[i]) for i in idx]
    label = {s: k for k, s in enumerate(dict.fromkeys(src))}
    t = np.array([label[s] for s in src])
    S = len(label)
    groups = (np.arange(draws)[:, None] * S + t[None, :]).reshape(-1)
    if cv <= 0:
        return None, groups
    off, gain = _draw_trial_effects(channels, prior, rng, draws * S)
    C = len(channels)
    return (off.reshape(draws, S, C)[:, t], gain.reshape(draws, S, C)[:, t]), groups


def _chi2_fit(null):
    """Scaled chi-square g·χ²_h matched to the null's mean and variance (Box 1954; as for
    SPE limits, Nomikos & MacGregor 1995): (g, h)."""
    null = np.asarray(null, float)
    m, v = float(null.mean()), float(null.var(ddof=1)) if null.size > 1 else 0.0
    if not (m > 0 and v > 0):
        return max(m, 1e-12), 1.0
    return v / (2.0 * m), 2.0 * m * m / v


def _log_tail(s, g, h):
    """log P(g·χ²_h ≥ s): the calibrated tail probability of a part's score (natural log).
    Far in the tail, where the upper incomplete gamma underflows, its asymptote
    −x/2 + (h/2 − 1) log(x/2) − log Γ(h/2) keeps the scores finite and ordered."""
    from scipy import special, stats

    x = np.asarray(s, float) / g
    out = np.asarray(stats.chi2.logsf(x, h), float)
    far = ~np.isfinite(out)
    if np.any(far):
        xf = x[far] if out.ndim else x
        out = out.copy()
        out[far] = -xf / 2.0 + (h / 2.0 - 1.0) * np.log(xf / 2.0) - special.gammaln(h / 2.0)
    return out


def _combine(log_ps):
    """Šidák combination of the parts' tail probabilities: the smallest, corrected for the
    number of parts, p = 1 − (1 − min p)^m. Returns log p (natural)."""
    lp = np.min(np.stack(log_ps), axis=0)
    m = len(log_ps)
    if m == 1:
        return lp
    # log(1 − (1 − p)^m) without cancellation; m·p where p underflows
    with np.errstate(divide="ignore"):
        exact = np.log(-np.expm1(m * np.log1p(-np.exp(np.maximum(lp, -700.0)))))
    return np.where(lp < -30.0, lp + math.log(m), exact)


def _neglog10(lp):
    return -np.asarray(lp, float) / math.log(10.0)


def _pca_ainv(pca):
    """A⁻¹ of the probabilistic PCA covariance V Λ Vᵀ + σ²(I − V Vᵀ), applied to rows."""
    V, lam, s2 = pca.components, pca.eigenvalues, pca.residual_var

    def f(M):
        t = M @ V.T
        return (t / lam) @ V + (M - t @ V) / s2

    return f


def _perturb_channels(data, channels, prior, rng):
    """Cycles (n, channels, P) with a trial effect drawn from the prior: per side
    x ← c + (1 + g)(x − c) + o, c the baseline's channel mean, the two sides' o and g drawn
    with correlation rho."""
    n, C, _ = data.shape
    rho = prior["rho"]
    pairs = _asym_pairs(list(channels))
    own = rng.standard_normal((2, n, C))
    # partners share a common draw: z = √rho · common + √(1 − rho) · own
    common = rng.standard_normal((2, n, C))
    paired = np.zeros(C, bool)
    for _, i, j in pairs:
        common[:, :, j] = common[:, :, i]
        paired[[i, j]] = True
    z = np.where(paired, math.sqrt(rho), 1.0) * common + np.where(paired, math.sqrt(1.0 - rho), 0.0) * own
    o = z[0] * prior["tau_off"]
    g = z[1] * prior["tau_gain"]
    c = prior["centre"][None, :, None]
    return c + (1.0 + g[:, :, None]) * (data - c) + o[:, :, None]


def _channel_prior(data, channels, cv, floor, weight=1.0, rho=BETWEEN_SIDE_CORRELATION):
    """Per channel, the side-level trial-effect SDs (from the excursion of its joint's
    bilateral mean), the channel means, and rho: what :func:`_perturb_channels` draws from."""
    _, Y = _parts(data, channels)["sym"]
    off, gain = _side_sd(Y, cv, floor, weight) if cv > 0 else (np.zeros(Y.shape[1]), np.zeros(Y.shape[1]))
    pairs = _asym_pairs(list(channels))
    paired = {i for _, i, _ in pairs} | {j for _, _, j in pairs}
    rest = [k for k in range(len(channels)) if k not in paired]
    tau_off, tau_gain = np.zeros(len(channels)), np.zeros(len(channels))
    for j, (_, a, b) in enumerate(pairs):
        tau_off[[a, b]], tau_gain[[a, b]] = off[j], gain[j]
    for j, k in enumerate(rest):
        tau_off[k], tau_gain[k] = off[len(pairs) + j], gain[len(pairs) + j]
    return {"tau_off": tau_off, "tau_gain": tau_gain, "centre": data.mean(axis=(0, 2)), "rho": float(rho)}


def _part_floor(part, joints, channels, floor):
    """Noise floor (deg²) per joint of a part, from the per-channel floor: a bilateral mean
    halves the variance of independent noise, a difference doubles it."""
    pairs = {p[0] for p in _asym_pairs(list(channels))}
    return np.array([(0.5 if j in pairs else 1.0) * floor ** 2 if part == "sym" else 2.0 * floor ** 2
                     for j in joints])


def _percentile(null, s):
    null = np.sort(np.asarray(null, float))
    lo = np.searchsorted(null, s, side="left")
    hi = np.searchsorted(null, s, side="right")
    return 100.0 * (lo + hi) / (2.0 * null.size)


def auc(negatives, positives) -> float:
    """Area under the ROC curve: P(positive score > negative score), ties count half."""
    n = np.asarray(negatives, float)[None, :]
    p = np.asarray(positives, float)[:, None]
    return float((p > n).mean() + 0.5 * (p == n).mean())


class Baseline:
    """An athlete's baseline of normal cycles (see the module docstring). Build it with
    :func:`fit_baseline`, read it with :func:`load_baseline`."""

    def __init__(self, doc: dict, autoencoder=None):
        self._doc = doc
        self.task = doc["task"]
        self.unit = doc["unit"]
        self.window_s = doc["window_s"]
        self.hop_s = doc["hop_s"]
        self.channels = list(doc["channels"])
        self.scorer = doc["scorer"]["kind"]
        self.variance = doc["scorer"].get("variance")
        self.n_cycles = doc["n_cycles"]
        self.mean = np.asarray(doc["phase_mean_deg"], float)
        self.sd = np.asarray(doc["phase_sd_deg"], float)
        self.sd_floor_deg = doc["sd_floor_deg"]
        s = doc["scorer"]
        self._pca, self._ae = None, autoencoder
        # format 3: a model per bilateral part; formats 1-2: one model of the raw channels
        self._parts = s.get("parts")
        # format 4: the trial effect shared by a trial's cycles ("trial") or each cycle's own
        # ("window", format 3's only way)
        self.prior_level = s.get("prior_level", "window")
        self._centre = _gain_centre(self.mean, self.channels) if self._parts is not None else None
        if self.scorer == "ae" and autoencoder is None:
            raise InvalidArgument("Baseline: an 'ae' baseline needs its autoencoder")
        if self._parts is not None:
            self._part_pca = {}
            for p, spec in self._parts.items():
                if self.scorer == "pca":
                    m = _Pca.__new__(_Pca)
                    m.mean = np.asarray(spec["mean"], float)
                    m.components = np.asarray(spec["components"], float)
                    m.eigenvalues = np.asarray(spec["eigenvalues"], float)
                    m.residual_var = float(spec["residual_var"])
                    m.k = m.components.shape[0]
                    m.explained = float(spec["explained"])
                    self._part_pca[p] = m
        elif self.scorer == "pca":
            self._pca = _Pca.__new__(_Pca)
            self._pca.mean = self.mean.reshape(-1)
            self._pca.components = np.asarray(s["components"], float)
            self._pca.eigenvalues = np.asarray(s["eigenvalues"], float)
            self._pca.residual_var = float(s["residual_var"])
            self._pca.k = self._pca.components.shape[0]
            self._pca.explained = float(s["explained"])
        else:
            self._residual_var = np.asarray(s["residual_var_deg2"], float).reshape(-1)
        self.null = {k: np.asarray(v, float) for k, v in doc["null"].items()}
        self.asym_joints = list(doc["asymmetry"]["joints"])
        self.asym_mean = np.asarray(doc["asymmetry"]["mean_deg"], float)
        self.asym_sd = np.asarray(doc["asymmetry"]["sd_deg"], float)

    @property
    def n_components(self) -> int:
        """Retained principal components (pca), the autoencoder's latent width (ae)."""
        if self.scorer == "ae":
            return int(self._doc["scorer"]["latent"])
        return self._pca.k if self._pca is not None else sum(m.k for m in self._part_pca.values())

    @property
    def autoencoder(self):
        """The adapted :class:`sportsmed._torch.motion.CycleAutoencoder` (``ae``), else None."""
        return self._ae

    def to_dict(self) -> dict:
        return self._doc

    def save(self, path) -> None:
        """Writes the versioned JSON atomically; an ``ae`` baseline also writes its network
        beside it: ``<path>.ae.pt`` (weights) and ``<path>.ae.json`` (sidecar with their CRC-32),
        the weights' CRC recorded in the baseline too (a mixed-up pair is a FormatError at load)."""
        import json as _json

        from .._io import write_json_atomic

        if self._ae is not None:
            weights = os.fspath(path) + ".ae.pt"
            self._ae.save(weights)
            with open(os.fspath(path) + ".ae.json", encoding="utf-8") as f:
                crc = _json.load(f)["weights"]["crc32"]
            self._doc["scorer"].update({"model": os.path.basename(weights), "weights_crc32": crc})
        write_json_atomic(path, self._doc)

    def _check(self, cycles: Cycles):
        other = {(t, u) for t, u in cycles.kinds() if (t, u) != (self.task, self.unit)}
        if self.task and other:
            raise InvalidArgument("Baseline.score: the cycles are " + ", ".join(f"{t} {u}s" for t, u in sorted(other))
                                  + f", the baseline holds {self.task} {self.unit}s: score the same task and unit")
        if list(cycles.channels) != self.channels:
            raise InvalidArgument(f"Baseline.score: cycles have channels {cycles.channels}, the baseline "
                                  f"{self.channels} (same task, unit and angle source needed)")
        if cycles.data.shape[2] != self.mean.shape[1]:
            raise InvalidArgument(f"Baseline.score: cycles have {cycles.data.shape[2]} points, expected "
                                  f"{self.mean.shape[1]}")

    def zmap(self, cycles: Cycles) -> np.ndarray:
        """Channel × phase z-scores (n, channels, 101): (x − mean) / max(sd, sd_floor_deg)."""
        self._check(cycles)
        return (cycles.data - self.mean) / np.maximum(self.sd, self.sd_floor_deg)

    def part_scores(self, cycles: Cycles, trial_effects: Optional[dict] = None) -> Dict[str, np.ndarray]:
        """Per bilateral part (``sym``: the bilateral mean (R + L)/2, ``asym``: R − L; format ≥ 3),
        each cycle's raw score: pca, the Mahalanobis distance to the part's probabilistic PCA
        with the trial effects (offset, gain per joint) under their prior; ae, the same
        quadratic form of the reconstruction error over the residual variance. Prior level
        ``trial`` (format 4, optional): the cycles of one ``source`` (and ``side``: gait cycles
        of the right and the left foot apart, their channels being ipsi/contralateral) are one
        trial and share ONE trial effect, estimated from all of them (:func:`_trial_quadratic`),
        so score a trial's cycles together; ``window`` (the default): each cycle takes its own
        (marginalised per cycle, format 3).
        ``trial_effects``, if a dict, receives per part the trial effect's prior cost θ̂ᵀT⁻¹θ̂
        per cycle (zeros at prior level ``window``)."""
        self._check(cycles)
        if self._parts is None:
            raise InvalidArgument("Baseline.part_scores: a baseline of format version < 3 has no bilateral parts")
        groups = _trial_groups(cycles) if self.prior_level == "trial" else None
        if self.scorer == "ae":
            residual = {p: spec["residual_var_deg2"] for p, spec in self._parts.items()}
            return _ae_part_scores(self._ae, cycles.data, self.channels, self._parts, residual, groups, trial_effects,
                                   self._centre)
        parts = _parts(cycles.data, self.channels)
        out = {}
        for p, spec in self._parts.items():
            m, Y = self._part_pca[p], parts[p][1]
            G = parts["sym"][1][:, :Y.shape[1]]
            out[p] = _part_quadratic(Y - m.mean.reshape(Y.shape[1:]), G, _pca_ainv(m), spec, groups, p, trial_effects,
                                     self._centre)
        return out

    def score(self, cycles: Cycles):
        """One row per cycle. Format 3: ``score`` = −log10 p, p (column ``p``) the Šidák-combined
        tail probability of the bilateral parts' scores (``score_sym``/``p_sym``,
        ``score_asym``/``p_asym``; :meth:`part_scores`), each calibrated by a scaled chi-square
        fitted to its own null (leave one cycle out for pca, cross-fitted folds for ae, the
        left-out cycles given trial effects drawn from the prior); ``percentile`` of ``score``
        against the null's combined scores (100: beyond every baseline cycle); prior level
        ``trial``: ``trial_sym``/``trial_asym``, the part score's share from the trial's
        estimated effect θ̂ᵀT⁻¹θ̂ (the same for every cycle of a trial; the cycles of one
        ``source`` are one trial, see :meth:`part_scores`). Formats 1-2:
        ``score`` (pca: T² + Q/σ²; ae: mean squared reconstruction error over the residual
        variance) with ``t2``, ``spe``. Always: the worst channel × phase of the z map, the
        asymmetry per joint (``asym_<joint>_deg`` and ``asym_<joint>_z``) and the cycle's
        asymmetry score ``asym_score`` (mean over joints of the squared z of the mean R − L) with
        its ``asym_percentile``. Returns a pandas DataFrame."""
        import pandas as pd

        self._check(cycles)
        X = cycles.data.reshape(len(cycles), -1)
        nan = float("nan")
        extra = [{} for _ in range(len(cycles))]
        if self._parts is not None:
            te = {}
            raw = self.part_scores(cycles, te)
            logs = {p: _log_tail(raw[p], spec["chi2_scale"], spec["chi2_df"]) for p, spec in self._parts.items()}
            comb = _combine(list(logs.values()))
            s = _neglog10(comb)
            for i, e in enumerate(extra):
                e["p"] = float(np.exp(comb[i]))
                for p in self._parts:
                    e[f"score_{p}"] = float(raw[p][i])
                    e[f"p_{p}"] = float(np.exp(logs[p][i]))
                    if self.prior_level == "trial":
                        e[f"trial_{p}"] = float(te[p][i])
        elif self._pca is not None:
            t2, q, s = self._pca.parts(X)
            for i, e in enumerate(extra):
                e.update({"t2": float(t2[i]), "t2_percentile": _percentile(self.null["t2"], t2[i])
                          if "t2" in self.null else nan,
                          "spe": float(q[i]), "spe_percentile": _percentile(self.null["spe"], q[i])
                          if "spe" in self.null else nan})
        else:
            s = _ae_score(self._ae, X, self._residual_var)
        z = self.zmap(cycles)
        pairs = _asym_pairs(self.channels)
        asym = _asymmetry(cycles.data, pairs)
        a_score = _asym_score(asym, self.asym_mean, self.asym_sd, self.sd_floor_deg)
        rows = []
        for i in range(len(cycles)):
            c, p = np.unravel_index(int(np.argmax(np.abs(z[i]))), z[i].shape)
            row = dict(cycles.meta[i]) if i < len(cycles.meta) else {}
            row.update({"score": float(s[i]), "percentile": _percentile(self.null["score"], s[i])})
            row.update(extra[i])
            row.update({"worst_channel": self.channels[c], "worst_phase_pct": float(p) * 100.0 / (z.shape[2] - 1),
                        "worst_z": float(z[i, c, p])})
            if "asym" in self.null and self.null["asym"].size:
                row.update({"asym_score": float(a_score[i]),
                            "asym_percentile": _percentile(self.null["asym"], a_score[i])})
            for j, name in enumerate(self.asym_joints):
                row[f"asym_{name}_deg"] = float(asym[i, j])
                row[f"asym_{name}_z"] = float((asym[i, j] - self.asym_mean[j]) / max(self.asym_sd[j], self.sd_floor_deg))
            rows.append(row)
        return pd.DataFrame(rows)


def _trial_key(m):
    """The trial a cycle belongs to: its ``source`` and ``side`` — gait cycles of the right and
    the left foot hold ipsilateral/contralateral channels, so one trial effect of the right leg
    is an ipsilateral one in the right foot's cycles and a contralateral one in the left's."""
    return f"{m.get('source', '')}|{m.get('side', '')}"


def _trial_groups(cycles):
    """A trial label per cycle (:func:`_trial_key`; cycles without meta: one trial)."""
    n = len(cycles)
    if len(cycles.meta) != n:
        return np.zeros(n, int)
    return np.array([_trial_key(m) for m in cycles.meta])


def _gain_centre(phase_mean, channels):
    """The baseline's mean angle per joint of the bilateral mean (J,): what trial gains scale about."""
    return _parts(np.asarray(phase_mean, float)[None], list(channels))["sym"][1][0].mean(axis=1)


def _part_quadratic(R, G, ainv, spec, groups, part, trial_effects, centre=None):
    """A part's raw scores at either prior level (``groups`` None: per cycle, format 3; else
    one trial effect per group, gains about ``centre``)."""
    tau_off, tau_gain = np.asarray(spec["tau_off_deg"], float), np.asarray(spec["tau_gain"], float)
    if groups is None:
        q, t = _prior_quadratic(R, G, ainv, tau_off, tau_gain), np.zeros(R.shape[0])
    else:
        q, t = _trial_quadratic(_mode_stats(R, G, ainv, tau_off, tau_gain, centre[:R.shape[1]]), groups)
    if trial_effects is not None:
        trial_effects[part] = t
    return q


def _excluded(meta, i, j, unit, hop_s):
    """Whether baseline cycle j is left out with cycle i in the leave-one-out null: cycles
    overlapping it in time (gait cycles of the other side); for windows, those starting
    within one hop of it (its nearest neighbours: a window of a new trial is never more
    than half a hop from a baseline window, so leaving one hop out keeps the null honest
    without comparing a window only with others far away in phase)."""
    a, b = meta[i], meta[j]
    if a.get("source") != b.get("source"):
        return False
    if unit == "window":
        return abs(a["start_s"] - b["start_s"]) <= hop_s * 1.001
    return a["start_s"] < b["end_s"] and b["start_s"] < a["end_s"]


def required_cycles(k: int) -> int:
    """Cycles a baseline needs with k retained components: max(8, 2k)."""
    return max(8, 2 * k)


def fit_baseline(cycles: Cycles, task: str = "", scorer: str = "pca", variance: float = 0.90,
                 sd_floor_deg: float = 1.0, unit: str = "cycle", window_s: Optional[float] = None,
                 hop_s: Optional[float] = None, seed: int = 0, pretrain: bool = True,
                 between_trial_cv: float = BETWEEN_TRIAL_CV, prior_level: str = "window") -> Baseline:
    """Fits the baseline of an athlete's normal cycles.

    Parameters
    ----------
    cycles : Cycles (n, channels, 101) degrees
    scorer : ``pca`` (the transparent statistical scorer) or ``ae`` (the deep scorer: a LibTorch
        1-D convolutional autoencoder, :func:`pretrained_autoencoder` on the synthetic athlete's
        cycles, adapted to these cycles; its null from :data:`AE_FOLDS` cross-fitted folds:
        each fold scored by a copy of the pre-trained network adapted to the other folds)
    variance : fraction of each bilateral part's variance the retained components explain (0.90;
        pca), components inside the noise's Marchenko–Pastur bulk left out
    seed : the autoencoder's initialisation and shuffling (ae), the prior's draws in the null
        (deterministic for a seed)
    between_trial_cv : the between-trial prior (module docstring): offsets of SD
        max(sd_floor_deg, cv × excursion) and gains of SD cv per side, sides correlated
        :data:`BETWEEN_SIDE_CORRELATION`, shrunk by the baseline's number of trials
        (distinct ``source``); 0: none (the baseline's cycles are all the variation there is)
    prior_level : ``window`` (each cycle its own trial effect, as format 3; the default: the
        trial level did not do better on the acceptance data and the synthetic athlete, README)
        or ``trial`` (one effect shared by the cycles of a new trial, a trial-level null of
        :data:`TRIAL_DRAWS` draws)
    pretrain : ae: start from the synthetic athlete's pre-trained network (else from the seed)
    sd_floor_deg : floor of the per-phase SD in the z map (marker/IK noise, degrees)

    Raises
    ------
    InvalidArgument : fewer than max(8, 2 × retained components of either part) cycles, a
        scorer this version does not have, between_trial_cv outside [0, 1), or a prior_level
        other than ``trial``/``window``.
    """
    window_s, hop_s = window_defaults(task, window_s, hop_s)
    if scorer not in SCORERS:
        raise InvalidArgument(f"fit_baseline: scorer must be one of {list(SCORERS)}, got '{scorer}'")
    if not (0.0 <= between_trial_cv < 1.0):
        raise InvalidArgument(f"fit_baseline: between_trial_cv must be in [0, 1), got {between_trial_cv}")
    if prior_level not in PRIOR_LEVELS:
        raise InvalidArgument(f"fit_baseline: prior_level must be one of {list(PRIOR_LEVELS)}, got '{prior_level}'")
    if not (0.0 < variance < 1.0):
        raise InvalidArgument(f"fit_baseline: variance must be in (0, 1), got {variance}")
    kinds = cycles.kinds()
    if len(kinds) > 1 or (task and kinds and kinds != {(task, unit)}):
        raise InvalidArgument("fit_baseline: the cycles are " + ", ".join(f"{t} {u}s" for t, u in sorted(kinds))
                              + (f" but task='{task}', unit='{unit}' was given" if task else "")
                              + ": a baseline is one task and unit")
    n = len(cycles)
    if n < 8:
        more = " (and at least twice the retained principal components)" if scorer == "pca" else ""
        raise InvalidArgument(f"fit_baseline: {n} {'windows' if unit == 'window' else 'cycles'} given, a baseline "
                              f"needs at least 8{more}; add normal trials"
                              + (" (or longer ones)" if unit == "window" else
                                 ", or use unit='window' for trials holding a single repetition"))
    data = np.asarray(cycles.data, float)
    if not np.all(np.isfinite(data)):
        raise InvalidArgument("fit_baseline: cycles contain NaN or infinite angles")
    meta = cycles.meta if len(cycles.meta) == n else [{"source": "", "start_s": float(i), "end_s": float(i) + 0.5}
                                                      for i in range(n)]
    weight = _prior_weight(meta)
    prior = _channel_prior(data, list(cycles.channels), between_trial_cv, sd_floor_deg, weight)
    if scorer == "ae":
        return _fit_ae(cycles, data, meta, task, unit, window_s, hop_s, sd_floor_deg, seed, pretrain,
                       between_trial_cv, prior, weight, prior_level)
    parts = _parts(data, list(cycles.channels))
    Ysym = parts["sym"][1]
    npairs = len(_asym_pairs(list(cycles.channels)))
    taus = {p: _prior_sd(p, Ysym, between_trial_cv, sd_floor_deg, weight, paired=npairs) for p in parts}
    # the noise floor of each part: marker/IK noise of sd_floor_deg per channel
    noise = {p: float(_part_floor(p, j, list(cycles.channels), sd_floor_deg).mean()) for p, (j, _) in parts.items()}
    pcas = {p: _Pca(Y.reshape(n, -1), variance, noise_var=noise[p]) for p, (_, Y) in parts.items()}
    kmax = max(m.k for m in pcas.values())
    need = required_cycles(kmax)
    if n < need:
        raise InvalidArgument(f"fit_baseline: {n} cycles given, {need} needed (2 × the {kmax} components that "
                              f"explain {variance:.0%} of the variance of the "
                              f"{'bilateral mean' if pcas['sym'].k == kmax else 'asymmetry'})")
    pairs = _asym_pairs(list(cycles.channels))
    asym = _asymmetry(data, pairs)
    rng = np.random.default_rng(seed)
    trial_level = prior_level == "trial"
    draws = 1 if between_trial_cv <= 0 else TRIAL_DRAWS if trial_level else PRIOR_DRAWS
    part_null = {p: [] for p in parts}
    null = {"asym": []}
    loos = {}
    for i in range(n):
        keep = [j for j in range(n) if j != i and not _excluded(meta, i, j, unit, hop_s)]
        if len(keep) < kmax + 2:
            continue
        if trial_level:
            loos[i] = {p: _Pca(Y[keep].reshape(len(keep), -1), k=pcas[p].k, noise_var=noise[p])
                       for p, (_, Y) in parts.items()}
            if pairs:
                null["asym"].append(_asym_score(asym[i:i + 1], asym[keep].mean(0), asym[keep].std(0, ddof=1),
                                                sd_floor_deg)[0])
            continue
        # the left-out cycle as a new trial would show it: with a trial effect from the prior
        xi = np.repeat(data[i:i + 1], draws, axis=0)
        if between_trial_cv > 0:
            xi = _perturb_channels(xi, list(cycles.channels), prior, rng)
        held = _parts(xi, list(cycles.channels))
        for p, (_, Y) in parts.items():
            loo = _Pca(Y[keep].reshape(len(keep), -1), k=pcas[p].k, noise_var=noise[p])
            Yi = held[p][1]
            R = Yi - loo.mean.reshape(Yi.shape[1:])
            part_null[p] += _prior_quadratic(R, held["sym"][1][:, :Yi.shape[1]], _pca_ainv(loo), *taus[p]).tolist()
        if pairs:
            null["asym"] += [_asym_score(asym[i:i + 1], asym[keep].mean(0), asym[keep].std(0, ddof=1),
                                         sd_floor_deg)[0]] * draws
    if trial_level and len(loos) >= 5:
        part_null = _pca_trial_null(data, meta, list(cycles.channels), parts, loos, taus, prior, rng, draws,
                                    between_trial_cv)
        null["asym"] = null["asym"] * draws
    left = len(loos) if trial_level else len(part_null["sym"]) // draws
    if left < 5:
        raise InvalidArgument(f"fit_baseline: only {left} cycles could be left out with "
                              "enough non-overlapping cycles to remain; the baseline needs more independent cycles")
    if not pairs:
        del null["asym"]
    doc = _common_doc(cycles, data, meta, task, unit, window_s, hop_s, sd_floor_deg, pairs, asym)
    doc_parts = {}
    for p, (joints, Y) in parts.items():
        tau_off, tau_gain = taus[p]
        g, h = _chi2_fit(part_null[p])
        m = pcas[p]
        doc_parts[p] = {"joints": list(joints), "mean": m.mean.tolist(), "components": m.components.tolist(),
                        "eigenvalues": m.eigenvalues.tolist(), "residual_var": m.residual_var,
                        "explained": m.explained, "tau_off_deg": tau_off.tolist(), "tau_gain": tau_gain.tolist(),
                        "chi2_scale": g, "chi2_df": h}
    doc["scorer"] = {"kind": scorer, "variance": float(variance), "explained": min(m.explained for m in pcas.values()),
                     "between_trial_cv": float(between_trial_cv), "prior_weight": float(weight),
                     "prior_level": prior_level, "seed": int(seed), "parts": doc_parts}
    _finish_null(doc, null, part_null)
    return Baseline(doc)


def _pca_trial_null(data, meta, channels, parts, loos, taus, prior, rng, draws, cv):
    """The trial-level null of each part (pca): per draw, each of the baseline's trials — its
    cycles that could be left out, each scored by its leave-one-out model — re-observed as a
    new trial with one trial effect from the prior, scored by :func:`_trial_quadratic`.
    Returns {part: list}, ordered by draw, then cycle."""
    idx = sorted(loos)
    C, P = data.shape[1:]
    effects, groups = _null_trials(meta, idx, channels, prior, rng, draws, cv)
    if effects is not None:
        pert = np.stack([_apply_trial_effect(data[idx], effects[0][d], effects[1][d], prior["centre"])
                         for d in range(draws)])
    else:
        pert = data[idx][None]
    held = _parts(pert.reshape(-1, C, P), channels)
    centre = _gain_centre(data.mean(0), channels)
    out = {}
    for p in parts:
        Y = held[p][1].reshape(draws, len(idx), *held[p][1].shape[1:])
        G = held["sym"][1].reshape(draws, len(idx), *held["sym"][1].shape[1:])[:, :, :Y.shape[2]]
        st = []
        for k, i in enumerate(idx):
            loo = loos[i][p]
            st.append(_mode_stats(Y[:, k] - loo.mean.reshape(Y.shape[2:]), G[:, k], _pca_ainv(loo), *taus[p],
                                  centre[:Y.shape[2]]))
        # (cycle, draw) → (draw, cycle): a null trial is one draw
        stats = tuple(np.stack([s[q] for s in st], axis=1).reshape(draws * len(idx), *st[0][q].shape[1:])
                      for q in range(3)) + (st[0][3],)
        out[p] = _trial_quadratic(stats, groups)[0].tolist()
    return out


def _finish_null(doc, null, part_null):
    """The combined null score (−log10 of the Šidák-combined tail probability of each null
    cycle's parts) and the parts' nulls, into the document."""
    parts = doc["scorer"]["parts"]
    logs = [_log_tail(part_null[p], parts[p]["chi2_scale"], parts[p]["chi2_df"]) for p in parts]
    null["score"] = _neglog10(_combine(logs)).tolist()
    for p in parts:
        null[f"part_{p}"] = [float(v) for v in part_null[p]]
    doc["null"] = null


def _common_doc(cycles, data, meta, task, unit, window_s, hop_s, sd_floor_deg, pairs, asym):
    return {
        "format": FORMAT, "version": FORMAT_VERSION, "task": task, "unit": unit,
        "window_s": float(window_s), "hop_s": float(hop_s), "points": int(data.shape[2]),
        "channels": list(cycles.channels), "n_cycles": len(cycles),
        "sources": sorted({m.get("source", "") for m in meta}),
        "sd_floor_deg": float(sd_floor_deg),
        "phase_mean_deg": data.mean(0).tolist(), "phase_sd_deg": data.std(0, ddof=1).tolist(),
        "asymmetry": {"joints": [p[0] for p in pairs], "mean_deg": asym.mean(0).tolist(),
                      "sd_deg": asym.std(0, ddof=1).tolist()},
    }


# ----------------------------------------------------------------------------- deep scorer

_SYNTH_COLUMNS = {"hip_flexion": 0, "hip_adduction": 1, "hip_rotation": 2, "knee_angle": 3, "knee_valgus": 4,
                  "ankle_angle": 6}


def _synthetic_column(channel):
    """(side, column of the synthetic athlete's Plug-in Gait angles) of an IK channel name."""
    for suffix, side in (("_r", "R"), ("_ipsi", "R"), ("_l", "L"), ("_contra", "L")):
        if channel.endswith(suffix) and channel[: -len(suffix)] in _SYNTH_COLUMNS:
            return side, _SYNTH_COLUMNS[channel[: -len(suffix)]]
    return None


def synthetic_cycles(channels: Sequence[str], n: int, seed: int = 0, unit: str = "cycle",
                     window_s: float = 0.2, points: int = POINTS) -> Cycles:
    """Varied normal cycles of the synthetic athlete for pre-training the deep scorer.

    Each cycle is the ground contact of a synthetic drop-jump landing (initial contact to
    take-off; ``unit="window"``: a random window of ``window_s`` inside it), noise-free
    Plug-in Gait angles mapped onto the IK channel names (hip flexion/adduction/rotation,
    knee flexion, ankle dorsiflexion per side), varied the way one athlete's repetitions
    vary: knee valgus peak 2-12 deg, per channel an offset (SD 3 deg) and a gain (SD 10 %),
    the bounds jittered by ±8 % of the contact. Deterministic for a seed.

    Raises
    ------
    InvalidArgument : a channel the synthetic athlete does not have.
    """
    from . import synthesize_drop_jump

    cols = [_synthetic_column(c) for c in channels]
    missing = [c for c, k in zip(channels, cols) if k is None]
    if missing:
        raise InvalidArgument(f"synthetic_cycles: the synthetic athlete has no channel {missing} (it has hip "
                              "flexion/adduction/rotation, knee_angle and ankle_angle per side)")
    rng = np.random.default_rng(seed)
    data, meta = [], []
    for i in range(n):
        s = synthesize_drop_jump(seed=1 + i % 16, knee_valgus_peak_deg=float(rng.uniform(2.0, 12.0)), dropouts=0)
        t = np.asarray(s.trial.times_s, float)
        ang = {"L": np.asarray(s.true_angles_left, float), "R": np.asarray(s.true_angles_right, float)}
        x = np.stack([ang[side][:, col] for side, col in cols], axis=1)
        x = x * (1.0 + 0.1 * rng.standard_normal(len(cols))) + 3.0 * rng.standard_normal(len(cols))
        ic, to = s.initial_contact_s, s.take_off_s
        d = to - ic
        a, b = ic + 0.08 * d * rng.uniform(-1, 1), to + 0.08 * d * rng.uniform(-1, 1)
        if unit == "window":
            w = min(window_s, b - a)
            a = rng.uniform(a, b - w)
            b = a + w
        data.append(_resample(t, x, a, b, points))
        meta.append({"source": f"synthetic{i}", "side": "both", "start_s": float(a), "end_s": float(b)})
    return Cycles(np.stack(data), list(channels), meta)


_PRETRAINED: Dict[tuple, object] = {}


def _autoencoder_class():
    from .._torch import motion as _tm  # loads LibTorch

    return _tm.CycleAutoencoder


def _one_thread():
    """A context that runs the small network's training on one thread (intra-op threads
    cost more than they give at this size, and far more on a busy machine)."""
    import contextlib

    import sportsmed

    @contextlib.contextmanager
    def ctx():
        old = sportsmed.num_threads()
        sportsmed.set_num_threads(1)
        try:
            yield
        finally:
            sportsmed.set_num_threads(old)

    return ctx()


def pretrained_autoencoder(channels: Sequence[str], unit: str = "cycle", window_s: float = 0.2, seed: int = 0):
    """The deep scorer's network pre-trained on :data:`AE_PRETRAIN_CYCLES` varied synthetic
    cycles (:func:`synthetic_cycles`) for :data:`AE_PRETRAIN_EPOCHS` epochs; kept per
    (channels, unit, window, seed) for the process. Returns a copy."""
    key = (tuple(channels), unit, round(float(window_s), 6), int(seed))
    if key not in _PRETRAINED:
        c = synthetic_cycles(channels, AE_PRETRAIN_CYCLES, seed, unit, window_s)
        ae = _autoencoder_class()(len(channels), c.data.shape[2], batch_size=AE_BATCH, seed=seed)
        with _one_thread():
            ae.fit(c.data.reshape(len(c), -1), AE_PRETRAIN_EPOCHS)
        _PRETRAINED[key] = ae
    return _PRETRAINED[key].clone()


def _ae_errors(ae, X):
    """Reconstruction errors (n, channels · points), degrees."""
    X = np.ascontiguousarray(X)
    with _one_thread():
        return np.asarray(ae.reconstruct(X), float) - X


def _ae_score(ae, X, residual_var):
    """The deep score: mean over channels × phase of the squared reconstruction error over the
    baseline's out-of-fold residual variance there (the autoencoder's SPE / σ², per phase)."""
    return (_ae_errors(ae, X) ** 2 / residual_var).mean(1)


def _adapt(cycles, X, unit, window_s, seed, pretrain):
    if pretrain:
        ae = pretrained_autoencoder(cycles.channels, unit, window_s, seed)
    else:
        ae = _autoencoder_class()(len(cycles.channels), cycles.data.shape[2], batch_size=AE_BATCH, seed=seed)
    epochs = max(1, math.ceil(AE_ADAPT_STEPS / math.ceil(X.shape[0] / AE_BATCH)))
    with _one_thread():
        ae.fit(np.ascontiguousarray(X), epochs, AE_ADAPT_LEARNING_RATE, True)
    return ae


def _ae_part_scores(ae_or_errors, data, channels, parts_doc, residual, groups=None, trial_effects=None, centre=None):
    """Per part, the deep score of cycles: the autoencoder's reconstruction error in bilateral
    coordinates, squared over the baseline's out-of-fold residual variance there, with the
    trial-effect modes discounted (per cycle, :func:`_prior_quadratic`, or shared by the cycles
    of a trial label in ``groups``, :func:`_trial_quadratic`), averaged over joint × phase.
    ``ae_or_errors``: the network, or the errors (n, channels · P) already made."""
    n = data.shape[0]
    E = ae_or_errors if isinstance(ae_or_errors, np.ndarray) else _ae_errors(ae_or_errors, data.reshape(n, -1))
    err = _parts(E.reshape(data.shape), channels)
    val = _parts(data, channels)
    out = {}
    for p, spec in parts_doc.items():
        var = np.asarray(residual[p], float).reshape(-1)
        R = err[p][1]
        q = _part_quadratic(R, val["sym"][1][:, :R.shape[1]], lambda M, v=var: M / v, spec, groups, p, trial_effects,
                            centre)
        if trial_effects is not None:
            trial_effects[p] = trial_effects[p] / var.size
        out[p] = q / var.size
    return out


def _fit_ae(cycles, data, meta, task, unit, window_s, hop_s, sd_floor_deg, seed, pretrain, cv, prior, weight,
            prior_level):
    n = len(cycles)
    channels = list(cycles.channels)
    X = data.reshape(n, -1)
    pairs = _asym_pairs(channels)
    asym = _asymmetry(data, pairs)
    null = {"asym": []}
    rng = np.random.default_rng(seed)
    trial_level = prior_level == "trial"
    draws = 1 if cv <= 0 else TRIAL_DRAWS if trial_level else PRIOR_DRAWS
    # contiguous folds in cycle order; cycles overlapping a held-out one in time leave with it.
    # Each held-out cycle is scored as it is (for the residual variance) and with trial
    # effects drawn from the prior (for the null: how a new trial's normal cycle scores);
    # prior level "trial": per draw, one effect for all held-out cycles of a baseline trial
    folds = np.array_split(np.arange(n), AE_FOLDS)
    errors, pert_errors, pert_data, used = [], [], [], []
    if trial_level:
        effects, null_groups = _null_trials(meta, list(range(n)), channels, prior, rng, draws, cv)
    for fold in folds:
        held = set(fold.tolist())
        keep = [j for j in range(n) if j not in held and not any(_excluded(meta, i, j, unit, hop_s) for i in fold)]
        if len(keep) < 2:
            continue
        ae = _adapt(cycles.subset(keep), X[keep], unit, window_s, seed, pretrain)
        errors.append(_ae_errors(ae, X[fold]))
        if trial_level:
            used += fold.tolist()
            xp = (np.stack([_apply_trial_effect(data[fold], effects[0][d, fold], effects[1][d, fold], prior["centre"])
                            for d in range(draws)]) if effects is not None else data[fold][None])
            pert_data.append(xp)
            pert_errors.append(_ae_errors(ae, xp.reshape(-1, X.shape[1])).reshape(draws, len(fold), -1))
            if pairs:
                null["asym"].append(_asym_score(asym[fold], asym[keep].mean(0), asym[keep].std(0, ddof=1),
                                                sd_floor_deg))
            continue
        xp = np.repeat(data[fold], draws, axis=0)
        if cv > 0:
            xp = _perturb_channels(xp, channels, prior, rng)
        pert_data.append(xp)
        pert_errors.append(_ae_errors(ae, xp.reshape(len(xp), -1)))
        if pairs:
            null["asym"] += np.repeat(_asym_score(asym[fold], asym[keep].mean(0), asym[keep].std(0, ddof=1),
                                                  sd_floor_deg), draws).tolist()
    if sum(len(e) for e in errors) < 5:
        raise InvalidArgument(f"fit_baseline: only {sum(len(e) for e in errors)} cycles could be held out with "
                              "enough non-overlapping cycles to remain; the baseline needs more independent cycles")
    errors = np.concatenate(errors)
    # the residual variance per part × joint × phase of cycles the network did not see,
    # floored at the marker/IK noise
    err_parts = _parts(errors.reshape(-1, *data.shape[1:]), channels)
    val_parts = _parts(data, channels)
    residual, doc_parts = {}, {}
    for p, (joints, E) in err_parts.items():
        floor = _part_floor(p, joints, channels, sd_floor_deg)
        residual[p] = np.maximum((E ** 2).mean(0), floor[:, None])
        tau_off, tau_gain = _prior_sd(p, val_parts["sym"][1], cv, sd_floor_deg, weight, paired=len(pairs))
        doc_parts[p] = {"joints": list(joints), "tau_off_deg": tau_off.tolist(), "tau_gain": tau_gain.tolist(),
                        "residual_var_deg2": residual[p].tolist()}
    if trial_level:
        # (draw, cycle) order: a null trial is one draw
        pe = np.concatenate(pert_errors, axis=1)
        pd_ = np.concatenate(pert_data, axis=1)
        nh = pe.shape[1]
        groups = null_groups.reshape(draws, n)[:, used].reshape(-1)
        part_null = _ae_part_scores(pe.reshape(draws * nh, -1), pd_.reshape(draws * nh, *data.shape[1:]), channels,
                                    doc_parts, residual, groups, None, _gain_centre(data.mean(0), channels))
        if pairs:
            null["asym"] = np.concatenate(null["asym"]).tolist() * draws
    else:
        part_null = _ae_part_scores(np.concatenate(pert_errors), np.concatenate(pert_data), channels, doc_parts,
                                    residual)
    for p in doc_parts:
        doc_parts[p]["chi2_scale"], doc_parts[p]["chi2_df"] = _chi2_fit(part_null[p])
    if not pairs:
        del null["asym"]
    ae = _adapt(cycles, X, unit, window_s, seed, pretrain)
    doc = _common_doc(cycles, data, meta, task, unit, window_s, hop_s, sd_floor_deg, pairs, asym)
    doc["scorer"] = {"kind": "ae", "seed": int(seed), "latent": 8, "pretrain": bool(pretrain),
                     "pretrain_cycles": AE_PRETRAIN_CYCLES if pretrain else 0,
                     "pretrain_epochs": AE_PRETRAIN_EPOCHS if pretrain else 0,
                     "adapt_steps": AE_ADAPT_STEPS, "folds": AE_FOLDS, "between_trial_cv": float(cv),
                     "prior_weight": float(weight), "prior_level": prior_level, "parts": doc_parts}
    _finish_null(doc, null, part_null)
    return Baseline(doc, ae)


def _schema():
    from .._schema import Bool, Int, List, Num, Obj, Str

    vec = List(Num())
    mat = List(List(Num()), min_len=1)
    part = Obj({"joints": List(Str(), min_len=1), "tau_off_deg": List(Num(lo=0)), "tau_gain": List(Num(lo=0)),
                "chi2_scale": Num(lo=0), "chi2_df": Num(lo=0), "mean?": vec, "components?": mat,
                "eigenvalues?": List(Num(lo=0), min_len=1), "residual_var?": Num(lo=0), "explained?": Num(lo=0, hi=1),
                "residual_var_deg2?": mat})
    return Obj({
        "format": Str(choices=[FORMAT]), "version": Int(lo=1, hi=FORMAT_VERSION), "task": Str(),
        "unit": Str(choices=["cycle", "window"]), "window_s": Num(lo=0), "hop_s": Num(lo=0),
        "points": Int(lo=2), "channels": List(Str(), min_len=1), "n_cycles": Int(lo=1), "sources": List(Str()),
        "sd_floor_deg": Num(lo=0),
        "phase_mean_deg": mat, "phase_sd_deg": mat,
        "scorer": Obj({"kind": Str(choices=list(SCORERS)), "variance?": Num(lo=0, hi=1),
                       "explained?": Num(lo=0, hi=1), "components?": mat, "eigenvalues?": List(Num(lo=0), min_len=1),
                       "residual_var?": Num(lo=0), "model?": Str(), "weights_crc32?": Str(), "seed?": Int(lo=0),
                       "latent?": Int(lo=1), "pretrain?": Bool(), "pretrain_cycles?": Int(lo=0),
                       "pretrain_epochs?": Int(lo=0), "adapt_steps?": Int(lo=1), "folds?": Int(lo=1),
                       "residual_var_deg2?": mat, "between_trial_cv?": Num(lo=0, hi=1),
                       "prior_weight?": Num(lo=0, hi=1), "prior_level?": Str(choices=list(PRIOR_LEVELS)),
                       "parts?": Obj({"sym": part, "asym?": part})}),
        "null": Obj({"score": List(Num(lo=0), min_len=1), "t2?": List(Num(lo=0), min_len=1),
                     "spe?": List(Num(lo=0), min_len=1), "asym?": List(Num(lo=0), min_len=1),
                     "part_sym?": List(Num(lo=0), min_len=1), "part_asym?": List(Num(lo=0), min_len=1)}),
        "asymmetry": Obj({"joints": List(Str()), "mean_deg": vec, "sd_deg": vec}),
    })


def load_baseline(path) -> Baseline:
    """Reads a baseline written by :meth:`Baseline.save`, every node checked first.

    Raises
    ------
    NotFound : no such file;  FormatError : not a baseline of this version, naming the node.
    """
    from .._io import load_json_file
    from .._schema import check

    doc = load_json_file(path, "load_baseline")
    check(doc, _schema(), "load_baseline", path)
    C, P = len(doc["channels"]), doc["points"]
    kind = doc["scorer"]["kind"]
    v3 = doc["version"] >= 3
    if v3:
        need = {"pca": ("variance", "parts"), "ae": ("model", "weights_crc32", "latent", "parts")}[kind]
    else:
        need = {"pca": ("variance", "explained", "components", "eigenvalues", "residual_var"),
                "ae": ("model", "weights_crc32", "latent", "residual_var_deg2")}[kind]
    for node in need:
        if node not in doc["scorer"]:
            raise FormatError(f"load_baseline: '{path}': node scorer.{node} is missing (a '{kind}' baseline)")
    for node in (("t2", "spe") if kind == "pca" and not v3 else ()):
        if node not in doc["null"]:
            raise FormatError(f"load_baseline: '{path}': node null.{node} is missing")

    def shape(node, rows, cols):
        v = doc
        for part in node.split("."):
            v = v[part]
        if len(v) != rows or any(len(r) != cols for r in v):
            raise FormatError(f"load_baseline: '{path}': node {node} must be {rows} × {cols}")

    shape("phase_mean_deg", C, P)
    shape("phase_sd_deg", C, P)
    if v3:
        expect = _parts(np.zeros((1, C, 1)), list(doc["channels"]))
        if set(doc["scorer"]["parts"]) != set(expect):
            raise FormatError(f"load_baseline: '{path}': node scorer.parts must hold {sorted(expect)} for these "
                              "channels")
        for p, spec in doc["scorer"]["parts"].items():
            J = len(expect[p][0])
            if spec["joints"] != expect[p][0] or len(spec["tau_off_deg"]) != J or len(spec["tau_gain"]) != J:
                raise FormatError(f"load_baseline: '{path}': node scorer.parts.{p} must describe the joints "
                                  f"{expect[p][0]}")
            for node in (("mean", "components", "eigenvalues", "residual_var", "explained") if kind == "pca"
                         else ("residual_var_deg2",)):
                if node not in spec:
                    raise FormatError(f"load_baseline: '{path}': node scorer.parts.{p}.{node} is missing")
            if kind == "pca":
                if len(spec["mean"]) != J * P:
                    raise FormatError(f"load_baseline: '{path}': node scorer.parts.{p}.mean must hold {J * P} values")
                shape(f"scorer.parts.{p}.components", len(spec["eigenvalues"]), J * P)
            else:
                shape(f"scorer.parts.{p}.residual_var_deg2", J, P)
                if min(min(r) for r in spec["residual_var_deg2"]) <= 0:
                    raise FormatError(f"load_baseline: '{path}': node scorer.parts.{p}.residual_var_deg2 must be > 0")
            if not (spec["chi2_scale"] > 0 and spec["chi2_df"] > 0):
                raise FormatError(f"load_baseline: '{path}': node scorer.parts.{p}: chi2_scale and chi2_df must be > 0")
    elif kind == "pca":
        shape("scorer.components", len(doc["scorer"]["eigenvalues"]), C * P)
    else:
        shape("scorer.residual_var_deg2", C, P)
        if min(min(r) for r in doc["scorer"]["residual_var_deg2"]) <= 0:
            raise FormatError(f"load_baseline: '{path}': node scorer.residual_var_deg2 must be > 0")
    j = len(doc["asymmetry"]["joints"])
    for node in ("mean_deg", "sd_deg"):
        if len(doc["asymmetry"][node]) != j:
            raise FormatError(f"load_baseline: '{path}': node asymmetry.{node} must hold {j} values")
    if len({len(v) for v in doc["null"].values()}) != 1:
        raise FormatError(f"load_baseline: '{path}': node null: its lists (score, t2, spe, asym, part_*) must have "
                          "equal lengths")
    if kind == "pca":
        return Baseline(doc)
    name = doc["scorer"]["model"]
    if os.path.basename(name) != name:
        raise FormatError(f"load_baseline: '{path}': node scorer.model must be a file name beside the baseline")
    # The network is saved beside the baseline as <baseline>.ae.pt: a baseline renamed or
    # copied with its two files finds them under its own name (the CRC below still ties the
    # pair); the recorded name is the fallback.
    own = os.fspath(path) + ".ae.pt"
    weights = own if os.path.exists(own) else os.path.join(os.path.dirname(os.fspath(path)), name)
    ae = _autoencoder_class().load(weights)
    import json as _json

    with open(os.path.splitext(weights)[0] + ".json", encoding="utf-8") as f:
        crc = _json.load(f)["weights"]["crc32"]
    if crc != doc["scorer"]["weights_crc32"]:
        raise FormatError(f"load_baseline: '{path}' was saved with weights of CRC-32 {doc['scorer']['weights_crc32']}, "
                          f"'{weights}' has {crc}: a mixed-up baseline and network")
    if ae.channels != C or ae.points != P:
        raise FormatError(f"load_baseline: '{path}': the network '{weights}' takes {ae.channels} × {ae.points}, the "
                          f"baseline's cycles are {C} × {P}")
    return Baseline(doc, ae)
