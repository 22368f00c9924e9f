"""Clinical screening models of ACL injury risk from a drop vertical jump.

Two published tools, each documented with what its authors reported and why a screening
test is not a prediction of who will be injured:

* the knee-abduction-at-initial-contact threshold rule (Bates et al. 2020), fed by the
  motion pillar's drop-jump features (``knee_abduction_ic_deg`` per side);
* the clinic-based model of high knee abduction moment (KAM) of Myer et al. 2010, with its
  five predictors, as a logistic model and a Harrell-style nomogram.

Caveats (read before using either): prospective screening of 710 elite female soccer and
handball players found the drop-jump knee measures unable to tell who would rupture an ACL,
with ROC areas close to chance (Krosshaug et al. 2016, Am J Sports Med 44(4):874–883); a
risk factor that differs between groups on average is not a screening test unless its
effect is very large, and none of these is (Bahr 2016, Br J Sports Med 50:776–780). Both
rules were derived in adolescent female athletes in one region; the KAM model predicts a
laboratory surrogate (high KAM), not injury.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from .._core import InvalidArgument
from .._core import risk as _r

#: Bates NA, Myer GD, Hale RF, Schilaty ND, Hewett TE. Prospective frontal plane angles used
#: to predict ACL strain and identify those at high risk for sports-related ACL injury.
#: Orthop J Sports Med 2020;8(10):2325967120957646 (205 female high-school athletes,
#: prospective 3D motion analysis): knee abduction angle at initial contact of a drop
#: vertical jump, threshold 4.6°, sensitivity 78 %, specificity 83 % for later ACL injury.
BATES_2020 = {"threshold_deg": 4.6, "sensitivity": 0.78, "specificity": 0.83,
              "source": "Bates et al. 2020, Orthop J Sports Med 8(10):2325967120957646"}

#: Predictors of the clinic-based high-KAM model (Myer et al. 2010), name → unit.
MYER_PREDICTORS = {
    "knee_valgus_motion_cm": "cm",    # medial knee displacement during landing (2D video)
    "knee_flexion_rom_deg": "deg",    # initial contact to peak flexion
    "body_mass_kg": "kg",
    "tibia_length_cm": "cm",
    "quadriceps_hamstring_ratio": "",  # isokinetic quadriceps / hamstrings strength
}

#: Odds ratios per unit of the clinic-based algorithm as stated in the abstract of Myer GD,
#: Ford KR, Khoury J, Succop P, Hewett TE. Clinical correlates to laboratory measures for use
#: in non-contact anterior cruciate ligament injury risk prediction algorithm. Clin Biomech
#: 2010;25(7):693–699 (744 female basketball and soccer players; 73 % sensitivity, 70 %
#: specificity for high KAM). The quadriceps-to-hamstrings odds ratio and the intercept are
#: not reproduced here (not verified by us), so the published model cannot be evaluated to a
#: probability: fit the same structure on your own laboratory data (MyerKamModel.fit).
MYER_2010_ODDS_RATIOS = {
    "knee_valgus_motion_cm": 1.43,
    "knee_flexion_rom_deg": 0.98,
    "body_mass_kg": 1.04,
    "tibia_length_cm": 1.38,
    "quadriceps_hamstring_ratio": None,
}
MYER_2010 = {"sensitivity": 0.73, "specificity": 0.70, "odds_ratios": MYER_2010_ODDS_RATIOS,
             "source": "Myer et al. 2010, Clin Biomech 25(7):693-699; validation: Myer et al. 2010, "
                       "Am J Sports Med 38(10):2025-2033"}


def bates_rule(knee_abduction_ic_deg, threshold_deg: float = BATES_2020["threshold_deg"]) -> np.ndarray:
    """Bates 2020 rule: 1 where the knee abduction (valgus positive) at initial contact is
    at least ``threshold_deg``, 0 below, NaN where the angle is missing.

    The published threshold (4.6°) and its sensitivity / specificity (78 % / 83 %) are in
    :data:`BATES_2020`; see the module caveats (Krosshaug 2016; Bahr 2016).
    """
    a = np.asarray(knee_abduction_ic_deg, dtype=float)
    return np.where(np.isnan(a), np.nan, (a >= threshold_deg).astype(float))


def screen_drop_jump(features: pd.DataFrame, threshold_deg: float = BATES_2020["threshold_deg"]) -> pd.DataFrame:
    """Applies the Bates 2020 rule to the motion pillar's drop-jump features.

    Parameters
    ----------
    features
        The ``features`` table of :func:`sportsmed.motion.drop_jump_analysis` (columns
        ``feature``, ``value``, ``unit``), holding ``left_knee_abduction_ic_deg`` and
        ``right_knee_abduction_ic_deg``.

    Returns
    -------
    One row per side: knee_abduction_ic_deg, flag (1 = above the threshold),
    threshold_deg, and the published sensitivity / specificity.
    """
    if not {"feature", "value"} <= set(features.columns):
        raise InvalidArgument("screen_drop_jump: expected the motion features table (columns feature, value)")
    values = dict(zip(features["feature"], features["value"]))
    rows = []
    for side in ("left", "right"):
        key = f"{side}_knee_abduction_ic_deg"
        if key not in values:
            raise InvalidArgument(f"screen_drop_jump: the features lack {key!r}")
        a = float(values[key])
        rows.append({"side": side, "knee_abduction_ic_deg": a, "flag": float(bates_rule(a, threshold_deg)),
                     "threshold_deg": threshold_deg, "published_sensitivity": BATES_2020["sensitivity"],
                     "published_specificity": BATES_2020["specificity"]})
    return pd.DataFrame(rows)


def myer_predictors(features: pd.DataFrame, body_mass_kg: float,
                    quadriceps_hamstring_ratio: float = float("nan")) -> pd.DataFrame:
    """The predictors of :class:`MyerKamModel` (one row per side) from the motion pillar's
    drop-jump features: ``knee_valgus_motion_cm``, ``knee_flexion_rom_deg`` and
    ``tibia_length_cm`` per side (the 3-D counterparts of Myer 2010's video and tape
    measures: medial knee displacement in a frontal camera's image, initial contact to peak
    flexion, knee-to-ankle centre distance), plus the body mass and the isokinetic
    quadriceps-to-hamstrings ratio, which motion capture does not measure (NaN when unknown).
    """
    if not {"feature", "value"} <= set(features.columns):
        raise InvalidArgument("myer_predictors: expected the motion features table (columns feature, value)")
    if not body_mass_kg > 0:
        raise InvalidArgument(f"myer_predictors: body_mass_kg must be positive, got {body_mass_kg}")
    values = dict(zip(features["feature"], features["value"]))
    rows = []
    for side in ("left", "right"):
        keys = [f"{side}_knee_valgus_motion_cm", f"{side}_knee_flexion_rom_deg", f"{side}_tibia_length_cm"]
        missing = [k for k in keys if k not in values]
        if missing:
            raise InvalidArgument(f"myer_predictors: the features lack {missing} (the knee valgus motion and "
                                  "tibia length need the joint centres)")
        rows.append({"side": side, "knee_valgus_motion_cm": float(values[keys[0]]),
                     "knee_flexion_rom_deg": float(values[keys[1]]), "body_mass_kg": float(body_mass_kg),
                     "tibia_length_cm": float(values[keys[2]]),
                     "quadriceps_hamstring_ratio": float(quadriceps_hamstring_ratio)})
    return pd.DataFrame(rows).set_index("side")


def screening_performance(y, flag) -> dict:
    """Sensitivity, specificity, PPV and NPV of a 0/1 screening flag against 0/1 outcomes
    (rows with NaN in either are skipped)."""
    y = np.asarray(y, dtype=float)
    f = np.asarray(flag, dtype=float)
    ok = ~(np.isnan(y) | np.isnan(f))
    y, f = y[ok], f[ok]
    tp, fp = float(((f == 1) & (y == 1)).sum()), float(((f == 1) & (y == 0)).sum())
    fn, tn = float(((f == 0) & (y == 1)).sum()), float(((f == 0) & (y == 0)).sum())
    div = lambda a, b: a / b if b else float("nan")  # noqa: E731
    return {"sensitivity": div(tp, tp + fn), "specificity": div(tn, tn + fp), "ppv": div(tp, tp + fp),
            "npv": div(tn, tn + fn), "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)}


@dataclass
class MyerKamModel:
    """The structure of Myer et al. 2010's clinic-based model of high knee abduction moment:
    logit P(high KAM) = intercept + Σ_j coef_j · x_j over :data:`MYER_PREDICTORS`, in their
    units, and its nomogram.

    Fit it on laboratory data with a high-KAM label (:meth:`fit`, unpenalised maximum
    likelihood) or set ``coef``/``intercept`` from a source you trust. The published odds
    ratios we could verify are in :data:`MYER_2010_ODDS_RATIOS` for comparison.
    """

    coef: dict = field(default_factory=dict)
    intercept: float = 0.0
    predictors: Sequence[str] = tuple(MYER_PREDICTORS)

    def fit(self, df: pd.DataFrame, label: str = "high_kam") -> "MyerKamModel":
        missing = [c for c in [*self.predictors, label] if c not in df.columns]
        if missing:
            raise InvalidArgument(f"MyerKamModel.fit: missing column(s) {missing}")
        d = df[[*self.predictors, label]].dropna()
        m = _r.LogisticRegression(C=1e12, tol=1e-12).fit(np.ascontiguousarray(d[list(self.predictors)], dtype=float),
                                                          d[label].to_numpy(dtype=float))
        self.coef = dict(zip(self.predictors, m.coef.tolist()))
        self.intercept = float(m.intercept)
        return self

    def _x(self, df) -> np.ndarray:
        if not self.coef:
            raise InvalidArgument("MyerKamModel: no coefficients (fit, or set coef and intercept)")
        missing = [c for c in self.predictors if c not in df.columns]
        if missing:
            raise InvalidArgument(f"MyerKamModel: missing column(s) {missing}")
        return df[list(self.predictors)].to_numpy(dtype=float)

    def odds_ratios(self) -> dict:
        """exp(coef) per unit of each predictor (compare with MYER_2010_ODDS_RATIOS)."""
        return {k: float(np.exp(v)) for k, v in self.coef.items()}

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """P(high KAM) per row."""
        z = self.intercept + self._x(df) @ np.array([self.coef[k] for k in self.predictors])
        return 1.0 / (1.0 + np.exp(-z))

    def nomogram(self, ranges: dict) -> pd.DataFrame:
        """Nomogram scales (Harrell's convention): the predictor whose coefficient spans the
        widest log-odds range over ``ranges`` (name → (low, high)) gets 0–100 points;
        every other predictor is scaled alike; points grow with risk.

        Returns one row per predictor: low, high, points_per_unit (signed), zero_at (the
        value scoring 0 points), max_points. Use :meth:`points` and :meth:`points_to_probability`.
        """
        if not self.coef:
            raise InvalidArgument("MyerKamModel.nomogram: no coefficients")
        rows = []
        for k in self.predictors:
            if k not in ranges:
                raise InvalidArgument(f"MyerKamModel.nomogram: no range for {k!r}")
            lo, hi = map(float, ranges[k])
            if not hi > lo:
                raise InvalidArgument(f"MyerKamModel.nomogram: range of {k!r} must have high > low")
            b = self.coef[k]
            rows.append({"predictor": k, "low": lo, "high": hi, "coef": b, "span": abs(b) * (hi - lo),
                         "zero_at": lo if b >= 0 else hi})
        t = pd.DataFrame(rows).set_index("predictor")
        scale = 100.0 / t["span"].max()
        t["points_per_unit"] = t["coef"] * scale
        t["max_points"] = t["span"] * scale
        t.attrs["scale"] = scale
        return t

    def points(self, df: pd.DataFrame, ranges: dict) -> np.ndarray:
        """Total nomogram points per row."""
        t = self.nomogram(ranges)
        x = self._x(df)
        return ((x - t["zero_at"].to_numpy()) * t["points_per_unit"].to_numpy()).sum(axis=1)

    def points_to_probability(self, total_points, ranges: dict) -> np.ndarray:
        """P(high KAM) at a total score (the nomogram's bottom axis)."""
        t = self.nomogram(ranges)
        base = self.intercept + float((t["coef"] * t["zero_at"]).sum())
        z = base + np.asarray(total_points, dtype=float) / t.attrs["scale"]
        return 1.0 / (1.0 + np.exp(-z))
