"""NIfTI pairs (.hdr + .img, magic 'ni1'/'ni2') against nibabel: nibabel's own pair
headers, files nibabel writes, files we write, either byte order, gzip halves."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

imaging = pytest.importorskip("sportsmed.imaging")
nib = pytest.importorskip("nibabel")
import sportsmed  # noqa: E402

NIB_DATA = Path(nib.__file__).parent / "tests" / "data"


@pytest.mark.parametrize("name,klass", [("nifti1", "Nifti1Pair"), ("nifti2", "Nifti2Pair")])
def test_nibabel_pair_headers_with_data_read_like_nibabel(tmp_path, name, klass):
    hdr = NIB_DATA / f"{name}.hdr"
    if not hdr.exists():
        pytest.skip(f"{hdr} is absent")
    # nibabel ships the headers only: give each its .img of random values, as long as the
    # header asks (from vox_offset on).
    shutil.copy(hdr, tmp_path / hdr.name)
    h = getattr(nib, klass).header_class.from_fileobj(open(hdr, "rb"))
    n = int(np.prod(h.get_data_shape())) * h.get_data_dtype().itemsize + int(h.get_data_offset())
    (tmp_path / f"{name}.img").write_bytes(np.random.default_rng(1).bytes(n))
    ref = nib.load(str(tmp_path / hdr.name))
    assert type(ref).__name__ == klass
    for path in (tmp_path / f"{name}.hdr", tmp_path / f"{name}.img"):  # either half names the pair
        ours = imaging.read_nifti(str(path))
        np.testing.assert_array_equal(ours.geometry.affine_ras(), ref.affine)
        np.testing.assert_array_equal(ours.fdata(), ref.get_fdata())
        assert ours.dtype == str(ref.get_data_dtype().newbyteorder("="))


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("ext", [".img", ".hdr.gz"])
def test_pairs_nibabel_writes_read_equal_and_ours_read_in_nibabel(tmp_path, endian, ext):
    rng = np.random.default_rng(5)
    data = rng.normal(size=(7, 6, 5, 3)).astype(endian + "f4")
    aff = np.array([[0.0, -0.9, 0.1, 12.0], [1.1, 0.0, 0.0, -30.0], [0.0, 0.1, 2.0, 4.5], [0, 0, 0, 1]])
    img = nib.Nifti1Pair(data, aff, nib.Nifti1Header(endianness=endian))
    img.header.set_slope_inter(2.0, -1.0)
    src = tmp_path / f"nib{ext}"
    nib.save(img, str(src))
    ref = nib.load(str(src))
    ours = imaging.read_nifti(str(src))
    np.testing.assert_allclose(ours.geometry.affine_ras(), ref.affine, atol=1e-6)
    np.testing.assert_array_equal(ours.fdata(), ref.get_fdata())
    # ours -> nibabel, and a round trip through our writer is exact
    dst = tmp_path / f"ours{ext}"
    imaging.write_nifti(ours, str(dst))
    back = nib.load(str(dst))
    assert back.header["magic"] == b"ni1"
    np.testing.assert_allclose(back.affine, ref.affine, atol=1e-6)
    np.testing.assert_array_equal(back.get_fdata(), ref.get_fdata())
    again = imaging.read_image(str(dst))
    np.testing.assert_array_equal(again.array, ours.array)
    np.testing.assert_array_equal(again.geometry.affine_ras(), ours.geometry.affine_ras())


def test_nifti2_pair_round_trip(tmp_path):
    g = imaging.Geometry((5, 4, 3), (0.5, 0.6, 0.7), (1.0, 2.0, 3.0))
    a = np.arange(60, dtype=np.int16).reshape(5, 4, 3, order="F")
    imaging.write_nifti(imaging.Image(a, g), str(tmp_path / "x.hdr"), version=2)
    ref = nib.load(str(tmp_path / "x.hdr"))
    assert type(ref).__name__ == "Nifti2Pair"
    np.testing.assert_array_equal(ref.get_fdata(), a)
    np.testing.assert_allclose(ref.affine, g.affine_ras(), atol=1e-12)


def test_pair_errors(tmp_path):
    with pytest.raises(sportsmed.NotFound):
        imaging.read_nifti(str(tmp_path / "none.hdr"))
    g = imaging.Geometry((5, 4, 3))
    imaging.write_nifti(imaging.Image(np.zeros((5, 4, 3), np.float32), g), str(tmp_path / "x.hdr"))
    (tmp_path / "x.img").write_bytes(b"\0" * 100)  # 240 bytes needed
    with pytest.raises(sportsmed.FormatError, match="shorter"):
        imaging.read_nifti(str(tmp_path / "x.hdr"))
    (tmp_path / "x.img").unlink()
    with pytest.raises(sportsmed.NotFound, match="x.img"):
        imaging.read_nifti(str(tmp_path / "x.hdr"))
    analyze = NIB_DATA / "analyze.hdr"
    if analyze.exists():
        shutil.copy(analyze, tmp_path / "a.hdr")
        (tmp_path / "a.img").write_bytes(b"\0" * (91 * 109 * 91))
        with pytest.raises(sportsmed.FormatError, match="Analyze"):
            imaging.read_nifti(str(tmp_path / "a.hdr"))
