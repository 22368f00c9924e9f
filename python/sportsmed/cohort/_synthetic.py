"""A synthetic study for demos, tests and benchmarks (deterministic from a seed).

For each of ``n`` athletes: two drop-jump C3Ds (pre-season and mid-season screening, by the
motion pillar's generator, with the Plug-in Gait angle outputs a lab export carries), one knee
MRI session from the imaging pillar's phantom with a per-athlete knee shape (``make_knee_phantom``:
the label map with its names, the DESS-like image, and the multi-echo spin-echo series cropped to
the cartilage with its echo times beside it, as a T2 protocol's smaller field of view) and one
training log (a year of the risk pillar's synthetic squad). Plus a risk model trained on a
separate synthetic squad, and the manifest (CSV and TOML).

The manifest lists the image (``knee_image``, for the seg step) and the multi-echo series
(``knee_t2``) of every athlete, and the label map (``knee_mri``) of the first ``labelled``
athletes only (default: half, rounded up), as a study with manual segmentations for some
knees: the others' thickness and T2 come from the model's segmentation. Every athlete's label
map is written (``knee_labels.nii.gz``), so the segmentation can be checked against it.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Optional, Union

from ._manifest import Entry, write_manifest_csv, write_manifest_toml

RISK_FEATURES = ["ewma_acwr", "acwr_coupled", "monotony", "load_7d", "fatigue"]
SEASON_START = "2025-07-01"
MID_SEASON_DAYS = 182


def _athlete_ids(n: int) -> list[str]:
    width = max(3, len(str(n)))
    return [f"A{i + 1:0{width}d}" for i in range(n)]


def _drop_jump(path: Path, seed: int, valgus_deg: float, mass: float) -> None:
    from .. import motion

    s = motion.synthesize_drop_jump(seed=seed, body_mass_kg=mass, knee_valgus_peak_deg=valgus_deg)
    res = motion.drop_jump_analysis(s)
    motion.write_trial_c3d(os.fspath(path), res["processed"])


#: margin (mm) of the multi-echo series' field of view around the cartilage
MESE_MARGIN_MM = 3.0


def _knee(folder: Path, seed: int, shape: int, spacing_mm: float, extent_mm: Optional[float]) -> dict:
    """Writes the phantom's label map, DESS-like image and cropped multi-echo series (with its
    echo-time sidecar); returns their paths."""
    import numpy as np

    from .. import imaging
    from .._io import write_json_atomic

    kw = {} if extent_mm is None else {"extent_mm": (float(extent_mm),) * 3}
    ph = imaging.make_knee_phantom(spacing_mm=(spacing_mm,) * 3, seed=seed, shape=shape, **kw)
    g = ph["geometry"]
    paths = {"labels": folder / "knee_labels.nii.gz", "image": folder / "knee_image.nii.gz",
             "mese": folder / "knee_mese.nii.gz"}
    labels = np.asarray(ph["labels"])
    imaging.write_image(imaging.Image(labels, g), os.fspath(paths["labels"]))
    imaging.write_label_names(paths["labels"], imaging.PYMSKT_LABEL_NAMES)
    imaging.write_image(imaging.Image(np.asarray(ph["image"], dtype=np.float32), g), os.fspath(paths["image"]))
    cart = [k for k, v in imaging.PYMSKT_LABEL_NAMES.items() if "cartilage" in v]
    margin = int(np.ceil(MESE_MARGIN_MM / spacing_mm))
    lo, hi = imaging.bounding_box(np.isin(labels, cart).astype(np.uint8), margin)
    echoes = np.asarray(ph["echoes"])
    crops = [imaging.crop(echoes[..., e], g, lo, hi) for e in range(echoes.shape[3])]
    mese = np.stack([c[0] for c in crops], axis=-1).astype(np.float32)
    imaging.write_image(imaging.Image(mese, crops[0][1]), os.fspath(paths["mese"]))
    write_json_atomic(folder / "knee_mese.json", {"EchoTimes_ms": [float(t) for t in ph["te_ms"]]}, indent=1)
    return paths


def corrupt_file(path: Path) -> None:
    """Overwrites the first 512 bytes (a C3D's header block) with zeros: a reader must refuse it."""
    data = bytearray(Path(path).read_bytes())
    data[:512] = bytes(min(512, len(data)))
    Path(path).write_bytes(bytes(data))


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def _write_athlete(job) -> list[Entry]:
    """Writes one athlete's files (run in a worker process); returns its manifest entries."""
    from .._io import write_csv_atomic

    folder, aid, sessions, valgus, mass, dj_seeds, corrupt, knee_seed, shape, spacing, extent, labelled, log_rows = job
    folder.mkdir(exist_ok=True)
    entries = []
    for s, date in enumerate(sessions):
        p = folder / f"{date}_drop_jump.c3d"
        _drop_jump(p, dj_seeds[s], valgus[s], mass)
        if s == 1 and corrupt:
            corrupt_file(p)
        entries.append(Entry(aid, date, "drop_jump", p.resolve(), mass))
    knee = _knee(folder, knee_seed, shape, spacing, extent)
    # the phantom is a left knee (medial towards -x, LPS)
    if labelled:
        entries.append(Entry(aid, sessions[0], "knee_mri", knee["labels"].resolve(), knee_side="left"))
    entries.append(Entry(aid, sessions[0], "knee_image", knee["image"].resolve(), knee_side="left"))
    entries.append(Entry(aid, sessions[0], "knee_t2", knee["mese"].resolve(), knee_side="left"))
    log = folder / "training_log.csv"
    write_csv_atomic(log_rows, log, index=False, date_format="%Y-%m-%d")
    entries.append(Entry(aid, "", "training_log", log.resolve()))
    return entries


def make_synthetic_study(n: int, output: Union[str, os.PathLike], seed: int = 0, corrupt: int = 0,
                         mri_spacing_mm: float = 1.0, days: int = 365, progress: Optional[str] = None,
                         workers: Optional[int] = None, labelled: Optional[int] = None,
                         mri_extent_mm: Optional[float] = None) -> Path:
    """Writes a synthetic study of ``n`` athletes into ``output``; returns the TOML manifest's path.

    ``labelled`` athletes (default: half, rounded up) have their label map in the manifest; the
    others rely on the seg step. ``mri_extent_mm`` is the knee phantom's field of view (default:
    the phantom's, 84 mm; a smaller one makes segmentation cheaper: the model works at 1 mm, so
    it segments (extent / 1 mm)³ voxels whatever ``mri_spacing_mm`` is).

    ``corrupt`` drop-jump files (the second trial of the first ``corrupt`` athletes) get a
    zeroed header, to show that a corrupt file is one failure row, not a crashed run.
    Every value follows from ``seed``: the same arguments write the same files (athletes are
    written by ``workers`` processes, default: the cores).
    """
    import numpy as np

    from .. import InvalidArgument, risk

    if n < 1:
        raise InvalidArgument(f"cohort synthetic: -n must be at least 1, got {n}")
    if not 0 <= corrupt <= n:
        raise InvalidArgument(f"cohort synthetic: --corrupt must be between 0 and n ({n}), got {corrupt}")
    labelled = (n + 1) // 2 if labelled is None else labelled
    if not 0 <= labelled <= n:
        raise InvalidArgument(f"cohort synthetic: --labelled must be between 0 and n ({n}), got {labelled}")
    if mri_extent_mm is not None and not 8 * mri_spacing_mm <= mri_extent_mm <= 400:
        raise InvalidArgument(f"cohort synthetic: --mri-extent {mri_extent_mm:g} mm is not a knee field of view "
                              f"(8 voxels to 400 mm)")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = _athlete_ids(n)
    mass = rng.normal(72.0, 8.0, n).clip(50.0, 110.0).round(1)
    valgus = rng.normal(8.0, 3.0, n).clip(2.0, 16.0)
    # a fifth of the squad changes its landing between the screenings (±5° peak valgus)
    change = np.where(rng.random(n) < 0.2, rng.choice([-5.0, 5.0], n), 0.0)
    valgus2 = (valgus + change + rng.normal(0.0, 0.5, n)).clip(1.0, 20.0)
    shapes = rng.integers(1, 10_000, n)

    squad = risk.synthetic_cohort(athletes=n, days=days, seed=seed, start=SEASON_START)
    codes = sorted(squad["athlete"].unique())
    rename = dict(zip(codes, ids))
    squad["athlete"] = squad["athlete"].map(rename)

    start = _dt.date.fromisoformat(SEASON_START)
    sessions = [start.isoformat(), (start + _dt.timedelta(days=MID_SEASON_DAYS)).isoformat()]
    jobs = []
    for i, aid in enumerate(ids):
        log_rows = squad[squad["athlete"] == aid][["athlete", "date", "daily_load", "fatigue", "injury"]]
        jobs.append((out / aid, aid, sessions, [float(valgus[i]), float(valgus2[i])], float(mass[i]),
                     [seed * 100_000 + i * 10 + s + 1 for s in range(2)], i < corrupt, seed * 100_000 + i,
                     int(shapes[i]), mri_spacing_mm, mri_extent_mm, i < labelled, log_rows))
    entries: list[Entry] = []
    bar = None
    if progress == "bar":
        from tqdm import tqdm

        bar = tqdm(total=n, desc="synthetic study", unit="athlete")
    # athletes are independent and seeded: written by a process pool (each phantom takes ~1 s)
    import concurrent.futures as cf
    import multiprocessing

    workers = min(len(jobs), workers or _cpu_count())
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for part in pool.map(_write_athlete, jobs, chunksize=1):
            entries += part
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()

    # the model the risk step applies: trained on another synthetic squad (never on this one)
    train = risk.synthetic_cohort(athletes=60, days=730, seed=seed + 1)
    train = risk.complete_days(train, policy="zero")
    train = risk.with_features(train, horizon_days=7)
    model = risk.RiskModel(RISK_FEATURES).fit(train[train["y"].notna()], "y")
    model.training["recipe"] = {"load": "daily_load", "missing": "zero", "acute": 7, "chronic": 28,
                                "min_periods": 0}
    model.training["label"] = {"injury": "injury", "horizon_days": 7, "text": "injury within 7 days"}
    model_path = out / "risk_model.json"
    model.save(model_path)

    write_manifest_csv(entries, out / "manifest.csv", out.resolve())
    toml_path = out / "manifest.toml"
    write_manifest_toml(entries, toml_path, out.resolve(), model_path.resolve())
    return toml_path
