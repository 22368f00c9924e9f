#pragma once
/// @file
/// Exact Euclidean distance transform with anisotropic voxel spacing, and the ball
/// morphology it gives for free.
///
/// Algorithm: Felzenszwalb & Huttenlocher 2012 ("Distance transforms of sampled
/// functions"): the squared distance is separable, and each 1-D pass is the lower envelope
/// of parabolas f(q) + (x_p − x_q)², computed exactly in O(n). Passes run along i, j, k,
/// multi-threaded over lines with sportsmed::parallel_for.

#include <cstdint>

#include <Eigen/Core>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Squared Euclidean distance (mm²) from every voxel to the nearest voxel where
/// @p mask is 0, written to @p out (num_voxels values, Fortran order). Voxels with mask 0
/// get 0. If the mask has no 0 voxel, every value is +inf.
/// @param mask  nx·ny·nz bytes, nonzero = foreground.
/// @param shape (nx, ny, nz).
/// @param spacing_mm voxel size along i, j, k (> 0).
void distance_transform_squared(const std::uint8_t* mask, const Shape3& shape, const Eigen::Vector3d& spacing_mm,
                                double* out);

/// Euclidean distance (mm) from each foreground voxel to the nearest background voxel,
/// as scipy.ndimage.distance_transform_edt(mask, sampling=spacing_mm).
/// @param mask foreground = nonzero; its geometry's spacing is used.
Volume<double> distance_transform(const Volume<std::uint8_t>& mask);

/// Dilation by a ball of radius @p radius_mm (a voxel is set when a foreground voxel centre
/// lies within the radius), exact through the distance transform.
Volume<std::uint8_t> dilate_ball(const Volume<std::uint8_t>& mask, double radius_mm);

/// Erosion by a ball of radius @p radius_mm (a voxel stays when every voxel centre within
/// the radius is foreground; outside the grid counts as foreground, as scipy's
/// binary_erosion with border_value=1).
Volume<std::uint8_t> erode_ball(const Volume<std::uint8_t>& mask, double radius_mm);

}  // namespace sportsmed::imaging
