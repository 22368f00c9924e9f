#!/usr/bin/env python3
"""Dice of a knee segmentation model on knees it was not trained on.

scripts/train_default_seg.py trains on the standard knee and random shapes 1..N (N = 32 for the shipped model) and
monitors shapes 1001/1002; this script segments the DESS-like phantom of the standard
knee and of shapes 1001-1008 (--shapes) with noise seeds 2000+ (never used in training)
and prints the Dice per class, then the mean over the shapes.

With --real-map, it also segments images synthesised from a real knee label map in the
pymskt numbering (e.g. ../shared/data/mri/knee_labels_pymskt.nrrd, a right knee: pass
--flip-lr to mirror it into the phantom's left-knee layout), resampled to the model's
spacing in LPS orientation: three random SynthSeg contrasts and three DESS-like contrasts
(class intensities drawn around the phantom's), all from seeds outside the training stream;
with --partial-volume F the map is resampled to spacing/F and the images are averaged down
to the model's spacing, as a scanner's voxels integrate the tissues they contain; with
--background-classes K the unlabelled soft tissue takes K intensities in random regions
(fat, muscle, fluid), as in a real scan. --keep-largest adds, under each row, the Dice after
keeping the largest component of each one-structure class (seg.KNEE_SINGLE_COMPONENT_LABELS).

    .venv/bin/python scripts/eval_default_seg.py [MODEL.pt]     # default: the shipped model
    .venv/bin/python scripts/eval_default_seg.py MODEL.pt --real-map ../shared/data/mri/knee_labels_pymskt.nrrd --flip-lr
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sportsmed import imaging, seg


def _row(name: str, pred: np.ndarray, truth: np.ndarray) -> list:
    dice = seg.dice_per_class(pred, truth, len(seg.KNEE_LABELS))
    print(name.ljust(20) + " ".join(f"{d:10.3f}" for d in dice[1:]), flush=True)
    return dice[1:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=None)
    ap.add_argument("--real-map", default=None, help="a real knee label map in the pymskt numbering")
    ap.add_argument("--flip-lr", action="store_true", help="mirror the real map left-right (a right knee)")
    ap.add_argument("--mirror", action="store_true", help="test-time mirroring")
    ap.add_argument("--shapes", type=int, nargs="*", default=list(range(1001, 1009)),
                    help="phantom shape seeds (default 1001-1008; training uses 1..N and monitors 1001-1002)")
    ap.add_argument("--background-classes", type=int, default=1, metavar="K",
                    help="synthesise the real-map images with the soft tissue split into K intensity regions")
    ap.add_argument("--keep-largest", action="store_true",
                    help="also score each prediction after keeping the largest component of femur, tibia, "
                         "patella, femoral and patellar cartilage (rows marked '+lcc') and after the model's own "
                         "post-processing, segment(keep_largest_component='model'): its sidecar's anchors and "
                         "attached labels too (rows marked '+model')")
    ap.add_argument("--partial-volume", type=int, default=1, metavar="F",
                    help="synthesise the real-map images from the map at spacing/F (partial volume)")
    ap.add_argument("--context", default=None, help="a coarse context model (segment --context)")
    args = ap.parse_args(argv)
    model = seg.load_model(args.model or seg.default_model_path())
    context = seg.load_model(args.context) if args.context else None
    spec = seg.model_spec(model)
    spacing = spec["spacing_mm"]

    def score(name: str, pred: np.ndarray, truth: np.ndarray) -> list:
        out = [_row(name, pred, truth)]
        if args.keep_largest:
            kept = imaging.keep_largest_component_per_label(pred, only=seg.KNEE_SINGLE_COMPONENT_LABELS)
            out.append(_row(name + " +lcc", kept, truth))
            own = imaging.keep_largest_component_per_label(pred, 26, spec.get("single_component_labels", []),
                                                           spec.get("fragment_join_groups", []),
                                                           spec.get("component_anchors", []))
            own = imaging.remove_detached_components(own, spec.get("attached_labels", []))
            out.append(_row(name + " +model", own, truth))
        return out

    print("image".ljust(20) + " ".join(name[:10].rjust(10) for name in seg.KNEE_LABELS[1:]))
    rows = []
    for shape in [None] + args.shapes:
        ph = imaging.make_knee_phantom(spacing_mm=spacing, extent_mm=(84.0,) * 3, seed=2000 + (shape or 0),
                                       shape=shape)
        pred, _ = seg.segment(model, ph["image"].astype(np.float32), mirror=args.mirror, spacing_mm=spacing,
                              context_model=context)
        dice = score(f"DESS {shape or 'standard'}", pred, seg.remap_pymskt(ph["labels"]))
        if shape is not None:
            rows.append(dice)
    for k, tag in enumerate(("", " +lcc", " +model")[:len(rows[0]) if rows else 0]):
        print(f"mean{tag}".ljust(20) + " ".join(f"{d:10.3f}" for d in np.mean([r[k] for r in rows], 0)))
        print(f"min{tag}".ljust(20) + " ".join(f"{d:10.3f}" for d in np.min([r[k] for r in rows], 0)))
    if args.real_map:
        ref = imaging.make_knee_phantom(spacing_mm=spacing, extent_mm=(84.0,) * 3, seed=2999)
        prior = seg.intensity_prior(ref["image"], seg.remap_pymskt(ref["labels"]), len(seg.KNEE_LABELS))
        fine = [s / args.partial_volume for s in spacing]
        labels = seg.remap_pymskt(seg.load_label_map(args.real_map, fine, flip_lr=args.flip_lr))
        for i in range(3):
            for name, options in (("random", {}), ("DESS", prior)):
                img, lab = seg.synthesize(labels, 2**42 + i, deform=False, partial_volume=args.partial_volume,
                                          background_classes=args.background_classes, **options)
                pred, _ = seg.segment(model, img, mirror=args.mirror, spacing_mm=spacing, context_model=context)
                score(f"real {name} {i}", pred, lab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
