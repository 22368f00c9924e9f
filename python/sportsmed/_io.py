"""The one way sportsmed's Python side reads JSON and writes files.

Every file the package or the CLI writes (CSV, JSON, HTML, figures, sidecars) goes
through :func:`atomic_output`: the bytes go to a temporary file in the target's folder,
are flushed to disk, and only then renamed over the target. A crash, a kill or a full
disk leaves the previous file (or none), never a fragment.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Union

PathLike = Union[str, "os.PathLike[str]"]


@contextlib.contextmanager
def atomic_output(path: PathLike, mode: str = "w", encoding: str = "utf-8", newline: Union[str, None] = None
                  ) -> Iterator[Any]:
    """A file object to write ``path`` through: a temporary file next to it, renamed over
    ``path`` when the block ends without an exception (and removed when it raises)."""
    from ._core import Error

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise Error(f"cannot write '{path}': {exc.strerror or exc}") from None
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600: give the output the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise Error(f"cannot write '{path}': {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_output(path) as f:
        f.write(text)
    return Path(path)


def write_json_atomic(path: PathLike, doc: Any, indent: int = 1) -> Path:
    """Writes ``doc`` as JSON to ``path`` atomically; returns the path."""
    return write_text_atomic(path, json.dumps(doc, indent=indent) + "\n")


def write_csv_atomic(df, path: PathLike, **to_csv_kwargs) -> Path:
    """``df.to_csv(path, ...)`` through :func:`atomic_output`; returns the path."""
    with atomic_output(path, newline="") as f:
        df.to_csv(f, **to_csv_kwargs)
    return Path(path)


def load_json_file(path: PathLike, where: str) -> Any:
    """The parsed JSON document in ``path``: :class:`sportsmed.NotFound` when it cannot be
    opened, :class:`sportsmed.FormatError` for anything that is not UTF-8 JSON (including
    nesting too deep to parse). ``where`` names the caller in the message."""
    from ._core import FormatError, NotFound

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise NotFound(f"{where}: cannot read '{path}': {exc.strerror or exc}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormatError(f"{where}: '{path}' is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: '{path}' is not JSON: {exc}") from None
    except RecursionError:
        raise FormatError(f"{where}: '{path}' nests JSON too deeply to be read") from None
