"""`pip wheel` gives a wheel that installs and imports in a second, fresh venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import sportsmed

REPO = Path(__file__).resolve().parents[2]


def test_wheel_installs_in_a_fresh_venv(tmp_path):
    env = dict(os.environ)  # SPORTSMED_BUILD_DIR (set by scripts/test.sh) reuses the build
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                    "--no-index", "--disable-pip-version-check", "-q", "-w", str(wheels), str(REPO)],
                   check=True, env=env, timeout=1800)
    (wheel,) = wheels.glob("sportsmed-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("_core", "_torch"):
        assert any(n.startswith(f"sportsmed/{module}.") and n.endswith(".so") for n in names), module
    for required in ("sportsmed/py.typed", "sportsmed/_core/__init__.pyi", "sportsmed/_torch/__init__.pyi",
                     "sportsmed/cli/__init__.py"):
        assert required in names

    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "-q", str(wheel)], check=True)
    out = subprocess.run([str(venv / "bin/python"), "-c",
                          "import json, sportsmed; print(json.dumps([sportsmed.__file__, sportsmed.build_info()]))"],
                         check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    where, info = json.loads(out)
    assert Path(where).is_relative_to(venv)
    assert info["version"] == sportsmed.__version__
    assert info["torch_version"] == sportsmed.build_info()["torch_version"]
    r = subprocess.run([str(venv / "bin/sportsmed"), "--version"], capture_output=True, text=True)
    assert r.stdout.strip() == f"sportsmed {sportsmed.__version__}"
