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


# Byte-order marks of the encodings a spreadsheet may save "Unicode text" in; UTF-32 first:
# its little-endian mark starts with UTF-16's.
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def text_encoding(path: PathLike, head: bytes = b"", where: str = "read") -> Union[str, None]:
    """The encoding of a text file that a UTF-8 / Windows-1252 reader cannot read:
    ``"utf-16-le"``, ``"utf-16-be"``, ``"utf-32-le"`` or ``"utf-32-be"`` from its byte-order
    mark, or from the NUL bytes of BOM-less UTF-16 / UTF-32 text (every second or fourth byte
    of ASCII text); ``None`` for anything else (UTF-8, with or without BOM, or 8-bit text).

    Raises
    ------
    sportsmed.FormatError
        NUL bytes in no such pattern: the file is binary, not text.
    """
    from ._core import FormatError

    if not head:
        with open(path, "rb") as f:
            head = f.read(4096)
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    if b"\x00" not in head:
        return None
    n = len(head) - len(head) % 4
    nul = [head[i:n:4].count(0) for i in range(4)]
    quarter = max(n // 4, 1)
    if nul[1] == nul[2] == nul[3] == quarter and nul[0] < quarter:
        return "utf-32-le"
    if nul[0] == nul[1] == nul[2] == quarter and nul[3] < quarter:
        return "utf-32-be"
    odd, even = nul[1] + nul[3], nul[0] + nul[2]
    if odd >= 0.9 * 2 * quarter and even < 0.5 * 2 * quarter:
        return "utf-16-le"
    if even >= 0.9 * 2 * quarter and odd < 0.5 * 2 * quarter:
        return "utf-16-be"
    raise FormatError(f"{where}: '{path}' holds NUL bytes (the first at byte {head.index(0)}): it is binary, "
                      "not text (save it as CSV text, UTF-8)")


@contextlib.contextmanager
def utf8_text(path: PathLike, where: str) -> Iterator[str]:
    """The path of ``path``'s text in an encoding the compiled readers take (UTF-8 or
    Windows-1252): ``path`` itself, or for UTF-16 / UTF-32 text (see :func:`text_encoding`) a
    temporary UTF-8 copy, removed when the block ends. Errors the block raises that name the
    copy are re-raised (same type) naming ``path``, with control characters escaped.

    Raises
    ------
    sportsmed.FormatError
        Bytes the detected encoding cannot decode (the message names the byte offset), a
        NUL character in the text, or a binary file.
    """
    from ._core import Error, FormatError

    try:
        enc = text_encoding(path, where=where)
    except OSError:
        enc = None  # the reader says what is wrong with the path, in its own words
    if enc is None:
        try:
            yield str(path)
        except Error as exc:
            raise _clean_error(exc) from None
        return
    raw = Path(path).read_bytes()
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        raise FormatError(f"{where}: '{path}' starts as {enc.upper()} text but byte {exc.start} cannot be "
                          f"decoded as {enc.upper()}") from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FormatError(f"{where}: '{path}' ({enc.upper()}) holds a NUL character on line {line}")
    fd, tmp = tempfile.mkstemp(prefix="sportsmed-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        try:
            yield tmp
        except Error as exc:
            raise _clean_error(exc, tmp, str(path)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def clean_message(text: str) -> str:
    """``text`` with NUL and other control characters (tabs and newlines kept) written as
    ``\\xNN`` escapes: a message must not carry bytes a terminal or a log cuts at."""
    return "".join(c if c in "\t\n" or (c.isprintable() and c != "\ufffd") else ascii(c)[1:-1] for c in text)


def _clean_error(exc: Exception, old: str = "", new: str = "") -> Exception:
    msg = str(exc)
    if old:
        msg = msg.replace(old, new)
    clean = clean_message(msg)
    if clean == str(exc):
        return exc
    try:
        return type(exc)(clean)
    except TypeError:
        return exc
