// Butterworth design, filtfilt, spline gap filling and derivatives.

#include "sportsmed/motion/filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <Eigen/LU>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::motion {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The scalar kernels (design, lfilter, filtfilt of a finite segment) are the header-only
// templates of sportsmed/motion/kernels/butterworth.hpp, instantiated for double here.
using kernels::filtfilt_segment;

}  // namespace

FilterCoefficients butter(int order, double wn, FilterKind kind) {
    SPORTSMED_CHECK(order >= 1 && order <= 20, "butter: order {} is outside 1..20", order);
    SPORTSMED_CHECK(wn > 0.0 && wn < 1.0, "butter: normalised cutoff {} must lie in (0, 1) (fraction of Nyquist)", wn);
    kernels::Butterworth<double> f = kernels::butter<double>(order, wn, kind);
    return FilterCoefficients{std::move(f.b), std::move(f.a)};
}

FilterCoefficients butter_hz(int order, double cutoff_hz, double rate_hz, FilterKind kind) {
    SPORTSMED_CHECK(rate_hz > 0, "butter_hz: sampling rate {} Hz must be positive", rate_hz);
    SPORTSMED_CHECK(cutoff_hz > 0 && cutoff_hz < rate_hz / 2,
                    "butter_hz: cutoff {} Hz must lie between 0 and the Nyquist frequency {} Hz", cutoff_hz,
                    rate_hz / 2);
    return butter(order, cutoff_hz / (rate_hz / 2.0), kind);
}

double double_pass_cutoff_hz(double cutoff_hz, double rate_hz, int order) {
    SPORTSMED_CHECK(order >= 1, "double_pass_cutoff_hz: order {} must be >= 1", order);
    SPORTSMED_CHECK(rate_hz > 0 && cutoff_hz > 0 && cutoff_hz < rate_hz / 2,
                    "double_pass_cutoff_hz: cutoff {} Hz must lie in (0, {}) Hz", cutoff_hz, rate_hz / 2);
    const double c = std::pow(std::sqrt(2.0) - 1.0, 1.0 / (2.0 * order));
    const double f = std::atan(std::tan(kPi * cutoff_hz / rate_hz) / c) * rate_hz / kPi;
    SPORTSMED_CHECK(f < rate_hz / 2, "double_pass_cutoff_hz: corrected cutoff {} Hz exceeds Nyquist", f);
    return f;
}

VecXd lfilter_zi(const FilterCoefficients& f) {
    SPORTSMED_CHECK(!f.a.empty() && f.a[0] != 0.0, "lfilter_zi: a[0] must be non-zero");
    return kernels::lfilter_zi<double>(f.b, f.a);
}

namespace {

// filtfilt runs the channels in lockstep, in groups of kLanes whose filter state stays in
// registers. One IIR recursion is latency-bound (each output waits for the previous one);
// kLanes independent channels give the CPU independent work to overlap, two channels per
// SSE2 instruction (portable x86-64, no -march). Eight lanes would spill a 4th-order state
// out of the 16 SSE registers. Per channel the arithmetic is that of kernels::lfilter, so the
// result does not depend on the grouping. The rows of the row-major input are
// taken in tiles of a few rows that stay in L1 while every group of the panel goes over them,
// so the data are read and written in place, without gathering channels into a buffer.
constexpr int kLanes = 4;
#if defined(__GNUC__) && defined(__x86_64__)
#define SPORTSMED_FILTFILT_AVX2 1
#else
#define SPORTSMED_FILTFILT_AVX2 0
#endif
constexpr std::int64_t kPanelChannels = 512;  // channels per panel (the unit of work of threads)
constexpr std::int64_t kTileBytes = 24 * 1024;  // input rows per tile: about this many bytes

// Two doubles, as one SSE2 register (GCC/Clang vector extension; element-wise + - *).
typedef double Lanes2 __attribute__((vector_size(16)));
inline Lanes2 load2(const double* p) {
    Lanes2 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store2(double* p, Lanes2 v) { std::memcpy(p, &v, sizeof v); }

// One lfilter pass (direct form II transposed) over t rows for the w channels of a panel:
// row i of the input at in + i·in_step, of the output at out + i·out_step (steps may be
// negative; in and out may be the same rows). z holds the state (Order rows of w) and is
// updated. The arithmetic per channel is that of kernels::lfilter.
template <int Order>
void lockstep_pass(const double* bp, const double* ap, const double* in, std::int64_t in_step, double* out,
                   std::int64_t out_step, std::int64_t t, double* z, std::int64_t w, std::int64_t c_begin = 0) {
    double bb[Order + 1], aa[Order + 1];
    for (int k = 0; k <= Order; ++k) {
        bb[k] = bp[k];
        aa[k] = ap[k];
    }
    std::int64_t c0 = c_begin;
    for (; c0 + kLanes <= w; c0 += kLanes) {
        // Two-lane vectors spelled out: GCC does not vectorise the lane loop reliably once the
        // row steps are run-time values.
        constexpr int V = kLanes / 2;
        Lanes2 s[Order][V], vb[Order + 1], va[Order + 1];
        for (int k = 0; k <= Order; ++k) {
            vb[k] = Lanes2{bb[k], bb[k]};
            va[k] = Lanes2{aa[k], aa[k]};
        }
        for (int k = 0; k < Order; ++k)
            for (int v = 0; v < V; ++v) s[k][v] = load2(z + k * w + c0 + 2 * v);
        const double* xi = in + c0;
        double* yi = out + c0;
        for (std::int64_t i = 0; i < t; ++i, xi += in_step, yi += out_step) {
            Lanes2 x[V], y[V];
            for (int v = 0; v < V; ++v) {
                x[v] = load2(xi + 2 * v);
                y[v] = vb[0] * x[v] + s[0][v];
            }
            for (int k = 0; k + 1 < Order; ++k)
                for (int v = 0; v < V; ++v) s[k][v] = vb[k + 1] * x[v] + s[k + 1][v] - va[k + 1] * y[v];
            for (int v = 0; v < V; ++v) s[Order - 1][v] = vb[Order] * x[v] - va[Order] * y[v];
            for (int v = 0; v < V; ++v) store2(yi + 2 * v, y[v]);
        }
        for (int k = 0; k < Order; ++k)
            for (int v = 0; v < V; ++v) store2(z + k * w + c0 + 2 * v, s[k][v]);
    }
    for (std::int64_t c = c0; c < w; ++c) {  // the last channels of the panel, one by one
        const double* xi = in + c;
        double* yi = out + c;
        for (std::int64_t i = 0; i < t; ++i, xi += in_step, yi += out_step) {
            const double x = *xi;
            const double y = bb[0] * x + z[c];
            for (int k = 0; k + 1 < Order; ++k) z[k * w + c] = bb[k + 1] * x + z[(k + 1) * w + c] - aa[k + 1] * y;
            z[(Order - 1) * w + c] = bb[Order] * x - aa[Order] * y;
            *yi = y;
        }
    }
}

#if SPORTSMED_FILTFILT_AVX2
// Same pass with 8 lanes in two AVX registers (4 doubles each), for CPUs that have AVX2
// (chosen at run time; the library itself is built for baseline x86-64). No FMA: each
// product and sum is rounded as in the SSE2 and scalar paths, so results are identical.
typedef double Lanes4 __attribute__((vector_size(32)));

template <int Order>
__attribute__((target("avx2"))) void lockstep_pass_avx2(const double* bp, const double* ap, const double* in,
                                                        std::int64_t in_step, double* out, std::int64_t out_step,
                                                        std::int64_t t, double* z, std::int64_t w) {
    constexpr int V = 2, L = 4 * V;
    Lanes4 vb[Order + 1], va[Order + 1];
    for (int k = 0; k <= Order; ++k) {
        vb[k] = Lanes4{bp[k], bp[k], bp[k], bp[k]};
        va[k] = Lanes4{ap[k], ap[k], ap[k], ap[k]};
    }
    std::int64_t c0 = 0;
    for (; c0 + L <= w; c0 += L) {
        Lanes4 s[Order][V];
        for (int k = 0; k < Order; ++k)
            for (int v = 0; v < V; ++v) std::memcpy(&s[k][v], z + k * w + c0 + 4 * v, sizeof(Lanes4));
        const double* xi = in + c0;
        double* yi = out + c0;
        for (std::int64_t i = 0; i < t; ++i, xi += in_step, yi += out_step) {
            Lanes4 x[V], y[V];
            for (int v = 0; v < V; ++v) {
                std::memcpy(&x[v], xi + 4 * v, sizeof(Lanes4));
                y[v] = vb[0] * x[v] + s[0][v];
            }
            for (int k = 0; k + 1 < Order; ++k)
                for (int v = 0; v < V; ++v) s[k][v] = vb[k + 1] * x[v] + s[k + 1][v] - va[k + 1] * y[v];
            for (int v = 0; v < V; ++v) s[Order - 1][v] = vb[Order] * x[v] - va[Order] * y[v];
            for (int v = 0; v < V; ++v) std::memcpy(yi + 4 * v, &y[v], sizeof(Lanes4));
        }
        for (int k = 0; k < Order; ++k)
            for (int v = 0; v < V; ++v) std::memcpy(z + k * w + c0 + 4 * v, &s[k][v], sizeof(Lanes4));
    }
    if (c0 < w) lockstep_pass<Order>(bp, ap, in, in_step, out, out_step, t, z, w, c0);
}
#endif

// Asks for the cache lines of t rows of w doubles (row i at p + i·stride) ahead of use: a
// group of lanes reads a row's line only once every other group, too late for the hardware
// prefetchers, which do not follow rows thousands of bytes apart.
inline void prefetch_rows(const double* p, std::int64_t stride, std::int64_t t, std::int64_t w, bool write) {
#if defined(__GNUC__)
    for (std::int64_t i = 0; i < t; ++i, p += stride)
        for (std::int64_t c = 0; c < w + 8; c += 8) {
            if (write) __builtin_prefetch(p + std::min(c, w - 1), 1, 3);
            else __builtin_prefetch(p + std::min(c, w - 1), 0, 3);
        }
#else
    (void)p, (void)stride, (void)t, (void)w, (void)write;
#endif
}

// filtfilt of channels [c0, c0 + w) of x into out with the odd extension of padlen samples:
// the forward pass, then the backward pass walking the rows in reverse, in place in out
// (lfilter of the time-reversed signal, stored back reversed). A channel holding a NaN or an
// inf comes out non-finite in row 0 (the recursion carries it everywhere).
template <int Order, bool Avx2>
void lockstep_filtfilt(const std::vector<double>& b, const std::vector<double>& a, const VecXd& zi,
                       const RowMatXdCRef& x, Eigen::Ref<RowMatXd>& out, std::int64_t c0, std::int64_t w,
                       std::int64_t padlen, std::vector<double>& scratch) {
    const std::int64_t rows = x.rows(), xs = x.outerStride(), os = out.outerStride();
    scratch.resize(static_cast<std::size_t>((Order + 2 * padlen) * w));
    double* z = scratch.data();
    double* head = z + Order * w;         // ext[0, padlen): 2 x[0] - x[padlen - i]
    double* tail = head + padlen * w;     // ext[n + i]: 2 x[n-1] - x[n-2-i]
    const double* x0 = x.data() + c0;
    const double* xl = x0 + (rows - 1) * xs;
    double* o0 = out.data() + c0;
    for (std::int64_t i = 0; i < padlen; ++i) {
        const double* xh = x0 + (padlen - i) * xs;
        const double* xt = x0 + (rows - 2 - i) * xs;
        for (std::int64_t c = 0; c < w; ++c) {
            head[i * w + c] = 2.0 * x0[c] - xh[c];
            tail[i * w + c] = 2.0 * xl[c] - xt[c];
        }
    }
    const std::int64_t tile = std::max<std::int64_t>(4, kTileBytes / (8 * w));
    auto pass = [](const double* bp, const double* ap, const double* in, std::int64_t in_step, double* out,
                   std::int64_t out_step, std::int64_t t, double* z, std::int64_t w) {
#if SPORTSMED_FILTFILT_AVX2
        if constexpr (Avx2) {
            lockstep_pass_avx2<Order>(bp, ap, in, in_step, out, out_step, t, z, w);
            return;
        }
#endif
        lockstep_pass<Order>(bp, ap, in, in_step, out, out_step, t, z, w);
    };
    // Forward: state zi · ext[0]; the outputs over the head are not needed.
    for (int k = 0; k < Order; ++k)
        for (std::int64_t c = 0; c < w; ++c) z[k * w + c] = zi[k] * head[c];
    pass(b.data(), a.data(), head, w, head, w, padlen, z, w);
    for (std::int64_t r = 0; r < rows; r += tile) {
        const std::int64_t next = r + tile, t = std::min(tile, rows - next);
        if (t > 0) {
            prefetch_rows(x0 + next * xs, xs, t, w, false);
            prefetch_rows(o0 + next * os, os, t, w, true);
        }
        pass(b.data(), a.data(), x0 + r * xs, xs, o0 + r * os, os, std::min(tile, rows - r), z, w);
    }
    pass(b.data(), a.data(), tail, w, tail, w, padlen, z, w);
    // Backward from the last padded sample: state zi · y[m-1]; the head is not needed.
    double* last = tail + (padlen - 1) * w;
    for (int k = 0; k < Order; ++k)
        for (std::int64_t c = 0; c < w; ++c) z[k * w + c] = zi[k] * last[c];
    pass(b.data(), a.data(), last, -w, last, -w, padlen, z, w);
    for (std::int64_t r = rows; r > 0; r -= tile) {
        const std::int64_t t = std::min(tile, r), next = std::min(tile, r - t);
        if (next > 0) prefetch_rows(o0 + (r - t - next) * os, os, next, w, true);
        double* row = o0 + (r - 1) * os;
        pass(b.data(), a.data(), row, -os, row, -os, t, z, w);
    }
}

using LockstepFn = void (*)(const std::vector<double>&, const std::vector<double>&, const VecXd&,
                            const RowMatXdCRef&, Eigen::Ref<RowMatXd>&, std::int64_t, std::int64_t, std::int64_t,
                            std::vector<double>&);

template <bool Avx2>
LockstepFn lockstep_for(std::size_t order) {
    switch (order) {
        case 1: return &lockstep_filtfilt<1, Avx2>;
        case 2: return &lockstep_filtfilt<2, Avx2>;
        case 3: return &lockstep_filtfilt<3, Avx2>;
        case 4: return &lockstep_filtfilt<4, Avx2>;
        case 5: return &lockstep_filtfilt<5, Avx2>;
        case 6: return &lockstep_filtfilt<6, Avx2>;
        case 7: return &lockstep_filtfilt<7, Avx2>;
        case 8: return &lockstep_filtfilt<8, Avx2>;
        default: return nullptr;
    }
}

// The AVX2 kernel where the CPU has it (and SPORTSMED_FILTFILT_NO_AVX2 is not set in the
// environment, which tests use to compare the two), else SSE2.
LockstepFn lockstep_for(std::size_t order) {
#if SPORTSMED_FILTFILT_AVX2
    static const bool avx2 = __builtin_cpu_supports("avx2") && !std::getenv("SPORTSMED_FILTFILT_NO_AVX2");
    if (avx2) return lockstep_for<true>(order);
#endif
    return lockstep_for<false>(order);
}

// filtfilt of one channel with NaN gaps: each finite run on its own (filtfilt_segment).
void filtfilt_channel(const std::vector<double>& b, const std::vector<double>& a, const VecXd& zi,
                      const RowMatXdCRef& x, std::int64_t c, Eigen::Ref<RowMatXd>& out, std::vector<double>& col,
                      std::vector<double>& res, std::vector<double>& ext, std::vector<double>& tmp,
                      std::vector<double>& state) {
    const std::int64_t rows = x.rows();
    col.resize(rows);
    res.resize(rows);
    for (std::int64_t r = 0; r < rows; ++r) col[r] = x(r, c);
    std::int64_t r = 0;
    while (r < rows) {
        if (!std::isfinite(col[r])) {
            res[r] = col[r];
            ++r;
            continue;
        }
        std::int64_t e = r;
        while (e < rows && std::isfinite(col[e])) ++e;
        filtfilt_segment(b, a, zi, col.data() + r, e - r, res.data() + r, ext, tmp, state);
        r = e;
    }
    for (std::int64_t i = 0; i < rows; ++i) out(i, c) = res[i];
}

}  // namespace

void filtfilt(const FilterCoefficients& f, const RowMatXdCRef& x, Eigen::Ref<RowMatXd> out) {
    SPORTSMED_CHECK(!f.a.empty() && !f.b.empty() && f.a[0] != 0.0, "filtfilt: empty coefficients or a[0] = 0");
    const std::size_t n = std::max(f.a.size(), f.b.size());
    std::vector<double> a(n, 0.0), b(n, 0.0);
    for (std::size_t i = 0; i < f.a.size(); ++i) a[i] = f.a[i] / f.a[0];
    for (std::size_t i = 0; i < f.b.size(); ++i) b[i] = f.b[i] / f.a[0];
    const VecXd zi = lfilter_zi(FilterCoefficients{b, a});
    const std::int64_t rows = x.rows(), cols = x.cols();
    SPORTSMED_CHECK(out.rows() == rows && out.cols() == cols, "filtfilt: output is {}x{}, input {}x{}", out.rows(),
                    out.cols(), rows, cols);
    if (rows == 0 || cols == 0) return;
    const LockstepFn lockstep = rows >= 2 ? lockstep_for(n - 1) : nullptr;
    if (!lockstep) {  // one sample, or an order above 8: channel by channel
        parallel_for(0, cols, [&](std::int64_t c0, std::int64_t c1) {
            std::vector<double> col, res, ext, tmp, state;
            for (std::int64_t c = c0; c < c1; ++c) filtfilt_channel(b, a, zi, x, c, out, col, res, ext, tmp, state);
        });
        return;
    }
    // Pad as filtfilt_segment does for a finite channel of `rows` samples.
    const std::int64_t padlen = std::min<std::int64_t>(3 * static_cast<std::int64_t>(n), rows - 1);
    // Panels of at most kPanelChannels, at least one per thread, widths a multiple of 8
    // channels (a cache line) so that threads do not write into the same lines.
    const std::int64_t threads = std::max(1, num_threads());
    std::int64_t panels = (cols + kPanelChannels - 1) / kPanelChannels;
    panels = (panels + threads - 1) / threads * threads;
    const std::int64_t width = std::max<std::int64_t>(8, ((cols + panels - 1) / panels + 7) / 8 * 8);
    panels = (cols + width - 1) / width;
    parallel_for(0, panels, [&](std::int64_t p0, std::int64_t p1) {
        std::vector<double> scratch, col, res, ext, tmp, state;
        for (std::int64_t p = p0; p < p1; ++p) {
            const std::int64_t c0 = p * width, w = std::min(width, cols - c0);
            lockstep(b, a, zi, x, out, c0, w, padlen, scratch);
            // A channel with NaN gaps (or inf) is redone on its own, segment by segment.
            for (std::int64_t c = c0; c < c0 + w; ++c)
                if (!std::isfinite(out(0, c))) filtfilt_channel(b, a, zi, x, c, out, col, res, ext, tmp, state);
        }
    });
}

RowMatXd filtfilt(const FilterCoefficients& f, const RowMatXdCRef& x) {
    RowMatXd out(x.rows(), x.cols());
    filtfilt(f, x, out);
    return out;
}

RowMatXd lowpass(const RowMatXdCRef& x, double rate_hz, double cutoff_hz, int order, bool correct_double_pass) {
    const double fc = correct_double_pass ? double_pass_cutoff_hz(cutoff_hz, rate_hz, order) : cutoff_hz;
    return filtfilt(butter_hz(order, fc, rate_hz), x);
}

RowMatXd fill_gaps_spline(const RowMatXdCRef& x, std::int64_t max_gap) {
    SPORTSMED_CHECK(max_gap >= 0, "fill_gaps_spline: max_gap {} must be >= 0", max_gap);
    const std::int64_t rows = x.rows(), cols = x.cols();
    RowMatXd out = x;
    parallel_for(0, cols, [&](std::int64_t c0, std::int64_t c1) {
        std::vector<double> t, y, h, diag, upper, rhs, m2;
        for (std::int64_t c = c0; c < c1; ++c) {
            t.clear();
            y.clear();
            for (std::int64_t r = 0; r < rows; ++r)
                if (std::isfinite(x(r, c))) {
                    t.push_back(double(r));
                    y.push_back(x(r, c));
                }
            const std::size_t n = t.size();
            if (n < 2 || static_cast<std::int64_t>(n) == rows) continue;
            // Natural spline: second derivatives M with M_0 = M_{n-1} = 0 (tridiagonal, Thomas).
            m2.assign(n, 0.0);
            if (n > 2) {
                const std::size_t k = n - 2;
                h.resize(n - 1);
                for (std::size_t i = 0; i + 1 < n; ++i) h[i] = t[i + 1] - t[i];
                diag.resize(k);
                upper.resize(k);
                rhs.resize(k);
                for (std::size_t i = 0; i < k; ++i) {
                    diag[i] = 2.0 * (h[i] + h[i + 1]);
                    upper[i] = h[i + 1];
                    rhs[i] = 6.0 * ((y[i + 2] - y[i + 1]) / h[i + 1] - (y[i + 1] - y[i]) / h[i]);
                }
                for (std::size_t i = 1; i < k; ++i) {
                    const double w = h[i] / diag[i - 1];
                    diag[i] -= w * upper[i - 1];
                    rhs[i] -= w * rhs[i - 1];
                }
                m2[k] = rhs[k - 1] / diag[k - 1];
                for (std::size_t i = k - 1; i-- > 0;) m2[i + 1] = (rhs[i] - upper[i] * m2[i + 2]) / diag[i];
            }
            // Fill the interior gaps that are short enough.
            for (std::size_t i = 0; i + 1 < n; ++i) {
                const std::int64_t gap = static_cast<std::int64_t>(t[i + 1] - t[i]) - 1;
                if (gap <= 0 || gap > max_gap) continue;
                const double hi = t[i + 1] - t[i];
                for (std::int64_t r = static_cast<std::int64_t>(t[i]) + 1; r < static_cast<std::int64_t>(t[i + 1]); ++r) {
                    const double A = (t[i + 1] - r) / hi, B = (r - t[i]) / hi;
                    out(r, c) = A * y[i] + B * y[i + 1] +
                                ((A * A * A - A) * m2[i] + (B * B * B - B) * m2[i + 1]) * hi * hi / 6.0;
                }
            }
        }
    });
    return out;
}

RowMatXd derivative(const RowMatXdCRef& x, double rate_hz) {
    SPORTSMED_CHECK(rate_hz > 0, "derivative: rate {} Hz must be positive", rate_hz);
    const std::int64_t n = x.rows();
    SPORTSMED_CHECK(n >= 2, "derivative: needs at least 2 samples, got {}", n);
    RowMatXd out(n, x.cols());
    out.row(0) = (x.row(1) - x.row(0)) * rate_hz;
    out.row(n - 1) = (x.row(n - 1) - x.row(n - 2)) * rate_hz;
    if (n > 2) out.middleRows(1, n - 2) = (x.bottomRows(n - 2) - x.topRows(n - 2)) * (rate_hz / 2.0);
    return out;
}

RowMatXd resample_linear(const RowMatXdCRef& x, double rate_hz, double new_rate_hz) {
    SPORTSMED_CHECK(rate_hz > 0 && new_rate_hz > 0, "resample_linear: rates must be positive ({} → {} Hz)", rate_hz,
                    new_rate_hz);
    const std::int64_t n = x.rows();
    if (n == 0) return RowMatXd(0, x.cols());
    const double span = double(n - 1) / rate_hz;
    const std::int64_t m = static_cast<std::int64_t>(std::floor(span * new_rate_hz + 1e-9)) + 1;
    RowMatXd out(m, x.cols());
    for (std::int64_t i = 0; i < m; ++i) {
        const double pos = double(i) / new_rate_hz * rate_hz;
        const std::int64_t j = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor(pos)), n - 1);
        const double w = pos - double(j);
        if (j + 1 >= n || w == 0.0) out.row(i) = x.row(j);
        else out.row(i) = (1.0 - w) * x.row(j) + w * x.row(j + 1);
    }
    return out;
}

}  // namespace sportsmed::motion
