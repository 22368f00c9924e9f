"""`sportsmed mri` subcommands end to end on the phantom (checked against the library)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

imaging = pytest.importorskip("sportsmed.imaging")
import sportsmed  # noqa: E402
from sportsmed.cli import EXIT_UNAVAILABLE  # noqa: E402


def run(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("sportsmed", path=os.path.dirname(sys.executable)) or shutil.which("sportsmed")
    assert exe, "the sportsmed console script is not installed next to this Python"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    r = run("mri", "phantom", "-o", str(out), "--spacing", "1.0", "--seed", "2")
    assert r.returncode == 0, r.stderr
    return out


def test_phantom_files_match_the_library(phantom_dir):
    ph = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), seed=2)
    labels = imaging.read_nifti(str(phantom_dir / "labels.nii.gz"))
    np.testing.assert_array_equal(labels.array, ph["labels"])
    np.testing.assert_allclose(labels.geometry.origin, ph["geometry"].origin, atol=1e-5)
    mese = imaging.read_nifti(str(phantom_dir / "mese.nii.gz"))
    np.testing.assert_allclose(mese.fdata(), ph["echoes"].astype(np.float32))
    meta = json.loads((phantom_dir / "phantom.json").read_text())
    assert meta["te_ms"] == pytest.approx(list(ph["te_ms"]))


def test_info_convert_metrics_thickness_t2map(phantom_dir, tmp_path):
    labels = phantom_dir / "labels.nii.gz"
    r = run("mri", "info", str(labels), "--json")
    assert r.returncode == 0, r.stderr
    facts = json.loads(r.stdout)
    assert facts["dtype"] == "uint8" and facts["spacing_mm"] == pytest.approx([1, 1, 1])
    nrrd = tmp_path / "labels.nrrd"
    assert run("mri", "convert", str(labels), str(nrrd)).returncode == 0
    np.testing.assert_array_equal(imaging.read_nrrd(str(nrrd)).array, imaging.read_nifti(str(labels)).array)
    csv = tmp_path / "m.csv"
    r = run("mri", "metrics", str(labels), str(nrrd), "--labels", "1", "5", "--csv", str(csv))
    assert r.returncode == 0, r.stderr
    import pandas as pd

    table = pd.read_csv(csv, index_col="label")
    assert (table["dice"] == 1.0).all() and (table["hausdorff_mm"] == 0).all()
    out = tmp_path / "thick.nii.gz"
    r = run("mri", "thickness", str(labels), "-o", str(out), "--cartilage", "1", "--bone", "5")
    assert r.returncode == 0, r.stderr
    lab = imaging.read_nifti(str(labels))
    ref = imaging.cartilage_thickness(lab.array, lab.geometry.spacing, 1, 5)
    got = imaging.read_nifti(str(out)).fdata()
    np.testing.assert_allclose(got, ref["map"].astype(np.float32), equal_nan=True)
    t2 = tmp_path / "t2.nii.gz"
    meta = json.loads((phantom_dir / "phantom.json").read_text())
    r = run("mri", "t2map", str(phantom_dir / "mese.nii.gz"), "-o", str(t2), "--threshold", "0.5",
            "--te", *map(str, meta["te_ms"]))
    assert r.returncode == 0, r.stderr
    t2map = imaging.read_nifti(str(t2)).fdata()
    pure_cart = (lab.array == 1)
    assert abs(np.nanmedian(t2map[pure_cart]) / 35.0 - 1) < 0.03
    edt = tmp_path / "edt.nii.gz"
    assert run("mri", "edt", str(labels), str(edt), "--label", "5").returncode == 0
    np.testing.assert_allclose(imaging.read_nifti(str(edt)).fdata(),
                               imaging.distance_transform(lab.array == 5, (1, 1, 1)).astype(np.float32))


def test_bad_file_is_a_plain_error(tmp_path):
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"x" * 10)
    r = run("mri", "info", str(bad))
    assert r.returncode == 1 and "bad.nii" in r.stderr


def test_segmentation_subcommands_belong_to_the_seg_pillar():
    if "seg" in sportsmed.available_pillars():
        pytest.skip("seg is built")
    for cmd in ("segment", "train-seg"):
        r = run("mri", cmd, "x")
        assert r.returncode == EXIT_UNAVAILABLE
        assert "the seg pillar" in r.stderr
