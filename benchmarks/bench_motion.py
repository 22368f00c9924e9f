"""Motion kernels against the tools a biomechanist would use instead."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import scipy
import scipy.signal as ss
from scipy.spatial.transform import Rotation

from harness import Case
from sportsmed import motion


def _signals():
    # 300 channels (100 markers × xyz) × 10000 samples, time along axis 0.
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(10_000, 300)), axis=0)
    b, a = ss.butter(4, 6.0 / 50.0)
    return x, b, a


def _filtfilt_agree(ours, theirs):
    assert np.max(np.abs(ours - theirs)) <= 1e-10 * np.max(np.abs(theirs))


def _rotations():
    return Rotation.random(1_000_000, random_state=1).as_matrix()


def _euler_agree(ours, theirs):
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


_C3D_PATH = os.path.join(tempfile.gettempdir(), "sportsmed_bench_100MB.c3d")


def _c3d_file():
    # A float C3D of about 100 MB: 200 markers + 16 analog channels at 10 samples per frame.
    if not os.path.exists(_C3D_PATH):
        t = motion.Trial()
        frames, markers = 25_000, 200
        rng = np.random.default_rng(2)
        t.points = rng.normal(0, 500, size=(frames, markers, 3)).astype(np.float32).astype(np.float64)
        t.point_labels = [f"M{i}" for i in range(markers)]
        t.point_rate_hz = 100.0
        t.analog_labels = [f"A{i}" for i in range(16)]
        t.analog_units = ["V"] * 16
        t.analogs = rng.normal(size=(frames * 10, 16)).astype(np.float32).astype(np.float64)
        t.analog_rate_hz = 1000.0
        motion.write_trial_c3d(_C3D_PATH, t)
    with open(_C3D_PATH, "rb") as f:
        data = f.read()
    return data


def _decode_ours(data):
    return motion.read_c3d(_C3D_PATH).trial.n_frames


def _decode_numpy(data):
    # What a Python user would write for an Intel float file: one frombuffer + reshape.
    header = np.frombuffer(data[:512], dtype="<u2")
    start = (int(header[8]) - 1) * 512
    frame = 4 * int(header[1]) + int(header[2])
    vals = np.frombuffer(data[start:], dtype="<f4")
    n = vals.size // frame
    return vals[: n * frame].reshape(n, frame).shape[0]


def _same_frames(ours, theirs):
    assert ours == theirs


CASES = [
    Case("filtfilt Butterworth 4th order, 300 channels × 10000 samples, 1 thread",
         f"scipy {scipy.__version__} signal.filtfilt",
         _signals, lambda s: motion.filtfilt(s[1], s[2], s[0]), lambda s: ss.filtfilt(s[1], s[2], s[0], axis=0),
         _filtfilt_agree, threads=1),
    Case("filtfilt Butterworth 4th order, 300 channels × 10000 samples, 2 threads",
         f"scipy {scipy.__version__} signal.filtfilt",
         _signals, lambda s: motion.filtfilt(s[1], s[2], s[0]), lambda s: ss.filtfilt(s[1], s[2], s[0], axis=0),
         _filtfilt_agree, threads=2),
    Case("Cardan YXZ decomposition of 10^6 rotation matrices, 2 threads",
         f"scipy {scipy.__version__} Rotation.from_matrix().as_euler",
         _rotations, lambda m: motion.matrices_to_euler("YXZ", m),
         lambda m: Rotation.from_matrix(m).as_euler("YXZ"), _euler_agree, threads=2),
    Case("C3D decode, ~100 MB Intel float file (from disk cache), 1 thread",
         f"numpy {np.__version__} frombuffer (raw floats, no parameters/scaling)",
         _c3d_file, _decode_ours, _decode_numpy, _same_frames, threads=1),
]
