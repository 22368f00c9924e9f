"""TRC and MOT through Python: values as written in the files, exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def test_trc_values_and_round_trip(shared_data, tmp_path):
    t = motion.read_trc(str(shared_data("motion/opensim/subject01_walk1.trc")))
    assert t.points.shape == (151, 41, 3)
    assert t.points[0, 1, 2] == -88.909790  # L.ASIS z, first row of the text
    out = tmp_path / "w.trc"
    p = t.points
    p[3, 2, :] = np.nan
    t.points = p
    motion.write_trc(str(out), t)
    r = motion.read_trc(str(out))
    np.testing.assert_array_equal(r.points, t.points)
    assert r.point_labels == t.point_labels and r.point_rate_hz == 60.0


def test_mot_table_and_frame(shared_data, tmp_path):
    ik = motion.read_mot(str(shared_data("motion/opensim/subject01_walk1_ik.mot")))
    df = motion.mot_frame(ik)
    assert df.index[0] == 0.5 and df["knee_angle_r"].iloc[0] == -19.85408256
    assert ik.in_degrees
    out = tmp_path / "x.mot"
    motion.write_mot(str(out), ik)
    np.testing.assert_array_equal(motion.read_mot(str(out)).data, ik.data)
    with pytest.raises(sportsmed.NotFound, match="no column"):
        ik.column("nope")
