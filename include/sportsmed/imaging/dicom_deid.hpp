#pragma once
/// @file
/// DICOM de-identification: the Basic Application Level Confidentiality Profile of
/// DICOM PS3.15 Annex E, applied by GDCM's Anonymizer, with one UID map per run.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sportsmed::imaging {

/// Options of deidentify_dicom_files().
struct DicomDeidOptions {
    /// Maps a file's original PatientID to the value written into PatientID and
    /// PatientName (a pseudonym). Empty: both get the profile's dummy values. Called
    /// once per file whose PatientID is not empty.
    std::function<std::string(const std::string&)> patient_pseudonym;
    /// Attributes (group, element) left as they are in the input (top level only).
    std::vector<std::pair<std::uint16_t, std::uint16_t>> keep;
    /// Keep private attributes (the profile removes them: vendors put names, dates and
    /// serial numbers there).
    bool keep_private = false;
};

/// What deidentify_dicom_files() changed in one file. Names attributes, never values.
struct DicomDeidReport {
    std::string input;                 ///< input path
    std::string output;                ///< output path
    std::vector<std::string> changes;  ///< "(0010,0010) PatientName: replaced", ...
};

/// De-identifies DICOM files: for each input, GDCM's Anonymizer applies the Basic
/// Application Level Confidentiality Profile (PS3.15 E.1: every attribute of its table is
/// emptied, removed, or, where the IOD requires a value, replaced by a dummy; UIDs are
/// replaced by new ones); GDCM's table follows the 2008 edition, so the attributes today's
/// Table E.1-1 adds (dates and times since Supplement 142, further names, ids, addresses,
/// comments) are emptied too, at any depth; private attributes are removed, PatientIdentityRemoved = YES
/// and DeidentificationMethod are set. The profile's Encrypted Attributes Sequence (a
/// copy of the original values for re-identification) is not kept: nothing of the
/// original values leaves with the file. UIDs are remapped consistently over the whole
/// call (the same input UID gives the same new UID in every file: a series stays one
/// series, its study and frame of reference stay shared) and nowhere else (the map is
/// cleared before and after the call). The file meta information follows
/// (MediaStorageSOPInstanceUID; the source application title is removed). Pixel data are
/// not touched: each written file is read back and its pixel data compared byte for byte.
/// Each output is written to a temporary name and renamed.
/// @param inputs  DICOM files
/// @param outputs one output path per input (their folders must exist)
/// @param options pseudonym callback, kept attributes, private attributes
/// @return one report per file, in input order
/// @throws InvalidArgument if the two lists differ in length; NotFound if a file cannot
///         be opened; FormatError naming the file if it is not DICOM, is malformed, or
///         GDCM cannot apply the profile or write it; Error if pixel data changed.
std::vector<DicomDeidReport> deidentify_dicom_files(const std::vector<std::string>& inputs,
                                                    const std::vector<std::string>& outputs,
                                                    const DicomDeidOptions& options = {});

/// The attributes of the profile as GDCM lists them, as "(gggg,eeee) Keyword".
std::vector<std::string> dicom_deid_profile_attributes();

}  // namespace sportsmed::imaging
