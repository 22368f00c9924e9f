#pragma once
/// @file
/// TRC marker files (OpenSim / Motion Analysis "PathFileType 4") and OpenSim MOT/STO tables.

#include <map>
#include <string>
#include <vector>

#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// Reads a TRC file (tab- or comma-separated). Frame numbers set first_frame, DataRate the
/// point rate, Units the point units; empty cells become NaN.
/// @throws NotFound if the file cannot be opened; FormatError naming the file and line for
///         a malformed header or a data row with non-numeric cells.
Trial read_trc(const std::string& path);

/// Writes @p trial's points as a tab-separated TRC file (shortest round-trip decimal
/// representation, so write → read is exact; NaN as empty cells).
void write_trc(const std::string& path, const Trial& trial);

/// An OpenSim storage table (.mot / .sto).
struct MotTable {
    std::string name;                            ///< first header line (e.g. "Coordinates")
    std::map<std::string, std::string> header;   ///< key=value header lines (version, inDegrees …)
    std::vector<std::string> labels;             ///< column labels, "time" first
    RowMatXd data;                               ///< rows × columns
    /// True when the header says inDegrees=yes.
    bool in_degrees() const;
    /// Column @p label. @throws NotFound listing the labels.
    VecXd column(const std::string& label) const;
    /// Index of column @p label or -1.
    std::int64_t column_index(const std::string& label) const;
};

/// Reads an OpenSim .mot or .sto file (header up to "endheader", tab/comma/space cells).
/// @throws NotFound; FormatError naming file and line.
MotTable read_mot(const std::string& path);

/// Writes @p table as a tab-separated .mot/.sto (nRows/nColumns regenerated; exact round trip).
void write_mot(const std::string& path, const MotTable& table);

}  // namespace sportsmed::motion
