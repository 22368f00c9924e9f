#pragma once
/// @file
/// L2 / elastic-net penalised logistic regression (Eigen).

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Options of LogisticRegression, named as in scikit-learn's LogisticRegression.
struct LogisticOptions {
    double C = 1.0;         ///< inverse penalty strength (> 0)
    double l1_ratio = 0.0;  ///< 0: pure L2 (ridge); in (0, 1]: elastic net
    bool fit_intercept = true;  ///< fit an unpenalised intercept
    int max_iter = 200;     ///< outer (Newton) iterations
    double tol = 1e-10;     ///< stop when the largest coefficient step is below tol
};

/// Penalised logistic regression, the objective of scikit-learn's LogisticRegression:
///   minimise  C · Σ_i s_i · logloss(y_i, b + x_i·w) + (1 − ρ)/2 ‖w‖² + ρ ‖w‖₁
/// with ρ = l1_ratio and the intercept b unpenalised. Solved by (proximal) Newton steps
/// with backtracking; for ρ > 0 each step solves the penalised quadratic model by cyclic
/// coordinate descent (Lee, Sun & Saunders 2014; Friedman et al. 2010). The optimum is
/// unique, so coefficients agree with scikit-learn's lbfgs / saga run to convergence.
/// Each Newton step is one pass over the rows (loss, gradient and, while steps are long,
/// a single-precision Hessian that only steers the step); for ρ = 0 and n ≥ 32768 rows
/// the long first steps are taken on every k-th row (weights × k) as a warm start. The
/// fit holds a column-major copy of [x 1] in double and single precision (12 bytes per
/// value) while it runs.
///
/// After fit(), every method is const and touches no shared mutable state: predictions
/// from several threads at once are safe.
class LogisticRegression {
public:
    explicit LogisticRegression(LogisticOptions options = {});

    /// Fits on @p x (rows × features) and 0/1 labels @p y.
    /// @param sample_weight per-row weights s_i (empty: all 1), e.g. for class weighting.
    /// @throws InvalidArgument for NaN features, labels other than 0/1, a single class,
    ///         or mismatched sizes.
    LogisticRegression& fit(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sample_weight = VecXd());

    /// Linear predictor b + x·w per row (log-odds).
    VecXd decision_function(const RowMatXdCRef& x) const;
    /// Probability of y = 1 per row.
    VecXd predict_proba(const RowMatXdCRef& x) const;
    /// Per-row contributions to the log-odds: rows × (features + 1), w_j · x_ij in column
    /// j and the intercept in the last column; each row sums to decision_function.
    RowMatXd contributions(const RowMatXdCRef& x) const;

    /// Coefficients w (features).
    const VecXd& coef() const { return coef_; }
    /// Intercept b.
    double intercept() const { return intercept_; }
    /// Newton iterations the last fit used on all rows (after the warm start on a subsample of
    /// large inputs).
    int n_iter() const { return n_iter_; }
    /// True once fitted or loaded.
    bool fitted() const { return fitted_; }
    const LogisticOptions& options() const { return options_; }

    /// Sets the fitted state directly (loading a saved model).
    void set_coefficients(const VecXdCRef& coef, double intercept);

private:
    void check_x(const char* fn, const RowMatXdCRef& x) const;

    LogisticOptions options_;
    VecXd coef_;
    double intercept_ = 0.0;
    int n_iter_ = 0;
    bool fitted_ = false;
};

}  // namespace sportsmed::risk
