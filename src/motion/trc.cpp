// TRC and OpenSim MOT/STO text formats.

#include "sportsmed/motion/trc.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/text.hpp"

namespace sportsmed::motion {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char delim) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : s) {
        if (ch == delim) {
            out.push_back(trim(cur));
            cur.clear();
        } else {
            cur += ch;
        }
    }
    out.push_back(trim(cur));
    return out;
}

// Splits on tabs, commas or runs of spaces (MOT data rows use any of them).
std::vector<std::string> split_any(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    bool had_delim_tab_comma = false;
    auto flush = [&](bool keep_empty) {
        if (!cur.empty() || keep_empty) out.push_back(cur);
        cur.clear();
    };
    for (char ch : s) {
        if (ch == '\t' || ch == ',') {
            flush(true);
            had_delim_tab_comma = true;
        } else if (ch == ' ') {
            flush(false);
        } else {
            cur += ch;
        }
    }
    flush(false);
    (void)had_delim_tab_comma;
    std::vector<std::string> cleaned;
    for (auto& x : out)
        if (!x.empty()) cleaned.push_back(x);
    return cleaned;
}

bool parse_double(const std::string& s, double& v) {
    if (s.empty()) return false;
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t,") == std::string::npos; }

/// True when the file's last byte is a line break (an empty file counts as ending with one).
bool ends_with_line_break(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in || in.tellg() <= 0) return true;
    in.seekg(-1, std::ios::end);
    char c = 0;
    in.get(c);
    return c == '\n' || c == '\r';
}

}  // namespace

Trial read_trc(const std::string& path) {
    std::int64_t non_utf8 = 0;
    const auto lines = read_text_lines(path, "read_trc", &non_utf8);
    if (lines.size() < 5)
        SPORTSMED_THROW(FormatError, "read_trc: '{}' has {} lines, a TRC header needs 5", path, lines.size());
    const char delim = lines[1].find('\t') != std::string::npos ? '\t' : ',';
    const auto keys = split(lines[1], delim);
    const auto values = split(lines[2], delim);
    std::map<std::string, std::string> header;
    for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i)
        if (!keys[i].empty()) header[keys[i]] = values[i];
    Trial t;
    double rate = 0;
    if (!header.count("DataRate") || !parse_double(header["DataRate"], rate) || rate <= 0)
        SPORTSMED_THROW(FormatError, "read_trc: line 3 of '{}' gives no positive DataRate", path);
    t.point_rate_hz = rate;
    t.point_units = header.count("Units") && !header["Units"].empty() ? header["Units"] : "mm";

    const auto label_cells = split(lines[3], delim);
    for (std::size_t i = 2; i < label_cells.size(); ++i)
        if (!label_cells[i].empty()) t.point_labels.push_back(label_cells[i]);
    const std::size_t m = t.point_labels.size();
    t.point_descriptions.assign(m, "");

    std::vector<double> buffer;
    std::vector<double> times;
    std::int64_t rows = 0;
    std::size_t last_cells = 0, most_cells = 0, last_line = 0;
    for (std::size_t li = 5; li < lines.size(); ++li) {
        if (blank(lines[li])) continue;
        const auto cells = split(lines[li], delim);
        most_cells = std::max(most_cells, last_cells);
        last_cells = cells.size();
        last_line = li;
        if (cells.size() < 2)
            SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}' has {} cells, expected frame and time", li + 1,
                            path, cells.size());
        double frame = 0;
        if (!parse_double(cells[0], frame))
            SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}' starts with '{}', not a frame number", li + 1,
                            path, cells[0]);
        // Range-checked before the conversion (a double beyond int64 converts to nothing defined).
        if (!(std::abs(frame) < 9.0e15))
            SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}' has frame number '{}', out of range", li + 1,
                            path, cells[0]);
        if (rows == 0) t.first_frame = static_cast<std::int64_t>(frame);
        double time = std::numeric_limits<double>::quiet_NaN();
        if (!cells[1].empty() && !parse_double(cells[1], time))
            SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}' has time '{}', not a number", li + 1, path,
                            cells[1]);
        times.push_back(time);
        for (std::size_t k = 0; k < 3 * m; ++k) {
            const std::size_t c = 2 + k;
            double v = std::numeric_limits<double>::quiet_NaN();
            if (c < cells.size() && !cells[c].empty() && !parse_double(cells[c], v))
                SPORTSMED_THROW(FormatError, "read_trc: line {} of '{}', column {}: '{}' is not a number", li + 1,
                                path, c + 1, cells[c]);
            buffer.push_back(v);
        }
        ++rows;
    }
    // A file cut off in its last row (a copy interrupted, a disk full) ends without a line
    // break: a row shorter than the others is dropped, a full one kept with a warning (its
    // last number may be cut: -83.7 read as -8).
    if (rows > 0 && !ends_with_line_break(path)) {
        if (rows > 1 && last_cells < most_cells) {
            buffer.resize(buffer.size() - 3 * m);
            times.pop_back();
            --rows;
            t.warnings.push_back(fmt::format("'{}' ends without a line break inside its last row (line {}, {} of {} "
                                             "cells): the file looks cut off; that row was dropped",
                                             path, last_line + 1, last_cells, most_cells));
        } else {
            t.warnings.push_back(fmt::format("'{}' ends without a line break: its last row (line {}) may be cut off",
                                             path, last_line + 1));
        }
    }
    if (double declared = 0; header.count("NumFrames") && parse_double(header["NumFrames"], declared) &&
                             declared != static_cast<double>(rows))
        t.warnings.push_back(fmt::format("the header says NumFrames {} but the file holds {} data rows: cut off or "
                                         "edited?",
                                         header["NumFrames"], rows));
    t.points = Eigen::Map<RowMatXd>(buffer.data(), rows, static_cast<Eigen::Index>(3 * m));
    // The file's own Time column sets the time base: frame numbers and DataRate give the
    // spacing, the first time the origin (a TRC cut from a longer capture, or exported with
    // its first sample at 1/rate, does not start at (frame - 1) / rate).
    if (!times.empty() && std::isfinite(times[0])) {
        const double offset = times[0] - double(t.first_frame - 1) / rate;
        if (std::abs(offset) > 1e-9 * std::max(1.0, std::abs(times[0]))) t.time_offset_s = offset;
        double worst = 0.0;
        std::size_t worst_row = 0;
        for (std::size_t r = 0; r < times.size(); ++r) {
            if (!std::isfinite(times[r])) continue;
            const double err = std::abs(times[r] - t.frame_time_s(static_cast<std::int64_t>(r)));
            if (err > worst) worst = err, worst_row = r;
        }
        // Times are printed with a few decimals: tolerate half a frame.
        if (worst > 0.5 / rate)
            t.warnings.push_back(fmt::format(
                "the Time column departs from DataRate {} Hz by up to {:.6g} s (data row {}: {} s); frame "
                "times follow the first time and the rate",
                rate, worst, worst_row + 1, times[worst_row]));
    }
    if (non_utf8 > 0)
        t.warnings.push_back(fmt::format("{} line(s) are not UTF-8; read as Windows-1252 / Latin-1", non_utf8));
    for (const auto& [label, columns] : duplicate_labels(t.point_labels))
        t.warnings.push_back(fmt::format("{} markers carry the label '{}' (markers {}); address each with "
                                         "Trial::marker(label, occurrence)",
                                         columns.size(), label, fmt::join(columns, ", ")));
    // A marker with any missing coordinate is missing.
    for (Eigen::Index f = 0; f < t.points.rows(); ++f)
        for (std::size_t k = 0; k < m; ++k)
            if (t.points.row(f).segment(3 * k, 3).array().isNaN().any())
                t.points.row(f).segment(3 * k, 3).setConstant(std::numeric_limits<double>::quiet_NaN());
    return t;
}

namespace {

void write_text_atomically(const std::string& path, const std::string& text, const char* who) {
    const std::string tmp = path + ".tmp-sportsmed";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) SPORTSMED_THROW(InvalidArgument, "{}: cannot create '{}'", who, tmp);
        out << text;
        if (!out) {
            std::remove(tmp.c_str());
            SPORTSMED_THROW(Error, "{}: writing '{}' failed", who, tmp);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        SPORTSMED_THROW(Error, "{}: cannot rename '{}' to '{}'", who, tmp, path);
    }
}

}  // namespace

void write_trc(const std::string& path, const Trial& t) {
    const std::int64_t m = t.n_markers(), n = t.n_frames();
    SPORTSMED_CHECK(t.points.cols() == 3 * m, "write_trc: {} point columns for {} labels", t.points.cols(), m);
    SPORTSMED_CHECK(t.point_rate_hz > 0, "write_trc: point rate is {} Hz", t.point_rate_hz);
    fmt::memory_buffer b;
    const auto name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    fmt::format_to(std::back_inserter(b), "PathFileType\t4\t(X/Y/Z)\t{}\n", name);
    fmt::format_to(std::back_inserter(b),
                   "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n");
    fmt::format_to(std::back_inserter(b), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", t.point_rate_hz, t.point_rate_hz, n, m,
                   t.point_units, t.point_rate_hz, t.first_frame, n);
    fmt::format_to(std::back_inserter(b), "Frame#\tTime");
    for (const auto& l : t.point_labels) fmt::format_to(std::back_inserter(b), "\t{}\t\t", l);
    fmt::format_to(std::back_inserter(b), "\n\t");
    for (std::int64_t k = 1; k <= m; ++k) fmt::format_to(std::back_inserter(b), "\tX{}\tY{}\tZ{}", k, k, k);
    fmt::format_to(std::back_inserter(b), "\n\n");
    for (std::int64_t f = 0; f < n; ++f) {
        fmt::format_to(std::back_inserter(b), "{}\t{}", t.first_frame + f, t.frame_time_s(f));
        for (std::int64_t c = 0; c < 3 * m; ++c) {
            const double v = t.points(f, c);
            if (std::isnan(v)) fmt::format_to(std::back_inserter(b), "\t");
            else fmt::format_to(std::back_inserter(b), "\t{}", v);
        }
        fmt::format_to(std::back_inserter(b), "\n");
    }
    write_text_atomically(path, fmt::to_string(b), "write_trc");
}

bool MotTable::in_degrees() const {
    auto it = header.find("inDegrees");
    return it != header.end() && (it->second == "yes" || it->second == "Yes" || it->second == "YES");
}

std::int64_t MotTable::column_index(const std::string& label) const {
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] == label) return static_cast<std::int64_t>(i);
    return -1;
}

VecXd MotTable::column(const std::string& label) const {
    const std::int64_t i = column_index(label);
    if (i < 0) {
        std::string all;
        for (const auto& l : labels) all += (all.empty() ? "" : ", ") + l;
        SPORTSMED_THROW(NotFound, "MotTable: no column '{}' (columns: {})", label, all);
    }
    return data.col(i);
}

MotTable read_mot(const std::string& path) {
    const auto lines = read_text_lines(path, "read_mot");
    MotTable t;
    std::size_t li = 0;
    bool found_end = false;
    for (; li < lines.size(); ++li) {
        std::string line = lines[li];
        while (!line.empty() && (line.back() == ',' || line.back() == '\t' || line.back() == ' ')) line.pop_back();
        if (trim(line) == "endheader") {
            found_end = true;
            ++li;
            break;
        }
        const auto eq = line.find('=');
        if (eq != std::string::npos) t.header[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
        else if (li == 0) t.name = trim(line);
    }
    if (!found_end) SPORTSMED_THROW(FormatError, "read_mot: '{}' has no 'endheader' line", path);
    while (li < lines.size() && blank(lines[li])) ++li;
    if (li >= lines.size()) SPORTSMED_THROW(FormatError, "read_mot: '{}' has no column labels after endheader", path);
    {
        const char delim = lines[li].find('\t') != std::string::npos ? '\t' : ',';
        for (auto& l : (lines[li].find('\t') == std::string::npos && lines[li].find(',') == std::string::npos)
                           ? split_any(lines[li])
                           : split(lines[li], delim))
            if (!l.empty()) t.labels.push_back(l);
    }
    ++li;
    std::vector<double> buffer;
    std::vector<double> times;
    std::int64_t rows = 0;
    const std::size_t ncol = t.labels.size();
    for (; li < lines.size(); ++li) {
        if (blank(lines[li])) continue;
        const auto cells = split_any(lines[li]);
        if (cells.size() != ncol)
            SPORTSMED_THROW(FormatError, "read_mot: line {} of '{}' has {} cells, expected {}", li + 1, path,
                            cells.size(), ncol);
        for (std::size_t c = 0; c < ncol; ++c) {
            double v;
            if (!parse_double(cells[c], v)) {
                if (cells[c] == "nan" || cells[c] == "NaN") v = std::numeric_limits<double>::quiet_NaN();
                else
                    SPORTSMED_THROW(FormatError, "read_mot: line {} of '{}', column {}: '{}' is not a number", li + 1,
                                    path, c + 1, cells[c]);
            }
            buffer.push_back(v);
        }
        ++rows;
    }
    t.data = Eigen::Map<RowMatXd>(buffer.data(), rows, static_cast<Eigen::Index>(ncol));
    return t;
}

void write_mot(const std::string& path, const MotTable& t) {
    SPORTSMED_CHECK(static_cast<std::size_t>(t.data.cols()) == t.labels.size(),
                    "write_mot: {} columns for {} labels", t.data.cols(), t.labels.size());
    fmt::memory_buffer b;
    fmt::format_to(std::back_inserter(b), "{}\n", t.name.empty() ? "sportsmed" : t.name);
    std::map<std::string, std::string> header = t.header;
    header["nRows"] = std::to_string(t.data.rows());
    header["nColumns"] = std::to_string(t.data.cols());
    if (!header.count("version")) header["version"] = "1";
    if (!header.count("inDegrees")) header["inDegrees"] = "yes";
    for (const auto& [k, v] : header) fmt::format_to(std::back_inserter(b), "{}={}\n", k, v);
    fmt::format_to(std::back_inserter(b), "endheader\n");
    for (std::size_t i = 0; i < t.labels.size(); ++i)
        fmt::format_to(std::back_inserter(b), "{}{}", i ? "\t" : "", t.labels[i]);
    fmt::format_to(std::back_inserter(b), "\n");
    for (Eigen::Index r = 0; r < t.data.rows(); ++r) {
        for (Eigen::Index c = 0; c < t.data.cols(); ++c)
            fmt::format_to(std::back_inserter(b), "{}{}", c ? "\t" : "", t.data(r, c));
        fmt::format_to(std::back_inserter(b), "\n");
    }
    write_text_atomically(path, fmt::to_string(b), "write_mot");
}

}  // namespace sportsmed::motion
