"""Readers and writers take os.PathLike (pathlib.Path) as well as str (issue 19, Python habits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sportsmed import imaging, motion


def test_imaging_round_trip_through_pathlib(tmp_path):
    img = imaging.Image(np.arange(60, dtype=np.float32).reshape(3, 4, 5), imaging.Geometry([3, 4, 5]))
    for name in ("a.nii.gz", "b.nrrd"):
        p = tmp_path / name
        assert isinstance(p, Path)
        imaging.write_image(img, p)
        back = imaging.read_image(p)
        np.testing.assert_array_equal(back.fdata(), img.fdata())


def test_motion_round_trip_through_pathlib(tmp_path):
    t = motion.Trial()
    t.point_labels = ["A", "B"]
    t.point_descriptions = ["", ""]
    t.points = np.arange(30, dtype=float).reshape(5, 2, 3) + 1
    t.point_rate_hz = 50.0
    for name, write, read in (("t.c3d", motion.write_trial_c3d, lambda p: motion.read_c3d(p).trial),
                              ("t.trc", motion.write_trc, motion.read_trc)):
        p = tmp_path / name
        write(p, t)
        np.testing.assert_allclose(read(p).points, t.points)
    table = motion.feature_table([tmp_path / "t.c3d"], "gait")
    assert list(table.index) == [str(tmp_path / "t.c3d")]
