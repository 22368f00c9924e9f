"""leg_inverse_dynamics (one leg, and many in parallel): statics against the hand-derived
moments, the batch against leg-by-leg calls, and the leg kinematics of a real file."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def standing_leg(n=50, tilt=0.0):
    ankle, knee, hip = np.array([0.0, 0, 0.1]), np.array([0.02, 0, 0.5]), np.array([0.0, 0.01, 0.9])
    toe = np.array([0.16, 0.0, 0.05])
    rep = lambda v: np.tile(v, (n, 1))  # noqa: E731
    eye = np.tile(np.eye(3).ravel(), (n, 1))
    leg = {"hip": rep(hip), "knee": rep(knee), "ankle": rep(ankle), "toe": rep(toe),
           "thigh": eye.copy(), "shank": eye.copy(), "foot": eye.copy(), "pelvis": eye.copy()}
    force = np.array([15.0, -8.0, 700.0])
    cop = np.array([0.06, 0.01, 0.0])
    load = {"force": rep(force), "moment": rep(np.cross(cop, force) + np.array([0, 0, 1.5]))}
    return leg, load, (hip, knee, ankle, toe, force, cop)


def test_standing_leg_moments_are_the_statics():
    mass, g = 70.0, np.array([0, 0, -9.81])
    leg, load, (hip, knee, ankle, toe, force, cop) = standing_leg()
    out = motion.leg_inverse_dynamics(leg, load, mass, 100.0)
    bsp = motion.body_segment_table("dempster")
    segs = [("foot", ankle, toe), ("shank", knee, ankle), ("thigh", hip, knee)]
    free = np.array([0, 0, 1.5])
    for joint, centre, below in (("ankle", ankle, 1), ("knee", knee, 2), ("hip", hip, 3)):
        expected_m = -np.cross(cop - centre, force) - free
        expected_f = -force.copy()
        for name, prox, dist in segs[:below]:
            m = bsp[name]["mass_fraction"] * mass
            com = prox + bsp[name]["com_from_proximal"] * (dist - prox)
            expected_m -= np.cross(com - centre, m * g)
            expected_f -= m * g
        np.testing.assert_allclose(out[f"{joint}_moment"], np.tile(expected_m, (50, 1)), atol=1e-9)
        np.testing.assert_allclose(out[f"{joint}_force"], np.tile(expected_f, (50, 1)), atol=1e-9)
        np.testing.assert_allclose(out[f"{joint}_power"], 0.0, atol=1e-12)


def test_batch_equals_leg_by_leg_and_errors_name_the_leg(shared_data):
    c3d = motion.read_c3d(shared_data("motion/c3d/gait-pig.c3d"))
    legs = [motion.leg_segments(c3d, side) for side in ("L", "R")]
    n = legs[0]["ankle"].shape[0]
    rng = np.random.default_rng(3)
    loads = [{"force": rng.normal(0, 100, (n, 3)), "moment": rng.normal(0, 10, (n, 3))} for _ in legs]
    batch = motion.leg_inverse_dynamics(legs * 20, loads * 20, [61.1] * 40, 120.0)
    for k in (0, 1, 38, 39):
        one = motion.leg_inverse_dynamics(legs[k % 2], loads[k % 2], 61.1, 120.0)
        for key, value in one.items():
            np.testing.assert_array_equal(batch[k][key], value)
    bad = dict(legs[0], hip=legs[0]["hip"][:-1])
    with pytest.raises(sportsmed.InvalidArgument, match="leg 1: .*hip"):
        motion.leg_inverse_dynamics([legs[0], bad], loads, 61.1, 120.0)
    with pytest.raises(sportsmed.InvalidArgument, match="body masses"):
        motion.leg_inverse_dynamics(legs, loads, [61.1, 60, 59], 120.0)
    assert legs[0]["model"] == "axes" and legs[0]["thigh"].shape == (n, 9)


def test_jcs_components_are_projections_on_the_grood_suntay_axes(shared_data):
    """frame="jcs": X about the proximal segment's medio-lateral axis (knee extensor positive, as
    Plug-in Gait's X), Y about the floating axis e1 × e3, Z about the distal long axis; the right
    side's Y and Z negated. Re-derived here from the lab-frame moments and the segment frames."""
    c3d = motion.read_c3d(shared_data("motion/c3d/gait-pig.c3d"))
    lab = motion.inverse_dynamics(c3d, body_mass_kg=61.1, frame="lab", cutoff_hz=0.0)
    jcs = motion.inverse_dynamics(c3d, body_mass_kg=61.1, frame="jcs", cutoff_hz=0.0)
    for side, sign in (("L", 1.0), ("R", -1.0)):
        leg = motion.leg_segments(c3d, side)
        thigh, shank = leg["thigh"].reshape(-1, 3, 3), leg["shank"].reshape(-1, 3, 3)
        e1, e3 = thigh[:, :, 1], shank[:, :, 2]
        e2 = np.cross(e1, e3)
        e2 /= np.linalg.norm(e2, axis=1, keepdims=True)
        m = np.column_stack([lab[f"{side}KneeMoment_{a}"] for a in "XYZ"])
        expected = {"X": -np.einsum("ni,ni->n", m, e1), "Y": sign * np.einsum("ni,ni->n", m, e2),
                    "Z": sign * np.einsum("ni,ni->n", m, e3)}
        ok = np.isfinite(m).all(axis=1)
        assert ok.sum() > 20
        for axis, values in expected.items():
            np.testing.assert_allclose(jcs[f"{side}KneeMoment_{axis}"].to_numpy()[ok], values[ok], atol=1e-9)
