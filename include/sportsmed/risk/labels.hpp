#pragma once
/// @file
/// Outcome labels for injury prediction that do not leak the future into the past.

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// "Injury within h days" labels on a complete daily grid.
///
/// An injury *onset* is a day with injured = 1 whose previous day (of the same athlete)
/// is not injured. For day t the label is 1 if an onset falls on one of the days
/// t+1 … t+h, 0 if none does and all h days are within the athlete's record, and NaN
/// (row excluded) when
/// - the athlete is injured on day t (a day while injured is not a day at risk), or
/// - the record ends before t+h without an onset (outcome unknown: right-censored).
/// Labels use only days after t; features must use only days up to t (every metric in
/// workload.hpp does), so no feature sees the outcome it predicts.
/// @param athlete per row, athlete code; rows of one athlete contiguous, consecutive days.
/// @param injured per row, 1 on injury days, 0 otherwise (NaN counts as 0).
/// @param horizon_days h >= 1.
/// @return per row, 1 / 0 / NaN.
/// @throws InvalidArgument for h < 1 or mismatched sizes.
VecXd injury_within(const Eigen::Ref<const VecXi64>& athlete, const VecXdCRef& injured, int horizon_days);

}  // namespace sportsmed::risk
