#pragma once
/// @file
/// Cox proportional hazards with time-varying covariates (counting-process form).

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Options of CoxPH.
struct CoxOptions {
    int max_iter = 100;  ///< Newton iterations
    double tol = 1e-10;  ///< stop when the largest coefficient step is below tol
};

/// Cox proportional-hazards regression (Cox 1972) on counting-process rows
/// (start, stop] with covariates constant within each row (Andersen & Gill 1982), ties
/// handled by Breslow's approximation:
///   ℓ(β) = Σ_{event times t} [ Σ_{i fails at t} x_i·β − d_t · log Σ_{j: start_j < t ≤ stop_j} exp(x_j·β) ].
/// A row is at risk at t when start < t <= stop (R's survival convention). statsmodels'
/// PHReg also counts rows with start == t (Stata's convention); the two agree whenever no
/// row starts exactly at an event time. Solved by Newton–Raphson with step halving.
///
/// For athlete-days, a row is one day of one athlete: (day − 1, day], covariates known at
/// the start of the day, event = injury onset that day.
class CoxPH {
public:
    explicit CoxPH(CoxOptions options = {});
    /// @param start, stop per row, start < stop.
    /// @param event per row, 1 if the row ends with an event, else 0.
    /// @param x rows × covariates, finite.
    /// @throws InvalidArgument for start >= stop, non-finite covariates, no events,
    ///         mismatched sizes, or a singular information matrix.
    CoxPH& fit(const VecXdCRef& start, const VecXdCRef& stop, const VecXdCRef& event, const RowMatXdCRef& x);
    const VecXd& coef() const { return coef_; }
    /// Standard errors from the inverse observed information.
    const VecXd& standard_errors() const { return se_; }
    /// Partial log-likelihood at coef().
    double log_likelihood() const { return loglik_; }
    int n_iter() const { return n_iter_; }
    /// Log relative hazard x·β per row.
    VecXd predict_log_hazard(const RowMatXdCRef& x) const;
    /// Sets the fitted state directly (loading a saved model).
    /// @param se standard errors (empty: NaN); @param log_likelihood as saved.
    /// @throws InvalidArgument for an empty or non-finite @p coef, or se of another size.
    void set_coefficients(const VecXdCRef& coef, const VecXdCRef& se = VecXd(), double log_likelihood = 0.0);

private:
    CoxOptions options_;
    VecXd coef_, se_;
    double loglik_ = 0;
    int n_iter_ = 0;
};

}  // namespace sportsmed::risk
