"""The committed .pyi stubs must list exactly what the compiled module exports."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import sportsmed
from sportsmed import _core

STUB = Path(sportsmed.__file__).with_name("_core.pyi")


def _stub_names() -> set[str]:
    tree = ast.parse(STUB.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _runtime_names() -> set[str]:
    names = set()
    for name, obj in vars(_core).items():
        if name.startswith("_") and name != "__version__":
            continue
        if inspect.ismodule(obj):
            continue  # pillar submodules have stubs of their own
        names.add(name)
    return names


def test_stub_is_shipped_with_py_typed():
    assert STUB.exists()
    assert STUB.with_name("py.typed").exists()


def test_stub_matches_compiled_module():
    helper_types = {"BuildInfo", "ProgressCallback"}  # typing helpers, stub-only
    assert _stub_names() - helper_types == _runtime_names()


def test_stub_signatures_match_docstrings():
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub_args = [a.arg for a in node.args.args]
            # pybind11 puts "name(arg: type, ...)" in the first docstring line.
            first = getattr(_core, node.name).__doc__.splitlines()[0]
            inside = first[first.index("(") + 1: first.rindex(")")]
            runtime_args = [p.split(":")[0].strip() for p in inside.split(",") if p.strip()]
            assert stub_args == runtime_args, node.name
