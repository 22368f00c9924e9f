"""``sportsmed demo``: the screening report of the embedded synthetic athlete."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..demo import run_demo
from ..progress import progress_bar


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="build the athlete screening report on the embedded default")
    p.add_argument("-o", "--out", type=Path, default=Path("sportsmed_demo_report.html"),
                   help="HTML report to write (default: %(default)s)")
    p.add_argument("--workdir", type=Path, default=None,
                   help="folder for the generated data (default: a temporary folder)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="sportsmed-demo-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with progress_bar("demo") as progress:
            out = run_demo(args.out, workdir, progress)
    print(f"report written to {out}")
    return 0
