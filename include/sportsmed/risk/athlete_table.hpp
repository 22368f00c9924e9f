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

/// How read_athlete_csv reads cells and which value ranges it enforces.
struct CsvOptions {
    char decimal = '.';                    ///< decimal mark: '.' or ',' (explicit: "1,5" is never guessed)
    std::vector<std::string> nonnegative;  ///< columns whose numbers must be >= 0 (loads), when present
    std::vector<std::string> binary;       ///< columns whose numbers must be 0 or 1 (injury codes), when present
};

/// Reads a CSV athlete-time table as spreadsheets export it.
///
/// - Separator: ',' unless the header has no comma and has ';' (then ';'), or neither
///   and a tab. A UTF-8 byte-order mark is skipped; lines are UTF-8 or Windows-1252.
/// - Fields may be quoted (RFC 4180: "a, b" and doubled quotes ""); a quoted field may
///   not span lines.
/// - Missing-value tokens, case-insensitive: empty, NA, N/A, #N/A, -, null, NaN.
/// - Numbers: C syntax with the decimal mark of @p options (finite values only).
/// @param athlete_column name of the athlete id column (any text).
/// @param date_column    name of the date column (ISO YYYY-MM-DD).
/// @param columns        value columns to read (numeric; missing tokens = NaN); empty: every
///                       other column that holds at least one number or only missing tokens.
///                       A column of text only (e.g. a team name) is left out; a column that
///                       holds numbers *and* other text is an error, never dropped.
/// @return the table sorted by athlete name, then day.
/// @throws NotFound for a missing file or a missing requested column; FormatError (naming
///         file, line and column) for a bad date, text in a numeric column, a value out of
///         the ranges of @p options, a ragged row, an unterminated quote, a file without
///         data rows, or an athlete with two rows on the same day.
AthleteTable read_athlete_csv(const std::string& path, const std::string& athlete_column = "athlete",
                              const std::string& date_column = "date",
                              const std::vector<std::string>& columns = {},
                              const CsvOptions& options = {});

/// Puts a table on a complete daily grid: each athlete gets one row per day from their
/// first to their last day; rows that were absent are filled according to @p policy
/// (MissingDay::Zero fills @p load_column with 0 and the rest with NaN).
/// @param load_column name of the load column for MissingDay::Zero (ignored for Missing).
/// @throws NotFound if policy is Zero and @p load_column is not a column; InvalidArgument
///         if the table is not sorted by athlete then day or has duplicate days.
AthleteTable complete_days(const AthleteTable& table, MissingDay policy,
                           const std::string& load_column = "daily_load");

}  // namespace sportsmed::risk
