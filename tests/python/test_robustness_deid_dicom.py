"""DICOM attributes newer than GDCM's confidentiality table (PS3.15 E.1-1, basic profile):
instance UIDs anywhere in the data set are replaced consistently across a run, the issuer of
the patient id, contrast agent text and the record of earlier edits are emptied."""

from __future__ import annotations

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

from sportsmed.deid import deidentify

ROOT = "1.2.826.0.1.3680043.9.7777"
EVENT = f"{ROOT}.55.1"


def _write(path, k):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = f"{ROOT}.9.{k}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = f"{ROOT}.9.{k}"
    ds.StudyInstanceUID = f"{ROOT}.1"
    ds.SeriesInstanceUID = f"{ROOT}.2"
    ds.PatientName, ds.PatientID = "Doe^Jane", "SM4711X"
    ds.IssuerOfPatientID = "IssuerHospitalX"
    ds.IrradiationEventUID = EVENT
    ds.ContrastBolusAgent = "Gadovist 7 ml, allergy noted by Dr Hart"
    item = Dataset()
    item.IrradiationEventUID = EVENT
    ds.add_new(0x00400260, "SQ", Sequence([item]))  # a sequence holding the same UID
    mod = Dataset()
    mod.AttributeModificationDateTime = "20200101120000"
    mod.ModifyingSystem = "PACS of St Elsewhere"
    mod.SourceOfPreviousValues = "Kingston imaging"
    ds.OriginalAttributesSequence = Sequence([mod])
    ds.Modality = "MR"
    ds.Rows, ds.Columns = 2, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = bytes(8)
    ds.save_as(path, write_like_original=False)


def test_newer_identifying_attributes_are_replaced_or_emptied(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for k in range(2):
        _write(src / f"IM{k}.dcm", k)
    deidentify(src, tmp_path / "out")
    outs = [pydicom.dcmread(tmp_path / "out" / f"IM{k}.dcm") for k in range(2)]
    raw = b"".join((tmp_path / "out" / f"IM{k}.dcm").read_bytes() for k in range(2))
    for text in (EVENT, "IssuerHospitalX", "Gadovist", "St Elsewhere", "Kingston", "20200101120000"):
        assert text.encode() not in raw, text
    new = {o.IrradiationEventUID for o in outs} | {o[0x00400260][0].IrradiationEventUID for o in outs}
    assert len(new) == 1 and EVENT not in new and new.pop().startswith(("1.2.", "2.25."))  # one new UID, everywhere
    for o in outs:
        assert not o.get("IssuerOfPatientID") and not o.get("ContrastBolusAgent")
        assert not o.get("OriginalAttributesSequence")
        assert o.SOPClassUID == MRImageStorage  # DICOM's own UIDs stay
        assert o.file_meta.MediaStorageSOPInstanceUID == o.SOPInstanceUID != f"{ROOT}.9.0"
