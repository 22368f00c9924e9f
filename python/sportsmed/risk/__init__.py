"""Injury risk: athlete-time tables, workload metrics, leakage-free labels and evaluation.

The compiled kernels live in ``sportsmed._core.risk``; this package adds pandas in/out.

>>> import sportsmed.risk as risk
>>> df = risk.complete_days(risk.read_table("log.csv", athlete="player_id"), policy="zero")
>>> w = risk.workload(df)                  # acute/chronic, ACWR, EWMA-ACWR, monotony, ...
>>> df["y"] = risk.injury_labels(df, 7)    # injury within 7 days, NaN while injured
>>> ev = risk.evaluate(df.join(w.drop(columns=["athlete", "date"])), ["acwr_coupled"], "y")
>>> ev.table                               # model vs prevalence and identity baselines
"""

from __future__ import annotations

from .._pillars import require_pillar

require_pillar("risk")

from .._core.risk import (  # noqa: E402
    CoxPH,
    GradientBoosting,
    IsotonicCalibration,
    PlattCalibration,
    LogisticRegression,
    average_precision,
    brier_score,
    check_split,
    cluster_bootstrap,
    ewma,
    grouped_kfold,
    net_benefit,
    reliability_curve,
    roc_auc,
    rolling_mean,
    rolling_std,
    rolling_sum,
    temporal_split,
    workload_feature_names,
)
from ._evaluate import (  # noqa: E402
    MIN_ATHLETES_WITH_EVENTS, MIN_EVENTS, SEPARATION_AUC, SEPARATION_MIN_POSITIVES, EvidenceWarning, Evaluation,
    LeakageWarning, calibrate, check_no_future, check_normalisation, choose_threshold, evaluate, evidence,
    outcome_features, separating_features,
)
from ._board import athlete_trend, plot_athlete_trend, plot_squad_board, risk_band, squad_board  # noqa: E402
from ._clinical import calibration_summary, reliability_diagram, reliability_table  # noqa: E402
from ._model import RiskModel, lagged_features  # noqa: E402
from ._persist import Calibrator, CoxModel  # noqa: E402
from ._screening import (  # noqa: E402
    BATES_2020, MYER_2010, MYER_2010_ODDS_RATIOS, MYER_PREDICTORS, MyerKamModel, bates_rule, myer_predictors,
    screen_drop_jump, screening_performance,
)
from ._sklearn import BoostedRiskClassifier, LogisticRiskClassifier  # noqa: E402
from ._survival import (  # noqa: E402
    breslow, concordance_index, counting_process, evaluate_cox, first_injury_times, kaplan_meier, plot_kaplan_meier,
)
from ._synthetic import HazardModel, synthetic_cohort  # noqa: E402
from ._table import complete_days, injury_labels, read_table, with_features, workload  # noqa: E402

__all__ = [
    "CoxPH", "Evaluation", "GradientBoosting", "IsotonicCalibration", "PlattCalibration", "RiskModel", "LeakageWarning", "LogisticRegression", "average_precision", "brier_score",
    "HazardModel", "calibrate", "check_no_future", "check_split", "choose_threshold", "cluster_bootstrap", "synthetic_cohort", "complete_days", "evaluate", "ewma", "grouped_kfold",
    "injury_labels", "net_benefit", "read_table", "reliability_curve", "roc_auc", "rolling_mean",
    "rolling_std", "rolling_sum", "temporal_split", "with_features", "workload", "workload_feature_names",
    "NeuralRiskModel", "lagged_features",
    "BATES_2020", "MYER_2010", "MYER_2010_ODDS_RATIOS", "MYER_PREDICTORS", "MyerKamModel", "bates_rule", "myer_predictors",
    "screen_drop_jump", "screening_performance", "check_normalisation", "Calibrator", "CoxModel",
    "EvidenceWarning", "MIN_ATHLETES_WITH_EVENTS", "MIN_EVENTS", "evidence",
    "SEPARATION_AUC", "SEPARATION_MIN_POSITIVES", "outcome_features", "separating_features",
    "calibration_summary", "reliability_diagram", "reliability_table",
    "athlete_trend", "plot_athlete_trend", "plot_squad_board", "risk_band", "squad_board",
    "BoostedRiskClassifier", "LogisticRiskClassifier", "breslow", "concordance_index", "counting_process", "evaluate_cox", "first_injury_times", "kaplan_meier", "plot_kaplan_meier",
]


def __getattr__(name: str):
    # NeuralRiskModel lives in the LibTorch extension: loaded on first use only.
    if name == "NeuralRiskModel":
        from ._model import _neural

        return _neural().NeuralRiskModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
