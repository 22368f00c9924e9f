#pragma once
/// @file
/// Task features of whole trials and the batch API that turns many trials into one table.

#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/core/progress.hpp"
#include "sportsmed/motion/synthetic.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// The movement a trial records.
enum class Task { DropJump, Gait };

/// "drop_jump" (also "drop-jump", "dvj") or "gait" → Task. @throws InvalidArgument.
Task parse_task(const std::string& name);

/// How trial_features reads a trial.
struct FeatureOptions {
    Task task = Task::DropJump;
    /// Body mass for the force features of a drop jump; ≤ 0: PROCESSING:Bodymass of a C3D
    /// (batch_features), an error otherwise.
    double body_mass_kg = 0.0;
    /// Gait events: "auto" (the trial's Foot Strike / Foot Off events of both sides when
    /// present, Zeni otherwise), "stored" or "zeni".
    std::string gait_events = "auto";
    double zeni_window_s = 0.2;  ///< half-window of the Zeni extrema search
    /// The lab's vertical axis: "auto" (read from the data, see detect_vertical_axis; a C3D's
    /// POINT:Y_SCREEN in batch_features) or "+x", "-x", "+y", "-y", "+z", "-z". A trial
    /// that is not z-up is turned (to_z_up) before any feature is measured, with a warning.
    std::string vertical_axis = "auto";
};

/// Features of one trial, each with its unit.
///
/// Drop jump: the angles come from the Plug-in Gait output points [LR]HipAngles,
/// [LR]KneeAngles, [LR]AnkleAngles (or, when absent, from the stored segment axes through
/// plugin_gait_angles_from_axes); the vertical force of each foot from analog channels
/// "Fz_L"/"Fz_R" or else from the trial's force plates (each plate given to the foot whose
/// ankle marker is nearest to its centre of pressure at first loading); the frontal-plane
/// measures are added when the joint-centre points [LR]HJC, [LR]KJC, [LR]AJC exist. See
/// drop_jump_features for the list.
///
/// Gait (per side "left_"/"right_": strides, stride_time_s, stance_fraction,
/// stride_length_m, speed_m_per_s; then cadence_steps_per_min, speed_m_per_s,
/// step_width_m and the left/right ratios stride_time_symmetry, stance_fraction_symmetry,
/// stride_length_symmetry): events from the options, the heel ([LR]HEE, else [LR]ANK) for lengths; the
/// step width is the horizontal distance of the heel at each foot strike from the line
/// through the other heel's neighbouring strikes.
/// Besides the trial's own warnings, @p warnings receives what the features rest on that a
/// reader should know: the vertical axis when it is not +z or uncertain, a heel marker
/// replaced because it holds no data, a foot with fewer than two strikes, joint angles
/// outside the human range (implausible_angles).
/// @throws InvalidArgument listing missing markers or channels, or saying which forces a
///         drop jump lacks and how to supply them.
std::vector<Feature> trial_features(const Trial& trial, const FeatureOptions& options,
                                    std::vector<std::string>* warnings = nullptr);

/// One table of features: a row per trial, a column per feature (union over the trials in
/// first-seen order), NaN where a trial lacks a feature or failed.
struct FeatureTable {
    std::vector<std::string> trials;  ///< row names (file paths or given names)
    std::vector<std::string> names;   ///< column names
    std::vector<std::string> units;   ///< one per column
    RowMatXd values;                  ///< trials × features
    std::vector<std::string> errors;  ///< one per row: empty, or why the trial failed
    std::vector<std::string> warnings;  ///< one per row: empty, or its warnings joined by "; "
};

/// Assembles a FeatureTable from per-trial features (and per-trial error messages, which
/// may be empty). @throws InvalidArgument when one feature name carries two units.
FeatureTable make_feature_table(const std::vector<std::string>& trials,
                                const std::vector<std::vector<Feature>>& features,
                                const std::vector<std::string>& errors = {},
                                const std::vector<std::string>& warnings = {});

/// Reads every file (.c3d, .trc) and computes trial_features, in parallel over files
/// (sportsmed::parallel_for). A file that cannot be read or lacks what the task needs gets a
/// row of NaN and its error message instead of stopping the batch.
/// @throws Cancelled when @p progress returns false.
FeatureTable batch_features(const std::vector<std::string>& paths, const FeatureOptions& options,
                            const ProgressCallback& progress = {});

}  // namespace sportsmed::motion
