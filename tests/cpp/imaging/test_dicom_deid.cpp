#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/imaging/dicom.hpp"
#include "sportsmed/imaging/dicom_deid.hpp"

namespace fs = std::filesystem;
using namespace sportsmed::imaging;

namespace {

// An Explicit VR Little Endian MR slice written byte by byte (PS3.5 7.1.2), carrying
// known identifiers; elements in tag order, pixel data last.
void put16(std::string& s, std::uint16_t v) { s.append({char(v & 0xff), char(v >> 8)}); }
void put32(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
std::string element(std::uint16_t g, std::uint16_t e, const char* vr, std::string value) {
    const std::string v(vr);
    if (value.size() % 2) value.push_back(v == "UI" ? '\0' : ' ');
    std::string s;
    put16(s, g);
    put16(s, e);
    s += v;
    if (v == "OB" || v == "OW") {
        put16(s, 0);
        put32(s, static_cast<std::uint32_t>(value.size()));
    } else {
        put16(s, static_cast<std::uint16_t>(value.size()));
    }
    return s + value;
}
std::string us(std::uint16_t v) {
    std::string s;
    put16(s, v);
    return s;
}

const char* kRoot = "1.2.826.0.1.3680043.9.7777";

std::string slice(int k, std::string& pixels) {
    const std::string sop = std::string(kRoot) + ".4." + std::to_string(k + 1);
    pixels.clear();
    for (int i = 0; i < 4 * 3; ++i) put16(pixels, static_cast<std::uint16_t>(100 * k + 7 * i));
    std::string ds;
    ds += element(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.4");
    ds += element(0x0008, 0x0018, "UI", sop);
    ds += element(0x0008, 0x0020, "DA", "20240229");
    ds += element(0x0008, 0x0060, "CS", "MR");
    ds += element(0x0008, 0x0080, "LO", "St Elsewhere Sports Clinic");
    ds += element(0x0010, 0x0010, "PN", "Doe^Jane");
    ds += element(0x0010, 0x0020, "LO", "SM4711X");
    ds += element(0x0010, 0x0030, "DA", "19870314");
    ds += element(0x0020, 0x000D, "UI", std::string(kRoot) + ".1");
    ds += element(0x0020, 0x000E, "UI", std::string(kRoot) + ".2");
    ds += element(0x0020, 0x0013, "IS", std::to_string(k + 1));
    ds += element(0x0020, 0x0032, "DS", "-10\\-20\\" + std::to_string(3 * k));
    ds += element(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
    ds += element(0x0020, 0x0052, "UI", std::string(kRoot) + ".3");
    ds += element(0x0028, 0x0002, "US", us(1));
    ds += element(0x0028, 0x0004, "CS", "MONOCHROME2");
    ds += element(0x0028, 0x0010, "US", us(4));
    ds += element(0x0028, 0x0011, "US", us(3));
    ds += element(0x0028, 0x0030, "DS", "0.5\\0.75");
    ds += element(0x0028, 0x0100, "US", us(16));
    ds += element(0x0028, 0x0101, "US", us(12));
    ds += element(0x0028, 0x0102, "US", us(11));
    ds += element(0x0028, 0x0103, "US", us(0));
    ds += element(0x7FE0, 0x0010, "OW", pixels);
    std::string meta_body = element(0x0002, 0x0001, "OB", std::string("\0\1", 2));
    meta_body += element(0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.4");
    meta_body += element(0x0002, 0x0003, "UI", sop);
    meta_body += element(0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
    meta_body += element(0x0002, 0x0012, "UI", std::string(kRoot) + ".99");
    std::string ul;
    put32(ul, static_cast<std::uint32_t>(meta_body.size()));
    return std::string(128, '\0') + "DICM" + element(0x0002, 0x0000, "UL", ul) + meta_body + ds;
}

std::string read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST_CASE("dicom deid: no identifier left, one series with new UIDs, same pixels and volume", "[imaging][dicom]") {
    const fs::path dir = fs::temp_directory_path() / "sportsmed_test_dicom_deid";
    fs::remove_all(dir);
    fs::create_directories(dir / "in");
    fs::create_directories(dir / "out");
    std::vector<std::string> inputs, outputs, pixels(3);
    for (int k = 0; k < 3; ++k) {
        const std::string name = "IM" + std::to_string(k) + ".dcm";
        std::ofstream(dir / "in" / name, std::ios::binary) << slice(k, pixels[k]);
        inputs.push_back((dir / "in" / name).string());
        outputs.push_back((dir / "out" / name).string());
    }
    std::vector<std::string> seen_ids;
    DicomDeidOptions o;
    o.patient_pseudonym = [&](const std::string& id) {
        seen_ids.push_back(id);
        return std::string("sm_0123456789abcdef");
    };
    const auto reports = deidentify_dicom_files(inputs, outputs, o);
    REQUIRE(reports.size() == 3);
    CHECK(seen_ids == std::vector<std::string>(3, "SM4711X"));
    for (int k = 0; k < 3; ++k) {
        const std::string bytes = read_all(outputs[k]);
        for (const char* ident : {"Doe^Jane", "Doe", "SM4711X", "19870314", "20240229", "St Elsewhere", kRoot})
            CHECK(bytes.find(ident) == std::string::npos);
        CHECK(bytes.find("sm_0123456789abcdef") != std::string::npos);
        // pixel data is the last element: the same bytes end the file
        CHECK(bytes.substr(bytes.size() - pixels[k].size()) == pixels[k]);
    }
    const auto& changes = reports[0].changes;
    for (const char* c : {"(0010,0010) PatientName: replaced", "(0010,0030) PatientBirthDate: emptied",
                          "(0008,0020) StudyDate: emptied", "(0020,000E) SeriesInstanceUID: replaced",
                          "(0012,0062) PatientIdentityRemoved: added"})
        CHECK(std::find(changes.begin(), changes.end(), c) != changes.end());

    const auto before = list_dicom_series((dir / "in").string());
    const auto after = list_dicom_series((dir / "out").string());
    REQUIRE(after.size() == 1);
    CHECK(after[0].files == 3);
    CHECK(after[0].series_uid != before[0].series_uid);
    const DicomSeries a = read_dicom_series((dir / "in").string());
    const DicomSeries b = read_dicom_series((dir / "out").string());
    CHECK(a.image.values() == b.image.values());
    CHECK(a.image.geometry().origin_mm == b.image.geometry().origin_mm);
    CHECK(a.image.geometry().spacing_mm == b.image.geometry().spacing_mm);
    CHECK(a.image.geometry().direction == b.image.geometry().direction);

    // a file that is not DICOM is a FormatError naming it, and nothing is written for it
    std::ofstream(dir / "in" / "notes.dcm") << "not a DICOM file";
    CHECK_THROWS_AS(deidentify_dicom_files({(dir / "in" / "notes.dcm").string()}, {(dir / "out" / "n.dcm").string()}),
                    sportsmed::FormatError);
    CHECK(!fs::exists(dir / "out" / "n.dcm"));
    fs::remove_all(dir);
}
