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


def _legs(trials=1_000, frames=200, rate=100.0):
    # Both legs of `trials` landings: smooth random segment kinematics (joint centres in m,
    # orthonormal frames from smooth rotation vectors) and ground wrenches, 200 frames each.
    rng = np.random.default_rng(4)
    t = np.arange(frames) / rate
    basis = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in zip((0.7, 1.3, 2.1), (0.1, 0.9, 2.0))], 1)
    legs, loads = [], []
    for _ in range(2 * trials):
        def smooth(scale, offset):
            return offset + scale * basis @ rng.normal(size=(3, 3))

        def frames_of():
            return Rotation.from_rotvec(smooth(0.3, rng.normal(0, 0.2, 3))).as_matrix().reshape(frames, 9)

        ankle = smooth(0.05, np.array([0.0, 0.1, 0.1]))
        legs.append({"ankle": ankle, "toe": ankle + smooth(0.01, np.array([0.15, 0, -0.05])),
                     "knee": ankle + smooth(0.02, np.array([0.03, 0, 0.40])),
                     "hip": ankle + smooth(0.02, np.array([0.0, 0, 0.82])),
                     "pelvis": frames_of(), "thigh": frames_of(), "shank": frames_of(), "foot": frames_of()})
        force = smooth(50.0, np.array([20.0, 5.0, 800.0]))
        loads.append({"force": force, "moment": np.cross(ankle + smooth(0.02, np.zeros(3)), force)})
    return legs, loads, rate, motion.body_segment_table("dempster")


def _legs_ours(data):
    legs, loads, rate, _ = data
    return motion.leg_inverse_dynamics(legs, loads, 70.0, rate)


def _numpy_leg(leg, load, bsp, mass, rate, g=np.array([0.0, 0.0, -9.81])):
    """Newton–Euler of one leg in NumPy, vectorised over frames: the equations of
    include/sportsmed/motion/dynamics.hpp (np.gradient = its central differences)."""
    h = 1.0 / rate

    def omega(frames):
        r = frames.reshape(-1, 3, 3)
        s = np.gradient(frames, h, axis=0).reshape(-1, 3, 3) @ r.transpose(0, 2, 1)
        return 0.5 * np.stack([s[:, 2, 1] - s[:, 1, 2], s[:, 0, 2] - s[:, 2, 0], s[:, 1, 0] - s[:, 0, 1]], 1)

    def step(prox, dist, frames, seg, f_dist, m_dist):
        m = seg["mass_fraction"] * mass
        com = prox + seg["com_from_proximal"] * (dist - prox)
        length = np.nanmean(np.linalg.norm(prox - dist, axis=1))
        local = m * (np.array([seg["gyration_frontal"], seg["gyration_sagittal"], seg["gyration_long"]]) * length) ** 2
        acc = np.gradient(np.gradient(com, h, axis=0), h, axis=0)
        w = omega(frames)
        alpha = np.gradient(w, h, axis=0)
        r = frames.reshape(-1, 3, 3)
        inertia = (r * local) @ r.transpose(0, 2, 1)
        dh = np.einsum("nij,nj->ni", inertia, alpha) + np.cross(w, np.einsum("nij,nj->ni", inertia, w))
        f_prox = m * acc - m * g - f_dist
        m_prox = dh - np.cross(prox - com, f_prox) - np.cross(dist - com, f_dist) - m_dist
        return f_prox, m_prox, w

    m_toe = load["moment"] - np.cross(leg["toe"], load["force"])
    fa, ma, wf = step(leg["ankle"], leg["toe"], leg["foot"], bsp["foot"], load["force"], m_toe)
    fk, mk, ws = step(leg["knee"], leg["ankle"], leg["shank"], bsp["shank"], -fa, -ma)
    fh, mh, wt = step(leg["hip"], leg["knee"], leg["thigh"], bsp["thigh"], -fk, -mk)
    wp = omega(leg["pelvis"])
    dot = lambda a, b: np.einsum("ni,ni->n", a, b)  # noqa: E731
    return {"ankle_force": fa, "ankle_moment": ma, "knee_force": fk, "knee_moment": mk, "hip_force": fh,
            "hip_moment": mh, "ankle_power": dot(ma, wf - ws), "knee_power": dot(mk, ws - wt),
            "hip_power": dot(mh, wt - wp)}


def _legs_numpy(data):
    legs, loads, rate, bsp = data
    return [_numpy_leg(leg, load, bsp, 70.0, rate) for leg, load in zip(legs, loads)]


def _legs_agree(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        for key in ("ankle_moment", "knee_moment", "hip_moment", "hip_force", "hip_power"):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-9 * np.max(np.abs(b[key])))


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
    Case("lower-limb inverse dynamics (Newton–Euler), 1000 trials × 2 legs × 200 frames, batch, 2 threads",
         f"numpy {np.__version__}: the same equations vectorised over frames, leg by leg",
         _legs, _legs_ours, _legs_numpy, _legs_agree, threads=2, repeat=3),
]
