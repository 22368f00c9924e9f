"""Segmentation metrics against an independent numpy/scipy implementation of the same
definitions (surface elements on the half-voxel cube grid, marching-cubes areas, exact EDT)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

imaging = pytest.importorskip("sportsmed.imaging")

from reference_surface_metrics import area_table, ref_metrics, ref_surfaces  # noqa: E402


def _check(ours, ref):
    for key, value in ref.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(ours[key]), key
        elif isinstance(value, float) and math.isinf(value):
            assert ours[key] == value, key
        else:
            assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-6), key


def _blob(shape, seed, threshold=0.5, sigma=2.0):
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.random(shape), sigma) > threshold


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.4, 0.7, 2.5)])
def test_metrics_equal_reference_on_random_label_maps(spacing):
    shape = (48, 40, 36)
    gt = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    for label, seed in ((1, 1), (2, 2), (3, 3)):
        gt[_blob(shape, seed, 0.505) & (gt == 0)] = label
        pred[_blob(shape, seed + 10 * (label == 3), 0.5) & (pred == 0)] = label  # 3: unrelated blob
    tol = 1.5
    res = {m["label"]: m for m in imaging.segmentation_metrics(gt, pred, spacing, tolerance_mm=tol)}
    assert sorted(res) == [1, 2, 3]
    for label in (1, 2, 3):
        _check(res[label], ref_metrics(gt == label, pred == label, spacing, tol))
    # identical maps: perfect agreement
    same = imaging.segmentation_metrics(gt, gt, spacing, [1])[0]
    assert same["dice"] == 1.0 and same["hausdorff_mm"] == 0.0 and same["surface_dice"] == pytest.approx(1.0, abs=1e-12)


def test_surface_distances_equal_reference():
    gt, pred = _blob((30, 31, 32), 7), _blob((30, 31, 32), 8)
    spacing = (0.9, 1.1, 1.7)
    d = imaging.surface_distances(gt, pred, spacing)
    dg, ag, dp, ap = ref_surfaces(gt, pred, spacing)
    np.testing.assert_allclose(np.sort(d["distances_gt_to_pred"]), np.sort(dg), atol=1e-9)
    np.testing.assert_allclose(np.sort(d["areas_pred"]), np.sort(ap), atol=1e-12)
    # the marching-cubes area of a box: the box spanned by the voxel centres, chamfer strips
    # of width |(h_a, h_b)|/2 along its 12 edges and a corner triangle at each of 8 corners
    box = np.zeros((10, 10, 10), bool)
    box[2:5, 3:7, 1:9] = True
    a = imaging.surface_distances(box, box, spacing)["areas_gt"].sum()
    h = np.array(spacing)
    L = (np.array([3, 4, 8]) - 1) * h
    faces = 2 * (L[0] * L[1] + L[1] * L[2] + L[0] * L[2])
    strips = 2 * (L[2] * math.hypot(h[0], h[1]) + L[1] * math.hypot(h[0], h[2]) + L[0] * math.hypot(h[1], h[2]))
    corners = math.sqrt((h[1] * h[2]) ** 2 + (h[0] * h[2]) ** 2 + (h[0] * h[1]) ** 2)
    assert a == pytest.approx(faces + strips + corners, rel=1e-12)


def test_marching_cubes_areas_of_elementary_configurations():
    """Unit-cube areas of configurations whose triangles are known in closed form; bit
    dx + 2 dy + 4 dz marks corner (dx, dy, dz) inside."""
    t = area_table((1.0, 1.0, 1.0))
    assert t[0] == 0 and t[255] == 0
    assert t[0b00000001] == pytest.approx(math.sqrt(3) / 8)      # one corner: triangle
    assert t[0b00000011] == pytest.approx(math.sqrt(2) / 2)      # an edge: 1 x sqrt(2)/2 quad
    assert t[0b00001111] == pytest.approx(1.0)                   # a face: unit square
    assert t[0b00010111] == pytest.approx(3 * math.sqrt(3) / 4)  # corner + 3 neighbours: hexagon
    # three corners of a face: a pentagon split into the half square in the mid-plane
    # (area 1/2) and a planar quad of area 3 sqrt(3)/8
    assert t[0b00000111] == pytest.approx(0.5 + 3 * math.sqrt(3) / 8)
    # two diagonal corners of a face (saddle, minority inside): two separate triangles
    assert t[0b00001001] == pytest.approx(2 * math.sqrt(3) / 8)
    # complement symmetry and anisotropic scaling of a single flat face
    assert np.allclose(t, t[::-1])
    assert area_table((0.5, 2.0, 3.0))[0b00001111] == pytest.approx(0.5 * 2.0)


def test_empty_mask_results_are_documented_values():
    gt = np.zeros((8, 8, 8), np.uint8)
    pred = gt.copy()
    pred[2:4, 2:4, 2:4] = 1
    one_empty = imaging.segmentation_metrics(gt, pred, (1, 1, 1), [1])[0]
    assert one_empty["dice"] == 0 and one_empty["surface_dice"] == 0
    assert math.isinf(one_empty["hausdorff_mm"]) and math.isinf(one_empty["assd_mm"])
    both_empty = imaging.segmentation_metrics(gt, gt, (1, 1, 1), [2])[0]
    assert math.isnan(both_empty["dice"]) and math.isnan(both_empty["hd95_mm"])
    assert both_empty["volume_difference_mm3"] == 0


def test_shape_mismatch_raises():
    import sportsmed

    with pytest.raises(sportsmed.InvalidArgument, match="shape"):
        imaging.segmentation_metrics(np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 5), np.uint8), (1, 1, 1))


def test_metrics_on_the_knee_label_map_against_a_perturbed_copy(shared_data):
    img = imaging.read_nrrd(str(shared_data("mri/knee_labels_pymskt.nrrd")))
    gt = img.array
    spacing = tuple(img.geometry.spacing)
    pred = gt.copy()
    pred[ndimage.binary_erosion(gt == 1, iterations=1) ^ (gt == 1)] = 0   # thin femoral cartilage
    shifted = np.roll(pred, 1, axis=2)
    pred = np.where(gt == 7, 7, np.where(shifted == 7, 0, shifted)).astype(np.uint8)  # shift all but patella
    res = {m["label"]: m for m in imaging.segmentation_metrics(gt, pred, spacing, [1, 4, 7, 10], 1.0)}
    for label in (1, 4, 10):
        _check(res[label], ref_metrics(gt == label, pred == label, spacing, 1.0))
    assert res[7]["dice"] == 1.0 and res[7]["hausdorff_mm"] == 0.0


@pytest.mark.parametrize("shift", [0, 1, 2, 5, 17])
def test_surface_distances_near_and_far_element_by_element(shift):
    # Near surfaces are resolved by a window search, far ones by the EDT: both must give the
    # reference's (distance, area) pairs (the reference lists elements in C order, ours in
    # Fortran order: compare the pairs sorted).
    gt = _blob((40, 36, 30), 4, 0.5, 2.5)
    gt[:15, :8, :6] = False
    pred = np.roll(gt, shift, axis=0)
    pred[:2, :2, :2] = True  # a speck far from gt
    spacing = (0.4, 0.7, 1.3)
    d = imaging.surface_distances(gt, pred, spacing)
    dg, ag, dp, ap = ref_surfaces(gt, pred, spacing)
    for dist, area, rd, ra in ((d["distances_gt_to_pred"], d["areas_gt"], dg, ag),
                               (d["distances_pred_to_gt"], d["areas_pred"], dp, ap)):
        o = np.lexsort((np.round(area, 9), np.round(dist, 9)))
        ro = np.lexsort((np.round(ra, 9), np.round(rd, 9)))
        np.testing.assert_allclose(dist[o], rd[ro], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(area[o], ra[ro], rtol=1e-12)
    assert dp.max() > 3 * 1.3  # some elements lie beyond the wider window


def test_directed_distances_and_both_assd_definitions():
    """Both directed average surface distances and HD95s, the area-pooled ASSD and the mean of
    the directed pair (issue 19), from the surface elements surface_distances returns."""
    gt = np.zeros((30, 30, 30), np.uint8)
    pred = np.zeros_like(gt)
    gt[5:25, 5:25, 5:25] = 1
    pred[8:20, 6:22, 9:27] = 1  # smaller, shifted: the two surfaces' areas differ
    spacing = [0.8, 1.0, 1.3]
    (m,) = imaging.segmentation_metrics(gt, pred, spacing)
    s = imaging.surface_distances(gt, pred, spacing)
    dg, ag = np.asarray(s["distances_gt_to_pred"]), np.asarray(s["areas_gt"])
    dp, ap = np.asarray(s["distances_pred_to_gt"]), np.asarray(s["areas_pred"])
    asd_g, asd_p = (dg * ag).sum() / ag.sum(), (dp * ap).sum() / ap.sum()
    assert m["asd_gt_to_pred_mm"] == pytest.approx(asd_g, rel=1e-12)
    assert m["asd_pred_to_gt_mm"] == pytest.approx(asd_p, rel=1e-12)
    assert m["assd_mean_mm"] == pytest.approx(0.5 * (asd_g + asd_p), rel=1e-12)
    assert m["assd_mm"] == pytest.approx(((dg * ag).sum() + (dp * ap).sum()) / (ag.sum() + ap.sum()), rel=1e-12)
    assert abs(m["assd_mm"] - m["assd_mean_mm"]) > 1e-3  # the definitions differ here

    def hd95(d, a):  # surface-distance's robust Hausdorff: first distance reaching 95 % of the area
        order = np.argsort(d)
        cum = np.cumsum(a[order]) / a.sum()
        return d[order][np.searchsorted(cum, 0.95)]

    assert m["hd95_gt_to_pred_mm"] == pytest.approx(hd95(dg, ag), rel=1e-12)
    assert m["hd95_pred_to_gt_mm"] == pytest.approx(hd95(dp, ap), rel=1e-12)
    assert m["hd95_mm"] == max(m["hd95_gt_to_pred_mm"], m["hd95_pred_to_gt_mm"])
