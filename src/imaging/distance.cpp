// Exact anisotropic EDT (Felzenszwalb & Huttenlocher 2012), multi-threaded over lines.

#include "sportsmed/imaging/distance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// 1-D pass on n samples f (in/out through d) at positions q·h: d[p] = min_q f[q] + h²(p−q)².
// v, z are scratch of size n and n+1. Samples with f = inf are skipped.
struct Line {
    std::vector<std::int64_t> v;
    std::vector<double> z, f, d;
    void resize(std::int64_t n) {
        v.resize(static_cast<std::size_t>(n));
        z.resize(static_cast<std::size_t>(n) + 1);
        f.resize(static_cast<std::size_t>(n));
        d.resize(static_cast<std::size_t>(n));
    }
    void run(std::int64_t n, double h) {
        const double h2 = h * h;
        std::int64_t k = -1;
        for (std::int64_t q = 0; q < n; ++q) {
            const double fq = f[q];
            if (fq == kInf) continue;
            const double xq = static_cast<double>(q);
            while (k >= 0) {
                const double xv = static_cast<double>(v[k]);
                // Intersection of parabolas from v[k] and q (in index units).
                const double s = ((fq + h2 * xq * xq) - (f[v[k]] + h2 * xv * xv)) / (2.0 * h2 * (xq - xv));
                if (s <= z[k]) {
                    --k;
                } else {
                    ++k;
                    v[k] = q;
                    z[k] = s;
                    break;
                }
            }
            if (k < 0) {
                k = 0;
                v[0] = q;
                z[0] = -kInf;
            }
            z[k + 1] = kInf;
        }
        if (k < 0) {
            std::fill(d.begin(), d.begin() + n, kInf);
            return;
        }
        std::int64_t j = 0;
        for (std::int64_t p = 0; p < n; ++p) {
            const double xp = static_cast<double>(p);
            while (z[j + 1] < xp) ++j;
            const double dx = xp - static_cast<double>(v[j]);
            d[p] = f[v[j]] + h2 * dx * dx;
        }
    }
};

}  // namespace

void distance_transform_squared(const std::uint8_t* mask, const Shape3& shape, const Eigen::Vector3d& spacing_mm,
                                double* out) {
    const std::int64_t nx = shape[0], ny = shape[1], nz = shape[2];
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(spacing_mm[a] > 0 && std::isfinite(spacing_mm[a]),
                        "distance_transform: spacing along axis {} is {}, expected > 0", a, spacing_mm[a]);
    if (nx * ny * nz == 0) return;
    // Pass along i (contiguous lines). The input is binary, so the lower envelope reduces to
    // the index distance to the nearest 0 on the line, found by two sweeps; the value is
    // formed exactly as the envelope pass would (0 + h²·Δ²), so both give the same bits.
    const double h2x = spacing_mm[0] * spacing_mm[0];
    parallel_for(0, ny * nz, [&](std::int64_t b, std::int64_t e) {
        std::vector<std::int64_t> near(static_cast<std::size_t>(nx));
        constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
        for (std::int64_t l = b; l < e; ++l) {
            const std::uint8_t* m = mask + l * nx;
            double* o = out + l * nx;
            std::int64_t prev = kNone;
            for (std::int64_t i = 0; i < nx; ++i) {
                if (!m[i]) prev = i;
                near[static_cast<std::size_t>(i)] = prev == kNone ? kNone : i - prev;
            }
            std::int64_t next = kNone;
            for (std::int64_t i = nx - 1; i >= 0; --i) {
                if (!m[i]) next = i;
                std::int64_t dist = near[static_cast<std::size_t>(i)];
                if (next != kNone) dist = std::min(dist, next - i);
                if (dist == kNone) {
                    o[i] = kInf;
                } else {
                    const double dx = static_cast<double>(dist);
                    o[i] = 0.0 + h2x * dx * dx;
                }
            }
        }
    }, 16);
    // Passes along j and k: gather blocks of consecutive i so that reads stay cache-friendly.
    constexpr std::int64_t kBlock = 16;
    auto strided_pass = [&](std::int64_t n, std::int64_t stride, std::int64_t outer_count, std::int64_t outer_stride,
                            double h) {
        const std::int64_t blocks_per_outer = (nx + kBlock - 1) / kBlock;
        parallel_for(0, outer_count * blocks_per_outer, [&](std::int64_t b, std::int64_t e) {
            std::vector<Line> lines(kBlock);
            for (auto& l : lines) l.resize(n);
            for (std::int64_t t = b; t < e; ++t) {
                const std::int64_t outer = t / blocks_per_outer;
                const std::int64_t i0 = (t % blocks_per_outer) * kBlock;
                const std::int64_t w = std::min(kBlock, nx - i0);
                double* base = out + outer * outer_stride + i0;
                for (std::int64_t p = 0; p < n; ++p) {
                    const double* row = base + p * stride;
                    for (std::int64_t c = 0; c < w; ++c) lines[c].f[p] = row[c];
                }
                for (std::int64_t c = 0; c < w; ++c) lines[c].run(n, h);
                for (std::int64_t p = 0; p < n; ++p) {
                    double* row = base + p * stride;
                    for (std::int64_t c = 0; c < w; ++c) row[c] = lines[c].d[p];
                }
            }
        });
    };
    if (ny > 1) strided_pass(ny, nx, nz, nx * ny, spacing_mm[1]);
    if (nz > 1) strided_pass(nz, nx * ny, ny, nx, spacing_mm[2]);
}

Volume<double> distance_transform(const Volume<std::uint8_t>& mask) {
    Volume<double> out(mask.geometry());
    distance_transform_squared(mask.data(), mask.shape(), mask.geometry().spacing_mm, out.data());
    const std::int64_t n = out.size();
    double* d = out.data();
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) d[i] = std::sqrt(d[i]);
    }, 1 << 16);
    return out;
}

Volume<std::uint8_t> dilate_ball(const Volume<std::uint8_t>& mask, double radius_mm) {
    SPORTSMED_CHECK(radius_mm >= 0, "dilate_ball: radius {} mm, expected >= 0", radius_mm);
    // Distance to the nearest foreground voxel: EDT of the complement.
    Volume<std::uint8_t> inv(mask.geometry());
    for (std::int64_t i = 0; i < mask.size(); ++i) inv.data()[i] = mask.data()[i] ? 0 : 1;
    std::vector<double> d2(static_cast<std::size_t>(mask.size()));
    distance_transform_squared(inv.data(), mask.shape(), mask.geometry().spacing_mm, d2.data());
    const double r2 = radius_mm * radius_mm;
    for (std::int64_t i = 0; i < mask.size(); ++i) inv.data()[i] = d2[static_cast<std::size_t>(i)] <= r2 ? 1 : 0;
    return inv;
}

Volume<std::uint8_t> erode_ball(const Volume<std::uint8_t>& mask, double radius_mm) {
    SPORTSMED_CHECK(radius_mm >= 0, "erode_ball: radius {} mm, expected >= 0", radius_mm);
    std::vector<double> d2(static_cast<std::size_t>(mask.size()));
    distance_transform_squared(mask.data(), mask.shape(), mask.geometry().spacing_mm, d2.data());
    const double r2 = radius_mm * radius_mm;
    Volume<std::uint8_t> out(mask.geometry());
    for (std::int64_t i = 0; i < mask.size(); ++i)
        out.data()[i] = (mask.data()[i] && d2[static_cast<std::size_t>(i)] > r2) ? 1 : 0;
    return out;
}

}  // namespace sportsmed::imaging
