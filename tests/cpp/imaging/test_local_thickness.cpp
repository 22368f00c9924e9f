#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "sportsmed/imaging/local_thickness.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;

namespace {

Volume<std::uint8_t> empty_mask(Shape3 shape, Eigen::Vector3d spacing) {
    Geometry g;
    g.shape = shape;
    g.spacing_mm = spacing;
    return Volume<std::uint8_t>(g);
}

double dist2(const Eigen::Vector3d& h, std::int64_t a, std::int64_t b, std::int64_t c) {
    const double x = a * h[0], y = b * h[1], z = c * h[2];
    return x * x + y * y + z * z;
}

// Brute force from the definition: EDT by exhaustive search, then every foreground centre's
// open ball tested against every voxel.
Volume<double> brute_local_thickness(const Volume<std::uint8_t>& m) {
    const auto& s = m.shape();
    const auto& h = m.geometry().spacing_mm;
    Volume<double> d2(m.geometry(), 1, INFINITY), out(m.geometry(), 1, 0.0);
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (!m(i, j, k)) continue;
                for (std::int64_t c = 0; c < s[2]; ++c)
                    for (std::int64_t b = 0; b < s[1]; ++b)
                        for (std::int64_t a = 0; a < s[0]; ++a)
                            if (!m(a, b, c)) d2(i, j, k) = std::min(d2(i, j, k), dist2(h, a - i, b - j, c - k));
            }
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (!m(i, j, k)) continue;
                const double r2 = d2(i, j, k) * (1 - 1e-10), tau = 2 * std::sqrt(d2(i, j, k));
                for (std::int64_t c = 0; c < s[2]; ++c)
                    for (std::int64_t b = 0; b < s[1]; ++b)
                        for (std::int64_t a = 0; a < s[0]; ++a)
                            if (dist2(h, a - i, b - j, c - k) < r2) out(a, b, c) = std::max(out(a, b, c), tau);
            }
    return out;
}

}  // namespace

TEST_CASE("local thickness: a digitised slab of n voxels is 2h*floor((n+1)/2) thick everywhere",
          "[imaging][local_thickness]") {
    const Eigen::Vector3d h{0.7, 1.3, 0.45};
    for (std::int64_t n = 1; n <= 7; ++n) {
        auto m = empty_mask({6, 5, n + 4}, h);
        for (std::int64_t k = 2; k < 2 + n; ++k)
            for (std::int64_t j = 0; j < 5; ++j)
                for (std::int64_t i = 0; i < 6; ++i) m(i, j, k) = 1;
        const auto t = local_thickness(m);
        const double expected = 2 * h[2] * double((n + 1) / 2);
        for (std::int64_t v = 0; v < m.size(); ++v) {
            INFO("n = " << n << ", voxel " << v);
            CHECK(t.data()[v] == Approx(m.data()[v] ? expected : 0.0).margin(1e-12));
        }
        // within one voxel of the physical thickness n·h
        CHECK(expected >= n * h[2] - 1e-12);
        CHECK(expected <= (n + 1) * h[2] + 1e-12);
    }
}

TEST_CASE("local thickness: a ball and an infinite cylinder have one thickness, 2R to 2R + 2h",
          "[imaging][local_thickness]") {
    const Eigen::Vector3d h{0.5, 0.6, 0.4};
    const double R = 4.2;
    auto ball = empty_mask({25, 21, 29}, h);
    auto cyl = empty_mask({25, 21, 9}, h);
    for (std::int64_t k = 0; k < 29; ++k)
        for (std::int64_t j = 0; j < 21; ++j)
            for (std::int64_t i = 0; i < 25; ++i) {
                ball(i, j, k) = dist2(h, i - 12, j - 10, k - 14) <= R * R;
                if (k < 9) cyl(i, j, k) = dist2(h, i - 12, j - 10, 0) <= R * R;  // axis along k, spans the grid
            }
    for (const auto* m : {&ball, &cyl}) {
        const auto t = local_thickness(*m);
        // the largest ball is centred on the axis/centre: 2 × distance to the nearest outside centre
        double d2min = INFINITY;
        for (std::int64_t k = 0; k < m->shape()[2]; ++k)
            for (std::int64_t j = 0; j < 21; ++j)
                for (std::int64_t i = 0; i < 25; ++i)
                    if (!(*m)(i, j, k)) d2min = std::min(d2min, dist2(h, i - 12, j - 10, m == &ball ? k - 14 : 0));
        const double expected = 2 * std::sqrt(d2min);
        CHECK(expected > 2 * R);
        CHECK(expected <= 2 * R + 2 * h.maxCoeff());
        std::int64_t n = 0;
        for (std::int64_t v = 0; v < m->size(); ++v) {
            if (!m->data()[v]) {
                CHECK(t.data()[v] == 0.0);
                continue;
            }
            ++n;
            CHECK(t.data()[v] == Approx(expected).epsilon(1e-12));
        }
        CHECK(n > 500);
    }
}

TEST_CASE("local thickness: equals the brute-force definition on random shapes (anisotropic)",
          "[imaging][local_thickness]") {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 6; ++trial) {
        const Eigen::Vector3d h = trial % 2 ? Eigen::Vector3d{0.7, 1.3, 2.1} : Eigen::Vector3d{1.0, 1.0, 1.0};
        auto m = empty_mask({11, 9, 8}, h);
        // union of random balls: shapes with necks, thin and thick parts
        std::uniform_real_distribution<double> u(0, 1);
        for (int b = 0; b < 5; ++b) {
            const double ci = u(rng) * 11, cj = u(rng) * 9, ck = u(rng) * 8, r = 0.8 + 3.5 * u(rng);
            for (std::int64_t k = 0; k < 8; ++k)
                for (std::int64_t j = 0; j < 9; ++j)
                    for (std::int64_t i = 0; i < 11; ++i) {
                        const double x = (i - ci) * h[0], y = (j - cj) * h[1], z = (k - ck) * h[2];
                        if (x * x + y * y + z * z <= r * r) m(i, j, k) = 1;
                    }
        }
        if (trial == 5)  // salt noise: single-voxel holes and specks
            for (auto& v : m.values()) v = u(rng) < 0.15 ? !v : v;
        const auto t = local_thickness(m);
        const auto ref = brute_local_thickness(m);
        double max_err = 0;
        std::int64_t fg = 0;
        for (std::int64_t v = 0; v < m.size(); ++v) {
            max_err = std::max(max_err, std::abs(t.data()[v] - ref.data()[v]));
            fg += m.data()[v];
        }
        INFO("trial " << trial << ", foreground " << fg);
        CHECK(fg > 0);
        CHECK(max_err < 1e-9);
    }
}

TEST_CASE("local thickness: no background gives +inf, bad spacing throws", "[imaging][local_thickness]") {
    auto m = empty_mask({4, 4, 4}, {1, 1, 1});
    for (auto& v : m.values()) v = 1;
    const auto t = local_thickness(m);
    CHECK(std::isinf(t(1, 2, 3)));
    std::vector<double> out(64);
    CHECK_THROWS_AS(local_thickness(m.data(), m.shape(), Eigen::Vector3d{1, 0, 1}, out.data()), InvalidArgument);
}
