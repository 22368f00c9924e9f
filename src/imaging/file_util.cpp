#include "file_util.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sportsmed/core/error.hpp"

namespace sportsmed::imaging::detail {

std::vector<std::uint8_t> read_file_raw(const std::string& path, const char* what) {
    if (!std::filesystem::exists(path)) SPORTSMED_THROW(NotFound, "{}: no such file '{}'", what, path);
    std::ifstream in(path, std::ios::binary);
    if (!in) SPORTSMED_THROW(Error, "{}: cannot open '{}'", what, path);
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    std::vector<std::uint8_t> buf(size);
    if (size && !in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(size)))
        SPORTSMED_THROW(Error, "{}: cannot read '{}'", what, path);
    return buf;
}

std::vector<std::uint8_t> read_file_head(const std::string& path, std::size_t max_bytes, const char* what) {
    if (!std::filesystem::exists(path)) SPORTSMED_THROW(NotFound, "{}: no such file '{}'", what, path);
    std::ifstream in(path, std::ios::binary);
    if (!in) SPORTSMED_THROW(Error, "{}: cannot open '{}'", what, path);
    std::vector<std::uint8_t> buf(max_bytes);
    in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(max_bytes));
    buf.resize(static_cast<std::size_t>(in.gcount()));
    return buf;
}

void read_file_range(const std::string& path, std::size_t offset, std::size_t size, std::uint8_t* out,
                     const char* what) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) SPORTSMED_THROW(Error, "{}: cannot open '{}'", what, path);
    const bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 && std::fread(out, 1, size, f) == size;
    std::fclose(f);
    if (!ok)
        SPORTSMED_THROW(FormatError, "{}: '{}' ends before {} bytes at offset {} could be read (truncated file)", what,
                        path, size, offset);
}

std::size_t checked_data_bytes(const std::vector<std::int64_t>& dims, std::size_t element_size,
                               const std::string& path, const char* what) {
    constexpr std::size_t kLimit = std::size_t(1) << 48;
    std::size_t total = element_size;
    for (const std::int64_t d : dims) {
        if (d < 0) SPORTSMED_THROW(FormatError, "{}: '{}' declares a negative size {}", what, path, d);
        if (d != 0 && total > kLimit / static_cast<std::size_t>(d))
            SPORTSMED_THROW(FormatError, "{}: '{}' declares sizes whose data exceed 2^48 bytes (corrupt header?)",
                            what, path);
        total *= static_cast<std::size_t>(d);
    }
    return total;
}

std::size_t max_inflated_size(std::size_t compressed_size) {
    constexpr std::size_t kRatio = 1032;
    return compressed_size > (SIZE_MAX - 4096) / kRatio ? SIZE_MAX : compressed_size * kRatio + 4096;
}

std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size, std::size_t expected,
                                 const std::string& path, const char* what, std::size_t size_hint) {
    const std::size_t ceiling = max_inflated_size(size);
    if (expected > ceiling)
        SPORTSMED_THROW(FormatError,
                        "{}: '{}' declares {} bytes of data but its {} compressed bytes can hold at most {} "
                        "(corrupt header?)",
                        what, path, expected, size, ceiling);
    // A size hint (the gzip trailer's ISIZE) is only a hint: a corrupt one must not size the buffer.
    size_hint = std::min(size_hint, ceiling);
    std::vector<std::uint8_t> out;
    // Buffers grow as data come (a header cannot make us allocate what the stream does not
    // hold); one spare byte past the hint: reaching it means the hint was wrong (ISIZE is
    // mod 2^32).
    const std::size_t start = std::max<std::size_t>(size * 4, 1 << 16);
    out.resize(expected ? std::min(expected, start) : size_hint ? size_hint + 1 : start);
    z_stream zs{};
    // 15 + 32: accept both gzip and zlib headers (NRRD writers use either).
    if (inflateInit2(&zs, 15 + 32) != Z_OK) SPORTSMED_THROW(Error, "{}: zlib init failed", what);
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = static_cast<uInt>(size);
    std::size_t produced = 0;
    int rc = Z_OK;
    for (;;) {
        if (produced == out.size()) {
            if (expected && produced >= expected) break;
            if (out.size() >= ceiling) break;  // more than deflate can hold: corrupt stream
            out.resize(std::min(expected ? expected : ceiling, std::max<std::size_t>(out.size() * 2, 1)));
        }
        zs.next_out = out.data() + produced;
        zs.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, 1u << 30));
        const auto before = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        produced += before - zs.avail_out;
        if (rc == Z_STREAM_END) {
            // Concatenated gzip members continue (gzip allows several).
            if (zs.avail_in > 0 && inflateReset(&zs) == Z_OK) continue;
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END && rc != Z_OK && rc != Z_BUF_ERROR)
        SPORTSMED_THROW(FormatError, "{}: corrupt compressed data in '{}' (zlib error {} after {} bytes)", what,
                        path, rc, produced);
    if (expected && produced < expected)
        SPORTSMED_THROW(FormatError, "{}: compressed data in '{}' ends after {} bytes, {} expected (truncated file)",
                        what, path, produced, expected);
    if (!expected && rc != Z_STREAM_END)
        SPORTSMED_THROW(FormatError, "{}: gzip stream of '{}' is truncated after {} bytes", what, path, produced);
    out.resize(produced);
    return out;
}

std::vector<std::uint8_t> read_file_maybe_gz(const std::string& path, const char* what) {
    std::vector<std::uint8_t> raw = read_file_raw(path, what);
    if (raw.size() >= 18 && raw[0] == 0x1f && raw[1] == 0x8b) {
        // The gzip trailer's ISIZE (uncompressed size mod 2^32) sizes the first buffer.
        std::uint32_t isize = 0;
        std::memcpy(&isize, raw.data() + raw.size() - 4, 4);
        std::vector<std::uint8_t> out = gunzip(raw.data(), raw.size(), 0, path, what, isize);
        return out;
    }
    if (raw.size() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) return gunzip(raw.data(), raw.size(), 0, path, what);
    return raw;
}

MappedFile::MappedFile(const std::string& path, const char* what) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) SPORTSMED_THROW(NotFound, "{}: cannot open '{}'", what, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        SPORTSMED_THROW(FormatError, "{}: '{}' is not a regular file", what, path);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            SPORTSMED_THROW(Error, "{}: cannot map '{}'", what, path);
        }
        ::madvise(p, size_, MADV_SEQUENTIAL);
        data_ = static_cast<const std::uint8_t*>(p);
    }
    ::close(fd);
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

unsigned long crc32_bytes(const std::uint8_t* data, std::size_t size) {
    unsigned long crc = crc32(0L, Z_NULL, 0);
    for (std::size_t done = 0; done < size;) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(size - done, 1u << 30));
        crc = crc32(crc, data + done, n);
        done += n;
    }
    return crc;
}

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size, int level) {
    z_stream zs{};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        SPORTSMED_THROW(Error, "gzip: zlib init failed");
    std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(size)) + 64);
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = static_cast<uInt>(size);
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&zs, Z_FINISH);
    const std::size_t n = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) SPORTSMED_THROW(Error, "gzip: deflate failed ({})", rc);
    out.resize(n);
    return out;
}

bool ends_with(const std::string& path, const std::string& suffix) {
    if (path.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), path.rbegin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

void swap_bytes(std::uint8_t* data, std::size_t count, std::size_t elem_size) {
    if (elem_size <= 1) return;
    for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * elem_size, data + (i + 1) * elem_size);
}

}  // namespace sportsmed::imaging::detail
