#include "sportsmed/motion/trial.hpp"

#include <cmath>
#include <limits>

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
    return static_cast<double>(first_frame - 1 + i) / point_rate_hz;
}

std::int64_t Trial::marker_index(const std::string& label) const {
    for (std::size_t i = 0; i < point_labels.size(); ++i)
        if (point_labels[i] == label) return static_cast<std::int64_t>(i);
    for (std::size_t i = 0; i < point_labels.size(); ++i)
        if (without_prefix(point_labels[i]) == label) return static_cast<std::int64_t>(i);
    std::string some;
    for (std::size_t i = 0; i < point_labels.size() && i < 12; ++i)
        some += (i ? ", " : "") + point_labels[i];
    SPORTSMED_THROW(NotFound, "Trial: no marker '{}' among {} markers ({}{})", label,
                    point_labels.size(), some, point_labels.size() > 12 ? ", ..." : "");
}

bool Trial::has_marker(const std::string& label) const {
    for (const auto& l : point_labels)
        if (l == label || without_prefix(l) == label) return true;
    return false;
}

RowMatX3d Trial::marker(const std::string& label) const {
    const std::int64_t m = marker_index(label);
    return points.middleCols(3 * m, 3);
}

void Trial::set_marker(const std::string& label, const RowMatX3dCRef& xyz) {
    if (!point_labels.empty() || points.rows() > 0)
        SPORTSMED_CHECK(xyz.rows() == points.rows(),
                        "Trial::set_marker: '{}' has {} frames, the trial has {}", label,
                        xyz.rows(), points.rows());
    for (std::size_t i = 0; i < point_labels.size(); ++i) {
        if (point_labels[i] == label) {
            points.middleCols(3 * i, 3) = xyz;
            return;
        }
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
