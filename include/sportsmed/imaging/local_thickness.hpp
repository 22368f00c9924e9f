#pragma once
/// @file
/// Local thickness (Hildebrand & Rüegsegger 1997, "A new method for the model-independent
/// assessment of thickness in three-dimensional images"): the thickness at a point of a
/// structure is the diameter of the largest ball that contains the point and lies inside
/// the structure.
///
/// Discrete definition used here (the one of Dougherty & Kunzelmann's BoneJ plug-in):
/// with d(c) the exact Euclidean distance (anisotropic spacing, mm) from a foreground voxel
/// centre c to the nearest background voxel centre, the ball of c is the open ball
/// B(c) = {p : |p − c| < d(c)}, the largest one centred at c containing no background
/// centre, and
///
///     τ(p) = max { 2·d(c) : c foreground, p ∈ B(c) }      for every foreground voxel p.
///
/// Because distances run between voxel centres, a digitised slab n voxels thick gets
/// τ = 2h·⌊(n + 1)/2⌋ (n·h for even n, (n + 1)·h for odd n): the values lie between the
/// true thickness and one voxel more. Exact ties |p − c| = d(c) are outside the ball
/// (compared with a relative tolerance of 1e-10, so that rounding never decides).
///
/// Algorithm: the EDT (Felzenszwalb & Huttenlocher, multi-threaded); balls contained in a
/// 26-neighbour's ball (d(c′) ≥ d(c) + |c − c′|) are dropped, which leaves the result
/// unchanged; the remaining balls are painted with a running maximum, rows at a time,
/// multi-threaded over slabs of k so that no two threads write the same voxel.
/// Cost: the summed volume of the painted balls. Thin sheets such as cartilage take
/// seconds (the femoral cartilage of a 384×384×160 knee map: about 2 s); thick solid
/// structures take much longer (all of that knee's tissues as one mask: minutes).

#include <cstdint>

#include <Eigen/Core>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Local thickness (mm) of every voxel of @p mask (nonzero = foreground), 0 on background;
/// +inf everywhere on the foreground if the mask has no background voxel.
/// @param mask  nx·ny·nz bytes, Fortran order.
/// @param shape (nx, ny, nz).
/// @param spacing_mm voxel size along i, j, k (> 0).
/// @param out   nx·ny·nz values (written).
/// @throws InvalidArgument for non-positive spacing.
void local_thickness(const std::uint8_t* mask, const Shape3& shape, const Eigen::Vector3d& spacing_mm, double* out);

/// Local thickness (mm) of a mask on its geometry's grid (see the file comment).
Volume<double> local_thickness(const Volume<std::uint8_t>& mask);

}  // namespace sportsmed::imaging
