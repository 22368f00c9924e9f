"""Butterworth, filtfilt, gap filling and derivatives against scipy/numpy on the same input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.interpolate as si
import scipy.signal as ss

import sportsmed
from sportsmed import motion


@pytest.mark.parametrize("btype", ["lowpass", "highpass"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("wn", [0.02, 0.1, 0.33, 0.8])
def test_butter_equals_scipy(order, wn, btype):
    b, a = motion.butter(order, wn, btype)
    b2, a2 = ss.butter(order, wn, btype)
    np.testing.assert_allclose(b, b2, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(a, a2, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_filtfilt_equals_scipy_default_padding(order, restore_threads):
    rng = np.random.default_rng(order)
    x = np.cumsum(rng.normal(size=(2000, 9)), axis=0) + 100.0
    b, a = ss.butter(order, 6.0 / 50.0)
    ref = ss.filtfilt(b, a, x, axis=0)
    for threads in (1, 2):
        sportsmed.set_num_threads(threads)
        y = motion.filtfilt(b, a, x)
        assert np.max(np.abs(y - ref)) <= 1e-10 * np.max(np.abs(x))
    np.testing.assert_allclose(motion.lfilter_zi(b, a), ss.lfilter_zi(b, a), rtol=1e-10, atol=1e-12)
    y1 = motion.filtfilt(b, a, x[:, 3])
    assert y1.shape == (2000,)
    np.testing.assert_allclose(y1, ref[:, 3], rtol=0, atol=1e-10 * np.max(np.abs(x)))


@pytest.mark.parametrize("order", [3, 6, 8, 10])
@pytest.mark.parametrize("rows", [5, 40, 3001])
def test_filtfilt_blocks_narrow_tails_and_gaps_equal_scipy(order, rows, restore_threads):
    """17 channels: four 4-channel blocks (one holding a NaN gap, filtered per segment) and a
    1-channel tail; short signals take a shortened pad; order 10 has no block kernel."""
    rng = np.random.default_rng(rows + order)
    x = np.cumsum(rng.normal(size=(rows, 17)), axis=0) + 50.0
    gap = slice(rows // 2, rows // 2 + 2) if rows > 10 else slice(0, 0)
    x[gap, 11] = np.nan
    b, a = ss.butter(order, 0.2)
    pad = min(3 * max(len(a), len(b)), rows - 1)
    for threads in (1, 2):
        sportsmed.set_num_threads(threads)
        y = motion.filtfilt(b, a, x)
        for c in range(17):
            if c == 11 and rows > 10:
                assert np.isnan(y[gap, c]).all()
                for part in (slice(0, gap.start), slice(gap.stop, rows)):
                    seg = x[part, c]
                    ref = ss.filtfilt(b, a, seg, padlen=min(3 * max(len(a), len(b)), len(seg) - 1))
                    np.testing.assert_allclose(y[part, c], ref, rtol=0, atol=1e-9 * np.max(np.abs(seg)))
            else:
                ref = ss.filtfilt(b, a, x[:, c], padlen=pad)
                np.testing.assert_allclose(y[:, c], ref, rtol=0, atol=1e-9 * np.max(np.abs(x[:, c])))


@pytest.mark.parametrize("cols", [1, 2, 3, 5, 7])
def test_filtfilt_lockstep_lanes_with_gaps_equal_scipy(cols, restore_threads):
    """Channels go through the filter four at a time; a NaN (or inf) channel leaves its block
    and is filtered per segment while its neighbours stay in the block. Every channel must
    still equal scipy on its own (a non-contiguous input goes through the same path)."""
    rng = np.random.default_rng(cols)
    base = np.cumsum(rng.normal(size=(1500, 2 * cols)), axis=0) + 10.0
    x = base[:, ::2]  # strided view
    x_ref = np.array(x)
    if cols >= 2:
        x_ref[:7, 1] = np.nan             # leading gap
    if cols >= 3:
        x_ref[700:701, cols - 1] = np.inf  # one-sample gap in the last (tail) lane
    x = np.array(x_ref[:, :], order="F")  # Fortran order: the binding makes it C order
    b, a = ss.butter(4, 0.12)
    for threads in (1, 2):
        sportsmed.set_num_threads(threads)
        y = motion.filtfilt(b, a, x if cols > 1 else x[:, 0])
        y = y.reshape(len(x), -1)
        for c in range(cols):
            col = x_ref[:, c]
            bad = ~np.isfinite(col)
            np.testing.assert_array_equal(y[bad, c], col[bad])
            edges = np.flatnonzero(np.diff(np.r_[0, (~bad).astype(int), 0]))
            for start, stop in zip(edges[::2], edges[1::2]):
                seg = col[start:stop]
                ref = ss.filtfilt(b, a, seg)
                assert np.max(np.abs(y[start:stop, c] - ref)) <= 1e-10 * np.max(np.abs(seg))


def test_filtfilt_avx2_and_sse2_kernels_give_identical_bits(tmp_path):
    """The lockstep kernel is picked at run time (AVX2 where the CPU has it, else SSE2);
    SPORTSMED_FILTFILT_NO_AVX2 forces SSE2 in a fresh process. Both round every product and
    sum alike (no FMA), so the outputs are bit for bit equal, and equal to scipy."""
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(11)
    x = np.cumsum(rng.normal(size=(900, 37)), axis=0)
    x[300:304, 9] = np.nan
    np.save(tmp_path / "x.npy", x)
    code = ("import numpy as np, sys; from sportsmed import motion; import scipy.signal as ss; "
            "x = np.load(sys.argv[1]); b, a = ss.butter(4, 0.1); np.save(sys.argv[2], motion.filtfilt(b, a, x))")
    outs = []
    for name, env in (("default", {}), ("sse2", {"SPORTSMED_FILTFILT_NO_AVX2": "1"})):
        out = tmp_path / f"{name}.npy"
        subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.npy"), str(out)], check=True,
                       env={**os.environ, **env})
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[0], outs[1])
    b, a = ss.butter(4, 0.1)
    keep = [c for c in range(37) if c != 9]
    ref = ss.filtfilt(b, a, x[:, keep], axis=0)
    assert np.max(np.abs(outs[0][:, keep] - ref)) <= 1e-10 * np.max(np.abs(x[:, keep]))


def test_filtfilt_filters_segments_between_nan_gaps():
    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(size=(600, 2)), axis=0)
    x[200:230, 0] = np.nan
    b, a = ss.butter(2, 0.1)
    y = motion.filtfilt(b, a, x)
    assert np.isnan(y[200:230, 0]).all()
    np.testing.assert_allclose(y[:200, 0], ss.filtfilt(b, a, x[:200, 0]), atol=1e-10)
    np.testing.assert_allclose(y[230:, 0], ss.filtfilt(b, a, x[230:, 0]), atol=1e-10)
    np.testing.assert_allclose(y[:, 1], ss.filtfilt(b, a, x[:, 1]), atol=1e-10)


def test_double_pass_cutoff_gives_minus_3db_overall():
    fs, fc, order = 100.0, 6.0, 2
    fd = motion.double_pass_cutoff_hz(fc, fs, order)
    assert fd > fc
    b, a = motion.butter(order, fd / (fs / 2))
    _, h = ss.freqz(b, a, worN=[fc], fs=fs)
    assert abs(h[0]) ** 2 == pytest.approx(1 / np.sqrt(2), rel=1e-10)  # filtfilt gain is |H|²


def test_spline_fill_equals_scipy_natural_cubic_spline():
    t = np.arange(300.0)
    z = np.stack([np.sin(t / 13) + 0.01 * t, np.cos(t / 7)], axis=1)
    z[[10, 11, 12, 120, 200, 201, 202, 203, 204, 205], 0] = np.nan
    z[:4, 1] = np.nan
    f = motion.fill_gaps_spline(z, 3)
    ok = ~np.isnan(z[:, 0])
    cs = si.CubicSpline(t[ok], z[ok, 0], bc_type="natural")
    gaps = [10, 11, 12, 120]
    np.testing.assert_allclose(f[gaps, 0], cs(t[gaps]), rtol=1e-12, atol=1e-12)
    assert np.isnan(f[200:206, 0]).all()  # a 6-sample gap is longer than max_gap
    assert np.isnan(f[:4, 1]).all()       # leading gaps are not extrapolated
    np.testing.assert_array_equal(f[ok, 0], z[ok, 0])


def test_derivative_equals_numpy_gradient():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 4))
    np.testing.assert_allclose(motion.derivative(x, 200.0), np.gradient(x, 1 / 200.0, axis=0), rtol=1e-12)


def test_resample_linear_against_numpy_interp():
    x = np.sin(np.arange(101) / 10.0)
    y = motion.resample_linear(x, 100.0, 250.0)
    tn = np.arange(len(y)) / 250.0
    np.testing.assert_allclose(y, np.interp(tn, np.arange(101) / 100.0, x), atol=1e-12)


def test_bad_filter_arguments_raise():
    with pytest.raises(sportsmed.InvalidArgument):
        motion.butter(2, 1.5)
    with pytest.raises(sportsmed.InvalidArgument):
        motion.lowpass(np.zeros((10, 2)), 100.0, 60.0)
