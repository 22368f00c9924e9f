#pragma once
// Internal helpers for the imaging readers/writers: whole-file reads (gzip transparent),
// gzip inflate/deflate of buffers, atomic writes (temporary file + rename), byte swaps.

#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/core/file.hpp"

namespace sportsmed::imaging::detail {

/// Contents of @p path, decompressed if it is a gzip stream. @p what names the caller.
/// @throws NotFound if absent; FormatError if the gzip stream is corrupt or truncated.
std::vector<std::uint8_t> read_file_maybe_gz(const std::string& path, const char* what);

/// The first (up to) @p max_bytes bytes of @p path. @throws NotFound / Error.
std::vector<std::uint8_t> read_file_head(const std::string& path, std::size_t max_bytes, const char* what);

/// Reads @p size bytes at @p offset of @p path into @p out. @throws FormatError if short.
void read_file_range(const std::string& path, std::size_t offset, std::size_t size, std::uint8_t* out,
                     const char* what);

/// Raw contents of @p path. @throws NotFound / Error.
std::vector<std::uint8_t> read_file_raw(const std::string& path, const char* what);

/// Inflates the gzip or zlib stream @p data; @p expected bytes are needed.
/// @throws FormatError (naming @p path) if the stream is corrupt or yields fewer bytes.
/// Bytes of data that @p dims values of @p element_size bytes take, checked: a product that
/// overflows, or beyond 2^48 bytes (256 TiB), is a FormatError naming @p path, never an
/// allocation.
std::size_t checked_data_bytes(const std::vector<std::int64_t>& dims, std::size_t element_size,
                               const std::string& path, const char* what);

/// Most bytes @p compressed_size bytes of deflate data can expand to (deflate's limit is
/// 1032:1, plus headers): a header declaring more is refused before anything is allocated.
std::size_t max_inflated_size(std::size_t compressed_size);

std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size, std::size_t expected,
                                 const std::string& path, const char* what, std::size_t size_hint = 0);

/// gzip-compresses @p size bytes at @p data.
std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size, int level = 6);

/// A read-only memory map of a whole file (empty files map to size 0).
class MappedFile {
public:
    /// @throws NotFound when @p path cannot be opened; Error when it cannot be mapped.
    MappedFile(const std::string& path, const char* what);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    const std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

/// zlib CRC-32 of @p size bytes (any size).
unsigned long crc32_bytes(const std::uint8_t* data, std::size_t size);

/// Atomic writes (temporary file + rename), shared with the other pillars.
using sportsmed::write_file_atomic;

/// True if @p path ends with @p suffix (case-insensitive).
bool ends_with(const std::string& path, const std::string& suffix);

/// Reverses the bytes of each @p elem_size-byte element in place.
void swap_bytes(std::uint8_t* data, std::size_t count, std::size_t elem_size);

}  // namespace sportsmed::imaging::detail
