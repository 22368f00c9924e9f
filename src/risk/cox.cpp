// Cox proportional hazards, counting-process rows, Breslow ties.

#include "sportsmed/risk/cox.hpp"

#include <limits>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include "sportsmed/core/error.hpp"

namespace sportsmed::risk {

CoxPH::CoxPH(CoxOptions options) : options_(options) {}

CoxPH& CoxPH::fit(const VecXdCRef& start, const VecXdCRef& stop, const VecXdCRef& event, const RowMatXdCRef& x) {
    const Eigen::Index n = x.rows(), p = x.cols();
    SPORTSMED_CHECK(start.size() == n && stop.size() == n && event.size() == n,
                    "CoxPH.fit: start ({}), stop ({}), event ({}) and x ({} rows) differ in length", start.size(),
                    stop.size(), event.size(), n);
    std::vector<double> times;
    for (Eigen::Index i = 0; i < n; ++i) {
        SPORTSMED_CHECK(start[i] < stop[i], "CoxPH.fit: row {} has start {} >= stop {}", i, start[i], stop[i]);
        SPORTSMED_CHECK(event[i] == 0.0 || event[i] == 1.0, "CoxPH.fit: event {} at row {} is not 0 or 1", event[i], i);
        for (Eigen::Index j = 0; j < p; ++j)
            SPORTSMED_CHECK(std::isfinite(x(i, j)), "CoxPH.fit: covariate {} of row {} is {}", j, i, x(i, j));
        if (event[i] == 1.0) times.push_back(stop[i]);
    }
    SPORTSMED_CHECK(!times.empty(), "CoxPH.fit: no events");
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    // Rows sorted by stop (descending) and by start (descending) let one backward sweep over
    // event times maintain the risk-set sums: add rows with stop >= t, drop rows with start >= t.
    std::vector<Eigen::Index> by_stop(static_cast<size_t>(n)), by_start(static_cast<size_t>(n));
    std::iota(by_stop.begin(), by_stop.end(), 0);
    std::iota(by_start.begin(), by_start.end(), 0);
    std::sort(by_stop.begin(), by_stop.end(), [&](auto a, auto b) { return stop[a] > stop[b]; });
    std::sort(by_start.begin(), by_start.end(), [&](auto a, auto b) { return start[a] > start[b]; });
    // Events grouped by time.
    std::vector<std::vector<Eigen::Index>> fails(times.size());
    for (Eigen::Index i = 0; i < n; ++i)
        if (event[i] == 1.0)
            fails[std::lower_bound(times.begin(), times.end(), stop[i]) - times.begin()].push_back(i);

    const auto evaluate = [&](const VecXd& beta, VecXd* grad, Eigen::MatrixXd* info) {
        const VecXd eta = x * beta;
        // Centre eta for stability: the likelihood is invariant to a constant shift.
        const double shift = eta.maxCoeff();
        double ll = 0, s0 = 0;
        VecXd s1 = VecXd::Zero(p);
        Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(p, p);
        if (grad) grad->setZero(p);
        if (info) info->setZero(p, p);
        size_t ia = 0, ir = 0;
        for (size_t k = times.size(); k-- > 0;) {
            const double t = times[k];
            for (; ia < by_stop.size() && stop[by_stop[ia]] >= t; ++ia) {
                const Eigen::Index r = by_stop[ia];
                const double w = std::exp(eta[r] - shift);
                s0 += w;
                s1 += w * x.row(r).transpose();
                if (info) s2.noalias() += w * x.row(r).transpose() * x.row(r);
            }
            for (; ir < by_start.size() && start[by_start[ir]] >= t; ++ir) {
                const Eigen::Index r = by_start[ir];
                if (stop[r] < t) continue;  // never added
                const double w = std::exp(eta[r] - shift);
                s0 -= w;
                s1 -= w * x.row(r).transpose();
                if (info) s2.noalias() -= w * x.row(r).transpose() * x.row(r);
            }
            const double d = static_cast<double>(fails[k].size());
            for (const Eigen::Index i : fails[k]) {
                ll += eta[i];
                if (grad) *grad += x.row(i).transpose();
            }
            ll -= d * (std::log(s0) + shift);
            const VecXd mean = s1 / s0;
            if (grad) *grad -= d * mean;
            if (info) *info += d * (s2 / s0 - mean * mean.transpose());
        }
        return ll;
    };
    // Rows dropped once (start >= t) are never re-added: stop sorted descending adds a row
    // at the first t <= stop, and start >= t removes it for all earlier t; a row with
    // start >= stop is rejected above, so every removal follows its addition.

    VecXd beta = VecXd::Zero(p), g;
    Eigen::MatrixXd H;
    double ll = evaluate(beta, &g, &H);
    n_iter_ = 0;
    for (int it = 0; it < options_.max_iter; ++it) {
        n_iter_ = it + 1;
        Eigen::LDLT<Eigen::MatrixXd> ldlt(H);
        SPORTSMED_CHECK(ldlt.info() == Eigen::Success && ldlt.isPositive(),
                        "CoxPH.fit: the information matrix is singular (collinear or constant covariates?)");
        const VecXd step = ldlt.solve(g);
        double t = 1;
        VecXd nb = beta + step;
        double nll = evaluate(nb, nullptr, nullptr);
        while (nll < ll - 1e-12 * std::abs(ll) && t > 1e-8) {
            t *= 0.5;
            nb = beta + t * step;
            nll = evaluate(nb, nullptr, nullptr);
        }
        beta = nb;
        ll = evaluate(beta, &g, &H);
        if ((t * step).cwiseAbs().maxCoeff() < options_.tol) break;
    }
    coef_ = beta;
    loglik_ = ll;
    se_ = H.inverse().diagonal().cwiseSqrt();
    return *this;
}

void CoxPH::set_coefficients(const VecXdCRef& coef, const VecXdCRef& se, double log_likelihood) {
    SPORTSMED_CHECK(coef.size() > 0 && coef.allFinite(), "CoxPH.set_coefficients: coef must be finite and non-empty");
    SPORTSMED_CHECK(se.size() == 0 || se.size() == coef.size(), "CoxPH.set_coefficients: {} standard errors for {} "
                    "coefficients", se.size(), coef.size());
    coef_ = coef;
    se_ = se.size() ? VecXd(se) : VecXd::Constant(coef.size(), std::numeric_limits<double>::quiet_NaN());
    loglik_ = log_likelihood;
    n_iter_ = 0;
}

VecXd CoxPH::predict_log_hazard(const RowMatXdCRef& x) const {
    SPORTSMED_CHECK(coef_.size() > 0, "CoxPH.predict_log_hazard: not fitted");
    SPORTSMED_CHECK(x.cols() == coef_.size(), "CoxPH.predict_log_hazard: x has {} columns, the model {}", x.cols(),
                    coef_.size());
    return x * coef_;
}

}  // namespace sportsmed::risk
