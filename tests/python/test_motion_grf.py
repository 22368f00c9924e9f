"""Ground reactions of a marker-only trial from an OpenSim GRF .mot (issue 18 item 11)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def test_attach_grf_mot_places_each_force_on_its_foot(shared_data):
    trc = motion.read_trc(str(shared_data("motion/opensim/subject01_walk1.trc")))
    mot_path = shared_data("motion/opensim/subject01_walk1_grf.mot")
    loads = shared_data("motion/opensim/subject01_walk1_grf.xml")
    out = motion.attach_grf_mot(trc, mot_path, external_loads=loads)
    mot = motion.read_mot(str(mot_path))
    time = mot.column("time")
    # The .mot is 600 Hz over the 60 Hz markers: ten samples a frame, at the .mot's own times.
    assert out.analog_rate_hz == pytest.approx(600.0)
    assert out.analog_labels == ["Fz_L", "Fz_R"] and out.analogs.shape == (10 * trc.n_frames, 2)
    t = trc.times_s[0] + np.arange(out.analogs.shape[0]) / 600.0
    # The XML applies ground_force_* to calcn_r and 1_ground_force_* to calcn_l; OpenSim is y-up.
    ref = lambda name: np.interp(t, time, mot.column(name), left=0.0, right=0.0)  # noqa: E731
    np.testing.assert_allclose(out.analogs[:, 1], ref("ground_force_vy"), atol=1e-9)
    np.testing.assert_allclose(out.analogs[:, 0], ref("1_ground_force_vy"), atol=1e-9)
    # The TRC's last frame (2.5 s) carries nine samples past the .mot's end: said, and 0.
    assert any("lie outside it" in w for w in out.warnings)
    # The markers are untouched; the source is recorded.
    np.testing.assert_array_equal(out.points, trc.points)
    assert any("subject01_walk1_grf.mot" in w for w in out.warnings)
    # An explicit assignment gives the same; a .mot whose stems name no side is refused.
    same = motion.attach_grf_mot(trc, mot_path, assignment={"ground_force_v": "R", "1_ground_force_v": "L"})
    np.testing.assert_array_equal(same.analogs, out.analogs)
    with pytest.raises(sportsmed.InvalidArgument, match="which foot"):
        motion.attach_grf_mot(trc, mot_path)


def test_drop_jump_on_markers_only_says_what_is_missing(shared_data):
    dj = shared_data("motion/addbiomechanics/DJ1.trc")
    trial = motion.read_trc(str(dj))
    with pytest.raises(sportsmed.InvalidArgument, match="ground reaction forces.*Fz_L.*--grf"):
        motion.trial_features(trial, "drop_jump", 70.0)
    r = subprocess.run([sys.executable, "-m", "sportsmed", "motion", "features", str(dj), "--task", "drop_jump",
                        "--body-mass", "70"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "ground reaction forces" in r.stderr and "--grf" in r.stderr
    assert "no point or analog rate" not in r.stderr and "Traceback" not in r.stderr
