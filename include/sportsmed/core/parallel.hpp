#pragma once
/// @file
/// Data-parallel loops over index ranges, with one process-wide thread-count setting.

#include <atomic>
#include <cstdint>
#include <functional>

namespace sportsmed {

/// Most threads set_num_threads accepts (larger requests are capped).
inline constexpr int kMaxThreads = 1024;

/// Sets the number of threads sportsmed kernels use, and LibTorch's intra-op threads once
/// link_torch_threads() (sportsmed::torch) has been called — the Python module does.
/// @param n threads, capped at kMaxThreads; n <= 0 restores the default: the environment
///          variable SPORTSMED_NUM_THREADS if set, else the hardware concurrency.
void set_num_threads(int n);

/// Makes set_num_threads drive LibTorch's intra-op threads too, and applies the current
/// setting to them. Part of sportsmed::torch.
void link_torch_threads();

namespace detail {
/// Called by set_num_threads with the new count (link_torch_threads installs LibTorch's).
std::atomic<void (*)(int)>& num_threads_hook();
}  // namespace detail

/// Number of threads sportsmed kernels currently use (>= 1).
int num_threads() noexcept;

/// Runs @p body over [begin, end) split into contiguous chunks on up to num_threads()
/// threads; the calling thread takes part.
///
/// @param body  called as body(chunk_begin, chunk_end) for disjoint chunks covering the
///              range exactly once; must be safe to call concurrently.
/// @param grain minimum chunk length: ranges shorter than 2 × grain run on the caller.
/// @throws whatever @p body throws: the first exception stops further chunks from
///         starting and is rethrown on the calling thread once all workers have joined.
///
/// Calls made from inside a parallel_for body run serially (no oversubscription).
/// Threads are started per call rather than pooled, so the library stays safe to use
/// after fork() (multiprocessing, Dask process workers); a kernel worth parallelising
/// takes far longer than the ~50 µs that starting threads costs.
void parallel_for(std::int64_t begin, std::int64_t end,
                  const std::function<void(std::int64_t, std::int64_t)>& body,
                  std::int64_t grain = 1);

/// True when called from inside a parallel_for body.
bool in_parallel_region() noexcept;

}  // namespace sportsmed
