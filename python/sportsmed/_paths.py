"""``os.PathLike`` arguments for the compiled readers and writers (pybind11 takes ``str``)."""

from __future__ import annotations

import functools
import os


def _fspath(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, os.PathLike) for v in value):
        return type(value)(os.fspath(v) if isinstance(v, os.PathLike) else v for v in value)
    return value


def accept_pathlike(fn):
    """``fn`` with every ``os.PathLike`` argument (or list of them) given as ``str``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*(_fspath(a) for a in args), **{k: _fspath(v) for k, v in kwargs.items()})

    return wrapper


def wrap_file_functions(namespace: dict, module) -> None:
    """Replaces, in ``namespace``, each function of the compiled ``module`` whose signature
    takes a path (``path``, ``folder``, ``paths``, ``src``, ``dst``) by its PathLike-accepting
    wrapper."""
    for name in dir(module):
        fn = getattr(module, name)
        if name.startswith("_") or not callable(fn) or isinstance(fn, type):
            continue
        first = (getattr(fn, "__doc__", "") or "").split("\n", 1)[0]
        if any(f"{arg}: str" in first or f"{arg}: List[str]" in first
               for arg in ("path", "folder", "paths", "src", "dst")):
            namespace[name] = accept_pathlike(fn)
