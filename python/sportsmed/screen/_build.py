"""Builds the screening report (see :mod:`sportsmed.screen`)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from .._pillars import available_pillars
from ..report import Report
from . import criteria as C
from ._plots import drop_jump_figure, regional_thickness_figure, workload_figure

PathLike = Union[str, "os.PathLike[str]"]

#: Drop-jump features: key (without side) → (plain label with unit, plausible low, high, why).
_VGRF_WHY = "a landing from a box loads each leg with about 1–6 body weights"
FEATURES = {
    "initial_contact_s": ("Initial contact (s from the start)", 0.0, 600.0, "a time within the recording"),
    "take_off_s": ("Take-off (s from the start)", 0.0, 600.0, "a time within the recording"),
    "contact_time_s": ("Ground contact time (s)", 0.1, 1.0,
                       "a drop-jump landing lasts about 0.2–0.8 s; outside 0.1–1 s it is another task "
                       "(walking, a stance on the plates) or a mis-detected contact"),
    "flight_time_s": ("Flight time (s)", 0.05, 1.2, "jumps of 0.3 cm to 1.8 m"),
    "jump_height_m": ("Jump height (m)", 0.01, 1.2, "beyond 1.2 m is no vertical jump"),
    "reactive_strength_index": ("Reactive strength index (m/s)", 0.01, 4.0, "jump height over contact time"),
    "landing_force_symmetry": ("Landing force ratio, left/right", 0.2, 5.0,
                               "one foot barely loaded its plate: plate assignment"),
    "knee_ankle_separation_ratio_ic": ("Knee-to-ankle separation ratio at initial contact", 0.3, 3.0,
                                       "knees and ankles are of similar width apart"),
    "knee_ankle_separation_ratio_peak_flexion": ("Knee-to-ankle separation ratio at peak knee flexion", 0.3, 3.0,
                                                 "knees and ankles are of similar width apart"),
    "knee_flexion_ic_deg": ("Knee flexion at initial contact, {side} (°)", -20.0, 100.0, "the human knee's range"),
    "peak_knee_flexion_deg": ("Peak knee flexion, {side} (°)", 10.0, 160.0, "the human knee's range"),
    "knee_flexion_rom_deg": ("Knee flexion excursion, {side} (°)", 5.0, 150.0,
                             "a drop landing bends the knee by tens of degrees"),
    "knee_abduction_ic_deg": ("Knee abduction at initial contact, {side} (°)", -30.0, 30.0,
                              "beyond ±30° the model or marker labels are wrong, not the knee"),
    "peak_knee_abduction_deg": ("Peak knee abduction, {side} (°)", -30.0, 45.0,
                                "beyond this the model or marker labels are wrong, not the knee"),
    "peak_vgrf_bw": ("Peak vertical ground reaction force, {side} (body weights)", 0.3, 10.0, _VGRF_WHY),
    "loading_rate_bw_per_s": ("Loading rate, {side} (body weights/s)", 1.0, 1000.0, _VGRF_WHY),
    "fppa_ic_deg": ("Frontal-plane projection angle at initial contact, {side} (°)", -45.0, 45.0,
                    "the knee's frontal-plane range"),
    "peak_fppa_deg": ("Peak frontal-plane projection angle, {side} (°)", -45.0, 60.0,
                      "the knee's frontal-plane range"),
    "knee_valgus_motion_cm": ("Knee valgus motion, {side} (cm)", 0.2, 25.0,
                              "a drop landing moves the knee centre medially by 1–10 cm in the population "
                              "Myer 2010 measured; under 2 mm the knee centre was not tracked through the landing"),
    "tibia_length_cm": ("Tibia length, {side} (cm)", 25.0, 55.0, "adult shank lengths"),
    "peak_knee_abduction_moment": ("Peak knee abduction moment (external), {side} (N·m/kg)", -1.0, 5.0,
                                   "landing knee moments stay within ±5 N·m/kg"),
    "peak_knee_abduction_moment_nm": ("Peak knee abduction moment (external), {side} (N·m)", -100.0, 300.0,
                                      "landing knee moments stay within a few hundred N·m"),
    "time_to_peak_knee_abduction_moment_s": ("Time to peak knee abduction moment, {side} (s)", 0.0, 2.0,
                                             "within the landing contact"),
    "peak_knee_extensor_moment": ("Peak knee extensor moment, {side} (N·m/kg)", 0.0, 6.0,
                                  "landing knee moments stay within 6 N·m/kg"),
    "knee_abduction_moment_symmetry": ("Knee abduction moment ratio, left/right", 0.05, 20.0,
                                       "a ratio of two landing moments"),
    "knee_extensor_moment_symmetry": ("Knee extensor moment ratio, left/right", 0.2, 5.0,
                                      "a ratio of two landing moments"),
}


def feature_label(key: str, unit: str = "") -> tuple[str, Optional[tuple]]:
    """(plain label with unit, (low, high, why) or None) of a drop-jump feature key."""
    side = None
    for s in ("left", "right"):
        if key.startswith(s + "_"):
            side, key = s, key[len(s) + 1:]
    if key in FEATURES:
        label, lo, hi, why = FEATURES[key]
        return label.format(side=side or ""), (lo, hi, why)
    text = key.replace("_", " ")
    text = text[0].upper() + text[1:] if text else text
    return (f"{text}, {side}" if side else text) + (f" ({unit})" if unit else ""), None


class NotAssessed(Exception):
    """An input cannot give a section: the reason is shown on its flags and section."""


@dataclass
class ScreenInputs:
    """What a screening is built from. All empty: the embedded synthetic athlete.

    Parameters
    ----------
    trials : drop-jump trials (.c3d with force plates, or .trc with ``grf``)
    grf : OpenSim GRF .mot files, one per .trc trial in order (or one for all)
    grf_loads : optional OpenSim ExternalLoads XML saying which foot each force acts on
    mri_labels : knee label map (NIfTI, NRRD, DICOM folder), names from its sidecar or ``label_names``
    mri_image : optional image of the knee on the same grid (shown with the label outlines)
    label_names : JSON or colour table naming the map's labels
    log : training log CSV (one row per athlete-day: athlete, date, daily_load)
    log_athlete_column : the log's athlete column
    missing_days : what an absent day of the log means: "zero" or "missing" (asked only
        when the log has gaps)
    athlete : the athlete's name (title) and, in a log of several athletes, whose rows
        (a name the log does not hold leaves the training load not assessed)
    mass_kg : body mass (kg) for the force features; else the C3D's PROCESSING:Bodymass
    as_of : the day the training load is graded on (``YYYY-MM-DD``, strictly; default: the
        log's last day); later rows are ignored, and a log that ends more than
        :data:`STALE_DAYS` days before it is not graded
    """

    trials: Sequence[PathLike] = ()
    grf: Sequence[PathLike] = ()
    grf_loads: Optional[PathLike] = None
    mri_labels: Optional[PathLike] = None
    mri_image: Optional[PathLike] = None
    label_names: Optional[PathLike] = None
    log: Optional[PathLike] = None
    log_athlete_column: str = "athlete"
    missing_days: Optional[str] = None
    athlete: Optional[str] = None
    mass_kg: Optional[float] = None
    as_of: Optional[str] = None

    @property
    def synthetic(self) -> bool:
        return not (self.trials or self.mri_labels or self.mri_image or self.log)


@dataclass
class _Part:
    """What one input contributed: flags for the verdict and a function that writes its
    evidence section."""

    flags: list = field(default_factory=list)
    evidence: Optional[Callable[[Report], None]] = None
    qa: list = field(default_factory=list)  # (title, [notes]) for the appendix


def _error_text(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


# --------------------------------------------------------------------------- drop jump
def _drop_jump_synthetic(progress) -> dict:
    from .. import motion

    progress(0.0, "drop jump: synthesize")
    res = motion.drop_jump_analysis(seed=1)
    s = res["synthetic"]
    t = s.trial
    feats = [(f, float(v), u) for f, v, u in zip(res["features"]["feature"], res["features"]["value"],
                                                 res["features"]["unit"])]
    truth_l, truth_r = s.true_angles_left, s.true_angles_right
    rmse = {side: float(np.sqrt(np.mean((res[f"angles_{side}"].to_numpy() - truth) ** 2)))
            for side, truth in (("left", truth_l), ("right", truth_r))}
    return {"name": "synthetic drop jump (seed 1)", "features": feats, "warnings": [],
            "kinetic_reason": "the synthetic athlete's trial carries the vertical force of each foot only (no force "
                              "plate centre of pressure), so no inverse dynamics: no knee moments",
            "mass_kg": float(s.body_mass_kg),
            "curves": {"time_s": res["angles_left"].index.to_numpy(),
                       "flexion": (res["angles_left"]["knee_flexion_deg"].to_numpy(),
                                   res["angles_right"]["knee_flexion_deg"].to_numpy()),
                       "abduction": (-res["angles_left"]["knee_abduction_deg"].to_numpy(),
                                     -res["angles_right"]["knee_abduction_deg"].to_numpy()),
                       "force_time_s": np.arange(t.analogs.shape[0]) / t.analog_rate_hz,
                       "fz": (t.analogs[:, 0], t.analogs[:, 1])},
            "qa": {"Knee, hip and ankle angle recovery RMSE vs the prescribed angles, left (°)": rmse["left"],
                   "Knee, hip and ankle angle recovery RMSE vs the prescribed angles, right (°)": rmse["right"]}}


def _curves_from_trial(trial) -> Optional[dict]:
    """Knee angle curves (Plug-in Gait output points) and foot forces, when the trial has them."""
    try:
        if not (trial.has_marker("LKneeAngles") and trial.has_marker("RKneeAngles")):
            return None
        kl, kr = trial.marker("LKneeAngles"), trial.marker("RKneeAngles")
        labels = list(trial.analog_labels)
        fz = None
        if "Fz_L" in labels and "Fz_R" in labels:
            fz = (trial.analogs[:, labels.index("Fz_L")], trial.analogs[:, labels.index("Fz_R")])
        # from the first sample, as the features time the contact (initial_contact_s, take_off_s)
        t = np.arange(trial.n_frames) / trial.point_rate_hz
        return {"time_s": t, "flexion": (kl[:, 0], kr[:, 0]), "abduction": (-kl[:, 1], -kr[:, 1]),
                "force_time_s": (np.arange(trial.analogs.shape[0]) / trial.analog_rate_hz) if fz else None,
                "fz": fz}
    except Exception:  # curves are illustration only; the features carry the numbers
        return None


def _drop_jump_file(path: Path, grf: Optional[Path], grf_loads: Optional[Path], mass_kg: Optional[float]) -> dict:
    from .. import Error, motion

    suffix = path.suffix.lower()
    notes = []
    try:
        if suffix == ".c3d":
            c3d = motion.read_c3d(path)
            trial = c3d.trial
            notes += list(c3d.warnings)
            if mass_kg is None:
                mass_kg = motion.body_mass_from_c3d(c3d)
                if mass_kg is not None:
                    notes.append(f"body mass {mass_kg:g} kg from the file's PROCESSING:Bodymass")
        elif suffix == ".trc":
            trial = motion.read_trc(path)
            if grf is None:
                raise NotAssessed(
                    f"'{path.name}' is a TRC: markers only, no forces. The drop-jump measures are timed by the "
                    "ground contact, and force-free contact detection from foot markers is not available in "
                    "sportsmed; give the trial's OpenSim GRF .mot (--grf FILE [--grf-loads XML]).")
            trial = motion.attach_grf_mot(trial, grf, external_loads=grf_loads)
        else:
            raise NotAssessed(f"'{path.name}': a drop-jump trial must be a .c3d or a .trc (with --grf)")
        notes += list(trial.warnings)
        if mass_kg is None:
            raise NotAssessed(f"'{path.name}': the body mass is needed for the force measures (--body-mass KG); "
                              "the file does not hold it")
        angle_reason = ""
        try:
            feats, warns = motion.trial_features(trial, "drop_jump", float(mass_kg), with_warnings=True)
        except Error as exc:
            if "needs the angle points" not in str(exc):
                raise
            # No joint angles in the file: the force measures do not need them.
            angle_reason = f"'{path.name}': {_error_text(exc)}"
            feats, warns = _force_only_features(trial, float(mass_kg)), [
                "no joint angles in the trial: force measures only (" + _error_text(exc) + ")"]
        kinetic_reason = ""
        if suffix == ".c3d":
            extra, kinetic_reason = _knee_moments(c3d, float(mass_kg), path.name)
            feats = list(feats) + extra
        else:
            kinetic_reason = (f"'{path.name}': the knee abduction moment needs inverse dynamics, which the screen "
                              "runs on a C3D (Plug-in Gait segment axes or CGM1 markers, force plates); a TRC has "
                              "no segment model")
    except NotAssessed:
        raise
    except (Error, ValueError, KeyError, RuntimeError, OSError) as exc:
        hint = ""
        if "no take-off after the first contact" in str(exc):
            hint = (" — a drop jump lands on the plates from a box and takes off again; here the first contact "
                    "lasts to the end of the recording (a jump that starts on the plates, or no rebound recorded)")
        raise NotAssessed(f"'{path.name}': {_error_text(exc)}{hint}") from None
    return {"name": path.name, "features": [(f, float(v), u) for f, v, u in feats],
            "warnings": notes + list(warns), "mass_kg": float(mass_kg), "curves": _curves_from_trial(trial),
            "qa": {}, "angle_reason": angle_reason, "kinetic_reason": kinetic_reason}


def _knee_moments(c3d, mass_kg: float, name: str) -> tuple:
    """Knee moment features of a drop jump from inverse dynamics (:func:`motion.inverse_dynamics`,
    :func:`motion.kinetic_features`), with the peak external abduction moment also in N·m
    (× body mass) for Myer 2011's threshold; or ([], the reason) when they cannot be had."""
    from .. import Error, motion

    try:
        dyn = motion.inverse_dynamics(c3d, body_mass_kg=mass_kg)
        feats, units, warns = motion.kinetic_features(dyn, "drop_jump")
    except (Error, ValueError, KeyError, RuntimeError) as exc:
        return [], f"'{name}': inverse dynamics: {_error_text(exc)}"
    out = [(k, float(v), units.get(k, "")) for k, v in feats.items()]
    for side in ("left", "right"):
        v = float(feats.get(f"{side}_peak_knee_abduction_moment", math.nan))
        out.append((f"{side}_peak_knee_abduction_moment_nm", v * mass_kg, "N·m"))
    reason = "; ".join(warns) if warns and not any(math.isfinite(v) for _, v, _ in out) else ""
    return out, (f"'{name}': " + reason) if reason else ""


#: Drop-jump features computed from the vertical ground reaction forces alone.
FORCE_FEATURES = ("initial_contact_s", "take_off_s", "contact_time_s", "flight_time_s", "jump_height_m",
                  "reactive_strength_index", "left_peak_vgrf_bw", "left_loading_rate_bw_per_s",
                  "right_peak_vgrf_bw", "right_loading_rate_bw_per_s", "landing_force_symmetry")


def _foot_marker(trial, names: Sequence[str]):
    for name in names:
        if trial.has_marker(name):
            x = trial.marker(name, 0) if len(trial.marker_indices(name)) > 1 else trial.marker(name)
            if np.isfinite(x).any():
                return name, np.asarray(x, dtype=float)
    return None, None


def _foot_forces(trial) -> tuple:
    """Vertical ground reaction (N, up) under each foot: channels Fz_L/Fz_R, else each plate
    given to the foot whose ankle marker is nearest (horizontally) to the centre of pressure
    when the plate is first loaded — the rule of the compiled drop-jump features."""
    from .. import InvalidArgument

    labels = list(trial.analog_labels)
    if "Fz_L" in labels and "Fz_R" in labels:
        return trial.analogs[:, labels.index("Fz_L")], trial.analogs[:, labels.index("Fz_R")]
    if len(trial.force_plates) < 2:
        raise InvalidArgument(f"the trial has {len(trial.force_plates)} force plate(s); a drop jump needs one per foot")
    names = {"L": ("LAJC", "LANK", "LHEE"), "R": ("RAJC", "RANK", "RHEE")}
    ankles = {side: _foot_marker(trial, n) for side, n in names.items()}
    if any(m is None for m, _ in ankles.values()):
        raise InvalidArgument("no ankle marker (LAJC/LANK/LHEE and RAJC/RANK/RHEE) to give the plates to the feet")
    ratio = trial.analog_rate_hz / trial.point_rate_hz
    out = {"L": np.zeros(trial.analogs.shape[0]), "R": np.zeros(trial.analogs.shape[0])}
    for plate in trial.force_plates:
        fz = np.asarray(plate.force, dtype=float)[:, 2].copy()
        if abs(np.nanmin(fz)) > abs(np.nanmax(fz)):
            fz = -fz
        cop = np.asarray(plate.cop, dtype=float)
        loaded = np.flatnonzero((fz >= 20.0) & np.isfinite(cop).all(axis=1))
        if loaded.size == 0:
            continue
        first = int(loaded[0])
        frame = min(trial.n_frames - 1, int(first / ratio))
        dist = {side: float(np.hypot(*(x[frame, :2] - cop[first, :2]))) for side, (_, x) in ankles.items()}
        side = min((d, s) for s, d in dist.items() if math.isfinite(d))[1]
        out[side] += np.nan_to_num(fz)
    return out["L"], out["R"]


def _force_only_features(trial, mass_kg: float) -> list:
    """The drop-jump force features (contact, flight, jump height, peak force and loading
    rate per foot, symmetry) of a trial without joint angles."""
    from .. import motion

    fl, fr = _foot_forces(trial)
    zeros = np.zeros((trial.n_frames, 9))  # angles unused by the force features kept below
    feats = motion.drop_jump_features(zeros, zeros, trial.point_rate_hz, fl, fr, trial.analog_rate_hz, mass_kg)
    return [(f, v, u) for f, v, u in feats if f in FORCE_FEATURES]


def _drop_jump_part(inputs: ScreenInputs, progress) -> _Part:
    criteria = C.drop_jump_criteria()
    if "motion" not in available_pillars():
        return _not_assessed_part(criteria, "the motion pillar is not part of this build", "Drop vertical jump")
    if inputs.synthetic:
        trials = [_drop_jump_synthetic(progress)]
    elif not inputs.trials:
        return _not_assessed_part(criteria, "no drop-jump trial was given (--trial FILE)", "Drop vertical jump")
    else:
        trials, reasons = [], []
        grfs = [Path(g) for g in inputs.grf]
        trc_k = 0
        for k, p in enumerate(inputs.trials):
            p = Path(p)
            grf = None
            if p.suffix.lower() == ".trc" and grfs:
                grf = grfs[trc_k] if trc_k < len(grfs) else (grfs[0] if len(grfs) == 1 else None)
                trc_k += 1
            progress(k / max(1, len(inputs.trials)), f"drop jump: {p.name}")
            try:
                trials.append(_drop_jump_file(p, grf, Path(inputs.grf_loads) if inputs.grf_loads else None,
                                              inputs.mass_kg))
            except NotAssessed as exc:
                reasons.append(str(exc))
        if not trials:
            return _not_assessed_part(criteria, " ".join(reasons), "Drop vertical jump")
        seen: dict = {}
        for t in trials:  # table columns are named by trial: the same file twice gets "(2)"
            seen[t["name"]] = seen.get(t["name"], 0) + 1
            if seen[t["name"]] > 1:
                t["name"] = f"{t['name']} ({seen[t['name']]})"
        for r in reasons:
            trials[0]["warnings"].append("not used: " + r)

    # The verdict grades the mean over trials of each feature.
    keys = [f for f, _, _ in trials[0]["features"]]
    units = {f: u for t in trials for f, _, u in t["features"]}
    for t in trials[1:]:
        keys += [f for f, _, _ in t["features"] if f not in keys]
    per_trial = [{f: v for f, v, _ in t["features"]} for t in trials]
    mean = {k: float(np.nanmean([d.get(k, math.nan) for d in per_trial]))
            if any(math.isfinite(d.get(k, math.nan)) for d in per_trial) else math.nan for k in keys}

    def value(key: str) -> float:
        return mean.get(key, math.nan)

    angle_reason = next((t["angle_reason"] for t in trials if t.get("angle_reason")), "")
    kinetic_reason = next((t["kinetic_reason"] for t in trials if t.get("kinetic_reason")), "")

    flags = drop_jump_flags(mean, angle_reason, kinetic_reason)
    rows, classes = [], []
    for k in keys:
        label, rng = feature_label(k, units.get(k, ""))
        row = {"Measure": label}
        for i, d in enumerate(per_trial):
            row[trials[i]["name"] if len(trials) > 1 else "Value"] = d.get(k, math.nan)
        if len(trials) > 1:
            row["Mean"] = mean[k]
        check = ""
        if rng is not None:
            lo, hi, why = rng
            row["Plausible range"] = f"{lo:g} to {hi:g}"
            v = mean[k]
            if math.isfinite(v) and not lo <= v <= hi:
                check = f"implausible: {why}"
        else:
            row["Plausible range"] = ""
        row["Check"] = check
        rows.append(row)
        classes.append("implausible" if check else "")
    implausible = [r["Measure"] for r in rows if r["Check"]]

    def evidence(report: Report) -> None:
        sec = report.section("Evidence: drop vertical jump")
        names = ", ".join(t["name"] for t in trials)
        mass = trials[0]["mass_kg"]
        sec.text(f"Trial(s): {names}. Body mass {mass:g} kg. Angles follow Plug-in Gait conventions (valgus "
                 "positive for abduction); the contact is timed by the vertical ground reaction force (20 N).")
        if implausible:
            sec.note("Physically implausible, not graded: " + "; ".join(implausible) +
                     ". Read these rows as a processing problem, not as the athlete's movement.", "warning")
        sec.table(rows, caption="Drop vertical jump measures (Hewett 2005; Myer 2010; Bates 2020); shaded rows "
                                "are outside the plausible range", float_format="{:.3g}", row_classes=classes)
        curves = trials[0]["curves"]
        if curves is not None:
            fig = drop_jump_figure(curves, value("initial_contact_s"), value("take_off_s"))
            sec.figure(fig, caption="Knee flexion and knee abduction (valgus +) of both legs, with the Bates 2020 "
                                    "threshold; vertical ground reaction force of each foot. Dashed: initial "
                                    "contact; dotted: take-off.")

    qa = []
    warn = [w for t in trials for w in t["warnings"]]
    if warn:
        qa.append(("Drop-jump processing notes", warn))
    part = _Part(flags=flags, evidence=evidence, qa=qa)
    part.qa_metrics = trials[0]["qa"] if inputs.synthetic else {}
    part.data = {"trials": [{"name": t["name"], "body_mass_kg": t["mass_kg"],
                             "features": {f: v for f, v, _ in t["features"]},
                             "units": {f: u for f, _, u in t["features"]}, "warnings": t["warnings"]}
                            for t in trials], "mean": mean}
    return part


def _glance_format(flags) -> str:
    """The verdict table's number format: 3 significant digits, or as many as the most
    precise flag shows (its value text has the digits that keep the number and the colour
    in agreement: 1.3049 shows as 1.305, not 1.3, next to "green 0.8–1.3")."""
    import re

    digits = 3
    for f in flags:
        m = re.match(r"\s*[-+]?(\d*)\.?(\d*)", f.value_text or "") if f.status != C.GREY else None
        if m and (m.group(1) or m.group(2)):
            whole, frac = m.group(1).lstrip("0"), m.group(2)
            digits = max(digits, len(whole) + len(frac) if whole else len(frac.lstrip("0")))
    return f"{{:.{digits}g}}"


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " …"


def drop_jump_flags(values: dict, angle_reason: str = "", kinetic_reason: str = "") -> list:
    """The drop-jump flags of a trial's features ({feature: value}, as the motion pillar
    names them): knee abduction at initial contact, peak knee abduction moment, knee
    flexion excursion per leg, and the landing force symmetry (grey when either peak force
    is implausible). ``angle_reason`` and ``kinetic_reason`` explain absent angle and knee
    moment features (``{side}_peak_knee_abduction_moment_nm``, external, N·m)."""
    criteria = C.drop_jump_criteria()

    def value(key: str) -> float:
        v = values.get(key, math.nan)
        return math.nan if v is None else float(v)

    # Every drop-jump measure is timed by the landing contact: an implausible contact grades nothing.
    contact, start = value("contact_time_s"), value("initial_contact_s")
    lo_c, hi_c = FEATURES["contact_time_s"][1:3]
    issue = ""
    if math.isfinite(contact) and not lo_c <= contact <= hi_c:
        issue = (f"the ground contact found lasts {contact:.3g} s, and a drop-jump landing lasts "
                 f"{lo_c:g}–{hi_c:g} s: not a drop landing (another task?) or a mis-detected contact")
    elif math.isfinite(start) and start <= 0.0:
        issue = ("the trial starts in ground contact (loaded at its first sample); a drop jump starts in the air, "
                 "on the way down from the box")
    elif math.isfinite(contact) and not math.isfinite(value("flight_time_s")):
        issue = ("no flight follows the contact: a drop vertical jump rebounds into a maximal jump and lands again "
                 "(another task, or the recording stops before the second landing)")
    if issue:
        return [c.grade(None, issue) for c in criteria]

    flags = []
    by_key = {c.key: c for c in criteria}
    for side in ("left", "right"):
        flags.append(_grade_feature(by_key[f"knee_abduction_ic_{side}"], value(f"{side}_knee_abduction_ic_deg"),
                                    angle_reason or "the trial gives no knee abduction at initial contact"))
    for side in ("left", "right"):
        flags.append(_grade_feature(by_key[f"peak_knee_abduction_moment_{side}"],
                                    value(f"{side}_peak_knee_abduction_moment_nm"),
                                    kinetic_reason or "no knee moments: they need inverse dynamics of a C3D with "
                                                      "force plates (centre of pressure) and a lower-body model"))
    for side in ("left", "right"):
        flags.append(_grade_feature(by_key[f"knee_flexion_excursion_{side}"], value(f"{side}_knee_flexion_rom_deg"),
                                    angle_reason or "the trial gives no knee flexion over the contact"))
    peaks = {side: value(f"{side}_peak_vgrf_bw") for side in ("left", "right")}
    _, (lo, hi, why) = feature_label("left_peak_vgrf_bw")
    bad = [f"{side} {v:.3g} BW" for side, v in peaks.items() if math.isfinite(v) and not lo <= v <= hi]
    if bad:  # a symmetry of implausible forces is no symmetry: never graded
        flags.append(by_key["landing_force_lsi"].grade(
            None, f"the peak forces it compares are implausible ({', '.join(bad)}; expected {lo:g}–{hi:g} BW: "
                  f"{why})"))
    else:
        lsi = C.limb_symmetry_index(peaks["left"], peaks["right"])
        flags.append(by_key["landing_force_lsi"].grade(lsi, "the trial gives no peak force of each foot"))

    return flags


def _grade_feature(criterion: C.Criterion, value: float, missing: str) -> C.Flag:
    return criterion.grade(value if math.isfinite(value) else None, missing)


def _not_assessed_part(criteria: Sequence[C.Criterion], reason: str, title: str) -> _Part:
    def evidence(report: Report) -> None:
        sec = report.section(f"Evidence: {title.lower()[:1] + title[1:]}")
        sec.note(f"Not assessed: {reason}", "warning")

    part = _Part(flags=[c.grade(None, reason) for c in criteria], evidence=evidence)
    part.data = {"not_assessed": reason}
    return part


# --------------------------------------------------------------------------- knee MRI
_STRUCTURES = ("femoral_cartilage", "medial_tibial_cartilage", "lateral_tibial_cartilage", "femur", "tibia")
_PHANTOM_NAMES = {1: "femoral_cartilage", 2: "medial_tibial_cartilage", 3: "lateral_tibial_cartilage",
                  4: "patellar_cartilage", 5: "femur", 6: "tibia", 7: "patella", 8: "fibula",
                  9: "lateral_meniscus", 10: "medial_meniscus"}


def _mri_part(inputs: ScreenInputs, progress) -> _Part:
    if "imaging" not in available_pillars():
        return _not_assessed_part([C.cartilage_region_ratio()], "the imaging pillar is not part of this build",
                                  "Knee MRI")
    from .. import Error
    from .. import imaging as im

    image = None
    mri_notes: list = []
    source = "knee MRI phantom (synthetic, seed 0)"
    if inputs.synthetic:
        progress(0.0, "knee MRI: phantom")
        ph = im.make_knee_phantom(seed=0)
        labels, geometry, names, image = ph["labels"], ph["geometry"], _PHANTOM_NAMES, ph["image"]
    elif inputs.mri_labels is None:
        reason = ("no knee label map was given (--mri-labels FILE); an image alone is not segmented by the "
                  "screen (sportsmed mri segment writes a label map)" if inputs.mri_image else
                  "no knee MRI was given (--mri-labels FILE)")
        return _not_assessed_part([C.cartilage_region_ratio()], reason, "Knee MRI")
    else:
        path = Path(inputs.mri_labels)
        source = path.name
        try:
            img = im.read_image(path)
            labels, geometry = im.as_label_map(img.array, str(path)), img.geometry
            names = im.read_label_mapping(inputs.label_names) if inputs.label_names else im.read_label_names(path)
            if inputs.mri_image is not None:
                pic = im.read_image(inputs.mri_image)
                if tuple(pic.array.shape[:3]) == tuple(labels.shape):
                    image = np.asarray(pic.array, dtype=float)
                    if image.ndim == 4:
                        image = image[..., 0]
                else:
                    mri_notes.append(f"image '{Path(inputs.mri_image).name}' not shown: its grid "
                                     f"{tuple(pic.array.shape[:3])} is not the label map's {tuple(labels.shape)}")
        except (Error, ValueError, OSError) as exc:
            return _not_assessed_part([C.cartilage_region_ratio()], _error_text(exc), "Knee MRI")
    try:
        knee_labels = tuple(im.resolve_label(names, s, s, source) for s in _STRUCTURES)
        progress(0.3, "knee MRI: regional thickness")
        table = im.regional_thickness_table(labels, geometry, knee_labels=knee_labels)
    except (Error, ValueError) as exc:
        return _not_assessed_part([C.cartilage_region_ratio()], _error_text(exc), "Knee MRI")

    # Each region against the mean of its plate (femoral; tibial = medial + lateral).
    rows, worst = [], (math.inf, "")
    spacing = float(min(geometry.spacing))
    plates = {}
    for region, r in table.iterrows():
        plate = "femoral" if int(r["label"]) == knee_labels[0] else "tibial"
        plates.setdefault(plate, []).append((region, r))
    for plate, items in plates.items():
        pts = np.array([float(r["points"]) for _, r in items])
        means = np.array([float(r["mean_mm"]) for _, r in items])
        ok = (pts > 0) & np.isfinite(means)
        plate_mean = float(np.sum(pts[ok] * means[ok]) / np.sum(pts[ok])) if ok.any() else math.nan
        for (region, r), n, m in zip(items, pts, means):
            ratio = 100.0 * m / plate_mean if n > 0 and math.isfinite(m) and plate_mean > 0 else math.nan
            check = ""
            if n > 0 and math.isfinite(m) and m < spacing:
                check = f"implausible: thinner than one voxel ({spacing:.2g} mm)"
            elif n > 0 and math.isfinite(m) and m > 8.0:
                check = "implausible: thicker than any articular cartilage (> 8 mm)"
            rows.append({"Region": str(region).replace("_", " "), "Plate": plate, "Surface points": int(n),
                         "Mean thickness (mm)": m, "SD (mm)": float(r["sd_mm"]),
                         "Plate mean (mm)": plate_mean, "Region / plate mean (%)": ratio, "Check": check})
            if not check and math.isfinite(ratio) and n >= 20 and ratio < worst[0]:
                worst = (ratio, str(region).replace("_", " "))
    if math.isfinite(worst[0]):
        flag = C.cartilage_region_ratio(worst[1]).grade(worst[0])
    else:
        flag = C.cartilage_region_ratio().grade(None, "no cartilage region with at least 20 plausible surface points")
    classes = ["implausible" if r["Check"] else "" for r in rows]

    def evidence(report: Report) -> None:
        sec = report.section("Evidence: knee MRI")
        sec.text(f"Label map: {source} ({labels.shape[0]} × {labels.shape[1]} × {labels.shape[2]} voxels, "
                 f"{' × '.join(f'{s:.3g}' for s in geometry.spacing)} mm). Nearest-surface cartilage thickness "
                 "per region (femoral medial/lateral × anterior/central/posterior about the condyle axis; tibial "
                 "medial/lateral), each compared with the mean of its own plate.")
        sec.table(rows, caption="Regional cartilage thickness of this knee", float_format="{:.3g}",
                  row_classes=classes)
        fig = regional_thickness_figure(rows, image, labels)
        sec.figure(fig, caption="Mean thickness per region (bars: ± SD; line: the plate's mean)"
                   + ("; a sagittal slice of the image with the label outlines" if image is not None else ""))

    part = _Part(flags=[flag], evidence=evidence, qa=[("Knee MRI notes", mri_notes)] if mri_notes else [])
    part.data = {"source": source, "regions": rows, "notes": mri_notes}
    return part


# --------------------------------------------------------------------------- training log
#: a ratio more than this many days older than the day it grades (the log's last day, or
#: --as-of) is not graded: it says nothing of that week's load
STALE_DAYS = 7


def _log_part(inputs: ScreenInputs, progress) -> _Part:
    crit = C.acwr()
    if "risk" not in available_pillars():
        return _not_assessed_part([crit], "the risk pillar is not part of this build", "Training load")
    from .. import Error
    from .. import risk

    if inputs.synthetic:
        progress(0.0, "training load: synthetic squad")
        df = risk.synthetic_cohort(seed=0)
        athlete = "S01"
        df = df[df["athlete"] == athlete].reset_index(drop=True)
        source = "synthetic training log (athlete S01 of the embedded squad)"
    elif inputs.log is None:
        return _not_assessed_part([crit], "no training log was given (--log FILE)", "Training load")
    else:
        path = Path(inputs.log)
        source = path.name
        try:
            df = risk.read_table(path, athlete=inputs.log_athlete_column)
        except (Error, ValueError, OSError) as exc:
            return _not_assessed_part([crit], _error_text(exc), "Training load")
        athletes = list(dict.fromkeys(df["athlete"]))
        shown = ", ".join(map(str, athletes[:8])) + (", ..." if len(athletes) > 8 else "")
        named = [a for a in athletes if inputs.athlete is not None and str(a) == str(inputs.athlete)]
        if named:
            athlete = named[0]
        elif inputs.athlete is not None:
            # never another athlete's rows under this athlete's name
            return _not_assessed_part([crit], f"'{path.name}' has no rows of {inputs.athlete} in its "
                                              f"'{inputs.log_athlete_column}' column (it holds {len(athletes)} "
                                              f"athlete(s): {shown}); check the spelling of --athlete",
                                      "Training load")
        elif len(athletes) == 1:
            athlete = athletes[0]
        else:
            return _not_assessed_part([crit], f"'{path.name}' holds {len(athletes)} athletes ({shown}); say whose "
                                              "rows to use with --athlete NAME", "Training load")
        df = df[df["athlete"] == athlete].reset_index(drop=True)
        if inputs.as_of is not None:
            import pandas as pd

            df = df[df["date"] <= pd.Timestamp(inputs.as_of)].reset_index(drop=True)
            if df.empty:
                return _not_assessed_part([crit], f"'{path.name}' has no day of {athlete} on or before {inputs.as_of}",
                                          "Training load")
        if "daily_load" not in df.columns:
            return _not_assessed_part([crit], f"'{path.name}' has no daily_load column "
                                              f"(columns: {', '.join(map(str, df.columns))})", "Training load")
        days = (df["date"].iloc[-1] - df["date"].iloc[0]).days + 1
        gaps = days - len(df)
        if gaps:
            if inputs.missing_days is None:
                return _not_assessed_part(
                    [crit], f"'{path.name}' has {gaps} absent day(s) for {athlete}; say what an absent day "
                            "means with --missing-days zero (no training) or missing (not recorded)",
                    "Training load")
            df = risk.complete_days(df, policy=inputs.missing_days)
    w = risk.workload(df)
    n_days = len(df)
    # The ratio of the last day that has one (a log often ends with unrecorded days).
    finite = np.flatnonzero(np.isfinite(w["acwr_coupled"].to_numpy(dtype=float)))
    at = int(finite[-1]) if finite.size else n_days - 1
    last = w.iloc[at]
    value = float(last["acwr_coupled"])
    d_last = df["date"].iloc[at]
    stale = (df["date"].iloc[-1] - d_last).days
    # Graded on --as-of when given: a log that ended well before that day says nothing of its
    # load then (the same tolerance as a ratio older than the log's last day).
    log_end = df["date"].iloc[-1]
    after_end = 0
    if inputs.as_of is not None and not inputs.synthetic:
        import pandas as pd

        after_end = max((pd.Timestamp(inputs.as_of) - log_end).days, 0)
    if n_days < 28:
        flag = crit.grade(None, f"the log covers {n_days} days; the chronic load needs 28")
    elif not math.isfinite(value):
        flag = crit.grade(None, "no day of the log has both an acute and a chronic load")
    elif after_end > STALE_DAYS:
        flag = crit.grade(None, f"the log ends {log_end.date()}, {after_end} days before the --as-of date "
                                f"({inputs.as_of}): too old to grade that day's load")
    elif stale > STALE_DAYS:
        flag = crit.grade(None, f"the last ratio is from {d_last.date()}, {stale} days before the log ends "
                                f"({df['date'].iloc[-1].date()}): too old to grade this week's load")
    else:
        flag = crit.grade(value)
    metrics = {
        "Athlete": str(athlete),
        "Days in the log": int(n_days),
        "Last day with a ratio": d_last.date().isoformat(),
        "Last day of the log": df["date"].iloc[-1].date().isoformat(),
        **({"Graded as of (--as-of)": str(inputs.as_of)} if inputs.as_of is not None and not inputs.synthetic
           else {}),
        "Load, last 7 days (AU)": float(last["load_7d"]) if "load_7d" in w.columns else math.nan,
        "Acute load, 7-day mean (AU/day)": float(last["acute_load"]),
        "Chronic load, 28-day mean (AU/day)": float(last["chronic_load"]),
        "Acute:chronic workload ratio (rolling 7/28 d)": value,
        "Acute:chronic workload ratio (EWMA, Williams 2017)": float(last["ewma_acwr"]),
        "Training monotony, 7 days (mean/SD)": float(last["monotony"]),
    }
    if "injury" in df.columns:
        metrics["Injured days in the log"] = int(np.nansum(df["injury"].to_numpy(dtype=float)))

    def evidence(report: Report) -> None:
        sec = report.section("Evidence: training load")
        sec.text(f"Log: {source}. Acute load is the 7-day mean, chronic load the 28-day mean of the daily load "
                 "(arbitrary units, e.g. session-RPE × minutes); every value uses past days only.")
        sec.metrics(metrics, float_format="{:.3g}")
        sec.figure(workload_figure(df, w, days=180),
                   caption="Last 180 days: daily load, acute and chronic loads, and the acute:chronic ratio with "
                           "Gabbett 2016's bands")

    part = _Part(flags=[flag], evidence=evidence)
    part.data = {"source": source, "summary": metrics}
    return part


# --------------------------------------------------------------------------- the report
def build_screen(inputs: Optional[ScreenInputs] = None, progress=None, qa: bool = True,
                 workdir: Optional[PathLike] = None) -> Report:
    """Builds the screening report of ``inputs`` (default: the embedded synthetic athlete).

    Parameters
    ----------
    inputs : what to screen; empty (the default) screens the synthetic athlete
    progress : callback ``f(fraction, stage)``
    qa : for the synthetic athlete, add the checks against its known truth (the demo's
        appendix: angle recovery, phantom thickness, the squad model's evaluation and the
        segmentation model; about a minute)
    workdir : folder for files the appendix writes (default: none written)

    Returns
    -------
    :class:`~sportsmed.report.Report` — ``save(path)`` for the HTML, ``save_json(path)``
    or ``to_json()`` for its twin.
    """
    from .._pillars import PillarNotAvailable

    inputs = inputs or ScreenInputs()
    _check_inputs(inputs)
    cb = progress or (lambda fraction, stage: True)
    if not available_pillars():
        raise PillarNotAvailable("the screening report needs at least one pillar (motion, imaging or risk); none "
                                 "is part of this build (`sportsmed info` lists what is built)")
    who = inputs.athlete or ("synthetic athlete (embedded default data)" if inputs.synthetic else "athlete")
    report = Report(f"Screening report: {who}",
                    "Drop vertical jump, knee MRI and training load graded against published thresholds. "
                    "A screening aid for coaches and clinicians, not a diagnosis.", toc=True)

    def stage(lo: float, hi: float):
        return lambda f, s: cb(lo + (hi - lo) * float(f), s)

    parts = {"Drop vertical jump": _drop_jump_part(inputs, stage(0.0, 0.25)),
             "Knee MRI": _mri_part(inputs, stage(0.25, 0.45)),
             "Training load": _log_part(inputs, stage(0.45, 0.55))}
    flags = [f for p in parts.values() for f in p.flags]
    worst = C.overall(flags)
    verdict = report.section("Verdict")
    counts = {s: sum(f.status == s for f in flags) for s in (C.RED, C.AMBER, C.GREEN, C.GREY)}
    headline = {C.RED: "Action needed: at least one measure is past its published threshold.",
                C.AMBER: "Review: at least one measure is in the caution band.",
                C.GREEN: "No measure past its threshold.",
                C.GREY: "Nothing could be assessed from the inputs given."}[worst]
    verdict.text(f"{headline} {counts[C.RED]} red, {counts[C.AMBER]} amber, {counts[C.GREEN]} green, "
                 f"{counts[C.GREY]} not assessed. Each flag names its threshold and source; grey flags were not "
                 "graded because an input was missing or implausible — they are not a clean bill of health.")
    verdict.table([{"Measure": f.label, "Value": f.value if f.status != C.GREY else None,
                    "Flag": "not assessed" if f.status == C.GREY else f.status,
                    "Source or reason": f.source.split(",")[0] if f.status != C.GREY else _short(f.reason)}
                   for f in flags], caption="At a glance: each measure, its flag and its source (details below)",
                  float_format=_glance_format(flags), row_classes=[f"flag-{f.status}" for f in flags])
    verdict.flags(flags)
    verdict.note("Screening measures separate groups on average but classify individuals poorly (Bahr 2016, Br J "
                 "Sports Med 50:776; Krosshaug et al. 2016, Am J Sports Med 44:874). Use the flags to decide whom "
                 "to look at more closely and what to train, not to predict an injury.")
    for part in parts.values():
        if part.evidence is not None:
            part.evidence(report)

    methods = report.section("Methods and quality assurance")
    methods.text("How the numbers were made, and checks a developer or analyst reads before trusting them. "
                 "Nothing here is needed to act on the verdict.")
    dj = parts["Drop vertical jump"]
    if getattr(dj, "qa_metrics", None):
        methods.metrics(dj.qa_metrics, float_format="{:.3g}")
    for part in parts.values():
        for title, notes in part.qa:
            methods.note(f"{title}: " + "; ".join(notes), "info")
    report.data = {"inputs": _inputs_json(inputs), "overall": worst, "counts": counts,
                   "flags": [f.as_dict() for f in flags],
                   "parts": {k: getattr(p, "data", {}) for k, p in parts.items()}}
    if inputs.synthetic and qa:
        from ..demo import qa_sections
        import tempfile

        with tempfile.TemporaryDirectory(prefix="sportsmed-screen-") as tmp:
            wd = Path(workdir) if workdir is not None else Path(tmp)
            wd.mkdir(parents=True, exist_ok=True)
            qa_sections(report, wd, stage(0.55, 1.0))
    cb(1.0, "done")
    return report


def _check_inputs(inputs: ScreenInputs) -> None:
    """A path that does not exist is the user's typo: an error, not a grey flag."""
    from .. import InvalidArgument, NotFound

    paths = [*inputs.trials, *inputs.grf, inputs.grf_loads, inputs.mri_labels, inputs.mri_image,
             inputs.label_names, inputs.log]
    for p in paths:
        if p is not None and not Path(p).exists():
            raise NotFound(f"screen: input '{os.fspath(p)}' does not exist")
    if inputs.missing_days not in (None, "zero", "missing"):
        raise InvalidArgument(f"screen: missing_days must be 'zero' or 'missing', got {inputs.missing_days!r}")
    if inputs.mass_kg is not None and not (math.isfinite(inputs.mass_kg) and inputs.mass_kg > 0):
        raise InvalidArgument(f"screen: the body mass must be a positive number of kg, got {inputs.mass_kg}")
    if inputs.as_of is not None:
        import datetime
        import re

        # strictly YYYY-MM-DD: "01/02/2024" is January 2nd to some readers, February 1st to others
        try:
            ok = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(inputs.as_of)))
            ok = ok and bool(datetime.date.fromisoformat(str(inputs.as_of)))
        except ValueError:
            ok = False
        if not ok:
            raise InvalidArgument(f"screen: as_of must be an ISO date (YYYY-MM-DD), got {inputs.as_of!r}")


def _inputs_json(inputs: ScreenInputs) -> dict:
    f = lambda p: None if p is None else os.fspath(p)  # noqa: E731
    return {"synthetic": inputs.synthetic, "trials": [os.fspath(p) for p in inputs.trials],
            "grf": [os.fspath(p) for p in inputs.grf], "grf_loads": f(inputs.grf_loads),
            "mri_labels": f(inputs.mri_labels), "mri_image": f(inputs.mri_image),
            "label_names": f(inputs.label_names), "log": f(inputs.log), "athlete": inputs.athlete,
            "mass_kg": inputs.mass_kg, "missing_days": inputs.missing_days, "as_of": inputs.as_of}
