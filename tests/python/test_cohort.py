"""sportsmed.cohort: a synthetic study end to end on Dask (LocalCluster and a separately started
scheduler + 2 workers), resuming after SIGKILL, a corrupt file as one failure row, the squad report
in headless Chromium, the knee MRI steps (seg -> thickness, T2) and their dependencies. References:
each step recomputed by the library's own functions outside the pipeline, the phantom's known T2
and label map, SHA-256 / HMAC-SHA256 from hashlib/hmac, the HDF5 table read back against the CSV.

The study's knees are small phantoms (60 mm field of view at 1.5 mm): the shipped model segments
at 1 mm, 60³ voxels in about a second on one thread, where the default 84 mm takes ~5 s; the seg
step runs without test-time mirroring (the cohort's default)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sportsmed
import sportsmed.imaging  # noqa: F401  (the references below call the pillars directly)
import sportsmed.motion  # noqa: F401
import sportsmed.risk  # noqa: F401
from sportsmed import cohort

N_ATHLETES = 2
# 2 drop jumps; seg, thickness (A001 from its label map, A002 from its segmentation) and T2 of 1 knee;
# workload + risk of 1 log
ITEMS = N_ATHLETES * (2 + 3 + 2)
MRI_EXTENT_MM = 60.0


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    manifest = cohort.make_synthetic_study(N_ATHLETES, root, seed=7, corrupt=1, mri_spacing_mm=1.5, days=120,
                                           mri_extent_mm=MRI_EXTENT_MM)
    return manifest


@pytest.fixture(scope="module")
def local_run(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "local"
    summary = cohort.run_cohort(study, out, workers=2)
    return out, summary


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A separately started `dask scheduler` and 2 `dask worker` processes (this venv's Python)."""
    sched_file = tmp_path_factory.mktemp("dask") / "scheduler.json"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        deadline = time.time() + 60
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                           str(sched_file), "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _tables(out: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted((out / "tables").glob("*.csv"))}


def _secret(study: Path) -> bytes:
    return (study.parent / "cohort.secret").read_bytes()


def test_end_to_end_on_a_local_cluster(study, local_run, cluster):
    out, s = local_run
    assert (s.items, s.computed, s.skipped, s.failed) == (ITEMS, ITEMS, 0, 1)
    m = cohort.read_manifest(study)
    secret = _secret(study)
    pseud = {a: "sm_" + hmac.new(secret, a.encode(), hashlib.sha256).hexdigest()[:16] for a in ("A001", "A002")}
    assert cohort._pseudonymise(["A001"], secret) == [pseud["A001"]]

    # the corrupt drop jump is one failure row with its typed error; the rest ran
    fail = pd.read_csv(out / "tables" / "failures.csv")
    assert len(fail) == 1
    assert (fail.loc[0, "step"], fail.loc[0, "error_type"], fail.loc[0, "athlete"]) == \
        ("motion", "FormatError", pseud["A001"])

    # motion: the library's trial_features on each file, outside the pipeline
    mo = cohort.read_table(out, "motion")
    assert len(mo) == 2 * N_ATHLETES - 1
    jumps = [e for e in m.entries if e.task == "drop_jump"]
    del jumps[1]   # A001's second trial: the corrupt one
    for e in jumps:
        feats = dict((k, v) for k, v, _ in sportsmed.motion.trial_features(
            sportsmed.motion.read_c3d(str(e.path)).trial, "drop_jump", e.body_mass_kg))
        row = mo[(mo["athlete"] == pseud[e.athlete_id]) & (mo["session_date"] == e.session_date)].iloc[0]
        for k in ("jump_height_m", "left_peak_knee_abduction_deg", "right_peak_vgrf_bw"):
            assert row[k] == pytest.approx(feats[k], rel=1e-12)
        assert row["left_bates_flag"] == float(feats["left_knee_abduction_ic_deg"] > 4.6)

    # MRI: thickness directly, and the map written per item reads back (A001 has a label map)
    mri = cohort.read_table(out, "mri")
    e = next(e for e in m.entries if e.task == "knee_mri" and e.athlete_id == "A001")
    assert not any(e.task == "knee_mri" and e.athlete_id == "A002" for e in m.entries)
    img = sportsmed.imaging.read_image(str(e.path))
    ref = sportsmed.imaging.cartilage_thickness(img.array, img.geometry.spacing, 1, 5, img.geometry)
    row = mri[mri["athlete"] == pseud["A001"]].iloc[0]
    assert row["labels_source"] == "label map"
    assert row["thickness_mean_mm"] == pytest.approx(float(np.mean(ref["thickness_mm"])), rel=1e-12)
    tmap = sportsmed.imaging.read_image(str(out / row["thickness_nifti"]))
    np.testing.assert_allclose(tmap.array, ref["map"].astype(np.float32))
    _check_knee_mri(out, m, pseud)

    # workload and risk: the risk pillar on the log, the model predicting directly
    wl = cohort.read_table(out, "workload")
    rk = cohort.read_table(out, "risk")
    log = next(e for e in m.entries if e.task == "training_log" and e.athlete_id == "A001").path
    df = sportsmed.risk.with_features(sportsmed.risk.complete_days(sportsmed.risk.read_table(log), "zero"))
    w = wl[wl["athlete"] == pseud["A001"]]
    np.testing.assert_allclose(w["ewma_acwr"].to_numpy(), df["ewma_acwr"].to_numpy(), rtol=1e-12)
    model = sportsmed.risk.RiskModel.load(m.risk_model)
    np.testing.assert_allclose(rk[rk["athlete"] == pseud["A001"]]["risk"].to_numpy(), model.predict(df),
                               rtol=1e-12)

    # HDF5 holds the same table as the CSV
    for step, csv in (("motion", mo), ("workload", wl)):
        h5 = cohort.read_h5_table(out / "tables" / f"{step}.h5")
        assert list(h5.columns) == list(csv.columns)
        num = [c for c in h5.columns if h5[c].dtype.kind == "f"]
        assert len(num) > 5
        # CSV text loses the last digit now and then; HDF5 keeps the doubles
        np.testing.assert_allclose(h5[num].to_numpy(float), csv[num].to_numpy(float), rtol=1e-13)
        assert list(h5["item"]) == list(csv["item"])

    # run manifest: version, input hashes (hashlib), one entry per item; no athlete id in any output
    run = json.loads((out / "run.json").read_text())
    assert run["sportsmed_version"] == sportsmed.__version__ and run["state"] == "complete"
    sha = {hashlib.sha256(e.path.read_bytes()).hexdigest() for e in m.entries}
    # every input, and the segmentation that the thickness of the knee without a label map reads
    segs = cohort.read_table(out, "seg")
    seg_a002 = hashlib.sha256((out / segs[segs["athlete"] == pseud["A002"]]["labels_nifti"].iloc[0]).read_bytes())
    assert {i["input_sha256"] for i in run["items"]} == sha | {seg_a002.hexdigest()}
    _assert_no_identity(out, study)

    # a re-run skips every finished item (the failure is retried); nothing else is recomputed
    before = {p: p.stat().st_mtime_ns for p in (out / "items").rglob("*.json")}
    s2 = cohort.run_cohort(study, out, scheduler=cluster)
    assert (s2.computed, s2.skipped, s2.failed) == (1, ITEMS - 1, 1)
    changed = [p for p, t in before.items() if p.stat().st_mtime_ns != t]
    assert len(changed) == 1 and "motion" in changed[0].parts


def _assert_no_identity(out: Path, study: Path) -> None:
    """No athlete id or input path in any output file: text, HDF5, NIfTI headers (gunzipped)."""
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".csv", ".json", ".h5", ".gz"}
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for secret in (b"A001", b"A002", str(study.parent).encode()):
            assert secret not in data, (path, secret)


def _check_knee_mri(out: Path, m, pseud: dict) -> None:
    """seg, thickness from the segmentation and T2 against the library called directly and the
    phantom's truth (its label map, its T2 per tissue)."""
    from sportsmed import imaging, seg

    knee = {(e.athlete_id, e.task): e.path for e in m.entries if e.task.startswith("knee_")}
    segs = cohort.read_table(out, "seg")
    model = seg.load_model(seg.default_model_path())
    names = seg.model_spec(model)["labels"]
    # A002: the knee whose thickness and T2 read its segmentation; by default the shipped pair, as
    # mri segment runs it
    row = segs[segs["athlete"] == pseud["A002"]].iloc[0]
    assert row["model"] == "knee_unet.pt" and row["context_model"] == "knee_context.pt"
    assert row["context_weight"] == 0.5
    assert "the model's sidecar: trained on synthetic phantom anatomy only" in row["warnings"]
    img = imaging.read_image(str(knee[("A002", "knee_image")]))
    ref, _ = seg.segment(model, img.fdata().astype(np.float32), geometry=img.geometry,
                         context_model=seg.load_model(seg.default_context_model_path()))
    got = imaging.read_image(str(out / row["labels_nifti"]))
    assert got.geometry.same_grid(img.geometry, 1e-6)
    np.testing.assert_array_equal(got.array, ref)
    assert imaging.read_label_names(out / row["labels_nifti"]) == dict(enumerate(names))
    vol = imaging.label_volumes_mm3(ref, img.geometry.spacing)
    for k in range(1, len(names)):
        assert row[f"{names[k]}_volume_mm3"] == pytest.approx(vol[k], rel=1e-12)
    # the phantom's own labels: the model finds femur and femoral cartilage
    truth = seg.remap_pymskt(imaging.read_image(str(knee[("A002", "knee_image")].with_name("knee_labels.nii.gz")))
                             .array)
    dice = seg.dice_per_class(ref, truth, len(names))
    assert dice[1] > 0.95 and dice[4] > 0.75, dice   # 1.5 mm voxels: thin cartilage, coarse edges

    # A002 has no label map: its thickness comes from its segmentation, as the library gives it directly
    mri = cohort.read_table(out, "mri")
    row = mri[mri["athlete"] == pseud["A002"]].iloc[0]
    assert row["labels_source"] == "segmentation"
    seg_row = segs[segs["athlete"] == pseud["A002"]].iloc[0]
    labels = imaging.read_image(str(out / seg_row["labels_nifti"]))
    ref = imaging.cartilage_thickness(labels.array, labels.geometry.spacing, names.index("femoral_cartilage"),
                                      names.index("femur"), labels.geometry)
    assert row["thickness_mean_mm"] == pytest.approx(float(np.mean(ref["thickness_mm"])), rel=1e-12)
    assert np.isfinite(row["tibial_medial_mean_mm"]) and np.isfinite(row["femoral_lateral_central_mean_mm"])

    # T2: fit_t2 directly over the labels brought onto the (cropped) multi-echo grid; the phantom's T2
    t2 = cohort.read_table(out, "t2")
    te = json.loads(knee[("A001", "knee_t2")].with_name("knee_mese.json").read_text())["EchoTimes_ms"]
    for aid, lab_path, cart in (("A001", knee[("A001", "knee_mri")], {1: "femoral_cartilage",
                                                                     2: "medial_tibial_cartilage",
                                                                     3: "lateral_tibial_cartilage",
                                                                     4: "patellar_cartilage"}),
                                ("A002", out / seg_row["labels_nifti"], {4: "femoral_cartilage",
                                                                         5: "tibial_cartilage",
                                                                         6: "patellar_cartilage"})):
        row = t2[t2["athlete"] == pseud[aid]].iloc[0]
        assert row["labels_source"] == ("label map" if aid == "A001" else "segmentation")
        mese = imaging.read_image(str(knee[(aid, "knee_t2")]))
        lab = imaging.read_image(str(lab_path))
        assert not lab.geometry.same_grid(mese.geometry, 1e-3)   # the series is cropped: labels are resampled
        on = imaging.resample_labels(lab.array, lab.geometry, mese.geometry)
        fit = imaging.fit_t2(mese.fdata(), te, np.isin(on, list(cart)))
        ok = (fit["status"] == 0) & np.isfinite(fit["t2_ms"])
        for k, name in cart.items():
            v = fit["t2_ms"][(on == k) & ok]
            assert row[f"{name}_t2_mean_ms"] == pytest.approx(float(v.mean()), rel=1e-12)
            assert row[f"{name}_t2_median_ms"] == pytest.approx(float(np.median(v)), rel=1e-12)
            assert row[f"{name}_t2_voxels"] == v.size
        # the phantom's tissue T2 (femoral cartilage 35 ms, patellar 40 ms), up to partial volume
        assert row["femoral_cartilage_t2_median_ms"] == pytest.approx(35.0, abs=2.0)
        assert row["patellar_cartilage_t2_median_ms"] == pytest.approx(40.0, abs=2.0)
        tmap = imaging.read_image(str(out / row["t2_nifti"]))
        assert tmap.geometry.same_grid(mese.geometry, 1e-6)
        np.testing.assert_allclose(tmap.array, np.where(ok, fit["t2_ms"], 0).astype(np.float32))


def test_killed_run_resumes_without_recomputing_finished_items(study, local_run, cluster, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sportsmed", "cohort", "run", str(study), "-o", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if len(list((out / "items").glob("*/*.json"))) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.killpg(proc.pid, signal.SIGKILL)   # the CLI and its LocalCluster's worker processes
    finally:
        proc.wait(timeout=30)
    done = {}
    for p in (out / "items").glob("*/*.json"):
        rec = json.loads(p.read_text())
        done[rec["item"]] = rec
    assert 3 <= len(done) < ITEMS, "the kill came too late to test resuming"
    assert json.loads((out / "run.json").read_text())["state"] == "running"

    # resumed on the other cluster: the records, not the cluster, carry what is done
    r = subprocess.run(cmd + ["--strict", "--scheduler", cluster], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr          # --strict: the corrupt file's failure row
    assert "Traceback" not in r.stderr
    run = json.loads((out / "run.json").read_text())
    by_item = {i["item"]: i for i in run["items"]}
    for item, rec in done.items():
        if rec["status"] == "ok":
            assert by_item[item]["computed_in_this_run"] is False
            assert by_item[item]["computed_at"] == rec["computed_at"]
    ok_before = sum(r["status"] == "ok" for r in done.values())
    assert run["summary"]["skipped"] == ok_before
    assert run["summary"]["computed"] == ITEMS - ok_before
    assert _tables(out) == _tables(local_run[0])   # the same tables as the uninterrupted run


def test_existing_scheduler_and_two_workers_give_identical_tables(study, local_run, cluster, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("SPORTSMED_DASK_SCHEDULER", cluster)
    out = tmp_path / "cluster"
    s = cohort.run_cohort(study, out)
    assert s.scheduler == cluster and s.computed == ITEMS
    assert _tables(out) == _tables(local_run[0])
    for step in ("motion", "seg", "mri", "t2", "workload", "risk"):
        a = cohort.read_h5_table(out / "tables" / f"{step}.h5")
        b = cohort.read_h5_table(local_run[0] / "tables" / f"{step}.h5")
        pd.testing.assert_frame_equal(a, b)


def test_squad_report_opens_in_headless_chromium(local_run, tmp_path):
    from browser import chromium_or_skip, open_page

    chromium_or_skip()
    out, _ = local_run
    html = tmp_path / "squad.html"
    from sportsmed.cli import main

    assert main(["cohort", "report", str(out), "-o", str(html)]) == 0
    page = open_page(html)
    assert page.console_errors == [] and page.failed_requests == []
    assert len(page.images) >= 4 and all(i.loaded and i.width > 0 for i in page.images)
    titles = [t for tag, t in page.headings if tag == "h2"]
    assert titles[:4] == ["Availability", "Injury risk: each athlete, its trend and flags",
                          "Screening across the squad: who changed since the last screening",
                          "Knee MRI: cartilage thickness and T2 per athlete"]
    # Embedded figures are base64 payloads, where any 4-character id turns up by chance (about
    # one page in twenty): the identities are searched for in everything else.
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", html.read_text())
    assert "base64," in text and "A001" not in text and "A002" not in text
    # the screening table's change equals the motion table's, computed here
    mo = cohort.read_table(out, "motion")
    mo["peak"] = mo[["left_peak_knee_abduction_deg", "right_peak_knee_abduction_deg"]].max(axis=1)
    two = mo.groupby("athlete").filter(lambda g: len(g) == 2).sort_values("session_date")
    for a, g in two.groupby("athlete"):
        assert f"{g['peak'].iloc[1] - g['peak'].iloc[0]:.1f}" in text
    # the knee MRI table: each athlete's thickness and femoral T2 as the mri and t2 tables hold them
    mri, t2 = cohort.read_table(out, "mri").set_index("athlete"), cohort.read_table(out, "t2").set_index("athlete")
    mri_section = text[text.index("Knee MRI: cartilage thickness"):text.index("Study tables")]
    for a in t2.index:
        assert f"{mri.loc[a, 'thickness_mean_mm']:.2f}" in mri_section
        assert f"{t2.loc[a, 'femoral_cartilage_t2_median_ms']:.2f}" in mri_section
    assert "segmentation" in mri_section and "label map" in mri_section


def test_manifest_errors_name_the_file_and_line(tmp_path, capsys):
    bad = tmp_path / "m.csv"
    bad.write_text("athlete_id,session_date,task,path\nX1,2025-01-01,drop_jump,a.c3d\nX2,2025-01-01,squat,b.c3d\n")
    with pytest.raises(sportsmed.InvalidArgument, match=r"m\.csv, line 3': task 'squat'"):
        cohort.read_manifest(bad)
    from sportsmed.cli import main

    assert main(["cohort", "run", str(bad), "-o", str(tmp_path / "r")]) == 1
    assert "line 3" in capsys.readouterr().err


def test_seg_context_options_are_checked(study, tmp_path, capsys):
    from sportsmed.cli import main

    out = tmp_path / "r"
    assert main(["cohort", "run", str(study), "-o", str(out), "--steps", "seg", "--seg-context", "c.pt",
                 "--seg-no-context"]) == 1
    assert "--seg-context and --seg-no-context" in capsys.readouterr().err
    assert main(["cohort", "run", str(study), "-o", str(out), "--steps", "seg", "--seg-context-weight", "1.5"]) == 1
    err = capsys.readouterr().err
    assert "seg_context_weight must be in [0, 1], got 1.5" in err and "Traceback" not in err
    assert main(["cohort", "run", str(study), "-o", str(out), "--steps", "seg", "--seg-context",
                 str(tmp_path / "missing.pt")]) == 1
    err = capsys.readouterr().err
    assert "cannot read the context model" in err and "missing.pt" in err and "Traceback" not in err


def test_secret_inside_the_output_folder_is_refused(study, tmp_path):
    out = tmp_path / "r"
    with pytest.raises(sportsmed.InvalidArgument, match="lies inside"):
        cohort.run_cohort(study, out, secret=out / "key")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SPORTSMED_EXTENDED_TESTS") != "1",
                    reason="the 200-athlete run takes ~20 min on 2 cores and ~1.6 GB (SPORTSMED_EXTENDED_TESTS=1)")
def test_two_hundred_athletes_end_to_end(tmp_path):
    manifest = cohort.make_synthetic_study(200, tmp_path / "study", seed=0, corrupt=1)
    s = cohort.run_cohort(manifest, tmp_path / "results")
    # per athlete: 2 drop jumps, seg + thickness + T2 of one knee, workload + risk of one log
    assert (s.items, s.computed, s.failed) == (1400, 1400, 1)
    assert len(cohort.read_table(tmp_path / "results", "motion")) == 399
    mri = cohort.read_table(tmp_path / "results", "mri")
    assert len(mri) == 200 and (mri["labels_source"] == "segmentation").sum() == 100
    assert len(cohort.read_table(tmp_path / "results", "seg")) == 200
    assert len(cohort.read_table(tmp_path / "results", "t2")) == 200


def test_dynamics_step_on_real_files_and_a_refusal(shared_data, cluster, tmp_path):
    """The opt-in dynamics step on Vicon files (peaks as inverse_dynamics gives them directly);
    a file it cannot process is a typed failure row, the other item still runs."""
    pig = shared_data("motion/c3d/PlugInC3D.c3d")
    jump = shared_data("motion/c3d/Sample_Jump2.c3d")
    m = tmp_path / "m.csv"
    m.write_text("athlete_id,session_date,task,path,body_mass_kg\n"
                 f"P1,2020-01-01,drop_jump,{pig},66.2\nP2,2020-01-01,drop_jump,{jump},\n")
    out = tmp_path / "r"
    s = cohort.run_cohort(m, out, steps=["dynamics"], scheduler=cluster, secret=tmp_path / "key")
    assert (s.computed, s.failed) == (2, 1)
    assert s.failures[0]["error_type"] == "InvalidArgument" and "Sample_Jump2" not in s.failures[0]["error"]
    df = cohort.read_table(out, "dynamics")
    ref = sportsmed.motion.inverse_dynamics(pig, body_mass_kg=66.2)
    for col in ("LKneeMomentNorm_X", "RHipMomentNorm_Y"):
        assert df.loc[0, f"{col}_max"] == pytest.approx(np.nanmax(ref[col].to_numpy()), rel=1e-12)
        assert df.loc[0, f"{col}_min"] == pytest.approx(np.nanmin(ref[col].to_numpy()), rel=1e-12)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SPORTSMED_EXTENDED_TESTS") != "1",
                    reason="spawns process pools (SPORTSMED_EXTENDED_TESTS=1)")
def test_synthetic_study_is_deterministic_whatever_the_worker_count(tmp_path):
    def digests(root):
        return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
                if p.is_file()}

    for name, workers in (("a", 1), ("b", 2)):
        cohort.make_synthetic_study(2, tmp_path / name, seed=5, corrupt=1, days=30, mri_spacing_mm=2.0,
                                    workers=workers)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_changed_parameter_recomputes_only_the_steps_that_use_it(study, local_run, cluster, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(local_run[0], out)
    s = cohort.run_cohort(study, out, scheduler=cluster, steps=["motion", "workload"],
                          params={"bates_threshold_deg": 1.0})
    # motion items depend on the threshold (all recomputed, the corrupt one fails again); workload does not
    assert (s.computed, s.skipped, s.failed) == (2 * N_ATHLETES, N_ATHLETES, 1)
    mo = cohort.read_table(out, "motion")
    assert (mo["left_bates_flag"] == (mo["left_knee_abduction_ic_deg"] > 1.0).astype(float)).all()
    s = cohort.run_cohort(study, out, scheduler=cluster, steps=["workload"], force=True)
    assert (s.computed, s.skipped) == (N_ATHLETES, 0)


def test_changed_segmentation_recomputes_what_reads_it(study, local_run, cluster, tmp_path):
    """seg -> thickness, T2: a seg parameter that leaves the labels as they were recomputes the
    seg items only; another model (other labels) recomputes the thickness and T2 of the knee
    that has no label map, and not those of the knee that has one."""
    import shutil

    from sportsmed import imaging, seg

    out = tmp_path / "copy"
    shutil.copytree(local_run[0], out)
    pseud = dict(zip(("A001", "A002"), cohort._pseudonymise(["A001", "A002"], _secret(study))))

    def labels_sha() -> dict:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / "arrays" / "seg").glob("*.nii.gz")}

    def recomputed() -> set:
        run = json.loads((out / "run.json").read_text())
        who = {v: k for k, v in pseud.items()}
        return {(i["step"], who[i["item"].split("/")[1][:19]]) for i in run["items"] if i["computed_in_this_run"]}

    before = labels_sha()
    t2_before = cohort.read_table(out, "t2").set_index("athlete")
    # keep-largest: new seg keys; a label map it leaves as it was recomputes nothing that reads it
    s = cohort.run_cohort(study, out, scheduler=cluster, steps=["seg", "mri", "t2"], params={"seg_keep_largest": True})
    after = labels_sha()
    changed = {a for a, p in pseud.items() for k in before if k.startswith(p) and after[k] != before[k]}
    assert changed != {"A001", "A002"}   # one at least is unchanged (keep-largest removed nothing there)
    downstream = {("mri", "A002"), ("t2", "A002")} if "A002" in changed else set()
    assert recomputed() == {("seg", "A001"), ("seg", "A002")} | downstream
    assert (s.computed, s.skipped) == (2 + len(downstream), 4 - len(downstream))

    # the model alone (no context model): new seg keys, the label maps of the library called so
    s = cohort.run_cohort(study, out, scheduler=cluster, steps=["seg"], params={"seg_context": "none"})
    assert recomputed() == {("seg", "A001"), ("seg", "A002")}
    segs = cohort.read_table(out, "seg").set_index("athlete")
    assert (segs["context_model"].fillna("") == "").all()
    alone = imaging.read_image(str(out / segs.loc[pseud["A002"], "labels_nifti"]))
    m = cohort.read_manifest(study)
    knee = next(e.path for e in m.entries if e.athlete_id == "A002" and e.task == "knee_image")
    img = imaging.read_image(str(knee))
    ref, _ = seg.segment(seg.load_model(seg.default_model_path()), img.fdata().astype(np.float32),
                         geometry=img.geometry)
    np.testing.assert_array_equal(alone.array, ref)

    other = tmp_path / "untrained.pt"
    seg.create_model(seg.model_spec(seg.load_model(seg.default_model_path())), seed=1).save(other)
    s = cohort.run_cohort(study, out, scheduler=cluster, steps=["seg", "mri", "t2"], params={"seg_model": str(other)})
    after = labels_sha()
    assert after.keys() == before.keys() and all(after[k] != before[k] for k in before)
    assert recomputed() == {("seg", "A001"), ("seg", "A002"), ("mri", "A002"), ("t2", "A002")}
    assert s.skipped == 2   # A001's thickness and T2 read its label map

    # what was recomputed reads the new segmentation
    segs = cohort.read_table(out, "seg").set_index("athlete")
    labels = imaging.read_image(str(out / segs.loc[pseud["A002"], "labels_nifti"]))
    t2 = cohort.read_table(out, "t2").set_index("athlete")
    n = int((labels.array == 4).sum())
    assert t2.loc[pseud["A002"], "femoral_cartilage_t2_voxels"] != t2_before.loc[pseud["A002"],
                                                                                "femoral_cartilage_t2_voxels"]
    assert 0 < t2.loc[pseud["A002"], "femoral_cartilage_t2_voxels"] <= n
    assert t2.loc[pseud["A001"], "femoral_cartilage_t2_voxels"] == t2_before.loc[pseud["A001"],
                                                                                "femoral_cartilage_t2_voxels"]
    mri = cohort.read_table(out, "mri").set_index("athlete")
    ref = imaging.cartilage_thickness(labels.array, labels.geometry.spacing, 4, 1, labels.geometry)
    assert mri.loc[pseud["A002"], "thickness_mean_mm"] == pytest.approx(float(np.mean(ref["thickness_mm"])),
                                                                        rel=1e-12)


def test_bad_knee_inputs_are_typed_failure_rows(study, cluster, tmp_path):
    """A 3-D image given as a multi-echo series (no echo times) and a 4-D series given as the
    image to segment: one typed failure row each, the thickness waiting on the failed
    segmentation an UpstreamFailed row; the session with a label map still gets its thickness."""
    import shutil

    src = study.parent / "A001"
    for name in ("knee_labels.nii.gz", "knee_labels.labels.json", "knee_image.nii.gz", "knee_mese.nii.gz"):
        shutil.copy(src / name, tmp_path / name)
    m = tmp_path / "m.csv"
    m.write_text("athlete_id,session_date,task,path,knee_side\n"
                 "P1,2020-01-01,knee_mri,knee_labels.nii.gz,left\n"
                 "P1,2020-01-01,knee_t2,knee_image.nii.gz,left\n"
                 "P2,2020-01-01,knee_image,knee_mese.nii.gz,left\n")
    out = tmp_path / "r"
    s = cohort.run_cohort(m, out, steps=["mri", "t2"], scheduler=cluster, secret=tmp_path / "key")
    fail = pd.read_csv(out / "tables" / "failures.csv").set_index("step")
    assert s.items == 4 and s.failed == 3 and sorted(fail.index) == ["mri", "seg", "t2"]   # seg added for P2
    assert fail.loc["t2", "error_type"] == "InvalidArgument" and "no echo times" in fail.loc["t2", "error"]
    assert fail.loc["seg", "error_type"] == "InvalidArgument" and "4-D image" in fail.loc["seg", "error"]
    assert fail.loc["mri", "error_type"] == "UpstreamFailed"
    for text in fail["error"]:
        assert ".nii.gz" not in text and "P1" not in text and "P2" not in text and str(tmp_path) not in text
    mri = cohort.read_table(out, "mri")
    assert list(mri["labels_source"]) == ["label map"]


def test_synthetic_study_cli_writes_what_the_mri_steps_need(tmp_path):
    from sportsmed import imaging
    from sportsmed.cli import main

    assert main(["cohort", "synthetic", "-n", "1", "--labelled", "0", "--mri-spacing", "2", "--mri-extent", "60",
                 "--days", "30", "--workers", "1", "-o", str(tmp_path / "s")]) == 0
    m = cohort.read_manifest(tmp_path / "s" / "manifest.csv")
    assert sorted(e.task for e in m.entries) == ["drop_jump", "drop_jump", "knee_image", "knee_t2", "training_log"]
    assert {e.knee_side for e in m.entries if e.task.startswith("knee")} == {"left"}
    folder = tmp_path / "s" / "A001"
    rng = np.random.default_rng(0)   # the generator's draws for seed 0, n = 1: mass, valgus, change, shape
    rng.normal(size=2), rng.random(1), rng.choice([-5.0, 5.0], 1), rng.normal(size=1)
    ph = imaging.make_knee_phantom(spacing_mm=(2.0,) * 3, extent_mm=(60.0,) * 3, seed=0,
                                   shape=int(rng.integers(1, 10_000, 1)[0]))
    labels = imaging.read_image(str(folder / "knee_labels.nii.gz"))
    np.testing.assert_array_equal(labels.array, ph["labels"])
    mese = imaging.read_image(str(folder / "knee_mese.nii.gz"))
    assert json.loads((folder / "knee_mese.json").read_text())["EchoTimes_ms"] == list(ph["te_ms"])
    # the series is the phantom's, cropped around the cartilage: its voxels are the phantom's at their place
    lo = np.rint(ph["geometry"].to_voxel(mese.geometry.origin)).astype(int).ravel()
    n = mese.array.shape[:3]
    np.testing.assert_allclose(mese.array, ph["echoes"][lo[0]:lo[0] + n[0], lo[1]:lo[1] + n[1], lo[2]:lo[2] + n[2]],
                               rtol=1e-6)


def test_t2_step_on_a_real_dicom_multi_echo_series(shared_data, cluster, tmp_path):
    """The t2 step on the real MESE DICOM folder (a folder input, hashed file by file) with a
    label map drawn on its grid: per-region T2 as fit_t2 gives it on the series read directly."""
    from sportsmed import imaging

    folder = shared_data("mri/mese_t2")
    series = imaging.read_dicom_series(str(folder), "")
    g = series["geometry"]
    labels = np.zeros(tuple(g.shape), np.uint8)
    labels[108:148, 108:148, 10:14] = 1
    labels[60:80, 108:148, 10:14] = 2
    imaging.write_image(imaging.Image(labels, g), str(tmp_path / "roi.nii.gz"))
    imaging.write_label_names(tmp_path / "roi.nii.gz", {0: "background", 1: "femoral_cartilage",
                                                        2: "patellar_cartilage"})
    m = tmp_path / "m.csv"
    m.write_text(f"athlete_id,session_date,task,path\nR1,2021-03-04,knee_mri,{tmp_path / 'roi.nii.gz'}\n"
                 f"R1,2021-03-04,knee_t2,{folder}\n")
    out = tmp_path / "r"
    s = cohort.run_cohort(m, out, steps=["t2"], scheduler=cluster, secret=tmp_path / "key")
    assert (s.computed, s.failed) == (1, 0)
    row = cohort.read_table(out, "t2").iloc[0]
    fit = imaging.fit_t2(np.asarray(series["array"], dtype=float), list(series["te_ms"]), labels > 0)
    ok = (fit["status"] == 0) & np.isfinite(fit["t2_ms"])
    for k, name in ((1, "femoral_cartilage"), (2, "patellar_cartilage")):
        v = fit["t2_ms"][(labels == k) & ok]
        assert row[f"{name}_t2_median_ms"] == pytest.approx(float(np.median(v)), rel=1e-12)
        assert row[f"{name}_t2_mean_ms"] == pytest.approx(float(v.mean()), rel=1e-12)
    assert row["echoes"] == 8 and row["te_first_ms"] == pytest.approx(series["te_ms"][0])
    h = hashlib.sha256()
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(f"{p.relative_to(folder).as_posix()}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())
    run = json.loads((out / "run.json").read_text())
    assert run["items"][0]["input_sha256"] == h.hexdigest()
