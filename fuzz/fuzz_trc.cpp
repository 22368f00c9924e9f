// libFuzzer target: motion::read_trc.

#include "fuzz_trial.hpp"
#include "sportsmed/motion/trc.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input("input.trc", data, size);
    fuzz::expect_success_or_error([&] { fuzz::consume_trial(motion::read_trc(path)); });
    return 0;
}
