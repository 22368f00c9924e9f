#pragma once
/// @file
/// Marker gap filling from other markers of the same rigid segment.

#include <string>
#include <vector>

#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Rigid-body fill: a marker of @p cluster missing in a frame is reconstructed from at least
/// three other cluster markers visible in that frame. Their positions in the nearest frame
/// where the whole cluster is visible are fitted (Kabsch / Söderkvist & Wedin 1993) onto the
/// current ones, and the missing marker follows the same rigid motion.
/// @param cluster labels of markers on one rigid segment (at least 4)
/// @return the trial with the gaps it could fill filled (others stay NaN)
/// @throws InvalidArgument for fewer than 4 labels or labels absent from the trial.
Trial rigid_body_fill(const Trial& trial, const std::vector<std::string>& cluster);

}  // namespace sportsmed::motion
