"""Readers and writers take os.PathLike (pathlib.Path) as well as str (issue 19, Python habits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sportsmed import imaging, motion


def test_imaging_round_trip_through_pathlib(tmp_path):
    img = imaging.Image(np.arange(60, dtype=np.float32).reshape(3, 4, 5), imaging.Geometry([3, 4, 5]))
    for name in ("a.nii.gz", "b.nrrd"):
        p = tmp_path / name
        assert isinstance(p, Path)
        imaging.write_image(img, p)
        back = imaging.read_image(p)
        np.testing.assert_array_equal(back.fdata(), img.fdata())


def test_motion_round_trip_through_pathlib(tmp_path):
    t = motion.Trial()
    t.point_labels = ["A", "B"]
    t.point_descriptions = ["", ""]
    t.points = np.arange(30, dtype=float).reshape(5, 2, 3) + 1
    t.point_rate_hz = 50.0
    for name, write, read in (("t.c3d", motion.write_trial_c3d, lambda p: motion.read_c3d(p).trial),
                              ("t.trc", motion.write_trc, motion.read_trc)):
        p = tmp_path / name
        write(p, t)
        np.testing.assert_allclose(read(p).points, t.points)
    table = motion.feature_table([tmp_path / "t.c3d"], "gait")
    assert list(table.index) == [str(tmp_path / "t.c3d")]


def test_image_speaks_nibabel(tmp_path):
    """img.affine and img.shape as nibabel's; to_nibabel / from_nibabel round trip voxels,
    scaling and geometry (checked against nibabel reading the same file)."""
    import pytest

    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(0)
    affine = np.array([[0.0, 0.0, 1.2, -40.0], [-0.8, 0.0, 0.0, 12.0], [0.0, 0.9, 0.0, 7.5], [0, 0, 0, 1]])
    data = rng.integers(0, 1000, (6, 5, 4)).astype(np.int16)
    ref = nib.Nifti1Image(data, affine)
    ref.header.set_slope_inter(0.5, 10.0)
    path = tmp_path / "x.nii"
    nib.save(ref, str(path))
    ref = nib.load(str(path))
    ours = imaging.read_image(path)
    np.testing.assert_allclose(ours.affine, ref.affine, atol=1e-5)
    assert ours.shape == ref.shape
    back = ours.to_nibabel()
    np.testing.assert_allclose(back.get_fdata(), ref.get_fdata())
    np.testing.assert_allclose(back.affine, ref.affine, atol=1e-5)
    again = imaging.Image.from_nibabel(ref)
    np.testing.assert_array_equal(again.fdata(), ref.get_fdata())
    np.testing.assert_allclose(again.affine, ref.affine, atol=1e-5)


def test_image_array_is_a_view_of_the_image():
    """Image.array is the image's own buffer: one buffer across accesses, writes kept."""
    img = imaging.Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4), imaging.Geometry([2, 3, 4]))
    a = img.array
    assert np.shares_memory(a, img.array)
    a[1, 2, 3] = -7
    assert img.array[1, 2, 3] == -7 and img.fdata()[1, 2, 3] == -7.0
    del img
    assert a[1, 2, 3] == -7  # the view keeps the image alive


# --- The public API walked (issue 22 §3): every path argument takes os.PathLike ---------------

import importlib  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

import sportsmed  # noqa: E402

#: Parameter names that hold a file or folder path.
PATH_PARAM = re.compile(r"(^|_)(path|paths|folder|file|filename|src|dst|out|output|mot|mp|external_loads|dir|"
                        r"directory|trc|ik)$")
PUBLIC_MODULES = ("sportsmed.motion", "sportsmed.imaging", "sportsmed.risk", "sportsmed.seg",
                  "sportsmed.motion.anomaly", "sportsmed.motion.contacts", "sportsmed.report", "sportsmed.demo")


def _params(fn) -> list:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pybind11: "name(arg: type, ...) -> ret"
        first = (fn.__doc__ or "").split("\n", 1)[0]
        return re.findall(r"(\w+): ", first[first.find("(") + 1:]) if "(" in first else []


def _path_taking_functions():
    """{qualified name: function} of every public function or method with a path parameter."""
    found = {}
    for name in PUBLIC_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:  # a pillar not built
            continue
        for attr in dir(mod):
            obj = getattr(mod, attr)
            if attr.startswith("_") or getattr(obj, "__module__", "").split(".")[0] not in ("sportsmed", ""):
                continue
            members = [(attr, obj)] if not inspect.isclass(obj) else [
                (f"{attr}.{k}", getattr(obj, k)) for k in vars(obj) if not k.startswith("_")]
            for qual, fn in members:
                if callable(fn) and any(PATH_PARAM.search(p) for p in _params(fn)):
                    found[f"{name}.{qual}"] = fn
    return found


def test_compiled_path_functions_are_wrapped_to_take_pathlike():
    """A pybind11 function taking a path as ``str`` rejects pathlib.Path; each public one must
    be the wrapper of sportsmed._paths (the walk fails for a new compiled reader left out)."""
    funcs = _path_taking_functions()
    compiled = {q: f for q, f in funcs.items()
                if inspect.isbuiltin(f) or inspect.isbuiltin(inspect.unwrap(f))}
    assert compiled or not sportsmed.available_pillars()
    for qual, fn in compiled.items():
        assert hasattr(fn, "__wrapped__"), f"{qual} takes a path as str only"


def _py(tmp_path):
    """Calls of every Python-level path-taking function with pathlib.Path (round trips)."""
    import numpy as np
    import pandas as pd

    calls = {}

    def motion_calls():
        from sportsmed import motion

        df = pd.DataFrame({"a_deg": [1.5, np.nan]}, index=pd.Index(["t1", "t2"], name="trial"))
        df["error"], df["warnings"] = ["", "x"], ["", ""]
        df.attrs["units"] = {"a_deg": "deg"}
        motion.write_feature_csv(df, tmp_path / "f.csv")
        back = motion.read_feature_csv(tmp_path / "f.csv")
        assert back.loc["t1", "a_deg"] == 1.5 and back.attrs["units"] == {"a_deg": "deg"}
        dyn = pd.DataFrame({"knee_moment_nm_kg": [0.25]}, index=pd.Index([0.0], name="time_s"))
        dyn.attrs["units"] = {"knee_moment_nm_kg": "N·m/kg"}
        motion.write_dynamics_csv(dyn, tmp_path / "d.csv")
        assert "knee_moment_nm_kg [N·m/kg]" in (tmp_path / "d.csv").read_text(encoding="utf-8")
        (tmp_path / "s.mp").write_text("$Bodymass = 66.2\n")
        assert motion.read_vicon_mp(tmp_path / "s.mp") == {"Bodymass": 66.2}

    calls.update(dict.fromkeys(["sportsmed.motion.write_feature_csv", "sportsmed.motion.read_feature_csv",
                                "sportsmed.motion.write_dynamics_csv", "sportsmed.motion.read_vicon_mp"],
                               motion_calls))

    def opensim_calls():
        from conftest import shared_data_dir

        from sportsmed import motion

        dyn = pd.DataFrame({"LKneeMoment_X": [0.25, 0.5]}, index=pd.Index([0.0, 0.01], name="time_s"))
        dyn.attrs["units"] = {"LKneeMoment_X": "N·m"}
        motion.write_dynamics(dyn, tmp_path / "d.mot")
        back = motion.read_opensim_storage(tmp_path / "d.mot")
        assert np.asarray(back["LKneeMoment_X"] if hasattr(back, "columns") else back.column("LKneeMoment_X"),
                          dtype=float).tolist() == [0.25, 0.5]
        osim = shared_data_dir() / "motion/opensim/subject01_simbody.osim"
        if osim.exists():
            assert motion.read_osim(osim) is not None

    calls.update(dict.fromkeys(["sportsmed.motion.write_dynamics", "sportsmed.motion.read_opensim_storage",
                                "sportsmed.motion.read_osim"], opensim_calls))

    def imaging_calls():
        from sportsmed import imaging

        img = imaging.Image(np.arange(24, dtype=np.uint8).reshape(2, 3, 4) % 3, imaging.Geometry([2, 3, 4]))
        imaging.write_image(img, tmp_path / "m.nii.gz")
        imaging.convert(tmp_path / "m.nii.gz", tmp_path / "m.nrrd")
        np.testing.assert_array_equal(imaging.read_image(tmp_path / "m.nrrd").array, img.array)
        side = imaging.write_label_names(tmp_path / "m.nii.gz", {1: "femur", 2: "tibia"})
        assert side == imaging.label_names_path(tmp_path / "m.nii.gz") == tmp_path / "m.labels.json"
        assert imaging.read_label_names(tmp_path / "m.nii.gz") == {1: "femur", 2: "tibia"}
        assert imaging.read_label_mapping(side) == {1: "femur", 2: "tibia"}

    calls.update(dict.fromkeys(["sportsmed.imaging.convert", "sportsmed.imaging.write_label_names",
                                "sportsmed.imaging.label_names_path", "sportsmed.imaging.read_label_names",
                                "sportsmed.imaging.read_label_mapping"], imaging_calls))

    def risk_calls():
        from sportsmed import risk

        df = risk.with_features(risk.complete_days(risk.synthetic_cohort(athletes=8, days=200, seed=1),
                                                   policy="zero"), horizon_days=7)
        model = risk.RiskModel(["ewma_acwr"], "logistic").fit(df, "y")
        model.save(tmp_path / "m.json")
        np.testing.assert_allclose(risk.RiskModel.load(tmp_path / "m.json").predict(df), model.predict(df))
        df[["athlete", "date", "daily_load"]].to_csv(tmp_path / "log.csv", index=False)
        assert len(risk.read_table(tmp_path / "log.csv")) == len(df)

    calls.update(dict.fromkeys(["sportsmed.risk.RiskModel.save", "sportsmed.risk.RiskModel.load"], risk_calls))
    return calls


#: Path-taking functions checked elsewhere with pathlib.Path (test and file named), or that
#: reach files only through the functions above.
ELSEWHERE = {
    "sportsmed.motion.attach_grf_mot": "test_motion_grf.py (opens the .mot through read_mot)",
    "sportsmed.motion.inverse_dynamics": "opens mp/external_loads through read_vicon_mp and attach_grf_mot",
    "sportsmed.motion.feature_table": "test_motion_round_trip_through_pathlib above; mp through read_vicon_mp",
    "sportsmed.motion.opensim_inverse_dynamics": "reads through read_osim and read_opensim_storage (os.fspath)",
    "sportsmed.imaging.write_thickness_map": "str(path) first; test_imaging_cli thickness --map",
    "sportsmed.risk.Calibrator.save": "same JSON writer as RiskModel.save", "sportsmed.risk.Calibrator.load": "",
    "sportsmed.risk.CoxModel.save": "same JSON writer as RiskModel.save", "sportsmed.risk.CoxModel.load": "",
    "sportsmed.seg.Model.save": "wrapped in sportsmed.seg (test below)", "sportsmed.seg.Model.load": "",
    "sportsmed.seg.load_model": "str(path) first", "sportsmed.seg.load_label_map": "read_image (wrapped)",
    "sportsmed.motion.anomaly.Baseline.save": "write_json_atomic (PathLike)",
    "sportsmed.motion.anomaly.load_baseline": "load_json_file (PathLike)",
    "sportsmed.motion.anomaly.segment_trial": "read_trc/read_mot (wrapped)",
    "sportsmed.motion.anomaly.signals_from_ik": "os.fspath(ik) before read_mot",
    "sportsmed.report.Report.save": "atomic_output (PathLike)", "sportsmed.report.write_text_atomic": "",
    "sportsmed.demo.Report.save": "", "sportsmed.demo.write_text_atomic": "", "sportsmed.demo.run_demo": "Path(out)",
    "sportsmed.report.Report.save_json": "Path(path), then write_text_atomic; test_screen_report writes it",
    "sportsmed.demo.Report.save_json": "",
}


def test_python_path_functions_take_pathlib(tmp_path):
    funcs = _path_taking_functions()
    python_level = {q for q, f in funcs.items() if not (inspect.isbuiltin(f) or inspect.isbuiltin(inspect.unwrap(f)))}
    calls = _py(tmp_path)
    unchecked = python_level - set(calls) - set(ELSEWHERE)
    assert not unchecked, f"path-taking functions nobody calls with pathlib.Path: {sorted(unchecked)}"
    for fn in {id(c): c for q, c in calls.items() if q in python_level}.values():
        fn()


def test_seg_model_save_and_load_take_pathlib(tmp_path):
    seg = pytest.importorskip("sportsmed.seg")
    model = seg.create_model(seg.unet_spec(["background", "bone"], [16, 16, 16], [1.0, 1.0, 1.0], base_features=2,
                                           levels=2), seed=0)
    model.save(tmp_path / "m.pt")
    back = seg.Model.load(tmp_path / "m.pt")
    assert seg.model_spec(back)["labels"] == ["background", "bone"]
    assert seg.model_spec(seg.load_model(tmp_path / "m.pt"))["labels"] == ["background", "bone"]
