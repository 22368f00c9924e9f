// Athlete-time tables: CSV reading and the complete daily grid.

#include "sportsmed/risk/athlete_table.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/text.hpp"

namespace sportsmed::risk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Days from civil date (H. Hinnant's public-domain algorithm description).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// One CSV line into fields (RFC 4180 quotes: "a, b" and doubled quotes ""). Unquoted
// fields are trimmed of blanks. Returns false for an unterminated quote or text after a
// closing quote.
bool split(const std::string& line, char sep, std::vector<std::string>& out) {
    out.clear();
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (true) {
        while (i < n && (line[i] == ' ' || line[i] == '\t') && line[i] != sep) ++i;
        std::string cell;
        if (i < n && line[i] == '"') {
            ++i;
            bool closed = false;
            while (i < n) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        cell += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    closed = true;
                    break;
                }
                cell += line[i++];
            }
            if (!closed) return false;
            while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') && line[i] != sep) ++i;
            if (i < n && line[i] != sep) return false;
            out.push_back(cell);
        } else {
            const std::size_t e = line.find(sep, i);
            out.push_back(trim(line.substr(i, e == std::string::npos ? std::string::npos : e - i)));
            i = e == std::string::npos ? n : e;
        }
        if (i >= n) break;
        ++i;  // the separator
        if (i == n) {
            out.emplace_back();  // a trailing separator ends with an empty cell
            break;
        }
    }
    return true;
}

// Missing-value tokens of spreadsheet exports, compared case-insensitively.
bool is_missing(const std::string& s) {
    if (s.size() > 4) return false;
    std::string l(s);
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    return l.empty() || l == "na" || l == "n/a" || l == "#n/a" || l == "-" || l == "null" || l == "nan";
}

enum class Cell { Missing, Number, Text };

Cell parse_number(const std::string& s, char decimal, double& out) {
    if (is_missing(s)) {
        out = kNaN;
        return Cell::Missing;
    }
    std::string t(s);
    if (decimal == ',') {
        if (t.find('.') != std::string::npos) return Cell::Text;  // "1.234,5": no thousands marks
        std::replace(t.begin(), t.end(), ',', '.');
    }
    // strtod also reads "inf", "nan(...)" and hexadecimal: plain decimal numbers only
    if (t.find_first_not_of("+-.0123456789eE") != std::string::npos) return Cell::Text;
    char* end = nullptr;
    errno = 0;
    out = std::strtod(t.c_str(), &end);
    const bool ok = !t.empty() && end == t.c_str() + t.size() && errno != ERANGE && std::isfinite(out);
    return ok ? Cell::Number : Cell::Text;
}

// "10,5" in a '.' file: a number with a decimal comma, named as such in errors.
std::string number_hint(const std::string& s, char decimal) {
    if (decimal != '.') return {};
    const auto comma = s.find(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == s.size() || s.find(',', comma + 1) != std::string::npos)
        return {};
    const std::size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    const auto digits = [&](std::size_t b, std::size_t e) {
        return e > b && std::all_of(s.begin() + static_cast<std::ptrdiff_t>(b), s.begin() + static_cast<std::ptrdiff_t>(e),
                                    [](unsigned char ch) { return std::isdigit(ch) != 0; });
    };
    return digits(sign, comma) && digits(comma + 1, s.size()) ? " (a decimal comma? read with decimal=',')"
                                                              : std::string();
}

}  // namespace

std::int64_t parse_iso_day(const std::string& iso) {
    int y = 0, m = 0, d = 0;
    char dash1 = 0, dash2 = 0;
    std::istringstream is(iso.substr(0, 10));
    is >> y >> dash1 >> m >> dash2 >> d;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool ok = is && dash1 == '-' && dash2 == '-' && m >= 1 && m <= 12 && d >= 1 &&
                    d <= mdays[m - 1] && iso.size() >= 10;
    SPORTSMED_CHECK_AS(FormatError, ok, "parse_iso_day: '{}' is not a YYYY-MM-DD date", iso);
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    SPORTSMED_CHECK_AS(FormatError, !(m == 2 && d == 29 && !leap),
                       "parse_iso_day: '{}' is not a date ({} is not a leap year)", iso, y);
    return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::string format_iso_day(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

AthleteTable read_athlete_csv(const std::string& path, const std::string& athlete_column,
                              const std::string& date_column, const std::vector<std::string>& columns,
                              const CsvOptions& options) {
    SPORTSMED_CHECK_AS(InvalidArgument, options.decimal == '.' || options.decimal == ',',
                       "read_athlete_csv: decimal must be '.' or ',', got '{}'", options.decimal);
    // Spreadsheet exports come in the machine's code page as often as in UTF-8: each line
    // is read as UTF-8 or, failing that, Windows-1252.
    std::vector<std::string> lines = read_text_lines(path, "read_athlete_csv");
    SPORTSMED_CHECK_AS(FormatError, !lines.empty(), "read_athlete_csv: '{}' is empty (expected a header line)", path);
    if (lines[0].rfind("\xEF\xBB\xBF", 0) == 0) lines[0].erase(0, 3);  // UTF-8 byte-order mark
    const std::string& head = lines[0];
    const char sep = head.find(',') != std::string::npos   ? ','
                     : head.find(';') != std::string::npos ? ';'
                     : head.find('\t') != std::string::npos ? '\t'
                                                            : ',';
    std::vector<std::string> header;
    SPORTSMED_CHECK_AS(FormatError, split(head, sep, header),
                       "read_athlete_csv: line 1 of '{}': unterminated quote or text after a closing quote", path);
    const auto find = [&](const std::string& name) -> int {
        const auto it = std::find(header.begin(), header.end(), name);
        SPORTSMED_CHECK_AS(NotFound, it != header.end(),
                           "read_athlete_csv: '{}' has no column '{}' (columns: {})", path, name,
                           fmt::join(header, ", "));
        return static_cast<int>(it - header.begin());
    };
    const int ia = find(athlete_column), id = find(date_column);

    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> line_no;  // 1-based line of each row in the file
    for (std::size_t l = 1; l < lines.size(); ++l) {
        const std::string& line = lines[l];
        if (trim(line).empty()) continue;
        std::vector<std::string> cells;
        SPORTSMED_CHECK_AS(FormatError, split(line, sep, cells),
                           "read_athlete_csv: line {} of '{}': unterminated quote or text after a closing "
                           "quote (a quoted field may not span lines)", l + 1, path);
        SPORTSMED_CHECK_AS(FormatError, cells.size() == header.size(),
                           "read_athlete_csv: line {} of '{}' has {} cells, expected {} (separator '{}')",
                           l + 1, path, cells.size(), header.size(), sep == '\t' ? std::string("\\t")
                                                                                  : std::string(1, sep));
        rows.push_back(std::move(cells));
        line_no.push_back(l + 1);
    }
    SPORTSMED_CHECK_AS(FormatError, !rows.empty(), "read_athlete_csv: '{}' has a header but no data rows", path);

    // A numeric column: every cell a number or a missing token. Named columns must be
    // numeric; without names, a column of text only is left out (an id, a team name) and
    // one that mixes numbers with other text is an error, never dropped silently.
    const auto check_numeric = [&](int c) {
        double v;
        for (std::size_t r = 0; r < rows.size(); ++r) {
            SPORTSMED_CHECK_AS(FormatError, parse_number(rows[r][c], options.decimal, v) != Cell::Text,
                               "read_athlete_csv: line {} of '{}': column '{}' holds '{}', expected a number "
                               "or a missing-value token (empty, NA, N/A, #N/A, -, null, NaN){}",
                               line_no[r], path, header[c], rows[r][c], number_hint(rows[r][c], options.decimal));
        }
    };
    const auto in = [](const std::vector<std::string>& names, const std::string& name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    std::vector<int> value_cols;
    if (!columns.empty()) {
        for (const auto& c : columns) value_cols.push_back(find(c));
    } else {
        for (int c = 0; c < static_cast<int>(header.size()); ++c) {
            if (c == ia || c == id) continue;
            double v;
            // the load and injury columns are numeric by definition; "10,5" is a number in
            // the wrong decimal mark, not a name
            const bool named = in(options.nonnegative, header[c]) || in(options.binary, header[c]);
            const bool any_number = named || std::any_of(rows.begin(), rows.end(), [&](const auto& r) {
                return parse_number(r[c], options.decimal, v) == Cell::Number ||
                       !number_hint(r[c], options.decimal).empty();
            });
            const bool any_text = std::any_of(rows.begin(), rows.end(), [&](const auto& r) {
                return parse_number(r[c], options.decimal, v) == Cell::Text;
            });
            if (any_text && !any_number) continue;  // a text column
            value_cols.push_back(c);
        }
    }
    for (int c : value_cols) check_numeric(c);

    AthleteTable t;
    std::map<std::string, std::int64_t> codes;
    for (const auto& r : rows) codes.emplace(r[ia], 0);
    for (auto& [name, code] : codes) {
        code = static_cast<std::int64_t>(t.athletes.size());
        t.athletes.push_back(name);
    }
    const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
    VecXi64 ath(n), day(n);
    RowMatXd vals(n, static_cast<Eigen::Index>(value_cols.size()));
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto& r = rows[i];
        const std::size_t line = line_no[static_cast<std::size_t>(i)];
        ath[i] = codes[r[ia]];
        SPORTSMED_CHECK_AS(FormatError, !r[ia].empty(), "read_athlete_csv: line {} of '{}': empty athlete id "
                           "in column '{}'", line, path, header[ia]);
        try {
            day[i] = parse_iso_day(r[id]);
        } catch (const FormatError& e) {
            SPORTSMED_THROW(FormatError, "read_athlete_csv: line {} of '{}', column '{}': {}", line, path,
                            header[id], e.what());
        }
        for (size_t k = 0; k < value_cols.size(); ++k) {
            const int c = value_cols[k];
            double v;
            parse_number(r[c], options.decimal, v);  // numeric: checked above
            SPORTSMED_CHECK_AS(FormatError, !(v < 0) || !in(options.nonnegative, header[c]),
                               "read_athlete_csv: line {} of '{}': column '{}' holds {}, a load cannot be "
                               "negative", line, path, header[c], r[c]);
            SPORTSMED_CHECK_AS(FormatError, std::isnan(v) || v == 0 || v == 1 || !in(options.binary, header[c]),
                               "read_athlete_csv: line {} of '{}': column '{}' holds {}, expected an injury "
                               "code 0 or 1 (or a missing-value token)", line, path, header[c], r[c]);
            vals(i, static_cast<Eigen::Index>(k)) = v;
        }
    }
    for (int c : value_cols) t.columns.push_back(header[c]);

    std::vector<Eigen::Index> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
        return ath[a] != ath[b] ? ath[a] < ath[b] : day[a] < day[b];
    });
    t.athlete.resize(n);
    t.day.resize(n);
    t.values.resize(n, vals.cols());
    for (Eigen::Index i = 0; i < n; ++i) {
        t.athlete[i] = ath[order[i]];
        t.day[i] = day[order[i]];
        t.values.row(i) = vals.row(order[i]);
        SPORTSMED_CHECK_AS(FormatError, i == 0 || t.athlete[i] != t.athlete[i - 1] || t.day[i] != t.day[i - 1],
                           "read_athlete_csv: '{}' has two rows for athlete '{}' on {}", path,
                           t.athletes[t.athlete[i]], format_iso_day(t.day[i]));
    }
    return t;
}

AthleteTable complete_days(const AthleteTable& table, MissingDay policy, const std::string& load_column) {
    const Eigen::Index n = table.athlete.size();
    SPORTSMED_CHECK(table.day.size() == n && table.values.rows() == n,
                    "complete_days: {} athlete codes, {} days and {} value rows differ", n,
                    table.day.size(), table.values.rows());
    int load_col = -1;
    if (policy == MissingDay::Zero) {
        const auto it = std::find(table.columns.begin(), table.columns.end(), load_column);
        SPORTSMED_CHECK_AS(NotFound, it != table.columns.end(),
                           "complete_days: no load column '{}' to fill with zeros", load_column);
        load_col = static_cast<int>(it - table.columns.begin());
    }
    Eigen::Index total = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const bool same = i > 0 && table.athlete[i] == table.athlete[i - 1];
        SPORTSMED_CHECK(!same || table.day[i] > table.day[i - 1],
                        "complete_days: row {} is not after row {} of the same athlete (sort by "
                        "athlete, then day; no duplicate days)", i, i - 1);
        SPORTSMED_CHECK(same || i == 0 || table.athlete[i] > table.athlete[i - 1],
                        "complete_days: rows are not sorted by athlete at row {}", i);
        total += same ? table.day[i] - table.day[i - 1] : 1;
    }
    AthleteTable out;
    out.athletes = table.athletes;
    out.columns = table.columns;
    out.athlete.resize(total);
    out.day.resize(total);
    out.values = RowMatXd::Constant(total, table.values.cols(), kNaN);
    Eigen::Index o = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const bool same = i > 0 && table.athlete[i] == table.athlete[i - 1];
        if (same) {
            for (std::int64_t d = table.day[i - 1] + 1; d < table.day[i]; ++d, ++o) {
                out.athlete[o] = table.athlete[i];
                out.day[o] = d;
                if (load_col >= 0) out.values(o, load_col) = 0.0;
            }
        }
        out.athlete[o] = table.athlete[i];
        out.day[o] = table.day[i];
        out.values.row(o) = table.values.row(i);
        ++o;
    }
    return out;
}

}  // namespace sportsmed::risk
