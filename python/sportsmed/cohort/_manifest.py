"""The study manifest: which files belong to which athlete, session and task.

CSV (one row per file)::

    athlete_id,session_date,task,path,body_mass_kg,knee_side
    A001,2025-07-01,drop_jump,A001/2025-07-01_dj1.c3d,71.5,
    A001,2025-07-01,knee_mri,A001/knee_labels.nii.gz,,left
    A001,2025-07-01,knee_image,A001/knee_image.nii.gz,,left
    A001,2025-07-01,knee_t2,A001/knee_mese.nii.gz,,left
    A001,,training_log,A001/training_log.csv,,

TOML (the same rows as ``[[items]]`` tables, plus the study's risk model)::

    risk_model = "risk_model.json"      # optional: the model the ``risk`` step applies
    [[items]]
    athlete_id = "A001"
    session_date = 2025-07-01
    task = "drop_jump"
    path = "A001/2025-07-01_dj1.c3d"
    body_mass_kg = 71.5

Required columns: ``athlete_id``, ``task``, ``path`` (``session_date`` may be empty for a
training log). Optional: ``body_mass_kg`` (drop jumps: when the C3D has no
PROCESSING:Bodymass), ``knee_side`` (``left``/``right``, knee items: the scanned knee; the
thickness regions of a segmentation whose tibial cartilage is one label need it),
``label_names`` (``knee_mri`` items: the file naming the map's labels, a JSON or a 3D Slicer /
ITK-SNAP colour table, when the map has no ``.labels.json`` sidecar). A TOML manifest takes no
other study-level key than ``risk_model`` (the run's parameters are options of the run): an
unknown key is refused, not ignored.

Relative paths are relative to the manifest's folder. Tasks:

- ``drop_jump``: a C3D or TRC drop vertical jump with Plug-in Gait angle outputs (steps
  ``motion``, ``dynamics``);
- ``knee_mri``: a knee label map, NIfTI or NRRD, with its ``.labels.json`` names (step ``mri``:
  thickness; also the labels of the session's T2);
- ``knee_image``: a 3-D knee MRI image, NIfTI or NRRD (step ``seg``; its labels feed ``mri``
  and ``t2`` in a session without a ``knee_mri`` label map);
- ``knee_t2``: a multi-echo series for T2 mapping: a 4-D NIfTI/NRRD (x, y, z, echo) with its echo
  times beside it (``<name>.json``: ``EchoTimes_ms``, or BIDS ``EchoTime`` in s, as ``sportsmed mri
  convert`` writes), or a DICOM folder (step ``t2``);
- ``training_log``: a CSV of daily loads, the ``sportsmed risk`` table format (steps ``workload``,
  ``risk``).

Output tables (one per step; every row also has ``athlete`` (pseudonym), ``session_date``,
``item``, ``warnings`` and ``<array>_nifti`` paths): ``seg``: ``model``, ``context_model`` (empty
without one), ``context_weight``, ``mirror``,
``image_shape``, ``voxel_mm3``, ``<class>_volume_mm3`` per class of the model; ``mri``:
``labels_source`` ("label map" or "segmentation"), ``surface_points``,
``thickness_mean_mm``/``_median_mm``, ``cartilage_volume_mm3``, ``<region>_mean_mm`` per knee
region; ``t2``: ``labels_source``, ``echoes``, ``te_first_ms``, ``te_last_ms`` and, per
cartilage label, ``<label>_t2_mean_ms``, ``<label>_t2_median_ms``, ``<label>_t2_voxels``.

A knee *session* is an athlete and a ``session_date``: its ``knee_mri``, ``knee_image`` and
``knee_t2`` items belong together (one label map and one image per session at most: the
thickness and T2 of a session with two are refused, as failure rows). The
columns are the same for every task; ``body_mass_kg`` is read for drop jumps only. Anything
else is an :class:`sportsmed.InvalidArgument` naming the file and the line. A file is listed
once, except a squad's training log, which several athletes' rows may name (each reads its own
rows of it, by the log's ``athlete`` column).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

TASKS = ("drop_jump", "knee_mri", "knee_image", "knee_t2", "training_log")
COLUMNS = ("athlete_id", "session_date", "task", "path")


@dataclass(frozen=True)
class Entry:
    """One file of the study."""

    athlete_id: str
    session_date: str          #: ISO date (YYYY-MM-DD) or "" (a training log spans many days)
    task: str
    path: Path                 #: absolute
    body_mass_kg: Optional[float] = None
    line: int = 0              #: where it was declared (CSV line or TOML item number)
    knee_side: str = ""        #: "left", "right" or "" (knee items; not known)
    #: the names of a knee_mri map's labels (JSON or colour table); None: its .labels.json sidecar
    label_names: Optional[Path] = None


@dataclass
class Manifest:
    path: Path
    entries: list[Entry]
    risk_model: Optional[Path] = None
    settings: dict = field(default_factory=dict)   #: always empty: unknown TOML keys are refused

    def where(self, entry: Entry) -> str:
        """Where ``entry`` is declared: "line N" (CSV) or "item N" (TOML)."""
        return f"{'item' if self.path.suffix.lower() == '.toml' else 'line'} {entry.line}"


def _error(where: str, message: str):
    from .. import InvalidArgument

    return InvalidArgument(f"cohort manifest '{where}': {message}")


def _date(value, where: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _error(where, f"session_date {value!r} is not a date YYYY-MM-DD") from None


def _mass(value, where: str) -> Optional[float]:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        m = float(value)
    except (TypeError, ValueError):
        raise _error(where, f"body_mass_kg {value!r} is not a number") from None
    if not 0 < m < 400:
        raise _error(where, f"body_mass_kg {m:g} is not a body mass in kg")
    return m


def _entry(row: dict, base: Path, where: str, line: int) -> Entry:
    for col in ("athlete_id", "task", "path"):
        if col not in row or row[col] is None:
            raise _error(where, f"missing column '{col}'")
    athlete = str(row["athlete_id"]).strip()
    task = str(row["task"]).strip()
    path = str(row["path"]).strip()
    if not athlete:
        raise _error(where, "empty athlete_id")
    if task not in TASKS:
        raise _error(where, f"task {task!r} is not one of {', '.join(TASKS)}")
    if not path:
        raise _error(where, "empty path")
    p = Path(path)
    if not p.is_absolute():
        p = base / p
    side = str(row.get("knee_side") or "").strip().lower()
    if side not in ("", "left", "right"):
        raise _error(where, f"knee_side {row.get('knee_side')!r} is not left or right")
    names = str(row.get("label_names") or "").strip()
    names_path = None
    if names:
        if task != "knee_mri":
            raise _error(where, f"label_names is given for a {task} item; it names the labels of a knee_mri map")
        names_path = Path(names) if Path(names).is_absolute() else base / names
        names_path = names_path.resolve()
    return Entry(athlete, _date(row.get("session_date"), where), task, p.resolve(),
                 _mass(row.get("body_mass_kg"), where), line, side, names_path)


def read_manifest(path: Union[str, os.PathLike]) -> Manifest:
    """Reads a CSV or TOML study manifest (by extension: ``.toml``, else CSV).

    Raises
    ------
    sportsmed.NotFound
        The manifest cannot be read.
    sportsmed.InvalidArgument / sportsmed.FormatError
        A row lacks a column, names an unknown task, a date or mass is not one; the
        message names the file and line (CSV) or item (TOML).
    """
    from .. import FormatError, NotFound

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cohort manifest: cannot read '{path}': {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"cohort manifest '{path}': not UTF-8 text (byte {exc.start})") from None
    base = path.resolve().parent
    entries: list[Entry] = []
    risk_model = None
    settings: dict = {}
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FormatError(f"cohort manifest '{path}': not TOML: {exc}") from None
        items = doc.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FormatError(f"cohort manifest '{path}': expected [[items]] tables")
        for n, item in enumerate(items, 1):
            entries.append(_entry(item, base, f"{path}, item {n}", n))
        if "risk_model" in doc:
            rm = Path(str(doc["risk_model"]))
            risk_model = (rm if rm.is_absolute() else base / rm).resolve()
        unknown = sorted(k for k in doc if k not in ("items", "risk_model"))
        if unknown:
            # a setting that is read and not applied would give numbers under other parameters than
            # the manifest says: refused (the run's parameters are options of `cohort run`)
            raise _error(str(path), f"unknown study setting(s) {', '.join(unknown)}: a TOML manifest takes "
                                    "[[items]] and risk_model only (the run's parameters are options of the run)")
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise _error(str(path), f"the header lacks {', '.join(missing)} (has {reader.fieldnames})")
        for row in reader:
            line = reader.line_num
            entries.append(_entry(row, base, f"{path}, line {line}", line))
    if not entries:
        raise _error(str(path), "no items")
    seen: dict = {}
    for e in entries:
        rows = seen.setdefault(e.path, [])
        # a squad's training log may be listed for each of its athletes (each reads its own rows)
        twice = [r for r in rows if not (e.task == r.task == "training_log" and e.athlete_id != r.athlete_id)]
        if twice:
            raise _error(str(path), f"'{e.path}' is listed twice (line/item {twice[0].line} and {e.line})")
        rows.append(e)
    return Manifest(path.resolve(), entries, risk_model, settings)


def write_manifest_csv(entries: list[Entry], path: Path, base: Path) -> None:
    """Writes ``entries`` as a CSV manifest with paths relative to ``base``."""
    from .._io import atomic_output

    with atomic_output(path, newline="") as f:
        w = csv.writer(f)
        names = any(e.label_names is not None for e in entries)
        w.writerow(list(COLUMNS) + ["body_mass_kg", "knee_side"] + (["label_names"] if names else []))
        for e in entries:
            w.writerow([e.athlete_id, e.session_date, e.task, os.path.relpath(e.path, base),
                        "" if e.body_mass_kg is None else f"{e.body_mass_kg:.1f}", e.knee_side]
                       + ([os.path.relpath(e.label_names, base) if e.label_names else ""] if names else []))


def write_manifest_toml(entries: list[Entry], path: Path, base: Path, risk_model: Optional[Path] = None) -> None:
    """Writes ``entries`` (and the study's risk model) as a TOML manifest."""
    from .._io import write_text_atomic

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["# sportsmed cohort manifest (paths relative to this file)"]
    if risk_model is not None:
        lines.append(f"risk_model = {q(os.path.relpath(risk_model, base))}")
    for e in entries:
        lines += ["", "[[items]]", f"athlete_id = {q(e.athlete_id)}"]
        if e.session_date:
            lines.append(f"session_date = {e.session_date}")
        lines += [f"task = {q(e.task)}", f"path = {q(os.path.relpath(e.path, base))}"]
        if e.body_mass_kg is not None:
            lines.append(f"body_mass_kg = {e.body_mass_kg:.1f}")
        if e.knee_side:
            lines.append(f"knee_side = {q(e.knee_side)}")
        if e.label_names is not None:
            lines.append(f"label_names = {q(os.path.relpath(e.label_names, base))}")
    write_text_atomic(path, "\n".join(lines) + "\n")
