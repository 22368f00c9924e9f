"""Force plates through Python: TYPE-2 vs TYPE-4 files of the same trial."""

from __future__ import annotations

import numpy as np

from sportsmed import motion


def test_type2_and_type4_agree(shared_data):
    a = motion.force_plates(motion.read_c3d(str(shared_data("motion/c3d/TYPE-2.C3D"))))[0]
    b = motion.force_plates(motion.read_c3d(str(shared_data("motion/c3d/TYPE-4.C3D"))))[0]
    assert a["type"] == 2 and b["type"] == 4
    stance = a["force"][:, 2] > 50
    peak = a["force"][:, 2].max()
    rms = np.sqrt(np.mean((a["force"][stance, 2] - b["force"][stance, 2]) ** 2))
    assert rms < 0.015 * peak
    # Plate axes are a proper rotation.
    np.testing.assert_allclose(a["rotation"] @ a["rotation"].T, np.eye(3), atol=1e-9)
