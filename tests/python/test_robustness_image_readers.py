"""Image headers as other tools write them: NIfTI spatial units (metre, micron), sheared
affines (read faithfully, refused where distances are measured), NRRD sizes that do not match the data, NRRD directions without a named space —
read as the file says, or refused; never a silently different grid."""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

import sportsmed
from sportsmed import imaging


def _labels(shape=(12, 10, 8)):
    rng = np.random.default_rng(4)
    return rng.integers(0, 5, size=shape).astype(np.uint8)


@pytest.mark.parametrize("unit, to_mm", [("mm", 1.0), ("meter", 1000.0), ("micron", 1e-3), ("unknown", 1.0)])
def test_nifti_spatial_units_are_converted_to_mm(tmp_path, unit, to_mm):
    data = _labels()
    affine = np.diag([0.4, 0.5, 0.7, 1.0]) / np.array([to_mm, to_mm, to_mm, 1.0])
    affine[:3, 3] = np.array([10.0, -20.0, 30.0]) / to_mm
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units(xyz=unit)
    path = tmp_path / f"u_{unit}.nii.gz"
    nib.save(img, path)
    ours = imaging.read_image(str(path))
    np.testing.assert_allclose(ours.geometry.spacing, [0.4, 0.5, 0.7], rtol=1e-6)
    # nibabel's affine in the file's unit, scaled to mm, is ours (RAS -> LPS flips x, y)
    ref = nib.load(path).affine.copy()
    ref[:3] *= to_mm
    np.testing.assert_allclose(ours.geometry.origin, ref[:3, 3] * [-1, -1, 1], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(ours.array), data)


def test_a_sheared_grid_is_read_faithfully_and_refused_where_distances_are_measured(tmp_path):
    shear = np.eye(4)
    shear[0, 1] = 0.8
    affine = np.diag([0.5, 0.5, 1.0, 1.0]) @ shear
    lab = np.zeros((12, 10, 8), np.uint8)
    lab[2:8, 2:8, 2:6] = 5
    lab[3:7, 3:7, 5:7] = 1
    nib.save(nib.Nifti1Image(lab, affine), tmp_path / "shear.nii.gz")
    ours = imaging.read_image(str(tmp_path / "shear.nii.gz"))
    np.testing.assert_allclose(ours.geometry.affine_ras(), nib.load(tmp_path / "shear.nii.gz").affine, atol=1e-6)
    with pytest.raises(sportsmed.InvalidArgument, match="sheared grid"):
        imaging.check_orthogonal(ours.geometry, "shear.nii.gz", "thickness")
    from sportsmed.cli import main

    assert main(["--threads", "1", "mri", "thickness", str(tmp_path / "shear.nii.gz"), "--cartilage", "1",
                 "--bone", "5", "-o", str(tmp_path / "t.nii.gz")]) == 1
    assert not (tmp_path / "t.nii.gz").exists()
    # float rounding of a rotated affine is not shear
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) @ np.diag([0.5, 0.5, 1.0, 1.0])
    nib.save(nib.Nifti1Image(_labels(), rot.astype(np.float32)), tmp_path / "rot.nii.gz")
    g = imaging.read_image(str(tmp_path / "rot.nii.gz")).geometry
    imaging.check_orthogonal(g, "rot.nii.gz", "thickness")
    np.testing.assert_allclose(g.spacing, [0.5, 0.5, 1.0], rtol=1e-6)


def _nrrd(path, sizes, data: bytes, extra="space: left-posterior-superior\n", encoding="raw"):
    header = (f"NRRD0004\ntype: uint8\ndimension: 3\n{extra}sizes: {sizes}\n"
              "space directions: (0.5,0,0) (0,0.5,0) (0,0,1)\n"
              f"encoding: {encoding}\n\n")
    payload = gzip.compress(data) if encoding == "gzip" else data
    path.write_bytes(header.encode() + payload)


@pytest.mark.parametrize("encoding", ["raw", "gzip"])
def test_nrrd_data_must_match_its_sizes(tmp_path, encoding):
    data = _labels((12, 10, 8))
    raw = np.ascontiguousarray(data.transpose(2, 1, 0)).tobytes()  # x fastest
    _nrrd(tmp_path / "ok.nrrd", "12 10 8", raw, encoding=encoding)
    np.testing.assert_array_equal(np.asarray(imaging.read_image(str(tmp_path / "ok.nrrd")).array), data)
    _nrrd(tmp_path / "small.nrrd", "12 10 5", raw, encoding=encoding)  # 3 slices not declared
    with pytest.raises(sportsmed.FormatError, match="longer than the header says"):
        imaging.read_image(str(tmp_path / "small.nrrd"))
    _nrrd(tmp_path / "big.nrrd", "12 10 9", raw, encoding=encoding)
    with pytest.raises(sportsmed.FormatError, match="shorter than the header says"):
        imaging.read_image(str(tmp_path / "big.nrrd"))


def test_nrrd_directions_without_a_space_are_refused(tmp_path):
    raw = _labels().transpose(2, 1, 0).tobytes()
    _nrrd(tmp_path / "nospace.nrrd", "12 10 8", raw, extra="")
    with pytest.raises(sportsmed.FormatError, match="no 'space' field"):
        imaging.read_image(str(tmp_path / "nospace.nrrd"))
    _nrrd(tmp_path / "dim.nrrd", "12 10 8", raw, extra="space dimension: 3\n")
    with pytest.raises(sportsmed.FormatError, match="no 'space' field"):
        imaging.read_image(str(tmp_path / "dim.nrrd"))


def test_convert_to_nrrd_keeps_values_and_refuses_shear_and_copies_sidecars(tmp_path):
    # a scaled int16 NIfTI: NRRD has no scaling, so the scaled values are written (nibabel's)
    data = np.arange(60, dtype=np.int16).reshape(5, 4, 3) * 10
    img = nib.Nifti1Image(data, np.diag([0.5, 0.5, 2.0, 1.0]))
    img.header.set_slope_inter(0.25, -100.0)
    nib.save(img, tmp_path / "scaled.nii")
    imaging.convert(str(tmp_path / "scaled.nii"), str(tmp_path / "scaled.nrrd"))
    back = imaging.read_image(str(tmp_path / "scaled.nrrd"))
    np.testing.assert_allclose(np.asarray(back.fdata()), nib.load(tmp_path / "scaled.nii").get_fdata(), rtol=1e-6)
    # a sheared grid cannot go to NRRD
    shear = np.diag([0.5, 0.5, 1.0, 1.0]) @ np.array([[1, 0.8, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    nib.save(nib.Nifti1Image(_labels(), shear), tmp_path / "shear.nii.gz")
    with pytest.raises(sportsmed.InvalidArgument, match="sheared"):
        imaging.convert(str(tmp_path / "shear.nii.gz"), str(tmp_path / "shear.nrrd"))
    assert not (tmp_path / "shear.nrrd").exists()
    # label names and echo times travel with the image
    lab = tmp_path / "lab.nii.gz"
    imaging.write_image(imaging.Image(_labels(), imaging.Geometry((12, 10, 8), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))),
                        str(lab))
    imaging.write_label_names(lab, {1: "femur", 2: "tibia"})
    (tmp_path / "lab.json").write_text('{"EchoTimes_ms": [10, 20]}')
    imaging.convert(str(lab), str(tmp_path / "copy.nrrd"))
    assert imaging.read_label_names(tmp_path / "copy.nrrd") == {1: "femur", 2: "tibia"}
    assert (tmp_path / "copy.json").read_text() == '{"EchoTimes_ms": [10, 20]}'
