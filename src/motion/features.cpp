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
#include "sportsmed/motion/checks.hpp"
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
    // Plates are given to feet by the ankle: the first candidate with data (a label can
    // exist and be empty).
    const std::string foot_l =
        first_tracked_marker(t, {"LAJC", "LANK", "LHEE"}, "trial_features: giving plates to the left foot");
    const std::string foot_r =
        first_tracked_marker(t, {"RAJC", "RANK", "RHEE"}, "trial_features: giving plates to the right foot");
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

std::vector<Feature> drop_jump(const Trial& t, const FeatureOptions& o, std::vector<std::string>& warnings) {
    SPORTSMED_CHECK(o.body_mass_kg > 0, "trial_features: drop jump needs the body mass (body_mass_kg, or "
                                        "PROCESSING:Bodymass in a C3D)");
    SPORTSMED_CHECK(t.point_rate_hz > 0, "trial_features: the trial has no point rate");
    const auto& labels = t.analog_labels;
    const bool fz_channels = std::find(labels.begin(), labels.end(), "Fz_L") != labels.end() &&
                             std::find(labels.begin(), labels.end(), "Fz_R") != labels.end();
    SPORTSMED_CHECK(t.analog_rate_hz > 0 && (fz_channels || !t.force_plates.empty()),
                    "trial_features: a drop jump needs vertical ground reaction forces, and this trial has {} "
                    "(a TRC holds markers only). Use a C3D with its force plates, or add the forces of each foot "
                    "as analog channels Fz_L and Fz_R (N) at a rate that is a multiple of the marker rate, e.g. "
                    "from an OpenSim GRF .mot: sportsmed motion features trial.trc --grf grf.mot [--grf-loads loads.xml], "
                    "or motion.attach_grf_mot(trial, 'grf.mot') in Python",
                    t.analog_labels.empty() ? "no analog channels" : "neither channels Fz_L/Fz_R nor force plates");
    const RowMatXd al = side_angles(t, "L"), ar = side_angles(t, "R");
    for (const auto& w : implausible_angles(al, "left")) warnings.push_back(w);
    for (const auto& w : implausible_angles(ar, "right")) warnings.push_back(w);
    const auto [fl, fr] = foot_forces(t);
    // drop_jump_features takes a plate's unloaded offset off before it finds the contacts
    for (const auto* f : {&fl, &fr})
        if (const double offset = unloaded_plate_offset(*f, t.analog_rate_hz, o.body_mass_kg * 9.81); offset != 0.0)
            warnings.push_back(fmt::format("the {} foot's force reads {:.1f} N when unloaded (a plate offset, under "
                                           "10 % of body weight): taken off before the contacts are found",
                                           f == &fl ? "left" : "right", offset));
    const std::vector<std::string> centres{"LHJC", "LKJC", "LAJC", "RHJC", "RKJC", "RAJC"};
    std::vector<Feature> out;
    if (missing_of(t, centres).empty()) {
        const Trial mm = convert_units(t, "mm");  // the centres' lengths are reported in cm
        const RowMatXd cl = three_points(mm, "LHJC", "LKJC", "LAJC"), cr = three_points(mm, "RHJC", "RKJC", "RAJC");
        out = drop_jump_features(al, ar, t.point_rate_hz, fl, fr, t.analog_rate_hz, o.body_mass_kg, cl, cr);
    } else {
        out = drop_jump_features(al, ar, t.point_rate_hz, fl, fr, t.analog_rate_hz, o.body_mass_kg);
    }
    // A drop landing: a contact of 0.1-1 s that starts in the air and is followed by a flight.
    // Another task (a walk, a jump that starts on the plates) gets its numbers with a warning.
    auto value = [&](const char* name) {
        for (const auto& f : out)
            if (f.name == name) return f.value;
        return std::numeric_limits<double>::quiet_NaN();
    };
    const double contact = value("contact_time_s"), start = value("initial_contact_s");
    if (std::isfinite(contact) && !(contact >= 0.1 && contact <= 1.0))
        warnings.push_back(fmt::format("the ground contact found lasts {:.3g} s, a drop-jump landing 0.1-1 s: this "
                                       "does not look like a drop landing (another task?); the landing features "
                                       "describe that contact",
                                       contact));
    else if (std::isfinite(start) && start <= 0.0)
        warnings.push_back("the trial starts in ground contact: a drop jump starts in the air, on the way down from "
                           "the box; the landing features describe the first contact");
    else if (!std::isfinite(value("flight_time_s")))
        warnings.push_back("no flight follows the contact: a drop vertical jump rebounds and lands again; flight time, "
                           "jump height and reactive strength are missing");
    return out;
}

// Frame index (fractional) of an event time.
double event_frame(const Trial& t, double time_s) {
    return (time_s - t.time_offset_s) * t.point_rate_hz + 1.0 - double(t.first_frame);
}

struct SideEvents {
    std::vector<double> strikes, offs;
};

// What a stored event means for gait: its side ("left"/"right"/"") and kind ('s' strike,
// 'o' off, 0 other). Labs name them "Foot Strike" with context "Left" (Vicon), "LHS"/"RTO",
// "Left Foot Strike", "Heel Strike", "Initial Contact", "Toe Off" ...; the context wins, the
// label's own side word or L/R prefix is used when the context is empty or "General".
std::pair<std::string, char> gait_event_kind(const Event& ev) {
    std::string label;
    for (char ch : lower(ev.label))
        if (std::isalnum(static_cast<unsigned char>(ch))) label += ch;
    std::string side = lower(ev.context);
    if (side != "left" && side != "right") side.clear();
    auto strip = [&](const std::string& word, const char* name) {
        if (label.rfind(word, 0) == 0 && label.size() > word.size()) {
            label = label.substr(word.size());
            if (side.empty()) side = name;
            return true;
        }
        return false;
    };
    if (!strip("left", "left") && !strip("right", "right")) {
        static const char* shorts[] = {"hs", "fs", "ic", "to", "fo", "fc"};
        for (const char* code : shorts)
            if (label.size() == 3 && (label[0] == 'l' || label[0] == 'r') && label.substr(1) == code) {
                if (side.empty()) side = label[0] == 'l' ? "left" : "right";
                label = code;
            }
    }
    static const char* strikes[] = {"footstrike", "heelstrike", "hs", "fs", "ic", "initialcontact", "footcontact", "fc"};
    static const char* offs[] = {"footoff", "toeoff", "to", "fo"};
    for (const char* k : strikes)
        if (label == k) return {side, 's'};
    for (const char* k : offs)
        if (label == k) return {side, 'o'};
    return {side, 0};
}

SideEvents stored_events(const Trial& t, const std::string& context) {
    SideEvents e;
    const std::string want = lower(context);
    for (const auto& ev : t.events) {
        const auto [side, kind] = gait_event_kind(ev);
        if (side != want || kind == 0) continue;
        (kind == 's' ? e.strikes : e.offs).push_back(event_frame(t, ev.time_s));
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

std::vector<Feature> gait(const Trial& trial, const FeatureOptions& o, std::vector<std::string>& warnings) {
    SPORTSMED_CHECK(o.gait_events == "auto" || o.gait_events == "stored" || o.gait_events == "zeni",
                    "trial_features: gait_events '{}' is not auto, stored or zeni", o.gait_events);
    SPORTSMED_CHECK(trial.point_rate_hz > 0, "trial_features: the trial has no point rate");
    // The heel marker, or the lateral malleolus where a marker set has no heel (gait-pig.c3d)
    // or its heel marker holds no data.
    std::string note;
    const std::string hl = first_tracked_marker(trial, {"LHEE", "LANK"}, "gait features: left heel", &note);
    if (!note.empty()) warnings.push_back(note), note.clear();
    const std::string hr = first_tracked_marker(trial, {"RHEE", "RANK"}, "gait features: right heel", &note);
    if (!note.empty()) warnings.push_back(note);
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
        if (!ok[s])
            warnings.push_back(fmt::format("{} foot: {} foot strike(s) {}; its stride features are NaN",
                                           s == 0 ? "left" : "right", ev[s].strikes.size(),
                                           use_stored ? "among the stored events" : "found by Zeni's method"));
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
    // Human walking and running: a stride of 0.5-2.5 s (cadence 48-240 steps/min; sprinters
    // reach ~2.3 strides/s only at top speed) and under 10 m/s. Beyond, the events
    // are wrong (a spurious strike per stride halves the stride time), never a gait.
    if (std::isfinite(stride_time) && !(stride_time >= 0.5 && stride_time <= 2.5))
        warnings.push_back(fmt::format("stride time {:.3g} s (cadence {:.0f} steps/min) is outside human walking and "
                                       "running (0.5-2.5 s): the gait events ({}) are likely wrong, check them with "
                                       "'motion events'",
                                       stride_time, 120.0 / stride_time,
                                       o.gait_events == "stored" ? "stored events" : "found from the markers"));
    if (std::isfinite(speed) && !(speed >= 0.0 && speed <= 10.0))
        warnings.push_back(fmt::format("speed {:.3g} m/s is outside human gait (0-10 m/s): check the units and "
                                       "the events", speed));
    return f;
}

}  // namespace

Task parse_task(const std::string& name) {
    const std::string n = lower(name);
    if (n == "drop_jump" || n == "drop-jump" || n == "dvj") return Task::DropJump;
    if (n == "gait" || n == "walking" || n == "running") return Task::Gait;
    SPORTSMED_THROW(InvalidArgument, "task '{}' is not drop_jump or gait", name);
}

std::vector<Feature> trial_features(const Trial& trial, const FeatureOptions& options,
                                    std::vector<std::string>* warnings) {
    std::vector<std::string> w = trial.warnings;
    // Every feature below measures "up" along +z: read the lab's vertical axis from the
    // data (or the option) and turn the trial when it is another one.
    VerticalAxis v;
    if (options.vertical_axis == "auto") {
        v = detect_vertical_axis(trial);
    } else {
        const std::string& a = options.vertical_axis;
        SPORTSMED_CHECK(a.size() == 2 && (a[0] == '+' || a[0] == '-') && (a[1] == 'x' || a[1] == 'y' || a[1] == 'z'),
                        "trial_features: vertical_axis '{}' is not auto, +x, -x, +y, -y, +z or -z", a);
        v.axis = a[1] - 'x';
        v.sign = a[0] == '+' ? 1 : -1;
        v.source = "given";
        v.confident = true;
    }
    if (const std::string size = implausible_marker_extent(v.extent, trial.point_units); !size.empty())
        w.push_back(size);
    const bool turn = v.source != "none" && !(v.axis == 2 && v.sign == 1);
    // The data are turned only when the detection is sure; an unsure guess that would move
    // the data is refused rather than taken.
    SPORTSMED_CHECK(!turn || v.confident,
                    "trial_features: the markers suggest {} as the vertical axis ({}; median extent x {:.3g}, y {:.3g}, "
                    "z {:.3g} {}) but do not settle it; give vertical_axis ('+z', '+y', ...)",
                    v.name(), v.source, v.extent[0], v.extent[1], v.extent[2], trial.point_units);
    if (v.source != "none" && !v.confident)
        w.push_back(fmt::format("vertical axis taken as +z, as the file is laid out, but the markers do not confirm it "
                                "(median extent x {:.3g}, y {:.3g}, z {:.3g} {}); give vertical_axis to be sure",
                                v.extent[0], v.extent[1], v.extent[2], trial.point_units));
    const Trial turned = turn ? to_z_up(trial, v) : Trial{};
    const Trial& t = turn ? turned : trial;
    if (turn) w.push_back(turned.warnings.back());
    std::vector<Feature> out = options.task == Task::DropJump ? drop_jump(t, options, w) : gait(t, options, w);
    if (warnings) *warnings = std::move(w);
    return out;
}

FeatureTable make_feature_table(const std::vector<std::string>& trials, const std::vector<std::vector<Feature>>& features,
                                const std::vector<std::string>& errors, const std::vector<std::string>& warnings) {
    SPORTSMED_CHECK(features.size() == trials.size() && (errors.empty() || errors.size() == trials.size()) &&
                        (warnings.empty() || warnings.size() == trials.size()),
                    "make_feature_table: {} trials, {} feature lists, {} errors and {} warnings", trials.size(),
                    features.size(), errors.size(), warnings.size());
    FeatureTable table;
    table.trials = trials;
    table.errors = errors.empty() ? std::vector<std::string>(trials.size()) : errors;
    table.warnings = warnings.empty() ? std::vector<std::string>(trials.size()) : warnings;
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
    std::vector<std::string> errors(paths.size()), warnings(paths.size());
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
                    // The file's POINT:Y_SCREEN joins the data in telling the vertical axis.
                    if (o.vertical_axis == "auto") {
                        const VerticalAxis v = detect_vertical_axis(c);
                        if (v.source == "C3D POINT:Y_SCREEN") {
                            o.vertical_axis = v.name();
                            o.vertical_axis[1] = static_cast<char>(std::tolower(o.vertical_axis[1]));
                        }
                    }
                    t = std::move(c.trial);
                } else if (low.size() >= 4 && low.compare(low.size() - 4, 4, ".trc") == 0) {
                    t = read_trc(path);
                } else {
                    SPORTSMED_THROW(InvalidArgument, "'{}' is not a .c3d or .trc file", path);
                }
                std::vector<std::string> w;
                rows[static_cast<std::size_t>(i)] = trial_features(t, o, &w);
                warnings[static_cast<std::size_t>(i)] = fmt::format("{}", fmt::join(w, "; "));
            } catch (const Cancelled&) {
                throw;
            } catch (const std::exception& ex) {
                errors[static_cast<std::size_t>(i)] = ex.what();
            }
            reporter.advance();
        }
    });
    reporter.finish();
    return make_feature_table(paths, rows, errors, warnings);
}

}  // namespace sportsmed::motion
