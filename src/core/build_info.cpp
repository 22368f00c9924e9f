#include "sportsmed/core/build_info.hpp"

#include <Eigen/Core>
#include <fmt/format.h>

#include "sportsmed/config.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed {

std::string version() { return SPORTSMED_VERSION_STRING; }

BuildInfo build_info() {
    BuildInfo info;
    info.version = version();
    // sportsmed::base does not load LibTorch: the CUDA fields are torch_build_info()'s.
    info.torch_version = SPORTSMED_TORCH_VERSION_STRING;
    info.num_threads = num_threads();
    info.eigen_version = fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION,
                                     EIGEN_MINOR_VERSION);
    info.fmt_version = fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                                   FMT_VERSION % 100);
#if defined(__clang__)
    info.compiler = fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    info.compiler = fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
    info.compiler = "unknown";
#endif
#ifdef NDEBUG
    info.build_type = "optimized";
#else
    info.build_type = "debug";
#endif
    return info;
}

std::string to_string(const BuildInfo& info) {
    return fmt::format(
        "sportsmed: {}\nlibtorch: {}\ncuda available: {}\ncuda devices: {}\nthreads: {}\n"
        "eigen: {}\nfmt: {}\ncompiler: {}\nbuild: {}\n",
        info.version, info.torch_version, info.cuda_available ? "yes" : "no",
        info.cuda_device_count, info.num_threads, info.eigen_version, info.fmt_version,
        info.compiler, info.build_type);
}

}  // namespace sportsmed
