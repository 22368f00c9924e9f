#include "sportsmed/core/file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "sportsmed/core/error.hpp"

namespace sportsmed {

void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, std::size_t>>& parts,
                       const char* what) {
    const std::string tmp = path + ".tmp-sportsmed";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) SPORTSMED_THROW(Error, "{}: cannot create '{}'", what, tmp);
        for (const auto& [p, n] : parts) out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
        out.flush();
        if (!out) {
            out.close();
            std::remove(tmp.c_str());
            SPORTSMED_THROW(Error, "{}: write to '{}' failed", what, tmp);
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        SPORTSMED_THROW(Error, "{}: cannot rename '{}' to '{}': {}", what, tmp, path, ec.message());
    }
}

}  // namespace sportsmed
