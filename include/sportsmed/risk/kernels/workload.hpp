#pragma once
/// @file
/// Header-only workload windows over a daily load series, templated over the scalar type
/// (float, double) and taking any Eigen vector expression: pandas-style rolling sum, mean
/// and sample SD, the EWMA of Williams et al. (2017), and the coupled rolling and EWMA
/// acute:chronic workload ratios (Hulin et al. 2016; Williams et al. 2017). The compiled
/// double API of sportsmed/risk/workload.hpp runs this same arithmetic; its conventions
/// (NaN = unknown day, min_periods, no look-ahead) are documented there.
///
/// Needs Eigen only (see motion/kernels/butterworth.hpp on SPORTSMED_HEADER_ONLY).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <Eigen/Core>

#include "sportsmed/core/error_types.hpp"

namespace sportsmed::risk::kernels {

template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <typename Scalar>
using VectorCRef = Eigen::Ref<const Vector<Scalar>>;

/// Sum over the last @p window days (pandas `rolling(window, min_periods).sum()`).
/// @param min_periods fewest non-NaN days needed; <= 0 means @p window.
/// @throws InvalidArgument if window < 1.
template <typename Scalar>
Vector<Scalar> rolling_sum(const VectorCRef<Scalar>& load, int window, int min_periods = 0);

/// Mean over the last @p window days (pandas `rolling(window, min_periods).mean()`).
template <typename Scalar>
Vector<Scalar> rolling_mean(const VectorCRef<Scalar>& load, int window, int min_periods = 0);

/// Sample SD (ddof = 1) over the last @p window days (pandas `rolling(...).std()`).
template <typename Scalar>
Vector<Scalar> rolling_std(const VectorCRef<Scalar>& load, int window, int min_periods = 0);

/// EWMA with λ = 2 / (span + 1), EWMA_0 = load_0, as pandas `ewm(span, adjust=False).mean()`
/// (a NaN day keeps the average but lets its weight decay; Williams et al. 2017).
/// @throws InvalidArgument if span < 1.
template <typename Scalar>
Vector<Scalar> ewma(const VectorCRef<Scalar>& load, int span);

/// Coupled rolling ACWR: rolling_mean(acute_days) / rolling_mean(chronic_days) (Hulin et
/// al. 2016); NaN where either is NaN or the chronic mean is 0.
/// @throws InvalidArgument for windows < 1 or chronic_days <= acute_days.
template <typename Scalar>
Vector<Scalar> rolling_acwr(const VectorCRef<Scalar>& load, int acute_days, int chronic_days, int min_periods = 0);

/// EWMA ACWR: ewma(acute_days) / ewma(chronic_days) (Williams et al. 2017); NaN where the
/// chronic EWMA is 0 or NaN.
template <typename Scalar>
Vector<Scalar> ewma_acwr(const VectorCRef<Scalar>& load, int acute_days, int chronic_days);

/// The same functions for any Eigen vector expression (evaluated into its scalar's vector).
template <typename Derived>
Vector<typename Derived::Scalar> rolling_mean(const Eigen::MatrixBase<Derived>& load, int window, int min_periods = 0) {
    return rolling_mean<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), window, min_periods);
}
template <typename Derived>
Vector<typename Derived::Scalar> rolling_sum(const Eigen::MatrixBase<Derived>& load, int window, int min_periods = 0) {
    return rolling_sum<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), window, min_periods);
}
template <typename Derived>
Vector<typename Derived::Scalar> rolling_std(const Eigen::MatrixBase<Derived>& load, int window, int min_periods = 0) {
    return rolling_std<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), window, min_periods);
}
template <typename Derived>
Vector<typename Derived::Scalar> ewma(const Eigen::MatrixBase<Derived>& load, int span) {
    return ewma<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), span);
}
template <typename Derived>
Vector<typename Derived::Scalar> rolling_acwr(const Eigen::MatrixBase<Derived>& load, int acute_days, int chronic_days,
                                              int min_periods = 0) {
    return rolling_acwr<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), acute_days, chronic_days,
                                                  min_periods);
}
template <typename Derived>
Vector<typename Derived::Scalar> ewma_acwr(const Eigen::MatrixBase<Derived>& load, int acute_days, int chronic_days) {
    return ewma_acwr<typename Derived::Scalar>(Vector<typename Derived::Scalar>(load), acute_days, chronic_days);
}

// ---- definitions -----------------------------------------------------------------------

namespace detail {

// Windowed statistics are summed directly over each window rather than with running
// add/remove sums: windows are short (<= a few weeks), and a direct sum has no drift over
// multi-year series.
template <typename Scalar>
struct WindowStats {
    int count = 0;
    Scalar sum = Scalar(0);
};

template <typename Scalar>
WindowStats<Scalar> window_stats(const VectorCRef<Scalar>& x, Eigen::Index end_inclusive, int window) {
    WindowStats<Scalar> s;
    const Eigen::Index begin = std::max<Eigen::Index>(0, end_inclusive - window + 1);
    for (Eigen::Index i = begin; i <= end_inclusive; ++i) {
        const Scalar v = x[i];
        if (!std::isnan(v)) {
            ++s.count;
            s.sum += v;
        }
    }
    return s;
}

inline int effective_min_periods(int window, int min_periods) {
    return min_periods <= 0 ? window : std::min(min_periods, window);
}

inline void check_window(const char* fn, int window) {
    if (window < 1)
        throw InvalidArgument(std::string(fn) + ": window must be >= 1 day, got " + std::to_string(window));
}

inline void check_acwr_windows(const char* fn, int acute_days, int chronic_days) {
    check_window(fn, acute_days);
    check_window(fn, chronic_days);
    if (chronic_days <= acute_days)
        throw InvalidArgument(std::string(fn) + ": chronic window (" + std::to_string(chronic_days) +
                              " days) must be longer than the acute one (" + std::to_string(acute_days) + " days)");
}

template <typename Scalar>
Scalar ratio(Scalar num, Scalar den) {
    if (std::isnan(num) || std::isnan(den) || den == Scalar(0)) return std::numeric_limits<Scalar>::quiet_NaN();
    return num / den;
}

}  // namespace detail

template <typename Scalar>
Vector<Scalar> rolling_sum(const VectorCRef<Scalar>& load, int window, int min_periods) {
    detail::check_window("rolling_sum", window);
    const int minp = detail::effective_min_periods(window, min_periods);
    Vector<Scalar> out(load.size());
    for (Eigen::Index t = 0; t < load.size(); ++t) {
        const auto s = detail::window_stats<Scalar>(load, t, window);
        out[t] = s.count >= minp ? s.sum : std::numeric_limits<Scalar>::quiet_NaN();
    }
    return out;
}

template <typename Scalar>
Vector<Scalar> rolling_mean(const VectorCRef<Scalar>& load, int window, int min_periods) {
    detail::check_window("rolling_mean", window);
    const int minp = detail::effective_min_periods(window, min_periods);
    Vector<Scalar> out(load.size());
    for (Eigen::Index t = 0; t < load.size(); ++t) {
        const auto s = detail::window_stats<Scalar>(load, t, window);
        out[t] = (s.count >= minp && s.count > 0) ? s.sum / s.count : std::numeric_limits<Scalar>::quiet_NaN();
    }
    return out;
}

template <typename Scalar>
Vector<Scalar> rolling_std(const VectorCRef<Scalar>& load, int window, int min_periods) {
    detail::check_window("rolling_std", window);
    const int minp = detail::effective_min_periods(window, min_periods);
    Vector<Scalar> out(load.size());
    for (Eigen::Index t = 0; t < load.size(); ++t) {
        const auto s = detail::window_stats<Scalar>(load, t, window);
        if (s.count < minp || s.count < 2) {
            out[t] = std::numeric_limits<Scalar>::quiet_NaN();
            continue;
        }
        // Two-pass: exact zero for a constant window (pandas special-cases that too).
        const Scalar mean = s.sum / s.count;
        Scalar ss = Scalar(0);
        const Eigen::Index begin = std::max<Eigen::Index>(0, t - window + 1);
        for (Eigen::Index i = begin; i <= t; ++i) {
            if (!std::isnan(load[i])) ss += (load[i] - mean) * (load[i] - mean);
        }
        out[t] = std::sqrt(ss / (s.count - 1));
    }
    return out;
}

template <typename Scalar>
Vector<Scalar> ewma(const VectorCRef<Scalar>& load, int span) {
    if (span < 1) throw InvalidArgument("ewma: span must be >= 1 day, got " + std::to_string(span));
    const Scalar lambda = Scalar(2) / (span + Scalar(1));
    Vector<Scalar> out(load.size());
    Scalar avg = std::numeric_limits<Scalar>::quiet_NaN();  // NaN until the first observed load
    Scalar old_w = Scalar(1);  // weight of the current average relative to a new load's λ
    for (Eigen::Index t = 0; t < load.size(); ++t) {
        const Scalar x = load[t];
        if (std::isnan(avg)) {
            avg = x;  // stays NaN while no load has been observed
            old_w = Scalar(1);
        } else {
            old_w *= (Scalar(1) - lambda);
            if (!std::isnan(x)) {
                // A constant series stays exactly constant (no rounding drift).
                if (avg != x) avg = (old_w * avg + lambda * x) / (old_w + lambda);
                old_w = Scalar(1);
            }
        }
        out[t] = avg;
    }
    return out;
}

template <typename Scalar>
Vector<Scalar> rolling_acwr(const VectorCRef<Scalar>& load, int acute_days, int chronic_days, int min_periods) {
    detail::check_acwr_windows("rolling_acwr", acute_days, chronic_days);
    const Vector<Scalar> acute = rolling_mean<Scalar>(load, acute_days, min_periods);
    const Vector<Scalar> chronic = rolling_mean<Scalar>(load, chronic_days, min_periods);
    Vector<Scalar> out(load.size());
    for (Eigen::Index t = 0; t < load.size(); ++t) out[t] = detail::ratio(acute[t], chronic[t]);
    return out;
}

template <typename Scalar>
Vector<Scalar> ewma_acwr(const VectorCRef<Scalar>& load, int acute_days, int chronic_days) {
    detail::check_acwr_windows("ewma_acwr", acute_days, chronic_days);
    const Vector<Scalar> acute = ewma<Scalar>(load, acute_days);
    const Vector<Scalar> chronic = ewma<Scalar>(load, chronic_days);
    Vector<Scalar> out(load.size());
    for (Eigen::Index t = 0; t < load.size(); ++t) out[t] = detail::ratio(acute[t], chronic[t]);
    return out;
}

// The compiled library (libsportsmed_risk) instantiates float and double once.
#if !defined(SPORTSMED_HEADER_ONLY)
#define SPORTSMED_WORKLOAD_EXTERN(S)                                                              \
    extern template Vector<S> rolling_sum<S>(const VectorCRef<S>&, int, int);                    \
    extern template Vector<S> rolling_mean<S>(const VectorCRef<S>&, int, int);                   \
    extern template Vector<S> rolling_std<S>(const VectorCRef<S>&, int, int);                    \
    extern template Vector<S> ewma<S>(const VectorCRef<S>&, int);                                \
    extern template Vector<S> rolling_acwr<S>(const VectorCRef<S>&, int, int, int);              \
    extern template Vector<S> ewma_acwr<S>(const VectorCRef<S>&, int, int);
SPORTSMED_WORKLOAD_EXTERN(float)
SPORTSMED_WORKLOAD_EXTERN(double)
#undef SPORTSMED_WORKLOAD_EXTERN
#endif

}  // namespace sportsmed::risk::kernels
