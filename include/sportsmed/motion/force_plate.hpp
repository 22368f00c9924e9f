#pragma once
/// @file
/// Force plates (C3D FORCE_PLATFORM group): types 2, 3 and 4 to force, moment and centre of
/// pressure in the lab frame.

#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/c3d.hpp"

namespace sportsmed::motion {

// ForcePlateData (one plate's lab-frame signals) is declared in trial.hpp: a Trial carries them.

/// Computes every plate of the FORCE_PLATFORM group.
///
/// Type 2: channels Fx Fy Fz Mx My Mz (plate frame, moments about the sensor origin);
/// type 4: the same after the 6 × 6 CAL_MATRIX; type 3 (Kistler): fx12 fx34 fy14 fy23 fz1…fz4
/// with ORIGIN = (a, b, az0). Moments are carried to the surface centre with ORIGIN, the
/// vector from the sensor origin to the centre of the working surface in the plate frame
/// (z down), whose z is therefore negative (C3D documentation). A positive z, as Vicon
/// writes it, is normalised as ezc3d does: the vector is negated (type 3: a and b are
/// sensor distances, taken positive, and az0 negative), and ForcePlateData::origin holds
/// the normalised vector. The CoP is
/// (−My/Fz, Mx/Fz) on the surface, and everything is rotated to the lab with the plate axes
/// from CORNERS (x = c1 − c2, y = c1 − c4). When ZERO gives a frame range, the mean of the
/// channels over it is removed first.
/// @param cop_threshold_n |Fz| below which the CoP is undefined (NaN)
/// @throws FormatError naming the parameter when the group is incomplete or a channel index
///         is out of range.
std::vector<ForcePlateData> force_plates(const C3d& c3d, double cop_threshold_n = 10.0);

}  // namespace sportsmed::motion
