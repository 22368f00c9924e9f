#include <catch2/catch.hpp>
#include <torch/version.h>

#include "sportsmed/config.hpp"
#include "sportsmed/core/build_info.hpp"
#include "sportsmed/core/parallel.hpp"

using namespace sportsmed;

TEST_CASE("build_info: versions agree with the headers they come from", "[core][info]") {
    const BuildInfo info = build_info();
    CHECK(info.version == SPORTSMED_VERSION_STRING);
    CHECK(version() == std::to_string(SPORTSMED_VERSION_MAJOR) + "." +
                           std::to_string(SPORTSMED_VERSION_MINOR) + "." +
                           std::to_string(SPORTSMED_VERSION_PATCH));
    // build_info() (sportsmed::base) reports the version configured; LibTorch itself agrees.
    CHECK(info.torch_version == TORCH_VERSION);
    CHECK(info.num_threads == num_threads());
    CHECK_FALSE(info.cuda_available);
    const BuildInfo full = torch_build_info();
    CHECK(full.torch_version == TORCH_VERSION);
    CHECK(full.cuda_device_count >= 0);
    CHECK((full.cuda_available == (full.cuda_device_count > 0)));
    const std::string text = to_string(info);
    CHECK(text.find("libtorch: " + info.torch_version) != std::string::npos);
}
