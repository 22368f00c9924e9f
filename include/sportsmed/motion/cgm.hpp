#pragma once
/// @file
/// Conventional Gait Model (CGM1 / Vicon Plug-in Gait) building blocks: the pelvis frame from
/// markers and the hip joint centre regression of Davis et al. (1991).

#include <string>

#include <Eigen/Core>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Pelvis frames (N × 9, columns x anterior, y left, z up) and origins (mid-ASIS, N × 3) from
/// LASI, RASI and the sacrum (SACR or the LPSI/RPSI midpoint): y = unit(LASI − RASI),
/// x = the sacrum→mid-ASIS direction made orthogonal to y, z = x × y.
/// @throws InvalidArgument listing missing markers.
RowMatXd cgm1_pelvis_frames(const Trial& trial, RowMatX3d* origin_out = nullptr);

/// Hip joint centre in the pelvis frame (mm) by Davis, Õunpuu, Tyburski & Gage (1991), as
/// Plug-in Gait applies it: C = 0.115·leg − 15.3, θ = 0.5 rad, β = 0.314 rad,
/// X = C cosθ sinβ − (d + r) cosβ, Y = ±(inter_asis/2 − C sinθ), Z = −C cosθ cosβ − (d + r) sinβ,
/// with d the ASIS–trochanter distance (0.1288·leg − 48.56 when @p asis_trocanter_mm ≤ 0)
/// and r the marker radius. Y is positive (left) for the left hip.
/// @param leg_length_mm, inter_asis_mm anthropometrics (PROCESSING group)
Eigen::Vector3d davis_hip_joint_centre(double leg_length_mm, double inter_asis_mm, double asis_trocanter_mm,
                                       double marker_radius_mm, bool left);

/// Hip joint centre trajectories (N × 3, lab, mm) of one side ("L"/"R") from the trial's
/// pelvis markers and the anthropometrics of a C3D PROCESSING group ([LR]LegLength,
/// InterAsisDistance, [LR]AsisTrocanterDistance).
RowMatX3d cgm1_hip_joint_centres(const Trial& trial, const std::string& side, double leg_length_mm,
                                 double inter_asis_mm, double asis_trocanter_mm, double marker_radius_mm = 7.0);

}  // namespace sportsmed::motion
