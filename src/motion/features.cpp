// Trial-level task features and the batch feature table.

#include "sportsmed/motion/features.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/ranges.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/events.hpp"
#include "sportsmed/motion/gait.hpp"
#include "sportsmed/motion/joint_angles.hpp"
#include "sportsmed/motion/trc.hpp"

namespace sportsmed::motion {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string missing_of(const Trial& t, const std::vector<std::string>& labels) {
    std::string missing;
    for (const auto& l : labels)
        if (!t.has_marker(l)) missing += (missing.empty() ? "" : ", ") + l;
    return missing;
}

// frames × 9 from three frames × 3 points.
RowMatXd three_points(const Trial& t, const std::string& a, const std::string& b, const std::string& c) {
    RowMatXd out(t.n_frames(), 9);
    out.middleCols(0, 3) = t.marker(a);
    out.middleCols(3, 3) = t.marker(b);
    out.middleCols(6, 3) = t.marker(c);
    return out;
}

RowMatXd side_angles(const Trial& t, const std::string& s) {
    const std::vector<std::string> outputs{s + "HipAngles", s + "KneeAngles", s + "AnkleAngles"};
    const std::string missing = missing_of(t, outputs);
    if (missing.empty()) return three_points(t, outputs[0], outputs[1], outputs[2]);
    if (t.has_marker("PELO") && t.has_marker(s + "FEO"))
        return plugin_gait_angles_from_axes(t, s == "L" ? Side::Left : Side::Right);
    SPORTSMED_THROW(InvalidArgument,
                    "trial_features: drop jump needs the angle points {} (or the Plug-in Gait segment axes PELO…, "
                    "{}FEO…); missing {}",
                    fmt::join(outputs, ", "), s, missing);
}

// Vertical GRF (N, up) of each foot, at the analog rate.
std::pair<VecXd, VecXd> foot_forces(const Trial& t) {
    const auto& labels = t.analog_labels;
    const auto l = std::find(labels.begin(), labels.end(), "Fz_L"), r = std::find(labels.begin(), labels.end(), "Fz_R");
    if (l != labels.end() && r != labels.end())
        return {t.analogs.col(l - labels.begin()), t.analogs.col(r - labels.begin())};
    SPORTSMED_CHECK(t.force_plates.size() >= 2,
                    "trial_features: drop jump needs analog channels Fz_L and Fz_R or two force plates (one per "
                    "foot); the trial has {} plate(s)",
                    t.force_plates.size());
    std::string foot_l = t.has_marker("LAJC") ? "LAJC" : t.has_marker("LANK") ? "LANK" : "LHEE";
    std::string foot_r = t.has_marker("RAJC") ? "RAJC" : t.has_marker("RANK") ? "RANK" : "RHEE";
    const std::string missing = missing_of(t, {foot_l, foot_r});
    SPORTSMED_CHECK(missing.empty(), "trial_features: plates are given to feet by the ankle markers; missing {}",
                    missing);
    const RowMatX3d al = t.marker(foot_l), ar = t.marker(foot_r);
    const double ratio = t.analog_rate_hz / t.point_rate_hz;
    VecXd fl = VecXd::Zero(t.analogs.rows()), fr = VecXd::Zero(t.analogs.rows());
    for (const auto& p : t.force_plates) {
        VecXd fz = p.force.col(2);
        // The plates store the force on the plate or the reaction: take the ground reaction (up).
        if (std::abs(fz.minCoeff()) > std::abs(fz.maxCoeff())) fz = -fz;
        Eigen::Index first = -1;
        for (Eigen::Index i = 0; i < fz.size() && first < 0; ++i)
            if (fz[i] >= 20.0 && p.cop.row(i).allFinite()) first = i;
        if (first < 0) continue;  // never loaded
        const auto frame = std::min<Eigen::Index>(t.n_frames() - 1, static_cast<Eigen::Index>(double(first) / ratio));
        const auto dist = [&](const RowMatX3d& m) {
            return std::hypot(m(frame, 0) - p.cop(first, 0), m(frame, 1) - p.cop(first, 1));
        };
        const double dl = dist(al), dr = dist(ar);
        SPORTSMED_CHECK(std::isfinite(dl) || std::isfinite(dr),
                        "trial_features: the ankle markers are missing when a plate is first loaded");
        (std::isfinite(dl) && (!std::isfinite(dr) || dl <= dr) ? fl : fr) += fz;
    }
    return {fl, fr};
}

std::vector<Feature> drop_jump(const Trial& t, const FeatureOptions& o) {
    SPORTSMED_CHECK(o.body_mass_kg > 0, "trial_features: drop jump needs the body mass (body_mass_kg, or "
                                        "PROCESSING:Bodymass in a C3D)");
    SPORTSMED_CHECK(t.point_rate_hz > 0 && t.analog_rate_hz > 0, "trial_features: the trial has no point or analog rate");
    const RowMatXd al = side_angles(t, "L"), ar = side_angles(t, "R");
    const auto [fl, fr] = foot_forces(t);
    const std::vector<std::string> centres{"LHJC", "LKJC", "LAJC", "RHJC", "RKJC", "RAJC"};
    if (missing_of(t, centres).empty()) {
        const Trial mm = convert_units(t, "mm");  // the centres' lengths are reported in cm
        const RowMatXd cl = three_points(mm, "LHJC", "LKJC", "LAJC"), cr = three_points(mm, "RHJC", "RKJC", "RAJC");
        return drop_jump_features(al, ar, t.point_rate_hz, fl, fr, t.analog_rate_hz, o.body_mass_kg, cl, cr);
    }
    return drop_jump_features(al, ar, t.point_rate_hz, fl, fr, t.analog_rate_hz, o.body_mass_kg);
}

// Frame index (fractional) of an event time.
double event_frame(const Trial& t, double time_s) { return time_s * t.point_rate_hz + 1.0 - double(t.first_frame); }

struct SideEvents {
    std::vector<double> strikes, offs;
};

SideEvents stored_events(const Trial& t, const std::string& context) {
    SideEvents e;
    for (const auto& ev : t.events) {
        if (lower(ev.context) != lower(context)) continue;
        const std::string l = lower(ev.label);
        if (l == "foot strike") e.strikes.push_back(event_frame(t, ev.time_s));
        else if (l == "foot off") e.offs.push_back(event_frame(t, ev.time_s));
    }
    std::sort(e.strikes.begin(), e.strikes.end());
    std::sort(e.offs.begin(), e.offs.end());
    // Events outside the recorded frames cannot be measured.
    const double last = double(t.n_frames() - 1);
    auto inside = [&](std::vector<double>& v) {
        v.erase(std::remove_if(v.begin(), v.end(), [&](double f) { return f < 0 || f > last; }), v.end());
    };
    inside(e.strikes);
    inside(e.offs);
    return e;
}

SideEvents zeni(const Trial& t, const std::string& side, double window) {
    const GaitEvents g = zeni_events_from_trial(t, side, window);
    SideEvents e;
    for (auto f : g.foot_strikes) e.strikes.push_back(double(f));
    for (auto f : g.foot_offs) e.offs.push_back(double(f));
    return e;
}

// Mean horizontal distance of each heel strike from the other heel's line of progression.
double step_width_m(const RowMatX3d& heel_a, const std::vector<double>& strikes_a, const RowMatX3d& heel_b,
                    const std::vector<double>& strikes_b) {
    double sum = 0;
    int count = 0;
    for (double f : strikes_a) {
        auto after = std::upper_bound(strikes_b.begin(), strikes_b.end(), f);
        if (after == strikes_b.begin() || after == strikes_b.end()) continue;
        const double b0 = *(after - 1), b1 = *after;
        const auto row = [](const RowMatX3d& h, double fr) -> Eigen::Vector2d {
            const auto i = static_cast<Eigen::Index>(std::lround(fr));
            return h.row(i).head<2>().transpose();
        };
        const Eigen::Vector2d p0 = row(heel_b, b0), p1 = row(heel_b, b1), q = row(heel_a, f);
        const Eigen::Vector2d d = p1 - p0;
        if (!d.allFinite() || !q.allFinite() || d.norm() == 0) continue;
        sum += std::abs(d.x() * (q - p0).y() - d.y() * (q - p0).x()) / d.norm();
        ++count;
    }
    return count ? sum / count / 1000.0 : kNaN;
}

std::vector<Feature> gait(const Trial& trial, const FeatureOptions& o) {
    SPORTSMED_CHECK(o.gait_events == "auto" || o.gait_events == "stored" || o.gait_events == "zeni",
                    "trial_features: gait_events '{}' is not auto, stored or zeni", o.gait_events);
    SPORTSMED_CHECK(trial.point_rate_hz > 0, "trial_features: the trial has no point rate");
    // The heel marker, or the lateral malleolus where a marker set has no heel (gait-pig.c3d).
    const std::string hl = trial.has_marker("LHEE") ? "LHEE" : "LANK", hr = trial.has_marker("RHEE") ? "RHEE" : "RANK";
    const std::string missing = missing_of(trial, {hl, hr});
    SPORTSMED_CHECK(missing.empty(), "trial_features: gait needs the heel (or ankle) markers; missing {}", missing);
    const Trial t = convert_units(trial, "mm");
    SideEvents ev[2];
    const char* sides[2] = {"L", "R"};
    const char* contexts[2] = {"Left", "Right"};
    bool use_stored = o.gait_events == "stored";
    if (o.gait_events == "auto") {
        use_stored = true;
        for (int s = 0; s < 2; ++s) use_stored = use_stored && stored_events(t, contexts[s]).strikes.size() >= 2;
    }
    for (int s = 0; s < 2; ++s) ev[s] = use_stored ? stored_events(t, contexts[s]) : zeni(t, sides[s], o.zeni_window_s);
    std::vector<Feature> f;
    f.push_back({"events_from_zeni", use_stored ? 0.0 : 1.0, "bool"});
    SpatioTemporal st[2];
    bool ok[2];
    const RowMatX3d heel[2] = {t.marker(hl), t.marker(hr)};
    for (int s = 0; s < 2; ++s) {
        const std::string p = s == 0 ? "left_" : "right_";
        ok[s] = ev[s].strikes.size() >= 2;
        if (ok[s]) st[s] = spatio_temporal(ev[s].strikes, ev[s].offs, heel[s], t.point_rate_hz);
        f.push_back({p + "strides", ok[s] ? double(st[s].strides) : 0.0, "count"});
        f.push_back({p + "stride_time_s", ok[s] ? st[s].stride_time_s : kNaN, "s"});
        f.push_back({p + "stance_fraction", ok[s] ? st[s].stance_fraction : kNaN, "1"});
        f.push_back({p + "stride_length_m", ok[s] ? st[s].stride_length_m : kNaN, "m"});
        f.push_back({p + "speed_m_per_s", ok[s] ? st[s].speed_m_per_s : kNaN, "m/s"});
    }
    const bool both = ok[0] && ok[1];
    double stride_time = kNaN, speed = kNaN;
    if (both) {
        stride_time = 0.5 * (st[0].stride_time_s + st[1].stride_time_s);
        speed = 0.5 * (st[0].speed_m_per_s + st[1].speed_m_per_s);
    } else if (ok[0] || ok[1]) {
        stride_time = ok[0] ? st[0].stride_time_s : st[1].stride_time_s;
        speed = ok[0] ? st[0].speed_m_per_s : st[1].speed_m_per_s;
    }
    f.push_back({"cadence_steps_per_min", 120.0 / stride_time, "steps/min"});
    f.push_back({"speed_m_per_s", speed, "m/s"});
    // Both feet's strikes against the other foot's line of progression.
    const double wl = step_width_m(heel[0], ev[0].strikes, heel[1], ev[1].strikes);
    const double wr = step_width_m(heel[1], ev[1].strikes, heel[0], ev[0].strikes);
    const double width = std::isnan(wl) ? wr : std::isnan(wr) ? wl : 0.5 * (wl + wr);
    f.push_back({"step_width_m", width, "m"});
    f.push_back({"stride_time_symmetry", both ? st[0].stride_time_s / st[1].stride_time_s : kNaN, "L/R"});
    f.push_back({"stance_fraction_symmetry", both ? st[0].stance_fraction / st[1].stance_fraction : kNaN, "L/R"});
    f.push_back({"stride_length_symmetry", both ? st[0].stride_length_m / st[1].stride_length_m : kNaN, "L/R"});
    return f;
}

}  // namespace

Task parse_task(const std::string& name) {
    const std::string n = lower(name);
    if (n == "drop_jump" || n == "drop-jump" || n == "dvj") return Task::DropJump;
    if (n == "gait" || n == "walking" || n == "running") return Task::Gait;
    SPORTSMED_THROW(InvalidArgument, "task '{}' is not drop_jump or gait", name);
}

std::vector<Feature> trial_features(const Trial& trial, const FeatureOptions& options) {
    return options.task == Task::DropJump ? drop_jump(trial, options) : gait(trial, options);
}

FeatureTable make_feature_table(const std::vector<std::string>& trials, const std::vector<std::vector<Feature>>& features,
                                const std::vector<std::string>& errors) {
    SPORTSMED_CHECK(features.size() == trials.size() && (errors.empty() || errors.size() == trials.size()),
                    "make_feature_table: {} trials, {} feature lists and {} errors", trials.size(), features.size(),
                    errors.size());
    FeatureTable table;
    table.trials = trials;
    table.errors = errors.empty() ? std::vector<std::string>(trials.size()) : errors;
    std::map<std::string, std::size_t> column;
    for (const auto& row : features)
        for (const auto& f : row) {
            const auto it = column.find(f.name);
            if (it == column.end()) {
                column.emplace(f.name, table.names.size());
                table.names.push_back(f.name);
                table.units.push_back(f.unit);
            } else {
                SPORTSMED_CHECK(table.units[it->second] == f.unit,
                                "make_feature_table: feature '{}' comes in '{}' and in '{}'", f.name,
                                table.units[it->second], f.unit);
            }
        }
    table.values = RowMatXd::Constant(static_cast<Eigen::Index>(trials.size()),
                                      static_cast<Eigen::Index>(table.names.size()), kNaN);
    for (std::size_t r = 0; r < features.size(); ++r)
        for (const auto& f : features[r])
            table.values(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(column.at(f.name))) = f.value;
    return table;
}

FeatureTable batch_features(const std::vector<std::string>& paths, const FeatureOptions& options,
                            const ProgressCallback& progress) {
    const auto n = static_cast<std::int64_t>(paths.size());
    std::vector<std::vector<Feature>> rows(paths.size());
    std::vector<std::string> errors(paths.size());
    ProgressReporter reporter(progress, "trial features", std::max<std::int64_t>(n, 1));
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) {
            const std::string& path = paths[static_cast<std::size_t>(i)];
            try {
                const std::string low = lower(path);
                FeatureOptions o = options;
                Trial t;
                if (low.size() >= 4 && low.compare(low.size() - 4, 4, ".c3d") == 0) {
                    C3d c = read_c3d(path);
                    if (o.body_mass_kg <= 0)
                        if (const C3dParameter* m = c.find("PROCESSING", "Bodymass"); m && !m->numbers.empty())
                            o.body_mass_kg = m->numbers[0];
                    t = std::move(c.trial);
                } else if (low.size() >= 4 && low.compare(low.size() - 4, 4, ".trc") == 0) {
                    t = read_trc(path);
                } else {
                    SPORTSMED_THROW(InvalidArgument, "'{}' is not a .c3d or .trc file", path);
                }
                rows[static_cast<std::size_t>(i)] = trial_features(t, o);
            } catch (const Cancelled&) {
                throw;
            } catch (const std::exception& ex) {
                errors[static_cast<std::size_t>(i)] = ex.what();
            }
            reporter.advance();
        }
    });
    reporter.finish();
    return make_feature_table(paths, rows, errors);
}

}  // namespace sportsmed::motion
