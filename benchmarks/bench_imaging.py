"""Imaging kernels against the tools MRI researchers use instead: scipy.ndimage (EDT,
labelling), a scipy-based implementation of the surface metrics, scipy.optimize.curve_fit
per voxel (as DOSMA does) and nibabel."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy
from scipy import ndimage
from scipy.optimize import curve_fit

import sportsmed
from harness import Case

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from reference_surface_metrics import ref_metrics  # noqa: E402  (the tests' reference)

try:
    import sportsmed.imaging as imaging
except ImportError:  # pillar not built
    imaging = None

DATA = Path(os.environ.get("SPORTSMED_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
KNEE = DATA / "mri" / "knee_labels_pymskt.nrrd"
MESE = DATA / "mri" / "mese_t2"
TOTALSEG = DATA / "mri" / "totalseg_example_mr.nii.gz"
SCIPY = f"scipy {scipy.__version__}"


def _knee():
    img = imaging.read_nrrd(str(KNEE))
    return img.array, tuple(np.asarray(img.geometry.spacing))


def _edt_setup():
    labels, spacing = _knee()
    return labels > 0, spacing


def _close(a, b):
    assert np.abs(np.asarray(a) - np.asarray(b)).max() <= 1e-6


def _components_setup():
    labels, _ = _knee()
    return (labels > 0) & (labels % 3 != 0)


def _partition_agree(ours, theirs):
    (lab, n), (ref, n_ref) = ours, theirs
    assert n == n_ref
    fg = lab > 0
    assert np.array_equal(fg, ref > 0)
    assert np.unique(np.stack([lab[fg], ref[fg]]), axis=1).shape[1] == n


def _metrics_setup():
    labels, spacing = _knee()
    pred = np.roll(labels, 1, axis=2)
    return labels, pred, spacing


def _metrics_agree(ours, theirs):
    for k, v in theirs.items():
        assert abs(ours[k] - v) <= 1e-6 * max(1.0, abs(v)), k


def _mese_setup():
    s = imaging.read_dicom_series(str(MESE))
    a, te = s["array"], np.asarray(s["te_ms"])
    first = a[..., 0]
    idx = np.argwhere(first > np.percentile(first, 80))
    rng = np.random.default_rng(0)
    idx = idx[rng.choice(len(idx), 2000, replace=False)]
    return np.ascontiguousarray(a[idx[:, 0], idx[:, 1], idx[:, 2]]), te


def _model(t, s0, t2):
    return s0 * np.exp(-t / t2)


def _curve_fit_all(data):
    y, te = data
    out = np.empty(len(y))
    for n, row in enumerate(y):
        slope, icpt = np.polyfit(te, np.log(np.maximum(row, 1e-6)), 1)
        p, _ = curve_fit(_model, te, row, p0=(np.exp(icpt), -1 / slope if slope < 0 else 100.0), maxfev=10000)
        out[n] = p[1]
    return out


def _t2_agree(ours, theirs):
    ok = np.isfinite(ours) & np.isfinite(theirs) & (ours < 999) & (theirs < 999)
    assert ok.mean() > 0.95
    assert np.median(np.abs(ours[ok] - theirs[ok])) <= 0.05


def _nifti_setup():
    # The knee label map as an uncompressed float32 NIfTI (94 MB) and the TotalSegmentator MR (.nii.gz).
    labels, spacing = _knee()
    tmp = Path(tempfile.mkdtemp()) / "knee_float.nii"
    g = imaging.read_nrrd(str(KNEE)).geometry
    imaging.write_nifti(imaging.Image(labels.astype(np.float32), g), str(tmp))
    return [str(tmp), str(TOTALSEG)]


def _nib_read(paths):
    import nibabel as nib

    return [nib.load(p).get_fdata() for p in paths]


def _ours_read(paths):
    return [imaging.read_nifti_fdata(p)[0] for p in paths]


def _nifti_agree(ours, theirs):
    for a, b in zip(ours, theirs):
        assert np.array_equal(a, b)


CASES = []
if imaging is not None and KNEE.exists():
    CASES += [
        Case("EDT (anisotropic) of the 384×384×160 knee label map", f"{SCIPY} distance_transform_edt",
             _edt_setup, lambda d: imaging.distance_transform(d[0], d[1]),
             lambda d: ndimage.distance_transform_edt(d[0], sampling=d[1]), _close),
        Case("connected components (26) of the knee label map", f"{SCIPY} ndimage.label",
             _components_setup, lambda m: imaging.label_components(m, 26),
             lambda m: ndimage.label(m, ndimage.generate_binary_structure(3, 3)), _partition_agree),
        Case("surface metrics (HD, HD95, ASSD, surface Dice) of femoral cartilage, knee map",
             "numpy/scipy implementation of the same definitions", _metrics_setup,
             lambda d: imaging.segmentation_metrics(d[0], d[1], d[2], [1], 1.0)[0],
             lambda d: ref_metrics(d[0] == 1, d[1] == 1, d[2], 1.0), _metrics_agree),
    ]
    try:
        import nibabel  # noqa: F401

        if TOTALSEG.exists():
            CASES.append(Case("NIfTI read + float64 data (94 MB .nii and TotalSegmentator .nii.gz): read_nifti_fdata",
                              f"nibabel {nibabel.__version__} load().get_fdata()", _nifti_setup,
                              _ours_read, _nib_read, _nifti_agree))
    except ImportError:
        pass
if imaging is not None and MESE.exists():
    CASES.append(Case("T2 fit of 2000 MESE knee voxels (8 echoes)", f"{SCIPY} curve_fit per voxel",
                      _mese_setup, lambda d: imaging.fit_t2_curves(d[0], d[1])["t2_ms"], _curve_fit_all, _t2_agree))
