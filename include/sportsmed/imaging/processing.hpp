#pragma once
/// @file
/// Volume processing: resampling onto a grid (linear for images, nearest or label-aware
/// for label maps), exact reorientation to a canonical axis order, cropping to a bounding
/// box and pasting back, intensity normalisation.

#include <array>
#include <cstdint>
#include <string>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Geometry covering the same field of view as @p g with voxel size @p spacing_mm:
/// shape = round(shape·spacing / new spacing), same direction, and the first voxel's
/// corner kept in place (so the extents match).
Geometry with_spacing(const Geometry& g, const Eigen::Vector3d& spacing_mm);

/// Trilinear resampling of every component of @p src onto @p target (world positions are
/// matched through both geometries); points outside the source get @p fill. Values at the
/// source's voxel centres are reproduced exactly.
Volume<double> resample_linear(const Volume<double>& src, const Geometry& target, double fill = 0.0);

/// Label-map resampling onto @p target. Nearest neighbour if @p label_aware is false;
/// otherwise each label's indicator is interpolated trilinearly and the label of largest
/// weight wins (ties: the smaller label), which keeps thin structures' shape better than
/// nearest neighbour when downsampling. Outside the source: label 0.
Volume<std::uint8_t> resample_labels(const Volume<std::uint8_t>& src, const Geometry& target, bool label_aware = true);

/// Axis permutation and flips that bring @p g closest to the frame named by @p code, any
/// of the 48 three-letter codes with one letter of L/R, P/A, S/I each ("LPS", "RAS",
/// "PIR" …: voxel axis i runs towards the first letter, and so on), as
/// nibabel.as_closest_canonical for "RAS". perm[a] = source axis that becomes axis a;
/// flip[a] = whether it is reversed. Oblique grids take the nearest axis-aligned frame.
/// @throws InvalidArgument for a malformed code.
struct Reorientation {
    std::array<int, 3> perm{0, 1, 2};
    std::array<bool, 3> flip{false, false, false};
};
Reorientation canonical_reorientation(const Geometry& g, const std::string& code = "RAS");

/// The three-letter code (as canonical_reorientation takes) of the frame @p g's voxel axes
/// are closest to, e.g. "LPS" for an identity direction, "RAS" for nibabel's canonical.
std::string orientation_code(const Geometry& g);

/// Exact reorientation of @p v (no interpolation): voxels are permuted and flipped and the
/// geometry updated, so every voxel keeps its world position.
template <typename T>
Volume<T> reorient(const Volume<T>& v, const Reorientation& r);

/// Bounding box [lo, hi] (inclusive voxel indices) of the nonzero voxels, grown by
/// @p margin voxels and clipped to the grid. @throws InvalidArgument if the mask is empty.
std::array<std::array<std::int64_t, 3>, 2> bounding_box(const Volume<std::uint8_t>& mask, std::int64_t margin = 0);

/// Sub-volume [lo, hi] of @p v with its geometry (origin moved to voxel lo).
template <typename T>
Volume<T> crop(const Volume<T>& v, const std::array<std::int64_t, 3>& lo, const std::array<std::int64_t, 3>& hi);

/// Puts @p part back into a volume on @p full (filled with @p fill) at voxel offset @p lo:
/// the inverse of crop.
template <typename T>
Volume<T> paste(const Volume<T>& part, const Geometry& full, const std::array<std::int64_t, 3>& lo, T fill = T{});

/// z-score normalisation: (x − mean) / std over the voxels where @p mask is nonzero (all
/// voxels if null), applied to every voxel. @throws InvalidArgument for a constant image.
Volume<double> normalize_zscore(const Volume<double>& v, const Volume<std::uint8_t>* mask = nullptr);

/// Clips to the [@p low, @p high] percentiles (0–100, linear interpolation between order
/// statistics as numpy.percentile) and rescales to [0, 1].
Volume<double> normalize_percentile(const Volume<double>& v, double low = 0.5, double high = 99.5);

// ---- template implementations ----

template <typename T>
Volume<T> reorient(const Volume<T>& v, const Reorientation& r) {
    const Geometry& g = v.geometry();
    Geometry out;
    Eigen::Matrix4d m = Eigen::Matrix4d::Zero();  // new index -> old index
    for (int a = 0; a < 3; ++a) {
        const int s = r.perm[a];
        out.shape[a] = g.shape[s];
        m(s, a) = r.flip[a] ? -1.0 : 1.0;
        m(s, 3) = r.flip[a] ? static_cast<double>(g.shape[s] - 1) : 0.0;
    }
    m(3, 3) = 1.0;
    const Eigen::Matrix4d affine = g.voxel_to_world() * m;
    out = Geometry::from_affine(affine, out.shape, false);
    Volume<T> res(out, v.components());
    const auto& n = out.shape;
    for (std::int64_t c = 0; c < v.components(); ++c)
        for (std::int64_t k = 0; k < n[2]; ++k)
            for (std::int64_t j = 0; j < n[1]; ++j)
                for (std::int64_t i = 0; i < n[0]; ++i) {
                    const std::int64_t idx[3] = {i, j, k};
                    std::int64_t src[3];
                    for (int a = 0; a < 3; ++a)
                        src[r.perm[a]] = r.flip[a] ? g.shape[r.perm[a]] - 1 - idx[a] : idx[a];
                    res(i, j, k, c) = v(src[0], src[1], src[2], c);
                }
    return res;
}

template <typename T>
Volume<T> crop(const Volume<T>& v, const std::array<std::int64_t, 3>& lo, const std::array<std::int64_t, 3>& hi) {
    const auto& s = v.shape();
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(lo[a] >= 0 && hi[a] < s[a] && lo[a] <= hi[a], "crop: range [{}, {}] outside axis {} of size {}",
                        lo[a], hi[a], a, s[a]);
    Geometry g = v.geometry();
    g.origin_mm = v.geometry().to_world(Eigen::Vector3d(double(lo[0]), double(lo[1]), double(lo[2])));
    g.shape = {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
    Volume<T> out(g, v.components());
    for (std::int64_t c = 0; c < v.components(); ++c)
        for (std::int64_t k = 0; k < g.shape[2]; ++k)
            for (std::int64_t j = 0; j < g.shape[1]; ++j)
                for (std::int64_t i = 0; i < g.shape[0]; ++i) out(i, j, k, c) = v(i + lo[0], j + lo[1], k + lo[2], c);
    return out;
}

template <typename T>
Volume<T> paste(const Volume<T>& part, const Geometry& full, const std::array<std::int64_t, 3>& lo, T fill) {
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(lo[a] >= 0 && lo[a] + part.shape()[a] <= full.shape[a],
                        "paste: part of size {} at offset {} exceeds axis {} of size {}", part.shape()[a], lo[a], a,
                        full.shape[a]);
    Volume<T> out(full, part.components(), fill);
    const auto& s = part.shape();
    for (std::int64_t c = 0; c < part.components(); ++c)
        for (std::int64_t k = 0; k < s[2]; ++k)
            for (std::int64_t j = 0; j < s[1]; ++j)
                for (std::int64_t i = 0; i < s[0]; ++i) out(i + lo[0], j + lo[1], k + lo[2], c) = part(i, j, k, c);
    return out;
}

}  // namespace sportsmed::imaging
