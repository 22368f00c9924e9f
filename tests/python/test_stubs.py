"""The committed .pyi stubs must list exactly what the compiled module exports.

Stubs form a stub package next to each extension: sportsmed/_core/__init__.pyi for the
core, sportsmed/_core/<pillar>.pyi for each bound pillar submodule, and the same under
sportsmed/_torch/ for the LibTorch extension.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import sportsmed
from sportsmed import _core, _torch

STUBS = Path(sportsmed.__file__).with_name("_core")


def _submodules() -> list[tuple[Path, object]]:
    pairs = []
    for module in (_core, _torch):
        folder = Path(sportsmed.__file__).with_name(module.__name__.rsplit(".", 1)[1])
        pairs.append((folder / "__init__.pyi", module))
        for name, obj in vars(module).items():
            if inspect.ismodule(obj) and not name.startswith("_"):
                pairs.append((folder / f"{name}.pyi", obj))
    return pairs


def _stub_api(stub: Path) -> tuple[set[str], set[str]]:
    """(names the stub declares as module API, typing helpers that exist only in the stub).

    Helpers are plain assignments (`Alias = ...`) and TypedDict/Protocol classes."""
    api, helpers = set(), set()
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            api.add(node.name)
        elif isinstance(node, ast.ClassDef):
            bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
            (helpers if bases & {"TypedDict", "Protocol"} else api).add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            api.add(node.target.id)
        elif isinstance(node, ast.Assign):
            helpers.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return api, helpers


def _runtime_api(module) -> set[str]:
    return {name for name, obj in vars(module).items()
            if not inspect.ismodule(obj) and (not name.startswith("_") or name == "__version__")}


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[(" and 1 or 0
        depth -= ch in "])" and 1 or 0
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in parts + [current] if p.strip()]


def test_stubs_are_shipped_with_py_typed():
    assert (STUBS / "__init__.pyi").exists() and STUBS.with_name("_torch").joinpath("__init__.pyi").exists()
    assert STUBS.with_name("py.typed").exists()


def test_every_compiled_module_has_a_stub_with_the_same_names():
    for stub, module in _submodules():
        assert stub.exists(), f"{module.__name__} has no stub {stub}"
        api, _ = _stub_api(stub)
        runtime = _runtime_api(module)
        assert api == runtime, (f"{stub.name}: missing from stub {sorted(runtime - api)}, "
                                f"not in module {sorted(api - runtime)}")


def test_stub_function_arguments_match_the_bindings():
    for stub, module in _submodules():
        for node in ast.parse(stub.read_text()).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            doc = getattr(module, node.name).__doc__ or ""
            if "Overloaded function" in doc:
                continue
            first = doc.splitlines()[0]  # pybind11: "name(arg: type, ...) -> ret"
            inside = first[first.index("(") + 1: first.index(") ->") if ") ->" in first else first.rindex(")")]
            runtime_args = [p.split(":")[0].strip() for p in _split_top_level(inside)
                            if not p.startswith("*")]  # **kwargs: the stub spells it **kwargs too
            stub_args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            assert stub_args == runtime_args, f"{stub.name}: {node.name}"
