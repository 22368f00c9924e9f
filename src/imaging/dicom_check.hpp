#pragma once
// Structural check of a DICOM file before it reaches GDCM (internal).

#include <string>

namespace sportsmed::imaging::detail {

/// Walks the element structure of the DICOM file @p path (file meta, then the data set in
/// its transfer syntax: explicit/implicit VR, little/big endian; sequences and encapsulated
/// pixel data item by item) and throws FormatError naming the file and the byte where an
/// element header is invalid (unknown VR), a length runs past its container, a delimiter is
/// misplaced, or sequences nest beyond 32 levels. GDCM asserts, and aborts the process, on
/// several of these.
/// @return false when the file is not DICOM at all (no "DICM" magic and no data set
///         starting with group 0008/0002), so that a folder's other files can be skipped.
/// @throws NotFound if the file cannot be opened.
bool check_dicom_structure(const std::string& path);

}  // namespace sportsmed::imaging::detail
