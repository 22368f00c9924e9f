#pragma once
/// @file
/// Force plates (C3D FORCE_PLATFORM group): types 2, 3 and 4 to force, moment and centre of
/// pressure in the lab frame.

#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/c3d.hpp"

namespace sportsmed::motion {

/// One force plate's signals in the lab frame, at the analog rate.
struct ForcePlateData {
    int type = 0;                       ///< C3D plate type (2, 3 or 4)
    Eigen::Matrix<double, 4, 3> corners;  ///< lab positions of corners 1-4 (point units)
    Eigen::Vector3d origin;             ///< FORCE_PLATFORM:ORIGIN (plate frame)
    Eigen::Matrix3d rotation;           ///< columns: plate x, y, z axes in the lab
    RowMatXd force;                     ///< samples × 3, N, lab frame (the plate's channels rotated)
    RowMatXd moment;                    ///< samples × 3, N·mm, about the centre of the plate surface, lab frame
    RowMatXd cop;                       ///< samples × 3, lab position of the centre of pressure (NaN if |Fz| < threshold)
    VecXd free_moment;                  ///< samples, N·mm, about the plate normal at the CoP
};

/// Computes every plate of the FORCE_PLATFORM group.
///
/// Type 2: channels Fx Fy Fz Mx My Mz (plate frame, moments about the sensor origin);
/// type 4: the same after the 6 × 6 CAL_MATRIX; type 3 (Kistler): fx12 fx34 fy14 fy23 fz1…fz4
/// with ORIGIN = (a, b, az0). Moments are carried to the surface centre with ORIGIN (the
/// vector from the surface centre to the sensor origin, plate frame), the CoP is
/// (−My/Fz, Mx/Fz) on the surface, and everything is rotated to the lab with the plate axes
/// from CORNERS (x = c1 − c2, y = c1 − c4). When ZERO gives a frame range, the mean of the
/// channels over it is removed first.
/// @param cop_threshold_n |Fz| below which the CoP is undefined (NaN)
/// @throws FormatError naming the parameter when the group is incomplete or a channel index
///         is out of range.
std::vector<ForcePlateData> force_plates(const C3d& c3d, double cop_threshold_n = 10.0);

}  // namespace sportsmed::motion
