#include "sportsmed/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sportsmed {
namespace {

int default_threads() {
    if (const char* env = std::getenv("SPORTSMED_NUM_THREADS")) {
        char* end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (end != env && n > 0) return static_cast<int>(std::min<long>(n, kMaxThreads));
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

std::atomic<int>& thread_setting() {
    static std::atomic<int> n{default_threads()};
    return n;
}

thread_local bool tls_in_parallel = false;

// Marks the current thread as inside a parallel region for its lifetime.
struct RegionGuard {
    bool previous = tls_in_parallel;
    RegionGuard() { tls_in_parallel = true; }
    ~RegionGuard() { tls_in_parallel = previous; }
};

}  // namespace

namespace detail {

std::atomic<void (*)(int)>& num_threads_hook() {
    static std::atomic<void (*)(int)> hook{nullptr};
    return hook;
}

}  // namespace detail

void set_num_threads(int n) {
    // Threads are started per loop, never more than this: a mistyped 10^6 must not hang.
    const int value = n > 0 ? std::min(n, kMaxThreads) : default_threads();
    thread_setting().store(value);
    if (auto hook = detail::num_threads_hook().load()) hook(value);
}

int num_threads() noexcept { return thread_setting().load(); }

bool in_parallel_region() noexcept { return tls_in_parallel; }

void parallel_for(std::int64_t begin, std::int64_t end,
                  const std::function<void(std::int64_t, std::int64_t)>& body,
                  std::int64_t grain) {
    if (end <= begin) return;
    grain = std::max<std::int64_t>(grain, 1);
    const std::int64_t n = end - begin;
    const int threads = num_threads();
    if (threads <= 1 || n < 2 * grain || tls_in_parallel) {
        RegionGuard guard;
        body(begin, end);
        return;
    }
    // About four chunks per thread balance uneven work without much overhead.
    const std::int64_t max_workers = std::min<std::int64_t>(threads, n / grain);
    const std::int64_t chunk = std::max<std::int64_t>(grain, (n + 4 * max_workers - 1) / (4 * max_workers));
    const std::int64_t n_chunks = (n + chunk - 1) / chunk;
    const int workers = static_cast<int>(std::min<std::int64_t>(max_workers, n_chunks));

    std::atomic<std::int64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mutex;

    auto work = [&]() {
        RegionGuard guard;
        for (;;) {
            if (failed.load(std::memory_order_relaxed)) return;
            const std::int64_t c = next.fetch_add(1);
            if (c >= n_chunks) return;
            const std::int64_t b = begin + c * chunk;
            const std::int64_t e = std::min(end, b + chunk);
            try {
                body(b, e);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                failed.store(true);
                return;
            }
        }
    };

    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(workers - 1));
    try {
        for (int i = 1; i < workers; ++i) pool.emplace_back(work);
    } catch (const std::system_error&) {
        // Out of threads: the caller and the workers already started finish the range.
    }
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace sportsmed
