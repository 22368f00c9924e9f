// Geometry transforms and Image conversions.

#include <cmath>
#include <complex>

#include <Eigen/Dense>

#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging/image.hpp"
#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {
namespace {
const Eigen::Matrix4d kFlipXY = Eigen::Vector4d(-1.0, -1.0, 1.0, 1.0).asDiagonal();
}

Eigen::Matrix4d Geometry::voxel_to_world() const {
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
    m.topLeftCorner<3, 3>() = direction * spacing_mm.asDiagonal();
    m.topRightCorner<3, 1>() = origin_mm;
    return m;
}

Eigen::Matrix4d Geometry::world_to_voxel() const { return voxel_to_world().inverse(); }

Eigen::Matrix4d Geometry::affine_ras() const { return kFlipXY * voxel_to_world(); }

Eigen::Vector3d Geometry::to_world(const Eigen::Vector3d& ijk) const {
    return origin_mm + direction * spacing_mm.cwiseProduct(ijk);
}

Eigen::Vector3d Geometry::to_voxel(const Eigen::Vector3d& xyz_mm) const {
    const Eigen::Matrix3d m = direction * spacing_mm.asDiagonal();
    return m.partialPivLu().solve(xyz_mm - origin_mm);
}

Geometry Geometry::from_affine(const Eigen::Matrix4d& affine, const Shape3& shape, bool ras) {
    const Eigen::Matrix4d a = ras ? Eigen::Matrix4d(kFlipXY * affine) : affine;
    Geometry g;
    g.shape = shape;
    for (int c = 0; c < 3; ++c) {
        const double n = a.block<3, 1>(0, c).norm();
        SPORTSMED_CHECK(n > 0 && std::isfinite(n), "Geometry::from_affine: column {} of the affine has length {}",
                        c, n);
        g.spacing_mm[c] = n;
        g.direction.col(c) = a.block<3, 1>(0, c) / n;
    }
    g.origin_mm = a.block<3, 1>(0, 3);
    return g;
}

double Geometry::orthonormality_error() const {
    return (direction.transpose() * direction - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
}

bool Geometry::same_grid(const Geometry& o, double tol) const {
    return shape == o.shape && (spacing_mm - o.spacing_mm).cwiseAbs().maxCoeff() <= tol &&
           (origin_mm - o.origin_mm).cwiseAbs().maxCoeff() <= tol &&
           (direction - o.direction).cwiseAbs().maxCoeff() <= tol;
}

void Geometry::validate(const char* context, double tol) const {
    for (int c = 0; c < 3; ++c) {
        if (!(spacing_mm[c] > 0) || !std::isfinite(spacing_mm[c]))
            SPORTSMED_THROW(FormatError, "{}: spacing along axis {} is {}, expected a positive number", context, c,
                            spacing_mm[c]);
    }
    if (!origin_mm.allFinite()) SPORTSMED_THROW(FormatError, "{}: origin is not finite", context);
    const double err = orthonormality_error();
    if (!(err <= tol))
        SPORTSMED_THROW(FormatError,
                        "{}: direction cosines are not orthonormal (max |D^T D - I| = {:.3g}, tolerance {:.3g})",
                        context, err, tol);
}

std::size_t dtype_size(DType t) noexcept {
    switch (t) {
        case DType::UInt8: case DType::Int8: return 1;
        case DType::UInt16: case DType::Int16: return 2;
        case DType::UInt32: case DType::Int32: case DType::Float32: return 4;
        case DType::UInt64: case DType::Int64: case DType::Float64: case DType::Complex64: return 8;
        case DType::Complex128: return 16;
        case DType::RGB24: return 3;
        case DType::RGBA32: return 4;
    }
    return 1;
}

const char* dtype_name(DType t) noexcept {
    switch (t) {
        case DType::UInt8: return "uint8";
        case DType::Int8: return "int8";
        case DType::UInt16: return "uint16";
        case DType::Int16: return "int16";
        case DType::UInt32: return "uint32";
        case DType::Int32: return "int32";
        case DType::UInt64: return "uint64";
        case DType::Int64: return "int64";
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::Complex64: return "complex64";
        case DType::Complex128: return "complex128";
        case DType::RGB24: return "rgb24";
        case DType::RGBA32: return "rgba32";
    }
    return "?";
}

DType dtype_from_name(const std::string& name) {
    for (DType t : {DType::UInt8, DType::Int8, DType::UInt16, DType::Int16, DType::UInt32, DType::Int32, DType::UInt64,
                    DType::Int64, DType::Float32, DType::Float64, DType::Complex64, DType::Complex128, DType::RGB24,
                    DType::RGBA32}) {
        if (name == dtype_name(t)) return t;
    }
    SPORTSMED_THROW(InvalidArgument, "unknown voxel type '{}'", name);
}

std::int64_t Image::num_values() const noexcept {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
}

std::int64_t Image::components() const noexcept {
    std::int64_t n = 1;
    for (std::size_t i = 3; i < dims.size(); ++i) n *= dims[i];
    return n;
}

namespace detail {
namespace {
template <typename S, typename Out>
void convert(const std::uint8_t* bytes, std::int64_t n, double slope, double inter, bool scale, Out* out) {
    const S* src = reinterpret_cast<const S*>(bytes);
    parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
        if (scale) {
            for (std::int64_t i = b; i < e; ++i) out[i] = static_cast<Out>(static_cast<double>(src[i]) * slope + inter);
        } else {
            for (std::int64_t i = b; i < e; ++i) out[i] = static_cast<Out>(src[i]);
        }
    }, 1 << 18);
}

template <typename Out>
void values_to(const Image& img, const std::uint8_t* b, std::int64_t n, bool apply_scaling, Out* out) {
    // Identity scaling is skipped, as nibabel does: x * 1 + 0 would turn a stored -0.0 into +0.0.
    const bool s = apply_scaling && img.scaled && !(img.scl_slope == 1.0 && img.scl_inter == 0.0);
    switch (img.dtype) {
        case DType::UInt8: return convert<std::uint8_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Int8: return convert<std::int8_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::UInt16: return convert<std::uint16_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Int16: return convert<std::int16_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::UInt32: return convert<std::uint32_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Int32: return convert<std::int32_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::UInt64: return convert<std::uint64_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Int64: return convert<std::int64_t>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Float32: return convert<float>(b, n, img.scl_slope, img.scl_inter, s, out);
        case DType::Float64: return convert<double>(b, n, img.scl_slope, img.scl_inter, s, out);
        default:
            SPORTSMED_THROW(InvalidArgument, "Image: cannot convert {} voxels to real numbers",
                            dtype_name(img.dtype));
    }
}

template <typename Out>
void image_to(const Image& img, bool apply_scaling, Out* out) {
    const std::int64_t n = img.num_values();
    SPORTSMED_CHECK(static_cast<std::int64_t>(img.bytes.size()) == n * static_cast<std::int64_t>(dtype_size(img.dtype)),
                    "Image: {} bytes for {} values of {}", img.bytes.size(), n, dtype_name(img.dtype));
    values_to(img, img.bytes.data(), n, apply_scaling, out);
}
}  // namespace

void values_to_double(const Image& header, const std::uint8_t* bytes, std::int64_t n, double* out) {
    values_to(header, bytes, n, true, out);
}
void image_to_double(const Image& img, bool apply_scaling, double* out) { image_to(img, apply_scaling, out); }
void image_to_float(const Image& img, bool apply_scaling, float* out) { image_to(img, apply_scaling, out); }
}  // namespace detail

}  // namespace sportsmed::imaging
