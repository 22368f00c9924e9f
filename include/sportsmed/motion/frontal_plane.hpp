#pragma once
/// @file
/// Frontal-plane screening measures of a landing, as a 2-D video taken from in front of
/// the athlete would show them: the frontal-plane projection angle of the knee and the
/// knee-to-ankle separation ratio, computed from 3-D joint centres.

#include <Eigen/Core>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/joint_angles.hpp"

namespace sportsmed::motion {

/// Viewing axis of a frontal camera: the horizontal direction the athlete faces, from the
/// hip joint centres. With z vertical, left = the mean horizontal part of (left − right hip)
/// over the finite frames, and anterior = left × z (x anterior, y left, z up as Plug-in Gait).
/// @param left_hip, right_hip N × 3 lab positions
/// @return unit horizontal vector
/// @throws InvalidArgument if the hips never separate horizontally (no finite frame).
Eigen::Vector3d frontal_view_anterior(const RowMatX3dCRef& left_hip, const RowMatX3dCRef& right_hip);

/// Frontal-plane projection angle (FPPA) of the knee, in degrees, frame by frame.
///
/// Hip, knee and ankle joint centres are projected onto the vertical plane normal to
/// @p anterior (2-D coordinates: lateral for this @p side, and up). The FPPA is the signed
/// angle from the thigh line (hip → knee) to the shank line (knee → ankle), i.e. 180° minus
/// the knee angle seen by the camera; 0 for a straight leg, **positive for valgus** (knee
/// medial of the hip–ankle line), negative for varus (Willson & Davis 2008; Munro, Herrington
/// & Carolan 2012 measure it on video the same way).
/// @param hip, knee, ankle N × 3 lab positions (any one length unit, z vertical)
/// @param anterior viewing axis (see frontal_view_anterior); only its horizontal part is used
/// @return N angles in degrees; NaN where a joint centre is missing
/// @throws InvalidArgument for mismatched lengths or a vertical @p anterior.
VecXd frontal_plane_projection_angle(const RowMatX3dCRef& hip, const RowMatX3dCRef& knee, const RowMatX3dCRef& ankle,
                                     const Eigen::Vector3d& anterior, Side side);

/// Knee-to-ankle separation ratio (Noyes et al. 2005; Barber-Westin et al. 2005), frame by
/// frame: the distance between the knee joint centres divided by that between the ankle joint
/// centres, both measured along the frontal plane's medio-lateral axis (the horizontal
/// image axis of a frontal camera). Signed: negative when the knees cross. Values below 1
/// mean the knees are closer together than the ankles (dynamic valgus).
/// @param left_knee, right_knee, left_ankle, right_ankle N × 3 lab positions
/// @param anterior viewing axis (see frontal_view_anterior)
/// @return N ratios; NaN where a centre is missing or the ankle separation is 0
VecXd knee_ankle_separation_ratio(const RowMatX3dCRef& left_knee, const RowMatX3dCRef& right_knee,
                                  const RowMatX3dCRef& left_ankle, const RowMatX3dCRef& right_ankle,
                                  const Eigen::Vector3d& anterior);

}  // namespace sportsmed::motion
