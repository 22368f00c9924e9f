#pragma once
/// @file
/// Volumes on a physical grid: Geometry (shape, spacing, origin, direction cosines) and
/// Volume<T> (a typed 3-D grid, optionally with several components per voxel, such as the
/// echoes of a multi-echo series).
///
/// World frame: **LPS** (x to the patient's Left, y Posterior, z Superior, millimetres), as
/// DICOM and ITK use. Readers of RAS formats (NIfTI) and NRRD files declared in RAS convert
/// on input and writers convert back, so a Geometry is always LPS inside.
///
/// Voxel index (i, j, k) maps to world point  p = origin + D · diag(spacing) · (i, j, k)ᵀ,
/// where the columns of D are the unit direction vectors of the i, j, k axes.
///
/// Memory layout: i varies fastest, then j, k, then the component c ("Fortran" order), the
/// order NIfTI and NRRD store on disk. A numpy array of shape (nx, ny, nz[, nc]) with
/// Fortran strides views the same memory without a copy, and indexes like nibabel's
/// `img.get_fdata()[i, j, k]`.

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/core/error.hpp"

namespace sportsmed::imaging {

/// Grid size along i, j, k.
using Shape3 = std::array<std::int64_t, 3>;

/// Physical placement of a 3-D voxel grid in LPS millimetres.
struct Geometry {
    Shape3 shape{1, 1, 1};                                        ///< voxels along i, j, k
    Eigen::Vector3d spacing_mm = Eigen::Vector3d::Ones();          ///< voxel size along i, j, k (> 0)
    Eigen::Vector3d origin_mm = Eigen::Vector3d::Zero();           ///< world (LPS) position of voxel (0,0,0)'s centre
    Eigen::Matrix3d direction = Eigen::Matrix3d::Identity();       ///< columns: unit i, j, k axes in LPS

    /// Number of voxels nx·ny·nz.
    std::int64_t num_voxels() const noexcept { return shape[0] * shape[1] * shape[2]; }

    /// 4×4 homogeneous voxel (i, j, k) → world LPS (mm) matrix.
    Eigen::Matrix4d voxel_to_world() const;
    /// Inverse of voxel_to_world().
    Eigen::Matrix4d world_to_voxel() const;
    /// 4×4 voxel → world **RAS** matrix (the NIfTI / nibabel `affine`).
    Eigen::Matrix4d affine_ras() const;

    /// World LPS point (mm) of the continuous voxel index @p ijk.
    Eigen::Vector3d to_world(const Eigen::Vector3d& ijk) const;
    /// Continuous voxel index of the world LPS point @p xyz_mm.
    Eigen::Vector3d to_voxel(const Eigen::Vector3d& xyz_mm) const;

    /// Geometry from a 4×4 voxel→world matrix (LPS if @p ras is false, else RAS, as in
    /// NIfTI). Spacing is the column norms of the linear part, direction the normalised
    /// columns.
    /// @throws InvalidArgument if a column has zero length.
    static Geometry from_affine(const Eigen::Matrix4d& affine, const Shape3& shape, bool ras);

    /// Largest |DᵀD − I| entry: 0 for orthonormal direction cosines.
    double orthonormality_error() const;

    /// True if shape matches and spacing, origin and direction agree within @p tol.
    bool same_grid(const Geometry& other, double tol = 1e-5) const;

    /// Checks that spacing is positive and finite and the direction orthonormal within
    /// @p tol. @param context names the caller and file for the message.
    /// @throws FormatError otherwise.
    void validate(const char* context, double tol = 1e-3) const;
};

/// A typed voxel grid with geometry; @p components values per voxel (1 for a plain
/// image, the number of echoes for a multi-echo series). Element (i, j, k, c) is at
/// data()[i + nx·(j + ny·(k + nz·c))].
template <typename T>
class Volume {
public:
    Volume() = default;
    /// Volume on @p geometry filled with @p fill.
    explicit Volume(Geometry geometry, std::int64_t components = 1, T fill = T{})
        : geometry_(std::move(geometry)), components_(components) {
        SPORTSMED_CHECK(components >= 1, "Volume: components must be >= 1, got {}", components);
        for (auto n : geometry_.shape) SPORTSMED_CHECK(n >= 0, "Volume: negative shape {}", n);
        data_.assign(static_cast<std::size_t>(geometry_.num_voxels() * components_), fill);
    }
    /// Volume taking ownership of @p data (size must be num_voxels × components).
    Volume(Geometry geometry, std::vector<T> data, std::int64_t components = 1)
        : geometry_(std::move(geometry)), components_(components), data_(std::move(data)) {
        SPORTSMED_CHECK(components >= 1, "Volume: components must be >= 1, got {}", components);
        SPORTSMED_CHECK(static_cast<std::int64_t>(data_.size()) == geometry_.num_voxels() * components_,
                        "Volume: {} values given for a {}x{}x{} grid with {} component(s)", data_.size(),
                        geometry_.shape[0], geometry_.shape[1], geometry_.shape[2], components_);
    }

    const Geometry& geometry() const noexcept { return geometry_; }
    Geometry& geometry() noexcept { return geometry_; }
    const Shape3& shape() const noexcept { return geometry_.shape; }
    std::int64_t components() const noexcept { return components_; }
    std::int64_t num_voxels() const noexcept { return geometry_.num_voxels(); }
    std::int64_t size() const noexcept { return static_cast<std::int64_t>(data_.size()); }

    T* data() noexcept { return data_.data(); }
    const T* data() const noexcept { return data_.data(); }
    std::vector<T>& values() noexcept { return data_; }
    const std::vector<T>& values() const noexcept { return data_; }

    /// Linear index of (i, j, k, c).
    std::int64_t index(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t c = 0) const noexcept {
        const auto& s = geometry_.shape;
        return i + s[0] * (j + s[1] * (k + s[2] * c));
    }
    T& operator()(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t c = 0) noexcept {
        return data_[static_cast<std::size_t>(index(i, j, k, c))];
    }
    const T& operator()(std::int64_t i, std::int64_t j, std::int64_t k, std::int64_t c = 0) const noexcept {
        return data_[static_cast<std::size_t>(index(i, j, k, c))];
    }

private:
    Geometry geometry_;
    std::int64_t components_ = 1;
    std::vector<T> data_;
};

}  // namespace sportsmed::imaging
