"""Self-describing label maps: the names of a map's labels travel with it.

A label map ``knee.nii.gz`` (or ``.nii``, ``.nrrd``, ``.nhdr``) carries its names in the JSON
sidecar ``knee.labels.json``::

    {"format": "sportsmed-labels", "version": 1, "labels": {"0": "background", "1": "femur", ...}}

written by ``sportsmed mri segment`` (the model's classes) and ``mri phantom`` (the pymskt
numbering). A map from another tool is described by a mapping file: the same JSON (or a bare
``{"1": "femur", ...}``) or a colour table: 3D Slicer's ``.ctbl`` (``index name r g b a`` per
line) or ITK-SNAP's label description file (``IDX R G B A VIS MSH "LABEL"``), ``#`` comments.
Names match whatever their case and whether words are joined by ``_``, ``-`` or spaces
("Femoral Cartilage" is ``femoral_cartilage``). Commands take structure names (``--cartilage
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
    repeated = _repeated_json_keys(path)
    if repeated:
        raise FormatError(f"label names '{path}': key {repeated!r} is given twice; give each label once")
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
        if label in out and out[label] != v:
            raise FormatError(f"label names '{path}': label {label} is given twice, as '{out[label]}' and '{v}'")
        out[label] = v
    return out


def _repeated_json_keys(path: Path) -> Optional[str]:
    """The first key given twice in one object of the JSON file ``path`` (which parses), or
    None: ``json`` keeps the last silently, which would hide a contradictory mapping."""
    import json

    found = []

    def pairs(items):
        keys = [k for k, _ in items]
        found.extend(k for i, k in enumerate(keys) if k in keys[:i])
        return dict(items)

    json.loads(path.read_bytes().decode("utf-8"), object_pairs_hook=pairs)
    return found[0] if found else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _colour_table_entry(line: str):
    """(label, name) of one line of a colour table, or None when it is not one.

    Two layouts are read: 3D Slicer's ``.ctbl`` (``index name r g b a``, the name one word)
    and ITK-SNAP's label description file (``IDX -R- -G- -B- -A-- VIS MSH "LABEL"``: seven
    numbers, then the name in double quotes, which may hold spaces)."""
    parts = line.split()
    if len(parts) < 2 or not (parts[0].lstrip("-").isascii() and parts[0].lstrip("-").isdigit()):
        return None
    if '"' in line:
        first, last = line.index('"'), line.rindex('"')
        # The quoted name may stand anywhere after the index (a Slicer name with spaces, too).
        numbers = line[:first].split() + line[last + 1:].split()
        if first == last or not all(_is_number(x) for x in numbers):
            return None
        return int(parts[0]), line[first + 1:last]
    # An ITK-SNAP line whose name lost its quotes: seven numbers, then the name.
    if len(parts) >= 8 and all(_is_number(x) for x in parts[1:7]):
        return int(parts[0]), " ".join(parts[7:])
    return int(parts[0]), parts[1]


def _labels_from_colour_table(path: Path) -> dict:
    from .. import FormatError

    out = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise FormatError(f"colour table '{path}': {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.split() or line.split()[0].startswith("#"):
            continue
        entry = _colour_table_entry(line)
        if entry is None:
            raise FormatError(f"colour table '{path}', line {n}: expected 'index name r g b a' (3D Slicer) or "
                              f"'IDX R G B A VIS MSH \"LABEL\"' (ITK-SNAP), got {line!r}")
        label, name = entry
        if label in out:
            raise FormatError(f"colour table '{path}', line {n}: label {label} is defined twice "
                              f"('{out[label]}' and '{name}'); give each label once")
        out[label] = name
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


def name_key(name: str) -> str:
    """The form in which two structure names are compared: lower case, words joined by ``_``."""
    return "_".join(str(name).replace("-", " ").replace("_", " ").lower().split())


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
    matches = sorted(k for k, v in names.items() if name_key(v) == name_key(text))
    if len(matches) > 1:
        raise InvalidArgument(f"{source}: the name '{text}' (the {role}) is ambiguous: labels "
                              f"{', '.join(map(str, matches))} are all named so; fix the label names or give the "
                              "label number")
    if not matches:
        raise InvalidArgument(f"{source}: no label is named '{text}' (the {role}); the map holds {_listing(names)}")
    return matches[0]


def _listing(names: Mapping[int, str]) -> str:
    items = [f"{k} {v}" for k, v in sorted(names.items()) if k != 0]
    return ", ".join(items[:24]) + (", ..." if len(items) > 24 else "")


def _remap(array, mapping: Mapping[int, int]):
    """``array`` with each label ``k`` replaced by ``mapping[k]`` (labels not in it kept)."""
    import numpy as np

    a = np.asarray(array)
    if a.dtype == np.uint8 and all(0 <= v < 256 for v in mapping.values()):
        lut = np.arange(256, dtype=np.uint8)
        for k, v in mapping.items():
            if 0 <= k < 256:
                lut[k] = v
        return lut[a]
    values, inverse = np.unique(a, return_inverse=True)
    new = np.array([mapping.get(int(v), int(v)) for v in values], dtype=np.int64)
    return new[inverse].reshape(a.shape)


def match_labels_by_name(pred, pred_names: Mapping[int, str], ref_names: Mapping[int, str], wanted=None,
                         pred_source: str = "prediction", ref_source: str = "reference", ref_present=()):
    """Renumbers the label map ``pred`` into the numbering of a reference by structure name.

    Parameters
    ----------
    pred : (nx, ny, nz) integer label map whose names are ``pred_names``.
    ref_names : the reference's {label: name}.
    wanted : reference label numbers that must be paired (None: every named one present).
    ref_present : labels present in the reference map (kept free for the prediction's own).

    Returns
    -------
    (array, names) : ``pred`` in the reference's numbers (int64, or uint8 for uint8 input);
    the names of its labels (the reference's, plus a prediction's structure the reference
    does not name under a free number, named "NAME (prediction label K)").

    Raises InvalidArgument when a wanted label has no name in the reference, or its name is
    held by no (or several) of the prediction's labels: the two tables contradict.
    """
    import numpy as np

    from .. import InvalidArgument

    ref_by_key = {}
    for k, v in ref_names.items():
        ref_by_key.setdefault(name_key(v), []).append(k)
    pred_by_key = {}
    for k, v in pred_names.items():
        pred_by_key.setdefault(name_key(v), []).append(k)
    for label in wanted or ():
        label = int(label)
        if label == 0:
            continue
        if label not in ref_names:
            said = f" ('{pred_names[label]}' in {pred_source})" if label in pred_names else ""
            raise InvalidArgument(f"label {label}{said} has no name in {ref_source}'s label names "
                                  f"({_listing(ref_names)}): the two maps cannot be paired by name")
        key = name_key(ref_names[label])
        if len(ref_by_key[key]) > 1:
            raise InvalidArgument(f"{ref_source}: the name '{ref_names[label]}' is ambiguous (labels "
                                  f"{', '.join(map(str, sorted(ref_by_key[key])))})")
        held = sorted(pred_by_key.get(key, ()))
        if len(held) != 1:
            other = f"; {pred_source} calls label {label} '{pred_names[label]}'" if label in pred_names else ""
            why = "no label" if not held else f"labels {', '.join(map(str, held))} (ambiguous)"
            raise InvalidArgument(f"the label names contradict: {ref_source} calls label {label} "
                                  f"'{ref_names[label]}', which {pred_source} gives to {why}{other}")
    mapping, names = {0: 0}, dict(ref_names)
    present = present_labels(pred)
    used = set(ref_names) | {int(v) for v in ref_present}
    limit = 256 if np.asarray(pred).dtype == np.uint8 else 1 << 31
    fresh = (n for n in range(limit - 1, 0, -1) if n not in used and n not in present)
    for p in present:
        if p == 0:
            continue
        name = pred_names.get(p)
        target = ref_by_key.get(name_key(name), []) if name is not None else []
        if len(target) == 1 and len(pred_by_key[name_key(name)]) == 1:
            mapping[p] = target[0]
            continue
        n = next(fresh, None)
        if n is None:
            raise InvalidArgument(f"{pred_source}: too many labels without a counterpart in {ref_source} to renumber")
        mapping[p] = n
        names[n] = f"{name or 'unnamed'} ({pred_source} label {p})"
    if all(k == v for k, v in mapping.items()):
        return np.asarray(pred), names
    return _remap(pred, mapping), names


def compact_label_map(array, what: str = "label map"):
    """A label map of any integer type (or whole-number floats) as a uint8 map, with the
    table back to the original numbers.

    Returns
    -------
    (labels, numbers) : the (nx, ny, nz) uint8 map; ``numbers`` is None when the labels are
    already 0-255 (kept as they are), else an int64 array with ``numbers[i]`` the original
    label of uint8 label ``i`` (0 stays 0). Raises InvalidArgument for negative or more than
    255 nonzero labels, and for anything :func:`as_label_map` refuses.
    """
    import numpy as np

    from .. import InvalidArgument
    from .._core import imaging as _imaging

    a = np.asarray(array)
    big = False
    if a.size and a.dtype.kind in "iu":
        big = int(a.max()) > 255 and int(a.min()) >= 0
    elif a.size and a.dtype.kind == "f" and np.all(np.isfinite(a)):
        big = float(a.max()) > 255 and float(a.min()) >= 0 and bool(np.all(a == np.floor(a)))
    if not big:
        return _imaging.as_label_map(a, what), None
    values, inverse = np.unique(a, return_inverse=True)
    numbers = values.astype(np.int64)
    if numbers[0] != 0:
        numbers = np.concatenate([[0], numbers])
        inverse = inverse + 1
    if numbers.size > 256:
        raise InvalidArgument(f"{what}: holds {numbers.size - 1} distinct nonzero labels; at most 255 can be "
                              "measured at once (merge or split the map)")
    return np.asfortranarray(inverse.reshape(a.shape).astype(np.uint8)), numbers


def present_labels(array):
    """The sorted label values (int) that occur in ``array``."""
    import numpy as np

    a = np.asarray(array)
    if a.dtype == np.uint8:
        return [int(v) for v in np.flatnonzero(np.bincount(a.ravel(order="K"), minlength=256))]
    return [int(v) for v in np.unique(a)]
