// Frontal-plane projection angle and knee-to-ankle separation ratio from joint centres.

#include "sportsmed/motion/frontal_plane.hpp"

#include <cmath>
#include <limits>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Unit medio-lateral image axis (pointing left) of a camera looking along -anterior.
Eigen::Vector3d left_axis(const Eigen::Vector3d& anterior, const char* who) {
    const Eigen::Vector3d h(anterior.x(), anterior.y(), 0.0);
    SPORTSMED_CHECK(anterior.allFinite() && h.norm() > 1e-9 * std::max(1.0, anterior.norm()),
                    "{}: the anterior axis ({}, {}, {}) has no horizontal part", who, anterior.x(), anterior.y(),
                    anterior.z());
    // left = z × anterior (x anterior, y left, z up).
    return Eigen::Vector3d(-h.y(), h.x(), 0.0).normalized();
}

}  // namespace

Eigen::Vector3d frontal_view_anterior(const RowMatX3dCRef& lh, const RowMatX3dCRef& rh) {
    SPORTSMED_CHECK(lh.rows() == rh.rows(), "frontal_view_anterior: hips have {} and {} frames", lh.rows(), rh.rows());
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    for (Eigen::Index i = 0; i < lh.rows(); ++i) {
        const Eigen::RowVector3d d = lh.row(i) - rh.row(i);
        if (d.allFinite()) sum += Eigen::Vector3d(d.x(), d.y(), 0.0);
    }
    SPORTSMED_CHECK(sum.norm() > 0, "frontal_view_anterior: the hip joint centres never separate horizontally");
    const Eigen::Vector3d left = sum.normalized();
    return Eigen::Vector3d(left.y(), -left.x(), 0.0);  // left × z
}

VecXd frontal_plane_projection_angle(const RowMatX3dCRef& hip, const RowMatX3dCRef& knee, const RowMatX3dCRef& ankle,
                                     const Eigen::Vector3d& anterior, Side side) {
    const Eigen::Index n = hip.rows();
    SPORTSMED_CHECK(knee.rows() == n && ankle.rows() == n,
                    "frontal_plane_projection_angle: hip, knee and ankle have {}, {} and {} frames", n, knee.rows(),
                    ankle.rows());
    const Eigen::Vector3d lateral =
        (side == Side::Left ? 1.0 : -1.0) * left_axis(anterior, "frontal_plane_projection_angle");
    const Eigen::Vector3d up = Eigen::Vector3d::UnitZ();
    VecXd out(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        const Eigen::Vector3d t = (knee.row(i) - hip.row(i)).transpose();
        const Eigen::Vector3d s = (ankle.row(i) - knee.row(i)).transpose();
        if (!t.allFinite() || !s.allFinite()) {
            out[i] = kNaN;
            continue;
        }
        const double tu = t.dot(lateral), tv = t.dot(up), su = s.dot(lateral), sv = s.dot(up);
        // Signed angle from thigh to shank; with u lateral and v up, a knee medial of the
        // hip-ankle line turns the shank lateral-wards: positive.
        out[i] = std::atan2(tu * sv - tv * su, tu * su + tv * sv) * 180.0 / M_PI;
    }
    return out;
}

VecXd knee_ankle_separation_ratio(const RowMatX3dCRef& lk, const RowMatX3dCRef& rk, const RowMatX3dCRef& la,
                                  const RowMatX3dCRef& ra, const Eigen::Vector3d& anterior) {
    const Eigen::Index n = lk.rows();
    SPORTSMED_CHECK(rk.rows() == n && la.rows() == n && ra.rows() == n,
                    "knee_ankle_separation_ratio: knees and ankles differ in frame count ({}, {}, {}, {})", n,
                    rk.rows(), la.rows(), ra.rows());
    const Eigen::Vector3d left = left_axis(anterior, "knee_ankle_separation_ratio");
    VecXd out(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        const double knees = (lk.row(i) - rk.row(i)).dot(left.transpose());
        const double ankles = (la.row(i) - ra.row(i)).dot(left.transpose());
        out[i] = std::isfinite(knees) && std::isfinite(ankles) && ankles != 0.0 ? knees / ankles : kNaN;
    }
    return out;
}

}  // namespace sportsmed::motion
