#pragma once
// Reads every part of an imaging::Image (fuzz targets NIfTI, NRRD).

#include "fuzz_common.hpp"
#include "sportsmed/imaging/image.hpp"

namespace sportsmed::fuzz {

inline void consume_image(const imaging::Image& img) {
    // The invariants the rest of the library relies on.
    const bool ok = img.dims.size() >= 3 && img.geometry.shape[0] == img.dims[0] &&
                    img.geometry.shape[1] == img.dims[1] && img.geometry.shape[2] == img.dims[2] &&
                    img.bytes.size() == static_cast<std::size_t>(img.num_values()) * imaging::dtype_size(img.dtype);
    if (!ok) {
        std::fprintf(stderr, "fuzz: image dims / shape / byte count disagree (%zu bytes, %zu dims)\n",
                     img.bytes.size(), img.dims.size());
        std::abort();
    }
    consume_matrix(img.geometry.voxel_to_world());
    consume(img.scl_slope + img.scl_inter + img.qform_code + img.sform_code);
    for (double p : img.pixdim) consume(p);
    // Conversion reads every stored value; bounded so that a large valid image costs little.
    const bool convertible = img.dtype != imaging::DType::Complex64 && img.dtype != imaging::DType::Complex128 &&
                             img.dtype != imaging::DType::RGB24 && img.dtype != imaging::DType::RGBA32;
    if (convertible && img.num_values() <= (1 << 18)) {
        const auto v = img.as_volume<double>();
        double s = 0;
        for (double x : v.values())
            if (std::isfinite(x)) s += x;
        consume(s);
    }
}

}  // namespace sportsmed::fuzz
