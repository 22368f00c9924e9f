#pragma once
/// @file
/// Header-only rotation kernels, templated over the scalar type (float, double): rotation
/// matrices from the 12 Cardan/Euler sequences and back (scipy's conventions, see
/// sportsmed/motion/rotation.hpp) and the Grood & Suntay (1983) joint coordinate system
/// angles — the arithmetic behind the compiled double API of rotation.hpp and
/// joint_angles.hpp.
///
/// Needs Eigen only (see kernels/butterworth.hpp on SPORTSMED_HEADER_ONLY).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sportsmed/core/error_types.hpp"

namespace sportsmed::motion::kernels {

template <typename Scalar>
using Matrix3 = Eigen::Matrix<Scalar, 3, 3>;
template <typename Scalar>
using Vector3 = Eigen::Matrix<Scalar, 3, 1>;

/// A parsed rotation sequence: axis indices (0 = x, 1 = y, 2 = z) and whether the
/// rotations are intrinsic (upper case letters, about the moving axes) or extrinsic.
struct EulerSequence {
    int axis[3] = {0, 1, 2};
    bool intrinsic = true;
};

/// Parses "XYZ", "zxz", ... @throws InvalidArgument for an invalid sequence ("XXY", "XyZ").
inline EulerSequence parse_euler_sequence(const std::string& seq) {
    auto fail = [&](const std::string& why) { throw InvalidArgument("rotation: sequence '" + seq + "' " + why); };
    if (seq.size() != 3) fail("must have 3 letters");
    const bool upper = std::isupper(static_cast<unsigned char>(seq[0])) != 0;
    EulerSequence s;
    s.intrinsic = upper;
    for (int i = 0; i < 3; ++i) {
        const char ch = seq[i];
        if ((std::isupper(static_cast<unsigned char>(ch)) != 0) != upper)
            fail("mixes intrinsic (upper case) and extrinsic (lower case) axes");
        const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (l != 'x' && l != 'y' && l != 'z') fail("has '" + std::string(1, ch) + "', not x, y or z");
        s.axis[i] = l - 'x';
    }
    if (s.axis[0] == s.axis[1] || s.axis[1] == s.axis[2]) fail("repeats an axis in consecutive positions");
    return s;
}

/// Rotation by @p angle (radians) about coordinate axis @p axis (0, 1, 2).
template <typename Scalar>
Matrix3<Scalar> elementary_rotation(int axis, Scalar angle) {
    return Eigen::AngleAxis<Scalar>(angle, Vector3<Scalar>::Unit(axis)).toRotationMatrix();
}

/// Rotation matrix for @p angles (radians) applied in sequence @p seq.
template <typename Scalar>
Matrix3<Scalar> euler_to_matrix(const EulerSequence& seq, const Vector3<Scalar>& angles);

/// Angles (radians) of sequence @p seq that reproduce the rotation matrix @p r, with
/// scipy's ranges and gimbal-lock convention (third angle 0; see rotation.hpp).
template <typename Scalar>
Vector3<Scalar> matrix_to_euler(const EulerSequence& seq, const Matrix3<Scalar>& r);

/// Grood & Suntay (1983) joint angles of a distal segment frame in a proximal one (columns
/// are the segments' x, y, z axes in the lab): α about the proximal medio-lateral y axis e1,
/// β = −asin(e1·e3) about the floating axis e2 = e1 × e3, γ about the distal long z axis e3;
/// radians, right-hand positive (see joint_angles.hpp). NaN when either frame is not finite.
/// Any 3 × 3 expressions of the same scalar (row- or column-major, maps, blocks).
template <typename DerivedP, typename DerivedD>
Vector3<typename DerivedP::Scalar> grood_suntay(const Eigen::MatrixBase<DerivedP>& proximal,
                                                const Eigen::MatrixBase<DerivedD>& distal);

/// euler_to_matrix from a sequence string and any 3-vector expression.
template <typename Derived>
Matrix3<typename Derived::Scalar> euler_to_matrix(const std::string& seq, const Eigen::MatrixBase<Derived>& angles) {
    using Scalar = typename Derived::Scalar;
    return euler_to_matrix<Scalar>(parse_euler_sequence(seq), Vector3<Scalar>(angles));
}

/// matrix_to_euler from a sequence string and any 3 × 3 expression.
template <typename Derived>
Vector3<typename Derived::Scalar> matrix_to_euler(const std::string& seq, const Eigen::MatrixBase<Derived>& r) {
    using Scalar = typename Derived::Scalar;
    return matrix_to_euler<Scalar>(parse_euler_sequence(seq), Matrix3<Scalar>(r));
}

// ---- definitions -----------------------------------------------------------------------

namespace detail {

// Intrinsic decomposition R = R_i(a) R_j(b) R_k(c) (k may equal i).
template <typename Scalar>
Vector3<Scalar> intrinsic_angles(const int ax[3], const Matrix3<Scalar>& r) {
    const int i = ax[0], j = ax[1];
    const bool proper = ax[2] == i;
    const int k = 3 - i - j;  // the axis not among i, j
    // Parity: +1 when (i, j, k) is a cyclic permutation of (x, y, z).
    const Scalar s = ((j - i + 3) % 3 == 1) ? Scalar(1) : Scalar(-1);
    // 1e-7 in double (scipy's); a few ulps in float, where 1e-7 is below the resolution.
    const Scalar eps = std::max(static_cast<Scalar>(1e-7), Scalar(4) * std::numeric_limits<Scalar>::epsilon());
    Scalar a, b, c;
    if (!proper) {
        const Scalar sb = std::clamp(s * r(i, k), Scalar(-1), Scalar(1));
        b = std::asin(sb);
        if (std::abs(std::abs(sb) - Scalar(1)) > eps) {
            a = std::atan2(-s * r(j, k), r(k, k));
            c = std::atan2(-s * r(i, j), r(i, i));
        } else {
            // Gimbal lock: R = R_i(a) R_j(b) with c = 0; column j is R_i(a) e_j.
            c = Scalar(0);
            a = std::atan2(s * r(k, j), r(j, j));
        }
    } else {
        const Scalar cb = std::clamp(r(i, i), Scalar(-1), Scalar(1));
        b = std::acos(cb);
        if (std::abs(std::abs(cb) - Scalar(1)) > eps) {
            a = std::atan2(r(j, i), -s * r(k, i));
            c = std::atan2(r(i, j), s * r(i, k));
        } else {
            c = Scalar(0);
            a = std::atan2(s * r(k, j), r(j, j));
        }
    }
    return {a, b, c};
}

}  // namespace detail

template <typename Scalar>
Matrix3<Scalar> euler_to_matrix(const EulerSequence& s, const Vector3<Scalar>& angles) {
    const Matrix3<Scalar> r0 = elementary_rotation<Scalar>(s.axis[0], angles[0]);
    const Matrix3<Scalar> r1 = elementary_rotation<Scalar>(s.axis[1], angles[1]);
    const Matrix3<Scalar> r2 = elementary_rotation<Scalar>(s.axis[2], angles[2]);
    return s.intrinsic ? Matrix3<Scalar>(r0 * r1 * r2) : Matrix3<Scalar>(r2 * r1 * r0);
}

template <typename Scalar>
Vector3<Scalar> matrix_to_euler(const EulerSequence& s, const Matrix3<Scalar>& r) {
    if (s.intrinsic) return detail::intrinsic_angles<Scalar>(s.axis, r);
    // Extrinsic xyz with angles (a, b, c) is intrinsic ZYX with angles (c, b, a).
    const int rev[3] = {s.axis[2], s.axis[1], s.axis[0]};
    const Vector3<Scalar> v = detail::intrinsic_angles<Scalar>(rev, r);
    const Scalar eps = std::max(static_cast<Scalar>(1e-7), Scalar(4) * std::numeric_limits<Scalar>::epsilon());
    // At gimbal lock scipy zeroes the *third* angle of the requested (extrinsic) sequence.
    if (v[2] == Scalar(0) &&
        ((rev[0] == rev[2] && std::abs(std::abs(std::cos(v[1])) - Scalar(1)) <= eps) ||
         (rev[0] != rev[2] && std::abs(std::abs(std::sin(v[1])) - Scalar(1)) <= eps))) {
        // Re-express with the last extrinsic angle zero: R = R_j(b) R_i(a) (fixed axes), so
        // R_j(b)^T R = R_i(a).
        const Matrix3<Scalar> ri = elementary_rotation<Scalar>(s.axis[1], v[1]).transpose() * r;
        const int i = s.axis[0];
        const int j1 = (i + 1) % 3, j2 = (i + 2) % 3;
        const Scalar a = std::atan2(ri(j2, j1), ri(j1, j1));
        return {a, v[1], Scalar(0)};
    }
    return {v[2], v[1], v[0]};
}

template <typename DerivedP, typename DerivedD>
Vector3<typename DerivedP::Scalar> grood_suntay(const Eigen::MatrixBase<DerivedP>& p,
                                                const Eigen::MatrixBase<DerivedD>& d) {
    using Scalar = typename DerivedP::Scalar;
    static_assert(std::is_same_v<Scalar, typename DerivedD::Scalar>, "grood_suntay: frames of different scalar types");
    if (!p.allFinite() || !d.allFinite()) return Vector3<Scalar>::Constant(std::numeric_limits<Scalar>::quiet_NaN());
    const Vector3<Scalar> e1 = p.col(1), e3 = d.col(2);
    const Vector3<Scalar> e2 = e1.cross(e3).normalized();  // floating axis: x-like
    // e2 lies in the proximal x-z plane: flexion is its angle from the proximal x axis.
    const Scalar alpha = std::atan2(-e2.dot(p.col(2)), e2.dot(p.col(0)));
    const Scalar beta = -std::asin(std::clamp(e1.dot(e3), Scalar(-1), Scalar(1)));
    const Scalar gamma = std::atan2(-d.col(1).dot(e2), d.col(0).dot(e2));
    return {alpha, beta, gamma};
}

// The compiled library (libsportsmed_motion) instantiates float and double once.
#if !defined(SPORTSMED_HEADER_ONLY)
#define SPORTSMED_ROTATION_EXTERN(S)                                                            \
    extern template Matrix3<S> euler_to_matrix<S>(const EulerSequence&, const Vector3<S>&);   \
    extern template Vector3<S> matrix_to_euler<S>(const EulerSequence&, const Matrix3<S>&);   \
    extern template Vector3<S> grood_suntay<Matrix3<S>, Matrix3<S>>(const Eigen::MatrixBase<Matrix3<S>>&,  \
                                                                    const Eigen::MatrixBase<Matrix3<S>>&);
SPORTSMED_ROTATION_EXTERN(float)
SPORTSMED_ROTATION_EXTERN(double)
#undef SPORTSMED_ROTATION_EXTERN
#endif

}  // namespace sportsmed::motion::kernels
