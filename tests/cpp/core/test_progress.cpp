#include <atomic>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/core/progress.hpp"

using namespace sportsmed;

TEST_CASE("progress: monotone, throttled, ends at exactly 1", "[core][progress]") {
    std::vector<double> seen;
    ProgressReporter p([&](double f, std::string_view stage) {
        CHECK(stage == "fit");
        seen.push_back(f);
        return true;
    }, "fit", 1000, 0.1);
    for (int i = 0; i < 1000; ++i) p.advance();
    p.finish();
    REQUIRE(!seen.empty());
    CHECK(seen.back() == 1.0);
    CHECK(seen.size() <= 11);  // 0.1 steps plus the final 1.0
    for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] > seen[i - 1]);
    CHECK(p.fraction() == 1.0);
}

TEST_CASE("progress: callback returning false cancels a parallel loop", "[core][progress]") {
    const int saved = num_threads();
    set_num_threads(4);
    std::atomic<std::int64_t> processed{0};
    ProgressReporter p([](double f, std::string_view) { return f < 0.25; }, "segment", 100000, 0.01);
    CHECK_THROWS_AS(parallel_for(0, 100000, [&](std::int64_t b, std::int64_t e) {
        processed += e - b;
        p.advance(e - b);
    }, 100), Cancelled);
    CHECK(processed.load() < 100000);
    set_num_threads(saved);
}

TEST_CASE("progress: an empty callback is accepted and never cancels", "[core][progress]") {
    ProgressReporter p({}, "quiet", 0);
    p.advance(5);
    CHECK_NOTHROW(p.finish());
    CHECK(p.fraction() == 1.0);
}
