#include <cmath>
#include <map>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/events.hpp"
#include "sportsmed/motion/joint_angles.hpp"
#include "sportsmed/motion/synthetic.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("events: hysteresis keeps one contact through noise at the threshold", "[motion][events]") {
    VecXd fz = VecXd::Zero(100);
    for (int i = 20; i < 60; ++i) fz[i] = 300.0;
    // Noise that crosses the on-threshold (20 N) but not the off-threshold (10 N).
    fz[40] = 15.0;
    fz[41] = 25.0;
    fz[70] = 25.0;  // a one-sample spike, dropped by min_samples
    const auto c = detect_contacts(fz, 20.0, 10.0, 3);
    REQUIRE(c.size() == 1);
    CHECK(c[0].on == 20);
    CHECK(c[0].off == 60);
    // Without hysteresis the dip at sample 40 splits the contact.
    CHECK(detect_contacts(fz, 20.0, 20.0, 3).size() == 2);
    CHECK_THROWS_AS(detect_contacts(fz, 10.0, 20.0), InvalidArgument);
}

TEST_CASE("joint angles: plugin_gait_rotations inverts plugin_gait_angles", "[motion][angles]") {
    RowMatXd a(3, 3);
    a << 30, -5, 10, -10, 8, -20, 60, 2, 3;
    for (Side side : {Side::Left, Side::Right})
        for (const char* joint : {"hip", "knee", "ankle"}) {
            const RowMatXd r = plugin_gait_rotations(a, side, joint);
            const RowMatXd eye = RowMatXd::Identity(3, 3).reshaped<Eigen::RowMajor>(1, 9).replicate(3, 1);
            CHECK((plugin_gait_angles(eye, r, side, joint) - a).cwiseAbs().maxCoeff() < 1e-10);
        }
}

TEST_CASE("synthetic drop jump: prescribed angles recovered within 1 degree from noisy markers", "[motion][synthetic]") {
    const SyntheticDropJump s = synthesize_drop_jump();
    REQUIRE(s.trial.n_frames() == 400);
    CHECK(s.trial.points.array().isNaN().any());  // dropouts are there
    for (const char* side : {"L", "R"}) {
        INFO(side);
        const RowMatXd ours = model_angles(s.trial, s.model, side);
        const RowMatXd& truth = side[0] == 'L' ? s.true_angles_left : s.true_angles_right;
        for (int k = 0; k < 9; ++k) {
            const double rmse = std::sqrt((ours.col(k) - truth.col(k)).squaredNorm() / double(ours.rows()));
            INFO("component " << k << " rmse " << rmse);
            CHECK(rmse <= 1.0);
        }
    }
    // Deterministic for a seed, different for another.
    CHECK(synthesize_drop_jump().trial.analogs == s.trial.analogs);
    DropJumpSpec other;
    other.seed = 2;
    CHECK((synthesize_drop_jump(other).trial.analogs - s.trial.analogs).cwiseAbs().maxCoeff() > 0);
}

TEST_CASE("synthetic drop jump: features match the prescribed truth", "[motion][synthetic]") {
    const SyntheticDropJump s = synthesize_drop_jump();
    const Trial& t = s.trial;
    const RowMatXd l = model_angles(t, s.model, "L"), r = model_angles(t, s.model, "R");
    const auto feats = drop_jump_features(l, r, t.point_rate_hz, t.analogs.col(0), t.analogs.col(1), t.analog_rate_hz,
                                          s.body_mass_kg);
    std::map<std::string, double> f;
    for (const auto& x : feats) f[x.name] = x.value;
    const double dt = 1.0 / t.point_rate_hz;
    CHECK(std::abs(f["initial_contact_s"] - s.initial_contact_s) <= dt);
    CHECK(std::abs(f["take_off_s"] - s.take_off_s) <= dt);
    const double flight = s.second_contact_s - s.take_off_s;
    CHECK(f["jump_height_m"] == Approx(9.81 * flight * flight / 8).margin(0.01));
    const auto ic = static_cast<Eigen::Index>(std::lround(f["initial_contact_s"] * t.point_rate_hz));
    const auto to = static_cast<Eigen::Index>(std::lround(f["take_off_s"] * t.point_rate_hz));
    for (int side = 0; side < 2; ++side) {
        const RowMatXd& truth = side == 0 ? s.true_angles_left : s.true_angles_right;
        const std::string p = side == 0 ? "left_" : "right_";
        CHECK(f[p + "knee_abduction_ic_deg"] == Approx(-truth(ic, 4)).margin(1.0));
        CHECK(f[p + "peak_knee_abduction_deg"] == Approx((-truth.col(4).segment(ic, to - ic)).maxCoeff()).margin(1.0));
        const double rom = truth.col(3).segment(ic, to - ic).maxCoeff() - truth(ic, 3);
        CHECK(f[p + "knee_flexion_rom_deg"] == Approx(rom).margin(1.0));
    }
    // The left knee was prescribed 8 degrees of peak valgus, the right 70 % of it.
    CHECK(f["left_peak_knee_abduction_deg"] == Approx(8.0).margin(1.0));
    CHECK(f["right_peak_knee_abduction_deg"] == Approx(0.95 * 5.6).margin(1.0));
}
