#pragma once
/// @file
/// Eigen aliases used across sportsmed's public API.
///
/// Matrices are row-major, like numpy's default layout, so that a C-contiguous
/// numpy array crosses into C++ without a copy. Trajectories are frames × 3 (x, y, z).

#include <cstdint>

#include <Eigen/Core>

namespace sportsmed {

/// Dynamic row-major matrix of doubles (rows × cols, numpy C order).
using RowMatXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Dynamic row-major matrix of floats.
using RowMatXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Frames × 3 trajectory (x, y, z per row), row-major.
using RowMatX3d = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;
/// Dynamic row-major matrix of 64-bit integers.
using RowMatXi64 = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Column vector of doubles.
using VecXd = Eigen::VectorXd;
/// Column vector of 64-bit integers.
using VecXi64 = Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>;

/// Read-only view of any row-major double matrix (numpy C-contiguous float64 2-D array).
using RowMatXdCRef = Eigen::Ref<const RowMatXd>;
/// Read-only view of a frames × 3 trajectory.
using RowMatX3dCRef = Eigen::Ref<const RowMatX3d>;
/// Read-only view of a double vector.
using VecXdCRef = Eigen::Ref<const VecXd>;

}  // namespace sportsmed
