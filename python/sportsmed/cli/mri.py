"""``sportsmed mri``: placeholder until the imaging and seg pillar(s) land."""

from __future__ import annotations

import argparse

from ._unavailable import register_unavailable


def register(sub: argparse._SubParsersAction) -> None:
    register_unavailable(sub, "mri", ["imaging", "seg"])
