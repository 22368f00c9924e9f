"""Shared fixtures. The one place Python tests find ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


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
