#pragma once
/// @file
/// Header-only Butterworth design and zero-lag filtering, templated over the scalar type
/// (float, double) and usable on any Eigen expression — the kernels behind
/// sportsmed/motion/filter.hpp, whose double API (NaN gaps, SIMD lockstep over channels)
/// runs this same arithmetic.
///
/// Needs Eigen only: a program may include this without linking any sportsmed library
/// (define SPORTSMED_HEADER_ONLY, or link the INTERFACE target sportsmed::kernels, so that
/// the float/double instantiations are compiled in the program rather than taken from
/// libsportsmed_motion).

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/LU>

#include "sportsmed/core/error_types.hpp"

namespace sportsmed::motion {

/// Butterworth filter kind.
enum class FilterKind { Lowpass, Highpass };

namespace kernels {

/// Transfer-function coefficients b (numerator) and a (denominator, a[0] = 1).
template <typename Scalar>
struct Butterworth {
    std::vector<Scalar> b;
    std::vector<Scalar> a;
};

/// Column vector of @p Scalar.
template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// Digital Butterworth filter of @p order, as scipy.signal.butter(order, wn, btype):
/// analog prototype, pre-warped bilinear transform, zpk → tf (Butterworth 1930).
/// @param order 1 … 20
/// @param wn    cutoff as a fraction of the Nyquist frequency, in (0, 1)
/// @throws InvalidArgument for an order or cutoff out of range.
template <typename Scalar>
Butterworth<Scalar> butter(int order, Scalar wn, FilterKind kind = FilterKind::Lowpass);

/// Steady-state initial conditions of lfilter for a unit step (scipy.signal.lfilter_zi).
/// @throws InvalidArgument if a[0] is 0 or a is empty.
template <typename Scalar>
Vector<Scalar> lfilter_zi(const std::vector<Scalar>& b, const std::vector<Scalar>& a);

/// lfilter (direct form II transposed) over x[0..n) into y, from and updating the state z
/// (size max(len a, len b) − 1). a must be normalised (a[0] = 1), len a = len b.
template <typename Scalar>
void lfilter(const std::vector<Scalar>& b, const std::vector<Scalar>& a, const Scalar* x, Scalar* y,
             std::int64_t n, Scalar* z);

/// filtfilt of one finite segment x[0..n) into out (which may alias x), with scipy's odd
/// extension of 3·max(len a, len b) samples, shortened to n − 1 for a short segment; a lone
/// sample is kept. ext, tmp and state are scratch buffers (resized as needed).
template <typename Scalar>
void filtfilt_segment(const std::vector<Scalar>& b, const std::vector<Scalar>& a, const Vector<Scalar>& zi,
                      const Scalar* x, std::int64_t n, Scalar* out, std::vector<Scalar>& ext,
                      std::vector<Scalar>& tmp, std::vector<Scalar>& state);

/// Zero-lag forward-backward filter of every column of @p x (time along rows), equal to
/// scipy.signal.filtfilt(b, a, x, axis=0) for finite input. Any Eigen expression whose
/// scalar is the filter's (a vector, a matrix, a block, an array). For NaN gaps use the
/// compiled sportsmed::motion::filtfilt.
/// @return the filtered values with @p x's shape.
template <typename Derived>
typename Derived::PlainObject filtfilt(const Butterworth<typename Derived::Scalar>& filter,
                                       const Eigen::DenseBase<Derived>& x) {
    using Scalar = typename Derived::Scalar;
    typename Derived::PlainObject out(x.rows(), x.cols());
    const Vector<Scalar> zi = lfilter_zi(filter.b, filter.a);
    std::vector<Scalar> ext, tmp, state;
    Vector<Scalar> column(x.rows());
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
        column = x.derived().col(c).template cast<Scalar>();
        if (x.rows() > 0)
            filtfilt_segment(filter.b, filter.a, zi, column.data(), static_cast<std::int64_t>(x.rows()),
                             column.data(), ext, tmp, state);
        out.col(c) = column;
    }
    return out;
}

/// Magnitude of the filter's frequency response |H(e^{iω})| at @p w (fraction of the
/// Nyquist frequency, ω = π·w), evaluated from b and a.
template <typename Scalar>
Scalar magnitude_response(const Butterworth<Scalar>& filter, Scalar w) {
    const std::complex<Scalar> z = std::polar(Scalar(1), -static_cast<Scalar>(3.14159265358979323846) * w);
    std::complex<Scalar> num(0), den(0), zk(1);
    for (std::size_t k = 0; k < std::max(filter.b.size(), filter.a.size()); ++k, zk *= z) {
        if (k < filter.b.size()) num += filter.b[k] * zk;
        if (k < filter.a.size()) den += filter.a[k] * zk;
    }
    return std::abs(num / den);
}

// ---- definitions -----------------------------------------------------------------------

namespace detail {

// Coefficients of prod (x - r_i), highest power first, as numpy.poly.
template <typename Scalar>
std::vector<std::complex<Scalar>> poly(const std::vector<std::complex<Scalar>>& roots) {
    std::vector<std::complex<Scalar>> c{Scalar(1)};
    for (const auto& r : roots) {
        std::vector<std::complex<Scalar>> next(c.size() + 1, Scalar(0));
        for (std::size_t i = 0; i < c.size(); ++i) {
            next[i] += c[i];
            next[i + 1] -= r * c[i];
        }
        c.swap(next);
    }
    return c;
}

}  // namespace detail

template <typename Scalar>
Butterworth<Scalar> butter(int order, Scalar wn, FilterKind kind) {
    using cs = std::complex<Scalar>;
    constexpr Scalar kPi = static_cast<Scalar>(3.14159265358979323846);
    if (!(order >= 1 && order <= 20))
        throw InvalidArgument("butter: order " + std::to_string(order) + " is outside 1..20");
    if (!(wn > Scalar(0) && wn < Scalar(1)))
        throw InvalidArgument("butter: normalised cutoff " + std::to_string(static_cast<double>(wn)) +
                              " must lie in (0, 1) (fraction of Nyquist)");
    // Analog prototype: poles on the left half of the unit circle, no zeros, gain 1.
    std::vector<cs> p;
    for (int m = -order + 1; m < order; m += 2) p.push_back(-std::exp(cs(Scalar(0), kPi * m / (Scalar(2) * order))));
    const Scalar fs = 2.0;
    const Scalar warped = Scalar(2) * fs * std::tan(kPi * wn / fs);
    const Scalar fs2 = Scalar(2) * fs;
    std::vector<cs> pz(order), zz(order);
    Scalar k = 1.0;
    if (kind == FilterKind::Lowpass) {
        for (auto& x : p) x *= warped;
        k = std::pow(warped, order);
        cs denom = Scalar(1);
        for (const auto& x : p) denom *= (fs2 - x);
        k = (k / denom).real();
        for (int i = 0; i < order; ++i) {
            pz[i] = (fs2 + p[i]) / (fs2 - p[i]);
            zz[i] = Scalar(-1);
        }
    } else {
        cs prod_neg_p = Scalar(1);
        for (auto& x : p) prod_neg_p *= -x;
        k = (Scalar(1) / prod_neg_p).real();
        for (auto& x : p) x = warped / x;
        cs num = std::pow(cs(fs2), order), denom = Scalar(1);
        for (const auto& x : p) denom *= (fs2 - x);
        k = k * (num / denom).real();
        for (int i = 0; i < order; ++i) {
            pz[i] = (fs2 + p[i]) / (fs2 - p[i]);
            zz[i] = Scalar(1);
        }
    }
    const auto bc = detail::poly(zz);
    const auto ac = detail::poly(pz);
    Butterworth<Scalar> out;
    for (const auto& c : bc) out.b.push_back(k * c.real());
    for (const auto& c : ac) out.a.push_back(c.real());
    return out;
}

template <typename Scalar>
Vector<Scalar> lfilter_zi(const std::vector<Scalar>& fb, const std::vector<Scalar>& fa) {
    if (fa.empty() || fa[0] == Scalar(0)) throw InvalidArgument("lfilter_zi: a[0] must be non-zero");
    const std::size_t n = std::max(fa.size(), fb.size());
    std::vector<Scalar> a(n, Scalar(0)), b(n, Scalar(0));
    for (std::size_t i = 0; i < fa.size(); ++i) a[i] = fa[i] / fa[0];
    for (std::size_t i = 0; i < fb.size(); ++i) b[i] = fb[i] / fa[0];
    if (n < 2) return Vector<Scalar>();
    // (I - companion(a)^T) zi = b[1:] - a[1:] * b[0]
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    Matrix m = Matrix::Identity(n - 1, n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) m(i, 0) += a[i + 1];
    for (std::size_t i = 0; i + 2 < n; ++i) m(i, i + 1) -= Scalar(1);
    Vector<Scalar> rhs(n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) rhs[i] = b[i + 1] - a[i + 1] * b[0];
    return m.partialPivLu().solve(rhs);
}

template <typename Scalar>
void lfilter(const std::vector<Scalar>& b, const std::vector<Scalar>& a, const Scalar* x, Scalar* y,
             std::int64_t n, Scalar* z) {
    const std::size_t order = b.size() - 1;
    for (std::int64_t i = 0; i < n; ++i) {
        const Scalar xi = x[i];
        const Scalar yi = b[0] * xi + (order ? z[0] : Scalar(0));
        for (std::size_t k = 0; k + 1 < order; ++k) z[k] = b[k + 1] * xi + z[k + 1] - a[k + 1] * yi;
        if (order) z[order - 1] = b[order] * xi - a[order] * yi;
        y[i] = yi;
    }
}

template <typename Scalar>
void filtfilt_segment(const std::vector<Scalar>& b, const std::vector<Scalar>& a, const Vector<Scalar>& zi,
                      const Scalar* x, std::int64_t n, Scalar* out, std::vector<Scalar>& ext,
                      std::vector<Scalar>& tmp, std::vector<Scalar>& state) {
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
    for (std::int64_t i = 0; i < padlen; ++i) ext[i] = Scalar(2) * x[0] - x[padlen - i];
    for (std::int64_t i = 0; i < n; ++i) ext[padlen + i] = x[i];
    for (std::int64_t i = 0; i < padlen; ++i) ext[padlen + n + i] = Scalar(2) * x[n - 1] - x[n - 2 - i];
    const std::size_t order = zi.size();
    state.resize(order);
    for (std::size_t k = 0; k < order; ++k) state[k] = zi[k] * ext[0];
    lfilter(b, a, ext.data(), tmp.data(), m, state.data());
    // Backward pass on the reversed output.
    for (std::int64_t i = 0; i < m / 2; ++i) std::swap(tmp[i], tmp[m - 1 - i]);
    for (std::size_t k = 0; k < order; ++k) state[k] = zi[k] * tmp[0];
    lfilter(b, a, tmp.data(), ext.data(), m, state.data());
    for (std::int64_t i = 0; i < n; ++i) out[i] = ext[m - 1 - padlen - i];
}

// The compiled library (libsportsmed_motion) instantiates float and double once.
#if !defined(SPORTSMED_HEADER_ONLY)
#define SPORTSMED_BUTTERWORTH_EXTERN(S)                                                                        \
    extern template Butterworth<S> butter<S>(int, S, FilterKind);                                             \
    extern template Vector<S> lfilter_zi<S>(const std::vector<S>&, const std::vector<S>&);                    \
    extern template void lfilter<S>(const std::vector<S>&, const std::vector<S>&, const S*, S*, std::int64_t, \
                                    S*);                                                                      \
    extern template void filtfilt_segment<S>(const std::vector<S>&, const std::vector<S>&, const Vector<S>&,  \
                                             const S*, std::int64_t, S*, std::vector<S>&, std::vector<S>&,    \
                                             std::vector<S>&);
SPORTSMED_BUTTERWORTH_EXTERN(float)
SPORTSMED_BUTTERWORTH_EXTERN(double)
#undef SPORTSMED_BUTTERWORTH_EXTERN
#endif

}  // namespace kernels
}  // namespace sportsmed::motion
