"""Demo report section of the imaging pillar: the knee MRI phantom, its cartilage
thickness map and its T2 map, each checked against the phantom's ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..demo import register_section
from ..report import Report

TISSUES = {1: "femoral cartilage", 2: "medial tibial cartilage", 3: "lateral tibial cartilage",
           4: "patellar cartilage", 5: "femur", 6: "tibia", 7: "patella", 8: "fibula",
           9: "lateral meniscus", 10: "medial meniscus"}


def _build(report: Report, workdir: Path, progress) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import cartilage_thickness, fit_t2, make_knee_phantom, phantom_cartilage_thickness

    progress(0.0, "knee phantom")
    ph = make_knee_phantom(seed=0)
    lab, img, g = ph["labels"], ph["image"], ph["geometry"]
    spacing = np.asarray(g.spacing)
    sec = report.section("QA: knee MRI phantom against its truth")
    sec.text("A parametric left knee rasterised at 0.5 mm with partial volume, a DESS-like contrast, "
             "a smooth bias field and Rician noise (SNR 50), plus an 8-echo spin-echo series with "
             "known T2 per tissue. It is the ground truth for the thickness and T2 measurements below.")
    ci, cj, ck = (n // 2 for n in lab.shape)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
    views = [("sagittal (j-k)", img[ci, :, :].T, lab[ci, :, :].T),
             ("coronal (i-k)", img[:, cj + 10, :].T, lab[:, cj + 10, :].T),
             ("axial (i-j) at the tibial plateau", img[:, :, int(round((-15.5 - g.origin[2]) / spacing[2]))].T,
              lab[:, :, int(round((-15.5 - g.origin[2]) / spacing[2]))].T)]
    for ax, (title, im, lb) in zip(axes, views):
        ax.imshow(im, cmap="gray", origin="lower")
        ax.contour(lb, levels=np.arange(0.5, 11), colors="orange", linewidths=0.4)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    sec.figure(fig, "Orthogonal slices of the DESS-like image with the label boundaries")

    progress(0.35, "cartilage thickness")
    rows = []
    for cart, bone in ((1, 5), (2, 6), (3, 6)):
        th = cartilage_thickness(lab, spacing, cart, bone, g)
        truth = phantom_cartilage_thickness(cart, th["points_mm"])
        ok = ~np.isnan(truth)
        err = th["thickness_mm"][ok] - truth[ok]
        rows.append({"tissue": TISSUES[cart], "surface points": int(ok.sum()),
                     "mean thickness (mm)": float(th["thickness_mm"][ok].mean()),
                     "analytic mean (mm)": float(truth[ok].mean()),
                     "mean abs error (mm)": float(np.abs(err).mean()), "bias (mm)": float(err.mean())})
    sec.table(rows, "Nearest-surface thickness against the analytic thickness (voxel 0.5 mm)")
    # Unrolled femoral map: angle about the fitted condyle axis against medial-lateral position.
    from . import regional_thickness_table, thickness_map_figure, unrolled_femoral_thickness

    fig = thickness_map_figure(unrolled_femoral_thickness(lab, g, 1.0, 2.0), plt)
    sec.figure(fig, "Femoral cartilage thickness unrolled about the condyle axis (mean per 1 mm x 2 deg bin; "
                    "dashed: the medial/lateral split)")
    regions = regional_thickness_table(lab, g)
    region_rows = [{"region": name, "surface points": int(r["points"]), "mean thickness (mm)": r["mean_mm"],
                    "SD (mm)": r["sd_mm"], "mean local thickness (mm)": r["mean_local_mm"]}
                   for name, r in regions.iterrows()]
    sec.table(region_rows, "Regional cartilage thickness (femoral medial/lateral x anterior/central/posterior by "
                           "the angle about the condyle axis, cut at -30 and +30 deg; tibial medial/lateral). "
                           "Local thickness (largest inscribed ball, Hildebrand & Ruegsegger 1997) reads up to "
                           "one voxel above the sheet thickness by its voxel-centre definition.")

    progress(0.6, "T2 map")
    cart = np.isin(lab, (1, 2, 3, 4))
    maps = fit_t2(ph["echoes"], ph["te_ms"], cart)
    t2 = maps["t2_ms"]
    t2_rows = []
    for label in (1, 2, 4):
        m = (lab == label) & (ph["pure"] == 1)
        med = float(np.median(t2[m]))
        t2_rows.append({"tissue": TISSUES[label], "voxels": int(m.sum()), "true T2 (ms)": ph["t2_ms"][label],
                        "median fitted T2 (ms)": med,
                        "error (%)": 100 * (med / ph["t2_ms"][label] - 1)})
    sec.table(t2_rows, "Mono-exponential T2 (log-linear start, Levenberg–Marquardt) on pure voxels, SNR 50")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    sl = np.where(cart[ci], t2[ci], np.nan).T
    a1.imshow(img[ci].T, cmap="gray", origin="lower")
    im1 = a1.imshow(sl, cmap="magma", origin="lower", vmin=20, vmax=50)
    a1.set_title("T2 map over cartilage (sagittal)", fontsize=9)
    a1.axis("off")
    fig.colorbar(im1, ax=a1, label="T2 (ms)")
    a2.hist(t2[cart & (maps["status"] == 0)], bins=80, range=(15, 60), color="tab:purple", label="fitted T2")
    for k, label in enumerate((1, 2, 4)):
        a2.axvline(ph["t2_ms"][label], color="k", lw=0.8, ls="--", label="true tissue T2" if k == 0 else None)
    a2.legend(fontsize=7)
    a2.set_xlabel("T2 (ms)")
    a2.set_ylabel("voxels")
    a2.set_title("T2 histogram (dashed: true tissue T2)", fontsize=9)
    sec.figure(fig, "T2 map and histogram")
    progress(1.0, "imaging done")


register_section("imaging", "Knee MRI phantom", _build)
