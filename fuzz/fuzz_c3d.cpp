// libFuzzer target: motion::read_c3d (then encode_c3d / decode_c3d of what it read).

#include "fuzz_trial.hpp"
#include "sportsmed/motion/c3d.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input("input.c3d", data, size);
    fuzz::expect_success_or_error([&] {
        const motion::C3d c3d = motion::read_c3d(path);
        fuzz::consume_trial(c3d.trial);
        for (const auto& g : c3d.groups)
            for (const auto& p : g.parameters) {
                fuzz::consume(static_cast<double>(p.size() + p.dims.size()));
                if (p.type == motion::C3dType::Char) {
                    for (const auto& s : p.as_strings()) fuzz::consume(static_cast<double>(s.size()));
                } else {
                    for (double v : p.as_doubles()) fuzz::consume(v);
                }
            }
        fuzz::consume_matrix(c3d.camera_masks);
        fuzz::consume_matrix(c3d.rotations.matrices);
        fuzz::consume_matrix(c3d.rotations.reliability);
        // What was read must be writable, or refused with an InvalidArgument.
        const std::vector<std::uint8_t> bytes = motion::encode_c3d(c3d);
        fuzz::consume_trial(motion::decode_c3d(bytes.data(), bytes.size(), "re-encoded " + path).trial);
    });
    return 0;
}
