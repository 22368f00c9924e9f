"""Pseudonymous athlete ids and the per-study secret behind them.

An athlete's identity (name, club id, hospital number) stays in the input manifest: every
output that names an athlete uses :func:`pseudonym`, a keyed hash of the id,

    pseudonym(id, secret) = "sm_" + first 16 hex digits of HMAC-SHA256(secret, UTF-8(id))

(RFC 2104 HMAC over SHA-256, FIPS 180-4). The same id and the same secret always give the
same pseudonym (results of one study can be joined across runs and files); without the
secret, a pseudonym cannot be turned back into the id, nor can a guessed id be checked
against it (unlike a plain hash, which anyone can recompute for every name on a squad
list). 16 hex digits are 64 bits: the chance that two of 100,000 athletes share a
pseudonym is about 3e-10. The ``sm_`` prefix keeps spreadsheets from reading a pseudonym
as a number (``1e5...``).

The secret is 32 random bytes in a file of its own (:func:`load_or_create_secret`),
created with mode 0600 and kept **outside** the output folder it protects: whoever
receives the outputs must not receive the key. Keep it as long as the study runs (losing
it means new pseudonyms for the same athletes); destroy it to make the pseudonyms
anonymous for good.

Ids are hashed exactly as given (no case folding, no trimming): ``"007"`` and ``"7"`` are
different athletes. Normalise ids in the manifest, not here.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Union

from ._core import FormatError, InvalidArgument, NotFound

PathLike = Union[str, "os.PathLike[str]"]

#: Every pseudonym starts with this prefix ...
PSEUDONYM_PREFIX = "sm_"
#: ... followed by this many lowercase hex digits of HMAC-SHA256(secret, id).
PSEUDONYM_HEX_DIGITS = 16
#: Bytes of a secret created by :func:`load_or_create_secret` (the SHA-256 block is 64,
#: its output 32: a 32-byte key carries the hash's full strength, RFC 2104 section 3).
SECRET_BYTES = 32
#: The shortest secret accepted from a file (RFC 2104: keys shorter than the hash output
#: weaken the MAC).
MIN_SECRET_BYTES = 32


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    """The full HMAC-SHA256 of ``message`` under ``key`` as 64 lowercase hex digits."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _check_secret(secret: bytes, where: str) -> bytes:
    if not isinstance(secret, (bytes, bytearray)):
        raise InvalidArgument(f"{where}: the secret must be bytes, got {type(secret).__name__}")
    if len(secret) < MIN_SECRET_BYTES:
        raise InvalidArgument(f"{where}: the secret has {len(secret)} bytes, expected at least "
                              f"{MIN_SECRET_BYTES} (load_or_create_secret makes one)")
    return bytes(secret)


def pseudonym(athlete_id: str, secret: bytes) -> str:
    """The pseudonym of ``athlete_id`` under the study's ``secret``.

    Parameters
    ----------
    athlete_id : str
        The identifier as written in the manifest (hashed as UTF-8, exactly as given).
    secret : bytes
        The study's secret, at least 32 bytes (:func:`load_or_create_secret`).

    Returns
    -------
    str
        ``"sm_"`` + the first 16 lowercase hex digits of HMAC-SHA256(secret, id): 19
        characters.

    Raises
    ------
    sportsmed.InvalidArgument
        If the id is not a non-empty string or the secret is too short.
    """
    key = _check_secret(secret, "pseudonym")
    if not isinstance(athlete_id, str) or athlete_id == "":
        raise InvalidArgument(f"pseudonym: the athlete id must be a non-empty string, got {athlete_id!r}"
                              if not isinstance(athlete_id, str) else
                              "pseudonym: the athlete id is empty")
    return PSEUDONYM_PREFIX + hmac_sha256_hex(key, athlete_id.encode("utf-8"))[:PSEUDONYM_HEX_DIGITS]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def load_or_create_secret(path: PathLike, protects: Optional[Union[PathLike, Iterable[PathLike]]] = None) -> bytes:
    """The study's secret from ``path``, creating it (32 random bytes, mode 0600) if absent.

    Parameters
    ----------
    path : path-like
        The secret file. It must not lie inside any folder of ``protects``.
    protects : path-like or list of path-likes, optional
        The output folder(s) the pseudonyms go to (they need not exist yet). A secret
        inside one of them would travel with the outputs it is meant to protect.

    Returns
    -------
    bytes
        The secret (at least 32 bytes).

    Raises
    ------
    sportsmed.InvalidArgument
        If the secret lies inside a protected folder.
    sportsmed.FormatError
        If the existing file holds fewer than 32 bytes.
    sportsmed.NotFound
        If the file cannot be read or created (missing folder, permissions).
    """
    p = Path(path)
    resolved = p.expanduser().resolve()
    if protects is not None:
        folders = [protects] if isinstance(protects, (str, os.PathLike)) else list(protects)
        for folder in folders:
            f = Path(folder).expanduser().resolve()
            if _inside(resolved, f):
                raise InvalidArgument(f"load_or_create_secret: the secret '{p}' lies inside '{folder}', the folder "
                                      "it protects; keep it outside whatever is shared")
    if resolved.exists():
        try:
            secret = resolved.read_bytes()
        except OSError as exc:
            raise NotFound(f"load_or_create_secret: cannot read '{p}': {exc.strerror or exc}") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise FormatError(f"load_or_create_secret: '{p}' holds {len(secret)} bytes, expected at least "
                              f"{MIN_SECRET_BYTES} (a secret made by sportsmed has {SECRET_BYTES})")
        return secret
    secret = secrets.token_bytes(SECRET_BYTES)
    parent = resolved.parent
    try:  # its folder too (~/keys/ on a new machine), private to its owner
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise NotFound(f"load_or_create_secret: cannot create the folder of '{resolved}': {exc.strerror or exc}") \
            from None
    try:
        # mkstemp creates the file 0600; os.link publishes it only complete, and fails
        # rather than overwrite a secret another process created meanwhile.
        fd, tmp = tempfile.mkstemp(prefix=f".{resolved.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise NotFound(f"load_or_create_secret: cannot create '{resolved}': {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, resolved)
        except FileExistsError:
            return load_or_create_secret(path, protects)
        except OSError as exc:
            raise NotFound(f"load_or_create_secret: cannot create '{p}': {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return secret


def pseudonymise_table(df, columns: Union[str, Iterable[str]], secret: bytes):
    """A copy of ``df`` whose ``columns`` hold pseudonyms instead of ids.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; it is not modified.
    columns : str or list of str
        Identifier columns. Each value is turned into text (an integer id ``7`` as
        ``"7"``, also when pandas holds it as ``7.0``) and replaced by :func:`pseudonym`; missing values stay missing.
    secret : bytes
        The study's secret.

    Returns
    -------
    pandas.DataFrame
        The copy (same index, same column order).

    Raises
    ------
    sportsmed.InvalidArgument
        If a column is missing from the table, or the secret is too short.
    """
    import pandas as pd

    key = _check_secret(secret, "pseudonymise_table")
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InvalidArgument(f"pseudonymise_table: no column {missing} in the table (columns: {list(df.columns)})")
    out = df.copy()
    cache: dict = {}

    def one(value):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return value
        # A column of integer ids with a gap comes back from pandas as floats (7.0).
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if text == "":
            return text
        if text not in cache:
            cache[text] = pseudonym(text, key)
        return cache[text]

    # by position: a name may repeat (every column of that name holds ids)
    for k, name in enumerate(df.columns):
        if name in cols:
            out.isetitem(k, df.iloc[:, k].map(one).astype(object))
    return out
