"""C3D reading/writing through Python, checked across encodings and by round trips."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed import motion


def test_sample01_encodings_agree_within_one_int16_step(shared_data):
    ref = motion.read_c3d(str(shared_data("motion/c3d/Eb015pi.c3d")))
    step = abs(ref.parameter("POINT", "SCALE")[0])
    assert ref.processor == "Intel" and not ref.float_storage
    for name, proc in [("Eb015pr", "Intel"), ("Eb015si", "MIPS"), ("Eb015sr", "MIPS"),
                       ("Eb015vi", "DEC"), ("Eb015vr", "DEC")]:
        c = motion.read_c3d(str(shared_data(f"motion/c3d/{name}.c3d")))
        assert c.processor == proc
        a, b = ref.trial.points, c.trial.points
        assert a.shape == b.shape == (450, 26, 3)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        assert np.nanmax(np.abs(a - b)) <= step * (1 + 1e-5)
        np.testing.assert_allclose(c.trial.analogs, ref.trial.analogs, rtol=1e-9, atol=1e-9)


def test_pandas_views_and_round_trip(shared_data, tmp_path):
    c = motion.read_c3d(str(shared_data("motion/c3d/gait-pig.c3d")))
    df = motion.points_frame(c.trial)
    assert df.shape == (142, 3 * len(c.trial.point_labels))
    np.testing.assert_array_equal(df[("A22:LASI", "y")].to_numpy(), c.trial.marker("LASI")[:, 1])
    ev = motion.events_frame(c.trial)
    assert list(ev["context"][:2]) == ["Left", "Left"] and ev["time_s"].iloc[0] == pytest.approx(0.57, abs=1e-4)
    out = tmp_path / "copy.c3d"
    motion.write_c3d(str(out), c)
    d = motion.read_c3d(str(out))
    assert d.processor == "Intel" and d.float_storage
    np.testing.assert_allclose(d.trial.points, c.trial.points, rtol=1e-7, equal_nan=True)
    assert d.parameter("SUBJECTS", "LABEL_PREFIXES") == ["A22:"]
    mm = motion.convert_units(d.trial, "m")
    np.testing.assert_allclose(mm.points * 1000, d.trial.points, rtol=1e-12, equal_nan=True)
    assert motion.strip_label_prefixes(d.trial).point_labels[0] == "RKNE"


def test_truncated_file_raises_format_error(shared_data, tmp_path):
    data = shared_data("motion/c3d/Eb015pi.c3d").read_bytes()
    cut = tmp_path / "cut.c3d"
    cut.write_bytes(data[:700])
    with pytest.raises(sportsmed.FormatError, match=r"cut\.c3d.*|byte"):
        motion.read_c3d(str(cut))
    cut.write_bytes(data[: len(data) - 5000])
    assert motion.read_c3d(str(cut)).trial.n_frames < 450
    with pytest.raises(sportsmed.FormatError, match="byte"):
        motion.read_c3d(str(cut), allow_short_data=False)


def test_bad_parameter_section_is_best_effort(shared_data):
    c = motion.read_c3d(str(shared_data("motion/c3d/bad_parameter_section.c3d")))
    assert any("offset -1" in w for w in c.warnings)
    assert c.trial.n_markers == 45
