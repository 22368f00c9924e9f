// Penalised logistic regression by (proximal) Newton iterations.

#include "sportsmed/risk/logistic.hpp"

#include <cmath>
#include <limits>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <Eigen/Cholesky>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::risk {
namespace {

double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    const double e = std::exp(z);
    return e / (1.0 + e);
}
double soft(double v, double t) { return v > t ? v - t : (v < -t ? v + t : 0.0); }

// The design matrix [x 1] is copied once into column-major blocks so that every kernel
// below runs along rows in SIMD registers (the row-major numpy input would need a
// horizontal sum per row). The kernels are plain loops over GCC vector types, compiled
// twice by target_clones (AVX2 + FMA, and the baseline ISA) and picked at load time from
// the CPU: the build flags stay those of every other translation unit (no -march), yet
// the Hessian runs at FMA speed where the CPU has it.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SPORTSMED_RISK_SIMD __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SPORTSMED_RISK_SIMD
#endif

typedef double v4d __attribute__((vector_size(32)));

// Always inlined into the kernels, so they take the kernel's ISA (GCC's warning about the
// ABI of returning v4d, given at the end of the file, does not apply to them).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define SPORTSMED_RISK_INLINE inline __attribute__((always_inline))
SPORTSMED_RISK_INLINE v4d load4(const double* p) {
    v4d v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
SPORTSMED_RISK_INLINE void store4(double* p, const v4d& v) { std::memcpy(p, &v, sizeof v); }
SPORTSMED_RISK_INLINE double hsum(const v4d& v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// Rows per block (a multiple of 8): a block's columns (24 × 128 doubles for p ≤ 23,
// 24 KiB) and their single-precision copies stay in the first cache levels across the
// passes over them in one evaluation.
constexpr Eigen::Index kRows = 128;

typedef std::int64_t v4l __attribute__((vector_size(32)));

// exp(x) for x ≤ 0, to about 1 ulp: x = k·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of
// ln2), exp(r) by its Taylor polynomial of degree 13 (truncation < 5e-18 relative), 2^k
// placed in the exponent bits. x below −708 is clamped there: exp(−708) ≈ 3e−308 is
// already negligible next to 1 in every use below, and 2^k stays a normal number.
SPORTSMED_RISK_INLINE v4d exp_nonpositive(const v4d& x_in) {
    const v4d lo = {-708.0, -708.0, -708.0, -708.0};
    const v4d x = x_in < lo ? lo : x_in;
    const double shifter = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
    const v4d kf_shifted = x * 1.4426950408889634 + shifter;
    const v4d kf = kf_shifted - shifter;
    const v4d shifters = {shifter, shifter, shifter, shifter};
    const v4l k = (v4l)kf_shifted - (v4l)shifters;  // same binade: the bit patterns differ by k
    const v4d r = (x - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10;
    v4d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;  // 1/13!, 1/12!
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * (v4d)((k + 1023) << 52);
}

// log(1 + e) for 0 ≤ e ≤ 1 without cancellation for small e: 2·atanh(s) with
// s = e / (2 + e) ≤ 1/3, by its series Σ s^(2i+1)/(2i+1) to i = 16 (the rest < 1e-18
// relative).
SPORTSMED_RISK_INLINE v4d log1p_unit(const v4d& e) {
    const v4d s = e / (e + 2.0);
    const v4d s2 = s * s;
    v4d p = s2 * (1.0 / 33.0) + 1.0 / 31.0;
    for (int i = 14; i >= 0; --i) p = p * s2 + 1.0 / (2 * i + 1);
    return 2.0 * s * p;
}

// One block of rows of the objective's evaluation (len a multiple of 4; column j of the
// block at a + j·ld): z = A·th, then per row the loss s·(log(1 + e^z) − y·z), the
// residual r = C·s·(σ(z) − y) and, when d is given, the Hessian weight C·s·σ(1 − σ);
// g[j] += Σ a_j·r. Returns the block's loss sum. z and r are scratch of len values.
SPORTSMED_RISK_SIMD
double block_eval(const double* a, std::int64_t ld, std::int64_t m, std::int64_t len, const double* th,
                  const double* y, const double* s, double C, double* z, double* r, double* d, double* g) {
    std::int64_t k = 0;
    for (; k + 16 <= len; k += 16) {  // four independent FMA chains hide the FMA latency
        v4d z0 = {0, 0, 0, 0}, z1 = z0, z2 = z0, z3 = z0;
        for (std::int64_t j = 0; j < m; ++j) {
            const double* c = a + j * ld + k;
            const double w = th[j];
            z0 += w * load4(c);
            z1 += w * load4(c + 4);
            z2 += w * load4(c + 8);
            z3 += w * load4(c + 12);
        }
        store4(z + k, z0);
        store4(z + k + 4, z1);
        store4(z + k + 8, z2);
        store4(z + k + 12, z3);
    }
    for (; k < len; k += 4) {
        v4d acc = {0, 0, 0, 0};
        for (std::int64_t j = 0; j < m; ++j) acc += th[j] * load4(a + j * ld + k);
        store4(z + k, acc);
    }
    v4d fsum = {0, 0, 0, 0};
    const v4d zero = {0, 0, 0, 0};
    for (k = 0; k < len; k += 4) {
        const v4d zk = load4(z + k), yk = load4(y + k), sk = load4(s + k);
        const v4d neg = zk < zero ? zk : -zk;  // −|z|
        const v4d e = exp_nonpositive(neg);  // in (0, 1]: never overflows
        fsum += sk * ((zk > zero ? zk : zero) + log1p_unit(e) - yk * zk);
        const v4d inv = 1.0 / (1.0 + e);
        const v4d q = zk >= zero ? inv : e * inv;  // σ(z) without overflow
        store4(r + k, C * sk * (q - yk));
        if (d) store4(d + k, C * sk * q * (1.0 - q));
    }
    for (std::int64_t j = 0; j < m; ++j) {
        const double* c = a + j * ld;
        v4d acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
        for (k = 0; k + 8 <= len; k += 8) {
            acc0 += load4(c + k) * load4(r + k);
            acc1 += load4(c + k + 4) * load4(r + k + 4);
        }
        for (; k < len; k += 4) acc0 += load4(c + k) * load4(r + k);
        g[j] += hsum(acc0 + acc1);
    }
    return hsum(fsum);
}

typedef float v8f __attribute__((vector_size(32)));
SPORTSMED_RISK_INLINE v8f load8(const float* p) {
    v8f v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
SPORTSMED_RISK_INLINE double hsum(const v8f& v) {
    return (double(v[0]) + double(v[1])) + (double(v[2]) + double(v[3])) + (double(v[4]) + double(v[5])) +
           (double(v[6]) + double(v[7]));
}

// Lower triangle of h (m × m within an mp × mp row-major array; mp a multiple of 4)
// += Σ_k d[k] a_j[k] a_l[k], the weighted Gram matrix of one block of len rows (a
// multiple of 8), from the single-precision copy af of the columns (twice the SIMD width
// of double; each block's sums of ≤ 128 products are added into h in double). The
// Hessian only steers the Newton step while the gradient, formed in double, fixes the
// optimum: the solution is the exact one, and a relative error of ~1e-6 in the Hessian
// leaves the convergence rate as it is. u (mp × len) receives d ∘ a_j; tiles of 2 rows
// of u × 4 columns of af keep 8 accumulators in registers (6 loads per 8 FMAs).
SPORTSMED_RISK_SIMD
void block_hessian(const float* af, std::int64_t ld, std::int64_t m, std::int64_t mp, std::int64_t len,
                   const double* d, float* u, double* h) {
    float* dl = u + mp * len;  // d in single precision
    for (std::int64_t k = 0; k < len; ++k) dl[k] = static_cast<float>(d[k]);
    for (std::int64_t j = 0; j < m; ++j)
        for (std::int64_t k = 0; k < len; k += 8) {
            const v8f v = load8(dl + k) * load8(af + j * ld + k);
            std::memcpy(u + j * len + k, &v, sizeof v);
        }
    if (m % 2) std::memset(u + m * len, 0, sizeof(float) * len);  // the pair partner of row m − 1
    for (std::int64_t j0 = 0; j0 < m; j0 += 2) {
        const float* u0 = u + j0 * len;
        const float* u1 = u0 + len;
        for (std::int64_t l0 = 0; l0 <= j0 + 1 && l0 < m; l0 += 4) {
            const float* c = af + l0 * ld;
            v8f s00 = {}, s01 = {}, s02 = {}, s03 = {}, s10 = {}, s11 = {}, s12 = {}, s13 = {};
            for (std::int64_t k = 0; k < len; k += 8) {
                const v8f x0 = load8(c + k), x1 = load8(c + ld + k), x2 = load8(c + 2 * ld + k),
                          x3 = load8(c + 3 * ld + k);
                const v8f w0 = load8(u0 + k), w1 = load8(u1 + k);
                s00 += w0 * x0;
                s01 += w0 * x1;
                s02 += w0 * x2;
                s03 += w0 * x3;
                s10 += w1 * x0;
                s11 += w1 * x1;
                s12 += w1 * x2;
                s13 += w1 * x3;
            }
            double* h0 = h + j0 * mp + l0;
            double* h1 = h0 + mp;
            h0[0] += hsum(s00);
            h0[1] += hsum(s01);
            h0[2] += hsum(s02);
            h0[3] += hsum(s03);
            h1[0] += hsum(s10);
            h1[1] += hsum(s11);
            h1[2] += hsum(s12);
            h1[3] += hsum(s13);
        }
    }
}

// [x 1] in blocks of kRows rows, each block column-major and contiguous (column j of
// block b at a + (b·mp + j)·kRows: one sequential stream per block for the prefetcher);
// ld = blocks·kRows rows (the rows past n zero) and mp columns (m = p + intercept rounded
// up to 4, the extra columns zero); af is the same in single precision, for the Hessian.
struct Design {
    std::unique_ptr<double[]> a;
    std::unique_ptr<float[]> af;
    std::int64_t n = 0, ld = 0, blocks = 0, m = 0, mp = 0;
};

typedef float v4f __attribute__((vector_size(16)));

// Rows [r0, r1) of the row-major x (row stride `stride`) into the blocks of a and af,
// 8 rows at a time (whole 32-byte stores); r0 and r1 are multiples of 8. Returns false
// when one of the values is not finite (v − v is then NaN, unequal to 0).
SPORTSMED_RISK_SIMD
bool pack_rows(const double* x, std::int64_t stride, std::int64_t p, std::int64_t r0, std::int64_t r1, double* a,
               float* af, std::int64_t mp) {
    const v4d zero = {0, 0, 0, 0};
    v4l ok = {-1, -1, -1, -1};
    const auto put = [&](std::int64_t o, const v4d& lo, const v4d& hi) {
        ok &= (lo - lo == zero) & (hi - hi == zero);
        store4(a + o, lo);
        store4(a + o + 4, hi);
        const v4f flo = __builtin_convertvector(lo, v4f), fhi = __builtin_convertvector(hi, v4f);
        std::memcpy(af + o, &flo, sizeof flo);
        std::memcpy(af + o + 4, &fhi, sizeof fhi);
    };
    // 4 × 4 transposes in registers: rows in, columns out
    const auto transpose = [](const double* c, std::int64_t s, v4d& c0, v4d& c1, v4d& c2, v4d& c3) {
        const v4d r0 = load4(c), r1 = load4(c + s), r2 = load4(c + 2 * s), r3 = load4(c + 3 * s);
        // GCC's __builtin_shuffle takes the indices as a vector, clang's
        // __builtin_shufflevector as constants (the fuzz/ build compiles this with clang).
#if defined(__clang__)
#define SPORTSMED_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define SPORTSMED_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, v4l{i0, i1, i2, i3})
#endif
        const v4d t0 = SPORTSMED_SHUFFLE(r0, r1, 0, 4, 2, 6), t1 = SPORTSMED_SHUFFLE(r0, r1, 1, 5, 3, 7);
        const v4d t2 = SPORTSMED_SHUFFLE(r2, r3, 0, 4, 2, 6), t3 = SPORTSMED_SHUFFLE(r2, r3, 1, 5, 3, 7);
        c0 = SPORTSMED_SHUFFLE(t0, t2, 0, 1, 4, 5);
        c1 = SPORTSMED_SHUFFLE(t1, t3, 0, 1, 4, 5);
        c2 = SPORTSMED_SHUFFLE(t0, t2, 2, 3, 6, 7);
        c3 = SPORTSMED_SHUFFLE(t1, t3, 2, 3, 6, 7);
#undef SPORTSMED_SHUFFLE
    };
    for (std::int64_t i = r0; i < r1; i += 8) {
        const double* row = x + i * stride;
        const std::int64_t base = (i / kRows) * mp * kRows + i % kRows;
        std::int64_t j = 0;
        for (; j + 4 <= p; j += 4) {
            v4d l0, l1, l2, l3, h0, h1, h2, h3;
            transpose(row + j, stride, l0, l1, l2, l3);
            transpose(row + 4 * stride + j, stride, h0, h1, h2, h3);
            put(base + j * kRows, l0, h0);
            put(base + (j + 1) * kRows, l1, h1);
            put(base + (j + 2) * kRows, l2, h2);
            put(base + (j + 3) * kRows, l3, h3);
        }
        for (; j < p; ++j) {
            const double* c = row + j;
            const v4d lo = {c[0], c[stride], c[2 * stride], c[3 * stride]};
            const v4d hi = {c[4 * stride], c[5 * stride], c[6 * stride], c[7 * stride]};
            put(base + j * kRows, lo, hi);
        }
    }
    return ok[0] & ok[1] & ok[2] & ok[3];
}

// Copies x into a Design; returns false when x holds a non-finite value.
bool pack_design(const RowMatXdCRef& x, bool icpt, std::int64_t parts_n, Design& des) {
    const std::int64_t n = x.rows(), p = x.cols();
    des.n = n;
    des.blocks = (n + kRows - 1) / kRows;
    des.ld = des.blocks * kRows;
    des.m = p + (icpt ? 1 : 0);
    des.mp = (des.m + 3) / 4 * 4;
    const std::int64_t ld = des.ld, mp = des.mp, stride = x.outerStride();
    des.a.reset(new double[static_cast<size_t>(ld * mp)]);
    des.af.reset(new float[static_cast<size_t>(ld * mp)]);
    double* a = des.a.get();
    float* af = des.af.get();
    const std::int64_t groups = n / 8;  // whole groups of 8 rows; the rest below
    std::vector<char> ok(static_cast<size_t>(parts_n), 1);
    parallel_for(0, parts_n, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t part = b0; part < b1; ++part)
            ok[static_cast<size_t>(part)] = pack_rows(x.data(), stride, p, 8 * (groups * part / parts_n),
                                                      8 * (groups * (part + 1) / parts_n), a, af, mp);
    });
    bool finite = std::all_of(ok.begin(), ok.end(), [](char c) { return c != 0; });
    for (std::int64_t b = 0; b < des.blocks; ++b) {
        const std::int64_t i0 = b * kRows, i1 = i0 + kRows, tail = std::max(i0, 8 * groups);
        for (std::int64_t j = 0; j < mp; ++j) {
            double* c = a + (b * mp + j) * kRows - i0;  // c[i] is row i
            float* cf = af + (b * mp + j) * kRows - i0;
            if (j < p) {  // the rows past the whole groups of 8
                for (std::int64_t i = tail; i < i1; ++i) {
                    const double v = i < n ? x(i, j) : 0.0;
                    finite &= std::isfinite(v);
                    c[i] = v;
                    cf[i] = static_cast<float>(v);
                }
            } else {  // the intercept's ones on the rows of x, zeros elsewhere
                const double v = icpt && j == p ? 1.0 : 0.0;
                const std::int64_t real = std::clamp(n, i0, i1);
                std::fill(c + i0, c + real, v);
                std::fill(c + real, c + i1, 0.0);
                std::fill(cf + i0, cf + real, static_cast<float>(v));
                std::fill(cf + real, cf + i1, 0.0f);
            }
        }
    }
    return finite;
}

// A problem on the rows of one design: padded labels yp and weights sp (zero weight on
// the rows ld adds, which then contribute nothing to the loss, the gradient or the
// Hessian), p features, and the number of parts its passes are split into.
struct Problem {
    Design des;
    VecXd yp, sp;
    std::int64_t p = 0, parts_n = 1;
};

// Packs x, y and the weights sw (empty: all 1) times `scale`; false when x is not finite.
bool make_problem(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sw, bool icpt, double scale,
                  Problem& pb) {
    const std::int64_t n = x.rows();
    pb.p = x.cols();
    pb.parts_n = std::max<std::int64_t>(1, std::min<std::int64_t>(num_threads(), n / 4096));
    if (!pack_design(x, icpt, pb.parts_n, pb.des)) return false;
    pb.yp = VecXd::Zero(pb.des.ld);
    pb.sp = VecXd::Zero(pb.des.ld);
    pb.yp.head(n) = y;
    if (sw.size()) pb.sp.head(n) = scale * sw;
    else pb.sp.head(n).setConstant(scale);
    return true;
}

// Rows of the warm-start subsample (about), and the step size at which it stops.
constexpr std::int64_t kWarmRows = 8192;
constexpr double kWarmTol = 1e-4;

// The penalised objective at th in one pass over the rows: it also leaves the gradient
// and, when asked, the Hessian there, so an accepted line-search point needs no second
// pass (one exp and one log per row serve the loss, σ, r and the weights d).
struct Eval {
    double f = 0;
    VecXd g;
    Eigen::MatrixXd h;  // empty unless asked for
};

double evaluate(const Problem& pb, const VecXd& th, double C, double rho, bool want_h, Eval& ev) {
    const Design& des = pb.des;
    const std::int64_t m = des.m, mp = des.mp, p = pb.p, parts_n = pb.parts_n, blocks = des.blocks;
    const double l2 = 1.0 - rho;
    const VecXd &yp = pb.yp, &sp = pb.sp;
    VecXd thp = VecXd::Zero(mp);
    thp.head(m) = th;
    std::vector<double> fs(static_cast<size_t>(parts_n), 0.0);
    std::vector<VecXd> gs(static_cast<size_t>(parts_n), VecXd::Zero(mp));
    std::vector<VecXd> hs(want_h ? static_cast<size_t>(parts_n) : 0, VecXd::Zero(mp * mp));
    parallel_for(0, parts_n, [&](std::int64_t b0, std::int64_t b1) {
        std::vector<double> z(kRows), r(kRows), d(kRows);
        std::vector<float> u(want_h ? static_cast<size_t>((mp + 1) * kRows) : 0);
        for (std::int64_t part = b0; part < b1; ++part) {
            double f = 0;
            for (std::int64_t b = blocks * part / parts_n; b < blocks * (part + 1) / parts_n; ++b) {
                const std::int64_t i = b * kRows, o = b * mp * kRows;
                f += block_eval(des.a.get() + o, kRows, m, kRows, thp.data(), yp.data() + i, sp.data() + i, C,
                                z.data(), r.data(), want_h ? d.data() : nullptr, gs[static_cast<size_t>(part)].data());
                if (want_h)
                    block_hessian(des.af.get() + o, kRows, m, mp, kRows, d.data(), u.data(),
                                  hs[static_cast<size_t>(part)].data());
            }
            fs[static_cast<size_t>(part)] = f;
        }
    });
    double f = 0;
    ev.g = VecXd::Zero(m);
    for (size_t k = 0; k < fs.size(); ++k) {
        f += fs[k];
        ev.g += gs[k].head(m);
    }
    ev.g.head(p) += l2 * th.head(p);
    ev.f = C * f + 0.5 * l2 * th.head(p).squaredNorm() + rho * th.head(p).lpNorm<1>();
    ev.h.resize(0, 0);
    if (want_h) {
        VecXd hsum = hs[0];
        for (size_t k = 1; k < hs.size(); ++k) hsum += hs[k];
        // row-major lower triangle → symmetric m × m
        const Eigen::Map<const RowMatXd> hl(hsum.data(), mp, mp);
        ev.h = hl.topLeftCorner(m, m).triangularView<Eigen::Lower>();
        ev.h.triangularView<Eigen::StrictlyUpper>() = ev.h.transpose().triangularView<Eigen::StrictlyUpper>();
        ev.h.topLeftCorner(p, p).diagonal().array() += l2;
    }
    return ev.f;
}

// Minimises the objective of pb from theta by (proximal) Newton steps with backtracking;
// stops once the steps fall below tol. Returns the iterations taken. *hess, when not
// empty, is the Hessian the first step uses (one from a nearby point); it receives the
// last Hessian used.
int newton(const Problem& pb, const LogisticOptions& o, double tol, VecXd& theta, Eigen::MatrixXd& hess) {
    const double C = o.C, rho = o.l1_ratio;
    const std::int64_t m = pb.des.m, p = pb.p;
    const auto evaluate = [&](const VecXd& th, bool want_h, Eval& ev) {
        return risk::evaluate(pb, th, C, rho, want_h, ev);
    };
    Eval cur;
    const bool given = hess.rows() == m && hess.cols() == m;
    double f_old = evaluate(theta, !given, cur);
    Eigen::MatrixXd H = given ? hess : cur.h;
    Eigen::LLT<Eigen::MatrixXd> llt;
    bool llt_ok = false, fresh = true;
    const auto factor = [&] {
        if (rho == 0.0) {
            llt.compute(H);  // positive definite unless the data are degenerate
            llt_ok = llt.info() == Eigen::Success;
        }
    };
    factor();
    double prev_moved = std::numeric_limits<double>::infinity();
    int n_iter = 0;
    for (int it = 0; it < o.max_iter; ++it) {
        n_iter = it + 1;
        const VecXd& g = cur.g;
        VecXd step(m);
        if (rho == 0.0) {
            step = llt_ok ? VecXd(-llt.solve(g)) : VecXd(-H.ldlt().solve(g));
        } else {
            // Coordinate descent on  gᵀδ + ½ δᵀHδ + ρ Σ_j |w_j + δ_j|  (intercept unpenalised).
            step.setZero();
            VecXd Hd = VecXd::Zero(m);
            for (int sweep = 0; sweep < 10000; ++sweep) {
                double biggest = 0;
                for (Eigen::Index j = 0; j < m; ++j) {
                    const double a = H(j, j);
                    if (a <= 0) continue;
                    const double b = g[j] + Hd[j] - a * step[j];  // gradient of the rest at δ_j = 0
                    double nd;
                    if (j < p) nd = soft(a * theta[j] - b, rho) / a - theta[j];
                    else nd = -b / a;
                    const double change = nd - step[j];
                    if (change != 0) {
                        Hd += H.col(j) * change;
                        step[j] = nd;
                        biggest = std::max(biggest, std::abs(change));
                    }
                }
                if (biggest < tol * 1e-3) break;
            }
        }
        const double slope = g.dot(step) + rho * ((theta.head(p) + step.head(p)).lpNorm<1>() - theta.head(p).lpNorm<1>());
        // The Hessian at the trial point comes with its evaluation (the same pass over the
        // rows) while steps are large; close to the optimum the last one is kept instead
        // (the chord method: exact gradients, so the same optimum, at linear but fast
        // contraction), which saves its cost in the final passes.
        const double planned = step.cwiseAbs().maxCoeff();
        const bool want_h = rho > 0.0 || planned > 1e-3;
        Eval next;
        double t = 1.0, f_new = evaluate(theta + step, want_h, next);
        // Armijo; near the optimum the decrease falls below the objective's rounding error,
        // and a full Newton step is then accepted on a tie within that error.
        const double noise = 64 * std::numeric_limits<double>::epsilon() * (1 + std::abs(f_old));
        for (int k = 0; k < 50 && f_new > f_old + 1e-4 * t * slope && f_new > f_old + noise; ++k) {
            t *= 0.5;
            f_new = evaluate(theta + t * step, true, next);
        }
        theta += t * step;
        cur = std::move(next);
        const double moved = (t * step).cwiseAbs().maxCoeff();
        f_old = f_new;
        // Steps shrink by the factor ρ = moved / prev_moved (≈ moved for Newton, quadratic
        // convergence; small and steady for chord steps): the error left is about ρ·moved.
        const double left = std::isfinite(prev_moved) ? moved * std::min(1.0, moved / prev_moved) : moved;
        if (moved < tol || (rho == 0.0 && t == 1.0 && left < 1e-2 * tol)) break;
        const bool keep = rho == 0.0 && t == 1.0 && moved < 1e-2 && (fresh || moved < 0.1 * prev_moved);
        if (cur.h.size()) {
            H = std::move(cur.h);
            factor();
            fresh = true;
        } else if (!keep) {  // the chord steps stopped contracting: a Hessian here (one more pass)
            Eval here;
            evaluate(theta, true, here);
            H = std::move(here.h);
            factor();
            fresh = true;
        } else {
            fresh = false;
        }
        prev_moved = moved;
    }
    hess = std::move(H);
    return n_iter;
}

}  // namespace

LogisticRegression::LogisticRegression(LogisticOptions options) : options_(options) {
    SPORTSMED_CHECK(options_.C > 0, "LogisticRegression: C must be > 0, got {}", options_.C);
    SPORTSMED_CHECK(options_.l1_ratio >= 0 && options_.l1_ratio <= 1,
                    "LogisticRegression: l1_ratio must be in [0, 1], got {}", options_.l1_ratio);
    SPORTSMED_CHECK(options_.max_iter >= 1, "LogisticRegression: max_iter must be >= 1, got {}", options_.max_iter);
}

void LogisticRegression::check_x(const char* fn, const RowMatXdCRef& x) const {
    SPORTSMED_CHECK(fitted_, "LogisticRegression.{}: the model is not fitted", fn);
    SPORTSMED_CHECK(x.cols() == coef_.size(), "LogisticRegression.{}: x has {} columns, the model {} features",
                    fn, x.cols(), coef_.size());
}

LogisticRegression& LogisticRegression::fit(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sw) {
    const Eigen::Index n = x.rows(), p = x.cols();
    SPORTSMED_CHECK(y.size() == n, "LogisticRegression.fit: x has {} rows but y {}", n, y.size());
    SPORTSMED_CHECK(sw.size() == 0 || sw.size() == n, "LogisticRegression.fit: {} sample weights for {} rows",
                    sw.size(), n);
    bool has0 = false, has1 = false;
    for (Eigen::Index i = 0; i < n; ++i) {
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "LogisticRegression.fit: label {} at row {} is not 0 or 1", y[i], i);
        has0 |= y[i] == 0.0;
        has1 |= y[i] == 1.0;
    }
    for (Eigen::Index i = 0; i < sw.size(); ++i)
        SPORTSMED_CHECK(std::isfinite(sw[i]) && sw[i] >= 0, "LogisticRegression.fit: sample weight {} at row {} is "
                        "not finite and >= 0", sw[i], i);
    const bool icpt = options_.fit_intercept;
    Problem full;
    if (!make_problem(x, y, sw, icpt, 1, full))  // name the culprit
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = 0; j < p; ++j)
                SPORTSMED_CHECK(std::isfinite(x(i, j)), "LogisticRegression.fit: feature {} of row {} is {} (impute or "
                                "drop non-finite values first)", j, i, x(i, j));
    SPORTSMED_CHECK(has0 && has1, "LogisticRegression.fit: y holds a single class; need both 0 and 1");

    VecXd theta = VecXd::Zero(full.des.m);
    if (icpt) {  // start from the weighted prevalence: saves the first Newton steps on rare outcomes
        const double pos = full.sp.dot(full.yp), tot = full.sp.sum();
        SPORTSMED_CHECK(pos > 0 && pos < tot, "LogisticRegression.fit: the sample weights leave a single class");
        theta[p] = std::log(pos / (tot - pos));
    }
    // Warm start on many rows (L2 only): the first, long Newton steps are taken on every
    // k-th row with its weight times k (Byrd et al. 2011 use subsampled curvature the same
    // way). That problem's optimum lies within sampling error (~1e-2) of the full one, so
    // on all rows only the last, short steps remain; their exact gradients fix the optimum.
    // Its last Hessian, from the same scale of weights, steers the first full step.
    Eigen::MatrixXd hess;
    const std::int64_t k = n / kWarmRows;
    if (options_.l1_ratio == 0.0 && k >= 4) {
        const std::int64_t ns = (n + k - 1) / k;
        const Eigen::Map<const RowMatXd, 0, Eigen::OuterStride<>> xs(x.data(), ns, p,
                                                                     Eigen::OuterStride<>(k * x.outerStride()));
        const Eigen::Map<const VecXd, 0, Eigen::InnerStride<>> ys(y.data(), ns, Eigen::InnerStride<>(k * y.innerStride()));
        VecXd ss = sw.size() ? VecXd(Eigen::Map<const VecXd, 0, Eigen::InnerStride<>>(
                                   sw.data(), ns, Eigen::InnerStride<>(k * sw.innerStride())))
                             : VecXd(VecXd::Ones(ns));
        Problem sub;
        make_problem(xs, ys, ss, icpt, full.sp.sum() / ss.sum(), sub);
        const double pos = sub.sp.dot(sub.yp), tot = sub.sp.sum();
        if (pos > 0 && pos < tot) {  // both classes drawn
            VecXd t = theta;
            newton(sub, options_, kWarmTol, t, hess);
            if (t.allFinite() && hess.allFinite()) theta = t;
            else hess.resize(0, 0);
        }
    }
    n_iter_ = newton(full, options_, options_.tol, theta, hess);
    coef_ = theta.head(p);
    intercept_ = icpt ? theta[p] : 0.0;
    fitted_ = true;
    return *this;
}

VecXd LogisticRegression::decision_function(const RowMatXdCRef& x) const {
    check_x("decision_function", x);
    VecXd z = x * coef_;
    z.array() += intercept_;
    return z;
}

VecXd LogisticRegression::predict_proba(const RowMatXdCRef& x) const {
    VecXd z = decision_function(x);
    for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = sigmoid(z[i]);
    return z;
}

RowMatXd LogisticRegression::contributions(const RowMatXdCRef& x) const {
    check_x("contributions", x);
    RowMatXd c(x.rows(), x.cols() + 1);
    c.leftCols(x.cols()) = x.array().rowwise() * coef_.transpose().array();
    c.col(x.cols()).setConstant(intercept_);
    return c;
}

void LogisticRegression::set_coefficients(const VecXdCRef& coef, double intercept) {
    coef_ = coef;
    intercept_ = intercept;
    fitted_ = true;
}

}  // namespace sportsmed::risk
