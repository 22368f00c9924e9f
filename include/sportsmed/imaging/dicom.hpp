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

/// Reads every DICOM file in @p folder (one series).
/// @throws NotFound if the folder is missing or holds no readable DICOM image;
///         FormatError if files disagree (size, orientation, series), echoes have different
///         slice counts, or slices are not evenly spaced (beyond 1 % of the spacing).
DicomSeries read_dicom_series(const std::string& folder);

}  // namespace sportsmed::imaging
