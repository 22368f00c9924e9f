"""Model files and multi-file outputs from damaged, foreign or half-written sources:
every defect is a sportsmed.FormatError naming the file and the node, never a KeyError,
a crash or a model that loads and then misbehaves (issue 21)."""

from __future__ import annotations

import copy
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest

import sportsmed

risk = pytest.importorskip("sportsmed.risk")


# ---- risk model JSON ------------------------------------------------------------------

def _squad_model(tmp_path, kind):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    df["y"] = (df["a"] + rng.normal(size=400) > 1).astype(float)
    params = {"n_estimators": 3, "max_depth": 2} if kind == "xgboost" else {}
    m = risk.RiskModel(["a", "b"], kind, **params).fit(df, "y")
    return m, m.save(tmp_path / f"{kind}.json"), df


def _write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize("mutate, node", [
    (lambda d: d.pop("features"), "features"),
    (lambda d: d.__setitem__("features", "a"), "features"),
    (lambda d: d.__setitem__("features", []), "features"),
    (lambda d: d.__setitem__("kind", "forest"), "kind"),
    (lambda d: d["preprocessing"].__setitem__("mean", [0.0]), "preprocessing.mean"),
    (lambda d: d["preprocessing"].__setitem__("scale", [1.0, 0.0]), r"preprocessing.scale\[1\]"),
    (lambda d: d["preprocessing"].__setitem__("mean", [0.0, "x"]), r"preprocessing.mean\[1\]"),
    (lambda d: d["model"].__setitem__("coef", [1.0]), "model.coef"),
    (lambda d: d["model"].pop("intercept"), "model.intercept"),
    (lambda d: d["model"].__setitem__("intercept", float("nan")), "model.intercept"),
    (lambda d: d.__setitem__("params", {"C": {"x": 1}}), "params.C"),
    (lambda d: d.__setitem__("params", {"no_such_option": 1.0}), "no_such_option"),
    (lambda d: d.__setitem__("params", {"C": -1.0}), "C"),
])
def test_risk_model_file_defects_name_the_node(tmp_path, mutate, node):
    _, path, _ = _squad_model(tmp_path, "logistic")
    d = json.loads(path.read_text())
    mutate(d)
    with pytest.raises(sportsmed.FormatError, match=node):
        risk.RiskModel.load(_write(tmp_path, "bad.json", d))


def test_risk_model_file_that_is_not_json_text(tmp_path):
    for name, raw in [("latin1.json", b'{"format": "sportsmed-risk-model", "x": "\xe9"}'),
                      ("deep.json", b"[" * 100000 + b"]" * 100000), ("empty.json", b"")]:
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(sportsmed.FormatError, match=name):
            risk.RiskModel.load(tmp_path / name)
    with pytest.raises(sportsmed.NotFound):
        risk.RiskModel.load(tmp_path)  # a folder


def _tree_model(tmp_path):
    m, path, df = _squad_model(tmp_path, "xgboost")
    d = json.loads(path.read_text())
    return m, d, json.loads(d["model"]["xgboost_json"]), df


def _with_booster(tmp_path, d, booster, name):
    d = copy.deepcopy(d)
    d["model"]["xgboost_json"] = json.dumps(booster)
    return _write(tmp_path, name, d)


@pytest.mark.parametrize("mutate, message", [
    (lambda t: t["left_children"].__setitem__(0, -1), r"child -1 is out of range"),
    (lambda t: t["right_children"].__setitem__(0, 10**6), r"child 1000000 is out of range"),
    (lambda t: t["split_indices"].__setitem__(0, 10**6), r"split_indices\[0\].*feature 1000000"),
    (lambda t: t["split_indices"].__setitem__(0, -3), r"split_indices\[0\]"),
    (lambda t: t["left_children"].__setitem__(0, 0), r"children\[0\]"),
    (lambda t: t["parents"].__setitem__(1, 2), r"parents\[1\]"),
    (lambda t: t["tree_param"].__setitem__("num_nodes", "1000"), r"expected an array of 1000"),
    (lambda t: t["tree_param"].__setitem__("num_nodes", "7x"), r"not an integer"),
    (lambda t: t["split_conditions"].__setitem__(0, "a"), r"split_conditions"),
    (lambda t: t.pop("left_children"), r"missing 'left_children'"),
])
def test_xgboost_trees_are_checked_before_libxgboost_sees_them(tmp_path, mutate, message):
    m, d, booster, df = _tree_model(tmp_path)
    bad = copy.deepcopy(booster)
    mutate(bad["learner"]["gradient_booster"]["model"]["trees"][0])
    with pytest.raises(sportsmed.FormatError, match=message):
        risk.RiskModel.load(_with_booster(tmp_path, d, bad, "bad.json"))
    # the untouched booster still loads and predicts as before
    back = risk.RiskModel.load(_with_booster(tmp_path, d, booster, "good.json"))
    np.testing.assert_array_equal(back.predict(df), m.predict(df))


def test_xgboost_model_with_another_feature_count_is_refused(tmp_path):
    _, d, booster, _ = _tree_model(tmp_path)
    d3 = copy.deepcopy(d)
    d3["features"] = ["a", "b", "c"]
    d3["preprocessing"]["mean"] += [0.0]
    d3["preprocessing"]["scale"] += [1.0]
    with pytest.raises(sportsmed.FormatError, match="num_feature.*2 features.*3"):
        risk.RiskModel.load(_with_booster(tmp_path, d3, booster, "three.json"))
    g = sportsmed.risk.GradientBoosting.from_json(json.dumps(booster), 0)  # 0: take the model's own count
    assert g.n_features == 2


def test_cox_and_calibrator_files_are_validated(tmp_path):
    rng = np.random.default_rng(0)
    cal = risk.Calibrator("isotonic").fit(rng.normal(size=300), (rng.random(300) < 0.3).astype(float))
    d = json.loads(cal.save(tmp_path / "cal.json").read_text())
    d["params"]["y"] = [0.1, 2.0]
    d["params"]["x"] = [0.0, 1.0]
    with pytest.raises(sportsmed.FormatError, match=r"params.y\[1\]|y\[1\]"):
        risk.Calibrator.load(_write(tmp_path, "c.json", d))
    d["method"] = "beta"
    with pytest.raises(sportsmed.FormatError, match="method"):
        risk.Calibrator.load(_write(tmp_path, "c.json", d))


# ---- segmentation models ---------------------------------------------------------------

@pytest.fixture(scope="module")
def seg():
    return pytest.importorskip("sportsmed.seg")


def _tiny(seg, seed):
    spec = seg.unet_spec(["background", "bone"], (16, 16, 16), (1.0, 1.0, 1.0), base_features=4, levels=2)
    return seg.create_model(spec, seed=seed)


def test_torn_model_save_is_a_format_error(seg, tmp_path):
    a = tmp_path / "m.pt"
    _tiny(seg, 0).save(str(a))
    old_sidecar = (tmp_path / "m.json").read_bytes()
    record = json.loads(old_sidecar)["weights"]
    assert record["bytes"] == a.stat().st_size
    _tiny(seg, 1).save(str(a))
    seg.load_model(a)  # a whole save loads
    # killed between the two renames: new weights beside the old sidecar
    (tmp_path / "m.json").write_bytes(old_sidecar)
    with pytest.raises(sportsmed.FormatError, match="interrupted save"):
        seg.load_model(a)


def test_damaged_weights_are_refused_before_libtorch(seg, tmp_path):
    src = tmp_path / "m.pt"
    _tiny(seg, 0).save(str(src))
    side = json.loads((tmp_path / "m.json").read_text())
    side.pop("weights")  # without the record, the archive checks alone must catch each defect
    raw = src.read_bytes()
    names = zipfile.ZipFile(src).namelist()
    data_pkl = next(n for n in names if n.endswith("data.pkl")).encode()

    def variant(i, blob):
        p = tmp_path / f"v{i}.pt"
        p.write_bytes(blob)
        (tmp_path / f"v{i}.json").write_text(json.dumps(side))
        return p

    first = raw.index(data_pkl)             # the name in the local header
    last = raw.rindex(data_pkl)             # the name in the central directory
    payload = raw.index(b"PK\x03\x04", first) - 20   # a byte of data.pkl's content
    flips = {"name in the local header": first + 3, "name in the central directory": last + 3,
             "entry data": payload}
    for i, (what, at) in enumerate(flips.items()):
        blob = bytearray(raw)
        blob[at] ^= 0x04
        with pytest.raises(sportsmed.FormatError, match="zip|CRC|header"):
            seg.load_model(variant(i, bytes(blob)))
    for j, cut in enumerate([10, len(raw) // 2, len(raw) - 5]):
        with pytest.raises(sportsmed.FormatError):
            seg.load_model(variant(10 + j, raw[:cut]))
    # the untouched archive with the record-less sidecar loads
    seg.load_model(variant(99, raw))


@pytest.mark.parametrize("key, value", [("levels", 64), ("levels", 1e30), ("base_features", 10**9),
                                        ("num_classes", "2"), ("convs_per_stage", -1)])
def test_seg_sidecar_values_out_of_range(seg, tmp_path, key, value):
    _tiny(seg, 0).save(str(tmp_path / "m.pt"))
    side = json.loads((tmp_path / "m.json").read_text())
    side["unet"][key] = value
    (tmp_path / "m.json").write_text(json.dumps(side))
    with pytest.raises(sportsmed.FormatError, match=key):
        seg.load_model(tmp_path / "m.pt")


# ---- NIfTI pairs --------------------------------------------------------------------------

def test_torn_nifti_pair_is_a_format_error(tmp_path):
    im = pytest.importorskip("sportsmed.imaging")
    nib = pytest.importorskip("nibabel")
    g = im.Geometry((4, 5, 6), (1.0, 1.0, 2.0))
    a = np.arange(120, dtype=np.int16).reshape(4, 5, 6)
    im.write_image(im.Image(a, g), str(tmp_path / "x.hdr"))
    # other tools read the pair as before (the record is an ordinary comment extension)
    np.testing.assert_array_equal(np.asarray(nib.load(str(tmp_path / "x.hdr")).dataobj), a)
    old_hdr = (tmp_path / "x.hdr").read_bytes()
    im.write_image(im.Image(a[::-1].copy(), g), str(tmp_path / "x.hdr"))
    np.testing.assert_array_equal(im.read_image(tmp_path / "x.hdr").array, a[::-1])
    (tmp_path / "x.hdr").write_bytes(old_hdr)  # new .img, old .hdr: the interrupted write
    with pytest.raises(sportsmed.FormatError, match="interrupted write"):
        im.read_image(tmp_path / "x.img")
    # a pair written by another tool has no record and reads as it is
    nib.save(nib.Nifti1Pair(a, np.eye(4)), str(tmp_path / "y.hdr"))
    np.testing.assert_array_equal(im.read_image(tmp_path / "y.hdr").array, a)


# ---- the atomic writer --------------------------------------------------------------------

def test_outputs_survive_a_full_disk(tmp_path, monkeypatch):
    from sportsmed import _io

    target = tmp_path / "table.csv"
    target.write_text("old\n")
    df = pd.DataFrame({"a": range(1000)})
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(sportsmed.Error, match="No space left"):
        _io.write_csv_atomic(df, target, index=False)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]  # no temporary left behind
    _io.write_csv_atomic(df, target, index=False)
    assert pd.read_csv(target)["a"].tolist() == list(range(1000))


def test_killed_writes_leave_the_old_file_or_the_new_one(tmp_path):
    """SIGKILL at many points of `risk workload -o`-style CSV writes: the target is
    always either the previous table or the complete new one."""
    target = tmp_path / "big.csv"
    old = "x\n" + "0\n" * 10
    child = textwrap.dedent(f"""
        import sys, pandas as pd, numpy as np
        from sportsmed._io import write_csv_atomic
        df = pd.DataFrame(np.arange(400000, dtype=float).reshape(-1, 4), columns=list("abcd"))
        print("ready", flush=True)
        sys.stdin.readline()
        while True:
            write_csv_atomic(df, {str(target)!r}, index=False)
    """)
    import pandas as _pd

    new = _pd.DataFrame(np.arange(400000, dtype=float).reshape(-1, 4), columns=list("abcd")).to_csv(index=False)
    outcomes = set()
    for delay in (0.0, 0.05, 0.11, 0.23, 0.37, 0.5, 0.71, 0.9):
        target.write_text(old)
        p = subprocess.Popen([sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        p.stdin.write("go\n")
        p.stdin.flush()
        try:
            p.wait(timeout=delay) if delay else None
        except subprocess.TimeoutExpired:
            pass
        p.send_signal(signal.SIGKILL)
        p.wait()
        text = target.read_text()
        assert text in (old, new), f"torn file after {delay} s: {len(text)} bytes"
        outcomes.add(text == new)
        for leftover in tmp_path.glob(".big.csv.*"):
            leftover.unlink()  # a killed writer may leave its temporary; never the target
    assert outcomes == {False, True} or outcomes == {True}


def test_fit_t2_curves_needs_enough_echoes():
    im = pytest.importorskip("sportsmed.imaging")
    with pytest.raises(sportsmed.InvalidArgument, match="at least 2 echoes"):
        im.fit_t2_curves(np.array([[100.0]]), [10.0])
    with pytest.raises(sportsmed.InvalidArgument, match="at least 3 echoes"):
        im.fit_t2_curves(np.array([[100.0, 50.0]]), [10.0, 20.0], noise_floor=True)


def test_cli_never_leaves_a_fragment(tmp_path):
    out = tmp_path / "w.csv"
    csv = tmp_path / "log.csv"
    pd.DataFrame({"athlete": ["a"] * 30, "date": pd.date_range("2024-01-01", periods=30).strftime("%Y-%m-%d"),
                  "daily_load": np.arange(30.0)}).to_csv(csv, index=False)
    r = subprocess.run([sys.executable, "-m", "sportsmed", "risk", "workload", str(csv), "--missing", "zero", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(out)) == 30
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_dates_pandas_cannot_hold_are_refused_not_wrapped(tmp_path):
    """A date after 2262 used to come back as a date in 1715 (nanosecond overflow)."""
    csv = tmp_path / "late.csv"
    csv.write_text("athlete,date,daily_load\na,2262-04-10,5\nb,2300-01-01,6\n")
    with pytest.raises(sportsmed.FormatError, match=r"2300-01-01.*'b'.*2262-04-11"):
        risk.read_table(csv)
    csv.write_text("athlete,date,daily_load\na,2262-04-10,5\n")
    assert str(risk.read_table(csv)["date"].iloc[0].date()) == "2262-04-10"
    empty = tmp_path / "empty.csv"
    empty.write_text("athlete,date,daily_load\n")
    with pytest.raises(sportsmed.FormatError, match="no data rows"):
        risk.read_table(empty)
    no_rows = pd.DataFrame({"athlete": pd.Series([], dtype=object), "date": pd.Series([], dtype="datetime64[ns]"),
                            "daily_load": pd.Series([], dtype=float)})
    with pytest.raises(sportsmed.InvalidArgument, match="no rows"):
        risk.workload(no_rows)


def test_phantom_and_dicom_series_come_as_images(tmp_path):
    """make_knee_phantom and read_dicom_series give Image objects (geometry, affine,
    to_nibabel) whose arrays are the dict's arrays — one copy of the voxels."""
    im = pytest.importorskip("sportsmed.imaging")
    ph = im.make_knee_phantom(spacing_mm=(2.0, 2.0, 2.0))
    for key in ("labels", "image", "echoes", "pure"):
        img = ph["images"][key]
        assert np.shares_memory(img.array, ph[key])
        assert tuple(img.shape) == ph[key].shape
        np.testing.assert_array_equal(img.affine, im.Image(np.ascontiguousarray(ph[key]), ph["geometry"]).affine)
    from test_reader_contract import _dicom_slice

    folder = tmp_path / "series"
    folder.mkdir()
    for z in range(4):
        (folder / f"{z}.dcm").write_bytes(_dicom_slice(z))
    s = im.read_dicom_series(folder)
    assert np.shares_memory(s["image"].array, s["array"])
    np.testing.assert_array_equal(s["image"].array[:, :, 2], s["array"][:, :, 2])
    assert s["image"].geometry.spacing[2] == pytest.approx(2.0)
