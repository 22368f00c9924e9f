#pragma once
/// @file
/// Probability calibration: Platt scaling and isotonic regression.
///
/// Fit a calibrator on validation-fold predictions only (never on the rows it will be
/// judged on); sportsmed.risk.evaluate does so fold by fold.

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Platt scaling (Platt 1999): p = 1 / (1 + exp(−(a·s + b))) fitted by maximum
/// likelihood to Platt's smoothed targets t₊ = (N₊ + 1)/(N₊ + 2), t₋ = 1/(N₋ + 2).
/// Same optimum as scikit-learn's CalibratedClassifierCV(method="sigmoid"), whose
/// slope/intercept carry the opposite sign.
class PlattCalibration {
public:
    /// @throws InvalidArgument for NaN scores, labels other than 0/1, size mismatch.
    PlattCalibration& fit(const VecXdCRef& score, const VecXdCRef& y);
    /// Calibrated probability per score.
    VecXd predict(const VecXdCRef& score) const;
    double slope() const { return a_; }
    double intercept() const { return b_; }
    void set(double slope, double intercept) { a_ = slope, b_ = intercept, fitted_ = true; }

private:
    double a_ = 1.0, b_ = 0.0;
    bool fitted_ = false;
};

/// Isotonic (monotone non-decreasing) calibration by pool-adjacent-violators (Barlow et
/// al. 1972), equal to scikit-learn's IsotonicRegression(out_of_bounds="clip"): tied
/// scores are merged first (weighted mean), predictions interpolate linearly between the
/// fitted points and are clipped to the end values outside them.
class IsotonicCalibration {
public:
    /// @param weight optional per-row weights (empty: 1).
    /// @throws InvalidArgument for NaN, negative weights or size mismatch.
    IsotonicCalibration& fit(const VecXdCRef& score, const VecXdCRef& y, const VecXdCRef& weight = VecXd());
    VecXd predict(const VecXdCRef& score) const;
    /// Distinct scores of the fit (increasing) and the fitted values there.
    const VecXd& x() const { return x_; }
    const VecXd& y() const { return y_; }
    void set(const VecXdCRef& x, const VecXdCRef& y);

private:
    VecXd x_, y_;
};

}  // namespace sportsmed::risk
