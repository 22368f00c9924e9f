#pragma once
// The one place C++ tests find ../shared/data (real public data recorded by others).
// SPORTSMED_SHARED_DATA overrides the default <source>/../shared/data. Tests that need a
// file call SHARED_DATA_OR_SKIP, which skips (with a message) when the folder is absent.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace sportsmed::test {

inline std::filesystem::path shared_data_dir() {
    if (const char* env = std::getenv("SPORTSMED_SHARED_DATA"); env && *env) return env;
    return std::filesystem::path(SPORTSMED_SOURCE_DIR) / ".." / "shared" / "data";
}

/// Path of @p relative under the shared data folder (may not exist).
inline std::filesystem::path shared_data(const std::string& relative) {
    return shared_data_dir() / relative;
}

}  // namespace sportsmed::test

/// Declares the variable @p var (a std::filesystem::path) for a shared-data file, or ends the test with a warning when missing
/// (Catch2 v2 has no SKIP; the warning shows in the report).
#define SHARED_DATA_OR_SKIP(var, relative)                                                  \
    const ::std::filesystem::path var = ::sportsmed::test::shared_data(relative);          \
    if (!::std::filesystem::exists(var)) {                                                  \
        WARN("skipped: shared data file " << var.string() << " is absent");                \
        return;                                                                             \
    }
