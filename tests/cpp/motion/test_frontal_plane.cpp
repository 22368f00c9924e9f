#include <cmath>
#include <map>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/frontal_plane.hpp"
#include "sportsmed/motion/synthetic.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

constexpr double kDeg = M_PI / 180.0;

// A standing leg with a vertical femur, the tibia turned by knee flexion (about the lab y
// axis) then valgus (about the femur's anterior axis, so that the ankle moves laterally).
// Lab axes: x anterior, y left, z up. Returns hip, knee, ankle as 1 × 3 rows.
struct Leg {
    RowMatX3d hip, knee, ankle;
};

Leg leg(double hip_y, double flexion_deg, double valgus_deg, bool left, double thigh = 400, double shank = 380) {
    // Lateral is +y for the left leg and -y for the right: valgus moves the ankle that way.
    const double b = (left ? 1.0 : -1.0) * valgus_deg * kDeg;
    const Eigen::Matrix3d r = (Eigen::AngleAxisd(flexion_deg * kDeg, Eigen::Vector3d::UnitY()) *
                               Eigen::AngleAxisd(b, Eigen::Vector3d::UnitX()))
                                  .toRotationMatrix();
    Leg l{RowMatX3d(1, 3), RowMatX3d(1, 3), RowMatX3d(1, 3)};
    l.hip << 0, hip_y, 900;
    l.knee = l.hip + Eigen::RowVector3d(0, 0, -thigh);
    l.ankle = l.knee + (r * Eigen::Vector3d(0, 0, -shank)).transpose();
    return l;
}

}  // namespace

TEST_CASE("frontal plane: FPPA of a flexed valgus knee is atan(tan(valgus)/cos(flexion))", "[motion][frontal]") {
    // The shank direction Ry(a)·Rx(b)·(0, 0, -1) = (-sin a cos b, sin b, -cos a cos b) has a
    // lateral part sin b and a vertical part cos a cos b: seen from the front, atan(tan b / cos a).
    const Eigen::Vector3d anterior(1, 0, 0);
    for (double flex : {0.0, 30.0, 60.0})
        for (double valgus : {-6.0, 0.0, 4.0, 10.0})
            for (bool left : {true, false}) {
                INFO("flexion " << flex << " valgus " << valgus << " left " << left);
                const Leg l = leg(left ? 90 : -90, flex, valgus, left);
                const double expected = std::atan(std::tan(valgus * kDeg) / std::cos(flex * kDeg)) / kDeg;
                const VecXd fppa =
                    frontal_plane_projection_angle(l.hip, l.knee, l.ankle, anterior, left ? Side::Left : Side::Right);
                CHECK(fppa[0] == Approx(expected).margin(1e-9));
            }
    // The camera axis only counts horizontally, and a rotated lab gives the same angle.
    const Leg l = leg(90, 40, 8, true);
    const double expected = std::atan(std::tan(8 * kDeg) / std::cos(40 * kDeg)) / kDeg;
    CHECK(frontal_plane_projection_angle(l.hip, l.knee, l.ankle, Eigen::Vector3d(2, 0, 5), Side::Left)[0] ==
          Approx(expected).margin(1e-9));
    const Eigen::Matrix3d yaw = Eigen::AngleAxisd(0.7, Eigen::Vector3d::UnitZ()).toRotationMatrix();
    const RowMatX3d h = l.hip * yaw.transpose(), k = l.knee * yaw.transpose(), a = l.ankle * yaw.transpose();
    CHECK(frontal_plane_projection_angle(h, k, a, yaw * anterior, Side::Left)[0] == Approx(expected).margin(1e-9));
    // The view axis from the hips: left hip at +y means the athlete faces +x.
    const Leg r = leg(-90, 40, 8, false);
    CHECK((frontal_view_anterior(l.hip, r.hip) - anterior).norm() < 1e-12);
    CHECK_THROWS_AS(frontal_plane_projection_angle(l.hip, l.knee, l.ankle, Eigen::Vector3d(0, 0, 1), Side::Left),
                    InvalidArgument);
    RowMatX3d nan_knee = l.knee;
    nan_knee(0, 1) = NAN;
    CHECK(std::isnan(frontal_plane_projection_angle(l.hip, nan_knee, l.ankle, anterior, Side::Left)[0]));
}

TEST_CASE("frontal plane: knee-to-ankle separation ratio of symmetric valgus legs", "[motion][frontal]") {
    // Vertical femurs at y = ±h: the knees are 2h apart, the ankles 2h + 2·shank·sin(valgus)
    // whatever the flexion.
    const double h = 90, shank = 380;
    for (double flex : {0.0, 50.0})
        for (double valgus : {0.0, 5.0, 12.0}) {
            const Leg l = leg(h, flex, valgus, true, 400, shank), r = leg(-h, flex, valgus, false, 400, shank);
            const double expected = 2 * h / (2 * h + 2 * shank * std::sin(valgus * kDeg));
            CHECK(knee_ankle_separation_ratio(l.knee, r.knee, l.ankle, r.ankle, Eigen::Vector3d(1, 0, 0))[0] ==
                  Approx(expected).epsilon(1e-12));
        }
}

TEST_CASE("frontal plane: drop-jump FPPA and KASR from noisy markers match the synthetic truth", "[motion][frontal]") {
    DropJumpSpec spec;
    spec.knee_valgus_peak_deg = 12.0;
    const SyntheticDropJump s = synthesize_drop_jump(spec);
    const Trial& t = s.trial;
    // The model's joint centres follow the true ones within a few mm despite noise and gaps.
    for (const char* side : {"L", "R"}) {
        const RowMatXd c = model_joint_centres(t, s.model, side);
        const RowMatXd& truth = side[0] == 'L' ? s.true_joint_centres_left : s.true_joint_centres_right;
        const double rmse = std::sqrt((c - truth).squaredNorm() / double(c.size()));
        INFO(side << " joint centre rmse " << rmse << " mm");
        CHECK(rmse < 2.0);
    }
    const RowMatXd al = model_angles(t, s.model, "L"), ar = model_angles(t, s.model, "R");
    const RowMatXd cl = model_joint_centres(t, s.model, "L"), cr = model_joint_centres(t, s.model, "R");
    std::map<std::string, double> ours, truth;
    for (const auto& f : drop_jump_features(al, ar, t.point_rate_hz, t.analogs.col(0), t.analogs.col(1),
                                            t.analog_rate_hz, s.body_mass_kg, cl, cr))
        ours[f.name] = f.value;
    for (const auto& f : drop_jump_features(s.true_angles_left, s.true_angles_right, t.point_rate_hz, t.analogs.col(0),
                                            t.analogs.col(1), t.analog_rate_hz, s.body_mass_kg,
                                            s.true_joint_centres_left, s.true_joint_centres_right))
        truth[f.name] = f.value;
    for (const char* name : {"left_fppa_ic_deg", "left_peak_fppa_deg", "right_fppa_ic_deg", "right_peak_fppa_deg"}) {
        INFO(name << " ours " << ours[name] << " truth " << truth[name]);
        CHECK(ours[name] == Approx(truth[name]).margin(1.0));
    }
    for (const char* name : {"knee_ankle_separation_ratio_ic", "knee_ankle_separation_ratio_peak_flexion"}) {
        INFO(name << " ours " << ours[name] << " truth " << truth[name]);
        CHECK(ours[name] == Approx(truth[name]).margin(0.02));
    }
    // More prescribed valgus: a larger peak FPPA and knees closer together than the ankles.
    spec.knee_valgus_peak_deg = 0.0;
    const SyntheticDropJump s0 = synthesize_drop_jump(spec);
    std::map<std::string, double> straight;
    for (const auto& f : drop_jump_features(s0.true_angles_left, s0.true_angles_right, t.point_rate_hz,
                                            s0.trial.analogs.col(0), s0.trial.analogs.col(1), t.analog_rate_hz,
                                            s0.body_mass_kg, s0.true_joint_centres_left, s0.true_joint_centres_right))
        straight[f.name] = f.value;
    CHECK(truth["left_peak_fppa_deg"] > straight["left_peak_fppa_deg"] + 5.0);
    CHECK(truth["knee_ankle_separation_ratio_peak_flexion"] < straight["knee_ankle_separation_ratio_peak_flexion"]);
    // Wrong shapes are refused.
    CHECK_THROWS_AS(drop_jump_features(al, ar, t.point_rate_hz, t.analogs.col(0), t.analogs.col(1), t.analog_rate_hz,
                                       s.body_mass_kg, cl.leftCols(6), cr),
                    InvalidArgument);
}
