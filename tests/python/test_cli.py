"""The installed `sportsmed` console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import sportsmed
from sportsmed.cli import EXIT_UNAVAILABLE


def run(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("sportsmed", path=os.path.dirname(sys.executable)) or shutil.which("sportsmed")
    assert exe, "the sportsmed console script is not installed next to this Python"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"sportsmed {sportsmed.__version__}"


def test_info_json_matches_build_info():
    r = run("--threads", "2", "info", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    expected = sportsmed.build_info()
    for key in ("version", "torch_version", "cuda_available", "eigen_version"):
        assert info[key] == expected[key]
    assert info["num_threads"] == 2
    assert set(info["pillars"]) == set(sportsmed.PILLARS)


def test_info_text_lists_versions():
    r = run("info")
    assert r.returncode == 0
    assert f"version" in r.stdout and sportsmed.__version__ in r.stdout
    assert sportsmed.build_info()["torch_version"] in r.stdout


@pytest.mark.parametrize("command, pillar", [("motion", "motion"), ("mri", "imaging"), ("risk", "risk")])
def test_unbuilt_pillar_says_so_and_fails(command, pillar):
    if pillar in sportsmed.available_pillars():
        pytest.skip(f"{pillar} is built")
    r = run(command, "anything", "--flag")
    assert r.returncode == EXIT_UNAVAILABLE
    assert f"the {pillar} pillar" in r.stderr and "not part of sportsmed" in r.stderr
    assert r.stdout == ""


def test_demo_without_pillars_fails_plainly(tmp_path):
    if sportsmed.available_pillars():
        pytest.skip("a pillar is built: the demo has content")
    out = tmp_path / "r.html"
    r = run("demo", "-o", str(out))
    assert r.returncode == EXIT_UNAVAILABLE
    assert "needs at least one pillar" in r.stderr
    assert not out.exists()


def test_usage_error_exits_2():
    r = run("no-such-command")
    assert r.returncode == 2
