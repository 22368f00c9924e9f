// Cardan/Euler sequences.

#include "sportsmed/motion/rotation.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/motion/kernels/rotation.hpp"

namespace sportsmed::motion {
namespace {

// The arithmetic is the header-only kernels' (sportsmed/motion/kernels/rotation.hpp,
// instantiated for double in kernels.cpp); the checks here keep the fmt-formatted messages.
using Sequence = kernels::EulerSequence;

Sequence parse(const std::string& seq) {
    SPORTSMED_CHECK(seq.size() == 3, "rotation: sequence '{}' must have 3 letters", seq);
    const bool upper = std::isupper(static_cast<unsigned char>(seq[0]));
    Sequence s;
    s.intrinsic = upper;
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

}  // namespace

Eigen::Matrix3d euler_to_matrix(const std::string& seq, const Eigen::Vector3d& angles) {
    return kernels::euler_to_matrix<double>(parse(seq), angles);
}

Eigen::Vector3d matrix_to_euler(const std::string& seq, const Eigen::Matrix3d& r) {
    return kernels::matrix_to_euler<double>(parse(seq), r);
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
