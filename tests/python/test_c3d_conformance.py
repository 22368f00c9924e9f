"""C3D conformance: every file under ../shared/data/motion/c3d and .../c3d_conformance is read
by sportsmed.motion.read_c3d and compared with c3d_reference.py, an independent pure-NumPy
decoder written from the C3D format description (not from the project's reader).

Compared per file: point labels, points (NaN where the residual is negative or the point is
exactly (0, 0, 0)), residuals of valid points, analog labels and scaled analogs, EVENT-group
events, header events, and per force plate its type, corners, ORIGIN (normalised to z ≤ 0, as
ezc3d does), rotation, force and centre of pressure where |Fz| is well above the CoP threshold.

The c3d_conformance folders carry a readme.txt describing each file's quirks; the per-file
expectations below cite them. The motion/c3d folder has no readme: its files are well-formed
samples (Vicon/C3D.org test files), except bad_parameter_section.c3d, read best-effort.
"""

from __future__ import annotations


import numpy as np
import pytest

from conftest import shared_data_dir

motion = pytest.importorskip("sportsmed.motion")
import sportsmed  # noqa: E402

import c3d_reference  # noqa: E402

FOLDERS = ("motion/c3d", "motion/c3d_conformance")
COP_THRESHOLD_N = 10.0  # the library's default; CoP is compared only well above it
COP_COMPARE_N = 50.0


def _files() -> list:
    root = shared_data_dir()
    found = []
    for folder in FOLDERS:
        base = root / folder
        if base.is_dir():
            found += sorted(p.relative_to(root).as_posix() for p in base.rglob("*")
                            if p.is_file() and p.suffix.lower() == ".c3d")
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no C3D files under {root}/motion"))]
    return found


# Per-file expectations. "read": the file must read and agree with the reference.
# "read_or_refuse": the readme says the data cannot be interpreted; a refusal must then be a
# sportsmed.FormatError naming the file, and a read must still agree with the reference.
# A file not listed is expected to read.
EXPECT = {
    # sample_06/readme.txt: non-standard group and parameter names (FORCE_PLATEFORM,
    # ANALOG:OFFSETS), SGI integer, signed analogs, no usable force-plate group -> reads.
    # sample_13/readme.txt: POINT:DATA_START = 0, 0-length DESCRIPTIONS, float ANALOG:OFFSET,
    # FORCE_PLATFORM:USED missing: "critical errors" but the header supplies the layout -> reads.
    # sample_14/readme.txt: analog blocks written out of order: wrong content, valid format -> reads.
    # sample_15/readme.txt: badly formatted Peak file, odd plate description -> reads.
    # sample_16/readme.txt: every residual is -1 (all points invalid), duplicate labels -> reads
    # with all points NaN.
    # sample_20/readme.txt: "a 3D data block but no parameters to describe the data": the
    # header alone describes it (points, frames, scale, data block, rate) -> reads, no labels.
    # sample_21/readme.txt: POINT:RATE and ANALOG:RATE are wrong ("the data will be read
    # incorrectly"): the file is still decoded as its parameters say -> reads.
    # sample_22/readme.txt: "this file is completely valid" -> reads.
    # sample_28/readme.txt: TYPE-1 plates, missing POINT:RATE/DATA_START, duplicate labels ->
    # reads (type 1 is not computed: no plates).
    # sample_32/readme.txt: corrupt EMG content, valid format -> reads.
    # sample_34/readme.txt: TRIAL start/end fields and an extra TERMINATOR group -> reads.
    "motion/c3d_conformance/sample_24/MotionMonitorC3D.c3d": "read_or_refuse",
    # sample_24/readme.txt: "the data stored in the file is not able to be interpreted by any
    # normal C3D application": blank labels, a force plate without matching analog data, and
    # header word 3 (16) contradicting 16 channels x 7 samples per frame. The layout is still
    # recoverable (header word 10 and ANALOG:RATE/POINT:RATE agree on 7 and fill the file
    # exactly), so reading is allowed, but so is a clear refusal.
}


@pytest.fixture(scope="module")
def _cache():
    return {}


def _read_both(relative: str, cache: dict):
    if relative not in cache:
        path = shared_data_dir() / relative
        if not path.exists():
            pytest.skip(f"shared data file {path} is absent")
        ref = c3d_reference.read(path, cop_threshold_n=COP_THRESHOLD_N)
        try:
            lib, err = motion.read_c3d(str(path)), None
        except sportsmed.FormatError as e:  # judged by the caller against EXPECT
            lib, err = None, e
        cache[relative] = (path, ref, lib, err)
    return cache[relative]


def _check_close(what: str, got, want, *, rtol: float, atol: float, problems: list) -> None:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        problems.append(f"{what}: shape {got.shape} != reference {want.shape}")
        return
    if got.size == 0:
        return
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    if not np.array_equal(nan_g, nan_w):
        problems.append(f"{what}: NaN pattern differs ({int(nan_g.sum())} NaN vs reference "
                        f"{int(nan_w.sum())}; {int((nan_g != nan_w).sum())} entries differ)")
    both = ~nan_g & ~nan_w
    if both.any():
        diff = np.abs(got[both] - want[both])
        bad = diff > atol + rtol * np.abs(want[both])
        if bad.any():
            i = int(np.argmax(diff))
            problems.append(f"{what}: {int(bad.sum())} of {int(both.sum())} values differ, max "
                            f"|diff| {diff[i]:.6g} (library {got[both][i]:.6g}, reference {want[both][i]:.6g})")


def _check_labels(what: str, got: list, want: list, problems: list) -> None:
    named = [i for i, label in enumerate(want) if label.strip()]
    bad = [(i, got[i] if i < len(got) else None, want[i]) for i in named if i >= len(got) or got[i] != want[i]]
    if bad:
        problems.append(f"{what} labels differ at {len(bad)} of {len(named)} named columns "
                        f"(library, reference): first {bad[:3]}")


@pytest.mark.parametrize("relative", _files())
def test_c3d_file_matches_the_independent_reference(relative, _cache):
    path, ref, lib, err = _read_both(relative, _cache)
    expectation = EXPECT.get(relative, "read")
    if err is not None:
        assert expectation == "read_or_refuse", f"{relative}: refused but expected to read: {err}"
        assert path.name in str(err), f"refusal does not name the file: {err}"
        return
    trial = lib.trial
    problems: list[str] = []

    # --- points (labels only where the file has POINT:LABELS)
    # (labels only where the file names them: blank or absent labels may be invented)
    _check_labels("point", list(trial.point_labels), ref.point_labels, problems)
    scale = abs(ref.point_scale) if not ref.float_storage else 0.0
    _check_close("points", trial.points, ref.points, rtol=1e-6, atol=1e-6 + 1e-6 * scale, problems=problems)
    res = np.asarray(trial.residuals, dtype=float)
    if res.shape == ref.residuals.shape and res.size:
        valid = ~np.isnan(ref.points[:, :, 0]) & ~np.isnan(np.asarray(trial.points)[:, :, 0])
        _check_close("residuals of valid points", res[valid], ref.residuals[valid], rtol=1e-6, atol=1e-6,
                     problems=problems)

    # --- analogs (scaled)
    _check_labels("analog", list(trial.analog_labels), ref.analog_labels, problems)
    a_tol = 1e-6 * max(1.0, float(np.nanmax(np.abs(ref.analogs))) if ref.analogs.size else 1.0)
    _check_close("analogs", trial.analogs, ref.analogs, rtol=1e-6, atol=a_tol, problems=problems)

    # --- events: the EVENT group; a file without a usable one (no EVENT:TIMES, as in
    # bad_parameter_section.c3d) gets its header events as trial events
    got_ev = [(e.label.strip(), e.context, e.time_s) for e in trial.events]
    if ref.param("EVENT", "USED") is not None and ref.param("EVENT", "TIMES") is not None:
        want_ev = [(e.label, e.context, e.time_s) for e in ref.events]
    else:
        want_ev = [(label, "", t) for label, t, _ in ref.header_events]
    if [(a, b) for a, b, _ in got_ev] != [(a, b) for a, b, _ in want_ev]:
        problems.append(f"events differ: {got_ev[:4]} vs reference {want_ev[:4]} ({len(got_ev)} vs {len(want_ev)})")
    else:
        _check_close("event times", [t for *_, t in got_ev], [t for *_, t in want_ev], rtol=1e-6, atol=1e-6,
                     problems=problems)
    got_hev = [(str(label).strip(), t) for label, t, *_ in lib.header_events]
    want_hev = [(label, t) for label, t, _ in ref.header_events]
    if [a for a, _ in got_hev] != [a for a, _ in want_hev]:
        problems.append(f"header events differ: {got_hev[:4]} vs reference {want_hev[:4]}")
    else:
        _check_close("header event times", [t for _, t in got_hev], [t for _, t in want_hev], rtol=1e-6,
                     atol=1e-6, problems=problems)

    # --- force plates
    plates = list(trial.force_plates)
    if ref.plate_error is not None:
        if plates:
            problems.append(f"reference cannot use the FORCE_PLATFORM group ({ref.plate_error}) but the "
                            f"library computed {len(plates)} plates")
    elif len(plates) != len(ref.plates):
        problems.append(f"{len(plates)} force plates, reference {len(ref.plates)}")
    else:
        for k, (p, q) in enumerate(zip(plates, ref.plates)):
            tag = f"plate {k + 1}"
            if p.type != q.type:
                problems.append(f"{tag}: type {p.type} vs reference {q.type}")
                continue
            size = float(np.linalg.norm(q.corners[0] - q.corners[2]))
            _check_close(f"{tag} corners", p.corners, q.corners, rtol=0, atol=1e-6 * size, problems=problems)
            _check_close(f"{tag} origin (normalised z<=0; raw {q.origin_raw.tolist()})", p.origin, q.origin,
                         rtol=0, atol=1e-6 * size, problems=problems)
            _check_close(f"{tag} rotation", p.rotation, q.rotation, rtol=0, atol=1e-9, problems=problems)
            f_tol = 1e-6 * max(1.0, float(np.abs(q.force).max()) if q.force.size else 1.0)
            _check_close(f"{tag} force", p.force, q.force, rtol=1e-6, atol=f_tol, problems=problems)
            cop = np.asarray(p.cop, dtype=float)
            if cop.shape != q.cop.shape:
                problems.append(f"{tag} cop: shape {cop.shape} vs reference {q.cop.shape}")
                continue
            loaded = np.abs(q.fz_plate) > COP_COMPARE_N
            if loaded.any():
                _check_close(f"{tag} cop (|Fz| > {COP_COMPARE_N:g} N, {int(loaded.sum())} samples)", cop[loaded],
                             q.cop[loaded], rtol=0, atol=1e-4 * size, problems=problems)

    assert not problems, f"{relative} disagrees with the reference:\n  " + "\n  ".join(problems)


def test_reference_decodes_the_documented_quirks():
    """The reference itself, on facts stated by the readmes or fixed by hand."""
    root = shared_data_dir() / "motion"
    if not (root / "c3d").is_dir():
        pytest.skip(f"shared data folder {root / 'c3d'} is absent")
    # 16bitanalog.c3d: OFFSET -32768 is the unsigned mid-scale; channel 33 starts -34, -4, -22.
    r = c3d_reference.read(root / "c3d/16bitanalog.c3d")
    np.testing.assert_array_equal(r.analogs[:3, 32], [-34.0, -4.0, -22.0])
    # One trial in six encodings (Intel/DEC/MIPS, int/float) decodes alike.
    a = c3d_reference.read(root / "c3d/Eb015pi.c3d")
    for name in ("Eb015pr", "Eb015si", "Eb015sr", "Eb015vi", "Eb015vr"):
        b = c3d_reference.read(root / f"c3d/{name}.c3d")
        assert np.array_equal(np.isnan(a.points), np.isnan(b.points))
        assert np.nanmax(np.abs(a.points - b.points)) <= abs(a.point_scale) * (1 + 1e-5)
        np.testing.assert_allclose(b.analogs, a.analogs, rtol=1e-9, atol=1e-9)
    conf = root / "c3d_conformance"
    if conf.is_dir():
        # sample_16/readme.txt: every residual is -1.
        assert np.isnan(c3d_reference.read(conf / "sample_16/giant.c3d").points).all()
        # sample_30 emgwl.c3d: three header events TE0-TE2.
        ev = c3d_reference.read(conf / "sample_30/emgwl.c3d").header_events
        assert [e[0] for e in ev] == ["TE0", "TE1", "TE2"]
        np.testing.assert_allclose([e[1] for e in ev], [2.26, 2.72, 3.14], atol=1e-6)


def test_more_than_65535_frames_agree_with_the_reference(tmp_path):
    """No sample file has more than 65535 frames (header word 5 is 16-bit): write one with the
    library and check that both readers find every frame (TRIAL:ACTUAL_*_FIELD, POINT:FRAMES)."""
    n = 70000
    trial = motion.Trial()
    trial.point_rate_hz = 1000.0
    xyz = np.column_stack([1.0 + 0.01 * np.arange(n), np.full(n, 2.0), np.full(n, 3.0)])
    trial.set_marker("M1", xyz)
    path = tmp_path / "long.c3d"
    motion.write_trial_c3d(str(path), trial)
    ref = c3d_reference.read(path)
    assert ref.points.shape == (n, 1, 3)
    np.testing.assert_allclose(ref.points[:, 0], xyz, rtol=1e-6)
    lib = motion.read_c3d(str(path)).trial
    assert lib.points.shape == (n, 1, 3)
    np.testing.assert_allclose(lib.points, ref.points, rtol=1e-12)


def test_labels2_continuation_agrees_with_the_reference(tmp_path):
    """No sample file has more than 255 points: 300 markers need POINT:LABELS2."""
    trial = motion.Trial()
    trial.point_rate_hz = 100.0
    for i in range(300):
        trial.set_marker(f"M{i:03d}", np.full((5, 3), float(i + 1)))
    path = tmp_path / "many.c3d"
    motion.write_trial_c3d(str(path), trial)
    ref = c3d_reference.read(path)
    assert ref.param("POINT", "LABELS2") is not None
    assert ref.point_labels == [f"M{i:03d}" for i in range(300)]
    lib = motion.read_c3d(str(path)).trial
    assert list(lib.point_labels) == ref.point_labels
    np.testing.assert_allclose(lib.points, ref.points, rtol=1e-12)
