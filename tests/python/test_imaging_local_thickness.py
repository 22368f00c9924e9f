"""Local thickness against a brute-force reference built on scipy's EDT, regional
cartilage thickness (orientation independence, the real pymskt knee) and the unrolled
femoral map against an independent numpy binning."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

imaging = pytest.importorskip("sportsmed.imaging")
import sportsmed  # noqa: E402


def _brute_local_thickness(mask, spacing):
    """Definition of imaging.local_thickness, evaluated over all pairs of voxels."""
    d = ndimage.distance_transform_edt(mask, sampling=spacing)
    fg = np.argwhere(mask)
    pos = fg * np.asarray(spacing)
    r = d[mask.astype(bool)]
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)  # [point, centre]
    inside = d2 < (r**2 * (1 - 1e-10))[None, :]
    tau = np.where(inside, 2 * r[None, :], 0).max(1)
    out = np.zeros(mask.shape)
    out[tuple(fg.T)] = tau
    return out


@pytest.mark.parametrize("seed,spacing", [(0, (1.0, 1.0, 1.0)), (1, (0.7, 1.3, 2.1)), (2, (0.4, 0.4, 1.1))])
def test_local_thickness_equals_brute_force_on_random_shapes(seed, spacing):
    rng = np.random.default_rng(seed)
    # smoothed noise thresholded: blobs with necks and holes
    mask = ndimage.gaussian_filter(rng.random((14, 12, 10)), 1.3) > 0.5
    assert 0.2 < mask.mean() < 0.8
    ours = imaging.local_thickness(mask, spacing)
    ref = _brute_local_thickness(mask, spacing)
    assert np.abs(ours - ref).max() <= 1e-9
    assert (ours[~mask] == 0).all() and (ours[mask] > 0).all()


def test_local_thickness_of_a_slab_and_a_ball():
    # slab of 6 voxels at 0.5 mm: 3.0 mm thick; n even -> tau = n*h exactly
    slab = np.zeros((8, 9, 12), bool)
    slab[:, :, 3:9] = True
    t = imaging.local_thickness(slab, (0.8, 0.9, 0.5))
    np.testing.assert_allclose(t[slab], 3.0, atol=1e-12)
    # ball of radius 5 mm on a 0.5 mm grid: between 2R and 2R + 2h everywhere
    x = (np.indices((31, 31, 31)) - 15) * 0.5
    ball = (x**2).sum(0) <= 25.0
    t = imaging.local_thickness(ball, (0.5, 0.5, 0.5))
    assert ((t[ball] > 10.0) & (t[ball] <= 11.0)).all()


def _phantom():
    return imaging.make_knee_phantom(spacing_mm=(0.6, 0.6, 0.6), extent_mm=(72, 72, 84), snr=0, te_ms=[10.0])


@pytest.fixture(scope="module")
def phantom():
    return _phantom()


def test_regions_do_not_depend_on_how_the_grid_is_stored(phantom):
    lab, g = phantom["labels"], phantom["geometry"]
    rows, frame = imaging.regional_cartilage_thickness(lab, g)
    # The same knee stored with axes permuted (k, i, j) and the new first axis flipped.
    perm = np.transpose(lab, (2, 0, 1))[::-1]
    h = np.asarray(g.spacing)
    d = np.asarray(g.direction)
    cols = [-d[:, 2], d[:, 0], d[:, 1]]
    new_dir = np.stack(cols, 1)
    origin = g.origin + d[:, 2] * h[2] * (lab.shape[2] - 1)
    g2 = imaging.Geometry(perm.shape, (h[2], h[0], h[1]), origin, new_dir)
    # same world point for a voxel in both grids
    np.testing.assert_allclose(g2.to_world(np.array([[lab.shape[2] - 1 - 4, 7, 9]], float)),
                               g.to_world(np.array([[7, 9, 4]], float)), atol=1e-9)
    rows2, frame2 = imaging.regional_cartilage_thickness(np.asfortranarray(perm), g2)
    for a, b in zip(rows, rows2):
        assert a["region"] == b["region"] and a["points"] == b["points"] and a["voxels"] == b["voxels"]
        assert a["mean_mm"] == pytest.approx(b["mean_mm"], rel=1e-12)
        assert a["mean_local_mm"] == pytest.approx(b["mean_local_mm"], rel=1e-12)
    np.testing.assert_allclose(frame["condyle_centre_yz_mm"], frame2["condyle_centre_yz_mm"], atol=1e-9)
    assert frame["medial_sign"] == frame2["medial_sign"] == -1  # the phantom's medial compartment is at -x


def test_unrolled_map_equals_numpy_binning_of_the_surface_points(phantom):
    lab, g = phantom["labels"], phantom["geometry"]
    u = imaging.unrolled_femoral_thickness(lab, g, ml_step_mm=1.5, angle_step_deg=3.0)
    th = imaging.cartilage_thickness(lab, g.spacing, 1, 5, g, include_contact=True)
    p, t = th["points_mm"], th["thickness_mm"]
    yc, zc = u["frame"]["condyle_centre_yz_mm"]
    ang = np.degrees(np.arctan2(p[:, 1] - yc, -(p[:, 2] - zc)))
    i = np.floor((p[:, 0] - (u["ml0_mm"] - 0.75)) / 1.5).astype(int)
    j = np.floor((ang - (u["angle0_deg"] - 1.5)) / 3.0).astype(int)
    shape = u["map"].shape
    assert i.min() == 0 and j.min() == 0 and i.max() == shape[0] - 1 and j.max() == shape[1] - 1
    s = np.zeros(shape)
    n = np.zeros(shape)
    np.add.at(s, (i, j), t)
    np.add.at(n, (i, j), 1)
    with np.errstate(invalid="ignore"):
        ref = s / n
    np.testing.assert_array_equal(u["counts"], n)
    np.testing.assert_allclose(u["map"], ref, rtol=1e-12, equal_nan=True)
    # and against the phantom's analytic thickness t_f at the bin centres, away from the edges
    xc = u["ml0_mm"] + 1.5 * np.arange(shape[0])[:, None]
    ac = np.radians(u["angle0_deg"] + 3.0 * np.arange(shape[1])[None, :])
    tf = 2.2 + 0.5 * np.cos(np.pi * xc / 28) + 0.4 * np.sin(1.5 * ac)
    ok = (np.abs(xc) < 26) & (np.degrees(ac) > -56) & (np.degrees(ac) < 96) & ~np.isnan(u["map"])
    assert ok.sum() > 700
    assert np.abs(u["map"][ok] - tf[ok]).mean() <= 0.3  # half a 0.6 mm voxel


def test_regions_on_the_real_pymskt_knee(shared_data):
    img = imaging.read_nrrd(str(shared_data("mri/knee_labels_pymskt.nrrd")))
    rows, frame = imaging.regional_cartilage_thickness(img.array.astype(np.uint8), img.geometry)
    # a right knee (README): in LPS its medial side is +x (towards the patient's left)
    assert frame["medial_sign"] == 1
    assert len(rows) == 8
    for r in rows:
        assert r["points"] > 100, r
        assert 0.8 < r["mean_mm"] < 4.0, r
        assert r["mean_mm"] < r["mean_local_mm"] < r["mean_mm"] + 1.5, r
    rows_r, _ = imaging.regional_cartilage_thickness(img.array.astype(np.uint8), img.geometry, side="right")
    assert rows_r == rows
    with pytest.raises(sportsmed.InvalidArgument, match="side"):
        imaging.regional_cartilage_thickness(img.array.astype(np.uint8), img.geometry, side="up")


def test_regions_errors(phantom):
    lab = phantom["labels"].copy()
    lab[lab == 1] = 0
    with pytest.raises(sportsmed.InvalidArgument, match="femoral cartilage"):
        imaging.regional_cartilage_thickness(lab, phantom["geometry"])
    with pytest.raises(sportsmed.InvalidArgument, match="differs|shape"):
        imaging.regional_cartilage_thickness(phantom["labels"][:-1], phantom["geometry"])


def test_cli_thickness_map_regions_and_local(tmp_path, phantom):
    import os
    import shutil
    import subprocess
    import sys

    import pandas as pd

    exe = shutil.which("sportsmed", path=os.path.dirname(sys.executable)) or shutil.which("sportsmed")
    if exe is None:
        pytest.skip("the sportsmed console script is not installed next to this Python")
    lab, g = phantom["labels"], phantom["geometry"]
    src = tmp_path / "labels.nii.gz"
    imaging.write_image(imaging.Image(lab, g), str(src))
    imaging.write_label_names(src, imaging.PYMSKT_LABEL_NAMES)  # the phantom's numbering, said
    out = {k: tmp_path / v for k, v in [("o", "t.nii.gz"), ("local", "lt.nii.gz"), ("csv", "regions.csv"),
                                         ("nii", "map.nii.gz"), ("png", "map.png")]}
    for m in ("nii", "png"):
        r = subprocess.run([exe, "mri", "thickness", str(src), "-o", str(out["o"]), "--local", str(out["local"]),
                            "--regions", str(out["csv"]), "--map", str(out[m]), "--ml-step", "1.5",
                            "--angle-step", "3"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    # the files hold what the library computes on the labels file (its spacing went through
    # the header's float32, so compare with the library on the file, not on the phantom)
    back = imaging.read_image(str(src))
    lab, g = back.array.astype(np.uint8), back.geometry
    lt = imaging.read_nifti(str(out["local"])).fdata()
    np.testing.assert_array_equal(lt, imaging.local_thickness(lab == 1, g.spacing).astype(np.float32))
    table = pd.read_csv(out["csv"], index_col="region")
    rows, _ = imaging.regional_cartilage_thickness(lab, g)
    # the CSV holds 7 significant digits (--precision's default)
    np.testing.assert_allclose(table["mean_mm"].to_numpy(), [r["mean_mm"] for r in rows], rtol=5e-7)
    u = imaging.unrolled_femoral_thickness(lab, g, 1.5, 3.0)
    m = imaging.read_nifti(str(out["nii"]))
    np.testing.assert_array_equal(m.fdata()[:, :, 0], u["map"].astype(np.float32))
    np.testing.assert_allclose(m.geometry.spacing, (1.5, 3.0, 1.0), atol=1e-6)
    np.testing.assert_allclose(m.geometry.origin[:2], (u["ml0_mm"], u["angle0_deg"]), atol=1e-4)
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
