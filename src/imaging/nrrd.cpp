// NRRD reader/writer (attached data, raw or gzip encoding).

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <sstream>

#include <Eigen/Dense>

#include "file_util.hpp"
#include "sportsmed/imaging/io.hpp"

namespace sportsmed::imaging {
namespace {

constexpr const char* kRead = "read_nrrd";

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

DType parse_type(const std::string& t, const std::string& path) {
    static const std::map<std::string, DType> kTypes{
        {"signed char", DType::Int8},      {"int8", DType::Int8},           {"int8_t", DType::Int8},
        {"uchar", DType::UInt8},           {"unsigned char", DType::UInt8}, {"uint8", DType::UInt8},
        {"uint8_t", DType::UInt8},         {"short", DType::Int16},         {"short int", DType::Int16},
        {"signed short", DType::Int16},    {"signed short int", DType::Int16}, {"int16", DType::Int16},
        {"int16_t", DType::Int16},         {"ushort", DType::UInt16},       {"unsigned short", DType::UInt16},
        {"unsigned short int", DType::UInt16}, {"uint16", DType::UInt16},   {"uint16_t", DType::UInt16},
        {"int", DType::Int32},             {"signed int", DType::Int32},    {"int32", DType::Int32},
        {"int32_t", DType::Int32},         {"uint", DType::UInt32},         {"unsigned int", DType::UInt32},
        {"uint32", DType::UInt32},         {"uint32_t", DType::UInt32},     {"longlong", DType::Int64},
        {"long long", DType::Int64},       {"long long int", DType::Int64}, {"signed long long", DType::Int64},
        {"signed long long int", DType::Int64}, {"int64", DType::Int64},    {"int64_t", DType::Int64},
        {"ulonglong", DType::UInt64},      {"unsigned long long", DType::UInt64},
        {"unsigned long long int", DType::UInt64}, {"uint64", DType::UInt64}, {"uint64_t", DType::UInt64},
        {"float", DType::Float32},         {"double", DType::Float64}};
    const auto it = kTypes.find(lower(t));
    if (it == kTypes.end()) SPORTSMED_THROW(FormatError, "{}: '{}' has unsupported type '{}'", kRead, path, t);
    return it->second;
}

const char* nrrd_type(DType t) {
    switch (t) {
        case DType::Int8: return "int8";
        case DType::UInt8: return "uint8";
        case DType::Int16: return "int16";
        case DType::UInt16: return "uint16";
        case DType::Int32: return "int32";
        case DType::UInt32: return "uint32";
        case DType::Int64: return "int64";
        case DType::UInt64: return "uint64";
        case DType::Float32: return "float";
        case DType::Float64: return "double";
        default: return nullptr;
    }
}

// Parses "(x,y,z)" into v; returns false for "none".
bool parse_vector(const std::string& s, Eigen::Vector3d& v, const std::string& path, const char* field) {
    const std::string t = trim(s);
    if (lower(t) == "none") return false;
    if (t.size() < 2 || t.front() != '(' || t.back() != ')')
        SPORTSMED_THROW(FormatError, "{}: '{}' field '{}' has '{}', expected a vector like (1,0,0)", kRead, path,
                        field, t);
    std::string inner = t.substr(1, t.size() - 2);
    std::replace(inner.begin(), inner.end(), ',', ' ');
    std::istringstream in(inner);
    for (int i = 0; i < 3; ++i) {
        if (!(in >> v[i]))
            SPORTSMED_THROW(FormatError, "{}: '{}' field '{}' has '{}', expected 3 numbers", kRead, path, field, t);
    }
    std::string extra;
    if (in >> extra) SPORTSMED_THROW(FormatError, "{}: '{}' field '{}' has '{}', expected 3 numbers", kRead, path, field, t);
    return true;
}

std::vector<std::string> split_vectors(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (char c : s) {
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if ((c == ' ' || c == '\t') && depth == 0) {
            if (!cur.empty()) out.push_back(cur), cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

}  // namespace

Image read_nrrd(const std::string& path) {
    const std::vector<std::uint8_t> buf = detail::read_file_raw(path, kRead);
    if (buf.size() < 8 || std::memcmp(buf.data(), "NRRD000", 7) != 0)
        SPORTSMED_THROW(FormatError, "{}: '{}' does not start with the NRRD magic 'NRRD000x'", kRead, path);
    // Header: lines up to the first empty line.
    std::map<std::string, std::string> fields;
    std::size_t pos = 0;
    bool first = true, ended = false;
    while (pos < buf.size()) {
        std::size_t e = pos;
        while (e < buf.size() && buf[e] != '\n') ++e;
        if (e == buf.size())
            SPORTSMED_THROW(FormatError, "{}: header of '{}' has no blank line before the data (truncated?)", kRead,
                            path);
        std::string line(reinterpret_cast<const char*>(buf.data() + pos), e - pos);
        pos = e + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (first) {
            first = false;
            continue;
        }
        if (line.empty()) {
            ended = true;
            break;
        }
        if (line[0] == '#') continue;
        if (line.find(":=") != std::string::npos) continue;  // key/value pairs: metadata only
        const auto colon = line.find(": ");
        if (colon == std::string::npos)
            SPORTSMED_THROW(FormatError, "{}: '{}' has a malformed header line '{}'", kRead, path, line);
        fields[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 2));
    }
    if (!ended) SPORTSMED_THROW(FormatError, "{}: header of '{}' is not terminated by a blank line", kRead, path);
    auto need = [&](const char* key) -> const std::string& {
        const auto it = fields.find(key);
        if (it == fields.end()) SPORTSMED_THROW(FormatError, "{}: '{}' lacks the required field '{}'", kRead, path, key);
        return it->second;
    };
    if (fields.count("data file") || fields.count("datafile"))
        SPORTSMED_THROW(FormatError, "{}: '{}' has detached data ('data file'); only attached data is read", kRead,
                        path);

    Image img;
    img.dtype = parse_type(need("type"), path);
    const int dimension = std::atoi(need("dimension").c_str());
    if (dimension != 3)
        SPORTSMED_THROW(FormatError, "{}: '{}' has dimension {}; only 3-D volumes are read", kRead, path, dimension);
    {
        std::istringstream in(need("sizes"));
        img.dims.assign(3, 0);
        for (int i = 0; i < 3; ++i) {
            if (!(in >> img.dims[i]) || img.dims[i] < 1)
                SPORTSMED_THROW(FormatError, "{}: '{}' has sizes '{}', expected 3 positive integers", kRead, path,
                                need("sizes"));
        }
    }
    const std::string encoding = lower(need("encoding"));
    const bool gz = encoding == "gzip" || encoding == "gz";
    if (!gz && encoding != "raw")
        SPORTSMED_THROW(FormatError, "{}: '{}' has encoding '{}'; raw and gzip are read", kRead, path, encoding);
    bool big_endian = false;
    if (fields.count("endian")) big_endian = lower(fields["endian"]) == "big";

    // Geometry: space + space directions (+ origin), else spacings.
    Eigen::Matrix4d affine = Eigen::Matrix4d::Identity();
    if (fields.count("space directions")) {
        // Without 'space' the directions are in no named anatomical frame: never guessed.
        if (!fields.count("space"))
            SPORTSMED_THROW(FormatError,
                            "{}: '{}' has space directions but no 'space' field, so its anatomical orientation is "
                            "unknown; add e.g. 'space: left-posterior-superior' (or RAS/LAS) as the scanner's frame is",
                            kRead, path);
        std::string space = lower(fields["space"]);
        Eigen::Vector3d sign(1, 1, 1);  // multiplies the space's coordinates to give LPS
        if (space == "left-posterior-superior" || space == "lps") sign << 1, 1, 1;
        else if (space == "right-anterior-superior" || space == "ras") sign << -1, -1, 1;
        else if (space == "left-anterior-superior" || space == "las") sign << 1, -1, 1;
        else
            SPORTSMED_THROW(FormatError, "{}: '{}' has space '{}'; LPS, RAS and LAS are read", kRead, path, space);
        const auto vecs = split_vectors(fields["space directions"]);
        if (vecs.size() != 3)
            SPORTSMED_THROW(FormatError, "{}: '{}' has {} space directions, expected 3", kRead, path, vecs.size());
        for (int c = 0; c < 3; ++c) {
            Eigen::Vector3d v;
            if (!parse_vector(vecs[c], v, path, "space directions"))
                SPORTSMED_THROW(FormatError, "{}: '{}' has space direction 'none' for spatial axis {}", kRead, path, c);
            affine.block<3, 1>(0, c) = sign.cwiseProduct(v);
        }
        if (fields.count("space origin")) {
            Eigen::Vector3d o;
            if (parse_vector(fields["space origin"], o, path, "space origin"))
                affine.block<3, 1>(0, 3) = sign.cwiseProduct(o);
        }
    } else if (fields.count("spacings")) {
        std::istringstream in(fields["spacings"]);
        for (int c = 0; c < 3; ++c) {
            double s = 1;
            std::string tok;
            if (in >> tok) s = lower(tok) == "nan" ? 1.0 : std::atof(tok.c_str());
            affine(c, c) = s;
        }
    }
    if (!affine.allFinite()) SPORTSMED_THROW(FormatError, "{}: '{}' has non-finite geometry", kRead, path);
    for (int c = 0; c < 3; ++c) {
        if (affine.block<3, 1>(0, c).norm() == 0)
            SPORTSMED_THROW(FormatError, "{}: '{}' has a zero-length space direction for axis {}", kRead, path, c);
    }
    img.geometry = Geometry::from_affine(affine, {img.dims[0], img.dims[1], img.dims[2]}, /*ras=*/false);
    img.geometry.validate(("read_nrrd: '" + path + "'").c_str());
    img.pixdim = {img.geometry.spacing_mm[0], img.geometry.spacing_mm[1], img.geometry.spacing_mm[2]};

    const std::size_t esize = dtype_size(img.dtype);
    const std::size_t nbytes = detail::checked_data_bytes(img.dims, esize, path, kRead);
    // The data must be exactly what 'sizes' and 'type' say: more data than declared means the
    // sizes are wrong (a volume read with slices missing), less a cut-off file.
    const auto refuse_longer = [&](std::size_t have) {
        SPORTSMED_THROW(FormatError,
                        "{}: data of '{}' is longer than the header says: {} bytes present, {} for sizes '{}' of type "
                        "'{}' (wrong sizes?)",
                        kRead, path, have, nbytes, need("sizes"), need("type"));
    };
    if (gz) {
        const std::size_t ceiling = detail::max_inflated_size(buf.size() - pos);
        if (nbytes > ceiling)
            SPORTSMED_THROW(FormatError,
                            "{}: '{}' declares {} bytes of data but its {} compressed bytes can hold at most {} "
                            "(corrupt header?)",
                            kRead, path, nbytes, buf.size() - pos, ceiling);
        // One byte past the declared size is enough to tell a longer stream.
        std::vector<std::uint8_t> raw = detail::gunzip(buf.data() + pos, buf.size() - pos, 0, path, kRead, nbytes + 1);
        if (raw.size() < nbytes)
            SPORTSMED_THROW(FormatError, "{}: data of '{}' is shorter than the header says: {} bytes for {} values, {} "
                            "present", kRead, path, nbytes, img.num_values(), raw.size());
        if (raw.size() > nbytes) refuse_longer(raw.size());
        img.bytes.assign(raw.begin(), raw.end());
    } else {
        if (buf.size() - pos < nbytes)
            SPORTSMED_THROW(FormatError, "{}: data of '{}' is shorter than the header says: {} bytes for {} values, {} present",
                            kRead, path, nbytes, img.num_values(), buf.size() - pos);
        // 'byte skip: -1' puts the data at the end of the file; otherwise it follows the header.
        const bool at_end = fields.count("byte skip") && std::atoi(fields["byte skip"].c_str()) == -1;
        if (!at_end && buf.size() - pos > nbytes) refuse_longer(buf.size() - pos);
        img.bytes.assign(buf.end() - static_cast<std::ptrdiff_t>(nbytes), buf.end());
    }
    const bool native_big = [] {
        const std::uint16_t one = 1;
        std::uint8_t b;
        std::memcpy(&b, &one, 1);
        return b == 0;
    }();
    if (big_endian != native_big) detail::swap_bytes(img.bytes.data(), static_cast<std::size_t>(img.num_values()), esize);
    return img;
}

void write_nrrd(const Image& img, const std::string& path, bool gzip) {
    constexpr const char* kWrite = "write_nrrd";
    const char* type = nrrd_type(img.dtype);
    SPORTSMED_CHECK(type != nullptr, "{}: cannot store {} voxels in NRRD", kWrite, dtype_name(img.dtype));
    SPORTSMED_CHECK(img.dims.size() == 3 || img.components() == 1, "{}: only 3-D images are written, got {} dims",
                    kWrite, img.dims.size());
    const std::size_t nbytes = static_cast<std::size_t>(img.num_values()) * dtype_size(img.dtype);
    SPORTSMED_CHECK(img.bytes.size() == nbytes, "{}: {} data bytes, {} expected", kWrite, img.bytes.size(), nbytes);
    const Geometry& g = img.geometry;
    const Eigen::Matrix4d a = g.voxel_to_world();
    std::string h = "NRRD0004\n# written by sportsmed\n";
    h += fmt::format("type: {}\ndimension: 3\nspace: left-posterior-superior\nsizes: {} {} {}\n", type, g.shape[0],
                     g.shape[1], g.shape[2]);
    h += "space directions:";
    for (int c = 0; c < 3; ++c) h += fmt::format(" ({:.17g},{:.17g},{:.17g})", a(0, c), a(1, c), a(2, c));
    h += "\nkinds: domain domain domain\n";
    h += "endian: little\n";
    h += fmt::format("encoding: {}\n", gzip ? "gzip" : "raw");
    h += fmt::format("space origin: ({:.17g},{:.17g},{:.17g})\n\n", a(0, 3), a(1, 3), a(2, 3));
    std::vector<std::uint8_t> data(img.bytes.begin(), img.bytes.end());
    const std::uint16_t one = 1;
    std::uint8_t first;
    std::memcpy(&first, &one, 1);
    if (first == 0) detail::swap_bytes(data.data(), static_cast<std::size_t>(img.num_values()), dtype_size(img.dtype));
    if (gzip) data = detail::gzip(data.data(), data.size(), 6);
    detail::write_file_atomic(path, {{h.data(), h.size()}, {data.data(), data.size()}}, kWrite);
}

}  // namespace sportsmed::imaging
