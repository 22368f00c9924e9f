#pragma once
/// @file
/// Version and build facts, for bug reports and `sportsmed info`.

#include <string>

namespace sportsmed {

/// Library version, "MAJOR.MINOR.PATCH".
std::string version();

/// What this copy of sportsmed was built with and what it sees at run time.
struct BuildInfo {
    std::string version;        ///< sportsmed version
    std::string torch_version;  ///< LibTorch version compiled against, e.g. "1.13.0"
    bool cuda_available = false;  ///< LibTorch reports a usable CUDA device (torch_build_info)
    int cuda_device_count = 0;    ///< number of CUDA devices LibTorch sees (torch_build_info)
    int num_threads = 1;          ///< sportsmed::num_threads() now
    std::string eigen_version;  ///< e.g. "3.4.0"
    std::string fmt_version;    ///< e.g. "9.1.0"
    std::string compiler;       ///< compiler id and version
    std::string build_type;     ///< "optimized" or "debug" (from NDEBUG)
};

/// Gathers BuildInfo without loading LibTorch (sportsmed::base): torch_version is the
/// version the build was configured against, the CUDA fields are false / 0.
BuildInfo build_info();

/// build_info() completed by LibTorch itself: its version and the CUDA devices it sees.
/// Part of sportsmed::torch (links LibTorch).
BuildInfo torch_build_info();

/// Multi-line "key: value" rendering of @p info.
std::string to_string(const BuildInfo& info);

}  // namespace sportsmed
