#pragma once
/// @file
/// Cartilage morphometry: tissue volumes and a per-point cartilage thickness map.
///
/// Thickness method ("nearest surface"): for every voxel of the cartilage's articular
/// surface — a cartilage voxel with a face neighbour of background (label 0), or, with
/// include_contact, of any tissue other than this cartilage and its bone (so that the
/// contact zones, where the opposing cartilage or a meniscus lies on it, count too) — the
/// thickness is the exact Euclidean distance (anisotropic EDT) from its centre to the
/// centre of the nearest voxel of the underlying bone. The surface voxel's centre lies
/// about half a voxel inside the articular surface and the nearest bone centre about half
/// a voxel beyond the bone interface, so the two offsets cancel on average (error within
/// ± one voxel, mean near zero).

#include <array>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Thickness samples over a cartilage surface.
struct ThicknessMap {
    std::vector<std::array<std::int64_t, 3>> voxels;  ///< (i, j, k) of each surface voxel
    Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> points_mm;  ///< LPS centres (n × 3)
    Eigen::VectorXd thickness_mm;                     ///< thickness at each point
    Volume<double> map;                               ///< thickness on the grid, NaN elsewhere
};

/// Per-point thickness of cartilage @p cartilage_label over bone @p bone_label.
/// @param include_contact also take surface voxels facing another tissue (see above).
/// @throws InvalidArgument if either label is absent.
ThicknessMap cartilage_thickness(const Volume<std::uint8_t>& labels, int cartilage_label, int bone_label,
                                 bool include_contact = false);

/// Volume (mm³) of each label 0..255 (voxel count × voxel volume).
std::vector<double> label_volumes_mm3(const Volume<std::uint8_t>& labels);

}  // namespace sportsmed::imaging
