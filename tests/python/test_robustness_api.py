"""The Python API as a notebook uses it: zero-size and NaN images, arrays of the other byte
order, label maps that would wrap in uint8, tables built with pd.concat, string athlete ids —
typed errors or right answers (against numpy / pandas / nibabel / sklearn), never a crash or a
silently different number."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import imaging, risk


@pytest.mark.parametrize("shape", [(0, 3, 3), (0, 0, 0)])
def test_normalize_percentile_of_an_empty_image_is_an_error(shape):
    with pytest.raises(sportsmed.InvalidArgument, match="no voxel"):
        imaging.normalize_percentile(np.zeros(shape))


def test_normalisations_refuse_nan():
    img = np.random.default_rng(0).gamma(2.0, size=(6, 5, 4))
    img[1, 1, 1] = np.nan
    with pytest.raises(sportsmed.InvalidArgument, match="NaN or infinite"):
        imaging.normalize_percentile(img)
    with pytest.raises(sportsmed.InvalidArgument, match="NaN or infinite"):
        imaging.normalize_zscore(img)


def test_image_from_an_array_of_the_other_byte_order(tmp_path):
    g = imaging.Geometry((2, 3, 4), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    for dt in (">f4", ">i2", "<f8"):
        a = np.arange(24, dtype=dt).reshape(2, 3, 4)
        np.testing.assert_array_equal(np.asarray(imaging.Image(a, g).array), np.arange(24).reshape(2, 3, 4))
    # nibabel's view of a big-endian file
    hdr = nib.Nifti1Header(endianness=">")
    nib.save(nib.Nifti1Image(np.arange(24, dtype=">i2").reshape(2, 3, 4), np.eye(4), hdr), tmp_path / "be.nii")
    ref = nib.load(tmp_path / "be.nii")
    ours = imaging.Image.from_nibabel(ref)
    np.testing.assert_array_equal(np.asarray(ours.fdata()), ref.get_fdata())


def test_dice_per_class_never_wraps_labels():
    seg = pytest.importorskip("sportsmed.seg")
    big = np.array([[[258]]], np.int16)
    with pytest.raises(sportsmed.InvalidArgument, match="258"):
        seg.dice_per_class(big, np.array([[[2]]], np.uint8), 3)
    with pytest.raises(sportsmed.InvalidArgument, match="1.6"):
        seg.dice_per_class(np.array([[[1.6]]]), np.array([[[1.0]]]), 2)
    a = np.array([[[0, 1, 2]]], np.int32)
    np.testing.assert_allclose(seg.dice_per_class(a, a, 3), [1.0, 1.0, 1.0])


def test_with_features_refuses_a_repeated_index():
    days = pd.date_range("2024-01-01", periods=40)
    parts = [pd.DataFrame({"athlete": name, "date": days, "daily_load": np.arange(40.0) * k, "injury": 0})
             for k, name in ((1, "A"), (2, "B"))]
    with pytest.raises(sportsmed.InvalidArgument, match="repeats labels"):
        risk.with_features(pd.concat(parts))
    ok = risk.with_features(pd.concat(parts, ignore_index=True))
    assert len(ok) == 80


def test_group_ids_of_any_kind():
    ids = np.array(["ann", "bob", "cy", "ann", "bob", "cy", "dee", "dee"])
    folds = risk.grouped_kfold(ids, 2, seed=1)
    codes = pd.factorize(ids)[0]
    np.testing.assert_array_equal(folds, risk.grouped_kfold(codes, 2, seed=1))
    for name in set(ids):
        assert len(set(folds[ids == name])) == 1
    y = np.array([0, 1, 0, 1, 1, 0, 0, 1])
    s = np.linspace(0, 1, 8)
    a = risk.cluster_bootstrap(y, s, pd.Series(ids), replicates=50)
    b = risk.cluster_bootstrap(y, s, codes, replicates=50)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    with pytest.raises(sportsmed.InvalidArgument, match="missing"):
        risk.grouped_kfold(np.array(["a", None, "b"], dtype=object), 2)
