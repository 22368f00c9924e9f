"""``sportsmed info``: what this build is made of."""

from __future__ import annotations

import argparse
import json

from .. import build_info
from .._pillars import PILLARS, available_pillars


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print versions, CUDA availability, threads and pillars")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    info = dict(build_info())
    built = available_pillars()
    info["pillars"] = {name: name in built for name in PILLARS}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "pillars":
            value = ", ".join(f"{n} ({'yes' if ok else 'not yet'})" for n, ok in value.items())
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{key.replace('_', ' '):<{width}}  {value}")
    return 0
