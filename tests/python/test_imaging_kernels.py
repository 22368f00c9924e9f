"""Distance transform, components, hole filling and ball morphology against scipy.ndimage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

imaging = pytest.importorskip("sportsmed.imaging")


def _same_partition(ours, count, theirs, n_theirs):
    assert count == n_theirs
    fg = ours > 0
    np.testing.assert_array_equal(fg, theirs > 0)
    pairs = np.unique(np.stack([ours[fg], theirs[fg]]), axis=1)
    assert pairs.shape[1] == count  # a bijection between the two numberings


@pytest.fixture(scope="module")
def knee(request):
    from conftest import shared_data_dir

    path = shared_data_dir() / "mri" / "knee_labels_pymskt.nrrd"
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent")
    img = imaging.read_nrrd(str(path))
    return img.array, np.asarray(img.geometry.spacing)


@pytest.mark.parametrize("shape,spacing,p", [((31, 17, 23), (0.7, 1.3, 2.1), 0.9),
                                             ((64, 1, 40), (1.0, 1.0, 0.5), 0.95),
                                             ((5, 6, 7), (3.0, 0.2, 1.0), 0.5)])
def test_edt_equals_scipy_on_random_volumes(shape, spacing, p):
    rng = np.random.default_rng(sum(shape))
    mask = rng.random(shape) < p
    mask.flat[0] = False
    ours = imaging.distance_transform(mask, spacing)
    ref = ndimage.distance_transform_edt(mask, sampling=spacing)
    assert np.abs(ours - ref).max() <= 1e-6


def test_edt_equals_scipy_on_the_knee_label_map(knee):
    labels, spacing = knee
    for label in (1, 5):  # femoral cartilage, femur
        mask = labels == label
        ours = imaging.distance_transform(mask, spacing)
        ref = ndimage.distance_transform_edt(mask, sampling=spacing)
        assert np.abs(ours - ref).max() <= 1e-6
    # distance outside the bone too (the background's distance to the femur)
    mask = labels != 5
    assert np.abs(imaging.distance_transform(mask, spacing)
                  - ndimage.distance_transform_edt(mask, sampling=spacing)).max() <= 1e-6


@pytest.mark.parametrize("connectivity,rank", [(6, 1), (18, 2), (26, 3)])
def test_components_equal_scipy_label_partitions(connectivity, rank):
    rng = np.random.default_rng(connectivity)
    mask = ndimage.gaussian_filter(rng.random((47, 39, 33)), 1.0) > 0.52
    ours, n = imaging.label_components(mask, connectivity)
    ref, n_ref = ndimage.label(mask, ndimage.generate_binary_structure(3, rank))
    _same_partition(ours, n, ref, n_ref)


def test_components_equal_scipy_on_the_knee_label_map(knee):
    labels, _ = knee
    for connectivity, rank in [(6, 1), (26, 3)]:
        mask = labels > 0
        mask &= (labels % 3) != 0  # several separated tissues
        ours, n = imaging.label_components(mask, connectivity)
        ref, n_ref = ndimage.label(mask, ndimage.generate_binary_structure(3, rank))
        _same_partition(ours, n, ref, n_ref)


def test_largest_component_and_fill_holes_equal_scipy():
    rng = np.random.default_rng(5)
    mask = ndimage.gaussian_filter(rng.random((40, 30, 35)), 1.5) > 0.5
    ref_lab, n = ndimage.label(mask, ndimage.generate_binary_structure(3, 3))
    sizes = np.bincount(ref_lab.ravel())[1:]
    ref_largest = ref_lab == (np.argmax(sizes) + 1)
    np.testing.assert_array_equal(imaging.keep_largest_component(mask, 26).astype(bool), ref_largest)
    np.testing.assert_array_equal(imaging.fill_holes(mask).astype(bool), ndimage.binary_fill_holes(mask))


def test_per_label_operations():
    labels = np.zeros((20, 20, 20), np.uint8)
    labels[2:8, 2:8, 2:8] = 1
    labels[4, 4, 4] = 0           # hole in label 1
    labels[15, 15, 15] = 1        # speck of label 1
    labels[10:18, 2:6, 2:6] = 2
    kept = imaging.keep_largest_component_per_label(labels)
    assert kept[15, 15, 15] == 0 and kept[3, 3, 3] == 1 and kept[12, 3, 3] == 2
    np.testing.assert_array_equal(imaging.keep_largest_component_per_label(labels, only=[2]), labels)
    np.testing.assert_array_equal(imaging.keep_largest_component_per_label(labels, only=[1, 2]), kept)
    filled = imaging.fill_holes_per_label(kept)
    assert filled[4, 4, 4] == 1
    assert (filled == 2).sum() == (labels == 2).sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fragment_joining_satisfies_its_rule_checked_with_scipy(seed):
    """On random maps of 4 labels (1-3 grouped), checked with scipy.ndimage: every voxel either
    is as after the plain largest-component filter, or lies in a removed fragment that now
    carries another label of the group, which it touches; no removed fragment left at 0 that
    is smaller than its own label's kept part touches exactly one other group label (the rule
    ran to its fixed point)."""
    rng = np.random.default_rng(seed)
    fields = ndimage.gaussian_filter(rng.random((5, 36, 30, 28)), (0, 1.5, 1.5, 1.5))
    labels = np.argmax(fields, axis=0).astype(np.uint8)  # 0..4, many fragments per label
    plain = imaging.keep_largest_component_per_label(labels, 26, [1, 2, 3])
    joined = imaging.keep_largest_component_per_label(labels, 26, [1, 2, 3], [[1, 2, 3]])
    s26 = np.ones((3, 3, 3), bool)
    removed = (labels != plain)
    frag, n = ndimage.label(removed & np.isin(labels, [1, 2, 3]), s26)
    assert n > 10
    changed = joined != plain
    assert changed.any() and (removed | ~changed).all()  # only removed voxels change
    joins = stays = 0
    for f in range(1, n + 1):
        # components of one label: split the removed voxels by their label
        for label in np.unique(labels[frag == f]):
            m = (frag == f) & (labels == label)
            sub, k = ndimage.label(m, s26)
            for c in range(1, k + 1):
                piece = sub == c
                ring = ndimage.binary_dilation(piece, s26) & ~piece
                value = np.unique(joined[piece])
                assert value.size == 1  # a fragment moves as a whole
                touching = set(np.unique(joined[ring]).tolist()) & ({1, 2, 3} - {int(label)})
                if value[0]:
                    assert value[0] in touching  # (others may have joined beside it later)
                    joins += 1
                else:  # ambiguous, alone, or no smaller than its own label's kept part
                    assert len(touching) != 1 or piece.sum() >= (plain == label).sum()
                    stays += 1
    assert joins > 0 and stays > 0
    np.testing.assert_array_equal(imaging.keep_largest_component_per_label(labels, 26, [1, 2, 3], []), plain)


def test_ball_morphology_equals_scipy_with_a_ball_structure():
    rng = np.random.default_rng(2)
    mask = ndimage.gaussian_filter(rng.random((30, 28, 26)), 2.0) > 0.5
    spacing = (1.0, 1.0, 1.0)
    r = 2.5
    g = np.arange(-3, 4)
    ball = (g[:, None, None] ** 2 + g[None, :, None] ** 2 + g[None, None, :] ** 2) <= r * r
    np.testing.assert_array_equal(imaging.dilate_ball(mask, spacing, r).astype(bool),
                                  ndimage.binary_dilation(mask, ball))
    np.testing.assert_array_equal(imaging.erode_ball(mask, spacing, r).astype(bool),
                                  ndimage.binary_erosion(mask, ball, border_value=1))
