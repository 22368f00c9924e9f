// Resampling, reorientation, bounding boxes and intensity normalisation.

#include "sportsmed/imaging/processing.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {

Geometry with_spacing(const Geometry& g, const Eigen::Vector3d& spacing_mm) {
    Geometry out = g;
    for (int a = 0; a < 3; ++a) {
        SPORTSMED_CHECK(spacing_mm[a] > 0, "with_spacing: spacing {} along axis {}, expected > 0", spacing_mm[a], a);
        out.shape[a] = std::max<std::int64_t>(
            1, static_cast<std::int64_t>(std::llround(static_cast<double>(g.shape[a]) * g.spacing_mm[a] / spacing_mm[a])));
    }
    out.spacing_mm = spacing_mm;
    const Eigen::Vector3d corner = g.origin_mm - g.direction * (0.5 * g.spacing_mm);
    out.origin_mm = corner + g.direction * (0.5 * spacing_mm);
    return out;
}

namespace {

// Maps target voxel indices to source voxel indices.
Eigen::Matrix4d target_to_source(const Geometry& src, const Geometry& target) {
    return src.world_to_voxel() * target.voxel_to_world();
}

// Lower corner index and fraction along one axis; false if outside [0, n-1].
inline bool axis_weights(double x, std::int64_t n, std::int64_t& i0, double& f) {
    constexpr double kEps = 1e-9;
    if (x < -kEps || x > static_cast<double>(n - 1) + kEps) return false;
    if (n == 1) {
        i0 = 0;
        f = 0;
        return true;
    }
    i0 = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(x)), 0, n - 2);
    f = std::clamp(x - static_cast<double>(i0), 0.0, 1.0);
    return true;
}

}  // namespace

Volume<double> resample_linear(const Volume<double>& src, const Geometry& target, double fill) {
    const Eigen::Matrix4d m = target_to_source(src.geometry(), target);
    Volume<double> out(target, src.components(), fill);
    const auto& s = src.shape();
    const auto& t = target.shape;
    const std::int64_t nvs = src.num_voxels(), nvt = out.num_voxels();
    parallel_for(0, t[2], [&](std::int64_t kb, std::int64_t ke) {
        for (std::int64_t k = kb; k < ke; ++k)
            for (std::int64_t j = 0; j < t[1]; ++j)
                for (std::int64_t i = 0; i < t[0]; ++i) {
                    const Eigen::Vector4d p = m * Eigen::Vector4d(double(i), double(j), double(k), 1.0);
                    std::int64_t i0[3];
                    double f[3];
                    bool inside = true;
                    for (int a = 0; a < 3 && inside; ++a) inside = axis_weights(p[a], s[a], i0[a], f[a]);
                    if (!inside) continue;
                    const std::int64_t dx = s[0] > 1 ? 1 : 0, dy = s[1] > 1 ? s[0] : 0, dz = s[2] > 1 ? s[0] * s[1] : 0;
                    const std::int64_t base = i0[0] + s[0] * (i0[1] + s[1] * i0[2]);
                    const double w[8] = {(1 - f[0]) * (1 - f[1]) * (1 - f[2]), f[0] * (1 - f[1]) * (1 - f[2]),
                                         (1 - f[0]) * f[1] * (1 - f[2]),       f[0] * f[1] * (1 - f[2]),
                                         (1 - f[0]) * (1 - f[1]) * f[2],       f[0] * (1 - f[1]) * f[2],
                                         (1 - f[0]) * f[1] * f[2],             f[0] * f[1] * f[2]};
                    const std::int64_t off[8] = {0, dx, dy, dx + dy, dz, dx + dz, dy + dz, dx + dy + dz};
                    const std::int64_t o = i + t[0] * (j + t[1] * k);
                    for (std::int64_t c = 0; c < src.components(); ++c) {
                        const double* d = src.data() + nvs * c + base;
                        double v = 0;
                        for (int q = 0; q < 8; ++q)
                            if (w[q] != 0) v += w[q] * d[off[q]];
                        out.data()[o + nvt * c] = v;
                    }
                }
    });
    return out;
}

Volume<std::uint8_t> resample_labels(const Volume<std::uint8_t>& src, const Geometry& target, bool label_aware) {
    const Eigen::Matrix4d m = target_to_source(src.geometry(), target);
    Volume<std::uint8_t> out(target);
    const auto& s = src.shape();
    const auto& t = target.shape;
    parallel_for(0, t[2], [&](std::int64_t kb, std::int64_t ke) {
        for (std::int64_t k = kb; k < ke; ++k)
            for (std::int64_t j = 0; j < t[1]; ++j)
                for (std::int64_t i = 0; i < t[0]; ++i) {
                    const Eigen::Vector4d p = m * Eigen::Vector4d(double(i), double(j), double(k), 1.0);
                    std::int64_t i0[3];
                    double f[3];
                    bool inside = true;
                    for (int a = 0; a < 3 && inside; ++a) inside = axis_weights(p[a], s[a], i0[a], f[a]);
                    if (!inside) continue;
                    std::uint8_t label = 0;
                    if (!label_aware) {
                        std::int64_t q[3];
                        for (int a = 0; a < 3; ++a)
                            q[a] = std::min<std::int64_t>(s[a] - 1, i0[a] + (f[a] >= 0.5 ? 1 : 0));
                        label = src(q[0], q[1], q[2]);
                    } else {
                        std::uint8_t labs[8];
                        double ws[8];
                        int n = 0;
                        for (int c = 0; c < 8; ++c) {
                            const int bx = c & 1, by = (c >> 1) & 1, bz = (c >> 2) & 1;
                            const double w = (bx ? f[0] : 1 - f[0]) * (by ? f[1] : 1 - f[1]) * (bz ? f[2] : 1 - f[2]);
                            if (w == 0) continue;
                            const std::uint8_t l = src(std::min(i0[0] + bx, s[0] - 1), std::min(i0[1] + by, s[1] - 1),
                                                       std::min(i0[2] + bz, s[2] - 1));
                            int q = 0;
                            while (q < n && labs[q] != l) ++q;
                            if (q == n) labs[n] = l, ws[n++] = 0.0;
                            ws[q] += w;
                        }
                        double best = -1;
                        for (int q = 0; q < n; ++q)
                            if (ws[q] > best + 1e-12 || (std::abs(ws[q] - best) <= 1e-12 && labs[q] < label))
                                best = ws[q], label = labs[q];
                    }
                    out(i, j, k) = label;
                }
    });
    return out;
}

namespace {

// Rows: the target axes named by a 3-letter code, in LPS world coordinates (L +x, R -x,
// P +y, A -y, S +z, I -z), each world axis once.
Eigen::Matrix3d code_axes(const std::string& code, const char* who) {
    Eigen::Matrix3d t = Eigen::Matrix3d::Zero();
    bool used[3] = {false, false, false};
    SPORTSMED_CHECK(code.size() == 3, "{}: orientation code '{}' must have 3 letters from L/R, P/A, S/I", who, code);
    for (int a = 0; a < 3; ++a) {
        const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(code[static_cast<std::size_t>(a)])));
        int w = -1;
        double sign = 1;
        switch (c) {
            case 'L': w = 0; break;
            case 'R': w = 0, sign = -1; break;
            case 'P': w = 1; break;
            case 'A': w = 1, sign = -1; break;
            case 'S': w = 2; break;
            case 'I': w = 2, sign = -1; break;
            default: break;
        }
        SPORTSMED_CHECK(w >= 0 && !used[w], "{}: orientation code '{}' must name each of L/R, P/A, S/I once", who,
                        code);
        used[w] = true;
        t(a, w) = sign;
    }
    return t;
}

}  // namespace

Reorientation canonical_reorientation(const Geometry& g, const std::string& code) {
    const Eigen::Matrix3d d = code_axes(code, "canonical_reorientation") * g.direction;  // rows: target, cols: source
    Reorientation r;
    bool row_used[3] = {false, false, false}, col_used[3] = {false, false, false};
    for (int step = 0; step < 3; ++step) {
        int br = -1, bc = -1;
        double best = -1;
        for (int a = 0; a < 3; ++a)
            for (int s = 0; s < 3; ++s)
                if (!row_used[a] && !col_used[s] && std::abs(d(a, s)) > best) best = std::abs(d(a, s)), br = a, bc = s;
        row_used[br] = col_used[bc] = true;
        r.perm[br] = bc;
        r.flip[br] = d(br, bc) < 0;
    }
    return r;
}

std::string orientation_code(const Geometry& g) {
    // Each voxel axis takes the world axis it is closest to (greedy, as canonical_reorientation).
    std::string code(3, '?');
    bool row_used[3] = {false, false, false}, col_used[3] = {false, false, false};
    const Eigen::Matrix3d& d = g.direction;  // column s: voxel axis s in LPS world
    for (int step = 0; step < 3; ++step) {
        int bw = -1, bs = -1;
        double best = -1;
        for (int w = 0; w < 3; ++w)
            for (int s = 0; s < 3; ++s)
                if (!row_used[w] && !col_used[s] && std::abs(d(w, s)) > best) best = std::abs(d(w, s)), bw = w, bs = s;
        row_used[bw] = col_used[bs] = true;
        static const char pos[3] = {'L', 'P', 'S'}, neg[3] = {'R', 'A', 'I'};
        code[static_cast<std::size_t>(bs)] = d(bw, bs) >= 0 ? pos[bw] : neg[bw];
    }
    return code;
}

std::array<std::array<std::int64_t, 3>, 2> bounding_box(const Volume<std::uint8_t>& mask, std::int64_t margin) {
    std::array<std::int64_t, 3> lo{mask.shape()[0], mask.shape()[1], mask.shape()[2]}, hi{-1, -1, -1};
    const auto& s = mask.shape();
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i)
                if (mask(i, j, k)) {
                    const std::int64_t idx[3] = {i, j, k};
                    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], idx[a]), hi[a] = std::max(hi[a], idx[a]);
                }
    SPORTSMED_CHECK(hi[0] >= 0, "bounding_box: the mask is empty");
    for (int a = 0; a < 3; ++a) lo[a] = std::max<std::int64_t>(0, lo[a] - margin), hi[a] = std::min(s[a] - 1, hi[a] + margin);
    return {lo, hi};
}

Volume<double> normalize_zscore(const Volume<double>& v, const Volume<std::uint8_t>* mask) {
    if (mask) SPORTSMED_CHECK(mask->shape() == v.shape(), "normalize_zscore: mask shape differs from the image shape");
    double sum = 0, sum2 = 0;
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < v.size(); ++i) {
        if (mask && !mask->data()[i % v.num_voxels()]) continue;
        sum += v.data()[i];
        ++n;
    }
    SPORTSMED_CHECK(n > 0, "normalize_zscore: the mask selects no voxel");
    SPORTSMED_CHECK(std::isfinite(sum), "normalize_zscore: the image holds NaN or infinite values (where the mask "
                                        "selects): replace or mask them first");
    const double mean = sum / static_cast<double>(n);
    for (std::int64_t i = 0; i < v.size(); ++i) {
        if (mask && !mask->data()[i % v.num_voxels()]) continue;
        sum2 += (v.data()[i] - mean) * (v.data()[i] - mean);
    }
    const double sd = std::sqrt(sum2 / static_cast<double>(n));
    SPORTSMED_CHECK(sd > 0, "normalize_zscore: the image is constant over the mask");
    Volume<double> out(v.geometry(), v.components());
    for (std::int64_t i = 0; i < v.size(); ++i) out.data()[i] = (v.data()[i] - mean) / sd;
    return out;
}

Volume<double> normalize_percentile(const Volume<double>& v, double low, double high) {
    SPORTSMED_CHECK(0 <= low && low < high && high <= 100, "normalize_percentile: percentiles {} and {} invalid", low,
                    high);
    std::vector<double> sorted(v.values());
    SPORTSMED_CHECK(!sorted.empty(), "normalize_percentile: the image has no voxel");
    const auto bad = std::count_if(sorted.begin(), sorted.end(), [](double x) { return !std::isfinite(x); });
    SPORTSMED_CHECK(bad == 0, "normalize_percentile: the image holds {} NaN or infinite values: replace or mask them "
                              "first", bad);
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double q) {
        const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
        const auto i = static_cast<std::size_t>(std::floor(pos));
        const double f = pos - static_cast<double>(i);
        return i + 1 < sorted.size() ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
    };
    const double lo = pct(low), hi = pct(high);
    SPORTSMED_CHECK(hi > lo, "normalize_percentile: percentiles {} and {} give the same value {}", low, high, lo);
    Volume<double> out(v.geometry(), v.components());
    for (std::int64_t i = 0; i < v.size(); ++i) out.data()[i] = (std::clamp(v.data()[i], lo, hi) - lo) / (hi - lo);
    return out;
}

}  // namespace sportsmed::imaging
