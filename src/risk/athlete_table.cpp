// Athlete-time tables: CSV reading and the complete daily grid.

#include "sportsmed/risk/athlete_table.hpp"

#include <algorithm>
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
    const auto b = s.find_first_not_of(" \t\r\"");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\"");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::string cell;
    std::istringstream is(line);
    while (std::getline(is, cell, ',')) out.push_back(trim(cell));
    if (!line.empty() && line.back() == ',') out.emplace_back();
    return out;
}

bool parse_number(const std::string& s, double& out) {
    if (s.empty() || s == "NA" || s == "NaN" || s == "nan") {
        out = kNaN;
        return true;
    }
    char* end = nullptr;
    errno = 0;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && errno != ERANGE;
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
                              const std::string& date_column, const std::vector<std::string>& columns) {
    // Spreadsheet exports come in the machine's code page as often as in UTF-8: each line
    // is read as UTF-8 or, failing that, Windows-1252.
    const std::vector<std::string> lines = read_text_lines(path, "read_athlete_csv");
    SPORTSMED_CHECK_AS(FormatError, !lines.empty(), "read_athlete_csv: '{}' is empty (expected a header line)", path);
    const std::vector<std::string> header = split(lines[0]);
    const auto find = [&](const std::string& name) -> int {
        const auto it = std::find(header.begin(), header.end(), name);
        SPORTSMED_CHECK_AS(NotFound, it != header.end(),
                           "read_athlete_csv: '{}' has no column '{}' (columns: {})", path, name,
                           fmt::join(header, ", "));
        return static_cast<int>(it - header.begin());
    };
    const int ia = find(athlete_column), id = find(date_column);

    std::vector<std::vector<std::string>> rows;
    for (std::size_t l = 1; l < lines.size(); ++l) {
        const std::string& line = lines[l];
        if (trim(line).empty()) continue;
        rows.push_back(split(line));
        SPORTSMED_CHECK_AS(FormatError, rows.back().size() == header.size(),
                           "read_athlete_csv: line {} of '{}' has {} cells, expected {}",
                           l + 1, path, rows.back().size(), header.size());
    }

    std::vector<int> value_cols;
    if (!columns.empty()) {
        for (const auto& c : columns) value_cols.push_back(find(c));
    } else {
        for (int c = 0; c < static_cast<int>(header.size()); ++c) {
            if (c == ia || c == id) continue;
            double v;
            const bool numeric = std::all_of(rows.begin(), rows.end(),
                                             [&](const auto& r) { return parse_number(r[c], v); });
            if (numeric) value_cols.push_back(c);
        }
    }

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
        ath[i] = codes[r[ia]];
        try {
            day[i] = parse_iso_day(r[id]);
        } catch (const FormatError& e) {
            SPORTSMED_THROW(FormatError, "read_athlete_csv: line {} of '{}': {}", i + 2, path, e.what());
        }
        for (size_t k = 0; k < value_cols.size(); ++k) {
            double v;
            SPORTSMED_CHECK_AS(FormatError, parse_number(r[value_cols[k]], v),
                               "read_athlete_csv: line {} of '{}': column '{}' holds '{}', expected a "
                               "number or an empty cell", i + 2, path, header[value_cols[k]],
                               r[value_cols[k]]);
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
