"""Issue 20 item 3: spreadsheet exports as they come, through read_table and the CLI.

Each case of a generated corpus of messy CSVs has a documented result: a table with the
stated values, or a FormatError naming file, line and column (CLI: exit status 1 and the
message on stderr, never a traceback)."""

from __future__ import annotations

import numpy as np
import pytest

import sportsmed
from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")

HEAD = "athlete,date,daily_load,injury,team\n"
ROWS = "a,2024-01-01,10,0,x\na,2024-01-02,20,0,x\nb,2024-01-01,30,1,y\n"

# name: (bytes, decimal, expected daily_load per row (sorted a, a, b) or error pattern)
CORPUS = {
    "plain": ((HEAD + ROWS).encode(), ".", [10, 20, 30]),
    "bom": (b"\xef\xbb\xbf" + (HEAD + ROWS).encode(), ".", [10, 20, 30]),
    "crlf_windows1252": ((HEAD + ROWS).replace("x", "Kl\xe9o").replace("\n", "\r\n").encode("cp1252"), ".",
                         [10, 20, 30]),
    "quoted_commas": ((HEAD + 'a,2024-01-01,"10",0,"Oslo, Norway"\na,2024-01-02,20,0,"say ""hi"""\n'
                       'b,2024-01-01,30,1,y\n').encode(), ".", [10, 20, 30]),
    "missing_tokens": ((HEAD + "a,2024-01-01,NA,0,x\na,2024-01-02,n/a,#N/A,x\nb,2024-01-01,-,null,y\n"
                        "b,2024-01-02,NaN,,y\nb,2024-01-03,30,0,y\n").encode(), ".",
                       [np.nan, np.nan, np.nan, np.nan, 30]),
    "semicolons": ("athlete;date;daily_load;injury\na;2024-01-01;10;0\na;2024-01-02;20;0\nb;2024-01-01;30;1\n"
                   .encode(), ".", [10, 20, 30]),
    "decimal_commas": ("athlete;date;daily_load;injury\na;2024-01-01;10,5;0\na;2024-01-02;20;0\n"
                       "b;2024-01-01;30,25;1\n".encode(), ",", [10.5, 20, 30.25]),
    "decimal_commas_without_option": ("athlete;date;daily_load;injury\na;2024-01-01;10,5;0\n".encode(), ".",
                                      r"line 2 .*column 'daily_load' holds '10,5'.*decimal comma"),
    "text_in_numeric": ((HEAD + "a,2024-01-01,10,0,x\na,2024-01-02,abc,0,x\n").encode(), ".",
                        r"line 3 of '.*bad\.csv': column 'daily_load' holds 'abc'"),
    "negative_load": ((HEAD + "a,2024-01-01,10,0,x\na,2024-01-02,-5,0,x\n").encode(), ".",
                      r"line 3 .*column 'daily_load' holds -5, a load cannot be negative"),
    "injury_code_2": ((HEAD + "a,2024-01-01,10,2,x\n").encode(), ".",
                      r"line 2 .*column 'injury' holds 2, expected an injury code 0 or 1"),
    "header_only": (HEAD.encode(), ".", r"header but no data rows"),
    "empty_file": (b"", ".", r"is empty"),
    "ragged": ((HEAD + "a,2024-01-01,10,0\n").encode(), ".", r"line 2 .*has 4 cells, expected 5"),
    "unterminated_quote": ((HEAD + 'a,2024-01-01,10,0,"Oslo\n').encode(), ".", r"line 2 .*unterminated quote"),
    "bad_date": ((HEAD + "a,01/02/2024,10,0,x\n").encode(), ".", r"line 2 .*column 'date'.*YYYY-MM-DD"),
}


def _write(tmp_path, name):
    data, decimal, expected = CORPUS[name]
    path = tmp_path / ("bad.csv" if isinstance(expected, str) else f"{name}.csv")
    path.write_bytes(data)
    return path, decimal, expected


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_read_table_gives_the_documented_result(tmp_path, name):
    path, decimal, expected = _write(tmp_path, name)
    if isinstance(expected, str):
        with pytest.raises(sportsmed.FormatError, match=expected):
            risk.read_table(path, decimal=decimal)
        return
    df = risk.read_table(path, decimal=decimal)
    np.testing.assert_array_equal(df["daily_load"].to_numpy(), np.array(expected, dtype=float))
    assert "team" not in df.columns  # a text-only column is left out, a mixed one is an error
    assert "injury" in df.columns


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_cli_never_shows_a_traceback(tmp_path, name, capsys):
    path, decimal, expected = _write(tmp_path, name)
    rc = main(["risk", "workload", str(path), "--missing", "zero", "--decimal", decimal])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    if isinstance(expected, str):
        assert rc == 1
        assert cap.err.startswith("sportsmed risk: error: ")
    else:
        assert rc == 0
        assert "ewma_acwr" in cap.out.splitlines()[0]


def test_load_and_injury_columns_follow_the_options(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("athlete,date,rpe_load,hurt,delta\na,2024-01-01,10,0,-3\na,2024-01-02,-1,2,4\n")
    # negatives and codes are checked in the columns named as load / injury only
    df = risk.read_table(path, load=None, injury=None)
    assert df["delta"].tolist() == [-3, 4]
    with pytest.raises(sportsmed.FormatError, match="column 'rpe_load' holds -1"):
        risk.read_table(path, load="rpe_load")
    with pytest.raises(sportsmed.FormatError, match="column 'hurt' holds 2"):
        risk.read_table(path, load=None, injury="hurt")
    assert main(["risk", "workload", str(path), "--missing", "zero", "--load", "rpe_load"]) == 1


def test_dataframe_source_gets_the_same_checks():
    import pandas as pd

    df = pd.DataFrame({"athlete": ["a", "a"], "date": ["2024-01-01", "2024-01-02"], "daily_load": [1.0, -2.0]})
    with pytest.raises(sportsmed.FormatError, match="cannot be negative"):
        risk.read_table(df)
    with pytest.raises(sportsmed.InvalidArgument, match="decimal"):
        risk.read_table(df, decimal=";")
