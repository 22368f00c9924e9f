#pragma once
// Shared scaffolding of the libFuzzer targets in fuzz/: the readers take paths, so each
// input is written to a file in a per-process scratch folder (in /dev/shm when it exists,
// to stay off the disk) and the reader is called on that path.
//
// The contract every reader is held to: it returns, or it throws an exception derived from
// sportsmed::Error. Any other exception aborts (libFuzzer then saves the input), as does
// every crash and every ASan / UBSan / LeakSanitizer report.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>
#include <vector>

#include <unistd.h>

#include <Eigen/Core>

#include "sportsmed/core/error.hpp"

namespace sportsmed::fuzz {

/// The scratch folder of this process, created on first use and removed at exit.
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        namespace fs = std::filesystem;
        const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        fs::path d = base / ("sportsmed-fuzz-" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }();
    static const int cleanup = [] {
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch_dir(), ec);
        });
        return 0;
    }();
    (void)cleanup;
    return dir;
}

/// Writes @p size bytes at @p data to @p name in the scratch folder; returns its path.
inline std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path p = scratch_dir() / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write the input to %s\n", p.string().c_str());
        std::abort();
    }
    return p.string();
}

/// Removes every file of the scratch folder (between inputs that write several files).
inline void clear_scratch() {
    for (const auto& e : std::filesystem::directory_iterator(scratch_dir())) std::filesystem::remove_all(e.path());
}

/// Runs @p body: a sportsmed::Error is an accepted outcome, any other exception aborts
/// with its type and message.
template <typename Body>
void expect_success_or_error(Body&& body) {
    try {
        body();
    } catch (const sportsmed::Error&) {
        // The reader refused the input, as it should refuse bad files.
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: the reader threw %s, not a sportsmed::Error: %s\n", typeid(e).name(), e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "fuzz: the reader threw a non-std exception\n");
        std::abort();
    }
}

/// Folds a value into a checksum the compiler cannot drop, so that reading results is
/// not optimised away (values are read to make out-of-bounds or bad sizes surface).
inline volatile double g_sink = 0;
inline void consume(double v) {
    if (!std::isnan(v)) g_sink = g_sink + v;
}

/// Sum of an Eigen matrix's entries, read one by one.
template <typename Matrix>
void consume_matrix(const Matrix& m) {
    double s = 0;
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) {
            const double v = static_cast<double>(m(r, c));
            if (!std::isnan(v)) s += v;
        }
    consume(s);
}

/// Pieces of an input separated by kSeparator (used by targets that need several files).
inline constexpr char kSeparator[] = "\n--sportsmed-fuzz-next-file--\n";

inline std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size, std::size_t max_pieces) {
    const std::string all(reinterpret_cast<const char*>(data), size);
    const std::string sep(kSeparator);
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (out.size() + 1 < max_pieces) {
        const std::size_t next = all.find(sep, pos);
        if (next == std::string::npos) break;
        out.push_back(all.substr(pos, next - pos));
        pos = next + sep.size();
    }
    out.push_back(all.substr(pos));
    return out;
}

}  // namespace sportsmed::fuzz
