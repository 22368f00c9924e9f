// Cardan/Euler sequences.

#include "sportsmed/motion/rotation.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::motion {
namespace {

struct Sequence {
    int axis[3];
    bool intrinsic;
};

Sequence parse(const std::string& seq) {
    SPORTSMED_CHECK(seq.size() == 3, "rotation: sequence '{}' must have 3 letters", seq);
    const bool upper = std::isupper(static_cast<unsigned char>(seq[0]));
    Sequence s{{0, 0, 0}, upper};
    for (int i = 0; i < 3; ++i) {
        const char ch = seq[i];
        SPORTSMED_CHECK(static_cast<bool>(std::isupper(static_cast<unsigned char>(ch))) == upper,
                        "rotation: sequence '{}' mixes intrinsic (upper case) and extrinsic (lower case) axes", seq);
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        SPORTSMED_CHECK(l == 'x' || l == 'y' || l == 'z', "rotation: '{}' in sequence '{}' is not x, y or z", ch, seq);
        s.axis[i] = l - 'x';
    }
    SPORTSMED_CHECK(s.axis[0] != s.axis[1] && s.axis[1] != s.axis[2],
                    "rotation: sequence '{}' repeats an axis in consecutive positions", seq);
    return s;
}

Eigen::Matrix3d elementary(int axis, double angle) {
    return Eigen::AngleAxisd(angle, Eigen::Vector3d::Unit(axis)).toRotationMatrix();
}

// Intrinsic decomposition R = R_i(a) R_j(b) R_k(c) (k may equal i).
Eigen::Vector3d intrinsic_angles(const int ax[3], const Eigen::Matrix3d& r) {
    const int i = ax[0], j = ax[1];
    const bool proper = ax[2] == i;
    const int k = 3 - i - j;  // the axis not among i, j
    // Parity: +1 when (i, j, k) is a cyclic permutation of (x, y, z).
    const double s = ((j - i + 3) % 3 == 1) ? 1.0 : -1.0;
    constexpr double eps = 1e-7;
    double a, b, c;
    if (!proper) {
        const double sb = std::clamp(s * r(i, k), -1.0, 1.0);
        b = std::asin(sb);
        if (std::abs(std::abs(sb) - 1.0) > eps) {
            a = std::atan2(-s * r(j, k), r(k, k));
            c = std::atan2(-s * r(i, j), r(i, i));
        } else {
            // Gimbal lock: R = R_i(a) R_j(b) with c = 0; column j is R_i(a) e_j.
            c = 0.0;
            a = std::atan2(s * r(k, j), r(j, j));
        }
    } else {
        const double cb = std::clamp(r(i, i), -1.0, 1.0);
        b = std::acos(cb);
        if (std::abs(std::abs(cb) - 1.0) > eps) {
            a = std::atan2(r(j, i), -s * r(k, i));
            c = std::atan2(r(i, j), s * r(i, k));
        } else {
            c = 0.0;
            a = std::atan2(s * r(k, j), r(j, j));
        }
    }
    return {a, b, c};
}

}  // namespace

Eigen::Matrix3d euler_to_matrix(const std::string& seq, const Eigen::Vector3d& angles) {
    const Sequence s = parse(seq);
    const Eigen::Matrix3d r0 = elementary(s.axis[0], angles[0]);
    const Eigen::Matrix3d r1 = elementary(s.axis[1], angles[1]);
    const Eigen::Matrix3d r2 = elementary(s.axis[2], angles[2]);
    return s.intrinsic ? Eigen::Matrix3d(r0 * r1 * r2) : Eigen::Matrix3d(r2 * r1 * r0);
}

Eigen::Vector3d matrix_to_euler(const std::string& seq, const Eigen::Matrix3d& r) {
    const Sequence s = parse(seq);
    if (s.intrinsic) return intrinsic_angles(s.axis, r);
    // Extrinsic xyz with angles (a, b, c) is intrinsic ZYX with angles (c, b, a).
    const int rev[3] = {s.axis[2], s.axis[1], s.axis[0]};
    const Eigen::Vector3d v = intrinsic_angles(rev, r);
    // At gimbal lock scipy zeroes the *third* angle of the requested (extrinsic) sequence.
    if (v[2] == 0.0 && ((rev[0] == rev[2] && std::abs(std::abs(std::cos(v[1])) - 1.0) <= 1e-7) ||
                        (rev[0] != rev[2] && std::abs(std::abs(std::sin(v[1])) - 1.0) <= 1e-7))) {
        // Re-express with the last extrinsic angle zero: R = R_j(b) R_i(a) (fixed axes).
        const Eigen::Matrix3d rest = r;  // R = R_k(c) R_j(b) R_i(a) with c = 0
        const int ax[3] = {s.axis[1], s.axis[0], s.axis[0]};
        (void)ax;
        // Solve a from R e_j-free column: R_j(b)^T R = R_i(a).
        const Eigen::Matrix3d ri = elementary(s.axis[1], v[1]).transpose() * rest;
        const int i = s.axis[0];
        const int j1 = (i + 1) % 3, j2 = (i + 2) % 3;
        const double a = std::atan2(ri(j2, j1), ri(j1, j1));
        return {a, v[1], 0.0};
    }
    return {v[2], v[1], v[0]};
}

RowMatXd matrices_to_euler(const std::string& seq, const RowMatXdCRef& m) {
    SPORTSMED_CHECK(m.cols() == 9, "matrices_to_euler: expected N × 9 matrices, got {} columns", m.cols());
    parse(seq);
    const std::int64_t n = m.rows();
    RowMatXd out(n, 3);
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            const Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>> rm(m.row(r).data());
            if (!rm.allFinite()) {
                out.row(r).setConstant(std::numeric_limits<double>::quiet_NaN());
                continue;
            }
            out.row(r) = matrix_to_euler(seq, rm).transpose();
        }
    }, 4096);
    return out;
}

RowMatXd euler_to_matrices(const std::string& seq, const RowMatXdCRef& angles) {
    SPORTSMED_CHECK(angles.cols() == 3, "euler_to_matrices: expected N × 3 angles, got {} columns", angles.cols());
    parse(seq);
    const std::int64_t n = angles.rows();
    RowMatXd out(n, 9);
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            const Eigen::Matrix<double, 3, 3, Eigen::RowMajor> rm = euler_to_matrix(seq, angles.row(r).transpose());
            Eigen::Map<Eigen::Matrix<double, 1, 9>>(out.row(r).data()) = Eigen::Map<const Eigen::Matrix<double, 1, 9>>(rm.data());
        }
    }, 4096);
    return out;
}

}  // namespace sportsmed::motion
