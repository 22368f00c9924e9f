"""An independent, pure-NumPy C3D decoder used as the reference of test_c3d_conformance.py.

Written from the C3D file-format description (www.c3d.org, "The C3D File Format User
Guide"), not from the project's C++ reader, so that the conformance test compares two
implementations. It favours clarity over speed and decodes only what the test compares:

* header (first 512-byte block): pointer to the parameter section (byte 0), point count,
  analog values per frame, first/last frame, POINT scale, data block, analog ratio, frame
  rate, and the header events (key 12345 at word 150, count at word 151);
* parameter section: the processor byte (its byte 3: 84 + 1 Intel, + 2 DEC, + 3 MIPS), then
  groups and parameters (char, byte, int16, float; C3D dimension order, first fastest);
  a parameter whose "next" offset is unusable is stepped over by its own length;
* numbers: Intel little-endian, DEC little-endian words with VAX F-floats, MIPS big-endian;
* data section: per frame, 4 words per point (x, y, z, residual word), then the analog
  samples (ratio × channels, channel fastest); int16 storage when POINT:SCALE > 0
  (coordinates × SCALE), float storage when it is negative. Parameters win over the header
  (POINT:USED, POINT:SCALE, POINT:DATA_START when non-zero, POINT:FRAMES when larger), except
  that a POINT:USED with which the data section cannot hold the declared frames yields to
  header word 2 when that one fits; the analog ratio is header word 10, else
  ANALOG:RATE / POINT:RATE, else header word 3 / ANALOG:USED. A file shorter than declared
  gives its complete frames (with a warning);
* residual word: negative = invalid point (NaN); otherwise low byte × |SCALE| is the
  residual and the high byte the camera mask. Exact (0, 0, 0) points count as missing;
* analogs: (raw − OFFSET[c]) · SCALE[c] · GEN_SCALE, raw read as unsigned 16-bit words
  when ANALOG:FORMAT is "UNSIGNED" (OFFSET then read unsigned too), else signed; an int16
  OFFSET of −32768 is the unsigned mid-scale +32768;
* parameter section: bounded by its declared block count or the data section, whichever
  is later (several files under-declare the count);
* labels continued in LABELS2, LABELS3 …; frame counts above 65535 from
  TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD (two 16-bit words each, low first) or POINT:FRAMES;
* EVENT group (TIMES = minutes, seconds);
* FORCE_PLATFORM types 2, 3 (Kistler, ORIGIN = a, b, az0) and 4 (CAL_MATRIX applied, stored
  with the first index fastest). ORIGIN is the vector from the plate's sensor origin to the
  centre of its surface in the plate frame (z pointing into the floor), so its z is negative
  (the origin lies below the surface); a positive z (Vicon files, see the readmes) is
  normalised as ezc3d does, by negating the vector (types 2, 4) or az0 alone (type 3, whose
  a and b are sensor offsets). The moments are carried to the surface centre,
  M_s = M_o + F × ORIGIN, the CoP is (−M_s,y/Fz, M_s,x/Fz, 0) there (NaN when |Fz| is below
  the threshold), and everything is rotated to the lab with the axes x = c1 − c2,
  y = c1 − c4, z = x × y of FORCE_PLATFORM:CORNERS, the CoP offset by the corners' centre.
  The channels' mean over the FORCE_PLATFORM:ZERO frame range is removed first.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

INTEL, DEC, MIPS = "Intel", "DEC", "MIPS"
_PROCESSORS = {84: INTEL, 85: DEC, 86: MIPS}


class C3dReferenceError(ValueError):
    """The file cannot be interpreted as C3D."""


# ----------------------------------------------------------------------------- numbers


def _vax_to_float(raw: np.ndarray) -> np.ndarray:
    """VAX F-floats (4 bytes each, as stored in a DEC file) to float64.

    The file holds two little-endian 16-bit words: the first has the sign (bit 15), the
    8-bit exponent (bits 7–14, excess 128) and the top 7 fraction bits; the second the low
    16 fraction bits. The value is 0.1fff… × 2^(e − 128), 0 when e = 0.
    """
    b = np.frombuffer(raw, dtype="<u2").reshape(-1, 2).astype(np.uint32)
    bits = (b[:, 0] << 16) | b[:, 1]
    sign = np.where(bits >> 31, -1.0, 1.0)
    exponent = ((bits >> 23) & 0xFF).astype(np.int64)
    fraction = (bits & 0x7FFFFF).astype(np.float64)
    mantissa = 0.5 + fraction / float(1 << 24)  # 0.1fff… in binary
    value = sign * np.ldexp(mantissa, exponent - 128)
    return np.where(exponent == 0, 0.0, value)


class _Numbers:
    """Decodes int8/int16/uint16/float32 in the byte order and float format of a processor."""

    def __init__(self, processor: str):
        self.processor = processor
        self.end = ">" if processor == MIPS else "<"

    def i16(self, data: bytes, count: int | None = None) -> np.ndarray:
        a = np.frombuffer(data, dtype=self.end + "i2", count=-1 if count is None else count)
        return a.astype(np.int64)

    def u16(self, data: bytes) -> np.ndarray:
        return np.frombuffer(data, dtype=self.end + "u2").astype(np.int64)

    def f32(self, data: bytes) -> np.ndarray:
        if self.processor == DEC:
            return _vax_to_float(data)
        return np.frombuffer(data, dtype=self.end + "f4").astype(np.float64)

    def word(self, data: bytes, offset: int, signed: bool = True) -> int:
        fmt = self.end + ("h" if signed else "H")
        return struct.unpack_from(fmt, data, offset)[0]

    def float_at(self, data: bytes, offset: int) -> float:
        return float(self.f32(data[offset:offset + 4])[0])


# -------------------------------------------------------------------------- parameters


@dataclass
class Parameter:
    name: str
    type: int  # -1 char, 1 byte, 2 int16, 4 float
    dims: list[int]
    raw: bytes
    numbers: _Numbers
    description: str = ""

    @property
    def is_char(self) -> bool:
        return self.type == -1

    def strings(self) -> list[str]:
        """Char values: dims[0] characters per string, trailing blanks/NULs removed."""
        if not self.is_char:
            raise TypeError(f"{self.name} is not a char parameter")
        if not self.dims:
            return [self.raw.decode("latin-1").rstrip(" \x00")] if self.raw else []
        width = self.dims[0]
        count = int(np.prod(self.dims[1:])) if len(self.dims) > 1 else 1
        if width == 0:
            return [""] * count if len(self.dims) > 1 else []
        return [self.raw[i * width:(i + 1) * width].decode("latin-1").rstrip(" \x00")
                for i in range(count)]

    def values(self, unsigned: bool = False) -> np.ndarray:
        """Numeric values in file order (float64). Int16 read unsigned when asked."""
        if self.type == 1:
            return np.frombuffer(self.raw, dtype=np.uint8).astype(np.float64)
        if self.type == 2:
            a = self.numbers.u16(self.raw) if unsigned else self.numbers.i16(self.raw)
            return a.astype(np.float64)
        if self.type == 4:
            return self.numbers.f32(self.raw)
        raise TypeError(f"{self.name} is not numeric")

    def first(self, unsigned: bool = False) -> float | None:
        v = self.values(unsigned)
        return float(v[0]) if v.size else None


def _parse_parameters(data: bytes, start: int, numbers: _Numbers, warnings: list[str], data_start: int):
    """Groups and parameters from the section at byte @p start (after its 4-byte header),
    which ends at its declared block count or at the data section, whichever is later."""
    groups: dict[int, str] = {}
    descriptions: dict[str, str] = {}
    pending: list[tuple[int, Parameter]] = []
    pos = start + 4
    end = len(data)
    n_blocks = data[start + 2]
    section_end = min(end, max(start + 512 * max(n_blocks, 1), data_start))
    while pos + 2 <= end:
        name_len = struct.unpack_from("b", data, pos)[0]
        gid = struct.unpack_from("b", data, pos + 1)[0]
        if name_len == 0 or gid == 0:
            break
        n = abs(name_len)
        name = data[pos + 2:pos + 2 + n].decode("latin-1").upper()
        off_pos = pos + 2 + n
        if off_pos + 2 > end:
            warnings.append(f"parameter section truncated at byte {off_pos}")
            break
        offset = numbers.word(data, off_pos)
        body = off_pos + 2
        try:
            if gid < 0:
                dlen = data[body]
                descriptions[name] = data[body + 1:body + 1 + dlen].decode("latin-1")
                groups[-gid] = name
                natural = body + 1 + dlen
            else:
                ptype = struct.unpack_from("b", data, body)[0]
                ndims = data[body + 1]
                dims = list(data[body + 2:body + 2 + ndims])
                count = int(np.prod(dims)) if dims else 1
                size = abs(ptype) * count
                vstart = body + 2 + ndims
                raw = data[vstart:vstart + size]
                if len(raw) < size or ptype not in (-1, 1, 2, 4):
                    raise IndexError
                dlen = data[vstart + size]
                desc = data[vstart + size + 1:vstart + size + 1 + dlen].decode("latin-1")
                pending.append((gid, Parameter(name, ptype, dims, raw, numbers, desc)))
                natural = vstart + size + 1 + dlen
        except IndexError:
            warnings.append(f"parameter {name} at byte {pos} is truncated or malformed")
            break
        if offset == 0:
            break  # the last parameter
        nxt = off_pos + offset
        if offset < 0 or nxt > section_end:
            # An offset that points backwards or out of the section (sgi_*.c3d store one
            # POINT:LABELS offset little-endian): step over the entry by its own length.
            warnings.append(f"{name}: next-offset {offset} unusable; stepping over the entry")
            nxt = natural
        if nxt >= section_end:
            break
        pos = nxt
    params: dict[str, dict[str, Parameter]] = {g: {} for g in groups.values()}
    for gid, p in pending:
        gname = groups.get(gid)
        if gname is None:
            warnings.append(f"parameter {p.name} belongs to unknown group {gid}")
            continue
        params[gname][p.name] = p
    return params


# ------------------------------------------------------------------------------ result


@dataclass
class Event:
    label: str
    context: str
    time_s: float


@dataclass
class Plate:
    type: int
    corners: np.ndarray  # 4 × 3, lab
    origin: np.ndarray  # 3, plate frame, z ≤ 0 after normalisation
    origin_raw: np.ndarray  # 3, as stored
    rotation: np.ndarray  # 3 × 3, columns = plate axes in the lab
    force: np.ndarray  # samples × 3, lab
    moment: np.ndarray  # samples × 3, about the surface centre, lab
    cop: np.ndarray  # samples × 3, lab (NaN where |Fz| < threshold)
    fz_plate: np.ndarray  # samples, Fz in the plate frame


@dataclass
class C3dReference:
    processor: str
    float_storage: bool
    point_scale: float
    first_frame: int
    point_rate: float
    analog_rate: float
    point_labels: list[str]
    points: np.ndarray  # frames × markers × 3 (NaN missing)
    residuals: np.ndarray  # frames × markers (−1 invalid)
    camera_masks: np.ndarray  # frames × markers
    analog_labels: list[str]
    analogs: np.ndarray  # samples × channels
    events: list[Event]
    header_events: list[tuple[str, float, int]]  # label, time (s), raw display-flag byte
    params: dict[str, dict[str, Parameter]]
    warnings: list[str] = field(default_factory=list)
    plates: list[Plate] = field(default_factory=list)
    plate_error: str | None = None

    def param(self, group: str, name: str) -> Parameter | None:
        return self.params.get(group.upper(), {}).get(name.upper())


# ----------------------------------------------------------------------------- reading


def _labels(params, group: str, stem: str, count: int) -> list[str]:
    """GROUP:STEM, STEM2, STEM3 … concatenated, cut to @p count."""
    g = params.get(group, {})
    out: list[str] = []
    if stem in g and g[stem].is_char:
        out += g[stem].strings()
    k = 2
    while f"{stem}{k}" in g and len(out) < count:
        if g[f"{stem}{k}"].is_char:
            out += g[f"{stem}{k}"].strings()
        k += 1
    return out[:count]


def _uint_pair(p: Parameter) -> int:
    """A 32-bit count stored as two unsigned 16-bit words, low first."""
    v = p.values(unsigned=True)
    return int(v[0]) + (int(v[1]) << 16 if v.size > 1 else 0)


def read(path: str | Path, *, cop_threshold_n: float = 10.0, apply_zero: bool = True) -> C3dReference:
    data = Path(path).read_bytes()
    warnings: list[str] = []
    if len(data) < 512:
        raise C3dReferenceError(f"{path}: {len(data)} bytes, shorter than the 512-byte header")
    pblock = data[0]
    if pblock < 1:
        raise C3dReferenceError(f"{path}: header byte 0 (parameter block) is 0")
    pstart = (pblock - 1) * 512
    if pstart + 4 > len(data):
        raise C3dReferenceError(f"{path}: parameter section at byte {pstart} is past the end")
    proc_byte = data[pstart + 3]
    if proc_byte not in _PROCESSORS:
        raise C3dReferenceError(f"{path}: unknown processor byte {proc_byte} at {pstart + 3}")
    num = _Numbers(_PROCESSORS[proc_byte])

    hw = lambda word, signed=False: num.word(data, 2 * (word - 1), signed)  # noqa: E731
    h_points = hw(2)
    h_analog_per_frame = hw(3)
    h_first, h_last = hw(4), hw(5)
    h_scale = num.float_at(data, 12)
    h_data_block = hw(9)
    h_ratio = hw(10)
    h_rate = num.float_at(data, 20)

    # Header events: word 150 = 12345 when 4-character event labels are present, word 151 the
    # event count (≤ 18), words 153-188 the times (floats, s), bytes 376-393 one display
    # flag each, words 199-234 the 4-character labels. The flag is kept as its raw byte.
    header_events: list[tuple[str, float, int]] = []
    if hw(150) == 12345:
        n_ev = min(hw(151), 18)
        times = num.f32(data[304:304 + 4 * 18])
        for i in range(n_ev):
            label = data[396 + 4 * i:400 + 4 * i].decode("latin-1").strip(" \x00")
            header_events.append((label, float(times[i]), data[376 + i]))

    params = _parse_parameters(data, pstart, num, warnings, (h_data_block - 1) * 512)
    P = lambda g, n: params.get(g, {}).get(n)  # noqa: E731

    # --- point layout
    scale_p = P("POINT", "SCALE")
    scale = scale_p.first() if scale_p is not None and scale_p.values().size else h_scale
    float_storage = scale < 0
    used_p = P("POINT", "USED")
    n_points = int(used_p.first(unsigned=True)) if used_p is not None and not used_p.is_char else h_points
    ds_p = P("POINT", "DATA_START")
    data_block = int(ds_p.first(unsigned=True)) if ds_p is not None and ds_p.first(unsigned=True) else h_data_block
    if data_block < 1:
        raise C3dReferenceError(f"{path}: data start block is {data_block}")
    rate_p = P("POINT", "RATE")
    point_rate = rate_p.first() if rate_p is not None and rate_p.first() else h_rate

    # --- analog layout: channels from ANALOG:USED; samples per frame per channel from header
    # word 10, else ANALOG:RATE / POINT:RATE, else header word 3 / channels. (Word 3 is not
    # trusted first: MotionMonitorC3D.c3d stores 16 there for 16 channels × 7 samples.)
    au_p = P("ANALOG", "USED")
    n_channels = int(au_p.first(unsigned=True)) if au_p is not None and not au_p.is_char else 0
    ratio = 0
    if n_channels:
        ar_p = P("ANALOG", "RATE")
        candidates = [h_ratio]
        if ar_p is not None and not ar_p.is_char and ar_p.first() and point_rate:
            candidates.append(int(round(ar_p.first() / point_rate)))
        if h_analog_per_frame % n_channels == 0:
            candidates.append(h_analog_per_frame // n_channels)
        ratio = next((c for c in candidates if c > 0), 0)
        if ratio * n_channels != h_analog_per_frame:
            warnings.append(f"header word 3 ({h_analog_per_frame}) is not {n_channels} channels × {ratio}")
    analog_rate = point_rate * ratio

    # --- frame count
    n_frames = h_last - h_first + 1 if h_last >= h_first else 0
    fr_p = P("POINT", "FRAMES")
    if fr_p is not None and not fr_p.is_char:
        v = fr_p.values(unsigned=True) if fr_p.type == 2 else fr_p.values()
        if v.size and int(v[0]) > n_frames:
            n_frames = int(v[0])
    first_frame = h_first
    ts, te = P("TRIAL", "ACTUAL_START_FIELD"), P("TRIAL", "ACTUAL_END_FIELD")
    if ts is not None and te is not None and not ts.is_char and not te.is_char:
        s, e = _uint_pair(ts), _uint_pair(te)
        if e >= s and e - s + 1 > n_frames:
            n_frames, first_frame = e - s + 1, s

    word = 4 if float_storage else 2
    dstart = (data_block - 1) * 512
    if n_points != h_points:
        # POINT:USED and header word 2 disagree (kyowadengyo.c3d: 12 vs 11). Keep the
        # parameter unless only the header's count lets the data section hold every frame.
        def fits(np_: int) -> bool:
            return dstart + n_frames * (4 * np_ + ratio * n_channels) * word <= len(data)
        if not fits(n_points) and fits(h_points):
            warnings.append(f"POINT:USED {n_points} disagrees with the header's {h_points}; "
                            "the data section matches the header")
            n_points = h_points
    frame_words = 4 * n_points + ratio * n_channels
    if frame_words == 0:
        n_frames = 0
    avail = max(0, (len(data) - dstart) // (frame_words * word)) if frame_words else 0
    if n_frames > avail:
        warnings.append(f"{n_frames} frames declared, {avail} in the file")
        n_frames = avail
    block = data[dstart:dstart + n_frames * frame_words * word]
    if float_storage:
        raw = num.f32(block)
    else:
        raw = num.i16(block).astype(np.float64)
    raw = raw.reshape(n_frames, frame_words) if frame_words else np.zeros((0, 0))

    # --- points
    pts = raw[:, :4 * n_points].reshape(n_frames, n_points, 4)
    xyz = pts[:, :, :3].copy()
    resid_word = pts[:, :, 3]
    if float_storage:
        rw = np.trunc(resid_word)
        invalid = rw < 0
        w = np.where(invalid, 0, rw).astype(np.int64) & 0xFFFF
    else:
        xyz *= abs(scale)
        invalid = resid_word < 0
        w = np.where(invalid, 0, resid_word).astype(np.int64) & 0xFFFF
    residuals = np.where(invalid, -1.0, (w & 0xFF) * abs(scale))
    masks = np.where(invalid, 0, (w >> 8) & 0xFF).astype(np.uint8)
    missing = invalid | np.all(xyz == 0.0, axis=2)
    xyz[missing] = np.nan
    point_labels = _labels(params, "POINT", "LABELS", n_points)

    # --- analogs
    if n_channels and ratio:
        an = raw[:, 4 * n_points:].reshape(n_frames * ratio, n_channels)
    else:
        an = np.zeros((0, n_channels))
    fmt_p = P("ANALOG", "FORMAT")
    unsigned = fmt_p is not None and fmt_p.is_char and fmt_p.strings()[:1] == ["UNSIGNED"]
    if unsigned and not float_storage:
        an = np.where(an < 0, an + 65536.0, an)

    def per_channel(name: str, default: float, unsigned_int: bool = False) -> np.ndarray:
        p = P("ANALOG", name)
        out = np.full(n_channels, default)
        if p is not None and not p.is_char:
            v = p.values(unsigned=unsigned_int and p.type == 2)
            k = min(v.size, n_channels)
            out[:k] = v[:k]
        return out

    offset = per_channel("OFFSET", 0.0, unsigned_int=unsigned)
    # A signed 16-bit OFFSET of -32768 is the mid-scale 32768 of an unsigned 16-bit converter
    # that the int16 word cannot hold (as in 16bitanalog.c3d, whose other channels have
    # OFFSET 32767 and data around 32767): as a signed offset it would be meaningless.
    offset[offset == -32768.0] = 32768.0
    ch_scale = per_channel("SCALE", 1.0)
    gs_p = P("ANALOG", "GEN_SCALE")
    gen_scale = gs_p.first() if gs_p is not None and not gs_p.is_char and gs_p.values().size else 1.0
    analogs = (an - offset) * ch_scale * gen_scale
    analog_labels = _labels(params, "ANALOG", "LABELS", n_channels)

    # --- events
    events: list[Event] = []
    eu = P("EVENT", "USED")
    if eu is not None and not eu.is_char and eu.values().size:
        n_ev = int(eu.first(unsigned=True))
        times = P("EVENT", "TIMES").values() if P("EVENT", "TIMES") is not None else np.zeros(0)
        labels = _labels(params, "EVENT", "LABELS", n_ev)
        contexts = _labels(params, "EVENT", "CONTEXTS", n_ev)
        for i in range(min(n_ev, times.size // 2)):
            events.append(Event(labels[i] if i < len(labels) else "",
                                contexts[i] if i < len(contexts) else "",
                                float(times[2 * i] * 60.0 + times[2 * i + 1])))

    ref = C3dReference(num.processor, float_storage, scale, first_frame, point_rate, analog_rate,
                       point_labels, xyz, residuals, masks, analog_labels, analogs, events,
                       header_events, params, warnings)
    try:
        ref.plates = _force_plates(ref, ratio, cop_threshold_n, apply_zero)
    except (ValueError, IndexError) as e:  # an unusable FORCE_PLATFORM group
        ref.plate_error = str(e)
    return ref


# ------------------------------------------------------------------------ force plates


def _force_plates(ref: C3dReference, ratio: int, threshold: float, apply_zero: bool) -> list[Plate]:
    fp = ref.params.get("FORCE_PLATFORM")
    if not fp or "USED" not in fp:
        return []
    n = int(fp["USED"].first(unsigned=True) or 0)
    if n == 0:
        return []
    for name in ("TYPE", "CORNERS", "ORIGIN", "CHANNEL"):
        if name not in fp:
            raise ValueError(f"FORCE_PLATFORM:{name} is missing")
    types = fp["TYPE"].values().astype(int)
    corners = fp["CORNERS"].values()
    origins = fp["ORIGIN"].values()
    chan_p = fp["CHANNEL"]
    channels = chan_p.values().astype(int)
    per_plate = chan_p.dims[0] if chan_p.dims else channels.size
    cal = fp.get("CAL_MATRIX")
    zero = fp.get("ZERO")
    zero_range = zero.values(unsigned=True).astype(int) if zero is not None and not zero.is_char else np.zeros(0)
    plates = []
    for k in range(n):
        t = int(types[k])
        if t not in (2, 3, 4):
            raise ValueError(f"plate {k + 1}: type {t} is not 2, 3 or 4")
        c = corners[12 * k:12 * k + 12].reshape(4, 3)
        o_raw = origins[3 * k:3 * k + 3].copy()
        nch = 8 if t == 3 else 6
        if per_plate < nch:
            raise ValueError(f"plate {k + 1}: type {t} needs {nch} channels, CHANNEL has {per_plate} per plate")
        idx = channels[per_plate * k:per_plate * k + nch] - 1
        if idx.size < nch or idx.min() < 0 or idx.max() >= ref.analogs.shape[1]:
            raise ValueError(f"plate {k + 1}: FORCE_PLATFORM:CHANNEL {idx + 1} out of range")
        ch = ref.analogs[:, idx].copy()
        # FORCE_PLATFORM:ZERO = first, last frame of the unloaded baseline, counted from the
        # first stored frame (1); 0, 0 (or last < first) disables it. A first frame of 0, as
        # Vicon writes (0, 10), is taken as 1.
        z0 = max(int(zero_range[0]), 1) if zero_range.size >= 2 else 0
        if apply_zero and zero_range.size >= 2 and zero_range[1] >= z0:
            a, b = (z0 - 1) * ratio, int(zero_range[1]) * ratio
            if a < ch.shape[0]:
                ch -= ch[a:min(b, ch.shape[0])].mean(axis=0)
        if t == 3:
            a, b, az0 = o_raw
            az0 = -abs(az0)  # the surface lies above the sensor plane
            o = np.array([a, b, az0])
            f12x, f34x, f14y, f23y, fz1, fz2, fz3, fz4 = ch.T
            F = np.stack([f12x + f34x, f14y + f23y, fz1 + fz2 + fz3 + fz4], axis=1)
            M = np.stack([b * (fz1 + fz2 - fz3 - fz4),
                          a * (-fz1 + fz2 + fz3 - fz4),
                          b * (-f12x + f34x) + a * (f14y - f23y)], axis=1)
            M = M + np.cross(F, np.array([0.0, 0.0, az0]))
        else:
            if t == 4:
                if cal is None:
                    raise ValueError("FORCE_PLATFORM:CAL_MATRIX is missing for a type-4 plate")
                m = cal.values()[36 * k:36 * k + 36]
                if m.size < 36:
                    raise ValueError(f"plate {k + 1}: FORCE_PLATFORM:CAL_MATRIX is too short")
                # first index fastest: element (i, j) of the matrix is value j*6 + i, so
                # m.reshape(6, 6) is its transpose, and each sample row v becomes v @ C^T.
                ch = ch @ m.reshape(6, 6)
            o = -o_raw if o_raw[2] > 0 else o_raw.copy()
            F = ch[:, :3]
            M = ch[:, 3:] + np.cross(F, o)
        x = c[0] - c[1]
        y = c[0] - c[3]
        z = np.cross(x, y)
        y = np.cross(z, x)
        R = np.stack([x / np.linalg.norm(x), y / np.linalg.norm(y), z / np.linalg.norm(z)], axis=1)
        fz = F[:, 2]
        loaded = np.abs(fz) >= threshold
        safe = np.where(loaded, fz, 1.0)
        cop_p = np.stack([-M[:, 1] / safe, M[:, 0] / safe, np.zeros_like(fz)], axis=1)
        cop = cop_p @ R.T + c.mean(axis=0)
        cop[~loaded] = np.nan
        plates.append(Plate(t, c, o, o_raw, R, F @ R.T, M @ R.T, cop, fz))
    return plates
