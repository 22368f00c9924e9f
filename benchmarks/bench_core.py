"""Core reductions against numpy (what a user would call instead)."""

from __future__ import annotations

import warnings

import numpy as np

import sportsmed
from harness import Case


def _trajectories():
    # 50 markers × xyz over 50000 frames (about 8 min at 100 Hz), 5 % missing.
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 100.0, size=(50_000, 150))
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def _agree(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def _np_nanmean(x):
    return np.nanmean(x, axis=0)


def _np_nanstd(x):
    return np.nanstd(x, axis=0, ddof=1)


CASES = [
    Case(f"nanmean over frames, 50000×150, {t} thread(s)", f"numpy {np.__version__} nanmean",
         _trajectories, sportsmed.nanmean_columns, _np_nanmean, _agree, threads=t)
    for t in (1, 2)
] + [
    Case("nanstd (ddof=1) over frames, 50000×150, 2 threads", f"numpy {np.__version__} nanstd",
         _trajectories, lambda x: sportsmed.nanstd_columns(x, ddof=1), _np_nanstd, _agree, threads=2),
]

warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
