"""Sizes read from a header are checked against what the file can hold before anything is
allocated (issue 19 item 6, issue 21): impossible headers are FormatErrors, never a
MemoryError or a multi-gigabyte allocation."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest

import sportsmed
from sportsmed import imaging


def test_gzip_nrrd_declaring_60000_cubed_is_a_format_error(tmp_path):
    p = tmp_path / "huge.nrrd"
    header = ("NRRD0004\ntype: uint8\ndimension: 3\nsizes: 60000 60000 60000\nencoding: gzip\n\n").encode()
    p.write_bytes(header + gzip.compress(b"\0" * 1000))
    with pytest.raises(sportsmed.FormatError, match="compressed bytes can hold at most"):
        imaging.read_nrrd(str(p))


def test_nrrd_sizes_whose_product_overflows(tmp_path):
    p = tmp_path / "overflow.nrrd"
    p.write_bytes(b"NRRD0004\ntype: double\ndimension: 3\nsizes: 4294967296 4294967296 4294967296\n"
                  b"encoding: raw\n\n" + b"\0" * 64)
    with pytest.raises(sportsmed.FormatError, match="exceed 2\\^48 bytes"):
        imaging.read_nrrd(str(p))


def test_a_gzip_trailer_claiming_4gb_does_not_size_the_buffer(tmp_path):
    """A small .nii.gz whose gzip trailer (ISIZE) says 4 GB: under a 1.5 GB memory limit the
    answer is the typed error of a corrupt stream (zlib checks ISIZE; Python's gzip refuses
    it too), not a MemoryError from a 4 GB buffer."""
    img = imaging.Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4, order="F"),
                        imaging.Geometry([2, 3, 4]))
    p = tmp_path / "small.nii.gz"
    imaging.write_nifti(img, str(p))
    raw = bytearray(p.read_bytes())
    raw[-4:] = struct.pack("<I", 0xFFFFFFF0)
    p.write_bytes(bytes(raw))
    code = f"""
import resource, sportsmed.imaging as im
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
import sportsmed
try:
    im.read_nifti({str(p)!r})
    print("read")
except sportsmed.FormatError as e:
    print("FormatError", e)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("FormatError") and "small.nii.gz" in r.stdout
    with pytest.raises(gzip.BadGzipFile):  # the independent reader agrees the file is corrupt
        gzip.decompress(p.read_bytes())


def test_nifti_dims_whose_product_overflows(tmp_path):
    img = imaging.Image(np.zeros((2, 2, 2), np.float32), imaging.Geometry([2, 2, 2]))
    p = tmp_path / "five.nii"
    imaging.write_nifti(img, str(p))
    raw = bytearray(p.read_bytes())
    struct.pack_into("<8h", raw, 40, 5, 16384, 16384, 16384, 16384, 16384, 1, 1)
    p.write_bytes(bytes(raw))
    with pytest.raises(sportsmed.FormatError):
        imaging.read_nifti(str(p))


@pytest.mark.parametrize("spacing, direction", [([0, 1, 1], np.eye(3)), ([-1, 1, 1], np.eye(3)),
                                                ([np.nan, 1, 1], np.eye(3)), ([1, 1, 1], np.zeros((3, 3))),
                                                ([1, 1, 1], [[1, 0, 0], [1, 0, 0], [0, 0, 1]])])
def test_a_geometry_that_makes_distances_wrong_is_refused(spacing, direction):
    """Zero, negative or NaN spacing and singular directions (issue 21) are InvalidArguments."""
    with pytest.raises(sportsmed.InvalidArgument, match="Geometry"):
        imaging.Geometry([2, 2, 2], spacing, [0, 0, 0], np.asarray(direction, float))
