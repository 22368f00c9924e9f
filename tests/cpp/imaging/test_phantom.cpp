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

TEST_CASE("phantom: random knee shapes are deterministic, varied and consistent", "[imaging][phantom]") {
    const KneeShape a = random_knee_shape(5), b = random_knee_shape(5), c = random_knee_shape(6);
    CHECK(a.femur_radius == b.femur_radius);
    CHECK(a.plateau_z == b.plateau_z);
    CHECK(a.femur_radius != c.femur_radius);
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        const KneeShape s = random_knee_shape(seed);
        CAPTURE(seed);
        // The thinnest femoral cartilage is >= 1 mm; the cartilages never touch.
        CHECK(s.fem_t_mean - s.fem_t_ml - s.fem_t_theta >= 1.0 - 1e-12);
        const double fem_bottom = s.condyle_z - s.femur_radius - (s.fem_t_mean + s.fem_t_ml + s.fem_t_theta);
        CHECK(fem_bottom - (s.plateau_z + s.tib_t_mean + s.tib_t_amp) >= 1.0 - 1e-12);
        CHECK(s.plateau_z + s.meniscus_base_mm + s.meniscus_rise_mm <= fem_bottom - 0.5 + 1e-12);
        // The analytic tissues sit where the formulas say: just inside and outside the
        // femoral cartilage at the lowest point of the condyles (θ = 0, x = 0).
        const double t0 = s.fem_t_mean + s.fem_t_ml;
        const double z_bone = s.condyle_z - s.femur_radius;
        CHECK(phantom_label_at({0, 0, z_bone + 0.05}, s) == 5);
        CHECK(phantom_label_at({0, 0, z_bone - 0.05}, s) == 1);
        CHECK(phantom_label_at({0, 0, z_bone - t0 + 0.05}, s) == 1);
        CHECK(phantom_label_at({0, 0, z_bone - t0 - 0.05}, s) == 0);
        CHECK(phantom_cartilage_thickness(1, {0, 0, z_bone - 0.5}, 1.5, s) == Approx(t0));
        // Tibial compartment centres: cartilage of thickness mean + amp over the plateau.
        const double tt = s.tib_t_mean + s.tib_t_amp;
        CHECK(phantom_label_at({-s.comp_x, 0, s.plateau_z - 0.05}, s) == 6);
        CHECK(phantom_label_at({-s.comp_x, 0, s.plateau_z + tt - 0.05}, s) == 2);
        CHECK(phantom_label_at({s.comp_x, 0, s.plateau_z + tt - 0.05}, s) == 3);
        CHECK(phantom_label_at({s.comp_x, 0, s.plateau_z + tt + 0.05}, s) == 0);
        CHECK(phantom_cartilage_thickness(3, {s.comp_x, 0, s.plateau_z + 0.5}, 1.5, s) == Approx(tt));
    }
}

TEST_CASE("phantom: nearest-surface thickness of a random knee within half a voxel", "[imaging][phantom]") {
    KneePhantomOptions o;
    o.spacing_mm = {0.8, 0.8, 0.8};
    o.extent_mm = {76, 76, 84};
    o.snr = 0;
    o.supersampling = 1;
    o.shape = random_knee_shape(11);
    const KneePhantom ph = make_knee_phantom(o);
    for (int label : {1, 2, 3}) {
        const ThicknessMap t = cartilage_thickness(ph.labels, label, label == 1 ? 5 : 6);
        double sum = 0;
        int n = 0;
        for (Eigen::Index p = 0; p < t.thickness_mm.size(); ++p) {
            const double truth = phantom_cartilage_thickness(label, t.points_mm.row(p).transpose(), 1.5, o.shape);
            if (std::isnan(truth)) continue;
            sum += std::abs(t.thickness_mm[p] - truth);
            ++n;
        }
        CAPTURE(label);
        REQUIRE(n > 100);
        CHECK(sum / n <= 0.4);
    }
}
