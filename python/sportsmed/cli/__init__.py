"""The ``sportsmed`` command line.

Subcommands::

    sportsmed --version
    sportsmed info [--json]          build facts (versions, CUDA, threads)
    sportsmed demo [-o report.html]  the athlete screening report on the embedded default
    sportsmed screen [--trial ...]   an athlete's screening report from real inputs
    sportsmed motion ...             motion-capture tools   (pillar: motion)
    sportsmed mri ...                knee MRI tools         (pillars: imaging, seg)
    sportsmed risk ...               injury-risk tools      (pillar: risk)
    sportsmed cohort ...             whole studies on Dask, the squad report
    sportsmed deid IN -o OUT         de-identify DICOM/C3D/NIfTI/TRC/CSV before sharing

Every subcommand speaks one grammar (``cli/_grammar.py``): ``-o/--output`` for what it
writes, ``--json`` on every ``info``, ``--precision N`` where it writes CSV;
``--progress none|bar|log`` (before the subcommand) chooses how long work is shown.

Exit codes: 0 success, 1 a sportsmed error (bad file, bad argument), 2 usage error,
69 (EX_UNAVAILABLE) the requested pillar is not part of this build, 141 (128 + SIGPIPE)
the reader of the output went away (``sportsmed ... | head``), quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from .. import Error, __version__
from .._pillars import PillarNotAvailable
from .. import progress
from . import _grammar, cohort, deid, demo, info, motion, mri, risk, screen

EXIT_ERROR = 1
EXIT_UNAVAILABLE = 69
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sportsmed",
        description="Sports-medicine analysis: motion capture, knee MRI and injury risk.",
    )
    parser.add_argument("--version", action="version", version=f"sportsmed {__version__}")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="threads for compiled kernels (default: all cores)")
    parser.add_argument("--progress", choices=progress.MODES, default=None,
                        help="how the progress of long work is shown on stderr: a bar, a log line every few "
                             "seconds, or nothing "
                             "(default: bar on a terminal, log otherwise)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (info, demo, screen, motion, mri, risk, cohort, deid):
        module.register(sub)
    _grammar.normalise(parser)
    return parser


def _signed_axis_values(argv: list) -> list:
    """``--vertical-axis -z`` as ``--vertical-axis=-z``: argparse takes a value that starts
    with '-' for an option and would say the option lacks its argument."""
    out = []
    for i, a in enumerate(argv):
        if i and argv[i - 1] == "--vertical-axis" and a in ("-x", "-y", "-z") and out:
            out[-1] = f"--vertical-axis={a}"
        else:
            out.append(a)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(_signed_axis_values(sys.argv[1:] if argv is None else list(argv)))
    if args.threads is not None:
        from .. import set_num_threads

        set_num_threads(args.threads)
    previous = progress.get_mode()
    progress.set_mode(args.progress or progress.default_mode())
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do. Point stdout at
        # /dev/null so that the interpreter's final flush does not complain either.
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except PillarNotAvailable as exc:
        print(f"sportsmed {args.command}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (Error, OSError) as exc:
        print(f"sportsmed {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        progress.set_mode(previous)  # main() called in a Python session leaves the library default


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
