"""Batch feature tables (drop jump, gait), Trial force plates and the motion CLI's
info/events/convert/features actions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sportsmed import motion


def run(*args):
    return subprocess.run([sys.executable, "-m", "sportsmed", *args], capture_output=True, text=True, timeout=300)


def _processed_c3d(path, valgus, seed=1):
    res = motion.drop_jump_analysis(motion.synthesize_drop_jump(seed=seed, knee_valgus_peak_deg=valgus))
    motion.write_trial_c3d(str(path), res["processed"])
    return res["features"].set_index("feature")


def test_batch_drop_jump_table_equals_direct_features_and_csv_round_trips(tmp_path):
    direct = {v: _processed_c3d(tmp_path / f"dj_{v:g}.c3d", v) for v in (4.0, 12.0)}
    (tmp_path / "broken.c3d").write_bytes(b"\x02\x50" + b"\x00" * 300)
    paths = [tmp_path / "dj_4.c3d", tmp_path / "broken.c3d", tmp_path / "dj_12.c3d"]
    calls = []
    df = motion.feature_table(paths, "drop_jump", body_mass_kg=70.0, progress=lambda f, s: calls.append(f))
    assert calls and calls[-1] == 1.0
    assert list(df.index) == [str(p) for p in paths]
    assert df.loc[str(paths[1]), "error"] and df.loc[str(paths[0]), "error"] == ""
    assert df.loc[str(paths[1])].drop(["error", "warnings"]).isna().all()
    # The synthetic trials are clean, z-up and within the human range: no warnings.
    assert df.loc[str(paths[0]), "warnings"] == "" and df.loc[str(paths[2]), "warnings"] == ""
    units = df.attrs["units"]
    for v, path in ((4.0, paths[0]), (12.0, paths[2])):
        ref = direct[v]
        assert set(ref.index) == set(units)
        for name, row in ref.iterrows():
            assert units[name] == row["unit"]
            # float32 storage in the C3D
            assert df.loc[str(path), name] == pytest.approx(row["value"], rel=1e-4, abs=1e-3), name
    assert units["left_peak_fppa_deg"] == "deg" and units["knee_ankle_separation_ratio_ic"] == "ratio"
    # CSV with "name [unit]" headers reads back to the same table.
    motion.write_feature_csv(df, tmp_path / "table.csv")
    assert "left_peak_fppa_deg [deg]" in (tmp_path / "table.csv").read_text().splitlines()[0]
    back = motion.read_feature_csv(tmp_path / "table.csv")
    pd.testing.assert_frame_equal(back, df, check_exact=False, rtol=1e-12)
    assert back.attrs["units"] == units
    # In-memory trials go through the same C++ features.
    t = motion.read_c3d(str(paths[0])).trial
    mem = motion.feature_table({"a": t}, "drop_jump", body_mass_kg=70.0)
    np.testing.assert_allclose(mem.drop(columns=["error", "warnings"]).to_numpy()[0],
                               df.drop(columns=["error", "warnings"]).loc[str(paths[0])].to_numpy(dtype=float),
                               rtol=1e-12)


def _vicon_analysis(c3d):
    names, contexts = c3d.parameter("ANALYSIS", "NAMES"), c3d.parameter("ANALYSIS", "CONTEXTS")
    values = c3d.parameter("ANALYSIS", "VALUES")
    return {(c.strip(), n.strip()): v for n, c, v in zip(names, contexts, values)}


def test_gait_features_from_stored_events_match_vicon_analysis(shared_data):
    """Vicon Nexus stored its spatio-temporal parameters in the ANALYSIS group of gait-pig.c3d:
    our stride time, stance (foot off %), stride length and speed from the same stored events
    must agree with them."""
    path = str(shared_data("motion/c3d/gait-pig.c3d"))
    vicon = _vicon_analysis(motion.read_c3d(path))
    df = motion.feature_table([path], "gait", gait_events="stored")
    row = df.iloc[0]
    assert row["error"] == "" and row["events_from_zeni"] == 0
    for side, ctx in (("left", "Left"), ("right", "Right")):
        assert row[f"{side}_stride_time_s"] == pytest.approx(vicon[(ctx, "Stride Time")], abs=1.5 / 100)
        assert 100 * row[f"{side}_stance_fraction"] == pytest.approx(vicon[(ctx, "Foot Off")], abs=1.5)
        assert 1000 * row[f"{side}_stride_length_m"] == pytest.approx(vicon[(ctx, "Stride Length")], rel=0.03)
        assert 1000 * row[f"{side}_speed_m_per_s"] == pytest.approx(vicon[(ctx, "Walking Speed")], rel=0.03)
    assert 0.0 < row["step_width_m"] < 0.4
    assert row["cadence_steps_per_min"] == pytest.approx(
        120 / np.mean([row["left_stride_time_s"], row["right_stride_time_s"]]))
    # Zeni events give the same strides within a few frames.
    z = motion.feature_table([path], "gait", gait_events="zeni").iloc[0]
    assert z["events_from_zeni"] == 1
    assert z["left_stride_time_s"] == pytest.approx(row["left_stride_time_s"], abs=0.05)


def test_trial_carries_the_force_plates(shared_data):
    c = motion.read_c3d(str(shared_data("motion/c3d/TYPE-2.C3D")))
    ref = motion.force_plates(c)
    assert len(c.trial.force_plates) == len(ref) > 0
    for plate, d in zip(c.trial.force_plates, ref):
        assert plate.type == d["type"]
        np.testing.assert_array_equal(plate.force, d["force"])
        np.testing.assert_array_equal(plate.cop, d["cop"])


def test_cli_convert_c3d_trc_mot(shared_data, tmp_path):
    src = str(shared_data("motion/c3d/gait-pig.c3d"))
    t = motion.read_c3d(src).trial
    trc, back, mot = tmp_path / "a.trc", tmp_path / "b.c3d", tmp_path / "grf.mot"
    for a, b in ((src, trc), (str(trc), back), (src, mot)):
        r = run("motion", "convert", a, str(b))
        assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(motion.read_trc(str(trc)).points, t.points)
    again = motion.read_c3d(str(back)).trial
    assert again.point_labels == t.point_labels
    np.testing.assert_allclose(again.points, t.points, rtol=1e-6, atol=1e-3, equal_nan=True)
    grf = motion.read_mot(str(mot))
    plate = t.force_plates[0]
    fz = plate.force[:, 2]
    up = -fz if abs(fz.min()) > abs(fz.max()) else fz
    np.testing.assert_allclose(grf.column("ground_force_1_vz"), up, rtol=1e-9, atol=1e-6)
    loaded = np.isfinite(plate.cop[:, 0])
    np.testing.assert_allclose(grf.column("ground_force_1_px")[loaded], plate.cop[loaded, 0] / 1000, rtol=1e-9)
    time = grf.column("time")
    assert time[1] - time[0] == pytest.approx(1 / t.analog_rate_hz)
    r = run("motion", "convert", str(trc), str(tmp_path / "x.mot"))
    assert r.returncode == 1


def test_cli_info_and_events(shared_data, tmp_path):
    path = str(shared_data("motion/c3d/gait-pig.c3d"))
    t = motion.read_c3d(path).trial
    r = run("motion", "info", path, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["frames"] == t.n_frames and info["force_plates"] == [p.type for p in t.force_plates]
    out = tmp_path / "ev.csv"
    r = run("motion", "events", path, "-o", str(out))
    assert r.returncode == 0, r.stderr
    ev = pd.read_csv(out)
    assert sorted(ev["time_s"]) == pytest.approx(sorted(e.time_s for e in t.events))
    r = run("motion", "events", path, "--source", "zeni", "-o", str(out))
    assert r.returncode == 0, r.stderr
    ev = pd.read_csv(out)
    z = motion.zeni_events(t, "L")
    got = ev[(ev["context"] == "Left") & (ev["label"] == "Foot Strike")]["frame"].tolist()
    assert got == z["foot_strikes"]
    r = run("motion", "events", path, "--source", "force", "-o", str(out))
    assert r.returncode == 0, r.stderr
    ev = pd.read_csv(out)
    strikes = ev[ev["label"] == "Foot Strike"]
    # Each plate contact starts where the vertical force first reaches 20 N.
    for _, e in strikes.iterrows():
        k = int(e["context"][5:]) - 1
        fz = np.abs(t.force_plates[k].force[:, 2])
        s = int(round((e["time_s"] - (t.first_frame - 1) / t.point_rate_hz) * t.analog_rate_hz))
        assert fz[s] >= 20 and (s == 0 or fz[s - 1] < 20)


def test_cli_features_over_files(tmp_path):
    _processed_c3d(tmp_path / "one.c3d", 8.0)
    _processed_c3d(tmp_path / "two.c3d", 0.0, seed=2)
    (tmp_path / "notes.trc").write_text("not a trc\n")
    out = tmp_path / "features.csv"
    r = run("motion", "features", str(tmp_path), "--body-mass", "70", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "notes.trc" in r.stderr
    df = motion.read_feature_csv(out)
    assert len(df) == 3
    one = df.loc[str(tmp_path / "one.c3d")]
    two = df.loc[str(tmp_path / "two.c3d")]
    assert one["left_peak_fppa_deg"] > two["left_peak_fppa_deg"] + 3
    assert df.attrs["units"]["jump_height_m"] == "m"
    r = run("motion", "features", str(tmp_path / "notes.trc"))
    assert r.returncode == 1
