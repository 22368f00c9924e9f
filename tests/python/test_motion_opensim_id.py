"""OpenSim models and inverse dynamics (sportsmed.motion.opensim_model): against analytic
mechanics on generated models, against OpenSim's own InverseDynamicsTool output on the
gait2392 example, and the model's forward kinematics against the recorded markers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline, make_interp_spline

import sportsmed
from sportsmed.motion import opensim_model as om

MODEL = """<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
  <Model name="test">
    <gravity>0 {g} 0</gravity>
    <BodySet><objects>
      <Body name="rod"><mass>{m}</mass><mass_center>{com}</mass_center><inertia>{inertia}</inertia></Body>
    </objects></BodySet>
    <JointSet><objects>{joint}</objects></JointSet>
  </Model>
</OpenSimDocument>
"""

PIN = """<PinJoint name="pin"><socket_parent_frame>ground_offset</socket_parent_frame>
  <socket_child_frame>rod_offset</socket_child_frame>
  <coordinates><Coordinate name="q"><default_value>0</default_value></Coordinate></coordinates>
  <frames>
    <PhysicalOffsetFrame name="ground_offset"><socket_parent>/ground</socket_parent>
      <translation>0.1 1.0 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>
    <PhysicalOffsetFrame name="rod_offset"><socket_parent>/bodyset/rod</socket_parent>
      <translation>0 0 0</translation><orientation>0 0 0</orientation></PhysicalOffsetFrame>
  </frames></PinJoint>"""

COUPLED = """<CustomJoint name="slide_turn"><socket_parent_frame>/ground</socket_parent_frame>
  <socket_child_frame>/bodyset/rod</socket_child_frame>
  <coordinates><Coordinate name="q"><default_value>0</default_value></Coordinate></coordinates>
  <SpatialTransform>
    <TransformAxis name="rotation1"><coordinates>q</coordinates><axis>0 0 1</axis>
      <LinearFunction name="function"><coefficients>1 0</coefficients></LinearFunction></TransformAxis>
    <TransformAxis name="translation1"><coordinates>q</coordinates><axis>1 0 0</axis>
      <MultiplierFunction name="function"><function><LinearFunction><coefficients>{c} 0</coefficients>
      </LinearFunction></function><scale>{scale}</scale></MultiplierFunction></TransformAxis>
  </SpatialTransform></CustomJoint>"""


def write_mot(path, t, columns, in_degrees=False):
    names = list(columns)
    lines = ["motion", "version=1", f"nRows={t.size}", f"nColumns={len(names) + 1}",
             f"inDegrees={'yes' if in_degrees else 'no'}", "endheader", "\t".join(["time"] + names)]
    for i in range(t.size):
        lines.append("\t".join(f"{v:.12g}" for v in [t[i]] + [columns[n][i] for n in names]))
    path.write_text("\n".join(lines) + "\n")


def test_pendulum_on_a_pin_joint_matches_the_equation_of_motion(tmp_path):
    m, l, izz, g = 2.5, 0.4, 0.03, 9.81
    model = tmp_path / "pendulum.osim"
    model.write_text(MODEL.format(g=-g, m=m, com=f"0 {-l} 0", inertia=f"0.01 0.01 {izz} 0 0 0", joint=PIN))
    t = np.arange(0, 2.0 + 1e-9, 1 / 200)
    q = 0.6 * np.sin(2 * np.pi * 0.8 * t) + 0.2
    write_mot(tmp_path / "q.mot", t, {"q": np.rad2deg(q)}, in_degrees=True)
    res = om.opensim_inverse_dynamics(model, tmp_path / "q.mot", cutoff_hz=0)
    qs = make_interp_spline(t, q, k=5)
    tt = res.index.to_numpy()
    expected = (izz + m * l * l) * qs(tt, 2) + m * g * l * np.sin(qs(tt))
    inner = (tt > 0.1) & (tt < 1.9)  # the spline's end conditions
    assert res.attrs["units"]["q_moment"] == "N·m"
    np.testing.assert_allclose(res["q_moment"].to_numpy()[inner], expected[inner], atol=1e-5 * np.ptp(expected))


def test_coupled_translation_adds_its_generalised_inertia(tmp_path):
    """x = c·s·q and a rotation q: kinetic energy ½ (m (c s)² + Izz) q̇², so Q = (m (c s)² + Izz) q̈
    (gravity along y does no work on x or a rotation about a COM on the axis)."""
    m, izz, c, s = 3.0, 0.05, 0.2, 1.5
    model = tmp_path / "coupled.osim"
    model.write_text(MODEL.format(g=-9.81, m=m, com="0 0 0", inertia=f"0.01 0.01 {izz} 0 0 0",
                                  joint=COUPLED.format(c=c, scale=s)))
    t = np.arange(0, 1.0 + 1e-9, 1 / 250)
    q = 0.5 * np.sin(2 * np.pi * 1.3 * t)
    write_mot(tmp_path / "q.mot", t, {"q": q})
    res = om.opensim_inverse_dynamics(model, tmp_path / "q.mot", cutoff_hz=0)
    tt = res.index.to_numpy()
    expected = (m * (c * s) ** 2 + izz) * make_interp_spline(t, q, k=5)(tt, 2)
    inner = (tt > 0.1) & (tt < 0.9)
    np.testing.assert_allclose(res["q_moment"].to_numpy()[inner], expected[inner], atol=1e-4 * np.ptp(expected))


def test_simm_spline_reproduces_cubics_and_natural_spline_matches_scipy():
    x = np.array([-2.0, -1.2, -0.5, 0.1, 0.9, 2.0])
    cubic = lambda v: 0.3 * v ** 3 - 0.5 * v ** 2 + 0.1 * v - 0.4  # noqa: E731
    xs = np.linspace(-2, 2, 41)
    np.testing.assert_allclose(om._CubicSpline(x, cubic(x), "fmm")(xs), cubic(xs), atol=1e-12)
    y = np.sin(x)
    np.testing.assert_allclose(om._CubicSpline(x, y, "natural")(xs), CubicSpline(x, y, bc_type="natural")(xs),
                               atol=1e-12)


def test_unsupported_models_are_refused_by_name(tmp_path):
    bad = tmp_path / "ellipsoid.osim"
    bad.write_text(MODEL.format(g=-9.81, m=1, com="0 0 0", inertia="1 1 1 0 0 0",
                                joint=PIN.replace("PinJoint", "EllipsoidJoint")))
    with pytest.raises(sportsmed.FormatError, match="EllipsoidJoint"):
        om.read_osim(bad)
    old = tmp_path / "old.osim"
    old.write_text('<OpenSimDocument Version="20302"><Model name="x"><BodySet><objects/></BodySet></Model>'
                   "</OpenSimDocument>")
    with pytest.raises(sportsmed.FormatError, match="3.x"):
        om.read_osim(old)
    spline = tmp_path / "spline.osim"
    spline.write_text(MODEL.format(g=-9.81, m=1, com="0 0 0", inertia="1 1 1 0 0 0",
                                   joint=COUPLED.format(c=1, scale=1).replace("LinearFunction", "GCVSpline")))
    with pytest.raises(sportsmed.FormatError, match="GCVSpline"):
        om.read_osim(spline)
    with pytest.raises(sportsmed.FormatError, match="missing.osim"):
        om.read_osim(tmp_path / "missing.osim")
    (tmp_path / "bad.xml").write_text("<ExternalLoads><objects>")
    pin = tmp_path / "pin.osim"
    pin.write_text(MODEL.format(g=-9.81, m=1, com="0 -0.3 0", inertia="1 1 1 0 0 0", joint=PIN))
    t = np.arange(0, 1.0, 0.01)
    write_mot(tmp_path / "q.mot", t, {"q": np.sin(t)})
    write_mot(tmp_path / "grf.mot", t, {"ground_force_vx": 0 * t, "ground_force_vy": t, "ground_force_vz": 0 * t})
    uneven = np.sort(np.concatenate([t, [0.005, 0.015]]))
    write_mot(tmp_path / "uneven.mot", uneven, {"q": np.sin(uneven)})
    with pytest.raises(sportsmed.InvalidArgument, match="uniformly sampled"):
        om.opensim_inverse_dynamics(pin, tmp_path / "uneven.mot")
    with pytest.raises(sportsmed.FormatError, match="bad.xml"):
        om.opensim_inverse_dynamics(pin, tmp_path / "q.mot", tmp_path / "grf.mot", tmp_path / "bad.xml")


@pytest.fixture
def gait2392(shared_data):
    return {name: shared_data(f"motion/opensim/subject01_{name}") for name in
            ("simbody.osim", "walk1_ik.mot", "walk1_grf.mot", "walk1_grf.xml", "walk1_id.sto", "walk1.trc")}


def test_forward_kinematics_places_the_model_markers_on_the_recorded_ones(gait2392):
    """The IK solution put through the model's joints lands its markers within the IK residual
    (~1–2 cm) of the TRC markers: joint conventions, offsets and splines are read correctly."""
    model = om.read_osim(gait2392["simbody.osim"])
    ik = om.read_opensim_storage(gait2392["walk1_ik.mot"])
    trial = sportsmed.motion.read_trc(gait2392["walk1.trc"])
    times = np.asarray(trial.times_s)
    ik = ik[ik.index <= times[-1] + 1e-9]
    q = {c: np.deg2rad(ik[c].to_numpy()) if model.rotational[c] else ik[c].to_numpy() for c in model.coordinates}
    placed = model.marker_positions(q)
    labels, points = list(trial.point_labels), np.asarray(trial.points) / 1000.0
    errors = []
    for name, pos in placed.items():
        if name in labels:
            rec = np.column_stack([np.interp(ik.index, times, points[:, labels.index(name), a]) for a in range(3)])
            errors.append(np.nanmean(np.linalg.norm(pos - rec, axis=1)))
    assert len(errors) >= 25
    assert np.median(errors) < 0.025
    assert max(errors) < 0.10


def test_inverse_dynamics_matches_opensims_inverse_dynamics_tool(gait2392):
    """subject01_walk1_id.sto was written by OpenSim's InverseDynamicsTool from the same model,
    IK, GRF and loads (coordinates filtered at 6 Hz). Compared on 0.55–1.55 s (the IK file
    starts at 0.5 s): issue 16 asks hip and knee flexion RMSE ≤ 10 % of the reference's
    peak-to-peak; measured ≤ 1 % for every leg coordinate (the filters differ: OpenSim's FIR
    vs Butterworth)."""
    res = om.opensim_inverse_dynamics(gait2392["simbody.osim"], gait2392["walk1_ik.mot"],
                                      gait2392["walk1_grf.mot"], gait2392["walk1_grf.xml"], cutoff_hz=6.0)
    ref = om.read_opensim_storage(gait2392["walk1_id.sto"])
    ref = ref[(ref.index >= 0.55) & (ref.index <= 1.55)]
    for side in "rl":
        for coordinate in ("hip_flexion", "hip_adduction", "hip_rotation", "knee_angle", "ankle_angle"):
            name = f"{coordinate}_{side}_moment"
            ours = np.interp(ref.index, res.index, res[name])
            theirs = ref[name].to_numpy()
            rmse = np.sqrt(np.mean((ours - theirs) ** 2))
            assert rmse <= 0.03 * np.ptp(theirs), (name, rmse, np.ptp(theirs))
            assert np.corrcoef(ours, theirs)[0, 1] > 0.99, name
    # the ground → pelvis residuals too (the whole model's dynamics, torso and arms included)
    for name in ("pelvis_tx_force", "pelvis_ty_force", "pelvis_tz_force", "pelvis_tilt_moment"):
        ours = np.interp(ref.index, res.index, res[name])
        assert np.sqrt(np.mean((ours - ref[name].to_numpy()) ** 2)) <= 0.05 * np.ptp(ref[name]), name


def test_cli_writes_opensim_generalised_forces_and_c3d_moments_as_mot(gait2392, shared_data, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "id.sto"
    r = subprocess.run([sys.executable, "-m", "sportsmed", "motion", "dynamics", "--osim", str(gait2392["simbody.osim"]),
                        "--ik", str(gait2392["walk1_ik.mot"]), "--grf", str(gait2392["walk1_grf.mot"]),
                        "--grf-loads", str(gait2392["walk1_grf.xml"]), "-o", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ours = om.read_opensim_storage(out)
    ref = om.read_opensim_storage(gait2392["walk1_id.sto"])
    ref = ref[(ref.index >= 0.55) & (ref.index <= 1.55)]
    knee = np.interp(ref.index, ours.index, ours["knee_angle_r_moment"])
    assert np.sqrt(np.mean((knee - ref["knee_angle_r_moment"]) ** 2)) < 0.03 * np.ptp(ref["knee_angle_r_moment"])
    # a C3D trial's moments in the joint coordinate system, as an OpenSim storage file
    mot = tmp_path / "gait.mot"
    r = subprocess.run([sys.executable, "-m", "sportsmed", "motion", "dynamics",
                        str(shared_data("motion/c3d/gait-pig.c3d")), "--body-mass", "61.1", "--frame", "jcs",
                        "-o", str(mot)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    table = om.read_opensim_storage(mot)
    assert "LKneeMomentNorm_Y" in table.columns and len(table) > 50
    r = subprocess.run([sys.executable, "-m", "sportsmed", "motion", "dynamics", "--osim", str(gait2392["simbody.osim"])],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "--ik" in r.stderr and "Traceback" not in r.stderr
