// Segment frames, Grood & Suntay JCS, Plug-in Gait angle conventions.

#include "sportsmed/motion/joint_angles.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/motion/kernels/rotation.hpp"
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
        // The header-only kernel (sportsmed/motion/kernels/rotation.hpp); NaN for a
        // non-finite frame. Row-major frames, as they come: the arithmetic is then bit for
        // bit that of the formulas written out here before the kernel existed.
        const Mat3 p = frame_at(proximal, i), d = frame_at(distal, i);
        out.row(i) = kernels::grood_suntay(p, d).transpose();
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
    // Without data to tell (see resolve_ankle_sequence), "auto" is Vicon's documented YXZ.
    const std::string seq = ankle_sequence == "auto" ? "YXZ" : ankle_sequence;
    if (joint == "ankle") {
        // The foot's z axis runs along the foot (backwards) and its x axis away from the sole,
        // so the neutral foot sits 90° about y from the tibia.
        if (seq == "YZX") return {"YZX", {0, 1, 2}, {-1.0, -s, s}, {-90.0, 0, 0}};
        if (seq == "YXZ") return {"YXZ", {0, 2, 1}, {-1.0, s, s}, {-90.0, 0, 0}};
        SPORTSMED_THROW(InvalidArgument, "{}: ankle sequence '{}' is not auto, YXZ or YZX", who, ankle_sequence);
    }
    // Pelvis and foot in the progression frame (proximal = the progression frame).
    if (joint == "pelvis") return {"YXZ", {0, 1, 2}, {1.0, -s, s}, {0, 0, 0}};
    if (joint == "foot_progression") {
        if (seq == "YZX") return {"YZX", {0, 1, 2}, {1.0, s, s}, {90.0, 0, 0}};
        if (seq == "YXZ") return {"YXZ", {0, 2, 1}, {1.0, -s, s}, {0, 0, 0}};
        SPORTSMED_THROW(InvalidArgument, "{}: ankle sequence '{}' is not auto, YXZ or YZX", who, ankle_sequence);
    }
    SPORTSMED_THROW(InvalidArgument, "{}: joint '{}' is not hip, knee, ankle, pelvis or foot_progression", who, joint);
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

std::string resolve_ankle_sequence(const Trial& trial, Side side, const RowMatXdCRef& torsioned_tibia,
                                   const RowMatXdCRef& foot, const std::string& requested, std::string* note) {
    if (requested != "auto") return requested;
    const std::string stored = std::string(side == Side::Left ? "L" : "R") + "AnkleAngles";
    if (!trial.has_marker(stored)) return "YXZ";
    const RowMatX3d ref = trial.marker(stored, 0);
    double best = std::numeric_limits<double>::infinity(), other = best;
    std::string choice = "YXZ";
    for (const char* seq : {"YXZ", "YZX"}) {
        const RowMatXd a = plugin_gait_angles(torsioned_tibia, foot, side, "ankle", seq);
        double sum = 0;
        std::int64_t n = 0;
        for (Eigen::Index i = 0; i < a.rows() && i < ref.rows(); ++i) {
            if (!a.row(i).allFinite() || !ref.row(i).allFinite()) continue;
            for (int k = 0; k < 3; ++k) sum += std::pow(std::remainder(a(i, k) - ref(i, k), 360.0), 2);
            ++n;
        }
        if (n == 0) return "YXZ";
        const double rmse = std::sqrt(sum / (3.0 * double(n)));
        if (rmse < best) {
            other = best;
            best = rmse;
            choice = seq;
        } else {
            other = rmse;
        }
    }
    if (note)
        *note = fmt::format("{} ankle: sequence {} reproduces the stored {} (RMSE {:.3f} deg; the other {:.3f} deg)",
                            side == Side::Left ? "left" : "right", choice, stored, best, other);
    return choice;
}

namespace {

RowMatXd repeat_frame(const Eigen::Matrix3d& m, Eigen::Index n) {
    RowMatXd out(n, 9);
    for (Eigen::Index i = 0; i < n; ++i) store(out, i, Mat3(m));
    return out;
}

}  // namespace

Eigen::Matrix3d plugin_gait_progression_frame(const Trial& trial) {
    const double mm = length_unit_factor("mm", trial.point_units);
    Eigen::Vector3d d = Eigen::Vector3d::Zero();
    const std::string track = trial.has_marker("LASI") ? "LASI" : trial.has_marker("PELO") ? "PELO" : "";
    if (!track.empty()) {
        const RowMatX3d p = trial.marker(track, 0);
        Eigen::Index first = -1, last = -1;
        for (Eigen::Index i = 0; i < p.rows(); ++i)
            if (p.row(i).allFinite()) {
                if (first < 0) first = i;
                last = i;
            }
        if (first >= 0) d = (p.row(last) - p.row(first)).transpose();
    }
    if (d.norm() <= 800.0 * mm) {
        // Walking on the spot or a short trial: the way the pelvis faces, over the middle
        // tenth of the frames where it is known.
        RowMatX3d front, rear;
        if (trial.has_marker("LASI") && trial.has_marker("RASI") &&
            (trial.has_marker("SACR") || (trial.has_marker("LPSI") && trial.has_marker("RPSI")))) {
            front = 0.5 * (trial.marker("LASI", 0) + trial.marker("RASI", 0));
            rear = trial.has_marker("SACR") ? trial.marker("SACR", 0)
                                            : RowMatX3d(0.5 * (trial.marker("LPSI", 0) + trial.marker("RPSI", 0)));
        } else if (trial.has_marker("PELO") && trial.has_marker("PELA")) {
            front = trial.marker("PELA", 0);
            rear = trial.marker("PELO", 0);
        } else {
            SPORTSMED_THROW(InvalidArgument,
                            "plugin_gait_progression_frame: the subject travels {:.0f} mm and the trial has neither "
                            "LASI/RASI with SACR (or LPSI/RPSI) nor PELO/PELA to say which way the pelvis faces",
                            d.norm() / mm);
        }
        std::vector<Eigen::Index> known;
        for (Eigen::Index i = 0; i < front.rows(); ++i)
            if (front.row(i).allFinite() && rear.row(i).allFinite()) known.push_back(i);
        SPORTSMED_CHECK(!known.empty(), "plugin_gait_progression_frame: the pelvis markers hold no common frame");
        const auto k = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(0.1 * double(known.size()))));
        const std::size_t lo = known.size() / 2 - std::min(known.size() / 2, k / 2);
        d.setZero();
        for (std::size_t j = lo; j < lo + k && j < known.size(); ++j)
            d += (front.row(known[j]) - rear.row(known[j])).transpose();
    }
    Eigen::Vector3d x = Eigen::Vector3d::Zero();
    if (std::abs(d.x()) >= std::abs(d.y())) x.x() = d.x() >= 0 ? 1.0 : -1.0;
    else x.y() = d.y() >= 0 ? 1.0 : -1.0;
    const Eigen::Vector3d z = Eigen::Vector3d::UnitZ();
    Eigen::Matrix3d m;
    m.col(0) = x;
    m.col(1) = z.cross(x);
    m.col(2) = z;
    return m;
}

RowMatXd plugin_gait_pelvis_angles(const RowMatXdCRef& pelvis, const Eigen::Matrix3d& progression, Side side) {
    return plugin_gait_angles(repeat_frame(progression, pelvis.rows()), pelvis, side, "pelvis");
}

RowMatXd plugin_gait_foot_progression_angles(const RowMatXdCRef& foot, const Eigen::Matrix3d& progression, Side side,
                                             const std::string& ankle_sequence) {
    return plugin_gait_angles(repeat_frame(progression, foot.rows()), foot, side, "foot_progression", ankle_sequence);
}

RowMatXd plugin_gait_angles_from_axes(const Trial& trial, Side side, const std::string& ankle_sequence,
                                      bool with_pelvis_foot) {
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
    // The model's torsioned tibia is the tibia turned about its long axis by the subject's
    // tibial torsion, a constant; the ANK marker is only ~45 mm from the ankle centre, so
    // the per-frame angle carries the int16 rounding of the stored points: take its median.
    const RowMatXd tor_frames = torsioned_tibia_frames(tib, trial.marker(s + "TIO"), trial.marker(s + "ANK"), side);
    std::vector<double> torsion;
    for (Eigen::Index i = 0; i < tib.rows(); ++i) {
        const Mat3 t = frame_at(tib, i), q = frame_at(tor_frames, i);
        if (t.allFinite() && q.allFinite())
            torsion.push_back(std::atan2(-q.col(1).dot(t.col(0)), q.col(1).dot(t.col(1))));
    }
    RowMatXd tor = tor_frames;
    if (!torsion.empty()) {
        std::nth_element(torsion.begin(), torsion.begin() + static_cast<std::ptrdiff_t>(torsion.size() / 2),
                         torsion.end());
        const Mat3 rz = Eigen::AngleAxisd(torsion[torsion.size() / 2], Eigen::Vector3d::UnitZ()).toRotationMatrix();
        for (Eigen::Index i = 0; i < tib.rows(); ++i) store(tor, i, frame_at(tib, i) * rz);
    }
    RowMatXd out(trial.n_frames(), 15);
    out.leftCols(3) = plugin_gait_angles(pel, fem, side, "hip");
    out.middleCols(3, 3) = plugin_gait_angles(fem, tib, side, "knee");
    const std::string seq = resolve_ankle_sequence(trial, side, tor, foot, ankle_sequence);
    out.middleCols(6, 3) = plugin_gait_angles(tor, foot, side, "ankle", seq);
    const Eigen::Matrix3d prog = plugin_gait_progression_frame(trial);
    out.middleCols(9, 3) = plugin_gait_pelvis_angles(pel, prog, side);
    out.middleCols(12, 3) = plugin_gait_foot_progression_angles(foot, prog, side, seq);
    if (!with_pelvis_foot) return out.leftCols(9);
    return out;
}

}  // namespace sportsmed::motion
