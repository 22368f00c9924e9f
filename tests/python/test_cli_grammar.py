"""One CLI grammar (issue 22 §2): the argparse tree walked and checked, ``--precision``,
``--progress``, ``| head`` and ``mri info``/``motion info`` keys."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import sportsmed
from sportsmed import progress as progress_mod
from sportsmed.cli import EXIT_BROKEN_PIPE, _grammar, build_parser, main

#: Subcommands that write a file: each must take -o/--output (and the hidden --out).
WRITERS = {
    ("demo",), ("motion", "angles"), ("motion", "events"), ("motion", "convert"), ("motion", "features"),
    ("motion", "dynamics"), ("motion", "baseline"), ("motion", "anomaly"), ("mri", "convert"), ("mri", "edt"),
    ("mri", "metrics"), ("mri", "t2map"), ("mri", "thickness"), ("mri", "phantom"), ("mri", "segment"),
    ("mri", "train-seg"), ("risk", "workload"), ("risk", "train"), ("risk", "predict"), ("risk", "board"),
    ("risk", "trend"), ("screen",), ("cohort", "run"), ("cohort", "synthetic"), ("cohort", "report"), ("deid",),
}
#: Subcommands that write CSV: each must take --precision N.
CSV_WRITERS = {
    ("motion", "angles"), ("motion", "events"), ("motion", "features"), ("motion", "dynamics"),
    ("motion", "anomaly"), ("mri", "metrics"), ("mri", "thickness"), ("risk", "workload"), ("risk", "predict"),
    ("risk", "board"), ("risk", "trend"),
}
#: Spellings of a shared concept that the grammar replaced: they may parse (hidden aliases) but
#: no help may show them.
RETIRED = ("--out", "--csv", "--mass", "--outfile", "--output-file", "--fs", "--rate", "--sampling-rate")


def exe() -> str:
    path = shutil.which("sportsmed", path=os.path.dirname(sys.executable)) or shutil.which("sportsmed")
    assert path, "the sportsmed console script is not installed next to this Python"
    return path


@pytest.fixture(scope="module")
def leaves():
    parser = build_parser()
    found = {words: p for words, p in _grammar.leaf_commands(parser)}
    # Pillars not built register a stub subcommand without options: check what is built.
    return {w: p for w, p in found.items() if not any(a.dest == "rest" for a in p._actions)}


def _visible_options(p: argparse.ArgumentParser) -> set:
    return {s for a in p._actions if a.help != argparse.SUPPRESS for s in a.option_strings}


def test_the_tree_has_the_commands_this_test_knows(leaves):
    """A new subcommand must be classified here (writer? CSV?) — the lists cannot go stale."""
    built = sportsmed.available_pillars()
    if not {"motion", "imaging", "risk"} <= set(built):
        pytest.skip("needs the motion, imaging and risk pillars")
    readers = {w for w in leaves if w not in WRITERS | CSV_WRITERS}
    # what only reads or prints: each is named, so that a writer cannot hide among them
    assert readers == {("info",), ("motion", "info"), ("motion", "read"), ("mri", "info"), ("risk", "evaluate"),
                       ("risk", "explain"), ("cohort", "status")}, readers


def test_every_writer_takes_dash_o_output_and_the_hidden_out(leaves):
    for words in WRITERS:
        if words not in leaves:
            continue
        p = leaves[words]
        table = p._option_string_actions
        assert "-o" in table and "--output" in table, words
        action = table["--output"]
        assert table["-o"] is action and table["--out"] is action, words
        shown = p.format_help()
        assert "-o" in shown and "--output" in shown, words
        # --out parses into the same place as -o
        positionals = [a for a in p._actions if not a.option_strings and a.nargs not in ("?", "*")
                       and not isinstance(a, argparse._SubParsersAction)]
        argv = ["x"] * len(positionals)
        required = [a for a in p._actions if a.required and a.option_strings and a is not action]
        for a in required:
            argv += [a.option_strings[-1], a.choices[0] if a.choices else "1"]
        ns_out = p.parse_args(argv + ["--out", "target.file"])
        ns_o = p.parse_args(argv + ["-o", "target.file"])
        assert getattr(ns_out, action.dest) == getattr(ns_o, action.dest), words
        assert str(getattr(ns_o, action.dest)) == "target.file", words


def test_no_help_shows_a_retired_spelling(leaves):
    for words, p in leaves.items():
        shown = _visible_options(p)
        assert not shown & set(RETIRED), (words, shown & set(RETIRED))
        for option in shown:
            if option.startswith("--"):
                assert re.fullmatch(r"--[A-Za-z0-9]+(-[a-z0-9]+)*", option), (words, option)  # kebab-case
        for a in p._actions:
            if a.option_strings and "rate" in a.dest:
                assert any(s.endswith("-hz") for s in a.option_strings), (words, a.option_strings)
            if a.option_strings and "mass" in a.dest:
                assert "--body-mass" in a.option_strings, (words, a.option_strings)


def test_every_info_has_json(leaves):
    infos = [w for w in leaves if w[-1] in ("info", "read")]
    assert infos
    for words in infos:
        action = leaves[words]._option_string_actions.get("--json")
        assert action is not None and isinstance(action, argparse._StoreTrueAction), words


def test_every_csv_writer_has_precision(leaves):
    for words in CSV_WRITERS:
        if words not in leaves:
            continue
        action = leaves[words]._option_string_actions.get("--precision")
        assert action is not None, words
        assert action.default == _grammar.DEFAULT_PRECISION == 7, words
        assert action.type("3") == 3 and action.type("0") == 0, words
        with pytest.raises(argparse.ArgumentTypeError):
            action.type("float32")
    # one meaning per name: no other command's --precision takes something else
    for words, p in leaves.items():
        action = p._option_string_actions.get("--precision")
        if action is not None and words not in CSV_WRITERS:
            assert action.help == argparse.SUPPRESS or "--precision" not in _visible_options(p), words


def test_every_side_option_reads_the_same_words(leaves):
    sides = [(w, p._option_string_actions["--side"]) for w, p in leaves.items() if "--side" in p._option_string_actions]
    assert sides
    for words, action in sides:
        left, right = {action.type(v) for v in ("L", "l", "left", "LEFT")}, {action.type(v) for v in ("R", "right")}
        assert len(left) == 1 and len(right) == 1 and left != right, words
        with pytest.raises(argparse.ArgumentTypeError):
            action.type("middle")


def test_older_spellings_still_parse(leaves):
    if ("mri", "metrics") in leaves:
        ns = leaves[("mri", "metrics")].parse_args(["a", "b", "--csv", "m.csv"])
        assert ns.output == "m.csv"
    if ("motion", "dynamics") in leaves:
        ns = leaves[("motion", "dynamics")].parse_args(["a.c3d", "--mass", "71.5"])
        assert ns.mass == 71.5
    if ("mri", "train-seg") in leaves:
        ns = leaves[("mri", "train-seg")].parse_args(["l.nii", "-o", "m.pt", "--precision", "bfloat16"])
        assert ns.dtype == "bfloat16"


def _significant_digits(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("+-")
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits if "." in mantissa else digits.rstrip("0"))


def test_precision_rounds_csv_to_significant_digits(capsys, tmp_path):
    """Default: 7 significant digits; the numbers equal the full-precision ones to 5e-7
    relative; --precision 0 keeps every digit (the 17-digit noise the default removes)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("sportsmed.risk")
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=60)
    log = pd.DataFrame({"athlete": np.repeat(["a", "b"], len(days)), "date": np.tile(days.strftime("%Y-%m-%d"), 2),
                        "daily_load": rng.uniform(100, 900, 2 * len(days)).round(1)})
    log.to_csv(tmp_path / "log.csv", index=False)
    out = {}
    for digits in ("default", "0", "3"):
        extra = [] if digits == "default" else ["--precision", digits]
        assert main(["risk", "workload", str(tmp_path / "log.csv"), "--missing", "zero", *extra]) == 0
        out[digits] = capsys.readouterr().out
    text = {k: pd.read_csv(io.StringIO(v), dtype=str, keep_default_na=False) for k, v in out.items()}
    num = {k: pd.read_csv(io.StringIO(v)) for k, v in out.items()}
    cols = [c for c in num["0"].columns if c not in ("athlete", "date")]
    assert list(text["default"].columns) == list(text["0"].columns)
    digits = {k: max(_significant_digits(v) for c in cols for v in text[k][c] if v) for k in text}
    assert digits["default"] <= 7 < digits["0"]  # the default removed digits that were there
    assert digits["3"] <= 3
    full = num["0"][cols].to_numpy(float)
    np.testing.assert_allclose(num["default"][cols].to_numpy(float), full, rtol=5e-7, equal_nan=True)
    np.testing.assert_allclose(num["3"][cols].to_numpy(float), full, rtol=5e-3, equal_nan=True)


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_default_is_bar_on_a_terminal_and_log_elsewhere():
    assert progress_mod.default_mode(_Terminal()) == "bar"
    assert progress_mod.default_mode(_Pipe()) == "log"


def test_progress_log_prints_lines_on_a_non_tty(monkeypatch):
    """log mode: a line every interval with the fraction the kernel reported, and a final
    'done' line; none prints nothing."""
    import time

    monkeypatch.setenv("SPORTSMED_PROGRESS_INTERVAL", "0.05")
    err = _Pipe()
    with progress_mod.progress_bar("fit", mode="log", stream=err) as cb:
        cb(0.25, "stage one")
        time.sleep(0.3)
        cb(0.5, "stage two")
        time.sleep(0.3)
    lines = err.getvalue().splitlines()
    assert len(lines) >= 4, lines
    assert lines[0].startswith("fit: 25% stage one,") and "elapsed" in lines[0]
    assert any(line.startswith("fit: 50% stage two,") and "left" in line for line in lines)
    assert lines[-1].startswith("fit: done in ")
    quiet = _Pipe()
    with progress_mod.progress_bar("fit", mode="none", stream=quiet) as cb:
        cb(0.5, "x")
        time.sleep(0.2)
    assert quiet.getvalue() == ""
    # the mode the CLI sets is the default of every progress_bar; a quick task prints nothing
    progress_mod.set_mode("log")
    try:
        fast = _Pipe()
        monkeypatch.setenv("SPORTSMED_PROGRESS_INTERVAL", "5")
        with progress_mod.progress_bar("quick", stream=fast) as cb:
            cb(1.0, "")
        assert fast.getvalue() == ""
    finally:
        progress_mod.set_mode(None)


def test_progress_without_fractions_still_shows_work(monkeypatch):
    import time

    monkeypatch.setenv("SPORTSMED_PROGRESS_INTERVAL", "0.05")
    err = _Pipe()
    with progress_mod.progress_bar("metrics", mode="log", stream=err):
        time.sleep(0.25)
    assert err.getvalue().splitlines()[0].startswith("metrics: working, 0 s elapsed")


def test_cli_progress_log_through_a_pipe(tmp_path):
    """`--progress` defaults to log when stderr is a pipe: the phantom's kernel reports, the
    lines come, stdout stays clean."""
    pytest.importorskip("sportsmed.imaging")
    env = dict(os.environ, SPORTSMED_PROGRESS_INTERVAL="0.01")  # the phantom takes ~0.3 s on a quiet machine
    r = subprocess.run([exe(), "mri", "phantom", "-o", str(tmp_path / "ph"), "--spacing", "1.5"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("phantom: ")]
    assert lines and lines[-1].startswith("phantom: done in"), r.stderr
    assert "phantom:" not in r.stdout
    r = subprocess.run([exe(), "--progress", "none", "mri", "phantom", "-o", str(tmp_path / "ph2"), "--spacing",
                        "1.5"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0 and "phantom:" not in r.stderr, r.stderr


def test_head_closes_the_pipe_quietly():
    """`sportsmed risk workload synthetic | head -1`: a real pipe closed by the reader after
    one line; no traceback, no 'Broken pipe' message, exit 141 (128 + SIGPIPE)."""
    pytest.importorskip("sportsmed.risk")
    p = subprocess.Popen([exe(), "risk", "workload", "synthetic", "--missing", "zero"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.stdout.close()  # what head does after its lines
    err = p.stderr.read().decode()
    code = p.wait(timeout=300)
    assert first.startswith(b"athlete,date,")
    assert err == "", err
    assert code == EXIT_BROKEN_PIPE
    # the same through a shell pipeline
    r = subprocess.run(f"'{exe()}' risk workload synthetic --missing zero | head -n 2", shell=True,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stderr == "" and len(r.stdout.splitlines()) == 2


def test_mri_info_has_the_same_keys_for_nifti_nrrd_and_dicom(tmp_path, shared_data, capsys):
    imaging = pytest.importorskip("sportsmed.imaging")
    from sportsmed.cli.mri import INFO_KEYS

    g = imaging.Geometry([4, 5, 6])
    g.spacing = [0.5, 0.75, 2.0]
    img = imaging.Image(np.arange(120, dtype=np.int16).reshape(4, 5, 6), g)
    facts = {}
    for name in ("a.nii.gz", "a.nrrd"):
        imaging.write_image(img, tmp_path / name)
        assert main(["mri", "info", str(tmp_path / name), "--json"]) == 0
        facts[name] = json.loads(capsys.readouterr().out)
    folder = shared_data("mri/mese_t2")
    assert main(["mri", "info", str(folder), "--json"]) == 0
    facts["dicom"] = json.loads(capsys.readouterr().out)
    for name, f in facts.items():
        assert tuple(f) == INFO_KEYS, name
    assert facts["a.nii.gz"]["shape"] == facts["a.nrrd"]["shape"] == [4, 5, 6]
    assert facts["a.nii.gz"]["spacing_mm"] == facts["a.nrrd"]["spacing_mm"] == pytest.approx([0.5, 0.75, 2.0])
    assert facts["a.nii.gz"]["format"] == "NIfTI" and facts["a.nrrd"]["format"] == "NRRD"
    ref = imaging.read_dicom_series(str(folder))
    d = facts["dicom"]
    assert d["format"] == "DICOM" and d["shape"] == list(ref["array"].shape)
    assert d["te_ms"] == pytest.approx(list(ref["te_ms"])) and d["series_uid"] == ref["series_uid"]
    assert d["spacing_mm"] == pytest.approx(list(ref["geometry"].spacing))
    # text by default (the JSON is one flag away), as every info
    assert main(["mri", "info", str(tmp_path / "a.nrrd")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["format", "NRRD"] and "0.5 x 0.75 x 2" in text


def test_motion_info_lists_labels_units_rates_and_events(shared_data, capsys):
    motion = pytest.importorskip("sportsmed.motion")
    path = shared_data("motion/c3d/gait-pig.c3d")
    assert main(["motion", "info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    t = motion.read_c3d(path).trial
    assert info["marker_labels"] == list(t.point_labels) and info["point_units"] == t.point_units
    assert info["analog_labels"] == list(t.analog_labels) and info["analog_units"] == list(t.analog_units)
    assert info["point_rate_hz"] == t.point_rate_hz and info["analog_rate_hz"] == t.analog_rate_hz
    assert len(info["events"]) == len(t.events) > 0
    for e in info["events"]:
        assert isinstance(e["frame"], int)
        # the frame is the sample nearest the event: its time is within half a frame
        assert abs((t.first_frame - 1 + e["frame"]) / t.point_rate_hz - e["time_s"]) <= 0.5 / t.point_rate_hz + 1e-3
        assert e["time_s"] == round(e["time_s"], 3)  # 50 Hz: 3 decimals
    ref = sorted(t.events, key=lambda e: e.time_s)
    assert [e["time_s"] for e in info["events"]] == pytest.approx([e.time_s for e in ref], abs=5e-4)


def test_cli_progress_is_a_bar_on_a_terminal(tmp_path):
    """stderr a terminal (a pseudo-terminal here): the default is a tqdm bar, redrawn with
    carriage returns, not log lines."""
    pytest.importorskip("sportsmed.imaging")
    import pty
    import select

    master, slave = pty.openpty()
    env = dict(os.environ, SPORTSMED_PROGRESS_DELAY="0")  # draw at once, however fast the machine
    p = subprocess.Popen([exe(), "mri", "phantom", "-o", str(tmp_path / "ph"), "--spacing", "1.5"],
                         stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 300)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(timeout=300) == 0
    text = b"".join(chunks).decode(errors="replace")
    assert "\r" in text and "phantom:" in text and "‰" in text, text[-500:]
    assert "elapsed" not in text  # not the log form
