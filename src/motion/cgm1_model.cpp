// The Conventional Gait Model (CGM1 / Plug-in Gait lower body) from markers: chord function,
// femur, tibia and foot frames, static offsets and angles.

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/cgm.hpp"
#include "sportsmed/motion/joint_angles.hpp"

namespace sportsmed::motion {
namespace {

using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
using Vec3 = Eigen::Vector3d;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Vec3 at(const RowMatX3dCRef& m, Eigen::Index i) { return m.row(i).transpose(); }

// Signed angle from a to b about the unit axis z, both projected on the plane normal to z.
double angle_about(const Vec3& z, const Vec3& a, const Vec3& b) {
    const Vec3 pa = a - a.dot(z) * z, pb = b - b.dot(z) * z;
    return std::atan2(pa.cross(pb).dot(z), pa.dot(pb));
}

// Frame with z along zv and y the part of y_ref normal to z (x = y × z); NaN if degenerate.
Mat3 frame_zy(const Vec3& zv, const Vec3& y_ref) {
    Mat3 m;
    const double zn = zv.norm();
    if (!zv.allFinite() || !y_ref.allFinite() || zn == 0) return m.setConstant(kNaN);
    const Vec3 z = zv / zn;
    const Vec3 yv = y_ref - y_ref.dot(z) * z;
    if (yv.norm() == 0) return m.setConstant(kNaN);
    const Vec3 y = yv.normalized();
    m.col(0) = y.cross(z);
    m.col(1) = y;
    m.col(2) = z;
    return m;
}

Mat3 frame_at(const RowMatXd& f, Eigen::Index i) { return Eigen::Map<const Mat3>(f.row(i).data()); }
void store(RowMatXd& f, Eigen::Index i, const Mat3& m) { Eigen::Map<Mat3>(f.row(i).data()) = m; }

// One frame of the chord function. The solutions with |C − K| = d and a right angle at C
// between I and K form a circle about the I–K line; phi turns the point round that circle,
// starting (phi = 0) in the plane of I, J, K on the side away from the wand. A secant search
// finds the phi at which the wand-to-lateral angle about C→I equals beta.
Vec3 chord_one(const Vec3& i_pt, const Vec3& j_pt, const Vec3& k_pt, double d, double beta) {
    const Vec3 nan3 = Vec3::Constant(kNaN);
    if (!i_pt.allFinite() || !j_pt.allFinite() || !k_pt.allFinite()) return nan3;
    const Vec3 ik = k_pt - i_pt;
    const double len = ik.norm();
    if (!(len > d) || d <= 0) return nan3;
    const Vec3 u = ik / len;
    Vec3 w = j_pt - i_pt;
    w -= w.dot(u) * u;
    if (w.norm() == 0) return nan3;
    w.normalize();
    const double c = d / len, s = std::sqrt(1.0 - c * c);
    auto point = [&](double phi) {
        const Vec3 wr = Eigen::AngleAxisd(phi, u) * w;
        return Vec3(k_pt - d * c * u - d * s * wr);
    };
    auto residual = [&](double phi) {
        const Vec3 p = point(phi);
        return std::remainder(angle_about((i_pt - p).normalized(), j_pt - p, k_pt - p) - beta, 2 * M_PI);
    };
    if (beta == 0.0) return point(0.0);
    double x0 = 0.0, f0 = residual(x0);
    double x1 = -beta, f1 = residual(x1);
    for (int it = 0; it < 50 && std::abs(f1) > 1e-13; ++it) {
        const double den = f1 - f0;
        if (den == 0) break;
        const double x2 = x1 - f1 * (x1 - x0) / den;
        x0 = x1;
        f0 = f1;
        x1 = x2;
        f1 = residual(x1);
    }
    return point(x1);
}

double side_sign(Side side) { return side == Side::Left ? -1.0 : 1.0; }

double mean_distance(const RowMatX3d& a, const RowMatX3d& b) {
    double sum = 0;
    int n = 0;
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
        const double d = (a.row(i) - b.row(i)).norm();
        if (std::isfinite(d)) {
            sum += d;
            ++n;
        }
    }
    return n ? sum / n : kNaN;
}

Cgm1Leg compute_leg(const Trial& t, Side side, const Cgm1Parameters& params, const RowMatXd& pelvis,
                    const RowMatX3d& pelvis_origin, const RowMatX3d& sacrum) {
    const std::string s = side == Side::Left ? "L" : "R";
    const Cgm1LegParameters& p = side == Side::Left ? params.left : params.right;
    const double ss = side_sign(side);
    const double radius = params.marker_diameter_mm / 2.0;
    const Eigen::Index n = t.n_frames();

    Vec3 hjc_local;
    if (params.hip_joint_centre == HipJointCentreMethod::Davis) {
        const double mean_leg = 0.5 * (params.left.leg_length_mm + params.right.leg_length_mm);
        hjc_local = davis_hip_joint_centre(p.leg_length_mm, params.inter_asis_mm, p.asis_trocanter_mm, radius,
                                           side == Side::Left, mean_leg);
    } else {
        hjc_local = harrington_hip_joint_centre(params.inter_asis_mm, mean_distance(pelvis_origin, sacrum),
                                                side == Side::Left);
    }

    Cgm1Leg leg;
    leg.hip_joint_centre.resize(n, 3);
    for (Eigen::Index i = 0; i < n; ++i)
        leg.hip_joint_centre.row(i) = (at(pelvis_origin, i) + frame_at(pelvis, i) * hjc_local).transpose();

    const RowMatX3d thi = t.marker(s + "THI"), kne = t.marker(s + "KNE"), tib = t.marker(s + "TIB");
    const RowMatX3d ank = t.marker(s + "ANK"), toe = t.marker(s + "TOE");
    leg.knee_joint_centre = chord_joint_centres(leg.hip_joint_centre, thi, kne,
                                                p.knee_width_mm / 2.0 + radius, ss * p.thigh_rotation_rad);
    const RowMatX3d ajc0 = chord_joint_centres(leg.knee_joint_centre, tib, ank, p.ankle_width_mm / 2.0 + radius,
                                               ss * p.shank_rotation_rad);
    leg.ankle_joint_centre.resize(n, 3);
    for (RowMatXd* f : {&leg.femur, &leg.tibia, &leg.tibia_torsioned, &leg.foot_uncorrected, &leg.foot})
        f->resize(n, 9);
    const Mat3 tt = Eigen::AngleAxisd(-ss * p.tibial_torsion_rad, Vec3::UnitZ()).toRotationMatrix();
    const Mat3 foot_offset = (Eigen::AngleAxisd(-p.static_plantar_flexion_rad, Vec3::UnitY()) *
                              Eigen::AngleAxisd(ss * p.static_rotation_offset_rad, Vec3::UnitX()))
                                 .toRotationMatrix();
    for (Eigen::Index i = 0; i < n; ++i) {
        const Vec3 h = at(leg.hip_joint_centre, i), k = at(leg.knee_joint_centre, i), a0 = at(ajc0, i);
        const Vec3 kn = at(kne, i), an = at(ank, i);
        // pyCGM2's ankle ab/adduction offset turns the AJC about the ANK marker, in the plane
        // of the KJC, the ANK marker and the chord's AJC.
        Vec3 a = a0;
        if (p.ankle_abadd_rad != 0.0 && a0.allFinite() && an.allFinite()) {
            const Vec3 axis = (k - an).cross(a0 - an).normalized();
            a = an + Eigen::AngleAxisd(ss * p.ankle_abadd_rad, axis) * (a0 - an);
        }
        leg.ankle_joint_centre.row(i) = a.transpose();
        // Lateral markers point left on the left leg and right on the right: flip them on the right.
        const Mat3 femur = frame_zy(h - k, -ss * (kn - k));
        const Mat3 tib_t = frame_zy(k - a, -ss * (an - a));
        const Mat3 tib_u = tib_t * tt;
        const Mat3 foot_u = frame_zy(a - at(toe, i), tib_u.col(1));
        store(leg.femur, i, femur);
        store(leg.tibia_torsioned, i, tib_t);
        store(leg.tibia, i, tib_u);
        store(leg.foot_uncorrected, i, foot_u);
        store(leg.foot, i, foot_u * foot_offset);
    }
    leg.hip_angles_deg = plugin_gait_angles(pelvis, leg.femur, side, "hip");
    leg.knee_angles_deg = plugin_gait_angles(leg.femur, leg.tibia, side, "knee");
    const std::string seq = resolve_ankle_sequence(t, side, leg.tibia_torsioned, leg.foot, params.ankle_sequence);
    leg.ankle_angles_deg = plugin_gait_angles(leg.tibia_torsioned, leg.foot, side, "ankle", seq);
    return leg;
}

}  // namespace

RowMatX3d chord_joint_centres(const RowMatX3dCRef& proximal, const RowMatX3dCRef& wand, const RowMatX3dCRef& lateral,
                              double offset_mm, double rotation_rad) {
    const Eigen::Index n = proximal.rows();
    SPORTSMED_CHECK(wand.rows() == n && lateral.rows() == n,
                    "chord_joint_centres: point trajectories have different lengths ({}, {}, {})", n, wand.rows(),
                    lateral.rows());
    SPORTSMED_CHECK(offset_mm > 0 && std::isfinite(rotation_rad),
                    "chord_joint_centres: offset {} mm must be positive and rotation {} rad finite", offset_mm,
                    rotation_rad);
    RowMatX3d out(n, 3);
    for (Eigen::Index i = 0; i < n; ++i)
        out.row(i) = chord_one(at(proximal, i), at(wand, i), at(lateral, i), offset_mm, rotation_rad).transpose();
    return out;
}

Cgm1Parameters cgm1_parameters_from_c3d(const C3d& c3d) {
    Cgm1Parameters p;
    std::string missing;
    auto get = [&](const std::string& name, bool required, double fallback) {
        const C3dParameter* par = c3d.find("PROCESSING", name);
        if (par && par->type != C3dType::Char && !par->numbers.empty()) return par->as_double();
        if (required) missing += (missing.empty() ? "" : ", ") + name;
        return fallback;
    };
    for (const char* s : {"L", "R"}) {
        Cgm1LegParameters& leg = std::string(s) == "L" ? p.left : p.right;
        const std::string side(s);
        leg.leg_length_mm = get(side + "LegLength", true, 0.0);
        leg.knee_width_mm = get(side + "KneeWidth", true, 0.0);
        leg.ankle_width_mm = get(side + "AnkleWidth", true, 0.0);
        leg.asis_trocanter_mm = get(side + "AsisTrocanterDistance", false, 0.0);
        leg.thigh_rotation_rad = get(side + "ThighRotation", false, 0.0);
        leg.shank_rotation_rad = get(side + "ShankRotation", false, 0.0);
        leg.tibial_torsion_rad = get(side + "TibialTorsion", false, 0.0);
        leg.static_plantar_flexion_rad = get(side + "StaticPlantFlex", false, 0.0);
        leg.static_rotation_offset_rad = get(side + "StaticRotOff", false, 0.0);
        leg.ankle_abadd_rad = get(side + "AnkleAbAdd", false, 0.0);
    }
    p.inter_asis_mm = get("InterAsisDistance", false, 0.0);
    p.marker_diameter_mm = get("MarkerDiameter", false, 14.0);
    SPORTSMED_CHECK(missing.empty(), "cgm1_parameters_from_c3d: the PROCESSING group lacks {}", missing);
    return p;
}

Cgm1Result cgm1(const Trial& t, const Cgm1Parameters& params) {
    // The parameters are in mm: a trial in other length units is modelled in mm and its
    // joint centres given back in the trial's units (a TRC in metres read as mm put the
    // leg length and marker widths 1000x out of scale: hip flexion of ±180°).
    const double to_mm = length_unit_factor(t.point_units, "mm");
    if (to_mm != 1.0) {
        Cgm1Result r = cgm1(convert_units(t, "mm"), params);
        for (RowMatX3d* m : {&r.pelvis_origin, &r.left.hip_joint_centre, &r.left.knee_joint_centre,
                             &r.left.ankle_joint_centre, &r.right.hip_joint_centre, &r.right.knee_joint_centre,
                             &r.right.ankle_joint_centre})
            *m /= to_mm;
        return r;
    }
    std::string missing;
    auto need = [&](const std::string& label) {
        if (!t.has_marker(label)) missing += (missing.empty() ? "" : ", ") + label;
    };
    need("LASI");
    need("RASI");
    const bool sacr = t.has_marker("SACR");
    if (!sacr && !(t.has_marker("LPSI") && t.has_marker("RPSI")))
        missing += (missing.empty() ? "" : ", ") + std::string("SACR (or LPSI and RPSI)");
    for (const char* s : {"L", "R"})
        for (const char* m : {"THI", "KNE", "TIB", "ANK", "TOE"}) need(std::string(s) + m);
    SPORTSMED_CHECK(missing.empty(), "cgm1: the trial lacks the markers {}", missing);
    for (const Cgm1LegParameters* leg : {&params.left, &params.right})
        SPORTSMED_CHECK(leg->leg_length_mm > 0 && leg->knee_width_mm > 0 && leg->ankle_width_mm > 0,
                        "cgm1: leg length {} mm, knee width {} mm and ankle width {} mm must be positive",
                        leg->leg_length_mm, leg->knee_width_mm, leg->ankle_width_mm);
    SPORTSMED_CHECK(params.marker_diameter_mm >= 0, "cgm1: marker diameter {} mm is negative",
                    params.marker_diameter_mm);
    // The static offsets are a few degrees to a few tens of degrees: beyond ±90° the value was
    // given in degrees where radians are meant (a C3D's PROCESSING group holds radians, a
    // Vicon .mp file degrees).
    for (const auto& [name, leg] : {std::pair<const char*, const Cgm1LegParameters*>{"left", &params.left},
                                    std::pair<const char*, const Cgm1LegParameters*>{"right", &params.right}}) {
        const std::pair<const char*, double> offsets[] = {
            {"ThighRotation", leg->thigh_rotation_rad},           {"ShankRotation", leg->shank_rotation_rad},
            {"TibialTorsion", leg->tibial_torsion_rad},           {"StaticPlantFlex", leg->static_plantar_flexion_rad},
            {"StaticRotOff", leg->static_rotation_offset_rad},    {"AnkleAbAdd", leg->ankle_abadd_rad}};
        for (const auto& [what, v] : offsets)
            SPORTSMED_CHECK(std::isfinite(v) && std::abs(v) <= 0.5 * M_PI,
                            "cgm1: the {} {} is {} rad ({:.0f} deg), outside +-90 deg: a value in degrees given as "
                            "radians? (a C3D's PROCESSING group holds radians, a Vicon .mp file degrees)",
                            name, what, v, v * 180.0 / M_PI);
    }

    Cgm1Result r;
    r.pelvis = cgm1_pelvis_frames(t, &r.pelvis_origin);
    const RowMatX3d sacrum = sacr ? t.marker("SACR") : RowMatX3d(0.5 * (t.marker("LPSI") + t.marker("RPSI")));
    Cgm1Parameters p = params;
    if (!(p.inter_asis_mm > 0)) p.inter_asis_mm = mean_distance(t.marker("LASI"), t.marker("RASI"));
    SPORTSMED_CHECK(std::isfinite(p.inter_asis_mm), "cgm1: no frame has both LASI and RASI");
    r.left = compute_leg(t, Side::Left, p, r.pelvis, r.pelvis_origin, sacrum);
    r.right = compute_leg(t, Side::Right, p, r.pelvis, r.pelvis_origin, sacrum);
    return r;
}

}  // namespace sportsmed::motion
