#pragma once
/// @file
/// The synthetic athlete: a seeded lower-body skeleton animated through a drop vertical jump
/// from prescribed Plug-in Gait joint angles, with markers (noise, dropouts) and vertical
/// ground reaction forces. It is the demo's embedded default and a ground-truth test.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// What to generate.
struct DropJumpSpec {
    std::uint64_t seed = 1;            ///< random seed (noise, dropouts)
    double rate_hz = 200.0;            ///< marker rate; the force channels run at 5 × this
    double body_mass_kg = 70.0;
    double knee_valgus_peak_deg = 8.0; ///< peak left knee valgus during the first landing (right: 70 %)
    double noise_mm = 0.5;             ///< marker noise (standard deviation per coordinate)
    int dropouts = 6;                  ///< gaps of 3-8 frames put into random markers
    double box_height_m = 0.30;
};

/// Marker positions of one segment in its own frame (PiG axes: x anterior, y left, z
/// proximal; the foot: x up, z posterior), in mm, with the segment's name.
struct SegmentTemplate {
    std::string segment;              ///< "PEL", "LFE", "LTI", "LFO", ...
    std::vector<std::string> markers; ///< labels in the trial
    RowMatXd local_mm;                ///< markers × 3
    /// Proximal joint centre in the segment frame (mm): the hip for a femur, the knee for a
    /// tibia. The segment's origin is its distal joint centre (knee for the femur, ankle for
    /// the tibia and the foot). NaN when the model does not know it.
    Eigen::RowVector3d proximal_joint_mm = Eigen::RowVector3d::Constant(std::numeric_limits<double>::quiet_NaN());
};

/// A generated drop jump with its ground truth.
struct SyntheticDropJump {
    Trial trial;                          ///< markers (mm) and analogs "Fz_L", "Fz_R" (N, up)
    std::vector<SegmentTemplate> model;   ///< marker-in-segment templates (the calibrated model)
    RowMatXd true_angles_left;            ///< frames × 9 degrees: hip, knee, ankle (PiG order and signs)
    RowMatXd true_angles_right;
    RowMatXd true_joint_centres_left;     ///< frames × 9 lab mm, noise-free: hip, knee, ankle centres
    RowMatXd true_joint_centres_right;
    double initial_contact_s = 0.0;       ///< first ground contact
    double take_off_s = 0.0;              ///< take-off of the jump
    double second_contact_s = 0.0;        ///< landing after the jump
    double body_mass_kg = 0.0;
};

/// Generates the drop jump (deterministic for a given spec).
SyntheticDropJump synthesize_drop_jump(const DropJumpSpec& spec = {});

/// Rigid fit (Kabsch / Söderkvist & Wedin 1993) of a segment's marker template to the
/// trial's markers, frame by frame, using the markers present (at least three).
/// @return frames × 12: the 3 × 3 rotation (row-major, columns = segment axes) then the
///         origin; NaN where fewer than three markers are visible.
/// @throws InvalidArgument listing template markers absent from the trial.
RowMatXd fit_segment(const Trial& trial, const SegmentTemplate& segment);

/// Plug-in Gait hip, knee and ankle angles (frames × 9, degrees) of one side from markers
/// and a segment template model (PEL, [LR]FE, [LR]TI, [LR]FO; the ankle marker [LR]ANK
/// defines the tibial torsion). Markers are gap-filled (natural spline, ≤ max_gap frames)
/// and low-pass filtered (2nd-order Butterworth filtfilt, cutoff corrected) first.
RowMatXd model_angles(const Trial& trial, const std::vector<SegmentTemplate>& model, const std::string& side,
                      double cutoff_hz = 12.0, std::int64_t max_gap = 20);

/// Hip, knee and ankle joint centres of one side (frames × 9, lab, in the trial's length unit)
/// from the same fitted segments as model_angles: the knee is the femur's origin, the ankle
/// the tibia's origin and the hip the femur template's proximal_joint_mm.
/// @throws InvalidArgument if the femur template has no proximal joint centre.
RowMatXd model_joint_centres(const Trial& trial, const std::vector<SegmentTemplate>& model, const std::string& side,
                             double cutoff_hz = 12.0, std::int64_t max_gap = 20);

/// Features of a drop vertical jump, each with its unit.
struct Feature {
    std::string name;
    double value;
    std::string unit;
};

/// The level an unloaded force plate reads (N): the lowest 50 ms mean of @p force when it is
/// below 10 % of @p body_weight_n (a foot at rest carries far more) and at least 5 N in size;
/// 0 otherwise. drop_jump_features takes it off each foot's force before finding the contacts
/// (thresholds 20 N on, 10 N off), so that a plate's offset cannot hide the flight.
double unloaded_plate_offset(const VecXdCRef& force, double rate_hz, double body_weight_n);

/// Drop-vertical-jump screening features (Hewett 2005; Myer 2010) from PiG angles and the
/// vertical ground reaction force of each foot.
///
/// Initial contact and take-off come from the summed vertical force (detect_contacts with
/// 20 N on / 10 N off). Reported: initial_contact_s, take_off_s, contact_time_s,
/// flight_time_s, jump_height_m (g·t²/8), reactive_strength_index, per side
/// knee_flexion_ic_deg, peak_knee_flexion_deg, knee_flexion_rom_deg, knee_abduction_ic_deg
/// (valgus positive, = −PiG varus), peak_knee_abduction_deg, peak_vgrf_bw,
/// loading_rate_bw_per_s (peak over time to peak), and landing_force_symmetry (L/R peak).
/// @param angles_left, angles_right frames × 9 (hip, knee, ankle) in degrees, at point_rate_hz
/// @param fz_left, fz_right vertical force (N, up) at analog_rate_hz, same start time
/// @throws InvalidArgument when no contact, or no take-off after it, is found.
std::vector<Feature> drop_jump_features(const RowMatXdCRef& angles_left, const RowMatXdCRef& angles_right,
                                        double point_rate_hz, const VecXdCRef& fz_left, const VecXdCRef& fz_right,
                                        double analog_rate_hz, double body_mass_kg);

/// Same, plus the frontal-plane measures from joint centres (frames × 9 per side: hip, knee,
/// ankle, lab; frontal_plane.hpp), the camera facing the athlete (frontal_view_anterior over
/// the first contact): per side fppa_ic_deg and peak_fppa_deg (largest over the first
/// contact, valgus positive), and knee_ankle_separation_ratio_ic and
/// knee_ankle_separation_ratio_peak_flexion (at the frame of the largest mean left/right
/// knee flexion in the first contact); per side knee_valgus_motion_cm (Myer et al. 2010's
/// clinical predictor of high knee abduction moment: the largest medial displacement of the
/// knee centre along the image's medio-lateral axis, from initial contact over the first
/// contact, ≥ 0) and tibia_length_cm (median knee-to-ankle centre distance over the trial).
/// Joint centres in millimetres.
/// @throws InvalidArgument when the centres are not frames × 9 like the angles.
std::vector<Feature> drop_jump_features(const RowMatXdCRef& angles_left, const RowMatXdCRef& angles_right,
                                        double point_rate_hz, const VecXdCRef& fz_left, const VecXdCRef& fz_right,
                                        double analog_rate_hz, double body_mass_kg,
                                        const RowMatXdCRef& centres_left, const RowMatXdCRef& centres_right);

}  // namespace sportsmed::motion
