"""The screening report's traffic lights against the published thresholds, at their edges:
Bates 2020 (≥ 4.6° knee abduction at initial contact), Myer 2011 (> 25.25 N·m), Padua 2009
(< 45° knee flexion excursion), Grindem 2016 (LSI ≥ 90 %), Gabbett 2016 (ACWR 0.8–1.3,
≥ 1.5). A missing, non-finite or implausible value is grey, never green."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sportsmed.screen import criteria as C


def status(criterion, value):
    return criterion.grade(value).status


def test_bates_2020_knee_abduction_at_initial_contact():
    c = C.knee_abduction_ic("left")
    assert status(c, 4.6) == C.RED  # "at least 4.6°"
    assert status(c, np.nextafter(4.6, 0)) == C.GREEN
    assert status(c, -5.0) == C.GREEN  # varus is not the risk the rule flags
    assert "Bates" in c.source and "4.6" in c.threshold
    # the same rule as the library's published-rule function, on a grid across the edge
    from sportsmed import available_pillars

    if "risk" in available_pillars():
        from sportsmed import risk

        grid = np.round(np.linspace(-10, 20, 301), 3)
        ours = np.array([status(c, v) == C.RED for v in grid], dtype=float)
        assert np.array_equal(ours, risk.bates_rule(grid))
        assert risk.BATES_2020["threshold_deg"] == 4.6


def test_myer_2011_knee_abduction_moment_is_strictly_above():
    c = C.peak_knee_abduction_moment("right")
    assert status(c, 25.25) == C.GREEN  # published as "> 25.25 N·m"
    assert status(c, np.nextafter(25.25, 100)) == C.RED
    assert status(c, 301.0) == C.GREY


def test_padua_2009_stiff_landing():
    c = C.knee_flexion_excursion("left")
    assert status(c, 45.0) == C.GREEN
    assert status(c, np.nextafter(45.0, 0)) == C.AMBER
    assert status(c, 4.0) == C.GREY  # a drop landing bends the knee by tens of degrees


def test_grindem_2016_limb_symmetry():
    c = C.landing_force_symmetry()
    assert C.limb_symmetry_index(1.8, 2.0) == pytest.approx(90.0)
    assert C.limb_symmetry_index(2.0, 1.8) == pytest.approx(90.0)
    assert math.isnan(C.limb_symmetry_index(0.0, 1.8))
    assert status(c, 90.0) == C.GREEN
    assert status(c, np.nextafter(90.0, 0)) == C.AMBER
    assert status(c, 80.0) == C.AMBER
    assert status(c, np.nextafter(80.0, 0)) == C.RED
    assert status(c, 10.0) == C.GREY


def test_gabbett_2016_acwr_bands():
    c = C.acwr()
    expect = {0.7999: C.AMBER, 0.8: C.GREEN, 1.2999: C.GREEN, 1.3: C.AMBER, 1.4999: C.AMBER, 1.5: C.RED,
              3.0: C.RED, 0.0: C.AMBER, 10.5: C.GREY}
    assert {v: status(c, v) for v in expect} == expect


def test_cartilage_region_convention():
    c = C.cartilage_region_ratio("femoral medial central")
    assert status(c, 75.0) == C.GREEN and status(c, 74.99) == C.AMBER
    assert status(c, 50.0) == C.AMBER and status(c, 49.99) == C.RED
    assert status(c, 4.0) == C.GREY
    assert "no published cut-off" in c.threshold  # a convention says it is one


@pytest.mark.parametrize("make", [lambda: C.knee_abduction_ic("left"), lambda: C.peak_knee_abduction_moment("left"),
                                  lambda: C.knee_flexion_excursion("right"), C.landing_force_symmetry, C.acwr,
                                  C.cartilage_region_ratio])
def test_never_green_without_a_trusted_value(make):
    c = make()
    for value in (None, math.nan, math.inf, -math.inf):
        f = c.grade(value, "no trial")
        assert f.status == C.GREY and f.reason and f.value_text == "–"
    lo, hi = c.plausible
    for value in (lo - 1e-9 * max(1.0, abs(lo)) - 1e-12, hi + 1e-9 * max(1.0, abs(hi)) + 1e-12, hi * 10 + 100):
        f = c.grade(value)
        assert f.status == C.GREY and "implausible" in f.value_text and "outside the plausible" in f.reason
    # inside the plausible range every value gets a band (the bands cover the range)
    for value in np.linspace(lo, hi, 101):
        assert c.grade(float(value)).status in (C.GREEN, C.AMBER, C.RED)


def test_overall_is_the_worst_assessed_status():
    g = C.acwr().grade(1.0)
    a = C.acwr().grade(1.4)
    r = C.acwr().grade(2.0)
    n = C.acwr().grade(None, "no log")
    assert C.overall([]) == C.GREY and C.overall([n]) == C.GREY
    assert C.overall([g, n]) == C.GREEN
    assert C.overall([g, a, n]) == C.AMBER
    assert C.overall([a, r, g]) == C.RED


def test_quantile_reliability_matches_scikit_learn():
    calibration = pytest.importorskip("sklearn.calibration")
    from sportsmed.screen._plots import quantile_reliability

    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 12.0, 5000)
    y = (rng.random(5000) < p * 1.3).astype(float)
    r = quantile_reliability(y, p, bins=10)
    frac, mean = calibration.calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(r["fraction_positive"], frac, rtol=1e-12)
    np.testing.assert_allclose(r["mean_predicted"], mean, rtol=1e-12)
    assert r["count"].sum() == 5000 and r["count"].min() >= 499  # equal-count bins
    ece = np.sum(r["count"] * np.abs(frac - mean)) / 5000
    assert r["ece"] == pytest.approx(ece, rel=1e-12)


def test_drop_jump_flags_from_features():
    pytest.importorskip("sportsmed.motion")
    from sportsmed.screen._build import drop_jump_flags

    ok = {"left_knee_abduction_ic_deg": 4.6, "right_knee_abduction_ic_deg": 2.0, "left_knee_flexion_rom_deg": 44.0,
          "right_knee_flexion_rom_deg": 60.0, "left_peak_vgrf_bw": 1.8, "right_peak_vgrf_bw": 2.0}
    got = {f.key: f.status for f in drop_jump_flags(ok)}
    assert got == {"knee_abduction_ic_left": C.RED, "knee_abduction_ic_right": C.GREEN,
                   "peak_knee_abduction_moment_left": C.GREY, "peak_knee_abduction_moment_right": C.GREY,
                   "knee_flexion_excursion_left": C.AMBER, "knee_flexion_excursion_right": C.GREEN,
                   "landing_force_lsi": C.GREEN}  # 1.8 / 2.0 = 90 %
    # a symmetry of an implausible force is not graded, however symmetric it looks
    bad = dict(ok, left_peak_vgrf_bw=0.1, right_peak_vgrf_bw=0.1)
    lsi = [f for f in drop_jump_flags(bad) if f.key == "landing_force_lsi"][0]
    assert lsi.status == C.GREY and "implausible" in lsi.reason and "left 0.1 BW" in lsi.reason
    # absent angles: grey with the reason given
    flags = drop_jump_flags({"left_peak_vgrf_bw": 1.8, "right_peak_vgrf_bw": 2.0}, "no angle points in x.c3d")
    assert [f.status for f in flags][:2] == [C.GREY, C.GREY] and flags[0].reason == "no angle points in x.c3d"


def test_drop_jump_flags_need_a_drop_landing():
    pytest.importorskip("sportsmed.motion")
    from sportsmed.screen._build import drop_jump_flags

    ok = {"left_knee_abduction_ic_deg": 2.0, "right_knee_abduction_ic_deg": 2.0, "left_knee_flexion_rom_deg": 60.0,
          "right_knee_flexion_rom_deg": 60.0, "left_peak_vgrf_bw": 2.0, "right_peak_vgrf_bw": 2.0,
          "initial_contact_s": 0.5, "contact_time_s": 0.4, "flight_time_s": 0.45}
    assert [f.status for f in drop_jump_flags(ok)].count(C.GREEN) == 5
    no_flight = dict(ok)
    del no_flight["flight_time_s"]
    for bad, words in ((dict(ok, contact_time_s=1.01), "not a drop landing"),
                       (no_flight, "no flight follows the contact"),
                       (dict(ok, contact_time_s=0.099), "not a drop landing"),
                       (dict(ok, initial_contact_s=0.0), "starts in ground contact")):
        flags = drop_jump_flags(bad)
        assert all(f.status == C.GREY and words in f.reason for f in flags)
    assert [f.status for f in drop_jump_flags(dict(ok, contact_time_s=1.0))].count(C.GREEN) == 5  # edge inclusive
    # the knee abduction moment in N·m against Myer 2011's 25.25 N·m, and its reason when absent
    kam = dict(ok, left_peak_knee_abduction_moment_nm=25.3, right_peak_knee_abduction_moment_nm=25.25)
    got = {f.key: f.status for f in drop_jump_flags(kam)}
    assert got["peak_knee_abduction_moment_left"] == C.RED and got["peak_knee_abduction_moment_right"] == C.GREEN
    f = [f for f in drop_jump_flags(ok, kinetic_reason="x.c3d: no plates") if f.key.startswith("peak_knee")]
    assert all(x.status == C.GREY and x.reason == "x.c3d: no plates" for x in f)
