// Workload metrics (see include/sportsmed/risk/workload.hpp for formulas and references).

#include "sportsmed/risk/workload.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/risk/kernels/workload.hpp"

namespace sportsmed::risk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Count and sum of the non-NaN values of a window.
struct WindowStats {
    int count = 0;
    double sum = 0.0;
};

int effective_min_periods(int window, int min_periods) {
    return min_periods <= 0 ? window : std::min(min_periods, window);
}

void check_window(const char* fn, int window) {
    SPORTSMED_CHECK(window >= 1, "{}: window must be >= 1 day, got {}", fn, window);
}

double ratio(double num, double den) {
    if (std::isnan(num) || std::isnan(den) || den == 0.0) return kNaN;
    return num / den;
}

}  // namespace

// The single-series windows are the header-only kernels of
// sportsmed/risk/kernels/workload.hpp (instantiated for double in kernels.cpp); the checks
// here keep the fmt-formatted messages.
VecXd rolling_sum(const VecXdCRef& load, int window, int min_periods) {
    check_window("rolling_sum", window);
    return kernels::rolling_sum<double>(load, window, min_periods);
}

VecXd rolling_mean(const VecXdCRef& load, int window, int min_periods) {
    check_window("rolling_mean", window);
    return kernels::rolling_mean<double>(load, window, min_periods);
}

VecXd rolling_std(const VecXdCRef& load, int window, int min_periods) {
    check_window("rolling_std", window);
    return kernels::rolling_std<double>(load, window, min_periods);
}

VecXd ewma(const VecXdCRef& load, int span) {
    SPORTSMED_CHECK(span >= 1, "ewma: span must be >= 1 day, got {}", span);
    return kernels::ewma<double>(load, span);
}

std::vector<std::string> workload_feature_names() {
    return {"acute_load",  "chronic_load", "acwr_coupled", "acwr_uncoupled", "ewma_acute",
            "ewma_chronic", "ewma_acwr",   "monotony",     "strain",         "week_change",
            "week_change_pct", "load_7d",  "load_14d",     "load_21d",       "load_28d",
            "load_total"};
}

namespace {

// Prefix sums in double-double arithmetic (Dekker/Knuth two-sum): a window sum is the
// difference of two prefixes, accurate to a few ulps of the *window* sum however long the
// series, and exactly 0 for a window of zeros. This makes every window O(1).
struct Prefix {
    std::vector<double> hi, lo;
    std::vector<int> count;
    explicit Prefix(const VecXdCRef& x) : hi(x.size() + 1, 0.0), lo(x.size() + 1, 0.0), count(x.size() + 1, 0) {
        double h = 0, l = 0;
        int c = 0;
        for (Eigen::Index i = 0; i < x.size(); ++i) {
            if (!std::isnan(x[i])) {
                const double s = h + x[i];
                const double bb = s - h;
                const double err = (h - (s - bb)) + (x[i] - bb);
                const double e = err + l;
                h = s + e;
                l = e - (h - s);
                ++c;
            }
            hi[i + 1] = h;
            lo[i + 1] = l;
            count[i + 1] = c;
        }
    }
    // Sum and count over days t-w+1 .. t.
    WindowStats window(Eigen::Index t, int w) const {
        const Eigen::Index b = std::max<Eigen::Index>(0, t + 1 - w), e = t + 1;
        return {count[e] - count[b], (hi[e] - hi[b]) + (lo[e] - lo[b])};
    }
};


// Writes the features of one athlete's series into f (n × features), which may be a block
// of a larger table: the panel version fills its output in place, without a copy.
void workload_features_into(const VecXdCRef& load, const WorkloadOptions& o,
                            Eigen::Ref<RowMatXd, 0, Eigen::OuterStride<>> f) {
    const Eigen::Index n = load.size();
    const int A = o.acute_days, C = o.chronic_days;
    const auto minp = [&](int w) { return effective_min_periods(w, o.min_periods); };
    const Prefix prefix(load);
    const auto sum_of = [&](Eigen::Index t, int w) {
        if (t < 0) return kNaN;
        const WindowStats s = prefix.window(t, w);
        return s.count >= minp(w) ? s.sum : kNaN;
    };
    const auto mean_of = [&](Eigen::Index t, int w) {
        if (t < 0) return kNaN;
        const WindowStats s = prefix.window(t, w);
        return (s.count >= minp(w) && s.count > 0) ? s.sum / s.count : kNaN;
    };
    const VecXd ew_a = ewma(load, A), ew_c = ewma(load, C);
    const VecXd sd = rolling_std(load, A, o.min_periods);
    for (Eigen::Index t = 0; t < n; ++t) {
        const double acute = mean_of(t, A), chronic = mean_of(t, C);
        const double older = mean_of(t - A, C - A);
        const double week = sum_of(t, A), week_before = sum_of(t - A, A);
        const double mono = ratio(acute, sd[t]);
        const double change = week - week_before;
        f(t, 0) = acute;
        f(t, 1) = chronic;
        f(t, 2) = ratio(acute, chronic);
        f(t, 3) = ratio(acute, older);
        f(t, 4) = ew_a[t];
        f(t, 5) = ew_c[t];
        f(t, 6) = ratio(ew_a[t], ew_c[t]);
        f(t, 7) = mono;
        f(t, 8) = week * mono;
        f(t, 9) = change;
        f(t, 10) = std::isnan(change) ? kNaN : 100.0 * ratio(change, week_before);
        for (int k = 0; k < 4; ++k) f(t, 11 + k) = sum_of(t, 7 * (k + 1));
        f(t, 15) = prefix.hi[t + 1] + prefix.lo[t + 1];
    }
}

void check_options(const WorkloadOptions& o) {
    SPORTSMED_CHECK(o.acute_days >= 1 && o.chronic_days > o.acute_days,
                    "workload_features: need 1 <= acute_days < chronic_days, got {} and {}",
                    o.acute_days, o.chronic_days);
}

}  // namespace

RowMatXd workload_features(const VecXdCRef& load, const WorkloadOptions& o) {
    check_options(o);
    RowMatXd f(load.size(), static_cast<Eigen::Index>(workload_feature_names().size()));
    workload_features_into(load, o, f);
    return f;
}

RowMatXd workload_features_panel(const Eigen::Ref<const VecXi64>& athlete, const VecXdCRef& load,
                                 const WorkloadOptions& options) {
    SPORTSMED_CHECK(athlete.size() == load.size(),
                    "workload_features_panel: {} athlete codes but {} loads", athlete.size(),
                    load.size());
    // Block boundaries; an athlete code reappearing after another athlete is an error.
    std::vector<Eigen::Index> starts;
    for (Eigen::Index i = 0; i < athlete.size(); ++i) {
        if (i == 0 || athlete[i] != athlete[i - 1]) starts.push_back(i);
    }
    starts.push_back(athlete.size());
    {
        std::vector<std::int64_t> codes;
        for (size_t b = 0; b + 1 < starts.size(); ++b) codes.push_back(athlete[starts[b]]);
        std::sort(codes.begin(), codes.end());
        const auto dup = std::adjacent_find(codes.begin(), codes.end());
        SPORTSMED_CHECK(dup == codes.end(),
                        "workload_features_panel: rows of athlete {} are not contiguous (sort "
                        "the table by athlete, then day)", dup == codes.end() ? 0 : *dup);
    }
    check_options(options);
    const Eigen::Index nf = static_cast<Eigen::Index>(workload_feature_names().size());
    RowMatXd out(athlete.size(), nf);
    const std::int64_t blocks = static_cast<std::int64_t>(starts.size()) - 1;
    parallel_for(0, blocks, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            const Eigen::Index s = starts[b], len = starts[b + 1] - starts[b];
            workload_features_into(load.segment(s, len), options, out.middleRows(s, len));
        }
    });
    return out;
}

}  // namespace sportsmed::risk
