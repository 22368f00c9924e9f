"""Self-describing label maps (issue 19 item 2): `mri segment` then `mri thickness` with
defaults measures the femoral cartilage whatever the numbering; a map without names is
refused rather than read in some numbering; a foreign map is described by a mapping file
(JSON or a Slicer colour table); an implausible thickness is a warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sportsmed
from sportsmed import imaging


def _cli(*args):
    exe = shutil.which("sportsmed", path=os.path.dirname(sys.executable))
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def phantom():
    return imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(84.0, 84.0, 84.0), seed=3)


def _mean_thickness(stdout: str) -> float:
    line = next(l for l in stdout.splitlines() if "thickness mean" in l)
    return float(line.split("thickness mean")[1].split("mm")[0])


def test_sidecar_round_trip_and_path(tmp_path):
    p = tmp_path / "knee.nii.gz"
    assert imaging.label_names_path(p).name == "knee.labels.json"
    assert imaging.label_names_path(tmp_path / "a.nrrd").name == "a.labels.json"
    assert imaging.read_label_names(p) is None
    imaging.write_label_names(p, {0: "background", 4: "femoral_cartilage"})
    assert imaging.read_label_names(p) == {0: "background", 4: "femoral_cartilage"}


def test_the_same_cartilage_in_two_numberings(tmp_path, phantom):
    """The phantom in pymskt numbering and renumbered as the model's classes: the default
    command (femoral cartilage on the femur, by name) gives the same thickness on both."""
    from sportsmed import seg

    lab, g = phantom["labels"], phantom["geometry"]
    a, b = tmp_path / "pymskt.nii.gz", tmp_path / "model.nii.gz"
    imaging.write_image(imaging.Image(lab, g), str(a))
    imaging.write_label_names(a, imaging.PYMSKT_LABEL_NAMES)
    imaging.write_image(imaging.Image(seg.remap_pymskt(lab), g), str(b))
    imaging.write_label_names(b, dict(enumerate(seg.KNEE_LABELS)))
    ra, rb = _cli("mri", "thickness", a, "-o", tmp_path / "ta.nii.gz"), _cli("mri", "thickness", b, "-o", tmp_path / "tb.nii.gz")
    assert ra.returncode == 0 and rb.returncode == 0, (ra.stderr, rb.stderr)
    # Reference: the library on the pymskt map with its numbers (1 on 5).
    ref = imaging.cartilage_thickness(lab, g.spacing, 1, 5, g)["thickness_mm"].mean()
    assert _mean_thickness(ra.stdout) == pytest.approx(ref, abs=1e-3)
    assert _mean_thickness(rb.stdout) == pytest.approx(ref, abs=1e-3)
    assert 1.0 < ref < 4.0  # the phantom's femoral cartilage, 1.7-3.1 mm
    assert "warning" not in ra.stderr + rb.stderr


def test_a_map_without_names_is_refused_not_guessed(tmp_path, phantom):
    from sportsmed import seg

    p = tmp_path / "unnamed.nii.gz"
    imaging.write_image(imaging.Image(seg.remap_pymskt(phantom["labels"]), phantom["geometry"]), str(p))
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz")
    assert r.returncode != 0 and "carries no label names" in r.stderr and "Traceback" not in r.stderr
    # Numbers given explicitly are the user's statement: label 4 on 1 in this numbering.
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz", "--cartilage", "4", "--bone", "1")
    assert r.returncode == 0, r.stderr
    # pymskt's numbers applied to this map (femur as "cartilage" on the tibial cartilage) are
    # the 32 mm case of the issue: no longer passed on quietly.
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz", "--cartilage", "1", "--bone", "5")
    assert r.returncode == 0 and _mean_thickness(r.stdout) > 8.0
    assert "warning: median thickness" in r.stderr
    # A label the map does not hold is refused.
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz", "--cartilage", "9", "--bone", "1")
    assert r.returncode != 0 and "has no voxel" in r.stderr
    with pytest.raises(sportsmed.InvalidArgument, match="no label is named 'meniscus'"):
        imaging.resolve_label({1: "femur"}, "meniscus", "cartilage", "x")


def test_implausible_thickness_is_a_warning(tmp_path, phantom):
    """Bone measured as 'cartilage' (femur on the tibia): a median far beyond cartilage."""
    p = tmp_path / "k.nii.gz"
    imaging.write_image(imaging.Image(phantom["labels"], phantom["geometry"]), str(p))
    imaging.write_label_names(p, imaging.PYMSKT_LABEL_NAMES)
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz", "--cartilage", "femur", "--bone", "tibia")
    assert r.returncode == 0, r.stderr
    assert "warning: median thickness" in r.stderr


def test_foreign_map_with_a_colour_table(tmp_path, phantom, shared_data):
    """A Slicer colour table names another numbering (the SPL knee atlas's: femoral cartilage
    83 on femur 95): renumber the phantom that way and measure by name."""
    table = shared_data("mri/spl_knee_atlas/knee.ctbl")
    names = imaging.read_label_mapping(table)
    assert names[83] == "femoral_cartilage" and names[95] == "femur"
    lab = phantom["labels"]
    spl = np.zeros_like(lab)
    spl[lab == 1], spl[lab == 5], spl[lab == 6] = 83, 95, 96
    p = tmp_path / "spl.nii.gz"
    imaging.write_image(imaging.Image(spl, phantom["geometry"]), str(p))
    r = _cli("mri", "thickness", p, "-o", tmp_path / "t.nii.gz", "--label-names", table)
    assert r.returncode == 0, r.stderr
    g = phantom["geometry"]
    ref = imaging.cartilage_thickness(spl, g.spacing, 83, 95, g)["thickness_mm"].mean()
    assert _mean_thickness(r.stdout) == pytest.approx(ref, abs=1e-3)


def test_json_mapping_file(tmp_path):
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"1": "femur", "2": "femoral_cartilage"}))
    assert imaging.read_label_mapping(m) == {1: "femur", 2: "femoral_cartilage"}
    bad = tmp_path / "bad.json"
    bad.write_text("{\"x\": 1}")
    with pytest.raises(sportsmed.FormatError):
        imaging.read_label_mapping(bad)
