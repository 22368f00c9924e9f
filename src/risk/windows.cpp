// Past-only windows of an athlete-day table (the CNN risk model's input; no LibTorch).

#include <limits>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/neural.hpp"

namespace sportsmed::risk {

RowMatXd lagged_windows(const Eigen::Ref<const VecXi64>& athlete, const Eigen::Ref<const VecXi64>& day,
                        const RowMatXdCRef& x, int window_days) {
    const Eigen::Index n = x.rows(), p = x.cols();
    SPORTSMED_CHECK(athlete.size() == n && day.size() == n,
                    "lagged_windows: {} athlete codes and {} days for {} rows", athlete.size(), day.size(), n);
    SPORTSMED_CHECK(window_days >= 1, "lagged_windows: window_days must be >= 1, got {}", window_days);
    RowMatXd out = RowMatXd::Constant(n, window_days * p, std::numeric_limits<double>::quiet_NaN());
    Eigen::Index block = 0;  // first row of the current athlete
    for (Eigen::Index i = 0; i < n; ++i) {
        if (i > 0 && athlete[i] != athlete[i - 1]) block = i;
        SPORTSMED_CHECK(i == block || day[i] > day[i - 1],
                        "lagged_windows: row {} (athlete {}, day {}) does not follow day {}: rows must be "
                        "grouped by athlete with increasing days", i, athlete[i], day[i], day[i - 1]);
        // walk back through this athlete's earlier rows while they are inside the window
        for (Eigen::Index r = i; r >= block; --r) {
            const std::int64_t lag = day[i] - day[r];
            if (lag >= window_days) break;
            out.row(i).segment((window_days - 1 - lag) * p, p) = x.row(r);
        }
    }
    return out;
}

}  // namespace sportsmed::risk
