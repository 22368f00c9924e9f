"""The benchmark runner executes each case against its peer and writes the table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_runner_writes_results_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "-k", "nanmean",
                        "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.startswith("# Benchmark results")
    assert re.search(r"^Machine: .+ logical CPUs; Python 3\.\d+", text, re.M)
    rows = [line for line in text.splitlines() if line.startswith("| nanmean")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1].startswith("numpy")
        assert re.fullmatch(r"\d+\.\d\d×", cells[5])
    assert not list(tmp_path.glob("*.tmp"))
