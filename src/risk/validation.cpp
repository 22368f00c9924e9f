// Grouped and temporal splits, and the leakage guard.

#include "sportsmed/risk/validation.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "sportsmed/core/error.hpp"

namespace sportsmed::risk {

VecXi64 grouped_kfold(const Eigen::Ref<const VecXi64>& athlete, int k, std::uint64_t seed) {
    std::vector<std::int64_t> ids(athlete.data(), athlete.data() + athlete.size());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    SPORTSMED_CHECK(k >= 2 && k <= static_cast<int>(ids.size()),
                    "grouped_kfold: need 2 <= k <= number of athletes ({}), got k = {}", ids.size(), k);
    std::mt19937_64 rng(seed);
    // Fisher–Yates with our own index draw: std::shuffle's output differs between
    // standard libraries, and folds must be the same everywhere for a given seed.
    for (size_t i = ids.size() - 1; i > 0; --i) {
        const size_t j = static_cast<size_t>(rng() % (i + 1));
        std::swap(ids[i], ids[j]);
    }
    std::map<std::int64_t, std::int64_t> fold;
    for (size_t i = 0; i < ids.size(); ++i) fold[ids[i]] = static_cast<std::int64_t>(i % k);
    VecXi64 out(athlete.size());
    for (Eigen::Index i = 0; i < athlete.size(); ++i) out[i] = fold[athlete[i]];
    return out;
}

VecXi64 temporal_split(const Eigen::Ref<const VecXi64>& day, std::int64_t test_start, int purge_days) {
    SPORTSMED_CHECK(purge_days >= 0, "temporal_split: purge_days must be >= 0, got {}", purge_days);
    VecXi64 out(day.size());
    for (Eigen::Index i = 0; i < day.size(); ++i) {
        out[i] = day[i] >= test_start ? 1 : (day[i] < test_start - purge_days ? 0 : -1);
    }
    return out;
}

SplitCheck check_split(const Eigen::Ref<const VecXi64>& athlete, const Eigen::Ref<const VecXi64>& day,
                       const Eigen::Ref<const VecXi64>& side) {
    SPORTSMED_CHECK(athlete.size() == day.size() && athlete.size() == side.size(),
                    "check_split: sizes differ (athletes {}, days {}, sides {})", athlete.size(),
                    day.size(), side.size());
    struct Days {
        std::vector<std::int64_t> train, test;
    };
    std::map<std::int64_t, Days> by;
    SplitCheck c;
    for (Eigen::Index i = 0; i < athlete.size(); ++i) {
        if (side[i] == 0) {
            ++c.n_train;
            by[athlete[i]].train.push_back(day[i]);
        } else if (side[i] == 1) {
            ++c.n_test;
            by[athlete[i]].test.push_back(day[i]);
        }
    }
    std::int64_t gap = -1;
    for (auto& [a, d] : by) {
        c.athletes_train += !d.train.empty();
        c.athletes_test += !d.test.empty();
        if (d.train.empty() || d.test.empty()) continue;
        ++c.athletes_both;
        std::sort(d.train.begin(), d.train.end());
        for (std::int64_t t : d.test) {
            const auto it = std::lower_bound(d.train.begin(), d.train.end(), t);
            if (it != d.train.end()) gap = gap < 0 ? *it - t : std::min(gap, *it - t);
            if (it != d.train.begin()) gap = gap < 0 ? t - *(it - 1) : std::min(gap, t - *(it - 1));
        }
    }
    c.min_gap_days = gap < 0 ? 0 : gap;
    return c;
}

}  // namespace sportsmed::risk
