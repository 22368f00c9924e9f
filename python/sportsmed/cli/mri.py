"""``sportsmed mri``: knee MRI tools (imaging pillar; segmentation from the seg pillar).

Subcommands::

    sportsmed mri info PATH [--json]                header facts of a NIfTI/NRRD file or DICOM folder
                                                    (the same keys for each, INFO_KEYS)
    sportsmed mri convert SRC -o DST                NIfTI <-> NRRD (or a DICOM folder -> NIfTI)
    sportsmed mri edt MASK -o OUT [--label L]       exact distance transform (mm) of a mask/label
    sportsmed mri metrics GT PRED [--labels ...] [-o CSV]   per-label Dice, HD95, ASSD, surface Dice

The output may also be given as the last positional argument (``convert SRC DST``), as
before; see ``cli/_grammar.py`` for the options every subcommand shares.
    sportsmed mri t2map SRC -o OUT [--te ...]       T2 map of a multi-echo DICOM folder or 4-D NIfTI
    sportsmed mri thickness LABELS -o OUT           nearest-surface cartilage thickness map
        [--local OUT] [--regions [CSV]] [--map OUT.png|OUT.nii.gz]   local thickness, regional
                                                    means, unrolled femoral thickness map
    sportsmed mri phantom -o DIR                    the knee phantom (labels, DESS, multi-echo)
    sportsmed mri segment|train-seg ...             3D U-Net segmentation (seg pillar)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from .._io import write_csv_atomic, write_json_atomic
from .._pillars import require_pillar
from ..progress import progress_bar
from ._grammar import add_json, add_output, add_precision, add_side, float_format
from .seg_commands import register_seg


def _imaging():
    require_pillar("imaging")
    from .. import imaging

    return imaging


def _read_any(path: str, series: str = ""):
    """(float array, geometry, te_ms or None) of a NIfTI/NRRD file or a DICOM folder (the
    series ``series`` names, by UID or description, when it holds several)."""
    im = _imaging()
    if os.path.isdir(path):
        s = im.read_dicom_series(path, series or "")
        return s["array"], s["geometry"], list(s["te_ms"])
    img = im.read_image(path)
    from ..imaging._sidecar import sidecar_echo_times

    return img.fdata(), img.geometry, sidecar_echo_times(path)


def _one_output(args, positional: str, where: str) -> str:
    """The output given either as the positional argument (older spelling) or -o/--output."""
    from .. import InvalidArgument

    given = getattr(args, positional)
    if given and args.output and str(given) != str(args.output):
        raise InvalidArgument(f"{where}: two outputs given ('{given}' and -o '{args.output}'); give one")
    out = given or args.output
    if not out:
        raise InvalidArgument(f"{where}: no output given; give -o/--output FILE")
    return out


def _write(array, geometry, path: str) -> None:
    im = _imaging()
    im.write_image(im.Image(np.asarray(array), geometry), str(path))


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _volume_3d(img, path: str):
    """The voxels of a label map or mask file as a 3-D array (trailing axes of length 1
    dropped); InvalidArgument naming the file otherwise."""
    from .. import InvalidArgument

    a = np.asarray(img.array)
    while a.ndim > 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 3:
        raise InvalidArgument(f"'{path}': expected a 3-D label map or mask, got shape "
                              f"{' x '.join(map(str, a.shape))} ({a.ndim}-D); give one volume")
    return a


#: The keys of `mri info` for every format, in order (None where a format has no such fact).
INFO_KEYS = ("format", "path", "shape", "dtype", "spacing_mm", "origin_lps_mm", "direction_lps", "scaled",
             "scl_slope", "scl_inter", "qform_code", "sform_code", "te_ms", "series_uid", "description")


def image_facts(path: str, series: str = "") -> dict:
    """Header facts of a NIfTI/NRRD file or one DICOM series, with the same keys
    (:data:`INFO_KEYS`) for every format."""
    im = _imaging()
    facts = dict.fromkeys(INFO_KEYS)
    facts["path"] = str(path)
    if os.path.isdir(path):
        s = im.read_dicom_series(path, series or "")
        a = s["array"]
        facts.update({"format": "DICOM", "shape": [int(n) for n in a.shape], "dtype": str(a.dtype),
                      "te_ms": [float(t) for t in s["te_ms"]] or None, "series_uid": s["series_uid"],
                      "description": s["description"]})
        g = s["geometry"]
    else:
        img = im.read_image(path)
        g = img.geometry
        is_nrrd = str(path).lower().endswith((".nrrd", ".nhdr"))
        from ..imaging._sidecar import sidecar_echo_times

        te = sidecar_echo_times(path)
        facts.update({"format": "NRRD" if is_nrrd else "NIfTI", "shape": [int(n) for n in img.dims],
                      "dtype": img.dtype, "scaled": bool(img.scaled), "scl_slope": float(img.scl_slope),
                      "scl_inter": float(img.scl_inter), "te_ms": te})
        if not is_nrrd:
            facts.update({"qform_code": int(img.qform_code), "sform_code": int(img.sform_code)})
    facts.update({"spacing_mm": [float(v) for v in g.spacing], "origin_lps_mm": [float(v) for v in g.origin],
                  "direction_lps": np.asarray(g.direction, dtype=float).tolist()})
    return facts


def cmd_info(args) -> int:
    im = _imaging()
    if os.path.isdir(args.path):
        found = im.list_dicom_series(args.path)
        if len(found) > 1 and not args.series:
            listing = {"format": "DICOM folder", "path": str(args.path), "series": found}
            if args.json:
                print(json.dumps(listing, indent=2))
            else:
                for f in found:
                    print(f"{f.get('series_uid', '')}  {f.get('description', '')}  ({f.get('files', '?')} files)")
            print(f"{len(found)} series: read one with --series UID or --series DESCRIPTION", file=sys.stderr)
            return 0
    facts = image_facts(args.path, args.series or "")
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if value is None:
            continue
        if key == "direction_lps":
            value = "; ".join(" ".join(f"{v:.6g}" for v in row) for row in value)
        elif isinstance(value, list):
            value = " x ".join(f"{v:g}" for v in value) if key in ("shape", "spacing_mm") else \
                ", ".join(f"{v:.6g}" for v in value)
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_convert(args) -> int:
    im = _imaging()
    args.dst = _one_output(args, "dst", "mri convert")
    if os.path.isdir(args.src):
        with progress_bar("read DICOM"):
            array, geometry, te = _read_any(args.src, args.series)
        _write(array.astype(np.float32), geometry, args.dst)
        if te:
            # Echo times travel with the volume (dcm2niix's BIDS-style sidecar), so that
            # `mri t2map` on the converted file needs no --te.
            from ..imaging._sidecar import sidecar_path

            side = sidecar_path(args.dst)
            write_json_atomic(side, {"EchoTimes_ms": [float(t) for t in te],
                                     "EchoTime": [float(f"{float(t) / 1000.0:.12g}") for t in te], "Source": str(args.src)},
                              indent=2)
            print(f"echo times (ms): {', '.join(f'{t:g}' for t in te)} (also in {side.name})")
    else:
        im.convert(args.src, args.dst)
    print(f"wrote {args.dst}")
    return 0


def cmd_edt(args) -> int:
    im = _imaging()
    out = _one_output(args, "out", "mri edt")
    img = im.read_image(args.mask)
    im.check_orthogonal(img.geometry, args.mask, "mri edt")
    data = _volume_3d(img, args.mask)
    mask = (data == args.label) if args.label is not None else (data != 0)
    if not mask.any():
        from .. import InvalidArgument

        if args.label is None:
            raise InvalidArgument(f"'{args.mask}' has no nonzero voxel: nothing to measure the distance to")
        held = [v for v in im.present_labels(data) if v != 0]
        raise InvalidArgument(f"'{args.mask}': label {args.label} has no voxel in the map (it holds "
                              f"{', '.join(map(str, held[:24])) or 'no label'}{', ...' if len(held) > 24 else ''})")
    with progress_bar("distance transform"):
        dist = im.distance_transform(mask, img.geometry.spacing)
    _write(dist.astype(np.float32), img.geometry, out)
    print(f"wrote {out} (max distance {float(dist.max()):.3f} mm)")
    return 0


def cmd_metrics(args) -> int:
    im = _imaging()
    from .. import InvalidArgument

    gt_img, pred_img = im.read_image(args.gt), im.read_image(args.pred)
    gt, pred = _volume_3d(gt_img, args.gt), _volume_3d(pred_img, args.pred)
    if not gt_img.geometry.same_grid(pred_img.geometry, 1e-4):
        raise InvalidArgument(f"metrics: '{args.gt}' and '{args.pred}' lie on different grids")
    im.check_orthogonal(gt_img.geometry, args.gt, "mri metrics")
    gt_names = im.read_label_mapping(args.label_names) if args.label_names else im.read_label_names(args.gt)
    pred_names = (im.read_label_mapping(args.pred_label_names) if args.pred_label_names
                  else im.read_label_names(args.pred))
    names = gt_names if gt_names is not None else pred_names
    gt_present = im.present_labels(gt)
    if gt_names is not None and pred_names is not None:
        # Both maps say what their labels are: pair the structures by name, in GT's numbers.
        pred_source = f"'{args.pred}'" + (f" (names from '{args.pred_label_names}')" if args.pred_label_names else "")
        gt_source = f"'{args.gt}'" + (f" (names from '{args.label_names}')" if args.label_names else "")
        pred, names = im.match_labels_by_name(pred, pred_names, gt_names, args.labels, pred_source, gt_source,
                                              ref_present=gt_present)
    elif gt_names is not None or pred_names is not None:
        named, unnamed = (args.gt, args.pred) if gt_names is not None else (args.pred, args.gt)
        _warn(f"only '{named}' carries label names ('{unnamed}' has no {im.label_names_path(unnamed).name}): "
              f"labels are paired by number, which is right only if '{unnamed}' uses the same numbering "
              "(give its names with its sidecar, --label-names or --pred-label-names)")
    labels = list(args.labels or [])
    values = sorted(set(gt_present) | set(im.present_labels(pred)) | {0})
    numbers = None
    if values[-1] > 255 or any(v > 255 for v in labels):
        # Labels beyond uint8 (k*1000+1 numberings): measured as 0..n, reported in their numbers.
        numbers = np.asarray(sorted(set(values) | set(labels)), dtype=np.int64)
        if numbers.size > 256:
            raise InvalidArgument(f"metrics: '{args.gt}' and '{args.pred}' hold {numbers.size - 1} distinct labels; "
                                  "at most 255 can be measured at once")
        gt = np.searchsorted(numbers, gt).astype(np.uint8)
        pred = np.searchsorted(numbers, pred).astype(np.uint8)
        labels = [int(np.searchsorted(numbers, v)) for v in labels]
        if names is not None:
            names = {int(np.searchsorted(numbers, k)): v for k, v in names.items() if k in set(numbers.tolist())}
    with progress_bar("metrics"):
        table = im.metrics_table(im.as_label_map(gt, args.gt), im.as_label_map(pred, args.pred),
                                 gt_img.geometry.spacing, labels, args.tolerance, names=names)
    if numbers is not None:
        table.index = [int(numbers[i]) for i in table.index]
        table.index.name = "label"
    if args.output:
        write_csv_atomic(table, args.output, float_format=float_format(args.precision))
        print(f"wrote {args.output}")
    else:
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    return 0


def cmd_t2map(args) -> int:
    im = _imaging()
    array, geometry, te = _read_any(args.src, args.series)
    if args.te:
        te = args.te
    if te is None:
        from .. import InvalidArgument

        raise InvalidArgument("t2map: give the echo times with --te for a NIfTI/NRRD input without a sidecar "
                              "(<name>.json with EchoTimes_ms, as `mri convert` writes from DICOM)")
    from .. import InvalidArgument

    if array.ndim != 4:
        raise InvalidArgument(f"t2map: expected a 4-D multi-echo image, got shape {array.shape}")
    if len(te) != array.shape[3]:
        raise InvalidArgument(f"t2map: '{args.src}' holds {array.shape[3]} echoes but {len(te)} echo times "
                              "were given")
    problem = im.echo_time_problem(te)
    if problem:
        raise InvalidArgument(f"t2map: {problem}")
    # The echoes may be stored in any TE order: the mask comes from the shortest echo (the
    # most signal, the best contrast against air).
    first = int(np.argmin(te))
    mask = None
    if args.mask:
        mask = _volume_3d(im.read_image(args.mask), args.mask) != 0
    elif args.threshold is not None:
        mask = array[..., first] > args.threshold
    else:
        # Not the background: voxels whose shortest echo is above Otsu's threshold of its
        # histogram (air and noise would otherwise fill the map at the T2 bound).
        threshold = _otsu_threshold(array[..., first])
        mask = array[..., first] > threshold
        print(f"mask: echo at TE {te[first]:g} ms (the shortest) > {threshold:.6g} (Otsu), {int(mask.sum())} of "
              f"{mask.size} voxels; --mask or --threshold to choose", file=sys.stderr)
    with progress_bar("T2") as cb:
        maps = im.fit_t2(array, te, mask, noise_floor=args.noise_floor, progress=cb)
    out = Path(args.output)
    _write(maps["t2_ms"].astype(np.float32), geometry, str(out))
    stem = str(out)[: -len(".nii.gz")] if str(out).endswith(".nii.gz") else str(out.with_suffix(""))
    _write(maps["r2"].astype(np.float32), geometry, stem + "_r2.nii.gz")
    _write(maps["status"], geometry, stem + "_status.nii.gz")
    ok = maps["status"] == 0
    print(f"wrote {out} (+ _r2, _status); fitted {int(ok.sum())} voxels, "
          f"median T2 {float(np.nanmedian(maps['t2_ms'][ok])):.2f} ms")
    return 0


def _otsu_threshold(values, bins: int = 256) -> float:
    """Otsu's (1979) threshold of the finite values: the cut maximising the between-class
    variance of the histogram."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or v.min() == v.max():
        return float(v.min()) if v.size else 0.0
    hist, edges = np.histogram(v, bins=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(edges[1:][int(np.argmax(between[:-1]))])


#: Articular cartilage is at most ~6-7 mm thick (patella); a median beyond this is a wrong
#: label or unit, not a knee (Eckstein et al. 2006, Osteoarthritis Cartilage 14:974).
THICKNESS_MEDIAN_LIMIT_MM = 8.0

#: The structures regional thickness needs, by name (pymskt numbering 1, 2, 3, 5, 6).
REGION_STRUCTURES = ("femoral_cartilage", "medial_tibial_cartilage", "lateral_tibial_cartilage", "femur", "tibia")


def _label_names(im, args):
    """The map's label names: --label-names FILE, else its sidecar, else None."""
    if args.label_names:
        return im.read_label_mapping(args.label_names)
    return im.read_label_names(args.labels)


def _knee_side_check(im, args, labels, geometry, names, knee_labels, knee_numbers) -> None:
    """Refuses a --side that the data contradict: the medial/lateral tibial cartilage labels'
    positions (the side auto reads), or structure names that say left or right. With
    --side auto, names that contradict the labels are a warning."""
    from .. import InvalidArgument

    from_labels = im.knee_side_from_labels(labels, geometry, knee_labels[1], knee_labels[2])
    from_names = im.side_from_names([names.get(k) for k in knee_numbers] if names else ())
    if args.side != "auto":
        if from_labels is not None and from_labels != args.side:
            raise InvalidArgument(
                f"{args.labels}: --side {args.side} contradicts the labels: the medial tibial cartilage lies on the "
                f"{'patient-left' if from_labels == 'right' else 'patient-right'} side of the lateral, which is a "
                f"{from_labels} knee; medial/lateral would be swapped for the femur only. Leave --side out (auto) "
                "or check the labels and the image orientation")
        if from_names in ("left", "right") and from_names != args.side:
            raise InvalidArgument(f"{args.labels}: --side {args.side} contradicts the label names, which say "
                                  f"{from_names}")
    elif from_names in ("left", "right") and from_labels is not None and from_names != from_labels:
        _warn(f"{args.labels}: the label names say a {from_names} knee but the tibial cartilage labels lie as in a "
              f"{from_labels} knee (used for medial/lateral); check the image orientation")


def cmd_thickness(args) -> int:
    im = _imaging()
    from .. import InvalidArgument

    img = im.read_image(args.labels)
    im.check_orthogonal(img.geometry, args.labels, "mri thickness")
    labels, numbers = im.compact_label_map(_volume_3d(img, args.labels), args.labels)
    names = _label_names(im, args)
    cartilage = im.resolve_label(names, args.cartilage, "cartilage", args.labels)
    bone = im.resolve_label(names, args.bone, "bone", args.labels)
    knee_numbers = None
    if args.regions is not None or args.map:
        if names is None:
            raise InvalidArgument(
                f"{args.labels} carries no label names (no {im.label_names_path(args.labels).name}): --regions and "
                f"--map find the structures by name ({', '.join(REGION_STRUCTURES)}); describe the map with "
                "--label-names FILE (JSON or colour table)")
        knee_numbers = tuple(im.resolve_label(names, s, s, args.labels) for s in REGION_STRUCTURES)
    # Validate everything before anything is written: a failing command leaves no output.
    present = set(im.present_labels(labels)) if numbers is None else set(numbers.tolist())
    for role, value in (("cartilage", cartilage), ("bone", bone)):
        if value not in present:
            what = f" ({names[value]})" if names and value in names else ""
            raise InvalidArgument(f"{args.labels}: the {role} label {value}{what} has no voxel in the map")
    if numbers is not None:
        held = {int(v): n for n, v in enumerate(numbers)}
        spare = iter(n for n in range(255, 0, -1) if n >= len(numbers))
        to_u8 = {v: held[v] if v in held else next(spare, 0) for v in {cartilage, bone, *(knee_numbers or ())}}
    else:
        to_u8 = {v: v for v in {cartilage, bone, *(knee_numbers or ())}}
    knee_labels = tuple(to_u8[v] for v in knee_numbers) if knee_numbers else None
    if knee_labels:
        _knee_side_check(im, args, labels, img.geometry, names, knee_labels, knee_numbers)

    with progress_bar("thickness"):
        res = im.cartilage_thickness(labels, img.geometry.spacing, to_u8[cartilage], to_u8[bone], img.geometry,
                                     include_contact=args.contact)
    lt = table = u = None
    if args.local:
        with progress_bar("local thickness"):
            lt = im.local_thickness(labels == to_u8[cartilage], img.geometry.spacing)
    if args.regions is not None:
        with progress_bar("regional thickness"):
            table = im.regional_thickness_table(labels, img.geometry, side=args.side, knee_labels=knee_labels)
        if numbers is not None:
            table["label"] = [int(numbers[v]) for v in table["label"]]
    if args.map:
        with progress_bar("thickness map"):
            u = im.unrolled_femoral_thickness(labels, img.geometry, args.ml_step, args.angle_step, side=args.side,
                                              knee_labels=knee_labels)

    _write(res["map"].astype(np.float32), img.geometry, args.output)
    t = res["thickness_mm"]
    mean = float(t.mean()) if len(t) else float("nan")
    median = float(np.median(t)) if len(t) else float("nan")
    print(f"wrote {args.output}: {len(t)} surface points, thickness mean {mean:.3f} mm, "
          f"median {median:.3f} mm (nearest-surface method)")
    wrong_labels = not median <= THICKNESS_MEDIAN_LIMIT_MM
    if wrong_labels:
        _warn(f"median thickness {median:.1f} mm is beyond any articular cartilage "
              f"(> {THICKNESS_MEDIAN_LIMIT_MM:g} mm): check that label {cartilage} is cartilage and {bone} its bone "
              "(--label-names, --cartilage, --bone) and the image's units")
    what = names.get(cartilage, f"label {cartilage}") if names else f"label {cartilage}"
    for message in im.thickness_warnings(mean, img.geometry.spacing, what, upper=not wrong_labels):
        _warn(message)
    if lt is not None:
        _write(lt.astype(np.float32), img.geometry, args.local)
        print(f"wrote {args.local}: local thickness, mean {lt[labels == to_u8[cartilage]].mean():.3f} mm")
    if table is not None:
        if args.regions:
            write_csv_atomic(table, args.regions, float_format=float_format(args.precision))
            print(f"wrote {args.regions}")
        else:
            print(table.to_string(float_format=lambda v: f"{v:.3f}"))
        for region, row in table.iterrows():
            if row["points"] > 0:
                for message in im.thickness_warnings(float(row["mean_mm"]), (), str(region)):
                    _warn(message)
    if u is not None:
        im.write_thickness_map(u, args.map)
        print(f"wrote {args.map}: unrolled femoral thickness map {u['map'].shape[0]} (x, {args.ml_step:g} mm) x "
              f"{u['map'].shape[1]} (angle, {args.angle_step:g} deg)")
    return 0


def cmd_phantom(args) -> int:
    im = _imaging()
    from .. import InvalidArgument

    if not (np.isfinite(args.spacing) and args.spacing > 0):
        raise InvalidArgument(f"phantom: --spacing must be a positive voxel size in mm, got {args.spacing:g}")
    if np.isnan(args.snr):
        raise InvalidArgument("phantom: --snr must be a number (0 or less: no noise)")
    out = Path(args.output)
    with progress_bar("phantom") as cb:
        ph = im.make_knee_phantom(spacing_mm=(args.spacing,) * 3, snr=args.snr, seed=args.seed, progress=cb)
    out.mkdir(parents=True, exist_ok=True)
    g = ph["geometry"]
    _write(ph["labels"], g, out / "labels.nii.gz")
    im.write_label_names(out / "labels.nii.gz", im.PYMSKT_LABEL_NAMES)
    _write(ph["image"].astype(np.float32), g, out / "dess.nii.gz")
    _write(ph["echoes"].astype(np.float32), g, out / "mese.nii.gz")
    write_json_atomic(out / "phantom.json",
                      {"te_ms": list(ph["te_ms"]), "t2_ms_per_label": list(ph["t2_ms"]), "spacing_mm": args.spacing,
                       "snr": args.snr, "seed": args.seed}, indent=2)
    print(f"wrote {out}/labels.nii.gz (+ labels.labels.json), dess.nii.gz, mese.nii.gz, phantom.json")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mri", help="knee MRI: NIfTI/NRRD/DICOM, distance maps, metrics, T2, thickness, phantom")
    msub = p.add_subparsers(dest="mri_command", metavar="SUBCOMMAND")
    msub.required = True

    q = msub.add_parser("info", help="header facts of a NIfTI/NRRD file or a DICOM folder (same keys for each)")
    q.add_argument("path")
    add_json(q)
    q.add_argument("--series", default=None, help="the DICOM series to read when the folder holds several "
                   "(SeriesInstanceUID or SeriesDescription; `mri info FOLDER` lists them)")
    q.set_defaults(handler=cmd_info)

    q = msub.add_parser("convert", help="convert between NIfTI and NRRD, or a DICOM folder to NIfTI")
    q.add_argument("src")
    q.add_argument("dst", nargs="?", default=None, help="same as -o/--output")
    add_output(q, "NIfTI or NRRD file to write")
    q.add_argument("--series", default=None, help="the DICOM series to read when the folder holds several "
                   "(SeriesInstanceUID or SeriesDescription; `mri info FOLDER` lists them)")
    q.set_defaults(handler=cmd_convert)

    q = msub.add_parser("edt", help="exact Euclidean distance transform (mm) of a mask or one label")
    q.add_argument("mask")
    q.add_argument("out", nargs="?", default=None, help="same as -o/--output")
    add_output(q, "distance map to write (.nii.gz, .nrrd)")
    q.add_argument("--label", type=int, default=None, help="label value (default: all nonzero)")
    q.set_defaults(handler=cmd_edt)

    q = msub.add_parser("metrics", help="per-label segmentation metrics of two label maps")
    q.add_argument("gt")
    q.add_argument("pred")
    q.add_argument("--labels", type=int, nargs="*", default=None, metavar="L",
                   help="label values to measure (default: every label present)")
    q.add_argument("--label-names", default=None, metavar="FILE",
                   help="names of the labels: JSON {label: name} or a Slicer/ITK-SNAP colour table "
                        "(default: GT's LABELS.labels.json sidecar)")
    q.add_argument("--pred-label-names", default=None, metavar="FILE",
                   help="names of PRED's labels, same formats (default: PRED's sidecar). When both maps have "
                        "names, structures are paired by name and reported in GT's numbers")
    q.add_argument("--tolerance", type=float, default=1.0, help="surface Dice tolerance (mm)")
    add_output(q, "write the table as CSV (default: print it)", aliases=("--out", "--csv"))
    add_precision(q)
    q.set_defaults(handler=cmd_metrics)

    q = msub.add_parser("t2map", aliases=["t2"], help="mono-exponential T2 map of a multi-echo series")
    q.add_argument("src", help="DICOM folder or 4-D NIfTI/NRRD")
    add_output(q, "T2 map (.nii.gz)", required=True)
    q.add_argument("--series", default=None, help="the DICOM series to read when the folder holds several "
                   "(SeriesInstanceUID or SeriesDescription; `mri info FOLDER` lists them)")
    q.add_argument("--te", type=float, nargs="*", default=None, help="echo times (ms) for NIfTI input")
    q.add_argument("--mask", default=None, help="mask file (nonzero = fit)")
    q.add_argument("--threshold", type=float, default=None,
                   help="fit where the shortest echo exceeds this (default: Otsu's threshold of the shortest echo)")
    q.add_argument("--noise-floor", action="store_true", help="add a constant noise-floor term")
    q.set_defaults(handler=cmd_t2map)

    q = msub.add_parser("thickness", help="nearest-surface cartilage thickness map")
    q.add_argument("labels")
    add_output(q, "thickness map to write (.nii.gz, .nrrd)", required=True)
    q.add_argument("--cartilage", default="femoral_cartilage",
                   help="cartilage: a structure name the map's label names hold, or a label number "
                        "(default femoral_cartilage)")
    q.add_argument("--bone", default="femur", help="its bone: a name or a number (default femur)")
    q.add_argument("--label-names", default=None, metavar="FILE",
                   help="names of a map from another tool: JSON {label: name} or a Slicer/ITK-SNAP colour table "
                        "(default: the map's LABELS.labels.json sidecar)")
    q.add_argument("--contact", action="store_true",
                   help="also measure where the cartilage touches the opposing cartilage or a meniscus")
    q.add_argument("--local", default=None, metavar="OUT", help="also write the local thickness map of the cartilage")
    q.add_argument("--regions", nargs="?", const="", default=None, metavar="CSV",
                   help="regional means (femoral M/L x A/C/P, tibial M/L; needs the names femoral_cartilage, "
                        "medial_tibial_cartilage, lateral_tibial_cartilage, femur, tibia): print, or write CSV")
    q.add_argument("--map", default=None, metavar="OUT",
                   help="unrolled femoral thickness map (angle x medial-lateral): .png, .nii[.gz] or .nrrd")
    add_side(q, "auto", auto=True,
             help="knee side for medial/lateral (auto: from the medial/lateral tibial cartilage labels)")
    add_precision(q)
    q.add_argument("--ml-step", type=float, default=1.0, help="map bin width along medial-lateral (mm)")
    q.add_argument("--angle-step", type=float, default=2.0, help="map bin width in angle (deg)")
    q.set_defaults(handler=cmd_thickness)

    q = msub.add_parser("phantom", help="write the knee MRI phantom (labels, DESS-like, multi-echo)")
    add_output(q, "output folder", required=True)
    q.add_argument("--spacing", type=float, default=0.5, help="isotropic voxel size (mm)")
    q.add_argument("--snr", type=float, default=50.0)
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(handler=cmd_phantom)

    register_seg(msub)
