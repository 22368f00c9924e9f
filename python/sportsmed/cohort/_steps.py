"""The cohort pipeline's named steps.

Each step is a pure function of one input file and the run's parameters: it reads the file,
calls the library (``sportsmed.motion``, ``sportsmed.imaging``, ``sportsmed.risk``) and
returns rows (a list of dicts) and named arrays (NIfTI per item); it writes nothing. The
runner decides where the results go, so a step can be called in a plain loop (the
benchmark does) or on a Dask worker with the same result.

A step's ``version`` is part of every item's key: changing what a step computes means
bumping it, and the next run recomputes that step's items.

Knee MRI steps and their order (the runner plans it, :func:`sportsmed.cohort.plan_items`)::

    knee_image ──seg──► labels NIfTI ──┬──► mri (thickness; when the session has no label map)
    knee_mri (label map) ──────────────┼──► mri (thickness)
    knee_t2 (multi-echo) ──────────────┴──► t2 (labels: the session's label map, else its seg)

A step that reads another step's output (``Step.after``) gets that output's path as its
input and the output file's SHA-256 in its item key, so a changed segmentation recomputes the
thickness and T2 items downstream of it, and an unchanged one leaves them as they are.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional


@dataclass
class StepInput:
    path: Path
    athlete_id: str                 #: as in the manifest (never written to an output by a step)
    session_date: str
    body_mass_kg: Optional[float] = None
    #: a label map the step reads besides ``path`` (the t2 step: the session's label map or seg output)
    labels_path: Optional[Path] = None
    #: where the labels come from: "label map" (the manifest's) or "segmentation" (the seg step's)
    labels_source: str = "label map"
    #: the scanned knee ("left", "right"; the manifest's knee_side) or "" (told from the labels)
    knee_side: str = ""
    #: the file naming the labels of the step's label map (``path`` for mri, ``labels_path`` for t2;
    #: the manifest's ``label_names``); None: the map's ``.labels.json`` sidecar
    label_names: Optional[Path] = None


@dataclass
class StepOutput:
    rows: list[dict]
    #: name → (array, sportsmed.imaging.Geometry): written as NIfTI per item by the runner
    arrays: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: array name → {label: structure name}: written beside that array's NIfTI (``.labels.json``)
    label_names: dict[str, dict[int, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    name: str
    task: str                       #: the manifest task it applies to
    version: int
    run: Callable[[StepInput, dict], StepOutput]
    params: tuple[str, ...]         #: the run parameters it depends on (part of the item key)
    description: str
    default: bool = True            #: in the default --steps
    #: steps whose output this step may read (it runs after them; their output is part of its key)
    after: tuple[str, ...] = ()


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

def _map_label_names(map_path: str, names_file: Optional[Path], step: str) -> dict:
    """{label: name} of a label map: from the manifest's ``label_names`` file, else from the
    map's ``.labels.json`` sidecar; a map with neither is refused, saying how to name them."""
    from .. import InvalidArgument, imaging

    if names_file is not None:
        return imaging.read_label_mapping(names_file)
    names = imaging.read_label_names(map_path)
    if names is None:
        raise InvalidArgument(
            f"{step}: the label map '{map_path}' carries no label names (no .labels.json sidecar beside it, named "
            "as the map): write them there, or give the manifest a "
            "label_names column naming the file that holds them (JSON or colour table, e.g. a 3D Slicer .ctbl)")
    return names


#: A median femoral cartilage thickness beyond this is a wrong label or unit, not a knee
#: (Eckstein et al. 2006): a warning in the result, as ``mri thickness`` does.
THICKNESS_MEDIAN_LIMIT_MM = 8.0
REGION_STRUCTURES = ("femoral_cartilage", "medial_tibial_cartilage", "lateral_tibial_cartilage", "femur", "tibia")


def mri_thickness(inp: StepInput, params: dict) -> StepOutput:
    """Femoral cartilage thickness (nearest surface, on the femur) and regional thickness of
    one knee label map whose labels are named (its ``.labels.json``): one row, plus the
    thickness map (mm on the cartilage surface voxels, 0 elsewhere) as an array. The map is the
    manifest's or, for a session without one, the seg step's output (``labels_source``)."""
    import numpy as np

    from .. import InvalidArgument, imaging

    path = os.fspath(inp.path)
    img = imaging.read_image(path)
    imaging.check_orthogonal(img.geometry, path, "mri_thickness")
    labels = imaging.as_label_map(img.array, path)
    names = _map_label_names(path, inp.label_names, "mri_thickness")
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
           "cartilage_volume_mm3": float((labels == cart).sum() * float(np.prod(g.spacing))),
           "labels_source": inp.labels_source}
    warnings = []
    wrong_labels = not row["thickness_median_mm"] <= THICKNESS_MEDIAN_LIMIT_MM
    if wrong_labels:
        warnings.append(f"median thickness {row['thickness_median_mm']:.1f} mm is beyond any articular cartilage "
                        f"(> {THICKNESS_MEDIAN_LIMIT_MM:g} mm): check the labels and units")
    # the same range and thick-slice checks as `mri thickness`
    warnings += imaging.thickness_warnings(row["thickness_mean_mm"], g.spacing, "femoral cartilage",
                                           upper=not wrong_labels)
    regions = _regions(labels, g, names, path, inp.knee_side or "auto", warnings)
    for name, r in (regions.iterrows() if regions is not None else ()):
        key = str(name).replace(" ", "_")
        row[f"{key}_mean_mm"] = float(r["mean_mm"])
    return StepOutput([row], {"thickness": (np.asarray(res["map"], dtype=np.float32), g)}, warnings)


ABSENT_LABEL = 255   #: a label number no knee map uses: "this structure is not in the map"
MEDIAL_TIBIAL, LATERAL_TIBIAL = 254, 253   #: the halves of a merged tibial cartilage label


def _optional_label(names, name: str, path: str) -> int:
    from .. import imaging

    if names is not None and not any(v.lower() == name for v in names.values()):
        return ABSENT_LABEL
    return imaging.resolve_label(names, name, name, path)


def _regions(labels, g, names, path: str, side: str, warnings: list):
    """Regional thickness (``imaging.regional_thickness_table``). A map with one tibial
    cartilage label (the default segmentation model merges medial and lateral) is split at the
    knee frame's medial-lateral plane, which needs the knee's side: without it the regions are
    left out, with a warning."""
    import numpy as np

    from .. import imaging

    knee = [_optional_label(names, s, path) for s in REGION_STRUCTURES]
    merged = _optional_label(names, "tibial_cartilage", path)
    if knee[1] != ABSENT_LABEL or knee[2] != ABSENT_LABEL or merged == ABSENT_LABEL:
        return imaging.regional_thickness_table(labels, g, side=side, knee_labels=tuple(knee))
    if side not in ("left", "right"):
        warnings.append("regional thickness left out: the labels merge medial and lateral tibial cartilage, so the "
                        "knee's side cannot be told from them; give knee_side (left or right) in the manifest")
        return None
    frame = imaging.regional_thickness_table(labels, g, side=side, knee_labels=tuple(knee)).attrs["frame"]
    ijk = np.argwhere(labels == merged)
    x = g.origin[0] + (ijk * np.asarray(g.spacing)) @ np.asarray(g.direction)[0]
    split = np.array(labels, copy=True)
    medial = frame["medial_sign"] * (x - frame["ml_split_mm"]) > 0
    split[tuple(ijk[medial].T)] = MEDIAL_TIBIAL
    split[tuple(ijk[~medial].T)] = LATERAL_TIBIAL
    knee[1:3] = [MEDIAL_TIBIAL, LATERAL_TIBIAL]
    return imaging.regional_thickness_table(split, g, side=side, knee_labels=tuple(knee))


_MODELS = threading.local()


def _cached_model(path: str):
    """The segmentation model at ``path``, loaded once per worker thread (and again when the file
    changes): loading takes ~50 ms, a LibTorch module is cheap to keep (the step's model and its
    context model: two entries)."""
    from .. import seg

    st = os.stat(path)
    real = os.path.realpath(path)
    key = (st.st_mtime_ns, st.st_size)
    cache = getattr(_MODELS, "cache", None)
    if cache is None:
        cache = _MODELS.cache = {}
    hit = cache.get(real)
    if hit is None or hit[0] != key:
        if len(cache) >= 2 and real not in cache:
            cache.clear()
        hit = cache[real] = (key, seg.load_model(path))
    return hit[1]


def default_seg_model() -> str:
    from .. import seg

    return seg.default_model_path()


def default_seg_context(seg_model: Optional[str]) -> Optional[str]:
    """The context model the seg step uses when none is named, as ``mri segment`` does: the
    shipped context model with the shipped model (``seg_model`` None), none with another model."""
    if seg_model:
        return None
    from .. import seg

    return seg.default_context_model_path()


#: one-structure classes whose largest connected piece holds less than this share of the class
#: are flagged: the network split a structure that is one piece in every knee
FRAGMENT_SHARE = 0.9


def seg_segmentation(inp: StepInput, params: dict) -> StepOutput:
    """Segments one knee MRI image (3-D NIfTI/NRRD) with the study's model (``seg_model``,
    default: the shipped knee model; ``seg_context``: the cascade's coarse context model, default
    the shipped one with the shipped model and none with another, "none" for none;
    ``seg_context_weight``: its mass weight; ``seg_mirror``: test-time mirroring;
    ``seg_keep_largest``: keep the largest piece of the one-structure classes) — what
    ``sportsmed mri segment`` does with the same options: one row of the volume of each class
    (mm³), plus the label map on the image's grid as an array (its class names beside it).
    Warnings: the model sidecar's caveats (``seg.model_caveats``), a class with no voxel, a
    one-structure class in pieces."""
    import numpy as np

    from .. import InvalidArgument, imaging, seg

    path = os.fspath(inp.path)
    img = imaging.read_image(path)
    if img.array.ndim != 3:
        raise InvalidArgument(f"seg: '{path}' is a {img.array.ndim}-D image of shape {tuple(img.array.shape)}; the "
                              "seg step takes one 3-D knee image (a multi-echo series is a knee_t2 item)")
    model_path = os.fspath(params.get("seg_model") or default_seg_model())
    model = _cached_model(model_path)
    context_path = params.get("seg_context")
    context = _cached_model(os.fspath(context_path)) if context_path and context_path != "none" else None
    weight = float(params.get("seg_context_weight", 0.5))
    spec = seg.model_spec(model)
    g = img.geometry
    import warnings as pywarnings

    with pywarnings.catch_warnings(record=True) as caught:  # what seg says of the input, into the record
        pywarnings.simplefilter("always", seg.InputWarning)
        labels, _ = seg.segment(model, np.asarray(img.fdata(), dtype=np.float32), geometry=g,
                                mirror=bool(params.get("seg_mirror", False)),
                                keep_largest_component="model" if params.get("seg_keep_largest") else False,
                                context_model=context, context_mass_weight=weight)
    said = [str(w.message) for w in caught if issubclass(w.category, seg.InputWarning)]
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    names = {i: str(n) for i, n in enumerate(spec["labels"])}
    volumes = imaging.label_volumes_mm3(labels, g.spacing)
    row: dict = {"model": Path(model_path).name,
                 "context_model": Path(os.fspath(context_path)).name if context is not None else "",
                 "context_weight": weight if context is not None else None,
                 "mirror": bool(params.get("seg_mirror", False)),
                 "image_shape": "x".join(str(int(n)) for n in labels.shape),
                 "voxel_mm3": float(np.prod(g.spacing))}
    warnings = [f"the model's sidecar: {c}" for c in seg.model_caveats(model)]
    single = set(int(k) for k in spec.get("single_component_labels", []))
    for k, name in names.items():
        if k == 0:
            continue
        row[f"{name}_volume_mm3"] = float(volumes[k]) if k < len(volumes) else 0.0
        if row[f"{name}_volume_mm3"] == 0.0:
            warnings.append(f"no {name} voxel: the model missed the structure (check the image's contrast, "
                            "orientation and field of view)")
        elif k in single:
            comp, n = imaging.label_components((labels == k).astype(np.uint8))
            if n > 1:
                sizes = np.bincount(np.asarray(comp).ravel())[1:]
                share = float(sizes.max() / sizes.sum())
                if share < FRAGMENT_SHARE:
                    warnings.append(f"{name} is in {n} pieces, the largest holding {100 * share:.0f}% of its voxels "
                                    "(one structure expected)")
    # the field of view and the volumes no knee holds (a missing structure is said above, one by one)
    warnings += [w for w in said if not w.startswith("no femur")]
    return StepOutput([row], {"labels": (labels, g)}, warnings, {"labels": names})


# -- T2 relaxometry ----------------------------------------------------------------------------------

#: Median cartilage T2 outside this range (ms) is flagged. Knee cartilage T2 is typically ~25-50 ms
#: at 3 T and higher with degeneration (Mosher & Dardzinski 2004; Baum et al. 2013); the range is
#: this step's flag for a wrong echo-time unit or misregistered labels, not a clinical limit.
T2_PLAUSIBLE_MS = (15.0, 80.0)
#: A region where more than this share of the voxels could not be fitted is flagged.
T2_FAILED_SHARE = 0.2


def _multi_echo(path: str):
    """(4-D float array, geometry, echo times in ms) of a multi-echo NIfTI/NRRD with its
    sidecar (``<stem>.json``: ``EchoTimes_ms``, or BIDS ``EchoTime`` in s) or of a DICOM folder."""
    import numpy as np

    from .. import InvalidArgument, imaging

    if os.path.isdir(path):
        s = imaging.read_dicom_series(path, "")
        array, geometry, te = np.asarray(s["array"], dtype=float), s["geometry"], list(s["te_ms"])
    else:
        from ..imaging._sidecar import sidecar_echo_times

        img = imaging.read_image(path)
        array, geometry, te = img.fdata(), img.geometry, sidecar_echo_times(path)
        if te is None:
            raise InvalidArgument(f"t2: '{path}' has no echo times: write them beside it as <name>.json with "
                                  "EchoTimes_ms (as `sportsmed mri convert` does from DICOM)")
    if array.ndim != 4 or array.shape[3] < 2:
        raise InvalidArgument(f"t2: '{path}' is not a multi-echo series (shape {tuple(array.shape)}; expected "
                              "x, y, z, echoes with at least 2 echoes)")
    if len(te) != array.shape[3]:
        raise InvalidArgument(f"t2: '{path}' has {array.shape[3]} echoes but {len(te)} echo times")
    return array, geometry, [float(t) for t in te]


def t2_relaxometry(inp: StepInput, params: dict) -> StepOutput:
    """T2 map (``sportsmed.imaging.fit_t2``: mono-exponential fit per voxel) of one multi-echo
    series over the cartilage of its session's label map (every label whose name holds
    "cartilage"; the labels are resampled, label-aware, onto the series' grid when the grids
    differ): one row with the mean and median T2 (ms) and the fitted voxels of each cartilage
    label, plus the T2 map (ms inside the cartilage, 0 elsewhere) as an array."""
    import numpy as np

    from .. import InvalidArgument, imaging

    path = os.fspath(inp.path)
    if inp.labels_path is None:
        raise InvalidArgument(f"t2: '{path}': the session has no label map and no knee image to segment: per-region "
                              "T2 needs labels (add a knee_mri or knee_image item for this athlete and date)")
    echoes, g, te = _multi_echo(path)
    lpath = os.fspath(inp.labels_path)
    limg = imaging.read_image(lpath)
    labels = imaging.as_label_map(limg.array, lpath)
    names = _map_label_names(lpath, inp.label_names, "t2")
    if not limg.geometry.same_grid(g, 1e-4):
        labels = imaging.resample_labels(labels, limg.geometry, g)
    cart = {k: v for k, v in sorted(names.items()) if "cartilage" in v.lower()}
    if not cart:
        raise InvalidArgument(f"t2: the label map '{lpath}' names no cartilage label ({sorted(names.values())})")
    mask = np.isin(labels, list(cart))
    maps = imaging.fit_t2(echoes, te, mask, noise_floor=bool(params.get("t2_noise_floor", False)))
    t2 = np.asarray(maps["t2_ms"])
    fitted = mask & (np.asarray(maps["status"]) == 0) & np.isfinite(t2)
    row: dict = {"echoes": len(te), "te_first_ms": te[0], "te_last_ms": te[-1], "labels_source": inp.labels_source}
    warnings = []
    lo, hi = T2_PLAUSIBLE_MS
    for k, name in cart.items():
        sel = labels == k
        ok = sel & fitted
        n, nf = int(sel.sum()), int(ok.sum())
        v = t2[ok]
        row[f"{name}_t2_mean_ms"] = float(v.mean()) if nf else float("nan")
        row[f"{name}_t2_median_ms"] = float(np.median(v)) if nf else float("nan")
        row[f"{name}_t2_voxels"] = nf
        if n == 0:
            warnings.append(f"{name}: no voxel on the T2 series' grid (check the labels' registration)")
        elif 1.0 - nf / n > T2_FAILED_SHARE:
            warnings.append(f"{name}: {100 * (1 - nf / n):.0f}% of {n} voxels could not be fitted")
        if nf and not lo <= row[f"{name}_t2_median_ms"] <= hi:
            warnings.append(f"{name}: median T2 {row[f'{name}_t2_median_ms']:.1f} ms is outside {lo:g}-{hi:g} ms "
                            "(check the echo times, their unit and the labels' registration)")
    tmap = np.where(fitted, t2, 0.0).astype(np.float32)
    return StepOutput([row], {"t2": (tmap, g)}, warnings)


# -- risk -----------------------------------------------------------------------------------------

WORKLOAD_KEEP = ("date", "daily_load", "injury", "fatigue")


def _read_log(inp: StepInput, load: str):
    from .. import FormatError, InvalidArgument, risk

    # A training log is CSV text; a binary file (a C3D or NIfTI listed as training_log) is
    # refused as such, before a CSV reader quotes its header bytes as column names.
    from .._io import text_encoding

    with open(inp.path, "rb") as f:
        head = f.read(8192)
    try:  # UTF-16/32 text is text (risk.read_table reads it); NUL bytes in no such pattern are not
        text_encoding(inp.path, head)
    except FormatError:
        raise FormatError(f"training log '{inp.path}' is not CSV text (it holds binary data: is it the right file, "
                          "or another task's?)") from None
    df = risk.read_table(inp.path, load=load, injury="injury")
    ids = df["athlete"].astype(str).unique()
    mine = df["athlete"].astype(str) == inp.athlete_id
    if len(ids) and not mine.any():
        # a log of another athlete would put their loads under this athlete's name; the ids are not
        # quoted (the message would pair them with this athlete's pseudonym)
        # (nor words a log's header may hold: a pseudonymised run's messages lose the input's words)
        raise InvalidArgument(f"training log '{inp.path}' has no row for this item's athlete_id: its rows name "
                              f"{len(ids)} other id(s). List each athlete_id with its own log, or with a squad log "
                              "holding its rows")
    return df[mine].reset_index(drop=True) if len(ids) > 1 else df


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
    Step("seg", "knee_image", 1, seg_segmentation, ("seg_model", "seg_context", "seg_context_weight", "seg_mirror",
                                                              "seg_keep_largest"),
         "knee MRI segmentation with the shipped (or given) model: label map and class volumes"),
    Step("mri", "knee_mri", 2, mri_thickness, ("cartilage", "bone"),
         "femoral cartilage thickness (+ regional) and its map; from the seg step's labels when the session "
         "has no label map", after=("seg",)),
    Step("t2", "knee_t2", 1, t2_relaxometry, ("t2_noise_floor",),
         "T2 map of a multi-echo series and mean/median T2 per cartilage label", after=("seg",)),
    Step("workload", "training_log", 1, workload_features, ("load", "missing"),
         "daily workload features (ACWR, EWMA-ACWR, monotony, strain)"),
    Step("risk", "training_log", 1, risk_predictions, ("risk_model", "missing"),
         "daily injury risk from the study's risk model"),
)}
