"""Resampling, reorientation, crop/paste and normalisation against scipy, nibabel, numpy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

imaging = pytest.importorskip("sportsmed.imaging")
nib = pytest.importorskip("nibabel")


def _oblique_geometry(shape):
    c, s = np.cos(0.4), np.sin(0.4)
    direction = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ np.diag([1, -1, -1])
    return imaging.Geometry(shape, (0.8, 1.1, 2.0), (10.0, -20.0, 5.0), direction)


def _source_coords(src, target):
    t = target.shape
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in t], indexing="ij"), -1).reshape(-1, 3).astype(float)
    m = src.world_to_voxel() @ target.voxel_to_world()
    return (ijk @ m[:3, :3].T + m[:3, 3]).T, t


def test_linear_resampling_equals_map_coordinates():
    rng = np.random.default_rng(0)
    g = _oblique_geometry((20, 18, 12))
    img = ndimage.gaussian_filter(rng.random(g.shape), 1.0)
    target = imaging.Geometry((15, 13, 9), (0.9, 1.3, 1.7), g.to_world(np.array([[2.3, 2.1, 1.4]]))[0], g.direction)
    ours = imaging.resample(img, g, target)
    coords, t = _source_coords(g, target)
    inside = np.all((coords >= 0) & (coords <= np.array(g.shape)[:, None] - 1), axis=0)
    ref = ndimage.map_coordinates(img, coords, order=1).reshape(t)
    assert inside.mean() > 0.9
    np.testing.assert_allclose(ours.reshape(-1)[inside], ref.reshape(-1)[inside], atol=1e-12)
    assert (ours.reshape(-1)[~inside] == 0).all()
    # the identity grid reproduces the image
    np.testing.assert_allclose(imaging.resample(img, g, g), img, atol=1e-12)
    # multi-component images resample component by component
    two = np.stack([img, 2 * img], -1)
    np.testing.assert_allclose(imaging.resample(two, g, target)[..., 1], 2 * ours, atol=1e-12)


def test_with_spacing_keeps_the_field_of_view():
    g = _oblique_geometry((20, 18, 12))
    h = imaging.with_spacing(g, (0.4, 0.55, 1.0))
    assert tuple(h.shape) == (40, 36, 24)
    corner = g.to_world(np.array([[-0.5, -0.5, -0.5]]))
    np.testing.assert_allclose(h.to_world(np.array([[-0.5, -0.5, -0.5]])), corner, atol=1e-12)


def test_label_resampling_nearest_and_label_aware():
    rng = np.random.default_rng(1)
    g = _oblique_geometry((24, 20, 16))
    labels = np.zeros(g.shape, np.uint8)
    for lab in (1, 2, 3):
        labels[ndimage.gaussian_filter(rng.random(g.shape), 2.0) > 0.52] = lab
    target = imaging.Geometry((30, 25, 20), (0.61, 0.83, 1.37), g.to_world(np.array([[0.37, 0.21, 0.13]]))[0],
                              g.direction)
    coords, t = _source_coords(g, target)
    inside = np.all((coords >= 0) & (coords <= np.array(g.shape)[:, None] - 1), axis=0)
    nearest = imaging.resample_labels(labels, g, target, label_aware=False).reshape(-1)
    ref = labels[tuple(np.clip(np.floor(coords + 0.5).astype(int), 0, np.array(g.shape)[:, None] - 1))]
    np.testing.assert_array_equal(nearest[inside], ref[inside])
    aware = imaging.resample_labels(labels, g, target).reshape(-1)
    weights = np.stack([ndimage.map_coordinates((labels == lab).astype(float), coords, order=1)
                        for lab in range(4)])
    np.testing.assert_array_equal(aware[inside], np.argmax(weights, 0)[inside])
    np.testing.assert_array_equal(imaging.resample_labels(labels, g, g), labels)


def test_reorient_equals_nibabel_closest_canonical(tmp_path):
    rng = np.random.default_rng(2)
    g = _oblique_geometry((7, 6, 5))
    data = rng.random(g.shape)
    path = tmp_path / "o.nii"
    imaging.write_nifti(imaging.Image(data, g), str(path), 2)
    ref = nib.as_closest_canonical(nib.load(str(path)))
    arr, h = imaging.reorient(data, g, "RAS")
    np.testing.assert_array_equal(arr, ref.get_fdata())
    np.testing.assert_allclose(h.affine_ras(), ref.affine, atol=1e-9)
    labels = (data > 0.5).astype(np.uint8)
    lab, h2 = imaging.reorient(labels, g, "LPS")
    assert lab.dtype == np.uint8
    # every voxel keeps its world position
    ijk = np.argwhere(lab)
    src = g.to_voxel(h2.to_world(ijk.astype(float)))
    assert np.all(labels[tuple(np.rint(src).astype(int).T)] == 1)


def test_crop_paste_bounding_box_and_normalisation():
    rng = np.random.default_rng(3)
    g = _oblique_geometry((20, 18, 12))
    img = rng.random(g.shape)
    mask = np.zeros(g.shape, bool)
    mask[4:9, 3:15, 2:7] = True
    lo, hi = imaging.bounding_box(mask, 1)
    assert list(lo) == [3, 2, 1] and list(hi) == [9, 15, 7]
    part, pg = imaging.crop(img, g, lo, hi)
    np.testing.assert_array_equal(part, img[3:10, 2:16, 1:8])
    np.testing.assert_allclose(pg.origin, g.to_world(np.array([lo], float))[0])
    back = imaging.paste(part, pg, g, lo, -1.0)
    np.testing.assert_array_equal(back[3:10, 2:16, 1:8], part)
    assert (back == -1).sum() == img.size - part.size
    z = imaging.normalize_zscore(img, mask)
    np.testing.assert_allclose(z, (img - img[mask].mean()) / img[mask].std(), atol=1e-12)
    p = imaging.normalize_percentile(img, 2, 98)
    lo_v, hi_v = np.percentile(img, [2, 98])
    np.testing.assert_allclose(p, (np.clip(img, lo_v, hi_v) - lo_v) / (hi_v - lo_v), atol=1e-12)
