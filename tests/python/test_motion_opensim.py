"""Marker-based hip and knee flexion against OpenSim's inverse kinematics (gait2392 example)."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def _flexion_errors(trial, model, ik, times, knee_sign):
    """(hip, knee) flexion differences to the IK reference at ``times``, per side R, L."""
    t_trc = (trial.first_frame - 1 + np.arange(trial.n_frames)) / trial.point_rate_hz
    out = {}
    for side, lab in (("R", "r"), ("L", "l")):
        ang = motion.hip_knee_angles(trial, model, side)
        t_ik = ik.column("time")
        sel = np.isin(t_ik, times)
        out[side] = (np.interp(times, t_trc, ang[:, 0]) - ik.column(f"hip_flexion_{lab}")[sel],
                     np.interp(times, t_trc, ang[:, 3]) - knee_sign * ik.column(f"knee_angle_{lab}")[sel])
    return out


def _rmse(d):
    return float(np.sqrt(np.mean(d ** 2)))


def _asis_line_elevation_deg(trial, names, times):
    """Elevation (degrees, anterior end up) of the sacrum → mid-ASIS line; the TRCs are y-up."""
    sacral = names["SACR"] if isinstance(names["SACR"], (list, tuple)) else [names["SACR"]]
    line = 0.5 * (trial.marker(names["LASI"]) + trial.marker(names["RASI"])) - np.mean(
        [trial.marker(label) for label in sacral], axis=0)
    elev = np.degrees(np.arctan2(line[:, 1], np.hypot(line[:, 0], line[:, 2])))
    t_trc = (trial.first_frame - 1 + np.arange(trial.n_frames)) / trial.point_rate_hz
    return np.interp(times, t_trc, elev)


def test_hip_and_knee_flexion_against_opensim_ik(shared_data):
    static = motion.read_trc(str(shared_data("motion/opensim/subject01_static.trc")))
    walk = motion.read_trc(str(shared_data("motion/opensim/subject01_walk1.trc")))
    ik = motion.read_mot(str(shared_data("motion/opensim/subject01_walk1_ik.mot")))
    t_ik = ik.column("time")
    times = t_ik[(t_ik >= 0.5) & (t_ik <= 2.5)]  # the TRC ends at 2.5 s
    # With gait2392's own pelvis (its hip joint centre and pelvis x axis placed on the ASIS and
    # V.Sacral markers as the model carries them) hip and knee flexion meet the 5 degree target
    # (measured: hip 2.9 / 2.4, knee 3.3 / 2.0 degrees RMSE, right / left). OpenSim's knee angle
    # is negative in flexion.
    model = motion.cluster_model_from_static(static, convention="gait2392")
    for side, (d_hip, d_knee) in _flexion_errors(walk, model, ik, times, -1.0).items():
        assert _rmse(d_hip) <= 5.0, side
        assert _rmse(d_knee) <= 5.0, side
    # With the Plug-in Gait pelvis (Davis hip centre, about 35 mm anterior of gait2392's) the
    # femur axis leans back and knee flexion reads 5-7 degrees less than OpenSim's, with the
    # same shape; hip flexion stays within 5 degrees (the pelvis axes differ the other way).
    pig = motion.cluster_model_from_static(static)
    for side, (d_hip, d_knee) in _flexion_errors(walk, pig, ik, times, -1.0).items():
        assert _rmse(d_hip) <= 5.0, side
        assert np.std(d_knee) <= 3.0 and -8.0 <= np.mean(d_knee) <= -4.0, side


def test_drop_jump_hip_and_knee_against_expert_ik(shared_data):
    static = motion.read_trc(str(shared_data("motion/addbiomechanics/static1.trc")))
    dj = motion.read_trc(str(shared_data("motion/addbiomechanics/DJ1.trc")))
    ik = motion.read_mot(str(shared_data("motion/addbiomechanics/DJ1_ik.mot")))
    times = ik.column("time")  # the landing window, 0.96-1.90 s
    model = motion.cluster_model_from_static(static, motion.ADDBIO_MARKERS, convention="laiuhlrich2022")
    errors = _flexion_errors(dj, model, ik, times, 1.0)  # knee flexion positive in this model
    # The pelvis of the expert's model sits 12 degrees (anterior end up) from this subject's
    # sacrum → mid-ASIS line over the landing, against 4.7 degrees for the generic
    # LaiUhlrich2022 markers: the expert's marker registration tilted the pelvis a further
    # 7 degrees, which the published data do not carry (no scaled model).
    tilt = _asis_line_elevation_deg(dj, motion.ADDBIO_MARKERS, times) - ik.column("pelvis_tilt")
    assert -14.0 <= np.mean(tilt) <= -10.0 and np.std(tilt) <= 2.0
    _, model_tilt = motion.opensim_pelvis_geometry("laiuhlrich2022", 254.0, 206.0)
    excess = -np.mean(tilt) - np.degrees(model_tilt)
    for side, (d_hip, d_knee) in errors.items():
        # Knee flexion (about 95 degrees of range) meets the 5 degree target (1.8 / 3.6 RMSE).
        assert _rmse(d_knee) <= 5.0, side
        # Hip flexion follows the reference within 2 degrees once offset, and the offset (6.5 /
        # 8.7 degrees) is that extra pelvis tilt, to 2.5 degrees.
        assert np.std(d_hip) <= 2.0, side
        assert abs(np.mean(d_hip) - excess) <= 2.5, side


def test_opensim_pelvis_convention_round_trip():
    """A static trial built from a model's own pelvis (scaled, placed and turned anywhere in
    the lab) gives back the model's hip joint centres and pelvis axes."""
    rng = np.random.default_rng(7)
    for name, scale in (("gait2392", 1.08), ("laiuhlrich2022", 0.93)):
        geo = motion.OPENSIM_PELVIS[name]
        asis, sacrum, hip = (np.asarray(geo[k]) * 1000.0 * scale for k in ("asis", "sacrum", "hip"))
        mirror = np.array([1.0, 1.0, -1.0])
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        rot = q * np.sign(np.linalg.det(q))  # a proper rotation: model -> lab
        shift = np.array([400.0, -250.0, 900.0])
        lab = lambda p: rot @ p + shift  # noqa: E731
        pts = {"L.ASIS": lab(asis * mirror), "R.ASIS": lab(asis), "V.Sacral": lab(sacrum)}
        # Legs hanging from the model's hip centres (z right in the model), clusters around.
        for side, sgn in (("L", -1.0), ("R", 1.0)):
            h = hip * np.array([1.0, 1.0, sgn])
            knee, ankle = h + [10.0, -420.0, 0.0], h + [0.0, -830.0, 0.0]
            pts[f"{side}.Knee.Lat"], pts[f"{side}.Knee.Med"] = lab(knee + [0, 0, 50 * sgn]), lab(knee - [0, 0, 50 * sgn])
            pts[f"{side}.Ankle.Lat"] = lab(ankle + [0, 0, 35 * sgn])
            pts[f"{side}.Ankle.Med"] = lab(ankle - [0, 0, 35 * sgn])
            for k, off in enumerate(([60, -150, 60], [90, -250, 0], [20, -300, 70])):
                pts[f"{side}.Thigh.{('Upper', 'Front', 'Rear')[k]}"] = lab(h + np.array(off) * [1, 1, sgn])
                pts[f"{side}.Shank.{('Upper', 'Front', 'Rear')[k]}"] = lab(knee + np.array(off) * [1, 1, sgn])
        static = motion.Trial()
        static.point_labels = list(pts)
        static.point_rate_hz = 100.0
        static.points = np.repeat(np.array([list(pts.values())]), 20, axis=0)
        model = motion.cluster_model_from_static(static, convention=name)
        for side, sgn in (("L", -1.0), ("R", 1.0)):
            centres = motion.model_joint_centres(static, model, side)
            np.testing.assert_allclose(centres[:, 0:3], np.tile(lab(hip * [1, 1, sgn]), (20, 1)), atol=1e-6)
        pose = motion.fit_segment(static, [s for s in model if s.segment == "PEL"][0])[0]
        axes = pose[:9].reshape(3, 3)  # columns: x anterior, y left, z up
        np.testing.assert_allclose(axes[:, 0], rot @ [1.0, 0.0, 0.0], atol=1e-9)  # the model's x
        np.testing.assert_allclose(axes[:, 1], rot @ [0.0, 0.0, -1.0], atol=1e-9)  # left = -z
    with pytest.raises(sportsmed.InvalidArgument):
        motion.cluster_model_from_static(static, convention="rajagopal")
    with pytest.raises(sportsmed.InvalidArgument):
        motion.cluster_model_from_static(static, hip_joint_centre="model")


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
