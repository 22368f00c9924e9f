"""Plausibility checks of knee MRI measurements: numbers that no knee gives are reported
with their likely cause (units, voxel size, labels, side), never passed on silently.

Each check returns a list of warning sentences (empty: nothing to say) or raises
InvalidArgument where going on would give a wrong number."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

#: Plausible mean thickness (mm) of one knee cartilage plate. Rationale: MRI studies of adult
#: knees report plate means of about 1.3-2.5 mm (femur, tibia) and 2-4 mm (patella), maxima
#: rarely above 6 mm (Hudelmaier et al. 2001, Arthritis Rheum 44:2556; Eckstein et al. 2006,
#: Osteoarthritis Cartilage 14 Suppl A:A46). A mean under 0.5 mm is thinner than any plate
#: and than most voxels it is measured on: the voxel size is in the wrong unit (m, cm) or
#: wrong. A mean over 6 mm is a voxel size too large (units, a scaled affine) or a structure
#: that is not cartilage.
THICKNESS_MEAN_RANGE_MM = (0.5, 6.0)

#: Largest voxel dimension (mm) at which thickness is measured without a marked bias. The
#: nearest-surface distance between voxel surfaces is quantised to the voxel step along the
#: slice direction; with ~2 mm cartilage, slices over ~1.5 mm (more than about two thirds
#: of the thickness) make that step, and the partial volume at the oblique plate edges,
#: a large overestimate (Eckstein et al. 1998, Clin Orthop 352:137, used <= 1.5 mm slices).
THICK_SLICE_MM = 1.5


def thickness_warnings(mean_mm: float, spacing_mm: Sequence[float], what: str = "cartilage",
                       upper: bool = True) -> list:
    """Warnings about a cartilage thickness measurement: its mean outside
    :data:`THICKNESS_MEAN_RANGE_MM` (with the likely cause) and a voxel larger than
    :data:`THICK_SLICE_MM` along any axis (thickness overestimated).

    Parameters
    ----------
    mean_mm : mean thickness (mm) of the structure.
    spacing_mm : voxel size (mm) along i, j, k.
    what : the structure, for the message.
    upper : also check the upper bound (False where a stronger warning said it already).
    """
    out = []
    lo, hi = THICKNESS_MEAN_RANGE_MM
    spacing = [float(s) for s in spacing_mm]
    size = "x".join(f"{s:.3g}" for s in spacing)
    if np.isfinite(mean_mm) and mean_mm < lo:
        out.append(f"{what}: mean thickness {mean_mm:.3g} mm is below any knee cartilage (adult plates are about "
                   f"1-4 mm, never under {lo:g} mm): the voxel size ({size} mm) is likely in the wrong unit "
                   "(metres or centimetres read as mm) or wrong; check the image header")
    elif upper and np.isfinite(mean_mm) and mean_mm > hi:
        out.append(f"{what}: mean thickness {mean_mm:.3g} mm is above knee cartilage (adult plates are about 1-4 mm, "
                   f"rarely over {hi:g} mm): the voxel size ({size} mm) is likely too large (units, a scaled affine), "
                   "or the labels are not cartilage on its bone")
    if spacing and max(spacing) > THICK_SLICE_MM:
        out.append(f"{what}: the largest voxel dimension is {max(spacing):.3g} mm (> {THICK_SLICE_MM:g} mm): "
                   "thickness is overestimated on thick slices; measure on a 3-D acquisition with voxels of "
                   f"{THICK_SLICE_MM:g} mm or less")
    return out


def knee_side_from_labels(labels, geometry, medial: int, lateral: int) -> Optional[str]:
    """The knee ("left" or "right") that the medial and lateral tibial cartilage labels say,
    from where they lie in the LPS world (medial towards the patient's left, +x, on a right
    knee), or None when either label is absent."""
    affine = np.asarray(geometry.affine_ras(), dtype=float)
    xs = []
    for value in (medial, lateral):
        idx = np.nonzero(np.asarray(labels) == value)
        if idx[0].size == 0:
            return None
        centre = np.array([i.mean() for i in idx] + [1.0])
        xs.append(-(affine[0] @ centre))  # RAS x -> LPS x
    return "right" if xs[0] > xs[1] else "left"


def side_from_names(names) -> Optional[str]:
    """"left" or "right" when the given structure names all say one side (a word
    ``left``/``right``), "both" when they say both, None when none says."""
    import re

    said = set()
    for name in names or ():
        words = re.split(r"[^a-z]+", str(name).lower())
        said |= {w for w in words if w in ("left", "right")}
    return None if not said else said.pop() if len(said) == 1 else "both"


def echo_time_problem(te_ms: Sequence[float]) -> Optional[str]:
    """Why echo times (ms) cannot be right, or None. All below 1 ms is the seconds of a DICOM
    or BIDS header given as milliseconds (a T2 series has echoes of ~5-100 ms)."""
    te = np.asarray(list(te_ms), dtype=float)
    if te.size and np.all(np.isfinite(te)) and te.max() < 1.0:
        return (f"echo times {', '.join(f'{t:g}' for t in te)} look like seconds (all below 1 ms); "
                "give milliseconds (e.g. --te " + " ".join(f"{t * 1000:g}" for t in te[:3]) +
                (" ..." if te.size > 3 else "") + ")")
    return None


#: Largest |DᵀD − I| of a grid's direction cosines taken as orthogonal (float rounding of a
#: rotation stays far below it; 1e-3 is an angle of about 0.06°).
SHEAR_TOLERANCE = 1e-3


def check_orthogonal(geometry, source, what: str) -> None:
    """Refuses a sheared grid (direction cosines not orthogonal, e.g. a gantry tilt kept in the
    affine) for a computation that measures distances with the voxel sizes: read and
    converted faithfully, such an image would give wrong millimetres here. ``source`` names
    the image in the message."""
    from .. import InvalidArgument

    d = np.asarray(geometry.direction, dtype=float)
    err = float(np.max(np.abs(d.T @ d - np.eye(3))))
    if err > SHEAR_TOLERANCE:
        raise InvalidArgument(f"{what}: '{source}' lies on a sheared grid (its axes are off 90 deg by up to "
                              f"{np.degrees(np.arcsin(min(1.0, err))):.2f} deg): distances measured on it would be "
                              "wrong; resample it onto an orthogonal grid first")
