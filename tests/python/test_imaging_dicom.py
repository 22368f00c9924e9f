"""DICOM series (GDCM) on the real MESE knee, and its T2 map against curve_fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

imaging = pytest.importorskip("sportsmed.imaging")
import sportsmed  # noqa: E402


@pytest.fixture(scope="module")
def mese():
    from conftest import shared_data_dir

    folder = shared_data_dir() / "mri" / "mese_t2"
    if not folder.exists():
        pytest.skip(f"shared data folder {folder} is absent")
    return imaging.read_dicom_series(str(folder))


def test_mese_series_geometry_matches_the_published_expectation(mese):
    # pymskt's test: (24, 256, 256, 8), spacing (0.625, 0.625, 4.0), origin (-29.0364, -103.429, 56.2757)
    a, g = mese["array"], mese["geometry"]
    assert a.shape == (256, 256, 24, 8)
    np.testing.assert_allclose(g.spacing, (0.625, 0.625, 4.0), atol=1e-5)
    np.testing.assert_allclose(g.origin, (-29.0364, -103.429, 56.2757), atol=1e-4)
    np.testing.assert_allclose(mese["te_ms"], 6.312 * np.arange(1, 9), atol=1e-6)
    d = g.direction
    np.testing.assert_allclose(d.T @ d, np.eye(3), atol=1e-6)
    # big-endian pixels decoded: plausible magnitudes, decaying with echo time in tissue
    assert a.min() >= 0 and 1000 < a.max() < 32768
    bright = a[..., 0] > np.percentile(a[..., 0], 95)
    means = [a[..., e][bright].mean() for e in range(8)]
    # (MESE's first echo is often below the second: stimulated echoes; compare echoes 2..8)
    assert all(x > y for x, y in zip(means[1:], means[2:]))


def test_mese_t2_map_equals_curve_fit(mese):
    a, te = mese["array"], np.asarray(mese["te_ms"])
    mask = a[..., 0] > np.percentile(a[..., 0], 60)
    maps = imaging.fit_t2(a, te, mask)
    rng = np.random.default_rng(0)
    idx = np.argwhere(mask & (maps["r2"] >= 0.9) & (maps["status"] == 0))
    idx = idx[rng.choice(len(idx), size=min(1500, len(idx)), replace=False)]

    def model(t, s0, t2):
        return s0 * np.exp(-t / t2)

    diffs = []
    for i, j, k in idx:
        y = a[i, j, k]
        slope, icpt = np.polyfit(te, np.log(np.maximum(y, 1e-6)), 1)
        p, _ = curve_fit(model, te, y, p0=(np.exp(icpt), -1 / slope if slope < 0 else 100.0), maxfev=10000)
        diffs.append(abs(p[1] - maps["t2_ms"][i, j, k]))
    diffs = np.array(diffs)
    assert np.median(diffs) <= 0.05
    assert np.percentile(diffs, 90) <= 0.05


def test_missing_folder_raises_not_found(tmp_path):
    with pytest.raises(sportsmed.NotFound):
        imaging.read_dicom_series(str(tmp_path / "nope"))
    (tmp_path / "junk.dcm").write_bytes(b"not dicom")
    with pytest.raises(sportsmed.NotFound, match="no readable DICOM"):
        imaging.read_dicom_series(str(tmp_path))
