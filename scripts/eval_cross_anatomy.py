#!/usr/bin/env python3
"""Segmentation of a real knee anatomy by a model trained without it (cross-anatomy test).

The test image is made by a simulator *independent of the training synthesis*
(``sportsmed.seg.synthesize``): MR signal equations with tissue relaxation parameters
(proton density, T1, T2 at 3 T, by tissue type read from the label names) for a protocol,
on the label map's own native grid (anisotropic, oblique, as stored), with a Gaussian point
spread of the native voxel, a cortical shell of ``--cortex-mm`` (1 mm, Euclidean on the native
grid) inside every bone surface that gives no signal (fatty marrow inside it; before
2026-12-06 the whole bone was marrow, which leaves a bone and fat beside it one region in
fat-suppressed and T1 images), a smooth polynomial coil bias, the unlabelled tissue a mixture of
fat and muscle through a Fourier low-pass random field, vessels with or without flow void,
and Rician noise at a stated SNR. Nothing of it is shared with the training generator
(uniform/tabled Gaussian mixtures on coarse random fields, block partial volume).

The model segments the image as a user's would be segmented (``seg.segment`` with the
image's geometry: reoriented to the model's frame, resampled to its spacing with
anti-aliasing, probabilities resampled back and argmax on the native grid). With
``--thick-slices MM`` the image is first acquired as a 2D-like stack of MM-mm slices along
the map's own slice axis; the labels that come back on that grid are resampled (nearest)
onto the native grid for scoring. Scores: Dice, HD95 and ASSD (mm) per class on the native
grid against the map's own labels harmonised to the model's classes, and the predicted volume over
the true one (``volume_ratio``: a cartilage thickness from the prediction is off by about as much).

    .venv/bin/python scripts/eval_cross_anatomy.py MODEL.pt --anatomy pymskt --contrast PD-FS T1 DESS --mirror
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from sportsmed import imaging, seg
from sportsmed.imaging._labels import PYMSKT_LABEL_NAMES, read_label_mapping
from sportsmed.seg._harmonise import harmonise

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPORTSMED_SHARED_DATA", REPO.parent / "shared" / "data"))
ANATOMIES = {
    "pymskt": (SHARED / "mri" / "knee_labels_pymskt.nrrd", None),
    "spl": (SHARED / "mri" / "spl_knee_atlas" / "seg.nrrd", SHARED / "mri" / "spl_knee_atlas" / "knee.ctbl"),
}

#: (proton density, T1 ms, T2 ms) at 3 T by tissue type (bone = fatty marrow).
TISSUE_PARAMS = {
    "bone": (0.90, 370.0, 50.0), "cartilage": (0.75, 1200.0, 35.0), "meniscus": (0.35, 1000.0, 12.0),
    "ligament": (0.30, 900.0, 10.0), "muscle": (0.80, 1400.0, 35.0), "fat": (0.95, 380.0, 70.0),
    "fluid": (1.00, 3000.0, 700.0), "vessel": (0.90, 1900.0, 200.0), "nerve": (0.80, 1100.0, 60.0),
    "other": (0.70, 1000.0, 50.0), "cortical_bone": (0.05, 1000.0, 0.5),
}
FATTY = {"bone", "fat"}
#: Protocols: kind, TR ms, TE ms, flip angle deg (GRE), fat suppression (fat signal kept).
PROTOCOLS = {
    "PD-FS": ("se", 3000.0, 30.0, 90.0, 0.12),
    "T1": ("se", 550.0, 12.0, 90.0, 1.0),
    "T2-FS": ("se", 4000.0, 70.0, 90.0, 0.12),
    "DESS": ("gre", 16.0, 5.0, 25.0, 0.08),
}


def signal(tissue: str, protocol: str) -> float:
    kind, tr, te, flip, fat_kept = PROTOCOLS[protocol]
    pd, t1, t2 = TISSUE_PARAMS[tissue]
    e1 = np.exp(-tr / t1)
    if kind == "se":
        s = pd * (1 - e1) * np.exp(-te / t2)
    else:  # spoiled gradient echo (T2* taken as 0.7 T2)
        a = np.deg2rad(flip)
        s = pd * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1) * np.exp(-te / (0.7 * t2))
    return float(s * (fat_kept if tissue in FATTY else 1.0))


def lowpass_field(shape, spacing, scale_mm: float, rng) -> np.ndarray:
    """A smooth random field (unit std) by Fourier low-pass filtering of white noise."""
    noise = rng.standard_normal(shape)
    freqs = np.meshgrid(*[np.fft.fftfreq(n, d) for n, d in zip(shape, spacing)], indexing="ij")
    k2 = sum(f * f for f in freqs)
    field = np.real(np.fft.ifftn(np.fft.fftn(noise) * np.exp(-2 * (np.pi * scale_mm) ** 2 * k2)))
    return (field - field.mean()) / max(field.std(), 1e-12)


def simulate(gen: np.ndarray, tissues: list, geom, protocol: str, snr: float, rng,
             cortex_mm: float = 1.0) -> np.ndarray:
    from scipy import ndimage

    spacing = np.asarray(geom.spacing, float)
    table = np.array([signal(t, protocol) if t in TISSUE_PARAMS else 0.0 for t in tissues])
    img = table[gen].astype(np.float64)
    # Cortex and subchondral plate: bone within cortex_mm (Euclidean, on the anisotropic native
    # grid) of its surface gives no signal; the marrow inside is fatty. Cut faces at the map's
    # border are not surfaces.
    for g in (g for g, t in enumerate(tissues) if t == "bone") if cortex_mm > 0 else ():
        mask = gen == g
        if not mask.any():
            continue
        box = tuple(slice(max(0, int(i.min()) - 1), int(i.max()) + 2) for i in np.nonzero(mask))
        depth = ndimage.distance_transform_edt(mask[box], sampling=spacing)
        shell = mask[box] & (depth <= cortex_mm)
        img[box][shell] = signal("cortical_bone", protocol)
    # Unlabelled tissue: fat or muscle by a smooth random field (subcutaneous fat, muscle bellies).
    mix = lowpass_field(gen.shape, spacing, 6.0, rng) > rng.uniform(-0.5, 0.5)
    rest = gen == 0
    img[rest] = np.where(mix[rest], signal("fat", protocol), signal("muscle", protocol))
    if rng.random() < 0.5:  # flow void
        img[np.isin(gen, [g for g, t in enumerate(tissues) if t == "vessel"])] *= 0.1
    img *= 1 + 0.03 * lowpass_field(gen.shape, spacing, 2.0, rng)  # tissue texture
    img = ndimage.gaussian_filter(img, 0.42)  # point spread of the native voxel
    coords = [np.linspace(-1, 1, n) for n in gen.shape]
    c = rng.uniform(-0.2, 0.2, size=(3, 2))
    bias = np.ones(gen.shape)
    for axis, x in enumerate(coords):
        shape = [1, 1, 1]
        shape[axis] = -1
        bias = bias * (1 + c[axis, 0] * x + c[axis, 1] * x * x).reshape(shape)
    img *= bias
    sigma = signal("cartilage", protocol) / snr
    img = np.sqrt((img + sigma * rng.standard_normal(img.shape)) ** 2 + (sigma * rng.standard_normal(img.shape)) ** 2)
    return img.astype(np.float32)


def thick_stack(img: np.ndarray, geom, mm: float):
    """A 2D-like stack: slabs of ``mm`` along the map's coarsest (slice) axis, averaged."""
    axis = int(np.argmax(geom.spacing))
    k = max(1, int(round(mm / geom.spacing[axis])))
    n = img.shape[axis] // k
    moved = np.moveaxis(img[(slice(None),) * axis + (slice(0, n * k),)], axis, 0)
    thick = moved.reshape(n, k, *moved.shape[1:]).mean(axis=1)
    thick = np.moveaxis(thick, 0, axis)
    spacing = np.array(geom.spacing, float)
    spacing[axis] *= k
    shape = list(geom.shape)
    shape[axis] = n
    centre0 = np.zeros(3)
    centre0[axis] = (k - 1) / 2.0  # the first slab's centre, in native voxels
    origin = np.asarray(geom.to_world(centre0), float).ravel()
    return thick, imaging.Geometry(shape, spacing, origin, geom.direction)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=None, help="model .pt (default: the shipped one)")
    ap.add_argument("--anatomy", choices=sorted(ANATOMIES), required=True)
    ap.add_argument("--contrast", nargs="*", default=["PD-FS", "T1", "DESS"], choices=sorted(PROTOCOLS))
    ap.add_argument("--snr", type=float, default=20.0)
    ap.add_argument("--thick-slices", type=float, default=0.0, help="acquire MM-mm slices along the slice axis")
    ap.add_argument("--mirror", action="store_true", help="test-time mirroring (the CLI's default)")
    ap.add_argument("--cortex-mm", type=float, default=1.0,
                    help="cortical bone shell (no signal) inside every bone surface; 0: marrow signal throughout")
    ap.add_argument("--keep-largest", choices=("none", "model"), default="none",
                    help="model: keep the largest piece of the sidecar's one-structure classes, bone fragments joining "
                         "the one other bone they touch (segment --keep-largest model)")
    ap.add_argument("--roi", choices=("none", "auto"), default="none", help="segment --roi")
    ap.add_argument("--context", type=Path, default=None,
                    help="a coarse context model: the first stage of a cascade decides which bone (segment --context)")
    ap.add_argument("--context-groups", nargs="*", default=None, metavar="A,B,...",
                    help="label groups the context model decides (default: its sidecar's context_groups)")
    ap.add_argument("--context-weight", type=float, default=0.5, help="segment --context-weight")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None, help="write the table here")
    args = ap.parse_args(argv)
    model = seg.load_model(args.model or seg.default_model_path())
    context = seg.load_model(str(args.context)) if args.context else None
    groups = [[int(v) for v in g.split(",")] for g in args.context_groups] if args.context_groups else None
    path, names_path = ANATOMIES[args.anatomy]
    src = imaging.read_image(str(path))
    geom = src.geometry
    names = read_label_mapping(names_path) if names_path else dict(PYMSKT_LABEL_NAMES)
    h = harmonise([(np.asarray(src.array), names)])
    gen = h.maps[0]
    truth = np.asarray(h.output_classes, np.uint8)[gen]
    rows = []
    for i, protocol in enumerate(args.contrast):
        rng = np.random.default_rng(args.seed + 1000 * i)
        img = simulate(gen, h.tissues, geom, protocol, args.snr, rng, args.cortex_mm)
        g = geom
        if args.thick_slices:
            img, g = thick_stack(img, geom, args.thick_slices)
        t0 = time.time()
        pred, _ = seg.segment(model, img, geometry=g, mirror=args.mirror,
                              keep_largest_component="model" if args.keep_largest == "model" else False,
                              roi=None if args.roi == "none" else args.roi, context_model=context,
                              context_groups=groups, context_mass_weight=args.context_weight)
        seconds = time.time() - t0
        if args.thick_slices:
            pred = imaging.resample_labels(pred, g, geom)
        table = imaging.metrics_table(truth, pred, geom.spacing, labels=list(range(1, 8)), names=seg.KNEE_LABELS)
        for label, r in table.iterrows():
            rows.append({"anatomy": args.anatomy, "contrast": protocol, "thick_mm": args.thick_slices,
                         "keep_largest": args.keep_largest, "roi": args.roi,
                         "context": args.context.name if args.context else None,
                         "context_groups": groups, "context_mass_weight": args.context_weight,
                         "class": r["tissue"], "dice": round(float(r["dice"]), 4),
                         "hd95_mm": round(float(r["hd95_mm"]), 2), "assd_mm": round(float(r["assd_mm"]), 3),
                         "volume_ratio": round(float(r["voxels_pred"] / max(1, r["voxels_gt"])), 3)})
        line = " ".join(f"{r['class'][:10]}={r['dice']:.3f}" for r in rows[-7:])
        print(f"{args.anatomy} {protocol}{' thick' if args.thick_slices else ''} ({seconds:.0f} s): {line}",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
