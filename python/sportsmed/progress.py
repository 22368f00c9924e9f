"""Progress reporting for the compiled kernels' progress callbacks and the CLI.

C++ operations accept a callback ``f(fraction: float, stage: str) -> bool``; returning
False cancels the operation (it raises :class:`sportsmed.Cancelled`). This module turns
such callbacks into progress a person can see, in one of three modes:

``bar``
    a tqdm bar on stderr (shown after :data:`BAR_DELAY_S`, so quick commands draw nothing;
    ``SPORTSMED_PROGRESS_DELAY`` overrides it);
``log``
    a plain line on stderr every :data:`LOG_INTERVAL_S` seconds (``SPORTSMED_PROGRESS_INTERVAL``
    overrides it) — for logs, CI and pipes, where a bar would be a mess of carriage returns;
``none``
    nothing.

The CLI's ``--progress none|bar|log`` sets the mode (:func:`set_mode`); its default is
``bar`` when stderr is a terminal and ``log`` otherwise. Library users who never call
:func:`set_mode` get a bar on a terminal and nothing elsewhere (a notebook stays quiet).
An operation that reports no fraction still shows that it is working (elapsed time).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Callable, Iterator, Optional, TextIO

ProgressCallback = Callable[[float, str], Optional[bool]]

#: The modes of :func:`progress_bar` (and of the CLI's ``--progress``).
MODES = ("none", "bar", "log")

#: Seconds between two lines in ``log`` mode.
LOG_INTERVAL_S = 5.0

#: A bar appears only when the operation has run this long.
BAR_DELAY_S = 1.0

_mode: Optional[str] = None


def set_mode(mode: Optional[str]) -> None:
    """Sets the progress mode of every later :func:`progress_bar` (``None``: the library
    default, a bar on a terminal and nothing elsewhere)."""
    global _mode
    if mode is not None and mode not in MODES:
        raise ValueError(f"progress mode must be one of {', '.join(MODES)}, got {mode!r}")
    _mode = mode


def get_mode() -> Optional[str]:
    return _mode


def default_mode(stream: Optional[TextIO] = None) -> str:
    """``bar`` when ``stream`` (default stderr) is a terminal, else ``log``."""
    stream = stream if stream is not None else sys.stderr
    try:
        return "bar" if stream.isatty() else "log"
    except (AttributeError, ValueError):
        return "log"


def _interval() -> float:
    try:
        return max(float(os.environ.get("SPORTSMED_PROGRESS_INTERVAL", LOG_INTERVAL_S)), 0.01)
    except ValueError:
        return LOG_INTERVAL_S


def _bar_delay() -> float:
    try:
        return max(float(os.environ.get("SPORTSMED_PROGRESS_DELAY", BAR_DELAY_S)), 0.0)
    except ValueError:
        return BAR_DELAY_S


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class _LogReporter:
    """Prints ``desc: 42% stage, 12 s elapsed, ~16 s left`` every ``interval`` seconds (from a
    ticker thread, so that an operation that reports nothing for a while still shows up)."""

    def __init__(self, desc: str, stream: TextIO, interval: float, clock=time.monotonic):
        self.desc, self.stream, self.interval, self.clock = desc or "working", stream, interval, clock
        self.start = clock()
        self.fraction: Optional[float] = None
        self.stage = ""
        self.printed = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="sportsmed-progress", daemon=True)
        self._thread.start()

    def update(self, fraction: float, stage: str) -> bool:
        with self._lock:
            self.fraction = min(max(float(fraction), 0.0), 1.0)
            if stage:
                self.stage = stage
        return True

    def line(self) -> str:
        with self._lock:
            elapsed = self.clock() - self.start
            parts = [f"{self.desc}:"]
            if self.fraction is None:
                parts.append("working")
            else:
                parts.append(f"{100 * self.fraction:.0f}%")
            if self.stage:
                parts.append(self.stage)
            text = " ".join(parts) + f", {_duration(elapsed)} elapsed"
            if self.fraction and 0.02 <= self.fraction < 1.0:
                text += f", ~{_duration(elapsed * (1 - self.fraction) / self.fraction)} left"
            return text

    def emit(self) -> None:
        text = self.line()
        try:
            print(text, file=self.stream, flush=True)
            self.printed = True
        except (OSError, ValueError):  # stderr closed: progress is not worth an error
            self._stop.set()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.emit()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.printed:
            with contextlib.suppress(OSError, ValueError):
                print(f"{self.desc}: done in {_duration(self.clock() - self.start)}", file=self.stream, flush=True)


@contextlib.contextmanager
def progress_bar(desc: str = "", enabled: Optional[bool] = None, mode: Optional[str] = None,
                 stream: Optional[TextIO] = None) -> Iterator[ProgressCallback]:
    """Context manager yielding a progress callback shown as a bar or as log lines.

    Parameters
    ----------
    desc : str
        Label shown before the progress; the kernel's stage name is appended.
    enabled : bool, optional
        False: show nothing. True (library use): show progress even when stderr is not a
        terminal. Default: as the mode says.
    mode : {'none', 'bar', 'log'}, optional
        Overrides the mode :func:`set_mode` set.
    stream : file, optional
        Where progress goes (default: stderr).

    Yields
    ------
    callable
        ``f(fraction, stage)`` to pass as ``progress=`` to a sportsmed function.
    """
    stream = stream if stream is not None else sys.stderr
    if enabled is False:
        mode = "none"
    elif mode is None:
        mode = _mode
        if mode is None:
            mode = default_mode(stream) if enabled else ("bar" if default_mode(stream) == "bar" else "none")
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "bar":
        try:
            from tqdm import tqdm  # imported lazily: python3-tqdm is only needed for bars
        except ImportError:
            mode = "log"
    if mode == "none":
        yield lambda fraction, stage: True
        return
    if mode == "log":
        reporter = _LogReporter(desc, stream, _interval())
        try:
            yield reporter.update
        finally:
            reporter.close()
        return

    delay = _bar_delay()
    bar = tqdm(total=1000, desc=desc, unit="‰", leave=False, file=stream, delay=delay)
    stop = threading.Event()
    started = time.monotonic()

    def refresh() -> None:  # keeps the elapsed time moving while a kernel reports nothing
        while not stop.wait(1.0):
            if time.monotonic() - started >= delay:
                with contextlib.suppress(Exception):
                    bar.refresh()

    ticker = threading.Thread(target=refresh, name="sportsmed-progress", daemon=True)
    ticker.start()
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
        stop.set()
        ticker.join()
        bar.close()
