"""Benchmark harness: each case runs our kernel and its named peer in the same process.

A benchmark module ``benchmarks/bench_<topic>.py`` defines ``CASES``, a list of
:class:`Case`. For every case the runner first checks that both sides agree (so that a
fast wrong answer never counts), then times each side as the best of ``repeat`` rounds,
and reports the speed-up ``peer time / our time`` (above 1: sportsmed is faster).
Timings are recorded, never asserted: machines are noisy.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass
class Case:
    name: str                      #: what is computed, with the input size
    peer: str                      #: the tool users would pick instead, e.g. "numpy 1.24 nanmean"
    setup: Callable[[], Any]       #: builds the input once (not timed)
    ours: Callable[[Any], Any]     #: sportsmed call on the input
    theirs: Callable[[Any], Any]   #: peer call on the same input
    agree: Callable[[Any, Any], None]  #: raises AssertionError if the outputs differ
    threads: Optional[int] = None  #: sportsmed threads for this case (None: default)
    repeat: Optional[int] = None   #: rounds (None: the runner's default); long cases use 1
    #: the callables return their own per-operation time in seconds (when setup work
    #: inside the call must not be timed); they are then called once per round
    reported: bool = False


@dataclass
class MemoryCase:
    """Peak memory of one statement per side, each in a fresh Python process."""

    name: str
    peer: str
    setup: str    #: Python code run first (not measured)
    ours: str     #: statement measured for sportsmed
    theirs: str   #: statement measured for the peer


@dataclass
class MemoryResult:
    case: MemoryCase
    ours_bytes: int
    peer_bytes: int

    @property
    def ratio(self) -> float:
        return self.ours_bytes / self.peer_bytes


@dataclass
class Result:
    case: Case
    ours_s: float
    peer_s: float

    @property
    def speedup(self) -> float:
        return self.peer_s / self.ours_s


def best_time(fn: Callable[[], Any], repeat: int, min_round_s: float) -> float:
    """Best per-call time over ``repeat`` rounds of enough calls to last ``min_round_s``."""
    number = 1
    while True:  # calibrate calls per round
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_round_s or number >= 1 << 20:
            break
        number *= 2 if elapsed <= 0 else max(2, int(min_round_s / elapsed) + 1)
    best = elapsed / number
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def run_case(case: Case, repeat: int = 5, min_round_s: float = 0.2) -> Result:
    import sportsmed

    saved = sportsmed.num_threads()
    if case.threads is not None:
        sportsmed.set_num_threads(case.threads)
    repeat = min(repeat, case.repeat) if case.repeat else repeat
    try:
        data = case.setup()
        first_ours, first_theirs = case.ours(data), case.theirs(data)
        case.agree(first_ours, first_theirs)
        if case.reported:
            ours = min([first_ours] + [case.ours(data) for _ in range(repeat - 1)])
            peer = min([first_theirs] + [case.theirs(data) for _ in range(repeat - 1)])
        else:
            ours = best_time(lambda: case.ours(data), repeat, min_round_s)
            peer = best_time(lambda: case.theirs(data), repeat, min_round_s)
    finally:
        sportsmed.set_num_threads(saved)
    return Result(case, ours, peer)


_MEMORY_PROBE = """
import resource, sys
{setup}
def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = _rss_kib("VmRSS:")
{statement}
print("PEAK_DELTA_KIB", _rss_kib("VmHWM:") - before)
"""


def run_memory_case(case: MemoryCase) -> MemoryResult:
    """Runs each side in a fresh interpreter; reports the peak RSS increase in bytes."""
    import subprocess
    import sys

    def measure(statement: str) -> int:
        code = _MEMORY_PROBE.format(setup=case.setup, statement=statement)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        line = [ln for ln in out.splitlines() if ln.startswith("PEAK_DELTA_KIB")][-1]
        return int(line.split()[1]) * 1024

    return MemoryResult(case, measure(case.ours), measure(case.theirs))


def machine_line() -> str:
    import numpy
    import sportsmed

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = sportsmed.build_info()
    return (f"{cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}; sportsmed {info['version']} ({info['compiler']}, "
            f"LibTorch {info['torch_version']}); {_dt.date.today().isoformat()}")


def _fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_bytes(n: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def results_markdown(results: list[Result], machine: str, memory: Optional[list[MemoryResult]] = None,
                     notes: Optional[list[str]] = None) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/run.py`; do not edit by hand. Each row runs sportsmed and",
        "the named peer in the same process on the same input, after checking that both",
        "give the same answer. Times are the best of several rounds; speed-up is",
        "peer time / sportsmed time (above 1: sportsmed is faster).",
        "",
        f"Machine: {machine}",
        "",
        "| benchmark | peer | threads | sportsmed | peer | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        threads = r.case.threads if r.case.threads is not None else "default"
        lines.append(f"| {r.case.name} | {r.case.peer} | {threads} | {_fmt_time(r.ours_s)} | "
                     f"{_fmt_time(r.peer_s)} | {r.speedup:.2f}× |")
    if memory:
        lines += [
            "",
            "Peak memory: increase of the process's peak resident set while running the",
            "operation, each side in a fresh process; ratio = sportsmed / peer (below 1: less).",
            "",
            "| benchmark | peer | sportsmed | peer | ratio |",
            "|---|---|---|---|---|",
        ]
        for m in memory:
            lines.append(f"| {m.case.name} | {m.case.peer} | {_fmt_bytes(m.ours_bytes)} | "
                         f"{_fmt_bytes(m.peer_bytes)} | {m.ratio:.2f}× |")
    for note in notes or []:
        lines += ["", note.strip()]
    return "\n".join(lines) + "\n"
