"""Real-world motion files (issue 18): stored Plug-in Gait outputs, C3D corner cases written
here byte by byte with NumPy (more than 65535 frames, a ROTATION section, gaps stored as
(0, 0, 0)), force-plate ORIGIN signs, duplicate labels, TRC time bases, heel-marker fallbacks,
event label variants, turned (y-up) labs and implausible kinematics.

Every check compares numbers with an independent reference: the values a file stores, the
values the test itself wrote, tests/python/c3d_reference.py (a NumPy C3D decoder), an exact
round trip or an analytic expectation.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

motion = pytest.importorskip("sportsmed.motion")
import sportsmed  # noqa: E402

import c3d_reference  # noqa: E402

m = motion
C3D = "motion/c3d/"


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "sportsmed", *args], capture_output=True, text=True, timeout=120)


def _wrap(d):
    return (np.asarray(d) + 180.0) % 360.0 - 180.0


# ----------------------------------------------------------------------------------------
# A minimal C3D writer (Intel, float storage), written from the C3D format description
# (www.c3d.org): a 512-byte header, a parameter section, then the data section(s).


def _char(strings, width=None):
    strings = [s.encode("latin-1") for s in strings]
    width = width or max([len(s) for s in strings] + [1])
    return (-1, [width, len(strings)], b"".join(s.ljust(width) for s in strings))


def _i16(values):
    values = [int(v) & 0xFFFF for v in np.atleast_1d(values)]
    return (2, [len(values)], struct.pack(f"<{len(values)}H", *values))


def _f32(values):
    values = [float(v) for v in np.atleast_1d(values)]
    return (4, [len(values)], struct.pack(f"<{len(values)}f", *values))


def _scalar(param):
    """A single int16/float value stored with no dimensions."""
    ptype, _dims, raw = param
    return (ptype, [], raw)


def _parameter_section(groups):
    """groups: list of (name, {parameter name: (type, dims, raw)}); group ids 1, 2, ..."""
    entries = []
    for gid, (gname, params) in enumerate(groups, start=1):
        name = gname.encode()
        entries.append(struct.pack("<bb", len(name), -gid) + name + b"@OFFSET@" + bytes([0]))
        for pname, (ptype, dims, raw) in params.items():
            pn = pname.encode()
            body = struct.pack("<bB", ptype, len(dims)) + bytes(dims) + raw + bytes([0])
            entries.append(struct.pack("<bb", len(pn), gid) + pn + b"@OFFSET@" + body)
    out = b""
    for k, e in enumerate(entries):
        head, rest = e.split(b"@OFFSET@")
        offset = 0 if k == len(entries) - 1 else 2 + len(rest)
        out += head + struct.pack("<h", offset) + rest
    n_blocks = -(-(4 + len(out) + 1) // 512)
    section = bytes([1, 0x50, n_blocks, 84]) + out
    return section.ljust(512 * n_blocks, b"\x00"), n_blocks


def _write_c3d(path, *, points, labels, rate=100.0, header_last=None, point_frames=None, extra_groups=(),
               point_extra=None, trailing=b"", trailing_block_param=None):
    """Writes a float-storage Intel C3D. points: frames x markers x 4 (x, y, z, residual word).

    header_last / point_frames override header word 5 and POINT:FRAMES (int16); extra_groups
    are added after POINT and ANALOG; ``trailing`` bytes are appended after the point data at
    a block boundary whose 1-based number is stored as ``trailing_block_param`` = (group,
    parameter) (a parameter the caller left as a placeholder in extra_groups)."""
    points = np.asarray(points, dtype="<f4")
    n_frames, n_markers = points.shape[:2]
    data = points.reshape(n_frames, -1).tobytes()
    data = data.ljust(-(-len(data) // 512) * 512, b"\x00") if trailing else data
    last = n_frames if header_last is None else header_last
    frames = min(n_frames, 65535) if point_frames is None else point_frames

    def groups_with(data_block, trailing_block):
        point = {"USED": _scalar(_i16(n_markers)), "SCALE": _scalar(_f32(-1.0)), "RATE": _scalar(_f32(rate)),
                 "DATA_START": _scalar(_i16(data_block)), "FRAMES": _scalar(_i16(frames)),
                 "UNITS": _char(["mm"])}
        if n_markers:
            point["LABELS"] = _char(labels)
        point.update(point_extra or {})
        groups = [("POINT", point), ("ANALOG", {"USED": _scalar(_i16(0)), "RATE": _scalar(_f32(rate))})]
        for gname, params in extra_groups:
            params = dict(params)
            if trailing_block_param and trailing_block_param[0] == gname:
                params[trailing_block_param[1]] = _scalar(_i16(trailing_block))
            groups.append((gname, params))
        return groups

    # Two passes: the section's size fixes the data block, which the section stores.
    _, n_blocks = _parameter_section(groups_with(0, 0))
    data_block = 2 + n_blocks
    trailing_block = data_block + len(data) // 512
    section, n_blocks2 = _parameter_section(groups_with(data_block, trailing_block))
    assert n_blocks2 == n_blocks
    header = bytearray(512)
    header[0], header[1] = 2, 0x50
    struct.pack_into("<HHHHH", header, 2, n_markers, 0, 1, last & 0xFFFF, 0)
    struct.pack_into("<f", header, 12, -1.0)
    struct.pack_into("<HH", header, 16, data_block, 0)
    struct.pack_into("<f", header, 20, rate)
    path.write_bytes(bytes(header) + section + data + trailing)
    return path


def _points4(xyz, residual=0.0):
    xyz = np.asarray(xyz, dtype=np.float32)
    res = np.broadcast_to(np.asarray(residual, dtype=np.float32), xyz.shape[:2])
    return np.concatenate([xyz, res[..., None]], axis=2)


# ----------------------------------------------------------------------------------------
# Item 1


@pytest.mark.parametrize("name", ["gait-pig.c3d", "PlugInC3D.c3d", "pyCGM2_lower_limb_CGM24_Walking01.c3d"])
def test_default_plugin_gait_angles_reproduce_stored_angles(shared_data, name):
    """issue 18 item 1: with no option picked (ankle_sequence 'auto'), the angles from the stored
    segment axes (PELO/LFEO/... ) reproduce the file's stored LHipAngles ... RFootProgressAngles
    (gait-pig: labels prefixed 'A22:'; pyCGM2: the unsuffixed outputs, whose axes are the
    unsuffixed PELO...; its '_CGM_2.4' outputs belong to the '*_CGM_2.4' axes) to 0.1 deg RMSE."""
    t = m.read_c3d(str(shared_data(C3D + name))).trial
    joints = ["Hip", "Knee", "Ankle", "Pelvis", "FootProgress"]
    for side in "LR":
        ours = m.plugin_gait_angles_from_axes(t, side, with_pelvis_foot=True)
        assert ours.shape == (t.n_frames, 15)
        for j, joint in enumerate(joints):
            ref = t.marker(f"{side}{joint}Angles")
            d = _wrap(ours[:, 3 * j:3 * j + 3] - ref)
            both = np.isfinite(d).all(axis=1)
            assert both.sum() >= 0.5 * np.isfinite(ref).all(axis=1).sum() > 20, (side, joint)
            rmse = np.sqrt(np.mean(d[both] ** 2, axis=0))
            assert (rmse <= 0.1).all(), (name, side, joint, rmse)


# ----------------------------------------------------------------------------------------
# Item 2

N_LONG = 70_000


def _long_points():
    k = np.arange(N_LONG, dtype=np.float64)
    xyz = np.stack([np.stack([100.0 + 0.01 * k, 200.0 + np.sin(k / 100.0), 300.0 + (k % 977)], axis=1),
                    np.stack([-50.0 - 0.02 * k, 20.0 + np.cos(k / 50.0), 900.0 - (k % 613)], axis=1)], axis=1)
    return xyz.astype(np.float32)


@pytest.mark.parametrize("variant", ["a", "b"])
def test_more_than_65535_frames(tmp_path, variant):
    """issue 18 item 2: 70 000 frames, header last frame 65535 and POINT:FRAMES = 0xFFFF;
    (a) nothing else says the count (the reader takes what the data section holds, with a
    warning); (b) TRIAL:ACTUAL_END_FIELD = (70000 & 0xFFFF, 70000 >> 16) gives it."""
    xyz = _long_points()
    extra = ()
    if variant == "b":
        extra = (("TRIAL", {"ACTUAL_END_FIELD": _i16([N_LONG & 0xFFFF, N_LONG >> 16])}),)
    path = _write_c3d(tmp_path / f"long_{variant}.c3d", points=_points4(xyz), labels=["A", "B"], rate=200.0,
                      header_last=65535, point_frames=-1 if variant == "a" else 65535, extra_groups=extra)
    c = m.read_c3d(str(path))
    t = c.trial
    assert t.n_frames == N_LONG
    np.testing.assert_array_equal(t.points, xyz.astype(np.float64))
    assert t.point_labels == ["A", "B"] and t.first_frame == 1
    np.testing.assert_allclose(t.times_s[[0, -1]], [0.0, (N_LONG - 1) / 200.0], rtol=0, atol=1e-12)
    if variant == "a":
        assert any("65535" in w and str(N_LONG) in w for w in c.warnings), c.warnings
    else:  # the count is given: nothing was guessed
        assert not any("65535" in w for w in c.warnings), c.warnings
    # The NumPy decoder (which takes TRIAL fields only as a start/end pair) reads the file
    # without complaint and at least its first 65535 frames identically.
    ref = c3d_reference.read(path)
    assert ref.warnings == []
    n = ref.points.shape[0]
    assert n >= 65535
    np.testing.assert_array_equal(t.points[:n], ref.points)


# ----------------------------------------------------------------------------------------
# Item 3


def test_16bitanalog_unsigned_offsets(shared_data):
    """issue 18 item 3: 16bitanalog.c3d stores unsigned 16-bit samples with int16 offsets of
    -32768 (= +32768): channel 33 (LFSW) starts -34, -4, -22 as ezc3d gives, and a warning
    says the offsets were read as unsigned. The NumPy decoder agrees on every channel."""
    path = shared_data(C3D + "16bitanalog.c3d")
    c = m.read_c3d(str(path))
    a = c.trial.analogs
    np.testing.assert_array_equal(a[:3, 32], [-34.0, -4.0, -22.0])
    assert any("OFFSET" in w and "unsigned" in w for w in c.warnings), c.warnings
    ref = c3d_reference.read(path)
    np.testing.assert_allclose(a, ref.analogs, rtol=1e-12, atol=1e-9)


# ----------------------------------------------------------------------------------------
# Item 4


def _negated_origin_copy(src, dst):
    """Copies a C3D with FORCE_PLATFORM:ORIGIN negated in place (the bytes of the parameter
    values, found through the NumPy decoder)."""
    data = bytearray(src.read_bytes())
    ref = c3d_reference.read(src)
    p = ref.param("FORCE_PLATFORM", "ORIGIN")
    assert ref.processor == c3d_reference.INTEL and p.type == 4
    at = data.find(p.raw, 512)
    assert at > 0 and data.find(p.raw, at + 1) < 0
    values = np.frombuffer(p.raw, dtype="<f4")
    data[at:at + len(p.raw)] = (-values).astype("<f4").tobytes()
    dst.write_bytes(bytes(data))
    return -values.astype(np.float64)


def test_force_plate_origin_sign(shared_data, tmp_path):
    """issue 18 item 4: Eb015pi.c3d stores ORIGIN z < 0, pc_int.c3d the same two plates with
    z > 0 (they are two different trials of the same lab: Eb015pi 450 frames, pc_int 89). Both
    normalise to origin z <= 0 with the same vector, both CoPs agree with the NumPy decoder, and
    pc_int with its ORIGIN negated (z < 0, written here) gives the same CoP to 1 mm."""
    eb, pc = shared_data(C3D + "Eb015pi.c3d"), shared_data(C3D + "pc_int.c3d")
    ce, cp = m.read_c3d(str(eb)), m.read_c3d(str(pc))
    oe = np.reshape(ce.parameter("FORCE_PLATFORM", "ORIGIN"), (-1, 3))
    op = np.reshape(cp.parameter("FORCE_PLATFORM", "ORIGIN"), (-1, 3))
    assert (oe[:, 2] < 0).all() and (op[:, 2] > 0).all()
    np.testing.assert_allclose(oe, -op, atol=0.01)
    for c, path in ((ce, eb), (cp, pc)):
        plates = c.trial.force_plates
        ref = c3d_reference.read(path)
        assert len(plates) == len(ref.plates) == 2
        for p, q in zip(plates, ref.plates):
            assert p.origin[2] <= 0
            np.testing.assert_allclose(p.origin, q.origin, atol=1e-6)
            np.testing.assert_allclose(p.force, q.force, rtol=1e-9, atol=1e-6)
            ok = np.isfinite(p.cop[:, 0]) & np.isfinite(q.cop[:, 0]) & (np.abs(q.force[:, 2]) > 50)
            assert ok.sum() > 50
            np.testing.assert_allclose(p.cop[ok], q.cop[ok], atol=1e-6)
    for pe, pp in zip(ce.trial.force_plates, cp.trial.force_plates):
        np.testing.assert_allclose(pe.origin, pp.origin, atol=0.01)
    # The same trial, ORIGIN stored with the other sign.
    flipped = tmp_path / "pc_int_origin_negated.c3d"
    stored = _negated_origin_copy(pc, flipped)
    assert (stored.reshape(-1, 3)[:, 2] < 0).all()
    cf = m.read_c3d(str(flipped))
    for p, f in zip(cp.trial.force_plates, cf.trial.force_plates):
        assert f.origin[2] <= 0
        np.testing.assert_allclose(f.origin, p.origin, atol=1e-6)
        ok = np.isfinite(p.cop[:, 0]) & np.isfinite(f.cop[:, 0]) & (np.abs(p.force[:, 2]) > 50)
        assert ok.sum() > 50
        assert np.abs(p.cop[ok] - f.cop[ok]).max() <= 1.0


# ----------------------------------------------------------------------------------------
# Item 5


def _rotation_data(n_frames, n_bodies, seed=3):
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    mats = np.zeros((n_frames, n_bodies, 4, 4))
    mats[:, :, :3, :3] = Rotation.random(n_frames * n_bodies, random_state=seed).as_matrix().reshape(
        n_frames, n_bodies, 3, 3)
    mats[:, :, :3, 3] = rng.uniform(-1000, 1000, (n_frames, n_bodies, 3))
    mats[:, :, 3, 3] = 1.0
    mats = mats.astype(np.float32).astype(np.float64)
    rel = np.ones((n_frames, n_bodies))
    rel[:, 0] = rng.uniform(0.1, 2.0, n_frames).astype(np.float32)
    rel[5:9, 1] = -1.0
    return mats, rel


@pytest.mark.parametrize("n_points", [0, 2])
def test_rotation_group(tmp_path, n_points):
    """issue 18 item 5: a ROTATION section (USED 2, RATIO 1, its own DATA_START block, LABELS;
    per frame and body 16 floats, first index fastest, then a reliability) is read as written,
    NaN where the reliability is negative, with POINT:USED 0 or 2."""
    n_frames = 20
    mats, rel = _rotation_data(n_frames, 2)
    section = np.concatenate([np.transpose(mats, (0, 1, 3, 2)).reshape(n_frames, 2, 16), rel[..., None]],
                             axis=2).astype("<f4").tobytes()
    xyz = np.arange(n_frames * n_points * 3, dtype=np.float32).reshape(n_frames, n_points, 3) + 1.0
    rot = ("ROTATION", {"USED": _scalar(_i16(2)), "RATIO": _scalar(_i16(1)), "RATE": _scalar(_f32(100.0)),
                        "LABELS": _char(["Pelvis", "RThigh"])})
    path = _write_c3d(tmp_path / "rot.c3d", points=_points4(xyz), labels=["P1", "P2"][:n_points],
                      header_last=n_frames, point_frames=n_frames, extra_groups=(rot,), trailing=section,
                      trailing_block_param=("ROTATION", "DATA_START"))
    c = m.read_c3d(str(path))
    assert c.trial.n_frames == n_frames
    assert c.rotation_labels == ["Pelvis", "RThigh"]
    assert c.rotation_rate_hz == 100.0
    want = mats.copy()
    want[rel < 0] = np.nan
    got = np.asarray(c.rotations)
    assert got.shape == (n_frames, 2, 4, 4)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(c.rotation_reliability, rel)
    assert np.isnan(got[5:9, 1]).all() and np.isfinite(got[:, 0]).all()
    if n_points:
        np.testing.assert_array_equal(c.trial.points, xyz)
        ref = c3d_reference.read(path)
        assert ref.warnings == []
        np.testing.assert_array_equal(ref.points, xyz)


# ----------------------------------------------------------------------------------------
# Item 6


def test_gaps_stored_as_zeros(tmp_path):
    """issue 18 item 6: samples stored as exact (0, 0, 0) with a valid residual (0) are gaps:
    read as NaN (as the NumPy decoder does), the warning gives their count, and
    `motion info --json` counts them (with the residual -1 samples) as missing."""
    rng = np.random.default_rng(5)
    n, k = 60, 3
    xyz = rng.uniform(10, 500, (n, k, 3)).astype(np.float32)
    res = np.zeros((n, k), dtype=np.float32)
    zeros = [(3, 0), (4, 0), (5, 0), (20, 1), (40, 2), (41, 2), (59, 1)]
    for f, mk in zeros:
        xyz[f, mk] = 0.0
    invalid = [(10, 1), (11, 1), (30, 0)]
    for f, mk in invalid:
        res[f, mk] = -1.0
    xyz[30, 0, 0] = 0.0  # a partly zero valid-looking point under a -1 residual stays missing
    xyz[50, 2, :2] = 0.0  # (0, 0, z) is a real position
    path = _write_c3d(tmp_path / "zeros.c3d", points=_points4(xyz, res), labels=["M1", "M2", "M3"])
    c = m.read_c3d(str(path))
    got = c.trial.points
    want = xyz.astype(np.float64)
    for f, mk in zeros + invalid:
        want[f, mk] = np.nan
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(c3d_reference.read(path).points, want)
    msgs = [w for w in c.warnings if "(0, 0, 0)" in w]
    assert len(msgs) == 1 and re.search(rf"\b{len(zeros)}\b", msgs[0]), c.warnings
    r = _run_cli("motion", "info", "--json", str(path))
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    missing = len(zeros) + len(invalid)
    assert info["missing_marker_samples"] == f"{missing} of {n * k}"
    assert any("(0, 0, 0)" in w and re.search(rf"\b{len(zeros)}\b", w) for w in info["warnings"])


# ----------------------------------------------------------------------------------------
# Item 7


def _copy(trial):
    return m.convert_units(trial, trial.point_units)


def _features(trial, events="zeni"):
    return m.trial_features(trial, "gait", 0.0, events, 0.2, with_warnings=True)


def test_empty_heel_markers_fall_back_to_the_ankle(shared_data):
    """issue 18 item 7: PlugInC3D.c3d with LHEE and RHEE present but empty: Zeni gait features
    use LANK/RANK, equal to those of the trial whose heel markers carry the ankle markers'
    data, with a warning naming LHEE; without LANK too, an InvalidArgument names both."""
    t = m.read_c3d(str(shared_data(C3D + "PlugInC3D.c3d"))).trial
    n = t.n_frames
    empty = _copy(t)
    empty.set_marker("LHEE", np.full((n, 3), np.nan))
    empty.set_marker("RHEE", np.full((n, 3), np.nan))
    feats, warns = _features(empty)
    assert np.isnan(empty.marker("LHEE")).all()
    ankle_as_heel = _copy(t)
    ankle_as_heel.set_marker("LHEE", t.marker("LANK"))
    ankle_as_heel.set_marker("RHEE", t.marker("RANK"))
    ref, _ = _features(ankle_as_heel)
    assert [f[0] for f in feats] == [f[0] for f in ref]
    values = dict((f[0], f[1]) for f in feats)
    assert values["left_strides"] >= 1 and values["right_strides"] >= 1
    assert np.isfinite([values["left_stride_time_s"], values["right_stride_time_s"],
                        values["left_stride_length_m"]]).all()
    np.testing.assert_allclose([f[1] for f in feats], [f[1] for f in ref], rtol=1e-12, atol=1e-12)
    assert any("LHEE" in w and "LANK" in w for w in warns), warns
    assert any("RHEE" in w and "RANK" in w for w in warns), warns
    empty.set_marker("LANK", np.full((n, 3), np.nan))
    with pytest.raises(sportsmed.InvalidArgument) as err:
        _features(empty)
    assert "LHEE" in str(err.value) and "LANK" in str(err.value)


def test_a_trial_that_leaves_the_volume_keeps_its_heel_markers(shared_data):
    """issue 18 item 7, the other side of the fallback: when every marker is missing in most
    frames alike (a subject outside the capture volume), the heel is still the heel — no
    fallback, no warning, the features of the tracked part unchanged."""
    t = m.read_c3d(str(shared_data(C3D + "PlugInC3D.c3d"))).trial
    n = t.n_frames
    short = _copy(t)
    pts = short.points
    pts[int(0.4 * n):] = np.nan  # the last 60 % of the frames without any marker
    short.points = pts
    # Every marker now has data in under half of the frames (LHEE 87, LANK 95 of 281).
    assert all(np.isfinite(short.marker(l)).all(1).sum() < n / 2 for l in ("LHEE", "LANK", "RHEE", "RANK"))
    feats, warns = _features(short)
    assert not any("used instead" in w for w in warns), warns
    # Reference: the heel explicitly the only candidate there is (the ankle removed).
    heel_only = _copy(short)
    heel_only.set_marker("LANK", np.full((n, 3), np.nan))
    heel_only.set_marker("RANK", np.full((n, 3), np.nan))
    ref, _ = _features(heel_only)
    np.testing.assert_allclose([f[1] for f in feats], [f[1] for f in ref], rtol=1e-12, atol=1e-12)


VARIANTS = {
    "short labels": lambda e: ({"Foot Strike": "HS", "Foot Off": "TO"}[e.label], "", e.context[0]),
    "side in the label": lambda e: (f"{e.context} {e.label}", "General", None),
    "heel strike / toe off": lambda e: ({"Foot Strike": "Heel Strike", "Foot Off": "Toe Off"}[e.label],
                                        e.context, None),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_event_label_variants(shared_data, variant):
    """issue 18 item 7: the stored Foot Strike/Foot Off events (context Left/Right) written as
    'LHS'/'RHS'/'LTO'/'RTO' (empty context), 'Left Foot Strike' (context 'General') or
    'Heel Strike'/'Toe Off' (context Left/Right) give exactly the same stored-event gait
    features."""
    t = m.read_c3d(str(shared_data(C3D + "PlugInC3D.c3d"))).trial
    assert {(e.label, e.context) for e in t.events} == {("Foot Strike", "Left"), ("Foot Off", "Left"),
                                                        ("Foot Strike", "Right"), ("Foot Off", "Right")}
    base, _ = _features(t, "stored")
    changed = _copy(t)
    events = []
    for e in t.events:
        label, context, prefix = VARIANTS[variant](e)
        events.append(m.Event((prefix or "") + label, e.time_s, context, e.description))
    changed.events = events
    assert [ev.label for ev in changed.events] == [ev.label for ev in events]
    feats, _ = _features(changed, "stored")
    assert dict((f[0], f[1]) for f in base)["events_from_zeni"] == 0.0
    assert [(f[0], f[2]) for f in feats] == [(f[0], f[2]) for f in base]
    np.testing.assert_array_equal([f[1] for f in feats], [f[1] for f in base])


# ----------------------------------------------------------------------------------------
# Item 8


def _markers_only(trial):
    """The markers of a Vicon trial (the columns before its first model output, the labels'
    subject prefix removed), with its rate and events."""
    labels = trial.point_labels
    first_output = next(i for i, label in enumerate(labels) if label.endswith("Angles"))
    keep = list(range(first_output))  # Vicon writes the markers first, then the model outputs
    out = m.Trial()
    out.point_labels = [labels[i].split(":")[-1] for i in keep]
    out.points = trial.points[:, keep, :]
    out.point_rate_hz = trial.point_rate_hz
    out.first_frame = trial.first_frame
    out.events = list(trial.events)
    return out


def test_y_up_lab_is_turned(shared_data):
    """issue 18 item 8a: a y-up copy of PlugInC3D.c3d's markers ((x, y, z) -> (x, z, -y)) is
    detected '+y' (confident, marker labels); its Zeni gait features equal the z-up original's
    and carry a warning that the trial was turned; to_z_up(copy, '+y') gives back the original
    points exactly."""
    z_up = _markers_only(m.read_c3d(str(shared_data(C3D + "PlugInC3D.c3d"))).trial)
    assert {"LASI", "RASI", "SACR", "LHEE", "LTOE", "C7"} <= set(z_up.point_labels)
    v = m.detect_vertical_axis(z_up)
    assert v["name"] == "+z"
    p = z_up.points
    y_up = _copy(z_up)
    y_up.points = np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)
    v = m.detect_vertical_axis(y_up)
    assert (v["name"], v["axis"], v["sign"], v["confident"], v["source"]) == ("+y", 1, 1, True, "marker labels")
    base, base_w = _features(z_up)
    feats, warns = _features(y_up)
    assert [(f[0], f[2]) for f in feats] == [(f[0], f[2]) for f in base]
    np.testing.assert_allclose([f[1] for f in feats], [f[1] for f in base], rtol=1e-9, atol=1e-9)
    assert not any("turned" in w for w in base_w)
    assert any("turned" in w and "+y" in w for w in warns), warns
    back = m.to_z_up(y_up, "+y")
    np.testing.assert_array_equal(back.points, z_up.points)
    assert back.point_labels == z_up.point_labels


def test_implausible_angles(shared_data):
    """issue 18 item 8b: a knee flexion of -77 deg in one frame is flagged (naming the knee,
    the frame and the value); the stored Plug-in Gait angles of gait-pig.c3d raise nothing."""
    t = m.read_c3d(str(shared_data(C3D + "gait-pig.c3d"))).trial
    for side, name in (("L", "left"), ("R", "right")):
        stored = np.hstack([t.marker(f"{side}{j}Angles") for j in ("Hip", "Knee", "Ankle")])
        assert np.isfinite(stored).any(axis=1).sum() > 100
        assert m.implausible_angles(stored, name) == []
    angles = np.zeros((50, 9))
    angles[:, 3] = np.linspace(5, 60, 50)
    assert m.implausible_angles(angles, "left") == []
    angles[17, 3] = -77.0
    flagged = m.implausible_angles(angles, "left")
    assert len(flagged) == 1
    assert "knee" in flagged[0] and "flexion" in flagged[0] and "-77" in flagged[0]
    assert re.search(r"\b17\b", flagged[0]) and re.search(r"\b1 frame", flagged[0])


def _toe_swap(shared_data):
    """gait-pig.c3d's markers, and a copy with LTOE and RTOE swapped in a 10-frame window where
    both feet are tracked and far apart (each foot pair then lies > 100 mm off its distance)."""
    t = _markers_only(m.read_c3d(str(shared_data(C3D + "gait-pig.c3d"))).trial)
    assert len(t.point_labels) == 13 and {"LTOE", "RTOE", "LANK", "RANK"} <= set(t.point_labels)
    lt, rt = t.marker("LTOE"), t.marker("RTOE")
    la, ra = t.marker("LANK"), t.marker("RANK")
    med = {"L": np.nanmedian(_dist(lt, la)), "R": np.nanmedian(_dist(rt, ra))}
    far = (np.abs(_dist(rt, la) - med["L"]) > 100) & (np.abs(_dist(lt, ra) - med["R"]) > 100)
    start = next(s for s in range(t.n_frames - 10) if far[s:s + 10].all())
    frames = list(range(start, start + 10))
    swapped = _copy(t)
    new_l, new_r = lt.copy(), rt.copy()
    new_l[frames], new_r[frames] = rt[frames], lt[frames]
    swapped.set_marker("LTOE", new_l)
    swapped.set_marker("RTOE", new_r)
    assert swapped.point_labels == t.point_labels
    return t, swapped, frames, med


def _dist(a, b):
    return np.linalg.norm(a - b, axis=1)


def _rigid_share(trial, a, b, tol=5.0):
    """Share of the frames where both markers are tracked whose distance lies within tol mm of
    its median (the documented rigid-body test: at least 90 %)."""
    d = _dist(trial.marker(a), trial.marker(b))
    d = d[np.isfinite(d)]
    return float(np.mean(np.abs(d - np.median(d)) <= tol))


def test_swapped_markers_are_reported(shared_data):
    """issue 18 item 8c: gait-pig.c3d's markers have no marker-distance jumps; with LTOE and RTOE
    swapped in 10 frames, the rigid pair RTOE-RANK is reported with exactly those frames
    (0-based), and nothing is reported outside them."""
    t, swapped, frames, med = _toe_swap(shared_data)
    assert m.marker_distance_jumps(t) == []
    assert _rigid_share(t, "RTOE", "RANK") >= 0.9
    jumps = m.marker_distance_jumps(swapped)
    got = {frozenset({j["marker_a"], j["marker_b"]}): list(j["frames"]) for j in jumps}
    assert got.get(frozenset({"RTOE", "RANK"})) == frames, jumps
    for j in jumps:
        pair = {j["marker_a"], j["marker_b"]}
        assert pair in ({"RTOE", "RANK"}, {"LTOE", "LANK"}), jumps
        assert list(j["frames"]) == frames
        side = "L" if "LANK" in pair else "R"
        assert abs(j["median_distance"] - med[side]) < 2.0
        assert abs(j["worst_distance"] - med[side]) > 100


def test_swapped_markers_are_reported_on_both_feet(shared_data):
    """issue 18 item 8c: LTOE-LANK is as rigid as RTOE-RANK in the clean trial (96 % of its
    frames within 5 mm of the median distance, the rule asks 90 %), so the same 10-frame swap
    must be reported for the left foot too, with the same frames."""
    t, swapped, frames, _ = _toe_swap(shared_data)
    assert _rigid_share(t, "LTOE", "LANK") >= 0.95
    jumps = m.marker_distance_jumps(swapped)
    got = {frozenset({j["marker_a"], j["marker_b"]}): list(j["frames"]) for j in jumps}
    assert got == {frozenset({"LTOE", "LANK"}): frames, frozenset({"RTOE", "RANK"}): frames}, (
        f"left foot pair missed: its rigid share drops to {_rigid_share(swapped, 'LTOE', 'LANK'):.3f} "
        f"once the 10 swapped frames count in the median test; jumps: {jumps}")


# ----------------------------------------------------------------------------------------
# Item 9


def _t8_trial():
    rng = np.random.default_rng(9)
    t = m.Trial()
    t.point_labels = ["T8", "C7", "T8", "T8"]
    t.points = rng.uniform(-800, 800, (30, 4, 3)).round(3)
    t.point_rate_hz = 100.0
    return t


@pytest.mark.parametrize("fmt", ["c3d", "trc"])
def test_duplicate_labels(tmp_path, fmt):
    """issue 18 item 9: three columns labelled T8 (written to C3D and TRC, read back): the
    reader warns naming T8, marker('T8') is ambiguous (InvalidArgument), marker('T8', k) is the
    k-th such column and marker_indices lists the three."""
    t = _t8_trial()
    path = tmp_path / f"t8.{fmt}"
    if fmt == "c3d":
        m.write_trial_c3d(str(path), t)
        c = m.read_c3d(str(path))
        r, warns = c.trial, list(c.warnings) + list(c.trial.warnings)
        np.testing.assert_array_equal(c3d_reference.read(path).points, t.points.astype(np.float32))
    else:
        m.write_trc(str(path), t)
        r = m.read_trc(str(path))
        warns = list(r.warnings)
    assert r.point_labels == ["T8", "C7", "T8", "T8"]
    assert any("T8" in w for w in warns), warns
    with pytest.raises(sportsmed.InvalidArgument, match="T8"):
        r.marker("T8")
    assert list(r.marker_indices("T8")) == [0, 2, 3]
    pts = t.points.astype(np.float32).astype(np.float64) if fmt == "c3d" else t.points
    for k, col in enumerate([0, 2, 3]):
        np.testing.assert_allclose(r.marker("T8", k), pts[:, col], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.marker("C7"), pts[:, 1], rtol=0, atol=1e-9)


# ----------------------------------------------------------------------------------------
# Item 10


def test_trc_time_column_starting_at_one_sample(tmp_path):
    """issue 18 item 10: a hand-written TRC whose Time column starts at 0.004 s (frame 1,
    DataRate 250): times_s equals the file's Time column, and write_trc/read_trc keep it."""
    n = 12
    times = 0.004 + np.arange(n) / 250.0
    xyz = np.arange(n * 2 * 3, dtype=float).reshape(n, 2, 3) * 1.5 + 10.0
    lines = ["PathFileType\t4\t(X/Y/Z)\ttime.trc",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"250\t250\t{n}\t2\tmm\t250\t1\t{n}",
             "Frame#\tTime\tA\t\t\tB\t\t",
             "\t\tX1\tY1\tZ1\tX2\tY2\tZ2",
             ""]
    for i in range(n):
        lines.append("\t".join([str(i + 1), f"{times[i]:.3f}"] + [f"{v:.4f}" for v in xyz[i].ravel()]))
    path = tmp_path / "time.trc"
    path.write_text("\n".join(lines) + "\n")
    t = m.read_trc(str(path))
    assert t.point_rate_hz == 250.0 and t.point_labels == ["A", "B"]
    np.testing.assert_array_equal(t.points, xyz)
    np.testing.assert_allclose(t.times_s, times, rtol=0, atol=1e-12)
    out = tmp_path / "again.trc"
    m.write_trc(str(out), t)
    again = m.read_trc(str(out))
    np.testing.assert_allclose(again.times_s, times, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(again.points, xyz)
    # The written Time column itself starts at 0.004.
    rows = [r.split("\t") for r in out.read_text().splitlines()[5:] if r.strip()]
    np.testing.assert_allclose([float(r[1]) for r in rows], times, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------------------
# Item 11


def test_cli_drop_jump_features_without_forces(shared_data):
    """issue 18 item 11: `motion features --task drop_jump` on a marker-only TRC exits non-zero
    and says that vertical forces are missing and how to give them (Fz_L/Fz_R or a GRF .mot),
    without a traceback or the old 'no point or analog rate'."""
    path = shared_data("motion/addbiomechanics/DJ1.trc")
    r = _run_cli("motion", "features", "--task", "drop_jump", str(path), "--body-mass", "70")
    text = r.stdout + r.stderr
    assert r.returncode != 0
    assert "Traceback" not in text
    assert "no point or analog rate" not in text
    assert "force" in text.lower()
    assert "Fz_L" in text or "GRF" in text
