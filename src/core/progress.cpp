#include "sportsmed/core/progress.hpp"

#include <algorithm>

#include "sportsmed/core/error.hpp"

namespace sportsmed {

ProgressReporter::ProgressReporter(ProgressCallback callback, std::string stage,
                                   std::int64_t total, double min_step)
    : callback_(std::move(callback)),
      stage_(std::move(stage)),
      total_(std::max<std::int64_t>(total, 1)),
      min_step_(std::clamp(min_step, 0.0, 1.0)) {}

double ProgressReporter::fraction() const noexcept {
    return std::min(1.0, static_cast<double>(done_.load()) / static_cast<double>(total_));
}

void ProgressReporter::advance(std::int64_t n) {
    const std::int64_t done = done_.fetch_add(n) + n;
    if (cancelled_.load()) {
        SPORTSMED_THROW(Cancelled, "{}: cancelled by the progress callback", stage_);
    }
    if (!callback_) return;
    const double f = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    report(f);
}

void ProgressReporter::finish() {
    if (cancelled_.load()) {
        SPORTSMED_THROW(Cancelled, "{}: cancelled by the progress callback", stage_);
    }
    if (callback_) report(1.0);
}

void ProgressReporter::report(double f) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Monotone and throttled; the final 1.0 is always delivered exactly once.
        if (f <= last_reported_) return;
        if (f < 1.0 && f - last_reported_ < min_step_) return;
        last_reported_ = f;
        if (!callback_(f, stage_)) cancelled_.store(true);
    }
    if (cancelled_.load()) {
        SPORTSMED_THROW(Cancelled, "{}: cancelled by the progress callback", stage_);
    }
}

}  // namespace sportsmed
