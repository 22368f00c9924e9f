"""``sportsmed demo``: the screening report of the embedded synthetic athlete (the same
code path as ``sportsmed screen`` with no input, with the checks against its truth)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..progress import progress_bar
from .screen import add_report_outputs, write_outputs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the athlete screening report on the embedded default")
    add_report_outputs(p, "sportsmed_demo_report.html")
    p.add_argument("--workdir", type=Path, default=None,
                   help="folder for the generated data (default: a temporary folder)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..screen import build_screen

    with tempfile.TemporaryDirectory(prefix="sportsmed-demo-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with progress_bar("demo") as progress:
            report = build_screen(progress=progress, qa=True, workdir=workdir)
    write_outputs(report, args)
    return 0
