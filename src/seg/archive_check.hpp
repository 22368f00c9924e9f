#pragma once
// Structural check of a PyTorch / TorchScript archive before LibTorch parses it.
//
// LibTorch (miniz underneath) trusts the zip it is given: a flipped bit in an entry name
// or a record length can take the process down. check_torch_archive walks the archive
// the way a careful unzip would and throws FormatError (naming the file and the record)
// unless:
//   - the end-of-central-directory record (zip64 included) is found and points inside
//     the file; every central-directory entry has a matching local header (same name,
//     same method), its data lies inside the file, and no two entries' data overlap;
//   - entries are stored or deflated (torch.jit.save deflates its code) and each one's
//     CRC-32 matches its (inflated) data — LibTorch does not check zip CRCs;
//   - entry names are printable ASCII under one top-level folder, with no "..", and the
//     folder holds data.pkl and version (what every PyTorch archive has).
// No LibTorch here: the check is plain C++ over the bytes (zlib's crc32).

#include <cstddef>
#include <string>

namespace sportsmed::seg::detail {

/// Throws FormatError when @p bytes (the content of @p source) is not a well-formed
/// PyTorch zip archive, as described above.
void check_torch_archive(const std::string& bytes, const std::string& source);

/// zlib CRC-32 of @p bytes.
unsigned long crc32_of(const std::string& bytes);
unsigned long crc32_of(const char* data, std::size_t size);

}  // namespace sportsmed::seg::detail
