"""``sportsmed mri segment`` and ``sportsmed mri train-seg`` (seg pillar)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from .. import InvalidArgument, NotFound
from .._pillars import require_pillar
from ..progress import progress_bar
from ._grammar import add_output


def _modules():
    require_pillar("seg")
    require_pillar("imaging")
    from .. import imaging, seg

    return imaging, seg


def cmd_segment(args: argparse.Namespace) -> int:
    imaging, seg = _modules()
    if args.output_positional and args.output and str(args.output_positional) != str(args.output):
        raise InvalidArgument(f"mri segment: two outputs given ('{args.output_positional}' and -o '{args.output}'); "
                              "give one")
    args.output = args.output or args.output_positional
    if not args.output:
        raise InvalidArgument("mri segment: no output given; give -o/--output FILE")
    # The outputs are checked before the (long) segmentation, and written under temporary
    # names renamed at the end: a failing command leaves nothing behind.
    outputs = [Path(args.output)] + ([Path(args.probabilities)] if args.probabilities is not None else [])
    for out in outputs:
        if not str(out).endswith((".nii", ".nii.gz", ".nrrd")):
            raise InvalidArgument(f"mri segment: cannot write '{out}': give a .nii, .nii.gz or .nrrd file")
        if not out.parent.is_dir():
            raise InvalidArgument(f"mri segment: cannot write '{out}': no folder '{out.parent}'")
    if len({o.resolve() for o in outputs}) < len(outputs) or Path(args.input).resolve() in {o.resolve() for o in outputs}:
        raise InvalidArgument("mri segment: the input, the labels and the probabilities must be three different files")
    model = seg.load_model(args.model or seg.default_model_path(), device=args.device)
    if args.context and args.no_context:
        raise InvalidArgument("mri segment: --context and --no-context given; give one")
    context_path = args.context
    if context_path is None and args.model is None and not args.no_context:
        try:  # the shipped pair: the default model with the shipped context model
            context_path = seg.default_context_model_path()
        except NotFound as exc:
            print(f"warning: {exc}; segmenting with the model alone", file=sys.stderr)
    context = seg.load_model(context_path, device=args.device) if context_path else None
    img = imaging.read_image(str(args.input))
    imaging.check_orthogonal(img.geometry, args.input, "mri segment")
    data = img.fdata()
    if data.ndim != 3:
        raise InvalidArgument(f"{args.input}: expected a 3-D image, got shape {data.shape}")
    spacing = list(img.geometry.spacing)
    keep = {"model": "model", "all": True, "none": False}[args.keep_largest]
    roi = None if args.roi == "none" else args.roi
    with progress_bar("segment") as progress, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", seg.RoiWarning)
        warnings.simplefilter("always", seg.InputWarning)
        # The image is brought to the model's orientation and the labels back onto its grid.
        result = seg.segment(model, data.astype(np.float32), step_fraction=args.step, mirror=args.mirror,
                             geometry=img.geometry, keep_largest_component=keep,
                             probabilities=args.probabilities is not None, progress=progress, roi=roi,
                             roi_margin_mm=seg.ROI_MARGIN_MM if args.roi_margin is None else args.roi_margin,
                             context_model=context, context_mass_weight=args.context_weight)
    labels, probs = result
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    for caveat in seg.model_caveats(model):
        print(f"warning: the model's sidecar: {caveat}", file=sys.stderr)
    if result.roi is not None:
        r = result.roi
        box = ", ".join(f"{a}:{b}" for a, b in zip(r["lo"], r["hi"]))
        print(f"roi: voxels [{box}] of the input ({100 * r['fraction']:.1f} % of the volume"
              + (f"; knee found by a first pass in {r['first_pass_s']:.1f} s, margin {r['margin_mm']:g} mm"
                 if r.get("found") and r["mode"] == "auto" else "") + ")")
    names = seg.model_spec(model)["labels"]
    staged = []
    try:
        for out, array in [(Path(args.output), labels)] + (
                [(Path(args.probabilities), np.moveaxis(probs, 0, -1))] if args.probabilities is not None else []):
            suffix = ".nii.gz" if out.name.endswith(".nii.gz") else out.suffix
            tmp = out.with_name(f".{out.name}.tmp-sportsmed{suffix}")
            staged.append((tmp, out))
            imaging.write_image(imaging.Image(array, img.geometry), str(tmp))
        for tmp, out in staged:
            tmp.replace(out)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    imaging.write_label_names(args.output, dict(enumerate(names)))
    counts = np.bincount(labels.ravel(), minlength=len(names))
    voxel_mm3 = float(np.prod(spacing))
    print(json.dumps({name: round(float(c) * voxel_mm3, 1) for name, c in zip(names, counts) if name != names[0]},
                     indent=2))
    print(f"wrote {args.output} (volumes in mm³ above) and its label names "
          f"{imaging.label_names_path(args.output).name}")
    return 0


def _map_names(args, path: Path, i: int, imaging):
    """The label names of the i-th map: --names, its .labels.json sidecar, the pymskt numbering
    (--remap-pymskt), or None (labels are class indices)."""
    if i < len(args.names):
        return imaging.read_label_mapping(str(args.names[i]))
    side = imaging.read_label_names(str(path))
    if side:
        if args.remap_pymskt:
            raise InvalidArgument(f"{path}: has label names ({imaging.label_names_path(path).name}) and "
                                  "--remap-pymskt was given; drop one")
        return side
    if args.remap_pymskt:
        from ..imaging._labels import PYMSKT_LABEL_NAMES

        return dict(PYMSKT_LABEL_NAMES)
    return None


def _training_maps(args, imaging, seg, labels):
    """The label maps reoriented to LPS and resampled label-aware onto one isotropic grid
    (the model's spacing / --partial-volume), and the synthesis options their labels need:
    maps with names are harmonised by name (knee classes: ``seg._harmonise``; --classes: a
    label whose name is a class name is that class), every other structure a generation label
    of its own; maps without names hold class indices."""
    if len(args.names) > len(args.labels):
        raise InvalidArgument(f"--names given {len(args.names)} times for {len(args.labels)} label maps")
    f = args.partial_volume
    if not 1 <= f <= 4:
        raise InvalidArgument(f"--partial-volume must be 1..4, got {f}")
    names = [_map_names(args, Path(p), i, imaging) for i, p in enumerate(args.labels)]
    if any(n is None for n in names) and any(n is not None for n in names):
        missing = [str(p) for p, n in zip(args.labels, names) if n is None]
        raise InvalidArgument(f"label maps {missing} have no names while the others do; give each one --names "
                              "(or a .labels.json sidecar), or none (labels are class indices)")
    spacing = args.spacing
    if spacing is None:
        first = imaging.read_image(str(args.labels[0])).geometry
        spacing = round(float(min(first.spacing)) * f, 4)
    if not spacing > 0:
        raise InvalidArgument(f"--spacing must be positive, got {spacing}")
    if not 0 <= args.cortex[0] <= args.cortex[1]:
        raise InvalidArgument(f"--cortex MIN MAX must satisfy 0 <= MIN <= MAX (mm), got {args.cortex}")
    fine = spacing / f
    maps = []
    for path in args.labels:
        lab = seg.load_label_map(str(path), (fine,) * 3)
        if not lab.any():
            raise InvalidArgument(f"{path}: the label map has no labelled voxel")
        maps.append(lab)
    synthesis, table = {}, None
    if names[0] is None:
        n = max(int(m.max()) for m in maps) + 1
        if n > len(labels):
            raise InvalidArgument(f"label maps contain label {n - 1} but only {len(labels)} classes are named; "
                                  "give label names (--names or a .labels.json sidecar)")
    elif args.classes is None:
        from ..seg._harmonise import add_cortex, harmonise

        h = harmonise(list(zip(maps, names)))
        if h.unnamed:
            print(f"train-seg: labels without a name, kept as their own 'other' tissue: {h.unnamed}", file=sys.stderr)
        if args.cortex[1] > 0:
            h = h.with_cortex()
            rng = np.random.default_rng(args.seed + 1)
            h.maps = [add_cortex(m, h.cortex, int(round(rng.uniform(*args.cortex) / fine))) for m in h.maps]
        maps = h.maps
        synthesis.update(h.synthesis_options(args.prior_probability))
        table = h.table()
    else:
        gen_names, out_classes = list(labels), list(range(len(labels)))
        converted = []
        for lab, nm in zip(maps, names):
            lut = np.zeros(int(lab.max()) + 1, np.uint8)
            for value in np.unique(lab).tolist():
                if value == 0:
                    continue
                name = nm.get(int(value), f"unnamed label {value}")
                if name not in gen_names:
                    gen_names.append(name)
                    out_classes.append(0)
                lut[value] = gen_names.index(name)
            converted.append(lut[lab])
        if len(gen_names) > 255:
            raise InvalidArgument(f"{len(gen_names)} structures across the maps exceed 255 generation labels")
        maps = converted
        synthesis["output_classes"] = out_classes
        table = [{"generation_label": g, "name": n, "class": labels[c]} for g, (n, c) in enumerate(zip(gen_names,
                                                                                                      out_classes))]
    return maps, spacing, synthesis, table


def cmd_train(args: argparse.Namespace) -> int:
    imaging, seg = _modules()
    labels = seg.KNEE_LABELS if args.classes is None else args.classes
    maps, spacing, synthesis, table = _training_maps(args, imaging, seg, labels)
    single = args.single_component_labels
    if single is None:
        single = seg.KNEE_SINGLE_COMPONENT_LABELS if args.classes is None else []
    bad = [label for label in single if not 1 <= label < len(labels)]
    if bad:
        raise InvalidArgument(f"--single-component-labels: {bad} outside the classes 1..{len(labels) - 1}")
    notes = json.dumps({"trained_by": "sportsmed mri train-seg", "label_maps": [str(p) for p in args.labels],
                        "generation_labels": table}) if table else ""
    model = seg.create_model(seg.unet_spec(labels, [args.patch] * 3, [spacing] * 3, base_features=args.base_features,
                                           levels=args.levels, single_component_labels=single, notes=notes,
                                           mirror_axes=args.mirror_axes,
                                           attached_labels=seg.KNEE_ATTACHED_LABELS if args.classes is None else ()),
                             seed=args.seed)
    with progress_bar("train-seg") as progress:
        synthesis.update({"partial_volume": args.partial_volume, "background_classes": args.background_classes,
                          "crop": args.crop})
        history = seg.train_synthetic(model, maps, synthesis=synthesis, progress=progress,
                                      epochs=args.epochs,
                                      iterations_per_epoch=args.iterations, batch_size=args.batch,
                                      learning_rate=args.lr, seed=args.seed, device=args.device,
                                      precision=args.dtype, checkpoint=str(args.output.with_suffix(".ckpt.pt")), resume=args.resume)
    model.save(str(args.output))
    print(json.dumps(history[-1], indent=2))
    print(f"wrote {args.output} and {args.output.with_suffix('.json')} (model spacing {spacing:g} mm, LPS; "
          f"{len(table) if table else len(labels)} generation labels)")
    return 0


def register_seg(msub: argparse._SubParsersAction) -> None:
    """Adds the seg subcommands to ``sportsmed mri``."""
    q = msub.add_parser("segment", help="segment a knee MRI with a 3D U-Net (default: the shipped model)")
    q.add_argument("input", help="NIfTI or NRRD image")
    q.add_argument("output_positional", nargs="?", default=None, metavar="output", help="same as -o/--output")
    add_output(q, "label map to write (.nii.gz, .nrrd)")
    q.add_argument("--model", default=None, help="model .pt with its .json sidecar (default: shipped knee model)")
    q.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    q.add_argument("--step", type=float, default=0.5, help="window step as a fraction of the patch")
    q.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=True,
                   help="test-time augmentation: average the eight axis flips (8x the time; on by default, as in "
                        "nnU-Net: tibial cartilage Dice of held-out knees 0.85 -> 0.88 on average)")
    q.add_argument("--probabilities", type=Path, default=None, help="also write class probabilities (4-D)")
    q.add_argument("--roi", choices=("none", "auto"), default="none",
                   help="auto: a first pass without overlap or mirroring finds the knee (the largest group of "
                        "structures it labels), and only its bounding box grown by --roi-margin is segmented; the rest is "
                        "background. Falls back to the whole volume with a warning when no knee is found")
    q.add_argument("--roi-margin", type=float, default=None, metavar="MM",
                   help="margin around the knee for --roi auto (mm; default: seg.ROI_MARGIN_MM, 20)")
    q.add_argument("--keep-largest", choices=("none", "model", "all"), default="none",
                   help="keep only the largest connected component of no label (none, the default), of the labels "
                        "the model's sidecar names as one structure (model: femur, tibia, patella, femoral and "
                        "patellar cartilage for the shipped model) or of every label (all: not for two-part classes "
                        "such as tibial cartilage or menisci). With 'model', a bone keeps the piece that touches its "
                        "cartilage most (the sidecar's component_anchors), not the largest: a fat network labelled "
                        "bone can be larger than the bone; and a piece of a class the sidecar attaches to others "
                        "(attached_labels: tibial cartilage off the tibia, menisci off the femur, tibia and their "
                        "cartilage) is removed. On held-out phantoms 'model' changes nothing or helps "
                        "(patella 0.958 -> 0.965 on one knee); where the network fails badly it can keep a wrong "
                        "piece")
    q.add_argument("--context", default=None, metavar="MODEL",
                   help="a coarse context model (.pt + sidecar with context_groups; default with the default model: "
                        "the shipped one), the first stage of a cascade: "
                        "its window sees the whole joint and decides which bone a voxel is; --model decides "
                        "whether it is bone, together with the context model (see seg.segment's context_model)")
    q.add_argument("--no-context", action="store_true",
                   help="the default model alone, without the shipped context model (the default with the default "
                        "model; --model alone never takes a context)")
    q.add_argument("--context-weight", type=float, default=0.5, metavar="W",
                   help="the context model's share of the bones' probability (0: --model's alone; default 0.5)")
    q.set_defaults(handler=cmd_segment)

    q = msub.add_parser("train-seg", help="train a 3D U-Net on images synthesised from label maps (SynthSeg)")
    q.add_argument("labels", nargs="+", type=Path,
                   help="label maps (NIfTI/NRRD, any orientation and spacing: reoriented to LPS and resampled "
                        "onto the model's grid); labels named by --names or a .labels.json sidecar are harmonised "
                        "by name, a map without names holds class indices")
    add_output(q, "model .pt (sidecar .json next to it)", required=True, type=Path)
    q.add_argument("--names", action="append", type=Path, default=[], metavar="TABLE",
                   help="label names of the maps, in order (colour table or JSON; repeat per map)")
    q.add_argument("--remap-pymskt", action="store_true", help="labels use the pymskt knee numbering")
    q.add_argument("--spacing", type=float, default=None, metavar="MM",
                   help="the model's isotropic spacing (default: the first map's finest voxel edge x --partial-volume)")
    q.add_argument("--prior-probability", type=float, default=0.5, metavar="P",
                   help="named knee maps: share of samples drawn around the DESS/PD-FS/T1/T2/PD-like tissue tables "
                        "(the rest: a random intensity per structure)")
    q.add_argument("--cortex", type=float, nargs=2, default=[0.5, 2.0], metavar=("MIN_MM", "MAX_MM"),
                   help="named knee maps: a dark cortical shell of a random thickness per map in every bone; 0 0: none")
    q.add_argument("--classes", nargs="+", default=None, help="class names (default: the knee classes)")
    q.add_argument("--single-component-labels", nargs="*", type=int, default=None, metavar="L",
                   help="classes that are one connected structure, recorded in the sidecar for `segment "
                        "--keep-largest model` (default: femur, tibia, patella, femoral and patellar cartilage "
                        "with the knee classes, none with --classes)")
    q.add_argument("--patch", type=int, default=64)
    q.add_argument("--base-features", type=int, default=8)
    q.add_argument("--levels", type=int, default=4)
    q.add_argument("--epochs", type=int, default=20)
    q.add_argument("--iterations", type=int, default=20)
    q.add_argument("--batch", type=int, default=2)
    q.add_argument("--lr", type=float, default=3e-3)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--device", default="cpu")
    dtype = q.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"),
                           help="forward-pass arithmetic (mixed precision; float16 needs CUDA)")
    q._option_string_actions["--precision"] = dtype  # the older spelling; --precision N is CSV digits elsewhere
    q.add_argument("--partial-volume", type=int, default=1, metavar="F",
                   help="synthesise images F times coarser than the label maps, with partial volume at the "
                        "boundaries (the model's spacing is F times the maps'); for maps finer than the scans")
    q.add_argument("--background-classes", type=int, default=1, metavar="K",
                   help="split the unlabelled tissue into K random regions with their own intensities")
    q.add_argument("--crop", type=int, default=0, metavar="N",
                   help="synthesise a random box of N voxels per axis (at the model's spacing) of each map")
    q.add_argument("--mirror-axes", type=int, nargs="+", default=None, choices=(0, 1, 2), metavar="AXIS",
                   help="LPS axes (0 left-right, 1 posterior-anterior, 2 superior-inferior) of the random training "
                        "flips and of `segment`'s test-time mirroring, recorded in the sidecar (default: all three; "
                        "a knee model: 0, so that femur-above-tibia stays a cue)")
    q.add_argument("--resume", action="store_true", help="continue from <output>.ckpt.pt")
    q.set_defaults(handler=cmd_train)
