// A structural check of a DICOM file before GDCM sees it: GDCM (as Debian builds it) asserts
// on malformed element headers and takes the process down; a walk of the element structure
// finds those files first and reports them as FormatErrors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "dicom_check.hpp"

namespace sportsmed::imaging::detail {
namespace {

constexpr const char* kWho = "read_dicom_series";
constexpr int kMaxDepth = 32;
constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;

struct Walker {
    const std::vector<std::uint8_t>& b;
    const std::string& path;
    bool big = false;       // byte order of the data set
    bool explicit_vr = true;

    std::uint16_t u16(std::size_t o) const {
        return big ? static_cast<std::uint16_t>(b[o] << 8 | b[o + 1]) : static_cast<std::uint16_t>(b[o] | b[o + 1] << 8);
    }
    std::uint32_t u32(std::size_t o) const {
        return big ? (std::uint32_t(b[o]) << 24 | std::uint32_t(b[o + 1]) << 16 | std::uint32_t(b[o + 2]) << 8 | b[o + 3])
                   : (std::uint32_t(b[o]) | std::uint32_t(b[o + 1]) << 8 | std::uint32_t(b[o + 2]) << 16 |
                      std::uint32_t(b[o + 3]) << 24);
    }

    [[noreturn]] void fail(std::size_t at, const std::string& what) const {
        SPORTSMED_THROW(FormatError, "{}: '{}' is not a well-formed DICOM file: {} at byte {}", kWho, path, what, at);
    }

    static bool long_vr(const char* vr) {
        static const char* longs[] = {"OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV"};
        for (const char* l : longs)
            if (vr[0] == l[0] && vr[1] == l[1]) return true;
        return false;
    }
    static bool known_vr(const char* vr) {
        static const char* all[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB",
                                    "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM",
                                    "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"};
        for (const char* v : all)
            if (vr[0] == v[0] && vr[1] == v[1]) return true;
        return false;
    }

    // Values of the top-level data set that GDCM asserts on (rather than reporting) when
    // it builds the image: SamplesPerPixel other than 1, 3, 4, BitsStored above BitsAllocated (or
    // without it; see check_bits), a Recognition Code other than ACR-NEMA's.
    int bits_allocated = -1, bits_stored = -1;  // -1: absent
    std::size_t bits_stored_at = 0;
    void check_value(std::uint16_t g, std::uint16_t e, std::size_t value, std::uint32_t len) {
        if (g == 0x0008 && e == 0x0010) check_recognition_code(value, len);
        if (g == 0x0028 && e == 0x1052 && len > 0) check_rescale(value, len, "RescaleIntercept (0028,1052)", false);
        if (g == 0x0028 && e == 0x1053 && len > 0) check_rescale(value, len, "RescaleSlope (0028,1053)", true);
        if (g != 0x0028 || len < 2) return;
        if (e == 0x0002 && u16(value) != 1 && u16(value) != 3 && u16(value) != 4)
            fail(value, fmt::format("SamplesPerPixel (0028,0002) is {}, expected 1, 3 or 4", u16(value)));
        if (e == 0x0100) bits_allocated = u16(value);
        if (e == 0x0101) bits_stored = u16(value), bits_stored_at = value;
    }
    // The retired ACR-NEMA Recognition Code: GDCM asserts it names ACR-NEMA or MIPS.
    void check_recognition_code(std::size_t value, std::uint32_t len) const {
        const std::string code(reinterpret_cast<const char*>(b.data() + value), std::min<std::uint32_t>(len, 8));
        if (len > 0 && code.compare(0, 8, "ACR-NEMA") != 0 && code.compare(0, 7, "ACRNEMA") != 0 &&
            code.compare(0, 8, "MIPS 2.0") != 0)
            fail(value, fmt::format("Recognition Code (0008,0010) is '{}', expected ACR-NEMA or MIPS 2.0", code));
    }
    // Elements GDCM and the reader decode with gdcm::Attribute, which asserts that an
    // explicit VR is the dictionary's: the image pixel module and the geometry.
    void check_vr(std::uint16_t g, std::uint16_t e, const char* vr, std::size_t at) const {
        struct Expected {
            std::uint16_t g, e;
            const char* vr;
        };
        static const Expected table[] = {
            {0x0018, 0x0081, "DS"}, {0x0020, 0x0032, "DS"}, {0x0020, 0x0037, "DS"}, {0x0028, 0x0002, "US"},
            {0x0028, 0x0004, "CS"}, {0x0028, 0x0006, "US"}, {0x0028, 0x0008, "IS"}, {0x0028, 0x0010, "US"},
            {0x0028, 0x0011, "US"}, {0x0028, 0x0030, "DS"}, {0x0028, 0x0100, "US"}, {0x0028, 0x0101, "US"},
            {0x0028, 0x0102, "US"}, {0x0028, 0x0103, "US"}, {0x0028, 0x1052, "DS"}, {0x0028, 0x1053, "DS"}};
        for (const auto& x : table)
            if (x.g == g && x.e == e && (vr[0] != x.vr[0] || vr[1] != x.vr[1]))
                fail(at, fmt::format("({:04X},{:04X}) has VR {:.2s}, expected {}", g, e, std::string_view(vr, 2), x.vr));
    }
    // RescaleIntercept and RescaleSlope: GDCM asserts on a slope of 0, and reads a value it
    // cannot parse as 0 (both must be numbers; the slope not 0).
    void check_rescale(std::size_t value, std::uint32_t len, const char* name, bool nonzero) const {
        std::string text(reinterpret_cast<const char*>(b.data() + value), len);
        text = text.substr(0, text.find('\\'));
        static const std::string blanks(" \0", 2);  // DS padding: spaces, or a NUL from lax writers
        const auto first = text.find_first_not_of(blanks);
        const auto last = text.find_last_not_of(blanks);
        const std::string t = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
        char* parsed_end = nullptr;
        const double v = std::strtod(t.c_str(), &parsed_end);
        if (t.empty() || parsed_end != t.c_str() + t.size() || !std::isfinite(v) || (nonzero && v == 0))
            fail(value, fmt::format("{} is '{}', expected a{} number", name, t, nonzero ? " non-zero" : ""));
    }
    void check_bits() const {
        if (bits_stored >= 0 && (bits_allocated <= 0 || bits_stored > bits_allocated))
            fail(bits_stored_at, fmt::format("BitsStored (0028,0101) is {}, BitsAllocated (0028,0100) {}", bits_stored,
                                             bits_allocated < 0 ? std::string("absent") : std::to_string(bits_allocated)));
    }

    // Items of a sequence (or fragments of encapsulated pixel data) from @p pos up to @p end
    // (or, with an undefined length, up to the sequence delimiter); returns the position after.
    std::size_t items(std::size_t pos, std::size_t end, bool undefined, bool fragments, int depth) {
        while (true) {
            if (!undefined && pos == end) return pos;
            if (pos + 8 > end) fail(pos, "a sequence item runs past its end");
            const std::uint16_t g = u16(pos), e = u16(pos + 2);
            const std::uint32_t len = u32(pos + 4);
            if (g != 0xFFFE) fail(pos, fmt::format("expected an item tag (FFFE,E000), found ({:04X},{:04X})", g, e));
            pos += 8;
            if (e == 0xE0DD) {
                if (!undefined) fail(pos - 8, "a sequence delimiter in a sequence of defined length");
                return pos;
            }
            if (e != 0xE000) fail(pos - 8, fmt::format("unexpected item tag (FFFE,{:04X})", e));
            if (fragments) {
                if (len == kUndefined || len > end - pos) fail(pos, "a pixel-data fragment runs past the file");
                pos += len;
            } else if (len == kUndefined) {
                pos = dataset(pos, end, true, depth + 1);
            } else {
                if (len > end - pos) fail(pos, "a sequence item runs past its end");
                dataset(pos, pos + len, false, depth + 1);
                pos += len;
            }
        }
    }

    // Elements from @p pos up to @p end (or, in an item of undefined length, up to the item
    // delimiter); returns the position after.
    std::size_t dataset(std::size_t pos, std::size_t end, bool until_delimiter, int depth) {
        if (depth > kMaxDepth) fail(pos, "sequences nested too deeply");
        while (pos < end) {
            if (pos + 8 > end) fail(pos, "an element header runs past the end");
            const std::uint16_t g = u16(pos), e = u16(pos + 2);
            if (g == 0xFFFE) {
                if (e == 0xE00D && until_delimiter) return pos + 8;
                fail(pos, fmt::format("unexpected delimiter (FFFE,{:04X})", e));
            }
            std::uint32_t len;
            bool sq = false, pixel = g == 0x7FE0 && e == 0x0010;
            std::size_t value;
            if (explicit_vr) {
                const char vr[2] = {static_cast<char>(b[pos + 4]), static_cast<char>(b[pos + 5])};
                if (!known_vr(vr)) fail(pos + 4, fmt::format("({:04X},{:04X}) has no valid value representation", g, e));
                if (long_vr(vr)) {
                    if (pos + 12 > end) fail(pos, "an element header runs past the end");
                    len = u32(pos + 8);
                    value = pos + 12;
                } else {
                    len = u16(pos + 6);
                    value = pos + 8;
                }
                if (depth == 0) check_vr(g, e, vr, pos + 4);
                sq = vr[0] == 'S' && vr[1] == 'Q';
                if (len == kUndefined && !(sq || pixel || (vr[0] == 'U' && vr[1] == 'N')))
                    fail(pos, fmt::format("({:04X},{:04X}) has an undefined length", g, e));
                if (vr[0] == 'U' && vr[1] == 'N' && len == kUndefined) sq = true;  // UN SQ: implicit inside
            } else {
                len = u32(pos + 4);
                value = pos + 8;
                sq = len == kUndefined && !pixel;
            }
            if (depth == 0 && g == 0x0008 && e == 0x0010 && (sq || len == kUndefined))
                fail(pos, "Recognition Code (0008,0010) is a sequence");
            if (len == kUndefined) {
                pos = items(value, end, true, pixel, depth);
                continue;
            }
            if (len > end - value) {
                if (end == b.size())
                    SPORTSMED_THROW(FormatError,
                                    "{}: '{}' is truncated: ({:04X},{:04X}) declares {} bytes from byte {}, the file "
                                    "ends at {}",
                                    kWho, path, g, e, len, value, b.size());
                fail(pos, fmt::format("({:04X},{:04X}) declares {} bytes past the end of its item", g, e, len));
            }
            if (depth == 0 && !sq) check_value(g, e, value, len);
            if (sq) {
                const bool saved = explicit_vr;
                items(value, value + len, false, false, depth);
                explicit_vr = saved;
            }
            pos = value + len;
        }
        if (until_delimiter) fail(pos, "an item of undefined length has no delimiter");
        return pos;
    }
};

}  // namespace

bool check_dicom_structure(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) SPORTSMED_THROW(NotFound, "{}: cannot open '{}'", kWho, path);
    const std::streamsize size = in.tellg();
    in.seekg(0);
    std::vector<std::uint8_t> b(static_cast<std::size_t>(std::max<std::streamsize>(size, 0)));
    if (size > 0 && !in.read(reinterpret_cast<char*>(b.data()), size))
        SPORTSMED_THROW(FormatError, "{}: cannot read '{}'", kWho, path);
    Walker w{b, path};
    std::size_t pos = 0;
    const bool part10 = b.size() >= 132 && std::memcmp(b.data() + 128, "DICM", 4) == 0;
    if (part10) {
        // File meta information: explicit VR little endian, group 0002.
        pos = 132;
        std::string syntax;
        while (pos + 8 <= b.size() && w.u16(pos) == 0x0002) {
            const std::uint16_t e = w.u16(pos + 2);
            const char vr[2] = {static_cast<char>(b[pos + 4]), static_cast<char>(b[pos + 5])};
            if (!Walker::known_vr(vr)) w.fail(pos + 4, fmt::format("file-meta element (0002,{:04X}) has no valid VR", e));
            std::uint32_t len;
            std::size_t value;
            if (Walker::long_vr(vr)) {
                if (pos + 12 > b.size()) w.fail(pos, "a file-meta element header runs past the end");
                len = w.u32(pos + 8), value = pos + 12;
            } else {
                len = w.u16(pos + 6), value = pos + 8;
            }
            if (len == kUndefined || len > b.size() - value) w.fail(pos, "a file-meta element runs past the end");
            if (e == 0x0010) {
                syntax.assign(reinterpret_cast<const char*>(b.data() + value), len);
                while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
            }
            pos = value + len;
        }
        // GDCM asserts when the file ends with its file meta information.
        if (pos >= b.size()) w.fail(pos, "the file ends after its file meta information (no data set)");
        if (syntax == "1.2.840.10008.1.2") w.explicit_vr = false;
        else if (syntax == "1.2.840.10008.1.2.2") w.big = true;
        else if (syntax == "1.2.840.10008.1.2.1.99") return true;  // deflated: GDCM inflates and checks it
    } else {
        // No preamble (ACR-NEMA style): a DICOM data set starts with group 0008 (or 0002);
        // anything else in the folder (a README, .DS_Store) is not DICOM and is skipped.
        if (b.size() < 8) return false;
        const std::uint16_t g = static_cast<std::uint16_t>(b[0] | b[1] << 8);
        if (g != 0x0008 && g != 0x0002) return false;
        const char vr[2] = {static_cast<char>(b[4]), static_cast<char>(b[5])};
        w.explicit_vr = Walker::known_vr(vr);
        // File meta information is explicit VR by definition; GDCM asserts on an implicit one.
        if (g == 0x0002 && !w.explicit_vr) w.fail(4, "file meta information (group 0002) without explicit VRs");
    }
    w.dataset(pos, b.size(), false, 0);
    w.check_bits();
    return true;
}

}  // namespace sportsmed::imaging::detail
