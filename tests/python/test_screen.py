"""``sportsmed screen`` on real shared files: what a file can give is graded against an
independent computation, and what it cannot give is a grey "not assessed" flag that says why."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed.screen import GREY, ScreenInputs, build_screen

PYMSKT_NAMES = {"1": "femoral_cartilage", "2": "medial_tibial_cartilage", "3": "lateral_tibial_cartilage",
                "4": "patellar_cartilage", "5": "femur", "6": "tibia", "7": "patella", "8": "fibula",
                "9": "lateral_meniscus", "10": "medial_meniscus"}  # as ../shared/data/README.md describes the map


def flags_of(report, prefix):
    return [f for f in report.data["flags"] if f["label"].startswith(prefix)]


def needs(pillar):
    if pillar not in sportsmed.available_pillars():
        pytest.skip(f"the {pillar} pillar is not built")


def test_trc_without_forces_is_not_assessed_with_the_reason(shared_data):
    needs("motion")
    rep = build_screen(ScreenInputs(trials=[shared_data("motion/addbiomechanics/DJ1.trc")], mass_kg=70.0))
    dj = [f for f in rep.data["flags"] if f["key"].startswith(("knee_", "peak_knee", "landing"))]
    assert len(dj) == 7 and all(f["status"] == GREY for f in dj)
    assert all("force-free contact detection" in f["reason"] and "not available" in f["reason"] for f in dj)
    # the other inputs were not given: grey, saying so
    assert "no training log" in flags_of(rep, "Acute:chronic")[0]["reason"]
    assert "no knee MRI" in flags_of(rep, "Thinnest cartilage")[0]["reason"]
    assert rep.data["overall"] == GREY


def test_c3d_with_plates_but_no_angles_names_what_is_missing(shared_data):
    needs("motion")
    from sportsmed import motion

    path = shared_data("motion/c3d/Sample_Jump2.c3d")
    c3d = motion.read_c3d(path)
    assert len(c3d.trial.force_plates) == 2 and not c3d.trial.has_marker("LKneeAngles")  # what the file holds
    rep = build_screen(ScreenInputs(trials=[path], mass_kg=70.0))
    # without angles the force measures are tried, and this jump starts on the plates: no drop
    # landing. Plate 2's in-flight offset (~18 N) is taken off, so the take-off is found and the
    # reason is the true one (it used to say the contact lasted to the end of the recording).
    for f in rep.data["flags"][:7]:
        assert f["status"] == GREY
        assert "starts in ground contact" in f["reason"] and "end of the recording" not in f["reason"]


def test_force_measures_without_angles_match_the_compiled_drop_jump():
    needs("motion")
    from sportsmed import motion
    from sportsmed.screen._build import FORCE_FEATURES, _force_only_features

    res = motion.drop_jump_analysis(seed=1)
    full = dict(zip(res["features"]["feature"], res["features"]["value"]))
    only = {f: v for f, v, _ in _force_only_features(res["synthetic"].trial, res["synthetic"].body_mass_kg)}
    assert set(only) == set(FORCE_FEATURES)
    assert all(only[k] == pytest.approx(full[k], rel=1e-12) for k in FORCE_FEATURES)


def test_training_log_acwr_matches_pandas_rolling_means(shared_data):
    needs("risk")
    path = shared_data("risk/soccermon/master_dataset.csv")
    rep = build_screen(ScreenInputs(log=path, log_athlete_column="player_id", athlete="TeamA_1",
                                    as_of="2020-06-30", missing_days="zero"))
    flag = flags_of(rep, "Acute:chronic")[0]
    # independent: pandas rolling 7- and 28-day means of the athlete's daily load up to that day
    raw = pd.read_csv(path, parse_dates=["date"])
    a = raw[(raw["player_id"] == "TeamA_1") & (raw["date"] <= "2020-06-30")].set_index("date")["daily_load"]
    a = a.asfreq("D").fillna(0.0)
    ratio = a.rolling(7).mean() / a.rolling(28).mean()
    expected = float(ratio.dropna().iloc[-1])
    assert flag["value"] == pytest.approx(expected, rel=1e-9)
    band = "green" if 0.8 <= expected < 1.3 else "red" if expected >= 1.5 else "amber"
    assert flag["status"] == band
    summary = rep.data["parts"]["Training load"]["summary"]
    assert summary["Acute load, 7-day mean (AU/day)"] == pytest.approx(a.iloc[-7:].mean())
    assert summary["Last day of the log"] == "2020-06-30"


def test_training_log_of_a_squad_needs_the_athlete(shared_data):
    needs("risk")
    rep = build_screen(ScreenInputs(log=shared_data("risk/soccermon/master_dataset.csv"),
                                    log_athlete_column="player_id"))
    f = flags_of(rep, "Acute:chronic")[0]
    assert f["status"] == GREY and "holds 50 athletes" in f["reason"] and "--athlete" in f["reason"]


def test_label_map_without_names_is_not_assessed(shared_data):
    needs("imaging")
    rep = build_screen(ScreenInputs(mri_labels=shared_data("mri/knee_labels_pymskt.nrrd")))
    f = flags_of(rep, "Thinnest cartilage")[0]
    assert f["status"] == GREY and "carries no label names" in f["reason"]


@pytest.mark.slow
def test_label_map_with_names_grades_its_thinnest_region(shared_data, tmp_path):
    needs("imaging")
    from sportsmed import imaging

    names = tmp_path / "pymskt.labels.json"
    names.write_text(json.dumps({"labels": PYMSKT_NAMES}))
    path = shared_data("mri/knee_labels_pymskt.nrrd")
    other = shared_data("mri/totalseg_example_mr.nii.gz")  # an image of another grid: not overlaid, said so
    rep = build_screen(ScreenInputs(mri_labels=path, label_names=names, mri_image=other))
    notes = rep.data["parts"]["Knee MRI"]["notes"]
    assert len(notes) == 1 and "not the label map's (384, 384, 160)" in notes[0]
    f = flags_of(rep, "Thinnest cartilage")[0]
    # recompute from the library's regional table: point-weighted plate means, then the smallest ratio
    img = imaging.read_image(path)
    t = imaging.regional_thickness_table(imaging.as_label_map(img.array), img.geometry)
    t["plate"] = np.where(t["label"] == 1, "femoral", "tibial")
    plate_mean = t.groupby("plate").apply(lambda g: np.average(g["mean_mm"], weights=g["points"]))
    ratio = 100 * t["mean_mm"] / t["plate"].map(plate_mean)
    assert f["value"] == pytest.approx(float(ratio.min()), rel=1e-9)
    assert ratio.idxmin().replace("_", " ") in f["label"]
    assert f["status"] == ("green" if ratio.min() >= 75 else "amber" if ratio.min() >= 50 else "red")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "sportsmed", *map(str, args)], capture_output=True, text=True)


def test_cli_writes_the_report_and_its_json_twin(shared_data, tmp_path):
    needs("motion")
    out = tmp_path / "athlete.html"
    r = run_cli("screen", "--trial", shared_data("motion/addbiomechanics/DJ1.trc"), "--athlete", "DJ1 subject",
                "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["title"] == "Screening report: DJ1 subject"
    assert [s["title"] for s in doc["sections"]][0] == "Verdict"
    assert "Screening report: DJ1 subject" in out.read_text()
    r = run_cli("screen", "--trial", shared_data("motion/addbiomechanics/DJ1.trc"), "-o", tmp_path / "b.html",
                "--json", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["data"]["overall"] == "grey"  # the twin on stdout
    assert "report written to" in r.stderr and (tmp_path / "b.html").exists()
    r = run_cli("screen", "--trial", tmp_path / "absent.c3d", "-o", tmp_path / "x.html")
    assert r.returncode == 1 and "absent.c3d" in r.stderr and "does not exist" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "x.html").exists()
    r = run_cli("screen", "--log", shared_data("risk/soccermon/master_dataset.csv"), "--as-of", "June",
                "-o", tmp_path / "x.html")
    assert r.returncode == 1 and "as_of must be an ISO date" in r.stderr


def test_screen_of_a_written_c3d_equals_the_in_memory_athlete(tmp_path):
    """Round trip: the synthetic athlete's processed trial written as a C3D and screened as a
    real file (two trials: their mean) gives the features and flags of the in-memory path."""
    needs("motion")
    from sportsmed import motion
    from sportsmed.screen._build import _drop_jump_synthetic

    res = motion.drop_jump_analysis(seed=1)
    path = tmp_path / "athlete.c3d"
    motion.write_trial_c3d(path, res["processed"])
    rep = build_screen(ScreenInputs(trials=[path, path], mass_kg=res["synthetic"].body_mass_kg))
    part = rep.data["parts"]["Drop vertical jump"]
    memory = {f: v for f, v, _ in _drop_jump_synthetic(lambda f, s: True)["features"]}
    assert set(part["mean"]) == set(memory)
    for k, v in memory.items():
        assert part["mean"][k] == pytest.approx(v, abs=1e-4), k  # C3D stores float32
    from sportsmed.screen._build import drop_jump_flags

    assert [f["status"] for f in rep.data["flags"][:7]] == [f.status for f in drop_jump_flags(memory)]
    columns = [i for s in rep.to_json()["sections"] for i in s["items"] if i["type"] == "table"
               and i["caption"].startswith("Drop vertical jump measures")][0]["columns"]
    assert columns[:4] == ["Measure", "athlete.c3d", "athlete.c3d (2)", "Mean"]


def test_a_walking_trial_is_no_drop_landing(shared_data):
    """TRC + GRF .mot through attach_grf_mot: the forces are read (feet from the ExternalLoads
    XML), but a walking trial's 'contact' is no drop landing: nothing is graded, not even the
    force symmetry, and the evidence shades the implausible contact time."""
    needs("motion")
    d = "motion/opensim/"
    rep = build_screen(ScreenInputs(trials=[shared_data(d + "subject01_walk1.trc")],
                                    grf=[shared_data(d + "subject01_walk1_grf.mot")],
                                    grf_loads=shared_data(d + "subject01_walk1_grf.xml"), mass_kg=72.6))
    flags = rep.data["flags"][:7]
    assert all(f["status"] == GREY and "not a drop landing" in f["reason"] for f in flags)
    trial = rep.data["parts"]["Drop vertical jump"]["trials"][0]
    assert "Fz" not in trial["features"] and trial["features"]["contact_time_s"] > 2.0
    assert any("feet: ground_force_v→R, 1_ground_force_v→L" in w for w in trial["warnings"])
    rows = [r for s in rep.to_json()["sections"] for i in s["items"] if i["type"] == "table"
            for r in i["rows"] if r[0] == "Ground contact time (s)"]
    assert rows and rows[0][-1].startswith("implausible")


def test_knee_moments_of_a_c3d_and_walking_is_not_graded(shared_data):
    """gait-pig.c3d (Plug-in Gait walking, two plates; 61.1 kg as tests/python/test_motion_dynamics.py
    derives it): the screen's knee moments are the library's kinetic features (validated against
    the moments Vicon stored) times the body mass; and a walking trial, with no flight after its
    'contact', grades nothing."""
    needs("motion")
    from sportsmed import motion
    from sportsmed.screen._build import _knee_moments

    path = shared_data("motion/c3d/gait-pig.c3d")
    c3d = motion.read_c3d(path)
    feats, reason = _knee_moments(c3d, 61.1, path.name)
    ref, units, _ = motion.kinetic_features(motion.inverse_dynamics(c3d, body_mass_kg=61.1), "drop_jump")
    got = {k: v for k, v, _ in feats}
    assert reason == "" and units["left_peak_knee_abduction_moment"] == "N·m/kg"
    for side in ("left", "right"):
        assert np.isfinite(ref[f"{side}_peak_knee_abduction_moment"])
        expected = 61.1 * ref[f"{side}_peak_knee_abduction_moment"]
        assert got[f"{side}_peak_knee_abduction_moment_nm"] == pytest.approx(expected)
    rep = build_screen(ScreenInputs(trials=[path], mass_kg=61.1))
    flags = rep.data["flags"][:7]
    assert all(f["status"] == GREY for f in flags)
    assert all("not a drop landing" in f["reason"] or "no flight follows" in f["reason"] for f in flags)
    # the moments are still shown as evidence, with plain labels
    labels = [r[0] for s in rep.to_json()["sections"] for i in s["items"] if i["type"] == "table" for r in i["rows"]]
    assert "Peak knee abduction moment (external), left (N·m)" in labels
    # a C3D without a lower-body model: the moment flags say why
    other = motion.read_c3d(shared_data("motion/c3d/Sample_Jump2.c3d"))  # plates, no Plug-in Gait/CGM1 markers
    _, why = _knee_moments(other, 70.0, "Sample_Jump2.c3d")
    assert why.startswith("'Sample_Jump2.c3d': inverse dynamics:")


def test_log_with_absent_days_asks_what_they_mean(tmp_path):
    needs("risk")
    days = pd.date_range("2025-01-01", periods=60, freq="D")
    rng = np.random.default_rng(5)
    load = rng.uniform(200, 600, 60)
    keep = np.ones(60, bool)
    keep[[10, 11, 40]] = False  # three days without a row
    log = tmp_path / "log.csv"
    pd.DataFrame({"athlete": "A", "date": days[keep].strftime("%Y-%m-%d"), "daily_load": load[keep]}).to_csv(
        log, index=False)
    rep = build_screen(ScreenInputs(log=log))
    f = flags_of(rep, "Acute:chronic")[0]
    assert f["status"] == GREY and "3 absent day(s)" in f["reason"] and "--missing-days" in f["reason"]
    rep = build_screen(ScreenInputs(log=log, missing_days="zero"))
    f = flags_of(rep, "Acute:chronic")[0]
    s = pd.Series(np.where(keep, load, 0.0), index=days)  # absent = no training
    assert f["value"] == pytest.approx(s.iloc[-7:].mean() / s.iloc[-28:].mean(), rel=1e-12)


def test_an_image_without_a_label_map_is_not_assessed(shared_data):
    needs("imaging")
    rep = build_screen(ScreenInputs(mri_image=shared_data("mri/totalseg_example_mr.nii.gz")))
    f = flags_of(rep, "Thinnest cartilage")[0]
    assert f["status"] == GREY and "no knee label map" in f["reason"] and "mri segment" in f["reason"]
