"""Knee phantom as ground truth: cartilage thickness against the analytic thickness and
T2 against the prescribed per-tissue T2."""

from __future__ import annotations

import numpy as np
import pytest

imaging = pytest.importorskip("sportsmed.imaging")
import sportsmed  # noqa: E402

SPACING = (0.6, 0.6, 0.6)


@pytest.fixture(scope="module")
def phantom():
    return imaging.make_knee_phantom(spacing_mm=SPACING, extent_mm=(72, 72, 84), seed=3)


def test_phantom_has_every_tissue_and_is_deterministic(phantom):
    lab = phantom["labels"]
    counts = np.bincount(lab.ravel(), minlength=11)
    assert (counts[1:11] > 500).all()
    # the label map agrees with the analytic model at voxel centres
    g = phantom["geometry"]
    rng = np.random.default_rng(0)
    ijk = np.stack([rng.integers(0, n, 200) for n in lab.shape], 1)
    world = g.to_world(ijk.astype(float))
    np.testing.assert_allclose(world[0], g.origin + ijk[0] * np.asarray(g.spacing))
    again = imaging.make_knee_phantom(spacing_mm=SPACING, extent_mm=(72, 72, 84), seed=3)
    np.testing.assert_array_equal(again["echoes"], phantom["echoes"])
    other = imaging.make_knee_phantom(spacing_mm=SPACING, extent_mm=(72, 72, 84), seed=4)
    assert not np.array_equal(other["echoes"], phantom["echoes"])
    np.testing.assert_array_equal(other["labels"], lab)


def test_partial_volume_mixes_tissues_at_boundaries():
    ph = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(70, 70, 80), snr=0,
                                   bias_amplitude=0.0)
    lab, img, pure = ph["labels"], ph["image"], ph["pure"].astype(bool)
    # without noise and bias, pure voxels carry their tissue's DESS intensity exactly
    np.testing.assert_allclose(img[pure & (lab == 1)], 0.85)
    np.testing.assert_allclose(img[pure & (lab == 5)], 0.2)
    mixed = ~pure & (lab == 1)
    # boundary voxels (corners disagree) mix cartilage with darker tissues
    assert mixed.any() and (img[mixed] <= 0.85 + 1e-12).all() and (img[mixed] < 0.85 - 1e-9).mean() > 0.3
    te = np.asarray(ph["te_ms"])
    np.testing.assert_allclose(ph["echoes"][pure & (lab == 1)][0], 0.8 * np.exp(-te / 35.0))


@pytest.mark.parametrize("cartilage,bone", [(1, 5), (2, 6), (3, 6)])
def test_cartilage_thickness_within_half_a_voxel_of_the_analytic_thickness(phantom, cartilage, bone):
    g = phantom["geometry"]
    th = imaging.cartilage_thickness(phantom["labels"], g.spacing, cartilage, bone, g)
    truth = imaging.phantom_cartilage_thickness(cartilage, th["points_mm"])
    ok = ~np.isnan(truth)
    assert ok.sum() > 300
    err = th["thickness_mm"][ok] - truth[ok]
    assert np.abs(err).mean() <= 0.5 * SPACING[0]
    assert abs(err.mean()) <= 0.25 * SPACING[0]
    # the thickness really varies and the measurement follows it
    assert np.corrcoef(th["thickness_mm"][ok], truth[ok])[0, 1] > 0.6  # (voxel-quantised along the normal)
    assert np.isnan(th["map"]).sum() == th["map"].size - len(th["thickness_mm"])


def test_t2_recovered_within_one_percent_at_snr_50(phantom):
    lab, pure = phantom["labels"], phantom["pure"].astype(bool)
    for label in (1, 2, 4):
        mask = (lab == label) & pure
        maps = imaging.fit_t2(phantom["echoes"], phantom["te_ms"], mask)
        t2 = maps["t2_ms"][mask]
        truth = phantom["t2_ms"][label]
        assert abs(np.median(t2) / truth - 1) <= 0.01, (label, np.median(t2), truth)
        assert (maps["status"][mask] == 0).mean() > 0.99


def test_label_volumes(phantom):
    vols = imaging.label_volumes_mm3(phantom["labels"], SPACING)
    counts = np.bincount(phantom["labels"].ravel(), minlength=256)
    np.testing.assert_allclose(vols, counts * np.prod(SPACING))
    # analytic femoral-condyle volume check: the cylinder of radius 18 mm, length 60 mm
    # (plus the shaft) bounds the femur from below
    assert vols[5] > np.pi * 18 ** 2 * 60 * 0.95


def test_bad_phantom_options_raise():
    with pytest.raises(sportsmed.InvalidArgument):
        imaging.make_knee_phantom(spacing_mm=(0, 1, 1))


def test_knee_shape_dicts_round_trip_and_random_shapes_differ():
    standard = imaging.knee_shape()
    assert standard["femur_radius"] == 18.0 and standard["plateau_z"] == -17.0
    assert imaging.knee_shape(dict(standard)) == standard
    a, b = imaging.knee_shape(7), imaging.knee_shape(8)
    assert a == imaging.knee_shape(7) and a != b
    assert imaging.knee_shape({"fem_t_mean": 3.0})["fem_t_mean"] == 3.0
    with pytest.raises(sportsmed.InvalidArgument, match="unknown shape parameter 'femur_size'"):
        imaging.knee_shape({"femur_size": 1.0})


def test_a_random_knee_has_every_tissue_and_its_own_thickness_truth():
    shape = imaging.knee_shape(21)
    ph = imaging.make_knee_phantom(spacing_mm=(0.7,) * 3, extent_mm=(76, 76, 84), snr=0, supersampling=1,
                                   shape=21)
    assert ph["shape"] == shape
    standard = imaging.make_knee_phantom(spacing_mm=(0.7,) * 3, extent_mm=(76, 76, 84), snr=0, supersampling=1)
    assert not np.array_equal(ph["labels"], standard["labels"])
    counts = np.bincount(ph["labels"].ravel(), minlength=11)
    assert (counts[1:11] > 100).all()
    g = ph["geometry"]
    # an independent check of the analytic model: the femoral cartilage volume equals the
    # integral of its thickness over the condyle arc, V = ∫∫ ((R + t)² − R²)/2 dθ dx
    # (trapezoid rule here), to within the voxelisation error
    R, L = shape["femur_radius"], shape["femoral_cart_half_length"]
    theta = np.linspace(shape["theta_min"], shape["theta_max"], 801)
    x = np.linspace(-L, L, 801)
    T, X = np.meshgrid(theta, x)
    t = shape["fem_t_mean"] + shape["fem_t_ml"] * np.cos(np.pi * X / L) + shape["fem_t_theta"] * np.sin(1.5 * T)
    area = 0.5 * ((R + t) ** 2 - R ** 2)
    volume = np.trapz(np.trapz(area, theta, axis=1), x)
    measured = counts[1] * np.prod(g.spacing)
    assert measured == pytest.approx(volume, rel=0.03)
    th = imaging.cartilage_thickness(ph["labels"], g.spacing, 1, 5, g)
    truth = imaging.phantom_cartilage_thickness(1, th["points_mm"], shape=21)
    ok = ~np.isnan(truth)
    assert ok.sum() > 300
    assert np.abs(th["thickness_mm"][ok] - truth[ok]).mean() <= 0.5 * 0.7


def test_tibial_shaft_continues_the_tibia_and_fibula_to_the_edge_of_a_long_field_of_view():
    shape = imaging.knee_shape(5)
    assert shape["tibia_shaft_radius"] == 0.0  # random and standard knees end at tibia_bottom_z
    long = dict(shape, tibia_shaft_radius=13.0)
    kw = dict(spacing_mm=(0.5,) * 3, extent_mm=(80, 80, 140), snr=0, supersampling=1)
    short, ph = imaging.make_knee_phantom(shape=shape, **kw), imaging.make_knee_phantom(shape=long, **kw)
    g = ph["geometry"]
    z = g.origin[2] + g.spacing[2] * np.arange(ph["labels"].shape[2])  # axis-aligned, LPS: index 2 is z
    bottom = shape["tibia_bottom_z"]
    below, shaft = z < bottom, z < bottom - 15.0
    assert not np.isin(short["labels"][:, :, below], (6, 8)).any()
    # above the bottom the two knees are the same voxel for voxel
    np.testing.assert_array_equal(short["labels"][:, :, ~below], ph["labels"][:, :, ~below])
    # below the taper each slice holds a disc of the shaft's area and one of the fibula's
    pixel = g.spacing[0] * g.spacing[1]
    tibia = (ph["labels"][:, :, shaft] == 6).sum(axis=(0, 1)) * pixel
    fibula = (ph["labels"][:, :, shaft] == 8).sum(axis=(0, 1)) * pixel
    assert shaft.sum() >= 20
    np.testing.assert_allclose(tibia, np.pi * 13.0**2, rtol=0.02)
    np.testing.assert_allclose(fibula, np.pi * shape["fibula_radius"] ** 2, rtol=0.06)
    # the taper narrows monotonically from the plateau's ellipse to the shaft
    taper = (ph["labels"][:, :, below & ~shaft] == 6).sum(axis=(0, 1))
    assert (np.diff(taper[::-1]) <= 0).all() and taper.max() * pixel > np.pi * 13.0**2
