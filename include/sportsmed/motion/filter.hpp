#pragma once
/// @file
/// Signal processing of trajectories: Butterworth design, zero-lag filtfilt over NaN gaps,
/// cubic-spline gap filling and central-difference derivatives.
///
/// The scalar kernels behind them are header-only templates over float and double in
/// sportsmed/motion/kernels/butterworth.hpp (FilterKind is declared there).
///
/// Every function works on a samples × channels matrix (time along rows, the layout of
/// Trial::points) and processes channels in parallel (sportsmed::parallel_for).

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/kernels/butterworth.hpp"

namespace sportsmed::motion {

/// Transfer-function coefficients b (numerator) and a (denominator, a[0] = 1).
struct FilterCoefficients {
    std::vector<double> b;
    std::vector<double> a;
};

/// Digital Butterworth filter of @p order, identical to scipy.signal.butter(order, wn, btype)
/// (analog prototype, pre-warped bilinear transform, zpk → tf).
/// @param order  1 … 20
/// @param wn     cutoff as a fraction of the Nyquist frequency, in (0, 1)
/// @throws InvalidArgument for an order or cutoff out of range.
FilterCoefficients butter(int order, double wn, FilterKind kind = FilterKind::Lowpass);

/// Same, with the cutoff in Hz and the sampling rate in Hz (wn = cutoff_hz / (rate_hz / 2)).
FilterCoefficients butter_hz(int order, double cutoff_hz, double rate_hz, FilterKind kind = FilterKind::Lowpass);

/// Design cutoff (Hz) for which filtfilt with butter(order, …) attenuates @p cutoff_hz by
/// 3 dB overall. filtfilt applies the filter twice, so its magnitude is |H|² and its
/// effective order is 2·order with a -3 dB point below the design cutoff; this inverts
/// that (Robertson & Dowling 2003): tan(π f_d / fs) = tan(π f_c / fs) / (√2 − 1)^(1/(2·order)).
double double_pass_cutoff_hz(double cutoff_hz, double rate_hz, int order);

/// Steady-state initial conditions of lfilter for a unit step, as scipy.signal.lfilter_zi.
VecXd lfilter_zi(const FilterCoefficients& coefficients);

/// Zero-lag forward-backward filter along rows, equal to scipy.signal.filtfilt(b, a, x,
/// axis=0) with its default odd extension of 3·max(len(a), len(b)) samples.
///
/// NaN samples split a channel into segments that are filtered independently (values never
/// smear across a gap; NaNs stay NaN). A segment not longer than the pad length is
/// filtered with the pad shortened to its length − 1 (scipy would refuse it).
/// @param x samples × channels
RowMatXd filtfilt(const FilterCoefficients& coefficients, const RowMatXdCRef& x);

/// Same, into @p out (samples × channels like @p x, not overlapping it), e.g. a NumPy array's
/// buffer. Channels go through the filter in lockstep, four at a time with SSE2 or eight with
/// AVX2 where the CPU has it (chosen at run time; the environment variable
/// SPORTSMED_FILTFILT_NO_AVX2 forces SSE2). The arithmetic per channel is the same as one at
/// a time (no fused multiply-add), so every path gives identical bits. A channel with NaN
/// gaps is filtered on its own, segment by segment.
/// @throws InvalidArgument if @p out's shape differs from @p x's.
void filtfilt(const FilterCoefficients& coefficients, const RowMatXdCRef& x, Eigen::Ref<RowMatXd> out);

/// Low-pass Butterworth filtfilt in one call.
/// @param rate_hz     sampling rate
/// @param cutoff_hz   desired cutoff
/// @param order       order of the single-pass design (the double pass doubles it)
/// @param correct_double_pass design at double_pass_cutoff_hz so that the overall -3 dB
///        point is at cutoff_hz
RowMatXd lowpass(const RowMatXdCRef& x, double rate_hz, double cutoff_hz, int order = 2,
                 bool correct_double_pass = false);

/// Fills NaN runs of at most @p max_gap samples that have valid samples on both sides with a
/// natural cubic spline through all valid samples of the channel (as
/// scipy.interpolate.CubicSpline(t_valid, x_valid, bc_type="natural")). Longer gaps and
/// leading/trailing NaNs stay NaN.
RowMatXd fill_gaps_spline(const RowMatXdCRef& x, std::int64_t max_gap);

/// Time derivative by central differences (one-sided at the ends), as
/// numpy.gradient(x, 1 / rate_hz, axis=0). NaN neighbours give NaN.
RowMatXd derivative(const RowMatXdCRef& x, double rate_hz);

/// Linear resampling of each channel from @p rate_hz to @p new_rate_hz over the same time
/// span (sample 0 at time 0). NaN where either neighbour is NaN.
RowMatXd resample_linear(const RowMatXdCRef& x, double rate_hz, double new_rate_hz);

}  // namespace sportsmed::motion
