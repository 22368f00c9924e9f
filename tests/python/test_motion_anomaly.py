"""Unusual-movement detection against the athlete's own baseline (issue 16, part 2)."""

import json

import numpy as np
import pytest

import sportsmed
from sportsmed.motion import anomaly as A

ADDBIO = "motion/addbiomechanics"


def _synthetic_cycles(n, seed=0, shift_deg=0.0, channels=("knee_angle_r", "knee_angle_l")):
    """Sinusoidal 'knee' cycles with random amplitude/phase jitter (2 latent factors)."""
    rng = np.random.default_rng(seed)
    ph = np.linspace(0, 2 * np.pi, A.POINTS)
    data = []
    for _ in range(n):
        amp, lag = 40 + 3 * rng.standard_normal(), 0.1 * rng.standard_normal()
        x = amp * np.sin(ph + lag) + 0.3 * rng.standard_normal(A.POINTS)
        data.append([x + shift_deg, x + 0.3 * rng.standard_normal(A.POINTS)])
    meta = [{"source": f"s{seed}", "side": "both", "start_s": float(i), "end_s": i + 0.9} for i in range(n)]
    return A.Cycles(np.asarray(data), list(channels), meta)


def test_too_few_cycles_refused_with_the_number_needed():
    with pytest.raises(sportsmed.InvalidArgument, match=r"5 cycles given, a baseline needs at least 8"):
        A.fit_baseline(_synthetic_cycles(5))


def test_too_few_cycles_refused_by_both_scorers_and_the_cli(shared_data, tmp_path):
    with pytest.raises(sportsmed.InvalidArgument, match=r"7 cycles given, a baseline needs at least 8;"):
        A.fit_baseline(_synthetic_cycles(7), scorer="ae")
    # one drop-jump landing: the command says how many cycles it found and how many it needs
    import subprocess
    import sys

    d = shared_data(ADDBIO)
    r = subprocess.run([sys.executable, "-m", "sportsmed", "motion", "baseline", str(d / "DJ1.trc"), "--ik",
                        str(d / "DJ1_ik.mot"), "--task", "dropjump", "-o", str(tmp_path / "a.baseline")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "1 cycles given, a baseline needs at least 8" in r.stderr and not (tmp_path / "a.baseline").exists()


def test_baseline_deterministic_and_round_trip(tmp_path):
    c = _synthetic_cycles(30, seed=1)
    b1, b2 = A.fit_baseline(c, "gait"), A.fit_baseline(c, "gait")
    assert json.dumps(b1.to_dict()) == json.dumps(b2.to_dict())
    path = tmp_path / "athlete.baseline"
    b1.save(path)
    b3 = A.load_baseline(path)
    new = _synthetic_cycles(5, seed=2)
    np.testing.assert_allclose(b3.score(new).score.to_numpy(), b1.score(new).score.to_numpy(), rtol=1e-12)
    assert b3.to_dict()["format"] == A.FORMAT and b3.to_dict()["version"] == A.FORMAT_VERSION


def test_version_1_baseline_still_read(tmp_path):
    # a file of the first format version (pca only, no asymmetry null) scores as before
    b = A.fit_baseline(_synthetic_cycles(30, seed=1))
    doc = json.loads(json.dumps(b.to_dict()))
    doc["version"] = 1
    del doc["null"]["asym"]
    (tmp_path / "v1.baseline").write_text(json.dumps(doc))
    new = _synthetic_cycles(5, seed=2)
    old = A.load_baseline(tmp_path / "v1.baseline").score(new)
    np.testing.assert_array_equal(old.score.to_numpy(), b.score(new).score.to_numpy())
    assert "asym_score" not in old.columns


def test_bad_file_is_format_error_naming_the_node(tmp_path):
    b = A.fit_baseline(_synthetic_cycles(30, seed=1))
    doc = b.to_dict()
    doc = json.loads(json.dumps(doc))
    doc["scorer"]["eigenvalues"][0] = "x"
    p = tmp_path / "bad.baseline"
    p.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="eigenvalues"):
        A.load_baseline(p)
    doc = json.loads(json.dumps(b.to_dict()))
    doc["phase_sd_deg"] = doc["phase_sd_deg"][:1]
    p.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="phase_sd_deg"):
        A.load_baseline(p)
    p.write_text("{")
    with pytest.raises(sportsmed.FormatError):
        A.load_baseline(p)


def test_offset_is_located_and_scored_above_normal():
    b = A.fit_baseline(_synthetic_cycles(40, seed=3))
    normal = b.score(_synthetic_cycles(20, seed=4))
    # a 6 deg offset of the right knee during 20-40 % of the cycle only
    odd = _synthetic_cycles(20, seed=5)
    odd.data[:, 0, 20:41] += 6.0
    shifted = b.score(odd)
    assert A.auc(normal.score, shifted.score) > 0.99
    assert (shifted.worst_channel == "knee_angle_r").mean() >= 0.8
    z = b.zmap(odd).mean(axis=0)  # channels × phase, averaged over the 20 odd cycles
    assert z[0, 22:39].min() > 1.2 and np.abs(z[0, 45:]).max() < 1.0 and np.abs(z[1]).max() < 1.0
    # the right-left asymmetry of the knee moves by about 6 deg × 21/101
    assert shifted.asym_knee_angle_deg.mean() - normal.asym_knee_angle_deg.mean() == pytest.approx(6 * 21 / 101, abs=0.3)
    # calibrated: normal cycles spread over the null, shifted ones beyond it
    assert normal.percentile.median() < 90 and shifted.percentile.min() >= 95


def _cycles(shared_data, name, task, unit):
    d = shared_data(ADDBIO)
    return A.segment_trial(d / f"{name}.trc", d / f"{name}_ik.mot", task, unit)


def _join(cs):
    out = cs[0]
    for c in cs[1:]:
        out = out + c
    return out


def test_squat_repetitions_found(shared_data):
    reps = _cycles(shared_data, "squats1", "squat", "cycle")
    assert len(reps) == 5
    assert all(1.5 < m["end_s"] - m["start_s"] < 3.5 for m in reps.meta)


def test_gait_strikes_from_heel_markers(shared_data):
    # walking1 holds one stride: the left heel strikes, then the right one step later
    d = shared_data(ADDBIO)
    t, _, _, _ = A.signals_from_ik(d / "walking1_ik.mot")
    right, left, _, _, _ = A._trc_heights(d / "walking1.trc", t)
    r, l = t[A._heel_strikes(right, 100.0)], t[A._heel_strikes(left, 100.0)]
    assert len(r) == len(l) == 1 and 0.45 < r[0] - l[0] < 0.75  # one step, 0.59 s
    assert len(_cycles(shared_data, "walking1", "gait", "cycle")) == 0  # no full stride of one foot


# One normal trial per task held out (the last); altered trials must rank above it.
# Walking and drop-jump trials hold one repetition each, squats1 five: every baseline here
# holds fewer than the 8 cycles a baseline needs, so these run on 0.4 s windows
# (unit="window"); components at 90 % of the variance, never tuned per task.
ACCEPT = {
    "gait": (["walking1"], ["walking2"], ["walkingTI1", "walkingTO1", "walkingTS1"]),
    "dropjump": (["DJ1"], ["DJ2"], ["DJAsym2"]),
}


@pytest.mark.parametrize("task", [
    "gait",
    pytest.param("dropjump", marks=pytest.mark.xfail(strict=True, reason=(
        "the held-out normal landing DJ2 differs from the baseline's only landing DJ1 more than the altered "
        "DJAsym2 does, over the landings' ground contact found from the foot markers: RMS 8.5 deg (hip flexion "
        "15-17 deg deeper) vs 5.0 deg; AUC 0.07 (PCA score), 0.04 (asymmetry score); 0.65 with DJ2 as the "
        "baseline and DJ1 held out. One normal landing cannot show the athlete's landing-to-landing variability"))),
])
def test_addbiomechanics_auc(shared_data, task):
    base_trials, held_out, altered = ACCEPT[task]
    base = A.fit_baseline(_join([_cycles(shared_data, n, task, "window") for n in base_trials]), task, unit="window")
    neg = base.score(_join([_cycles(shared_data, n, task, "window") for n in held_out]))
    pos = base.score(_join([_cycles(shared_data, n, task, "window") for n in altered]))
    value = A.auc(neg.score, pos.score)
    print(f"{task}: AUC {value:.3f}, asymmetry score {A.auc(neg.asym_score, pos.asym_score):.3f} "
          f"({len(pos)} altered vs {len(neg)} held-out windows, {base.n_components} PCs)")
    assert value >= 0.90


def _plate_events(fz, t, threshold_n=20.0):
    """Force-plate contact and take-off: Fz crossing threshold_n above the plate's unloaded
    level (its 5th percentile), linearly interpolated between samples."""
    f = np.asarray(fz, float) - np.percentile(fz, 5) - threshold_n
    up = np.flatnonzero((f[:-1] <= 0) & (f[1:] > 0))
    down = np.flatnonzero((f[:-1] > 0) & (f[1:] <= 0))
    at = lambda i: t[i] + (t[i + 1] - t[i]) * (-f[i]) / (f[i + 1] - f[i])  # noqa: E731
    return [at(i) for i in up], [at(i) for i in down]


def test_foot_contacts_match_force_plates(shared_data):
    # Sample_Jump2.c3d: a jump with each foot on its own force plate (120 Hz markers, 600 Hz
    # plates). Contacts from the toe markers alone vs the plates' 20 N thresholds.
    from sportsmed import motion

    c3d = motion.read_c3d(str(shared_data("motion/c3d/Sample_Jump2.c3d")))
    trial = c3d.trial
    ev = A.foot_contacts(trial)
    plates = motion.force_plates(c3d)
    errors = []
    for side in "RL":
        foot = np.nanmean(np.asarray(trial.marker(ev[side]["marker"])), axis=0)
        k = int(np.argmin([np.linalg.norm(np.asarray(p["corners"]).mean(0)[:2] - foot[:2]) for p in plates]))
        fz = np.asarray(plates[k]["force"])[:, 2]
        ta = trial.times_s[0] + np.arange(fz.size) / trial.analog_rate_hz
        on, off = _plate_events(fz, ta)
        assert len(ev[side]["contact_s"]) == 1 and len(ev[side]["take_off_s"]) == 1
        errors += [ev[side]["contact_s"][0] - on[-1], ev[side]["take_off_s"][0] - off[0]]
    errors_ms = 1000 * np.asarray(errors)
    print("contact / take-off error R, L (ms):", np.round(errors_ms, 1))
    assert np.abs(errors_ms).max() < 35.0  # about 4 marker frames
    assert np.abs(errors_ms).mean() < 20.0


def test_drop_jump_landing_from_foot_markers(shared_data):
    # The landing found from the foot markers holds the deepest point of the landing (the IK
    # pelvis height minimum) and lasts as long as a drop-jump ground contact (0.4-0.9 s).
    d = shared_data(ADDBIO)
    for name in ("DJ1", "DJ2", "DJAsym2"):
        ic, to = A.landing_of(A.foot_contacts(d / f"{name}.trc"))
        t, _, _, py = A.signals_from_ik(d / f"{name}_ik.mot")
        assert 0.4 < to - ic < 0.9
        assert ic < t[int(np.argmin(py))] < to
        c = _cycles(shared_data, name, "dropjump", "cycle")
        assert len(c) == 1 and c.meta[0]["start_s"] == pytest.approx(ic) and c.meta[0]["end_s"] <= to + 1e-9
        w = _cycles(shared_data, name, "dropjump", "window")
        assert w.meta[0]["start_s"] == pytest.approx(ic) and w.meta[-1]["end_s"] <= to + 1e-9
        assert "warning" not in c.meta[0]
        ev = A.foot_contacts(d / f"{name}.trc")
        assert c.meta[0]["contact_asym_ms"] == pytest.approx(1000 * (ev["R"]["contact_s"][0] - ev["L"]["contact_s"][0]))
        assert abs(c.meta[0]["take_off_asym_ms"]) < 100  # both feet leave within 0.1 s
    # joint angles that end before the take-off: the cycle says so
    t, x, ch, _ = A.signals_from_ik(d / "DJ1_ik.mot")
    ic, to = A.landing_of(A.foot_contacts(d / "DJ1.trc"))
    keep = t <= to - 0.1
    c = A.segment(t[keep], x[keep], ch, "dropjump", landing=(ic, to))
    assert c.meta[0]["end_s"] == pytest.approx(t[keep][-1]) and "cover only" in c.meta[0]["warning"]


def test_addbiomechanics_auc_squat(shared_data):
    # squats1 is the only normal squat trial: its last 30 % is held out
    c = _cycles(shared_data, "squats1", "squat", "window")
    split = 0.7 * c.meta[-1]["end_s"]
    base = A.fit_baseline(c.subset([m["end_s"] <= split for m in c.meta]), "squat", unit="window")
    neg = base.score(c.subset([m["start_s"] >= split for m in c.meta]))
    pos = base.score(_cycles(shared_data, "squatsAsym1", "squat", "window"))
    value = A.auc(neg.score, pos.score)
    print(f"squat: AUC {value:.3f} ({len(pos)} vs {len(neg)} windows, {base.n_components} PCs)")
    assert value >= 0.90
    # the asymmetric squats are asymmetric at the hip
    assert pos.asym_hip_rotation_z.abs().median() > neg.asym_hip_rotation_z.abs().median()


PIG = [f"{j}_{c}" for j in ("hip", "knee", "ankle") for c in ("flexion", "abduction", "rotation")]


def _synthetic_landings(seeds, valgus_deg):
    """Landing cycles (initial contact to take-off) of the synthetic athlete, Plug-in Gait
    angles from its markers (noise and dropouts seeded), both sides."""
    from sportsmed import motion

    out = None
    for seed in seeds:
        s = motion.synthesize_drop_jump(seed=seed, knee_valgus_peak_deg=valgus_deg)
        t = s.trial
        x = np.hstack([motion.model_angles(t, s.model, "R"), motion.model_angles(t, s.model, "L")])
        c = A.cycles_from_signals(np.asarray(t.times_s), x, [f"{n}_r" for n in PIG] + [f"{n}_l" for n in PIG],
                                  [(s.initial_contact_s, s.take_off_s)], source=f"seed{seed}")
        out = c if out is None else out + c
    return out


def test_synthetic_athlete_baseline_refused_as_noise():
    # The synthetic athlete's seed varies only marker noise and dropouts, not movement: its
    # landings have no low-dimensional structure, 90 % of the variance takes about 2/3 as many
    # components as cycles, and a baseline is refused (issue 16's power curves need a
    # synthetic athlete with movement variability; not yet measured).
    with pytest.raises(sportsmed.InvalidArgument, match=r"48 cycles given, \d+ needed \(2 × the \d+ components"):
        A.fit_baseline(_synthetic_landings(range(1, 49), 8.0), "dropjump")


# --------------------------------------------------------------------------- the deep scorer

def test_ae_baseline_deterministic_saved_and_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "AE_ADAPT_STEPS", 20)  # the mechanics, not the fit, are checked here
    c = _synthetic_cycles(16, seed=1)
    b1 = A.fit_baseline(c, "gait", scorer="ae", seed=3, pretrain=False)
    b2 = A.fit_baseline(c, "gait", scorer="ae", seed=3, pretrain=False)
    assert b1.scorer == "ae" and b1.null["score"].tolist() == b2.null["score"].tolist()
    new = _synthetic_cycles(6, seed=2)
    s1 = b1.score(new)
    assert s1.score.tolist() == b2.score(new).score.tolist()
    # the score: squared reconstruction error over the baseline's residual variance per phase
    ae = b1.autoencoder
    X = new.data.reshape(len(new), -1)
    var = np.asarray(b1.to_dict()["scorer"]["residual_var_deg2"]).reshape(-1)
    assert var.min() >= 1.0  # floored at sd_floor_deg²
    np.testing.assert_allclose(s1.score, ((ae.reconstruct(X) - X) ** 2 / var).mean(1), rtol=1e-9)
    # the network's own score: squared error of the channel-standardised cycle
    sd = np.repeat(np.asarray(ae.channel_sd), A.POINTS)
    np.testing.assert_allclose(ae.score(X), (((ae.reconstruct(X) - X) / sd) ** 2).mean(1), rtol=1e-9)
    path = tmp_path / "athlete.baseline"
    b1.save(path)
    assert (tmp_path / "athlete.baseline.ae.pt").exists() and (tmp_path / "athlete.baseline.ae.json").exists()
    b3 = A.load_baseline(path)
    np.testing.assert_array_equal(b3.score(new).score.to_numpy(), s1.score.to_numpy())
    # a network that is not the one the baseline was saved with is refused
    other = A.fit_baseline(c, "gait", scorer="ae", seed=4, pretrain=False)
    other.save(tmp_path / "other.baseline")
    for ext in (".ae.pt", ".ae.json"):
        (tmp_path / f"athlete.baseline{ext}").write_bytes((tmp_path / f"other.baseline{ext}").read_bytes())
    with pytest.raises(sportsmed.FormatError, match="mixed-up"):
        A.load_baseline(path)
    # damaged weights: the sidecar's CRC-32 catches them before LibTorch reads them
    w = bytearray((tmp_path / "other.baseline.ae.pt").read_bytes())
    w[len(w) // 2] ^= 0xFF
    (tmp_path / "other.baseline.ae.pt").write_bytes(bytes(w))
    with pytest.raises(sportsmed.FormatError, match="CRC-32"):
        A.load_baseline(tmp_path / "other.baseline")


@pytest.mark.slow
def test_ae_scores_an_offset_above_normal():
    # pre-trained on the synthetic athlete, adapted to 40 normal cycles
    b = A.fit_baseline(_synthetic_cycles(40, seed=3), scorer="ae")
    assert b.to_dict()["scorer"]["pretrain"] is True
    normal = b.score(_synthetic_cycles(20, seed=4))
    odd = _synthetic_cycles(20, seed=5)
    odd.data[:, 0, 20:41] += 6.0
    shifted = b.score(odd)
    assert A.auc(normal.score, shifted.score) > 0.95
    assert normal.percentile.median() < 90 and shifted.percentile.median() >= 95


def test_synthetic_cycles_vary_and_map_channels():
    c = A.synthetic_cycles(["knee_angle_r", "knee_angle_l", "hip_flexion_r"], 12, seed=0)
    assert c.data.shape == (12, 3, A.POINTS)
    # a landing flexes the knee by tens of degrees; the cycles differ from one another
    assert np.all(c.data[:, 0].max(1) - c.data[:, 0].min(1) > 30)
    assert np.std(c.data[:, 0].max(1)) > 2.0
    np.testing.assert_array_equal(c.data, A.synthetic_cycles(["knee_angle_r", "knee_angle_l", "hip_flexion_r"], 12,
                                                             seed=0).data)
    with pytest.raises(sportsmed.InvalidArgument, match="no channel"):
        A.synthetic_cycles(["elbow_flexion_r"], 2)


@pytest.mark.slow
@pytest.mark.parametrize("task", [
    pytest.param("gait", marks=pytest.mark.xfail(strict=True, reason="measured AUC 0.85 (ae) vs 0.955 (pca)")),
    pytest.param("dropjump", marks=pytest.mark.xfail(strict=True, reason=(
        "measured AUC 0.36 (ae; pca 0.07): the held-out normal landing is further from the one baseline "
        "landing than the altered one"))),
])
def test_addbiomechanics_auc_ae(shared_data, task):
    base_trials, held_out, altered = ACCEPT[task]
    base = A.fit_baseline(_join([_cycles(shared_data, n, task, "window") for n in base_trials]), task, unit="window",
                          scorer="ae")
    neg = base.score(_join([_cycles(shared_data, n, task, "window") for n in held_out]))
    pos = base.score(_join([_cycles(shared_data, n, task, "window") for n in altered]))
    value = A.auc(neg.score, pos.score)
    print(f"{task} (ae): AUC {value:.3f}")
    assert value >= 0.90
