// libFuzzer target: motion::read_mot (OpenSim .mot / .sto storage).

#include "fuzz_common.hpp"
#include "sportsmed/motion/trc.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input("input.mot", data, size);
    fuzz::expect_success_or_error([&] {
        const motion::MotTable t = motion::read_mot(path);
        fuzz::consume_matrix(t.data);
        fuzz::consume(static_cast<double>(t.name.size() + t.header.size() + t.in_degrees()));
        if (t.data.size() != 0 && t.data.cols() != static_cast<Eigen::Index>(t.labels.size())) {
            std::fprintf(stderr, "fuzz: %ld data columns for %zu labels\n", static_cast<long>(t.data.cols()),
                         t.labels.size());
            std::abort();
        }
        for (const auto& label : t.labels) fuzz::consume(static_cast<double>(t.column_index(label)));
        if (!t.labels.empty()) fuzz::consume_matrix(t.column(t.labels.front()));
    });
    return 0;
}
