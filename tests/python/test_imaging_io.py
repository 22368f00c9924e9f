"""NIfTI and NRRD I/O against nibabel and an independent NRRD parse."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")
imaging = pytest.importorskip("sportsmed.imaging")
import sportsmed  # noqa: E402

NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"
NIBABEL_FILES = sorted(p for p in NIBABEL_DATA.glob("*.nii*")) if NIBABEL_DATA.exists() else []


def _nib_load(path: Path):
    # CIFTI files would load as Cifti2Image (no affine); read them as the NIfTI they are.
    raw = gzip.open(path).read(4) if path.suffix == ".gz" else path.open("rb").read(4)
    n = int.from_bytes(raw, "little")
    version2 = n in (540, 0x1C020000)
    cls = nib.Nifti2Image if version2 else nib.Nifti1Image
    return cls.from_filename(str(path))


@pytest.mark.parametrize("path", NIBABEL_FILES, ids=[p.name for p in NIBABEL_FILES])
def test_nifti_matches_nibabel_on_its_test_data(path):
    ref = _nib_load(path)
    img = imaging.read_nifti(str(path))
    assert tuple(img.dims) == tuple(ref.shape)
    np.testing.assert_allclose(img.geometry.affine_ras(), ref.affine, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(img.fdata(), ref.get_fdata())
    assert img.array.dtype == ref.get_data_dtype().newbyteorder("=")


@pytest.mark.parametrize("name", ["totalseg_example_mr.nii.gz", "totalseg_example_seg_mr.nii.gz"])
def test_nifti_matches_nibabel_on_totalsegmentator_files(shared_data, name):
    path = shared_data(f"mri/{name}")
    ref = nib.load(str(path))
    img = imaging.read_nifti(str(path))
    np.testing.assert_allclose(img.geometry.affine_ras(), ref.affine, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(img.fdata(), ref.get_fdata())
    assert img.sform_code == 2 and img.qform_code == 0


@pytest.mark.parametrize("slope", [0.0, float("nan")])
def test_nifti_slope_zero_or_nan_means_unscaled(tmp_path, slope):
    import struct

    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5) - 7
    path = tmp_path / "s.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))
    raw = bytearray(path.read_bytes())
    raw[112:120] = struct.pack("<ff", slope, 5.0)  # scl_slope, scl_inter
    path.write_bytes(bytes(raw))
    img = imaging.read_nifti(str(path))
    assert not img.scaled
    np.testing.assert_array_equal(img.fdata(), data)
    np.testing.assert_array_equal(img.fdata(), nib.load(str(path)).get_fdata())


@pytest.mark.parametrize("path", NIBABEL_FILES[:6], ids=[p.name for p in NIBABEL_FILES[:6]])
@pytest.mark.parametrize("version,ext", [(1, ".nii"), (2, ".nii.gz")])
def test_nifti_round_trip_is_exact_and_nibabel_reads_what_we_write(tmp_path, path, version, ext):
    img = imaging.read_nifti(str(path))
    out = tmp_path / f"rt{ext}"
    imaging.write_nifti(img, str(out), version)
    back = imaging.read_nifti(str(out))
    assert back.dtype == img.dtype
    np.testing.assert_array_equal(back.array, img.array)
    np.testing.assert_array_equal(back.fdata(), img.fdata())
    np.testing.assert_allclose(back.geometry.affine_ras(), img.geometry.affine_ras(), atol=1e-5)
    ref = nib.load(str(out))
    np.testing.assert_allclose(ref.affine, img.geometry.affine_ras(), atol=1e-5)
    # qform and sform written consistently. The qform's float32 quaternion loses precision
    # for rotations near 180 degrees (w = sqrt(1 - b² - c² - d²) cancels), hence 5e-4.
    np.testing.assert_allclose(ref.header.get_qform(), ref.header.get_sform(), atol=5e-4)
    np.testing.assert_array_equal(ref.get_fdata(), img.fdata())


def test_nifti_reads_big_endian_and_all_integer_and_float_types(tmp_path):
    rng = np.random.default_rng(0)
    affine = np.array([[0, 0, -2.5, 10], [1.5, 0, 0, -3], [0, 0.8, 0, 7], [0, 0, 0, 1.0]])
    for dtype in ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8"]:
        for order in "<>":
            dt = np.dtype(dtype).newbyteorder(order)
            data = (rng.random((4, 3, 5)) * 100).astype(dt)
            hdr = nib.Nifti1Header()
            hdr.set_data_dtype(dt)
            ni = nib.Nifti1Image(data, affine, hdr)
            ni.header.set_slope_inter(2.0, 1.0)
            path = tmp_path / f"t_{dtype}_{'le' if order == '<' else 'be'}.nii"
            ni.to_filename(str(path))
            ref = nib.load(str(path))
            img = imaging.read_nifti(str(path))
            np.testing.assert_array_equal(img.fdata(), ref.get_fdata())
            np.testing.assert_allclose(img.geometry.affine_ras(), ref.affine, atol=1e-6)


def test_nifti_qform_only_with_qfac_and_no_xform(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    affine = np.array([[0, -1.5, 0, 4], [0, 0, 2.0, -5], [-3.0, 0, 0, 6], [0, 0, 0, 1]])
    ni = nib.Nifti1Image(data, affine)
    ni.header.set_qform(affine, code=1)
    ni.header.set_sform(None, code=0)
    path = tmp_path / "q.nii"
    nib.save(ni, str(path))
    ref = nib.load(str(path))
    assert ref.header["sform_code"] == 0
    img = imaging.read_nifti(str(path))
    np.testing.assert_allclose(img.geometry.affine_ras(), ref.affine, atol=1e-6)
    ni.header.set_qform(None, code=0)
    nib.save(ni, str(path))
    ref = nib.load(str(path))
    np.testing.assert_allclose(imaging.read_nifti(str(path)).geometry.affine_ras(), ref.affine, atol=1e-6)


def test_corrupt_nifti_raises_format_error_naming_the_file(tmp_path):
    path = tmp_path / "bad.nii"
    path.write_bytes(b"\x00" * 400)
    with pytest.raises(sportsmed.FormatError, match="bad.nii"):
        imaging.read_nifti(str(path))
    src = NIBABEL_DATA / "anatomical.nii"
    if src.exists():
        path.write_bytes(src.read_bytes()[:5000])
        with pytest.raises(sportsmed.FormatError, match="shorter than the header says"):
            imaging.read_nifti(str(path))


def _parse_nrrd(path: Path):
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    fields = dict(line.split(": ", 1) for line in head.decode().splitlines()[1:]
                  if ": " in line and not line.startswith("#"))
    sizes = [int(s) for s in fields["sizes"].split()]
    dirs = np.array([[float(x) for x in v.split(",")]
                     for v in re.findall(r"\(([^)]*)\)", fields["space directions"])])
    origin = np.array([float(x) for x in re.findall(r"\(([^)]*)\)", fields["space origin"])[0].split(",")])
    data = np.frombuffer(gzip.decompress(body), dtype=np.uint8).reshape(sizes, order="F")
    return data, dirs, origin, fields["space"]


def test_knee_nrrd_reads_with_oblique_directions_and_nifti_world_coordinates_agree(shared_data, tmp_path):
    path = shared_data("mri/knee_labels_pymskt.nrrd")
    data, dirs, origin, space = _parse_nrrd(path)
    assert space == "left-posterior-superior"
    img = imaging.read_nrrd(str(path))
    arr = img.array
    assert arr.shape == (384, 384, 160)
    np.testing.assert_array_equal(arr, data)
    counts = np.bincount(arr.ravel(), minlength=11)
    np.testing.assert_array_equal(counts, np.bincount(data.ravel(), minlength=11))
    assert set(np.nonzero(counts)[0]) == set(range(11))  # labels 1..10 all present
    # Geometry equals the header's LPS directions (columns = axes).
    np.testing.assert_allclose(img.geometry.voxel_to_world()[:3, :3], dirs.T, atol=1e-12)
    np.testing.assert_allclose(img.geometry.origin, origin, atol=1e-12)
    assert abs(img.geometry.direction[0, 0]) > 1e-3  # oblique
    # Convert to NIfTI; nibabel's world (RAS → LPS) of every voxel centre matches.
    out = tmp_path / "knee.nii.gz"
    imaging.convert(str(path), str(out))
    ref = nib.load(str(out))
    np.testing.assert_array_equal(np.asanyarray(ref.dataobj), data)
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in data.shape], indexing="ij"), -1).reshape(-1, 3)
    ijk = ijk[::7]  # every 7th voxel centre (3.4 M points), all corners of the lattice included below
    ijk = np.vstack([ijk, [[383, 383, 159], [0, 383, 159], [383, 0, 159], [383, 383, 0]]])
    world_lps = ijk @ dirs + origin
    ras = ijk @ ref.affine[:3, :3].T + ref.affine[:3, 3]
    lps_from_nib = ras * np.array([-1, -1, 1])
    assert np.abs(lps_from_nib - world_lps).max() <= 1e-4
    # and our own voxel->world agrees with the header to rounding
    np.testing.assert_allclose(img.geometry.to_world(ijk[:1000].astype(float)), world_lps[:1000], atol=1e-9)


def test_nrrd_round_trip_and_truncated_gzip(tmp_path, shared_data):
    path = shared_data("mri/knee_labels_pymskt.nrrd")
    img = imaging.read_nrrd(str(path))
    out = tmp_path / "k.nrrd"
    imaging.write_nrrd(img, str(out))
    back = imaging.read_nrrd(str(out))
    np.testing.assert_array_equal(back.array, img.array)
    assert back.geometry.same_grid(img.geometry, 1e-12)
    raw = out.read_bytes()
    out.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(sportsmed.FormatError, match="k.nrrd"):
        imaging.read_nrrd(str(out))


def test_nrrd_non_orthonormal_directions_raise(tmp_path):
    text = ("NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\nsizes: 2 2 2\n"
            "space directions: (1,0,0) (0.5,1,0) (0,0,1)\nencoding: raw\nspace origin: (0,0,0)\n\n")
    path = tmp_path / "shear.nrrd"
    path.write_bytes(text.encode() + bytes(8))
    with pytest.raises(sportsmed.FormatError, match="not orthonormal"):
        imaging.read_nrrd(str(path))


@pytest.mark.parametrize("order, ext, scaled", [("<", ".nii", True), (">", ".nii", True), ("<", ".nii", False),
                                                ("<", ".nii.gz", True), ("<", ".hdr", True)])
def test_read_nifti_fdata_equals_nibabel_get_fdata(tmp_path, order, ext, scaled):
    """The one-pass reader (mapped file converted straight into the array) against
    nibabel's get_fdata on the same file: byte orders, scaling, 4-D, gzip, pairs."""
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(4)
    a = rng.integers(-3000, 3000, size=(9, 7, 5, 3)).astype(order + "i2")
    cls = nib.Nifti1Pair if ext == ".hdr" else nib.Nifti1Image
    img = cls(a, np.diag([0.5, 0.7, 2.0, 1.0]))
    if scaled:
        img.header.set_slope_inter(0.25, -7.0)
    path = str(tmp_path / f"x{ext}")
    nib.save(img, path)
    values, geometry = imaging.read_nifti_fdata(path)
    ref = nib.load(path).get_fdata()
    np.testing.assert_array_equal(values, ref)
    assert values.flags["F_CONTIGUOUS"] and values.dtype == np.float64
    assert tuple(geometry.shape) == (9, 7, 5)
    np.testing.assert_array_equal(values, imaging.read_nifti(path).fdata())
