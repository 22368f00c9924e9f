#include "sportsmed/motion/dynamics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Geometry>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/motion/checks.hpp"
#include "sportsmed/motion/filter.hpp"
#include "sportsmed/motion/joint_angles.hpp"

namespace sportsmed::motion {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Mat3 = Eigen::Matrix3d;
using Vec3 = Eigen::Vector3d;

Mat3 frame_at(const RowMatXd& frames, Eigen::Index i) {
    Mat3 r;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) r(a, b) = frames(i, 3 * a + b);
    return r;
}

Vec3 row3(const RowMatX3d& m, Eigen::Index i) { return m.row(i).transpose(); }

/// Angular velocity (lab frame, rad/s) of frames: the axial vector of Ṙ Rᵀ.
RowMatX3d angular_velocity(const RowMatXd& frames, double rate_hz) {
    const RowMatXd rdot = derivative(frames, rate_hz);
    RowMatX3d w(frames.rows(), 3);
    for (Eigen::Index i = 0; i < frames.rows(); ++i) {
        const Mat3 r = frame_at(frames, i);
        const Mat3 rd = frame_at(rdot, i);
        const Mat3 s = rd * r.transpose();
        w.row(i) << 0.5 * (s(2, 1) - s(1, 2)), 0.5 * (s(0, 2) - s(2, 0)), 0.5 * (s(1, 0) - s(0, 1));
    }
    return w;
}

/// Orthonormal frames after filtering the nine columns: z kept, y made orthogonal, x = y × z.
RowMatXd reorthonormalise(const RowMatXd& f) {
    RowMatXd out(f.rows(), 9);
    for (Eigen::Index i = 0; i < f.rows(); ++i) {
        const Mat3 r = frame_at(f, i);
        Vec3 z = r.col(2).normalized();
        Vec3 y = (r.col(1) - r.col(1).dot(z) * z).normalized();
        Vec3 x = y.cross(z);
        Mat3 o;
        o << x, y, z;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) out(i, 3 * a + b) = o(a, b);
    }
    return out;
}

void check_rows(const char* what, Eigen::Index rows, Eigen::Index n) {
    SPORTSMED_CHECK(rows == n, "leg_inverse_dynamics: {} has {} rows, expected {} (frames)", what, rows, n);
}

struct SegmentState {
    RowMatX3d omega;
    double mass = 0.0;
};

/// One segment's Newton–Euler step. @p f_dist / @p m_dist: force and moment (about the
/// distal point) that the distal neighbour (or the ground, about its point) exerts on it.
void segment_step(const RowMatX3d& prox, const RowMatX3d& dist, const RowMatXd& frames, const SegmentInertia& s,
                  double body_mass, double rate, const Vec3& g, const RowMatX3d& f_dist, const RowMatX3d& m_dist,
                  RowMatX3d& f_prox, RowMatX3d& m_prox, RowMatX3d& omega_out) {
    const Eigen::Index n = prox.rows();
    const double m = s.mass_fraction * body_mass;
    RowMatX3d com = prox + s.com_from_proximal * (dist - prox);
    double length_sum = 0.0;
    Eigen::Index length_n = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const double l = (prox.row(i) - dist.row(i)).norm();
        if (std::isfinite(l)) length_sum += l, ++length_n;
    }
    const double length = length_n ? length_sum / static_cast<double>(length_n) : kNaN;
    // x: antero-posterior axis (frontal-plane rotation), y: medio-lateral (sagittal), z: long.
    const Vec3 inertia_local(m * std::pow(s.gyration_frontal * length, 2), m * std::pow(s.gyration_sagittal * length, 2),
                             m * std::pow(s.gyration_long * length, 2));
    const RowMatX3d acc = derivative(derivative(com, rate), rate);
    omega_out = angular_velocity(frames, rate);
    const RowMatX3d alpha = derivative(omega_out, rate);
    f_prox.resize(n, 3);
    m_prox.resize(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) {
        const Mat3 r = frame_at(frames, i);
        const Mat3 inertia = r * inertia_local.asDiagonal() * r.transpose();
        const Vec3 w = row3(omega_out, i), al = row3(alpha, i);
        const Vec3 dh = inertia * al + w.cross(inertia * w);
        const Vec3 c = row3(com, i), p = row3(prox, i), d = row3(dist, i);
        const Vec3 fd = row3(f_dist, i), md = row3(m_dist, i);
        const Vec3 fp = m * row3(acc, i) - m * g - fd;
        const Vec3 mp = dh - (p - c).cross(fp) - (d - c).cross(fd) - md;
        f_prox.row(i) = fp.transpose();
        m_prox.row(i) = mp.transpose();
    }
}

int side_sign(const std::string& side) { return side == "L" ? 1 : -1; }

/// Plug-in Gait naming of a moment expressed in @p frames (x anterior, y left, z long):
/// X = ±m_y (knee negated: extensor positive), Y = m_x, Z = m_z, the right side's Y and Z negated.
/// @p foot_frame: the frames are the foot's (z backwards along the foot, x up), turned first.
RowMatX3d plugin_gait_components(const RowMatX3d& m_lab, const RowMatXd* frames, bool foot_frame, double x_sign,
                                 int side) {
    RowMatX3d out(m_lab.rows(), 3);
    for (Eigen::Index i = 0; i < m_lab.rows(); ++i) {
        Vec3 v = row3(m_lab, i);
        if (frames) {
            Mat3 r = frame_at(*frames, i);
            if (foot_frame) {
                Mat3 t;
                t << -r.col(2), r.col(1), r.col(0);
                r = t;
            }
            v = r.transpose() * v;
            out.row(i) << x_sign * v.y(), side * v.x(), side * v.z();
        } else {
            out.row(i) = v.transpose();
        }
    }
    return out;
}

RowMatX3d local_components(const RowMatX3d& f_lab, const RowMatXd* frames, bool foot_frame) {
    if (!frames) return f_lab;
    RowMatX3d out(f_lab.rows(), 3);
    for (Eigen::Index i = 0; i < f_lab.rows(); ++i) {
        Mat3 r = frame_at(*frames, i);
        if (foot_frame) {
            Mat3 t;
            t << -r.col(2), r.col(1), r.col(0);
            r = t;
        }
        out.row(i) = (r.transpose() * row3(f_lab, i)).transpose();
    }
    return out;
}

VecXd power(const RowMatX3d& moment, const RowMatX3d& w_distal, const RowMatX3d& w_proximal) {
    VecXd p(moment.rows());
    for (Eigen::Index i = 0; i < moment.rows(); ++i)
        p(i) = moment.row(i).dot(w_distal.row(i) - w_proximal.row(i));
    return p;
}

RowMatX3d filtered(const RowMatX3d& x, double rate, double cutoff) {
    if (cutoff <= 0.0 || x.rows() < 4) return x;
    return lowpass(x, rate, cutoff, 2);
}

RowMatXd filtered_frames(const RowMatXd& f, double rate, double cutoff) {
    if (cutoff <= 0.0 || f.rows() < 4) return f;
    return reorthonormalise(lowpass(f, rate, cutoff, 2));
}

/// Horizontal (x, y) distance from p to the segment a → b.
double horizontal_segment_distance(const Vec3& p, const Vec3& a, const Vec3& b) {
    const Eigen::Vector2d ab = (b - a).head<2>(), ap = (p - a).head<2>();
    const double den = ab.squaredNorm();
    const double t = den > 0 ? std::clamp(ap.dot(ab) / den, 0.0, 1.0) : 0.0;
    return (ap - t * ab).norm();
}

double median(std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
    if (v.empty()) return kNaN;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace

BodySegmentTable dempster_table() {
    BodySegmentTable t;
    t.name = "dempster";
    t.foot = {0.0145, 0.50, 0.475, 0.475, 0.0};
    t.shank = {0.0465, 0.433, 0.302, 0.302, 0.0};
    t.thigh = {0.100, 0.433, 0.323, 0.323, 0.0};
    return t;
}

BodySegmentTable de_leva_table(const std::string& sex) {
    BodySegmentTable t;
    if (sex == "female" || sex == "f" || sex == "F") {
        t.name = "de_leva_female";
        t.thigh = {0.1478, 0.3612, 0.369, 0.364, 0.162};
        t.shank = {0.0481, 0.4416, 0.271, 0.267, 0.093};
        t.foot = {0.0129, 0.4014, 0.299, 0.279, 0.139};
    } else if (sex == "male" || sex == "m" || sex == "M") {
        t.name = "de_leva_male";
        t.thigh = {0.1416, 0.4095, 0.329, 0.329, 0.149};
        t.shank = {0.0433, 0.4459, 0.255, 0.249, 0.103};
        t.foot = {0.0137, 0.4415, 0.257, 0.245, 0.124};
    } else {
        SPORTSMED_THROW(InvalidArgument, "de_leva_table: sex '{}' is not 'female' or 'male'", sex);
    }
    return t;
}

BodySegmentTable body_segment_table(const std::string& name) {
    if (name == "dempster") return dempster_table();
    if (name == "de_leva_female") return de_leva_table("female");
    if (name == "de_leva_male") return de_leva_table("male");
    SPORTSMED_THROW(InvalidArgument,
                    "body_segment_table: unknown table '{}' (expected dempster, de_leva_female or de_leva_male)", name);
}

LegDynamics leg_inverse_dynamics(const LegSegments& leg, const FootLoad& load, const BodySegmentTable& table,
                                 double body_mass_kg, double rate_hz, const Eigen::Vector3d& gravity) {
    SPORTSMED_CHECK(body_mass_kg > 0 && std::isfinite(body_mass_kg),
                    "leg_inverse_dynamics: body mass must be positive, got {} kg", body_mass_kg);
    SPORTSMED_CHECK(rate_hz > 0, "leg_inverse_dynamics: rate must be positive, got {} Hz", rate_hz);
    const Eigen::Index n = leg.ankle.rows();
    check_rows("hip", leg.hip.rows(), n);
    check_rows("knee", leg.knee.rows(), n);
    check_rows("toe", leg.toe.rows(), n);
    check_rows("load.force", load.force.rows(), n);
    check_rows("load.moment", load.moment.rows(), n);
    for (const RowMatXd* f : {&leg.thigh, &leg.shank, &leg.foot}) {
        check_rows("a frame matrix", f->rows(), n);
        SPORTSMED_CHECK(f->cols() == 9, "leg_inverse_dynamics: frames must be N x 9, got {} columns", f->cols());
    }
    LegDynamics out;
    // The ground's wrench about the lab origin, carried to the toe (the foot's distal point):
    // moment about the toe = M_O − toe × F.
    RowMatX3d m_toe(n, 3);
    for (Eigen::Index i = 0; i < n; ++i)
        m_toe.row(i) = (row3(load.moment, i) - row3(leg.toe, i).cross(row3(load.force, i))).transpose();
    segment_step(leg.ankle, leg.toe, leg.foot, table.foot, body_mass_kg, rate_hz, gravity, load.force, m_toe,
                 out.ankle_force, out.ankle_moment, out.foot_omega);
    // The shank feels the reaction of the foot: −F, −M at the ankle.
    segment_step(leg.knee, leg.ankle, leg.shank, table.shank, body_mass_kg, rate_hz, gravity, -out.ankle_force,
                 -out.ankle_moment, out.knee_force, out.knee_moment, out.shank_omega);
    segment_step(leg.hip, leg.knee, leg.thigh, table.thigh, body_mass_kg, rate_hz, gravity, -out.knee_force,
                 -out.knee_moment, out.hip_force, out.hip_moment, out.thigh_omega);
    out.ankle_power = power(out.ankle_moment, out.foot_omega, out.shank_omega);
    out.knee_power = power(out.knee_moment, out.shank_omega, out.thigh_omega);
    if (leg.pelvis.rows() == n && leg.pelvis.cols() == 9)
        out.hip_power = power(out.hip_moment, out.thigh_omega, angular_velocity(leg.pelvis, rate_hz));
    else
        out.hip_power = VecXd::Constant(n, kNaN);
    return out;
}

std::vector<LegDynamics> leg_inverse_dynamics_batch(const std::vector<LegSegments>& legs,
                                                    const std::vector<FootLoad>& loads,
                                                    const BodySegmentTable& table,
                                                    const std::vector<double>& body_mass_kg, double rate_hz,
                                                    const Eigen::Vector3d& gravity) {
    SPORTSMED_CHECK(loads.size() == legs.size(), "leg_inverse_dynamics_batch: {} legs but {} loads", legs.size(),
                    loads.size());
    SPORTSMED_CHECK(body_mass_kg.size() == legs.size() || body_mass_kg.size() == 1,
                    "leg_inverse_dynamics_batch: {} body masses for {} legs (give one per leg, or one)",
                    body_mass_kg.size(), legs.size());
    std::vector<LegDynamics> out(legs.size());
    parallel_for(0, static_cast<std::int64_t>(legs.size()), [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const auto k = static_cast<std::size_t>(i);
            const double mass = body_mass_kg.size() == 1 ? body_mass_kg[0] : body_mass_kg[k];
            try {
                out[k] = leg_inverse_dynamics(legs[k], loads[k], table, mass, rate_hz, gravity);
            } catch (const InvalidArgument& e) {
                SPORTSMED_THROW(InvalidArgument, "leg {}: {}", k, e.what());
            }
        }
    });
    return out;
}

LegSegments leg_segments_from_trial(const Trial& trial, const std::string& side, const std::string& model,
                                    const Cgm1Parameters* cgm1_parameters, std::string* model_used) {
    SPORTSMED_CHECK(side == "L" || side == "R", "leg_segments_from_trial: side must be 'L' or 'R', got '{}'", side);
    SPORTSMED_CHECK(model == "auto" || model == "axes" || model == "cgm1",
                    "leg_segments_from_trial: model must be auto, axes or cgm1, got '{}'", model);
    const double to_m = length_unit_factor(trial.point_units, "m");
    std::vector<std::string> missing;
    for (const std::string& seg : {std::string("PEL"), side + "FE", side + "TI", side + "FO"})
        for (const char* k : {"O", "A", "L", "P"})
            if (!trial.has_marker(seg + k)) missing.push_back(seg + k);
    LegSegments leg;
    const std::string heel = side + "HEE";
    if (trial.has_marker(heel)) leg.heel = trial.marker(heel) * to_m;
    if (model == "axes" || (model == "auto" && missing.empty())) {
        SPORTSMED_CHECK(missing.empty(), "leg_segments_from_trial: the trial lacks the Plug-in Gait axes {}",
                        fmt::join(missing, ", "));
        // Plug-in Gait's stored axes: FEO is the KJC and FEP the HJC (fixed in the pelvis; the
        // femur's axes are scaled to its length), TIO the AJC, FOO the toe end of the foot.
        leg.hip = trial.marker(side + "FEP") * to_m;
        leg.knee = trial.marker(side + "FEO") * to_m;
        leg.ankle = trial.marker(side + "TIO") * to_m;
        leg.toe = trial.marker(side + "FOO") * to_m;
        leg.pelvis = segment_frames_from_trial(trial, "PEL");
        leg.thigh = segment_frames_from_trial(trial, side + "FE");
        leg.shank = segment_frames_from_trial(trial, side + "TI");
        leg.foot = segment_frames_from_trial(trial, side + "FO");
        if (model_used) *model_used = "axes";
        return leg;
    }
    SPORTSMED_CHECK(cgm1_parameters != nullptr,
                    "leg_segments_from_trial: the trial has no Plug-in Gait axes (missing {}) and no CGM1 "
                    "parameters (PROCESSING group) were given to build them from markers",
                    fmt::join(missing, ", "));
    const Cgm1Result r = cgm1(trial, *cgm1_parameters);
    const Cgm1Leg& l = side == "L" ? r.left : r.right;
    leg.hip = l.hip_joint_centre * to_m;
    leg.knee = l.knee_joint_centre * to_m;
    leg.ankle = l.ankle_joint_centre * to_m;
    leg.toe = trial.marker(side + "TOE") * to_m;
    leg.pelvis = r.pelvis;
    leg.thigh = l.femur;
    leg.shank = l.tibia_torsioned;
    leg.foot = l.foot;
    if (model_used) *model_used = "cgm1";
    return leg;
}

void foot_loads_from_plates(const Trial& trial, const LegSegments& left, const LegSegments& right,
                            const InverseDynamicsOptions& options, FootLoad& left_load, FootLoad& right_load,
                            RowMatXi64& plate_out, std::vector<std::string>& warnings) {
    const Eigen::Index n = left.ankle.rows();
    const double rate = trial.point_rate_hz;
    SPORTSMED_CHECK(!trial.force_plates.empty(), "inverse_dynamics: the trial has no force plates");
    SPORTSMED_CHECK(trial.analog_rate_hz > 0 && rate > 0, "inverse_dynamics: the trial has no analog or point rate");
    const double ratio_f = trial.analog_rate_hz / rate;
    const auto ratio = static_cast<Eigen::Index>(std::llround(ratio_f));
    SPORTSMED_CHECK(ratio >= 1 && std::abs(ratio_f - static_cast<double>(ratio)) < 1e-6,
                    "inverse_dynamics: the analog rate {} Hz is not a multiple of the point rate {} Hz",
                    trial.analog_rate_hz, rate);
    const double to_m = length_unit_factor(trial.point_units, "m");
    const LegSegments* legs[2] = {&left, &right};
    FootLoad* loads[2] = {&left_load, &right_load};
    for (FootLoad* l : loads) {
        l->force = RowMatX3d::Zero(n, 3);
        l->moment = RowMatX3d::Zero(n, 3);
    }
    plate_out = RowMatXi64::Constant(n, 2, -1);
    const char* names[2] = {"left", "right"};
    auto t_of = [&](Eigen::Index i) { return trial.frame_time_s(i); };
    for (std::size_t k = 0; k < trial.force_plates.size(); ++k) {
        const ForcePlateData& plate = trial.force_plates[k];
        if (plate.force.rows() == 0) continue;
        RowMatXd fm(plate.force.rows(), 6);
        fm << plate.force, plate.moment * 1e-3;  // N, N·m about the surface centre
        // The plate's channels give the force on the plate or on the body depending on the
        // lab; the body's is the one whose vertical part is mostly upwards.
        const double lo = fm.col(2).minCoeff(), hi = fm.col(2).maxCoeff();
        if (std::abs(lo) > std::abs(hi)) fm = -fm;
        RowMatXd raw = fm;
        if (options.cutoff_hz > 0 && fm.rows() > 12) fm = lowpass(fm, trial.analog_rate_hz, options.cutoff_hz, 2);
        const Vec3 centre = plate.corners.colwise().mean().transpose() * to_m;
        RowMatX3d f(n, 3), m(n, 3);
        std::vector<char> on(static_cast<std::size_t>(n), 0);
        for (Eigen::Index i = 0; i < n; ++i) {
            const Eigen::Index s = i * ratio;
            if (s >= fm.rows()) {
                f.row(i).setZero();
                m.row(i).setZero();
                continue;
            }
            const Vec3 fi = fm.row(s).head<3>().transpose();
            const Vec3 mi = fm.row(s).tail<3>().transpose();
            on[static_cast<std::size_t>(i)] = raw(s, 2) > options.force_threshold_n;
            f.row(i) = fi.transpose();
            m.row(i) = (mi + centre.cross(fi)).transpose();  // about the lab origin
        }
        // Contacts: runs of loaded frames.
        for (Eigen::Index a = 0; a < n;) {
            if (!on[static_cast<std::size_t>(a)]) {
                ++a;
                continue;
            }
            Eigen::Index b = a;
            while (b + 1 < n && on[static_cast<std::size_t>(b + 1)]) ++b;
            double dist[2];
            for (int sd = 0; sd < 2; ++sd) {
                const LegSegments& leg = *legs[sd];
                const bool heel = leg.heel.rows() == n;
                std::vector<double> d;
                for (Eigen::Index i = a; i <= b; ++i) {
                    const Vec3 fi = row3(f, i), mo = row3(m, i);
                    // Centre of pressure on the plate surface from the wrench about the centre.
                    const Vec3 mc = mo - centre.cross(fi);
                    const Vec3 cop = centre + Vec3(-mc.y() / fi.z(), mc.x() / fi.z(), 0.0);
                    Vec3 back = row3(leg.ankle, i);
                    if (heel && leg.heel.row(i).allFinite()) back = row3(leg.heel, i);
                    d.push_back(horizontal_segment_distance(cop, back, row3(leg.toe, i)));
                }
                dist[sd] = median(d);
            }
            const bool near[2] = {dist[0] < options.max_cop_distance_m, dist[1] < options.max_cop_distance_m};
            int owner = -1;
            if (near[0] && near[1]) {
                warnings.push_back(fmt::format(
                    "force plate {} at {:.3f}-{:.3f} s: both feet stand on it (centre of pressure {:.0f} mm from the "
                    "left foot, {:.0f} mm from the right): moments of both legs are NaN there",
                    k + 1, t_of(a), t_of(b), dist[0] * 1e3, dist[1] * 1e3));
                for (int sd = 0; sd < 2; ++sd) {
                    loads[sd]->force.middleRows(a, b - a + 1).setConstant(kNaN);
                    loads[sd]->moment.middleRows(a, b - a + 1).setConstant(kNaN);
                    plate_out.col(sd).segment(a, b - a + 1).setConstant(-2);
                }
            } else if (near[0] || near[1]) {
                owner = near[0] ? 0 : 1;
            } else {
                warnings.push_back(fmt::format(
                    "force plate {} at {:.3f}-{:.3f} s: loaded but its centre of pressure is near neither foot "
                    "({:.0f} mm from the left, {:.0f} mm from the right; limit {:.0f} mm): not used",
                    k + 1, t_of(a), t_of(b), dist[0] * 1e3, dist[1] * 1e3, options.max_cop_distance_m * 1e3));
            }
            if (owner >= 0) {
                // The whole run, widened by the filter's spread, carries the plate's load.
                const Eigen::Index a2 = std::max<Eigen::Index>(0, a - 2), b2 = std::min<Eigen::Index>(n - 1, b + 2);
                for (Eigen::Index i = a2; i <= b2; ++i) {
                    if (plate_out(i, owner) == -2) continue;
                    loads[owner]->force.row(i) += f.row(i);
                    loads[owner]->moment.row(i) += m.row(i);
                    if (i >= a && i <= b) plate_out(i, owner) = static_cast<std::int64_t>(k);
                }
            }
            a = b + 1;
        }
    }
    // Stances (from the trial's Foot Strike / Foot Off events) that touch no plate.
    bool any_event = false;
    for (int sd = 0; sd < 2; ++sd) {
        const std::string context = sd == 0 ? "Left" : "Right";
        std::vector<std::pair<double, int>> ev;  // time, +1 strike / −1 off
        for (const Event& e : trial.events) {
            if (e.context != context) continue;
            if (e.label == "Foot Strike") ev.emplace_back(e.time_s, 1);
            if (e.label == "Foot Off") ev.emplace_back(e.time_s, -1);
        }
        if (ev.empty()) continue;
        any_event = true;
        std::sort(ev.begin(), ev.end());
        auto frame_of = [&](double t) {
            return static_cast<Eigen::Index>(
                std::llround((t - trial.time_offset_s) * rate - static_cast<double>(trial.first_frame - 1)));
        };
        for (std::size_t e = 0; e < ev.size(); ++e) {
            // A stance runs from a strike to the next off (or from the start to a first off,
            // or from a last strike to the end).
            Eigen::Index a = -1, b = -1;
            if (ev[e].second == 1) {
                a = frame_of(ev[e].first);
                b = (e + 1 < ev.size() && ev[e + 1].second == -1) ? frame_of(ev[e + 1].first) : n - 1;
            } else if (e == 0) {
                a = 0;
                b = frame_of(ev[e].first);
            } else {
                continue;
            }
            a = std::clamp<Eigen::Index>(a, 0, n - 1);
            b = std::clamp<Eigen::Index>(b, 0, n - 1);
            if (b - a < 2) continue;
            Eigen::Index covered = 0;
            for (Eigen::Index i = a; i <= b; ++i) covered += plate_out(i, sd) != -1;
            if (covered > 0) continue;
            // No plate at all under this stance: the ground reaction is unknown.
            for (Eigen::Index i = a; i <= b; ++i) {
                loads[sd]->force.row(i).setConstant(kNaN);
                loads[sd]->moment.row(i).setConstant(kNaN);
                plate_out(i, sd) = -2;
            }
            warnings.push_back(fmt::format(
                "{} foot: stance {:.3f}-{:.3f} s (events) touches no force plate: its moments are NaN there",
                names[sd], t_of(a), t_of(b)));
        }
    }
    if (!any_event)
        warnings.emplace_back(
            "the trial has no Foot Strike / Foot Off events: a stance off the force plates cannot be detected, and "
            "frames without a plate are treated as swing");
}

namespace {

/// Joint-coordinate-system axes per frame (Grood & Suntay 1983; Wu et al. 2002), as N × 9
/// frames whose columns are (floating axis, proximal medio-lateral axis, distal long axis):
/// e1 = the proximal segment's y, e3 = the distal segment's z (the foot's turned to x forward,
/// z up), e2 = e1 × e3 normalised (anterior). Projecting a moment on these columns gives its
/// components about the JCS axes (Schache & Baker 2007's recommendation for gait moments).
RowMatXd jcs_frames(const RowMatXd& prox, const RowMatXd& dist, bool dist_is_foot) {
    RowMatXd out(prox.rows(), 9);
    for (Eigen::Index i = 0; i < prox.rows(); ++i) {
        const Mat3 p = frame_at(prox, i), d = frame_at(dist, i);
        const Vec3 e1 = p.col(1);
        const Vec3 e3 = dist_is_foot ? Vec3(d.col(0)) : Vec3(d.col(2));
        const Vec3 e2 = e1.cross(e3).normalized();
        Mat3 o;
        o << e2, e1, e3;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) out(i, 3 * a + b) = o(a, b);
    }
    return out;
}

SideDynamics side_results(const LegSegments& leg, const LegDynamics& d, const InverseDynamicsOptions& o,
                          const std::string& side) {
    const int sg = side_sign(side);
    const double ext = o.external ? -1.0 : 1.0;
    SideDynamics out;
    const Eigen::Index n = leg.ankle.rows();
    out.moments.resize(n, 9);
    out.forces.resize(n, 9);
    struct J {
        const RowMatX3d* m;
        const RowMatX3d* f;
        const RowMatXd* prox;
        const RowMatXd* dist;
        bool dist_is_foot;
        double x_sign;
    };
    const RowMatXd* pelvis = leg.pelvis.rows() == n ? &leg.pelvis : nullptr;
    const J joints[3] = {{&d.hip_moment, &d.hip_force, pelvis, &leg.thigh, false, 1.0},
                         {&d.knee_moment, &d.knee_force, &leg.thigh, &leg.shank, false, -1.0},
                         {&d.ankle_moment, &d.ankle_force, &leg.shank, &leg.foot, true, 1.0}};
    for (int j = 0; j < 3; ++j) {
        const J& jj = joints[j];
        const RowMatXd* frames = nullptr;
        bool foot = false;
        if (o.frame == MomentFrame::Distal) {
            frames = jj.dist;
            foot = jj.dist_is_foot;
        } else if (o.frame == MomentFrame::Proximal) {
            frames = jj.prox;
            SPORTSMED_CHECK(frames != nullptr, "inverse_dynamics: hip moments in the proximal frame need pelvis frames");
        }
        RowMatXd jcs;
        if (o.frame == MomentFrame::Jcs) {
            SPORTSMED_CHECK(jj.prox != nullptr, "inverse_dynamics: hip moments in the joint coordinate system need "
                                                "pelvis frames");
            jcs = jcs_frames(*jj.prox, *jj.dist, jj.dist_is_foot);
            frames = &jcs;
        }
        out.moments.middleCols(3 * j, 3) = ext * plugin_gait_components(*jj.m, frames, foot, jj.x_sign, sg);
        out.forces.middleCols(3 * j, 3) = local_components(*jj.f, frames, foot);
    }
    out.powers.resize(n, 3);
    out.powers.col(0) = d.hip_power;
    out.powers.col(1) = d.knee_power;
    out.powers.col(2) = d.ankle_power;
    return out;
}

LegSegments filtered_leg(const LegSegments& leg, double rate, double cutoff) {
    if (cutoff <= 0) return leg;
    LegSegments f;
    f.hip = filtered(leg.hip, rate, cutoff);
    f.knee = filtered(leg.knee, rate, cutoff);
    f.ankle = filtered(leg.ankle, rate, cutoff);
    f.toe = filtered(leg.toe, rate, cutoff);
    f.pelvis = leg.pelvis.rows() ? filtered_frames(leg.pelvis, rate, cutoff) : leg.pelvis;
    f.thigh = filtered_frames(leg.thigh, rate, cutoff);
    f.shank = filtered_frames(leg.shank, rate, cutoff);
    f.foot = filtered_frames(leg.foot, rate, cutoff);
    f.heel = leg.heel;
    return f;
}

InverseDynamicsResult run(const Trial& trial, const LegSegments& left, const LegSegments& right,
                          const FootLoad& left_load, const FootLoad& right_load, const InverseDynamicsOptions& o,
                          const Eigen::Vector3d& gravity = Eigen::Vector3d(0, 0, -9.81)) {
    const BodySegmentTable table = body_segment_table(o.table);
    InverseDynamicsResult r;
    r.body_mass_kg = o.body_mass_kg;
    r.rate_hz = trial.point_rate_hz;
    const LegDynamics dl =
        leg_inverse_dynamics(left, left_load, table, o.body_mass_kg, trial.point_rate_hz, gravity);
    const LegDynamics dr =
        leg_inverse_dynamics(right, right_load, table, o.body_mass_kg, trial.point_rate_hz, gravity);
    r.left = side_results(left, dl, o, "L");
    r.right = side_results(right, dr, o, "R");
    return r;
}

void check_mass(const InverseDynamicsOptions& o) {
    SPORTSMED_CHECK(o.body_mass_kg > 0 && std::isfinite(o.body_mass_kg),
                    "inverse_dynamics: no body mass is known (got {} kg): give it (e.g. from the C3D's "
                    "PROCESSING:Bodymass or a Vicon .mp file's $Bodymass)",
                    o.body_mass_kg);
}

// Gravity, plate contact ("horizontal" distances) and the progression frame assume z up.
// The lab's vertical axis is read from the markers (OpenSim and many labs are y-up) and a
// trial with another up is turned to z-up first (to_z_up: points and plates alike); the
// moments, in segment frames, do not depend on the turn. An uncertain axis is a warning.
std::string uncertain_axis(const VerticalAxis& up) {
    return fmt::format("the lab's vertical axis ({}, from {}) is not certain: gravity was taken along it; check the "
                       "moments' sign and size", up.name(), up.source);
}

Trial z_up_trial(const Trial& trial, const std::string& screen_y, std::string& axis,
                 std::vector<std::string>& warnings) {
    const VerticalAxis up = detect_vertical_axis(trial, screen_y);
    axis = up.name();
    if (!up.confident) warnings.push_back(uncertain_axis(up));
    return up.axis == 2 && up.sign == 1 ? trial : to_z_up(trial, up);
}

}  // namespace

InverseDynamicsResult inverse_dynamics(const Trial& trial_in, const InverseDynamicsOptions& options,
                                       const Cgm1Parameters* cgm1_parameters) {
    check_mass(options);
    std::string axis;
    std::vector<std::string> axis_warnings;
    const Trial trial = z_up_trial(trial_in, options.screen_y, axis, axis_warnings);
    std::string model;
    const LegSegments left = leg_segments_from_trial(trial, "L", options.model, cgm1_parameters, &model);
    const LegSegments right = leg_segments_from_trial(trial, "R", options.model, cgm1_parameters);
    FootLoad ll, rl;
    RowMatXi64 plate;
    std::vector<std::string> warnings;
    foot_loads_from_plates(trial, left, right, options, ll, rl, plate, warnings);
    const double rate = trial.point_rate_hz;
    InverseDynamicsResult r = run(trial, filtered_leg(left, rate, options.cutoff_hz),
                                  filtered_leg(right, rate, options.cutoff_hz), ll, rl, options);
    r.left.plate = plate.col(0);
    r.right.plate = plate.col(1);
    r.model = model;
    r.warnings = std::move(axis_warnings);
    r.warnings.insert(r.warnings.end(), warnings.begin(), warnings.end());
    r.vertical_axis = axis;
    return r;
}

InverseDynamicsResult inverse_dynamics(const Trial& trial, const FootLoad& left_load, const FootLoad& right_load,
                                       const InverseDynamicsOptions& options, const Cgm1Parameters* cgm1_parameters) {
    check_mass(options);
    // Loads come in the trial's own lab frame (an OpenSim GRF .mot is y-up like its
    // markers): gravity is taken along the lab's vertical axis read from the markers.
    const VerticalAxis up = detect_vertical_axis(trial, options.screen_y);
    Eigen::Vector3d gravity = Eigen::Vector3d::Zero();
    gravity[up.axis] = -9.81 * up.sign;
    std::string model;
    const LegSegments left = leg_segments_from_trial(trial, "L", options.model, cgm1_parameters, &model);
    const LegSegments right = leg_segments_from_trial(trial, "R", options.model, cgm1_parameters);
    const double rate = trial.point_rate_hz;
    auto prep = [&](const FootLoad& l) {
        SPORTSMED_CHECK(l.force.rows() == trial.n_frames() && l.moment.rows() == trial.n_frames(),
                        "inverse_dynamics: a foot load has {} rows, the trial {} frames", l.force.rows(),
                        trial.n_frames());
        FootLoad f;
        f.force = filtered(l.force, rate, options.cutoff_hz);
        f.moment = filtered(l.moment, rate, options.cutoff_hz);
        return f;
    };
    InverseDynamicsResult r = run(trial, filtered_leg(left, rate, options.cutoff_hz),
                                  filtered_leg(right, rate, options.cutoff_hz), prep(left_load), prep(right_load),
                                  options, gravity);
    r.vertical_axis = up.name();
    if (!up.confident) r.warnings.push_back(uncertain_axis(up));
    auto plate_of = [](const FootLoad& l) {
        VecXi64 p(l.force.rows());
        for (Eigen::Index i = 0; i < l.force.rows(); ++i)
            p(i) = !l.force.row(i).allFinite() ? -2 : (l.force.row(i).norm() > 0 ? 0 : -1);
        return p;
    };
    r.left.plate = plate_of(left_load);
    r.right.plate = plate_of(right_load);
    r.model = model;
    return r;
}

}  // namespace sportsmed::motion
