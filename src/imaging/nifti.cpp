// NIfTI-1 and NIfTI-2 reader/writer (own implementation over zlib).

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include <Eigen/Dense>

#include "file_util.hpp"
#include "sportsmed/imaging/io.hpp"

namespace sportsmed::imaging {
namespace {

constexpr const char* kRead = "read_nifti";

// Reads fixed-layout header fields in the file's byte order.
struct Fields {
    const std::uint8_t* p;
    bool swap;
    template <typename T>
    T get(std::size_t offset) const {
        T v;
        std::uint8_t b[sizeof(T)];
        std::memcpy(b, p + offset, sizeof(T));
        if (swap) std::reverse(b, b + sizeof(T));
        std::memcpy(&v, b, sizeof(T));
        return v;
    }
};

struct DtypeCode {
    int code;
    DType dtype;
};
constexpr std::array<DtypeCode, 14> kCodes{{{2, DType::UInt8},     {4, DType::Int16},    {8, DType::Int32},
                                            {16, DType::Float32},  {32, DType::Complex64}, {64, DType::Float64},
                                            {128, DType::RGB24},   {256, DType::Int8},   {512, DType::UInt16},
                                            {768, DType::UInt32},  {1024, DType::Int64}, {1280, DType::UInt64},
                                            {1792, DType::Complex128}, {2304, DType::RGBA32}}};

int code_of(DType t) {
    for (const auto& c : kCodes)
        if (c.dtype == t) return c.code;
    return 0;
}

// Rotation from the qform quaternion (b, c, d), a = sqrt(1 - b² - c² - d²). Computed in
// single precision like nibabel, whose header fields are float32.
Eigen::Matrix3d quaternion_rotation(float b, float c, float d, const std::string& path) {
    float w2 = 1.0f - (b * b + c * c + d * d);
    float a;
    if (w2 < 0.0f) {
        if (w2 < -3.0f * std::numeric_limits<float>::epsilon())
            SPORTSMED_THROW(FormatError, "{}: qform quaternion (b, c, d) = ({}, {}, {}) of '{}' has norm > 1", kRead,
                            b, c, d, path);
        a = 0.0f;
    } else {
        a = std::sqrt(w2);
    }
    const float n = a * a + b * b + c * c + d * d;
    if (n < std::numeric_limits<float>::epsilon()) return Eigen::Matrix3d::Identity();
    const float s = 2.0f / n;
    const float X = b * s, Y = c * s, Z = d * s;
    const float wX = a * X, wY = a * Y, wZ = a * Z, xX = b * X, xY = b * Y, xZ = b * Z, yY = c * Y, yZ = c * Z,
                zZ = d * Z;
    Eigen::Matrix3d r;
    r << 1.0f - (yY + zZ), xY - wZ, xZ + wY,  //
        xY + wZ, 1.0f - (xX + zZ), yZ - wX,   //
        xZ - wY, yZ + wX, 1.0f - (xX + yY);
    return r;
}

// The two files of a NIfTI pair (x.hdr + x.img, each optionally gzipped), or nothing for a
// single-file path.
struct PairPaths {
    std::string hdr, img;
};

bool is_pair_path(const std::string& path) {
    for (const char* ext : {".hdr", ".img", ".hdr.gz", ".img.gz"})
        if (detail::ends_with(path, ext)) return true;
    return false;
}

PairPaths pair_paths(const std::string& path, bool must_exist) {
    const bool gz = detail::ends_with(path, ".gz");
    const std::string stem = path.substr(0, path.size() - (gz ? 7 : 4));
    const bool upper = path[stem.size() + 1] == 'H' || path[stem.size() + 1] == 'I';
    const std::string hdr_ext = upper ? ".HDR" : ".hdr", img_ext = upper ? ".IMG" : ".img";
    PairPaths p{stem + hdr_ext + (gz ? ".gz" : ""), stem + img_ext + (gz ? ".gz" : "")};
    if (!must_exist) return p;
    // The two halves may differ in compression: take whichever exists.
    auto pick = [&](std::string& f, const std::string& ext) {
        if (std::filesystem::exists(f)) return;
        const std::string other = gz ? stem + ext : stem + ext + ".gz";
        if (std::filesystem::exists(other)) f = other;
        else SPORTSMED_THROW(NotFound, "{}: '{}' of the NIfTI pair '{}' does not exist", kRead, f, path);
    };
    pick(p.hdr, hdr_ext);
    pick(p.img, img_ext);
    return p;
}

// A pair written by sportsmed carries, in a NIfTI comment extension (ecode 6) of its .hdr,
// the size and CRC-32 of the data it was written with: "sportsmed-pair bytes=N crc32=H".
// The .img is renamed into place before the .hdr, so a write interrupted between the two
// renames leaves a new .img beside an old .hdr whose record no longer matches: a
// FormatError on reading instead of an image with mixed values. Pairs from other tools
// have no record and are read as they are.
constexpr const char* kPairTag = "sportsmed-pair ";

std::string pair_record_text(const ByteBuffer& data) {
    return fmt::format("{}bytes={} crc32={:08x}", kPairTag, data.size(), detail::crc32_bytes(data.data(), data.size()));
}

// The record's text in a .hdr's extensions (@p hsize: 348 or 540), or "" when none.
std::string find_pair_record(const std::vector<std::uint8_t>& hdr, std::size_t hsize, bool swap) {
    if (hdr.size() < hsize + 4 || hdr[hsize] == 0) return "";
    std::size_t at = hsize + 4;
    while (at + 8 <= hdr.size()) {
        std::int32_t esize, ecode;
        std::memcpy(&esize, hdr.data() + at, 4);
        std::memcpy(&ecode, hdr.data() + at + 4, 4);
        if (swap) {
            detail::swap_bytes(reinterpret_cast<std::uint8_t*>(&esize), 1, 4);
            detail::swap_bytes(reinterpret_cast<std::uint8_t*>(&ecode), 1, 4);
        }
        if (esize < 16 || esize % 16 != 0 || static_cast<std::size_t>(esize) > hdr.size() - at) return "";
        if (ecode == 6) {
            const std::string text(reinterpret_cast<const char*>(hdr.data() + at + 8),
                                   static_cast<std::size_t>(esize) - 8);
            if (text.compare(0, std::strlen(kPairTag), kPairTag) == 0) return text.substr(0, text.find('\0'));
        }
        at += static_cast<std::size_t>(esize);
    }
    return "";
}

// Where an uncompressed single-file NIfTI keeps its data (read_nifti_fdata streams it).
struct DataRef {
    bool deferred = false;  // true: the data were not read into img.bytes
    std::size_t offset = 0;
    bool swap = false;
};

Image read_nifti_impl(const std::string& path, DataRef* defer);

}  // namespace

Image read_nifti(const std::string& path) { return read_nifti_impl(path, nullptr); }

namespace {

Image read_nifti_impl(const std::string& path, DataRef* defer) {
    // Uncompressed files: read the header only, then the data straight into the image
    // (no whole-file buffer); gzip files are inflated whole.
    // A pair keeps the header in x.hdr and the data in x.img (vox_offset counts from the
    // start of x.img); either may be gzipped.
    const bool pair = is_pair_path(path);
    const PairPaths pp = pair ? pair_paths(path, true) : PairPaths{path, path};
    auto gz_magic = [](const std::vector<std::uint8_t>& b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; };
    std::vector<std::uint8_t> buf = detail::read_file_head(pp.hdr, 544 + 16, kRead);
    const bool hdr_gz = gz_magic(buf);
    if (hdr_gz) buf = detail::read_file_maybe_gz(pp.hdr, kRead);
    if (buf.size() < 348)
        SPORTSMED_THROW(FormatError, "{}: '{}' has {} bytes, shorter than a NIfTI header (348)", kRead, pp.hdr,
                        buf.size());
    // Data source: an inflated buffer (gzip) or the file itself, read in place.
    std::vector<std::uint8_t> pair_data;
    bool gz;
    if (pair) {
        gz = gz_magic(detail::read_file_head(pp.img, 2, kRead));
        if (gz) pair_data = detail::read_file_maybe_gz(pp.img, kRead);
    } else {
        gz = hdr_gz;
    }
    const std::vector<std::uint8_t>& gz_data = pair ? pair_data : buf;
    const std::size_t total_size =
        gz ? gz_data.size() : static_cast<std::size_t>(std::filesystem::file_size(pair ? pp.img : path));
    std::int32_t sizeof_hdr;
    std::memcpy(&sizeof_hdr, buf.data(), 4);
    bool swap = false;
    int version = 0;
    auto swapped = [](std::int32_t v) {
        auto* b = reinterpret_cast<std::uint8_t*>(&v);
        std::reverse(b, b + 4);
        return v;
    };
    if (sizeof_hdr == 348) version = 1;
    else if (sizeof_hdr == 540) version = 2;
    else if (swapped(sizeof_hdr) == 348) version = 1, swap = true;
    else if (swapped(sizeof_hdr) == 540) version = 2, swap = true;
    else
        SPORTSMED_THROW(FormatError, "{}: '{}' is not NIfTI: sizeof_hdr is {}, expected 348 or 540", kRead, path,
                        sizeof_hdr);
    if (version == 2 && buf.size() < 540)
        SPORTSMED_THROW(FormatError, "{}: '{}' has {} bytes, shorter than a NIfTI-2 header (540)", kRead, path,
                        buf.size());
    const Fields f{buf.data(), swap};

    Image img;
    std::array<std::int64_t, 8> dim{};
    std::array<double, 8> pixdim{};
    int datatype;
    double vox_offset, slope, inter, qb, qc, qd, qx, qy, qz;
    std::uint8_t xyzt_units = 0;
    Eigen::Matrix4d srow = Eigen::Matrix4d::Identity();
    if (version == 1) {
        const char* magic = reinterpret_cast<const char*>(buf.data() + 344);
        const char* expected = pair ? "ni1" : "n+1";
        if (std::memcmp(magic, expected, 4) != 0) {
            if (pair && magic[0] == '\0')
                SPORTSMED_THROW(FormatError,
                                "{}: '{}' is an Analyze 7.5 header (no NIfTI magic); only NIfTI pairs ('ni1') are read",
                                kRead, pp.hdr);
            SPORTSMED_THROW(FormatError, "{}: '{}' has NIfTI-1 magic '{:.3s}', expected '{}' for a {}", kRead,
                            pp.hdr, std::string_view(magic, 3), expected, pair ? ".hdr/.img pair" : "single .nii file");
        }
        for (int i = 0; i < 8; ++i) dim[i] = f.get<std::int16_t>(40 + 2 * i);
        datatype = f.get<std::int16_t>(70);
        for (int i = 0; i < 8; ++i) pixdim[i] = f.get<float>(76 + 4 * i);
        vox_offset = f.get<float>(108);
        slope = f.get<float>(112);
        inter = f.get<float>(116);
        xyzt_units = static_cast<std::uint8_t>(f.get<std::int8_t>(123));
        img.qform_code = f.get<std::int16_t>(252);
        img.sform_code = f.get<std::int16_t>(254);
        qb = f.get<float>(256), qc = f.get<float>(260), qd = f.get<float>(264);
        qx = f.get<float>(268), qy = f.get<float>(272), qz = f.get<float>(276);
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) srow(r, c) = f.get<float>(280 + 16 * r + 4 * c);
    } else {
        const char* magic = reinterpret_cast<const char*>(buf.data() + 4);
        const char* expected = pair ? "ni2" : "n+2";
        if (std::memcmp(magic, expected, 4) != 0)
            SPORTSMED_THROW(FormatError, "{}: '{}' has NIfTI-2 magic '{:.3s}', expected '{}' for a {}", kRead, pp.hdr,
                            std::string_view(magic, 3), expected, pair ? ".hdr/.img pair" : "single .nii file");
        datatype = f.get<std::int16_t>(12);
        for (int i = 0; i < 8; ++i) dim[i] = f.get<std::int64_t>(16 + 8 * i);
        for (int i = 0; i < 8; ++i) pixdim[i] = f.get<double>(104 + 8 * i);
        vox_offset = static_cast<double>(f.get<std::int64_t>(168));
        slope = f.get<double>(176);
        inter = f.get<double>(184);
        xyzt_units = static_cast<std::uint8_t>(f.get<std::int32_t>(500));
        img.qform_code = f.get<std::int32_t>(344);
        img.sform_code = f.get<std::int32_t>(348);
        qb = f.get<double>(352), qc = f.get<double>(360), qd = f.get<double>(368);
        qx = f.get<double>(376), qy = f.get<double>(384), qz = f.get<double>(392);
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) srow(r, c) = f.get<double>(400 + 32 * r + 8 * c);
    }

    const std::int64_t ndim = dim[0];
    if (ndim < 1 || ndim > 7)
        SPORTSMED_THROW(FormatError, "{}: '{}' has dim[0] = {}, expected 1..7 (corrupt header?)", kRead, path, ndim);
    img.dims.assign(static_cast<std::size_t>(std::max<std::int64_t>(ndim, 3)), 1);
    img.pixdim.assign(img.dims.size(), 1.0);
    for (std::int64_t i = 0; i < ndim; ++i) {
        if (dim[i + 1] < 0)
            SPORTSMED_THROW(FormatError, "{}: '{}' has dim[{}] = {}, expected >= 0", kRead, path, i + 1, dim[i + 1]);
        img.dims[static_cast<std::size_t>(i)] = dim[i + 1];
        img.pixdim[static_cast<std::size_t>(i)] = pixdim[i + 1];
    }
    bool known = false;
    for (const auto& c : kCodes)
        if (c.code == datatype) img.dtype = c.dtype, known = true;
    if (!known) SPORTSMED_THROW(FormatError, "{}: '{}' has unsupported NIfTI datatype {}", kRead, path, datatype);

    // A single file with vox_offset 0 keeps its data right after the header and the
    // 4-byte extension flag (nibabel reads it there too).
    const std::size_t header_end = version == 1 ? 352 : 544;
    if (!(vox_offset >= 0) || !std::isfinite(vox_offset))
        SPORTSMED_THROW(FormatError, "{}: '{}' has vox_offset {}, expected a non-negative offset", kRead, path,
                        vox_offset);
    // Checked before the conversion to an integer (a float beyond its range is undefined).
    if (vox_offset > static_cast<double>(total_size))
        SPORTSMED_THROW(FormatError, "{}: '{}' has vox_offset {}, past the end of its {} data bytes", kRead, path,
                        vox_offset, total_size);
    const std::size_t offset = vox_offset == 0 ? (pair ? 0 : header_end) : static_cast<std::size_t>(vox_offset);
    const std::int64_t n = img.num_values();
    const std::size_t esize = dtype_size(img.dtype);
    const std::size_t nbytes = detail::checked_data_bytes(img.dims, esize, path, kRead);
    if (offset > total_size || total_size - offset < nbytes)
        SPORTSMED_THROW(FormatError,
                        "{}: data of '{}' is shorter than the header says: {} bytes from offset {} needed for "
                        "{} {} values, file has {} bytes",
                        kRead, pp.img, nbytes, offset, n, dtype_name(img.dtype), total_size);
    if (gz) {
        img.bytes.assign(gz_data.begin() + static_cast<std::ptrdiff_t>(offset),
                         gz_data.begin() + static_cast<std::ptrdiff_t>(offset + nbytes));
    } else if (defer != nullptr && !pair) {
        *defer = DataRef{true, offset, swap};
    } else {
        img.bytes.resize(nbytes);
        detail::read_file_range(pp.img, offset, nbytes, img.bytes.data(), kRead);
    }
    if (pair) {
        const std::vector<std::uint8_t> hdr_all = hdr_gz ? buf : detail::read_file_head(pp.hdr, 1 << 16, kRead);
        const std::string record = find_pair_record(hdr_all, version == 1 ? 348 : 540, swap);
        if (!record.empty() && record != pair_record_text(img.bytes))
            SPORTSMED_THROW(FormatError,
                            "{}: the data in '{}' is not what the header '{}' was written with ({}; the data has {}): "
                            "an interrupted write or files of two different images",
                            kRead, pp.img, pp.hdr, record.substr(std::strlen(kPairTag)),
                            pair_record_text(img.bytes).substr(std::strlen(kPairTag)));
    }
    if (swap && !(defer != nullptr && defer->deferred)) {
        if (img.dtype == DType::Complex64) detail::swap_bytes(img.bytes.data(), static_cast<std::size_t>(2 * n), 4);
        else if (img.dtype == DType::Complex128)
            detail::swap_bytes(img.bytes.data(), static_cast<std::size_t>(2 * n), 8);
        else if (img.dtype != DType::RGB24 && img.dtype != DType::RGBA32)
            detail::swap_bytes(img.bytes.data(), static_cast<std::size_t>(n), esize);
    }

    // Scaling as nibabel: slope 0 or not finite means "no scaling"; a valid slope needs a
    // finite intercept.
    if (slope != 0.0 && std::isfinite(slope)) {
        if (!std::isfinite(inter))
            SPORTSMED_THROW(FormatError, "{}: '{}' has scl_slope {} but a non-finite scl_inter {}", kRead, path,
                            slope, inter);
        img.scaled = true;
        img.scl_slope = slope;
        img.scl_inter = inter;
    }

    // Geometry: sform if coded, else qform if coded, else the Analyze-style default.
    Eigen::Matrix4d affine = Eigen::Matrix4d::Identity();
    if (img.sform_code > 0) {
        affine = srow;
        affine.row(3) << 0, 0, 0, 1;
    } else if (img.qform_code > 0) {
        Eigen::Matrix3d r = version == 1 ? quaternion_rotation(static_cast<float>(qb), static_cast<float>(qc),
                                                               static_cast<float>(qd), path)
                                         : Eigen::Matrix3d::Identity();
        if (version == 2) {
            const double w2 = 1.0 - (qb * qb + qc * qc + qd * qd);
            const double a = w2 < 0 ? 0.0 : std::sqrt(w2);
            Eigen::Quaterniond q(a, qb, qc, qd);
            if (q.norm() > 0) r = q.normalized().toRotationMatrix();
        }
        Eigen::Vector3d vox(pixdim[1], pixdim[2], pixdim[3]);
        if ((vox.array() < 0).any())
            SPORTSMED_THROW(FormatError, "{}: '{}' has negative pixdim[1..3] ({}, {}, {})", kRead, path, vox[0],
                            vox[1], vox[2]);
        const double qfac = pixdim[0] == -1.0 ? -1.0 : 1.0;
        vox[2] *= qfac;
        affine.topLeftCorner<3, 3>() = r * vox.asDiagonal();
        affine.topRightCorner<3, 1>() << qx, qy, qz;
    } else {
        for (int c = 0; c < 3; ++c) {
            const double zoom = c < ndim ? pixdim[c + 1] : 1.0;
            const double size = c < ndim ? static_cast<double>(dim[c + 1]) : 1.0;
            const double z = c == 0 ? -zoom : zoom;
            affine(c, c) = z;
            affine(c, 3) = -(size - 1.0) / 2.0 * z;
        }
    }
    if (!affine.allFinite()) SPORTSMED_THROW(FormatError, "{}: '{}' has a non-finite affine", kRead, path);
    // Lengths in the header's spatial unit (xyzt_units & 7: 1 metre, 2 mm, 3 micron; 0
    // unknown, taken as mm as every tool does); the library works in mm.
    const int space_unit = xyzt_units & 0x07;
    const double to_mm = space_unit == 1 ? 1000.0 : space_unit == 3 ? 1e-3 : 1.0;
    if (space_unit != 0 && space_unit != 1 && space_unit != 2 && space_unit != 3)
        SPORTSMED_THROW(FormatError, "{}: '{}' has spatial unit code {} (xyzt_units {}), not metre, mm or micron",
                        kRead, path, space_unit, static_cast<int>(xyzt_units));
    if (to_mm != 1.0) affine.topRows<3>() *= to_mm;
    for (int c = 0; c < 3 && c < static_cast<int>(img.pixdim.size()); ++c) img.pixdim[static_cast<std::size_t>(c)] *= to_mm;
    const Shape3 shape{img.dims[0], img.dims[1], img.dims[2]};
    for (int c = 0; c < 3; ++c) {
        if (affine.block<3, 1>(0, c).norm() == 0)
            SPORTSMED_THROW(FormatError, "{}: '{}' has a zero voxel size along axis {} in its affine", kRead, path, c);
    }
    img.geometry = Geometry::from_affine(affine, shape, /*ras=*/true);
    return img;
}

}  // namespace

Image read_nifti_fdata(const std::string& path, const std::function<double*(const Image&)>& allocate) {
    DataRef ref;
    Image img = read_nifti_impl(path, &ref);
    double* out = allocate(img);
    if (!ref.deferred) {
        detail::image_to_double(img, true, out);
        return img;
    }
    // One pass from the file: mapped (the page cache is read in place) and converted in
    // parallel straight into the caller's buffer; byte-swapped files go block by block.
    const std::size_t esize = dtype_size(img.dtype);
    const std::size_t total = static_cast<std::size_t>(img.num_values());
    if (!ref.swap) {
        const detail::MappedFile map(path, kRead);
        if (map.size() < ref.offset || map.size() - ref.offset < total * esize)
            SPORTSMED_THROW(FormatError, "{}: '{}' changed on disk while it was read", kRead, path);
        detail::values_to_double(img, map.data() + ref.offset, static_cast<std::int64_t>(total), out);
        return img;
    }
    const std::size_t block = std::max<std::size_t>(1, (std::size_t{1} << 22) / esize);
    ByteBuffer chunk;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f || std::fseek(f.get(), static_cast<long>(ref.offset), SEEK_SET) != 0)
        SPORTSMED_THROW(Error, "{}: cannot read '{}'", kRead, path);
    for (std::size_t done = 0; done < total;) {
        const std::size_t n = std::min(block, total - done);
        chunk.resize(n * esize);
        if (std::fread(chunk.data(), 1, chunk.size(), f.get()) != chunk.size())
            SPORTSMED_THROW(FormatError, "{}: '{}' ended while its data were read (changed on disk?)", kRead, path);
        detail::swap_bytes(chunk.data(), n, esize);
        detail::values_to_double(img, chunk.data(), static_cast<std::int64_t>(n), out + done);
        done += n;
    }
    return img;
}

namespace {

// Quaternion (b, c, d), qfac and pixdim of a rotation-with-reflection matrix (RAS).
void qform_from_direction(const Eigen::Matrix3d& direction_ras, double q[3], double& qfac) {
    Eigen::Matrix3d r = direction_ras;
    qfac = 1.0;
    if (r.determinant() < 0) {
        qfac = -1.0;
        r.col(2) = -r.col(2);
    }
    // Nearest proper rotation (polar decomposition), in case of slight non-orthogonality.
    Eigen::JacobiSVD<Eigen::Matrix3d> svd(r, Eigen::ComputeFullU | Eigen::ComputeFullV);
    r = svd.matrixU() * svd.matrixV().transpose();
    Eigen::Quaterniond quat(r);
    if (quat.w() < 0) quat.coeffs() = -quat.coeffs();
    q[0] = quat.x();
    q[1] = quat.y();
    q[2] = quat.z();
}

template <typename T>
void put(std::vector<std::uint8_t>& h, std::size_t offset, T v) {
    std::memcpy(h.data() + offset, &v, sizeof(T));
}

}  // namespace

void write_nifti(const Image& img, const std::string& path, int version) {
    constexpr const char* kWrite = "write_nifti";
    SPORTSMED_CHECK(version == 1 || version == 2, "{}: version must be 1 or 2, got {}", kWrite, version);
    SPORTSMED_CHECK(img.dims.size() >= 3 && img.dims.size() <= 7, "{}: {} dimensions, expected 3..7", kWrite,
                    img.dims.size());
    SPORTSMED_CHECK(img.dims[0] == img.geometry.shape[0] && img.dims[1] == img.geometry.shape[1] &&
                        img.dims[2] == img.geometry.shape[2],
                    "{}: dims ({}, {}, {}) differ from the geometry's shape", kWrite, img.dims[0], img.dims[1],
                    img.dims[2]);
    const bool pair = is_pair_path(path);
    const std::size_t nbytes = static_cast<std::size_t>(img.num_values()) * dtype_size(img.dtype);
    SPORTSMED_CHECK(img.bytes.size() == nbytes, "{}: {} data bytes, {} expected for the dims and type", kWrite,
                    img.bytes.size(), nbytes);
    if (version == 1) {
        for (auto d : img.dims)
            SPORTSMED_CHECK(d <= 32767, "{}: dimension {} too large for NIfTI-1; use version 2", kWrite, d);
    }
    const Eigen::Matrix4d affine = img.geometry.affine_ras();
    const Eigen::Matrix3d dir_ras = affine.topLeftCorner<3, 3>() * img.geometry.spacing_mm.cwiseInverse().asDiagonal();
    double q[3], qfac;
    qform_from_direction(dir_ras, q, qfac);
    const int qcode = img.qform_code > 0 ? img.qform_code : 1;
    const int scode = img.sform_code > 0 ? img.sform_code : 1;
    const int ndim = static_cast<int>(img.dims.size());
    std::array<double, 8> pixdim{};
    pixdim[0] = qfac;
    for (int i = 0; i < ndim; ++i)
        pixdim[i + 1] = i < 3 ? img.geometry.spacing_mm[i]
                              : (static_cast<std::size_t>(i) < img.pixdim.size() ? img.pixdim[i] : 1.0);
    const double slope = img.scaled ? img.scl_slope : 0.0;
    const double inter = img.scaled ? img.scl_inter : 0.0;
    const int dt = code_of(img.dtype);
    const int bitpix = static_cast<int>(dtype_size(img.dtype) * 8);

    std::vector<std::uint8_t> h;
    if (version == 1) {
        h.assign(352, 0);
        put<std::int32_t>(h, 0, 348);
        h[38] = 'r';
        put<std::int16_t>(h, 40, static_cast<std::int16_t>(ndim));
        for (int i = 0; i < ndim; ++i) put<std::int16_t>(h, 42 + 2 * i, static_cast<std::int16_t>(img.dims[i]));
        for (int i = ndim; i < 7; ++i) put<std::int16_t>(h, 42 + 2 * i, 1);
        put<std::int16_t>(h, 70, static_cast<std::int16_t>(dt));
        put<std::int16_t>(h, 72, static_cast<std::int16_t>(bitpix));
        for (int i = 0; i < 8; ++i) put<float>(h, 76 + 4 * i, static_cast<float>(i <= ndim ? pixdim[i] : 1.0));
        put<float>(h, 108, pair ? 0.0f : 352.0f);
        put<float>(h, 112, static_cast<float>(slope));
        put<float>(h, 116, static_cast<float>(inter));
        h[123] = 2 | 8;  // mm, s
        std::memcpy(h.data() + 148, "sportsmed", 9);
        put<std::int16_t>(h, 252, static_cast<std::int16_t>(qcode));
        put<std::int16_t>(h, 254, static_cast<std::int16_t>(scode));
        for (int i = 0; i < 3; ++i) put<float>(h, 256 + 4 * i, static_cast<float>(q[i]));
        for (int i = 0; i < 3; ++i) put<float>(h, 268 + 4 * i, static_cast<float>(affine(i, 3)));
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) put<float>(h, 280 + 16 * r + 4 * c, static_cast<float>(affine(r, c)));
        std::memcpy(h.data() + 344, pair ? "ni1\0" : "n+1\0", 4);
    } else {
        h.assign(544, 0);
        put<std::int32_t>(h, 0, 540);
        std::memcpy(h.data() + 4, pair ? "ni2\0\r\n\032\n" : "n+2\0\r\n\032\n", 8);
        put<std::int16_t>(h, 12, static_cast<std::int16_t>(dt));
        put<std::int16_t>(h, 14, static_cast<std::int16_t>(bitpix));
        put<std::int64_t>(h, 16, ndim);
        for (int i = 0; i < 7; ++i) put<std::int64_t>(h, 24 + 8 * i, i < ndim ? img.dims[i] : 1);
        for (int i = 0; i < 8; ++i) put<double>(h, 104 + 8 * i, i <= ndim ? pixdim[i] : 1.0);
        put<std::int64_t>(h, 168, pair ? 0 : 544);
        put<double>(h, 176, slope);
        put<double>(h, 184, inter);
        std::memcpy(h.data() + 240, "sportsmed", 9);
        put<std::int32_t>(h, 344, qcode);
        put<std::int32_t>(h, 348, scode);
        for (int i = 0; i < 3; ++i) put<double>(h, 352 + 8 * i, q[i]);
        for (int i = 0; i < 3; ++i) put<double>(h, 376 + 8 * i, affine(i, 3));
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) put<double>(h, 400 + 32 * r + 8 * c, affine(r, c));
        put<std::int32_t>(h, 500, 2 | 8);
    }
    if (pair) {
        // The header is a 348/540-byte .hdr with one extension, the pair record (above);
        // the data start .img.
        h.resize(version == 1 ? 348 : 540);
        std::string record = pair_record_text(img.bytes);
        record.resize((record.size() + 8 + 15) / 16 * 16 - 8, '\0');
        const std::int32_t esize = static_cast<std::int32_t>(record.size() + 8), ecode = 6;
        const std::uint8_t extender[4] = {1, 0, 0, 0};
        h.insert(h.end(), extender, extender + 4);
        h.insert(h.end(), reinterpret_cast<const std::uint8_t*>(&esize), reinterpret_cast<const std::uint8_t*>(&esize) + 4);
        h.insert(h.end(), reinterpret_cast<const std::uint8_t*>(&ecode), reinterpret_cast<const std::uint8_t*>(&ecode) + 4);
        h.insert(h.end(), record.begin(), record.end());
        const PairPaths pp = pair_paths(path, false);
        if (detail::ends_with(path, ".gz")) {
            const auto zh = detail::gzip(h.data(), h.size(), 1);
            const auto zd = detail::gzip(img.bytes.data(), img.bytes.size(), 1);
            detail::write_file_atomic(pp.img, {{zd.data(), zd.size()}}, kWrite);
            detail::write_file_atomic(pp.hdr, {{zh.data(), zh.size()}}, kWrite);
        } else {
            detail::write_file_atomic(pp.img, {{img.bytes.data(), img.bytes.size()}}, kWrite);
            detail::write_file_atomic(pp.hdr, {{h.data(), h.size()}}, kWrite);
        }
        return;
    }
    if (detail::ends_with(path, ".gz")) {
        std::vector<std::uint8_t> all(h);
        all.insert(all.end(), img.bytes.begin(), img.bytes.end());
        const auto z = detail::gzip(all.data(), all.size(), 1);
        detail::write_file_atomic(path, {{z.data(), z.size()}}, kWrite);
    } else {
        detail::write_file_atomic(path, {{h.data(), h.size()}, {img.bytes.data(), img.bytes.size()}}, kWrite);
    }
}

Image read_image(const std::string& path) {
    if (detail::ends_with(path, ".nrrd") || detail::ends_with(path, ".nhdr")) return read_nrrd(path);
    return read_nifti(path);
}

void write_image(const Image& img, const std::string& path) {
    if (detail::ends_with(path, ".nrrd")) return write_nrrd(img, path, true);
    if (detail::ends_with(path, ".nii") || detail::ends_with(path, ".nii.gz") || is_pair_path(path))
        return write_nifti(img, path, 1);
    SPORTSMED_THROW(InvalidArgument,
                    "write_image: unknown extension of '{}' (expected .nii, .nii.gz, .hdr, .img or .nrrd)", path);
}

}  // namespace sportsmed::imaging
