"""Label maps and masks in the types they come in (issue 19 items 3 and 7): never a silent
uint8 wrap (label 300 merged into 44), masks read as value != 0, and -0.0 kept as nibabel
keeps it."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import imaging as im


def _labels(dtype):
    a = np.zeros((24, 20, 16), dtype)
    a[2:8, 2:8, 2:8] = 44
    a[12:20, 10:18, 6:14] = 45
    return a


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int16, np.int32, np.int64, np.float32, np.float64])
def test_label_maps_of_every_integer_type_give_the_uint8_answer(dtype):
    ref = _labels(np.uint8)
    other = _labels(dtype)
    spacing = [0.5, 0.6, 1.0]
    np.testing.assert_array_equal(im.label_volumes_mm3(other, spacing), im.label_volumes_mm3(ref, spacing))
    # Volumes against a count: 6^3 and 8^3 voxels.
    assert im.label_volumes_mm3(other, spacing)[44] == pytest.approx(216 * 0.3)
    assert im.label_volumes_mm3(other, spacing)[45] == pytest.approx(512 * 0.3)
    m_ref = im.segmentation_metrics(ref, ref, spacing)
    m_other = im.segmentation_metrics(other, other, spacing)
    assert [m["label"] for m in m_other] == [m["label"] for m in m_ref] == [44, 45]


@pytest.mark.parametrize("value, dtype", [(300, np.uint16), (-1, np.int32), (256, np.int64), (0.5, np.float64)])
def test_labels_outside_uint8_or_not_whole_are_refused(value, dtype):
    a = _labels(dtype)
    a[0, 0, 0] = value
    with pytest.raises(sportsmed.InvalidArgument, match="label map of dtype"):
        im.label_volumes_mm3(a, [1, 1, 1])
    with pytest.raises(sportsmed.InvalidArgument):
        im.as_label_map(a)


def test_masks_of_any_type_are_value_not_zero():
    """A probability map of 0.5 is inside (a uint8 cast made it 0 and its EDT 0)."""
    m = np.zeros((30, 30, 30))
    m[5:25, 5:25, 5:25] = 0.5
    ref = im.distance_transform((m != 0).astype(np.uint8), [1, 1, 1])
    np.testing.assert_array_equal(im.distance_transform(m, [1, 1, 1]), ref)
    assert ref.max() == 10.0  # the centre of a 20-voxel cube is 10 voxels from outside
    np.testing.assert_array_equal(im.distance_transform(m.astype(np.float32) * 300, [1, 1, 1]), ref)
    labels16, n = im.label_components(_labels(np.uint16) * 7, 26)
    assert n == 2


def test_negative_zero_survives_identity_scaling(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.array([-0.0, 0.0, 1.5, -2.0], np.float32).reshape(2, 2, 1)
    img = nib.Nifti1Image(data, np.eye(4))
    img.header.set_slope_inter(1.0, 0.0)
    path = tmp_path / "z.nii"
    nib.save(img, str(path))
    ref = nib.load(str(path)).get_fdata()
    back = im.read_nifti(str(path)).fdata()
    np.testing.assert_array_equal(np.signbit(back), np.signbit(ref))
    assert np.signbit(back[0, 0, 0]) and not np.signbit(back[1, 0, 0])
