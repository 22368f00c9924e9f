#pragma once
/// @file
/// Gradient-boosted trees for binary outcomes through XGBoost's C API.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Options of GradientBoosting (XGBoost parameter names in brackets).
struct BoostingOptions {
    int n_estimators = 100;        ///< boosting rounds
    int max_depth = 3;             ///< [max_depth]
    double learning_rate = 0.1;    ///< [eta]
    double subsample = 1.0;        ///< [subsample]
    double min_child_weight = 1.0; ///< [min_child_weight]
    double reg_lambda = 1.0;       ///< [lambda] L2 penalty on leaf weights
    double scale_pos_weight = 1.0; ///< [scale_pos_weight] class weighting
    int n_threads = 0;             ///< [nthread]; 0: sportsmed::num_threads()
    std::uint64_t seed = 0;        ///< [seed]
};

/// Binary-logistic gradient-boosted trees (Chen & Guestrin 2016) trained and evaluated by
/// libxgboost (`tree_method=exact`, deterministic). Missing features are NaN and follow
/// each split's learned default direction.
///
/// Predictions and contributions take an internal lock around the booster, so several
/// threads may predict with one model at once and get the serial results.
class GradientBoosting {
public:
    explicit GradientBoosting(BoostingOptions options = {});
    ~GradientBoosting();
    GradientBoosting(GradientBoosting&&) noexcept;
    GradientBoosting& operator=(GradientBoosting&&) noexcept;

    /// Trains on @p x (rows × features, NaN = missing) and 0/1 labels @p y.
    /// @throws InvalidArgument for labels other than 0/1, one class, or size mismatch;
    ///         Error with XGBoost's message if libxgboost fails.
    GradientBoosting& fit(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sample_weight = VecXd());

    /// Log-odds (margin) per row.
    VecXd decision_function(const RowMatXdCRef& x) const;
    /// P(y = 1) per row.
    VecXd predict_proba(const RowMatXdCRef& x) const;
    /// TreeSHAP contributions (Lundberg et al. 2020): rows × (features + 1), the bias
    /// (expected margin) last; each row sums to decision_function.
    RowMatXd contributions(const RowMatXdCRef& x) const;

    /// Number of features the model was trained on.
    int n_features() const;
    /// The booster as XGBoost JSON (for saving).
    std::string to_json() const;
    /// Restores a booster saved by to_json(), after checking every tree (a binary tree over
    /// its nodes, splits on features below num_feature, finite values) so that a damaged
    /// file cannot crash libxgboost.
    /// @throws FormatError naming the node, if the model is not a binary gbtree model of
    /// exactly @p n_features features (0: any), or XGBoost cannot parse @p json.
    static GradientBoosting from_json(const std::string& json, int n_features);
    /// One JSON dump per tree (XGBoostDumpModelEx, with statistics), for inspection.
    std::vector<std::string> dump_trees() const;
    const BoostingOptions& options() const { return options_; }

private:
    struct Impl;
    BoostingOptions options_;
    std::unique_ptr<Impl> impl_;
};

/// XGBoost library version, "MAJOR.MINOR.PATCH".
std::string xgboost_version();

}  // namespace sportsmed::risk
