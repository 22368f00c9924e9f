#!/usr/bin/env python3
"""Trains sportsmed's default knee segmentation model on synthesised knees.

The training data is the project's own knee phantom (sportsmed.imaging.make_knee_phantom):
the label maps of the standard knee and of --shapes random knees (shape seeds 1..N),
remapped to the eight default classes, are turned into a new synthetic image for every
sample (SynthSeg-style: random contrast, deformation, blur, bias field, noise).
Validation uses held-out anatomy and draws: the phantom's DESS-like image of random knees
whose shape seeds (1001, 1002) and noise seeds are not used in training, and synthetic
images of those knees from seeds outside the training stream.

With --prior-probability P, a share P of the samples draws its per-class intensities
around the DESS-like contrast of the phantom (class means and stds measured on the
standard training knee), the contrast-specific variant of the generator; the rest keep
SynthSeg's uniform draws. Held-out DESS figures then measure generalisation to unseen
knee shapes and noise, the "synthetic" ones to unseen contrasts.

With --real-maps, real knee label maps (pymskt numbering, e.g.
../shared/data/mri/knee_labels_pymskt.nrrd with --flip-lr, a right knee) are resampled to
the training spacing in LPS (sportsmed.seg.load_label_map) and synthesised alongside the
phantoms for about --real-share of the samples, so that the network sees real anatomy
(the phantom's bones and cartilage are idealised shapes).

With --extent E (mm, default 84) the training label maps cover a cube of side E around the
knee, and --tibial-shaft continues the tibia into a shaft and the fibula down to the edge
of that field of view (imaging.knee_shape's tibia_shaft_radius), as in a clinical knee scan
(about 140 mm): the network then sees soft tissue far from any bone, and long bones that
leave the field of view. Validation stays on the 84 mm phantoms. --background-classes K
splits the unlabelled soft tissue of every sample into K random regions of their own
intensity (fat, muscle, fluid in a real scan), and --crop N synthesises a random N-voxel box
of each map (at the training spacing) instead of the whole field of view, which keeps large
fields of view affordable.

    .venv/bin/python scripts/train_default_seg.py            # writes python/sportsmed/seg/models/
    .venv/bin/python scripts/train_default_seg.py --epochs 2 --iterations 2 --out /tmp/m.pt  # smoke run

The exact command, the time it took and the validation Dice are stored in the model's
sidecar ("notes").
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

import sportsmed
from sportsmed import imaging, seg

from _seg_stage import save_knee_model, train_stage, validation_table  # scripts/_seg_stage.py

REPO = Path(__file__).resolve().parents[1]

remap = seg.remap_pymskt  # the phantom uses the pymskt numbering


def phantom(spacing: float, seed: int, shape=None) -> dict:
    return imaging.make_knee_phantom(spacing_mm=(spacing,) * 3, extent_mm=(84.0, 84.0, 84.0), seed=seed, shape=shape)


def training_labels(spacing: float, shape, extent: float, tibial_shaft: bool) -> np.ndarray:
    """A training label map (default classes); the image is not needed, so no supersampling or noise."""
    anatomy = imaging.knee_shape(shape)
    if tibial_shaft:
        anatomy["tibia_shaft_radius"] = 0.5 * anatomy["tibia_ay"]
    ph = imaging.make_knee_phantom(spacing_mm=(spacing,) * 3, extent_mm=(extent,) * 3, supersampling=1, snr=0.0,
                                   shape=anatomy)
    return remap(ph["labels"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "python/sportsmed/seg/models/knee_unet.pt")
    ap.add_argument("--spacing", type=float, default=0.8, help="isotropic voxel size (mm)")
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--base-features", type=int, default=8)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--iterations", type=int, default=20, help="iterations per epoch")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="float32", choices=("float32", "bfloat16", "float16"))
    ap.add_argument("--validate-every", type=int, default=5)
    ap.add_argument("--shapes", type=int, default=16, help="random knee shapes (seeds 1..N) besides the standard knee")
    ap.add_argument("--class-weights", type=float, nargs="*", default=None, help="cross-entropy weight per class")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop after the epoch that passes this wall time (recorded in the notes)")
    ap.add_argument("--prior-probability", type=float, default=0.0,
                    help="share of samples whose class intensities follow the phantom's DESS-like contrast")
    ap.add_argument("--real-maps", nargs="*", default=[],
                    help="real knee label maps in the pymskt numbering (NIfTI/NRRD) synthesised alongside the phantoms")
    ap.add_argument("--real-share", type=float, default=0.25, help="share of samples drawn from --real-maps")
    ap.add_argument("--flip-lr", action="store_true", help="mirror the real maps left-right (right knees)")
    ap.add_argument("--partial-volume", type=int, default=1,
                    help="build the label maps at spacing/F and synthesise with partial volume (block means of "
                         "the intensities, labels at the block centres for odd F) down to the training spacing")
    ap.add_argument("--extent", type=float, default=84.0, help="field of view of the training label maps (mm)")
    ap.add_argument("--tibial-shaft", action="store_true",
                    help="continue the tibia (a shaft) and fibula to the edge of the field of view")
    ap.add_argument("--background-classes", type=int, default=1,
                    help="random soft-tissue regions with their own intensities (1: one background class)")
    ap.add_argument("--crop", type=int, default=0, help="synthesise a random box of this many voxels per axis")
    ap.add_argument("--init", type=Path, default=None,
                    help="continue from this model (its sidecar notes are kept as the first stage)")
    args = ap.parse_args(argv)
    if args.threads:
        sportsmed.set_num_threads(args.threads)

    train_shapes = [None] + list(range(1, args.shapes + 1))
    fine = args.spacing / args.partial_volume  # the label maps' spacing
    train_maps = [training_labels(fine, sh, args.extent, args.tibial_shaft) for sh in train_shapes]
    if args.real_maps:  # repeated so that they make up about --real-share of the samples
        real = [remap(seg.load_label_map(p, (fine,) * 3, flip_lr=args.flip_lr)) for p in args.real_maps]
        copies = max(1, round(args.real_share * len(train_maps) / (1 - args.real_share) / len(real)))
        train_maps += [m for m in real for _ in range(copies)]
    val_images, val_labels, val_names = [], [], []
    held_out = (1001, 1002)  # shape seeds never used in training
    for shape_seed in held_out:  # the DESS-like phantom of an unseen knee, unseen noise
        p = phantom(args.spacing, seed=shape_seed, shape=shape_seed)
        val_images.append(p["image"].astype(np.float32))
        val_labels.append(remap(p["labels"]))
        val_names.append(f"phantom DESS, shape {shape_seed}, noise seed {shape_seed}")
    for shape_seed, s in zip(held_out, (2**40 + 1, 2**40 + 2)):  # synthetic contrasts outside the training stream
        img, lab = seg.synthesize(remap(phantom(args.spacing, seed=0, shape=shape_seed)["labels"]), s)
        val_images.append(img)
        val_labels.append(lab)
        val_names.append(f"synthetic, shape {shape_seed}, seed {s}")

    spec = seg.unet_spec(seg.KNEE_LABELS, (args.patch,) * 3, (args.spacing,) * 3,
                         base_features=args.base_features, levels=args.levels)
    previous = None
    if args.init is not None:
        model = seg.load_model(str(args.init))
        previous = json.loads(seg.model_spec(model)["notes"] or "null")
    else:
        model = seg.create_model(spec, seed=args.seed)
    # Checkpoints live outside the package folder so that they are never installed.
    checkpoint = REPO / "build" / "seg-train" / (args.out.stem + ".ckpt.pt")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)

    extra = {} if args.class_weights is None else {"class_weights": args.class_weights}
    synthesis = {"partial_volume": args.partial_volume, "background_classes": args.background_classes,
                 "crop": args.crop}
    if args.prior_probability > 0:  # class means/stds of the standard training knee's DESS image
        ref = phantom(args.spacing, seed=args.seed)
        synthesis.update(seg.intensity_prior(ref["image"], remap(ref["labels"]), len(seg.KNEE_LABELS),
                                             args.prior_probability))
    history, stopped_early, minutes = train_stage(
        model, train_maps, val_images, val_labels, synthesis, checkpoint, args.max_minutes, epochs=args.epochs,
        iterations_per_epoch=args.iterations, batch_size=args.batch, learning_rate=args.lr, seed=args.seed,
        device=args.device, precision=args.precision, samples_per_epoch=4, loader_threads=1,
        validate_every=args.validate_every, **extra)
    # Final held-out evaluation, per validation image.
    table = validation_table(model, val_names, val_images, val_labels)
    command = "scripts/train_default_seg.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    notes = {
        "trained_by": command.strip(), "sportsmed": sportsmed.__version__,
        "training_minutes": round(minutes, 1), "threads": sportsmed.num_threads(),
        "data": "SynthSeg-style synthesis from the sportsmed knee phantom label maps "
                f"({args.spacing} mm; the standard knee and random shapes 1..{args.shapes}; {args.extent:g} mm field "
                "of view" + ("; tibial shaft and fibula to its edge" if args.tibial_shaft else "") + "), remapped "
                "to the default classes" + (f"; {args.prior_probability:.0%} of the samples with class intensities drawn "
                                     "around the phantom's DESS-like contrast" if args.prior_probability > 0 else "")
                + (f"; real label maps ({args.real_share:.0%} of the samples): "
                   + ", ".join(Path(p).name for p in args.real_maps) if args.real_maps else "")
                + (f"; the soft tissue split into {args.background_classes} random intensity regions"
                   if args.background_classes > 1 else "")
                + (f"; random {args.crop}-voxel crops" if args.crop else "")
                + (f"; label maps at {fine:g} mm, images averaged to {args.spacing} mm (partial volume)"
                   if args.partial_volume > 1 else ""),
        "stopped_early": stopped_early,
        "final_train_loss": history[-1]["train_loss"] if history else None, "validation_dice": table,
        "previous_stage": previous,
    }
    if not args.real_maps:
        notes["caveats"] = ["trained on synthetic phantom anatomy only: not validated on real knees; review the "
                            "cartilage masks before reporting thickness or T2 from them"]
    save_knee_model(model, args.out, args.spacing, notes)
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
