"""Shared fixtures. The one place Python tests find ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENDED = os.environ.get("SPORTSMED_EXTENDED_TESTS") == "1"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` belong to the extended mode: they run with
    SPORTSMED_EXTENDED_TESTS=1 (or when selected with ``-m slow``) and are skipped otherwise,
    so that the default run stays short."""
    if EXTENDED or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="extended check (SPORTSMED_EXTENDED_TESTS=1 runs it)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def shared_data_dir() -> Path:
    """SPORTSMED_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("SPORTSMED_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """Returns a function mapping a relative path to a shared-data file, skipping the test
    with a clear message when the file is absent."""

    def get(relative: str) -> Path:
        path = shared_data_dir() / relative
        if not path.exists():
            pytest.skip(f"shared data file {path} is absent")
        return path

    return get


@pytest.fixture
def restore_threads():
    import sportsmed

    saved = sportsmed.num_threads()
    yield
    sportsmed.set_num_threads(saved)


@pytest.fixture(scope="session")
def soccermon_table():
    """SoccerMon (shared data) on a complete daily grid (absent day = no training), with the
    workload features and the 7-day injury label ``y``; the test is skipped without it."""
    risk = pytest.importorskip("sportsmed.risk")
    path = shared_data_dir() / "risk/soccermon/master_dataset.csv"
    if not path.exists():
        pytest.skip(f"shared data file {path} is absent")
    df = risk.complete_days(risk.read_table(path, athlete="player_id"), policy="zero")
    w = risk.workload(df)
    df = df.drop(columns=["monotony", "strain"]).join(w.drop(columns=["athlete", "date"]))
    df["y"] = risk.injury_labels(df, 7)
    return df
