#pragma once
/// @file
/// Splits that keep athletes and time apart, and the leakage guard.
///
/// A model of training-load data evaluated with a random row split learns *who* gets
/// injured (rows of one athlete on both sides) and *when* (adjacent days on both sides),
/// and its AUC says little about new athletes or future weeks. These splits are the
/// honest alternatives; check_split() measures how much a given split leaks.

#include <cstdint>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Grouped K-fold by athlete: every row of an athlete lands in the same fold.
/// Athletes are shuffled with @p seed and dealt round-robin to the folds.
/// @param athlete per row, athlete code (any integers).
/// @param k number of folds, 2 <= k <= number of athletes.
/// @return per row, the fold index in [0, k).
/// @throws InvalidArgument if k is out of range.
VecXi64 grouped_kfold(const Eigen::Ref<const VecXi64>& athlete, int k, std::uint64_t seed = 0);

/// Temporal split with a purge gap.
/// @param day per row, day number (days since 1970-01-01).
/// @param test_start first day of the test period.
/// @param purge_days rows with test_start − purge_days <= day < test_start are dropped,
///        so that training labels (which look h days ahead) never see test-period
///        outcomes: use purge_days >= the label horizon.
/// @return per row, 0 train, 1 test, −1 purged.
VecXi64 temporal_split(const Eigen::Ref<const VecXi64>& day, std::int64_t test_start, int purge_days);

/// How much a split leaks athletes.
struct SplitCheck {
    std::int64_t n_train = 0;            ///< rows with side 0
    std::int64_t n_test = 0;             ///< rows with side 1
    std::int64_t athletes_train = 0;     ///< distinct athletes with training rows
    std::int64_t athletes_test = 0;      ///< distinct athletes with test rows
    std::int64_t athletes_both = 0;      ///< athletes with rows on both sides
    std::int64_t min_gap_days = 0;       ///< smallest |day_test − day_train| for one athlete
                                         ///< on both sides (0 when none is)
};

/// Leakage guard: counts athletes whose rows sit on both sides of a split and the
/// closest train/test days of such an athlete (a gap shorter than the label horizon
/// means the two sides share outcome days).
/// @param side per row, 0 train, 1 test, anything else ignored.
SplitCheck check_split(const Eigen::Ref<const VecXi64>& athlete, const Eigen::Ref<const VecXi64>& day,
                       const Eigen::Ref<const VecXi64>& side);

}  // namespace sportsmed::risk
