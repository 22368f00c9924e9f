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

Geometry = _imaging.Geometry
Image = _imaging.Image
read_nifti = _imaging.read_nifti
read_nrrd = _imaging.read_nrrd
read_image = _imaging.read_image
write_nifti = _imaging.write_nifti
write_nrrd = _imaging.write_nrrd
write_image = _imaging.write_image
distance_transform = _imaging.distance_transform
label_components = _imaging.label_components
keep_largest_component = _imaging.keep_largest_component
keep_largest_component_per_label = _imaging.keep_largest_component_per_label
fill_holes = _imaging.fill_holes
fill_holes_per_label = _imaging.fill_holes_per_label
dilate_ball = _imaging.dilate_ball
erode_ball = _imaging.erode_ball


def convert(src: str, dst: str) -> Image:
    """Reads ``src`` (NIfTI or NRRD) and writes it to ``dst`` (format from the extension),
    keeping type, values, scaling and geometry. Returns the image."""
    img = read_image(str(src))
    write_image(img, str(dst))
    return img


__all__ = [
    "Geometry", "Image", "read_nifti", "read_nrrd", "read_image", "write_nifti", "write_nrrd",
    "write_image", "convert", "distance_transform", "label_components", "keep_largest_component",
    "keep_largest_component_per_label", "fill_holes", "fill_holes_per_label", "dilate_ball",
    "erode_ball",
]
