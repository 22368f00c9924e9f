#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/imaging/phantom.hpp"
#include "sportsmed/imaging/thickness.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;

TEST_CASE("phantom: analytic tissues at known points", "[imaging][phantom]") {
    // Condyle axis at y = 0, z = 8, radius 18: the inferior cartilage at x = 0 spans
    // z in [8 - 18 - t, 8 - 18) with t = 2.2 + 0.5 = 2.7 mm.
    CHECK(phantom_label_at({0, 0, 8}) == 5);
    CHECK(phantom_label_at({0, 0, -10.5}) == 1);
    CHECK(phantom_label_at({0, 0, -12.6}) == 1);
    CHECK(phantom_label_at({0, 0, -12.8}) == 0);
    CHECK(phantom_cartilage_thickness(1, {0, 0, -12.0}) == Approx(2.7));
    CHECK(phantom_label_at({-15, 0, -20}) == 6);
    CHECK(phantom_label_at({-15, 0, -16}) == 2);  // medial tibial cartilage, t = 2.0 at its centre
    CHECK(phantom_label_at({15, 0, -16}) == 3);
    CHECK(phantom_cartilage_thickness(2, {-15, 0, -15}) == Approx(2.0));
    CHECK(std::isnan(phantom_cartilage_thickness(2, {15, 0, -15})));
}

TEST_CASE("phantom: nearest-surface thickness within half a voxel on average", "[imaging][phantom]") {
    KneePhantomOptions o;
    o.spacing_mm = {0.8, 0.8, 0.8};
    o.extent_mm = {70, 70, 80};
    o.snr = 0;
    const KneePhantom ph = make_knee_phantom(o);
    const ThicknessMap t = cartilage_thickness(ph.labels, 1, 5);
    double sum = 0;
    int n = 0;
    for (Eigen::Index p = 0; p < t.thickness_mm.size(); ++p) {
        const double truth = phantom_cartilage_thickness(1, t.points_mm.row(p).transpose());
        if (std::isnan(truth)) continue;
        sum += std::abs(t.thickness_mm[p] - truth);
        ++n;
    }
    REQUIRE(n > 500);
    CHECK(sum / n <= 0.4);
    CHECK_THROWS_AS(cartilage_thickness(ph.labels, 1, 42), InvalidArgument);
}
