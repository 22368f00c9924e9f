#!/usr/bin/python3
"""Seed corpus of the fuzz targets in fuzz/ (run with Debian's /usr/bin/python3).

Two sources, nothing copied from real data:
  * the library's own writers (C3D, TRC, MOT, NIfTI, NRRD, an XGBoost model), through the
    seed program sportsmed_make_seeds built next to the fuzzers (--seeds-tool);
  * files synthesised here, byte by byte, for what those writers never produce: C3D in
    DEC and MIPS number formats and int16 storage, big-endian NIfTI, NRRD variants (RAS,
    spacings, big endian, detached), DICOM files (explicit/implicit VR, little/big endian,
    sequences, a small series and a multi-echo one), athlete CSV tables.
Every seed stays under 64 KB so that fuzzing starts from fast inputs.

Usage: make_corpus.py --out build/fuzz/corpus [--seeds-tool build/fuzz/sportsmed_make_seeds]
"""

import argparse
import gzip
import math
import os
import struct
import subprocess
import sys

SEPARATOR = b"\n--sportsmed-fuzz-next-file--\n"  # fuzz::kSeparator (fuzz_common.hpp)
MAX_SEED = 64 * 1024


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if len(data) > MAX_SEED:
        sys.exit(f"make_corpus: seed {target}/{name} has {len(data)} bytes, over {MAX_SEED}")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- C3D ---------------------------------------------------------------------------------
class C3dCodec:
    """Number encoding of one C3D processor type: 84 Intel, 85 DEC, 86 MIPS."""

    def __init__(self, proc):
        self.proc = proc
        self.e = ">" if proc == 86 else "<"

    def i16(self, v):
        return struct.pack(self.e + "h", v)

    def u16(self, v):
        return struct.pack(self.e + "H", v)

    def f32(self, v):
        if self.proc != 85:
            return struct.pack(self.e + "f", v)
        if v == 0:
            return b"\0\0\0\0"
        b = struct.pack("<f", v * 4.0)  # VAX F-float: IEEE x 4, 16-bit halves swapped
        return b[2:4] + b[0:2]


def c3d_file(proc=84, float_storage=True, frames=4, labels=("LASI", "RASI", "LKNE"), analog_channels=1,
             ratio=2, rate=100.0):
    c = C3dCodec(proc)
    n_points = len(labels)
    scale = -0.1 if float_storage else 0.1
    params = bytearray()

    def record(name, group_id, body):
        nonlocal params
        n = name.encode()
        # next-record offset counts from the offset field itself
        params += struct.pack("b", len(n)) + struct.pack("b", group_id) + n
        params += c.i16(2 + len(body)) + body

    def group(gid, name, desc=b""):
        record(name, -gid, bytes([len(desc)]) + desc)

    def param(gid, name, kind, dims, payload, desc=b""):
        body = struct.pack("b", kind) + bytes([len(dims)]) + bytes(dims) + payload + bytes([len(desc)]) + desc
        record(name, gid, body)

    def p_i16(gid, name, values, dims=None):
        param(gid, name, 2, dims if dims is not None else ([len(values)] if len(values) != 1 else []),
              b"".join(c.i16(v) for v in values))

    def p_f32(gid, name, values):
        param(gid, name, 4, [len(values)] if len(values) != 1 else [], b"".join(c.f32(v) for v in values))

    def p_str(gid, name, values):
        width = max(len(v) for v in values)
        param(gid, name, -1, [width, len(values)], b"".join(v.ljust(width).encode() for v in values))

    data_block = 3 + 0  # header block 1, parameters in block 2 (one block)
    group(1, "POINT", b"3-D point parameters")
    p_i16(1, "USED", [n_points])
    p_f32(1, "SCALE", [scale])
    p_f32(1, "RATE", [rate])
    p_i16(1, "DATA_START", [data_block])
    p_i16(1, "FRAMES", [frames])
    p_str(1, "LABELS", list(labels))
    p_str(1, "UNITS", ["mm"])
    group(2, "ANALOG", b"analog parameters")
    p_i16(2, "USED", [analog_channels])
    p_f32(2, "RATE", [rate * ratio])
    p_f32(2, "GEN_SCALE", [1.0])
    if analog_channels:
        p_f32(2, "SCALE", [0.5] * analog_channels)
        p_i16(2, "OFFSET", [3] * analog_channels)
        p_str(2, "LABELS", [f"CH{i + 1}" for i in range(analog_channels)])
        p_str(2, "UNITS", ["V"] * analog_channels)
    group(3, "EVENT", b"")
    p_i16(3, "USED", [1])
    p_str(3, "CONTEXTS", ["Left"])
    p_str(3, "LABELS", ["Foot Strike"])
    param(3, "TIMES", 4, [2, 1], c.f32(0.0) + c.f32(0.02))
    # end of the parameter list: a record with group id 0
    params += b"\0\0"
    section = bytearray([1, 0x50, 1, proc]) + params
    if len(section) > 512:
        raise ValueError("parameter section over one block")
    section += b"\0" * (512 - len(section))

    header = bytearray(512)
    header[0], header[1] = 2, 0x50
    header[2:4] = c.u16(n_points)
    header[4:6] = c.u16(analog_channels * ratio)
    header[6:8] = c.u16(1)
    header[8:10] = c.u16(frames)
    header[10:12] = c.u16(10)
    header[12:16] = c.f32(scale)
    header[16:18] = c.u16(data_block)
    header[18:20] = c.u16(ratio)
    header[20:24] = c.f32(rate)

    data = bytearray()
    for f in range(frames):
        for m in range(n_points):
            xyz = [100.0 * m + f, 20.0 * f - 5, 900.0 + m]
            missing = f == 1 and m == 0
            if float_storage:
                vals = [0.0, 0.0, 0.0, -1.0] if missing else xyz + [float(0x0300 + 2)]
                data += b"".join(c.f32(v) for v in vals)
            else:
                vals = [0, 0, 0, -1] if missing else [int(round(v / scale)) for v in xyz] + [0x0302]
                data += b"".join(c.i16(v) for v in vals)
        for s in range(ratio):
            for ch in range(analog_channels):
                raw = 10 * f + s - ch
                data += c.f32(float(raw)) if float_storage else c.i16(raw)
    data += b"\0" * (-len(data) % 512)
    return bytes(header + section + data)


def c3d_seeds(out):
    put(out, "fuzz_c3d", "intel_int16.c3d", c3d_file(84, False))
    put(out, "fuzz_c3d", "dec_float.c3d", c3d_file(85, True))
    put(out, "fuzz_c3d", "dec_int16.c3d", c3d_file(85, False, analog_channels=2))
    put(out, "fuzz_c3d", "mips_float.c3d", c3d_file(86, True))
    put(out, "fuzz_c3d", "mips_int16_no_analog.c3d", c3d_file(86, False, analog_channels=0))


# ---- NIfTI -------------------------------------------------------------------------------
def nifti1(shape=(4, 3, 2), endian=">", datatype=4, bitpix=16, values=None, gz=False, scl=(2.0, -1.0)):
    n = shape[0] * shape[1] * shape[2]
    values = values if values is not None else list(range(n))
    h = bytearray(348)
    struct.pack_into(endian + "i", h, 0, 348)
    dim = [3, *shape, 1, 1, 1, 1]
    struct.pack_into(endian + "8h", h, 40, *dim)
    struct.pack_into(endian + "hh", h, 70, datatype, bitpix)
    struct.pack_into(endian + "8f", h, 76, 1.0, 1.5, 1.0, 2.0, 1, 1, 1, 1)
    struct.pack_into(endian + "f", h, 108, 352.0)
    struct.pack_into(endian + "ff", h, 112, *scl)
    struct.pack_into(endian + "hh", h, 252, 1, 0)  # qform only
    struct.pack_into(endian + "6f", h, 256, 0.0, 0.0, 0.7071068, -10.0, 5.0, 2.5)
    h[344:348] = b"n+1\0"
    fmt = {2: "B", 4: "h", 16: "f", 64: "d"}[datatype]
    body = bytes(h) + b"\0\0\0\0" + struct.pack(endian + str(n) + fmt, *values)
    return gzip.compress(body, mtime=0) if gz else body


def nifti_seeds(out):
    put(out, "fuzz_nifti", "big_endian_int16_qform.nii", nifti1())
    put(out, "fuzz_nifti", "little_float32.nii.gz",
        nifti1((3, 3, 3), "<", 16, 32, [math.sin(i) for i in range(27)], gz=True, scl=(0.0, 0.0)))


# ---- NRRD --------------------------------------------------------------------------------
def nrrd_seeds(out):
    vals = bytes(range(24))
    base = b"NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 3 2\n"
    put(out, "fuzz_nrrd", "ras_directions.nrrd",
        base + b"space: right-anterior-superior\nspace directions: (1,0,0) (0,1.5,0) (0,0,2)\n"
        b"space origin: (10,-5,3)\nkinds: domain domain domain\nencoding: raw\n\n" + vals)
    put(out, "fuzz_nrrd", "spacings.nrrd", base + b"spacings: 0.5 0.5 3\nencoding: raw\n# comment\nkey:=value\n\n" + vals)
    shorts = struct.pack(">24h", *range(-12, 12))
    put(out, "fuzz_nrrd", "big_endian_int16_gzip.nrrd",
        b"NRRD0004\ntype: short\ndimension: 3\nsizes: 2 3 4\nspace: LAS\n"
        b"space directions: (0,1,0) (1,0,0) (0,0,1)\nendian: big\nencoding: gzip\n\n" + gzip.compress(shorts, mtime=0))
    put(out, "fuzz_nrrd", "detached.nhdr",
        b"NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: volume.raw\n\n")


# ---- DICOM -------------------------------------------------------------------------------
LONG_VRS = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"OV", b"UC", b"UR", b"SV", b"UV"}
EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"


def pad(value, vr):
    if len(value) % 2:
        value += b"\0" if vr in (b"UI", b"OB") else b" "
    return value


def element(group, elem, vr, value, explicit=True, big=False):
    e = ">" if big else "<"
    tag = struct.pack(e + "HH", group, elem)
    undefined = value is None
    length = 0xFFFFFFFF if undefined else len(value)
    value = b"" if undefined else value
    if not explicit:
        return tag + struct.pack(e + "I", length) + value
    if vr in LONG_VRS:
        return tag + vr + b"\0\0" + struct.pack(e + "I", length) + value
    return tag + vr + struct.pack(e + "H", length) + value


def dicom_image(syntax=EXPLICIT_LE, rows=4, cols=3, z=0.0, te=None, series="1.2.3.4.5", instance=1,
                with_sequence=False, preamble=True, slope=None):
    explicit = syntax != IMPLICIT_LE
    big = syntax == EXPLICIT_BE

    def el(g, e, vr, v):
        if v is not None and vr not in (b"SQ", b"OW", b"US", b"SS", b"UL", b"FD", b"FL"):
            v = pad(v, vr)
        return element(g, e, vr, v, explicit, big)

    def us(v):
        return struct.pack((">" if big else "<") + "H", v)

    ds = b""
    ds += el(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.4")
    ds += el(0x0008, 0x0018, b"UI", f"1.2.3.4.5.{instance}".encode())
    ds += el(0x0008, 0x0060, b"CS", b"MR")
    ds += el(0x0008, 0x103E, b"LO", b"T2 map" if te else b"sag PD")
    if with_sequence:
        item = el(0x0008, 0x0100, b"SH", b"121311") + el(0x0008, 0x0102, b"SH", b"DCM")
        delim_item = struct.pack((">" if big else "<") + "HHI", 0xFFFE, 0xE00D, 0)
        start_item = struct.pack((">" if big else "<") + "HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
        seq_delim = struct.pack((">" if big else "<") + "HHI", 0xFFFE, 0xE0DD, 0)
        ds += el(0x0008, 0x1140, b"SQ", None) + start_item + item + delim_item + seq_delim
        defined_item = struct.pack((">" if big else "<") + "HHI", 0xFFFE, 0xE000, len(item)) + item
        ds += el(0x0040, 0x0260, b"SQ", defined_item)
    if te is not None:
        ds += el(0x0018, 0x0081, b"DS", f"{te:g}".encode())
    ds += el(0x0020, 0x000D, b"UI", b"1.2.3.4")
    ds += el(0x0020, 0x000E, b"UI", series.encode())
    ds += el(0x0020, 0x0013, b"IS", str(instance).encode())
    ds += el(0x0020, 0x0032, b"DS", f"-10\\-20\\{z:g}".encode())
    ds += el(0x0020, 0x0037, b"DS", b"1\\0\\0\\0\\1\\0")
    ds += el(0x0028, 0x0002, b"US", us(1))
    ds += el(0x0028, 0x0004, b"CS", b"MONOCHROME2")
    ds += el(0x0028, 0x0010, b"US", us(rows))
    ds += el(0x0028, 0x0011, b"US", us(cols))
    ds += el(0x0028, 0x0030, b"DS", b"0.5\\0.75")
    ds += el(0x0028, 0x0100, b"US", us(16))
    ds += el(0x0028, 0x0101, b"US", us(12))
    ds += el(0x0028, 0x0102, b"US", us(11))
    ds += el(0x0028, 0x0103, b"US", us(0))
    if slope is not None:
        ds += el(0x0028, 0x1052, b"DS", b"-5")
        ds += el(0x0028, 0x1053, b"DS", f"{slope:g}".encode())
    pixels = struct.pack((">" if big else "<") + f"{rows * cols}H", *[(instance * 7 + i) % 4096 for i in range(rows * cols)])
    ds += el(0x7FE0, 0x0010, b"OW", pixels)
    if not preamble:
        return ds
    meta_body = element(0x0002, 0x0001, b"OB", b"\0\1")
    meta_body += element(0x0002, 0x0002, b"UI", pad(b"1.2.840.10008.5.1.4.1.1.4", b"UI"))
    meta_body += element(0x0002, 0x0003, b"UI", pad(f"1.2.3.4.5.{instance}".encode(), b"UI"))
    meta_body += element(0x0002, 0x0010, b"UI", pad(syntax.encode(), b"UI"))
    meta_body += element(0x0002, 0x0012, b"UI", pad(b"1.2.3.999", b"UI"))
    meta = element(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta_body))) + meta_body
    return b"\0" * 128 + b"DICM" + meta + ds


def dicom_seeds(out):
    put(out, "fuzz_dicom", "explicit_le.dcm", dicom_image(EXPLICIT_LE, with_sequence=True))
    put(out, "fuzz_dicom", "implicit_le.dcm", dicom_image(IMPLICIT_LE, slope=2.0))
    put(out, "fuzz_dicom", "explicit_be.dcm", dicom_image(EXPLICIT_BE, with_sequence=True))
    put(out, "fuzz_dicom", "no_preamble.dcm", dicom_image(IMPLICIT_LE, preamble=False))
    put(out, "fuzz_dicom", "series_3_slices.bin",
        SEPARATOR.join(dicom_image(EXPLICIT_LE, z=2.5 * k, instance=k + 1) for k in (2, 0, 1)))
    put(out, "fuzz_dicom", "two_echoes.bin",
        SEPARATOR.join(dicom_image(IMPLICIT_LE, z=3.0 * k, te=te, instance=i + 1, rows=2, cols=2)
                       for i, (k, te) in enumerate([(0, 10), (1, 10), (0, 20), (1, 20)])))


# ---- athlete CSV -------------------------------------------------------------------------
def csv_seeds(out):
    rows = ["athlete,date,daily_load,rpe,injury"]
    for a in ("A01", "B02"):
        for d in (1, 2, 4, 7):
            rows.append(f"{a},2023-03-{d:02d},{(d * 37) % 400},{d % 10},{int(d == 7 and a == 'B02')}")
    rows.append("A01,2023-02-28,,5,0")
    put(out, "fuzz_athlete_csv", "two_athletes.csv", ("\n".join(rows) + "\n").encode())
    put(out, "fuzz_athlete_csv", "leap_day_crlf.csv",
        b"date,athlete,daily_load,notes\r\n2024-02-29,x,1.5e2,ok\r\n2000-03-01,x,-0,\r\n1969-12-31,y,nan,\r\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="corpus folder (one sub-folder per target)")
    ap.add_argument("--seeds-tool", help="sportsmed_make_seeds (seeds from the library's writers)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.seeds_tool:
        subprocess.run([args.seeds_tool, args.out], check=True)
    c3d_seeds(args.out)
    nifti_seeds(args.out)
    nrrd_seeds(args.out)
    dicom_seeds(args.out)
    csv_seeds(args.out)
    for target in sorted(os.listdir(args.out)):
        files = os.listdir(os.path.join(args.out, target))
        big = max(os.path.getsize(os.path.join(args.out, target, f)) for f in files)
        if big > MAX_SEED:
            sys.exit(f"make_corpus: a seed of {target} has {big} bytes, over {MAX_SEED}")
        print(f"make_corpus: {target}: {len(files)} seeds (largest {big} bytes)")


if __name__ == "__main__":
    main()
