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


# --- Stub annotations against runtime values (issue 22 §3: Geometry.shape said tuple, ran list) ---

def _conforms(value, ann: ast.expr, names: dict) -> bool:
    """Whether ``value`` is of the stub annotation ``ann`` (the forms the stubs use)."""
    import numpy as np

    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):  # "LogisticRegression"
        ann = ast.parse(ann.value, mode="eval").body
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return _conforms(value, ann.left, names) or _conforms(value, ann.right, names)
    if isinstance(ann, ast.Constant) and ann.value is None:
        return value is None
    if isinstance(ann, (ast.Name, ast.Attribute)):
        text = ast.unparse(ann)
        if text in names:  # a stub alias (F64 = npt.NDArray[np.float64])
            return _conforms(value, names[text], names)
        simple = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "List": list,
                  "dict": dict, "Dict": dict, "tuple": tuple, "Tuple": tuple, "np.ndarray": np.ndarray,
                  "object": object, "Any": object}
        if text in simple:
            kind = simple[text]
            if kind is int:
                return isinstance(value, int) and not isinstance(value, bool)
            return isinstance(value, kind)
        runtime = names.get("__runtime__", {}).get(text)
        assert runtime is not None, f"annotation {text} unknown to this test"
        return isinstance(value, runtime)
    assert isinstance(ann, ast.Subscript), ast.unparse(ann)
    head = ast.unparse(ann.value)
    args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
    if head in ("npt.NDArray", "np.ndarray"):
        dtype = getattr(np, ast.unparse(args[-1]).split(".")[-1], None)
        return isinstance(value, np.ndarray) and (dtype is None or value.dtype == dtype)
    if head == "Optional":
        return value is None or _conforms(value, args[0], names)
    if head in ("list", "List"):
        return isinstance(value, list) and all(_conforms(v, args[0], names) for v in value)
    if head in ("tuple", "Tuple"):
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return all(_conforms(v, args[0], names) for v in value)
        return len(value) == len(args) and all(_conforms(v, a, names) for v, a in zip(value, args))
    if head in ("dict", "Dict"):
        return isinstance(value, dict) and all(_conforms(k, args[0], names) and _conforms(v, args[1], names)
                                               for k, v in value.items())
    raise AssertionError(f"annotation {ast.unparse(ann)} unknown to this test")


def _class_annotations(stub: Path) -> tuple[dict, dict]:
    """({class: {attribute or property: annotation}}, {alias: annotation}) of a stub."""
    classes, aliases = {}, {}
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            aliases[node.targets[0].id] = node.value
        if not isinstance(node, ast.ClassDef):
            continue
        members = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                members[item.target.id] = item.annotation
            elif isinstance(item, ast.FunctionDef) and any(getattr(d, "id", "") == "property"
                                                          for d in item.decorator_list):
                members[item.name] = item.returns
        classes[node.name] = members
    return classes, aliases


def _check_instances(stub: Path, module, instances: dict) -> int:
    classes, aliases = _class_annotations(stub)
    aliases["__runtime__"] = {name: obj for name, obj in vars(module).items() if isinstance(obj, type)}
    checked = 0
    for cls, objs in instances.items():
        assert cls in classes, f"{stub.name} has no class {cls}"
        for obj in objs:
            assert type(obj).__name__ == cls
            for member, ann in classes[cls].items():
                value = getattr(obj, member)
                assert _conforms(value, ann, aliases), (
                    f"{stub.name}: {cls}.{member} is annotated {ast.unparse(ann)}, "
                    f"runtime gives {type(value).__name__} {value!r:.80}")
                checked += 1
    return checked


def test_imaging_stub_annotations_match_runtime_values(tmp_path):
    import numpy as np

    if not hasattr(_core, "imaging"):
        import pytest

        pytest.skip("imaging pillar not built")
    im = _core.imaging
    g = im.Geometry([4, 5, 6], [0.5, 0.6, 0.7])
    a = im.Image(np.arange(120, dtype=np.int16).reshape(4, 5, 6), g)
    im.write_nifti(a, str(tmp_path / "a.nii.gz"))
    im.write_nrrd(a, str(tmp_path / "a.nrrd"))
    read = [im.read_image(str(tmp_path / "a.nii.gz")), im.read_image(str(tmp_path / "a.nrrd"))]
    n = _check_instances(STUBS / "imaging.pyi", im, {"Geometry": [g] + [r.geometry for r in read],
                                                      "Image": [a] + read})
    assert n >= 20
    assert g.shape == (4, 5, 6)  # a tuple, as numpy's shape


def test_motion_stub_annotations_match_runtime_values(tmp_path):
    import pytest

    if not hasattr(_core, "motion"):
        pytest.skip("motion pillar not built")
    mo = _core.motion
    s = mo.synthesize_drop_jump(seed=1)
    t = s.trial
    t.events = [mo.Event("Foot Strike", 0.5, "Left")]
    mo.write_trial_c3d(str(tmp_path / "t.c3d"), t)
    c3d = mo.read_c3d(str(tmp_path / "t.c3d"))
    groups = list(c3d.groups)
    mot = mo.MotTable()
    mot.labels = ["time", "a"]
    mot.data = [[0.0, 1.0], [0.01, 2.0]]
    instances = {"SyntheticDropJump": [s], "Trial": [t, c3d.trial], "Event": list(c3d.trial.events),
                 "C3d": [c3d], "C3dGroup": groups, "C3dParameter": [p for g in groups for p in g.parameters],
                 "SegmentTemplate": list(s.model), "MotTable": [mot], "ForcePlate": [mo.ForcePlate()],
                 "Cgm1Parameters": [mo.Cgm1Parameters()], "Cgm1LegParameters": [mo.Cgm1LegParameters()],
                 "FeatureTable": [mo.make_feature_table(["x"], [[("f_deg", 1.0, "deg")]])]}
    from conftest import shared_data_dir

    plates = shared_data_dir() / "motion/c3d/gait-pig.c3d"
    if plates.exists():  # real plates, with data
        real = mo.read_c3d(str(plates))
        instances["C3d"].append(real)
        instances["Trial"].append(real.trial)
        instances["ForcePlate"] += list(real.trial.force_plates)
        instances["Event"] += list(real.trial.events)
    assert all(instances.values()), {k for k, v in instances.items() if not v}
    assert _check_instances(STUBS / "motion.pyi", mo, instances) >= 60


def test_risk_stub_annotations_match_runtime_values():
    import numpy as np
    import pytest

    if not hasattr(_core, "risk"):
        pytest.skip("risk pillar not built")
    rk = _core.risk
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    y = (x[:, 0] + rng.normal(size=60) > 0).astype(float)
    lr = rk.LogisticRegression().fit(x, y)
    assert _check_instances(STUBS / "risk.pyi", rk, {"LogisticRegression": [lr, rk.LogisticRegression()]}) >= 10
