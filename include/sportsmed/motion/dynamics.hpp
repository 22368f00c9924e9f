#pragma once
/// @file
/// Lower-limb inverse dynamics: Newton–Euler from the foot up (foot → shank → thigh) of
/// both legs, with body-segment parameters (Dempster as Plug-in Gait uses it, de Leva 1996),
/// ground reactions from force plates (assigned to the feet automatically) or given per foot,
/// and hip, knee and ankle moments, forces and powers.
///
/// Conventions (those of Vicon Plug-in Gait, whose stored outputs the tests reproduce):
/// - joint centres: hip = femur origin's proximal end (the HJC), knee = femur origin (KJC) =
///   tibia's proximal end, ankle = tibia origin (AJC); the foot runs from the AJC to the toe
///   (Plug-in Gait's foot origin [LR]FOO, at the toe);
/// - the *internal* moment is the one the proximal segment exerts on the distal one (muscles,
///   ligaments); the external moment is its negative;
/// - moment components are named as Plug-in Gait's [LR](Hip|Knee|Ankle)Moment points:
///   X sagittal (hip extensor, knee extensor, ankle plantarflexor positive, internal),
///   Y frontal (about the segment's anterior axis; left as is, right negated), Z transverse
///   (about the long axis; left as is, right negated), in the distal or proximal segment's
///   frame (the foot's frame turned x forward, z up);
/// - powers: internal moment · (ω_distal − ω_proximal), W (positive: generation).
///
/// What Vicon's stored moments hold (found in PlugInC3D.c3d and gait-pig.c3d, read from the
/// data by the tests and sportsmed.motion.plugin_gait_stored_moments): N·mm per kg of body
/// mass although POINT:MOMENT_UNITS says "Nmm" (PlugInC3D's stored ground reaction is the
/// plate force / its .mp body mass); Workstation/Nexus express them in the distal segment's
/// frame, the VCM-era gait-pig.c3d in the proximal one, with the knee's Z (rotation) negated.

#include <string>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/cgm.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Inertial parameters of one segment, as fractions of the body mass and segment length.
struct SegmentInertia {
    double mass_fraction = 0.0;       ///< segment mass / body mass
    double com_from_proximal = 0.5;   ///< COM distance from the proximal end / length
    double gyration_sagittal = 0.0;   ///< radius of gyration about the COM, medio-lateral axis / length
    double gyration_frontal = 0.0;    ///< about the antero-posterior axis / length
    double gyration_long = 0.0;       ///< about the long axis / length
};

/// A body-segment parameter table for the lower limb.
struct BodySegmentTable {
    std::string name;
    SegmentInertia thigh, shank, foot;
};

/// Dempster (1955) as tabulated by Winter (2009, Biomechanics and Motor Control of Human
/// Movement, 4th ed., Table 4.1) and used by Plug-in Gait: foot 0.0145 / 0.50 / 0.475
/// (mass / COM from proximal / radius of gyration about the COM), leg 0.0465 / 0.433 / 0.302,
/// thigh 0.100 / 0.433 / 0.323; the same radius about both transverse axes and none about
/// the long axis (a 2-D table; Plug-in Gait and pyCGM2 do the same).
BodySegmentTable dempster_table();

/// de Leva (1996, J Biomech 29:1223, Table 4) sex-specific adjustments of Zatsiorsky–
/// Seluyanov's parameters. Female / male: thigh 14.78 / 14.16 % mass, COM 36.12 / 40.95 % from
/// the hip, gyration 36.9, 36.4, 16.2 / 32.9, 32.9, 14.9 %; shank 4.81 / 4.33 %, 44.16 / 44.59 %,
/// 27.1, 26.7, 9.3 / 25.5, 24.9, 10.3 %; foot 1.29 / 1.37 %, 40.14 / 44.15 %, 29.9, 27.9, 13.9 /
/// 25.7, 24.5, 12.4 %. de Leva's foot runs heel → toe tip; here its fractions are applied to
/// the ankle → toe segment (an approximation: the foot's mass is what matters in stance).
/// @param sex "female"/"f" or "male"/"m". @throws InvalidArgument otherwise.
BodySegmentTable de_leva_table(const std::string& sex);

/// The table named @p name: "dempster", "de_leva_female" or "de_leva_male".
/// @throws InvalidArgument for another name.
BodySegmentTable body_segment_table(const std::string& name);

/// Kinematics of one leg in the lab frame, SI units: joint centres (N × 3, m) and segment
/// frames (N × 9, row-major 3 × 3 per frame, columns = the segment's x anterior, y left,
/// z along the segment (proximal for thigh and shank, backwards along the foot for the foot,
/// as Plug-in Gait stores it)).
struct LegSegments {
    RowMatX3d hip, knee, ankle, toe;
    RowMatXd pelvis, thigh, shank, foot;
    RowMatX3d heel;  ///< optional heel marker (m) for the plate assignment; empty if none
};

/// External load on one foot in the lab frame at the marker rate: the force (N, on the
/// body) and its moment about the lab origin (N·m), i.e. the ground reaction as a wrench.
/// Unloaded frames are zero; NaN rows mean "unknown" (they make that frame's results NaN).
struct FootLoad {
    RowMatX3d force;
    RowMatX3d moment;  ///< about the lab origin
};

/// Newton–Euler results of one leg, lab frame, SI units. Forces and moments are those the
/// proximal segment exerts on the distal one at the joint (internal), moments about the
/// joint centre.
struct LegDynamics {
    RowMatX3d ankle_force, knee_force, hip_force;     ///< N
    RowMatX3d ankle_moment, knee_moment, hip_moment;  ///< N·m
    RowMatX3d foot_omega, shank_omega, thigh_omega;   ///< rad/s
    VecXd ankle_power, knee_power, hip_power;         ///< W
};

/// Inverse dynamics of one leg, distal to proximal: for each segment (COM from the table
/// along proximal → distal, mass fraction × @p body_mass_kg, inertia diag(m (k L)²) in the
/// segment frame with L the mean segment length), F_prox = m a − m g − F_dist and
/// M_prox = dH/dt − (r_prox − c) × F_prox − (r_dist − c) × F_dist − M_dist, with a, ω and α
/// by central differences (numpy.gradient) of positions and frames. Frames where anything
/// is NaN give NaN.
/// @param gravity lab gravity vector, m/s² (default −9.81 along z)
/// @throws InvalidArgument on shape mismatches or a non-positive mass or rate.
LegDynamics leg_inverse_dynamics(const LegSegments& leg, const FootLoad& load, const BodySegmentTable& table,
                                 double body_mass_kg, double rate_hz,
                                 const Eigen::Vector3d& gravity = Eigen::Vector3d(0, 0, -9.81));

/// leg_inverse_dynamics of many legs (e.g. both legs of 1,000 trials), in parallel over the
/// legs (sportsmed::parallel_for; results identical to calling it leg by leg).
/// @param body_mass_kg one per leg, or one for all
/// @throws InvalidArgument as leg_inverse_dynamics (naming the leg's index), or when the
///         sizes of @p legs, @p loads and @p body_mass_kg disagree.
std::vector<LegDynamics> leg_inverse_dynamics_batch(const std::vector<LegSegments>& legs,
                                                    const std::vector<FootLoad>& loads,
                                                    const BodySegmentTable& table,
                                                    const std::vector<double>& body_mass_kg, double rate_hz,
                                                    const Eigen::Vector3d& gravity = Eigen::Vector3d(0, 0, -9.81));

/// Frame in which moments are expressed: the distal or proximal segment's, the lab's, or the
/// joint coordinate system (Jcs: components about the proximal segment's medio-lateral axis
/// (X, flexion), the floating axis (Y, ab/adduction) and the distal segment's long axis (Z,
/// rotation), by projection — Grood & Suntay 1983, Schache & Baker 2007).
enum class MomentFrame { Distal, Proximal, Lab, Jcs };

/// Options of inverse_dynamics.
struct InverseDynamicsOptions {
    double body_mass_kg = 0.0;          ///< required (> 0)
    std::string table = "dempster";     ///< see body_segment_table
    /// Low-pass cut-off (Hz) applied alike to the marker-derived positions and to the plate
    /// forces and moments (Butterworth, 2nd order, zero lag). The same cut-off for both avoids
    /// the artefacts of Kristianslund, Krosshaug & van den Bogert (2012, J Biomech 45:666),
    /// where forces filtered above the markers' cut-off gave spurious knee-moment peaks at
    /// impact. 15 Hz keeps gait's impact transients while removing marker noise; 0 disables
    /// filtering (for data already filtered, such as Plug-in Gait's stored segment axes).
    double cutoff_hz = 15.0;
    MomentFrame frame = MomentFrame::Distal;  ///< Plug-in Gait (Nexus/Workstation) reports distal
    bool external = false;              ///< report external moments (the negative)
    double force_threshold_n = 20.0;    ///< vertical force above which a plate is loaded
    /// A plate contact belongs to a foot when the median horizontal distance of its centre of
    /// pressure to the foot (heel or ankle → toe) is below this (m), and to no other foot.
    double max_cop_distance_m = 0.10;
    std::string model = "auto";         ///< "axes" (stored Plug-in Gait axes), "cgm1" (markers), "auto"
    /// The C3D's POINT:Y_SCREEN ("+Z", "+Y" ...; empty: none), which settles the vertical axis
    /// as detect_vertical_axis(const C3d&) does (a Trial alone does not carry it).
    std::string screen_y;
};

/// Results of one side. Columns of moments/forces: hip X Y Z, knee X Y Z, ankle X Y Z.
struct SideDynamics {
    RowMatXd moments;   ///< N × 9, N·m (Plug-in Gait component naming, see the file comment)
    RowMatXd forces;    ///< N × 9, N, joint force on the distal segment, same frames as moments
    RowMatXd powers;    ///< N × 3 (hip, knee, ankle), W
    /// Per frame: the plate index (0-based) the foot stands on, −1 none (swing), −2 unknown
    /// load (a foot off the plates in stance, or a plate shared by two feet: results NaN).
    VecXi64 plate;
};

/// Inverse dynamics of a whole trial.
struct InverseDynamicsResult {
    SideDynamics left, right;
    double body_mass_kg = 0.0;
    double rate_hz = 0.0;
    std::string model;                  ///< "axes" or "cgm1"
    /// The lab's up direction gravity was taken against ("+z", "+y", ...), read from the
    /// markers by detect_vertical_axis (a warning when the markers cannot tell for certain).
    std::string vertical_axis;
    std::vector<std::string> warnings;  ///< unassigned contacts, feet off the plates, shared plates
};

/// Segment kinematics of one side ("L"/"R") of a trial in SI units, from the stored
/// Plug-in Gait axes (PEL…, [LR]FEO/A/L/P with FEP the HJC, [LR]TIO…, [LR]FOO… with FOO at
/// the toe) when @p model is "axes" or "auto" and they are present, else from the markers
/// by cgm1 with the parameters of @p c3d_processing (pass nullptr when there are none).
/// @param model_used receives "axes" or "cgm1"
/// @throws InvalidArgument when neither the axes nor the markers and parameters are there.
LegSegments leg_segments_from_trial(const Trial& trial, const std::string& side, const std::string& model = "auto",
                                    const Cgm1Parameters* cgm1_parameters = nullptr,
                                    std::string* model_used = nullptr);

/// Assigns the trial's force plates to the feet and builds each foot's load (lab origin
/// moments, marker rate; the first analog sample of each frame, after filtering at
/// @p cutoff_hz when > 0). Contacts whose centre of pressure is near no foot, feet that
/// share a plate, and (when the trial has Foot Strike / Foot Off events) stances off the
/// plates are reported in @p warnings, and the frames concerned get NaN loads and plate −2.
/// @param plate_out N × 2 per-frame plate index of the left and right foot (see SideDynamics)
void foot_loads_from_plates(const Trial& trial, const LegSegments& left, const LegSegments& right,
                            const InverseDynamicsOptions& options, FootLoad& left_load, FootLoad& right_load,
                            RowMatXi64& plate_out, std::vector<std::string>& warnings);

/// Newton–Euler inverse dynamics of both legs of @p trial with its force plates.
/// @throws InvalidArgument without a body mass (> 0), without force plates, or without
///         segment kinematics (see leg_segments_from_trial).
InverseDynamicsResult inverse_dynamics(const Trial& trial, const InverseDynamicsOptions& options,
                                       const Cgm1Parameters* cgm1_parameters = nullptr);

/// Same with the loads given per foot (e.g. from an OpenSim GRF .mot): N × 3 force (N) and
/// moment about the lab origin (N·m) at the marker rate, lab frame of the trial.
InverseDynamicsResult inverse_dynamics(const Trial& trial, const FootLoad& left, const FootLoad& right,
                                       const InverseDynamicsOptions& options,
                                       const Cgm1Parameters* cgm1_parameters = nullptr);

}  // namespace sportsmed::motion
