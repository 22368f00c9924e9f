// DICOM series reader over GDCM.

#include "sportsmed/imaging/dicom.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <vector>

#include <gdcmAttribute.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmPixelFormat.h>

#include <Eigen/Geometry>
#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "dicom_check.hpp"
#include "sportsmed/core/text.hpp"

namespace sportsmed::imaging {
namespace {

constexpr const char* kRead = "read_dicom_series";

struct Slice {
    std::string path;
    Eigen::Vector3d position;
    Eigen::Vector3d row_dir, col_dir;
    double te = 0, pos_normal = 0, slope = 1, intercept = 0;
    double spacing_row = 0, spacing_col = 0;
    unsigned rows = 0, cols = 0;
    std::string series_uid, description;
    std::vector<double> pixels;
};

template <std::uint16_t G, std::uint16_t E>
bool has(const gdcm::DataSet& ds) {
    return ds.FindDataElement(gdcm::Tag(G, E)) && !ds.GetDataElement(gdcm::Tag(G, E)).IsEmpty();
}

std::string string_of(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
    if (!ds.FindDataElement(gdcm::Tag(g, e))) return {};
    const auto& de = ds.GetDataElement(gdcm::Tag(g, e));
    const gdcm::ByteValue* bv = de.GetByteValue();
    if (!bv) return {};
    std::string s(bv->GetPointer(), bv->GetLength());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    // Text in another character set (SpecificCharacterSet ISO_IR 100, ...) or damaged bytes:
    // valid UTF-8 out, whatever comes in (utf8_or_latin1).
    utf8_or_latin1(s);
    return s;
}

template <typename T>
void to_double(const char* buf, std::size_t n, std::vector<double>& out) {
    out.resize(n);
    const T* p = reinterpret_cast<const T*>(buf);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(p[i]);
}

// Reads one file's header (and, with @p pixels, its rescaled pixels). Every file passes
// detail::check_dicom_structure in the header pass first: GDCM aborts the process on some
// malformed element headers, and zero-fills pixel data cut short (the walk reports both).
bool read_slice(const std::string& path, Slice& s, bool pixels) {
    if (!pixels && !detail::check_dicom_structure(path)) return false;
    gdcm::ImageReader reader;
    reader.SetFileName(path.c_str());
    if (!reader.Read()) return false;
    const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
    const gdcm::Image& img = reader.GetImage();
    if (!has<0x0020, 0x0032>(ds) || !has<0x0020, 0x0037>(ds))
        SPORTSMED_THROW(FormatError, "{}: '{}' lacks ImagePositionPatient or ImageOrientationPatient", kRead, path);
    s.path = path;
    gdcm::Attribute<0x0020, 0x0032> ipp;
    ipp.SetFromDataSet(ds);
    gdcm::Attribute<0x0020, 0x0037> iop;
    iop.SetFromDataSet(ds);
    s.position = {ipp[0], ipp[1], ipp[2]};
    s.row_dir = {iop[0], iop[1], iop[2]};
    s.col_dir = {iop[3], iop[4], iop[5]};
    if (has<0x0018, 0x0081>(ds)) {
        gdcm::Attribute<0x0018, 0x0081> te;
        te.SetFromDataSet(ds);
        s.te = te.GetValue();
    }
    if (!has<0x0028, 0x0030>(ds)) SPORTSMED_THROW(FormatError, "{}: '{}' lacks PixelSpacing", kRead, path);
    gdcm::Attribute<0x0028, 0x0030> ps;
    ps.SetFromDataSet(ds);
    s.spacing_row = ps[0];  // between rows (along the column direction)
    s.spacing_col = ps[1];  // between columns (along the row direction)
    s.series_uid = string_of(ds, 0x0020, 0x000E);
    s.description = string_of(ds, 0x0008, 0x103E);
    s.slope = img.GetSlope();
    s.intercept = img.GetIntercept();
    if (img.GetNumberOfDimensions() == 3 && img.GetDimension(2) > 1)
        SPORTSMED_THROW(FormatError, "{}: '{}' is a multi-frame image; single-frame series are read", kRead, path);
    s.cols = img.GetDimension(0);
    s.rows = img.GetDimension(1);
    if (!pixels) return true;
    const gdcm::PixelFormat pf = img.GetPixelFormat();
    if (pf.GetSamplesPerPixel() != 1)
        SPORTSMED_THROW(FormatError, "{}: '{}' has {} samples per pixel; grey-level images are read", kRead, path,
                        pf.GetSamplesPerPixel());
    // What the conversion below handles, checked before GDCM decodes: its raw codec asserts
    // (and aborts the process) on a photometric interpretation it does not know.
    const gdcm::PhotometricInterpretation::PIType pi = img.GetPhotometricInterpretation().GetType();
    if (pi != gdcm::PhotometricInterpretation::MONOCHROME1 && pi != gdcm::PhotometricInterpretation::MONOCHROME2) {
        const char* name = gdcm::PhotometricInterpretation::GetPIString(pi);
        SPORTSMED_THROW(FormatError, "{}: '{}' has photometric interpretation '{}'; MONOCHROME1/2 images are read",
                        kRead, path, name ? name : "unknown");
    }
    switch (pf.GetScalarType()) {
        case gdcm::PixelFormat::UINT8: case gdcm::PixelFormat::INT8: case gdcm::PixelFormat::UINT16:
        case gdcm::PixelFormat::INT16: case gdcm::PixelFormat::UINT32: case gdcm::PixelFormat::INT32:
        case gdcm::PixelFormat::FLOAT32: case gdcm::PixelFormat::FLOAT64: break;
        default:
            SPORTSMED_THROW(FormatError, "{}: '{}' has an unsupported pixel format ({} bits allocated)", kRead, path,
                            pf.GetBitsAllocated());
    }
    const std::size_t n = static_cast<std::size_t>(s.rows) * s.cols;
    // Native (unencapsulated) pixel data shorter than rows x columns x bits: GDCM's raw
    // codec would copy the declared size out of the shorter value (a heap over-read).
    if (!ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010)))
        SPORTSMED_THROW(FormatError, "{}: '{}' has no pixel data (7FE0,0010)", kRead, path);
    if (const gdcm::ByteValue* bv = ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)).GetByteValue()) {
        const std::size_t bits = n * pf.GetSamplesPerPixel() * pf.GetBitsAllocated();
        if (bv->GetLength() < (bits + 7) / 8)
            SPORTSMED_THROW(FormatError,
                            "{}: pixel data of '{}' hold {} bytes, less than the {} x {} pixels of {} bits its header "
                            "declares",
                            kRead, path, bv->GetLength(), s.cols, s.rows, pf.GetBitsAllocated());
    }
    std::vector<char> buf(img.GetBufferLength());
    if (!img.GetBuffer(buf.data()))
        SPORTSMED_THROW(FormatError, "{}: GDCM cannot decode the pixel data of '{}'", kRead, path);
    // Checked before the conversion reads n values out of buf.
    if (buf.size() < n * pf.GetPixelSize())
        SPORTSMED_THROW(FormatError, "{}: pixel data of '{}' is shorter than rows x columns", kRead, path);
    switch (pf.GetScalarType()) {
        case gdcm::PixelFormat::UINT8: to_double<std::uint8_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::INT8: to_double<std::int8_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::UINT16: to_double<std::uint16_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::INT16: to_double<std::int16_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::UINT32: to_double<std::uint32_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::INT32: to_double<std::int32_t>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::FLOAT32: to_double<float>(buf.data(), n, s.pixels); break;
        case gdcm::PixelFormat::FLOAT64: to_double<double>(buf.data(), n, s.pixels); break;
        default:
            SPORTSMED_THROW(FormatError, "{}: '{}' has an unsupported pixel format", kRead, path);
    }
    for (auto& v : s.pixels) v = v * s.slope + s.intercept;
    return true;
}

std::vector<std::string> folder_files(const std::string& folder) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(folder)) SPORTSMED_THROW(NotFound, "{}: no such folder '{}'", kRead, folder);
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(folder))
        if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<DicomSeriesInfo> summarise(const std::vector<Slice>& slices) {
    std::map<std::string, DicomSeriesInfo> by_uid;
    for (const auto& s : slices) {
        DicomSeriesInfo& i = by_uid[s.series_uid];
        i.series_uid = s.series_uid;
        i.description = s.description;
        ++i.files;
        if (std::find(i.te_ms.begin(), i.te_ms.end(), s.te) == i.te_ms.end()) i.te_ms.push_back(s.te);
    }
    std::vector<DicomSeriesInfo> out;
    for (auto& [uid, i] : by_uid) {
        std::sort(i.te_ms.begin(), i.te_ms.end());
        out.push_back(std::move(i));
    }
    return out;
}

std::string listing(const std::vector<DicomSeriesInfo>& series) {
    std::string out;
    for (const auto& i : series)
        out += fmt::format("{}'{}' ('{}', {} images)", out.empty() ? "" : ", ", i.series_uid, i.description, i.files);
    return out;
}

}  // namespace

std::vector<DicomSeriesInfo> list_dicom_series(const std::string& folder) {
    std::vector<Slice> slices;
    for (const auto& f : folder_files(folder)) {
        Slice s;
        if (read_slice(f, s, false)) slices.push_back(std::move(s));
    }
    if (slices.empty()) SPORTSMED_THROW(NotFound, "{}: no readable DICOM image in '{}'", kRead, folder);
    return summarise(slices);
}

DicomSeries read_dicom_series(const std::string& folder, const std::string& series) {
    // Headers first: choose the series, then decode only its pixels.
    std::vector<Slice> headers;
    for (const auto& f : folder_files(folder)) {
        Slice s;
        if (read_slice(f, s, false)) headers.push_back(std::move(s));
    }
    if (headers.empty()) SPORTSMED_THROW(NotFound, "{}: no readable DICOM image in '{}'", kRead, folder);
    const auto found = summarise(headers);
    std::string uid = found.front().series_uid;
    if (!series.empty()) {
        const auto it = std::find_if(found.begin(), found.end(), [&](const DicomSeriesInfo& i) {
            return i.series_uid == series || i.description == series;
        });
        if (it == found.end())
            SPORTSMED_THROW(NotFound, "{}: no series '{}' in '{}'; it holds {}", kRead, series, folder, listing(found));
        const auto again = std::find_if(it + 1, found.end(), [&](const DicomSeriesInfo& i) {
            return i.series_uid == series || i.description == series;
        });
        if (again != found.end())
            SPORTSMED_THROW(FormatError, "{}: several series of '{}' are described as '{}'; choose by UID: {}", kRead,
                            folder, series, listing(found));
        uid = it->series_uid;
    } else if (found.size() > 1) {
        SPORTSMED_THROW(FormatError, "{}: '{}' holds {} series: {}; choose one (series= UID or description)", kRead,
                        folder, found.size(), listing(found));
    }
    std::vector<Slice> slices;
    for (const auto& h : headers) {
        if (h.series_uid != uid) continue;
        Slice s;
        if (read_slice(h.path, s, true)) slices.push_back(std::move(s));
    }
    const Slice& first = slices.front();
    for (const auto& s : slices) {
        if (s.rows != first.rows || s.cols != first.cols)
            SPORTSMED_THROW(FormatError, "{}: '{}' is {}x{}, '{}' is {}x{}", kRead, s.path, s.cols, s.rows,
                            first.path, first.cols, first.rows);
        if ((s.row_dir - first.row_dir).norm() > 1e-4 || (s.col_dir - first.col_dir).norm() > 1e-4)
            SPORTSMED_THROW(FormatError, "{}: '{}' has a different orientation from '{}'", kRead, s.path, first.path);
    }
    Eigen::Vector3d row = first.row_dir, col = first.col_dir;
    if (std::abs(row.norm() - 1) > 1e-3 || std::abs(col.norm() - 1) > 1e-3 || std::abs(row.dot(col)) > 1e-3)
        SPORTSMED_THROW(FormatError, "{}: ImageOrientationPatient of '{}' is not orthonormal", kRead, first.path);
    row.normalize();
    col = (col - row * row.dot(col)).normalized();
    const Eigen::Vector3d normal = row.cross(col);
    for (auto& s : slices) s.pos_normal = s.position.dot(normal);

    // Split by echo time, then sort each echo's slices along the normal.
    std::map<long long, std::vector<Slice*>> echoes;
    for (auto& s : slices) echoes[std::llround(s.te * 1000.0)].push_back(&s);
    const std::size_t nslices = echoes.begin()->second.size();
    for (auto& [key, list] : echoes) {
        if (list.size() != nslices)
            SPORTSMED_THROW(FormatError, "{}: echo TE = {} ms of '{}' has {} slices, the first echo {}", kRead,
                            key / 1000.0, folder, list.size(), nslices);
        std::sort(list.begin(), list.end(), [](const Slice* a, const Slice* b) { return a->pos_normal < b->pos_normal; });
    }
    const auto& ref = echoes.begin()->second;
    double dz = 1.0;
    if (nslices > 1) {
        dz = (ref.back()->pos_normal - ref.front()->pos_normal) / static_cast<double>(nslices - 1);
        if (!(dz > 0))
            SPORTSMED_THROW(FormatError, "{}: slices of '{}' share one position (duplicate slices?)", kRead, folder);
        for (std::size_t i = 1; i < nslices; ++i) {
            const double step = ref[i]->pos_normal - ref[i - 1]->pos_normal;
            if (std::abs(step - dz) > 0.01 * dz)
                SPORTSMED_THROW(FormatError, "{}: slices of '{}' are unevenly spaced ({} mm then {} mm mean)", kRead,
                                folder, step, dz);
        }
    }
    DicomSeries out;
    Geometry g;
    g.shape = {first.cols, first.rows, static_cast<std::int64_t>(nslices)};
    g.spacing_mm = {first.spacing_col, first.spacing_row, dz};
    g.direction.col(0) = row;
    g.direction.col(1) = col;
    g.direction.col(2) = normal;
    g.origin_mm = ref.front()->position;
    g.validate(("read_dicom_series: '" + folder + "'").c_str());
    const std::int64_t ne = static_cast<std::int64_t>(echoes.size());
    out.image = Volume<double>(g, ne);
    const std::int64_t plane = g.shape[0] * g.shape[1];
    std::int64_t c = 0;
    for (auto& [key, list] : echoes) {
        out.te_ms.push_back(list.front()->te);
        for (std::size_t k = 0; k < nslices; ++k)
            std::copy(list[k]->pixels.begin(), list[k]->pixels.end(),
                      out.image.data() + plane * (static_cast<std::int64_t>(k) + g.shape[2] * c));
        ++c;
    }
    out.series_uid = first.series_uid;
    out.description = first.description;
    return out;
}

}  // namespace sportsmed::imaging
