"""sportsmed: deep learning and quantitative analysis for sports medicine.

From a motion-capture trial, a knee MRI and a training log to an injury-risk estimate.
The compiled core (C++17, Eigen, LibTorch) lives in ``sportsmed._core``; this package
re-exports it and adds pandas/matplotlib conveniences, the ``sportsmed`` CLI and the
HTML screening report.

Errors
------
Every error is a :class:`sportsmed.Error` (a ``RuntimeError``); the subclasses also
derive from the matching built-in so that generic handlers work:

=====================  =====================================
``InvalidArgument``    ``ValueError`` (bad shape, range, value)
``FormatError``        ``ValueError`` (malformed file)
``NotFound``           ``FileNotFoundError``
``Cancelled``          raised when a progress callback returns False
=====================  =====================================
"""

from __future__ import annotations

from . import _core
from ._core import (
    Cancelled,
    Error,
    FormatError,
    InvalidArgument,
    NotFound,
    build_info,
    nanmean_columns,
    nanstd_columns,
    num_threads,
    set_num_threads,
    version,
)
from ._pillars import PILLARS, PillarNotAvailable, available_pillars, require_pillar

__version__: str = version()

__all__ = [
    "Cancelled",
    "Error",
    "FormatError",
    "InvalidArgument",
    "NotFound",
    "PILLARS",
    "PillarNotAvailable",
    "__version__",
    "available_pillars",
    "build_info",
    "nanmean_columns",
    "nanstd_columns",
    "num_threads",
    "require_pillar",
    "set_num_threads",
    "version",
]
