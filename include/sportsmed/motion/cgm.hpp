#pragma once
/// @file
/// Conventional Gait Model (CGM1 / Vicon Plug-in Gait lower body) from markers and the
/// anthropometrics of a C3D PROCESSING group: pelvis, hip joint centres (Davis 1991 as
/// Plug-in Gait applies it, or Harrington 2007), the chord function for the knee and ankle
/// joint centres, femur, tibia (untorsioned and torsioned) and foot frames with the static
/// offsets, and the hip, knee and ankle angles named and signed as Plug-in Gait.
///
/// Frames are N × 9 (row-major 3 × 3 per frame, columns x anterior, y left, z proximal /
/// up; the foot's z runs along the foot, backwards, as Plug-in Gait stores it).

#include <string>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/c3d.hpp"
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
/// and r the marker radius. Y is positive (left) for the left hip. Plug-in Gait takes C from
/// the *mean* of both leg lengths (@p mean_leg_length_mm; ≤ 0 uses @p leg_length_mm) and d
/// from the side's own leg length.
/// @param leg_length_mm, inter_asis_mm anthropometrics (PROCESSING group)
Eigen::Vector3d davis_hip_joint_centre(double leg_length_mm, double inter_asis_mm, double asis_trocanter_mm,
                                       double marker_radius_mm, bool left, double mean_leg_length_mm = 0.0);

/// Hip joint centre in the pelvis frame (mm) by Harrington et al. (2007, J Biomech 40:595),
/// the regression on pelvis width PW (inter-ASIS distance) and depth PD (mid-ASIS to
/// mid-PSIS or sacrum): anterior −0.24·PD − 9.9, lateral 0.33·PW + 7.3 (+ left),
/// vertical −0.30·PW − 10.9, applied to marker positions.
Eigen::Vector3d harrington_hip_joint_centre(double pelvis_width_mm, double pelvis_depth_mm, bool left);

/// Hip joint centre trajectories (N × 3, lab, mm) of one side ("L"/"R") from the trial's
/// pelvis markers and the anthropometrics of a C3D PROCESSING group ([LR]LegLength,
/// InterAsisDistance, [LR]AsisTrocanterDistance).
RowMatX3d cgm1_hip_joint_centres(const Trial& trial, const std::string& side, double leg_length_mm,
                                 double inter_asis_mm, double asis_trocanter_mm, double marker_radius_mm = 7.0,
                                 double mean_leg_length_mm = 0.0);

/// The chord function of Plug-in Gait: the joint centre C at distance @p offset_mm from the
/// lateral marker @p lateral such that the angle proximal–C–lateral is 90° and, about the
/// axis C→@p proximal, the lateral marker lies @p rotation_rad from the wand marker
/// @p wand (0: C in the plane of the three points). Used for the knee (HJC, THI, KNE,
/// (knee width + marker diameter)/2, thigh rotation) and the ankle (KJC, TIB, ANK, (ankle
/// width + marker diameter)/2, shank rotation). Rows with NaN, or an offset longer than the
/// proximal–lateral distance, give NaN.
/// @param proximal, wand, lateral N × 3 positions (mm)
/// @return N × 3 joint centres (mm)
RowMatX3d chord_joint_centres(const RowMatX3dCRef& proximal, const RowMatX3dCRef& wand,
                              const RowMatX3dCRef& lateral, double offset_mm, double rotation_rad = 0.0);

/// Hip joint centre regression of the CGM.
enum class HipJointCentreMethod { Davis, Harrington };

/// Subject measurements of one leg, named as the C3D PROCESSING group (angles in radians,
/// as Vicon Nexus and pyCGM2 write them there).
struct Cgm1LegParameters {
    double leg_length_mm = 0.0;                 ///< [LR]LegLength (required)
    double asis_trocanter_mm = 0.0;             ///< [LR]AsisTrocanterDistance (≤ 0: 0.1288·leg − 48.56)
    double knee_width_mm = 0.0;                 ///< [LR]KneeWidth (required)
    double ankle_width_mm = 0.0;                ///< [LR]AnkleWidth (required)
    double thigh_rotation_rad = 0.0;            ///< [LR]ThighRotation (KAD static offset)
    double shank_rotation_rad = 0.0;            ///< [LR]ShankRotation
    double tibial_torsion_rad = 0.0;            ///< [LR]TibialTorsion
    double static_plantar_flexion_rad = 0.0;    ///< [LR]StaticPlantFlex
    double static_rotation_offset_rad = 0.0;    ///< [LR]StaticRotOff
    /// [LR]AnkleAbAdd: pyCGM2's ankle ab/adduction offset (static with medial malleoli; not
    /// part of Vicon Plug-in Gait): the ankle joint centre turned about the lateral malleolus
    /// marker in the frontal plane.
    double ankle_abadd_rad = 0.0;
};

/// Everything the CGM1 needs besides the markers.
struct Cgm1Parameters {
    Cgm1LegParameters left, right;
    double inter_asis_mm = 0.0;      ///< InterAsisDistance (≤ 0: mean LASI–RASI distance of the trial)
    double marker_diameter_mm = 14.0;  ///< MarkerDiameter
    HipJointCentreMethod hip_joint_centre = HipJointCentreMethod::Davis;
    /// Foot decomposition: "auto" (the trial's stored [LR]AnkleAngles decide, else Vicon's
    /// documented YXZ), "YXZ" or "YZX"; see plugin_gait_angles and resolve_ankle_sequence.
    std::string ankle_sequence = "auto";
};

/// Reads Cgm1Parameters from a C3D's PROCESSING group (names as in Cgm1LegParameters;
/// MarkerDiameter defaults to 14 mm, the static offsets to 0 when absent).
/// @throws InvalidArgument naming every missing required parameter (leg length, knee and
///         ankle widths of both sides).
Cgm1Parameters cgm1_parameters_from_c3d(const C3d& c3d);

/// Model outputs of one leg (lab frame, mm; NaN where a marker is missing).
struct Cgm1Leg {
    RowMatX3d hip_joint_centre, knee_joint_centre, ankle_joint_centre;  ///< N × 3, the trial's point units
    RowMatXd femur;             ///< N × 9, origin KJC, z to the HJC, y towards the lateral KNE (left)
    RowMatXd tibia;             ///< N × 9 untorsioned tibia (knee angles): torsioned turned by the tibial torsion
    RowMatXd tibia_torsioned;   ///< N × 9, origin AJC, z to the KJC, y towards the lateral ANK (left)
    RowMatXd foot_uncorrected;  ///< N × 9, z from the TOE to the AJC, y from the tibia
    RowMatXd foot;              ///< N × 9 corrected by the static plantar flexion and rotation offsets
    RowMatXd hip_angles_deg, knee_angles_deg, ankle_angles_deg;  ///< N × 3, as [LR](Hip|Knee|Ankle)Angles
};

/// The CGM1 of a whole trial.
struct Cgm1Result {
    RowMatXd pelvis;          ///< N × 9
    RowMatX3d pelvis_origin;  ///< N × 3 (mid-ASIS)
    Cgm1Leg left, right;
};

/// Conventional Gait Model 1 (Vicon Plug-in Gait lower body; Davis et al. 1991, Kadaba et al.
/// 1990) from the markers LASI, RASI, SACR (or LPSI and RPSI), [LR]THI, [LR]KNE, [LR]TIB,
/// [LR]ANK, [LR]TOE (subject prefixes matched) and @p params:
/// pelvis → hip joint centres → KJC by the chord function (THI wand, thigh rotation) →
/// femur → AJC by the chord function (TIB wand, shank rotation; pyCGM2's ankle ab/adduction
/// offset when set) → torsioned tibia → untorsioned tibia (tibial torsion) → uncorrected foot
/// (TOE → AJC, untorsioned tibia's y) → foot (static plantar flexion about y, then static
/// rotation offset about x) → Plug-in Gait angles (knee on the untorsioned tibia, ankle on
/// the torsioned one).
/// @throws InvalidArgument listing every missing marker label.
Cgm1Result cgm1(const Trial& trial, const Cgm1Parameters& params);

}  // namespace sportsmed::motion
