"""One grammar for every ``sportsmed`` subcommand.

The options that several subcommands share are declared here, once, so that they are
spelled and behave the same everywhere:

``-o/--output``
    The file (or folder) a command writes. ``--out`` (and a command's older spelling, such
    as ``mri metrics --csv``) still parse as hidden aliases, so existing scripts keep
    working; the help shows ``-o/--output`` only.
``--json``
    Machine-readable output of every ``info`` (and of the commands that print a summary).
``--precision N``
    Significant digits of the floating-point numbers a command writes as CSV. The default,
    :data:`DEFAULT_PRECISION` = 7, is the resolution of the float32 samples that C3D, TRC
    and NIfTI files hold (24-bit mantissa: 7.2 decimal digits), so no digit the data carry
    is lost while the noise digits 8-17 of float64 arithmetic are dropped; ``0`` writes
    every digit (shortest round trip of the float64 value).
``--side``
    ``L``/``R`` or ``left``/``right`` (any case), read by :func:`side` into one spelling.
"""

from __future__ import annotations

import argparse
from typing import Optional

#: Significant digits of CSV floats by default (float32 resolution, see the module doc).
DEFAULT_PRECISION = 7


def add_output(p: argparse.ArgumentParser, help: str, required: bool = False, default=None, type=None,
               aliases: tuple = ("--out",), metavar: Optional[str] = None) -> argparse.Action:
    """Adds ``-o/--output`` (``args.output``) with hidden aliases that parse the same."""
    action = p.add_argument("-o", "--output", dest="output", required=required, default=default, type=type,
                            help=help, metavar=metavar)
    for alias in aliases:
        p._option_string_actions[alias] = action  # parses as -o, absent from the help
    return action


def _precision(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of significant digits, got {text!r}") from None
    if not 0 <= n <= 17:
        raise argparse.ArgumentTypeError(f"expected 1..17 significant digits (0: all), got {n}")
    return n


def body_mass_kg(text: str) -> float:
    """argparse type of a body mass: a positive, finite number of kilograms."""
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a body mass in kg, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"a body mass must be a positive number of kilograms, got {text}")
    return v


def add_precision(p: argparse.ArgumentParser) -> None:
    """Adds ``--precision N`` (``args.precision``) to a command that writes CSV."""
    p.add_argument("--precision", type=_precision, default=DEFAULT_PRECISION, metavar="N",
                   help="significant digits of the numbers written (default %(default)s: the float32 resolution "
                        "of C3D/TRC/NIfTI samples; 0: every digit)")


def float_format(precision: Optional[int]) -> Optional[str]:
    """The ``DataFrame.to_csv`` float format of ``--precision`` (None: every digit)."""
    if not precision:
        return None
    return f"%.{int(precision)}g"


def add_json(p: argparse.ArgumentParser, help: str = "print as JSON") -> None:
    p.add_argument("--json", action="store_true", help=help)


_SIDES = {"l": "L", "left": "L", "r": "R", "right": "R"}


def side(text: str) -> str:
    """``L``/``left``/``R``/``right`` in any case → ``L`` or ``R``."""
    try:
        return _SIDES[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected L, R, left or right, got {text!r}") from None


def side_or_auto(text: str) -> str:
    """:func:`side`, or ``auto``; spelled ``left``/``right``/``auto`` (the imaging API's words)."""
    if text.strip().lower() == "auto":
        return "auto"
    return {"L": "left", "R": "right"}[side(text)]


def add_side(p: argparse.ArgumentParser, default: str, auto: bool = False, help: str = "") -> None:
    """Adds ``--side`` taking L/R/left/right (and ``auto`` where the command can tell)."""
    words = "{L,R,left,right" + (",auto}" if auto else "}")
    p.add_argument("--side", type=side_or_auto if auto else side, default=default, metavar=words,
                   help=help + f" (default: {default})")


def normalise(parser: argparse.ArgumentParser) -> None:
    """Brings every subcommand in ``parser``'s tree to the shared grammar: an output option
    spelled ``-o/--out`` (the older spelling, still used by a subcommand registered
    elsewhere) is shown as ``-o/--output``; ``--out`` keeps parsing."""
    for sub in parsers(parser):
        for action in list(sub._actions):
            strings = action.option_strings
            if "--out" in strings and "--output" not in strings and "--output" not in sub._option_string_actions:
                action.option_strings = [s for s in strings if s != "--out"] + ["--output"]
                if "-o" not in action.option_strings and "-o" not in sub._option_string_actions:
                    action.option_strings.insert(0, "-o")
                    sub._option_string_actions["-o"] = action
                sub._option_string_actions["--output"] = action


def parsers(parser: argparse.ArgumentParser, path: tuple = ()):
    """Every parser of the tree below ``parser`` (itself included), depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen = set()
            for name, child in action.choices.items():
                if id(child) in seen:  # an alias (t2 of t2map)
                    continue
                seen.add(id(child))
                yield from parsers(child, path + (name,))


def leaf_commands(parser: argparse.ArgumentParser, path: tuple = ()):
    """``(command words, parser)`` of every runnable subcommand (no subcommands below)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for action in subs:
        seen = set()
        for name, child in action.choices.items():
            if id(child) in seen:
                continue
            seen.add(id(child))
            yield from leaf_commands(child, path + (name,))
