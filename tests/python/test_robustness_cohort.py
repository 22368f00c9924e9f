"""sportsmed.cohort robustness: paths and ids kept out of the outputs (sidecars, short ids, ids
as file names), every file an item reads in its key (sidecars, a moved study), a training log of
another athlete refused, one label map per knee session, TOML settings not silently ignored,
failures.csv and the squad report describing every table, and the messages that say what to do.

The runs use an in-process Dask cluster (one worker thread) and a 60 mm knee phantom at 2 mm
(30³ voxels): no segmentation step. References: the imaging pillar called directly
(``cartilage_thickness``, ``fit_t2``), pandas on the logs, hand-computed texts and means."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import cohort, imaging
from sportsmed.cohort._manifest import Entry
from sportsmed.cohort._run import _scrub, execute_item

FEMORAL, PATELLAR, FEMUR = 1, 4, 5


@pytest.fixture(scope="module")
def scheduler():
    """An in-process LocalCluster (threads): no worker processes to spawn."""
    from distributed import LocalCluster

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        yield c.scheduler_address


@pytest.fixture(scope="module")
def phantom():
    return imaging.make_knee_phantom(spacing_mm=(2.0,) * 3, extent_mm=(60.0,) * 3, seed=0)


def _run(manifest, out, scheduler, steps, **kw):
    kw.setdefault("secret", Path(manifest).parent.parent / "key")
    return cohort.run_cohort(manifest, out, steps=steps, scheduler=scheduler, **kw)


def _write_knee(folder: Path, ph, names=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "knee.nii.gz"
    imaging.write_image(imaging.Image(np.asarray(ph["labels"], dtype=np.uint8), ph["geometry"]), str(path))
    if names:
        imaging.write_label_names(path, imaging.PYMSKT_LABEL_NAMES)
    return path


def _write_mese(folder: Path, ph, te=None) -> Path:
    path = folder / "mese.nii.gz"
    imaging.write_image(imaging.Image(np.asarray(ph["echoes"], dtype=np.float32), ph["geometry"]), str(path))
    (folder / "mese.json").write_text(json.dumps({"EchoTimes_ms": [float(t) for t in (te or ph["te_ms"])]}))
    return path


def _log(path: Path, athletes, days=40) -> Path:
    dates = pd.date_range("2021-07-01", periods=days, freq="D").strftime("%Y-%m-%d")
    rng = np.random.default_rng(1)
    frames = [pd.DataFrame({"date": dates, "athlete": a, "daily_load": rng.uniform(100, 500, days).round(),
                            "injury": 0}) for a in athletes]
    pd.concat(frames).to_csv(path, index=False)
    return path


def _all_output_text(out: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*")
                     if p.is_file() and p.suffix in (".csv", ".json", ".html"))


# -- 1, 2: paths of the input's folder and short ids -------------------------------------------------

def test_bad_sidecars_beside_data_leave_no_path_in_any_output(tmp_path, scheduler, phantom):
    folder = tmp_path / "s" / "MRN0012345_DOE"
    _write_knee(folder, phantom, names=False)
    (folder / "knee.labels.json").write_text('{"labels": {"1": "femoral_cartilage", "5": "femur", "1": "tibia"}}')
    _write_mese(folder, phantom)
    (folder / "mese.json").write_text('{"EchoTimes_ms": [6.3, 12.6, "x"]}')
    m = tmp_path / "s" / "manifest.csv"
    m.write_text("athlete_id,session_date,task,path\nJane Doe,2021-09-01,knee_mri,MRN0012345_DOE/knee.nii.gz\n"
                 "Jane Doe,2021-09-01,knee_t2,MRN0012345_DOE/mese.nii.gz\n")
    out = tmp_path / "out"
    s = _run(m, out, scheduler, ["mri", "t2"])
    assert s.failed == 2 and {f["error_type"] for f in s.failures} == {"FormatError"}
    from sportsmed.cohort._report import squad_report

    squad_report(out, out / "squad.html")
    text = _all_output_text(out)
    for secret in ("MRN0012345", "DOE", "Jane", str(tmp_path)):
        assert secret not in text, secret
    # the reasons stay readable
    assert any("given twice" in f["error"] for f in s.failures)
    assert any("EchoTimes_ms[2]" in f["error"] for f in s.failures)


def test_scrub_replaces_every_path_under_the_input_folder(tmp_path):
    folder = tmp_path / "MRN0012345_DOE"
    folder.mkdir()
    (folder / "knee.nii.gz").write_bytes(b"x")
    e = Entry("Jane Doe", "2021-09-01", "knee_mri", folder / "knee.nii.gz")
    msg = (f"read '{folder}/notes from clinic.txt' and {folder}/sub/other.json; folder {folder}: "
           f"no knee.labels.json; sibling {tmp_path}/MRN0012345_DOE2 untouched; the athlete's knee.")
    got = _scrub(msg, e, "sm_0123456789abcdef", "mri/x")
    p = "<input of mri/x>"
    assert got == (f"read '{p}' and {p}; folder {p}: no {p}; sibling {tmp_path}/MRN0012345_DOE2 untouched; "
                   "the athlete's knee.")


def test_an_id_is_replaced_as_a_whole_token_only(tmp_path):
    path = tmp_path / "trial.c3d"
    pseud = "sm_0123456789abcdef"
    one = Entry("1", "", "drop_jump", path)
    # a numeric id reads like a number: redacted ("…"), never paired with the pseudonym
    assert _scrub("the trial has 1 plate(s), 1.5 mm, 21 frames, A1", one, pseud, "motion/x") == \
        "the trial has … plate(s), 1.5 mm, 21 frames, A1"
    jane = Entry("Jane Doe", "", "drop_jump", path)
    assert _scrub("subject Jane Doe, not Jane Doering", jane, pseud, "motion/x") == \
        f"subject {pseud}, not Jane Doering"
    team = Entry("Team A/2", "", "drop_jump", path)
    assert _scrub("athlete 'Team A/2' vs Team A/21", team, pseud, "motion/x") == \
        f"athlete '{pseud}' vs Team A/21"


# -- 3: ids as file names ----------------------------------------------------------------------------

def test_keep_ids_never_let_an_id_choose_a_path(tmp_path, scheduler):
    ids = ["../../../escaped", "Team A/2", "Team A-2", "A001"]
    s = tmp_path / "s"
    s.mkdir()
    _log(s / "squad.csv", ids, days=10)
    m = s / "manifest.csv"
    m.write_text("athlete_id,session_date,task,path\n" + "".join(f"{a},,training_log,squad.csv\n" for a in ids))
    out = tmp_path / "o" / "res"
    summary = _run(m, out, scheduler, ["workload"], keep_ids=True)
    assert (summary.computed, summary.failed) == (4, 0)
    records = sorted((out / "items" / "workload").iterdir())
    assert len(records) == 4                                  # four ids, four distinct files, all in place
    assert [p for p in tmp_path.rglob("*escaped*") if p.parent != out / "items" / "workload"] == []
    assert "A001_all_" in " ".join(p.name for p in records)   # a plain id is kept as it is
    wl = cohort.read_table(out, "workload")
    assert sorted(wl["athlete"].unique()) == sorted(ids)      # the table names the ids themselves
    log = pd.read_csv(s / "squad.csv")
    for a in ids:
        np.testing.assert_allclose(wl[wl["athlete"] == a]["daily_load"], log[log["athlete"] == a]["daily_load"])


# -- 4, 11: every file read is in the key; keys are content-based -------------------------------------

def test_changed_label_names_and_echo_times_recompute(tmp_path, scheduler, phantom):
    s = tmp_path / "s"
    knee = _write_knee(s, phantom)
    mese = _write_mese(s, phantom)
    m = s / "manifest.csv"
    m.write_text(f"athlete_id,session_date,task,path,knee_side\nA1,2021-09-01,knee_mri,{knee.name},left\n"
                 f"A1,2021-09-01,knee_t2,{mese.name},left\n")
    out = tmp_path / "out"
    assert _run(m, out, scheduler, ["mri", "t2"]).computed == 2
    assert _run(m, out, scheduler, ["mri", "t2"]).computed == 0
    # only the sidecars change: labels 1 and 4 swap names, the echo times double
    names = dict(imaging.PYMSKT_LABEL_NAMES)
    names[FEMORAL], names[PATELLAR] = names[PATELLAR], names[FEMORAL]
    imaging.write_label_names(knee, names)
    te = [2 * float(t) for t in phantom["te_ms"]]
    (s / "mese.json").write_text(json.dumps({"EchoTimes_ms": te}))
    r = _run(m, out, scheduler, ["mri", "t2"])
    assert (r.computed, r.failed) == (2, 1)
    # the thickness read the new names: "femoral_cartilage" is label 4 now, which lies off the femur
    assert r.failures[0]["step"] == "mri" and "femoral cartilage (label 4)" in r.failures[0]["error"]
    t2 = cohort.read_table(out, "t2").iloc[0]
    assert t2["te_last_ms"] == pytest.approx(te[-1])
    labels = np.asarray(phantom["labels"])
    fit = imaging.fit_t2(np.asarray(phantom["echoes"], dtype=np.float32).astype(float), te,
                         np.isin(labels, [k for k, v in names.items() if "cartilage" in v]))
    for label, name in ((PATELLAR, "femoral_cartilage"), (FEMORAL, "patellar_cartilage")):
        ok = (labels == label) & (fit["status"] == 0) & np.isfinite(fit["t2_ms"])
        assert t2[f"{name}_t2_median_ms"] == pytest.approx(float(np.median(fit["t2_ms"][ok])), rel=1e-6)


def test_a_moved_study_is_not_recomputed_and_an_empty_table_has_its_header(tmp_path, scheduler):
    s = tmp_path / "s"
    s.mkdir()
    _log(s / "log.csv", ["A1"])
    (s / "manifest.csv").write_text("athlete_id,session_date,task,path\nA1,,training_log,log.csv\n"
                                    "A1,2021-01-01,drop_jump,missing.c3d\n")
    out = tmp_path / "out"
    secret = tmp_path / "key"
    assert _run(s / "manifest.csv", out, scheduler, ["workload", "motion"], secret=secret).computed == 2
    shutil.move(s, tmp_path / "moved")
    r = _run(tmp_path / "moved" / "manifest.csv", out, scheduler, ["workload", "motion"], secret=secret)
    assert (r.computed, r.skipped, r.failed) == (1, 1, 1)       # only the failure is retried
    # no motion row: a header-only table pandas reads; the failure names the manifest line
    mo = pd.read_csv(out / "tables" / "motion.csv")
    assert mo.empty and list(mo.columns[:3]) == ["athlete", "session_date", "item"]
    assert "manifest line 3" in r.failures[0]["error"] and "missing" not in r.failures[0]["error"]


# -- 5: a training log of another athlete; a squad log for each athlete --------------------------------

def test_a_log_of_another_athlete_is_refused_and_a_squad_log_serves_each(tmp_path):
    log = _log(tmp_path / "log_A2.csv", ["TeamA_2"])
    res = execute_item({"step": "workload", "entry": Entry("TeamA_9", "", "training_log", log),
                        "item_id": "workload/x", "params": {}, "out": str(tmp_path / "r")})
    assert res["status"] == "failed" and res["error_type"] == "InvalidArgument"
    assert "TeamA_2" not in res["error"] and "no row for this item's athlete_id" in res["error"]
    ok = execute_item({"step": "workload", "entry": Entry("TeamA_2", "", "training_log", log),
                       "item_id": "workload/y", "params": {}, "out": str(tmp_path / "r")})
    assert ok["status"] == "ok" and len(ok["rows"]) == 40

    squad = _log(tmp_path / "squad.csv", ["TeamA_1", "TeamA_2", "TeamA_3"])
    m = tmp_path / "m.csv"
    m.write_text("athlete_id,session_date,task,path\n"
                 "TeamA_1,,training_log,squad.csv\nTeamA_3,,training_log,squad.csv\n")
    entries = cohort.read_manifest(m).entries
    ref = pd.read_csv(squad)
    for e in entries:
        res = execute_item({"step": "workload", "entry": e, "item_id": "workload/z", "params": {},
                            "out": str(tmp_path / "r")})
        assert [r["daily_load"] for r in res["rows"]] == ref[ref["athlete"] == e.athlete_id]["daily_load"].tolist()
    m.write_text("athlete_id,session_date,task,path\n"
                 "TeamA_1,,training_log,squad.csv\nTeamA_1,,training_log,squad.csv\n")
    with pytest.raises(sportsmed.InvalidArgument, match="listed twice"):
        cohort.read_manifest(m)
    m.write_text("athlete_id,session_date,task,path\nTeamA_1,,training_log,squad.csv\n"
                 "TeamA_2,,training_log,squad.csv\nTeamA_2,,training_log,squad.csv\n")
    with pytest.raises(sportsmed.InvalidArgument, match=r"listed twice \(line/item 3 and 4\)"):
        cohort.read_manifest(m)


# -- 6, 7, 10: one label map per session, TOML settings, label_names ----------------------------------

def test_two_label_maps_in_a_session_are_refused(tmp_path, scheduler, phantom):
    s = tmp_path / "s"
    knee = _write_knee(s, phantom)
    shutil.copy(knee, s / "other.nii.gz")
    m = s / "manifest.csv"
    m.write_text("athlete_id,session_date,task,path\nA1,2021-09-01,knee_mri,knee.nii.gz\n"
                 "A1,2021-09-01,knee_mri,other.nii.gz\nA1,2021-10-01,knee_mri,x/../knee.nii.gz\n")
    with pytest.raises(sportsmed.InvalidArgument, match="listed twice"):
        cohort.read_manifest(m)
    m.write_text("athlete_id,session_date,task,path\nA1,2021-09-01,knee_mri,knee.nii.gz\n"
                 "A1,2021-09-01,knee_mri,other.nii.gz\n")
    summary = _run(m, tmp_path / "out", scheduler, ["mri"])
    assert summary.failed == 2
    assert all("2 label maps" in f["error"] and "lines 2, 3" in f["error"] for f in summary.failures)
    assert cohort.read_table(tmp_path / "out", "mri").empty


def test_toml_settings_are_refused_not_ignored(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text('bates_threshold_deg = 0.5\nmissing = "missing"\nrisk_model = "r.json"\n[[items]]\n'
                 'athlete_id = "A"\ntask = "training_log"\npath = "log.csv"\n')
    with pytest.raises(sportsmed.InvalidArgument, match=r"m\.toml': unknown study setting\(s\) "
                                                        r"bates_threshold_deg, missing: a TOML manifest takes"):
        cohort.read_manifest(m)


def test_label_names_column_names_a_map_from_a_colour_table(tmp_path, scheduler, phantom):
    s = tmp_path / "s"
    knee = _write_knee(s, phantom, names=False)
    # a 3D Slicer colour table: index name r g b a
    (s / "knee.ctbl").write_text("# Color table\n" + "".join(f"{k} {v} 10 20 30 255\n"
                                                              for k, v in imaging.PYMSKT_LABEL_NAMES.items()))
    m = s / "manifest.csv"
    m.write_text(f"athlete_id,session_date,task,path,knee_side\nA1,2021-09-01,knee_mri,{knee.name},left\n")
    out = tmp_path / "out"
    r = _run(m, out, scheduler, ["mri"])
    assert r.failed == 1 and "label_names column" in r.failures[0]["error"]
    m.write_text(f"athlete_id,session_date,task,path,knee_side,label_names\n"
                 f"A1,2021-09-01,knee_mri,{knee.name},left,knee.ctbl\n")
    assert _run(m, out, scheduler, ["mri"]).computed == 1
    g = phantom["geometry"]
    ref = imaging.cartilage_thickness(np.asarray(phantom["labels"]), g.spacing, FEMORAL, FEMUR, g)
    row = cohort.read_table(out, "mri").iloc[0]
    assert row["thickness_mean_mm"] == pytest.approx(float(np.mean(ref["thickness_mm"])), rel=1e-12)
    # the names file is part of the key: another table, another result
    (s / "knee.ctbl").write_text("".join(f"{k} {v} 10 20 30 255\n" for k, v in imaging.PYMSKT_LABEL_NAMES.items()
                                         if k != FEMUR) + f"{FEMUR} tibia_x 1 1 1 255\n")
    r = _run(m, out, scheduler, ["mri"])
    assert r.computed == 1 and r.failed == 1 and "femur" in r.failures[0]["error"]


# -- 8: a run of some steps keeps the failures of the others ----------------------------------------

def test_subset_run_keeps_earlier_steps_failures_in_table_and_report(tmp_path, scheduler):
    from sportsmed.cohort._report import squad_report

    s = tmp_path / "s"
    s.mkdir()
    _log(s / "log.csv", ["A1"])
    (s / "bad.c3d").write_bytes(b"\0" * 1024)
    m = s / "manifest.csv"
    m.write_text("athlete_id,session_date,task,path,body_mass_kg\nA1,2021-09-01,drop_jump,bad.c3d,70\n"
                 "A1,,training_log,log.csv,\n")
    out = tmp_path / "out"
    first = _run(m, out, scheduler, ["motion", "workload"])
    assert first.failed == 1
    before = pd.read_csv(out / "tables" / "failures.csv")
    second = _run(m, out, scheduler, ["workload"])
    assert second.failed == 0
    after = pd.read_csv(out / "tables" / "failures.csv")
    pd.testing.assert_frame_equal(after, before)            # the motion table's failure is still listed
    html = squad_report(out, out / "squad.html").read_text()
    assert "No item failed" not in html and "1 failed item(s) in these tables" in html
    assert "16 hex digits" in html and "10 hex digits" not in html


# -- 9: the report's last days ------------------------------------------------------------------------

def test_report_shows_each_athletes_own_last_day_and_no_fake_trend(tmp_path):
    from sportsmed.cohort._report import squad_report

    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "run.json").write_text(json.dumps({"started": "2021-12-31T00:00", "state": "complete", "steps": ["risk"],
                                              "summary": {"items": 2, "failed": 0}}))
    days = pd.date_range("2021-09-01", "2021-12-31", freq="D")
    short = days[days <= "2021-10-31"]
    rk = pd.concat([pd.DataFrame({"athlete": "sm_aaaaaaaaaaaaaaaa", "session_date": "", "date": days,
                                  "risk": 0.01}),
                    pd.DataFrame({"athlete": "sm_bbbbbbbbbbbbbbbb", "session_date": "", "date": short,
                                  "risk": np.where(short > "2021-10-24", 0.2, 0.1)})])
    rk["date"] = rk["date"].dt.strftime("%Y-%m-%d")
    rk.to_csv(out / "tables" / "risk.csv", index=False)
    # a third athlete with a single logged day: no 28-day window, no trend
    pd.DataFrame({"athlete": ["sm_cccccccccccccccc"], "session_date": [""], "date": ["2021-12-31"],
                  "risk": [0.05]}).to_csv(out / "tables" / "risk.csv", mode="a", header=False, index=False)
    import html as _html
    import re

    page = squad_report(out, out / "squad.html").read_text()
    text = re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", page,
                                                                             flags=re.S))))
    table = text[text.find("Risk per athlete"):]
    # B's own last 7 days (Oct 25-31: 0.2) against the 28 days before (0.1): +100 %, rising
    assert re.search(r"sm_bbbbbbbbbbbbbbbb 2021-10-31 0\.200 0\.200 0\.100 rising", table)
    assert re.search(r"sm_aaaaaaaaaaaaaaaa 2021-12-31 0\.010 0\.010 0\.010 steady", table)
    assert re.search(r"sm_cccccccccccccccc 2021-12-31 0\.050 0\.050 – no data", table)


def test_redaction_protects_only_its_own_placeholders_and_reads_unicode_logs(tmp_path):
    from sportsmed.cohort import _run

    log = tmp_path / "log.csv"
    log.write_text("date,Jane Doe\n2024-01-01,10\n", encoding="utf-16")
    assert "Jane Doe" in _run._input_tokens(log)  # UTF-16 text is text
    placeholder = "<training_log workload/sm_0123456789abcdef_2024-01-01_ab12cd34>"
    for message in (f"load < 0 in column 'Jane Doe' (>= 0 expected) in {placeholder}", "value <Jane Doe>"):
        out = _run._redact_input_content(message, [log], {})
        assert "Jane Doe" not in out
    assert placeholder in _run._redact_input_content(f"in {placeholder}: no column 'Jane Doe'", [log], {})
    binary = tmp_path / "x.nii.gz"
    binary.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4096)  # 1 MiB: only its head is read
    assert len(_run._input_tokens(binary)) < 20000
