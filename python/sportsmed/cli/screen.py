"""``sportsmed screen``: an athlete's screening report from real inputs (verdict first,
then the evidence), or of the embedded synthetic athlete when no input is given."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..progress import progress_bar


def add_report_outputs(p: argparse.ArgumentParser, default: str) -> None:
    """-o/--output (HTML) and --json [FILE] (the JSON twin), shared by screen and demo."""
    from ._grammar import add_output

    add_output(p, "HTML report to write (default: %(default)s)", default=Path(default), type=Path)
    p.add_argument("--json", nargs="?", const="", default=None, metavar="FILE",
                   help="also write the JSON twin of every number in the report: to FILE, '-' for stdout, "
                        "or beside the HTML (.json) when FILE is left out")


def json_target(args: argparse.Namespace):
    if args.json is None:
        return None
    if args.json == "":
        return args.output.with_suffix(".json")
    return args.json if args.json == "-" else Path(args.json)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen", help="an athlete's screening report: traffic-light verdict, then the evidence",
        description="Screens an athlete from a drop-jump trial (C3D with force plates, or TRC with an OpenSim "
                    "GRF .mot), a knee MRI label map and a training log; every input is optional, and with "
                    "none the embedded synthetic athlete is screened (as `sportsmed demo`). An input that "
                    "cannot give a measure yields a grey 'not assessed' flag with the reason.")
    p.add_argument("--trial", action="append", type=Path, default=[], metavar="FILE",
                   help="drop-jump trial, .c3d or .trc (repeat for several; the verdict grades their mean)")
    p.add_argument("--grf", action="append", type=Path, default=[], metavar="MOT",
                   help="OpenSim GRF .mot of a .trc trial (one per .trc, in order)")
    p.add_argument("--grf-loads", type=Path, default=None, metavar="XML",
                   help="OpenSim ExternalLoads XML saying which foot each force of the .mot acts on")
    body_mass = p.add_argument("--body-mass", dest="mass", type=float, default=None, metavar="KG",
                               help="body mass (default: the C3D's PROCESSING:Bodymass)")
    p._option_string_actions["--mass"] = body_mass  # the older spelling still parses
    p.add_argument("--mri-labels", type=Path, default=None, metavar="FILE",
                   help="knee label map (NIfTI, NRRD, DICOM); names from its .labels.json or --label-names")
    p.add_argument("--mri-image", type=Path, default=None, metavar="FILE",
                   help="the knee image on the label map's grid (shown with the label outlines)")
    p.add_argument("--label-names", type=Path, default=None, metavar="FILE",
                   help="JSON or Slicer/ITK-SNAP colour table naming the label map's labels")
    p.add_argument("--log", type=Path, default=None, metavar="CSV",
                   help="training log: one row per athlete-day with date and daily_load")
    p.add_argument("--athlete-column", default="athlete", metavar="COL",
                   help="the log's athlete column (default: %(default)s)")
    p.add_argument("--missing-days", choices=("zero", "missing"), default=None,
                   help="what an absent day of the log means (asked only when the log has gaps)")
    p.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                   help="grade the training load on this day (default: the log's last day)")
    p.add_argument("--athlete", default=None, metavar="NAME",
                   help="the athlete's name in the title and, in a log of several athletes, whose rows to use")
    p.add_argument("--no-qa", action="store_true",
                   help="leave out the synthetic athlete's checks against its truth (faster)")
    add_report_outputs(p, "screening_report.html")
    p.set_defaults(handler=run)


def write_outputs(report, args: argparse.Namespace) -> None:
    out = report.save(args.output)
    target = json_target(args)
    if target == "-":
        json.dump(report.to_json(), sys.stdout, indent=1, ensure_ascii=False, allow_nan=False)
        sys.stdout.write("\n")
    elif target is not None:
        report.save_json(target)
        print(f"JSON twin written to {target}", file=sys.stderr)
    print(f"report written to {out}", file=sys.stderr if target == "-" else sys.stdout)


def run(args: argparse.Namespace) -> int:
    from ..screen import ScreenInputs, build_screen

    inputs = ScreenInputs(trials=args.trial, grf=args.grf, grf_loads=args.grf_loads, mri_labels=args.mri_labels,
                          mri_image=args.mri_image, label_names=args.label_names, log=args.log,
                          log_athlete_column=args.athlete_column, missing_days=args.missing_days,
                          athlete=args.athlete, mass_kg=args.mass, as_of=args.as_of)
    with progress_bar("screen") as progress:
        report = build_screen(inputs, progress, qa=not args.no_qa)
    write_outputs(report, args)
    return 0
