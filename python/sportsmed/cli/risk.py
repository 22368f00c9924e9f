"""``sportsmed risk``: workload features, honest evaluation, training, prediction, explanation.

INPUT is a CSV athlete-time table (one row per athlete-day) or the word ``synthetic``
for the embedded synthetic squad (known hazard model)::

    sportsmed risk workload log.csv --athlete player_id --missing zero -o workload.csv
    sportsmed risk evaluate log.csv --athlete player_id --missing zero \\
        --features ewma_acwr,monotony,fatigue --horizon 7 --scheme grouped
    sportsmed risk train log.csv ... --features ... -o model.json
    sportsmed risk predict model.json log.csv ... -o risk.csv
    sportsmed risk explain model.json log.csv ... --who TeamA_1 [--date 2021-05-03]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .._io import write_csv_atomic
from .._pillars import require_pillar
from ..progress import progress_bar
from ._grammar import add_json, add_output, add_precision, float_format


# How a table becomes model inputs: recorded in a trained model (training["recipe"]) and
# rebuilt from it by predict/explain, where giving one of these options with another
# value is an error (features built otherwise change risks silently, up to 9x).
_RECIPE = {"load": "daily_load", "missing": None, "acute": 7, "chronic": 28, "min_periods": 0}


def _table_args(p: argparse.ArgumentParser, from_model: bool = False) -> None:
    p.add_argument("input", help="CSV athlete-time table, or 'synthetic' for the embedded squad")
    p.add_argument("--athlete", default="athlete", help="athlete id column (default: %(default)s)")
    p.add_argument("--date", default="date", help="date column, YYYY-MM-DD (default: %(default)s)")
    d = (lambda v: None) if from_model else (lambda v: v)
    model_note = " (default: as the model was trained)" if from_model else " (default: %(default)s)"
    load_note = (" (default: the model's; another name maps this file's column onto the model's load column)"
                 if from_model else " (default: %(default)s)")
    p.add_argument("--load", default=d("daily_load"), help="daily load column" + load_note)
    p.add_argument("--missing", required=not from_model, default=None, choices=["zero", "missing"],
                   help="what an absent day means: 'zero' load (no training) or 'missing' (not recorded)"
                        + (" (default: as the model was trained)" if from_model else ""))
    p.add_argument("--acute", type=int, default=d(7), help="acute window, days" + model_note)
    p.add_argument("--chronic", type=int, default=d(28), help="chronic window, days" + model_note)
    p.add_argument("--min-periods", type=int, default=d(0),
                   help="fewest recorded days per window (0: the whole window)" + model_note)
    p.add_argument("--decimal", choices=[".", ","], default=".",
                   help="decimal mark of the CSV's numbers, e.g. ',' for '1,5' in a ';'-separated export "
                        "(default: %(default)s)")
    if from_model:
        p.add_argument("--injury", default=None,
                       help="injury-day indicator column, for the 'injured' flags (default: the model's; another "
                            "name maps this file's column onto the model's injury column). A file without it is "
                            "read with injury status unknown")


def _label_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--injury", default="injury", help="injury-day indicator column (default: %(default)s)")
    p.add_argument("--horizon", type=int, default=7, help="label: injury within this many days (default: 7)")


def _features_arg(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--features", required=required,
                   help="comma-separated feature columns (workload features are computed)")


def _separation_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-separating-features", action="store_true",
                   help="go on when a feature alone separates the outcome almost perfectly (univariate AUC >= "
                        "0.98 or <= 0.02 on the labelled rows): by default that stops the run, since such a "
                        "feature is usually the outcome under another name or recorded after it (leakage); "
                        "with this flag the result and the model carry the warning. A feature that is the "
                        "injury column or an 'injury within h days' label is always refused")


def _norm(name) -> str:
    import re

    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def _similar(name: str, columns) -> list:
    """Columns a user may have meant by ``name``: close spellings, or sharing a word with it
    ('Load (AU)' for 'daily_load')."""
    import difflib
    import re

    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    out = [by_norm[c] for c in difflib.get_close_matches(_norm(name), list(by_norm), n=3, cutoff=0.6)]
    words = {w for w in re.findall(r"[a-z]+", str(name).lower()) if len(w) > 2}
    out += [c for c in columns if c not in out and words & set(re.findall(r"[a-z]+", str(c).lower()))]
    return out


def _require_column(args, df, column: str, what: str, flag: str) -> None:
    """A NotFound naming the file, the missing column, similar columns and the option to give."""
    if column in df.columns:
        return
    from .. import NotFound

    cols = [c for c in df.columns if c not in ("athlete", "date")]
    similar = _similar(column, cols)
    hint = (f"; similar: {similar} (say which with {flag} '{similar[0]}')" if similar
            else f"; name it with {flag}")
    raise NotFound(f"{args.risk_command}: '{args.input}' has no {what} column {column!r} (its value columns: "
                   f"{cols}){hint}")


def _load(args, mark_recorded: bool = False):
    from .. import risk

    if args.input == "synthetic":
        df = risk.synthetic_cohort()
    else:
        df = risk.read_table(args.input, athlete=args.athlete, date=args.date, decimal=args.decimal,
                             load=args.load, injury=getattr(args, "injury", "injury"))
        _require_column(args, df, args.load, "load", "--load")
        if getattr(args, "injury_given", False):
            _require_column(args, df, args.injury, "injury", "--injury")
        model_load = getattr(args, "model_load", None)
        if model_load is not None and model_load != args.load:
            # the model's features were built from its load column: read it from the column the user named
            note = (f"note: the model's load column {model_load!r} is read from column {args.load!r} of "
                    f"'{args.input}' (--load)")
            if model_load in df.columns:
                note += f"; the file's own column {model_load!r} is not used"
                df = df.drop(columns=[model_load])
            print(note, file=sys.stderr)
            df = df.rename(columns={args.load: model_load})
            args.load = model_load
    raw = df[["athlete", "date"]]
    df = risk.complete_days(df, policy=args.missing, load=args.load)
    if mark_recorded:
        # days the file has a row for; the others were filled by the missing-day policy
        key = lambda t: t["athlete"].astype(str) + "|" + t["date"].dt.strftime("%Y-%m-%d")  # noqa: E731
        df["recorded"] = key(df).isin(set(key(raw))).to_numpy()
    injury = getattr(args, "injury", None)
    out = risk.with_features(df, load=args.load, injury=injury if injury in df.columns else None,
                             horizon_days=getattr(args, "horizon", 7), acute_days=args.acute,
                             chronic_days=args.chronic, min_periods=args.min_periods)
    for col in out.attrs.get("replaced_columns", []):
        print(_replaced_note(args, col, df[col], out[col]), file=sys.stderr)
    return out


def _replaced_note(args, col: str, own, computed) -> str:
    """The file's own column named like a workload feature is not used: say so, and how
    far its values are from the computed ones."""
    import numpy as np

    a, b = own.to_numpy(dtype=float), computed.to_numpy(dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    differ = int((np.abs(a - b) > 1e-6 * np.maximum(1.0, np.abs(b)))[both].sum())
    return (f"note: the file's own {col!r} column of '{args.input}' is ignored: the workload feature {col!r} is "
            f"computed from the load column {args.load!r} (acute {args.acute} d, chronic {args.chronic} d); the "
            f"file's values differ from the computed ones on {differ} of {int(both.sum())} days where both are "
            f"known")


def _write(df, args) -> None:
    out, fmt = args.output, float_format(args.precision)
    if out is None:
        df.to_csv(sys.stdout, index=False, date_format="%Y-%m-%d", float_format=fmt)
    else:
        write_csv_atomic(df, out, index=False, date_format="%Y-%m-%d", float_format=fmt)
        print(f"written {out} ({len(df)} rows)", file=sys.stderr)


def _features(args) -> list[str]:
    return [f.strip() for f in args.features.split(",") if f.strip()]


def run_workload(args) -> int:
    require_pillar("risk")
    from .. import risk

    with progress_bar("risk workload"):
        df = _load(args)
    cols = ["athlete", "date", args.load] + risk.workload_feature_names()
    _write(df[cols], args)
    return 0


def _json_default(v):
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def _evidence_line(e: dict) -> str:
    return (f"{e['rows']} rows, {e['positives']} positive rows, {e['events']} events (injury episodes) in "
            f"{e['athletes_with_events']} of {e['athletes']} athletes")


def _check_inputs(args, df, feats: list) -> None:
    """What makes a table unusable for evaluate / train, said in the file's terms: no injury,
    no labelled row (every row an injury day, or records shorter than the label's horizon),
    a feature without a value on any labelled row (workload windows longer than the
    records), a feature that is the outcome by name or alone separates it."""
    from .. import InvalidArgument, risk
    from ..risk._evaluate import check_outcome_features, check_separation

    where, src = args.risk_command, f"'{args.input}'"
    if "y" not in df.columns:
        _require_column(args, df, args.injury, "injury", "--injury")
    label = f"'injury within {args.horizon} days' (from column {args.injury!r})"
    check_outcome_features(df, feats, "y", where, sources=[args.injury], label_text=label)
    inj = df[args.injury]
    known, injured = int(inj.notna().sum()), int((inj == 1).sum())
    athletes = int(df["athlete"].nunique())
    longest = int(df.groupby("athlete").size().max()) if len(df) else 0
    size = f"{athletes} athlete(s), {longest} day(s) at most each, {len(df)} rows"
    labelled = df["y"].notna()
    if not labelled.any():
        if injured and injured == known:
            raise InvalidArgument(f"{where}: every row of {src} is an injury day (column {args.injury!r} is 1 on "
                                  f"all {known} rows): the label {label} is defined only on days an athlete is "
                                  f"not injured, so no row has one")
        raise InvalidArgument(f"{where}: no row of {src} has the label {label}: a day is labelled when an injury "
                              f"follows within {args.horizon} days or the record goes on {args.horizon} more days "
                              f"without one ({size})")
    if injured == 0:
        raise InvalidArgument(f"{where}: {src} holds no injury: column {args.injury!r} is never 1 ({size}); the "
                              f"label {label} has no positive case, so there is nothing to {where}")
    n = int(labelled.sum())
    pos = int((df.loc[labelled, "y"] == 1).sum())
    if pos == n:
        raise InvalidArgument(f"{where}: all {n} labelled rows of {src} are positive ({label}): no day without "
                              f"an injury ahead to compare with ({size})")
    workload = set(risk.workload_feature_names())
    for f in feats:
        if f in df.columns and not df.loc[labelled, f].notna().any():
            why = (f"its workload windows (acute {args.acute} d, chronic {args.chronic} d, min_periods "
                   f"{args.min_periods}) need more days than the athletes have ({size})" if f in workload
                   else "the column is empty there")
            raise InvalidArgument(f"{where}: feature {f!r} has no value on any of the {n} labelled rows of {src}: "
                                  f"{why}")
    check_separation(df[labelled], [f for f in feats if f in df.columns], "y", args.allow_separating_features,
                     where, flag="--allow-separating-features")


def run_evaluate(args) -> int:
    require_pillar("risk")
    from .. import risk

    df = _load(args)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", risk.LeakageWarning)  # printed below, from the result
        _check_inputs(args, df, _features(args))

    with warnings.catch_warnings(), progress_bar("risk evaluate"):
        # printed below, in the table and the JSON: not as a Python warning on stderr
        warnings.simplefilter("ignore", risk.EvidenceWarning)
        warnings.simplefilter("ignore", risk.LeakageWarning)
        ev = risk.evaluate(df, _features(args), "y", scheme=args.scheme, k=args.folds, test_start=args.test_start,
                           purge_days=args.purge, horizon_days=args.horizon, model=args.model,
                           replicates=args.replicates, seed=args.seed, repeats=args.repeats,
                           season_start=args.season_start, allow_separating=args.allow_separating_features)
    pred = ev.predictions
    cal = risk.calibration_summary(pred["y"], pred["p_model"], groups=pred["athlete"])
    cal_text = (f"calibration of the out-of-fold risks: slope {cal['slope']:.3f} [{cal['slope_lo']:.3f}, "
                f"{cal['slope_hi']:.3f}] (ideal 1), calibration-in-the-large {cal['citl']:+.3f} "
                f"[{cal['citl_lo']:+.3f}, {cal['citl_hi']:+.3f}] (ideal 0), observed/expected events "
                f"{cal['oe_ratio']:.3f}; 95% Wald intervals, athlete-cluster-robust")
    leak_text = ("leakage: athletes have rows on both sides of this split; its AUC measures who gets injured, "
                 "not when" if ev.leakage else "")
    if args.json:
        print(json.dumps({"scheme": ev.scheme, "label": f"injury within {args.horizon} d",
                          "purge_days": ev.purge_days, "leakage": ev.leakage, "leakage_warning": leak_text,
                          "interval_reliable": ev.evidence["interval_reliable"], "warning": ev.warning,
                          "minimum": {"events": risk.MIN_EVENTS,
                                      "athletes_with_events": risk.MIN_ATHLETES_WITH_EVENTS},
                          "evidence": {k: v for k, v in ev.evidence.items() if k != "warning"},
                          "table": ev.table.to_dict(orient="records"),
                          "folds": ev.folds.to_dict(orient="records"),
                          "spread": ev.spread, "repeats": ev.repeats.to_dict(orient="records"),
                          "calibration": cal, "separating_features": ev.separating,
                          "separation_warning": ev.separation_warning},
                         indent=2, default=_json_default))
    else:
        purge = f"; purge {ev.purge_days} d" if ev.scheme in ("temporal", "season") else ""
        print(f"scheme: {ev.scheme}; label: injury within {args.horizon} d{purge}; "
              f"95% athlete-cluster bootstrap intervals ({args.replicates} replicates)")
        print(f"test set: {_evidence_line(ev.evidence)}")
        if ev.warning:
            print(f"WARNING: {ev.warning}")
        if ev.leakage:
            print(f"WARNING: {leak_text}")
        if ev.separation_warning:
            print(f"WARNING: {ev.separation_warning}")
        print(ev.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(cal_text)
        print("per test fold:")
        print(ev.folds.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if ev.spread:
            sp = ev.spread
            print(f"model AUC over {sp['repeats']} fold seeds: min {sp['roc_auc_min']:.3f}, "
                  f"median {sp['roc_auc_median']:.3f}, max {sp['roc_auc_max']:.3f}")
    if ev.warning:
        print(f"WARNING: {ev.warning}", file=sys.stderr)
    if ev.leakage:
        print(f"WARNING: {leak_text}", file=sys.stderr)
    if ev.separation_warning:
        print(f"WARNING: {ev.separation_warning}", file=sys.stderr)
    return 0


def run_train(args) -> int:
    require_pillar("risk")
    from .. import risk

    df = _load(args)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", risk.LeakageWarning)  # recorded in the model and printed below
        _check_inputs(args, df, _features(args))
    if args.model == "cox":
        return _train_cox(args, df)
    params = {"C": args.C} if args.model == "logistic" else {}
    if args.model in ("mlp", "cnn"):
        params = {"max_epochs": args.epochs, "seed": args.seed, "pos_weight": args.pos_weight}
        if args.model == "cnn":
            params["window_days"] = args.window
    with warnings.catch_warnings(), progress_bar("risk train"):
        warnings.simplefilter("ignore", risk.LeakageWarning)  # recorded in the model and printed below
        model = risk.RiskModel(_features(args), args.model, **params).fit(
            df, "y", allow_separating=args.allow_separating_features)
    model.training["recipe"] = {k: getattr(args, k) for k in _RECIPE}
    model.training["label"] = {"injury": args.injury, "horizon_days": args.horizon,
                               "text": f"injury within {args.horizon} days"}
    if args.validate:
        with warnings.catch_warnings():  # reported below and in the model file
            warnings.simplefilter("ignore", risk.EvidenceWarning)
            warnings.simplefilter("ignore", risk.LeakageWarning)
            neural = {k: v for k, v in params.items() if k != "C"} if args.model in ("mlp", "cnn") else None
            ev = risk.evaluate(df, _features(args), "y", scheme=args.validate, k=args.folds,
                               test_start=args.test_start, purge_days=args.purge, horizon_days=args.horizon,
                               model=args.model, C=args.C, replicates=args.replicates, seed=args.seed,
                               neural=neural, season_start=args.season_start,
                               allow_separating=args.allow_separating_features)
        model.record_validation(ev, folds=args.folds if args.validate in ("grouped", "random") else None,
                                seed=args.seed, replicates=args.replicates, test_start=args.test_start)
        print(f"validation ({args.validate}): {model.describe()['validation']}", file=sys.stderr)
        if ev.warning:
            print(f"WARNING: {ev.warning}", file=sys.stderr)
    for w in model.describe()["warnings"]:
        print(f"WARNING: {w}", file=sys.stderr)
    model.save(args.output)
    labelled = df[df["y"].notna()]
    e = risk.evidence(labelled["athlete"], labelled["date"], labelled["y"])
    print(f"model written to {args.output}; training data: {_evidence_line(e)}", file=sys.stderr)
    if not e["interval_reliable"]:
        print(f"WARNING: too little evidence to validate this model: {e['events']} event(s) in "
              f"{e['athletes_with_events']} athlete(s) (minimum {risk.MIN_EVENTS} events in "
              f"{risk.MIN_ATHLETES_WITH_EVENTS} athletes)", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": str(args.output), "label": f"injury within {args.horizon} d",
                          "evidence": e, "validation": model.training.get("validation"),
                          "warnings": model.describe()["warnings"],
                          "minimum": {"events": risk.MIN_EVENTS,
                                      "athletes_with_events": risk.MIN_ATHLETES_WITH_EVENTS}},
                         indent=2, default=_json_default))
    return 0


def _train_cox(args, df) -> int:
    """Cox model on athlete-day counting-process rows: a summary table on stdout."""
    from .. import InvalidArgument, risk

    if args.validate not in (None, "grouped"):
        raise InvalidArgument(f"train: --model cox is validated by athlete (--validate grouped), not "
                              f"{args.validate!r}")
    feats = _features(args)
    cp = risk.counting_process(df, feats, injury=args.injury)
    if cp.empty or cp["event"].sum() == 0:
        raise InvalidArgument(f"train: no injury onset on a day with all of {feats} known; nothing to fit")
    model = risk.CoxModel(feats).fit(cp)
    if args.validate:
        model.training["validation"] = risk.evaluate_cox(cp, feats, k=args.folds, seed=args.seed,
                                                         replicates=args.replicates)
    model.training["recipe"] = {k: getattr(args, k) for k in _RECIPE}
    model.training["time_scale"] = "days since the athlete's first row; covariates of the previous day"
    model.save(args.output)
    tab = model.summary()
    h = args.horizon
    absr = model.absolute_risk(cp, h)
    t = model.training
    if args.json:
        print(json.dumps({"model": str(args.output), "kind": "cox", "summary": tab.to_dict(orient="records"),
                          "c_index": t["c_index"], "rows": t["rows"], "events": t["events"],
                          "athletes": t.get("athletes"), "athletes_with_events": t.get("athletes_with_events"),
                          f"mean_risk_within_{h}_days": float(absr.mean()), "validation": t.get("validation")},
                         indent=2, default=_json_default))
    else:
        print(f"Cox proportional hazards (Breslow ties; Andersen-Gill rows: one per athlete-day at risk, "
              f"covariates of the previous day): {t['rows']} rows, {t['events']} injury onsets in "
              f"{t.get('athletes_with_events')} of {t.get('athletes')} athletes")
        print(tab.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"hazard ratio per unit of the feature, 95% Wald intervals (model-based: an athlete's recurrent "
              f"injuries are treated as independent); C-index (in-sample) {t['c_index']:.3f}; "
              f"mean absolute risk of an onset within {h} days {absr.mean():.2%} (Breslow baseline)")
        v = t.get("validation")
        if v:
            ci = f" [{v['c_index_lo']:.3f}, {v['c_index_hi']:.3f}]" if v["c_index_lo"] is not None else ""
            print(f"grouped {v['folds']}-fold validation by athlete: out-of-fold C-index {v['c_index']:.3f}{ci} "
                  f"(95% athlete bootstrap, {v['replicates']} replicates); {v['events']} onsets in "
                  f"{v['athletes_with_events']} of {v['athletes']} athletes")
            if v["warning"]:
                print(f"WARNING: {v['warning']}")
    print(f"model written to {args.output}", file=sys.stderr)
    return 0


def _recipe_from_model(args, model, where: str) -> None:
    """Fills the table options from the model's recipe; an option given with another value
    than the model was built with is an InvalidArgument."""
    from .. import InvalidArgument

    recipe = model.training.get("recipe", {}) if isinstance(model.training, dict) else {}
    # A load column of another name is the same quantity: --load maps it onto the model's
    # (the features are built from its values exactly as in training; _load says so).
    args.model_load = recipe.get("load", _RECIPE["load"])
    for key, default in _RECIPE.items():
        given, built = getattr(args, key), recipe.get(key, default)
        if key == "load" and given is not None:
            continue
        if given is not None and built is not None and given != built:
            flag = "--" + key.replace("_", "-")
            raise InvalidArgument(f"{where}: {flag} {given} conflicts with the model, whose features were built "
                                  f"with {flag} {built}; leave the option out to use the model's")
        if given is None:
            if built is None:
                raise InvalidArgument(f"{where}: the model does not record what an absent day means; give --missing")
            setattr(args, key, built)


def run_predict(args) -> int:
    require_pillar("risk")
    model, df = _model_and_table(args, "predict", mark_recorded=True)
    out = _risk_table(model, df, args.injury)
    for line in _header(model, out, _injury_status(args, df)):
        print(line, file=sys.stderr)
    _write(out, args)
    return 0


def _injury_from_model(args, model) -> None:
    """The injury column to read: --injury (mapped onto the model's, with a note) or the
    model's (:func:`_injury_status` says when the file has none)."""
    lab = model.training.get("label") if isinstance(model.training, dict) else None
    own = lab.get("injury", "injury") if isinstance(lab, dict) else "injury"
    given = getattr(args, "injury", None)
    args.injury_given = given is not None
    if given is not None and given != own:
        print(f"note: the model's injury column {own!r} is read from column {given!r} of '{args.input}' "
              f"(--injury)", file=sys.stderr)
    args.injury = given if given is not None else own


def _model_notes(headline: str, d: dict, args, df) -> None:
    """The headline, the model's description lines and the injury-column note, on stderr."""
    print(headline, file=sys.stderr)
    for line in _model_lines(d):
        print(line, file=sys.stderr)
    unknown = _injury_status(args, df)
    if unknown:
        print(f"note: {unknown}", file=sys.stderr)


def _injury_status(args, df):
    """None when the table has the injury column; else what a reader must know (and an
    error when --injury named a column the file lacks)."""
    if args.injury in df.columns:
        return None
    if getattr(args, "injury_given", False):
        _require_column(args, df, args.injury, "injury", "--injury")
    return (f"injury status unknown (no column {args.injury!r} in '{args.input}'; name the file's injury column "
            f"with --injury): no day is flagged injured")


def _risk_table(model, df, injury: str = "injury"):
    """athlete, date, risk, the squad's mean risk that day, and the flags a reader needs:
    injured (an injury day: the athlete is already injured, the risk does not apply),
    recorded (False: the day is absent from the file and was filled by the missing-day
    policy) and imputed (model features that were NaN and replaced by the training mean)."""
    import numpy as np

    out = df[["athlete", "date"]].copy()
    out["risk"] = model.predict(df)
    out["injured"] = (df[injury] == 1).to_numpy() if injury in df.columns else False
    # the squad's average over athletes at risk that day (injured athletes' risks do not apply)
    out["squad_mean_risk"] = out["risk"].where(~out["injured"]).groupby(out["date"]).transform("mean")
    out["recorded"] = df["recorded"].to_numpy() if "recorded" in df.columns else True
    nan = df[model.features].isna().to_numpy()
    names = np.asarray(model.features, dtype=object)
    out["imputed"] = [",".join(names[r]) for r in nan]
    return out


def _model_lines(d: dict) -> list:
    """What the model's risks are, beyond their label: class weighting undone (or not)."""
    return [f"note: {d['weighting']}"] if d.get("weighting") and d.get("pos_weight") is not None else []


def _header(model, out, injury_note=None) -> list:
    """What the risk is of, the squad's average, the validated AUC and the flags' counts."""
    d = model.describe()
    last = out["date"].max()
    today = out[out["date"] == last]
    base = f"; training base rate {d['base_rate']:.2%}" if d["base_rate"] is not None else ""
    fit = out[~out["injured"]]
    today = today[~today["injured"]]
    lines = [f"risk of {d['label']}{base}",
             f"squad average risk (days not injured): {fit['risk'].mean():.2%} over all days, "
             f"{today['risk'].mean():.2%} on {last.date()} ({len(today)} athletes)",
             f"model: {d['validation']}", *_model_lines(d)]
    injured = f"{int(out['injured'].sum())} injured day(s) (already injured: the risk does not apply)"
    flags = [injury_note or injured,
             f"{int((~out['recorded']).sum())} day(s) absent from the file (filled by the missing-day policy)",
             f"{int((out['imputed'] != '').sum())} day(s) with imputed features (training mean)"]
    lines.append("flags: " + "; ".join(flags))
    return lines


def run_explain(args) -> int:
    require_pillar("risk")
    import pandas as pd

    from .. import InvalidArgument

    import re

    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.date):
        raise InvalidArgument(f"explain: --date names the CSV's date column (default 'date'), not a day; to "
                              f"explain {args.date} give --at {args.date}")
    model, df = _model_and_table(args, "explain", mark_recorded=True)
    rows = df[df["athlete"] == args.who]
    if rows.empty:
        raise InvalidArgument(f"explain: no athlete {args.who!r} in the table")
    first, last = rows["date"].min().date(), rows["date"].max().date()
    if args.at:
        try:
            day = pd.Timestamp(args.at)
        except ValueError:
            raise InvalidArgument(f"explain: --at {args.at!r} is not a date (YYYY-MM-DD)") from None
        rows = rows[rows["date"] == day]
        if rows.empty:
            raise InvalidArgument(f"explain: athlete {args.who!r} has no data on {args.at} (the record runs "
                                  f"{first} .. {last})")
    history = df[df["athlete"] == args.who]  # the CNN reads the days before the chosen one
    at = rows.index[-1]
    row = history.loc[[at]]
    contrib = model.explain(history).loc[at]
    table = _risk_table(model, history, args.injury)
    p = float(table.loc[at, "risk"])
    squad = df.loc[df["date"] == row["date"].iloc[0]]
    if args.injury in squad.columns:
        squad = squad[squad[args.injury] != 1]  # injured athletes' risks do not apply
    squad_mean = float(model.predict(squad).mean()) if model.kind != "cnn" else float(
        _risk_table(model, df, args.injury).loc[squad.index, "risk"].mean())
    d = model.describe()
    when = "" if args.at else " (its last day; --at YYYY-MM-DD for another)"
    print(f"{args.who} on {row['date'].iloc[0].date()}{when}: risk of {d['label']} {p:.4f} "
          f"(log-odds {contrib.sum():+.3f} = baseline {contrib['baseline']:+.3f} + contributions)")
    unknown = _injury_status(args, df)
    print(f"squad average that day: {squad_mean:.4f} ({len(squad)} athletes{'' if unknown else ' not injured'}); "
          f"model: {d['validation']}")
    for line in _model_lines(d):
        print(line)
    if unknown:
        print(f"NOTE: {unknown}")
    elif table.loc[at, "injured"]:
        print("NOTE: the athlete is injured on this day: a risk of a new injury does not apply")
    if not table.loc[at, "recorded"]:
        print(f"NOTE: this day is absent from the file; its load was filled by the missing-day policy "
              f"'{args.missing}'")
    imputed = set(filter(None, table.loc[at, "imputed"].split(",")))
    for name in sorted(model.features, key=lambda f: -abs(contrib[f])):
        mark = "   (missing: imputed with the training mean)" if name in imputed else ""
        print(f"  {name:<20} value {row[name].iloc[0]:>10.3f}   contribution {contrib[name]:+.4f}{mark}")
    return 0


def _plot_format(path) -> str:
    from .. import InvalidArgument

    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf"):
        raise InvalidArgument(f"--plot '{path}': the name must end in .png, .svg or .pdf")
    return fmt


def _figure_out(fig, path) -> None:
    from .._io import atomic_output

    fmt = _plot_format(path)
    with atomic_output(path, "wb") as f:
        fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight")
    print(f"written {path}", file=sys.stderr)


def _model_and_table(args, command: str, mark_recorded: bool = False):
    """The saved model and the table with its features rebuilt as the model records them
    (options that contradict the model are errors)."""
    from .. import FormatError, InvalidArgument, risk
    from ..risk._persist import file_format

    try:
        model = risk.RiskModel.load(args.model_file)
    except FormatError:
        if file_format(args.model_file) == risk.CoxModel.FORMAT:
            raise InvalidArgument(
                f"{command}: '{args.model_file}' is a Cox proportional-hazards model: predict, explain, board and "
                f"trend take a risk model of kind logistic, xgboost, mlp or cnn (risk train --model ...); a Cox "
                f"model's hazard ratios are printed by 'risk train --model cox', its absolute risks come from "
                f"sportsmed.risk.CoxModel.load(path).absolute_risk(...)") from None
        raise
    _recipe_from_model(args, model, command)
    _injury_from_model(args, model)
    return model, _load(args, mark_recorded=mark_recorded)


def run_board(args) -> int:
    require_pillar("risk")
    from .. import risk

    if args.plot:
        _plot_format(args.plot)  # before any work

    model, df = _model_and_table(args, "board")
    board = risk.squad_board(df, model, date=args.at, injury=args.injury)
    d = model.describe()
    _model_notes(f"risk of {d['label']} on {board['date'].iloc[0].date()}; model: {d['validation']}", d, args, df)
    if args.plot:
        _figure_out(risk.plot_squad_board(board, risk_label=f"risk of {d['label']}"), args.plot)
    _write(board, args)
    return 0


def _training_table(args, model):
    """The model's training table (--train) with its features and label rebuilt as the model
    records them; an InvalidArgument when it is not the table the model was trained on
    (its labelled rows, positives, athletes or period differ from the model's record)."""
    import argparse as _argparse

    from .. import InvalidArgument

    where = "trend"
    lab = model.training.get("label") if isinstance(model.training, dict) else None
    h = lab.get("horizon_days") if isinstance(lab, dict) else None
    if h is None:
        raise InvalidArgument(f"{where}: --band refits the model and needs its label horizon, which this model file "
                              f"does not record")
    t = _argparse.Namespace(**vars(args))
    # the training file holds the model's own column names (as recorded when it was trained)
    t.input, t.load, t.model_load, t.horizon = str(args.train), args.model_load, None, int(h)
    t.injury, t.injury_given = lab.get("injury", "injury"), False
    train = _load(t)
    if t.injury not in train.columns:
        raise InvalidArgument(f"{where}: --train '{args.train}' has no column {t.injury!r}, the model's injury "
                              f"column: it is not the table the model was trained on")
    missing = [f for f in model.features if f not in train.columns]
    if missing:
        raise InvalidArgument(f"{where}: --train '{args.train}' lacks the model's feature(s) {missing}: it is not "
                              f"the table the model was trained on")
    labelled = train[train["y"].notna()]
    got = {"rows": len(labelled), "positives": int((labelled["y"] == 1).sum()),
           "athletes": int(labelled["athlete"].nunique()),
           "first_date": str(labelled["date"].min().date()) if len(labelled) else None,
           "last_date": str(labelled["date"].max().date()) if len(labelled) else None}
    rec = model.training if isinstance(model.training, dict) else {}
    differ = [f"{k} {got[k]} (the model records {rec[k]})" for k in got if rec.get(k) is not None and
              str(rec[k]) != str(got[k])]
    if differ:
        raise InvalidArgument(f"{where}: --train '{args.train}' is not the table this model was trained on: with "
                              f"the model's recipe (load {t.load!r}, injury {t.injury!r}, label horizon {h} d, "
                              f"missing days {t.missing!r}) it gives " + ", ".join(differ))
    return train


def run_trend(args) -> int:
    require_pillar("risk")
    from .. import InvalidArgument, risk

    if args.plot:
        _plot_format(args.plot)  # before any work
    if args.band and args.train is None:
        raise InvalidArgument("trend: --band N needs --train TABLE, the table the model was trained on: the band "
                              "refits the model on athlete-bootstrap resamples of its training data (not of the "
                              "table being predicted)")
    if args.train is not None and not args.band:
        raise InvalidArgument("trend: --train is read only for the risk band: give --band N as well")

    model, df = _model_and_table(args, "trend")
    train = _training_table(args, model) if args.band else None
    trend = risk.athlete_trend(df, model, args.who, injury=args.injury, load=args.load, train=train,
                               replicates=args.band or 100)
    d = model.describe()
    _model_notes(f"risk of {d['label']}; model: {d['validation']}", d, args, df)
    if args.plot:
        _figure_out(risk.plot_athlete_trend(trend, title=f"{args.who}: risk of {d['label']}"), args.plot)
    _write(trend, args)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("risk", help="injury risk: workload, evaluation, training, prediction, explanation")
    rs = p.add_subparsers(dest="risk_command", metavar="ACTION")
    rs.required = True

    w = rs.add_parser("workload", help="workload features per athlete-day (ACWR, EWMA-ACWR, monotony, ...)")
    _table_args(w)
    add_output(w, "CSV to write (default: stdout)", type=Path)
    add_precision(w)
    w.set_defaults(handler=run_workload)

    e = rs.add_parser("evaluate", help="grouped / temporal / random evaluation against baselines")
    _table_args(e)
    _label_args(e)
    _features_arg(e)
    e.add_argument("--scheme", choices=["grouped", "temporal", "season", "random"], default="grouped",
                   help="grouped by athlete, temporal with purge, leave-one-season-out, or random rows (leaks)")
    e.add_argument("--folds", type=int, default=5)
    e.add_argument("--test-start", default=None, help="first test day of a temporal split (YYYY-MM-DD)")
    e.add_argument("--purge", type=int, default=None,
                   help="purge gap in days (default: the horizon; shorter than the horizon is an error)")
    e.add_argument("--season-start", default="01-01",
                   help="season scheme: MM-DD on which a season begins, e.g. 07-01 (default: %(default)s)")
    e.add_argument("--repeats", type=int, default=1,
                   help="grouped/random: repeat with this many fold seeds and report the AUC spread")
    e.add_argument("--model", choices=["logistic", "xgboost", "mlp", "cnn"], default="logistic")
    e.add_argument("--replicates", type=int, default=1000, help="bootstrap replicates")
    e.add_argument("--seed", type=int, default=0)
    _separation_arg(e)
    add_json(e, "print JSON")
    e.set_defaults(handler=run_evaluate)

    t = rs.add_parser("train", help="fit a model on all labelled rows and save it")
    _table_args(t)
    _label_args(t)
    _features_arg(t)
    t.add_argument("--model", choices=["logistic", "xgboost", "mlp", "cnn", "cox"], default="logistic",
                   help="logistic, xgboost, mlp or cnn (LibTorch; the cnn reads the last --window days), or cox "
                        "(proportional hazards of injury onsets; prints its summary)")
    t.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (logistic)")
    t.add_argument("--window", type=int, default=14, help="cnn: days per input window (default: %(default)s)")
    t.add_argument("--epochs", type=int, default=200, help="mlp/cnn: most epochs (early stopping on held-out "
                   "athletes; default: %(default)s)")
    t.add_argument("--pos-weight", type=float, default=1.0,
                   help="mlp/cnn: weight w of positive rows in the loss; <= 0 for n_neg/n_pos of the labelled "
                        "rows (default: %(default)s). The weight used is recorded in the model, and predict, "
                        "explain, board and trend undo it (log-odds - log w, the prior correction of weighted "
                        "likelihood), so the outputs stay risks, not scores; the ranking (AUC) is unchanged")
    t.add_argument("--seed", type=int, default=0, help="mlp/cnn: seed (default: %(default)s)")
    t.add_argument("--validate", choices=["grouped", "temporal", "season"], default=None,
                   help="before saving, evaluate the same recipe with this scheme (as 'risk evaluate') and "
                        "record its AUC, interval and evidence in the model")
    t.add_argument("--folds", type=int, default=5, help="--validate grouped: folds (default: %(default)s)")
    t.add_argument("--test-start", default=None, help="--validate temporal: first test day (YYYY-MM-DD)")
    t.add_argument("--purge", type=int, default=None, help="--validate temporal/season: purge gap in days "
                   "(default: the horizon)")
    t.add_argument("--season-start", default="01-01", help="--validate season: MM-DD (default: %(default)s)")
    t.add_argument("--replicates", type=int, default=1000,
                   help="--validate: bootstrap replicates (default: %(default)s)")
    _separation_arg(t)
    add_output(t, "model file (JSON) to write", required=True, type=Path)
    add_json(t, "print the training evidence as JSON")
    t.set_defaults(handler=run_train)

    pr = rs.add_parser("predict", help="risk per athlete-day from a saved model")
    pr.add_argument("model_file", type=Path)
    _table_args(pr, from_model=True)
    add_output(pr, "CSV to write (default: stdout)", type=Path)
    add_precision(pr)
    pr.set_defaults(handler=run_predict)

    x = rs.add_parser("explain", help="one athlete-day's risk and each feature's contribution")
    x.add_argument("model_file", type=Path)
    _table_args(x, from_model=True)
    x.add_argument("--who", required=True, help="athlete id")
    x.add_argument("--at", default=None, help="date (default: the athlete's last day)")
    x.set_defaults(handler=run_explain)

    b = rs.add_parser("board", help="the squad's risks on one day, highest first (table and plot)")
    b.add_argument("model_file", type=Path)
    _table_args(b, from_model=True)
    b.add_argument("--at", default=None, help="date (default: the table's last day)")
    b.add_argument("--plot", type=Path, default=None, help="figure to write (.png, .svg, .pdf)")
    add_output(b, "CSV to write (default: stdout)", type=Path)
    add_precision(b)
    b.set_defaults(handler=run_board)

    tr = rs.add_parser("trend", help="one athlete's load, ACWR, risk and injuries over time (table and plot)")
    tr.add_argument("model_file", type=Path)
    _table_args(tr, from_model=True)
    tr.add_argument("--who", required=True, help="athlete id")
    tr.add_argument("--band", type=int, default=0, metavar="N",
                    help="90%% risk band from N athlete-bootstrap refits of the model on its training data "
                         "(needs --train; default: none)")
    tr.add_argument("--train", type=Path, default=None, metavar="TABLE",
                    help="--band: the table the model was trained on, read with the model's recipe and column "
                         "names (--athlete/--date/--decimal as for INPUT); checked against the model's record of "
                         "its training rows, positives, athletes and period")
    tr.add_argument("--plot", type=Path, default=None, help="figure to write (.png, .svg, .pdf)")
    add_output(tr, "CSV to write (default: stdout)", type=Path)
    add_precision(tr)
    tr.set_defaults(handler=run_trend)
