"""The ``sportsmed`` command line.

Subcommands::

    sportsmed --version
    sportsmed info [--json]          build facts (versions, CUDA, threads)
    sportsmed demo [-o report.html]  the athlete screening report on the embedded default
    sportsmed motion ...             motion-capture tools   (pillar: motion)
    sportsmed mri ...                knee MRI tools         (pillars: imaging, seg)
    sportsmed risk ...               injury-risk tools      (pillar: risk)
    sportsmed deid IN -o OUT         de-identify DICOM/C3D/NIfTI/TRC/CSV before sharing

Exit codes: 0 success, 1 a sportsmed error (bad file, bad argument), 2 usage error,
69 (EX_UNAVAILABLE) the requested pillar is not part of this build.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .. import Error, __version__
from .._pillars import PillarNotAvailable
from . import deid, demo, info, motion, mri, risk

EXIT_ERROR = 1
EXIT_UNAVAILABLE = 69


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sportsmed",
        description="Sports-medicine analysis: motion capture, knee MRI and injury risk.",
    )
    parser.add_argument("--version", action="version", version=f"sportsmed {__version__}")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="threads for compiled kernels (default: all cores)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (info, demo, motion, mri, risk, deid):
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads is not None:
        from .. import set_num_threads

        set_num_threads(args.threads)
    try:
        return int(args.handler(args) or 0)
    except PillarNotAvailable as exc:
        print(f"sportsmed {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (Error, OSError) as exc:
        print(f"sportsmed {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
