#pragma once
/// @file
/// DICOM series reading (through GDCM): a folder of single-frame MR images, possibly a
/// multi-echo series, into one volume with geometry.
///
/// Slices are sorted by their position along the slice normal (row × column direction
/// cosines), not by InstanceNumber; the slice spacing comes from the positions, not from
/// SliceThickness or SpacingBetweenSlices; multi-echo series are split by EchoTime (0018,0081)
/// into components; Rescale Slope/Intercept are applied. Any transfer syntax GDCM reads
/// works, including Explicit VR Big Endian. Geometry is LPS (the DICOM patient frame).

#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// A DICOM series read into a volume.
struct DicomSeries {
    Volume<double> image;          ///< (columns, rows, slices) × echoes, rescaled values
    std::vector<double> te_ms;     ///< echo time of each component (ascending)
    std::string series_uid;        ///< SeriesInstanceUID
    std::string description;       ///< SeriesDescription
};

/// One series found in a folder.
struct DicomSeriesInfo {
    std::string series_uid;   ///< SeriesInstanceUID
    std::string description;  ///< SeriesDescription
    std::int64_t files = 0;   ///< images of the series in the folder
    std::vector<double> te_ms;  ///< distinct echo times (ascending)
};

/// The series of the DICOM images in @p folder (headers only), in order of their UIDs.
/// @throws NotFound if the folder is missing or holds no readable DICOM image.
std::vector<DicomSeriesInfo> list_dicom_series(const std::string& folder);

/// Reads one series of @p folder: the only one, or the one whose SeriesInstanceUID or
/// SeriesDescription is @p series.
/// @throws NotFound if the folder is missing, holds no readable DICOM image, or no series
///         matches @p series; FormatError if the folder holds several series and @p series
///         does not choose (the message lists them), if files disagree (size, orientation),
///         echoes have different slice counts, slices are not evenly spaced (beyond 1 % of
///         the spacing), or a file's pixel data are shorter than its header declares (a
///         truncated file: GDCM would zero-fill it).
DicomSeries read_dicom_series(const std::string& folder, const std::string& series = {});

}  // namespace sportsmed::imaging
