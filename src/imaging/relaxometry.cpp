// Mono-exponential T2 fit: log-linear start, then bounded Levenberg–Marquardt; the
// noise-floor model by variable projection.

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

// 1 − SS_res / SS_tot of a fit whose cost is ½ SS_res; NaN for a constant curve.
double r_squared(const double* y, int n, double cost) {
    double mean = 0;
    for (int i = 0; i < n; ++i) mean += y[i];
    mean /= n;
    double ss_tot = 0;
    for (int i = 0; i < n; ++i) ss_tot += (y[i] - mean) * (y[i] - mean);
    return ss_tot > 0 ? 1.0 - 2.0 * cost / ss_tot : kNaN;
}

// For a fixed T2, the model S0·e + C is linear: the best S0 ≥ 0, C ≥ 0 in closed form (the
// 2×2 normal equations, else the better of the two one-parameter fits on the boundary).
// Returns ½Σr².
double floor_fit_at(const double* t, const double* y, int n, double t2, double& s0, double& c) {
    double see = 0, se = 0, sy = 0, sey = 0;
    for (int i = 0; i < n; ++i) {
        const double e = std::exp(-t[i] / t2);
        see += e * e, se += e, sy += y[i], sey += e * y[i];
    }
    // ½Σ(a e + b − y)² summed from the residuals themselves: near a perfect fit the
    // expanded form cancels catastrophically and flattens the search.
    auto cost = [&](double a, double b) {
        double sum = 0;
        for (int i = 0; i < n; ++i) {
            const double r = a * std::exp(-t[i] / t2) + b - y[i];
            sum += r * r;
        }
        return 0.5 * sum;
    };
    const double det = see * n - se * se;
    if (det > 1e-12 * see * n) {
        const double a = (sey * n - se * sy) / det, b = (see * sy - se * sey) / det;
        if (a >= 0 && b >= 0) {
            s0 = a, c = b;
            return cost(a, b);
        }
    }
    const double a1 = see > 0 ? std::max(0.0, sey / see) : 0.0, b2 = std::max(0.0, sy / n);
    const double c1 = cost(a1, 0.0), c2 = cost(0.0, b2);
    if (c1 <= c2) s0 = a1, c = 0.0;
    else s0 = 0.0, c = b2;
    return std::min(c1, c2);
}

// The noise-floor model by variable projection (Golub & Pereyra 1973): S0 and C are solved
// exactly for each T2, leaving a one-dimensional search over log T2 within the bounds — a
// log-spaced scan for the basin, then golden-section refinement. Levenberg–Marquardt on all
// three parameters stalls on this model's flat valleys (a third of noisy curves stopped
// short of curve_fit's optimum).
T2Fit fit_noise_floor(const double* t, const double* y, int n, const T2FitOptions& o) {
    T2Fit fit;
    const double lo = std::log(o.t2_min_ms), hi = std::log(o.t2_max_ms);
    constexpr int kScan = 64;
    double best = std::numeric_limits<double>::infinity();
    int arg = 0, evals = 0;
    double s0 = 0, c = 0;
    for (int k = 0; k < kScan; ++k) {
        const double u = lo + (hi - lo) * k / (kScan - 1);
        const double f = floor_fit_at(t, y, n, std::exp(u), s0, c);
        ++evals;
        if (f < best) best = f, arg = k;
    }
    double a = lo + (hi - lo) * std::max(0, arg - 1) / (kScan - 1);
    double b = lo + (hi - lo) * std::min(kScan - 1, arg + 1) / (kScan - 1);
    const double g = 0.5 * (std::sqrt(5.0) - 1.0);
    double x1 = b - g * (b - a), x2 = a + g * (b - a);
    double f1 = floor_fit_at(t, y, n, std::exp(x1), s0, c), f2 = floor_fit_at(t, y, n, std::exp(x2), s0, c);
    evals += 2;
    while (b - a > o.tolerance * std::max(1.0, std::abs(a)) && evals < 64 + 4 * std::max(o.max_iterations, 50)) {
        if (f1 <= f2) {
            b = x2, x2 = x1, f2 = f1;
            x1 = b - g * (b - a);
            f1 = floor_fit_at(t, y, n, std::exp(x1), s0, c);
        } else {
            a = x1, x1 = x2, f1 = f2;
            x2 = a + g * (b - a);
            f2 = floor_fit_at(t, y, n, std::exp(x2), s0, c);
        }
        ++evals;
    }
    const bool converged = b - a <= o.tolerance * std::max(1.0, std::abs(a));
    // The best of the refined point and the scan's ends (a minimum on a bound stays there).
    double u = f1 <= f2 ? x1 : x2;
    double cost = floor_fit_at(t, y, n, std::exp(u), s0, c);
    for (const double edge : {lo, hi}) {
        double es0, ec;
        const double f = floor_fit_at(t, y, n, std::exp(edge), es0, ec);
        if (f < cost) cost = f, u = edge, s0 = es0, c = ec;
    }
    fit.t2_ms = std::clamp(std::exp(u), o.t2_min_ms, o.t2_max_ms);
    cost = floor_fit_at(t, y, n, fit.t2_ms, s0, c);
    fit.s0 = s0;
    fit.offset = c;
    fit.iterations = evals;
    fit.r2 = r_squared(y, n, cost);
    const bool at_bound = fit.t2_ms <= o.t2_min_ms * (1 + 1e-9) || fit.t2_ms >= o.t2_max_ms * (1 - 1e-9);
    fit.status = !converged ? FitStatus::NotConverged : at_bound ? FitStatus::AtBound : FitStatus::Ok;
    return fit;
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
    if (o.noise_floor) return fit_noise_floor(t, y, n, o);
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
    fit.r2 = r_squared(y, n, cost);
    const bool at_bound = p[1] <= o.t2_min_ms * (1 + 1e-9) || p[1] >= o.t2_max_ms * (1 - 1e-9);
    fit.status = !converged ? FitStatus::NotConverged : at_bound ? FitStatus::AtBound : FitStatus::Ok;
    return fit;
}

T2Maps fit_t2(const Volume<double>& echoes, const std::vector<double>& te_ms, const Volume<std::uint8_t>* mask,
              const T2FitOptions& o, const ProgressCallback& progress) {
    const std::int64_t ne = echoes.components();
    SPORTSMED_CHECK(static_cast<std::int64_t>(te_ms.size()) == ne,
                    "fit_t2: {} echo times for a volume with {} echoes", te_ms.size(), ne);
    SPORTSMED_CHECK(ne >= (o.noise_floor ? 3 : 2), "fit_t2: need at least {} echoes{}, got {}",
                    o.noise_floor ? 3 : 2, o.noise_floor ? " to fit a noise floor" : "", ne);
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
