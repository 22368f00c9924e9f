"""Segmentation and movement baselines on inputs they cannot handle: NaN voxels counted on the
input, constant images refused, a field of view smaller than the model's window and volumes no
knee holds reported, outputs checked before the work and never left half-written; cycles of
another task or unit refused, IK that does not overlap its trial refused, an autoencoder
baseline renamed with its files."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import sportsmed
from sportsmed import imaging, seg
from sportsmed.motion import anomaly

AB = "motion/addbiomechanics"


@pytest.fixture(scope="module")
def model():
    return seg.load_model(seg.default_model_path())


def test_nan_voxels_are_counted_on_the_input(model):
    img = np.random.default_rng(1).normal(size=(20, 18, 16)).astype(np.float32)
    img[2:5, 3:6, 4:7] = np.nan
    img[0, 0, 0] = np.inf
    with pytest.raises(sportsmed.InvalidArgument, match=f"contains {3 * 3 * 3 + 1} NaN or infinite voxels of "
                                                         f"{img.size}"):
        seg.segment(model, img, spacing_mm=(0.5, 0.5, 0.5))


def test_a_constant_image_is_refused(model):
    for value in (0.0, 7.5):
        with pytest.raises(sportsmed.InvalidArgument, match="no intensity variation"):
            seg.segment(model, np.full((30, 30, 30), value, np.float32))


def test_a_field_of_view_smaller_than_the_window_warns(model):
    window = min(p * s for p, s in zip(seg.model_spec(model)["patch_size"], seg.model_spec(model)["spacing_mm"]))
    img = np.random.default_rng(2).normal(size=(20, 20, 12)).astype(np.float32)  # 20 x 20 x 12 mm at 1 mm
    assert 12 < 0.9 * window
    with pytest.warns(seg.InputWarning, match="less than the model's"):
        seg.segment(model, img, spacing_mm=(1.0, 1.0, 1.0))
    big = np.random.default_rng(2).normal(size=(50, 50, 50)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", seg.InputWarning)
        seg.segment(model, big, spacing_mm=(1.0, 1.0, 1.0))


def test_volumes_no_knee_holds_are_reported():
    names = seg.KNEE_LABELS
    lab = np.zeros((100, 100, 100), np.uint8)  # 1 mm voxels: 1000 voxels = 1 cm³
    lab[:40, :40, :40] = names.index("patella")          # 64 cm³
    lab[50:60, 50:60, 50:90] = names.index("femur")
    out = seg.knee_volume_warnings(lab, (1.0, 1.0, 1.0))
    assert len(out) == 1 and out[0].startswith("patella: 64.0 cm³")
    assert seg.knee_volume_warnings(lab, (0.5, 0.5, 0.5)) == []  # the same voxels at 0.5 mm: 8 cm³
    assert "no femur, tibia or patella" in seg.knee_volume_warnings(np.zeros((5, 5, 5), np.uint8), (1, 1, 1))[0]
    assert seg.knee_volume_warnings(lab, (1, 1, 1), ["background", "liver"]) == []  # not a knee model
    # the same count by numpy (the function counts in C++)
    assert float(np.count_nonzero(lab == names.index("patella"))) / 1000.0 == pytest.approx(64.0)


def test_segment_itself_warns_of_volumes_no_knee_holds(model):
    """A library caller is told too: noise over 150 mm (3 mm voxels) gets cartilage volumes no
    knee has, and the warnings are those of knee_volume_warnings on the labels returned."""
    img = np.random.default_rng(5).normal(size=(50, 50, 50)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", seg.InputWarning)
        labels, _ = seg.segment(model, img, spacing_mm=(3.0, 3.0, 3.0))
    said = [str(w.message) for w in caught if issubclass(w.category, seg.InputWarning)]
    assert said and said == seg.knee_volume_warnings(labels, (3.0, 3.0, 3.0))


def test_cli_segment_checks_outputs_first_and_leaves_nothing(tmp_path):
    g = imaging.Geometry((24, 24, 24), (2.0, 2.0, 2.0), (0.0, 0.0, 0.0))
    src = tmp_path / "in.nii.gz"
    imaging.write_image(imaging.Image(np.random.default_rng(3).normal(size=(24, 24, 24)).astype(np.float32), g),
                        str(src))
    exe = [sys.executable, "-m", "sportsmed", "--threads", "1", "mri", "segment", str(src)]
    for args, msg in (([str(tmp_path / "o.png")], "give a .nii"),
                      ([str(tmp_path / "o.nii.gz"), "--probabilities", str(tmp_path / "nodir" / "p.nii.gz")],
                       "no folder"),
                      ([str(src)], "different files")):
        r = subprocess.run(exe + args + ["--no-context"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 1 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "segment" not in r.stdout  # failed before any work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.nii.gz"]


def test_cycles_of_another_task_or_unit_are_refused(shared_data):
    walk = anomaly.segment_trial(shared_data(f"{AB}/walking1.trc"), shared_data(f"{AB}/walking1_ik.mot"),
                                 task="gait", unit="window")
    squat = anomaly.segment_trial(shared_data(f"{AB}/squats1.trc"), shared_data(f"{AB}/squats1_ik.mot"),
                                  task="squat", unit="window")
    assert walk.kinds() == {("gait", "window")} and squat.kinds() == {("squat", "window")}
    if list(walk.channels) == list(squat.channels):
        with pytest.raises(sportsmed.InvalidArgument, match="different tasks"):
            walk + squat
    with pytest.raises(sportsmed.InvalidArgument, match="a baseline is one task"):
        anomaly.fit_baseline(squat, task="gait", unit="window")
    base = anomaly.fit_baseline(walk, task="gait", unit="window")
    if list(walk.channels) == list(squat.channels):
        with pytest.raises(sportsmed.InvalidArgument, match="score the same task"):
            base.score(squat)


def test_ik_outside_its_trial_is_refused(shared_data, tmp_path):
    src = shared_data(f"{AB}/walking2_ik.mot")
    lines = src.read_text(encoding="latin-1").splitlines(keepends=True)
    end = next(i for i, ln in enumerate(lines) if ln.strip().lower() == "endheader")
    header = lines[end + 1]
    out = lines[:end + 2]
    t_col = header.split().index("time")
    for ln in lines[end + 2:]:
        cells = ln.split("\t") if "\t" in ln else ln.split()
        cells[t_col] = f"{float(cells[t_col]) + 100.0:.4f}"
        out.append("\t".join(c.strip() for c in cells) + "\n")
    shifted = tmp_path / "w2_shift.mot"
    shifted.write_text("".join(out))
    with pytest.raises(sportsmed.InvalidArgument, match="lies outside the trial"):
        anomaly.segment_trial(shared_data(f"{AB}/walking2.trc"), shifted, task="gait", unit="window")
