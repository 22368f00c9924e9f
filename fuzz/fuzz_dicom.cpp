// libFuzzer target: imaging::read_dicom_series on a folder (the structural walk of
// src/imaging/dicom_check.cpp, then GDCM). The input is one file, or up to four files
// separated by fuzz::kSeparator, so that series logic (sorting, spacing, echoes) runs too.

#include "fuzz_common.hpp"
#include "sportsmed/imaging/dicom.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::clear_scratch();
    const std::string folder = (fuzz::scratch_dir() / "series").string();
    std::filesystem::create_directories(folder);
    const auto pieces = fuzz::split_input(data, size, 4);
    for (std::size_t i = 0; i < pieces.size(); ++i)
        fuzz::write_input("series/slice" + std::to_string(i) + ".dcm",
                          reinterpret_cast<const std::uint8_t*>(pieces[i].data()), pieces[i].size());
    fuzz::expect_success_or_error([&] {
        const imaging::DicomSeries s = imaging::read_dicom_series(folder);
        const auto& v = s.image;
        if (v.size() != v.num_voxels() * v.components() ||
            static_cast<std::int64_t>(s.te_ms.size()) != v.components()) {
            std::fprintf(stderr, "fuzz: DICOM volume sizes disagree\n");
            std::abort();
        }
        double sum = 0;
        for (double x : v.values())
            if (std::isfinite(x)) sum += x;
        fuzz::consume(sum);
        fuzz::consume_matrix(v.geometry().voxel_to_world());
        for (double te : s.te_ms) fuzz::consume(te);
    });
    return 0;
}
