"""Segmentation does not depend on how the image's axes are stored (issue 19 item 1): the
same phantom stored with its axes permuted and flipped (geometry adjusted exactly, so every
voxel keeps its world position) segments the same, and the result lies on the input grid.

The default run checks two of the 48 orientations (each a permutation with flips; a
segmentation takes several seconds); SPORTSMED_EXTENDED_TESTS=1 runs all 48."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from sportsmed import imaging, seg

ALL = [(perm, flips) for perm in itertools.permutations(range(3)) for flips in itertools.product((1, -1), repeat=3)]
QUICK = [((0, 1, 2), (1, 1, 1)), ((0, 1, 2), (-1, 1, 1)), ((0, 1, 2), (1, -1, 1)), ((0, 1, 2), (1, 1, -1)),
         ((1, 0, 2), (1, 1, 1)), ((2, 1, 0), (1, -1, 1)), ((1, 2, 0), (-1, 1, -1)), ((2, 0, 1), (-1, -1, -1))]
CASES = ALL if os.environ.get("SPORTSMED_EXTENDED_TESTS") else [QUICK[5], QUICK[6]]


def stored_as(array, geometry, perm, flips):
    """The same volume stored with voxel axis a = source axis perm[a], reversed where flips[a] < 0;
    the geometry follows so that world positions are unchanged."""
    out = np.transpose(array, perm)
    for a, f in enumerate(flips):
        if f < 0:
            out = np.flip(out, a)
    d = np.asarray(geometry.direction) @ np.eye(3)[:, list(perm)] * np.asarray(flips, float)
    spacing = np.asarray(geometry.spacing)[list(perm)]
    shape = [array.shape[p] for p in perm]
    # Voxel 0 of the new grid is the source voxel at the far end of every flipped axis.
    first = np.zeros(3)
    for a, (p, f) in enumerate(zip(perm, flips)):
        if f < 0:
            first[p] = array.shape[p] - 1
    origin = np.asarray(geometry.to_world(first.reshape(1, 3)), float).ravel()
    return np.ascontiguousarray(out), imaging.Geometry(shape, spacing, origin, d)


@pytest.fixture(scope="module")
def case():
    model = seg.load_model(seg.default_model_path())
    ph = imaging.make_knee_phantom(spacing_mm=seg.model_spec(model)["spacing_mm"], extent_mm=(84.0, 84.0, 84.0),
                                   seed=11, shape=1003)
    truth = seg.remap_pymskt(ph["labels"])
    ref, _ = seg.segment(model, ph["image"].astype(np.float32), geometry=ph["geometry"])
    return model, ph, truth, ref


def test_stored_as_keeps_world_positions(case):
    _, ph, _, _ = case
    g = ph["geometry"]
    arr = ph["labels"]
    for perm, flips in QUICK:
        a2, g2 = stored_as(arr, g, perm, flips)
        # A voxel's world position is the same in both storages.
        idx = np.array([[3, 5, 7]])
        src = [3, 5, 7]
        new = [0, 0, 0]
        for a, (p, f) in enumerate(zip(perm, flips)):
            new[a] = src[p] if f > 0 else arr.shape[p] - 1 - src[p]
        np.testing.assert_allclose(g2.to_world(np.array([new], float)), g.to_world(idx.astype(float)), atol=1e-9)
        assert a2[tuple(new)] == arr[tuple(src)]
        assert imaging.reorient(a2, g2, "LPS")[1].same_grid(g, 1e-9)


@pytest.mark.parametrize("perm, flips", CASES)
def test_segmentation_is_the_same_in_every_storage_order(case, perm, flips):
    model, ph, truth, ref = case
    image, geom = stored_as(ph["image"].astype(np.float32), ph["geometry"], perm, flips)
    labels, _ = seg.segment(model, image, geometry=geom)
    assert labels.shape == image.shape
    # Back in the reference storage, the labels are the reference's.
    back, bgeom = imaging.reorient(labels, geom, imaging.orientation_code(ph["geometry"]))
    assert bgeom.same_grid(ph["geometry"], 1e-6)
    d_ref = seg.dice_per_class(ref, truth, len(seg.KNEE_LABELS))
    d_new = seg.dice_per_class(back, truth, len(seg.KNEE_LABELS))
    np.testing.assert_allclose(d_new, d_ref, atol=0.01)
    assert d_new[2] > 0.9  # tibia (0.00 before the image was brought to the model's orientation)


def test_orientation_codes_cover_all_48():
    g = imaging.Geometry([4, 5, 6])
    codes = set()
    for perm, flips in ALL:
        _, g2 = stored_as(np.zeros((4, 5, 6)), g, perm, flips)
        code = imaging.orientation_code(g2)
        codes.add(code)
        # Bringing it to any code and back is exact.
        a, g3 = imaging.reorient(np.arange(120.0).reshape(4, 5, 6), g, code)
        assert imaging.orientation_code(g3) == code
        back, g4 = imaging.reorient(a, g3, "LPS")
        np.testing.assert_array_equal(back, np.arange(120.0).reshape(4, 5, 6))
    assert len(codes) == 48
