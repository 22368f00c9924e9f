// Butterworth design, filtfilt, spline gap filling and derivatives.

#include "sportsmed/motion/filter.hpp"

#include <cmath>
#include <limits>

#include <Eigen/LU>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::motion {
namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

// Coefficients of prod (x - r_i), highest power first, as numpy.poly.
std::vector<cd> poly(const std::vector<cd>& roots) {
    std::vector<cd> c{1.0};
    for (const cd& r : roots) {
        std::vector<cd> next(c.size() + 1, 0.0);
        for (std::size_t i = 0; i < c.size(); ++i) {
            next[i] += c[i];
            next[i + 1] -= r * c[i];
        }
        c.swap(next);
    }
    return c;
}

// Runs lfilter (direct form II transposed) over x[0..n) into y, starting from state z.
void lfilter_inplace(const std::vector<double>& b, const std::vector<double>& a, const double* x, double* y,
                     std::int64_t n, double* z) {
    const std::size_t order = b.size() - 1;
    for (std::int64_t i = 0; i < n; ++i) {
        const double xi = x[i];
        const double yi = b[0] * xi + (order ? z[0] : 0.0);
        for (std::size_t k = 0; k + 1 < order; ++k) z[k] = b[k + 1] * xi + z[k + 1] - a[k + 1] * yi;
        if (order) z[order - 1] = b[order] * xi - a[order] * yi;
        y[i] = yi;
    }
}

// filtfilt of one finite segment x[0..n) into out (may alias x: it goes through buffers).
void filtfilt_segment(const std::vector<double>& b, const std::vector<double>& a, const VecXd& zi, const double* x,
                      std::int64_t n, double* out, std::vector<double>& ext, std::vector<double>& tmp,
                      std::vector<double>& state) {
    if (n == 1) {
        // A lone sample: the filter's DC gain is 1 for a low-pass; keep it.
        out[0] = x[0];
        return;
    }
    std::int64_t padlen = 3 * static_cast<std::int64_t>(std::max(a.size(), b.size()));
    if (padlen >= n) padlen = n - 1;
    const std::int64_t m = n + 2 * padlen;
    ext.resize(m);
    tmp.resize(m);
    for (std::int64_t i = 0; i < padlen; ++i) ext[i] = 2.0 * x[0] - x[padlen - i];
    for (std::int64_t i = 0; i < n; ++i) ext[padlen + i] = x[i];
    for (std::int64_t i = 0; i < padlen; ++i) ext[padlen + n + i] = 2.0 * x[n - 1] - x[n - 2 - i];
    const std::size_t order = zi.size();
    state.resize(order);
    for (std::size_t k = 0; k < order; ++k) state[k] = zi[k] * ext[0];
    lfilter_inplace(b, a, ext.data(), tmp.data(), m, state.data());
    // Backward pass on the reversed output.
    for (std::int64_t i = 0; i < m / 2; ++i) std::swap(tmp[i], tmp[m - 1 - i]);
    for (std::size_t k = 0; k < order; ++k) state[k] = zi[k] * tmp[0];
    lfilter_inplace(b, a, tmp.data(), ext.data(), m, state.data());
    for (std::int64_t i = 0; i < n; ++i) out[i] = ext[m - 1 - padlen - i];
}

}  // namespace

FilterCoefficients butter(int order, double wn, FilterKind kind) {
    SPORTSMED_CHECK(order >= 1 && order <= 20, "butter: order {} is outside 1..20", order);
    SPORTSMED_CHECK(wn > 0.0 && wn < 1.0, "butter: normalised cutoff {} must lie in (0, 1) (fraction of Nyquist)", wn);
    // Analog prototype: poles on the left half of the unit circle, no zeros, gain 1.
    std::vector<cd> p;
    for (int m = -order + 1; m < order; m += 2) p.push_back(-std::exp(cd(0.0, kPi * m / (2.0 * order))));
    const double fs = 2.0;
    const double warped = 2.0 * fs * std::tan(kPi * wn / fs);
    const double fs2 = 2.0 * fs;
    std::vector<cd> pz(order), zz(order);
    double k = 1.0;
    if (kind == FilterKind::Lowpass) {
        for (auto& x : p) x *= warped;
        k = std::pow(warped, order);
        cd denom = 1.0;
        for (const auto& x : p) denom *= (fs2 - x);
        k = (k / denom).real();
        for (int i = 0; i < order; ++i) {
            pz[i] = (fs2 + p[i]) / (fs2 - p[i]);
            zz[i] = -1.0;
        }
    } else {
        cd prod_neg_p = 1.0;
        for (auto& x : p) prod_neg_p *= -x;
        k = (1.0 / prod_neg_p).real();
        for (auto& x : p) x = warped / x;
        cd num = std::pow(cd(fs2), order), denom = 1.0;
        for (const auto& x : p) denom *= (fs2 - x);
        k = k * (num / denom).real();
        for (int i = 0; i < order; ++i) {
            pz[i] = (fs2 + p[i]) / (fs2 - p[i]);
            zz[i] = 1.0;
        }
    }
    const auto bc = poly(zz);
    const auto ac = poly(pz);
    FilterCoefficients out;
    for (const auto& c : bc) out.b.push_back(k * c.real());
    for (const auto& c : ac) out.a.push_back(c.real());
    return out;
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
    const std::size_t n = std::max(f.a.size(), f.b.size());
    std::vector<double> a(n, 0.0), b(n, 0.0);
    for (std::size_t i = 0; i < f.a.size(); ++i) a[i] = f.a[i] / f.a[0];
    for (std::size_t i = 0; i < f.b.size(); ++i) b[i] = f.b[i] / f.a[0];
    if (n < 2) return VecXd();
    // (I - companion(a)^T) zi = b[1:] - a[1:] * b[0]
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n - 1, n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) m(i, 0) += a[i + 1];
    for (std::size_t i = 0; i + 2 < n; ++i) m(i, i + 1) -= 1.0;
    VecXd rhs(n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) rhs[i] = b[i + 1] - a[i + 1] * b[0];
    return m.partialPivLu().solve(rhs);
}

namespace {

constexpr int kBlock = 8;  // channels filtered together: independent recursions pipeline well

// One lfilter pass (direct form II transposed) over kBlock interleaved channels; the order
// is a template parameter so that the state stays in registers.
template <int Order>
void block_pass(const double* bp, const double* ap, const double* in, double* out, std::int64_t m,
                double (&zs)[8][kBlock]) {
    double bb[Order + 1], aa[Order + 1], z[Order][kBlock];
    for (int k = 0; k <= Order; ++k) {
        bb[k] = bp[k];
        aa[k] = ap[k];
    }
    for (int k = 0; k < Order; ++k)
        for (int c = 0; c < kBlock; ++c) z[k][c] = zs[k][c];
    for (std::int64_t i = 0; i < m; ++i) {
        const double* xi = in + i * kBlock;
        double* yo = out + i * kBlock;
        double y[kBlock], x[kBlock];
        for (int c = 0; c < kBlock; ++c) {
            x[c] = xi[c];
            y[c] = bb[0] * x[c] + z[0][c];
        }
        for (int k = 0; k + 1 < Order; ++k)
            for (int c = 0; c < kBlock; ++c) z[k][c] = bb[k + 1] * x[c] + z[k + 1][c] - aa[k + 1] * y[c];
        for (int c = 0; c < kBlock; ++c) z[Order - 1][c] = bb[Order] * x[c] - aa[Order] * y[c];
        for (int c = 0; c < kBlock; ++c) yo[c] = y[c];
    }
}

// filtfilt of kBlock finite channels at once. buf is rows × kBlock (row-major), overwritten
// by the result. Same arithmetic, in the same order, as filtfilt_segment per channel.
void filtfilt_block(const std::vector<double>& b, const std::vector<double>& a, const VecXd& zi, double* buf,
                    std::int64_t n, std::vector<double>& ext, std::vector<double>& tmp) {
    const std::int64_t padlen = std::min<std::int64_t>(3 * static_cast<std::int64_t>(std::max(a.size(), b.size())), n - 1);
    const std::int64_t m = n + 2 * padlen;
    const std::size_t order = b.size() - 1;  // 1..8 (the caller checks)
    ext.resize(static_cast<std::size_t>(m * kBlock));
    tmp.resize(static_cast<std::size_t>(m * kBlock));
    for (std::int64_t i = 0; i < padlen; ++i)
        for (int c = 0; c < kBlock; ++c) ext[i * kBlock + c] = 2.0 * buf[c] - buf[(padlen - i) * kBlock + c];
    std::copy(buf, buf + n * kBlock, ext.begin() + padlen * kBlock);
    for (std::int64_t i = 0; i < padlen; ++i)
        for (int c = 0; c < kBlock; ++c)
            ext[(padlen + n + i) * kBlock + c] = 2.0 * buf[(n - 1) * kBlock + c] - buf[(n - 2 - i) * kBlock + c];
    double z[8][kBlock];
    auto pass = [&](const double* in, double* out) {
        switch (order) {
            case 1: block_pass<1>(b.data(), a.data(), in, out, m, z); break;
            case 2: block_pass<2>(b.data(), a.data(), in, out, m, z); break;
            case 3: block_pass<3>(b.data(), a.data(), in, out, m, z); break;
            case 4: block_pass<4>(b.data(), a.data(), in, out, m, z); break;
            case 5: block_pass<5>(b.data(), a.data(), in, out, m, z); break;
            case 6: block_pass<6>(b.data(), a.data(), in, out, m, z); break;
            case 7: block_pass<7>(b.data(), a.data(), in, out, m, z); break;
            default: block_pass<8>(b.data(), a.data(), in, out, m, z); break;
        }
    };
    for (std::size_t k = 0; k < order; ++k)
        for (int c = 0; c < kBlock; ++c) z[k][c] = zi[k] * ext[c];
    pass(ext.data(), tmp.data());
    // Backward: reverse in time.
    for (std::int64_t i = 0; i < m / 2; ++i)
        for (int c = 0; c < kBlock; ++c) std::swap(tmp[i * kBlock + c], tmp[(m - 1 - i) * kBlock + c]);
    for (std::size_t k = 0; k < order; ++k)
        for (int c = 0; c < kBlock; ++c) z[k][c] = zi[k] * tmp[c];
    pass(tmp.data(), ext.data());
    for (std::int64_t i = 0; i < n; ++i)
        for (int c = 0; c < kBlock; ++c) buf[i * kBlock + c] = ext[(m - 1 - padlen - i) * kBlock + c];
}

}  // namespace

RowMatXd filtfilt(const FilterCoefficients& f, const RowMatXdCRef& x) {
    SPORTSMED_CHECK(!f.a.empty() && !f.b.empty() && f.a[0] != 0.0, "filtfilt: empty coefficients or a[0] = 0");
    const std::size_t n = std::max(f.a.size(), f.b.size());
    std::vector<double> a(n, 0.0), b(n, 0.0);
    for (std::size_t i = 0; i < f.a.size(); ++i) a[i] = f.a[i] / f.a[0];
    for (std::size_t i = 0; i < f.b.size(); ++i) b[i] = f.b[i] / f.a[0];
    const VecXd zi = lfilter_zi(FilterCoefficients{b, a});
    const std::int64_t rows = x.rows(), cols = x.cols();
    RowMatXd out(rows, cols);
    const std::int64_t blocks = (cols + kBlock - 1) / kBlock;
    parallel_for(0, blocks, [&](std::int64_t b0, std::int64_t b1) {
        std::vector<double> block(static_cast<std::size_t>(rows * kBlock)), col(rows), res(rows), ext, tmp, state;
        for (std::int64_t blk = b0; blk < b1; ++blk) {
            const std::int64_t c0 = blk * kBlock, width = std::min<std::int64_t>(kBlock, cols - c0);
            // Gather row by row (contiguous in the row-major input).
            bool finite = width == kBlock && rows >= 2 && n >= 2 && n <= 9;  // block path: order <= 8
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < width; ++c) {
                    const double v = x(r, c0 + c);
                    block[r * kBlock + c] = v;
                    finite = finite && std::isfinite(v);
                }
            if (finite) {
                filtfilt_block(b, a, zi, block.data(), rows, ext, tmp);
            } else {
                for (std::int64_t c = 0; c < width; ++c) {
                    for (std::int64_t r = 0; r < rows; ++r) col[r] = block[r * kBlock + c];
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
                    for (std::int64_t i = 0; i < rows; ++i) block[i * kBlock + c] = res[i];
                }
            }
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < width; ++c) out(r, c0 + c) = block[r * kBlock + c];
        }
    });
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
