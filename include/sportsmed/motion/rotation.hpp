#pragma once
/// @file
/// Rotation matrices and their 12 Cardan/Euler decompositions, in scipy's conventions.
///
/// A sequence is three axis letters: upper case for intrinsic rotations (about the moving
/// axes, "XYZ": R = Rx(a)·Ry(b)·Rz(c)), lower case for extrinsic ones (about the fixed axes,
/// "xyz": R = Rz(c)·Ry(b)·Rx(a)), exactly as scipy.spatial.transform.Rotation.from_euler /
/// as_euler. Six Cardan (Tait–Bryan) sequences have three distinct axes; six proper Euler
/// sequences repeat the first axis. Angles are in radians.

#include <string>

#include <Eigen/Core>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::motion {

/// Rotation matrix for @p angles_rad applied in sequence @p seq.
/// @throws InvalidArgument for an invalid sequence (e.g. "XXY", "XyZ").
Eigen::Matrix3d euler_to_matrix(const std::string& seq, const Eigen::Vector3d& angles_rad);

/// Angles (radians) of sequence @p seq that reproduce the rotation matrix @p r.
///
/// Ranges as scipy: first and third angle in (-π, π]; the second in [-π/2, π/2] (Cardan) or
/// [0, π] (proper Euler). At gimbal lock (second Cardan angle ±π/2, proper Euler 0 or π) the
/// third angle is set to 0 and the first carries the whole rotation, as scipy does.
Eigen::Vector3d matrix_to_euler(const std::string& seq, const Eigen::Matrix3d& r);

/// Batch of matrix_to_euler: @p matrices is N × 9 (row-major 3 × 3 per row), result N × 3.
/// Runs in parallel; rows with NaN give NaN.
RowMatXd matrices_to_euler(const std::string& seq, const RowMatXdCRef& matrices);

/// Batch of euler_to_matrix: @p angles_rad is N × 3, result N × 9 (row-major 3 × 3 per row).
RowMatXd euler_to_matrices(const std::string& seq, const RowMatXdCRef& angles_rad);

}  // namespace sportsmed::motion
