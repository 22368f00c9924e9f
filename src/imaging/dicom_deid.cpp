// DICOM de-identification through GDCM's Anonymizer (PS3.15 Annex E, basic profile).

#include "sportsmed/imaging/dicom_deid.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include <gdcmAnonymizer.h>
#include <gdcmCryptographicMessageSyntax.h>
#include <gdcmDataSetHelper.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTrace.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmImplicitDataElement.h>
#include <gdcmReader.h>
#include <gdcmSwapper.h>
#include <gdcmUIDGenerator.h>
#include <gdcmWriter.h>

#include <fmt/format.h>

#include "dicom_check.hpp"
#include "sportsmed/core/error.hpp"

namespace sportsmed::imaging {
namespace {

constexpr const char* kWhere = "deidentify_dicom";

// GDCM's Anonymizer implements the profile's optional step 1 (an encrypted copy of the
// original attributes, for re-identification) and refuses to run without a CMS. This one
// encrypts to nothing, and the empty Encrypted Attributes Sequence is removed afterwards:
// a shared file must not carry the original values in any form.
class DiscardingCms final : public gdcm::CryptographicMessageSyntax {
public:
    bool ParseCertificateFile(const char*) override { return true; }
    bool ParseKeyFile(const char*) override { return true; }
    bool SetPassword(const char*, size_t) override { return true; }
    bool Encrypt(char*, size_t& outlen, const char*, size_t) const override {
        outlen = 0;
        return true;
    }
    bool Decrypt(char*, size_t& outlen, const char*, size_t) const override {
        outlen = 0;
        return false;
    }
    void SetCipherType(CipherTypes) override {}
    CipherTypes GetCipherType() const override { return AES256_CIPHER; }
};

// The Anonymizer keeps its UID map in static members: one run at a time.
std::mutex& run_mutex() {
    static std::mutex m;
    return m;
}

std::string keyword(const gdcm::Tag& t) {
    if (t.IsPrivate()) return "private";
    const gdcm::DictEntry& e = gdcm::Global::GetInstance().GetDicts().GetDictEntry(t);
    const char* k = e.GetKeyword();
    return k && *k ? k : "unknown";
}

std::string tag_text(const gdcm::Tag& t) { return fmt::format("({:04X},{:04X})", t.GetGroup(), t.GetElement()); }

// The value of an element as bytes: a deep copy, so that later changes to nested
// sequences (which GDCM shares between copies of an element) do not reach it.
std::string value_bytes(const gdcm::DataElement& de) {
    if (de.IsEmpty()) return {};
    if (const gdcm::ByteValue* bv = de.GetByteValue()) return std::string(bv->GetPointer(), bv->GetLength());
    std::ostringstream os;
    try {
        de.Write<gdcm::ImplicitDataElement, gdcm::SwapperNoOp>(os);
    } catch (const std::exception&) {
        return "\x01unserialisable";
    }
    return os.str();
}

std::string trimmed_string(const gdcm::DataSet& ds, const gdcm::Tag& t) {
    if (!ds.FindDataElement(t)) return {};
    const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
    if (!bv) return {};
    std::string s(bv->GetPointer(), bv->GetLength());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    return s;
}

void set_string(gdcm::DataSet& ds, const gdcm::Tag& t, gdcm::VR vr, std::string value) {
    // DICOM pads text to an even length with a space, UIDs with a NUL.
    if (value.size() % 2) value.push_back(vr == gdcm::VR::UI ? '\0' : ' ');
    gdcm::DataElement de(t);
    de.SetVR(ds.FindDataElement(t) ? ds.GetDataElement(t).GetVR() : vr);
    de.SetByteValue(value.data(), static_cast<std::uint32_t>(value.size()));
    ds.Replace(de);
}

const gdcm::Tag kPixelData(0x7fe0, 0x0010);
const gdcm::Tag kPatientId(0x0010, 0x0020);
const gdcm::Tag kPatientName(0x0010, 0x0010);
const gdcm::Tag kSopInstanceUid(0x0008, 0x0018);
// UIDs that tie files into one study, series and patient frame: they must keep a value
// (new, shared across the run) even where GDCM's IOD table lets the profile empty them.
const gdcm::Tag kLinkingUids[] = {gdcm::Tag(0x0020, 0x000d), gdcm::Tag(0x0020, 0x000e), gdcm::Tag(0x0020, 0x0052),
                                  kSopInstanceUid};

// Attributes of today's Table E.1-1 (PS3.15 2023, basic profile column) that GDCM's table,
// which follows the 2008 edition, lacks: above all the dates and times (added to the
// basic profile by Supplement 142), and further names, ids, addresses and free text.
// They are emptied (zero length: valid for Type 2 and 3 attributes) wherever they occur.
// clang-format off
const std::uint32_t kSupplement[] = {
    // dates, times, date-times
    0x00080012, 0x00080013, 0x00080015, 0x00080020, 0x00080021, 0x00080022, 0x00080023, 0x00080024, 0x00080025,
    0x0008002A, 0x00080030, 0x00080031, 0x00080032, 0x00080033, 0x00080034, 0x00080035, 0x00080201, 0x00181012,
    0x00181014, 0x00181200, 0x00181201, 0x0018700C, 0x00189074, 0x00189151, 0x00189516, 0x00189517, 0x00320032,
    0x00320033, 0x00320034, 0x00320035, 0x00321000, 0x00321001, 0x00321010, 0x00321011, 0x00321040, 0x00321041,
    0x00321050, 0x00321051, 0x00380020, 0x00380021, 0x00380030, 0x00380032, 0x00400002, 0x00400003, 0x00400004,
    0x00400005, 0x00400244, 0x00400245, 0x00400250, 0x00400251, 0x00402004, 0x00402005, 0x00404050, 0x00404051,
    0x00404052, 0x0040A032, 0x0040A120, 0x0040A121, 0x0040A122, 0x00102180, 0x001021D0, 0x30060008, 0x30060009,
    // people, places, ids, devices
    0x00080082, 0x00080096, 0x00081049, 0x00081052, 0x00081062, 0x00081072, 0x00081084, 0x00081111, 0x00081120,
    0x00084000, 0x00100050, 0x00100101, 0x00100102, 0x00101002, 0x00101005, 0x00101040, 0x00101060, 0x00101080,
    0x00101081, 0x00102000, 0x00102110, 0x00102150, 0x00102152, 0x00102154, 0x00102155, 0x001021A0, 0x001021C0,
    0x001021F0, 0x00102203, 0x00102297, 0x00102299, 0x00181002, 0x00181004, 0x00181005, 0x00181007, 0x00181008,
    0x00181009, 0x0018100A, 0x00181400, 0x00184000, 0x00189424, 0x0018A003, 0x00209158, 0x00321020, 0x00321021,
    0x00321030, 0x00321032, 0x00321033, 0x00321060, 0x00321070, 0x00324000, 0x00380004, 0x00380010, 0x00380011,
    0x00380060, 0x00380061, 0x00380062, 0x00380300, 0x00380400, 0x00380500, 0x00384000, 0x00400001, 0x00400006,
    0x00400007, 0x00400009, 0x00400010, 0x00400011, 0x00400241, 0x00400242, 0x00400243, 0x00400253, 0x00400254,
    0x00400280, 0x00401001, 0x00401004, 0x00401005, 0x00401010, 0x00401011, 0x00401102, 0x00401103, 0x00401400,
    0x00402001, 0x00402008, 0x00402009, 0x00402010, 0x00402016, 0x00402017, 0x00402400, 0x00403001, 0x0040A027,
    0x0040A073, 0x0040A075, 0x0040A078, 0x0040A07A, 0x0040A07C, 0x0040A123, 0x00700084, 0x00700086, 0x40080114,
    0x40080119, 0x4008011A, 0x40080202, 0x40080300, 0x40084000,
    // issuer of the patient id, contrast agent (free text)
    0x00100021, 0x00180010};
// Attributes the basic profile removes (X) that GDCM's table lacks: removed wherever they
// occur, not emptied (the record of earlier edits holds the old values of what was changed).
const gdcm::Tag kRemoved[] = {gdcm::Tag(0x0010, 0x0021), gdcm::Tag(0x0400, 0x0561)};
// clang-format on

const std::set<gdcm::Tag>& supplement_tags() {
    static const std::set<gdcm::Tag> tags = [] {
        std::set<gdcm::Tag> t;
        for (std::uint32_t v : kSupplement) t.insert(gdcm::Tag(static_cast<std::uint16_t>(v >> 16),
                                                                static_cast<std::uint16_t>(v & 0xffff)));
        return t;
    }();
    return tags;
}

// Empties the supplement's attributes in @p ds and, recursively, in its sequences.
void empty_supplement(const gdcm::File& file, gdcm::DataSet& ds, int depth = 0) {
    if (depth > 32) return;
    const auto& tags = supplement_tags();
    std::vector<gdcm::DataElement> replaced;
    for (const gdcm::Tag& t : kRemoved) ds.Remove(t);
    for (const gdcm::DataElement& de : ds.GetDES()) {
        const gdcm::Tag& t = de.GetTag();
        // Overlay comments (60xx,4000) are free text too.
        const bool overlay_comment = (t.GetGroup() & 0xff00) == 0x6000 && t.GetElement() == 0x4000;
        if (tags.count(t) || overlay_comment) {
            if (!de.IsEmpty()) {
                gdcm::DataElement copy(de);
                copy.Empty();
                replaced.push_back(copy);
            }
            continue;
        }
        if (t.IsPrivate() || t == kPixelData) continue;
        if (gdcm::DataSetHelper::ComputeVR(file, ds, t) != gdcm::VR::SQ) continue;
        gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
        if (!sq) continue;
        for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i)
            empty_supplement(file, sq->GetItem(i).GetNestedDataSet(), depth + 1);
        gdcm::DataElement copy(de);
        copy.SetValue(*sq);
        copy.SetVLToUndefined();
        replaced.push_back(copy);
    }
    for (const gdcm::DataElement& de : replaced) ds.Replace(de);
}

// Calls @p f(element) for every element of VR UI in @p ds and its sequences; a non-empty
// return value replaces the element's value (applied after the walk of each data set).
template <typename F>
void for_each_uid(const gdcm::File& file, gdcm::DataSet& ds, F&& f, int depth = 0) {
    if (depth > 32) return;
    std::vector<gdcm::DataElement> nested;
    std::vector<std::pair<gdcm::Tag, std::string>> values;
    for (const gdcm::DataElement& de : ds.GetDES()) {
        const gdcm::Tag& t = de.GetTag();
        if (t == kPixelData) continue;
        const gdcm::VR vr = gdcm::DataSetHelper::ComputeVR(file, ds, t);
        if (vr == gdcm::VR::UI) {
            std::string v = f(de);
            if (!v.empty()) values.emplace_back(t, std::move(v));
            continue;
        }
        if (vr != gdcm::VR::SQ) continue;
        gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
        if (!sq) continue;
        for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i)
            for_each_uid(file, sq->GetItem(i).GetNestedDataSet(), f, depth + 1);
        gdcm::DataElement copy(de);
        copy.SetValue(*sq);
        copy.SetVLToUndefined();
        nested.push_back(copy);
    }
    for (const gdcm::DataElement& de : nested) ds.Replace(de);
    for (const auto& [t, v] : values) set_string(ds, t, gdcm::VR::UI, v);
}

std::string uid_value(const gdcm::DataElement& de) {
    const gdcm::ByteValue* bv = de.GetByteValue();
    if (!bv) return {};
    std::string s(bv->GetPointer(), bv->GetLength());
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
}

// DICOM's own UIDs (SOP classes, transfer syntaxes, coding schemes) identify no one.
bool standard_uid(const std::string& uid) { return uid.rfind("1.2.840.10008.", 0) == 0; }

// GDCM's own implementation class UID and version name (protected in its API).
struct GdcmMeta : gdcm::FileMetaInformation {
    using gdcm::FileMetaInformation::GetGDCMImplementationClassUID;
    using gdcm::FileMetaInformation::GetGDCMImplementationVersionName;
};

struct Run {
    std::map<std::string, std::string> fallback_uids;  // for linking UIDs the profile emptied
    std::string uid_for(const std::string& original) {
        auto it = fallback_uids.find(original);
        if (it != fallback_uids.end()) return it->second;
        gdcm::UIDGenerator gen;
        return fallback_uids[original] = gen.Generate();
    }
};

DicomDeidReport deidentify_one(const std::string& in, const std::string& out, const DicomDeidOptions& options,
                               Run& run) {
    if (!detail::check_dicom_structure(in))
        SPORTSMED_THROW(FormatError, "{}: '{}' is not a DICOM file", kWhere, in);
    gdcm::Reader reader;
    reader.SetFileName(in.c_str());
    if (!reader.Read()) SPORTSMED_THROW(FormatError, "{}: GDCM cannot read '{}'", kWhere, in);
    gdcm::File& file = reader.GetFile();
    gdcm::DataSet& ds = file.GetDataSet();

    std::map<gdcm::Tag, std::string> before;
    for (const gdcm::DataElement& de : ds.GetDES()) before[de.GetTag()] = value_bytes(de);
    const std::string pixels_before = ds.FindDataElement(kPixelData) ? before[kPixelData] : std::string();
    const std::string original_patient_id = trimmed_string(ds, kPatientId);
    std::map<gdcm::Tag, std::string> original_linking;
    for (const gdcm::Tag& t : kLinkingUids) original_linking[t] = trimmed_string(ds, t);
    // Every instance UID of the original, at any depth: one that is still there after the
    // profile (an attribute newer than GDCM's table, e.g. IrradiationEventUID) is replaced.
    std::set<std::string> original_uids;
    for_each_uid(file, ds, [&](const gdcm::DataElement& de) {
        std::string v = uid_value(de);
        std::size_t start = 0;  // multi-valued UIDs
        while (start <= v.size()) {
            const std::size_t end = std::min(v.find('\\', start), v.size());
            const std::string one = v.substr(start, end - start);
            if (!one.empty() && !standard_uid(one)) original_uids.insert(one);
            start = end + 1;
        }
        return std::string();
    });
    std::vector<gdcm::DataElement> kept;
    for (const auto& [g, e] : options.keep) {
        const gdcm::Tag t(g, e);
        if (ds.FindDataElement(t)) kept.push_back(ds.GetDataElement(t));
    }

    // A file de-identified before: the profile refuses files that carry its markers.
    for (const gdcm::Tag& t : {gdcm::Tag(0x0012, 0x0062), gdcm::Tag(0x0012, 0x0063), gdcm::Tag(0x0400, 0x0500)})
        ds.Remove(t);

    gdcm::Anonymizer anon;
    anon.SetFile(file);
    DiscardingCms cms;
    anon.SetCryptographicMessageSyntax(&cms);
    bool ok = false;
    try {
        ok = anon.BasicApplicationLevelConfidentialityProfile(true);
    } catch (const std::exception& e) {
        SPORTSMED_THROW(FormatError, "{}: GDCM's anonymizer failed on '{}': {}", kWhere, in, e.what());
    }
    if (!ok) SPORTSMED_THROW(FormatError, "{}: GDCM's anonymizer could not apply the basic profile to '{}'", kWhere, in);
    ds.Remove(gdcm::Tag(0x0400, 0x0500));
    if (!options.keep_private) anon.RemovePrivateTags();
    empty_supplement(file, ds);

    for (const gdcm::Tag& t : kLinkingUids) {
        const std::string& original = original_linking[t];
        if (!original.empty() && trimmed_string(ds, t).empty()) set_string(ds, t, gdcm::VR::UI, run.uid_for(original));
    }
    for_each_uid(file, ds, [&](const gdcm::DataElement& de) {
        const std::string v = uid_value(de);
        std::string out;
        bool changed = false;
        std::size_t start = 0;
        while (start <= v.size()) {
            const std::size_t end = std::min(v.find('\\', start), v.size());
            std::string one = v.substr(start, end - start);
            if (original_uids.count(one)) one = run.uid_for(one), changed = true;
            out += (start ? "\\" : "") + one;
            start = end + 1;
        }
        return changed ? out : std::string();
    });
    if (options.patient_pseudonym && !original_patient_id.empty()) {
        const std::string p = options.patient_pseudonym(original_patient_id);
        set_string(ds, kPatientId, gdcm::VR::LO, p);
        set_string(ds, kPatientName, gdcm::VR::PN, p);
    }
    for (const gdcm::DataElement& de : kept) ds.Replace(de);

    // The file meta information repeats the SOP Instance UID and may name the sending station.
    gdcm::FileMetaInformation& meta = file.GetHeader();
    const std::string sop = trimmed_string(ds, kSopInstanceUid);
    if (!sop.empty()) set_string(meta, gdcm::Tag(0x0002, 0x0003), gdcm::VR::UI, sop);
    // The writing software's UID is under its maker's root, which may be the site's own.
    set_string(meta, gdcm::Tag(0x0002, 0x0012), gdcm::VR::UI,
               GdcmMeta::GetGDCMImplementationClassUID());
    set_string(meta, gdcm::Tag(0x0002, 0x0013), gdcm::VR::SH,
               GdcmMeta::GetGDCMImplementationVersionName());
    for (const gdcm::Tag& t : {gdcm::Tag(0x0002, 0x0016), gdcm::Tag(0x0002, 0x0017), gdcm::Tag(0x0002, 0x0018),
                              gdcm::Tag(0x0002, 0x0100), gdcm::Tag(0x0002, 0x0102)})
        meta.Remove(t);

    DicomDeidReport report{in, out, {}};
    std::map<gdcm::Tag, std::string> after;
    for (const gdcm::DataElement& de : ds.GetDES()) after[de.GetTag()] = value_bytes(de);
    for (const auto& [t, v] : before) {
        auto it = after.find(t);
        const std::string what = it == after.end() ? "removed"
                                 : it->second == v ? std::string()
                                 : it->second.empty() ? "emptied"
                                                      : "replaced";
        if (!what.empty()) report.changes.push_back(fmt::format("{} {}: {}", tag_text(t), keyword(t), what));
    }
    for (const auto& [t, v] : after)
        if (!before.count(t)) report.changes.push_back(fmt::format("{} {}: added", tag_text(t), keyword(t)));

    namespace fs = std::filesystem;
    const fs::path target(out);
    const fs::path tmp = target.parent_path() / fmt::format(".{}.{}.deid-tmp", target.filename().string(), ::getpid());
    gdcm::Writer writer;
    writer.SetFile(anon.GetFile());
    writer.SetFileName(tmp.string().c_str());
    bool written = false;
    try {
        written = writer.Write();
    } catch (const std::exception&) {
        written = false;
    }
    std::error_code ec;
    if (!written) {
        fs::remove(tmp, ec);
        SPORTSMED_THROW(FormatError, "{}: GDCM could not write the de-identified '{}' to '{}'", kWhere, in, out);
    }
    // Pixel data untouched: read what was written and compare.
    {
        gdcm::Reader check;
        check.SetFileName(tmp.string().c_str());
        const bool read_back = check.Read();
        const gdcm::DataSet& cds = check.GetFile().GetDataSet();
        const std::string pixels_after =
            read_back && cds.FindDataElement(kPixelData) ? value_bytes(cds.GetDataElement(kPixelData)) : std::string();
        if (!read_back || pixels_after != pixels_before) {
            fs::remove(tmp, ec);
            SPORTSMED_THROW(Error, "{}: the pixel data of '{}' changed in the de-identified copy ({} vs {} bytes)",
                            kWhere, in, pixels_after.size(), pixels_before.size());
        }
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        fs::remove(tmp, ec);
        SPORTSMED_THROW(Error, "{}: cannot write '{}': {}", kWhere, out, ec.message());
    }
    return report;
}

}  // namespace

std::vector<DicomDeidReport> deidentify_dicom_files(const std::vector<std::string>& inputs,
                                                    const std::vector<std::string>& outputs,
                                                    const DicomDeidOptions& options) {
    SPORTSMED_CHECK(inputs.size() == outputs.size(), "{}: {} inputs but {} outputs", kWhere, inputs.size(),
                    outputs.size());
    std::lock_guard<std::mutex> lock(run_mutex());
    // The profile asks GDCM's IOD tables (Part3.xml, shipped by libgdcm) which attributes
    // must keep a value; GDCM asserts, killing the process, when they are not loaded.
    static bool resources = gdcm::Global::GetInstance().LoadResourcesFiles();
    if (!resources)
        SPORTSMED_THROW(NotFound, "{}: GDCM's resource files (Part3.xml) were not found; install libgdcm3.0 or "
                        "set GDCM_RESOURCES_PATH to the folder holding Part3.xml", kWhere);
    // The UID map lives for one call: the same UID in two runs gets two different new UIDs,
    // so separately shared batches cannot be linked through them.
    // GDCM prints a warning for every private attribute it has no dictionary entry for.
    struct Clear {
        bool warnings = gdcm::Trace::GetWarningFlag();
        Clear() {
            gdcm::Anonymizer::ClearInternalUIDs();
            gdcm::Trace::WarningOff();
        }
        ~Clear() {
            gdcm::Anonymizer::ClearInternalUIDs();
            gdcm::Trace::SetWarning(warnings);
        }
    } clear;
    Run run;
    std::vector<DicomDeidReport> reports;
    reports.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) reports.push_back(deidentify_one(inputs[i], outputs[i], options, run));
    return reports;
}

std::vector<std::string> dicom_deid_profile_attributes() {
    std::vector<std::string> out;
    for (const gdcm::Tag& t : gdcm::Anonymizer::GetBasicApplicationLevelConfidentialityProfileAttributes())
        out.push_back(fmt::format("{} {}", tag_text(t), keyword(t)));
    return out;
}

}  // namespace sportsmed::imaging
