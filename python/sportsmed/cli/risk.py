"""``sportsmed risk``: placeholder until the risk pillar(s) land."""

from __future__ import annotations

import argparse

from ._unavailable import register_unavailable


def register(sub: argparse._SubParsersAction) -> None:
    register_unavailable(sub, "risk", ["risk"])
