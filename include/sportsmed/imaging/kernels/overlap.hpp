#pragma once
/// @file
/// Header-only overlap metrics on Eigen arrays: Dice (Dice 1945) and Jaccard of one label
/// in two label maps of any integer type and shape, and the soft Dice of two probability
/// maps, templated over the scalar type (float, double). segmentation_metrics
/// (sportsmed/imaging/metrics.hpp) computes its Dice and Jaccard with dice_from_counts and
/// jaccard_from_counts.
///
/// Needs Eigen only (see motion/kernels/butterworth.hpp on SPORTSMED_HEADER_ONLY).

#include <cstdint>
#include <limits>
#include <string>

#include <Eigen/Core>

#include "sportsmed/core/error_types.hpp"

namespace sportsmed::imaging::kernels {

/// Voxel counts of one label in a reference (gt) and a predicted map.
struct OverlapCounts {
    std::int64_t gt = 0;    ///< |A|: voxels of the label in the reference
    std::int64_t pred = 0;  ///< |B|: in the prediction
    std::int64_t both = 0;  ///< |A ∩ B|
};

/// 2|A∩B| / (|A| + |B|); NaN when both are empty.
template <typename Scalar = double>
Scalar dice_from_counts(std::int64_t both, std::int64_t gt, std::int64_t pred) {
    const Scalar sum = static_cast<Scalar>(gt + pred);
    if (sum == Scalar(0)) return std::numeric_limits<Scalar>::quiet_NaN();
    return Scalar(2) * static_cast<Scalar>(both) / sum;
}

/// |A∩B| / |A∪B|; NaN when both are empty.
template <typename Scalar = double>
Scalar jaccard_from_counts(std::int64_t both, std::int64_t gt, std::int64_t pred) {
    const Scalar sum = static_cast<Scalar>(gt + pred);
    if (sum == Scalar(0)) return std::numeric_limits<Scalar>::quiet_NaN();
    return static_cast<Scalar>(both) / (sum - static_cast<Scalar>(both));
}

/// Counts of @p label in two label maps of the same shape (any Eigen array or matrix
/// expression; a volume's buffer can be viewed with Eigen::Map).
/// @throws InvalidArgument if the shapes differ.
template <typename DerivedA, typename DerivedB>
OverlapCounts overlap_counts(const Eigen::DenseBase<DerivedA>& gt, const Eigen::DenseBase<DerivedB>& pred,
                             typename DerivedA::Scalar label) {
    if (gt.rows() != pred.rows() || gt.cols() != pred.cols())
        throw InvalidArgument("overlap_counts: label maps of " + std::to_string(gt.rows()) + " x " +
                              std::to_string(gt.cols()) + " and " + std::to_string(pred.rows()) + " x " +
                              std::to_string(pred.cols()) + " differ in shape");
    const auto a = (gt.derived().array() == label);
    const auto b = (pred.derived().array() == static_cast<typename DerivedB::Scalar>(label));
    OverlapCounts c;
    c.gt = static_cast<std::int64_t>(a.count());
    c.pred = static_cast<std::int64_t>(b.count());
    c.both = static_cast<std::int64_t>((a && b).count());
    return c;
}

/// Dice of @p label between two label maps (see overlap_counts), as @p Scalar.
template <typename Scalar = double, typename DerivedA, typename DerivedB>
Scalar dice(const Eigen::DenseBase<DerivedA>& gt, const Eigen::DenseBase<DerivedB>& pred,
            typename DerivedA::Scalar label) {
    const OverlapCounts c = overlap_counts(gt, pred, label);
    return dice_from_counts<Scalar>(c.both, c.gt, c.pred);
}

/// Jaccard of @p label between two label maps, as @p Scalar.
template <typename Scalar = double, typename DerivedA, typename DerivedB>
Scalar jaccard(const Eigen::DenseBase<DerivedA>& gt, const Eigen::DenseBase<DerivedB>& pred,
               typename DerivedA::Scalar label) {
    const OverlapCounts c = overlap_counts(gt, pred, label);
    return jaccard_from_counts<Scalar>(c.both, c.gt, c.pred);
}

/// Soft Dice of two maps of values in [0, 1] (probabilities or a one-hot reference):
/// 2 Σ p·g / (Σ p + Σ g) (Milletari et al. 2016, without the squares); NaN when both sum to 0.
/// @throws InvalidArgument if the shapes differ.
template <typename DerivedP, typename DerivedG>
typename DerivedP::Scalar soft_dice(const Eigen::DenseBase<DerivedP>& p, const Eigen::DenseBase<DerivedG>& g) {
    using Scalar = typename DerivedP::Scalar;
    if (p.rows() != g.rows() || p.cols() != g.cols())
        throw InvalidArgument("soft_dice: maps of different shape");
    const auto& pa = p.derived().array();
    const auto& ga = g.derived().array().template cast<Scalar>();
    const Scalar den = pa.sum() + ga.sum();
    if (den == Scalar(0)) return std::numeric_limits<Scalar>::quiet_NaN();
    return Scalar(2) * (pa * ga).sum() / den;
}

}  // namespace sportsmed::imaging::kernels
