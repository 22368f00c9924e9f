#include "sportsmed/motion/trial.hpp"

#include <cmath>
#include <limits>
#include <map>

#include <fmt/ranges.h>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {
namespace {

std::string without_prefix(const std::string& label) {
    const auto colon = label.rfind(':');
    return colon == std::string::npos ? label : label.substr(colon + 1);
}

double unit_in_m(const std::string& unit) {
    if (unit == "mm") return 1e-3;
    if (unit == "cm") return 1e-2;
    if (unit == "m") return 1.0;
    SPORTSMED_THROW(InvalidArgument, "length unit '{}' is not one of mm, cm, m", unit);
}

}  // namespace

double Trial::frame_time_s(std::int64_t i) const {
    SPORTSMED_CHECK(point_rate_hz > 0, "Trial::frame_time_s: point rate is {} Hz", point_rate_hz);
    return static_cast<double>(first_frame - 1 + i) / point_rate_hz + time_offset_s;
}

std::vector<std::int64_t> Trial::marker_indices(const std::string& label) const {
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < point_labels.size(); ++i)
        if (point_labels[i] == label) out.push_back(static_cast<std::int64_t>(i));
    if (!out.empty()) return out;
    for (std::size_t i = 0; i < point_labels.size(); ++i)
        if (without_prefix(point_labels[i]) == label) out.push_back(static_cast<std::int64_t>(i));
    return out;
}

namespace {

[[noreturn]] void no_marker(const std::vector<std::string>& labels, const std::string& label) {
    std::string some;
    for (std::size_t i = 0; i < labels.size() && i < 12; ++i) some += (i ? ", " : "") + labels[i];
    SPORTSMED_THROW(NotFound, "Trial: no marker '{}' among {} markers ({}{})", label, labels.size(), some,
                    labels.size() > 12 ? ", ..." : "");
}

}  // namespace

std::int64_t Trial::marker_index(const std::string& label) const {
    const auto found = marker_indices(label);
    if (found.empty()) no_marker(point_labels, label);
    if (found.size() > 1)
        SPORTSMED_THROW(InvalidArgument,
                        "Trial: {} point columns carry the label '{}' (columns {}); name the one wanted "
                        "with an occurrence (0 to {})",
                        found.size(), label, fmt::join(found, ", "), found.size() - 1);
    return found[0];
}

std::int64_t Trial::marker_index(const std::string& label, std::int64_t occurrence) const {
    const auto found = marker_indices(label);
    if (found.empty()) no_marker(point_labels, label);
    if (occurrence < 0 || occurrence >= static_cast<std::int64_t>(found.size()))
        SPORTSMED_THROW(NotFound, "Trial: occurrence {} of marker '{}' asked for, the trial has {}", occurrence,
                        label, found.size());
    return found[static_cast<std::size_t>(occurrence)];
}

bool Trial::has_marker(const std::string& label) const { return !marker_indices(label).empty(); }

RowMatX3d Trial::marker(const std::string& label) const {
    const std::int64_t m = marker_index(label);
    return points.middleCols(3 * m, 3);
}

RowMatX3d Trial::marker(const std::string& label, std::int64_t occurrence) const {
    const std::int64_t m = marker_index(label, occurrence);
    return points.middleCols(3 * m, 3);
}

void Trial::set_marker(const std::string& label, const RowMatX3dCRef& xyz) {
    if (!point_labels.empty() || points.rows() > 0)
        SPORTSMED_CHECK(xyz.rows() == points.rows(),
                        "Trial::set_marker: '{}' has {} frames, the trial has {}", label,
                        xyz.rows(), points.rows());
    // The column marker(label) reads, subject prefix included ("A22:LTOE" for "LTOE").
    const auto found = marker_indices(label);
    SPORTSMED_CHECK(found.size() <= 1, "Trial::set_marker: {} point columns carry the label '{}'; set one of them "
                    "through its full label or remove the duplicates", found.size(), label);
    if (found.size() == 1) {
        points.middleCols(3 * found[0], 3) = xyz;
        return;
    }
    RowMatXd grown(xyz.rows(), points.cols() + 3);
    if (points.cols() > 0) grown.leftCols(points.cols()) = points;
    grown.rightCols(3) = xyz;
    points.swap(grown);
    point_labels.push_back(label);
    if (!point_descriptions.empty()) point_descriptions.emplace_back();
    if (residuals.size() > 0) {
        RowMatXd r(residuals.rows(), residuals.cols() + 1);
        r.leftCols(residuals.cols()) = residuals;
        r.col(residuals.cols()).setZero();
        residuals.swap(r);
    }
}

double length_unit_factor(const std::string& from, const std::string& to) {
    return unit_in_m(from) / unit_in_m(to);
}

Trial convert_units(const Trial& trial, const std::string& units) {
    const double f = length_unit_factor(trial.point_units, units);
    Trial out = trial;
    out.points *= f;
    // Residuals are lengths; the -1 flag of an invalid sample stays -1.
    for (Eigen::Index i = 0; i < out.residuals.size(); ++i) {
        double& r = out.residuals.data()[i];
        if (r >= 0) r *= f;
    }
    out.point_units = units;
    return out;
}

Trial strip_label_prefixes(const Trial& trial) {
    Trial out = trial;
    for (auto& l : out.point_labels) l = without_prefix(l);
    return out;
}

}  // namespace sportsmed::motion

namespace sportsmed::motion {

std::string first_tracked_marker(const Trial& t, const std::vector<std::string>& candidates,
                                 const std::string& purpose, std::string* note) {
    // Frames with data per candidate (-1: absent). A marker counts as tracked when it has
    // data in at least half as many frames as the best-tracked candidate: a trial walked in
    // and out of the capture volume loses all its markers alike, an empty label loses only
    // its own.
    std::vector<std::int64_t> tracked;
    std::int64_t best = 0;
    for (const auto& c : candidates) {
        std::int64_t n = -1;
        if (t.has_marker(c)) n = (t.marker(c, 0).array().isFinite().rowwise().all()).count();
        tracked.push_back(n);
        best = std::max(best, n);
    }
    std::string report;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
        if (best > 0 && 2 * tracked[k] >= best) {
            if (note && !report.empty()) *note = fmt::format("{}: {} used instead ({})", purpose, candidates[k], report);
            return candidates[k];
        }
        report += fmt::format("{}{}", report.empty() ? "" : ", ",
                              tracked[k] < 0 ? candidates[k] + " absent"
                                             : fmt::format("{} tracked in {} of {} frames", candidates[k], tracked[k],
                                                           t.n_frames()));
    }
    SPORTSMED_THROW(InvalidArgument, "{} needs one of {} with data: {}", purpose, fmt::join(candidates, ", "), report);
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> duplicate_labels(
    const std::vector<std::string>& labels) {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
    std::map<std::string, std::size_t> seen;  // label -> its entry in out, or npos
    std::map<std::string, std::int64_t> first;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string& l = labels[i];
        auto it = first.find(l);
        if (it == first.end()) {
            first.emplace(l, static_cast<std::int64_t>(i));
            continue;
        }
        auto d = seen.find(l);
        if (d == seen.end()) {
            seen.emplace(l, out.size());
            out.push_back({l, {it->second, static_cast<std::int64_t>(i)}});
        } else {
            out[d->second].second.push_back(static_cast<std::int64_t>(i));
        }
    }
    return out;
}

}  // namespace sportsmed::motion
