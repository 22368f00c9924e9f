#include "sportsmed/motion/cgm.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {

RowMatXd cgm1_pelvis_frames(const Trial& t, RowMatX3d* origin_out) {
    std::string missing;
    for (const char* m : {"LASI", "RASI"})
        if (!t.has_marker(m)) missing += (missing.empty() ? "" : ", ") + std::string(m);
    const bool sacr = t.has_marker("SACR");
    if (!sacr && !(t.has_marker("LPSI") && t.has_marker("RPSI")))
        missing += (missing.empty() ? "" : ", ") + std::string("SACR (or LPSI and RPSI)");
    SPORTSMED_CHECK(missing.empty(), "cgm1_pelvis_frames: missing markers {}", missing);
    const RowMatX3d l = t.marker("LASI"), r = t.marker("RASI");
    const RowMatX3d back = sacr ? t.marker("SACR") : RowMatX3d(0.5 * (t.marker("LPSI") + t.marker("RPSI")));
    const Eigen::Index n = l.rows();
    RowMatXd out(n, 9);
    RowMatX3d origin(n, 3);
    using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
    for (Eigen::Index i = 0; i < n; ++i) {
        const Eigen::Vector3d o = 0.5 * (l.row(i) + r.row(i)).transpose();
        const Eigen::Vector3d y = (l.row(i) - r.row(i)).transpose().normalized();
        const Eigen::Vector3d xa = o - back.row(i).transpose();
        origin.row(i) = o.transpose();
        if (!y.allFinite() || !xa.allFinite()) {
            out.row(i).setConstant(std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        const Eigen::Vector3d z = xa.cross(y).normalized();
        Mat3 m;
        m.col(0) = y.cross(z);
        m.col(1) = y;
        m.col(2) = z;
        Eigen::Map<Mat3>(out.row(i).data()) = m;
    }
    if (origin_out) *origin_out = origin;
    return out;
}

Eigen::Vector3d davis_hip_joint_centre(double leg, double inter_asis, double asis_trocanter, double radius, bool left,
                                       double mean_leg) {
    SPORTSMED_CHECK(leg > 0 && inter_asis > 0 && radius >= 0,
                    "davis_hip_joint_centre: leg length {} mm and inter-ASIS distance {} mm must be positive", leg,
                    inter_asis);
    const double d = asis_trocanter > 0 ? asis_trocanter : 0.1288 * leg - 48.56;
    const double c = 0.115 * (mean_leg > 0 ? mean_leg : leg) - 15.3, theta = 0.5, beta = 0.314;
    const double x = c * std::cos(theta) * std::sin(beta) - (d + radius) * std::cos(beta);
    const double y = (left ? 1.0 : -1.0) * (inter_asis / 2.0 - c * std::sin(theta));
    const double z = -c * std::cos(theta) * std::cos(beta) - (d + radius) * std::sin(beta);
    return {x, y, z};
}

Eigen::Vector3d harrington_hip_joint_centre(double pelvis_width, double pelvis_depth, bool left) {
    SPORTSMED_CHECK(pelvis_width > 0 && pelvis_depth > 0,
                    "harrington_hip_joint_centre: pelvis width {} mm and depth {} mm must be positive", pelvis_width,
                    pelvis_depth);
    // Harrington's frame is ISB's (x anterior, y superior, z right); ours is y left, z up.
    return {-0.24 * pelvis_depth - 9.9, (left ? 1.0 : -1.0) * (0.33 * pelvis_width + 7.3), -0.30 * pelvis_width - 10.9};
}

RowMatX3d cgm1_hip_joint_centres(const Trial& t, const std::string& side, double leg, double inter_asis,
                                 double asis_trocanter, double radius, double mean_leg) {
    SPORTSMED_CHECK(side == "L" || side == "R", "cgm1_hip_joint_centres: side '{}' is not L or R", side);
    RowMatX3d origin;
    const RowMatXd pelvis = cgm1_pelvis_frames(t, &origin);
    const Eigen::Vector3d local = davis_hip_joint_centre(leg, inter_asis, asis_trocanter, radius, side == "L", mean_leg);
    RowMatX3d out(pelvis.rows(), 3);
    using Mat3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
    for (Eigen::Index i = 0; i < pelvis.rows(); ++i)
        out.row(i) = (origin.row(i).transpose() + Eigen::Map<const Mat3>(pelvis.row(i).data()) * local).transpose();
    return out;
}

}  // namespace sportsmed::motion
