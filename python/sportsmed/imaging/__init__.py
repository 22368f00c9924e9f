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

import numpy as np

from .._pillars import require_pillar

require_pillar("imaging")

from .._core import imaging as _imaging  # noqa: E402

# Everything the compiled submodule binds (Geometry, Image, read_*/write_*, kernels,
# metrics, relaxometry, phantom) is re-exported unchanged.
_COMPILED = [name for name in dir(_imaging) if not name.startswith("_")]
globals().update({name: getattr(_imaging, name) for name in _COMPILED})
Image = _imaging.Image
# Readers and writers take os.PathLike too (pathlib.Path), like nibabel's.
from .._paths import wrap_file_functions  # noqa: E402

wrap_file_functions(globals(), _imaging)


from ._labels import (  # noqa: E402
    PYMSKT_LABEL_NAMES, compact_label_map, label_names_path, match_labels_by_name, name_key, present_labels,
    read_label_mapping, read_label_names, resolve_label, write_label_names,
)
from ._checks import (  # noqa: E402
    SHEAR_TOLERANCE, THICK_SLICE_MM, THICKNESS_MEAN_RANGE_MM, check_orthogonal, echo_time_problem,
    knee_side_from_labels, side_from_names, thickness_warnings,
)


def _geometry_from_ras_affine(affine, shape):
    """The Geometry (LPS) of a 4×4 voxel → RAS affine (nibabel's ``img.affine``)."""
    a = np.asarray(affine, dtype=float)
    flip = np.diag([-1.0, -1.0, 1.0])
    m = flip @ a[:3, :3]
    spacing = np.linalg.norm(m, axis=0)
    return Geometry(list(shape[:3]), spacing, flip @ a[:3, 3], m / spacing)  # noqa: F405


def _image_to_nibabel(self):
    """This image as an in-memory ``nibabel.Nifti1Image`` with the same affine: the stored
    voxels, or, for a scaled image, the scaled values (float64; nibabel applies a header's
    slope only to data it reads from a file)."""
    import nibabel as nib

    return nib.Nifti1Image(self.fdata() if self.scaled else np.asarray(self.array), self.affine)


def _image_from_nibabel(nimg):
    """An :class:`Image` from a nibabel image: voxels as stored (scaling kept), geometry from
    its affine."""
    # A loaded image keeps its scaling on the data proxy (nibabel clears the header's).
    slope, inter = getattr(nimg.dataobj, "slope", None), getattr(nimg.dataobj, "inter", None)
    if slope is None and hasattr(nimg.header, "get_slope_inter"):
        slope, inter = nimg.header.get_slope_inter()
    raw = np.asanyarray(nimg.dataobj.get_unscaled() if hasattr(nimg.dataobj, "get_unscaled") else nimg.dataobj)
    out = Image(raw, _geometry_from_ras_affine(nimg.affine, raw.shape))
    if slope is not None and not (slope == 1 and (inter or 0) == 0):
        out.scaled, out.scl_slope, out.scl_inter = True, float(slope), float(inter or 0.0)
    return out


# nibabel's habits on Image: img.affine (voxel → RAS), img.shape, and the two conversions.
Image.affine = property(lambda self: np.asarray(self.geometry.affine_ras()),
                        doc="4×4 voxel → RAS world matrix (nibabel's img.affine).")
Image.shape = property(lambda self: tuple(self.dims), doc="Array shape (nibabel's img.shape).")
Image.to_nibabel = _image_to_nibabel
Image.from_nibabel = staticmethod(_image_from_nibabel)


def convert(src: str, dst: str) -> Image:
    """Reads ``src`` (NIfTI or NRRD) and writes it to ``dst`` (format from the extension),
    keeping type, values, scaling and geometry, and copies its sidecars beside ``dst`` (label
    names ``<name>.labels.json``, echo times ``<name>.json``). NRRD has no scaling: a scaled
    NIfTI is written as its scaled values (float32), and NRRD grids are orthogonal: a sheared
    grid is refused for it (keep it in NIfTI). Returns the image written."""
    import shutil

    import numpy as np

    from .. import InvalidArgument
    from ._sidecar import sidecar_path

    img = read_image(str(src))
    if str(dst).lower().endswith((".nrrd", ".nhdr")):
        d = np.asarray(img.geometry.direction, dtype=float)
        if float(np.max(np.abs(d.T @ d - np.eye(3)))) > SHEAR_TOLERANCE:
            raise InvalidArgument(f"convert: '{src}' lies on a sheared grid, which NRRD (space directions of an "
                                  "orthogonal frame, as read here) cannot hold: keep it in NIfTI, or resample it")
        if img.scaled:
            img = Image(np.asarray(img.fdata(), dtype=np.float32), img.geometry)
    write_image(img, str(dst))
    for side in (label_names_path, sidecar_path):
        if side(src).is_file() and side(src) != side(dst):
            shutil.copyfile(side(src), side(dst))
    return img


__all__ = sorted(set(_COMPILED) | {"convert", "metrics_table", "regional_thickness_table", "write_thickness_map",
                                       "thickness_map_figure", "as_label_map", "PYMSKT_LABEL_NAMES",
                                       "label_names_path", "read_label_mapping", "read_label_names", "resolve_label",
                                       "write_label_names", "compact_label_map", "match_labels_by_name", "name_key",
                                       "present_labels", "THICK_SLICE_MM", "THICKNESS_MEAN_RANGE_MM",
                                       "echo_time_problem", "knee_side_from_labels", "side_from_names",
                                       "thickness_warnings", "check_orthogonal", "SHEAR_TOLERANCE"})


def metrics_table(gt, pred, spacing, labels=None, tolerance_mm: float = 1.0, names=None):
    """Per-label segmentation metrics as a ``pandas.DataFrame`` (one row per label).

    Parameters
    ----------
    gt, pred : (nx, ny, nz) uint8 label maps on the same grid.
    spacing : voxel size (mm) along i, j, k.
    labels : labels to evaluate (default: every label > 0 present in either map).
    tolerance_mm : tolerance of the surface Dice.
    names : optional tissue names, added as a column ``tissue``: a mapping label -> name, or
        a sequence whose item ``i`` names label ``i`` (as ``seg.model_spec(m)["labels"]``,
        background first).
    """
    import pandas as pd

    rows = _imaging.segmentation_metrics(gt, pred, spacing, list(labels or []), tolerance_mm)
    df = pd.DataFrame(rows).set_index("label")
    if names is not None and len(names):
        if not hasattr(names, "get"):
            if isinstance(names, str):
                raise TypeError("metrics_table: names must be a mapping label -> name or a list of names, "
                                "not a string")
            names = dict(enumerate(names))
        df.insert(0, "tissue", [str(names.get(int(i), names.get(str(int(i)), ""))) for i in df.index])
    return df


def regional_thickness_table(labels, geometry, side: str = "auto", knee_labels=(1, 2, 3, 5, 6),
                             anterior_deg: float = -30.0, posterior_deg: float = 30.0):
    """Regional cartilage thickness as a ``pandas.DataFrame`` indexed by region.

    Columns: label, points and mean_mm / sd_mm (nearest-surface thickness of the
    articular-surface points), voxels and mean_local_mm (local thickness). The knee frame
    (split plane, medial side, condyle axis) is in ``df.attrs["frame"]``. See
    :func:`regional_cartilage_thickness` for the region definitions.
    """
    import pandas as pd

    rows, frame = _imaging.regional_cartilage_thickness(labels, geometry, side, tuple(knee_labels), anterior_deg,
                                                        posterior_deg)
    df = pd.DataFrame(rows).set_index("region")
    df.attrs["frame"] = frame
    return df


def write_thickness_map(unrolled: dict, path: str) -> None:
    """Writes an :func:`unrolled_femoral_thickness` result as an image: ``.png`` (a
    matplotlib figure with axes in mm and degrees) or any volume format (NIfTI/NRRD: a
    (n_ml, n_angle, 1) float32 image whose spacing is (ml_step_mm, angle_step_deg, 1) and
    origin (ml0_mm, angle0_deg, 0); NaN marks empty bins)."""
    m = np.asarray(unrolled["map"])
    path = str(path)
    if path.lower().endswith(".png"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = thickness_map_figure(unrolled, plt)
        from .._io import atomic_output

        with atomic_output(path, "wb") as f:
            fig.savefig(f, dpi=120, format="png")
        plt.close(fig)
        return
    g = Geometry((m.shape[0], m.shape[1], 1), (unrolled["ml_step_mm"], unrolled["angle_step_deg"], 1.0),
                 (unrolled["ml0_mm"], unrolled["angle0_deg"], 0.0))
    write_image(Image(np.asfortranarray(m[:, :, None].astype(np.float32)), g), path)


def thickness_map_figure(unrolled: dict, plt=None):
    """A matplotlib figure of an unrolled femoral thickness map: angle about the condyle
    axis (0 = inferior, + posterior) against world x (mm)."""
    if plt is None:
        import matplotlib.pyplot as plt
    m = np.asarray(unrolled["map"])
    x0, dx = unrolled["ml0_mm"], unrolled["ml_step_mm"]
    a0, da = unrolled["angle0_deg"], unrolled["angle_step_deg"]
    extent = (x0 - dx / 2, x0 + dx * (m.shape[0] - 0.5), a0 - da / 2, a0 + da * (m.shape[1] - 0.5))
    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    im = ax.imshow(m.T, origin="lower", extent=extent, aspect="auto", cmap="viridis")
    medial = "-x" if unrolled["frame"]["medial_sign"] < 0 else "+x"
    ax.set_xlabel(f"world x (mm, LPS; medial towards {medial})")
    ax.set_ylabel("angle about the condyle axis (deg, + posterior)")
    ax.axvline(unrolled["frame"]["ml_split_mm"], color="w", lw=0.8, ls="--")
    fig.colorbar(im, ax=ax, label="thickness (mm)")
    return fig
