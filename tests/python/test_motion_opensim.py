"""Marker-based hip and knee flexion against OpenSim's inverse kinematics (gait2392 example)."""

from __future__ import annotations

import numpy as np
import pytest

from sportsmed import motion


def test_hip_and_knee_flexion_against_opensim_ik(shared_data):
    static = motion.read_trc(str(shared_data("motion/opensim/subject01_static.trc")))
    walk = motion.read_trc(str(shared_data("motion/opensim/subject01_walk1.trc")))
    ik = motion.read_mot(str(shared_data("motion/opensim/subject01_walk1_ik.mot")))
    model = motion.cluster_model_from_static(static)
    t_ik = ik.column("time")
    sel = (t_ik >= 0.5) & (t_ik <= 2.5)  # the TRC ends at 2.5 s
    t_trc = (walk.first_frame - 1 + np.arange(walk.n_frames)) / walk.point_rate_hz
    for side, lab in (("R", "r"), ("L", "l")):
        ang = motion.hip_knee_angles(walk, model, side)
        hip = np.interp(t_ik[sel], t_trc, ang[:, 0])
        knee = np.interp(t_ik[sel], t_trc, ang[:, 3])
        d_hip = hip - ik.column(f"hip_flexion_{lab}")[sel]
        d_knee = knee + ik.column(f"knee_angle_{lab}")[sel]  # OpenSim: knee flexion negative
        # Hip flexion meets the 5 degree target. Knee flexion carries a constant offset of
        # 5-7 degrees (the model's tibia axis differs from the malleoli-based one); its shape
        # agrees within 3 degrees once that offset is removed.
        assert np.sqrt(np.mean(d_hip ** 2)) <= 5.0
        assert np.std(d_knee) <= 3.0
        assert np.sqrt(np.mean(d_knee ** 2)) <= 8.0


def test_drop_jump_hip_and_knee_against_expert_ik(shared_data):
    static = motion.read_trc(str(shared_data("motion/addbiomechanics/static1.trc")))
    dj = motion.read_trc(str(shared_data("motion/addbiomechanics/DJ1.trc")))
    ik = motion.read_mot(str(shared_data("motion/addbiomechanics/DJ1_ik.mot")))
    model = motion.cluster_model_from_static(static, motion.ADDBIO_MARKERS)
    t_ik = ik.column("time")  # the landing window, 0.96-1.90 s
    t_trc = (dj.first_frame - 1 + np.arange(dj.n_frames)) / dj.point_rate_hz
    for side, lab in (("R", "r"), ("L", "l")):
        ang = motion.hip_knee_angles(dj, model, side)
        d_knee = np.interp(t_ik, t_trc, ang[:, 3]) - ik.column(f"knee_angle_{lab}")  # flexion positive here
        d_hip = np.interp(t_ik, t_trc, ang[:, 0]) - ik.column(f"hip_flexion_{lab}")
        # Knee flexion (about 95 degrees of range) meets the 5 degree target. Hip flexion is
        # offset by 6-8 degrees (the model's pelvis is tilted against the ASIS-PSIS plane)
        # and follows the reference within 2 degrees once the offset is removed.
        assert np.sqrt(np.mean(d_knee ** 2)) <= 5.0
        assert np.std(d_hip) <= 2.0
        assert np.sqrt(np.mean(d_hip ** 2)) <= 9.0


def test_static_model_joint_centres_return_the_calibration_landmarks(shared_data):
    static = motion.read_trc(str(shared_data("motion/opensim/subject01_static.trc")))
    model = motion.cluster_model_from_static(static)
    names = motion.GAIT2392_MARKERS["L"]
    centres = motion.model_joint_centres(static, model, "L", cutoff_hz=6.0)
    # On the static trial the fitted knee and ankle centres are the epicondyle and malleolus
    # midpoints used to calibrate the model (up to marker wobble), and the thigh length is kept.
    mid = lambda a, b: 0.5 * (np.nanmean(static.marker(names[a]), 0) + np.nanmean(static.marker(names[b]), 0))  # noqa: E731
    knee, ankle = mid("knee_lat", "knee_med"), mid("ankle_lat", "ankle_med")
    assert np.linalg.norm(np.nanmean(centres[:, 3:6], 0) - knee) < 3.0
    assert np.linalg.norm(np.nanmean(centres[:, 6:9], 0) - ankle) < 3.0
    thigh = np.linalg.norm(model[1].proximal_joint_mm)
    assert np.nanmean(np.linalg.norm(centres[:, 0:3] - centres[:, 3:6], axis=1)) == pytest.approx(thigh, abs=1e-6)
