"""MRI audit (imaging pillar): label maps paired by name in metrics, implausible and
thick-slice cartilage thickness warned about, --side checked against the labels, ITK-SNAP
label files, echo times in seconds refused, no output left behind by a failing command,
and accurate messages (labels beyond 255, ambiguous names, doubly defined labels, 4-D)."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import imaging
from sportsmed.cli import main


def _run(capsys, *argv):
    code = main(["--threads", "1", "--progress", "none", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _save(path, labels, spacing=(1.0, 1.0, 1.0), names=None):
    g = imaging.Geometry(list(labels.shape[:3]), list(spacing), [0.0, 0.0, 0.0])
    imaging.write_image(imaging.Image(np.asfortranarray(labels), g), str(path))
    if names is not None:
        imaging.write_label_names(path, names)
    return path


def _slab(thickness_vox=2):
    """A bone block (label 5) under a cartilage slab (label 1) of ``thickness_vox`` voxels
    along k, clear of the borders: its nearest-surface thickness is that many voxels."""
    a = np.zeros((24, 24, 20), np.uint8)
    a[4:20, 4:20, 3:10] = 5
    a[4:20, 4:20, 10:10 + thickness_vox] = 1
    return a


NAMES = {0: "background", 1: "femoral_cartilage", 5: "femur"}


def _mean(stdout):
    line = next(l for l in stdout.splitlines() if "thickness mean" in l)
    return float(line.split("thickness mean")[1].split("mm")[0])


# 1. metrics pairs structures by name -------------------------------------------------------

def _two_structure_map():
    a = np.zeros((20, 20, 12), np.uint8)
    a[3:10, 3:15, 2:9] = 1
    a[11:17, 5:16, 3:10] = 5
    return a


def test_metrics_pairs_labels_by_name(tmp_path, capsys):
    gt = _save(tmp_path / "gt.nii.gz", _two_structure_map(), names=NAMES)
    renumbered = np.zeros_like(_two_structure_map())
    renumbered[_two_structure_map() == 1] = 7
    renumbered[_two_structure_map() == 5] = 2
    pred = _save(tmp_path / "pred.nii.gz", renumbered, names={0: "background", 7: "femoral_cartilage", 2: "femur"})
    out = tmp_path / "m.csv"
    code, _, err = _run(capsys, "mri", "metrics", gt, pred, "--labels", 1, 5, "-o", out)
    assert code == 0, err
    table = pd.read_csv(out, index_col="label")
    # The same voxels under other numbers: a perfect prediction, reported in GT's numbers.
    assert list(table.index) == [1, 5]
    assert table["dice"].tolist() == [1.0, 1.0]
    assert table["voxels_pred"].tolist() == [int((_two_structure_map() == v).sum()) for v in (1, 5)]


def test_metrics_refuses_contradicting_names_and_warns_when_one_is_named(tmp_path, capsys):
    a = _two_structure_map()
    gt = _save(tmp_path / "gt.nii.gz", a, names=NAMES)
    pred = _save(tmp_path / "pred.nii.gz", a, names={0: "background", 1: "tibia", 5: "femur"})
    code, _, err = _run(capsys, "mri", "metrics", gt, pred, "--labels", 1)
    assert code == 1 and "contradict" in err and "femoral_cartilage" in err and "'tibia'" in err
    bare = _save(tmp_path / "bare.nii.gz", a)
    code, out, err = _run(capsys, "mri", "metrics", gt, bare, "--labels", 1)
    assert code == 0 and "warning:" in err and "paired by number" in err


# 2-3. thickness plausibility -----------------------------------------------------------------

@pytest.mark.parametrize("scale, expect", [(1.0, None), (3.8, "above knee cartilage"),
                                           (0.001, "wrong unit")])
def test_thickness_outside_the_physiological_range_warns(tmp_path, capsys, scale, expect):
    p = _save(tmp_path / "k.nii.gz", _slab(2), spacing=(scale, scale, scale), names=NAMES)
    code, out, err = _run(capsys, "mri", "thickness", p, "-o", tmp_path / "t.nii.gz")
    assert code == 0, err
    # Reference: the library on the same labels and spacing.
    ref = imaging.cartilage_thickness(_slab(2), (scale,) * 3, 1, 5)["thickness_mm"].mean()
    assert _mean(out) == pytest.approx(ref, abs=1e-3)
    if expect is None:
        assert 1.0 < ref < 4.0 and "warning" not in err
    else:
        assert "mean thickness" in err and expect in err
    assert ("thick slices" in err) == (scale > 1.5)


def test_thick_slices_warn(tmp_path, capsys):
    p = _save(tmp_path / "k.nii.gz", _slab(1), spacing=(0.5, 0.5, 2.0), names=NAMES)
    code, out, err = _run(capsys, "mri", "thickness", p, "-o", tmp_path / "t.nii.gz")
    assert code == 0 and "largest voxel dimension is 2 mm" in err and "overestimated on thick slices" in err
    assert imaging.thickness_warnings(2.0, (0.5, 0.5, 1.5)) == []


# 4. --side against the labels --------------------------------------------------------------

@pytest.fixture(scope="module")
def lopsided_knee():
    """The phantom with the femoral cartilage removed beyond LPS x = +20 mm: medial and
    lateral femoral regions differ, so a swapped side shows."""
    ph = imaging.make_knee_phantom(spacing_mm=(1.0, 1.0, 1.0), extent_mm=(84.0, 84.0, 84.0), seed=3)
    lab, g = np.array(ph["labels"]), ph["geometry"]
    i = np.arange(lab.shape[0])
    x_lps = -(g.affine_ras()[0][0] * i + g.affine_ras()[0][3])
    lab[(x_lps > 20)[:, None, None] & (lab == 1)] = 0
    return lab, g


def test_side_that_contradicts_the_labels_is_refused(tmp_path, capsys, lopsided_knee):
    lab, g = lopsided_knee
    # Where the tibial cartilage labels lie (by hand): medial at larger LPS x means a right knee.
    med, lat = (np.argwhere(lab == v).mean(axis=0) for v in (2, 3))
    x = lambda ijk: -(np.asarray(g.affine_ras())[0] @ np.append(ijk, 1.0))  # noqa: E731
    truth = "right" if x(med) > x(lat) else "left"
    wrong = "left" if truth == "right" else "right"
    auto = imaging.regional_thickness_table(lab, g)
    # The library refuses too (it swapped the femoral rows only, leaving the tibial ones).
    with pytest.raises(sportsmed.InvalidArgument, match="contradicts the labels"):
        imaging.regional_thickness_table(lab, g, side=wrong)
    assert imaging.regional_thickness_table(lab, g, side=truth)["points"].to_dict() == auto["points"].to_dict()
    p = tmp_path / "k.nii.gz"
    imaging.write_image(imaging.Image(lab, g), str(p))
    imaging.write_label_names(p, imaging.PYMSKT_LABEL_NAMES)
    out = tmp_path / "t.nii.gz"
    code, _, err = _run(capsys, "mri", "thickness", p, "-o", out, "--regions", "--side", wrong[0].upper())
    assert code == 1 and "contradicts the labels" in err and not out.exists()
    csv = tmp_path / "r.csv"
    code, _, err = _run(capsys, "mri", "thickness", p, "-o", out, "--regions", csv, "--side", truth[0].upper())
    assert code == 0, err
    assert pd.read_csv(csv, index_col="region")["points"].to_dict() == auto["points"].to_dict()


def test_side_from_names():
    assert imaging.side_from_names(["left_femoral_cartilage", "Left Tibia"]) == "left"
    assert imaging.side_from_names(["femoral_cartilage", "tibia"]) is None
    assert imaging.side_from_names(["left femur", "right tibia"]) == "both"


# 5. colour tables: ITK-SNAP and 3D Slicer ---------------------------------------------------

def test_itk_snap_label_description_file(tmp_path):
    p = tmp_path / "labels.txt"
    p.write_text('################################################\n'
                 '# ITK-SnAP Label Description File\n'
                 '# Columns = IDX -R- -G- -B- -A-- VIS MSH LABEL\n'
                 '    0     0    0    0        0  0  0    "Clear Label"\n'
                 '    1   255    0    0        1  1  1    "Femoral Cartilage"\n'
                 '    5     0  255  255        1  1  1    "Femur"\n'
                 '   12   255  239  213      0.5  1  0    "Lateral Meniscus"\n')
    assert imaging.read_label_mapping(p) == {0: "Clear Label", 1: "Femoral Cartilage", 5: "Femur",
                                             12: "Lateral Meniscus"}
    names = imaging.read_label_mapping(p)
    # ITK-SNAP's spelling resolves to the structure names the commands use.
    assert imaging.resolve_label(names, "femoral_cartilage", "cartilage", "x") == 1


def test_slicer_colour_table_still_reads(shared_data, tmp_path):
    names = imaging.read_label_mapping(shared_data("mri/spl_knee_atlas/knee.ctbl"))
    # From the file's text: "83 femoral_cartilage 180 180 255 255", "95 femur 197 189 177 255".
    assert names[83] == "femoral_cartilage" and names[95] == "femur" and names[9] == "infrapatellar_fat_body"
    p = tmp_path / "t.ctbl"
    p.write_text('# Slicer\n0 background 0 0 0 0\n4 "femoral cartilage" 0 255 0 255\n')
    assert imaging.read_label_mapping(p) == {0: "background", 4: "femoral cartilage"}


# 6. T2: echo times in seconds, echoes out of order -----------------------------------------

def _two_tissue_mese(te):
    """Tissue A (T2 80 ms) and B (T2 12 ms) on a zero background; B is dark at long TE."""
    a = np.zeros((12, 12, 2, len(te)), np.float32)
    for t2, sl in ((80.0, np.s_[2:6, 2:10, :]), (12.0, np.s_[7:11, 2:10, :])):
        a[sl] = 1000.0 * np.exp(-np.asarray(te) / t2)
    return a


def test_t2_echo_times_in_seconds_are_refused(tmp_path, capsys):
    te = [10.0, 20.0, 40.0, 60.0]
    p = tmp_path / "m.nii.gz"
    nib.save(nib.Nifti1Image(_two_tissue_mese(te), np.eye(4)), str(p))
    out = tmp_path / "t2.nii.gz"
    code, _, err = _run(capsys, "mri", "t2map", p, "-o", out, "--te", *[t / 1000 for t in te])
    assert code == 1 and "look like seconds" in err and "milliseconds" in err
    assert list(tmp_path.iterdir()) == [p]


def test_t2_mask_uses_the_shortest_echo(tmp_path, capsys):
    te = [10.0, 20.0, 40.0, 60.0]
    order = [3, 0, 2, 1]  # stored with the longest echo first
    a = _two_tissue_mese(te)
    p = tmp_path / "m.nii.gz"
    nib.save(nib.Nifti1Image(a[..., order], np.eye(4)), str(p))
    code, out, err = _run(capsys, "mri", "t2map", p, "-o", tmp_path / "t2.nii.gz", "--te", *[te[i] for i in order])
    assert code == 0, err
    t2 = nib.load(str(tmp_path / "t2.nii.gz")).get_fdata()
    # Both tissues are fitted (at the longest echo B would fall under Otsu's threshold).
    assert np.allclose(t2[2:6, 2:10], 80.0, rtol=1e-3) and np.allclose(t2[7:11, 2:10], 12.0, rtol=1e-3)
    assert "TE 10 ms" in err


# 7. nothing written by a failing command -----------------------------------------------------

def test_failing_commands_write_nothing(tmp_path, capsys):
    bare = _save(tmp_path / "bare.nii.gz", _slab(2))
    part = tmp_path / "part.nii.gz"
    code, _, err = _run(capsys, "mri", "thickness", bare, "--cartilage", 1, "--bone", 5, "--regions", "-o", part)
    assert code == 1 and not part.exists() and "--label-names" in err and "say which label" not in err
    e42 = tmp_path / "e42.nii.gz"
    code, _, err = _run(capsys, "mri", "edt", bare, "--label", 42, "-o", e42)
    assert code == 1 and not e42.exists() and "label 42 has no voxel" in err
    ph = tmp_path / "ph2"
    code, _, err = _run(capsys, "mri", "phantom", "-o", ph, "--spacing", 0)
    assert code == 1 and not ph.exists() and "--spacing" in err


# 8. messages and labels beyond 255 -----------------------------------------------------------

def test_labels_beyond_255_keep_their_numbers(tmp_path, capsys):
    small = _slab(2)
    big = np.where(small > 0, small.astype(np.int16) * 1000 + 1, 0).astype(np.int16)
    p = _save(tmp_path / "big.nii.gz", big, names={0: "background", 1001: "femoral_cartilage", 5001: "femur"})
    code, out, err = _run(capsys, "mri", "thickness", p, "-o", tmp_path / "t.nii.gz")
    assert code == 0, err
    assert _mean(out) == pytest.approx(imaging.cartilage_thickness(small, (1, 1, 1), 1, 5)["thickness_mm"].mean(),
                                       abs=1e-3)
    csv = tmp_path / "m.csv"
    code, _, err = _run(capsys, "mri", "metrics", p, p, "--labels", 1001, 5001, "-o", csv)
    assert code == 0, err
    table = pd.read_csv(csv, index_col="label")
    assert list(table.index) == [1001, 5001] and table["dice"].tolist() == [1.0, 1.0]
    assert table["voxels_gt"].tolist() == [int((small == 1).sum()), int((small == 5).sum())]
    labels, numbers = imaging.compact_label_map(big)
    assert numbers.tolist() == [0, 1001, 5001] and np.array_equal(numbers[labels], big)


def test_ambiguous_and_doubly_defined_names(tmp_path, capsys):
    with pytest.raises(sportsmed.InvalidArgument, match="ambiguous"):
        imaging.resolve_label({1: "femoral_cartilage", 4: "femoral_cartilage"}, "femoral_cartilage", "cartilage", "x")
    ctbl = tmp_path / "contra.ctbl"
    ctbl.write_text("1 femoral_cartilage 255 0 0 255\n5 femur 0 0 255 255\n1 femur 0 0 0 255\n")
    with pytest.raises(sportsmed.FormatError, match="label 1 is defined twice"):
        imaging.read_label_mapping(ctbl)
    js = tmp_path / "twice.json"
    js.write_text('{"labels": {"1": "femoral_cartilage", "5": "femur", "1": "tibia"}}')
    assert json.loads(js.read_text())["labels"]["1"] == "tibia"  # what json alone would keep
    with pytest.raises(sportsmed.FormatError, match="given twice"):
        imaging.read_label_mapping(js)


def test_4d_label_map_names_the_file(tmp_path, capsys):
    p = tmp_path / "four.nii.gz"
    nib.save(nib.Nifti1Image(np.stack([_slab(2)] * 2, axis=-1), np.eye(4)), str(p))
    imaging.write_label_names(p, NAMES)
    for argv in (("edt", p, "-o", tmp_path / "e.nii.gz"), ("thickness", p, "-o", tmp_path / "t.nii.gz"),
                 ("metrics", p, p)):
        code, _, err = _run(capsys, "mri", *argv)
        assert code == 1 and "four.nii.gz" in err and "4-D" in err, err
    assert sorted(f.name for f in tmp_path.iterdir()) == ["four.labels.json", "four.nii.gz"]
