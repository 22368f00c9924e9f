"""Self-describing label maps: the names of a map's labels travel with it.

A label map ``knee.nii.gz`` (or ``.nii``, ``.nrrd``, ``.nhdr``) carries its names in the JSON
sidecar ``knee.labels.json``::

    {"format": "sportsmed-labels", "version": 1, "labels": {"0": "background", "1": "femur", ...}}

written by ``sportsmed mri segment`` (the model's classes) and ``mri phantom`` (the pymskt
numbering). A map from another tool is described by a mapping file: the same JSON (or a bare
``{"1": "femur", ...}``) or a colour table as 3D Slicer and ITK-SNAP write it (``index name
r g b a`` per line, ``#`` comments). Commands take structure names (``--cartilage
femoral_cartilage``) and refuse when a map does not hold what is asked for — they never
assume a numbering.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional, Union

#: The pymskt knee numbering (also the imaging phantom's).
PYMSKT_LABEL_NAMES = {0: "background", 1: "femoral_cartilage", 2: "medial_tibial_cartilage",
                      3: "lateral_tibial_cartilage", 4: "patellar_cartilage", 5: "femur", 6: "tibia", 7: "patella",
                      8: "fibula", 9: "lateral_meniscus", 10: "medial_meniscus"}

_IMAGE_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")


def label_names_path(map_path: Union[str, os.PathLike]) -> Path:
    """The sidecar of a label map: ``knee.nii.gz`` → ``knee.labels.json``."""
    p = Path(map_path)
    name = p.name
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            return p.with_name(name[: -len(suffix)] + ".labels.json")
    return p.with_name(p.stem + ".labels.json")


def write_label_names(map_path: Union[str, os.PathLike], names: Mapping[int, str]) -> Path:
    """Writes the sidecar of ``map_path`` (to a temporary name, then renamed); returns its path."""
    out = label_names_path(map_path)
    doc = {"format": "sportsmed-labels", "version": 1,
           "labels": {str(int(k)): str(v) for k, v in sorted(names.items())}}
    from .._io import write_json_atomic

    return write_json_atomic(out, doc, indent=2)


def _labels_from_json(path: Path) -> dict:
    from .. import FormatError
    from .._io import load_json_file

    doc = load_json_file(path, "label names")
    table = doc.get("labels", doc) if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise FormatError(f"label names '{path}': expected an object of label -> name")
    out = {}
    for k, v in table.items():
        if k in ("format", "version") and table is doc:
            continue
        try:
            label = int(k)
        except (TypeError, ValueError):
            raise FormatError(f"label names '{path}': key {k!r} is not a label number") from None
        if not 0 <= label < (1 << 31):
            raise FormatError(f"label names '{path}': label {k} is outside 0..2^31-1")
        if not isinstance(v, str):
            raise FormatError(f"label names '{path}': the name of label {k} is not a string: {v!r}")
        out[label] = v
    return out


def _labels_from_colour_table(path: Path) -> dict:
    from .. import FormatError

    out = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise FormatError(f"colour table '{path}': {exc}") from None
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2 or not (parts[0].lstrip("-").isascii() and parts[0].lstrip("-").isdigit()):
            raise FormatError(f"colour table '{path}', line {n}: expected 'index name ...', got {line!r}")
        name = parts[1].strip('"')
        out[int(parts[0])] = name
    return out


def read_label_mapping(path: Union[str, os.PathLike]) -> dict:
    """{label: name} from a mapping file: sportsmed's JSON, a bare JSON object, or a Slicer /
    ITK-SNAP colour table. Raises FormatError for a file that is neither."""
    p = Path(path)
    if not p.is_file():
        from .. import NotFound

        raise NotFound(f"label mapping '{p}' does not exist")
    head = p.read_bytes()[:1].strip() if p.stat().st_size else b""
    return _labels_from_json(p) if head in (b"{",) or p.suffix.lower() == ".json" else _labels_from_colour_table(p)


def read_label_names(map_path: Union[str, os.PathLike]) -> Optional[dict]:
    """{label: name} from the sidecar of ``map_path``, or None when it has none."""
    side = label_names_path(map_path)
    return _labels_from_json(side) if side.is_file() else None


def resolve_label(names: Optional[Mapping[int, str]], wanted: Union[str, int], role: str, source: str) -> int:
    """The label number of ``wanted`` (a structure name, or a number as text or int) in a map
    whose names are ``names`` (None: not known).

    Raises InvalidArgument when a name is asked of a map without names, when the map has no
    such name, or when a number is given that the names say is another structure's absence."""
    from .. import InvalidArgument

    text = str(wanted).strip()
    if text.lstrip("-").isdigit():
        value = int(text)
        if names is not None and value not in names:
            raise InvalidArgument(f"{source}: the {role} label {value} is not among the map's labels "
                                  f"({_listing(names)})")
        return value
    if names is None:
        raise InvalidArgument(
            f"{source} carries no label names (no {label_names_path(source).name}): say which label is the "
            f"{role} with a number, or describe the map with --label-names FILE (JSON or colour table)")
    matches = [k for k, v in names.items() if v.lower() == text.lower()]
    if len(matches) != 1:
        raise InvalidArgument(f"{source}: no label is named '{text}' (the {role}); the map holds {_listing(names)}")
    return matches[0]


def _listing(names: Mapping[int, str]) -> str:
    items = [f"{k} {v}" for k, v in sorted(names.items()) if k != 0]
    return ", ".join(items[:24]) + (", ..." if len(items) > 24 else "")
