#pragma once
/// @file
/// Writing files so that readers never see half a file.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace sportsmed {

/// Writes the concatenation of @p parts (pointer, byte count) to @p path through a
/// temporary file in the same directory and a rename: on any failure the temporary file is
/// removed and an existing @p path is left untouched. @p what names the caller in errors.
/// @throws Error when the file cannot be created, written or renamed.
void write_file_atomic(const std::string& path, const std::vector<std::pair<const void*, std::size_t>>& parts,
                       const char* what);

}  // namespace sportsmed
