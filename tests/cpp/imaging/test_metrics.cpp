#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/imaging/metrics.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;

TEST_CASE("metrics: two boxes offset along i have analytic overlap and distances", "[imaging][metrics]") {
    Geometry g;
    g.shape = {20, 12, 12};
    g.spacing_mm = {0.5, 1.0, 2.0};
    Volume<std::uint8_t> a(g), b(g);
    for (int k = 2; k < 8; ++k)
        for (int j = 2; j < 8; ++j)
            for (int i = 2; i < 10; ++i) {
                a(i, j, k) = 1;
                b(i + 2, j, k) = 1;  // shifted by 2 voxels = 1 mm along i
            }
    const auto m = segmentation_metrics(a, b, {1}, 0.5)[0];
    CHECK(m.dice == Approx(2.0 * 6 * 6 * 6 / (2.0 * 8 * 6 * 6)));
    CHECK(m.jaccard == Approx(6.0 / 10.0));
    CHECK(m.volume_difference_mm3 == 0.0);
    CHECK(m.hausdorff_mm == Approx(1.0));
    // Marching-cubes area of an 8×6×6 voxel box: the box spanned by the voxel centres
    // (edges L = (n − 1)·h) plus 45° chamfer strips of width |(h_a, h_b)|/2 along its 12
    // edges and a corner triangle of area |(h_j h_k, h_i h_k, h_i h_j)|/8 at each of 8 corners.
    const double h[3] = {0.5, 1.0, 2.0};
    const double L[3] = {7 * h[0], 5 * h[1], 5 * h[2]};
    const double faces = 2 * (L[0] * L[1] + L[1] * L[2] + L[0] * L[2]);
    const double strips = 4 * (L[2] * std::hypot(h[0], h[1]) + L[1] * std::hypot(h[0], h[2]) +
                               L[0] * std::hypot(h[1], h[2])) / 2;
    const double corners = 8 * std::sqrt(std::pow(h[1] * h[2], 2) + std::pow(h[0] * h[2], 2) +
                                         std::pow(h[0] * h[1], 2)) / 8;
    CHECK(m.surface_area_gt_mm2 == Approx(faces + strips + corners).epsilon(1e-12));
    // Only the two end caps (i faces) move: side walls coincide on 6 of 8 voxel rows.
    CHECK(m.surface_dice > 0.5);
    CHECK(m.surface_dice < 1.0);
    const auto empty = segmentation_metrics(a, Volume<std::uint8_t>(g), {1})[0];
    CHECK(empty.dice == 0.0);
    CHECK(std::isinf(empty.hausdorff_mm));
    Geometry other = g;
    other.shape = {20, 12, 13};
    CHECK_THROWS_AS(segmentation_metrics(a, Volume<std::uint8_t>(other)), InvalidArgument);
}
