"""Clinical screening rules: hand-computed cases, the motion pillar's features, sklearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

risk = pytest.importorskip("sportsmed.risk")
import sportsmed  # noqa: E402

COEF = {"knee_valgus_motion_cm": 0.4, "knee_flexion_rom_deg": -0.02, "body_mass_kg": 0.04,
        "tibia_length_cm": 0.3, "quadriceps_hamstring_ratio": 0.5}
RANGES = {"knee_valgus_motion_cm": (0, 10), "knee_flexion_rom_deg": (20, 90), "body_mass_kg": (40, 90),
          "tibia_length_cm": (30, 45), "quadriceps_hamstring_ratio": (0.5, 3.5)}
ROW = pd.DataFrame([{"knee_valgus_motion_cm": 5, "knee_flexion_rom_deg": 50, "body_mass_kg": 60,
                     "tibia_length_cm": 40, "quadriceps_hamstring_ratio": 1.5}])


def test_bates_rule_hand_cases():
    np.testing.assert_array_equal(risk.bates_rule([3.0, 4.6, 7.2, np.nan]), [0.0, 1.0, 1.0, np.nan])
    assert risk.BATES_2020["threshold_deg"] == 4.6
    perf = risk.screening_performance([1, 1, 1, 0, 0, 0, 0, np.nan], [1, 1, 0, 1, 0, 0, 0, 1])
    assert perf["sensitivity"] == pytest.approx(2 / 3)
    assert perf["specificity"] == pytest.approx(3 / 4)
    assert perf["ppv"] == pytest.approx(2 / 3)
    assert perf["npv"] == pytest.approx(3 / 4)


def test_bates_rule_on_the_motion_pillars_drop_jump():
    motion = pytest.importorskip("sportsmed.motion")
    feats = motion.drop_jump_analysis()["features"]
    s = risk.screen_drop_jump(feats)
    values = dict(zip(feats["feature"], feats["value"]))
    assert list(s["side"]) == ["left", "right"]
    for _, row in s.iterrows():
        a = values[f"{row.side}_knee_abduction_ic_deg"]
        assert row.knee_abduction_ic_deg == a
        assert row.flag == (1.0 if a >= 4.6 else 0.0)
    # a lower threshold flags a knee the default does not
    low = risk.screen_drop_jump(feats, threshold_deg=min(s["knee_abduction_ic_deg"]) - 0.1)
    assert low["flag"].sum() == 2
    with pytest.raises(sportsmed.InvalidArgument):
        risk.screen_drop_jump(feats[feats["feature"] != "left_knee_abduction_ic_deg"])


def test_myer_predictors_from_the_motion_pillars_drop_jump():
    motion = pytest.importorskip("sportsmed.motion")
    feats = motion.drop_jump_analysis()["features"]
    values = dict(zip(feats["feature"], feats["value"]))
    x = risk.myer_predictors(feats, body_mass_kg=61.0, quadriceps_hamstring_ratio=1.4)
    assert list(x.index) == ["left", "right"] and list(x.columns) == list(risk.MYER_PREDICTORS)
    for side in ("left", "right"):
        assert x.loc[side, "knee_valgus_motion_cm"] == values[f"{side}_knee_valgus_motion_cm"]
        assert x.loc[side, "knee_flexion_rom_deg"] == values[f"{side}_knee_flexion_rom_deg"]
        assert x.loc[side, "tibia_length_cm"] == values[f"{side}_tibia_length_cm"]
        assert 30 < x.loc[side, "tibia_length_cm"] < 50  # an adult shank
    # the rows feed the model's structure: same logit as the hand formula
    m = risk.MyerKamModel(coef=dict(COEF), intercept=-15.0)
    logit = -15.0 + sum(COEF[k] * x.loc["left", k] for k in COEF)
    assert m.predict(x)[0] == pytest.approx(1 / (1 + np.exp(-logit)), rel=1e-12)
    with pytest.raises(sportsmed.InvalidArgument):
        risk.myer_predictors(feats[feats["feature"] != "right_tibia_length_cm"], body_mass_kg=61.0)
    with pytest.raises(sportsmed.InvalidArgument):
        risk.myer_predictors(feats, body_mass_kg=0.0)


def test_myer_nomogram_hand_computed():
    m = risk.MyerKamModel(coef=dict(COEF), intercept=-15.0)
    t = m.nomogram(RANGES)
    # tibia length spans the most log-odds (0.3 × 15 = 4.5): it gets 0–100 points
    assert t.loc["tibia_length_cm", "max_points"] == pytest.approx(100.0)
    assert t.attrs["scale"] == pytest.approx(100 / 4.5)
    assert t.loc["knee_flexion_rom_deg", "zero_at"] == 90  # a negative coefficient scores from the top
    pts = m.points(ROW, RANGES)[0]
    assert pts == pytest.approx((2.0 + 0.8 + 0.8 + 3.0 + 0.5) * 100 / 4.5)
    # logit = −15 + 0.4·5 − 0.02·50 + 0.04·60 + 0.3·40 + 0.5·1.5 = 1.15
    p = 1 / (1 + np.exp(-1.15))
    assert m.predict(ROW)[0] == pytest.approx(p, rel=1e-12)
    assert m.points_to_probability(pts, RANGES) == pytest.approx(p, rel=1e-12)
    assert m.odds_ratios()["knee_valgus_motion_cm"] == pytest.approx(np.exp(0.4))


def test_myer_structure_fit_equals_unpenalised_sklearn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n = 800
    df = pd.DataFrame({"knee_valgus_motion_cm": rng.uniform(0, 10, n), "knee_flexion_rom_deg": rng.uniform(40, 90, n),
                       "body_mass_kg": rng.normal(60, 8, n), "tibia_length_cm": rng.normal(38, 2.5, n),
                       "quadriceps_hamstring_ratio": rng.uniform(1, 2.5, n)})
    z = -13.2 + df.to_numpy() @ np.log([1.43, 0.98, 1.04, 1.38, 1.5])
    df["high_kam"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    m = risk.MyerKamModel().fit(df)
    x = df[list(risk.MYER_PREDICTORS)].to_numpy()
    ref = LogisticRegression(penalty=None, tol=1e-10, max_iter=100_000).fit(x, df["high_kam"])
    np.testing.assert_allclose(list(m.coef.values()), ref.coef_[0], rtol=1e-4, atol=1e-5)
    assert m.intercept == pytest.approx(ref.intercept_[0], rel=1e-4)
    with pytest.raises(sportsmed.InvalidArgument):
        risk.MyerKamModel().fit(df.drop(columns=["tibia_length_cm"]))
