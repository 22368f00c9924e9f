// C3D reader: header, parameter section, point and analog data.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>

#include <fmt/ranges.h>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/text.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/force_plate.hpp"

namespace sportsmed::motion {
namespace detail {

/// Byte-level decoding of the three processor formats.
struct Bytes {
    const std::uint8_t* data;
    std::size_t size;
    const std::string& name;
    C3dProcessor proc;

    void need(std::size_t offset, std::size_t n, const char* what) const {
        if (offset > size || n > size - offset)
            SPORTSMED_THROW(FormatError,
                            "read_c3d: {} at byte {} needs {} bytes, past the end of the {}-byte file '{}'",
                            what, offset, n, size, name);
    }
    std::uint8_t u8(std::size_t o) const { return data[o]; }
    std::int8_t i8(std::size_t o) const { return static_cast<std::int8_t>(data[o]); }
    std::uint16_t u16(std::size_t o) const {
        if (proc == C3dProcessor::Mips) return static_cast<std::uint16_t>(data[o] << 8 | data[o + 1]);
        return static_cast<std::uint16_t>(data[o] | data[o + 1] << 8);
    }
    std::int16_t i16(std::size_t o) const { return static_cast<std::int16_t>(u16(o)); }
    float f32(std::size_t o) const { return decode_float(data + o, proc); }

    static float decode_float(const std::uint8_t* p, C3dProcessor proc) {
        std::uint32_t bits;
        if (proc == C3dProcessor::Intel) {
            bits = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
                   std::uint32_t(p[3]) << 24;
        } else if (proc == C3dProcessor::Mips) {
            bits = std::uint32_t(p[3]) | std::uint32_t(p[2]) << 8 | std::uint32_t(p[1]) << 16 |
                   std::uint32_t(p[0]) << 24;
        } else {
            // VAX F-float: 16-bit halves swapped relative to IEEE little-endian; exponent
            // bias 128 with a 0.1f mantissa, hence the division by 4. Exponent 0 is zero.
            bits = std::uint32_t(p[2]) | std::uint32_t(p[3]) << 8 | std::uint32_t(p[0]) << 16 |
                   std::uint32_t(p[1]) << 24;
            if ((bits & 0x7F800000u) == 0) return 0.0f;
            float f;
            std::memcpy(&f, &bits, 4);
            return f * 0.25f;
        }
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
};

std::string trim_right(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

}  // namespace detail

namespace {

using detail::Bytes;

struct ParsedParameters {
    std::vector<C3dGroup> groups;
    std::vector<std::string> warnings;
    std::int64_t non_utf8 = 0;  // text fields read as Windows-1252
};

ParsedParameters parse_parameters(const Bytes& b, std::size_t start, std::size_t data_start) {
    b.need(start, 4, "parameter section header");
    const int n_blocks = b.u8(start + 2);
    const std::size_t declared_end = start + 512 * static_cast<std::size_t>(std::max(n_blocks, 1));
    // Some writers (PhoeniX) undercount the parameter blocks; the records go on up to the
    // data section, and their own chain of offsets says where they end.
    const std::size_t end = std::min(std::max(declared_end, data_start), b.size);

    ParsedParameters out;
    std::map<int, std::size_t> group_of_id;          // group id -> index in out.groups
    std::vector<std::pair<int, C3dParameter>> loose;  // parameters seen before their group

    std::size_t pos = start + 4;
    while (pos + 2 <= end) {
        const int nchar_signed = b.i8(pos);
        if (nchar_signed == 0) break;
        const int nchar = std::abs(nchar_signed);
        const int id = b.i8(pos + 1);
        b.need(pos + 2, static_cast<std::size_t>(nchar) + 2, "parameter record name");
        std::string name(reinterpret_cast<const char*>(b.data + pos + 2), nchar);
        out.non_utf8 += utf8_or_latin1(name);
        const std::size_t offset_at = pos + 2 + nchar;
        const int offset = b.i16(offset_at);
        const std::size_t body = offset_at + 2;
        std::size_t next = 0;
        bool last = offset == 0;
        if (offset < 0) {
            out.warnings.push_back(fmt::format(
                "parameter record '{}' at byte {} has next-record offset {}; the parameters after "
                "it are ignored",
                name, pos, offset));
            last = true;
        } else if (offset > 0) {
            next = offset_at + static_cast<std::size_t>(offset);
        }
        const std::size_t record_end = last ? end : next;
        if (!last && next > b.size)
            SPORTSMED_THROW(FormatError,
                            "read_c3d: parameter record '{}' at byte {} points to byte {}, past the end "
                            "of the {}-byte file '{}'",
                            name, pos, next, b.size, b.name);
        if (id == 0) {
            out.warnings.push_back(fmt::format("parameter record '{}' at byte {} has group id 0; skipped", name, pos));
        } else if (id < 0) {
            C3dGroup g;
            g.name = detail::trim_right(name);
            g.locked = nchar_signed < 0;
            if (body < record_end) {
                const int dlen = b.u8(body);
                if (body + 1 + dlen <= record_end) {
                    g.description = detail::trim_right(
                        std::string(reinterpret_cast<const char*>(b.data + body + 1), dlen));
                    out.non_utf8 += utf8_or_latin1(g.description);
                }
            }
            auto it = group_of_id.find(-id);
            if (it == group_of_id.end()) {
                group_of_id[-id] = out.groups.size();
                out.groups.push_back(std::move(g));
            } else {
                out.groups[it->second].name = g.name;
                out.groups[it->second].description = g.description;
            }
        } else {
            C3dParameter p;
            p.name = detail::trim_right(name);
            p.locked = nchar_signed < 0;
            b.need(body, 2, "parameter type and dimensions");
            const int type = b.i8(body);
            const int ndims = b.u8(body + 1);
            if (type != -1 && type != 1 && type != 2 && type != 4)
                SPORTSMED_THROW(FormatError,
                                "read_c3d: parameter '{}' at byte {} has type {}, expected -1, 1, 2 or 4 "
                                "(file '{}')",
                                p.name, pos, type, b.name);
            p.type = static_cast<C3dType>(type);
            b.need(body + 2, ndims, "parameter dimensions");
            std::size_t count = 1;
            for (int d = 0; d < ndims; ++d) {
                p.dims.push_back(b.u8(body + 2 + d));
                count *= static_cast<std::size_t>(p.dims.back());
            }
            const std::size_t data_at = body + 2 + ndims;
            const std::size_t elem = static_cast<std::size_t>(std::abs(type));
            b.need(data_at, count * elem, "parameter data");
            if (p.type == C3dType::Char) {
                const std::size_t len = ndims == 0 ? 1 : static_cast<std::size_t>(p.dims[0]);
                const std::size_t n = len == 0 ? 0 : count / len;
                for (std::size_t i = 0; i < n; ++i) {
                    p.strings.push_back(detail::trim_right(
                        std::string(reinterpret_cast<const char*>(b.data + data_at + i * len), len)));
                    out.non_utf8 += utf8_or_latin1(p.strings.back());
                }
            } else {
                p.numbers.resize(count);
                for (std::size_t i = 0; i < count; ++i) {
                    const std::size_t o = data_at + i * elem;
                    p.numbers[i] = type == 1 ? double(b.u8(o)) : type == 2 ? double(b.i16(o)) : double(b.f32(o));
                }
            }
            const std::size_t desc_at = data_at + count * elem;
            if (desc_at < record_end && desc_at < b.size) {
                const int dlen = b.u8(desc_at);
                if (desc_at + 1 + dlen <= b.size) {
                    p.description = detail::trim_right(
                        std::string(reinterpret_cast<const char*>(b.data + desc_at + 1), dlen));
                    out.non_utf8 += utf8_or_latin1(p.description);
                }
            }
            loose.emplace_back(id, std::move(p));
        }
        if (last) break;
        if (next >= declared_end && pos < declared_end)
            out.warnings.push_back(fmt::format(
                "the parameter section declares {} block(s) but its records go on past byte {}; read up to the "
                "data section",
                n_blocks, declared_end));
        pos = next;
    }
    for (auto& [id, p] : loose) {
        auto it = group_of_id.find(id);
        if (it == group_of_id.end()) {
            // A parameter whose group record is missing: keep it in a synthetic group.
            group_of_id[id] = out.groups.size();
            out.groups.push_back(C3dGroup{fmt::format("GROUP{}", id), {}, false, {}});
            out.warnings.push_back(fmt::format("parameter '{}' refers to group {} which has no record", p.name, id));
            it = group_of_id.find(id);
        }
        out.groups[it->second].parameters.push_back(std::move(p));
    }
    return out;
}

// Concatenates NAME, NAME2, NAME3 … of a group (LABELS, LABELS2 …).
std::vector<std::string> continued_strings(const C3d& c, const char* group, const char* name) {
    std::vector<std::string> out;
    if (const C3dParameter* p = c.find(group, name); p && p->type == C3dType::Char)
        out = p->strings;
    for (int k = 2;; ++k) {
        const C3dParameter* p = c.find(group, fmt::format("{}{}", name, k));
        if (!p || p->type != C3dType::Char) break;
        out.insert(out.end(), p->strings.begin(), p->strings.end());
    }
    return out;
}

std::vector<double> continued_numbers(const C3d& c, const char* group, const char* name) {
    std::vector<double> out;
    if (const C3dParameter* p = c.find(group, name); p && p->type != C3dType::Char) out = p->numbers;
    for (int k = 2;; ++k) {
        const C3dParameter* p = c.find(group, fmt::format("{}{}", name, k));
        if (!p || p->type == C3dType::Char) break;
        out.insert(out.end(), p->numbers.begin(), p->numbers.end());
    }
    return out;
}

// n labels from NAME, NAME2 … of a group, blank or missing ones named <prefix><i> (1-based).
std::vector<std::string> labels_or_default(const C3d& c, const char* group, const char* name, std::int64_t n,
                                           const char* prefix) {
    std::vector<std::string> out = continued_strings(c, group, name);
    out.resize(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i].empty()) out[i] = fmt::format("{}{}", prefix, i + 1);
    return out;
}

std::int64_t count_parameter(const C3d& c, const char* group, const char* name, std::int64_t fallback) {
    const C3dParameter* p = c.find(group, name);
    if (!p || p->type == C3dType::Char || p->numbers.empty()) return fallback;
    return p->as_uint16()[0];
}

double number_parameter(const C3d& c, const char* group, const char* name, double fallback) {
    const C3dParameter* p = c.find(group, name);
    if (!p || p->type == C3dType::Char || p->numbers.empty()) return fallback;
    return p->numbers[0];
}

// Decodes frames [0, n_frames) of the data section. Kept as a template on the storage
// and processor so that the inner loop has no per-value branching.
template <bool Float, C3dProcessor Proc>
void decode_data(const std::uint8_t* data, std::int64_t n_frames, std::int64_t n_points,
                 std::int64_t analog_per_frame, std::int64_t n_channels, std::int64_t ratio,
                 double scale, const std::vector<double>& a_scale, const std::vector<double>& a_offset,
                 bool analog_unsigned, C3d& c, std::int64_t& zero_points) {
    const std::string no_name;
    const Bytes b{data, std::numeric_limits<std::size_t>::max(), no_name, Proc};
    constexpr std::size_t elem = Float ? 4 : 2;
    const std::size_t frame_bytes = static_cast<std::size_t>(4 * n_points + analog_per_frame) * elem;
    const double abs_scale = std::abs(scale);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto value = [&](std::size_t o) -> double {
        if constexpr (Float) {
            return double(Bytes::decode_float(data + o, Proc));
        } else {
            return double(b.i16(o));
        }
    };
    for (std::int64_t f = 0; f < n_frames; ++f) {
        const std::size_t base = static_cast<std::size_t>(f) * frame_bytes;
        double* xyz = c.trial.points.row(f).data();
        double* res = c.trial.residuals.row(f).data();
        std::uint8_t* cam = c.camera_masks.row(f).data();
        for (std::int64_t m = 0; m < n_points; ++m) {
            const std::size_t o = base + static_cast<std::size_t>(4 * m) * elem;
            const double w = value(o + 3 * elem);
            // A float-stored word beyond int32 (or NaN) carries no camera/residual bits to
            // read; converting it would be undefined behaviour.
            const std::int32_t word = w >= 0 && w < 2147483648.0 ? static_cast<std::int32_t>(w) : 0;
            if (w < 0) {
                xyz[3 * m] = xyz[3 * m + 1] = xyz[3 * m + 2] = nan;
                res[m] = -1.0;
                cam[m] = 0;
                continue;
            }
            const double k = Float ? 1.0 : scale;
            const double px = value(o), py = value(o + elem), pz = value(o + 2 * elem);
            if (px == 0.0 && py == 0.0 && pz == 0.0) {
                // Several systems write a missing marker as exact zeros, with or without an
                // invalid residual; a real marker is never exactly at the lab origin, and
                // Plug-in Gait writes the powers and forces it did not compute as zeros.
                xyz[3 * m] = xyz[3 * m + 1] = xyz[3 * m + 2] = nan;
                res[m] = -1.0;
                cam[m] = 0;
                ++zero_points;
                continue;
            }
            xyz[3 * m] = px * k;
            xyz[3 * m + 1] = py * k;
            xyz[3 * m + 2] = pz * k;
            res[m] = double(word & 0xFF) * abs_scale;
            cam[m] = static_cast<std::uint8_t>((word >> 8) & 0xFF);
        }
        if (n_channels == 0) continue;
        const std::size_t abase = base + static_cast<std::size_t>(4 * n_points) * elem;
        for (std::int64_t s = 0; s < ratio; ++s) {
            double* out = c.trial.analogs.row(f * ratio + s).data();
            for (std::int64_t ch = 0; ch < n_channels; ++ch) {
                const std::size_t o = abase + static_cast<std::size_t>(s * n_channels + ch) * elem;
                double raw;
                if constexpr (Float) {
                    raw = value(o);
                } else {
                    raw = analog_unsigned ? double(b.u16(o)) : double(b.i16(o));
                }
                out[ch] = (raw - a_offset[ch]) * a_scale[ch];
            }
        }
    }
}

// The rotation extension: RATIO (or RATE / POINT:RATE) samples per frame, each USED bodies
// of 16 floats (a 4 x 4 transform, first index fastest) and a reliability, from block
// DATA_START on. Anything inconsistent is a warning and no rotations, never a guess.
void read_rotations(C3d& c, const Bytes& b, std::int64_t n_frames) {
    const std::int64_t used = count_parameter(c, "ROTATION", "USED", -1);
    const std::int64_t start = count_parameter(c, "ROTATION", "DATA_START", 0);
    std::int64_t ratio = count_parameter(c, "ROTATION", "RATIO", 0);
    const double point_rate = number_parameter(c, "POINT", "RATE", c.header.frame_rate_hz);
    if (ratio <= 0 && point_rate > 0) {
        const double rate = number_parameter(c, "ROTATION", "RATE", 0.0);
        if (rate > 0 && std::abs(rate / point_rate - std::round(rate / point_rate)) < 1e-6)
            ratio = static_cast<std::int64_t>(std::round(rate / point_rate));
    }
    if (used <= 0 || start < 1 || ratio <= 0) {
        c.warnings.push_back(fmt::format(
            "the ROTATION group gives USED {}, DATA_START {}, RATIO {}: its rigid-body data were not read", used,
            start, ratio));
        return;
    }
    const std::size_t at = 512 * static_cast<std::size_t>(start - 1);
    const std::size_t sample_bytes = static_cast<std::size_t>(used) * 17 * 4;
    std::int64_t samples = n_frames * ratio;
    const std::size_t available = at <= b.size ? b.size - at : 0;
    if (static_cast<std::size_t>(samples) > available / sample_bytes) {
        const auto held = static_cast<std::int64_t>(available / sample_bytes);
        c.warnings.push_back(fmt::format("the ROTATION section declares {} samples but the file holds {}; read those",
                                         samples, held));
        samples = held;
    }
    C3dRotations& r = c.rotations;
    r.labels = labels_or_default(c, "ROTATION", "LABELS", used, "ROTATION");
    r.rate_hz = point_rate * double(ratio);
    r.matrices.resize(samples, 16 * used);
    r.reliability.resize(samples, used);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::int64_t s = 0; s < samples; ++s) {
        for (std::int64_t k = 0; k < used; ++k) {
            const std::size_t o = at + static_cast<std::size_t>(s) * sample_bytes + static_cast<std::size_t>(k) * 68;
            const double rel = double(b.f32(o + 64));
            r.reliability(s, k) = rel;
            for (int col = 0; col < 4; ++col)
                for (int row = 0; row < 4; ++row)
                    r.matrices(s, 16 * k + 4 * row + col) =
                        rel < 0 ? nan : double(b.f32(o + static_cast<std::size_t>(4 * col + row) * 4));
        }
    }
}

}  // namespace

C3d decode_c3d(const std::uint8_t* data, std::size_t size, const std::string& name,
               const C3dReadOptions& options) {
    C3d c;
    Bytes b{data, size, name, C3dProcessor::Intel};
    b.need(0, 512, "header");
    c.header.parameter_block = b.u8(0);
    if (c.header.parameter_block < 1)
        SPORTSMED_THROW(FormatError, "read_c3d: header of '{}' gives parameter block {} (byte 0), expected >= 1",
                        name, c.header.parameter_block);
    const std::size_t param_start = 512 * static_cast<std::size_t>(c.header.parameter_block - 1);
    b.need(param_start, 4, "parameter section");
    const int proc = b.u8(param_start + 3);
    if (proc != 84 && proc != 85 && proc != 86)
        SPORTSMED_THROW(FormatError,
                        "read_c3d: processor byte at byte {} of '{}' is {}, expected 84 (Intel), 85 (DEC) or 86 (MIPS)",
                        param_start + 3, name, proc);
    c.processor = static_cast<C3dProcessor>(proc);
    b.proc = c.processor;

    C3dHeader& h = c.header;
    h.n_points = b.u16(2);
    h.analog_per_frame = b.u16(4);
    h.first_frame = b.u16(6);
    h.last_frame = b.u16(8);
    h.max_gap = b.u16(10);
    h.scale = b.f32(12);
    h.data_block = b.u16(16);
    h.analog_ratio = b.u16(18);
    h.frame_rate_hz = b.f32(20);
    // Header events: key 12345 at word 150, count at word 151, then times, flags, labels.
    const int n_header_events = b.i16(300);
    std::int64_t header_non_utf8 = 0;
    if (b.u16(298) == 12345 && n_header_events > 0 && n_header_events <= 18) {
        for (int e = 0; e < n_header_events; ++e) {
            C3dHeaderEvent ev;
            ev.time_s = b.f32(304 + 4 * e);
            ev.displayed = b.u8(376 + e) == 0;
            ev.label = detail::trim_right(std::string(reinterpret_cast<const char*>(data + 396 + 4 * e), 4));
            if (utf8_or_latin1(ev.label)) ++header_non_utf8;
            h.events.push_back(ev);
        }
    }

    ParsedParameters parsed = parse_parameters(
        b, param_start, h.data_block > 0 ? 512 * static_cast<std::size_t>(h.data_block - 1) : 0);
    c.groups = std::move(parsed.groups);
    c.warnings = std::move(parsed.warnings);
    if (parsed.non_utf8 + header_non_utf8 > 0)
        c.warnings.push_back(fmt::format("{} text field(s) (labels, descriptions, names) are not UTF-8; read as "
                                         "Windows-1252 / Latin-1",
                                         parsed.non_utf8 + header_non_utf8));

    // Layout of the data section.
    std::int64_t n_points = count_parameter(c, "POINT", "USED", h.n_points);
    double scale = number_parameter(c, "POINT", "SCALE", h.scale);
    if (scale == 0.0) scale = h.scale;
    c.float_storage = scale < 0;
    const double point_rate = number_parameter(c, "POINT", "RATE", h.frame_rate_hz);

    // Frame count. The header's 16-bit words cannot count past 65535; longer files say so
    // with POINT:FRAMES as a float (the C3D documentation's recommendation), POINT:FRAMES =
    // -1 (ezc3d), POINT:LONG_FRAMES, or TRIAL:ACTUAL_START_FIELD / ACTUAL_END_FIELD (two
    // 16-bit words each; the end field alone is enough, counted from the header's first
    // frame). The largest count any of them gives is taken; when the only signal is a
    // saturated count (65535 or -1), the complete frames the data section holds are read.
    std::int64_t first = h.first_frame;
    std::int64_t n_frames = std::int64_t(h.last_frame) - h.first_frame + 1;
    bool saturated = h.last_frame == 65535;
    std::string frames_source = "the header";
    auto consider = [&](std::int64_t v, const char* source) {
        if (v > n_frames) {
            n_frames = v;
            frames_source = source;
        }
    };
    const C3dParameter* start_field = c.find("TRIAL", "ACTUAL_START_FIELD");
    const C3dParameter* end_field = c.find("TRIAL", "ACTUAL_END_FIELD");
    if (end_field && end_field->type != C3dType::Char && !end_field->numbers.empty()) {
        auto field = [](const C3dParameter& p) {
            if (p.type == C3dType::Float) return p.as_int(0);
            const auto w = p.as_uint16();
            return w.size() >= 2 ? w[0] + 65536 * w[1] : w[0];
        };
        const std::int64_t e32 = field(*end_field);
        std::int64_t s32 = first;
        if (start_field && start_field->type != C3dType::Char && !start_field->numbers.empty())
            s32 = field(*start_field);
        if (e32 >= s32 && s32 >= 1 && e32 - s32 + 1 > n_frames) {
            first = s32;
            consider(e32 - s32 + 1, "TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD");
        }
    }
    if (const C3dParameter* lf = c.find("POINT", "LONG_FRAMES");
        lf && lf->type != C3dType::Char && !lf->numbers.empty()) {
        consider(lf->type == C3dType::Int16 ? lf->as_uint16()[0] : lf->as_int(0), "POINT:LONG_FRAMES");
    }
    if (const C3dParameter* fr = c.find("POINT", "FRAMES");
        fr && fr->type != C3dType::Char && !fr->numbers.empty()) {
        if (fr->type == C3dType::Float) {
            if (std::isfinite(fr->numbers[0]) && fr->numbers[0] >= 0 && fr->numbers[0] < 1e15)
                consider(fr->as_int(0), "POINT:FRAMES");
        } else if (fr->type == C3dType::Int16 && fr->numbers[0] == -1) {
            saturated = true;
        } else {
            const std::int64_t v = fr->type == C3dType::Int16 ? fr->as_uint16()[0] : fr->as_int(0);
            if (v == 65535) saturated = true;
            consider(v, "POINT:FRAMES");
        }
    }
    if (n_frames < 0) n_frames = 0;
    const bool count_unknown = saturated && n_frames <= 65535;
    std::int64_t n_channels = count_parameter(c, "ANALOG", "USED", 0);
    std::int64_t analog_per_frame = h.analog_per_frame;

    std::int64_t data_block = h.data_block;
    if (data_block < 1) data_block = count_parameter(c, "POINT", "DATA_START", 0);
    if (data_block < 1)
        SPORTSMED_THROW(FormatError, "read_c3d: '{}' gives no data block (header word 9 is {})", name, h.data_block);
    const std::size_t data_start = 512 * static_cast<std::size_t>(data_block - 1);
    const std::size_t elem = c.float_storage ? 4 : 2;
    const std::size_t available = data_start <= size ? size - data_start : 0;

    // The frame layout (points and analog samples per frame) is declared twice: POINT:USED
    // and header word 2, header word 3 and ANALOG:USED × the analog ratio (header word 10, or
    // ANALOG:RATE / POINT:RATE). Writers get one of them wrong (c.org samples: Motion Monitor,
    // Kyowa Dengyo); a wrong layout shears every frame after the first. The parameters and
    // header word 3 are taken unless they leave the data section unfilled or overfilled and
    // another declared layout fills it to within its last block.
    if (!count_unknown && n_frames > 0) {
        std::vector<std::int64_t> pts{n_points}, apfs{analog_per_frame};
        if (h.n_points != n_points) pts.push_back(h.n_points);
        if (n_channels > 0) {
            if (h.analog_ratio > 0) apfs.push_back(n_channels * h.analog_ratio);
            const double arate = number_parameter(c, "ANALOG", "RATE", 0.0);
            const double ratio = point_rate > 0 ? std::round(arate / point_rate) : 0.0;
            // (a ratio beyond any analog system is not a layout: and would not fit an int64)
            if (arate > 0 && ratio >= 1 && ratio <= 1e6 && std::abs(arate / point_rate - ratio) < 1e-6)
                apfs.push_back(n_channels * static_cast<std::int64_t>(ratio));
        }
        auto fills = [&](std::int64_t p, std::int64_t a) {
            const std::size_t fb = static_cast<std::size_t>(4 * p + a) * elem;
            if (fb == 0 || static_cast<std::size_t>(n_frames) > available / fb) return false;
            return available - static_cast<std::size_t>(n_frames) * fb < 512;
        };
        auto consistent = [&](std::int64_t a) { return n_channels == 0 || (a > 0 && a % n_channels == 0); };
        if (!(fills(n_points, analog_per_frame) && consistent(analog_per_frame))) {
            bool found = false;
            for (std::int64_t p : pts) {
                for (std::int64_t a : apfs) {
                    if (found || !consistent(a) || !fills(p, a)) continue;
                    if (p != n_points || a != analog_per_frame)
                        c.warnings.push_back(fmt::format(
                            "the declared layout ({} points, {} analog samples per frame) does not match the {} "
                            "data bytes of {} frames; the other declared layout ({} points, {} analog samples per "
                            "frame) fills them and was used",
                            n_points, analog_per_frame, available, n_frames, p, a));
                    n_points = p;
                    analog_per_frame = a;
                    found = true;
                }
            }
        }
    }

    std::int64_t ratio = 0;
    if (n_channels > 0 && analog_per_frame > 0) {
        if (analog_per_frame % n_channels != 0)
            SPORTSMED_THROW(FormatError,
                            "read_c3d: header of '{}' declares {} analog samples per frame, not a multiple of "
                            "ANALOG:USED = {}",
                            name, analog_per_frame, n_channels);
        ratio = analog_per_frame / n_channels;
    } else {
        n_channels = 0;
    }
    const std::size_t frame_bytes = static_cast<std::size_t>(4 * n_points + analog_per_frame) * elem;
    const C3dGroup* rotation_group = c.group("ROTATION");
    if (frame_bytes == 0 && !rotation_group) n_frames = 0;
    if (count_unknown && frame_bytes > 0) {
        const auto held = static_cast<std::int64_t>(available / frame_bytes);
        if (held > n_frames) {
            c.warnings.push_back(fmt::format(
                "the file signals more than 65535 frames (header last frame 65535 or POINT:FRAMES = -1) "
                "without giving the count (no float POINT:FRAMES, POINT:LONG_FRAMES or TRIAL fields); "
                "read the {} complete frames its data section holds",
                held));
            n_frames = held;
        }
    }
    if (frame_bytes > 0 && static_cast<std::size_t>(n_frames) > available / frame_bytes) {
        const std::int64_t held = static_cast<std::int64_t>(available / frame_bytes);
        if (!options.allow_short_data)
            SPORTSMED_THROW(FormatError,
                            "read_c3d: '{}' declares {} frames of {} bytes from byte {}, but the {}-byte file "
                            "ends at frame {} (byte {} is missing)",
                            name, n_frames, frame_bytes, data_start, size, held,
                            data_start + static_cast<std::size_t>(held + 1) * frame_bytes - 1);
        c.warnings.push_back(fmt::format("the file declares {} frames (from {}) but holds {} complete frames; read those",
                                         n_frames, frames_source, held));
        n_frames = held;
    }

    // Labels and descriptions.
    Trial& t = c.trial;
    t.point_labels = labels_or_default(c, "POINT", "LABELS", n_points, "POINT");
    {
        std::vector<std::string> given = continued_strings(c, "POINT", "LABELS");
        given.resize(static_cast<std::size_t>(n_points));
        std::vector<std::string> named;
        for (std::size_t i = 0; i < given.size(); ++i)
            if (given[i].empty()) named.push_back(t.point_labels[i]);
        if (!named.empty())
            c.warnings.push_back(fmt::format("{} point(s) have no label and were named {}{}", named.size(),
                                             fmt::join(named.begin(), named.begin() + std::min<std::size_t>(named.size(), 6), ", "),
                                             named.size() > 6 ? ", ..." : ""));
    }
    t.point_descriptions = continued_strings(c, "POINT", "DESCRIPTIONS");
    t.point_descriptions.resize(static_cast<std::size_t>(n_points));
    if (const C3dParameter* u = c.find("POINT", "UNITS"); u && u->type == C3dType::Char && !u->strings.empty()) {
        t.point_units = u->strings[0].empty() ? "mm" : u->strings[0];
        // Writers spell the unit out, sometimes cut to the parameter's width ("mete" for
        // metres in a 4-character field): a spelled-out length unit is read as its symbol.
        std::string low;
        for (const char ch : t.point_units)
            if (!std::isspace(static_cast<unsigned char>(ch))) low += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        std::string symbol;
        if (low.size() >= 4 && (std::string("millimetres").rfind(low, 0) == 0 || std::string("millimeters").rfind(low, 0) == 0))
            symbol = "mm";
        else if (low.size() >= 4 && (std::string("centimetres").rfind(low, 0) == 0 || std::string("centimeters").rfind(low, 0) == 0))
            symbol = "cm";
        else if (low.size() >= 3 && (std::string("metres").rfind(low, 0) == 0 || std::string("meters").rfind(low, 0) == 0))
            symbol = "m";
        if (!symbol.empty() && symbol != t.point_units) {
            c.warnings.push_back(fmt::format("POINT:UNITS '{}' read as '{}'", t.point_units, symbol));
            t.point_units = symbol;
        }
    }
    t.point_rate_hz = point_rate;
    t.first_frame = first;

    std::vector<double> a_scale(n_channels, 1.0), a_offset(n_channels, 0.0);
    bool analog_unsigned = false;
    if (n_channels > 0) {
        const double gen = number_parameter(c, "ANALOG", "GEN_SCALE", 1.0);
        const std::vector<double> sc = continued_numbers(c, "ANALOG", "SCALE");
        const std::vector<double> off = continued_numbers(c, "ANALOG", "OFFSET");
        if (static_cast<std::int64_t>(sc.size()) < n_channels)
            c.warnings.push_back(fmt::format("ANALOG:SCALE has {} values for {} channels; missing ones taken as 1",
                                             sc.size(), n_channels));
        if (static_cast<std::int64_t>(off.size()) < n_channels)
            c.warnings.push_back(fmt::format("ANALOG:OFFSET has {} values for {} channels; missing ones taken as 0",
                                             off.size(), n_channels));
        const C3dParameter* fmtp = c.find("ANALOG", "FORMAT");
        const bool has_format = fmtp && fmtp->type == C3dType::Char && !fmtp->strings.empty();
        if (has_format) analog_unsigned = fmtp->strings[0].rfind("UNSIGNED", 0) == 0;
        // OFFSET is a 16-bit word whose signedness is the converter's. Without ANALOG:FORMAT,
        // float-stored samples above 32767 (impossible for a signed 16-bit converter, the
        // C3D default) show an unsigned one: its mid-scale offset 32768 reads as -32768.
        const C3dParameter* offp = c.find("ANALOG", "OFFSET");
        const bool int_offsets = offp && offp->type == C3dType::Int16;
        const double bits = number_parameter(c, "ANALOG", "BITS", 16.0);
        bool offsets_unsigned = analog_unsigned;
        if (!has_format && int_offsets && c.float_storage && bits <= 16 &&
            std::any_of(off.begin(), off.end(), [](double o) { return o < 0; })) {
            const std::size_t frame_bytes_f = static_cast<std::size_t>(4 * n_points + analog_per_frame) * 4;
            const std::size_t data_at = 512 * static_cast<std::size_t>(data_block - 1);
            double max_raw = -std::numeric_limits<double>::infinity();
            for (std::int64_t f = 0; f < n_frames; ++f) {
                const std::size_t base = data_at + static_cast<std::size_t>(f) * frame_bytes_f +
                                         static_cast<std::size_t>(4 * n_points) * 4;
                for (std::int64_t k = 0; k < ratio * n_channels; ++k)
                    max_raw = std::max(max_raw, double(b.f32(base + static_cast<std::size_t>(k) * 4)));
            }
            if (max_raw > 32767.0) {
                offsets_unsigned = true;
                c.warnings.push_back(fmt::format(
                    "ANALOG:OFFSET holds negative 16-bit words and the analog samples reach {} (above 32767: an "
                    "unsigned converter, as ANALOG:FORMAT does not say); the offsets were read as unsigned",
                    max_raw));
            }
        }
        for (std::int64_t ch = 0; ch < n_channels; ++ch) {
            a_scale[ch] = gen * (ch < static_cast<std::int64_t>(sc.size()) ? sc[ch] : 1.0);
            double o = ch < static_cast<std::int64_t>(off.size()) ? off[ch] : 0.0;
            if (offsets_unsigned && int_offsets && o < 0) o += 65536;
            a_offset[ch] = o;
        }
        t.analog_labels = labels_or_default(c, "ANALOG", "LABELS", n_channels, "ANALOG");
        t.analog_units = continued_strings(c, "ANALOG", "UNITS");
        t.analog_units.resize(static_cast<std::size_t>(n_channels));
        t.analog_rate_hz = number_parameter(c, "ANALOG", "RATE", point_rate * double(ratio));
    }

    t.points.resize(n_frames, 3 * n_points);
    t.residuals.resize(n_frames, n_points);
    c.camera_masks.resize(n_frames, n_points);
    t.analogs.resize(n_frames * ratio, n_channels);
    const std::uint8_t* d = data + std::min(data_start, size);
    std::int64_t zero_points = 0;
    auto run = [&](auto float_tag, auto proc_tag) {
        decode_data<decltype(float_tag)::value, decltype(proc_tag)::value>(
            d, n_frames, n_points, analog_per_frame, n_channels, ratio, scale, a_scale, a_offset,
            analog_unsigned, c, zero_points);
    };
    using F = std::true_type;
    using I = std::false_type;
    using Intel = std::integral_constant<C3dProcessor, C3dProcessor::Intel>;
    using Dec = std::integral_constant<C3dProcessor, C3dProcessor::Dec>;
    using Mips = std::integral_constant<C3dProcessor, C3dProcessor::Mips>;
    if (c.float_storage) {
        if (c.processor == C3dProcessor::Intel) run(F{}, Intel{});
        else if (c.processor == C3dProcessor::Dec) run(F{}, Dec{});
        else run(F{}, Mips{});
    } else {
        if (c.processor == C3dProcessor::Mips) run(I{}, Mips{});
        else run(I{}, Intel{});  // DEC integers are little-endian like Intel
    }

    if (rotation_group) read_rotations(c, b, n_frames);
    if (zero_points > 0)
        c.warnings.push_back(fmt::format("{} point samples stored as exact (0, 0, 0) were read as missing (NaN)",
                                         zero_points));

    // Events: EVENT group (times as minutes, seconds pairs); header events otherwise.
    const std::vector<double> times = continued_numbers(c, "EVENT", "TIMES");
    const std::int64_t n_events = std::min<std::int64_t>(count_parameter(c, "EVENT", "USED", 0),
                                                         static_cast<std::int64_t>(times.size() / 2));
    if (n_events > 0) {
        const auto labels = continued_strings(c, "EVENT", "LABELS");
        const auto contexts = continued_strings(c, "EVENT", "CONTEXTS");
        const auto descriptions = continued_strings(c, "EVENT", "DESCRIPTIONS");
        for (std::int64_t e = 0; e < n_events; ++e) {
            Event ev;
            ev.time_s = times[2 * e] * 60.0 + times[2 * e + 1];
            if (e < static_cast<std::int64_t>(labels.size())) ev.label = labels[e];
            if (e < static_cast<std::int64_t>(contexts.size())) ev.context = contexts[e];
            if (e < static_cast<std::int64_t>(descriptions.size())) ev.description = descriptions[e];
            t.events.push_back(std::move(ev));
        }
    } else {
        for (const auto& he : h.events) t.events.push_back(Event{he.label, "", he.time_s, ""});
    }
    try {
        t.force_plates = force_plates(c);
    } catch (const Error& e) {
        c.warnings.push_back(fmt::format("force plates not computed: {}", e.what()));
    }
    for (const auto& [label, columns] : duplicate_labels(t.point_labels))
        c.warnings.push_back(fmt::format("{} point columns carry the label '{}' (columns {}); address each with "
                                         "Trial::marker(label, occurrence)",
                                         columns.size(), label, fmt::join(columns, ", ")));
    t.warnings = c.warnings;
    return c;
}

C3d read_c3d(const std::string& path, const C3dReadOptions& options) {
#if defined(__unix__) || defined(__APPLE__)
    // Map the file instead of copying it: the decoder reads it once, front to back.
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) SPORTSMED_THROW(NotFound, "read_c3d: cannot open '{}'", path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        SPORTSMED_THROW(NotFound, "read_c3d: '{}' is not a regular file", path);
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        return decode_c3d(nullptr, 0, path, options);
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) SPORTSMED_THROW(Error, "read_c3d: cannot map '{}'", path);
    ::madvise(map, size, MADV_SEQUENTIAL);
    struct Unmap {
        void* p;
        std::size_t n;
        ~Unmap() { ::munmap(p, n); }
    } unmap{map, size};
    return decode_c3d(static_cast<const std::uint8_t*>(map), size, path, options);
#else
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) SPORTSMED_THROW(NotFound, "read_c3d: cannot open '{}'", path);
    const std::streamsize n = in.tellg();
    in.seekg(0);
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(std::max<std::streamsize>(n, 0)));
    if (n > 0 && !in.read(reinterpret_cast<char*>(buf.data()), n))
        SPORTSMED_THROW(FormatError, "read_c3d: could not read the {} bytes of '{}'", n, path);
    return decode_c3d(buf.data(), buf.size(), path, options);
#endif
}

}  // namespace sportsmed::motion
