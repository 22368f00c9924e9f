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
_grouped_kfold, _cluster_bootstrap = grouped_kfold, cluster_bootstrap


def _group_codes(ids, what: str):
    """Athlete or cluster ids of any kind (names, numbers, a pandas Series) as integer codes."""
    import numpy as np
    import pandas as pd

    from .. import InvalidArgument

    a = np.asarray(ids)
    if a.ndim != 1:
        raise InvalidArgument(f"{what}: expected one id per row (a 1-D array), got shape {a.shape}")
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    codes = pd.factorize(pd.Series(a, dtype=object))[0]
    if (codes < 0).any():
        raise InvalidArgument(f"{what}: {int((codes < 0).sum())} ids are missing (NaN/None)")
    return codes.astype(np.int64)


def grouped_kfold(athlete, k: int, seed: int = 0):
    """Fold (0..k-1) of each row, every athlete's rows in one fold; ``athlete`` ids of any kind
    (names or numbers)."""
    return _grouped_kfold(_group_codes(athlete, "grouped_kfold"), int(k), int(seed))


def cluster_bootstrap(y, score, cluster, metric: str = "roc_auc", replicates: int = 1000, level: float = 0.95,
                      seed: int = 0):
    """Percentile interval of ``metric`` resampling whole clusters (athletes); ``cluster`` ids of
    any kind (names or numbers)."""
    return _cluster_bootstrap(y, score, _group_codes(cluster, "cluster_bootstrap"), metric, int(replicates),
                              float(level), int(seed))


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
