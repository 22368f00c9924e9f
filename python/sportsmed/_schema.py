"""Validation of the JSON documents sportsmed reads back (risk models, calibrators, Cox
models): every node is checked for presence, type, shape and range before any of it is
used, so that a damaged or foreign file is a :class:`sportsmed.FormatError` naming the
node — never a ``KeyError``, ``TypeError`` or a crash further down.

A schema is built from a few constructors::

    Obj({"features": List(Str(), min_len=1), "params?": Obj({}, extra=True)})

Keys ending in ``?`` are optional. ``check(doc, schema, where, path)`` raises
``FormatError("<where>: '<path>': node <node> must be ..., got ...")``.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence

from ._core import FormatError

__all__ = ["Any_", "Bool", "Int", "List", "Num", "Obj", "OneOf", "Optional_", "Str", "check"]


class _Bad(Exception):
    def __init__(self, node: str, expected: str, got: Any):
        super().__init__(node, expected, got)
        self.node, self.expected, self.got = node, expected, got


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


class Schema:
    expected = "a value"

    def validate(self, v: Any, node: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Any_(Schema):
    expected = "any value"

    def validate(self, v, node):
        pass


class Str(Schema):
    def __init__(self, max_len: int = 1 << 20, choices: Optional[Sequence[str]] = None):
        self.max_len, self.choices = max_len, None if choices is None else tuple(choices)
        self.expected = f"one of {list(self.choices)}" if self.choices else "a string"

    def validate(self, v, node):
        if not isinstance(v, str) or len(v) > self.max_len or (self.choices and v not in self.choices):
            raise _Bad(node, self.expected, v)


class Bool(Schema):
    expected = "true or false"

    def validate(self, v, node):
        if not isinstance(v, bool):
            raise _Bad(node, self.expected, v)


class Int(Schema):
    def __init__(self, lo: Optional[int] = None, hi: Optional[int] = None):
        self.lo, self.hi = lo, hi
        rng = "" if lo is None and hi is None else f" in [{lo if lo is not None else '-inf'}, " \
                                                   f"{hi if hi is not None else 'inf'}]"
        self.expected = "an integer" + rng

    def validate(self, v, node):
        if isinstance(v, bool) or not isinstance(v, int) or \
                (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise _Bad(node, self.expected, v)


class Num(Schema):
    """A JSON number; ``finite`` refuses NaN/±inf (which Python's json module accepts)."""

    def __init__(self, finite: bool = True, lo: Optional[float] = None, hi: Optional[float] = None):
        self.finite, self.lo, self.hi = finite, lo, hi
        self.expected = ("a finite number" if finite else "a number") + \
            ("" if lo is None and hi is None else f" in [{lo}, {hi}]")

    def validate(self, v, node):
        ok = not isinstance(v, bool) and isinstance(v, (int, float))
        if ok and isinstance(v, float) and self.finite and not math.isfinite(v):
            ok = False
        if ok and ((self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi)):
            ok = False
        if not ok:
            raise _Bad(node, self.expected, v)


class Optional_(Schema):
    """``inner`` or JSON null."""

    def __init__(self, inner: Schema):
        self.inner = inner
        self.expected = f"{inner.expected} or null"

    def validate(self, v, node):
        if v is not None:
            self.inner.validate(v, node)


class OneOf(Schema):
    """The first alternative that validates wins."""

    def __init__(self, *alternatives: Schema):
        self.alternatives = alternatives
        self.expected = " or ".join(a.expected for a in alternatives)

    def validate(self, v, node):
        for a in self.alternatives:
            try:
                a.validate(v, node)
                return
            except _Bad:
                continue
        raise _Bad(node, self.expected, v)


class List(Schema):
    def __init__(self, item: Schema, min_len: int = 0, max_len: int = 1 << 28, length: Optional[int] = None):
        self.item, self.min_len, self.max_len, self.length = item, min_len, max_len, length
        n = f"of {length} " if length is not None else (f"of at least {min_len} " if min_len else "of ")
        self.expected = f"a list {n}{item.expected}"

    def validate(self, v, node):
        if not isinstance(v, list) or len(v) < self.min_len or len(v) > self.max_len or \
                (self.length is not None and len(v) != self.length):
            raise _Bad(node, self.expected, v if not isinstance(v, list) else f"a list of {len(v)}")
        for i, x in enumerate(v):
            self.item.validate(x, f"{node}[{i}]")


class Obj(Schema):
    """A JSON object with the given keys (``"name?"`` = optional); ``extra`` allows
    keys the schema does not name (their values are not checked)."""

    def __init__(self, fields: Dict[str, Schema], extra: bool = False, values: Optional[Schema] = None):
        self.required = {k: s for k, s in fields.items() if not k.endswith("?")}
        self.optional = {k[:-1]: s for k, s in fields.items() if k.endswith("?")}
        self.extra, self.values = extra, values
        self.expected = "an object"

    def validate(self, v, node):
        if not isinstance(v, dict):
            raise _Bad(node, self.expected, v)
        for k, s in self.required.items():
            if k not in v:
                raise _Bad(f"{node}.{k}" if node else k, "present", "nothing")
            s.validate(v[k], f"{node}.{k}" if node else k)
        for k, s in self.optional.items():
            if k in v:
                s.validate(v[k], f"{node}.{k}" if node else k)
        for k in v:
            if k in self.required or k in self.optional:
                continue
            if self.values is not None:
                self.values.validate(v[k], f"{node}.{k}" if node else k)
            elif not self.extra:
                raise _Bad(f"{node}.{k}" if node else k, "absent (unknown key)", v[k])


def check(doc: Any, schema: Schema, where: str, path: Any, node: str = "") -> None:
    """Raises :class:`sportsmed.FormatError` naming the first node of ``doc`` that does
    not fit ``schema``; ``node`` is ``doc``'s own name in its file ("" for the root)."""
    try:
        schema.validate(doc, node)
    except _Bad as e:
        node = e.node or "(the document)"
        got = e.got if isinstance(e.got, str) and e.got.startswith("a list of") else _show(e.got)
        raise FormatError(f"{where}: '{path}': node {node} must be {e.expected}, got {got}") from None
