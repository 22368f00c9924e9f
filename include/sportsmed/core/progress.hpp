#pragma once
/// @file
/// Progress reporting for long operations.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace sportsmed {

/// Callback that long operations accept to report progress.
///
/// Called with the completed fraction in [0, 1] and a short stage name ("fit T2",
/// "epoch 3/50"). Return true to continue, false to cancel: the operation then stops
/// and throws sportsmed::Cancelled. May be called from worker threads, but never
/// concurrently (calls are serialised). An empty function means "no reporting".
using ProgressCallback = std::function<bool(double fraction, std::string_view stage)>;

/// Thread-safe helper that turns "n of total units done" into throttled callback calls.
///
/// Kernels create one per stage and call advance() from any thread; the callback fires
/// when the fraction has grown by at least @p min_step since the last call, and always
/// at completion. Cheap (one atomic add) when no callback is set.
class ProgressReporter {
public:
    /// @param callback may be empty.
    /// @param stage    name passed to the callback.
    /// @param total    number of units of work (> 0; 0 is treated as 1).
    /// @param min_step smallest fraction increment that triggers a call.
    ProgressReporter(ProgressCallback callback, std::string stage, std::int64_t total,
                     double min_step = 0.01);

    /// Records @p n more completed units; may invoke the callback.
    /// @throws sportsmed::Cancelled if the callback returned false (now or earlier).
    void advance(std::int64_t n = 1);

    /// Reports completion (fraction 1) if not already reported.
    /// @throws sportsmed::Cancelled if the callback returns false.
    void finish();

    /// Completed fraction so far, in [0, 1].
    double fraction() const noexcept;

private:
    void report(double fraction);

    ProgressCallback callback_;
    std::string stage_;
    std::int64_t total_;
    double min_step_;
    std::atomic<std::int64_t> done_{0};
    std::atomic<bool> cancelled_{false};
    std::mutex mutex_;
    double last_reported_ = -1.0;
};

}  // namespace sportsmed
