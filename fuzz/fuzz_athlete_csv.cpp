// libFuzzer target: risk::read_athlete_csv (then complete_days on small tables).

#include "fuzz_common.hpp"
#include "sportsmed/risk/athlete_table.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = fuzz::write_input("input.csv", data, size);
    fuzz::expect_success_or_error([&] {
        const risk::AthleteTable t = risk::read_athlete_csv(path);
        const auto rows = t.values.rows();
        if (t.athlete.size() != rows || t.day.size() != rows ||
            t.values.cols() != static_cast<Eigen::Index>(t.columns.size())) {
            std::fprintf(stderr, "fuzz: athlete table sizes disagree\n");
            std::abort();
        }
        for (Eigen::Index r = 0; r < rows; ++r) {
            if (t.athlete[r] < 0 || t.athlete[r] >= static_cast<std::int64_t>(t.athletes.size())) std::abort();
            fuzz::consume(static_cast<double>(t.day[r]));
        }
        fuzz::consume_matrix(t.values);
        if (rows > 0) fuzz::consume(static_cast<double>(risk::format_iso_day(t.day[0]).size()));
        // The daily grid spans first to last day of each athlete: bounded here so that a
        // table spanning centuries does not turn into a memory test.
        std::int64_t span = 0;
        for (Eigen::Index r = 1; r < rows; ++r)
            if (t.athlete[r] == t.athlete[r - 1]) span += t.day[r] - t.day[r - 1];
        if (span < 100000) fuzz::consume_matrix(risk::complete_days(t, risk::MissingDay::Missing).values);
    });
    return 0;
}
