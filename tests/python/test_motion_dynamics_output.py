"""Inverse-dynamics tables written as CSV, OpenSim .mot and C3D analog channels read back to
the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


@pytest.fixture(scope="module")
def gait(shared_data_module):
    src = shared_data_module("motion/c3d/gait-pig.c3d")
    return src, motion.inverse_dynamics(src, body_mass_kg=61.1)


@pytest.fixture(scope="module")
def shared_data_module():
    from conftest import shared_data_dir

    def get(relative):
        path = shared_data_dir() / relative
        if not path.exists():
            pytest.skip(f"shared data file {path} is absent")
        return path

    return get


def test_mot_round_trip(gait, tmp_path):
    _, df = gait
    motion.write_dynamics(df, tmp_path / "moments.mot")
    table = motion.read_mot(str(tmp_path / "moments.mot"))
    labels = list(table.labels)
    data = np.asarray(table.data)
    assert labels[0] == "time" and "LKneeMomentNorm_Y" in labels and "LPlate" not in labels
    np.testing.assert_allclose(data[:, 0], df.index.to_numpy(), rtol=1e-9)
    for c in ("LKneeMomentNorm_Y", "RHipPower", "LAnkleForce_Z"):
        np.testing.assert_allclose(data[:, labels.index(c)], df[c].to_numpy(), rtol=1e-8, atol=1e-8)
    assert not table.in_degrees


def test_c3d_analog_channels_carry_the_moments_with_units(gait, tmp_path):
    src, df = gait
    out = tmp_path / "with_moments.c3d"
    motion.write_dynamics(df, out, source=src)
    before, after = motion.read_c3d(str(src)).trial, motion.read_c3d(str(out)).trial
    np.testing.assert_allclose(np.asarray(after.points), np.asarray(before.points), rtol=1e-6, atol=1e-3)
    labels = list(after.analog_labels)
    ratio = int(round(after.analog_rate_hz / after.point_rate_hz))
    for c, unit in (("LKneeMomentNorm_X", "N.m/kg"), ("RHipMoment_Y", "N.m"), ("LKneePower", "W")):
        i = labels.index(c)
        assert after.analog_units[i] == unit
        values = np.asarray(after.analogs)[::ratio, i]
        expected = df[c].to_numpy()
        assert np.array_equal(np.isnan(values), np.isnan(expected))  # unknown frames stay unknown
        ok = np.isfinite(expected)
        np.testing.assert_allclose(values[ok], expected[ok], rtol=1e-6, atol=1e-6 * np.nanmax(np.abs(expected)))


def test_bad_outputs_are_refused(gait, tmp_path):
    src, df = gait
    with pytest.raises(sportsmed.InvalidArgument, match="source="):
        motion.write_dynamics(df, tmp_path / "x.c3d")
    with pytest.raises(sportsmed.InvalidArgument, match="extension"):
        motion.write_dynamics(df, tmp_path / "x.xlsx")
    with pytest.raises(sportsmed.InvalidArgument, match="frames"):
        motion.write_dynamics(df.iloc[:10], tmp_path / "x.c3d", source=src)
    assert not list(tmp_path.iterdir())
