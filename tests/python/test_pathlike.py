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


def test_image_speaks_nibabel(tmp_path):
    """img.affine and img.shape as nibabel's; to_nibabel / from_nibabel round trip voxels,
    scaling and geometry (checked against nibabel reading the same file)."""
    import pytest

    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(0)
    affine = np.array([[0.0, 0.0, 1.2, -40.0], [-0.8, 0.0, 0.0, 12.0], [0.0, 0.9, 0.0, 7.5], [0, 0, 0, 1]])
    data = rng.integers(0, 1000, (6, 5, 4)).astype(np.int16)
    ref = nib.Nifti1Image(data, affine)
    ref.header.set_slope_inter(0.5, 10.0)
    path = tmp_path / "x.nii"
    nib.save(ref, str(path))
    ref = nib.load(str(path))
    ours = imaging.read_image(path)
    np.testing.assert_allclose(ours.affine, ref.affine, atol=1e-5)
    assert ours.shape == ref.shape
    back = ours.to_nibabel()
    np.testing.assert_allclose(back.get_fdata(), ref.get_fdata())
    np.testing.assert_allclose(back.affine, ref.affine, atol=1e-5)
    again = imaging.Image.from_nibabel(ref)
    np.testing.assert_array_equal(again.fdata(), ref.get_fdata())
    np.testing.assert_allclose(again.affine, ref.affine, atol=1e-5)


def test_image_array_is_a_view_of_the_image():
    """Image.array is the image's own buffer: one buffer across accesses, writes kept."""
    img = imaging.Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), imaging.Geometry([2, 3, 4]))
    a = img.array
    assert np.shares_memory(a, img.array)
    a[1, 2, 3] = -7
    assert img.array[1, 2, 3] == -7 and img.fdata()[1, 2, 3] == -7.0
    del img
    assert a[1, 2, 3] == -7  # the view keeps the image alive
