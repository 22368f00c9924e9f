// AUC, average precision, Brier score, cluster bootstrap, reliability, net benefit.

#include "sportsmed/risk/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::risk {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_inputs(const char* fn, const VecXdCRef& y, const VecXdCRef& s, const VecXdCRef& w) {
    SPORTSMED_CHECK(y.size() == s.size(), "{}: {} labels but {} scores", fn, y.size(), s.size());
    SPORTSMED_CHECK(w.size() == 0 || w.size() == y.size(), "{}: {} weights for {} rows", fn, w.size(), y.size());
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "{}: label {} at row {} is not 0 or 1", fn, y[i], i);
        SPORTSMED_CHECK(!std::isnan(s[i]), "{}: score at row {} is NaN", fn, i);
    }
}

// Rows sorted by decreasing score, with the start of each run of tied scores.
struct SortedScores {
    std::vector<Eigen::Index> order;
    std::vector<Eigen::Index> group_end;  // exclusive end (in order) of each tie group
};

SortedScores sort_scores(const VecXdCRef& s) {
    SortedScores r;
    r.order.resize(static_cast<size_t>(s.size()));
    std::iota(r.order.begin(), r.order.end(), 0);
    std::stable_sort(r.order.begin(), r.order.end(), [&](Eigen::Index a, Eigen::Index b) { return s[a] > s[b]; });
    for (size_t i = 0; i < r.order.size(); ++i) {
        if (i + 1 == r.order.size() || s[r.order[i + 1]] != s[r.order[i]]) r.group_end.push_back(static_cast<Eigen::Index>(i + 1));
    }
    return r;
}

// Weighted AUC and AP over pre-sorted scores; weight_of(row) gives each row's weight.
template <typename WeightFn>
std::pair<double, double> curve_metrics(const SortedScores& ss, const VecXdCRef& y, WeightFn weight_of) {
    double tp = 0, fp = 0, area = 0, ap = 0, prev_tp = 0, prev_fp = 0;
    size_t i = 0;
    for (const Eigen::Index end : ss.group_end) {
        for (; static_cast<Eigen::Index>(i) < end; ++i) {
            const Eigen::Index r = ss.order[i];
            const double w = weight_of(r);
            if (y[r] == 1.0) tp += w;
            else fp += w;
        }
        area += (fp - prev_fp) * (tp + prev_tp) / 2.0;
        if (tp + fp > 0) ap += (tp - prev_tp) * (tp / (tp + fp));
        prev_tp = tp;
        prev_fp = fp;
    }
    const double auc = (tp > 0 && fp > 0) ? area / (tp * fp) : kNaN;
    return {auc, tp > 0 ? ap / tp : kNaN};
}

double weighted_brier(const VecXdCRef& y, const VecXdCRef& p, const std::vector<double>* w) {
    double num = 0, den = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        const double wi = w ? (*w)[static_cast<size_t>(i)] : 1.0;
        num += wi * (p[i] - y[i]) * (p[i] - y[i]);
        den += wi;
    }
    return den > 0 ? num / den : kNaN;
}

double quantile_linear(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

}  // namespace

double roc_auc(const VecXdCRef& y, const VecXdCRef& score, const VecXdCRef& weight) {
    check_inputs("roc_auc", y, score, weight);
    const auto ss = sort_scores(score);
    const auto [auc, ap] = weight.size() ? curve_metrics(ss, y, [&](Eigen::Index r) { return weight[r]; })
                                         : curve_metrics(ss, y, [](Eigen::Index) { return 1.0; });
    (void)ap;
    SPORTSMED_CHECK(!std::isnan(auc), "roc_auc: only one class is present in y (AUC is undefined)");
    return auc;
}

double average_precision(const VecXdCRef& y, const VecXdCRef& score, const VecXdCRef& weight) {
    check_inputs("average_precision", y, score, weight);
    const auto ss = sort_scores(score);
    const auto [auc, ap] = weight.size() ? curve_metrics(ss, y, [&](Eigen::Index r) { return weight[r]; })
                                         : curve_metrics(ss, y, [](Eigen::Index) { return 1.0; });
    (void)auc;
    SPORTSMED_CHECK(!std::isnan(ap), "average_precision: y has no positive case");
    return ap;
}

double brier_score(const VecXdCRef& y, const VecXdCRef& p) {
    check_inputs("brier_score", y, p, VecXd());
    SPORTSMED_CHECK(y.size() > 0, "brier_score: no rows");
    return weighted_brier(y, p, nullptr);
}

BootstrapResult cluster_bootstrap(const VecXdCRef& y, const VecXdCRef& score,
                                  const Eigen::Ref<const VecXi64>& cluster, Metric metric, int replicates,
                                  double level, std::uint64_t seed) {
    check_inputs("cluster_bootstrap", y, score, VecXd());
    SPORTSMED_CHECK(cluster.size() == y.size(), "cluster_bootstrap: {} cluster codes for {} rows",
                    cluster.size(), y.size());
    SPORTSMED_CHECK(replicates >= 1, "cluster_bootstrap: replicates must be >= 1, got {}", replicates);
    SPORTSMED_CHECK(level > 0 && level < 1, "cluster_bootstrap: level must be in (0, 1), got {}", level);
    std::vector<std::int64_t> ids(cluster.data(), cluster.data() + cluster.size());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    const Eigen::Index k = static_cast<Eigen::Index>(ids.size());
    std::vector<Eigen::Index> cidx(static_cast<size_t>(y.size()));
    for (Eigen::Index i = 0; i < y.size(); ++i)
        cidx[i] = std::lower_bound(ids.begin(), ids.end(), cluster[i]) - ids.begin();

    const auto ss = sort_scores(score);
    const auto evaluate = [&](const std::int64_t* counts) -> double {
        if (metric == Metric::Brier) {
            std::vector<double> w(static_cast<size_t>(y.size()));
            for (Eigen::Index i = 0; i < y.size(); ++i) w[i] = static_cast<double>(counts ? counts[cidx[i]] : 1);
            return weighted_brier(y, score, &w);
        }
        const auto m = counts ? curve_metrics(ss, y, [&](Eigen::Index r) { return static_cast<double>(counts[cidx[r]]); })
                              : curve_metrics(ss, y, [](Eigen::Index) { return 1.0; });
        return metric == Metric::RocAuc ? m.first : m.second;
    };

    BootstrapResult r;
    r.estimate = evaluate(nullptr);
    r.replicates.resize(replicates);
    r.counts = RowMatXi64::Zero(replicates, k);
    parallel_for(0, replicates, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            std::mt19937_64 rng(splitmix(seed ^ splitmix(static_cast<std::uint64_t>(b))));
            for (Eigen::Index j = 0; j < k; ++j) ++r.counts(b, static_cast<Eigen::Index>(rng() % static_cast<std::uint64_t>(k)));
            r.replicates[b] = evaluate(r.counts.row(b).data());
        }
    });
    std::vector<double> finite;
    for (Eigen::Index b = 0; b < replicates; ++b)
        if (std::isfinite(r.replicates[b])) finite.push_back(r.replicates[b]);
    r.n_valid = static_cast<std::int64_t>(finite.size());
    if (finite.empty()) {
        r.lower = r.upper = kNaN;
    } else {
        r.lower = quantile_linear(finite, (1 - level) / 2);
        r.upper = quantile_linear(finite, (1 + level) / 2);
    }
    return r;
}

Reliability reliability_curve(const VecXdCRef& y, const VecXdCRef& p, int bins) {
    check_inputs("reliability_curve", y, p, VecXd());
    SPORTSMED_CHECK(bins >= 1, "reliability_curve: bins must be >= 1, got {}", bins);
    Reliability r;
    VecXd sum_p = VecXd::Zero(bins), sum_y = VecXd::Zero(bins);
    r.count = VecXi64::Zero(bins);
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        SPORTSMED_CHECK(p[i] >= 0 && p[i] <= 1, "reliability_curve: prediction {} at row {} is not in [0, 1]", p[i], i);
        const int b = std::min(bins - 1, static_cast<int>(std::floor(p[i] * bins)));
        sum_p[b] += p[i];
        sum_y[b] += y[i];
        ++r.count[b];
    }
    r.mean_predicted.resize(bins);
    r.fraction_positive.resize(bins);
    r.ece = 0;
    for (int b = 0; b < bins; ++b) {
        const double c = static_cast<double>(r.count[b]);
        r.mean_predicted[b] = c > 0 ? sum_p[b] / c : kNaN;
        r.fraction_positive[b] = c > 0 ? sum_y[b] / c : kNaN;
        if (c > 0) r.ece += c / static_cast<double>(y.size()) * std::abs(r.fraction_positive[b] - r.mean_predicted[b]);
    }
    return r;
}

VecXd net_benefit(const VecXdCRef& y, const VecXdCRef& p, const VecXdCRef& thresholds) {
    check_inputs("net_benefit", y, p, VecXd());
    const double n = static_cast<double>(y.size());
    VecXd out(thresholds.size());
    for (Eigen::Index k = 0; k < thresholds.size(); ++k) {
        const double t = thresholds[k];
        SPORTSMED_CHECK(t > 0 && t < 1, "net_benefit: threshold {} is not in (0, 1)", t);
        double tp = 0, fp = 0;
        for (Eigen::Index i = 0; i < y.size(); ++i) {
            if (p[i] >= t) (y[i] == 1.0 ? tp : fp) += 1.0;
        }
        out[k] = tp / n - fp / n * t / (1 - t);
    }
    return out;
}

}  // namespace sportsmed::risk
