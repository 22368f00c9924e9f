#include <atomic>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

using namespace sportsmed;

namespace {
struct ThreadsRestore {
    int saved = num_threads();
    ~ThreadsRestore() { set_num_threads(saved); }
};
}  // namespace

TEST_CASE("parallel_for: covers the range exactly once for any thread count", "[core][parallel]") {
    ThreadsRestore restore;
    for (int threads : {1, 2, 3, 8}) {
        set_num_threads(threads);
        REQUIRE(num_threads() == threads);
        for (std::int64_t n : {0, 1, 7, 1000, 100003}) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
            parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
            });
            int bad = 0;
            for (auto& h : hits) bad += h.load() != 1;
            CHECK(bad == 0);
        }
        // Offset ranges: the sum of [10, 10 + n) is analytic.
        std::atomic<std::int64_t> sum{0};
        parallel_for(10, 10010, [&](std::int64_t b, std::int64_t e) {
            std::int64_t s = 0;
            for (std::int64_t i = b; i < e; ++i) s += i;
            sum += s;
        }, 64);
        CHECK(sum.load() == (10 + 10009) * 10000 / 2);
    }
}

TEST_CASE("parallel_for: uses several threads and nests serially", "[core][parallel]") {
    ThreadsRestore restore;
    set_num_threads(4);
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> nested_parallel{0};
    parallel_for(0, 64, [&](std::int64_t, std::int64_t) {
        {
            std::lock_guard<std::mutex> lock(m);
            ids.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        CHECK(in_parallel_region());
        const auto outer = std::this_thread::get_id();
        parallel_for(0, 100, [&](std::int64_t, std::int64_t) {
            if (std::this_thread::get_id() != outer) nested_parallel++;
        });
    });
    CHECK(ids.size() > 1);
    CHECK(nested_parallel.load() == 0);
    CHECK_FALSE(in_parallel_region());
}

TEST_CASE("parallel_for: an exception in a chunk reaches the caller", "[core][parallel]") {
    ThreadsRestore restore;
    set_num_threads(4);
    std::atomic<int> chunks_after{0};
    CHECK_THROWS_AS(parallel_for(0, 1000, [&](std::int64_t b, std::int64_t) {
        if (b == 0) SPORTSMED_THROW(FormatError, "chunk {} failed", b);
        chunks_after++;
    }), FormatError);
    // The library stays usable afterwards.
    std::atomic<int> count{0};
    parallel_for(0, 10, [&](std::int64_t b, std::int64_t e) { count += static_cast<int>(e - b); });
    CHECK(count.load() == 10);
}

TEST_CASE("set_num_threads: non-positive restores the default", "[core][parallel]") {
    ThreadsRestore restore;
    set_num_threads(3);
    CHECK(num_threads() == 3);
    set_num_threads(0);
    const unsigned hw = std::thread::hardware_concurrency();
    if (std::getenv("SPORTSMED_NUM_THREADS") == nullptr && hw > 0) {
        CHECK(num_threads() == static_cast<int>(hw));
    }
    CHECK(num_threads() >= 1);
}
