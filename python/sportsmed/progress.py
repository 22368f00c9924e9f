"""Progress bars for the compiled kernels' progress callbacks.

C++ operations accept a callback ``f(fraction: float, stage: str) -> bool``; returning
False cancels the operation (it raises :class:`sportsmed.Cancelled`). This module turns
such callbacks into tqdm bars for notebooks and the CLI.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional

ProgressCallback = Callable[[float, str], Optional[bool]]


@contextlib.contextmanager
def progress_bar(desc: str = "", enabled: Optional[bool] = None) -> Iterator[ProgressCallback]:
    """Context manager yielding a progress callback drawn as a tqdm bar.

    Parameters
    ----------
    desc : str
        Label shown before the bar; the kernel's stage name is appended.
    enabled : bool, optional
        Force the bar on or off; by default it is drawn when stderr is a terminal.

    Yields
    ------
    callable
        ``f(fraction, stage)`` to pass as ``progress=`` to a sportsmed function.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda fraction, stage: True
        return
    from tqdm import tqdm  # imported lazily: python3-tqdm is only needed for bars

    bar = tqdm(total=1000, desc=desc, unit="‰", leave=False, file=sys.stderr)
    try:

        def update(fraction: float, stage: str) -> bool:
            target = int(round(1000 * min(max(fraction, 0.0), 1.0)))
            if stage:
                bar.set_postfix_str(stage, refresh=False)
            if target > bar.n:
                bar.update(target - bar.n)
            return True

        yield update
    finally:
        bar.close()
