"""DICOM folders as they come (issue 19 item 4): a truncated file is a FormatError naming it
(GDCM would zero-fill it), a folder with several series is listed and one is chosen, and
DICOM → NIfTI keeps the echo times for `mri t2map`. The real MESE series is copied into a
temporary folder by the test; nothing is written next to the shared data."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sportsmed

imaging = pytest.importorskip("sportsmed.imaging")


@pytest.fixture(scope="module")
def mese_folder():
    from conftest import shared_data_dir

    folder = shared_data_dir() / "mri" / "mese_t2"
    if not folder.exists():
        pytest.skip(f"shared data folder {folder} is absent")
    return folder


def _copy(src, dst, limit=None):
    dst.mkdir()
    files = sorted(p for p in src.iterdir() if p.is_file())
    for p in files[:limit] if limit else files:
        shutil.copy(p, dst / p.name)
    return sorted(dst.iterdir())


def _cli(*args):
    exe = shutil.which("sportsmed", path=os.path.dirname(sys.executable))
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=600)


def test_a_truncated_file_is_named_not_zero_filled(tmp_path, mese_folder):
    files = _copy(mese_folder, tmp_path / "series")
    victim = files[len(files) // 2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - 256 * 256 * 2 // 3])  # a third of the slice cut
    with pytest.raises(sportsmed.FormatError, match=f"{victim.name}.*truncated"):
        imaging.read_dicom_series(str(tmp_path / "series"))
    # One byte short is still short.
    victim.write_bytes(data[:-1])
    with pytest.raises(sportsmed.FormatError, match="truncated"):
        imaging.read_dicom_series(str(tmp_path / "series"))
    victim.write_bytes(data)
    assert imaging.read_dicom_series(str(tmp_path / "series"))["array"].shape == (256, 256, 24, 8)


def _second_series(folder, dst, uid_old: bytes, uid_new: bytes, desc_old: bytes, desc_new: bytes):
    """A copy of the series under another SeriesInstanceUID and description (same lengths)."""
    dst.mkdir(exist_ok=True)
    for p in sorted(folder.iterdir()):
        raw = p.read_bytes()
        assert uid_old in raw
        (dst / ("B_" + p.name)).write_bytes(raw.replace(uid_old, uid_new).replace(desc_old, desc_new))


def test_a_folder_with_two_series_is_listed_and_one_is_chosen(tmp_path, mese_folder):
    ref = imaging.read_dicom_series(str(mese_folder))
    uid, desc = ref["series_uid"], ref["description"]
    mixed = tmp_path / "mixed"
    _copy(mese_folder, mixed)
    new_uid = uid[:-1] + ("7" if uid[-1] != "7" else "8")
    new_desc = ("X" + desc[1:]) if desc else desc
    _second_series(mese_folder, mixed, uid.encode(), new_uid.encode(), desc.encode(), new_desc.encode())
    found = imaging.list_dicom_series(str(mixed))
    assert sorted(f["series_uid"] for f in found) == sorted([uid, new_uid])
    assert all(f["files"] == 192 and len(f["te_ms"]) == 8 for f in found)
    with pytest.raises(sportsmed.FormatError, match="holds 2 series"):
        imaging.read_dicom_series(str(mixed))
    for choice in (uid, new_uid, new_desc if new_desc != desc else new_uid):
        s = imaging.read_dicom_series(str(mixed), choice)
        np.testing.assert_array_equal(s["array"], ref["array"])
    with pytest.raises(sportsmed.NotFound, match="no series 'nope'"):
        imaging.read_dicom_series(str(mixed), "nope")
    r = _cli("mri", "info", mixed, "--json")
    assert r.returncode == 0 and "--series" in r.stderr
    assert {s["series_uid"] for s in json.loads(r.stdout)["series"]} == {uid, new_uid}


def test_dicom_to_nifti_keeps_echo_times_for_t2map(tmp_path, mese_folder):
    out = tmp_path / "mese.nii.gz"
    r = _cli("mri", "convert", mese_folder, out)
    assert r.returncode == 0, r.stderr
    side = json.loads((tmp_path / "mese.json").read_text())
    np.testing.assert_allclose(side["EchoTimes_ms"], 6.312 * np.arange(1, 9), atol=1e-6)
    r = _cli("mri", "t2map", out, "-o", tmp_path / "t2.nii.gz", "--threshold", "300")
    assert r.returncode == 0, r.stderr  # no --te needed


_MUTANTS = r"""
import os, random, sys, tempfile
import sportsmed, sportsmed.imaging as im
src = open(sys.argv[1], "rb").read()
rng = random.Random(1)
counts = {"ok": 0, "typed": 0}
with tempfile.TemporaryDirectory() as d:
    for i in range(int(sys.argv[2])):
        data = bytearray(src)
        k = rng.random()
        if k < 0.4:
            data = data[: rng.randrange(1, 4000)]
        elif k < 0.6:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randint(1, 30)):
                data[rng.randrange(0, min(len(data), 2000))] = rng.randrange(256)
        with open(os.path.join(d, "a.dcm"), "wb") as f:
            f.write(data)
        try:
            im.read_dicom_series(d)
            counts["ok"] += 1
        except sportsmed.Error:
            counts["typed"] += 1
print(counts)
"""


def test_mutated_files_never_take_the_process_down(tmp_path, mese_folder):
    """Truncated and bit-flipped copies of a real slice (issue 21): GDCM asserts, and aborts
    the process, on malformed element headers; the structural check before it turns every
    such file into a typed error. 120 mutants (14 aborted the process before the check)."""
    first = sorted(mese_folder.iterdir())[0]
    r = subprocess.run([sys.executable, "-c", _MUTANTS, str(first), "120"], capture_output=True, text=True,
                       errors="replace", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    counts = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    assert counts["ok"] + counts["typed"] == 120
