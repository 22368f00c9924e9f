// C3D writer: Intel processor, float storage.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"

namespace sportsmed::motion {
namespace {

// @p utf8 as one byte per character into @p out (the Windows-1252 / Latin-1 the reader
// decoded it from: U+0000..U+00FF, the Windows-1252 letters of 0x80..0x9F, and U+FFFD, a byte
// that decoded to nothing, as '?'); false when a character has no such byte.
bool latin1_of(const std::string& utf8, std::string& out) {
    static const unsigned kCp1252[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                         0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                         0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                         0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
    out.clear();
    for (std::size_t i = 0; i < utf8.size();) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        unsigned cp = 0;
        std::size_t len = 1;
        if (c < 0x80) cp = c;
        else if ((c & 0xE0) == 0xC0) cp = c & 0x1Fu, len = 2;
        else if ((c & 0xF0) == 0xE0) cp = c & 0x0Fu, len = 3;
        else return false;
        if (i + len > utf8.size()) return false;
        for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3Fu);
        i += len;
        if (cp <= 0xFF) {
            out += static_cast<char>(cp);
            continue;
        }
        if (cp == 0xFFFD) {
            out += '?';
            continue;
        }
        const unsigned* hit = std::find(std::begin(kCp1252), std::end(kCp1252), cp);
        if (hit == std::end(kCp1252)) return false;
        out += static_cast<char>(0x80 + (hit - std::begin(kCp1252)));
    }
    return true;
}

// @p s with control characters (NUL ...) as \xNN, for a message.
std::string printable(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c);
        else out += ch;
    }
    return out;
}

struct Writer {
    std::vector<std::uint8_t> out;
    void u8(int v) { out.push_back(static_cast<std::uint8_t>(v & 0xFF)); }
    void i16(int v) {
        const auto u = static_cast<std::uint16_t>(v);
        out.push_back(static_cast<std::uint8_t>(u & 0xFF));
        out.push_back(static_cast<std::uint8_t>(u >> 8));
    }
    void f32(double v) {
        const float f = static_cast<float>(v);
        std::uint32_t bits;
        std::memcpy(&bits, &f, 4);
        for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(bits >> (8 * k)));
    }
    void text(const std::string& s, std::size_t len) {
        for (std::size_t i = 0; i < len; ++i) out.push_back(i < s.size() ? static_cast<std::uint8_t>(s[i]) : ' ');
    }
    void pad_to_block() {
        while (out.size() % 512) out.push_back(0);
    }
};

void check_name(const std::string& what, const std::string& s) {
    SPORTSMED_CHECK(!s.empty() && s.size() <= 127, "write_c3d: {} name '{}' must have 1 to 127 characters", what, s);
}

// Splits a list into NAME, NAME2, NAME3 … parameters of at most 255 entries each.
void set_continued_text(C3dGroup& g, const std::string& name, const std::vector<std::string>& values) {
    for (int k = 2;; ++k) {
        if (!g.find(name + std::to_string(k))) break;
        g.remove(name + std::to_string(k));
    }
    std::size_t i = 0;
    int k = 1;
    do {
        const std::size_t n = std::min<std::size_t>(255, values.size() - i);
        std::vector<std::string> chunk(values.begin() + i, values.begin() + i + n);
        g.set(C3dParameter::text(k == 1 ? name : name + std::to_string(k), chunk));
        i += n;
        ++k;
    } while (i < values.size());
}

void set_continued_times(C3dGroup& g, const std::vector<Event>& events) {
    for (int k = 2;; ++k) {
        if (!g.find("TIMES" + std::to_string(k))) break;
        g.remove("TIMES" + std::to_string(k));
    }
    std::size_t i = 0;
    int k = 1;
    do {
        const std::size_t n = std::min<std::size_t>(255, events.size() - i);
        C3dParameter p;
        p.name = k == 1 ? "TIMES" : "TIMES" + std::to_string(k);
        p.type = C3dType::Float;
        p.dims = {2, static_cast<int>(n)};
        for (std::size_t e = i; e < i + n; ++e) {
            // Minutes as a whole number, seconds the remainder, as Vicon writes them.
            const double minutes = std::floor(events[e].time_s / 60.0);
            p.numbers.push_back(minutes);
            p.numbers.push_back(events[e].time_s - 60.0 * minutes);
        }
        g.set(std::move(p));
        i += n;
        ++k;
    } while (i < events.size());
}

std::size_t data_bytes(const C3dParameter& p) {
    std::size_t count = 1;
    for (int d : p.dims) count *= static_cast<std::size_t>(d);
    return count * static_cast<std::size_t>(std::abs(static_cast<int>(p.type)));
}

void write_parameter(Writer& w, const C3dParameter& p, int group_id, bool is_last) {
    check_name("parameter", p.name);
    SPORTSMED_CHECK(p.dims.size() <= 7, "write_c3d: parameter {} has {} dimensions (at most 7)", p.name, p.dims.size());
    for (int d : p.dims)
        SPORTSMED_CHECK(d >= 0 && d <= 255, "write_c3d: parameter {} has dimension {} (0..255 allowed)", p.name, d);
    const std::size_t desc = std::min<std::size_t>(p.description.size(), 255);
    const std::size_t body = 1 + 1 + p.dims.size() + data_bytes(p) + 1 + desc;
    SPORTSMED_CHECK(body + 2 < 32768, "write_c3d: parameter {} needs {} bytes, more than a record holds", p.name, body);
    w.u8(p.locked ? -static_cast<int>(p.name.size()) : static_cast<int>(p.name.size()));
    w.u8(group_id);
    w.text(p.name, p.name.size());
    w.i16(is_last ? 0 : static_cast<int>(body + 2));
    w.u8(static_cast<int>(p.type));
    w.u8(static_cast<int>(p.dims.size()));
    for (int d : p.dims) w.u8(d);
    std::size_t count = 1;
    for (int d : p.dims) count *= static_cast<std::size_t>(d);
    if (p.type == C3dType::Char) {
        const std::size_t len = p.dims.empty() ? 1 : static_cast<std::size_t>(p.dims[0]);
        const std::size_t n = len == 0 ? 0 : count / len;
        for (std::size_t i = 0; i < n; ++i) {
            std::string s = i < p.strings.size() ? p.strings[i] : std::string();
            // Text read from Latin-1 / Windows-1252 was decoded to UTF-8, which may need more
            // bytes than the field holds: written back in the one-byte encoding it came in.
            if (s.size() > len) {
                if (std::string narrow; latin1_of(s, narrow)) s = narrow;
            }
            SPORTSMED_CHECK(s.size() <= len, "write_c3d: {} string '{}' is longer than dimension {}", p.name,
                            printable(s), len);
            w.text(s, len);
        }
    } else {
        SPORTSMED_CHECK(p.numbers.size() == count, "write_c3d: parameter {} has {} values for dimensions of {} ",
                        p.name, p.numbers.size(), count);
        for (double v : p.numbers) {
            if (p.type == C3dType::Byte) w.u8(static_cast<int>(v));
            else if (p.type == C3dType::Int16) w.i16(static_cast<int>(v));
            else w.f32(v);
        }
    }
    w.u8(static_cast<int>(desc));
    w.text(p.description, desc);
}

}  // namespace

std::vector<std::uint8_t> encode_c3d(const C3d& source) {
    const Trial& t = source.trial;
    const std::int64_t n_frames = t.points.rows();
    const std::int64_t n_points = t.n_markers();
    const std::int64_t n_channels = static_cast<std::int64_t>(t.analog_labels.size());
    SPORTSMED_CHECK(t.points.cols() == 3 * n_points, "write_c3d: points have {} columns for {} labels",
                    t.points.cols(), n_points);
    SPORTSMED_CHECK(n_points <= 65535, "write_c3d: {} points, at most 65535", n_points);
    SPORTSMED_CHECK(n_channels <= 255, "write_c3d: {} analog channels, at most 255", n_channels);
    SPORTSMED_CHECK(t.analogs.cols() == n_channels, "write_c3d: analogs have {} columns for {} labels",
                    t.analogs.cols(), n_channels);
    std::int64_t ratio = 0;
    if (n_channels > 0) {
        SPORTSMED_CHECK(n_frames > 0 && t.analogs.rows() % n_frames == 0,
                        "write_c3d: {} analog samples are not a whole number per each of {} frames",
                        t.analogs.rows(), n_frames);
        ratio = t.analogs.rows() / n_frames;
    }
    SPORTSMED_CHECK(n_channels * ratio <= 65535, "write_c3d: {} analog samples per frame, at most 65535",
                    n_channels * ratio);

    double scale = -std::abs(source.header.scale);
    if (const C3dParameter* p = source.find("POINT", "SCALE"); p && p->type != C3dType::Char && !p->numbers.empty() && p->numbers[0] != 0)
        scale = -std::abs(p->numbers[0]);
    if (scale == 0.0) scale = -0.01;
    const double abs_scale = std::abs(scale);

    // Parameters: copy, then regenerate what the trial defines.
    C3d c;
    c.groups = source.groups;
    // Rotation data live in a section this writer does not produce: a copied ROTATION group
    // would point at data that are not there.
    c.groups.erase(std::remove_if(c.groups.begin(), c.groups.end(),
                                  [](const C3dGroup& g) { return g.name == "ROTATION"; }),
                   c.groups.end());
    // Create every regenerated group first: references into c.groups must not be
    // invalidated by a later push_back.
    for (const char* g : {"POINT", "ANALOG", "TRIAL", "EVENT"}) c.group_or_add(g);
    const bool has_camera = source.camera_masks.rows() == n_frames && source.camera_masks.cols() == n_points;
    C3dGroup& point = c.group_or_add("POINT");
    point.set(C3dParameter::numeric("USED", C3dType::Int16, {double(n_points)}));
    point.set(C3dParameter::numeric("SCALE", C3dType::Float, {scale}));
    point.set(C3dParameter::numeric("RATE", C3dType::Float, {t.point_rate_hz}));
    point.set(C3dParameter::numeric("DATA_START", C3dType::Int16, {0.0}));  // patched below
    if (n_frames <= 65535) point.set(C3dParameter::numeric("FRAMES", C3dType::Int16, {double(n_frames)}));
    else point.set(C3dParameter::numeric("FRAMES", C3dType::Float, {double(n_frames)}));
    point.remove("LONG_FRAMES");
    set_continued_text(point, "LABELS", t.point_labels);
    std::vector<std::string> descriptions = t.point_descriptions;
    descriptions.resize(static_cast<std::size_t>(n_points));
    set_continued_text(point, "DESCRIPTIONS", descriptions);
    point.set(C3dParameter::text("UNITS", {t.point_units}));

    C3dGroup& analog = c.group_or_add("ANALOG");
    analog.set(C3dParameter::numeric("USED", C3dType::Int16, {double(n_channels)}));
    analog.set(C3dParameter::numeric("RATE", C3dType::Float, {n_channels ? t.analog_rate_hz : 0.0}));
    analog.set(C3dParameter::numeric("GEN_SCALE", C3dType::Float, {1.0}));
    analog.set(C3dParameter::numeric("SCALE", C3dType::Float, std::vector<double>(n_channels, 1.0)));
    analog.set(C3dParameter::numeric("OFFSET", C3dType::Int16, std::vector<double>(n_channels, 0.0)));
    analog.remove("FORMAT");
    analog.remove("SCALE2");
    analog.remove("OFFSET2");
    set_continued_text(analog, "LABELS", t.analog_labels);
    std::vector<std::string> units = t.analog_units;
    units.resize(static_cast<std::size_t>(n_channels));
    set_continued_text(analog, "UNITS", units);

    C3dGroup& trial = c.group_or_add("TRIAL");
    const std::int64_t last = t.first_frame + n_frames - 1;
    trial.set(C3dParameter::numeric("ACTUAL_START_FIELD", C3dType::Int16,
                                    {double(std::int16_t(t.first_frame & 0xFFFF)), double(std::int16_t(t.first_frame >> 16))}));
    trial.set(C3dParameter::numeric("ACTUAL_END_FIELD", C3dType::Int16,
                                    {double(std::int16_t(last & 0xFFFF)), double(std::int16_t(last >> 16))}));

    C3dGroup& event = c.group_or_add("EVENT");
    event.set(C3dParameter::numeric("USED", C3dType::Int16, {double(t.events.size())}));
    std::vector<std::string> labels, contexts, descs;
    for (const auto& e : t.events) {
        labels.push_back(e.label);
        contexts.push_back(e.context);
        descs.push_back(e.description);
    }
    set_continued_times(event, t.events);
    set_continued_text(event, "LABELS", labels);
    set_continued_text(event, "CONTEXTS", contexts);
    set_continued_text(event, "DESCRIPTIONS", descs);

    // Parameter section (written twice: the first pass sizes it to find DATA_START).
    auto encode_parameters = [&](int data_block) {
        point.set(C3dParameter::numeric("DATA_START", C3dType::Int16, {double(std::int16_t(data_block))}));
        Writer w;
        w.u8(1);
        w.u8(0x50);
        w.u8(0);  // block count, patched below
        w.u8(84);
        std::vector<std::pair<int, const C3dParameter*>> params;
        for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
            const C3dGroup& g = c.groups[gi];
            check_name("group", g.name);
            const int id = static_cast<int>(gi) + 1;
            SPORTSMED_CHECK(id <= 127, "write_c3d: {} groups, at most 127", c.groups.size());
            const std::size_t desc = std::min<std::size_t>(g.description.size(), 255);
            w.u8(g.locked ? -static_cast<int>(g.name.size()) : static_cast<int>(g.name.size()));
            w.u8(-id);
            w.text(g.name, g.name.size());
            w.i16(static_cast<int>(3 + desc));
            w.u8(static_cast<int>(desc));
            w.text(g.description, desc);
            for (const auto& p : g.parameters) params.emplace_back(id, &p);
        }
        for (std::size_t i = 0; i < params.size(); ++i)
            write_parameter(w, *params[i].second, params[i].first, i + 1 == params.size());
        w.pad_to_block();
        const std::size_t blocks = w.out.size() / 512;
        SPORTSMED_CHECK(blocks <= 255, "write_c3d: the parameters need {} blocks, at most 255", blocks);
        w.out[2] = static_cast<std::uint8_t>(blocks);
        return w.out;
    };
    std::vector<std::uint8_t> params = encode_parameters(0);
    const int data_block = 2 + static_cast<int>(params.size() / 512);
    SPORTSMED_CHECK(data_block <= 65535, "write_c3d: data block {} is out of range", data_block);
    params = encode_parameters(data_block);

    // Header.
    Writer h;
    h.u8(2);
    h.u8(0x50);
    h.i16(static_cast<int>(n_points));
    h.i16(static_cast<int>(n_channels * ratio));
    h.i16(static_cast<int>(std::clamp<std::int64_t>(t.first_frame, 0, 65535)));
    h.i16(static_cast<int>(std::clamp<std::int64_t>(last, 0, 65535)));
    h.i16(source.header.max_gap);
    h.f32(scale);
    h.i16(data_block);
    h.i16(static_cast<int>(ratio));
    h.f32(t.point_rate_hz);
    h.out.resize(294, 0);
    const auto& hev = source.header.events;
    SPORTSMED_CHECK(hev.size() <= 18, "write_c3d: {} header events, at most 18", hev.size());
    h.i16(0);                    // word 148: no label-range section
    h.i16(0);                    // word 149
    h.i16(hev.empty() ? 0 : 12345);  // word 150: 4-character event labels
    h.i16(static_cast<int>(hev.size()));
    h.i16(0);
    for (std::size_t e = 0; e < 18; ++e) h.f32(e < hev.size() ? hev[e].time_s : 0.0);
    for (std::size_t e = 0; e < 18; ++e) h.u8(e < hev.size() && !hev[e].displayed ? 1 : 0);
    h.i16(0);
    for (std::size_t e = 0; e < 18; ++e) h.text(e < hev.size() ? hev[e].label : std::string(), 4);
    h.pad_to_block();

    std::vector<std::uint8_t> out = std::move(h.out);
    out.insert(out.end(), params.begin(), params.end());

    // Data: per frame, x y z word4 per point, then ratio × channels analog samples.
    const std::size_t frame_values = static_cast<std::size_t>(4 * n_points + n_channels * ratio);
    const std::size_t data_at = out.size();
    out.resize(data_at + static_cast<std::size_t>(n_frames) * frame_values * 4);
    float* dst = reinterpret_cast<float*>(out.data() + data_at);  // Intel = host order on x86/ARM LE
    std::vector<float> frame(frame_values);
    for (std::int64_t f = 0; f < n_frames; ++f) {
        for (std::int64_t m = 0; m < n_points; ++m) {
            const double x = t.points(f, 3 * m), y = t.points(f, 3 * m + 1), z = t.points(f, 3 * m + 2);
            const double r = t.residuals.rows() == n_frames && t.residuals.cols() == n_points ? t.residuals(f, m) : 0.0;
            float* v = frame.data() + 4 * m;
            if (std::isnan(x) || std::isnan(y) || std::isnan(z) || r < 0) {
                v[0] = v[1] = v[2] = 0.0f;
                v[3] = -1.0f;
                continue;
            }
            v[0] = static_cast<float>(x);
            v[1] = static_cast<float>(y);
            v[2] = static_cast<float>(z);
            const int byte = static_cast<int>(std::clamp(std::lround(r / abs_scale), 0L, 255L));
            const int cam = has_camera ? source.camera_masks(f, m) & 0x7F : 0;
            v[3] = static_cast<float>(cam << 8 | byte);
        }
        for (std::int64_t s = 0; s < ratio; ++s)
            for (std::int64_t ch = 0; ch < n_channels; ++ch)
                frame[4 * n_points + s * n_channels + ch] = static_cast<float>(t.analogs(f * ratio + s, ch));
        if (frame_values > 0) std::memcpy(dst + f * frame_values, frame.data(), frame_values * 4);
    }
    static_assert(sizeof(float) == 4, "IEEE float expected");
    return out;
}

void write_c3d(const std::string& path, const C3d& c3d) {
    const std::vector<std::uint8_t> bytes = encode_c3d(c3d);
    const std::string tmp = path + ".tmp-sportsmed";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) SPORTSMED_THROW(InvalidArgument, "write_c3d: cannot create '{}'", tmp);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) {
            std::remove(tmp.c_str());
            SPORTSMED_THROW(Error, "write_c3d: writing '{}' failed", tmp);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        SPORTSMED_THROW(Error, "write_c3d: cannot rename '{}' to '{}'", tmp, path);
    }
}

C3d c3d_from_trial(const Trial& trial) {
    C3d c;
    c.trial = trial;
    c.header.scale = -0.01;
    return c;
}

void write_c3d(const std::string& path, const Trial& trial) { write_c3d(path, c3d_from_trial(trial)); }

}  // namespace sportsmed::motion
