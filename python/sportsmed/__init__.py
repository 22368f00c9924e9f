"""sportsmed: deep learning and quantitative analysis for sports medicine.

From a motion-capture trial, a knee MRI and a training log to an injury-risk estimate.
The compiled core (C++17, Eigen) lives in ``sportsmed._core`` and its LibTorch part (seg,
the neural risk models) in ``sportsmed._torch``, loaded only when those are used; this
package re-exports them and adds pandas/matplotlib conveniences, the ``sportsmed`` CLI and
the HTML screening report.

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

import sys as _sys

from . import _core
from ._core import (
    Cancelled,
    Error,
    FormatError,
    InvalidArgument,
    NotFound,
    nanmean_columns,
    nanstd_columns,
    num_threads,
    version,
)
from ._pillars import PILLARS, PillarNotAvailable, available_pillars, require_pillar

__version__: str = version()


def set_num_threads(n: int) -> None:
    """Sets the threads sportsmed kernels use, LibTorch's intra-op threads included;
    ``n <= 0`` restores the default (``SPORTSMED_NUM_THREADS``, else the hardware
    concurrency); at most 1024."""
    _core.set_num_threads(n)
    torch_part = _sys.modules.get(__name__ + "._torch")
    if torch_part is not None:  # loaded: keep its copy of the setting in step
        torch_part.set_num_threads(n)


def build_info() -> dict:
    """Versions and build facts: version, torch_version, cuda_available, cuda_device_count,
    num_threads, eigen_version, fmt_version, compiler, build_type. Asking for the CUDA
    facts loads LibTorch (``sportsmed._torch``) when this build has it."""
    info = dict(_core.build_info())
    try:
        from . import _torch
    except ImportError:
        return info
    info.update(_torch.build_info())
    return info

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
