"""Registers the subcommand of a pillar that has not landed: it says so and exits 69."""

from __future__ import annotations

import argparse

from .._pillars import PILLARS, require_pillar


def register_unavailable(sub: argparse._SubParsersAction, command: str, pillars: list[str]) -> None:
    what = "; ".join(PILLARS[p][1] for p in pillars)
    p = sub.add_parser(command, help=f"{what} [not in this build yet]")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(args: argparse.Namespace) -> int:
        for name in pillars:
            require_pillar(name)  # raises PillarNotAvailable with the plain message
        return 0

    p.set_defaults(handler=run)
