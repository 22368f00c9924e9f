"""De-identify files before they are shared (``sportsmed deid``).

Each file is handled by its type, recognised from its name and, for DICOM, its magic:

DICOM (``DICM`` at byte 128, or ``.dcm``/``.ima``/``.dicom``)
    The Basic Application Level Confidentiality Profile of DICOM PS3.15 Annex E, applied
    by GDCM's Anonymizer: names, ids, birth date, institution, physicians, dates and
    times, device serial numbers, free-text comments ... are emptied, removed or replaced
    by dummies; every UID is replaced, the same input UID by the same new UID in all
    files of one run (a series stays one series of one study, one frame of reference);
    private attributes are removed. With a secret, PatientID and PatientName become the
    patient's pseudonym (:func:`sportsmed.privacy.pseudonym` of the original PatientID).
    Pixel data are not touched (checked byte for byte for every file).
C3D
    Free text goes: the SUBJECTS group (NAMES, LABEL_PREFIXES, ...), MANUFACTURER, every
    group's and parameter's description, and every character parameter that reading does
    not need. Kept: labels (``*LABELS*``, the Plug-in Gait ``ANGLES``/``FORCES``/...
    lists), units (``UNITS``, ``*_UNITS``), ``X_SCREEN``/``Y_SCREEN``, ``ANALOG:FORMAT``,
    ``EVENT:CONTEXTS``. A subject prefix on labels (``A22:LASI``) is cut off. Text is
    overwritten with spaces in place, so every byte of the data section stays where it
    was; the file is read back and must give the same points, analogs and events.
NIfTI (``.nii``, ``.nii.gz``, ``.hdr``/``.img`` pairs)
    ``descrip``, ``aux_file``, ``intent_name`` and the unused Analyze text fields are
    zeroed; extensions are dropped, except sportsmed's own pair record (the data's size
    and CRC-32). Data bytes and geometry are unchanged.
TRC
    The source file path in the first header line is replaced by the output's file name;
    a subject prefix on marker labels (``JDoe:LASI``) is cut.
CSV
    ``--id-column`` columns become pseudonyms (a secret is required); ``--drop-column``
    columns (free text: notes, names) are removed. A CSV with none of the given columns
    is refused: a table is not assumed to be free of identifiers.

A DICOMDIR (named so, or of Media Storage SOP Class 1.2.840.10008.1.3.10) is left out of
a folder's output, with a warning in the report: it indexes the original UIDs and byte
offsets, so it must be regenerated from the de-identified files. Given alone, it is refused.

Anything else is refused unless ``copy_unknown`` (then copied as it is and listed as
such in the report). A folder in gives a mirrored folder out, written under a temporary
name and renamed only when every file succeeded, with ``sportsmed-deid.json``: per file,
what was changed (field names, never the original values). File and folder names are
kept as they are: rename files that carry names before sharing.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import re
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Union

from . import __version__
from ._core import Error, FormatError, InvalidArgument, NotFound
from ._io import atomic_output, write_json_atomic

PathLike = Union[str, "os.PathLike[str]"]

REPORT_NAME = "sportsmed-deid.json"

# ---------------------------------------------------------------------------------------
# type detection


def file_kind(path: PathLike) -> Optional[str]:
    """``"dicom"``, ``"c3d"``, ``"nifti"``, ``"nifti_pair"`` (a ``.hdr``), ``"nifti_img"``
    (the ``.img`` of a pair), ``"trc"``, ``"csv"``, ``"label_names"`` (``*.labels.json``),
    ``"echo_times"`` (a ``.json`` holding ``EchoTimes_ms``), or None (unknown)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    suffix = p.suffix.lower()
    if suffix == ".hdr":
        return "nifti_pair"
    if suffix == ".img":
        return "nifti_img"
    if suffix == ".c3d":
        return "c3d"
    if suffix == ".trc":
        return "trc"
    if suffix == ".csv":
        return "csv"
    if suffix in (".dcm", ".ima", ".dicom"):
        return "dicom"
    if name.endswith(".labels.json"):
        return "label_names"
    if suffix == ".json":
        try:
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        return "echo_times" if isinstance(doc, dict) and "EchoTimes_ms" in doc else None
    try:
        with open(p, "rb") as f:
            head = f.read(132)
    except OSError as exc:
        raise NotFound(f"deid: cannot read '{p}': {exc.strerror or exc}") from None
    if len(head) == 132 and head[128:132] == b"DICM":
        return "dicom"
    return None


#: What the project's own sidecars may carry: label names (``<map>.labels.json``, as
#: ``imaging.write_label_names`` writes) and echo times (``<image>.json``, as ``mri convert``
#: writes, BIDS-style); every other key — a ``Source`` path, free text — is removed.
SIDECAR_KEYS = {"label_names": ("labels",), "echo_times": ("EchoTimes_ms", "EchoTime")}


def deid_sidecar(src: PathLike, dst: PathLike, kind: str) -> list:
    """Writes ``src`` (a sportsmed sidecar of ``kind``) to ``dst`` keeping only the keys the
    analysis reads (:data:`SIDECAR_KEYS`); returns what was removed."""
    from ._io import write_json_atomic

    try:
        with open(src, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise FormatError(f"deid: cannot read the sidecar '{src}': {exc}") from None
    if not isinstance(doc, dict):
        raise FormatError(f"deid: '{src}' is not a JSON object")
    keep = SIDECAR_KEYS[kind]
    out = {k: doc[k] for k in keep if k in doc}
    removed = sorted(k for k in doc if k not in keep)
    write_json_atomic(dst, out, indent=2)
    return [f"removed {', '.join(removed)}"] if removed else ["copied (label names / echo times only)"]


# A DICOMDIR (PS3.10 media directory) indexes its files by their original SOP Instance
# UIDs and by byte offsets into itself; de-identifying it like an image would leave the
# original UIDs in it and its offsets wrong. It is left out of the output instead.
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
DICOMDIR_WARNING = ("DICOMDIR not copied: it indexes the original UIDs; regenerate it from the "
                    "de-identified files")
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def _media_storage_sop_class(path: Path) -> Optional[str]:
    """(0002,0002) MediaStorageSOPClassUID of a Part 10 file, or None. The file meta group
    is always explicit VR little endian (PS3.10 7.1), so a short walk reads it."""
    try:
        with open(path, "rb") as f:
            head = f.read(132 + 65536)
    except OSError:
        return None
    if len(head) < 132 or head[128:132] != b"DICM":
        return None
    at = 132
    while at + 8 <= len(head):
        group, elem = struct.unpack_from("<HH", head, at)
        if group != 0x0002:
            return None
        vr = head[at + 4:at + 6]
        if vr in _LONG_VRS:
            if at + 12 > len(head):
                return None
            (n,) = struct.unpack_from("<I", head, at + 8)
            value_at = at + 12
        else:
            (n,) = struct.unpack_from("<H", head, at + 6)
            value_at = at + 8
        if elem == 0x0002:
            return head[value_at:value_at + n].rstrip(b"\x00 ").decode("ascii", errors="replace")
        at = value_at + n
    return None


def is_dicomdir(path: PathLike) -> bool:
    """True for a DICOMDIR: named ``DICOMDIR`` or of Media Storage SOP Class 1.2.840.10008.1.3.10."""
    p = Path(path)
    return p.name.upper() == "DICOMDIR" or _media_storage_sop_class(p) == DICOMDIR_SOP_CLASS


# ---------------------------------------------------------------------------------------
# C3D: text parameters overwritten in place

# Character parameters reading needs (any group): labels, units, the screen axes, the
# analog format, event contexts, Plug-in Gait's lists of output labels.
_C3D_KEEP = re.compile(r"^(?:[A-Z_]*LABELS\d*|UNITS\d*|[A-Z_]*_UNITS\d*|X_SCREEN|Y_SCREEN|FORMAT|CONTEXTS\d*|"
                       r"ANGLES|FORCES|MOMENTS|POWERS|SCALARS|REACTIONS|TYPE_GROUPS)$")
# Groups whose every character parameter goes, whatever its name.
_C3D_DROP_GROUPS = {"SUBJECTS", "SUBJECT", "MANUFACTURER"}
# Where the subject's name is (Vicon: SUBJECTS; older systems: SUBJECT:NAME).
_C3D_NAME_PARAMS = {("SUBJECTS", "NAMES"), ("SUBJECTS", "LABEL_PREFIXES"), ("SUBJECT", "NAME")}


class _C3dText:
    """One run of text bytes in the parameter section (a value or a description)."""

    def __init__(self, group: str, name: str, kind: str, offset: int, length: int, width: int = 0):
        self.group, self.name, self.kind = group, name, kind
        self.offset, self.length, self.width = offset, length, width


def _c3d_text_fields(data: bytes, path: str) -> List[_C3dText]:
    """Walks the parameter section of a C3D file as sportsmed's reader does (records up to
    the larger of the declared section and the data section's start, following the chain
    of next-record offsets); returns every text field (character parameter values and
    descriptions) with its byte range. FormatError when a record runs past the file."""
    def bad(what):
        raise FormatError(f"deid: C3D '{path}': {what}")

    if len(data) < 512:
        bad("shorter than its 512-byte header")
    if data[0] < 1:
        bad(f"parameter block number {data[0]}")
    start = (data[0] - 1) * 512
    if start + 4 > len(data):
        bad("parameter section past the end of the file")
    proc = data[start + 3]
    e = ">" if proc == 86 else "<"
    declared_end = start + 512 * max(data[start + 2], 1)
    data_start = (struct.unpack_from(e + "H", data, 16)[0] - 1) * 512
    end = min(max(declared_end, data_start), len(data))
    entries = []
    at = start + 4
    while at + 2 <= end:
        nchars, gid = struct.unpack_from("bb", data, at)
        if nchars == 0:
            break
        n = abs(nchars)
        name_end = at + 2 + n
        if name_end + 2 > len(data):
            bad(f"parameter record at byte {at} runs past the end of the file")
        name = data[at + 2:name_end].decode("latin-1").strip().upper()
        (next_off,) = struct.unpack_from(e + "h", data, name_end)
        last = next_off <= 0
        nxt = name_end + next_off
        if not last and nxt > len(data):
            bad(f"parameter record '{name}' at byte {at} points past the end of the file")
        if gid != 0:
            entries.append((gid, name, name_end + 2, end if last else nxt))
        if last:
            break
        at = nxt
    groups = {-gid: name for gid, name, _, _ in entries if gid < 0}
    fields: List[_C3dText] = []
    for gid, name, body, record_end in entries:
        if gid < 0:
            if body < record_end:
                dlen = data[body]
                if body + 1 + dlen <= record_end:
                    fields.append(_C3dText(name, "", "description", body + 1, dlen))
            continue
        group = groups.get(gid, f"GROUP{gid}")
        if body + 2 > len(data):
            bad(f"parameter {group}:{name} runs past the end of the file")
        ptype = struct.unpack_from("b", data, body)[0]
        ndims = data[body + 1]
        dims = list(data[body + 2:body + 2 + ndims])
        count = 1
        for d in dims:
            count *= d
        vstart = body + 2 + ndims
        vlen = abs(ptype) * count
        if vstart + vlen > len(data):
            bad(f"parameter {group}:{name} runs past the end of the file")
        if ptype == -1 and vlen > 0:
            fields.append(_C3dText(group, name, "value", vstart, vlen, dims[0] if dims else 1))
        dstart = vstart + vlen
        if dstart < record_end and dstart < len(data):
            dlen = data[dstart]
            if dstart + 1 + dlen <= len(data):
                fields.append(_C3dText(group, name, "description", dstart + 1, dlen))
    return fields


def _c3d_strings(buf: bytes, f: _C3dText) -> List[str]:
    raw = buf[f.offset:f.offset + f.length]
    w = f.width or len(raw)
    return [raw[k:k + w].decode("latin-1").strip() for k in range(0, len(raw), w)] if w else []


def deid_c3d(src: PathLike, dst: PathLike, keep: Sequence[str] = ()) -> List[str]:
    """De-identifies one C3D file (see the module doc); returns what was changed."""
    from . import motion
    import numpy as np

    src, dst = Path(src), Path(dst)
    original = motion.read_c3d(str(src))  # a malformed file is refused here, typed
    data = bytearray(src.read_bytes())
    fields = _c3d_text_fields(bytes(data), str(src))
    keep_set = {k.upper() for k in keep}
    changes: List[str] = []
    subject_names: set = set()
    for f in fields:
        if (f.group, f.name) in _C3D_NAME_PARAMS and f.kind == "value":
            subject_names.update(s.rstrip(":").strip() for s in _c3d_strings(bytes(data), f))
    subject_names.discard("")
    kept_values = []
    for f in fields:
        full = f"{f.group}:{f.name}" if f.name else f.group
        if f.kind == "description":
            if full.upper() in keep_set or f.length == 0:
                continue
            if any(b != 0x20 for b in data[f.offset:f.offset + f.length]):
                data[f.offset:f.offset + f.length] = b" " * f.length
                changes.append(f"{full} description: blanked")
            continue
        drop = f.group in _C3D_DROP_GROUPS or not _C3D_KEEP.match(f.name)
        if full.upper() in keep_set:
            drop = False
        if drop:
            if any(b != 0x20 for b in data[f.offset:f.offset + f.length]):
                data[f.offset:f.offset + f.length] = b" " * f.length
                changes.append(f"{full}: blanked")
        else:
            kept_values.append(f)
    # A subject's name as a label prefix (Vicon's "A22:LASI"): cut off, the label stays.
    if subject_names and "SUBJECTS:NAMES" not in keep_set:
        for f in kept_values:
            w = f.width or f.length
            cut = 0
            for k in range(0, f.length, w):
                cell = bytes(data[f.offset + k:f.offset + k + w])
                text = cell.decode("latin-1")
                for name in subject_names:
                    prefix = name + ":"
                    if text.upper().startswith(prefix.upper()):
                        rest = text[len(prefix):]
                        data[f.offset + k:f.offset + k + w] = (rest + " " * len(prefix)).encode("latin-1")
                        cut += 1
                        break
            if cut:
                changes.append(f"{f.group}:{f.name}: subject prefix cut from {cut} labels")
        for f in kept_values:
            text = bytes(data[f.offset:f.offset + f.length]).decode("latin-1").upper()
            for name in subject_names:
                if re.search(r"(?<![A-Z0-9])" + re.escape(name.upper()) + r"(?![A-Z0-9])", text):
                    raise Error(f"deid: C3D '{src}': a subject name of SUBJECTS:NAMES also appears inside "
                                f"{f.group}:{f.name}, which reading needs; rename it there, or keep the name "
                                "with --keep SUBJECTS:NAMES")
    with atomic_output(dst, "wb") as out:
        out.write(bytes(data))

    def same():
        # The same data must read back: points, analogs, events (times and contexts).
        a, b = original.trial, motion.read_c3d(str(dst)).trial
        return (np.array_equal(a.points, b.points, equal_nan=True)
                and np.array_equal(a.residuals, b.residuals, equal_nan=True)
                and np.array_equal(a.analogs, b.analogs, equal_nan=True)
                and a.point_rate_hz == b.point_rate_hz and a.analog_rate_hz == b.analog_rate_hz
                and a.first_frame == b.first_frame and a.point_units == b.point_units
                and list(a.analog_units) == list(b.analog_units)
                and [(e.label, e.context, e.time_s) for e in a.events]
                == [(e.label, e.context, e.time_s) for e in b.events]
                and len(a.point_labels) == len(b.point_labels)
                and list(a.analog_labels) == list(b.analog_labels))

    _verify(dst, same, f"deid: C3D '{src}': the de-identified copy does not read to the same data")
    return changes


# ---------------------------------------------------------------------------------------
# NIfTI: header text fields and extensions

_PAIR_RECORD = re.compile(rb"^sportsmed-pair bytes=\d+ crc32=[0-9a-f]{8}\x00*$")
# (offset, length, name) of text fields; the Analyze leftovers may hold text too.
_N1_TEXT = [(148, 80, "descrip"), (228, 24, "aux_file"), (328, 16, "intent_name"), (4, 10, "data_type"),
            (14, 18, "db_name")]
_N2_TEXT = [(240, 80, "descrip"), (320, 24, "aux_file"), (508, 16, "intent_name"), (525, 15, "unused_str")]


def _nifti_edit(raw: bytes, path: str, keep: set, single_file: bool):
    """(new bytes, changes) of a .nii (``single_file``) or a pair's .hdr."""
    if len(raw) < 348:
        raise FormatError(f"deid: NIfTI '{path}': {len(raw)} bytes, shorter than a header")
    for endian in ("<", ">"):
        (hsize,) = struct.unpack_from(endian + "i", raw, 0)
        if hsize in (348, 540):
            break
    else:
        raise FormatError(f"deid: NIfTI '{path}': sizeof_hdr is neither 348 nor 540")
    if len(raw) < hsize:
        raise FormatError(f"deid: NIfTI '{path}': {len(raw)} bytes, shorter than its {hsize}-byte header")
    out = bytearray(raw)
    changes: List[str] = []
    for off, n, name in (_N1_TEXT if hsize == 348 else _N2_TEXT):
        if name in keep:
            continue
        if any(out[off:off + n]):
            out[off:off + n] = bytes(n)
            changes.append(f"{name}: cleared")
    if hsize == 348:
        vox = struct.unpack_from(endian + "f", raw, 108)[0]
    else:
        vox = struct.unpack_from(endian + "q", raw, 168)[0]
    vox = int(vox)
    ext_end = vox if single_file else len(raw)
    if single_file and (vox < hsize or vox > len(raw)):
        raise FormatError(f"deid: NIfTI '{path}': vox_offset {vox} outside the file")
    if "extensions" in keep:
        return bytes(out), changes
    # Between the header and the data (or the end of a .hdr): extensions, or bytes some
    # writer left there. Only sportsmed's pair record (a size and a CRC) is kept.
    kept_ext, dropped = b"", 0
    at = hsize + 4
    if len(raw) >= hsize + 4 and raw[hsize] != 0:
        while at + 8 <= ext_end:
            esize, ecode = struct.unpack_from(endian + "ii", raw, at)
            if esize < 8 or at + esize > ext_end:
                break
            body = raw[at + 8:at + esize]
            if ecode == 6 and _PAIR_RECORD.match(body):
                kept_ext += raw[at:at + esize]
            else:
                dropped += 1
            at += esize
    header = out[:hsize]
    flag = bytes([1, 0, 0, 0]) if kept_ext else bytes(4)
    new_vox = hsize + 4 + len(kept_ext)
    if single_file:
        if hsize == 348:
            struct.pack_into(endian + "f", header, 108, float(new_vox))
        else:
            struct.pack_into(endian + "q", header, 168, new_vox)
    new = bytes(header + flag + kept_ext) + (raw[vox:] if single_file else b"")
    if new != bytes(out):
        if dropped:
            changes.append(f"extensions: {dropped} removed")
        if at < ext_end or (not dropped and new[hsize:new_vox] != bytes(out[hsize:new_vox])):
            changes.append("bytes between header and data cleared")
        out = bytearray(new)
    return bytes(out), changes


def _same_image(a, b) -> bool:
    import numpy as np

    return (a.array.dtype == b.array.dtype and np.array_equal(a.array, b.array, equal_nan=True)
            and np.array_equal(a.affine, b.affine))


def deid_nifti(src: PathLike, dst: PathLike, keep: Sequence[str] = ()) -> List[str]:
    """De-identifies a ``.nii``/``.nii.gz`` file or a ``.hdr`` (whose ``.img`` is copied
    beside ``dst``); returns what was changed."""
    from . import imaging

    src, dst = Path(src), Path(dst)
    original = imaging.read_image(src)  # sizes checked against the file before anything else
    keep_set = {k.lower() for k in keep}
    name = src.name.lower()
    if name.endswith(".hdr"):
        img_src = next((src.with_suffix(s) for s in (".img", ".IMG") if src.with_suffix(s).exists()), None)
        if img_src is None:
            raise NotFound(f"deid: NIfTI pair '{src}' has no .img")
        new, changes = _nifti_edit(src.read_bytes(), str(src), keep_set, single_file=False)
        img_dst = dst.with_suffix(img_src.suffix)
        with atomic_output(img_dst, "wb") as f, open(img_src, "rb") as g:
            shutil.copyfileobj(g, f)
        with atomic_output(dst, "wb") as f:
            f.write(new)
    else:
        raw = src.read_bytes()
        gz = name.endswith(".gz")
        body = gzip.decompress(raw) if gz else raw
        new, changes = _nifti_edit(body, str(src), keep_set, single_file=True)
        with atomic_output(dst, "wb") as f:
            # mtime 0 and no file name in the gzip header: nothing about the source.
            f.write(gzip.compress(new, mtime=0) if gz else new)
    _verify(dst, lambda: _same_image(original, imaging.read_image(dst)),
            f"deid: NIfTI '{src}': the de-identified copy does not read to the same data and geometry")
    return changes


def _verify(dst: Path, same: Callable[[], bool], message: str) -> None:
    """Reads a written output back; removes it and raises Error when it differs."""
    try:
        ok = same()
    except Error:
        ok = False
    if not ok:
        with contextlib.suppress(OSError):
            dst.unlink()
        raise Error(message)


# ---------------------------------------------------------------------------------------
# TRC and CSV

def deid_trc(src: PathLike, dst: PathLike) -> List[str]:
    """Replaces the source path of a TRC's first line (``PathFileType 4 (X/Y/Z) PATH``) by
    the output's file name; the rest of the file is copied byte for byte."""
    from . import motion
    import numpy as np

    src, dst = Path(src), Path(dst)
    original = motion.read_trc(str(src))
    raw = src.read_bytes()
    nl = raw.find(b"\n")
    first, rest = (raw, b"") if nl < 0 else (raw[:nl + 1], raw[nl + 1:])
    eol = b"\r\n" if first.endswith(b"\r\n") else (b"\n" if first.endswith(b"\n") else b"")
    body = first[:len(first) - len(eol)]
    # "PathFileType 4 (X/Y/Z) PATH", separated by tabs, spaces or commas (all seen in the
    # wild); everything after the (X/Y/Z) field is the source path, then maybe padding.
    m = re.match(rb"^(\s*PathFileType[\s,]+[^\s,]+[\s,]+\([^)]*\))([\s,]?)(.*?)([,\t]*)$", body, re.IGNORECASE)
    if not m:
        raise FormatError(f"deid: TRC '{src}': the first line is not 'PathFileType <version> (X/Y/Z) <path>'")
    changes: List[str] = []
    sep = m.group(2) or b"\t"
    if m.group(3).strip():
        first = m.group(1) + sep + dst.name.encode("utf-8") + m.group(4) + eol
        changes.append("header line 1: source path replaced by the file name")
    # Marker labels (line 4: Frame#, Time, then one label per marker) may carry a subject
    # prefix, Vicon's "JDoe:LASI": the part up to the last ':' goes.
    lines = rest.split(b"\n")
    cut = 0
    if len(lines) >= 3:
        line = lines[2]
        end = b"\r" if line.endswith(b"\r") else b""
        sep = b"\t" if b"\t" in line else b","
        cells = line[:len(line) - len(end)].split(sep)
        for k in range(2, len(cells)):
            if b":" in cells[k]:
                cells[k] = cells[k].rsplit(b":", 1)[1]
                cut += 1
        if cut:
            lines[2] = sep.join(cells) + end
            rest = b"\n".join(lines)
            changes.append(f"marker labels: subject prefix cut from {cut} labels")
    with atomic_output(dst, "wb") as f:
        f.write(first + rest)

    def same():
        check = motion.read_trc(str(dst))
        labels = [lab.rsplit(":", 1)[-1] for lab in original.point_labels]
        return (np.array_equal(original.points, check.points, equal_nan=True)
                and labels == list(check.point_labels))

    _verify(dst, same, f"deid: TRC '{src}': the de-identified copy does not read to the same data")
    return changes


def _read_csv_text(src: Path) -> str:
    raw = src.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def deid_csv(src: PathLike, dst: PathLike, id_columns: Sequence[str] = (), drop_columns: Sequence[str] = (),
             secret: Optional[bytes] = None) -> List[str]:
    """Pseudonymises ``id_columns`` and removes ``drop_columns`` of a CSV (``,``, ``;`` or
    tab separated, UTF-8 or Windows-1252); other cells are copied as text, unchanged."""
    from .privacy import pseudonym

    src, dst = Path(src), Path(dst)
    text = _read_csv_text(src)
    first = text.split("\n", 1)[0]
    delim = max([",", ";", "\t"], key=first.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    if not rows:
        raise FormatError(f"deid: CSV '{src}' is empty")
    # Names as written, but a space around one does not hide a column; a name may repeat,
    # and then every column of that name is pseudonymised (or removed).
    header = [c.strip() for c in rows[0]]
    ids = [c for c in dict.fromkeys(c.strip() for c in id_columns) if c in header]
    drops = [c for c in dict.fromkeys(c.strip() for c in drop_columns) if c in header]
    if not ids and not drops:
        raise InvalidArgument(f"deid: CSV '{src}' has none of the columns given by --id-column/--drop-column "
                              f"(its columns: {header}); say which columns identify athletes or hold free text")
    if ids and secret is None:
        raise InvalidArgument(f"deid: CSV '{src}': pseudonymising {ids} needs a secret (--secret FILE)")
    id_idx = [k for k, c in enumerate(header) if c in ids]
    keep_idx = [k for k, c in enumerate(header) if c not in drops]
    cache: dict = {}
    out_rows = []
    for r, row in enumerate(rows):
        if r > 0:
            row = list(row)
            for k in id_idx:
                if k < len(row) and row[k].strip() != "":
                    v = row[k]
                    if v not in cache:
                        cache[v] = pseudonym(v, secret)
                    row[k] = cache[v]
        out_rows.append([row[k] for k in keep_idx if k < len(row)])
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delim, lineterminator="\n").writerows(out_rows)
    with atomic_output(dst, "w", newline="") as f:
        f.write(buf.getvalue())
    def times(c):
        n = header.count(c)
        return f" ({n} columns of that name)" if n > 1 else ""

    changes = ([f"column {c!r}: pseudonymised{times(c)}" for c in ids]
               + [f"column {c!r}: removed{times(c)}" for c in drops])
    return changes


# ---------------------------------------------------------------------------------------
# the run

def _parse_tag(text: str):
    m = re.fullmatch(r"\(?\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)?", text.strip())
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def deidentify(source: PathLike, output: PathLike, secret: Optional[bytes] = None, keep: Iterable[str] = (),
               id_columns: Iterable[str] = (), drop_columns: Iterable[str] = (), copy_unknown: bool = False,
               keep_private: bool = False, progress: Optional[Callable[[float, str], object]] = None) -> dict:
    """De-identifies ``source`` (a file or a folder) into ``output``.

    Parameters
    ----------
    source : path-like
        A file, or a folder (walked recursively; its layout is mirrored).
    output : path-like
        The file, or folder, to create. A file must not exist; a folder must not exist or
        be empty; it is written under a temporary name beside it and renamed when every
        file succeeded.
    secret : bytes, optional
        The study's secret (:func:`sportsmed.privacy.load_or_create_secret`): needed for
        ``id_columns``; with it, DICOM PatientID/PatientName become pseudonyms.
    keep : iterable of str
        Items left as they are: C3D parameters (``GROUP:NAME``), NIfTI fields
        (``descrip``, ``aux_file``, ``intent_name``, ``extensions``), DICOM attributes
        (``gggg,eeee``).
    id_columns, drop_columns : iterable of str
        CSV columns to pseudonymise / to remove.
    copy_unknown : bool
        Copy files of unknown type as they are (listed in the report) instead of refusing.
    keep_private : bool
        Keep DICOM private attributes.

    Returns
    -------
    dict
        The report (also written to ``sportsmed-deid.json`` in an output folder): tool
        version, profile, and per file its path relative to the input, kind and changes;
        ``skipped`` (files left out of the output, with the reason: a DICOMDIR, which
        indexes the original UIDs) and ``warnings`` (one line each).

    Raises
    ------
    sportsmed.InvalidArgument
        Unknown file type (without ``copy_unknown``), a non-empty output folder, an
        existing output file, a DICOMDIR given alone, an output inside the input, a CSV
        without the named columns.
    sportsmed.FormatError, sportsmed.NotFound
        A file that cannot be read; the message names it.
    """
    src, out = Path(source), Path(output)
    keep = list(keep)
    dicom_keep = [t for t in (_parse_tag(k) for k in keep) if t]
    id_columns, drop_columns = list(id_columns), list(drop_columns)
    if not src.exists():
        raise NotFound(f"deid: '{src}' does not exist")
    if src.resolve() == out.resolve() or src.resolve() in out.resolve().parents:
        raise InvalidArgument(f"deid: the output '{out}' lies inside the input '{src}'")
    blocker = next((p for p in out.resolve().parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise InvalidArgument(f"deid: the output '{out}' cannot be written: '{blocker}' is a file, not a folder")
    pseud = None
    if secret is not None:
        from .privacy import pseudonym

        pseud = lambda pid: pseudonym(pid, secret)  # noqa: E731

    if src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.is_file() or p.is_symlink())
        rel = [p.relative_to(src) for p in files]
        if out.exists() and not out.is_dir():
            raise InvalidArgument(f"deid: the output '{out}' is a file; give a folder (absent or empty) for the "
                                  f"folder '{src}'")
        if out.exists() and any(out.iterdir()):
            raise InvalidArgument(f"deid: the output folder '{out}' exists and is not empty")
        if any(str(r) == REPORT_NAME for r in rel):
            raise InvalidArgument(f"deid: the input '{src}' holds a file named {REPORT_NAME}, the report's name")
    else:
        files, rel = [src], [Path(src.name)]
        if out.is_dir():
            raise InvalidArgument(f"deid: the output '{out}' is a folder; give a file name for one input file")
        # as a non-empty output folder is, an existing output file is refused, never overwritten
        if out.exists() or out.is_symlink():
            raise InvalidArgument(f"deid: the output file '{out}' exists; nothing was written. Remove it, or give "
                                  "another name")

    kinds = []
    skipped: List[dict] = []
    for p in list(files):
        if p.is_symlink():
            raise InvalidArgument(f"deid: '{p}' is a symbolic link; de-identify what it points to")
        if is_dicomdir(p):
            if not src.is_dir():
                raise InvalidArgument(f"deid: '{p}' is a DICOMDIR, which indexes the original UIDs; nothing was "
                                      "written. De-identify the folder of images it indexes and regenerate the "
                                      "DICOMDIR from the de-identified files")
            i = files.index(p)
            skipped.append({"path": rel[i].as_posix(), "kind": "dicomdir", "reason": DICOMDIR_WARNING})
            del files[i], rel[i]
            continue
        k = file_kind(p)
        if k is None and not copy_unknown:
            raise InvalidArgument(f"deid: '{p}' is of a type deid does not know (by name or content); nothing was "
                                  "written. Remove it, or copy such files as they are with --copy-unknown")
        kinds.append(k)
    # An .img belongs to its .hdr; one without is unknown.
    hdrs = {p.with_suffix("").as_posix().lower() for p, k in zip(files, kinds) if k == "nifti_pair"}
    for i, (p, k) in enumerate(zip(files, kinds)):
        if k == "nifti_img" and p.with_suffix("").as_posix().lower() not in hdrs:
            if not copy_unknown:
                raise InvalidArgument(f"deid: '{p}' is an .img without its .hdr; nothing was written")
            kinds[i] = None

    if src.is_dir():
        parent = out.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".deid-tmp", dir=parent))
        targets = [stage / r for r in rel]
    else:
        stage = None
        targets = [out]
    report = {"tool": f"sportsmed {__version__}", "format": "sportsmed.deid v1",
              "profile": "DICOM PS3.15 Annex E basic application level confidentiality profile (GDCM Anonymizer)",
              "pseudonyms": "HMAC-SHA256 with the study secret" if secret is not None else None,
              "files": [], "skipped": skipped,
              "warnings": [f"{e['path']}: {e['reason']}" for e in skipped]}
    entries: List[Optional[dict]] = [None] * len(files)
    try:
        for t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
        dicom = [i for i, k in enumerate(kinds) if k == "dicom"]
        total = len(files)
        done = 0
        if dicom:
            from . import imaging

            reports = imaging.deidentify_dicom_files([str(files[i]) for i in dicom], [str(targets[i]) for i in dicom],
                                                     patient_pseudonym=pseud, keep=dicom_keep,
                                                     keep_private=keep_private)
            for i, r in zip(dicom, reports):
                entries[i] = {"path": rel[i].as_posix(), "kind": "dicom", "changes": list(r["changes"])}
            done += len(dicom)
            if progress is not None:
                progress(done / total, "dicom")
        for i, (p, k) in enumerate(zip(files, kinds)):
            if k == "dicom":
                continue
            if k == "c3d":
                ch = deid_c3d(p, targets[i], keep)
            elif k in ("nifti", "nifti_pair"):
                ch = deid_nifti(p, targets[i], keep)
            elif k == "nifti_img":
                ch = ["copied with its .hdr"]
            elif k == "trc":
                ch = deid_trc(p, targets[i])
            elif k == "csv":
                ch = deid_csv(p, targets[i], id_columns, drop_columns, secret)
            elif k in ("label_names", "echo_times"):
                ch = deid_sidecar(p, targets[i], k)
            else:
                with atomic_output(targets[i], "wb") as f, open(p, "rb") as g:
                    shutil.copyfileobj(g, f)
                ch = ["copied unchanged (unknown type, --copy-unknown)"]
            entries[i] = {"path": rel[i].as_posix(), "kind": k or "unknown", "changes": ch}
            done += 1
            if progress is not None:
                progress(done / total, k or "copy")
        report["files"] = entries
        if stage is not None:
            write_json_atomic(stage / REPORT_NAME, report)
            if out.exists():
                out.rmdir()  # empty (checked above)
            os.replace(stage, out)
            stage = None
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
    return report
