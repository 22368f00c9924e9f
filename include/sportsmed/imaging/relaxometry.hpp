#pragma once
/// @file
/// Mono-exponential relaxometry: S(TE) = S0 · exp(−TE / T2) (+ C with a noise-floor term),
/// fitted per voxel. Works for T2, T2* and T1ρ (TE is then the echo or spin-lock time).
///
/// Method: a log-linear least-squares start (ln S against TE over positive samples), then
/// Levenberg–Marquardt (Marquardt 1963, diagonal scaling) on the signal residuals with
/// bounds enforced by projection. Voxels run in parallel (sportsmed::parallel_for).

#include <cstdint>
#include <limits>
#include <vector>

#include "sportsmed/core/progress.hpp"
#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Fit status per voxel.
enum class FitStatus : std::uint8_t {
    Ok = 0,            ///< converged inside the bounds
    Masked = 1,        ///< outside the mask (not fitted)
    InvalidData = 2,   ///< non-finite samples or fewer than 2 positive samples
    AtBound = 3,       ///< converged with T2 on a bound
    NotConverged = 4,  ///< iteration limit reached
};

/// Options of fit_t2.
struct T2FitOptions {
    double t2_min_ms = 0.5;      ///< lower bound of T2
    double t2_max_ms = 1000.0;   ///< upper bound of T2
    bool noise_floor = false;    ///< add a constant C ≥ 0 to the model
    int max_iterations = 200;    ///< LM iterations per voxel
    double tolerance = 1e-10;    ///< relative parameter step that ends the iterations
};

/// Result of a single-curve fit.
struct T2Fit {
    /// NaN until a fit succeeds: an invalid curve (non-finite or fewer than two positive
    /// samples) has no parameters, in fit_t2_curve as in fit_t2's maps.
    double s0 = std::numeric_limits<double>::quiet_NaN(), t2_ms = std::numeric_limits<double>::quiet_NaN(),
           offset = std::numeric_limits<double>::quiet_NaN(), r2 = std::numeric_limits<double>::quiet_NaN();
    FitStatus status = FitStatus::InvalidData;
    int iterations = 0;
};

/// Fits one decay curve. @param te_ms echo times (ms), @param signal samples (same length).
T2Fit fit_t2_curve(const double* te_ms, const double* signal, int n, const T2FitOptions& options = {});

/// Maps produced by fit_t2 (all on the input's geometry).
struct T2Maps {
    Volume<double> t2_ms;        ///< T2 (ms); NaN where not fitted
    Volume<double> s0;           ///< S0 (signal units); NaN where not fitted
    Volume<double> offset;       ///< noise floor C (0 without the term); NaN where not fitted
    Volume<double> r2;           ///< coefficient of determination of the fit
    Volume<std::uint8_t> status; ///< FitStatus per voxel
};

/// Fits every voxel of a multi-echo volume.
/// @param echoes components = echoes, values in signal units.
/// @param te_ms  echo times (ms), one per component.
/// @param mask   optional; voxels where it is 0 get status Masked (same shape as echoes).
/// @param progress optional callback ("fit T2"); returning false cancels (throws Cancelled).
/// @throws InvalidArgument for mismatched sizes or bounds.
T2Maps fit_t2(const Volume<double>& echoes, const std::vector<double>& te_ms, const Volume<std::uint8_t>* mask = nullptr,
              const T2FitOptions& options = {}, const ProgressCallback& progress = {});

}  // namespace sportsmed::imaging
