#!/usr/bin/env python3
"""Runs every benchmark against its peer and regenerates benchmarks/RESULTS.md.

    /usr/bin/python3 benchmarks/run.py            # all, writes benchmarks/RESULTS.md
    /usr/bin/python3 benchmarks/run.py -k nanmean # only matching cases
    /usr/bin/python3 benchmarks/run.py --quick -o /tmp/r.md

Needs the installed sportsmed package (the README's test command installs it in .venv).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import machine_line, results_markdown, run_case, run_memory_case  # noqa: E402


def load_cases():
    cases, memory = [], []
    NOTES.clear()
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        cases += module.CASES
        memory += getattr(module, "MEMORY", [])
        if getattr(module, "NOTES", ""):
            NOTES[module.NOTES] = [c.name for c in module.CASES]
    return cases, memory


#: markdown a benchmark module adds below the tables (``NOTES``) -> the names of its cases
NOTES: dict[str, list[str]] = {}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", default="", help="run only cases whose name contains this text")
    ap.add_argument("-o", "--output", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--quick", action="store_true", help="one short round per side (smoke test)")
    args = ap.parse_args(argv)

    all_cases, all_memory = load_cases()
    cases = [c for c in all_cases if args.k in c.name]
    memory_cases = [] if args.quick else [m for m in all_memory if args.k in m.name]
    results = []
    for i, case in enumerate(cases, 1):
        print(f"[{i}/{len(cases)}] {case.name} vs {case.peer} ...", flush=True)
        r = run_case(case, repeat=1 if args.quick else 5, min_round_s=0.01 if args.quick else 0.2)
        print(f"    speed-up {r.speedup:.2f}x", flush=True)
        results.append(r)

    memory = []
    for case in memory_cases:
        print(f"[memory] {case.name} vs {case.peer} ...", flush=True)
        m = run_memory_case(case)
        print(f"    ratio {m.ratio:.2f}x", flush=True)
        memory.append(m)

    ran = {r.case.name for r in results}
    notes = [text for text, names in NOTES.items() if ran & set(names)]
    text = results_markdown(results, machine_line(), memory, notes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.output.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
