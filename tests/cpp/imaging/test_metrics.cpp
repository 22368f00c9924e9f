#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

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

TEST_CASE("metrics: area-weighted percentile by pair counts equals the full sort, bit for bit", "[imaging][metrics]") {
    std::mt19937 rng(11);
    // Few distinct values (the counting path) with ties and zero areas, many distinct values
    // (the fallback), and sizes down to one element.
    for (int trial = 0; trial < 400; ++trial) {
        const std::size_t n = trial < 20 ? static_cast<std::size_t>(trial + 1) : 1 + rng() % 5000;
        const bool few = trial % 2 == 0;
        std::vector<double> d(n), a(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (few) {
                const int dx = static_cast<int>(rng() % 4), dy = static_cast<int>(rng() % 3);
                d[i] = std::sqrt(0.13 * dx * dx + 0.49 * dy * dy);
                a[i] = std::array<double, 5>{0.0, 0.1, 0.3, 0.1 + 0.2, 1.0 / 3}[rng() % 5];
            } else {
                d[i] = std::uniform_real_distribution<double>(0, 10)(rng);
                a[i] = std::uniform_real_distribution<double>(0, 1)(rng) * (rng() % 7 != 0);
            }
        }
        for (double fraction : {0.0, 0.5, 0.95, 1.0}) {
            const double fast = imaging::detail::area_weighted_percentile(d, a, fraction);
            const double ref = imaging::detail::area_weighted_percentile_sorted(d, a, fraction);
            REQUIRE(std::memcmp(&fast, &ref, sizeof(double)) == 0);
        }
    }
    // Hand-checked: distances 1, 2, 3 with areas 1, 1, 2 reach 95 % of the area at 3 and
    // half of it at 2; all-zero areas never reach a fraction (0/0) and give the largest.
    CHECK(imaging::detail::area_weighted_percentile({3.0, 1.0, 2.0}, {2.0, 1.0, 1.0}, 0.95) == 3.0);
    CHECK(imaging::detail::area_weighted_percentile({3.0, 1.0, 2.0}, {2.0, 1.0, 1.0}, 0.5) == 2.0);
    CHECK(imaging::detail::area_weighted_percentile({3.0, 1.0, 2.0}, {0.0, 0.0, 0.0}, 0.5) == 3.0);
    CHECK(std::isnan(imaging::detail::area_weighted_percentile({}, {}, 0.95)));
}
