#!/usr/bin/env python3
"""Trains a knee segmentation model by synthesis from real knee anatomy (and the phantoms).

The training label maps are real knees (``--anatomy pymskt``, ``--anatomy spl``, or any map
with its names: ``--map PATH --names TABLE``) plus the project's knee phantoms
(``--phantoms N``). Their labels are harmonised by name (``sportsmed.seg._harmonise``): the
model's classes (femur, tibia, patella, femoral / tibial / patellar cartilage, menisci), and
every other structure (muscles, fat pad, ligaments, tendons, vessels, nerves, the fibula)
as a generation label of its own that draws its own intensity in every synthetic image.

Spatial variety: every real map enters the pool as it is and mirrored left-right (a left knee
becomes a right one), each at several knee flexion angles (``--flexion``: rigid motion of the
tibia about the condylar axis, smoothly blended; ``flex_knee``), every bone with a cortical
shell of a random thickness (``--cortex``, ``add_cortex``: its own generation label, dark in
the MR-like tables, a random intensity like any label otherwise); every sample then gets a
random affine (rotation, anisotropic scale), a diffeomorphic deformation (an integrated
stationary velocity field), a random crop (field of view), random left-right flips
(``--flip-axes``, recorded as the sidecar's ``mirror_axes`` for test-time mirroring). Acquisition
variety: label maps at 1/3 of the training spacing averaged down (partial volume), random
blur, thick slices along a random axis (``--thick-slices``: 1 to 4 mm, as 2D-like stacks), a
bias field, Rician noise and gamma; contrast either uniform random per generation label
(SynthSeg) or, for ``--prior-probability`` of the samples, drawn around one of the DESS-,
PD-FS-, T1-, T2- and PD-like tables of ``_harmonise.CONTRASTS`` by tissue type.

Validation during training (monitoring only) uses the held-out phantom knees (shapes 1001 and
1002): never a real anatomy, so that the cross-anatomy test (``scripts/eval_cross_anatomy.py``)
stays a test.

    .venv/bin/python scripts/train_knee_seg.py --anatomy spl --init python/sportsmed/seg/models/knee_unet.pt \\
        --max-minutes 30 --out build/seg-train/knee_spl.pt         # trained without the pymskt knee
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

import sportsmed
from sportsmed import imaging, seg
from sportsmed.imaging._labels import PYMSKT_LABEL_NAMES, label_names_path, read_label_mapping, read_label_names
from sportsmed.seg._harmonise import CONTRASTS, add_cortex, flex_knee, harmonise

from _seg_stage import save_knee_model, train_stage, validation_table  # scripts/_seg_stage.py

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPORTSMED_SHARED_DATA", REPO.parent / "shared" / "data"))

#: The real anatomies of ../shared/data, with where their label names come from.
ANATOMIES = {
    # pymskt's documented numbering (the NRRD carries no names); see imaging._labels.
    "pymskt": (SHARED / "mri" / "knee_labels_pymskt.nrrd", None),
    "spl": (SHARED / "mri" / "spl_knee_atlas" / "seg.nrrd", SHARED / "mri" / "spl_knee_atlas" / "knee.ctbl"),
}


def label_names(map_path: Path, names_path, known=None) -> dict:
    """The map's label names: --names, else its .labels.json sidecar, else the documented
    numbering of a known anatomy; a map without any is refused (a numbering is never guessed)."""
    if names_path is not None:
        return read_label_mapping(names_path)
    side = read_label_names(map_path)
    if side:
        return side
    if known is not None:
        return dict(known)
    raise SystemExit(f"{map_path}: no label names (give --names TABLE, or a {label_names_path(map_path).name})")


def real_maps(args, fine: float) -> list:
    out = []
    for name in args.anatomy:
        path, names = ANATOMIES[name]
        out.append((name, path, names, PYMSKT_LABEL_NAMES if name == "pymskt" else None))
    for i, path in enumerate(args.map):
        out.append((Path(path).name, Path(path), Path(args.names[i]) if i < len(args.names) else None, None))
    maps = []
    for name, path, names, known in out:
        maps.append((name, seg.load_label_map(str(path), (fine,) * 3), label_names(path, names, known)))
    return maps


def phantom_maps(n: int, fine: float, extent: float) -> list:
    maps = []
    for shape in [None] + list(range(1, n + 1)):
        anatomy = imaging.knee_shape(shape)
        anatomy["tibia_shaft_radius"] = 0.5 * anatomy["tibia_ay"]
        ph = imaging.make_knee_phantom(spacing_mm=(fine,) * 3, extent_mm=(extent,) * 3, supersampling=1, snr=0.0,
                                       shape=anatomy)
        maps.append((f"phantom {shape or 'standard'}", ph["labels"], dict(PYMSKT_LABEL_NAMES)))
    return maps


remap = seg.remap_pymskt  # the phantom uses the pymskt numbering


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anatomy", action="append", default=[], choices=sorted(ANATOMIES),
                    help="a real knee of ../shared/data (repeat for several)")
    ap.add_argument("--map", action="append", default=[], help="another real label map (NIfTI/NRRD)")
    ap.add_argument("--names", action="append", default=[], help="its label names (colour table or JSON)")
    ap.add_argument("--phantoms", type=int, default=16, help="phantom shapes 1..N besides the standard knee")
    ap.add_argument("--phantom-extent", type=float, default=120.0, help="phantom field of view (mm)")
    ap.add_argument("--real-share", type=float, default=0.6, help="share of samples from real anatomy")
    ap.add_argument("--flexion", type=float, nargs="*", default=[-5.0, 10.0, 25.0],
                    help="flexion angles (deg) added to the pool for every real map, besides 0")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--init", type=Path, default=None, help="continue from this model")
    ap.add_argument("--spacing", type=float, default=1.0)
    ap.add_argument("--patch", type=int, default=48)
    ap.add_argument("--base-features", type=int, default=8)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--partial-volume", type=int, default=3)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=25)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="float32", choices=("float32", "bfloat16", "float16"))
    ap.add_argument("--validate-every", type=int, default=20)
    ap.add_argument("--class-weights", type=float, nargs="*", default=[1, 1, 1, 1, 2, 1, 3, 1.5])
    ap.add_argument("--prior-probability", type=float, default=0.5)
    ap.add_argument("--background-classes", type=int, default=6)
    ap.add_argument("--background-tissues", nargs="*", default=["fat", "muscle"],
                    help="tissue types of the MR-like tables whose signal the random regions of the unlabelled rest "
                         "take in table-drawn samples (none: uniform values); fatty marrow has the signal of fat, so "
                         "fat-like regions against bone, told apart by the cortex only, are common as in knee MRI")
    ap.add_argument("--velocity", type=float, default=3.0, help="std of the velocity field (voxels)")
    ap.add_argument("--thick-slices", type=float, default=0.3, help="share of samples with thick slices")
    ap.add_argument("--cortex", type=float, nargs=2, default=[0.5, 2.0], metavar=("MIN_MM", "MAX_MM"),
                    help="cortical shell thickness range (mm), one draw per map variant; 0 0: no shell")
    ap.add_argument("--flip-axes", type=int, nargs="*", default=[0],
                    help="LPS axes of the random training flips and of test-time mirroring (recorded in the sidecar "
                         "as mirror_axes); default 0: left-right only (a left knee is a right knee mirrored), so that "
                         "superior/inferior (femur above tibia) and anterior/posterior (patella in front) stay cues")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--phantom-contrast", action="store_true",
                    help="add the phantom's DESS-like class intensities as one more contrast table")
    args = ap.parse_args(argv)
    if len(args.names) > len(args.map):
        ap.error("--names given more often than --map")
    if args.threads:
        sportsmed.set_num_threads(args.threads)
    t_setup = time.time()
    fine = args.spacing / args.partial_volume
    real = real_maps(args, fine)
    ph = phantom_maps(args.phantoms, fine, args.phantom_extent)
    h = harmonise([(m, n) for _, m, n in real] + [(m, n) for _, m, n in ph])
    if h.unnamed:
        print(f"labels without a name (kept as their own 'other' tissue): {h.unnamed}", file=sys.stderr)
    real_gen, ph_gen = h.maps[: len(real)], h.maps[len(real):]
    pool, pool_names = [], []
    for (name, _, _), gen in zip(real, real_gen):
        for mirror in (False, True):
            base = np.ascontiguousarray(gen[::-1]) if mirror else gen
            for angle in [0.0] + list(args.flexion):
                pool.append(base if angle == 0 else flex_knee(base, h.output_classes, h.names, angle, fine))
                pool_names.append(f"{name}{' mirrored' if mirror else ''} flexion {angle:+g}")
    n_real = len(pool)
    if args.cortex[1] > 0:  # a dark cortical shell of a random thickness per map variant
        h = h.with_cortex()
        rng_c = np.random.default_rng(args.seed + 1)
        thick = lambda: int(round(rng_c.uniform(*args.cortex) / fine))  # noqa: E731
        pool = [add_cortex(m, h.cortex, thick()) for m in pool]
        ph_gen = [add_cortex(m, h.cortex, thick()) for m in ph_gen]
    if n_real:  # repeat real maps so that they make up about --real-share of the draws
        copies = max(1, round(args.real_share * len(ph_gen) / max(1e-9, 1 - args.real_share) / n_real))
        train_maps = [m for m in pool for _ in range(copies)] + list(ph_gen)
    else:
        train_maps = list(ph_gen)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(train_maps))  # the sampler cycles through the maps in order
    train_maps = [train_maps[i] for i in order]
    print(f"pool: {n_real} real variants ({', '.join(pool_names)}), {len(ph_gen)} phantoms; setup "
          f"{time.time() - t_setup:.0f} s", file=sys.stderr)

    val_images, val_labels, val_names = [], [], []
    for shape_seed in (1001, 1002):
        p = imaging.make_knee_phantom(spacing_mm=(args.spacing,) * 3, extent_mm=(84.0,) * 3, seed=shape_seed,
                                      shape=shape_seed)
        val_images.append(p["image"].astype(np.float32))
        val_labels.append(remap(p["labels"]))
        val_names.append(f"phantom DESS, shape {shape_seed}, noise seed {shape_seed}")

    if args.init is not None:
        model = seg.load_model(str(args.init))
        previous = json.loads(seg.model_spec(model)["notes"] or "null")
    else:
        model = seg.create_model(seg.unet_spec(seg.KNEE_LABELS, (args.patch,) * 3, (args.spacing,) * 3,
                                               base_features=args.base_features, levels=args.levels), seed=args.seed)
        previous = None
    checkpoint = REPO / "build" / "seg-train" / (args.out.stem + ".ckpt.pt")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    synthesis = {"partial_volume": args.partial_volume, "background_classes": args.background_classes,
                 "crop": args.crop, "velocity_std_vox": args.velocity, "velocity_grid": 4,
                 "max_rotation_deg": 20.0, "min_scale": 0.85, "max_scale": 1.15, "elastic_std_vox": 1.0,
                 "thick_slice_probability": args.thick_slices, "min_slice_thickness_vox": max(1.0, 1.5 / args.spacing),
                 "max_slice_thickness_vox": max(1.0, 4.0 / args.spacing), "max_noise": 0.06}
    synthesis.update(h.synthesis_options(args.prior_probability, background_tissues=args.background_tissues))
    if args.phantom_contrast:  # the phantom's own DESS-like contrast as one more table (its classes
        # measured on the standard training knee; every other tissue from the DESS-like table)
        ref = imaging.make_knee_phantom(spacing_mm=(args.spacing,) * 3, extent_mm=(84.0,) * 3, seed=args.seed)
        measured = seg.intensity_prior(ref["image"], remap(ref["labels"]), len(seg.KNEE_LABELS))
        n = len(h.names)
        dess = list(CONTRASTS).index("DESS")
        means = synthesis["prior_means"][dess * n:(dess + 1) * n]
        stds = synthesis["prior_stds"][dess * n:(dess + 1) * n]
        means[:len(seg.KNEE_LABELS)] = measured["prior_means"]
        stds[:len(seg.KNEE_LABELS)] = measured["prior_stds"]
        synthesis["prior_means"] += means
        synthesis["prior_stds"] += stds
        synthesis["prior_tables"] += 1

    history, stopped_early, minutes = train_stage(
        model, train_maps, val_images, val_labels, synthesis, checkpoint, args.max_minutes, mininterval=30,
        epochs=args.epochs, iterations_per_epoch=args.iterations, batch_size=args.batch, learning_rate=args.lr,
        seed=args.seed, device=args.device, precision=args.precision, samples_per_epoch=4, loader_threads=1,
        flip_axes=list(args.flip_axes) if args.flip_axes else [0, 1, 2],
        validate_every=args.validate_every, class_weights=args.class_weights)
    table = validation_table(model, val_names, val_images, val_labels)
    command = "scripts/train_knee_seg.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    notes = {
        "trained_by": command.strip(), "sportsmed": sportsmed.__version__, "training_minutes": round(minutes, 1),
        "threads": sportsmed.num_threads(),
        "data": "SynthSeg-style synthesis from real knee label maps ("
                + (", ".join(n for n, _, _ in real) or "none") + "; each as is and mirrored, flexed by "
                + ", ".join(f"{a:+g}" for a in [0.0] + list(args.flexion)) + " deg) and "
                f"{len(ph_gen)} knee phantoms ({args.phantom_extent:g} mm field of view), labels harmonised by "
                f"name ({len(h.names)} generation labels); {args.prior_probability:.0%} of the samples with "
                f"intensities around one of the {', '.join(CONTRASTS)}-like tissue tables"
                + (" or the phantom's measured DESS-like class intensities" if args.phantom_contrast else "")
                + (f" (the unlabelled rest split into {args.background_classes} random regions"
                   + (f", each {' or '.join(args.background_tissues)}-like in those samples" if args.background_tissues
                      else "") + ")")
                + (f"; bones with a cortical shell of {args.cortex[0]:g}-{args.cortex[1]:g} mm (one draw per map "
                   "variant)" if args.cortex[1] > 0 else "")
                + f"; velocity field std "
                f"{args.velocity} voxels; thick slices (1.5-4 mm) in {args.thick_slices:.0%}; random "
                f"{args.crop}-voxel crops; label maps at {fine:.4g} mm averaged to {args.spacing} mm",
        "generation_labels": h.table(),
        "stopped_early": stopped_early,
        "final_train_loss": history[-1]["train_loss"] if history else None, "validation_dice": table,
        "previous_stage": previous,
    }
    # as a cascade's first stage it decides which bone (context_groups); mirror_axes: test-time mirroring
    save_knee_model(model, args.out, args.spacing, notes, orientation="LPS", context_groups=seg.KNEE_CONTEXT_GROUPS,
                    mirror_axes=list(args.flip_axes) if args.flip_axes else [0, 1, 2])
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
