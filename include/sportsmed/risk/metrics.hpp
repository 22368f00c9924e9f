#pragma once
/// @file
/// Discrimination and calibration metrics, and athlete-cluster bootstrap intervals.

#include <cstdint>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Area under the ROC curve, ties in @p score counted as half (the trapezoid rule over
/// the distinct thresholds; equal to scikit-learn's roc_auc_score).
/// @param y per row 0/1; @param score per row; @param weight optional per-row weights
///        (empty: all 1), as scikit-learn's sample_weight.
/// @throws InvalidArgument if y is not 0/1, a score is NaN, or a class is absent.
double roc_auc(const VecXdCRef& y, const VecXdCRef& score, const VecXdCRef& weight = VecXd());

/// Average precision Σ_k (R_k − R_{k−1}) P_k over the distinct thresholds in decreasing
/// score (equal to scikit-learn's average_precision_score, ties included).
/// @throws InvalidArgument as roc_auc; also if there is no positive.
double average_precision(const VecXdCRef& y, const VecXdCRef& score, const VecXdCRef& weight = VecXd());

/// Brier score: mean of (p − y)^2.
double brier_score(const VecXdCRef& y, const VecXdCRef& p);

/// Which metric cluster_bootstrap() resamples.
enum class Metric { RocAuc, AveragePrecision, Brier };

/// Result of cluster_bootstrap().
struct BootstrapResult {
    double estimate = 0;   ///< metric on the data as given
    double lower = 0;      ///< lower percentile bound
    double upper = 0;      ///< upper percentile bound
    VecXd replicates;      ///< metric per replicate (NaN where one class was absent)
    RowMatXi64 counts;     ///< replicates × clusters: times each cluster was drawn
    std::int64_t n_valid = 0;  ///< replicates with a finite metric
};

/// Percentile bootstrap over clusters (athletes): each replicate draws as many clusters
/// as there are, with replacement, and weighs each row by its cluster's draw count
/// (Field & Welsh 2007). Rows of one athlete are not independent, so resampling rows
/// would give intervals that are too narrow.
/// @param cluster per row, cluster code (e.g. athlete).
/// @param level confidence level in (0, 1), e.g. 0.95; bounds are the (1±level)/2
///        quantiles of the finite replicates (linear interpolation, numpy's default).
/// @param seed replicate r uses its own generator seeded from (seed, r): results do not
///        depend on the number of threads.
BootstrapResult cluster_bootstrap(const VecXdCRef& y, const VecXdCRef& score,
                                  const Eigen::Ref<const VecXi64>& cluster, Metric metric,
                                  int replicates = 1000, double level = 0.95, std::uint64_t seed = 0);

/// Reliability curve: predictions binned into @p bins equal-width bins on [0, 1].
struct Reliability {
    VecXd mean_predicted;  ///< per bin, mean prediction (NaN for an empty bin)
    VecXd fraction_positive;  ///< per bin, observed fraction of positives (NaN if empty)
    VecXi64 count;         ///< per bin, number of rows
    double ece = 0;        ///< expected calibration error Σ (n_b / n) |obs_b − pred_b|
};

/// Reliability curve and expected calibration error (Naeini et al. 2015) with equal-width
/// bins; bin b holds b/bins <= p < (b+1)/bins, and p = 1 goes to the last bin.
Reliability reliability_curve(const VecXdCRef& y, const VecXdCRef& p, int bins = 10);

/// Decision-curve net benefit (Vickers & Elkin 2006) at each threshold t:
/// TP/n − FP/n · t / (1 − t), treating p >= t as "intervene".
VecXd net_benefit(const VecXdCRef& y, const VecXdCRef& p, const VecXdCRef& thresholds);

}  // namespace sportsmed::risk
