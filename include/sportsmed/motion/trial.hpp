#pragma once
/// @file
/// The value type of one motion-capture trial: marker trajectories, analog channels,
/// events and their units.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::motion {

/// One labelled instant of a trial (a foot strike, a take-off ...).
struct Event {
    std::string label;        ///< e.g. "Foot Strike"
    std::string context;      ///< e.g. "Left", "Right", "General" (may be empty)
    double time_s = 0.0;      ///< time from the start of the recording (C3D: minutes*60+seconds)
    std::string description;  ///< free text (may be empty)
};

/// One force plate's signals in the lab frame, at the analog rate (see force_plate.hpp).
struct ForcePlateData {
    int type = 0;                       ///< C3D plate type (2, 3 or 4)
    Eigen::Matrix<double, 4, 3> corners = Eigen::Matrix<double, 4, 3>::Zero();  ///< lab corners 1-4 (point units)
    Eigen::Vector3d origin = Eigen::Vector3d::Zero();      ///< FORCE_PLATFORM:ORIGIN (plate frame), normalised to z ≤ 0
    Eigen::Matrix3d rotation = Eigen::Matrix3d::Identity();  ///< columns: plate x, y, z axes in the lab
    RowMatXd force;                     ///< samples × 3, N, lab frame (the plate's channels rotated)
    RowMatXd moment;                    ///< samples × 3, N·mm, about the centre of the plate surface, lab frame
    RowMatXd cop;                       ///< samples × 3, lab position of the centre of pressure (NaN if |Fz| < threshold)
    VecXd free_moment;                  ///< samples, N·mm, about the plate normal at the CoP
};

/// One motion-capture trial.
///
/// Points are stored as a frames × (3·markers) row-major matrix: marker m's x, y, z are
/// columns 3m, 3m+1, 3m+2, so that numpy sees it (zero-copy) as frames × markers × 3.
/// A missing sample (invalid C3D residual, empty TRC cell) is NaN in all three columns.
struct Trial {
    std::vector<std::string> point_labels;  ///< one per marker
    std::vector<std::string> point_descriptions;  ///< one per marker (may be empty strings)
    RowMatXd points;                        ///< frames × 3·markers, in point_units
    RowMatXd residuals;                     ///< frames × markers (C3D residual, -1 invalid); may be empty
    std::string point_units = "mm";         ///< length unit of points: "mm", "cm" or "m"
    double point_rate_hz = 0.0;             ///< marker sampling rate
    std::int64_t first_frame = 1;           ///< number of the first frame (C3D header, 1-based)

    std::vector<std::string> analog_labels;  ///< one per channel
    std::vector<std::string> analog_units;   ///< one per channel (may be empty strings)
    RowMatXd analogs;                        ///< samples × channels, scaled to physical units
    double analog_rate_hz = 0.0;             ///< analog sampling rate (a multiple of point_rate_hz)

    std::vector<Event> events;  ///< in time order of the file
    /// Force plates in the lab frame at analog_rate_hz; read_c3d computes them from the
    /// FORCE_PLATFORM group (types 2, 3, 4; a group it cannot use leaves a warning instead).
    std::vector<ForcePlateData> force_plates;
    /// What a reader or a check found doubtful (read as missing, assumed, out of range); the
    /// C3D reader copies C3d::warnings here, the plausibility checks append to it.
    std::vector<std::string> warnings;
    /// Seconds added to every frame time: a file whose own time column does not start at
    /// (first_frame − 1) / point_rate_hz (a TRC whose Time starts at 0.004 s for frame 1).
    double time_offset_s = 0.0;

    /// Number of marker frames.
    std::int64_t n_frames() const noexcept { return points.rows(); }
    /// Number of markers.
    std::int64_t n_markers() const noexcept { return static_cast<std::int64_t>(point_labels.size()); }
    /// Time of frame i in seconds: (first_frame − 1 + i) / rate + time_offset_s.
    double frame_time_s(std::int64_t i) const;

    /// Every column holding marker @p label: exact matches, or, when there are none, labels
    /// that match once a subject prefix is removed ("A22:LASI" matches "LASI").
    std::vector<std::int64_t> marker_indices(const std::string& label) const;
    /// Index of marker @p label (see marker_indices).
    /// @throws NotFound listing some labels; InvalidArgument when several columns carry the
    ///         label (name the one wanted with marker_index(label, occurrence)).
    std::int64_t marker_index(const std::string& label) const;
    /// Index of the @p occurrence-th (0-based) column holding @p label.
    /// @throws NotFound when there are not that many.
    std::int64_t marker_index(const std::string& label, std::int64_t occurrence) const;
    /// True if some column holds @p label.
    bool has_marker(const std::string& label) const;
    /// frames × 3 copy of marker @p label's trajectory. @throws as marker_index.
    RowMatX3d marker(const std::string& label) const;
    /// frames × 3 copy of the @p occurrence-th column holding @p label.
    RowMatX3d marker(const std::string& label, std::int64_t occurrence) const;
    /// Replaces the column marker(@p label) reads (a stored subject prefix matches, as there)
    /// with the frames × 3 trajectory @p xyz, or adds a column @p label when there is none.
    /// @throws InvalidArgument if the frame count differs from n_frames() (when non-empty) or
    ///         several columns carry the label.
    void set_marker(const std::string& label, const RowMatX3dCRef& xyz);
};

/// Factor that converts a length in @p from to @p to ("mm", "cm", "m").
/// @throws InvalidArgument for an unknown unit.
double length_unit_factor(const std::string& from, const std::string& to);

/// Returns @p trial with its points expressed in @p units ("mm", "cm" or "m").
/// Residuals are scaled too. @throws InvalidArgument for an unknown unit.
Trial convert_units(const Trial& trial, const std::string& units);

/// Removes a subject prefix ("A22:LASI" → "LASI") from every point label.
Trial strip_label_prefixes(const Trial& trial);

/// The first of @p candidates that the trial holds with data in at least half as many
/// frames as the best-tracked candidate (a heel marker can be present and empty, while a
/// trial that leaves the capture volume loses every marker alike). When a candidate before
/// it is passed over, @p note (if given) says why and which was used instead.
/// @throws InvalidArgument when no candidate holds any data, with each one's frames.
std::string first_tracked_marker(const Trial& trial, const std::vector<std::string>& candidates,
                                 const std::string& purpose, std::string* note = nullptr);

/// Labels carried by more than one point column, each with its columns (0-based), in order
/// of first appearance.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> duplicate_labels(
    const std::vector<std::string>& labels);

}  // namespace sportsmed::motion
