"""``sportsmed deid``: no original identifier survives in any output byte, and every output
still reads to the same data (DICOM through GDCM's Annex E profile, C3D, NIfTI, TRC, CSV).

Inputs are built here with known identifiers: the DICOM series by pydicom (a peer
writer), the C3D by a small writer below (the layout of the C3D manual), the NIfTI files
by nibabel. Outputs are read back by pydicom and nibabel as well as by sportsmed."""

from __future__ import annotations

import gzip
import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

import sportsmed
from sportsmed import imaging, motion, privacy
from sportsmed.cli import main as cli_main
from sportsmed.deid import deidentify

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

# Every identifying value written into the inputs below.
NAME = "Doe^Jane"
IDENTIFIERS = [
    NAME, "Jane", "JDoe", "SM4711X", "19870314", "St Elsewhere Sports Clinic", "12 Harbour Road Kingston",
    "Hart^Gregory", "MRKNEE07", "ACC99321", "STUDY8812", "20240229", "2024-02-29", "101502", "Lee^Sam",
    "SN55512", "Acme Motion Ltd", "MoCapStudio 9.1", "knee sore after the Kingston game",
    "C:\\Users\\JaneDoe", "doe_jane.lut", "PACSNODE3",
]
UID_ROOT = "1.2.826.0.1.3680043.9.7777"
STUDY_UID = UID_ROOT + ".1"
SERIES_UIDS = [UID_ROOT + ".2.1", UID_ROOT + ".2.2"]
FOR_UID = UID_ROOT + ".3"


def _sop_uid(series: int, k: int) -> str:
    return f"{UID_ROOT}.4.{series}.{k + 1}"


# ---------------------------------------------------------------------------------------
# inputs

def write_dicom_series(folder: Path, series: int, n: int = 3, rows: int = 8, cols: int = 6):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = _sop_uid(series, k)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = "1.2.826.0.1.3680043.9.7777.99"
        meta.SourceApplicationEntityTitle = "PACSNODE3"
        ds = Dataset()
        ds.file_meta = meta
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = _sop_uid(series, k)
        ds.StudyInstanceUID = STUDY_UID
        ds.SeriesInstanceUID = SERIES_UIDS[series]
        ds.FrameOfReferenceUID = FOR_UID
        ds.PatientName = NAME
        ds.PatientID = "SM4711X"
        ds.PatientBirthDate = "19870314"
        ds.PatientSex = "F"
        ds.InstitutionName = "St Elsewhere Sports Clinic"
        ds.InstitutionAddress = "12 Harbour Road Kingston"
        ds.ReferringPhysicianName = "Hart^Gregory"
        ds.OperatorsName = "Lee^Sam"
        ds.StationName = "MRKNEE07"
        ds.DeviceSerialNumber = "SN55512"
        ds.AccessionNumber = "ACC99321"
        ds.StudyID = "STUDY8812"
        for attr in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate"):
            setattr(ds, attr, "20240229")
        for attr in ("StudyTime", "SeriesTime", "AcquisitionTime", "ContentTime"):
            setattr(ds, attr, "101502")
        ds.ImageComments = "knee sore after the Kingston game"
        ds.Modality = "MR"
        ds.SeriesNumber = series + 1
        ds.InstanceNumber = k + 1
        ds.EchoTime = 10.0 * (series + 1)
        ds.ImagePositionPatient = [-10.0, -20.0, 3.0 * k]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.75]
        ds.SliceThickness = 3.0
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        # Deterministic values that spell no text
        ds.PixelData = (np.arange(rows * cols, dtype=np.uint16) * 7 + 100 * k + 1000 * series).tobytes()
        # A vendor's private block holding the name again
        ds.add_new(0x00290010, "LO", "SPORTSMED TEST")
        ds.add_new(0x00291010, "LO", "Jane private copy")
        ds.save_as(folder / f"IM{series}{k:03d}.dcm", write_like_original=False)


class C3dWriter:
    """A little-endian (Intel) float C3D with one parameter block per 512 bytes."""

    def __init__(self):
        self.params = bytearray()
        self.ids = {}

    def _record(self, name, gid, body):
        n = name.encode()
        self.params += struct.pack("bb", len(n), gid) + n + struct.pack("<h", 2 + len(body)) + body

    def group(self, gid, name, desc=""):
        d = desc.encode()
        self._record(name, -gid, bytes([len(d)]) + d)

    def param(self, gid, name, kind, dims, payload, desc=""):
        d = desc.encode()
        self._record(name, gid, struct.pack("b", kind) + bytes([len(dims)]) + bytes(dims) + payload
                     + bytes([len(d)]) + d)

    def i16(self, gid, name, v):
        self.param(gid, name, 2, [], struct.pack("<h", v))

    def f32(self, gid, name, values):
        self.param(gid, name, 4, [len(values)] if len(values) > 1 else [],
                   b"".join(struct.pack("<f", v) for v in values))

    def text(self, gid, name, values, desc=""):
        w = max(len(v) for v in values)
        self.param(gid, name, -1, [w, len(values)], b"".join(v.ljust(w).encode() for v in values), desc)


def write_c3d(path: Path, frames: int = 5, ratio: int = 2):
    labels = ["JDoe:LASI", "JDoe:RASI", "JDoe:LKNE"]
    c = C3dWriter()
    blocks = 2
    data_start = 2 + blocks
    c.group(1, "POINT", "3-D points of JDoe")
    c.i16(1, "USED", len(labels))
    c.f32(1, "SCALE", [-0.1])
    c.f32(1, "RATE", [100.0])
    c.i16(1, "DATA_START", data_start)
    c.i16(1, "FRAMES", frames)
    c.text(1, "LABELS", labels, desc="marker names")
    c.text(1, "DESCRIPTIONS", ["left ASIS of Jane", "right ASIS of Jane", "left knee"])
    c.text(1, "UNITS", ["mm"])
    c.text(1, "Y_SCREEN", ["+Z"])
    c.group(2, "ANALOG", "analogs recorded at St Elsewhere Sports Clinic")
    c.i16(2, "USED", 2)
    c.f32(2, "RATE", [100.0 * ratio])
    c.f32(2, "GEN_SCALE", [1.0])
    c.f32(2, "SCALE", [0.5, 0.25])
    c.param(2, "OFFSET", 2, [2], struct.pack("<hh", 3, -2))
    c.text(2, "LABELS", ["Fz1", "EMG1"])
    c.text(2, "UNITS", ["N", "V"])
    c.text(2, "DESCRIPTIONS", ["plate 1 of Acme Motion Ltd", "EMG of Jane"])
    c.group(3, "EVENT", "")
    c.i16(3, "USED", 1)
    c.text(3, "CONTEXTS", ["Left"])
    c.text(3, "LABELS", ["Foot Strike"])
    c.text(3, "SUBJECTS", ["JDoe"])
    c.param(3, "TIMES", 4, [2, 1], struct.pack("<ff", 0.0, 0.02))
    c.group(4, "SUBJECTS", "subjects")
    c.i16(4, "USED", 1)
    c.text(4, "NAMES", ["JDoe"])
    c.text(4, "LABEL_PREFIXES", ["JDoe:"])
    c.text(4, "MARKER_SETS", ["SM4711X lower limb"])
    c.group(5, "MANUFACTURER", "")
    c.text(5, "COMPANY", ["Acme Motion Ltd"])
    c.text(5, "SOFTWARE", ["MoCapStudio 9.1"])
    c.group(6, "TRIAL", "session of 2024-02-29 with Hart^Gregory")
    c.text(6, "NOTES", ["knee sore after the Kingston game"])
    c.params += b"\0\0"
    section = bytearray([1, 0x50, blocks, 84]) + c.params
    assert len(section) <= blocks * 512
    section += bytes(blocks * 512 - len(section))
    header = bytearray(512)
    header[0], header[1] = 2, 0x50
    struct.pack_into("<HHHHHfHHf", header, 2, len(labels), 2 * ratio, 1, frames, 10, -0.1, data_start, ratio,
                     100.0)
    data = bytearray()
    for f in range(frames):
        for m in range(len(labels)):
            data += struct.pack("<4f", 100.0 * m + f, 20.0 * f - 5, 900.0 + m, 0x0302)
        for s in range(ratio):
            data += struct.pack("<2f", 10.0 * f + s, -3.0 * f + s)
    data += bytes(-len(data) % 512)
    path.write_bytes(bytes(header + section + data))
    return 512 * (data_start - 1)


def write_nifti_inputs(folder: Path):
    data = (np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3) * 3 - 50)
    affine = np.array([[0.5, 0, 0, -10], [0, 0.75, 0, 20], [0, 0, 3.0, 5], [0, 0, 0, 1]])
    for cls, name in ((nib.Nifti1Image, "knee.nii.gz"), (nib.Nifti2Image, "knee2.nii"),
                      (nib.Nifti1Pair, "pair.hdr")):
        img = cls(data, affine)
        img.header["descrip"] = b"Jane knee 2024-02-29"
        img.header["aux_file"] = b"doe_jane.lut"
        img.header["intent_name"] = b"JDoe"
        img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"patient SM4711X at MRKNEE07"))
        nib.save(img, folder / name)
    return data, affine


def write_trc(path: Path, c3d_path: Path):
    motion.write_trc(str(path), motion.read_c3d(str(c3d_path)).trial)
    lines = path.read_bytes().split(b"\n")
    cells = lines[0].split(b"\t")
    lines[0] = b"\t".join(cells[:3] + [b"C:\\Users\\JaneDoe\\SM4711X_dj.trc"])
    path.write_bytes(b"\n".join(lines))


def write_csv(path: Path):
    path.write_text("athlete,date,load,notes\n"
                    "Doe^Jane,2024-02-28,300,fine\n"
                    "SM4711X,2024-03-04,450,knee sore after the Kingston game\n"
                    "Doe^Jane,2024-03-01,120,\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------
# the scan

def _forms(value: str):
    """The byte forms an identifier may take: UTF-8, UTF-16 (both byte orders), DICOM's
    padded forms (a trailing space or NUL: these contain the bare form, so finding the
    bare form finds them; listed for clarity), '^' of person names as a space, a date
    without dashes. Lowercase: the scan ignores case."""
    v = value.lower()
    forms = {v.encode("utf-8"), v.encode("utf-16-le"), v.encode("utf-16-be"), (v + " ").encode(),
             (v + "\0").encode(), v.replace("^", " ").encode()}
    if "-" in v and v[:4].isdigit():
        forms.add(v.replace("-", "").encode())
    return {f for f in forms if len(f) >= 4}


_UID_RUN = re.compile(rb"[0-9.]{8,}")


def scan_for(folder_or_file: Path, identifiers) -> list:
    """(file, identifier) for every identifier found, case-insensitively, in the raw bytes
    of every file below ``folder_or_file`` and in the inflated stream of gzip files.

    UIDs (digits and dots) are looked for inside every run of UID characters (in UTF-8 and
    UTF-16); every other identifier in each of its forms."""
    uids = {v for v in identifiers if re.fullmatch(r"[0-9.]+", v) and "." in v}
    others = sorted({f for v in identifiers if v not in uids for f in _forms(v)})
    files = [folder_or_file] if folder_or_file.is_file() else sorted(p for p in folder_or_file.rglob("*")
                                                                      if p.is_file())
    found = []
    for p in files:
        raw = p.read_bytes()
        streams = [raw] + ([gzip.decompress(raw)] if raw[:2] == b"\x1f\x8b" else [])
        for stream in streams:
            low = stream.lower()
            found += [(p.name, f) for f in others if f in low]
            # every other byte of UTF-16 text (either byte order) is its ASCII text
            for text in (stream, stream[0::2], stream[1::2]):
                for m in _UID_RUN.finditer(text):
                    run = m.group(0).decode()
                    found += [(p.name, u.encode()) for u in uids if u in run]
    return found


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("deid")
    src = root / "study"
    for s in (0, 1):
        write_dicom_series(src / "mri", s)
    (src / "motion").mkdir()
    data_offset = write_c3d(src / "motion" / "dj.c3d")
    write_trc(src / "motion" / "dj.trc", src / "motion" / "dj.c3d")
    (src / "nifti").mkdir()
    nifti = write_nifti_inputs(src / "nifti")
    write_csv(src / "loads.csv")
    secret = privacy.load_or_create_secret(root / "study.secret", protects=root / "shared")
    out = root / "shared"
    report = deidentify(src, out, secret=secret, id_columns=["athlete"], drop_columns=["notes"])
    return dict(src=src, out=out, report=report, secret=secret, data_offset=data_offset, nifti=nifti,
                root=root)


def test_inputs_carry_every_identifier(study):
    # the scan finds what it looks for (else passing below would mean nothing)
    found = {v for _, v in scan_for(study["src"], IDENTIFIERS)}
    for ident in IDENTIFIERS:
        assert _forms(ident) & found, ident
    uids = [STUDY_UID, FOR_UID, *SERIES_UIDS, _sop_uid(0, 0)]
    assert {f for _, f in scan_for(study["src"] / "mri", uids)}


def test_no_original_identifier_in_any_output(study):
    uids = [STUDY_UID, FOR_UID, *SERIES_UIDS] + [_sop_uid(s, k) for s in (0, 1) for k in range(3)]
    found = scan_for(study["out"], IDENTIFIERS + uids + [UID_ROOT])
    assert found == []
    names = sorted(p.relative_to(study["out"]).as_posix() for p in study["out"].rglob("*") if p.is_file())
    assert names == ["loads.csv", "motion/dj.c3d", "motion/dj.trc"] + [f"mri/IM{s}{k:03d}.dcm" for s in (0, 1)
                                                                       for k in range(3)] + [
        "nifti/knee.nii.gz", "nifti/knee2.nii", "nifti/pair.hdr", "nifti/pair.img", "sportsmed-deid.json"]


def test_dicom_series_still_one_volume_with_new_consistent_uids(study):
    src, out = study["src"] / "mri", study["out"] / "mri"
    before = {s["series_uid"]: s for s in imaging.list_dicom_series(str(src))}
    after = imaging.list_dicom_series(str(out))
    assert len(after) == 2 and sorted(s["files"] for s in after) == [3, 3]
    assert not set(before) & {s["series_uid"] for s in after}
    for s_in, s_out in zip(sorted(before.values(), key=lambda s: s["te_ms"]), sorted(after, key=lambda s: s["te_ms"])):
        a = imaging.read_dicom_series(str(src), s_in["series_uid"])
        b = imaging.read_dicom_series(str(out), s_out["series_uid"])
        assert np.array_equal(a["array"], b["array"])
        assert np.array_equal(a["image"].affine, b["image"].affine)
        assert list(a["te_ms"]) == list(b["te_ms"])
    dss = {p.name: pydicom.dcmread(p) for p in sorted(out.glob("*.dcm"))}
    originals = {p.name: pydicom.dcmread(p) for p in sorted(src.glob("*.dcm"))}
    studies = {ds.StudyInstanceUID for ds in dss.values()}
    frames = {ds.FrameOfReferenceUID for ds in dss.values()}
    assert len(studies) == 1 and len(frames) == 1 and studies.isdisjoint({STUDY_UID})
    assert len({ds.SOPInstanceUID for ds in dss.values()}) == 6
    pid = privacy.pseudonym("SM4711X", study["secret"])
    for name, ds in dss.items():
        assert ds.PixelData == originals[name].PixelData  # byte-identical
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.SeriesInstanceUID == dss[name[:3] + "000.dcm"].SeriesInstanceUID
        assert ds.PatientID == pid and str(ds.PatientName) == pid
        assert ds.PatientIdentityRemoved == "YES"
        assert "PatientBirthDate" not in ds or not ds.PatientBirthDate
        assert not any(e.tag.is_private for e in ds)
        assert ds.ImagePositionPatient == originals[name].ImagePositionPatient


def test_dicom_uids_are_remapped_afresh_in_each_run(study, tmp_path):
    out = tmp_path / "again"
    deidentify(study["src"] / "mri", out)
    first = pydicom.dcmread(study["out"] / "mri" / "IM0000.dcm")
    again = pydicom.dcmread(out / "IM0000.dcm")
    assert again.StudyInstanceUID != first.StudyInstanceUID
    assert again.PatientID != first.PatientID  # no secret: the profile's dummy, not the pseudonym
    assert again.PixelData == first.PixelData


def test_c3d_reads_identically_without_names(study):
    src, out = study["src"] / "motion" / "dj.c3d", study["out"] / "motion" / "dj.c3d"
    a, b = motion.read_c3d(str(src)), motion.read_c3d(str(out))
    assert np.array_equal(a.trial.points, b.trial.points, equal_nan=True)
    assert np.array_equal(a.trial.analogs, b.trial.analogs)
    assert b.trial.point_labels == ["LASI", "RASI", "LKNE"]
    assert b.trial.analog_labels == ["Fz1", "EMG1"] and b.trial.analog_units == ["N", "V"]
    assert b.trial.point_units == "mm" and b.parameter("POINT", "Y_SCREEN") == ["+Z"]
    assert [(e.label, e.context) for e in b.trial.events] == [("Foot Strike", "Left")]
    assert [e.time_s for e in b.trial.events] == [e.time_s for e in a.trial.events] == [np.float32(0.02)]
    assert all(v == "" for v in b.parameter("SUBJECTS", "NAMES"))
    assert all(v == "" for v in b.parameter("MANUFACTURER", "COMPANY"))
    assert all(g.description == "" for g in b.groups)
    assert all(p.description == "" for g in b.groups for p in g.parameters)
    # the data section is the same bytes at the same place
    off = study["data_offset"]
    assert src.read_bytes()[off:] == out.read_bytes()[off:]


def test_nifti_same_data_and_geometry_no_text(study):
    data, affine = study["nifti"]
    for name in ("knee.nii.gz", "knee2.nii", "pair.hdr"):
        img = nib.load(study["out"] / "nifti" / name)
        assert np.array_equal(np.asarray(img.dataobj), data)
        assert np.allclose(img.affine, affine, atol=0, rtol=0)
        assert img.header["descrip"].tobytes().strip(b"\0") == b""
        assert img.header["aux_file"].tobytes().strip(b"\0") == b""
        assert img.header["intent_name"].tobytes().strip(b"\0") == b""
        assert len(img.header.extensions) == 0
        ours = imaging.read_image(study["out"] / "nifti" / name)
        theirs = imaging.read_image(study["src"] / "nifti" / name)
        assert np.array_equal(ours.array, theirs.array) and np.array_equal(ours.affine, theirs.affine)
    raw_in = (study["src"] / "nifti" / "pair.img").read_bytes()
    assert (study["out"] / "nifti" / "pair.img").read_bytes() == raw_in


def test_nifti_bytes_between_header_and_data_cleared(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    img = nib.Nifti1Image(data, np.diag([0.5, 0.6, 0.7, 1.0]))
    img.header.set_data_offset(416)
    nib.save(img, tmp_path / "gap.nii")
    raw = bytearray((tmp_path / "gap.nii").read_bytes())
    raw[360:376] = b"Doe^Jane SM4711X"  # no extension flag: text a writer left in the gap
    (tmp_path / "gap.nii").write_bytes(bytes(raw))
    changes = deidentify(tmp_path / "gap.nii", tmp_path / "out.nii")["files"][0]["changes"]
    assert changes == ["bytes between header and data cleared"]
    assert scan_for(tmp_path / "out.nii", ["SM4711X", NAME]) == []
    out = nib.load(tmp_path / "out.nii")
    assert np.array_equal(np.asarray(out.dataobj), data)
    assert np.array_equal(out.affine, nib.load(tmp_path / "gap.nii").affine)
    assert struct.unpack_from("<f", (tmp_path / "out.nii").read_bytes(), 108)[0] == 352.0


def test_trc_and_csv(study):
    a = motion.read_trc(str(study["src"] / "motion" / "dj.trc"))
    b = motion.read_trc(str(study["out"] / "motion" / "dj.trc"))
    assert np.array_equal(a.points, b.points, equal_nan=True)
    assert a.point_labels == ["JDoe:LASI", "JDoe:RASI", "JDoe:LKNE"] and b.point_labels == ["LASI", "RASI", "LKNE"]
    first = (study["out"] / "motion" / "dj.trc").read_text().splitlines()[0].split("\t")
    assert first[0] == "PathFileType" and first[3] == "dj.trc"
    import pandas as pd

    df = pd.read_csv(study["out"] / "loads.csv")
    s = study["secret"]
    assert list(df.columns) == ["athlete", "date", "load"]
    assert list(df["athlete"]) == [privacy.pseudonym("Doe^Jane", s), privacy.pseudonym("SM4711X", s),
                                   privacy.pseudonym("Doe^Jane", s)]
    assert list(df["load"]) == [300, 450, 120]


def test_report_names_changes_not_values(study):
    report = json.loads((study["out"] / "sportsmed-deid.json").read_text())
    assert report == study["report"]
    by_path = {f["path"]: f for f in report["files"]}
    dcm = by_path["mri/IM0000.dcm"]
    assert dcm["kind"] == "dicom"
    changed = " ".join(dcm["changes"])
    for keyword in ("PatientName", "PatientBirthDate", "InstitutionName", "StudyInstanceUID", "SOPInstanceUID",
                    "StudyDate", "private"):
        assert keyword in changed, keyword
    assert "SUBJECTS:NAMES: blanked" in by_path["motion/dj.c3d"]["changes"]
    assert by_path["nifti/knee.nii.gz"]["changes"] == ["descrip: cleared", "aux_file: cleared",
                                                       "intent_name: cleared", "extensions: 1 removed"]


def test_keep_leaves_named_items(study, tmp_path):
    src = study["src"]
    out = tmp_path / "kept"
    deidentify(src / "mri", out, keep=["0008,0020", "(0010,0040)"])
    ds = pydicom.dcmread(out / "IM0000.dcm")
    assert ds.StudyDate == "20240229" and ds.PatientSex == "F"   # kept
    assert not ds.SeriesDate and not ds.InstitutionName            # still removed
    deidentify(src / "motion" / "dj.c3d", tmp_path / "k.c3d", keep=["SUBJECTS:NAMES", "MANUFACTURER:COMPANY"])
    c = motion.read_c3d(str(tmp_path / "k.c3d"))
    assert c.parameter("SUBJECTS", "NAMES") == ["JDoe"] and c.parameter("MANUFACTURER", "COMPANY") == ["Acme Motion Ltd"]
    assert c.trial.point_labels == ["JDoe:LASI", "JDoe:RASI", "JDoe:LKNE"]  # the name is kept, so is the prefix
    assert all(v == "" for v in c.parameter("MANUFACTURER", "SOFTWARE"))
    deidentify(src / "nifti" / "knee2.nii", tmp_path / "k.nii", keep=["descrip"])
    h = nib.load(tmp_path / "k.nii").header
    assert h["descrip"].tobytes().rstrip(b"\0") == b"Jane knee 2024-02-29"
    assert h["aux_file"].tobytes().strip(b"\0") == b"" and len(h.extensions) == 0


def test_unknown_type_refused_nothing_written(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_csv(src / "loads.csv")
    (src / "notes.txt").write_text("Jane Doe")
    with pytest.raises(sportsmed.InvalidArgument, match="notes.txt"):
        deidentify(src, tmp_path / "out", drop_columns=["notes"])
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["in"]
    # a CSV that names none of the given columns is refused, not passed through
    with pytest.raises(sportsmed.InvalidArgument, match="loads.csv"):
        deidentify(src / "loads.csv", tmp_path / "x.csv", drop_columns=["comment"])
    report = deidentify(src, tmp_path / "out", drop_columns=["notes"], copy_unknown=True)
    assert {f["path"]: f["kind"] for f in report["files"]} == {"loads.csv": "csv", "notes.txt": "unknown"}


def test_a_bad_file_fails_the_run_naming_it(tmp_path):
    src = tmp_path / "in"
    write_dicom_series(src, 0, n=2)
    (src / "IM0001.dcm").write_bytes((src / "IM0001.dcm").read_bytes()[:300])
    with pytest.raises(sportsmed.Error, match="IM0001.dcm"):
        deidentify(src, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_cli(study, tmp_path, capsys):
    secret = tmp_path / "s.secret"
    rc = cli_main(["deid", str(study["src"] / "loads.csv"), "-o", str(tmp_path / "l.csv"), "--secret", str(secret),
                   "--id-column", "athlete", "--drop-column", "notes"])
    assert rc == 0 and secret.stat().st_mode & 0o777 == 0o600
    assert scan_for(tmp_path / "l.csv", IDENTIFIERS) == []
    rc = cli_main(["deid", str(study["src"]), "-o", str(tmp_path / "o"), "--secret", str(tmp_path / "o" / "s")])
    assert rc == 1 and "inside" in capsys.readouterr().err
    rc = cli_main(["deid", str(study["src"] / "loads.csv"), "-o", str(tmp_path / "l2.csv")])
    assert rc == 1 and "--id-column" in capsys.readouterr().err


def test_shared_mese_series(shared_data, tmp_path):
    src = shared_data("mri/mese_t2")
    files = sorted(src.glob("*.dcm"))
    # the identifying values this input has, read by pydicom
    keywords = ["PatientName", "PatientID", "PatientBirthDate", "InstitutionName", "InstitutionAddress",
                "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "StationName",
                "AccessionNumber", "StudyID", "DeviceSerialNumber", "StudyDate", "SeriesDate", "AcquisitionDate",
                "ContentDate", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID"]
    values = set()
    for p in files:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        for k in keywords:
            v = str(ds.get(k, "") or "").strip()
            if len(v) >= 4:
                values.add(v)
    assert len(values) >= 192 + 3  # one SOP Instance UID per file, and the study's own values
    out = tmp_path / "mese"
    deidentify(src, out)
    found = scan_for(out, sorted(values))
    assert found == []
    a = imaging.read_dicom_series(str(src))
    b = imaging.read_dicom_series(str(out))
    assert np.array_equal(a["array"], b["array"])
    assert np.array_equal(a["image"].affine, b["image"].affine)
    assert list(a["te_ms"]) == list(b["te_ms"])
    for p in files[:5]:
        assert pydicom.dcmread(out / p.name).PixelData == pydicom.dcmread(p).PixelData


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SPORTSMED_EXTENDED_TESTS") != "1",
                    reason="12 s over the whole motion corpus: SPORTSMED_EXTENDED_TESTS=1")
def test_shared_motion_corpus(shared_data, tmp_path):
    """Every C3D and TRC of the shared corpus: subject names, manufacturer strings and
    TRC source paths (read from the inputs) are gone, and each output reads to the same
    data (deid checks that itself and raises otherwise). The one corrupt C3D is refused."""
    root = shared_data("motion")
    c3ds = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".c3d")
    trcs = sorted(root.rglob("*.trc"))
    identifying = {}  # input -> its identifying values (each output is scanned for its own)
    for p in c3ds:
        if p.name == "bad_parameter_section.c3d":
            continue
        c = motion.read_c3d(str(p))
        values = set()
        for group, name in (("SUBJECTS", "NAMES"), ("SUBJECT", "NAME"), ("MANUFACTURER", "COMPANY"),
                            ("MANUFACTURER", "SOFTWARE")):
            if c.has_parameter(group, name):
                values.update(v for v in c.parameter(group, name) if len(v.strip()) >= 4)
        identifying[p] = values
    for p in trcs:
        first = p.read_bytes().split(b"\n", 1)[0].decode("latin-1")
        path = re.split(r"\(X/Y/Z\)[\s,]?", first, maxsplit=1)[-1].rstrip(",\t\r ")
        identifying[p] = {path} if len(path) >= 4 else set()
    every = set().union(*identifying.values())
    assert {"elizabeth baumgartner", "Norm Walker", "Scott Drummond", "Vicon"} <= every
    assert sum(1 for v in identifying.values() if v) >= 30
    done = 0
    for i, p in enumerate(c3ds + trcs):
        out = tmp_path / f"{i}{p.suffix.lower()}"
        if p.name == "bad_parameter_section.c3d":
            with pytest.raises(sportsmed.Error, match="bad_parameter_section"):
                deidentify(p, out)
            continue
        deidentify(p, out)
        assert scan_for(out, sorted(identifying[p])) == [], p.name
        done += 1
    assert done == len(c3ds) + len(trcs) - 1
