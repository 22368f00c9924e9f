"""The platform's audit fixes: deid (DICOMDIR left out, Table E.1-1 attributes, repeated id
columns, existing outputs), the cohort's failure messages of pseudonymised runs (no content of
the input files), and the screening report (a stale --as-of, strict ISO dates, an athlete not
in the log, digits that agree with the colour, decile flags of a small squad).

References: pydicom (a peer DICOM reader and writer, and its FileSet for the DICOMDIR), the csv
module and pandas for tables, hand computations for dates and digits."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sportsmed
from sportsmed import FormatError, InvalidArgument, privacy
from sportsmed.cli import main as cli_main
from sportsmed.deid import deid_csv, deidentify

SECRET = bytes(range(32))
UID_ROOT = "1.2.826.0.1.3680043.9.7778"


def needs(pillar):
    if pillar not in sportsmed.available_pillars():
        pytest.skip(f"the {pillar} pillar is not built")


# ---------------------------------------------------------------------------------------
# deid: DICOM

def _mr(k: int, **extra):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}.4.{k + 1}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = f"{UID_ROOT}.1", f"{UID_ROOT}.2"
    ds.PatientName, ds.PatientID = "Doe^Jane", "SM4711X"
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20240229", "101502", "STUDY8812"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "MR", 1, k + 1
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 4, 3, 16, 16, 15
    ds.PixelRepresentation, ds.SamplesPerPixel, ds.PhotometricInterpretation = 0, 1, "MONOCHROME2"
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2.0 * k], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 2.0
    ds.PixelData = (np.arange(12, dtype=np.uint16) + k).tobytes()
    for name, value in extra.items():
        setattr(ds, name, value)
    assert pydicom
    return ds


def _fileset(folder: Path, n: int = 3) -> list:
    """A pydicom FileSet of ``n`` images with its DICOMDIR; the images' SOP Instance UIDs."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    for k in range(n):
        fs.add(_mr(k))
    fs.write(folder)
    return [f"{UID_ROOT}.4.{k + 1}" for k in range(n)]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_dicomdir_is_left_out_with_a_warning(tmp_path, capsys):
    pydicom = pytest.importorskip("pydicom")
    src = tmp_path / "in"
    uids = _fileset(src)
    assert (src / "DICOMDIR").is_file()
    assert pydicom.dcmread(src / "DICOMDIR").file_meta.MediaStorageSOPClassUID == "1.2.840.10008.1.3.10"
    out = tmp_path / "out"
    rc = cli_main(["deid", str(src), "-o", str(out), "--secret", str(tmp_path / "s.secret"), "--json"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "DICOMDIR not copied: it indexes the original UIDs; regenerate it from the de-identified files" in err
    assert not (out / "DICOMDIR").exists()
    report = json.loads((out / "sportsmed-deid.json").read_text())
    assert [s["path"] for s in report["skipped"]] == ["DICOMDIR"]
    assert any("DICOMDIR not copied" in w for w in report["warnings"])
    images = [p for p in out.rglob("*") if p.is_file() and p.name != "sportsmed-deid.json"]
    assert len(images) == 3 and len(report["files"]) == 3
    new_uids = {str(pydicom.dcmread(p).SOPInstanceUID) for p in images}
    assert len(new_uids) == 3 and not new_uids & set(uids)
    blob = _all_bytes(out)
    assert not any(u.encode() in blob for u in uids)  # no original UID in any output byte


def test_dicomdir_is_recognised_by_its_sop_class_and_refused_alone(tmp_path):
    pytest.importorskip("pydicom")
    src = tmp_path / "in"
    _fileset(src, 2)
    renamed = tmp_path / "in2"
    (src / "DICOMDIR").rename(tmp_path / "index.dat")
    src.rename(renamed)
    (tmp_path / "index.dat").rename(renamed / "index.dat")  # no DICOMDIR name: told by its SOP class
    report = deidentify(renamed, tmp_path / "out")
    assert [s["path"] for s in report["skipped"]] == ["index.dat"]
    assert not (tmp_path / "out" / "index.dat").exists()
    with pytest.raises(InvalidArgument, match="DICOMDIR"):
        deidentify(renamed / "index.dat", tmp_path / "one.dcm")
    assert not (tmp_path / "one.dcm").exists()


def test_dicom_table_e11_attributes_removed_or_replaced(tmp_path):
    """PS3.15 Table E.1-1 (basic profile): IssuerOfPatientID X, IrradiationEventUID U,
    OriginalAttributesSequence X, ContrastBolusAgent Z/D. Needs the C++ tag list
    (src/imaging/dicom_deid.cpp)."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    src = tmp_path / "in"
    src.mkdir()
    event = f"{UID_ROOT}.9.1"
    for k in range(2):
        mod = Dataset()
        mod.PatientName, mod.PatientID = "OldName^Original", "OLDPID77"
        oa = Dataset()
        oa.ModifiedAttributesSequence = Sequence([mod])
        oa.SourceOfPreviousValues, oa.ModifyingSystem = "OLDSOURCE", "ModSys"
        oa.ReasonForTheAttributeModification, oa.AttributeModificationDateTime = "CORRECT", "20200101120000"
        nested = Dataset()  # the same UID inside a sequence: mapped like the top-level one
        nested.IrradiationEventUID = event
        ds = _mr(k, IssuerOfPatientID="IssuerHospitalX", ContrastBolusAgent="GadoSecretAgent",
                 IrradiationEventUID=event, OriginalAttributesSequence=Sequence([oa]))
        ds.add_new(0x00400260, "SQ", Sequence([nested]))
        ds.save_as(src / f"im{k}.dcm", write_like_original=False)
    out = tmp_path / "out"
    deidentify(src, out)
    got = [pydicom.dcmread(out / f"im{k}.dcm") for k in range(2)]
    for ds in got:
        assert "IssuerOfPatientID" not in ds                  # X
        assert "OriginalAttributesSequence" not in ds         # X
        assert str(ds.get("ContrastBolusAgent", "")) == ""    # Z/D: empty (or a dummy, never the value)
        assert str(ds.get("IrradiationEventUID", "")) != event  # U
    new = {str(ds.get("IrradiationEventUID", "")) for ds in got} | {str(ds[0x00400260][0].IrradiationEventUID)
                                                                    for ds in got}
    assert len(new) == 1  # U: the same input UID gives the same new UID in every file of the run, at any depth
    for ds in got:  # DICOM's own UIDs stay; the meta header follows the new SOP Instance UID
        assert ds.SOPClassUID == ds.file_meta.MediaStorageSOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    blob = _all_bytes(out)
    for text in (b"IssuerHospitalX", b"GadoSecretAgent", b"OldName", b"OLDPID77", event.encode()):
        assert text not in blob


def test_existing_output_file_is_refused_not_overwritten(tmp_path, capsys):
    csv_in = tmp_path / "loads.csv"
    csv_in.write_text("athlete,date\nJane Doe,2024-01-01\n")
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    with pytest.raises(InvalidArgument, match="exists"):
        deidentify(csv_in, out, secret=SECRET, id_columns=["athlete"])
    assert out.read_text() == "keep me"


def test_an_output_under_a_file_is_a_clear_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    src = tmp_path / "in"
    src.mkdir()
    (src / "loads.csv").write_text("athlete,date\nJane Doe,2024-01-01\n")
    for out in (afile / "out", afile):
        rc = cli_main(["deid", str(src), "-o", str(out), "--secret", str(tmp_path / "s.secret"),
                       "--id-column", "athlete"])
        err = capsys.readouterr().err
        assert rc == 1 and "Errno" not in err and "is a file" in err
    from sportsmed import cohort

    for out in (afile, afile / "res"):
        with pytest.raises(InvalidArgument, match="is a file, not a folder"):
            cohort.run_cohort(tmp_path / "no_manifest.csv", out)


# ---------------------------------------------------------------------------------------
# deid: CSV

def test_every_column_of_a_repeated_id_name_is_pseudonymised(tmp_path):
    src = tmp_path / "dup.csv"
    src.write_text("athlete,date, athlete\nJane Doe,2024-01-01,Jane Doe\nJohn Roe,2024-01-02,John Roe\n")
    dst = tmp_path / "out.csv"
    changes = deid_csv(src, dst, id_columns=["athlete"], secret=SECRET)
    rows = list(csv.reader(dst.open(newline="")))
    assert rows[0] == ["athlete", "date", " athlete"]
    for row, name in zip(rows[1:], ["Jane Doe", "John Roe"]):
        assert row[0] == row[2] == privacy.pseudonym(name, SECRET)
    assert "Jane" not in dst.read_text() and "Roe" not in dst.read_text()
    assert changes == ["column 'athlete': pseudonymised (2 columns of that name)"]


def test_pseudonymise_table_with_a_repeated_column_name():
    df = pd.DataFrame([["Jane Doe", "2024-01-01", "Jane Doe"]], columns=["athlete", "date", "athlete"])
    out = privacy.pseudonymise_table(df, "athlete", SECRET)
    p = privacy.pseudonym("Jane Doe", SECRET)
    assert list(out.columns) == ["athlete", "date", "athlete"]
    assert out.iloc[0].tolist() == [p, "2024-01-01", p]
    assert df.iloc[0, 0] == "Jane Doe"  # the input is not modified


# ---------------------------------------------------------------------------------------
# cohort: failure messages of a pseudonymised run

def _wide_log(tmp_path: Path) -> Path:
    log = tmp_path / "wide_log.csv"
    log.write_text("date,Jane Doe,John Roe\n2025-01-01,300,200\n2025-01-02,310,220\n")
    return log


def test_failure_message_carries_no_content_of_the_input(tmp_path):
    needs("risk")
    from sportsmed.cohort._manifest import Entry
    from sportsmed.cohort._run import _redact_input_content, _scrub, execute_item

    log = _wide_log(tmp_path)
    entry = Entry(athlete_id="Jane Doe", session_date="", task="training_log", path=log)
    res = execute_item({"step": "workload", "entry": entry, "item_id": "workload/sm_x", "params": {},
                        "out": str(tmp_path / "res")})
    assert res["status"] == "failed" and "John Roe" in res["error"]  # the raw message quotes the header
    pseud = privacy.pseudonym("Jane Doe", SECRET)
    msg = _redact_input_content(_scrub(res["error"], entry, pseud, "workload/x"), [log])
    assert "John Roe" not in msg and "Jane Doe" not in msg and "wide_log" not in msg and str(tmp_path) not in msg
    # what the message says of the code's expectation, and the pseudonym, stay
    assert "no column 'athlete'" in msg and pseud in msg and "<training_log workload/x>" in msg


def test_redaction_without_a_readable_input_removes_quoted_spans(tmp_path):
    from sportsmed.cohort._run import _redact_input_content

    msg = "read: '<knee_mri mri/sm_0123456789abcdef_x>' label 'Jane Doe' in \"notes\": the athlete's knee\x02\x03"
    got = _redact_input_content(msg, [tmp_path])  # a folder: not read for its text
    assert got == "read: '<knee_mri mri/sm_0123456789abcdef_x>' label '…' in \"…\": the athlete's knee…"


def test_binary_training_log_is_a_format_error_without_its_bytes(tmp_path):
    needs("risk")
    from sportsmed.cohort._manifest import Entry
    from sportsmed.cohort._run import execute_item

    c3d = tmp_path / "jump.c3d"
    c3d.write_bytes(bytes([2, 0x50]) + b"\0" * 510 + b"JANE DOE" + b"\0" * 100)
    entry = Entry(athlete_id="A1", session_date="", task="training_log", path=c3d)
    res = execute_item({"step": "workload", "entry": entry, "item_id": "workload/x", "params": {},
                        "out": str(tmp_path / "res")})
    assert res["error_type"] == "FormatError" and "not CSV text" in res["error"]
    assert "\x02" not in res["error"] and "JANE" not in res["error"]


# ---------------------------------------------------------------------------------------
# screen

def _log(tmp_path: Path, athletes=("Ann", "Bob"), days=60, end="2024-02-29") -> Path:
    dates = pd.date_range(end=end, periods=days, freq="D")
    rng = np.random.default_rng(3)
    frames = [pd.DataFrame({"athlete": a, "date": dates.strftime("%Y-%m-%d"),
                            "daily_load": rng.uniform(300, 400, days).round()}) for a in athletes]
    path = tmp_path / "two.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def _acwr_flag(rep):
    return [f for f in rep.data["flags"] if f["key"] == "acwr"][0]


def test_as_of_long_after_the_log_is_not_graded(tmp_path):
    needs("risk")
    from sportsmed.screen import GREY, ScreenInputs, build_screen
    from sportsmed.screen._build import STALE_DAYS

    log = _log(tmp_path)
    f = _acwr_flag(build_screen(ScreenInputs(log=log, athlete="Bob", as_of="2030-01-01"), qa=False))
    days = (pd.Timestamp("2030-01-01") - pd.Timestamp("2024-02-29")).days  # 2133, by hand
    assert f["status"] == GREY and f["value"] is None
    assert f"the log ends 2024-02-29, {days} days before the --as-of date" in f["reason"]
    # within the tolerance the ratio of the log's last day is graded
    near = (pd.Timestamp("2024-02-29") + pd.Timedelta(days=STALE_DAYS)).strftime("%Y-%m-%d")
    f = _acwr_flag(build_screen(ScreenInputs(log=log, athlete="Bob", as_of=near), qa=False))
    raw = pd.read_csv(log)
    load = raw[raw["athlete"] == "Bob"]["daily_load"].to_numpy()
    assert f["status"] != GREY and f["value"] == pytest.approx(load[-7:].mean() / load[-28:].mean(), rel=1e-12)


@pytest.mark.parametrize("as_of", ["01/02/2024", "2024-1-2", "20240102", "2024-13-45", "2024-02-30"])
def test_as_of_must_be_iso(tmp_path, as_of):
    from sportsmed.screen import ScreenInputs, build_screen

    with pytest.raises(InvalidArgument, match="YYYY-MM-DD"):
        build_screen(ScreenInputs(log=_log(tmp_path), athlete="Bob", as_of=as_of), qa=False)


def test_an_athlete_not_in_the_log_is_named_as_such(tmp_path):
    needs("risk")
    from sportsmed.screen import GREY, ScreenInputs, build_screen

    f = _acwr_flag(build_screen(ScreenInputs(log=_log(tmp_path), athlete="Zed"), qa=False))
    assert f["status"] == GREY and "no rows of Zed" in f["reason"] and "Ann, Bob" in f["reason"]
    assert "say whose rows" not in f["reason"]
    # a one-athlete log is not screened under another athlete's name either
    f = _acwr_flag(build_screen(ScreenInputs(log=_log(tmp_path, ("Ann",)), athlete="Zed"), qa=False))
    assert f["status"] == GREY and "no rows of Zed" in f["reason"]


def test_missing_mass_names_the_body_mass_option(shared_data):
    needs("motion")
    from sportsmed.cli.screen import register
    import argparse

    from sportsmed.screen import ScreenInputs, build_screen

    rep = build_screen(ScreenInputs(trials=[shared_data("motion/c3d/gait-pig.c3d")]), qa=False)
    reasons = " ".join(f["reason"] for f in rep.data["flags"])
    assert "body mass is needed" in reasons  # the C3D holds no PROCESSING:Bodymass
    assert "--body-mass KG" in reasons and "--mass KG" not in reasons
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    assert parser.parse_args(["screen", "--body-mass", "70"]).mass == 70.0  # the option the message names


@pytest.mark.parametrize("value, shown, status", [
    (1.3049, "1.305", "amber"), (1.2999, "1.2999", "green"), (1.3, "1.30", "amber"), (0.7999, "0.7999", "amber"),
    (0.8, "0.80", "green"), (1.4951, "1.495", "amber"), (1.5, "1.50", "red"), (1.0, "1.00", "green")])
def test_acwr_shown_with_digits_that_agree_with_its_colour(value, shown, status):
    from sportsmed.screen import criteria as C

    f = C.acwr().grade(value)
    assert (f.value_text, f.status) == (shown, status)
    # the shown number lies in the band of the colour (bands by hand: green [0.8, 1.3), amber [1.3, 1.5))
    x = float(f.value_text)
    by_hand = "amber" if x < 0.8 else "green" if x < 1.3 else "amber" if x < 1.5 else "red"
    assert by_hand == status


def test_verdict_table_shows_as_many_digits_as_the_flags():
    from sportsmed.screen import criteria as C
    from sportsmed.screen._build import _glance_format

    flags = [C.acwr().grade(1.3049), C.cartilage_region_ratio().grade(80.0)]
    assert _glance_format(flags).format(1.3049) == "1.305"
    assert _glance_format([C.acwr().grade(1.0)]) == "{:.3g}"


# ---------------------------------------------------------------------------------------
# squad report: decile flags of a small squad

@pytest.mark.parametrize("n, flagged", [(2, False), (12, True)])
def test_top_decile_flag_needs_a_squad(n, flagged):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sportsmed.cohort._report import MIN_DECILE_SQUAD, _risk
    from sportsmed.report import Report

    dates = pd.date_range("2025-01-01", periods=40, freq="D")
    rk = pd.DataFrame([{"athlete": f"sm_{k:016x}", "date": d, "risk": 0.01 * (k + 1)}
                       for k in range(n) for d in dates])
    rep = Report("squad")
    _risk(rep, rk, None, plt)
    plt.close("all")
    doc = json.dumps(rep.to_json(), ensure_ascii=False)
    table = [i for s in rep.to_json()["sections"] for i in s["items"] if i["type"] == "table"][0]
    col = table["columns"].index("flags")
    top = [r for r in table["rows"] if "top 10% of squad" in r[col]]
    if flagged:
        # by hand: the 90th percentile (linear) of 0.01..0.12 lies at position 0.9 * 11 = 9.9,
        # 0.10 + 0.9 * 0.01 = 0.109; risk >= it: the two highest athletes
        assert sorted(r[0] for r in top) == [f"sm_{10:016x}", f"sm_{11:016x}"]
    else:
        assert top == [] and f"fewer than {MIN_DECILE_SQUAD}" in doc


def test_secret_folder_is_created_private(tmp_path):
    path = tmp_path / "keys" / "deeper" / "study.secret"
    secret = privacy.load_or_create_secret(path)
    assert len(secret) == 32 and path.read_bytes() == secret
    assert (path.parent.stat().st_mode & 0o777) == 0o700 and (path.stat().st_mode & 0o777) == 0o600


def test_deid_keeps_the_projects_own_sidecars_without_their_paths(tmp_path):
    src = tmp_path / "in"
    (src / "MRN0012345_DOE").mkdir(parents=True)
    (src / "MRN0012345_DOE" / "knee.labels.json").write_text(
        json.dumps({"labels": {"1": "femur"}, "note": "Jane Doe's knee"}))
    (src / "MRN0012345_DOE" / "mese.json").write_text(
        json.dumps({"EchoTimes_ms": [10.0, 20.0], "EchoTime": [0.01, 0.02], "Source": "/data/MRN0012345_DOE/dicom"}))
    report = deidentify(src, tmp_path / "out")
    lab = json.loads((tmp_path / "out" / "MRN0012345_DOE" / "knee.labels.json").read_text())
    mese = json.loads((tmp_path / "out" / "MRN0012345_DOE" / "mese.json").read_text())
    assert lab == {"labels": {"1": "femur"}}
    assert mese == {"EchoTimes_ms": [10.0, 20.0], "EchoTime": [0.01, 0.02]}
    kinds = {Path(f["path"]).name: f["kind"] for f in report["files"]}
    assert kinds == {"knee.labels.json": "label_names", "mese.json": "echo_times"}
