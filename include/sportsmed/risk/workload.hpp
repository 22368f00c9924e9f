#pragma once
/// @file
/// Training-load (workload) metrics over an athlete's daily load series.
///
/// Every function takes one athlete's loads on consecutive calendar days (one value per
/// day, NaN for a day whose load is unknown; see athlete_table.hpp for how a table with
/// missing days is put on a complete daily grid) and returns one value per day that uses
/// only that day and the days before it (no function reads the future).
///
/// Rolling windows follow pandas' `Series.rolling(window, min_periods).<stat>()`: the
/// statistic over the non-NaN values among the last `window` days, NaN when fewer than
/// `min_periods` of them are present. Ratios whose denominator is zero are NaN (pandas
/// would give ±inf or NaN).

#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Mean over the last @p window days (pandas `rolling(window, min_periods).mean()`).
/// @param load daily loads (arbitrary units, e.g. session-RPE × minutes), NaN = unknown.
/// @param min_periods fewest non-NaN days needed; <= 0 means @p window (pandas' default).
/// @throws InvalidArgument if window < 1.
VecXd rolling_mean(const VecXdCRef& load, int window, int min_periods = 0);

/// Sum over the last @p window days (pandas `rolling(window, min_periods).sum()`).
VecXd rolling_sum(const VecXdCRef& load, int window, int min_periods = 0);

/// Sample standard deviation (ddof = 1) over the last @p window days (pandas
/// `rolling(window, min_periods).std()`); NaN when fewer than 2 values are present.
VecXd rolling_std(const VecXdCRef& load, int window, int min_periods = 0);

/// Exponentially weighted moving average with decay λ = 2 / (span + 1)
/// (Williams et al. 2017, Br J Sports Med 51:209–210):
/// EWMA_t = λ·load_t + (1 − λ)·EWMA_{t−1}, EWMA_0 = load_0.
/// Equal to pandas `ewm(span=span, adjust=False).mean()`: a NaN day leaves the average
/// unchanged but lets the old average's weight decay, so the next observed load weighs
/// λ / (λ + (1 − λ)^(k+1)) after k missing days.
/// @throws InvalidArgument if span < 1.
VecXd ewma(const VecXdCRef& load, int span);

/// Options of workload_features().
struct WorkloadOptions {
    int acute_days = 7;     ///< acute window (days)
    int chronic_days = 28;  ///< chronic window (days), > acute_days
    int min_periods = 0;    ///< fewest non-NaN days in a window; <= 0: the whole window
};

/// Names of the columns workload_features() returns, in order.
std::vector<std::string> workload_feature_names();

/// All workload metrics for one athlete's consecutive daily loads (days × features).
///
/// With A = acute_days, C = chronic_days and L the daily load:
/// - `acute_load`  = rolling mean of L over A days; `chronic_load` = over C days.
/// - `acwr_coupled` = acute_load / chronic_load (the chronic window includes the acute
///   days; Hulin et al. 2016, Br J Sports Med 50:231–236).
/// - `acwr_uncoupled` = acute_load / mean of L over days t−C+1 … t−A (the chronic window
///   excludes the acute days; Lolli et al. 2019, Br J Sports Med 53:921–922).
/// - `ewma_acute`, `ewma_chronic` = ewma(L, A), ewma(L, C); `ewma_acwr` = their ratio
///   (Williams et al. 2017).
/// - `monotony` = mean / sample SD of L over A days; `strain` = sum of L over A days ×
///   monotony (Foster 1998, Med Sci Sports Exerc 30:1164–1168).
/// - `week_change` = sum over the last A days − sum over the A days before;
///   `week_change_pct` = 100 × week_change / that earlier sum (Gabbett 2016).
/// - `load_7d`, `load_14d`, `load_21d`, `load_28d` = cumulative loads, rolling sums over
///   1–4 weeks (Cross et al. 2016); `load_total` = cumulative sum of observed L since day 0.
/// Ratios with a zero denominator are NaN.
/// @param load days vector (NaN = unknown load).
/// @return days × workload_feature_names().size().
/// @throws InvalidArgument for windows < 1 or chronic_days <= acute_days.
RowMatXd workload_features(const VecXdCRef& load, const WorkloadOptions& options = {});

/// workload_features() for many athletes at once, in parallel over athletes.
/// @param athlete per row, an athlete code; rows of one athlete are contiguous and on
///        consecutive days in time order (as athlete_table's complete_days gives them).
/// @param load per row, the daily load.
/// @return rows × features, each athlete's block computed on its own.
/// @throws InvalidArgument if an athlete's rows are not contiguous or sizes differ.
RowMatXd workload_features_panel(const Eigen::Ref<const VecXi64>& athlete, const VecXdCRef& load,
                                 const WorkloadOptions& options = {});

}  // namespace sportsmed::risk
