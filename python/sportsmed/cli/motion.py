"""``sportsmed motion``: read a trial, compute angles, compute drop-jump features."""

from __future__ import annotations

import argparse
import json
import sys

from .._pillars import require_pillar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("motion", help="motion capture: C3D/TRC/MOT, joint angles, drop-jump features")
    msub = p.add_subparsers(dest="motion_command", metavar="ACTION")
    msub.required = True

    r = msub.add_parser("read", help="summary of a C3D, TRC or MOT file")
    r.add_argument("path")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.set_defaults(handler=_read)

    a = msub.add_parser("angles", help="Plug-in Gait hip/knee/ankle angles from stored segment axes (C3D)")
    a.add_argument("path")
    a.add_argument("--side", choices=["L", "R"], default="L")
    a.add_argument("-o", "--out", default=None, help="CSV to write (default: stdout)")
    a.set_defaults(handler=_angles)

    f = msub.add_parser("features", help="drop-vertical-jump features (the synthetic athlete unless a seed is given)")
    f.add_argument("--seed", type=int, default=1, help="seed of the synthetic drop jump")
    f.add_argument("--valgus", type=float, default=8.0, help="prescribed peak knee valgus (deg)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(handler=_features)


def _read(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    path = args.path
    low = path.lower()
    if low.endswith(".c3d"):
        c = motion.read_c3d(path)
        t = c.trial
        info = {"format": "c3d", "processor": c.processor, "float_storage": c.float_storage,
                "frames": t.n_frames, "markers": t.n_markers, "point_rate_hz": t.point_rate_hz,
                "first_frame": t.first_frame, "analog_channels": len(t.analog_labels),
                "analog_rate_hz": t.analog_rate_hz, "events": len(t.events), "warnings": list(c.warnings)}
    elif low.endswith(".trc"):
        t = motion.read_trc(path)
        info = {"format": "trc", "frames": t.n_frames, "markers": t.n_markers, "point_rate_hz": t.point_rate_hz,
                "units": t.point_units}
    elif low.endswith((".mot", ".sto")):
        m = motion.read_mot(path)
        info = {"format": "mot", "rows": int(m.data.shape[0]), "columns": list(m.labels), "in_degrees": m.in_degrees}
    else:
        print(f"sportsmed motion read: '{path}' is not .c3d, .trc, .mot or .sto", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(info))
    else:
        for k, v in info.items():
            print(f"{k}: {v}")
    return 0


def _angles(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    t = motion.read_c3d(args.path).trial
    df = motion.angles_frame(motion.plugin_gait_angles_from_axes(t, args.side), t.point_rate_hz, t.first_frame)
    if args.out:
        df.to_csv(args.out)
    else:
        sys.stdout.write(df.to_csv())
    return 0


def _features(args: argparse.Namespace) -> int:
    require_pillar("motion")
    from .. import motion

    res = motion.drop_jump_analysis(motion.synthesize_drop_jump(seed=args.seed, knee_valgus_peak_deg=args.valgus))
    feats = res["features"]
    if args.json:
        print(json.dumps({row.feature: {"value": row.value, "unit": row.unit} for row in feats.itertuples()}))
    else:
        sys.stdout.write(feats.to_string(index=False) + "\n")
    return 0
