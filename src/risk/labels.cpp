// Leakage-free "injury within h days" labels.

#include "sportsmed/risk/labels.hpp"

#include <limits>

#include "sportsmed/core/error.hpp"

namespace sportsmed::risk {

VecXd injury_within(const Eigen::Ref<const VecXi64>& athlete, const VecXdCRef& injured, int horizon_days) {
    SPORTSMED_CHECK(horizon_days >= 1, "injury_within: horizon must be >= 1 day, got {}", horizon_days);
    SPORTSMED_CHECK(athlete.size() == injured.size(),
                    "injury_within: {} athlete codes but {} injury flags", athlete.size(), injured.size());
    const Eigen::Index n = athlete.size();
    const auto is_injured = [&](Eigen::Index i) { return injured[i] == 1.0; };
    // onset[i]: injury starts on row i.
    std::vector<char> onset(static_cast<size_t>(n), 0);
    for (Eigen::Index i = 0; i < n; ++i) {
        const bool first = i == 0 || athlete[i] != athlete[i - 1];
        onset[i] = is_injured(i) && (first || !is_injured(i - 1));
    }
    VecXd out(n);
    Eigen::Index block_end = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        if (i >= block_end) {
            block_end = i;
            while (block_end < n && athlete[block_end] == athlete[i]) ++block_end;
        }
        if (is_injured(i)) {
            out[i] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        bool hit = false;
        const Eigen::Index last = std::min<Eigen::Index>(block_end - 1, i + horizon_days);
        for (Eigen::Index j = i + 1; j <= last && !hit; ++j) hit = onset[j];
        if (hit) out[i] = 1.0;
        else if (i + horizon_days <= block_end - 1) out[i] = 0.0;
        else out[i] = std::numeric_limits<double>::quiet_NaN();
    }
    return out;
}

}  // namespace sportsmed::risk
