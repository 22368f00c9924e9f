#pragma once
/// @file
/// Image: what a file holds, before conversion — the stored data type, up to 7 dimensions,
/// the raw values (native byte order), the intensity scaling and the geometry.
/// Readers return an Image so that a write → read round trip keeps the exact type and
/// bits; `as_volume<T>()` converts (optionally applying the scaling) for computation.

#include <complex>
#include <memory>
#include <utility>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Voxel data types a file can store (the NIfTI set; NRRD and DICOM use a subset).
enum class DType {
    UInt8, Int8, UInt16, Int16, UInt32, Int32, UInt64, Int64, Float32, Float64,
    Complex64, Complex128, RGB24, RGBA32
};

/// Bytes per voxel of @p t.
std::size_t dtype_size(DType t) noexcept;
/// numpy-style name: "uint8", "int16", "float32", "complex64", "rgb24", ...
const char* dtype_name(DType t) noexcept;
/// DType from its dtype_name(). @throws InvalidArgument for an unknown name.
DType dtype_from_name(const std::string& name);

/// DType matching the C++ type T (arithmetic types only).
template <typename T>
constexpr DType dtype_of() {
    if constexpr (std::is_same_v<T, std::uint8_t>) return DType::UInt8;
    else if constexpr (std::is_same_v<T, std::int8_t>) return DType::Int8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return DType::UInt16;
    else if constexpr (std::is_same_v<T, std::int16_t>) return DType::Int16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return DType::UInt32;
    else if constexpr (std::is_same_v<T, std::int32_t>) return DType::Int32;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return DType::UInt64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return DType::Int64;
    else if constexpr (std::is_same_v<T, float>) return DType::Float32;
    else if constexpr (std::is_same_v<T, double>) return DType::Float64;
    else static_assert(!sizeof(T), "dtype_of: unsupported voxel type");
}

/// std::allocator whose resize() leaves new elements uninitialised (value-initialisation
/// becomes default-initialisation): reading 100 MB into an Image does not first write
/// 100 MB of zeros it is about to overwrite.
template <typename T>
struct UninitialisedAllocator : std::allocator<T> {
    template <typename U>
    struct rebind {
        using other = UninitialisedAllocator<U>;
    };
    UninitialisedAllocator() noexcept = default;
    template <typename U>
    UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    template <typename U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

/// The raw bytes of an Image (a std::vector that does not zero-fill on resize).
using ByteBuffer = std::vector<std::uint8_t, UninitialisedAllocator<std::uint8_t>>;

/// File content: geometry of the first three axes, all dimensions, raw values.
struct Image {
    Geometry geometry;                 ///< LPS geometry of axes 0..2
    std::vector<std::int64_t> dims;    ///< all dimensions (≥ 3 entries; first three = geometry.shape)
    DType dtype = DType::UInt8;        ///< stored voxel type
    ByteBuffer bytes;                  ///< values in native byte order, Fortran order over dims
    double scl_slope = 1.0;            ///< value = slope · stored + inter (identity when unscaled)
    double scl_inter = 0.0;
    bool scaled = false;               ///< true when the file carries a valid scaling (slope ≠ 0, finite)
    int qform_code = 0;                ///< NIfTI codes (0 for other formats)
    int sform_code = 0;
    std::vector<double> pixdim;        ///< spacing of every dimension (e.g. TR for axis 3)

    /// Number of values (product of dims).
    std::int64_t num_values() const noexcept;
    /// Product of dims beyond the third (components per voxel).
    std::int64_t components() const noexcept;

    /// Values converted to T, with the scaling applied if @p apply_scaling and scaled.
    /// Dimensions beyond the third become components.
    /// @throws InvalidArgument for complex/RGB data.
    template <typename T>
    Volume<T> as_volume(bool apply_scaling = true) const;

    /// Image holding a copy of @p v, stored as dtype_of<T>(), unscaled.
    template <typename T>
    static Image from_volume(const Volume<T>& v);
};

namespace detail {
/// Converts image values to double (scaling applied as requested) into @p out.
void image_to_double(const Image& img, bool apply_scaling, double* out);
/// @p n values of @p header's dtype stored at @p bytes (native order) as float64 with
/// @p header's scaling, into @p out. @throws InvalidArgument for complex/RGB data.
void values_to_double(const Image& header, const std::uint8_t* bytes, std::int64_t n, double* out);
/// Same, to float.
void image_to_float(const Image& img, bool apply_scaling, float* out);
}  // namespace detail

template <typename T>
Volume<T> Image::as_volume(bool apply_scaling) const {
    Volume<T> v(geometry, components());
    if constexpr (std::is_same_v<T, double>) {
        detail::image_to_double(*this, apply_scaling, v.data());
    } else if constexpr (std::is_same_v<T, float>) {
        detail::image_to_float(*this, apply_scaling, v.data());
    } else {
        if (dtype == dtype_of<T>() && !(apply_scaling && scaled)) {
            std::memcpy(v.data(), bytes.data(), bytes.size());
        } else {
            std::vector<double> tmp(static_cast<std::size_t>(num_values()));
            detail::image_to_double(*this, apply_scaling, tmp.data());
            for (std::size_t i = 0; i < tmp.size(); ++i) v.data()[i] = static_cast<T>(tmp[i]);
        }
    }
    return v;
}

template <typename T>
Image Image::from_volume(const Volume<T>& v) {
    Image img;
    img.geometry = v.geometry();
    img.dims = {v.shape()[0], v.shape()[1], v.shape()[2]};
    if (v.components() > 1) img.dims.push_back(v.components());
    img.dtype = dtype_of<T>();
    img.bytes.resize(static_cast<std::size_t>(v.size()) * sizeof(T));
    if (!img.bytes.empty()) std::memcpy(img.bytes.data(), v.data(), img.bytes.size());
    img.pixdim = {v.geometry().spacing_mm[0], v.geometry().spacing_mm[1], v.geometry().spacing_mm[2]};
    if (v.components() > 1) img.pixdim.push_back(1.0);
    return img;
}

}  // namespace sportsmed::imaging
