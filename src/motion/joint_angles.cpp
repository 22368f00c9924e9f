// Segment frames, Grood & Suntay JCS, Plug-in Gait angle conventions.

#include "sportsmed/motion/joint_angles.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/motion/rotation.hpp"

namespace sportsmed::motion {
namespace {

using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
constexpr double kDeg = 180.0 / 3.14159265358979323846;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Mat3 frame_at(const RowMatXdCRef& f, Eigen::Index i) { return Eigen::Map<const Mat3>(f.row(i).data()); }

void store(RowMatXd& out, Eigen::Index i, const Mat3& m) {
    Eigen::Map<Mat3>(out.row(i).data()) = m;
}

void check_frames(const RowMatXdCRef& a, const RowMatXdCRef& b, const char* who) {
    SPORTSMED_CHECK(a.cols() == 9 && b.cols() == 9, "{}: frames must be N × 9, got {} and {} columns", who, a.cols(),
                    b.cols());
    SPORTSMED_CHECK(a.rows() == b.rows(), "{}: {} proximal frames but {} distal frames", who, a.rows(), b.rows());
}

}  // namespace

RowMatXd segment_frames(const RowMatX3dCRef& o, const RowMatX3dCRef& a, const RowMatX3dCRef& l,
                        const RowMatX3dCRef& p) {
    const Eigen::Index n = o.rows();
    SPORTSMED_CHECK(a.rows() == n && l.rows() == n && p.rows() == n,
                    "segment_frames: point trajectories have different lengths ({}, {}, {}, {})", n, a.rows(),
                    l.rows(), p.rows());
    RowMatXd out(n, 9);
    for (Eigen::Index i = 0; i < n; ++i) {
        const Eigen::Vector3d z = (p.row(i) - o.row(i)).transpose();
        const Eigen::Vector3d y0 = (l.row(i) - o.row(i)).transpose();
        const Eigen::Vector3d x0 = (a.row(i) - o.row(i)).transpose();
        if (!z.allFinite() || !y0.allFinite() || !x0.allFinite() || z.norm() == 0 || y0.norm() == 0) {
            out.row(i).setConstant(kNaN);
            continue;
        }
        const Eigen::Vector3d zu = z.normalized();
        const Eigen::Vector3d yu = (y0 - y0.dot(zu) * zu).normalized();
        Mat3 m;
        m.col(0) = yu.cross(zu);
        m.col(1) = yu;
        m.col(2) = zu;
        store(out, i, m);
    }
    return out;
}

RowMatXd segment_frames_from_trial(const Trial& trial, const std::string& prefix) {
    std::string missing;
    for (const char* s : {"O", "A", "L", "P"})
        if (!trial.has_marker(prefix + s)) missing += (missing.empty() ? "" : ", ") + prefix + s;
    SPORTSMED_CHECK(missing.empty(), "segment_frames_from_trial: the trial lacks the segment-axis points {}", missing);
    return segment_frames(trial.marker(prefix + "O"), trial.marker(prefix + "A"), trial.marker(prefix + "L"),
                          trial.marker(prefix + "P"));
}

RowMatXd grood_suntay_angles(const RowMatXdCRef& proximal, const RowMatXdCRef& distal) {
    check_frames(proximal, distal, "grood_suntay_angles");
    const Eigen::Index n = proximal.rows();
    RowMatXd out(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) {
        const Mat3 p = frame_at(proximal, i), d = frame_at(distal, i);
        if (!p.allFinite() || !d.allFinite()) {
            out.row(i).setConstant(kNaN);
            continue;
        }
        const Eigen::Vector3d e1 = p.col(1), e3 = d.col(2);
        const Eigen::Vector3d e2 = e1.cross(e3).normalized();  // floating axis: x-like
        // e2 lies in the proximal x-z plane: flexion is its angle from the proximal x axis.
        const double alpha = std::atan2(-e2.dot(p.col(2)), e2.dot(p.col(0)));
        const double beta = -std::asin(std::clamp(e1.dot(e3), -1.0, 1.0));
        const double gamma = std::atan2(-d.col(1).dot(e2), d.col(0).dot(e2));
        out.row(i) << alpha, beta, gamma;
    }
    return out;
}

namespace {

// Euler angles (degrees) of sequence @p seq from the Plug-in Gait angles of @p joint, and
// back: the two directions share this one table of which Euler angle is which clinical
// angle and with which sign. s mirrors the frontal and transverse components on the
// right so that adduction, varus, inversion and internal rotation are positive on both sides.
struct PigMapping {
    std::string seq;
    int euler_of[3];      // clinical component k is Euler angle euler_of[k] ...
    double sign[3];       // ... times sign[k] ...
    double offset[3];     // ... plus offset[k] (degrees)
};

PigMapping pig_mapping(Side side, const std::string& joint, const std::string& ankle_sequence, const char* who) {
    const double s = side == Side::Left ? -1.0 : 1.0;
    if (joint == "hip") return {"YXZ", {0, 1, 2}, {-1.0, s, s}, {0, 0, 0}};
    if (joint == "knee") return {"YXZ", {0, 1, 2}, {1.0, s, s}, {0, 0, 0}};
    if (joint == "ankle") {
        // The foot's z axis runs along the foot (backwards) and its x axis away from the sole,
        // so the neutral foot sits 90° about y from the tibia.
        if (ankle_sequence == "YZX") return {"YZX", {0, 1, 2}, {-1.0, -s, s}, {-90.0, 0, 0}};
        if (ankle_sequence == "YXZ") return {"YXZ", {0, 2, 1}, {-1.0, s, s}, {-90.0, 0, 0}};
        SPORTSMED_THROW(InvalidArgument, "{}: ankle sequence '{}' is not YZX (Vicon) or YXZ (pyCGM2)", who,
                        ankle_sequence);
    }
    SPORTSMED_THROW(InvalidArgument, "{}: joint '{}' is not hip, knee or ankle", who, joint);
}

}  // namespace

RowMatXd plugin_gait_angles(const RowMatXdCRef& proximal, const RowMatXdCRef& distal, Side side,
                            const std::string& joint, const std::string& ankle_sequence) {
    check_frames(proximal, distal, "plugin_gait_angles");
    const PigMapping map = pig_mapping(side, joint, ankle_sequence, "plugin_gait_angles");
    const Eigen::Index n = proximal.rows();
    RowMatXd rel(n, 9);
    for (Eigen::Index i = 0; i < n; ++i) store(rel, i, frame_at(proximal, i).transpose() * frame_at(distal, i));
    const RowMatXd a = matrices_to_euler(map.seq, rel) * kDeg;
    RowMatXd out(n, 3);
    for (int k = 0; k < 3; ++k) out.col(k) = (map.sign[k] * a.col(map.euler_of[k])).array() + map.offset[k];
    // Angles that wrapped past ±180° come back to the clinical range.
    for (Eigen::Index i = 0; i < out.size(); ++i) {
        double& v = out.data()[i];
        if (std::isfinite(v)) v = std::remainder(v, 360.0);
    }
    return out;
}

RowMatXd plugin_gait_rotations(const RowMatXdCRef& angles, Side side, const std::string& joint,
                               const std::string& ankle_sequence) {
    SPORTSMED_CHECK(angles.cols() == 3, "plugin_gait_rotations: expected N × 3 angles, got {} columns", angles.cols());
    const PigMapping map = pig_mapping(side, joint, ankle_sequence, "plugin_gait_rotations");
    RowMatXd a(angles.rows(), 3);
    for (int k = 0; k < 3; ++k) a.col(map.euler_of[k]) = (angles.col(k).array() - map.offset[k]) / map.sign[k];
    return euler_to_matrices(map.seq, a / kDeg);
}

RowMatXd torsioned_tibia_frames(const RowMatXdCRef& tibia, const RowMatX3dCRef& ajc, const RowMatX3dCRef& ankle_marker,
                                Side side) {
    SPORTSMED_CHECK(tibia.cols() == 9 && ajc.rows() == tibia.rows() && ankle_marker.rows() == tibia.rows(),
                    "torsioned_tibia_frames: expected N × 9 frames and N × 3 points, got {} × {}, {} and {} rows",
                    tibia.rows(), tibia.cols(), ajc.rows(), ankle_marker.rows());
    RowMatXd out(tibia.rows(), 9);
    for (Eigen::Index i = 0; i < tibia.rows(); ++i) {
        const Mat3 t = frame_at(tibia, i);
        Eigen::Vector3d lat = (ankle_marker.row(i) - ajc.row(i)).transpose();
        if (side == Side::Right) lat = -lat;
        if (!t.allFinite() || !lat.allFinite()) {
            out.row(i).setConstant(kNaN);
            continue;
        }
        const Eigen::Vector3d z = t.col(2);
        const Eigen::Vector3d y = (lat - lat.dot(z) * z).normalized();
        Mat3 m;
        m.col(0) = y.cross(z);
        m.col(1) = y;
        m.col(2) = z;
        store(out, i, m);
    }
    return out;
}

RowMatXd plugin_gait_angles_from_axes(const Trial& trial, Side side, const std::string& ankle_sequence) {
    const std::string s = side == Side::Left ? "L" : "R";
    // Vicon stores its corrected foot (the one the ankle angles use) as the "TO" axes;
    // pyCGM2 stores the same orientation under both names.
    bool has_toe_axes = true;
    for (const char* k : {"O", "A", "L", "P"}) has_toe_axes = has_toe_axes && trial.has_marker(s + "TO" + k);
    const std::string foot_axes = has_toe_axes ? s + "TO" : s + "FO";
    std::string missing;
    for (const std::string& seg : {std::string("PEL"), s + "FE", s + "TI", foot_axes})
        for (const char* k : {"O", "A", "L", "P"})
            if (!trial.has_marker(seg + k)) missing += (missing.empty() ? "" : ", ") + seg + k;
    if (!trial.has_marker(s + "ANK")) missing += (missing.empty() ? "" : ", ") + s + "ANK";
    SPORTSMED_CHECK(missing.empty(), "plugin_gait_angles_from_axes: the trial lacks {}", missing);
    const RowMatXd pel = segment_frames_from_trial(trial, "PEL");
    const RowMatXd fem = segment_frames_from_trial(trial, s + "FE");
    const RowMatXd tib = segment_frames_from_trial(trial, s + "TI");
    const RowMatXd foot = segment_frames_from_trial(trial, foot_axes);
    const RowMatXd tor = torsioned_tibia_frames(tib, trial.marker(s + "TIO"), trial.marker(s + "ANK"), side);
    RowMatXd out(trial.n_frames(), 9);
    out.leftCols(3) = plugin_gait_angles(pel, fem, side, "hip");
    out.middleCols(3, 3) = plugin_gait_angles(fem, tib, side, "knee");
    out.rightCols(3) = plugin_gait_angles(tor, foot, side, "ankle", ankle_sequence);
    return out;
}

}  // namespace sportsmed::motion
