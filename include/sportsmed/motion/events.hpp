#pragma once
/// @file
/// Contact events from a vertical force by thresholding with hysteresis.

#include <cstdint>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::motion {

/// One contact: samples [on, off) where the force was on the plate.
struct ContactInterval {
    std::int64_t on = 0;   ///< first sample at or above the on-threshold
    std::int64_t off = 0;  ///< first sample below the off-threshold after on (n if never)
};

/// Contacts of a vertical force signal. A contact starts when @p fz reaches @p on_threshold_n
/// and ends when it falls below @p off_threshold_n (≤ on threshold: the hysteresis keeps
/// noise around one threshold from splitting a contact). Contacts shorter than
/// @p min_samples are dropped. NaN samples count as unloaded.
/// @throws InvalidArgument if off_threshold_n > on_threshold_n.
std::vector<ContactInterval> detect_contacts(const VecXdCRef& fz, double on_threshold_n, double off_threshold_n,
                                             std::int64_t min_samples = 1);

}  // namespace sportsmed::motion
