"""Python habits (issue 22 §3): labelled DataFrames and the calls a Python user writes first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sportsmed


def test_cycle_summary_names_columns_by_joint_plane_and_side():
    """Columns say what they are (left_knee_flexion_deg_mean), from the DataFrame's columns
    or the Plug-in Gait layout; numbers against numpy's interpolation of each cycle."""
    motion = pytest.importorskip("sportsmed.motion")
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=(400, 9)), axis=0)
    strikes = [10.0, 131.5, 250.25, 390.0]
    frame = motion.angles_frame(x, 100.0)
    by_frame = motion.cycle_summary(frame, strikes, side="L")
    by_array = motion.cycle_summary(x, strikes, side="left")
    assert list(by_frame.columns) == list(by_array.columns)
    assert list(by_frame.columns[:4]) == ["left_hip_flexion_deg_mean", "left_hip_flexion_deg_sd",
                                          "left_hip_abduction_deg_mean", "left_hip_abduction_deg_sd"]
    assert not any(c.startswith(("mean_", "sd_")) for c in by_frame.columns)
    knee = x[:, 3]  # knee flexion: fourth column of the Plug-in Gait layout
    ref = np.stack([np.interp(np.linspace(a, b, 101), np.arange(400), knee) for a, b in zip(strikes, strikes[1:])])
    np.testing.assert_allclose(by_frame["left_knee_flexion_deg_mean"], ref.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(by_frame["left_knee_flexion_deg_sd"], ref.std(axis=0, ddof=1), atol=1e-12)
    sided = motion.angles_frame(x, 100.0, side="left")
    assert list(sided.columns) == ["left_" + c for c in motion.ANGLE_COLUMNS]
    pd.testing.assert_frame_equal(motion.cycle_summary(sided, strikes, side="L"), by_frame)
    two = motion.cycle_summary(x[:, :2], strikes, names=["a_deg", "b_deg"], side="R")
    assert list(two.columns) == ["right_a_deg_mean", "right_a_deg_sd", "right_b_deg_mean", "right_b_deg_sd"]
    with pytest.raises(sportsmed.InvalidArgument, match="without names"):
        motion.cycle_summary(x[:, :3], strikes)
    with pytest.raises(sportsmed.InvalidArgument, match="2 names for 3 channels"):
        motion.cycle_summary(x[:, :3], strikes, names=["a", "b"])


def test_metrics_table_takes_the_label_list_of_a_model_spec():
    """`metrics_table(..., names=seg.model_spec(m)["labels"])`: item i names label i, as the
    dict {i: name} does (it raised AttributeError)."""
    imaging = pytest.importorskip("sportsmed.imaging")
    labels = ["background", "femur", "tibia", "patella"]
    try:
        from sportsmed import seg

        spec = seg.model_spec(seg.create_model(seg.unet_spec(labels, [16, 16, 16], [1.0] * 3, base_features=2,
                                                             levels=2)))
        labels = spec["labels"]
        assert isinstance(labels, list)
    except sportsmed.PillarNotAvailable:
        pass
    gt = np.zeros((12, 12, 12), np.uint8)
    gt[2:6, 2:10, 2:10], gt[6:10, 2:10, 2:10], gt[3:5, 3:5, 10:12] = 1, 2, 3
    pred = gt.copy()
    pred[6, 2:10, 2:10] = 1  # one slab of tibia called femur
    by_list = imaging.metrics_table(gt, pred, (1.0, 1.0, 1.0), names=labels)
    by_dict = imaging.metrics_table(gt, pred, (1.0, 1.0, 1.0), names=dict(enumerate(labels)))
    pd.testing.assert_frame_equal(by_list, by_dict)
    assert list(by_list["tissue"]) == ["femur", "tibia", "patella"]
    # femur: 256 voxels + 64 wrong = 320 predicted; Dice = 2*256 / (256 + 320)
    assert by_list.loc[1, "dice"] == pytest.approx(2 * 256 / (256 + 320))
    with pytest.raises(TypeError, match="not a string"):
        imaging.metrics_table(gt, pred, (1.0, 1.0, 1.0), names="femur")
