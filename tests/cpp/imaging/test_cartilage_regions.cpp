#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/imaging/cartilage_regions.hpp"
#include "sportsmed/imaging/phantom.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;

namespace {

constexpr double kPi = 3.14159265358979323846;

// The phantom's prescribed thickness (phantom.hpp), written out again here.
double femoral_t(double theta_rad, double x) { return 2.2 + 0.5 * std::cos(kPi * x / 28.0) + 0.4 * std::sin(1.5 * theta_rad); }
double tibial_t(double x, double y, double cx) {
    return 1.4 + 0.6 * std::cos(kPi * (x - cx) / 24.0) * std::cos(kPi * y / 32.0);
}

// Mean of the femoral thickness over the articular surface (radius 18 + t) of the region
// x ∈ [x0, x1], θ ∈ [a0, a1] (degrees), by midpoint quadrature.
double femoral_region_mean(double x0, double x1, double a0, double a1) {
    double num = 0, den = 0;
    const int n = 400;
    for (int p = 0; p < n; ++p)
        for (int q = 0; q < n; ++q) {
            const double x = x0 + (p + 0.5) * (x1 - x0) / n, th = (a0 + (q + 0.5) * (a1 - a0) / n) * kPi / 180;
            const double t = femoral_t(th, x), w = 18.0 + t;
            num += w * t, den += w;
        }
    return num / den;
}

// Mean tibial thickness over a compartment's ellipse ((x − cx)/12)² + (y/16)² ≤ 1.
double tibial_mean(double cx) {
    double num = 0, den = 0;
    for (int p = 0; p < 400; ++p)
        for (int q = 0; q < 400; ++q) {
            const double x = cx - 12 + (p + 0.5) * 24.0 / 400, y = -16 + (q + 0.5) * 32.0 / 400;
            if (((x - cx) / 12) * ((x - cx) / 12) + (y / 16) * (y / 16) > 1) continue;
            num += tibial_t(x, y, cx), den += 1;
        }
    return num / den;
}

}  // namespace

TEST_CASE("knee regions: frame and regional means on the phantom against the analytic thickness",
          "[imaging][regions][slow]") {
    KneePhantomOptions o;
    o.spacing_mm = {0.6, 0.6, 0.6};
    o.extent_mm = {72, 72, 84};
    o.snr = 0;
    o.te_ms = {10.0};
    const KneePhantom ph = make_knee_phantom(o);
    KneeFrame f;
    const auto regions = regional_cartilage_thickness(ph.labels, {}, &f);
    // Condyle axis y = 0, z = 8, radius 18; tibial compartments at x = ∓15 (medial −x).
    CHECK(f.condyle_centre_yz_mm[0] == Approx(0.0).margin(0.15));
    CHECK(f.condyle_centre_yz_mm[1] == Approx(8.0).margin(0.15));
    CHECK(f.condyle_radius_mm == Approx(18.0 + 0.3).margin(0.2));  // interface voxel centres lie ~h/2 outside the bone
    CHECK(f.medial_sign == -1);
    CHECK(f.ml_split_mm == Approx(0.0).margin(0.1));
    REQUIRE(regions.size() == 8);
    const double h = 0.6;
    const double bounds[4] = {-60, -30, 30, 100};
    for (int r = 0; r < 6; ++r) {
        const bool medial = r < 3;
        const double expected = femoral_region_mean(medial ? -28 : 0, medial ? 0 : 28, bounds[r % 3], bounds[r % 3 + 1]);
        INFO(regions[r].name << ": " << regions[r].mean_mm << " vs analytic " << expected << ", local "
                             << regions[r].mean_local_mm);
        CHECK(regions[r].points > 200);
        CHECK(std::abs(regions[r].mean_mm - expected) <= 0.5 * h);
        // local thickness lies between the true thickness and one voxel more
        CHECK(regions[r].mean_local_mm >= expected - 0.25 * h);
        CHECK(regions[r].mean_local_mm <= expected + h);
    }
    for (int r = 6; r < 8; ++r) {
        const double expected = tibial_mean(r == 6 ? -15 : 15);
        INFO(regions[r].name << ": " << regions[r].mean_mm << " vs analytic " << expected);
        CHECK(regions[r].label == (r == 6 ? 2 : 3));
        CHECK(std::abs(regions[r].mean_mm - expected) <= 0.5 * h);
        CHECK(regions[r].mean_local_mm >= expected - 0.25 * h);
        CHECK(regions[r].mean_local_mm <= expected + h);
    }
    // anterior < central < posterior: the regions are told apart (sin(1.5θ) rises with θ)
    CHECK(regions[0].mean_mm < regions[1].mean_mm - 0.2);
    CHECK(regions[1].mean_mm < regions[2].mean_mm - 0.2);

    SECTION("unrolled map against t_f at the bin centres") {
        const auto u = unrolled_femoral_thickness(ph.labels, 1.0, 2.0);
        double err = 0;
        int n = 0;
        for (std::int64_t j = 0; j < u.map.shape()[1]; ++j)
            for (std::int64_t i = 0; i < u.map.shape()[0]; ++i) {
                const double x = u.ml0_mm + i * u.ml_step_mm, a = u.angle0_deg + j * u.angle_step_deg;
                if (std::abs(x) > 26 || a < -56 || a > 96 || std::isnan(u.map(i, j, 0))) continue;
                err += std::abs(u.map(i, j, 0) - femoral_t(a * kPi / 180, x));
                ++n;
            }
        INFO("bins " << n << ", mean abs error " << err / n);
        CHECK(n > 0.9 * (52 * 76));
        CHECK(err / n <= 0.5 * h);
    }
    SECTION("single tibial label: split by the notch plane, side given") {
        Volume<std::uint8_t> lab = ph.labels;
        for (auto& v : lab.values()) v = v == 3 ? 2 : v;
        KneeRegionOptions ro;
        ro.labels.lateral_tibial_cartilage = 2;
        CHECK_THROWS_AS(regional_cartilage_thickness(lab, ro), InvalidArgument);
        ro.side = KneeSide::Left;  // medial = −x in LPS, as in the phantom
        const auto r2 = regional_cartilage_thickness(lab, ro);
        CHECK(r2[6].points == regions[6].points);
        CHECK(r2[7].points == regions[7].points);
        CHECK(r2[6].mean_mm == Approx(regions[6].mean_mm).epsilon(1e-12));
        CHECK(r2[1].mean_mm == Approx(regions[1].mean_mm).margin(0.02));  // split now at the femoral centroid
    }
}
