"""The synthetic athlete's drop jump: angles recovered from noisy markers, features, C3D/TRC export."""

from __future__ import annotations

import numpy as np

from sportsmed import motion


def test_prescribed_angles_recovered_within_one_degree():
    s = motion.synthesize_drop_jump(seed=3, knee_valgus_peak_deg=12.0)
    for side, truth in (("L", s.true_angles_left), ("R", s.true_angles_right)):
        ours = motion.model_angles(s.trial, s.model, side)
        rmse = np.sqrt(np.mean((ours - truth) ** 2, axis=0))
        assert (rmse <= 1.0).all(), (side, rmse)


def test_feature_table_and_export_round_trip(tmp_path):
    res = motion.drop_jump_analysis(seed=1)
    f = res["features"].set_index("feature")
    s = res["synthetic"]
    assert abs(f.loc["initial_contact_s", "value"] - s.initial_contact_s) <= 1 / 200
    assert f.loc["left_peak_knee_abduction_deg", "unit"] == "deg"
    assert abs(f.loc["left_peak_knee_abduction_deg", "value"] - 8.0) <= 1.0
    assert list(res["angles_left"].columns) == motion.ANGLE_COLUMNS
    # The generated trial survives C3D and TRC files.
    c3d, trc = tmp_path / "dj.c3d", tmp_path / "dj.trc"
    motion.write_trial_c3d(str(c3d), s.trial)
    motion.write_trc(str(trc), s.trial)
    back = motion.read_c3d(str(c3d)).trial
    np.testing.assert_allclose(back.points, s.trial.points, rtol=1e-6, atol=1e-4, equal_nan=True)
    np.testing.assert_allclose(back.analogs, s.trial.analogs, rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(motion.read_trc(str(trc)).points, s.trial.points)


def test_contacts_with_hysteresis():
    fz = np.zeros(50)
    fz[10:30] = 100.0
    fz[20] = 15.0
    np.testing.assert_array_equal(motion.detect_contacts(fz, 20.0, 10.0), [[10, 30]])


def test_zeni_events_near_stored_gait_events(shared_data):
    t = motion.read_c3d(str(shared_data("motion/c3d/gait-pig.c3d"))).trial
    ev = motion.zeni_events(t, "L")
    stored = [round(e.time_s * t.point_rate_hz) + 1 - t.first_frame for e in t.events
              if e.context == "Left" and e.label == "Foot Strike"]
    errs = [min(abs(s - o) for o in ev["foot_strikes"]) for s in stored]
    assert max(errs) <= 2, errs


def test_rigid_body_fill_and_spline_fill_restore_a_marker():
    s = motion.synthesize_drop_jump(noise_mm=0.0, dropouts=0)
    t = s.trial
    truth = t.marker("RASI").copy()
    pts = t.points
    i = t.point_labels.index("RASI")
    pts[150:170, i, :] = np.nan
    t.points = pts
    filled = motion.rigid_body_fill(t, ["LASI", "RASI", "LPSI", "RPSI"])
    np.testing.assert_allclose(filled.marker("RASI"), truth, atol=1e-6)


def test_cycle_summary_against_numpy_interp():
    x = np.sin(np.arange(300) / 9.0)
    strikes = [5.0, 97.5, 190.0, 282.5]
    summary = motion.cycle_summary(x, strikes)
    ref = np.stack([np.interp(np.linspace(a, b, 101), np.arange(300), x) for a, b in zip(strikes[:-1], strikes[1:])])
    np.testing.assert_allclose(summary["value_mean"], ref.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(summary["value_sd"], ref.std(axis=0, ddof=1), atol=1e-12)
    st = motion.spatio_temporal([0, 100], [60], np.c_[np.arange(200.0) * 10, np.zeros(200), np.zeros(200)], 100.0)
    assert st["stride_length_m"] == 1.0 and st["stance_fraction"] == 0.6
