// Mono-exponential T2 fit: log-linear start, then bounded Levenberg–Marquardt.

#include "sportsmed/imaging/relaxometry.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;

// Cost ½Σr² and, optionally, JᵀJ and Jᵀr for parameters p = (S0, T2, C). With equally
// spaced times (@p uniform: t_i = t_0 + i·Δ, as multi-echo spin-echo series have), the
// decays follow from two exponentials: e_i = e_0·exp(−Δ/T2)^i (the exponentials dominate
// the cost; the product's rounding error, ~n ulp, is far below the fit's tolerance).
double evaluate(const double* t, const double* y, int n, const Vec3& p, int np, Mat3* jtj, Vec3* jtr,
                bool uniform) {
    double cost = 0;
    if (jtj) jtj->setZero(), jtr->setZero();
    const double rate = 1.0 / p[1];
    const double ratio = uniform && n > 1 ? std::exp(-(t[1] - t[0]) * rate) : 0.0;
    double e = 0.0;
    for (int i = 0; i < n; ++i) {
        e = uniform && i > 0 ? e * ratio : std::exp(-t[i] * rate);
        const double r = p[0] * e + (np == 3 ? p[2] : 0.0) - y[i];
        cost += 0.5 * r * r;
        if (jtj) {
            Vec3 j(e, p[0] * e * t[i] / (p[1] * p[1]), 1.0);
            for (int a = 0; a < np; ++a) {
                (*jtr)[a] += j[a] * r;
                for (int b = 0; b < np; ++b) (*jtj)(a, b) += j[a] * j[b];
            }
        }
    }
    return cost;
}

}  // namespace

T2Fit fit_t2_curve(const double* t, const double* y, int n, const T2FitOptions& o) {
    T2Fit fit;
    int positive = 0;
    for (int i = 0; i < n; ++i) {
        if (!std::isfinite(y[i]) || !std::isfinite(t[i])) return fit;
        positive += y[i] > 0;
    }
    if (positive < 2) return fit;
    // Log-linear start over the positive samples.
    double sw = 0, st = 0, sl = 0, stt = 0, stl = 0;
    for (int i = 0; i < n; ++i) {
        if (y[i] <= 0) continue;
        const double l = std::log(y[i]);
        sw += 1, st += t[i], sl += l, stt += t[i] * t[i], stl += t[i] * l;
    }
    const double den = sw * stt - st * st;
    double slope = den != 0 ? (sw * stl - st * sl) / den : 0.0;
    const double icpt = (sl - slope * st) / sw;
    double t2 = slope < 0 ? -1.0 / slope : o.t2_max_ms;
    t2 = std::clamp(t2, o.t2_min_ms, o.t2_max_ms);
    const int np = o.noise_floor ? 3 : 2;
    bool uniform = n > 2;
    for (int i = 2; i < n && uniform; ++i)
        uniform = std::abs((t[i] - t[0]) - i * (t[1] - t[0])) <= 1e-9 * std::abs(t[n - 1] - t[0]);
    Vec3 p(std::exp(icpt), t2, 0.0);
    Vec3 lo(0.0, o.t2_min_ms, 0.0), hi(std::numeric_limits<double>::infinity(), o.t2_max_ms,
                                        std::numeric_limits<double>::infinity());
    Mat3 jtj;
    Vec3 jtr;
    double cost = evaluate(t, y, n, p, np, &jtj, &jtr, uniform);
    double lambda = 1e-3;
    bool converged = false;
    int it = 0;
    for (; it < o.max_iterations && !converged; ++it) {
        bool improved = false;
        for (int tries = 0; tries < 16; ++tries) {
            Mat3 a = jtj;
            for (int d = 0; d < np; ++d) a(d, d) += lambda * std::max(jtj(d, d), 1e-300);
            Vec3 step = Vec3::Zero();
            if (np == 2) {  // closed form: no dynamic-size decomposition in the inner loop
                const double det = a(0, 0) * a(1, 1) - a(0, 1) * a(1, 0);
                if (det == 0 || !std::isfinite(det)) {
                    lambda *= 10.0;
                    continue;
                }
                step[0] = (-jtr[0] * a(1, 1) + jtr[1] * a(0, 1)) / det;
                step[1] = (-jtr[1] * a(0, 0) + jtr[0] * a(1, 0)) / det;
            } else {
                step = a.ldlt().solve(-jtr);
            }
            Vec3 q = p + step;
            for (int d = 0; d < np; ++d) q[d] = std::clamp(q[d], lo[d], hi[d]);
            // A (projected) step below the tolerance relative to the parameters: converged.
            const double rel_step =
                (q - p).head(np).cwiseAbs().cwiseQuotient(p.head(np).cwiseAbs().cwiseMax(1e-12)).maxCoeff();
            if (tries == 0 && rel_step < o.tolerance) {
                converged = improved = true;
                break;
            }
            // The trial's Jacobian is formed in the same pass (the exponentials dominate the
            // cost), so an accepted step needs no second evaluation.
            Mat3 jtj_q;
            Vec3 jtr_q;
            const double c = evaluate(t, y, n, q, np, &jtj_q, &jtr_q, uniform);
            if (std::isfinite(c) && c <= cost) {
                const double rel_cost = (cost - c) / std::max(cost, 1e-300);
                p = q;
                cost = c;
                jtj = jtj_q;
                jtr = jtr_q;
                lambda = std::max(lambda * 0.1, 1e-12);
                improved = true;
                if (rel_cost < o.tolerance * o.tolerance || cost == 0) converged = true;
                break;
            }
            lambda *= 10.0;
        }
        if (!improved) {
            converged = true;  // no downhill step exists: at a (bounded) minimum
            break;
        }
    }
    fit.s0 = p[0];
    fit.t2_ms = p[1];
    fit.offset = np == 3 ? p[2] : 0.0;
    fit.iterations = it;
    double mean = 0;
    for (int i = 0; i < n; ++i) mean += y[i];
    mean /= n;
    double ss_tot = 0;
    for (int i = 0; i < n; ++i) ss_tot += (y[i] - mean) * (y[i] - mean);
    fit.r2 = ss_tot > 0 ? 1.0 - 2.0 * cost / ss_tot : kNaN;
    const bool at_bound = p[1] <= o.t2_min_ms * (1 + 1e-9) || p[1] >= o.t2_max_ms * (1 - 1e-9);
    fit.status = !converged ? FitStatus::NotConverged : at_bound ? FitStatus::AtBound : FitStatus::Ok;
    return fit;
}

T2Maps fit_t2(const Volume<double>& echoes, const std::vector<double>& te_ms, const Volume<std::uint8_t>* mask,
              const T2FitOptions& o, const ProgressCallback& progress) {
    const std::int64_t ne = echoes.components();
    SPORTSMED_CHECK(static_cast<std::int64_t>(te_ms.size()) == ne,
                    "fit_t2: {} echo times for a volume with {} echoes", te_ms.size(), ne);
    SPORTSMED_CHECK(ne >= 2, "fit_t2: need at least 2 echoes, got {}", ne);
    SPORTSMED_CHECK(o.t2_min_ms > 0 && o.t2_max_ms > o.t2_min_ms, "fit_t2: bounds [{}, {}] ms are invalid",
                    o.t2_min_ms, o.t2_max_ms);
    if (mask)
        SPORTSMED_CHECK(mask->shape() == echoes.shape(),
                        "fit_t2: mask shape ({}, {}, {}) differs from the image shape ({}, {}, {})", mask->shape()[0],
                        mask->shape()[1], mask->shape()[2], echoes.shape()[0], echoes.shape()[1], echoes.shape()[2]);
    const Geometry& g = echoes.geometry();
    T2Maps out{Volume<double>(g, 1, kNaN), Volume<double>(g, 1, kNaN), Volume<double>(g, 1, kNaN),
               Volume<double>(g, 1, kNaN), Volume<std::uint8_t>(g, 1, static_cast<std::uint8_t>(FitStatus::Masked))};
    const std::int64_t nv = echoes.num_voxels();
    ProgressReporter reporter(progress, "fit T2", nv);
    // Dynamic scheduling: workers take blocks from a shared counter, so a mask concentrated
    // in one region still spreads over all threads.
    constexpr std::int64_t kBlock = 1024;
    const std::int64_t nblocks = (nv + kBlock - 1) / kBlock;
    std::atomic<std::int64_t> next{0};
    parallel_for(0, std::max(1, num_threads()), [&](std::int64_t, std::int64_t) {
        std::vector<double> y(static_cast<std::size_t>(ne));
        for (std::int64_t blk = next++; blk < nblocks; blk = next++) {
            const std::int64_t b = blk * kBlock, e = std::min(nv, b + kBlock);
            for (std::int64_t v = b; v < e; ++v) {
                if (mask && !mask->data()[v]) continue;
                for (std::int64_t c = 0; c < ne; ++c) y[static_cast<std::size_t>(c)] = echoes.data()[v + nv * c];
                const T2Fit f = fit_t2_curve(te_ms.data(), y.data(), static_cast<int>(ne), o);
                out.status.data()[v] = static_cast<std::uint8_t>(f.status);
                if (f.status == FitStatus::InvalidData) continue;
                out.t2_ms.data()[v] = f.t2_ms;
                out.s0.data()[v] = f.s0;
                out.offset.data()[v] = f.offset;
                out.r2.data()[v] = f.r2;
            }
            reporter.advance(e - b);
        }
    });
    reporter.finish();
    return out;
}

}  // namespace sportsmed::imaging
