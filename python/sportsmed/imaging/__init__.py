"""Knee MRI, quantitative part: volumes with geometry, NIfTI/NRRD I/O, distance and
component kernels, segmentation metrics, T2 relaxometry, cartilage thickness and a knee
MRI phantom.

Conventions
-----------
* Arrays are indexed ``[i, j, k]`` (``[i, j, k, echo]`` for multi-echo data) like nibabel's
  ``img.get_fdata()``; compiled functions return Fortran-ordered arrays (no copy).
* A :class:`Geometry` places the grid in the **LPS** world (mm):
  ``world = origin + direction @ (spacing * ijk)``. ``Geometry.affine_ras()`` is the
  nibabel/NIfTI affine.
"""

from __future__ import annotations

from .._pillars import require_pillar

require_pillar("imaging")

from .._core import imaging as _imaging  # noqa: E402

# Everything the compiled submodule binds (Geometry, Image, read_*/write_*, kernels,
# metrics, relaxometry, phantom) is re-exported unchanged.
_COMPILED = [name for name in dir(_imaging) if not name.startswith("_")]
globals().update({name: getattr(_imaging, name) for name in _COMPILED})
Image = _imaging.Image
read_image = _imaging.read_image
write_image = _imaging.write_image


def convert(src: str, dst: str) -> Image:
    """Reads ``src`` (NIfTI or NRRD) and writes it to ``dst`` (format from the extension),
    keeping type, values, scaling and geometry. Returns the image."""
    img = read_image(str(src))
    write_image(img, str(dst))
    return img


__all__ = sorted(set(_COMPILED) | {"convert", "metrics_table"})


def metrics_table(gt, pred, spacing, labels=None, tolerance_mm: float = 1.0, names=None):
    """Per-label segmentation metrics as a ``pandas.DataFrame`` (one row per label).

    Parameters
    ----------
    gt, pred : (nx, ny, nz) uint8 label maps on the same grid.
    spacing : voxel size (mm) along i, j, k.
    labels : labels to evaluate (default: every label > 0 present in either map).
    tolerance_mm : tolerance of the surface Dice.
    names : optional mapping label -> tissue name, added as a column.
    """
    import pandas as pd

    rows = _imaging.segmentation_metrics(gt, pred, spacing, list(labels or []), tolerance_mm)
    df = pd.DataFrame(rows).set_index("label")
    if names:
        df.insert(0, "tissue", [names.get(i, "") for i in df.index])
    return df
