"""Injury risk, robustness: a leaked outcome is not a feature, Unicode CSVs as spreadsheets
save them, and messages that say what is wrong with the file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sportsmed import InvalidArgument, NotFound
from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")


@pytest.fixture(scope="module")
def table():
    """A synthetic squad on its daily grid with workload features and the 7-day label y."""
    df = risk.synthetic_cohort(athletes=16, days=200, seed=5).drop(columns=["p_true"])
    return risk.with_features(df, horizon_days=7)


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("robust_risk") / "log.csv"
    df = risk.synthetic_cohort(athletes=16, days=200, seed=5).drop(columns=["p_true"])
    df.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


def _leaky(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the outcome under a neutral name (a 'flag' a clinic records after the
    injury), plus noise that keeps it from being a plain copy."""
    out = table.copy()
    noise = np.random.default_rng(1).normal(0, 0.3, len(out))
    out["medical_flag"] = out["y"].fillna(0).to_numpy() + noise
    return out


# -- 1. leaked outcome -------------------------------------------------------------------

def test_outcome_features_by_name():
    got = risk.outcome_features(["y", "Injury", "injury_within_14d", "Injury Within 3 days", "ewma_acwr",
                                 "prior_injury_count", "fatigue"], "y", sources=["injury"])
    assert set(got) == {"y", "Injury", "injury_within_14d", "Injury Within 3 days"}
    # a label named after its column: the column and its other horizons are the outcome too
    assert set(risk.outcome_features(["injury", "injury_within_3d", "load"], "injury_within_7d")) == {
        "injury", "injury_within_3d"}
    # another outcome column: its labels are refused whatever their horizon, other columns are not
    assert set(risk.outcome_features(["strain_within_7d", "strain", "injury_history"], "y",
                                     sources=["strain"])) == {"strain_within_7d", "strain"}


def test_evaluate_and_fit_refuse_the_outcome_by_name(table):
    df = table.copy()
    df["injury_within_14d"] = risk.injury_labels(table, 14).to_numpy()
    for feats in (["ewma_acwr", "injury_within_14d"], ["ewma_acwr", "injury"], ["y"]):
        with pytest.raises(InvalidArgument, match="cannot predict the outcome"):
            risk.evaluate(df, feats, "y", replicates=10)
        with pytest.raises(InvalidArgument, match="cannot predict the outcome"):
            risk.RiskModel(feats).fit(df, "y")


def test_separating_feature_refused_unless_allowed(table):
    df = _leaky(table)
    ok = df["y"].notna() & df["medical_flag"].notna()
    ref = roc_auc_score(df.loc[ok, "y"], df.loc[ok, "medical_flag"])  # the peer library's univariate AUC
    assert ref >= risk.SEPARATION_AUC
    found = risk.separating_features(df, ["ewma_acwr", "fatigue", "medical_flag"], "y")
    assert list(found) == ["medical_flag"]
    assert found["medical_flag"]["roc_auc"] == pytest.approx(ref, abs=1e-12)
    assert found["medical_flag"]["rows"] == int(ok.sum())
    # a flipped sign separates as well as the feature itself
    df["minus_flag"] = -df["medical_flag"]
    assert risk.separating_features(df, ["minus_flag"], "y")["minus_flag"]["roc_auc"] == pytest.approx(1 - ref)
    with pytest.raises(InvalidArgument, match=r"'medical_flag' alone separates the outcome \(AUC 0\.9\d\d on \d+"):
        risk.evaluate(df, ["ewma_acwr", "medical_flag"], "y", replicates=10)
    with pytest.warns(risk.LeakageWarning, match="possible leakage"):
        ev = risk.evaluate(df, ["ewma_acwr", "medical_flag"], "y", replicates=10, allow_separating=True)
    assert list(ev.separating) == ["medical_flag"] and "possible leakage" in ev.separation_warning
    # honest features: no warning, nothing recorded
    ev = risk.evaluate(df, ["ewma_acwr", "fatigue"], "y", replicates=10)
    assert ev.separating == {} and ev.separation_warning == ""


def test_model_records_an_allowed_separating_feature(table, tmp_path):
    df = _leaky(table)
    with pytest.raises(InvalidArgument, match="alone separates"):
        risk.RiskModel(["ewma_acwr", "medical_flag"]).fit(df, "y")
    with pytest.warns(risk.LeakageWarning):
        m = risk.RiskModel(["ewma_acwr", "medical_flag"]).fit(df, "y", allow_separating=True)
    assert "medical_flag" in m.training["separating_features"]
    back = risk.RiskModel.load(m.save(tmp_path / "m.json"))  # round trip keeps the warning
    d = back.describe()
    assert "WARNING" in d["validation"] and "'medical_flag' alone separates" in d["validation"]
    assert d["warnings"] == m.training["warnings"]
    assert risk.RiskModel(["ewma_acwr", "fatigue"]).fit(df, "y").describe()["warnings"] == []


def test_cli_stops_on_a_separating_feature_and_records_it_when_allowed(log_csv, tmp_path, capsys):
    df = pd.read_csv(log_csv)
    grid = risk.with_features(risk.complete_days(risk.read_table(log_csv), policy="zero"), horizon_days=7)
    df["medical_flag"] = _leaky(grid)["medical_flag"].to_numpy()  # the CSV is already a full grid
    path = tmp_path / "leaky.csv"
    df.to_csv(path, index=False)
    base = ["risk", "evaluate", str(path), "--missing", "zero", "--replicates", "10"]
    assert main(base + ["--features", "ewma_acwr,injury"]) == 1
    assert "cannot predict the outcome 'injury within 7 days'" in capsys.readouterr().err
    assert main(base + ["--features", "ewma_acwr,medical_flag"]) == 1
    err = capsys.readouterr().err
    assert "alone separates the outcome" in err and "--allow-separating-features" in err
    assert main(base + ["--features", "ewma_acwr,medical_flag", "--allow-separating-features", "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert list(report["separating_features"]) == ["medical_flag"]
    assert "possible leakage" in report["separation_warning"] and "possible leakage" in out.err
    model = tmp_path / "m.json"
    train = ["risk", "train", str(path), "--missing", "zero", "--features", "ewma_acwr,medical_flag",
             "--validate", "grouped", "--replicates", "10", "-o", str(model)]
    assert main(train) == 1 and not model.exists()
    capsys.readouterr()
    assert main(train + ["--allow-separating-features"]) == 0
    assert "possible leakage" in capsys.readouterr().err
    doc = json.loads(model.read_text())
    assert list(doc["training"]["validation"]["separating_features"]) == ["medical_flag"]
    assert "possible leakage" in risk.RiskModel.load(model).describe()["validation"]


def test_soccermon_14_day_label_under_another_name_separates(soccermon_table):
    # the audit's case: SoccerMon's own injury_within_14d as a feature of "injury within 7 days"
    df = soccermon_table.rename(columns={"injury_within_14d": "flag"})
    ok = df["y"].notna() & df["flag"].notna()
    found = risk.separating_features(df, ["ewma_acwr", "acwr_coupled", "flag"], "y")
    assert list(found) == ["flag"]
    assert found["flag"]["roc_auc"] == pytest.approx(roc_auc_score(df.loc[ok, "y"], df.loc[ok, "flag"]))
    assert found["flag"]["roc_auc"] > 0.99


def test_soccermon_leaked_label_refused(shared_data, capsys):
    path = shared_data("risk/soccermon/master_dataset.csv")
    for leak in ("injury_within_7d", "injury_within_14d"):
        assert main(["risk", "evaluate", str(path), "--athlete", "player_id", "--missing", "zero",
                     "--features", f"ewma_acwr,{leak}", "--replicates", "10"]) == 1
        assert f"['{leak}'] cannot predict the outcome" in capsys.readouterr().err


# -- 2. Unicode CSVs ---------------------------------------------------------------------

TEXT = "date,athlete,daily_load,injury\n" + "".join(
    f"2021-01-{d:02d},Jos\u00e9_\u00c5berg_{a},{10.5 * d + a},{int(d == 5 and a == 2)}\n"
    for a in (1, 2) for d in range(1, 11))


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                          ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff"),
                                          ("utf-16-le", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_unicode_csv_reads_like_utf8(tmp_path, encoding, bom):
    path = tmp_path / "log.csv"
    path.write_bytes(bom + TEXT.encode(encoding))
    got = risk.read_table(path)
    ref = pd.read_csv(path, encoding={"utf-8": "utf-8-sig"}.get(encoding, encoding) if bom else encoding,
                      parse_dates=["date"]).sort_values(["athlete", "date"], kind="mergesort")
    assert got["athlete"].tolist() == ref["athlete"].tolist()
    assert got["athlete"].iloc[0] == "Jos\u00e9_\u00c5berg_1"
    np.testing.assert_array_equal(got["daily_load"], ref["daily_load"])
    np.testing.assert_array_equal(got["injury"], ref["injury"])
    assert (got["date"].to_numpy() == ref["date"].to_numpy()).all()


def test_utf16_messages_name_the_file_and_its_columns(tmp_path, capsys):
    path = tmp_path / "log16.csv"
    path.write_bytes(b"\xff\xfe" + TEXT.encode("utf-16-le"))
    with pytest.raises(NotFound) as exc:
        risk.read_table(path, athlete="player")
    msg = str(exc.value)
    assert str(path) in msg and "date, athlete, daily_load, injury" in msg and "\x00" not in msg
    assert main(["risk", "workload", str(path), "--missing", "zero"]) == 0
    assert capsys.readouterr().out.count("\n") == 1 + 2 * 10
    # a bad number in a UTF-16 file: the error names the file, not a temporary copy
    path.write_bytes(b"\xff\xfe" + TEXT.replace(",11.5,", ",abc,").encode("utf-16-le"))
    with pytest.raises(Exception) as exc:
        risk.read_table(path)
    assert str(path) in str(exc.value) and "tmp" not in str(exc.value).replace(str(tmp_path), "")


def test_binary_file_is_refused_without_nul_in_the_message(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"date\x00\x01\x02,athlete\x00\x00\x00\x07\xff" * 10)
    with pytest.raises(Exception, match="binary, not text") as exc:
        risk.read_table(path)
    assert "\x00" not in str(exc.value)


# -- 3. messages -------------------------------------------------------------------------

def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False, date_format="%Y-%m-%d")
    return str(path)


def test_no_injury_all_injured_and_too_short_are_said_plainly(log_csv, tmp_path, capsys):
    df = pd.read_csv(log_csv)
    cases = {
        "none.csv": (df.assign(injury=0), "holds no injury: column 'injury' is never 1"),
        "all.csv": (df.assign(injury=1), f"every row of '{tmp_path / 'all.csv'}' is an injury day "
                                         f"(column 'injury' is 1 on all {len(df)} rows)"),
        "short.csv": (df.groupby("athlete").head(3).assign(injury=0),
                      "16 athlete(s), 3 day(s) at most each, 48 rows"),
    }
    for name, (frame, expected) in cases.items():
        path = _write(frame, tmp_path / name)
        for command in (["evaluate", "--replicates", "10"], ["train", "-o", str(tmp_path / "m.json")]):
            assert main(["risk", command[0], path, "--missing", "zero", "--features", "ewma_acwr",
                         *command[1:]]) == 1
            err = capsys.readouterr().err
            assert expected in err and path in err, err
            assert "fold" not in err and "number of athletes" not in err


def test_workload_window_longer_than_the_records(log_csv, tmp_path, capsys):
    df = pd.read_csv(log_csv)
    df = df[df.groupby("athlete").cumcount() < 20]  # labelled days, no 28-day chronic window
    path = _write(df, tmp_path / "short20.csv")
    assert main(["risk", "evaluate", path, "--missing", "zero", "--features", "fatigue,acwr_coupled",
                 "--replicates", "10"]) == 1
    err = capsys.readouterr().err
    assert "feature 'acwr_coupled' has no value on any of the" in err and "chronic 28 d" in err
    assert "20 day(s) at most each" in err


def test_library_says_a_label_has_one_class(table):
    df = table.assign(y=table["y"].where(table["y"].isna(), 0.0))
    with pytest.raises(InvalidArgument, match=r"is 0 on all \d+ labelled rows"):
        risk.evaluate(df, ["ewma_acwr"], "y", replicates=10)
    with pytest.raises(InvalidArgument, match=r"is 0 on all \d+ labelled rows"):
        risk.RiskModel(["ewma_acwr"]).fit(df, "y")


def test_renamed_load_column_named_and_mapped(log_csv, tmp_path, capsys):
    renamed = _write(pd.read_csv(log_csv).rename(columns={"daily_load": "Load (AU)"}), tmp_path / "renamed.csv")
    assert main(["risk", "evaluate", renamed, "--missing", "zero", "--features", "ewma_acwr"]) == 1
    err = capsys.readouterr().err
    assert renamed in err and "no load column 'daily_load'" in err and "--load 'Load (AU)'" in err
    model = tmp_path / "m.json"
    assert main(["risk", "train", str(log_csv), "--missing", "zero", "--features", "ewma_acwr,daily_load",
                 "-o", str(model)]) == 0
    ref, got = tmp_path / "ref.csv", tmp_path / "got.csv"
    assert main(["risk", "predict", str(model), str(log_csv), "-o", str(ref)]) == 0
    capsys.readouterr()
    assert main(["risk", "predict", str(model), renamed, "-o", str(got)]) == 1  # which column? say it
    assert "--load 'Load (AU)'" in capsys.readouterr().err
    assert main(["risk", "predict", str(model), renamed, "--load", "Load (AU)", "-o", str(got)]) == 0
    assert "read from column 'Load (AU)'" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(got), pd.read_csv(ref))  # same rows, same risks
    # the other recipe options still may not contradict the model
    assert main(["risk", "predict", str(model), renamed, "--load", "Load (AU)", "--acute", "3"]) == 1
    assert "conflicts with the model" in capsys.readouterr().err


# -- 4. prediction commands (second audit) -----------------------------------------------

def _features_of(path, **kw) -> pd.DataFrame:
    """The table as the CLI builds it for a model trained with --missing zero (defaults)."""
    df = risk.complete_days(risk.read_table(path, **kw), policy="zero")
    return risk.with_features(df, horizon_days=7)


def _train_cli(log_csv, model, *extra) -> None:
    assert main(["risk", "train", str(log_csv), "--missing", "zero", "--features", "ewma_acwr,monotony",
                 *extra, "-o", str(model)]) == 0


def test_trend_band_resamples_the_training_table(log_csv, tmp_path, capsys):
    model = tmp_path / "m.json"
    _train_cli(log_csv, model)
    # another squad's season: the table predicted is not the table trained on
    new = _write(risk.synthetic_cohort(athletes=10, days=150, seed=9, start="2025-03-01").drop(columns=["p_true"]),
                 tmp_path / "new.csv")
    out = tmp_path / "trend.csv"
    assert main(["risk", "trend", str(model), new, "--who", "S03", "--band", "20", "-o", str(out)]) == 1
    assert "--band N needs --train TABLE" in capsys.readouterr().err
    assert main(["risk", "trend", str(model), new, "--who", "S03", "--band", "20", "--train", new]) == 1
    err = capsys.readouterr().err
    assert "is not the table this model was trained on" in err and "positives" in err
    assert main(["risk", "trend", str(model), new, "--who", "S03", "--band", "20", "--train", str(log_csv),
                 "-o", str(out)]) == 0
    got = pd.read_csv(out)
    # the reference: risk_band called directly on the training table, as its docstring asks
    m = risk.RiskModel.load(model)
    rows = _features_of(new)
    rows = rows[rows["athlete"] == "S03"]
    ref = risk.risk_band(m, _features_of(log_csv), "y", rows, replicates=20)
    np.testing.assert_allclose(got["risk_lo"], ref["risk_lo"], rtol=1e-6)
    np.testing.assert_allclose(got["risk_hi"], ref["risk_hi"], rtol=1e-6)
    inside = (got["risk"] >= got["risk_lo"]) & (got["risk"] <= got["risk_hi"])
    assert inside.mean() >= 0.95, inside.mean()
    # the library refuses a table that is not the model's training data as well
    with pytest.raises(InvalidArgument, match="not the model's training data"):
        risk.risk_band(m, rows, "y", rows, replicates=10)


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


@pytest.mark.parametrize("kind,params", [("mlp", {"pos_weight": 0.0, "max_epochs": 15, "seed": 3}),
                                         ("xgboost", {"scale_pos_weight": 20.0, "n_estimators": 30, "n_threads": 1})])
def test_class_weighted_model_outputs_risks(table, tmp_path, kind, params):
    if kind == "mlp":
        pytest.importorskip("sportsmed._torch")
    feats = ["ewma_acwr", "monotony", "fatigue"]
    m = risk.RiskModel(feats, kind, **params).fit(table, "y")
    lab = table[table["y"].notna()]
    y = lab["y"].to_numpy()
    w = (len(y) - y.sum()) / y.sum() if kind == "mlp" else params["scale_pos_weight"]  # by hand
    assert m.training["pos_weight"] == pytest.approx(w, rel=1e-12)
    raw = m._model.predict_proba(m._inputs(lab, m._matrix(lab, None, "t"), "t"))  # the weighted fit's output
    p = m.predict(lab)
    np.testing.assert_allclose(_logit(p), _logit(raw) - np.log(w), atol=1e-8 if kind == "mlp" else 1e-5)
    assert roc_auc_score(y, p) == pytest.approx(roc_auc_score(y, raw), abs=1e-12)  # ranking unchanged
    assert raw.mean() > 3 * y.mean()  # the scores were far above the base rate ...
    assert abs(p.mean() - y.mean()) < 0.5 * y.mean(), (p.mean(), y.mean())  # ... the risks are near it
    # explain sums to the corrected log-odds; describe says what was done
    np.testing.assert_allclose(m.explain(lab.iloc[:200]).sum(axis=1), _logit(p[:200]), atol=1e-5)
    d = m.describe()
    assert d["pos_weight"] == pytest.approx(w) and "prior-corrected" in d["weighting"]
    # the file keeps it
    m.save(tmp_path / "w.json")
    np.testing.assert_allclose(risk.RiskModel.load(tmp_path / "w.json").predict(lab), p, rtol=1e-10)


def test_weighted_model_file_without_the_weight(table, tmp_path):
    pytest.importorskip("sportsmed._torch")
    m = risk.RiskModel(["ewma_acwr", "monotony"], "mlp", pos_weight=0.0, max_epochs=5, seed=1).fit(table, "y")
    doc = m.to_dict()
    del doc["training"]["pos_weight"]  # a file written before the weight was recorded
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    old = risk.RiskModel.load(path)
    lab = table[table["y"].notna()]
    raw = old._model.predict_proba(old._inputs(lab, old._matrix(lab, None, "t"), "t"))
    rows, pos = doc["training"]["rows"], doc["training"]["positives"]
    np.testing.assert_allclose(_logit(old.predict(lab)), _logit(raw) - np.log((rows - pos) / pos), atol=1e-8)
    assert "recorded training counts" in old.describe()["weighting"]
    # nothing to estimate it from: the outputs are called scores
    for k in ("rows", "positives"):
        del doc["training"][k]
    path.write_text(json.dumps(doc))
    d = risk.RiskModel.load(path).describe()
    assert d["pos_weight"] is None and any("not probabilities" in w for w in d["warnings"])


def test_cli_prints_the_weighting(log_csv, tmp_path, capsys):
    pytest.importorskip("sportsmed._torch")
    model = tmp_path / "w.json"
    _train_cli(log_csv, model, "--model", "mlp", "--epochs", "5", "--pos-weight", "0")
    capsys.readouterr()
    assert main(["risk", "predict", str(model), str(log_csv), "-o", str(tmp_path / "p.csv")]) == 0
    assert "prior-corrected to probabilities" in capsys.readouterr().err
    for cmd in (["explain", "--who", "S01"], ["board", "-o", str(tmp_path / "b.csv")],
                ["trend", "--who", "S01", "-o", str(tmp_path / "t.csv")]):
        assert main(["risk", cmd[0], str(model), str(log_csv), *cmd[1:]]) == 0
        c = capsys.readouterr()
        assert "prior-corrected to probabilities" in c.out + c.err, cmd


def test_model_injury_column_mapped_or_unknown(log_csv, tmp_path, capsys):
    df = pd.read_csv(log_csv)
    tl = _write(df.rename(columns={"injury": "time_loss"}), tmp_path / "tl.csv")
    model = tmp_path / "tl.json"
    assert main(["risk", "train", tl, "--missing", "zero", "--injury", "time_loss", "--features",
                 "ewma_acwr,monotony", "-o", str(model)]) == 0
    out = tmp_path / "p.csv"
    capsys.readouterr()
    assert main(["risk", "predict", str(model), str(log_csv), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "injury status unknown (no column 'time_loss'" in err and "injured day(s)" not in err
    assert main(["risk", "predict", str(model), str(log_csv), "--injury", "injury", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    injured = int((df["injury"] == 1).sum())  # pandas: the file's injury days (complete grid: no extra)
    assert "read from column 'injury'" in err and f"flags: {injured} injured day(s)" in err and injured > 0
    got = pd.read_csv(out)
    np.testing.assert_array_equal(got["injured"].to_numpy(), (df["injury"] == 1).to_numpy())
    # the board flags the injured athletes of its day
    day = df.loc[df["injury"] == 1, "date"].max()
    board = tmp_path / "b.csv"
    assert main(["risk", "board", str(model), str(log_csv), "--injury", "injury", "--at", day,
                 "-o", str(board)]) == 0
    b = pd.read_csv(board).set_index("athlete")
    want = df[df["date"] == day].set_index("athlete")["injury"] == 1
    assert (b.loc[want.index, "injured"] == want).all() and want.any()
    assert main(["risk", "board", str(model), str(log_csv), "--injury", "nosuch"]) == 1
    assert "no injury column 'nosuch'" in capsys.readouterr().err


def test_file_own_workload_column_is_said_to_be_ignored(log_csv, tmp_path, capsys):
    model = tmp_path / "m.json"
    _train_cli(log_csv, model)
    df = pd.read_csv(log_csv)
    own = _write(df.assign(monotony=133.0), tmp_path / "own.csv")
    ref, got = tmp_path / "ref.csv", tmp_path / "got.csv"
    capsys.readouterr()
    assert main(["risk", "predict", str(model), str(log_csv), "-o", str(ref)]) == 0
    assert "ignored" not in capsys.readouterr().err
    assert main(["risk", "predict", str(model), own, "-o", str(got)]) == 0
    err = capsys.readouterr().err
    assert "the file's own 'monotony' column" in err and "is ignored" in err
    known = int(risk.with_features(risk.complete_days(risk.read_table(log_csv), "zero"))["monotony"].notna().sum())
    assert f"differ from the computed ones on {known} of {known} days" in err
    pd.testing.assert_frame_equal(pd.read_csv(got), pd.read_csv(ref))  # the computed feature was used
    assert risk.with_features(risk.complete_days(risk.read_table(own), "zero")).attrs["replaced_columns"] == [
        "monotony"]


def test_cox_model_named_by_the_prediction_commands(log_csv, tmp_path, capsys):
    cox = tmp_path / "cox.json"
    _train_cli(log_csv, cox, "--model", "cox")
    capsys.readouterr()
    for cmd in (["predict"], ["explain", "--who", "S01"], ["board"], ["trend", "--who", "S01"]):
        assert main(["risk", cmd[0], str(cox), str(log_csv), *cmd[1:]]) == 1
        err = capsys.readouterr().err
        assert f"'{cox}' is a Cox proportional-hazards model" in err and "logistic, xgboost, mlp or cnn" in err
    from sportsmed import FormatError

    with pytest.raises(FormatError, match="is a Cox proportional-hazards model .format 'sportsmed-risk-cox'"):
        risk.RiskModel.load(cox)


@pytest.mark.parametrize("node,edit,match", [
    ("training", {"positives": 20000}, r"training\.positives is 20000: more than training\.rows"),
    ("training", {"rows": 0}, r"training\.rows is 0"),
    ("training", {"events": 10**6}, r"training\.events is 1000000: more than training\.positives"),
    ("evidence", {"positives": 10**6}, r"training\.validation\.evidence\.positives is 1000000"),
])
def test_contradicting_training_counts_refused_on_load(table, tmp_path, node, edit, match):
    m = risk.RiskModel(["ewma_acwr"]).fit(table, "y")
    ev = risk.evaluate(table, ["ewma_acwr"], "y", replicates=10)
    m.record_validation(ev)
    doc = json.loads(json.dumps(m.to_dict()))
    (doc["training"] if node == "training" else doc["training"]["validation"]["evidence"]).update(edit)
    path = tmp_path / "edit.json"
    path.write_text(json.dumps(doc))
    from sportsmed import FormatError

    with pytest.raises(FormatError, match=match):
        risk.RiskModel.load(path)
    assert risk.RiskModel.load(_write_model(m, tmp_path)).describe()["base_rate"] == pytest.approx(
        table["y"].mean())  # the unedited file loads; base rate = mean of the labelled rows (pandas)


def _write_model(m, tmp_path):
    return m.save(tmp_path / "ok.json")
