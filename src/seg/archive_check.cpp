// Structural check of PyTorch zip archives (see archive_check.hpp).

#include "archive_check.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "sportsmed/core/error.hpp"

namespace sportsmed::seg::detail {
namespace {

constexpr std::uint32_t kLocal = 0x04034b50, kCentral = 0x02014b50, kEnd = 0x06054b50;
constexpr std::uint32_t kEnd64 = 0x06064b50, kLocator64 = 0x07064b50;

struct Reader {
    const std::string& b;
    const std::string& source;
    std::uint64_t u(std::uint64_t at, int n) const {
        if (at > b.size() || static_cast<std::uint64_t>(n) > b.size() - at)
            SPORTSMED_THROW(FormatError, "'{}': zip record at byte {} runs past the end of the file ({} bytes)",
                            source, at, b.size());
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::uint64_t>(i)]);
        return v;
    }
};

// The zip64 extended-information extra field (id 1) of a central-directory entry: replaces
// the 32-bit sizes and offset that are 0xFFFFFFFF, in that order.
void apply_zip64(const Reader& r, std::uint64_t extra, std::uint64_t extra_len, std::uint64_t& usize,
                 std::uint64_t& csize, std::uint64_t& offset, const std::string& name) {
    std::uint64_t p = extra;
    const std::uint64_t end = extra + extra_len;
    while (p + 4 <= end) {
        const std::uint64_t id = r.u(p, 2), len = r.u(p + 2, 2);
        if (p + 4 + len > end)
            SPORTSMED_THROW(FormatError, "'{}': entry '{}' has an extra field running past its end", r.source, name);
        if (id == 1) {
            std::uint64_t q = p + 4;
            const std::uint64_t qend = q + len;
            for (std::uint64_t* v : {&usize, &csize, &offset}) {
                if (*v != 0xFFFFFFFFu) continue;
                if (q + 8 > qend)
                    SPORTSMED_THROW(FormatError, "'{}': entry '{}' has a truncated zip64 field", r.source, name);
                *v = r.u(q, 8);
                q += 8;
            }
            return;
        }
        p += 4 + len;
    }
}

bool printable_name(const std::string& name) {
    if (name.empty() || name.size() > 1024 || name.front() == '/') return false;
    for (unsigned char c : name)
        if (c < 0x20 || c > 0x7e || c == '\\') return false;
    return name.find("..") == std::string::npos;
}

// CRC-32 of a raw-deflate entry's unpacked bytes, which must be exactly @p usize long.
unsigned long inflated_crc(const char* data, std::uint64_t csize, std::uint64_t usize, const std::string& source,
                           const std::string& name) {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) SPORTSMED_THROW(Error, "'{}': zlib cannot start inflating", source);
    std::vector<unsigned char> out(static_cast<std::size_t>(std::min<std::uint64_t>(usize, 1u << 20)) + 1);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = static_cast<uInt>(csize);
    unsigned long crc = crc32(0L, Z_NULL, 0);
    std::uint64_t total = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        rc = inflate(&z, Z_NO_FLUSH);
        const std::uint64_t got = out.size() - z.avail_out;
        total += got;
        if (total > usize) break;
        crc = crc32(crc, out.data(), static_cast<uInt>(got));
        if (rc == Z_OK && got == 0 && z.avail_in == 0) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || total != usize)
        SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' does not inflate to its declared {} bytes", source, name,
                        usize);
    return crc;
}

}  // namespace

unsigned long crc32_of(const char* data, std::size_t size) {
    unsigned long crc = crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < size) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(size - done, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(data + done), n);
        done += n;
    }
    return crc;
}

unsigned long crc32_of(const std::string& bytes) { return crc32_of(bytes.data(), bytes.size()); }

void check_torch_archive(const std::string& bytes, const std::string& source) {
    const Reader r{bytes, source};
    const std::uint64_t size = bytes.size();
    if (size < 22 || r.u(0, 4) != kLocal)
        SPORTSMED_THROW(FormatError, "'{}' is not a PyTorch model file (not a zip archive)", source);
    // End of central directory: the last signature within the final 64 KiB + 22 bytes.
    std::uint64_t eocd = size;
    for (std::uint64_t p = size - 22 + 1; p-- > (size > 65557 ? size - 65557 : 0);) {
        if (r.u(p, 4) == kEnd && p + 22 + r.u(p + 20, 2) == size) {
            eocd = p;
            break;
        }
    }
    if (eocd == size)
        SPORTSMED_THROW(FormatError, "'{}': no zip end-of-central-directory record (truncated file?)", source);
    std::uint64_t entries = r.u(eocd + 10, 2), cd_size = r.u(eocd + 12, 4), cd_offset = r.u(eocd + 16, 4);
    if (r.u(eocd + 4, 2) != 0 || r.u(eocd + 6, 2) != 0 || r.u(eocd + 8, 2) != entries)
        SPORTSMED_THROW(FormatError, "'{}': multi-disk zip archives are not PyTorch files", source);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
        if (eocd < 20 || r.u(eocd - 20, 4) != kLocator64)
            SPORTSMED_THROW(FormatError, "'{}': zip64 archive without its locator", source);
        const std::uint64_t rec = r.u(eocd - 20 + 8, 8);
        if (rec > size - 56 || r.u(rec, 4) != kEnd64)
            SPORTSMED_THROW(FormatError, "'{}': the zip64 end record is not where its locator points", source);
        entries = r.u(rec + 32, 8);
        cd_size = r.u(rec + 40, 8);
        cd_offset = r.u(rec + 48, 8);
    }
    if (entries == 0 || cd_offset > eocd || cd_size > eocd - cd_offset)
        SPORTSMED_THROW(FormatError, "'{}': the zip central directory ({} entries, {} bytes at {}) does not fit the "
                        "file", source, entries, cd_size, cd_offset);
    if (entries > cd_size / 46)
        SPORTSMED_THROW(FormatError, "'{}': {} zip entries cannot fit a {}-byte central directory", source, entries,
                        cd_size);

    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;  // [begin, end) of each entry
    std::set<std::string> names;
    std::string folder;
    std::uint64_t p = cd_offset;
    for (std::uint64_t e = 0; e < entries; ++e) {
        if (p + 46 > cd_offset + cd_size || r.u(p, 4) != kCentral)
            SPORTSMED_THROW(FormatError, "'{}': zip central-directory entry {} is damaged", source, e);
        const std::uint64_t method = r.u(p + 10, 2), crc = r.u(p + 16, 4);
        std::uint64_t csize = r.u(p + 20, 4), usize = r.u(p + 24, 4);
        const std::uint64_t name_len = r.u(p + 28, 2), extra_len = r.u(p + 30, 2), comment_len = r.u(p + 32, 2);
        std::uint64_t local = r.u(p + 42, 4);
        if (p + 46 + name_len + extra_len + comment_len > cd_offset + cd_size)
            SPORTSMED_THROW(FormatError, "'{}': zip central-directory entry {} runs past the directory", source, e);
        const std::string name = bytes.substr(p + 46, name_len);
        apply_zip64(r, p + 46 + name_len, extra_len, usize, csize, local, name);
        if (!printable_name(name))
            SPORTSMED_THROW(FormatError, "'{}': zip entry {} has an invalid name", source, e);
        if (!names.insert(name).second)
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' appears twice", source, name);
        const std::string top = name.substr(0, name.find('/'));
        if (top.size() == name.size())
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' is not inside the archive's folder", source, name);
        if (e == 0) folder = top;
        if (top != folder)
            SPORTSMED_THROW(FormatError, "'{}': zip entries lie in two folders ('{}', '{}')", source, folder, top);
        if (method != 0 && method != 8)
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' uses compression method {} (PyTorch archives store "
                            "or deflate)", source, name, method);
        if (method == 0 ? csize != usize : (usize > 1032 * csize + 64 || csize > (1u << 30)))
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' has impossible sizes ({} bytes stored, {} unpacked)",
                            source, name, csize, usize);
        // The local header repeats the name; the data follows it and its extra field.
        if (local > size - 30 || r.u(local, 4) != kLocal)
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' has no local header at byte {}", source, name, local);
        const std::uint64_t lname = r.u(local + 26, 2), lextra = r.u(local + 28, 2);
        if (lname != name_len || bytes.compare(local + 30, lname, name) != 0 || r.u(local + 8, 2) != method)
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' differs between its local and central headers", source,
                            name);
        const std::uint64_t data = local + 30 + lname + lextra;
        if (data > cd_offset || csize > cd_offset - data)
            SPORTSMED_THROW(FormatError, "'{}': the data of zip entry '{}' ({} bytes at {}) runs past the archive",
                            source, name, csize, data);
        if ((method == 0 ? crc32_of(bytes.data() + data, csize) : inflated_crc(bytes.data() + data, csize, usize,
                                                                               source, name)) != crc)
            SPORTSMED_THROW(FormatError, "'{}': zip entry '{}' fails its CRC-32 check (the file is damaged)", source,
                            name);
        spans.emplace_back(local, data + csize);
        p += 46 + name_len + extra_len + comment_len;
    }
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i)
        if (spans[i].first < spans[i - 1].second)
            SPORTSMED_THROW(FormatError, "'{}': two zip entries overlap", source);
    for (const char* required : {"data.pkl", "version"})
        if (!names.count(folder + "/" + required))
            SPORTSMED_THROW(FormatError, "'{}': not a PyTorch archive (no '{}/{}')", source, folder, required);
}

}  // namespace sportsmed::seg::detail
