// libFuzzer target: imaging::read_nrrd (attached data, raw or gzip). The reader refuses
// detached data ("data file:") with a FormatError, which this target checks it does.

#include "fuzz_image.hpp"
#include "sportsmed/imaging/io.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input("input.nrrd", data, size);
    fuzz::expect_success_or_error([&] { fuzz::consume_image(imaging::read_nrrd(path)); });
    return 0;
}
