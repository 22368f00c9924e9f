"""Frontal-plane projection angle and knee-to-ankle separation ratio of the synthetic drop jump,
against a numpy projection of the generator's true joint centres."""

from __future__ import annotations

import numpy as np
import pytest

from sportsmed import motion


def _numpy_fppa_kasr(cl, cr):
    """Independent reference: project onto the frontal plane of a camera facing the athlete."""
    left = (cl[:, 0:3] - cr[:, 0:3]).mean(axis=0)
    left[2] = 0.0
    left /= np.linalg.norm(left)
    up = np.array([0.0, 0.0, 1.0])

    def fppa(c, lateral):
        hip, knee, ankle = (np.c_[c[:, k:k + 3] @ lateral, c[:, k:k + 3] @ up] for k in (0, 3, 6))
        thigh, shank = knee - hip, ankle - knee
        # 180 degrees minus the knee angle in the image, positive when the knee is medial
        # of the hip-ankle line.
        cos = np.sum(-thigh * shank, axis=1) / np.linalg.norm(thigh, axis=1) / np.linalg.norm(shank, axis=1)
        inner = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        line_at_knee = hip[:, 0] + (ankle[:, 0] - hip[:, 0]) * (knee[:, 1] - hip[:, 1]) / (ankle[:, 1] - hip[:, 1])
        medial = knee[:, 0] < line_at_knee
        return np.where(medial, 1.0, -1.0) * (180.0 - inner)

    kasr = ((cl[:, 3:6] - cr[:, 3:6]) @ left) / ((cl[:, 6:9] - cr[:, 6:9]) @ left)
    return fppa(cl, left), fppa(cr, -left), kasr


@pytest.mark.parametrize("valgus", [0.0, 12.0])
def test_fppa_and_kasr_against_numpy_projection_of_the_truth(valgus):
    s = motion.synthesize_drop_jump(seed=5, knee_valgus_peak_deg=valgus)
    cl, cr = s.true_joint_centres_left, s.true_joint_centres_right
    ref_l, ref_r, ref_kasr = _numpy_fppa_kasr(cl, cr)
    anterior = motion.frontal_view_anterior(cl[:, 0:3], cr[:, 0:3])
    np.testing.assert_allclose(motion.frontal_plane_projection_angle(cl[:, 0:3], cl[:, 3:6], cl[:, 6:9], anterior, "L"),
                               ref_l, atol=1e-5)
    np.testing.assert_allclose(motion.frontal_plane_projection_angle(cr[:, 0:3], cr[:, 3:6], cr[:, 6:9], anterior, "R"),
                               ref_r, atol=1e-5)
    np.testing.assert_allclose(motion.knee_ankle_separation_ratio(cl[:, 3:6], cr[:, 3:6], cl[:, 6:9], cr[:, 6:9],
                                                                  anterior), ref_kasr, rtol=1e-9)


def test_drop_jump_frontal_features_from_noisy_markers():
    res = motion.drop_jump_analysis(motion.synthesize_drop_jump(seed=2, knee_valgus_peak_deg=12.0))
    s = res["synthetic"]
    f = res["features"].set_index("feature")
    ref_l, ref_r, ref_kasr = _numpy_fppa_kasr(s.true_joint_centres_left, s.true_joint_centres_right)
    ic = int(round(f.loc["initial_contact_s", "value"] * 200))
    to = int(round(f.loc["take_off_s", "value"] * 200))
    assert f.loc["left_fppa_ic_deg", "value"] == pytest.approx(ref_l[ic], abs=1.0)
    assert f.loc["left_peak_fppa_deg", "value"] == pytest.approx(ref_l[ic:to].max(), abs=1.0)
    assert f.loc["right_peak_fppa_deg", "value"] == pytest.approx(ref_r[ic:to].max(), abs=1.0)
    flex = s.true_angles_left[ic:to, 3] + s.true_angles_right[ic:to, 3]
    assert f.loc["knee_ankle_separation_ratio_ic", "value"] == pytest.approx(ref_kasr[ic], abs=0.02)
    assert f.loc["knee_ankle_separation_ratio_peak_flexion", "value"] == pytest.approx(
        ref_kasr[ic + int(np.argmax(flex))], abs=0.02)
    assert f.loc["knee_ankle_separation_ratio_ic", "unit"] == "ratio"
    assert f.loc["left_peak_fppa_deg", "unit"] == "deg"


def _numpy_kvm_tibia(c, lateral, ic, to):
    """Medial knee displacement from initial contact (cm) and median shank length (cm)."""
    medial = -(c[:, 3:6] @ lateral)
    kvm = max(0.0, np.nanmax(medial[ic:to] - medial[ic])) / 10.0
    tibia = np.median(np.linalg.norm(c[:, 3:6] - c[:, 6:9], axis=1)) / 10.0
    return kvm, tibia


@pytest.mark.parametrize("valgus", [0.0, 12.0])
def test_knee_valgus_motion_and_tibia_length(valgus):
    res = motion.drop_jump_analysis(motion.synthesize_drop_jump(seed=3, knee_valgus_peak_deg=valgus))
    s = res["synthetic"]
    f = res["features"].set_index("feature")
    ic = int(round(f.loc["initial_contact_s", "value"] * 200))
    to = int(round(f.loc["take_off_s", "value"] * 200))
    cl, cr = s.true_joint_centres_left, s.true_joint_centres_right
    left = (cl[ic:to, 0:3] - cr[ic:to, 0:3]).mean(axis=0)
    left[2] = 0.0
    left /= np.linalg.norm(left)
    for side, c, lateral in (("left", cl, left), ("right", cr, -left)):
        kvm, tibia = _numpy_kvm_tibia(c, lateral, ic, to)
        # from noisy markers through the model vs the generator's true centres
        assert f.loc[f"{side}_knee_valgus_motion_cm", "value"] == pytest.approx(kvm, abs=0.3)
        assert f.loc[f"{side}_tibia_length_cm", "value"] == pytest.approx(tibia, abs=0.2)
        assert f.loc[f"{side}_knee_valgus_motion_cm", "unit"] == "cm"
    # the generator rotates the shank about the knee, so its knees barely travel; move both
    # knee centres medially by a known 25 mm ramp over the first contact: the feature equals
    # the numpy reference exactly and reports the added displacement
    ramp = np.zeros(len(cl))
    ramp[ic:to] = np.linspace(0.0, 25.0, to - ic)
    cl2, cr2 = cl.copy(), cr.copy()
    cl2[:, 3:6] -= ramp[:, None] * left
    cr2[:, 3:6] += ramp[:, None] * left
    truth = motion.drop_jump_features(s.true_angles_left, s.true_angles_right, 200.0, s.trial.analogs[:, 0],
                                      s.trial.analogs[:, 1], s.trial.analog_rate_hz, s.body_mass_kg, cl2, cr2)
    truth = {name: value for name, value, _ in truth}
    for side, c, lateral in (("left", cl2, left), ("right", cr2, -left)):
        kvm, tibia = _numpy_kvm_tibia(c, lateral, ic, to)
        assert truth[f"{side}_knee_valgus_motion_cm"] == pytest.approx(kvm, abs=1e-9)
        assert truth[f"{side}_tibia_length_cm"] == pytest.approx(tibia, abs=1e-9)
        assert kvm == pytest.approx(2.5, abs=0.1)
