// libFuzzer target: imaging::read_nifti on a single file, named .nii.gz when the input
// starts with the gzip magic, else .nii (the reader detects compression from content; the
// name only matters to the pair logic, which a single .nii never enters).

#include "fuzz_image.hpp"
#include "sportsmed/imaging/io.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    const std::string path = fuzz::write_input(gz ? "input.nii.gz" : "input.nii", data, size);
    fuzz::expect_success_or_error([&] { fuzz::consume_image(imaging::read_nifti(path)); });
    return 0;
}
