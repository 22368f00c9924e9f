// Penalised logistic regression by (proximal) Newton iterations.

#include "sportsmed/risk/logistic.hpp"

#include <cmath>
#include <limits>

#include <algorithm>
#include <vector>

#include <Eigen/Cholesky>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::risk {
namespace {

double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    const double e = std::exp(z);
    return e / (1.0 + e);
}
double soft(double v, double t) { return v > t ? v - t : (v < -t ? v + t : 0.0); }

// Xᵀ diag(d) X, the costly part of a Newton step: each thread takes a range of rows and
// accumulates symmetric rank-k updates (BLAS-3 speed) of sqrt(d)-scaled blocks of 256 rows
// held in a small reused buffer (no n × p temporary); the per-thread sums are then added.
Eigen::MatrixXd weighted_gram(const RowMatXdCRef& x, const VecXd& d) {
    const Eigen::Index n = x.rows(), p = x.cols();
    constexpr Eigen::Index kBlock = 256;
    const std::int64_t parts_n = std::max<std::int64_t>(1, std::min<std::int64_t>(num_threads(), n / 4096));
    std::vector<Eigen::MatrixXd> parts(static_cast<size_t>(parts_n), Eigen::MatrixXd::Zero(p, p));
    parallel_for(0, parts_n, [&](std::int64_t b0, std::int64_t b1) {
        Eigen::MatrixXd buf(kBlock, p);
        for (std::int64_t b = b0; b < b1; ++b) {
            const Eigen::Index r0 = n * b / parts_n, r1 = n * (b + 1) / parts_n;
            for (Eigen::Index r = r0; r < r1; r += kBlock) {
                const Eigen::Index len = std::min(kBlock, r1 - r);
                buf.topRows(len) = (x.middleRows(r, len).array().colwise() * d.segment(r, len).array().sqrt()).matrix();
                parts[b].selfadjointView<Eigen::Lower>().rankUpdate(buf.topRows(len).transpose());
            }
        }
    });
    Eigen::MatrixXd h = parts[0];
    for (size_t b = 1; b < parts.size(); ++b) h += parts[b];
    return h.selfadjointView<Eigen::Lower>();
}

}  // namespace

LogisticRegression::LogisticRegression(LogisticOptions options) : options_(options) {
    SPORTSMED_CHECK(options_.C > 0, "LogisticRegression: C must be > 0, got {}", options_.C);
    SPORTSMED_CHECK(options_.l1_ratio >= 0 && options_.l1_ratio <= 1,
                    "LogisticRegression: l1_ratio must be in [0, 1], got {}", options_.l1_ratio);
    SPORTSMED_CHECK(options_.max_iter >= 1, "LogisticRegression: max_iter must be >= 1, got {}", options_.max_iter);
}

void LogisticRegression::check_x(const char* fn, const RowMatXdCRef& x) const {
    SPORTSMED_CHECK(fitted_, "LogisticRegression.{}: the model is not fitted", fn);
    SPORTSMED_CHECK(x.cols() == coef_.size(), "LogisticRegression.{}: x has {} columns, the model {} features",
                    fn, x.cols(), coef_.size());
}

LogisticRegression& LogisticRegression::fit(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sw) {
    const Eigen::Index n = x.rows(), p = x.cols();
    SPORTSMED_CHECK(y.size() == n, "LogisticRegression.fit: x has {} rows but y {}", n, y.size());
    SPORTSMED_CHECK(sw.size() == 0 || sw.size() == n, "LogisticRegression.fit: {} sample weights for {} rows",
                    sw.size(), n);
    bool has0 = false, has1 = false;
    for (Eigen::Index i = 0; i < n; ++i) {
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "LogisticRegression.fit: label {} at row {} is not 0 or 1", y[i], i);
        has0 |= y[i] == 0.0;
        has1 |= y[i] == 1.0;
        for (Eigen::Index j = 0; j < p; ++j)
            SPORTSMED_CHECK(std::isfinite(x(i, j)), "LogisticRegression.fit: feature {} of row {} is {} (impute or drop "
                            "non-finite values first)", j, i, x(i, j));
    }
    SPORTSMED_CHECK(has0 && has1, "LogisticRegression.fit: y holds a single class; need both 0 and 1");
    const VecXd s = sw.size() ? VecXd(sw) : VecXd::Ones(n);

    const double C = options_.C, rho = options_.l1_ratio, l2 = 1.0 - rho;
    const bool icpt = options_.fit_intercept;
    const Eigen::Index m = p + (icpt ? 1 : 0);
    VecXd theta = VecXd::Zero(m);
    const auto linear = [&](const VecXd& th) {
        VecXd z = x * th.head(p);
        if (icpt) z.array() += th[p];
        return z;
    };
    // Objective at th; also leaves the fitted probabilities in *q_out (one exp per row
    // serves both the loss and the probability).
    const auto objective = [&](const VecXd& th, VecXd* q_out) {
        VecXd z = linear(th);
        double f = 0;
        for (Eigen::Index i = 0; i < n; ++i) {
            const double e = std::exp(-std::abs(z[i]));
            f += s[i] * (std::max(z[i], 0.0) + std::log1p(e) - y[i] * z[i]);
            z[i] = z[i] >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        }
        if (q_out) *q_out = std::move(z);
        return C * f + 0.5 * l2 * th.head(p).squaredNorm() + rho * th.head(p).lpNorm<1>();
    };
    if (icpt) {  // start from the weighted prevalence: saves the first Newton steps on rare outcomes
        const double pos = s.dot(y), tot = s.sum();
        theta[p] = std::log(pos / (tot - pos));
    }

    VecXd z;
    double f_old = objective(theta, &z);
    n_iter_ = 0;
    for (int it = 0; it < options_.max_iter; ++it) {
        n_iter_ = it + 1;
        VecXd r(n), d(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            const double q = z[i];  // probabilities at theta (from the last objective call)
            r[i] = C * s[i] * (q - y[i]);
            d[i] = C * s[i] * q * (1 - q);
        }
        VecXd g(m);
        Eigen::MatrixXd H(m, m);
        g.head(p) = x.transpose() * r + l2 * theta.head(p);
        H.topLeftCorner(p, p) = weighted_gram(x, d);
        H.topLeftCorner(p, p).diagonal().array() += l2;
        if (icpt) {
            g[p] = r.sum();
            const VecXd xd = x.transpose() * d;
            H.block(0, p, p, 1) = xd;
            H.block(p, 0, 1, p) = xd.transpose();
            H(p, p) = d.sum();
        }
        VecXd step(m);
        if (rho == 0.0) {
            step = -H.ldlt().solve(g);
        } else {
            // Coordinate descent on  gᵀδ + ½ δᵀHδ + ρ Σ_j |w_j + δ_j|  (intercept unpenalised).
            step.setZero();
            VecXd Hd = VecXd::Zero(m);
            for (int sweep = 0; sweep < 10000; ++sweep) {
                double biggest = 0;
                for (Eigen::Index j = 0; j < m; ++j) {
                    const double a = H(j, j);
                    if (a <= 0) continue;
                    const double b = g[j] + Hd[j] - a * step[j];  // gradient of the rest at δ_j = 0
                    double nd;
                    if (j < p) nd = soft(a * theta[j] - b, rho) / a - theta[j];
                    else nd = -b / a;
                    const double change = nd - step[j];
                    if (change != 0) {
                        Hd += H.col(j) * change;
                        step[j] = nd;
                        biggest = std::max(biggest, std::abs(change));
                    }
                }
                if (biggest < options_.tol * 1e-3) break;
            }
        }
        const double slope = g.dot(step) + rho * ((theta.head(p) + step.head(p)).lpNorm<1>() - theta.head(p).lpNorm<1>());
        VecXd z_new;
        double t = 1.0, f_new = objective(theta + step, &z_new);
        // Armijo; near the optimum the decrease falls below the objective's rounding error,
        // and a full Newton step is then accepted on a tie within that error.
        const double noise = 64 * std::numeric_limits<double>::epsilon() * (1 + std::abs(f_old));
        for (int k = 0; k < 50 && f_new > f_old + 1e-4 * t * slope && f_new > f_old + noise; ++k) {
            t *= 0.5;
            f_new = objective(theta + t * step, &z_new);
        }
        theta += t * step;
        z = std::move(z_new);
        const double moved = (t * step).cwiseAbs().maxCoeff();
        f_old = f_new;
        // A full Newton step of size e leaves an error of order e² (quadratic convergence).
        if (moved < options_.tol || (rho == 0.0 && t == 1.0 && moved * moved < 1e-4 * options_.tol)) break;
    }
    coef_ = theta.head(p);
    intercept_ = icpt ? theta[p] : 0.0;
    fitted_ = true;
    return *this;
}

VecXd LogisticRegression::decision_function(const RowMatXdCRef& x) const {
    check_x("decision_function", x);
    VecXd z = x * coef_;
    z.array() += intercept_;
    return z;
}

VecXd LogisticRegression::predict_proba(const RowMatXdCRef& x) const {
    VecXd z = decision_function(x);
    for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = sigmoid(z[i]);
    return z;
}

RowMatXd LogisticRegression::contributions(const RowMatXdCRef& x) const {
    check_x("contributions", x);
    RowMatXd c(x.rows(), x.cols() + 1);
    c.leftCols(x.cols()) = x.array().rowwise() * coef_.transpose().array();
    c.col(x.cols()).setConstant(intercept_);
    return c;
}

void LogisticRegression::set_coefficients(const VecXdCRef& coef, double intercept) {
    coef_ = coef;
    intercept_ = intercept;
    fitted_ = true;
}

}  // namespace sportsmed::risk
