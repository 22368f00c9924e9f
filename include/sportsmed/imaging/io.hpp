#pragma once
/// @file
/// Reading and writing volumes: NIfTI-1/2 (.nii, .nii.gz) and NRRD (.nrrd, raw or gzip).
///
/// NIfTI geometry follows nibabel: the sform if sform_code > 0, else the qform if
/// qform_code > 0 (with qfac = pixdim[0], any value but −1 read as +1), else the
/// "Analyze" affine from pixdim (x flipped, centre voxel at the origin). scl_slope 0 or
/// NaN means unscaled. Extensions are skipped. Either byte order is read; files are written
/// in native order with qform and sform both set (code 1, scanner, unless the Image carries
/// codes) from the same affine. NIfTI stores RAS; the Image geometry is LPS (see volume.hpp).

#include <functional>
#include <string>

#include "sportsmed/imaging/image.hpp"

namespace sportsmed::imaging {

/// Reads a NIfTI-1 or NIfTI-2 file (.nii or .nii.gz, compression detected from content), or a
/// NIfTI pair: x.hdr + x.img (magic "ni1" or "ni2"; either half may be named, either may be
/// gzipped, vox_offset counts from the start of x.img). Analyze 7.5 headers (no NIfTI
/// magic) are refused with a FormatError.
/// @throws NotFound if the file does not exist; FormatError for a corrupt or truncated
///         header, an unsupported datatype, or data shorter than the header says.
Image read_nifti(const std::string& path);

/// nibabel's get_fdata() in one pass: the values of @p path as float64, scaling applied,
/// written to the buffer @p allocate returns for the header it is given (num_values()
/// doubles, Fortran order over dims). An uncompressed .nii is streamed from the file in
/// blocks (no copy of the raw data is kept); other files are read, then converted.
/// @returns the header: an Image with dims, dtype, scaling and geometry, but no bytes
///          when the data were streamed.
/// @throws as read_nifti; InvalidArgument for complex or RGB data.
Image read_nifti_fdata(const std::string& path, const std::function<double*(const Image&)>& allocate);

/// Writes @p img as NIfTI (.nii, or gzip-compressed when @p path ends in ".gz"); a path
/// ending in .hdr or .img (optionally .gz) writes a pair x.hdr + x.img (magic "ni1"/"ni2",
/// vox_offset 0).
/// @param version 1 or 2. Written to a temporary file, then renamed.
/// @throws InvalidArgument for a bad version or inconsistent image; Error on I/O failure.
void write_nifti(const Image& img, const std::string& path, int version = 1);

/// Reads a NRRD file (attached data; encodings raw and gzip; 3-D; space LPS, RAS or LAS
/// with space directions and origin, else axis spacings).
/// @throws NotFound, FormatError as read_nifti (also for non-orthonormal directions).
Image read_nrrd(const std::string& path);

/// Writes @p img as NRRD with space "left-posterior-superior", space directions and
/// origin; gzip encoding if @p gzip. Up to 3 dimensions plus components (written as a
/// leading "list" axis is not supported: only 3-D images with one component).
void write_nrrd(const Image& img, const std::string& path, bool gzip = true);

/// Reads by extension: .nii/.nii.gz/.hdr/.img → NIfTI, .nrrd/.nhdr → NRRD.
Image read_image(const std::string& path);
/// Writes by extension (see read_image).
void write_image(const Image& img, const std::string& path);

}  // namespace sportsmed::imaging
