"""``sportsmed motion``: placeholder until the motion pillar(s) land."""

from __future__ import annotations

import argparse

from ._unavailable import register_unavailable


def register(sub: argparse._SubParsersAction) -> None:
    register_unavailable(sub, "motion", ["motion"])
