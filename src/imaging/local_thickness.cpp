// Local thickness (Hildebrand & Rüegsegger 1997) from the exact EDT: maximal balls painted
// with a running maximum.

#include "sportsmed/imaging/local_thickness.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging/distance.hpp"

namespace sportsmed::imaging {
namespace {

// Points at |p − c|² ≥ d²·(1 − kTie) count as outside the ball: exact ties are excluded
// whatever the rounding of the two squared distances.
constexpr double kTie = 1e-10;

struct Ball {
    std::int64_t i, j, k;
    double d;  // radius (mm)
};

}  // namespace

void local_thickness(const std::uint8_t* mask, const Shape3& shape, const Eigen::Vector3d& h, double* out) {
    const std::int64_t nx = shape[0], ny = shape[1], nz = shape[2], n = nx * ny * nz;
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(h[a] > 0 && std::isfinite(h[a]), "local_thickness: spacing along axis {} is {}, expected > 0",
                        a, h[a]);
    if (n == 0) return;
    std::vector<double> d(static_cast<std::size_t>(n));
    distance_transform_squared(mask, shape, h, d.data());
    bool any_fg = false, infinite = false;
    for (std::int64_t v = 0; v < n; ++v) {
        if (!mask[v]) continue;
        any_fg = true;
        infinite = std::isinf(d[static_cast<std::size_t>(v)]);
        break;
    }
    std::fill(out, out + n, 0.0);
    if (!any_fg) return;
    if (infinite) {  // no background anywhere: the structure is unbounded
        for (std::int64_t v = 0; v < n; ++v)
            if (mask[v]) out[v] = std::numeric_limits<double>::infinity();
        return;
    }
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t v = b; v < e; ++v) d[static_cast<std::size_t>(v)] = std::sqrt(d[static_cast<std::size_t>(v)]);
    }, 1 << 16);

    // Centres whose ball is not inside a 26-neighbour's ball (the distance ridge, roughly).
    std::array<double, 27> step{};
    for (int c = 0; c < 27; ++c) {
        const double di = (c % 3 - 1) * h[0], dj = ((c / 3) % 3 - 1) * h[1], dk = (c / 9 - 1) * h[2];
        step[static_cast<std::size_t>(c)] = std::sqrt(di * di + dj * dj + dk * dk);
    }
    std::vector<std::vector<Ball>> per_slice(static_cast<std::size_t>(nz));
    parallel_for(0, nz, [&](std::int64_t kb, std::int64_t ke) {
        for (std::int64_t k = kb; k < ke; ++k) {
            auto& balls = per_slice[static_cast<std::size_t>(k)];
            for (std::int64_t j = 0; j < ny; ++j)
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::int64_t v = i + nx * (j + ny * k);
                    if (!mask[v]) continue;
                    const double dv = d[static_cast<std::size_t>(v)];
                    bool contained = false;
                    for (int c = 0; c < 27 && !contained; ++c) {
                        if (c == 13) continue;
                        const std::int64_t a = i + c % 3 - 1, b = j + (c / 3) % 3 - 1, cc = k + c / 9 - 1;
                        if (a < 0 || a >= nx || b < 0 || b >= ny || cc < 0 || cc >= nz) continue;
                        const std::int64_t w = a + nx * (b + ny * cc);
                        if (!mask[w]) continue;
                        const double dw = d[static_cast<std::size_t>(w)];
                        // Containment with a rounding allowance far below any non-tie gap.
                        contained = dw >= dv + step[static_cast<std::size_t>(c)] - 1e-12 * dw;
                    }
                    if (!contained) balls.push_back({i, j, k, dv});
                }
        }
    });
    std::vector<Ball> balls;
    for (auto& s : per_slice) balls.insert(balls.end(), s.begin(), s.end());
    per_slice.clear();
    // Largest balls first: a voxel's value is then final early, which keeps the writes few.
    std::sort(balls.begin(), balls.end(), [](const Ball& a, const Ball& b) { return a.d > b.d; });

    // Each thread owns a slab of k and paints the part of every ball inside it.
    parallel_for(0, nz, [&](std::int64_t kb, std::int64_t ke) {
        for (const Ball& ball : balls) {
            const double r2 = ball.d * ball.d * (1.0 - kTie);
            const auto kr = static_cast<std::int64_t>(std::floor(ball.d / h[2]));
            const std::int64_t k0 = std::max(kb, ball.k - kr), k1 = std::min(ke - 1, ball.k + kr);
            if (k0 > k1) continue;
            const double tau = 2.0 * ball.d;
            const auto jr = static_cast<std::int64_t>(std::floor(ball.d / h[1]));
            for (std::int64_t k = k0; k <= k1; ++k) {
                const double dz = static_cast<double>(k - ball.k) * h[2];
                const double rem_k = r2 - dz * dz;
                if (rem_k <= 0) continue;
                const std::int64_t j0 = std::max<std::int64_t>(0, ball.j - jr), j1 = std::min(ny - 1, ball.j + jr);
                for (std::int64_t j = j0; j <= j1; ++j) {
                    const double dy = static_cast<double>(j - ball.j) * h[1];
                    const double rem = rem_k - dy * dy;
                    if (rem <= 0) continue;
                    // Largest m with (m·hx)² < rem.
                    auto m = static_cast<std::int64_t>(std::floor(std::sqrt(rem) / h[0]));
                    while (m > 0 && (m * h[0]) * (m * h[0]) >= rem) --m;
                    while (((m + 1) * h[0]) * ((m + 1) * h[0]) < rem) ++m;
                    const std::int64_t i0 = std::max<std::int64_t>(0, ball.i - m), i1 = std::min(nx - 1, ball.i + m);
                    double* row = out + nx * (j + ny * k);
                    for (std::int64_t i = i0; i <= i1; ++i) row[i] = std::max(row[i], tau);
                }
            }
        }
    });
}

Volume<double> local_thickness(const Volume<std::uint8_t>& mask) {
    Volume<double> out(mask.geometry());
    local_thickness(mask.data(), mask.shape(), mask.geometry().spacing_mm, out.data());
    return out;
}

}  // namespace sportsmed::imaging
