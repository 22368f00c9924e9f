"""An independent numpy/scipy implementation of sportsmed's segmentation metrics
(surface elements on the half-voxel cube grid, staircase areas, exact EDT), used as the
reference in tests and as the peer in benchmarks."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def ref_surfaces(gt, pred, spacing):
    """Border cubes, areas and cross distances, from numpy slicing and scipy's EDT."""
    union = gt | pred
    idx = np.argwhere(union)
    lo, hi = idx.min(0), idx.max(0)
    crop = tuple(slice(a, b + 1) for a, b in zip(lo, hi))
    sx, sy, sz = spacing
    faces = (sy * sz / 4, sx * sz / 4, sx * sy / 4)

    def cubes(mask):
        p = np.pad(mask[crop], 1)
        m = p.shape
        c = {(dx, dy, dz): p[dx:m[0] - 1 + dx, dy:m[1] - 1 + dy, dz:m[2] - 1 + dz].astype(np.int8)
             for dx in (0, 1) for dy in (0, 1) for dz in (0, 1)}
        n = sum(c.values())
        border = (n > 0) & (n < 8)
        area = np.zeros(n.shape)
        for a in (0, 1):
            for b in (0, 1):
                area += (c[0, a, b] != c[1, a, b]) * faces[0]
                area += (c[a, 0, b] != c[a, 1, b]) * faces[1]
                area += (c[a, b, 0] != c[a, b, 1]) * faces[2]
        return border, area

    bg, ag = cubes(gt)
    bp, ap = cubes(pred)

    def dist(from_border, to_border):
        if not to_border.any():
            return np.full(from_border.sum(), np.inf)
        return ndimage.distance_transform_edt(~to_border, sampling=spacing)[from_border]

    return dist(bg, bp), ag[bg], dist(bp, bg), ap[bp]


def ref_metrics(gt, pred, spacing, tol):
    ng, npred, nboth = gt.sum(), pred.sum(), (gt & pred).sum()
    out = {"voxels_gt": ng, "voxels_pred": npred,
           "volume_difference_mm3": (npred - ng) * float(np.prod(spacing))}
    if ng + npred == 0:
        return out | {"dice": math.nan, "jaccard": math.nan, "hausdorff_mm": math.nan,
                      "hd95_mm": math.nan, "assd_mm": math.nan, "surface_dice": math.nan}
    out["dice"] = 2 * nboth / (ng + npred)
    out["jaccard"] = nboth / (ng + npred - nboth)
    if ng == 0 or npred == 0:
        return out | {"hausdorff_mm": math.inf, "hd95_mm": math.inf, "assd_mm": math.inf, "surface_dice": 0.0}
    dg, ag, dp, ap = ref_surfaces(gt, pred, spacing)

    def pct(d, a):
        order = np.lexsort((a, d))
        d, a = d[order], a[order]
        cum = np.cumsum(a)
        return d[min(np.searchsorted(cum / cum[-1], 0.95), len(d) - 1)]

    out["hausdorff_mm"] = max(dg.max(), dp.max())
    out["hd95_mm"] = max(pct(dg, ag), pct(dp, ap))
    out["assd_mm"] = (np.sum(ag * dg) + np.sum(ap * dp)) / (ag.sum() + ap.sum())
    out["surface_dice"] = (ag[dg <= tol].sum() + ap[dp <= tol].sum()) / (ag.sum() + ap.sum())
    out["surface_area_gt_mm2"] = ag.sum()
    out["surface_area_pred_mm2"] = ap.sum()
    return out
