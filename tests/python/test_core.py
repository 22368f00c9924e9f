"""The compiled core seen from Python: errors, versions, threads, progress, reductions."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

import sportsmed
from sportsmed import _core

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "kind, cls, builtin",
    [
        ("Error", sportsmed.Error, RuntimeError),
        ("InvalidArgument", sportsmed.InvalidArgument, ValueError),
        ("FormatError", sportsmed.FormatError, ValueError),
        ("NotFound", sportsmed.NotFound, FileNotFoundError),
        ("Cancelled", sportsmed.Cancelled, RuntimeError),
    ],
)
def test_cpp_errors_map_to_documented_python_classes(kind, cls, builtin):
    with pytest.raises(cls, match="where: got x, expected y") as info:
        _core._testing.raise_error(kind, "where: got x, expected y")
    assert type(info.value) is cls  # the exact class, not only a base
    assert isinstance(info.value, sportsmed.Error)
    assert isinstance(info.value, builtin)
    assert cls.__module__ == "sportsmed"


def test_error_classes_are_distinct():
    assert not issubclass(sportsmed.FormatError, sportsmed.InvalidArgument)
    assert not issubclass(sportsmed.NotFound, ValueError)
    with pytest.raises(sportsmed.InvalidArgument, match="unknown error kind 'Nope'"):
        _core._testing.raise_error("Nope", "x")


def test_one_version_everywhere():
    cmake = (REPO / "CMakeLists.txt").read_text()
    cmake_version = re.search(r"project\(sportsmed VERSION (\S+)", cmake).group(1)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert sportsmed.__version__ == cmake_version
    assert pyproject["project"]["version"] == cmake_version
    assert importlib.metadata.version("sportsmed") == cmake_version
    assert sportsmed.build_info()["version"] == cmake_version


def test_build_info_reports_torch_and_threads(restore_threads):
    info = sportsmed.build_info()
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["torch_version"])
    assert isinstance(info["cuda_available"], bool)
    assert info["cuda_available"] == (info["cuda_device_count"] > 0)
    sportsmed.set_num_threads(3)
    assert sportsmed.build_info()["num_threads"] == 3 == sportsmed.num_threads()


def test_installed_package_is_used():
    # pytest must exercise the installed package, not the source tree.
    assert REPO / "python" not in Path(sportsmed.__file__).parents


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_nanmean_nanstd_equal_numpy(threads, restore_threads):
    sportsmed.set_num_threads(threads)
    rng = np.random.default_rng(3)
    x = rng.normal(10.0, 3.0, size=(50_001, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 4] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        ref_mean = np.nanmean(x, axis=0)
        ref_std = np.nanstd(x, axis=0, ddof=1)
    np.testing.assert_allclose(sportsmed.nanmean_columns(x), ref_mean, rtol=1e-12)
    np.testing.assert_allclose(sportsmed.nanstd_columns(x, ddof=1), ref_std, rtol=1e-10)


def test_reduction_accepts_non_contiguous_and_rejects_wrong_rank():
    x = np.arange(30.0).reshape(6, 5)[:, ::2]  # strided view: converted, not misread
    np.testing.assert_array_equal(sportsmed.nanmean_columns(x), x.mean(axis=0))
    with pytest.raises(sportsmed.InvalidArgument, match="expected a 2-D array"):
        sportsmed.nanmean_columns(np.zeros(4))


def test_progress_callback_sees_monotone_fractions_ending_at_one(restore_threads):
    sportsmed.set_num_threads(2)
    seen = []
    total = _core._testing.parallel_sum_with_progress(100_000, lambda f, stage: seen.append((f, stage)))
    assert total == 100_000 * 99_999 // 2
    fractions = [f for f, _ in seen]
    assert fractions[-1] == 1.0
    assert all(b > a for a, b in zip(fractions, fractions[1:]))
    assert {stage for _, stage in seen} == {"sum"}


def test_progress_callback_can_cancel_and_raise(restore_threads):
    sportsmed.set_num_threads(2)
    with pytest.raises(sportsmed.Cancelled, match="cancelled by the progress callback"):
        _core._testing.parallel_sum_with_progress(1_000_000, lambda f, stage: f < 0.3)

    def boom(f, stage):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        _core._testing.parallel_sum_with_progress(1000, boom)


def test_pillar_registry_reports_missing_pillars_plainly():
    for name in sportsmed.PILLARS:
        if name in sportsmed.available_pillars():
            sportsmed.require_pillar(name)
        else:
            with pytest.raises(sportsmed.PillarNotAvailable, match=f"the {name} pillar"):
                sportsmed.require_pillar(name)
