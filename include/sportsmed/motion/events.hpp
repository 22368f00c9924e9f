#pragma once
/// @file
/// Contact events from a vertical force by thresholding with hysteresis.

#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/trial.hpp"

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

/// Gait events of one foot, as frame indices (0-based rows of the trial).
struct GaitEvents {
    std::vector<std::int64_t> foot_strikes;
    std::vector<std::int64_t> foot_offs;
};

/// Zeni events of side "L" or "R" from a trial's [LR]HEE (or [LR]ANK when the heel is absent
/// or tracked in less than half as many frames as the ankle, see first_tracked_marker),
/// [LR]TOE and the pelvis (SACR, or the mean of LPSI/RPSI).
/// @throws InvalidArgument listing missing markers, or naming the heel candidates and their
///         frames of data when none is tracked.
GaitEvents zeni_events_from_trial(const Trial& trial, const std::string& side, double window_s = 0.2);

/// Gait events from kinematics (Zeni et al. 2008): a foot strike where the heel is furthest
/// in front of the pelvis along the direction of progression, a foot off where the toe is
/// furthest behind it. The direction of progression is taken frame by frame from the
/// horizontal (x-y) displacement of @p pelvis over ±0.5 s, so that each pass of a trial
/// walked out and back has its own (none within a turn). An extremum is the largest value
/// within ±@p window_s whose two neighbouring frames have data: at the edge of a marker gap
/// the true extremum may be missing, so none is reported there (fill short gaps first).
/// @param heel, toe, pelvis frames × 3 (z vertical); NaN frames are skipped
GaitEvents zeni_events(const RowMatX3dCRef& heel, const RowMatX3dCRef& toe, const RowMatX3dCRef& pelvis,
                       double rate_hz, double window_s = 0.2);

}  // namespace sportsmed::motion
