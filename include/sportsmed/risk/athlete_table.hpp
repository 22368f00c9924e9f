#pragma once
/// @file
/// Athlete-time tables: one row per athlete-day with numeric features and outcomes.

#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// What a calendar day absent from a table means.
enum class MissingDay {
    Zero,     ///< no row = no training: load 0 (other columns NaN)
    Missing,  ///< no row = not recorded: every column NaN
};

/// An athlete-time table: rows sorted by athlete, then day.
struct AthleteTable {
    std::vector<std::string> athletes;  ///< athlete names; `athlete` holds indices into it
    VecXi64 athlete;                    ///< per row, index into athletes
    VecXi64 day;                        ///< per row, days since 1970-01-01
    std::vector<std::string> columns;   ///< names of the value columns
    RowMatXd values;                    ///< rows × columns, NaN = empty cell
};

/// Days since 1970-01-01 of an ISO date "YYYY-MM-DD" (proleptic Gregorian).
/// @throws FormatError if @p iso is not a valid date.
std::int64_t parse_iso_day(const std::string& iso);

/// ISO "YYYY-MM-DD" of @p day (days since 1970-01-01).
std::string format_iso_day(std::int64_t day);

/// Reads a CSV athlete-time table (comma-separated, header line, no quoted commas).
/// @param athlete_column name of the athlete id column (any text).
/// @param date_column    name of the date column (ISO YYYY-MM-DD).
/// @param columns        value columns to read (numeric; empty cell = NaN); empty: every
///                       other column whose cells are all numbers or empty.
/// @return the table sorted by athlete name, then day.
/// @throws NotFound for a missing file or a missing requested column; FormatError for a
///         bad date, a non-numeric cell in a requested column, a ragged row, or an
///         athlete with two rows on the same day.
AthleteTable read_athlete_csv(const std::string& path, const std::string& athlete_column = "athlete",
                              const std::string& date_column = "date",
                              const std::vector<std::string>& columns = {});

/// Puts a table on a complete daily grid: each athlete gets one row per day from their
/// first to their last day; rows that were absent are filled according to @p policy
/// (MissingDay::Zero fills @p load_column with 0 and the rest with NaN).
/// @param load_column name of the load column for MissingDay::Zero (ignored for Missing).
/// @throws NotFound if policy is Zero and @p load_column is not a column; InvalidArgument
///         if the table is not sorted by athlete then day or has duplicate days.
AthleteTable complete_days(const AthleteTable& table, MissingDay policy,
                           const std::string& load_column = "daily_load");

}  // namespace sportsmed::risk
