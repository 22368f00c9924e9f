"""Text in other code pages (issue 18/21): C3D and TRC files whose labels are Windows-1252 /
Latin-1 read, with the characters the file meant and a warning; error messages quoting such
bytes arrive whole."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def _trial(labels):
    t = motion.Trial()
    t.point_labels = list(labels)
    t.point_descriptions = [""] * len(labels)
    t.points = np.arange(10 * len(labels) * 3, dtype=float).reshape(10, len(labels), 3) + 1.0
    t.point_rate_hz = 100.0
    return t


def test_c3d_labels_in_windows_1252_read_as_the_characters_meant(tmp_path):
    path = tmp_path / "latin.c3d"
    motion.write_trial_c3d(str(path), _trial(["GENOUX", "PIEDYY"]))
    raw = path.read_bytes()
    # Patch the labels in place with single-byte characters: "GENOU\xe9" (é) and "PIED\x80\xe8" (€è).
    raw = raw.replace(b"GENOUX", b"GENOU\xe9").replace(b"PIEDYY", b"PIED\x80\xe8")
    path.write_bytes(raw)
    c = motion.read_c3d(str(path))
    expected = [b"GENOU\xe9".decode("cp1252"), b"PIED\x80\xe8".decode("cp1252")]
    assert c.trial.point_labels == expected == ["GENOUé", "PIED€è"]
    assert any("not UTF-8" in w for w in c.warnings)
    # The points are untouched by the relabelling.
    np.testing.assert_array_equal(c.trial.points, _trial(["a", "b"]).points)
    # A message that quotes the label arrives whole (Python would drop a non-UTF-8 message).
    with pytest.raises(sportsmed.NotFound, match="no marker 'X'.*GENOUé"):
        c.trial.marker("X")


def test_trc_in_latin_1_reads_with_a_warning(tmp_path):
    path = tmp_path / "latin.trc"
    motion.write_trc(str(path), _trial(["KNIE", "FUSS"]))
    text = path.read_bytes().replace(b"FUSS", b"FU\xdf")  # ß in Latin-1
    path.write_bytes(text)
    t = motion.read_trc(str(path))
    assert t.point_labels == ["KNIE", "FUß"]
    assert any("not UTF-8" in w for w in t.warnings)
    np.testing.assert_allclose(t.points, _trial(["a", "b"]).points)


def test_valid_utf8_labels_are_kept_as_they_are(tmp_path):
    path = tmp_path / "utf8.c3d"
    motion.write_trial_c3d(str(path), _trial(["Genou_é", "Pied"]))
    c = motion.read_c3d(str(path))
    assert c.trial.point_labels == ["Genou_é", "Pied"]
    assert not any("not UTF-8" in w for w in c.warnings)


def test_a_device_is_not_read_as_a_text_file():
    with pytest.raises(sportsmed.FormatError, match="not a regular file"):
        motion.read_trc("/dev/zero")
    with pytest.raises(sportsmed.FormatError, match="not a regular file"):
        motion.read_mot("/dev/zero")
