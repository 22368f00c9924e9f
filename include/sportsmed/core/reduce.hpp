#pragma once
/// @file
/// NaN-aware reductions over row-major tables (frames × channels).
///
/// Motion data marks missing samples with NaN; these reductions skip them, like
/// numpy.nanmean / numpy.nanstd, and run multi-threaded over rows.

#include "sportsmed/core/eigen.hpp"

namespace sportsmed {

/// Mean of each column ignoring NaN, as numpy.nanmean(x, axis=0).
/// @param x rows × cols, any values; ±inf propagate.
/// @return cols-vector; a column with no finite-or-inf sample gives NaN.
VecXd nanmean_columns(const RowMatXdCRef& x);

/// Standard deviation of each column ignoring NaN, as numpy.nanstd(x, axis=0, ddof=ddof).
/// Two-pass (mean first) for accuracy.
/// @return cols-vector; NaN where fewer than ddof + 1 samples remain.
VecXd nanstd_columns(const RowMatXdCRef& x, int ddof = 0);

/// Number of non-NaN samples in each column.
VecXi64 count_valid_columns(const RowMatXdCRef& x);

}  // namespace sportsmed
