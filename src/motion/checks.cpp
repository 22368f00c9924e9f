// Conventions read from the data and plausibility checks of a trial.

#include "sportsmed/motion/checks.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {
namespace {

std::string upper_base(const std::string& label) {
    const auto colon = label.rfind(':');
    std::string s = colon == std::string::npos ? label : label.substr(colon + 1);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool contains_any(const std::string& s, std::initializer_list<const char*> parts) {
    for (const char* p : parts)
        if (s.find(p) != std::string::npos) return true;
    return false;
}

// Markers of the trunk, pelvis and head, and of the foot, by the names marker sets use.
bool upper_body_label(const std::string& u) {
    return contains_any(u, {"ASI", "PSI", "SACR", "C7", "CLAV", "STRN", "HEAD", "FHD", "BHD", "T10", "SHO",
                            "PELV", "ILIAC", "ACROM"});
}
bool foot_label(const std::string& u) {
    if (u.find("SHANK") != std::string::npos) return false;
    return contains_any(u, {"TOE", "HEE", "HEEL", "ANK", "MT1", "MT2", "MT5", "MET", "CAL", "MALL"});
}

// Labels of model outputs that some files store as points (Plug-in Gait angles, moments ...).
bool model_output_label(const std::string& u) {
    return contains_any(u, {"ANGLE", "MOMENT", "POWER", "FORCE", "REACTION"});
}

double median(std::vector<double> v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

// Up to n evenly spaced rows of [0, rows).
std::vector<Eigen::Index> sample_rows(Eigen::Index rows, Eigen::Index n) {
    std::vector<Eigen::Index> out;
    if (rows <= 0) return out;
    const Eigen::Index k = std::min(rows, n);
    for (Eigen::Index i = 0; i < k; ++i) out.push_back(k == 1 ? 0 : i * (rows - 1) / (k - 1));
    return out;
}

double mm_factor(const Trial& t) {
    try {
        return length_unit_factor("mm", t.point_units);
    } catch (const Error&) {
        return 1.0;
    }
}

}  // namespace

std::string VerticalAxis::name() const {
    return fmt::format("{}{}", sign > 0 ? "+" : "-", "xyz"[axis]);
}

VerticalAxis detect_vertical_axis(const Trial& t, const std::string& declared_screen_y) {
    VerticalAxis v;
    const Eigen::Index m = t.n_markers();
    const auto rows = sample_rows(t.n_frames(), 300);
    const double unit = mm_factor(t);
    // Markers that move (at least 10 mm over the trial) describe the body; lab fixtures and
    // calibration markers do not. A static trial keeps them all.
    std::vector<char> use(static_cast<std::size_t>(m), 0);
    int moving = 0;
    for (Eigen::Index k = 0; k < m; ++k) {
        if (model_output_label(upper_base(t.point_labels[k]))) continue;
        Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity()), hi = -lo;
        bool any = false;
        for (Eigen::Index r : rows) {
            const Eigen::Vector3d p = t.points.row(r).segment<3>(3 * k).transpose();
            if (!p.allFinite()) continue;
            lo = lo.cwiseMin(p);
            hi = hi.cwiseMax(p);
            any = true;
        }
        if (!any) continue;
        if ((hi - lo).maxCoeff() > 10.0 * unit) {
            use[k] = 1;
            ++moving;
        }
    }
    if (moving < 3)
        for (Eigen::Index k = 0; k < m; ++k)
            if (!model_output_label(upper_base(t.point_labels[k]))) use[k] = 1;

    std::array<std::vector<double>, 3> extents;
    for (Eigen::Index r : rows) {
        Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity()), hi = -lo;
        int n = 0;
        for (Eigen::Index k = 0; k < m; ++k) {
            if (!use[k]) continue;
            const Eigen::Vector3d p = t.points.row(r).segment<3>(3 * k).transpose();
            if (!p.allFinite()) continue;
            lo = lo.cwiseMin(p);
            hi = hi.cwiseMax(p);
            ++n;
        }
        if (n < 3) continue;
        for (int a = 0; a < 3; ++a) extents[a].push_back(hi[a] - lo[a]);
    }
    if (extents[0].empty()) return v;  // source "none"
    for (int a = 0; a < 3; ++a) v.extent[a] = median(extents[a]);
    std::array<int, 3> order{{0, 1, 2}};
    std::sort(order.begin(), order.end(), [&](int a, int b) { return v.extent[a] > v.extent[b]; });
    const int axis = order[0];
    const bool axis_clear = v.extent[order[0]] >= 1.3 * v.extent[order[1]];

    // Sign from the labels: pelvis/trunk/head above the feet.
    std::vector<double> up_minus_down;
    for (Eigen::Index r : rows) {
        double su = 0, sd = 0;
        int nu = 0, nd = 0;
        for (Eigen::Index k = 0; k < m; ++k) {
            const double c = t.points(r, 3 * k + axis);
            if (!std::isfinite(c)) continue;
            const std::string u = upper_base(t.point_labels[k]);
            if (upper_body_label(u)) su += c, ++nu;
            else if (foot_label(u)) sd += c, ++nd;
        }
        if (nu && nd) up_minus_down.push_back(su / nu - sd / nd);
    }
    const double label_diff = median(up_minus_down);
    const bool labels_tell = std::isfinite(label_diff) && std::abs(label_diff) > 200.0 * unit;
    int sign = 1;
    std::string source;
    if (labels_tell) {
        sign = label_diff > 0 ? 1 : -1;
        source = "marker labels";
    } else {
        // The floor: labs put the origin on it, so body markers lie on its positive side.
        std::vector<double> coords;
        for (Eigen::Index r : rows)
            for (Eigen::Index k = 0; k < m; ++k)
                if (use[k] && std::isfinite(t.points(r, 3 * k + axis))) coords.push_back(t.points(r, 3 * k + axis));
        sign = median(coords) >= 0 ? 1 : -1;
        source = "marker spread";
    }

    // The file's declaration (C3D POINT:Y_SCREEN, the axis drawn upwards) wins unless the
    // data clearly say otherwise.
    std::string d = declared_screen_y;
    d.erase(std::remove_if(d.begin(), d.end(), [](unsigned char ch) { return std::isspace(ch); }), d.end());
    for (char& ch : d) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (d.size() == 2 && (d[0] == '+' || d[0] == '-') && (d[1] == 'X' || d[1] == 'Y' || d[1] == 'Z')) {
        const int da = d[1] - 'X', ds = d[0] == '+' ? 1 : -1;
        const bool contradicted = (axis_clear && da != axis) || (labels_tell && da == axis && ds != sign);
        if (!contradicted) {
            v.axis = da;
            v.sign = ds;
            v.source = "C3D POINT:Y_SCREEN";
            v.confident = axis_clear || labels_tell;
            return v;
        }
    }
    v.axis = axis;
    v.sign = sign;
    v.source = source;
    v.confident = axis_clear && labels_tell;
    return v;
}

VerticalAxis detect_vertical_axis(const C3d& c3d) {
    std::string screen;
    if (const C3dParameter* p = c3d.find("POINT", "Y_SCREEN"); p && p->type == C3dType::Char && !p->strings.empty())
        screen = p->strings[0];
    return detect_vertical_axis(c3d.trial, screen);
}

Trial to_z_up(const Trial& trial, const VerticalAxis& v) {
    SPORTSMED_CHECK(v.axis >= 0 && v.axis <= 2 && (v.sign == 1 || v.sign == -1), "to_z_up: axis {} sign {}", v.axis,
                    v.sign);
    // Rows: the new x, y, z in old coordinates.
    Eigen::Matrix3d r;
    if (v.axis == 2) r << 1, 0, 0, 0, v.sign, 0, 0, 0, v.sign;
    else if (v.axis == 1) r << 1, 0, 0, 0, 0, -v.sign, 0, v.sign, 0;
    else r << 0, 0, -v.sign, 0, 1, 0, v.sign, 0, 0;
    Trial out = trial;
    if (r.isIdentity()) return out;
    for (Eigen::Index k = 0; k < out.n_markers(); ++k) {
        // Angles, moments, forces and powers stored as points are not lab positions.
        if (model_output_label(upper_base(out.point_labels[k]))) continue;
        auto block = out.points.middleCols(3 * k, 3);
        block = (block * r.transpose()).eval();
    }
    for (auto& p : out.force_plates) {
        p.corners = (p.corners * r.transpose()).eval();
        p.rotation = (r * p.rotation).eval();
        p.force = (p.force * r.transpose()).eval();
        p.moment = (p.moment * r.transpose()).eval();
        p.cop = (p.cop * r.transpose()).eval();
    }
    out.warnings.push_back(fmt::format("points and force plates turned from {} up ({}) to +z up", v.name(), v.source));
    return out;
}

std::vector<DistanceJump> marker_distance_jumps(const Trial& t, double rigid_tolerance_mm, double jump_threshold_mm) {
    std::vector<DistanceJump> out;
    const double unit = mm_factor(t);
    const double tol = rigid_tolerance_mm * unit, jump = jump_threshold_mm * unit;
    const Eigen::Index m = t.n_markers(), n = t.n_frames();
    if (m < 2 || n < 20) return out;
    std::vector<Eigen::Index> cols;
    for (Eigen::Index k = 0; k < m; ++k)
        if (!model_output_label(upper_base(t.point_labels[k])) && t.points.col(3 * k).array().isFinite().any())
            cols.push_back(k);
    const auto rows = sample_rows(n, 400);
    auto dist = [&](Eigen::Index r, Eigen::Index a, Eigen::Index b) {
        return (t.points.row(r).segment<3>(3 * a) - t.points.row(r).segment<3>(3 * b)).norm();
    };
    std::vector<double> d;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        for (std::size_t j = i + 1; j < cols.size(); ++j) {
            const Eigen::Index a = cols[i], b = cols[j];
            d.clear();
            for (Eigen::Index r : rows) {
                const double x = dist(r, a, b);
                if (std::isfinite(x)) d.push_back(x);
            }
            if (d.size() < 20) continue;
            const double med = median(d);
            if (!(med > 0)) continue;
            // Rigid: most samples close to the median, judged so that the frames of a swap
            // (the very thing looked for) cannot hide the pair: 80 % within the tolerance and
            // a median absolute deviation under half of it.
            const auto within = std::count_if(d.begin(), d.end(), [&](double x) { return std::abs(x - med) <= tol; });
            if (double(within) < 0.8 * double(d.size())) continue;
            std::vector<double> dev(d.size());
            for (std::size_t k = 0; k < d.size(); ++k) dev[k] = std::abs(d[k] - med);
            if (median(dev) > 0.5 * tol) continue;  // not one rigid body
            const double limit = std::max(jump, 0.2 * med);
            DistanceJump dj;
            double worst_dev = 0;
            for (Eigen::Index r = 0; r < n; ++r) {
                const double x = dist(r, a, b);
                if (!std::isfinite(x) || std::abs(x - med) <= limit) continue;
                dj.frames.push_back(r);
                if (std::abs(x - med) > worst_dev) worst_dev = std::abs(x - med), dj.worst_distance = x;
            }
            if (dj.frames.empty()) continue;
            dj.marker_a = t.point_labels[a];
            dj.marker_b = t.point_labels[b];
            dj.median_distance = med;
            out.push_back(std::move(dj));
        }
    }
    std::sort(out.begin(), out.end(), [](const DistanceJump& x, const DistanceJump& y) {
        return x.frames.size() > y.frames.size();
    });
    return out;
}

std::vector<std::string> implausible_angles(const RowMatXdCRef& a, const std::string& side) {
    SPORTSMED_CHECK(a.cols() == 9, "implausible_angles: expected N x 9 angles (hip, knee, ankle), got {} columns",
                    a.cols());
    struct Limit {
        const char* name;
        double lo, hi;
    };
    static const Limit limits[9] = {
        {"hip flexion", -45, 150},          {"hip ab/adduction", -60, 60},     {"hip rotation", -80, 80},
        {"knee flexion", -25, 170},         {"knee varus/valgus", -45, 45},    {"knee rotation", -70, 70},
        {"ankle dorsi/plantarflexion", -75, 60}, {"ankle inversion/eversion", -60, 60}, {"ankle rotation", -70, 70}};
    std::vector<std::string> out;
    for (int c = 0; c < 9; ++c) {
        std::int64_t count = 0, first = -1;
        double worst = 0, worst_excess = 0;
        for (Eigen::Index r = 0; r < a.rows(); ++r) {
            const double x = a(r, c);
            if (!std::isfinite(x)) continue;
            const double excess = x < limits[c].lo ? limits[c].lo - x : x > limits[c].hi ? x - limits[c].hi : 0.0;
            if (excess <= 0) continue;
            if (first < 0) first = r;
            ++count;
            if (excess > worst_excess) worst_excess = excess, worst = x;
        }
        if (count)
            out.push_back(fmt::format("{} {} outside the human range [{}, {}] deg in {} frames (first frame index {}, "
                                      "extreme {:.1f} deg): check marker labels and placement",
                                      side, limits[c].name, limits[c].lo, limits[c].hi, count, first, worst));
    }
    return out;
}

std::string implausible_marker_extent(const std::array<double, 3>& extent, const std::string& units) {
    const double largest = std::max({extent[0], extent[1], extent[2]});
    if (!(largest > 0) || !std::isfinite(largest)) return "";
    double to_m = 0;
    try {
        to_m = length_unit_factor(units, "m");
    } catch (const Error&) {
        return "";  // an unknown unit is refused where lengths are used
    }
    const double m = largest * to_m;
    if (m >= 0.1 && m <= 5.0) return "";
    return fmt::format("the markers span {:.4g} {} ({:.4g} m) within a frame, not the size of a person (0.1-5 m): "
                       "are the coordinates really in '{}'? (a TRC 'Units' field that says m for millimetres, or mm "
                       "for metres, puts every length 1000x out)",
                       largest, units, m, units);
}

std::vector<std::string> trial_checks(const Trial& t, const C3d* c3d) {
    std::vector<std::string> out;
    if (t.n_markers() == 0 || t.n_frames() == 0) return out;
    std::vector<std::string> empty;
    for (Eigen::Index k = 0; k < t.n_markers(); ++k)
        if (!t.points.middleCols(3 * k, 3).array().isFinite().any()) empty.push_back(t.point_labels[k]);
    if (!empty.empty()) {
        std::string list;
        for (std::size_t i = 0; i < empty.size() && i < 12; ++i) list += (i ? ", " : "") + empty[i];
        out.push_back(fmt::format("{} point(s) hold no data in any frame: {}{}", empty.size(), list,
                                  empty.size() > 12 ? ", ..." : ""));
    }
    const VerticalAxis v = c3d ? detect_vertical_axis(*c3d) : detect_vertical_axis(t);
    if (const std::string size = implausible_marker_extent(v.extent, t.point_units); !size.empty())
        out.push_back(size);
    if (v.source == "none")
        out.push_back("the vertical axis cannot be told from the markers (fewer than 3 with data)");
    else if (!(v.axis == 2 && v.sign == 1) || !v.confident)
        out.push_back(fmt::format("vertical axis {} ({}{}; median marker extent x {:.3g}, y {:.3g}, z {:.3g} {}){}",
                                  v.name(), v.source, v.confident ? "" : ", not certain", v.extent[0], v.extent[1],
                                  v.extent[2], t.point_units,
                                  v.axis == 2 && v.sign == 1 ? ""
                                  : v.confident ? "; the features turn the trial to +z up"
                                                : "; the features need vertical_axis to be given"));
    const auto jumps = marker_distance_jumps(t);
    for (std::size_t i = 0; i < jumps.size() && i < 8; ++i) {
        const auto& j = jumps[i];
        out.push_back(fmt::format("markers {} and {} move as one body ({:.1f} {} apart) but their distance jumps to "
                                  "{:.1f} {} in {} frame(s), first frame index {}: swapped or mislabelled markers?",
                                  j.marker_a, j.marker_b, j.median_distance, t.point_units, j.worst_distance,
                                  t.point_units, j.frames.size(), j.frames.front()));
    }
    if (jumps.size() > 8) out.push_back(fmt::format("... and {} more marker pairs with distance jumps", jumps.size() - 8));
    return out;
}

}  // namespace sportsmed::motion
