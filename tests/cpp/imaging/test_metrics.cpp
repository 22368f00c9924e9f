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
    // Staircase area of an 8×6×6 voxel box: 2·(4·6 + 6·12 + 4·12) mm².
    CHECK(m.surface_area_gt_mm2 == Approx(2.0 * (4 * 6 + 6 * 12 + 4 * 12)));
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
