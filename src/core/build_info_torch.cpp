// The LibTorch half of build_info (part of sportsmed::torch).

#include <torch/cuda.h>
#include <torch/version.h>

#include "sportsmed/core/build_info.hpp"

namespace sportsmed {

BuildInfo torch_build_info() {
    BuildInfo info = build_info();
    info.torch_version = TORCH_VERSION;
    // is_available() is false on CPU-only LibTorch builds and on machines without a GPU.
    info.cuda_available = torch::cuda::is_available();
    info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
    return info;
}

}  // namespace sportsmed
