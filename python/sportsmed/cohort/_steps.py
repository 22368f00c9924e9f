"""The cohort pipeline's named steps.

Each step is a pure function of one input file and the run's parameters: it reads the file,
calls the library (``sportsmed.motion``, ``sportsmed.imaging``, ``sportsmed.risk``) and
returns rows (a list of dicts) and named arrays (NIfTI per item); it writes nothing. The
runner decides where the results go, so a step can be called in a plain loop (the
benchmark does) or on a Dask worker with the same result.

A step's ``version`` is part of every item's key: changing what a step computes means
bumping it, and the next run recomputes that step's items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional


@dataclass
class StepInput:
    path: Path
    athlete_id: str                 #: as in the manifest (never written to an output by a step)
    session_date: str
    body_mass_kg: Optional[float] = None


@dataclass
class StepOutput:
    rows: list[dict]
    #: name → (array, sportsmed.imaging.Geometry): written as NIfTI per item by the runner
    arrays: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    name: str
    task: str                       #: the manifest task it applies to
    version: int
    run: Callable[[StepInput, dict], StepOutput]
    params: tuple[str, ...]         #: the run parameters it depends on (part of the item key)
    description: str
    default: bool = True            #: in the default --steps


# -- motion ---------------------------------------------------------------------------------------

def motion_features(inp: StepInput, params: dict) -> StepOutput:
    """Drop-jump features (``sportsmed.motion.trial_features``) and the Bates 2020 knee
    abduction screen of one C3D/TRC trial: one row."""
    import os

    from .. import InvalidArgument, motion, risk

    path = os.fspath(inp.path)
    if inp.path.suffix.lower() == ".trc":
        trial, mass = motion.read_trc(path), None
    else:
        c3d = motion.read_c3d(path)
        trial, mass = c3d.trial, motion.body_mass_from_c3d(c3d)
    if inp.body_mass_kg is not None:
        mass = inp.body_mass_kg
    if mass is None:
        raise InvalidArgument(f"motion_features: '{path}' has no PROCESSING:Bodymass and the manifest gives no "
                              "body_mass_kg")
    feats, warns = motion.trial_features(trial, "drop_jump", float(mass), "auto", 0.2, "auto", with_warnings=True)
    row: dict = {name: float(value) for name, value, _unit in feats}
    threshold = float(params.get("bates_threshold_deg", risk.BATES_2020["threshold_deg"]))
    for side in ("left", "right"):
        a = row.get(f"{side}_knee_abduction_ic_deg", float("nan"))
        row[f"{side}_bates_flag"] = float(risk.bates_rule(a, threshold)) if math.isfinite(a) else float("nan")
    row["body_mass_kg"] = float(mass)
    return StepOutput([row], warnings=list(warns))


def dynamics_peaks(inp: StepInput, params: dict) -> StepOutput:
    """Lower-limb inverse dynamics (``sportsmed.motion.inverse_dynamics``) of one C3D: one row
    of the peak (max and min over the trial) of every normalised joint moment (N·m/kg).
    Needs force plates and Plug-in Gait axes or a PROCESSING group (the library's rules)."""
    import numpy as np

    from .. import motion

    df = motion.inverse_dynamics(inp.path, body_mass_kg=inp.body_mass_kg,
                                 cutoff_hz=float(params.get("dynamics_cutoff_hz", 15.0)))
    row: dict = {}
    for col in df.columns:
        if "MomentNorm_" in col:
            v = df[col].to_numpy(dtype=float)
            ok = np.isfinite(v)
            row[f"{col}_max"] = float(v[ok].max()) if ok.any() else float("nan")
            row[f"{col}_min"] = float(v[ok].min()) if ok.any() else float("nan")
    row["body_mass_kg"] = float(df.attrs.get("body_mass_kg", float("nan")))
    return StepOutput([row], warnings=list(df.attrs.get("warnings", [])))


# -- imaging --------------------------------------------------------------------------------------

#: A median femoral cartilage thickness beyond this is a wrong label or unit, not a knee
#: (Eckstein et al. 2006): a warning in the result, as ``mri thickness`` does.
THICKNESS_MEDIAN_LIMIT_MM = 8.0
REGION_STRUCTURES = ("femoral_cartilage", "medial_tibial_cartilage", "lateral_tibial_cartilage", "femur", "tibia")


def mri_thickness(inp: StepInput, params: dict) -> StepOutput:
    """Femoral cartilage thickness (nearest surface, on the femur) and regional thickness of
    one knee label map whose labels are named (its ``.labels.json``): one row, plus the
    thickness map (mm on the cartilage surface voxels, 0 elsewhere) as an array."""
    import os

    import numpy as np

    from .. import InvalidArgument, imaging

    path = os.fspath(inp.path)
    img = imaging.read_image(path)
    labels = imaging.as_label_map(img.array, path)
    names = imaging.read_label_names(path)
    cart = imaging.resolve_label(names, params.get("cartilage", "femoral_cartilage"), "cartilage", path)
    bone = imaging.resolve_label(names, params.get("bone", "femur"), "bone", path)
    present = set(np.unique(labels).tolist())
    for role, value in (("cartilage", cart), ("bone", bone)):
        if value not in present:
            raise InvalidArgument(f"mri_thickness: '{path}': the {role} label {value} has no voxel in the map")
    g = img.geometry
    res = imaging.cartilage_thickness(labels, g.spacing, cart, bone, g)
    t = np.asarray(res["thickness_mm"])
    row = {"surface_points": int(t.size), "thickness_mean_mm": float(t.mean()) if t.size else float("nan"),
           "thickness_median_mm": float(np.median(t)) if t.size else float("nan"),
           "cartilage_volume_mm3": float((labels == cart).sum() * float(np.prod(g.spacing)))}
    warnings = []
    if not row["thickness_median_mm"] <= THICKNESS_MEDIAN_LIMIT_MM:
        warnings.append(f"median thickness {row['thickness_median_mm']:.1f} mm is beyond any articular cartilage "
                        f"(> {THICKNESS_MEDIAN_LIMIT_MM:g} mm): check the labels and units")
    knee = tuple(imaging.resolve_label(names, s, s, path) for s in REGION_STRUCTURES)
    regions = imaging.regional_thickness_table(labels, g, knee_labels=knee)
    for name, r in regions.iterrows():
        key = str(name).replace(" ", "_")
        row[f"{key}_mean_mm"] = float(r["mean_mm"])
    return StepOutput([row], {"thickness": (np.asarray(res["map"], dtype=np.float32), g)}, warnings)


# -- risk -----------------------------------------------------------------------------------------

WORKLOAD_KEEP = ("date", "daily_load", "injury", "fatigue")


def _read_log(inp: StepInput, load: str):
    from .. import InvalidArgument, risk

    df = risk.read_table(inp.path, load=load, injury="injury")
    ids = df["athlete"].astype(str).unique()
    if len(ids) > 1:
        df = df[df["athlete"].astype(str) == inp.athlete_id]
        if df.empty:
            raise InvalidArgument(f"training log '{inp.path}' holds {len(ids)} athletes and none is the manifest's "
                                  "athlete")
    return df


def workload_features(inp: StepInput, params: dict) -> StepOutput:
    """Daily workload features (``sportsmed.risk.workload``: acute/chronic loads, ACWR,
    EWMA-ACWR, monotony, strain) of one athlete's training log: one row per day, with the
    log's injury column (availability) kept."""
    from .. import risk

    load = params.get("load", "daily_load")
    df = risk.complete_days(_read_log(inp, load), policy=params.get("missing", "zero"), load=load)
    w = risk.workload(df, load)
    out = w.drop(columns=["athlete"])
    for col in WORKLOAD_KEEP:
        if col in df.columns and col not in out.columns:
            out[col] = df[col].to_numpy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    return StepOutput(out.to_dict("records"))


def risk_predictions(inp: StepInput, params: dict) -> StepOutput:
    """Daily injury risk of one athlete from the run's risk model (``risk_model``), with the
    features rebuilt as the model records it was trained (its recipe)."""
    from .. import InvalidArgument, risk

    model_path = params.get("risk_model")
    if not model_path:
        raise InvalidArgument("risk_predictions: no risk model was given (--risk-model, or risk_model in a TOML "
                              "manifest)")
    model = risk.RiskModel.load(model_path)
    recipe = model.training.get("recipe", {}) if isinstance(model.training, dict) else {}
    load = recipe.get("load") or "daily_load"
    df = risk.complete_days(_read_log(inp, load), policy=recipe.get("missing") or params.get("missing", "zero"),
                            load=load)
    df = risk.with_features(df, load=load, injury=None, acute_days=int(recipe.get("acute") or 7),
                            chronic_days=int(recipe.get("chronic") or 28),
                            min_periods=int(recipe.get("min_periods") or 0))
    out = df[["date"]].copy()
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    out["risk"] = model.predict(df)
    for f in model.features:
        out[f] = df[f].to_numpy()
    return StepOutput(out.to_dict("records"))


STEPS: dict[str, Step] = {s.name: s for s in (
    Step("motion", "drop_jump", 1, motion_features, ("bates_threshold_deg",),
         "drop-jump features and the Bates 2020 knee abduction screen"),
    Step("dynamics", "drop_jump", 1, dynamics_peaks, ("dynamics_cutoff_hz",),
         "peak normalised joint moments (inverse dynamics; needs force plates)", default=False),
    Step("mri", "knee_mri", 1, mri_thickness, ("cartilage", "bone"),
         "femoral cartilage thickness (+ regional) and its map"),
    Step("workload", "training_log", 1, workload_features, ("load", "missing"),
         "daily workload features (ACWR, EWMA-ACWR, monotony, strain)"),
    Step("risk", "training_log", 1, risk_predictions, ("risk_model", "missing"),
         "daily injury risk from the study's risk model"),
)}
