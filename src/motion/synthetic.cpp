// The synthetic athlete's drop jump, rigid segment fits, model angles and DVJ features.

#include "sportsmed/motion/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <Eigen/SVD>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/events.hpp"
#include "sportsmed/motion/filter.hpp"
#include "sportsmed/motion/frontal_plane.hpp"
#include "sportsmed/motion/joint_angles.hpp"

namespace sportsmed::motion {
namespace {

using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kG = 9.81;

// Natural cubic spline through keyframes (t_k, v_k), evaluated at t.
double keyframe_curve(const std::vector<double>& t, const std::vector<double>& v, double x) {
    RowMatXd samples(static_cast<Eigen::Index>(t.size()), 1);
    (void)samples;
    const std::size_t n = t.size();
    std::vector<double> m(n, 0.0), h(n - 1), d(n), u(n), r(n);
    for (std::size_t i = 0; i + 1 < n; ++i) h[i] = t[i + 1] - t[i];
    // Thomas algorithm on the interior second derivatives.
    for (std::size_t i = 1; i + 1 < n; ++i) {
        d[i] = 2 * (h[i - 1] + h[i]);
        u[i] = h[i];
        r[i] = 6 * ((v[i + 1] - v[i]) / h[i] - (v[i] - v[i - 1]) / h[i - 1]);
    }
    for (std::size_t i = 2; i + 1 < n; ++i) {
        const double w = h[i - 1] / d[i - 1];
        d[i] -= w * u[i - 1];
        r[i] -= w * r[i - 1];
    }
    for (std::size_t i = n - 2; i >= 1; --i) {
        m[i] = (r[i] - (i + 2 < n ? u[i] * m[i + 1] : 0.0)) / d[i];
        if (i == 1) break;
    }
    std::size_t k = 0;
    while (k + 2 < n && x > t[k + 1]) ++k;
    x = std::clamp(x, t.front(), t.back());
    const double A = (t[k + 1] - x) / h[k], B = (x - t[k]) / h[k];
    return A * v[k] + B * v[k + 1] + ((A * A * A - A) * m[k] + (B * B * B - B) * m[k + 1]) * h[k] * h[k] / 6.0;
}

struct Curves {
    std::vector<double> t;
    std::map<std::string, std::vector<double>> v;
};

Curves keyframes(double valgus) {
    Curves c;
    c.t = {0.0, 0.30, 0.55, 0.66, 0.78, 1.00, 1.22, 1.45, 1.60, 1.75, 2.0};
    c.v["knee_flex"] = {5, 8, 20, 65, 90, 25, 15, 20, 60, 30, 10};
    c.v["knee_var"] = {0, 0, -2, -0.6 * valgus, -valgus, -3, -1, -2, -0.6 * valgus, -0.3 * valgus, 0};
    c.v["knee_rot"] = {0, 0, 2, 6, 8, 3, 0, 2, 5, 3, 0};
    c.v["hip_flex"] = {5, 8, 22, 55, 70, 25, 15, 22, 50, 30, 8};
    c.v["hip_add"] = {0, 0, -2, -5, -6, -2, 0, -2, -4, -2, 0};
    c.v["hip_rot"] = {0, 0, 3, 6, 8, 3, 0, 3, 5, 3, 0};
    c.v["ankle_flex"] = {0, -5, -18, 15, 25, -15, -20, -18, 15, 10, 0};
    c.v["ankle_inv"] = {0, 0, 3, 1, 0, 2, 3, 3, 1, 0, 0};
    c.v["ankle_rot"] = {0, 0, -2, -4, -5, -2, 0, -2, -3, -2, 0};
    c.v["pelvis_tilt"] = {10, 10, 12, 20, 25, 12, 10, 12, 20, 15, 10};
    return c;
}

SegmentTemplate segment_template(const std::string& seg, std::vector<std::string> markers,
                                 std::vector<Eigen::Vector3d> local) {
    SegmentTemplate s;
    s.segment = seg;
    s.markers = std::move(markers);
    s.local_mm.resize(static_cast<Eigen::Index>(local.size()), 3);
    for (std::size_t i = 0; i < local.size(); ++i) s.local_mm.row(static_cast<Eigen::Index>(i)) = local[i].transpose();
    return s;
}

// Vertical force of one foot during a contact [on, off) (N, up).
double contact_force(double t, double on, double off, double weight_n, double impact_bw) {
    if (t < on || t >= off) return 0.0;
    const double tau = (t - on) / (off - on);
    const double ramp = std::min(1.0, tau * 10.0);
    return 0.5 * weight_n *
           (impact_bw * ramp * std::exp(-std::pow((t - on - 0.05) / 0.025, 2)) + 1.8 * std::sin(M_PI * tau));
}

}  // namespace

SyntheticDropJump synthesize_drop_jump(const DropJumpSpec& spec) {
    SPORTSMED_CHECK(spec.rate_hz >= 50 && spec.rate_hz <= 2000, "synthesize_drop_jump: rate {} Hz outside 50-2000",
                    spec.rate_hz);
    SPORTSMED_CHECK(spec.body_mass_kg > 0 && spec.noise_mm >= 0 && spec.dropouts >= 0,
                    "synthesize_drop_jump: body mass, noise and dropouts must be positive");
    const double duration = 2.0;
    const std::int64_t n = static_cast<std::int64_t>(std::round(duration * spec.rate_hz));
    const double ic1 = 0.55, to1 = 1.00, ic2 = 1.45, drop = 0.30;
    const Curves base = keyframes(spec.knee_valgus_peak_deg);
    const Curves right = keyframes(0.7 * spec.knee_valgus_peak_deg);

    SyntheticDropJump out;
    out.initial_contact_s = ic1;
    out.take_off_s = to1;
    out.second_contact_s = ic2;
    out.body_mass_kg = spec.body_mass_kg;
    const double thigh = 420.0, shank = 420.0, ankle_height = 80.0;

    // Model: marker positions in each segment frame (mm). Right side mirrors y.
    out.model.push_back(segment_template("PEL", {"LASI", "RASI", "LPSI", "RPSI"},
                                         {{0, 120, 0}, {0, -120, 0}, {-150, 45, 30}, {-150, -45, 30}}));
    for (int side = 0; side < 2; ++side) {
        const std::string s = side == 0 ? "L" : "R";
        const double m = side == 0 ? 1.0 : -1.0;
        out.model.push_back(segment_template(s + "FE", {s + "THI", s + "KNE", s + "THA"},
                                             {{15, m * 70, 210}, {0, m * 55, 0}, {60, m * 20, 270}}));
        out.model.back().proximal_joint_mm = Eigen::RowVector3d(0, 0, thigh);
        out.model.push_back(segment_template(s + "TI", {s + "TIB", s + "ANK", s + "TIA"},
                                             {{10, m * 60, 210}, {0, m * 45, 0}, {50, m * 10, 270}}));
        out.model.back().proximal_joint_mm = Eigen::RowVector3d(0, 0, shank);
        out.model.push_back(segment_template(s + "FO", {s + "HEE", s + "TOE", s + "MT5"},
                                             {{-60, 0, 50}, {-70, 0, -150}, {-70, m * 35, -110}}));
    }

    // Orientations and joint centres, top-down; pelvis height fixed afterwards.
    out.true_angles_left.resize(n, 9);
    out.true_angles_right.resize(n, 9);
    std::vector<Mat3> pel(n);
    std::vector<Mat3> seg[2][3];  // femur, tibia, foot per side
    std::vector<Eigen::Vector3d> jc[2][3];  // hjc, kjc, ajc relative to the pelvis origin
    for (int side = 0; side < 2; ++side)
        for (int k = 0; k < 3; ++k) {
            seg[side][k].resize(n);
            jc[side][k].resize(n);
        }
    const char* names[9] = {"hip_flex", "hip_add", "hip_rot", "knee_flex", "knee_var", "knee_rot",
                            "ankle_flex", "ankle_inv", "ankle_rot"};
    for (std::int64_t i = 0; i < n; ++i) {
        const double t = double(i) / spec.rate_hz;
        pel[i] = Eigen::AngleAxisd(keyframe_curve(base.t, base.v.at("pelvis_tilt"), t) * M_PI / 180.0,
                                   Eigen::Vector3d::UnitY())
                     .toRotationMatrix();
        for (int side = 0; side < 2; ++side) {
            const Curves& c = side == 0 ? base : right;
            const double scale = side == 0 ? 1.0 : 0.95;
            RowMatXd& truth = side == 0 ? out.true_angles_left : out.true_angles_right;
            for (int k = 0; k < 9; ++k) truth(i, k) = scale * keyframe_curve(c.t, c.v.at(names[k]), t);
            const Side sd = side == 0 ? Side::Left : Side::Right;
            auto rot = [&](int j, const char* joint) {
                return Mat3(Eigen::Map<const Mat3>(plugin_gait_rotations(truth.block(i, 3 * j, 1, 3), sd, joint).data()));
            };
            const double m = side == 0 ? 1.0 : -1.0;
            seg[side][0][i] = pel[i] * rot(0, "hip");
            seg[side][1][i] = seg[side][0][i] * rot(1, "knee");
            seg[side][2][i] = seg[side][1][i] * rot(2, "ankle");
            jc[side][0][i] = pel[i] * Eigen::Vector3d(-60, m * 85, -80);
            jc[side][1][i] = jc[side][0][i] + seg[side][0][i] * Eigen::Vector3d(0, 0, -thigh);
            jc[side][2][i] = jc[side][1][i] + seg[side][1][i] * Eigen::Vector3d(0, 0, -shank);
        }
    }
    // Pelvis origin: feet on the box, then on the ground, ballistic in the air (C0 joins).
    std::vector<Eigen::Vector3d> origin(n);
    auto standing_height = [&](std::int64_t i, double ground) {
        return ground + ankle_height - std::min(jc[0][2][i].z(), jc[1][2][i].z());
    };
    auto forward = [&](double t) { return t < drop ? 0.0 : t < ic1 ? 400.0 * (t - drop) / (ic1 - drop) : 400.0; };
    const std::int64_t i_drop = static_cast<std::int64_t>(std::round(drop * spec.rate_hz));
    const std::int64_t i_ic1 = static_cast<std::int64_t>(std::round(ic1 * spec.rate_hz));
    const std::int64_t i_to1 = static_cast<std::int64_t>(std::round(to1 * spec.rate_hz));
    const std::int64_t i_ic2 = static_cast<std::int64_t>(std::round(ic2 * spec.rate_hz));
    const double box = spec.box_height_m * 1000.0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double t = double(i) / spec.rate_hz;
        double z;
        auto flight = [&](std::int64_t a, double za, std::int64_t b, double zb) {
            const double T = double(b - a) / spec.rate_hz, s = t - double(a) / spec.rate_hz;
            const double g = kG * 1000.0;
            const double v0 = (zb - za + 0.5 * g * T * T) / T;
            return za + v0 * s - 0.5 * g * s * s;
        };
        if (i < i_drop) z = standing_height(i, box);
        else if (i < i_ic1) z = flight(i_drop, standing_height(i_drop, box), i_ic1, standing_height(i_ic1, 0));
        else if (i < i_to1) z = standing_height(i, 0);
        else if (i < i_ic2) z = flight(i_to1, standing_height(i_to1, 0), i_ic2, standing_height(i_ic2, 0));
        else z = standing_height(i, 0);
        origin[i] = Eigen::Vector3d(forward(t), 0.0, z);
    }

    for (int side = 0; side < 2; ++side) {
        RowMatXd& c = side == 0 ? out.true_joint_centres_left : out.true_joint_centres_right;
        c.resize(n, 9);
        for (std::int64_t i = 0; i < n; ++i)
            for (int k = 0; k < 3; ++k) c.block<1, 3>(i, 3 * k) = (origin[i] + jc[side][k][i]).transpose();
    }

    // Markers.
    Trial& tr = out.trial;
    tr.point_rate_hz = spec.rate_hz;
    tr.first_frame = 1;
    tr.point_units = "mm";
    std::mt19937_64 rng(spec.seed);
    std::normal_distribution<double> noise(0.0, spec.noise_mm);
    for (const auto& s : out.model) {
        const int side = s.segment[0] == 'R' ? 1 : 0;
        const int k = s.segment.substr(1) == "FE" ? 0 : s.segment.substr(1) == "TI" ? 1 : 2;
        for (Eigen::Index mi = 0; mi < s.local_mm.rows(); ++mi) {
            RowMatX3d xyz(n, 3);
            for (std::int64_t i = 0; i < n; ++i) {
                Eigen::Vector3d p;
                const Eigen::Vector3d local = s.local_mm.row(mi).transpose();
                if (s.segment == "PEL") p = origin[i] + pel[i] * local;
                else {
                    // Segment origins: femur at the knee, tibia at the ankle, foot at the ankle.
                    const Eigen::Vector3d o = k == 0 ? jc[side][1][i] : jc[side][2][i];
                    p = origin[i] + o + seg[side][k][i] * local;
                }
                xyz.row(i) << p.x() + noise(rng), p.y() + noise(rng), p.z() + noise(rng);
            }
            tr.set_marker(s.markers[static_cast<std::size_t>(mi)], xyz);
        }
    }
    std::uniform_int_distribution<std::int64_t> pick_marker(0, tr.n_markers() - 1);
    std::uniform_int_distribution<std::int64_t> pick_frame(10, n - 20);
    std::uniform_int_distribution<std::int64_t> pick_len(3, 8);
    for (int d = 0; d < spec.dropouts; ++d) {
        const std::int64_t m = pick_marker(rng), f = pick_frame(rng), len = pick_len(rng);
        tr.points.block(f, 3 * m, len, 3).setConstant(kNaN);
    }

    // Vertical ground reaction force of each foot, 5 × the marker rate.
    const double arate = 5.0 * spec.rate_hz;
    const std::int64_t na = 5 * n;
    tr.analog_rate_hz = arate;
    tr.analog_labels = {"Fz_L", "Fz_R"};
    tr.analog_units = {"N", "N"};
    tr.analogs.resize(na, 2);
    std::normal_distribution<double> fnoise(0.0, 2.0);
    const double weight = spec.body_mass_kg * kG;
    for (std::int64_t i = 0; i < na; ++i) {
        const double t = double(i) / arate;
        for (int side = 0; side < 2; ++side) {
            const double on = ic1 + (side ? 0.002 : 0.0);
            double f = t < drop ? 0.5 * weight : 0.0;  // standing on the box is not on the plates
            if (t < drop) f = 0.0;
            f += contact_force(t, on, to1, weight, side ? 2.6 : 3.0) + contact_force(t, ic2, duration + 1.0, weight, 2.0);
            tr.analogs(i, side) = f + fnoise(rng);
        }
    }
    tr.events = {Event{"Foot Strike", "General", ic1, "initial contact"}, Event{"Foot Off", "General", to1, "take-off"},
                 Event{"Foot Strike", "General", ic2, "landing"}};
    return out;
}

RowMatXd fit_segment(const Trial& trial, const SegmentTemplate& s) {
    std::string missing;
    for (const auto& m : s.markers)
        if (!trial.has_marker(m)) missing += (missing.empty() ? "" : ", ") + m;
    SPORTSMED_CHECK(missing.empty(), "fit_segment: segment {} needs markers missing from the trial: {}", s.segment,
                    missing);
    const Eigen::Index k = s.local_mm.rows();
    SPORTSMED_CHECK(k >= 3, "fit_segment: segment {} has {} markers, at least 3 needed", s.segment, k);
    std::vector<std::int64_t> idx;
    for (const auto& m : s.markers) idx.push_back(trial.marker_index(m));
    const std::int64_t n = trial.n_frames();
    // The template is in mm: a trial in other units is fitted in mm, its origin given back in
    // the trial's units.
    const double to_mm = length_unit_factor(trial.point_units, "mm");
    RowMatXd out(n, 12);
    for (std::int64_t i = 0; i < n; ++i) {
        Eigen::Matrix<double, Eigen::Dynamic, 3> l(k, 3), o(k, 3);
        Eigen::Index used = 0;
        for (Eigen::Index j = 0; j < k; ++j) {
            const auto p = trial.points.row(i).segment(3 * idx[j], 3);
            if (!p.allFinite()) continue;
            l.row(used) = s.local_mm.row(j);
            o.row(used) = to_mm * p;
            ++used;
        }
        if (used < 3) {
            out.row(i).setConstant(kNaN);
            continue;
        }
        const Eigen::RowVector3d lc = l.topRows(used).colwise().mean(), oc = o.topRows(used).colwise().mean();
        const Eigen::Matrix3d h = (l.topRows(used).rowwise() - lc).transpose() * (o.topRows(used).rowwise() - oc);
        Eigen::JacobiSVD<Eigen::Matrix3d> svd(h, Eigen::ComputeFullU | Eigen::ComputeFullV);
        Eigen::Matrix3d d = Eigen::Matrix3d::Identity();
        d(2, 2) = (svd.matrixV() * svd.matrixU().transpose()).determinant() < 0 ? -1.0 : 1.0;
        const Mat3 r = svd.matrixV() * d * svd.matrixU().transpose();
        const Eigen::Vector3d t = oc.transpose() - r * lc.transpose();
        Eigen::Map<Mat3>(out.row(i).data()) = r;
        out.row(i).tail<3>() = t.transpose() / to_mm;
    }
    return out;
}

namespace {

const SegmentTemplate& find_segment(const std::vector<SegmentTemplate>& model, const std::string& name,
                                    const char* who) {
    for (const auto& s : model)
        if (s.segment == name) return s;
    SPORTSMED_THROW(InvalidArgument, "{}: the model has no segment {}", who, name);
}

// The trial with its markers gap-filled and low-pass filtered, as the model functions use it.
Trial cleaned(const Trial& trial, double cutoff_hz, std::int64_t max_gap) {
    Trial clean = trial;
    clean.points = lowpass(fill_gaps_spline(trial.points, max_gap), trial.point_rate_hz, cutoff_hz, 2, true);
    return clean;
}

}  // namespace

RowMatXd model_joint_centres(const Trial& trial, const std::vector<SegmentTemplate>& model, const std::string& side,
                             double cutoff_hz, std::int64_t max_gap) {
    SPORTSMED_CHECK(side == "L" || side == "R", "model_joint_centres: side '{}' is not L or R", side);
    const SegmentTemplate& femur = find_segment(model, side + "FE", "model_joint_centres");
    const SegmentTemplate& tibia = find_segment(model, side + "TI", "model_joint_centres");
    SPORTSMED_CHECK(femur.proximal_joint_mm.allFinite(),
                    "model_joint_centres: segment {} has no proximal_joint_mm (hip centre in the femur frame)",
                    femur.segment);
    const Trial clean = cleaned(trial, cutoff_hz, max_gap);
    const RowMatXd fem = fit_segment(clean, femur);
    const RowMatXd tib = fit_segment(clean, tibia);
    RowMatXd out(trial.n_frames(), 9);
    const double from_mm = length_unit_factor("mm", trial.point_units);
    for (std::int64_t i = 0; i < trial.n_frames(); ++i) {
        const Mat3 r = Eigen::Map<const Mat3>(fem.row(i).data());
        out.block<1, 3>(i, 0) =
            fem.block<1, 3>(i, 9) + from_mm * (r * femur.proximal_joint_mm.transpose()).transpose();
        out.block<1, 3>(i, 3) = fem.block<1, 3>(i, 9);
        out.block<1, 3>(i, 6) = tib.block<1, 3>(i, 9);
    }
    return out;
}

RowMatXd model_angles(const Trial& trial, const std::vector<SegmentTemplate>& model, const std::string& side,
                      double cutoff_hz, std::int64_t max_gap) {
    SPORTSMED_CHECK(side == "L" || side == "R", "model_angles: side '{}' is not L or R", side);
    const Trial clean = cleaned(trial, cutoff_hz, max_gap);
    auto find = [&](const std::string& name) -> const SegmentTemplate& {
        return find_segment(model, name, "model_angles");
    };
    const RowMatXd pel = fit_segment(clean, find("PEL"));
    const RowMatXd fem = fit_segment(clean, find(side + "FE"));
    const RowMatXd tib = fit_segment(clean, find(side + "TI"));
    const RowMatXd foot = fit_segment(clean, find(side + "FO"));
    const Side sd = side == "L" ? Side::Left : Side::Right;
    const RowMatXd tor = torsioned_tibia_frames(tib.leftCols(9), tib.rightCols(3), clean.marker(side + "ANK"), sd);
    RowMatXd out(trial.n_frames(), 9);
    out.leftCols(3) = plugin_gait_angles(pel.leftCols(9), fem.leftCols(9), sd, "hip");
    out.middleCols(3, 3) = plugin_gait_angles(fem.leftCols(9), tib.leftCols(9), sd, "knee");
    out.rightCols(3) = plugin_gait_angles(tor, foot.leftCols(9), sd, "ankle");
    return out;
}

double unloaded_plate_offset(const VecXdCRef& f, double rate_hz, double body_weight_n) {
    const auto window = std::max<std::int64_t>(1, static_cast<std::int64_t>(0.05 * rate_hz));
    const std::int64_t n = f.size();
    if (n < window || !(body_weight_n > 0)) return 0.0;
    double low = std::numeric_limits<double>::infinity(), sum = f.head(window).sum();
    for (std::int64_t i = window;; ++i) {
        low = std::min(low, sum / double(window));
        if (i >= n) break;
        sum += f[i] - f[i - window];
    }
    return std::isfinite(low) && std::abs(low) >= 5.0 && std::abs(low) < 0.1 * body_weight_n ? low : 0.0;
}

namespace {

std::vector<Feature> drop_jump_features_impl(const RowMatXdCRef& al, const RowMatXdCRef& ar, double rate,
                                             const VecXdCRef& fl_raw, const VecXdCRef& fr_raw, double arate,
                                             double mass, const RowMatXd* cl, const RowMatXd* cr) {
    SPORTSMED_CHECK(al.cols() == 9 && ar.cols() == 9 && al.rows() == ar.rows(),
                    "drop_jump_features: angles must be frames × 9 on both sides");
    SPORTSMED_CHECK(fl_raw.size() == fr_raw.size(), "drop_jump_features: force signals differ in length");
    SPORTSMED_CHECK(rate > 0 && arate > 0 && mass > 0, "drop_jump_features: rates and body mass must be positive");
    // each foot's force less its plate's unloaded offset (unloaded_plate_offset)
    const VecXd fl = fl_raw.array() - unloaded_plate_offset(fl_raw, arate, mass * kG);
    const VecXd fr = fr_raw.array() - unloaded_plate_offset(fr_raw, arate, mass * kG);
    const VecXd total = fl + fr;
    const auto contacts = detect_contacts(total, 20.0, 10.0, static_cast<std::int64_t>(0.05 * arate));
    SPORTSMED_CHECK(!contacts.empty(), "drop_jump_features: no ground contact above 20 N");
    const auto& c1 = contacts[0];
    SPORTSMED_CHECK(c1.off < total.size(), "drop_jump_features: no take-off after the first contact");
    const double ic = double(c1.on) / arate, to = double(c1.off) / arate;
    std::vector<Feature> f;
    f.push_back({"initial_contact_s", ic, "s"});
    f.push_back({"take_off_s", to, "s"});
    f.push_back({"contact_time_s", to - ic, "s"});
    if (contacts.size() >= 2) {
        const double flight = double(contacts[1].on) / arate - to;
        const double height = kG * flight * flight / 8.0;
        f.push_back({"flight_time_s", flight, "s"});
        f.push_back({"jump_height_m", height, "m"});
        f.push_back({"reactive_strength_index", height / (to - ic), "m/s"});
    }
    const std::int64_t fic = std::min<std::int64_t>(al.rows() - 1, static_cast<std::int64_t>(std::lround(ic * rate)));
    const std::int64_t fto = std::min<std::int64_t>(al.rows(), static_cast<std::int64_t>(std::lround(to * rate)));
    const double weight = mass * kG;
    double peaks[2];
    for (int side = 0; side < 2; ++side) {
        const RowMatXdCRef& a = side == 0 ? al : ar;
        const std::string s = side == 0 ? "left_" : "right_";
        const auto flex = a.col(3).segment(fic, fto - fic);
        const auto abd = -a.col(4).segment(fic, fto - fic);  // valgus positive
        const double peak_flex = flex.maxCoeff();
        f.push_back({s + "knee_flexion_ic_deg", a(fic, 3), "deg"});
        f.push_back({s + "peak_knee_flexion_deg", peak_flex, "deg"});
        f.push_back({s + "knee_flexion_rom_deg", peak_flex - a(fic, 3), "deg"});
        f.push_back({s + "knee_abduction_ic_deg", -a(fic, 4), "deg"});
        f.push_back({s + "peak_knee_abduction_deg", abd.maxCoeff(), "deg"});
        const VecXd& fz = side == 0 ? fl : fr;
        Eigen::Index ipk;
        const double pk = fz.segment(c1.on, c1.off - c1.on).maxCoeff(&ipk);
        peaks[side] = pk;
        f.push_back({s + "peak_vgrf_bw", pk / weight, "BW"});
        f.push_back({s + "loading_rate_bw_per_s", (pk / weight) / (double(std::max<Eigen::Index>(ipk, 1)) / arate),
                     "BW/s"});
    }
    f.push_back({"landing_force_symmetry", peaks[0] / peaks[1], "L/R"});
    if (cl != nullptr) {
        SPORTSMED_CHECK(cl->rows() == al.rows() && cr->rows() == al.rows() && cl->cols() == 9 && cr->cols() == 9,
                        "drop_jump_features: joint centres must be {} frames × 9 per side, got {} × {} and {} × {}",
                        al.rows(), cl->rows(), cl->cols(), cr->rows(), cr->cols());
        SPORTSMED_CHECK(fto > fic, "drop_jump_features: the first contact spans no marker frame");
        const Eigen::Index len = fto - fic;
        const Eigen::Vector3d anterior =
            frontal_view_anterior(cl->block(fic, 0, len, 3), cr->block(fic, 0, len, 3));
        for (int side = 0; side < 2; ++side) {
            const RowMatXd& c = side == 0 ? *cl : *cr;
            const std::string s = side == 0 ? "left_" : "right_";
            const VecXd fppa = frontal_plane_projection_angle(c.middleCols(0, 3), c.middleCols(3, 3),
                                                              c.middleCols(6, 3), anterior,
                                                              side == 0 ? Side::Left : Side::Right);
            f.push_back({s + "fppa_ic_deg", fppa[fic], "deg"});
            double peak = -std::numeric_limits<double>::infinity();
            for (Eigen::Index i = fic; i < fto; ++i)
                if (std::isfinite(fppa[i])) peak = std::max(peak, fppa[i]);
            f.push_back({s + "peak_fppa_deg", std::isfinite(peak) ? peak : kNaN, "deg"});
            // Knee valgus motion (Myer 2010's clinical measure, from 2-D video): the largest
            // medial displacement of the knee centre in the camera's image, along the
            // medio-lateral axis, from initial contact over the first contact. mm → cm.
            const Eigen::Vector3d lateral = (side == 0 ? 1.0 : -1.0) * Eigen::Vector3d::UnitZ().cross(anterior);
            const auto medial_mm = [&](Eigen::Index i) { return -c.block<1, 3>(i, 3).dot(lateral.transpose()); };
            double kvm = std::isfinite(medial_mm(fic)) ? 0.0 : kNaN;
            for (Eigen::Index i = fic; i < fto && std::isfinite(kvm); ++i)
                if (std::isfinite(medial_mm(i))) kvm = std::max(kvm, medial_mm(i) - medial_mm(fic));
            f.push_back({s + "knee_valgus_motion_cm", kvm / 10.0, "cm"});
            // Tibia length: median knee-to-ankle centre distance over the trial. mm → cm.
            std::vector<double> shank;
            for (Eigen::Index i = 0; i < c.rows(); ++i) {
                const double d = (c.block<1, 3>(i, 3) - c.block<1, 3>(i, 6)).norm();
                if (std::isfinite(d)) shank.push_back(d);
            }
            double tibia = kNaN;
            if (!shank.empty()) {
                std::nth_element(shank.begin(), shank.begin() + static_cast<std::ptrdiff_t>(shank.size() / 2), shank.end());
                tibia = shank[shank.size() / 2];
            }
            f.push_back({s + "tibia_length_cm", tibia / 10.0, "cm"});
        }
        const VecXd kasr = knee_ankle_separation_ratio(cl->middleCols(3, 3), cr->middleCols(3, 3),
                                                       cl->middleCols(6, 3), cr->middleCols(6, 3), anterior);
        Eigen::Index ipf = 0;
        (al.col(3).segment(fic, len) + ar.col(3).segment(fic, len)).maxCoeff(&ipf);
        f.push_back({"knee_ankle_separation_ratio_ic", kasr[fic], "ratio"});
        f.push_back({"knee_ankle_separation_ratio_peak_flexion", kasr[fic + ipf], "ratio"});
    }
    return f;
}

}  // namespace

std::vector<Feature> drop_jump_features(const RowMatXdCRef& al, const RowMatXdCRef& ar, double rate,
                                        const VecXdCRef& fl, const VecXdCRef& fr, double arate, double mass) {
    return drop_jump_features_impl(al, ar, rate, fl, fr, arate, mass, nullptr, nullptr);
}

std::vector<Feature> drop_jump_features(const RowMatXdCRef& al, const RowMatXdCRef& ar, double rate,
                                        const VecXdCRef& fl, const VecXdCRef& fr, double arate, double mass,
                                        const RowMatXdCRef& cl, const RowMatXdCRef& cr) {
    const RowMatXd l = cl, r = cr;
    return drop_jump_features_impl(al, ar, rate, fl, fr, arate, mass, &l, &r);
}

}  // namespace sportsmed::motion
