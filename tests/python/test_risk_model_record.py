"""A saved model describes itself: training period and evidence, validation figures with
their scheme; predict/explain say risk of what, the squad's average, the validated AUC and
flag injured, absent and imputed days (issue 20, item 2)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import sportsmed
from sportsmed.cli import main

risk = pytest.importorskip("sportsmed.risk")
FEATS = "ewma_acwr,acwr_coupled,monotony"


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "log.csv"
    df = risk.synthetic_cohort(athletes=16, days=300, seed=5)
    df = df.drop(index=df.index[5::37])  # absent days
    df.drop(columns=["p_true"]).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture(scope="module")
def trained(log_csv, tmp_path_factory):
    model = tmp_path_factory.mktemp("record_m") / "m.json"
    assert main(["risk", "train", str(log_csv), "--missing", "missing", "--features", FEATS, "--validate",
                 "grouped", "--replicates", "100", "--seed", "3", "-o", str(model)]) == 0
    return model


def _table(log_csv):
    df = risk.complete_days(risk.read_table(log_csv), policy="missing")
    return risk.with_features(df, horizon_days=7)


def test_train_records_period_evidence_and_validation(log_csv, trained):
    doc = json.loads(trained.read_text())["training"]
    raw = pd.read_csv(log_csv, parse_dates=["date"])
    df = _table(log_csv)
    lab = df[df["y"].notna()]
    assert doc["first_date"] == str(lab["date"].min().date()) and doc["last_date"] == str(lab["date"].max().date())
    assert doc["athletes"] == raw["athlete"].nunique() == 16
    # events: runs of positive label days per athlete, counted here by brute force
    runs = 0
    for _, g in lab[lab["y"] == 1].groupby("athlete"):
        days = g["date"].sort_values().diff().dt.days.to_numpy()
        runs += 1 + int((days[1:] != 1).sum())
    assert doc["events"] == runs and doc["athletes_with_events"] == 16
    v = doc["validation"]
    assert v["scheme"] == "grouped" and v["folds"] == 5 and v["seed"] == 3 and v["replicates"] == 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = risk.evaluate(df, FEATS.split(","), "y", scheme="grouped", k=5, replicates=100, seed=3, horizon_days=7)
    pred = ev.predictions
    assert v["roc_auc"] == pytest.approx(roc_auc_score(pred["y"], pred["p_model"]), abs=1e-12)
    assert v["roc_auc_lo"] == pytest.approx(ev.table["roc_auc_lo"][0], abs=1e-12)
    assert v["roc_auc_lo"] < v["roc_auc"] < v["roc_auc_hi"]
    assert v["evidence"]["events"] == ev.evidence["events"] and v["interval_reliable"] is True
    assert v["baselines"]["prevalence"]["roc_auc"] == pytest.approx(0.5)


def test_predict_says_what_the_risk_is_and_flags_days(log_csv, trained, tmp_path, capsys):
    out = tmp_path / "p.csv"
    capsys.readouterr()
    assert main(["risk", "predict", str(trained), str(log_csv), "-o", str(out), "--precision", "0"]) == 0
    err = capsys.readouterr().err
    assert "risk of injury within 7 days" in err
    v = json.loads(trained.read_text())["training"]["validation"]
    assert f"validated AUC {v['roc_auc']:.3f} [{v['roc_auc_lo']:.3f}, {v['roc_auc_hi']:.3f}]" in err
    p = pd.read_csv(out, parse_dates=["date"])
    fit = p[~p["injured"]]
    assert f"squad average risk (days not injured): {fit['risk'].mean():.2%}" in err
    by_day = fit.groupby("date")["risk"].mean()
    np.testing.assert_allclose(p["squad_mean_risk"], by_day[p["date"]].to_numpy(), rtol=1e-12)
    raw = pd.read_csv(log_csv, parse_dates=["date"])
    merged = p.merge(raw, on=["athlete", "date"], how="left", indicator=True)
    assert (merged["recorded"] == (merged["_merge"] == "both")).all() and (~p["recorded"]).sum() == 130
    assert (merged["injured"] == (merged["injury"] == 1)).all() and p["injured"].sum() > 0
    df = _table(log_csv)
    for f in FEATS.split(","):
        assert (p["imputed"].fillna("").str.split(",").apply(lambda names: f in names)
                == df[f].isna().to_numpy()).all()


def test_unvalidated_model_and_older_files(log_csv, tmp_path, capsys):
    model = tmp_path / "m.json"
    assert main(["risk", "train", str(log_csv), "--missing", "zero", "--features", "ewma_acwr", "-o",
                 str(model)]) == 0
    capsys.readouterr()
    assert main(["risk", "predict", str(model), str(log_csv), "-o", str(tmp_path / "p.csv")]) == 0
    assert "model: not validated" in capsys.readouterr().err
    doc = json.loads(model.read_text())
    doc["training"] = {"rows": 10, "positives": 2, "label": "y"}  # an older file's record
    model.write_text(json.dumps(doc))
    assert risk.RiskModel.load(model).describe()["validation"].startswith("not validated")
    doc["training"]["recipe"] = {"acute": "7"}
    model.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="training.recipe.acute"):
        risk.RiskModel.load(model)
    doc["training"]["recipe"] = {"acute": 7}
    doc["training"]["validation"] = {"scheme": "grouped", "roc_auc": "high"}
    model.write_text(json.dumps(doc))
    with pytest.raises(sportsmed.FormatError, match="training.validation"):
        risk.RiskModel.load(model)


def test_explain_a_given_day_or_refuses(log_csv, trained, capsys):
    capsys.readouterr()
    assert main(["risk", "explain", str(trained), str(log_csv), "--who", "S03", "--at", "2024-03-05"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("S03 on 2024-03-05: risk of injury within 7 days")
    df = _table(log_csv)
    m = risk.RiskModel.load(trained)
    day = df["date"] == pd.Timestamp("2024-03-05")
    fit = day & (df["injury"] != 1)
    assert f"squad average that day: {m.predict(df[fit]).mean():.4f} ({int(fit.sum())} athletes not injured)" in text
    p = m.predict(df[(df["athlete"] == "S03") & day])[0]
    assert f"risk of injury within 7 days {p:.4f}" in text
    assert main(["risk", "explain", str(trained), str(log_csv), "--who", "S03"]) == 0
    assert "(its last day" in capsys.readouterr().out
    assert main(["risk", "explain", str(trained), str(log_csv), "--who", "S03", "--at", "2031-01-01"]) == 1
    assert "has no data on 2031-01-01" in capsys.readouterr().err
    assert main(["risk", "explain", str(trained), str(log_csv), "--who", "S03", "--date", "2024-03-05"]) == 1
    assert "give --at 2024-03-05" in capsys.readouterr().err


def test_messages_name_features(log_csv):
    df = _table(log_csv).fillna({"ewma_acwr": 1.0})
    m = risk.RiskModel(["ewma_acwr", "monotony"]).fit(df, "y")
    bad = df.copy()
    bad.loc[bad.index[3], "monotony"] = np.inf
    with pytest.raises(sportsmed.InvalidArgument, match=r"\['monotony'\]"):
        m.predict(bad)


def test_evaluate_and_cox_messages_name_features(log_csv):
    df = _table(log_csv)
    bad = df.copy()
    bad.loc[bad.index[40], "acwr_coupled"] = -np.inf
    with pytest.raises(sportsmed.InvalidArgument, match=r"\['acwr_coupled'\] hold ±inf"):
        risk.evaluate(bad, ["ewma_acwr", "acwr_coupled"], "y", replicates=10)
    cp = pd.DataFrame({"start": [0.0, 0, 0], "stop": [1.0, 2, 3], "event": [1.0, 0, 1], "load": [1.0, np.nan, 2],
                       "acwr": [1.0, 2.0, 0.5]})
    with pytest.raises(sportsmed.InvalidArgument, match=r"\['load'\] hold NaN"):
        risk.CoxModel(["acwr", "load"]).fit(cp)
