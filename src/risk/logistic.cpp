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

// The costly part of a Newton step: the Hessian of the data term [x 1]ᵀ diag(d) [x 1]
// (m × m, the last row/column for the intercept when icpt). Each of parts_n threads takes
// a range of rows and accumulates symmetric rank-k updates (BLAS-3 speed) of
// sqrt(d)-scaled blocks of 256 rows held in a small reused buffer (no n × p temporary).
// It is formed in single precision from a float copy of x (twice the SIMD width; each
// block's sum is added in double): the Hessian only steers the step, while the gradient,
// formed in double, fixes the optimum, so the solution is the exact one and only the
// last digits of the convergence rate change.
Eigen::MatrixXd weighted_gram(const RowMatXf& xf, const VecXd& d, bool icpt, std::int64_t parts_n) {
    const Eigen::Index n = xf.rows(), p = xf.cols(), m = p + (icpt ? 1 : 0);
    constexpr Eigen::Index kBlock = 256;
    std::vector<Eigen::MatrixXd> hs(static_cast<size_t>(parts_n), Eigen::MatrixXd::Zero(m, m));
    const Eigen::VectorXf sd = d.cwiseSqrt().cast<float>();
    parallel_for(0, parts_n, [&](std::int64_t b0, std::int64_t b1) {
        Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> buf(kBlock, m);  // rows as in xf: a contiguous copy
        Eigen::MatrixXf blk(m, m);
        for (std::int64_t b = b0; b < b1; ++b) {
            const Eigen::Index r0 = n * b / parts_n, r1 = n * (b + 1) / parts_n;
            for (Eigen::Index i = r0; i < r1; i += kBlock) {
                const Eigen::Index len = std::min(kBlock, r1 - i);
                buf.topLeftCorner(len, p) = (xf.middleRows(i, len).array().colwise() * sd.segment(i, len).array()).matrix();
                if (icpt) buf.col(p).head(len) = sd.segment(i, len);
                blk.setZero();
                blk.selfadjointView<Eigen::Lower>().rankUpdate(buf.topRows(len).transpose());
                hs[static_cast<size_t>(b)] += blk.cast<double>();
            }
        }
    });
    Eigen::MatrixXd h = hs[0];
    for (size_t b = 1; b < hs.size(); ++b) h += hs[b];
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
    }
    if (!x.allFinite())  // vectorised test first; the loop only to name the culprit
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = 0; j < p; ++j)
                SPORTSMED_CHECK(std::isfinite(x(i, j)), "LogisticRegression.fit: feature {} of row {} is {} (impute or "
                                "drop non-finite values first)", j, i, x(i, j));
    SPORTSMED_CHECK(has0 && has1, "LogisticRegression.fit: y holds a single class; need both 0 and 1");
    const VecXd s = sw.size() ? VecXd(sw) : VecXd::Ones(n);

    const double C = options_.C, rho = options_.l1_ratio, l2 = 1.0 - rho;
    const bool icpt = options_.fit_intercept;
    const Eigen::Index m = p + (icpt ? 1 : 0);
    VecXd theta = VecXd::Zero(m);
    // The penalised objective at th, in one parallel pass over the rows of x: it also
    // leaves the gradient [x 1]ᵀ r and the Hessian weights d of the data term in *ev, so
    // an accepted line-search point needs no second pass (one exp per row serves the
    // loss, the probability, r and d).
    struct Eval {
        double f = 0;
        VecXd g, d;
    };
    const std::int64_t parts_n = std::max<std::int64_t>(1, std::min<std::int64_t>(num_threads(), n / 4096));
    const auto evaluate = [&](const VecXd& th, Eval& ev) {
        ev.d.resize(n);
        std::vector<double> fs(static_cast<size_t>(parts_n), 0.0);
        std::vector<VecXd> gs(static_cast<size_t>(parts_n), VecXd::Zero(m));
        parallel_for(0, parts_n, [&](std::int64_t b0, std::int64_t b1) {
            constexpr Eigen::Index kBlock = 1024;
            Eigen::ArrayXd z(kBlock), e(kBlock), q(kBlock), r(kBlock);
            for (std::int64_t part = b0; part < b1; ++part) {
                const Eigen::Index r0 = n * part / parts_n, r1 = n * (part + 1) / parts_n;
                double f = 0;
                VecXd& g = gs[static_cast<size_t>(part)];
                for (Eigen::Index i = r0; i < r1; i += kBlock) {
                    const Eigen::Index len = std::min(kBlock, r1 - i);
                    const auto xb = x.middleRows(i, len);
                    auto zb = z.head(len), eb = e.head(len), qb = q.head(len), rb = r.head(len);
                    zb = (xb * th.head(p)).array();
                    if (icpt) zb += th[p];
                    eb = (-zb.abs()).exp();  // in (0, 1]: never overflows; SIMD in Eigen
                    const auto yb = y.segment(i, len).array();
                    const auto sb = s.segment(i, len).array();
                    // log(1 + e) rather than log1p (scalar): absolute error ~1e-16 per row
                    f += (sb * (zb.max(0.0) + (1.0 + eb).log() - yb * zb)).sum();
                    qb = (zb >= 0).select(1.0 / (1.0 + eb), eb / (1.0 + eb));
                    rb = C * sb * (qb - yb);
                    ev.d.segment(i, len) = (C * sb * qb * (1.0 - qb)).matrix();
                    g.head(p).noalias() += xb.transpose() * rb.matrix();
                    if (icpt) g[p] += rb.sum();
                }
                fs[static_cast<size_t>(part)] = f;
            }
        });
        double f = 0;
        ev.g = VecXd::Zero(m);
        for (size_t k = 0; k < fs.size(); ++k) {
            f += fs[k];
            ev.g += gs[k];
        }
        ev.g.head(p) += l2 * th.head(p);
        ev.f = C * f + 0.5 * l2 * th.head(p).squaredNorm() + rho * th.head(p).lpNorm<1>();
        return ev.f;
    };
    if (icpt) {  // start from the weighted prevalence: saves the first Newton steps on rare outcomes
        const double pos = s.dot(y), tot = s.sum();
        theta[p] = std::log(pos / (tot - pos));
    }

    Eval cur;
    double f_old = evaluate(theta, cur);
    const RowMatXf xf = x.cast<float>();
    Eigen::MatrixXd H;
    Eigen::LLT<Eigen::MatrixXd> llt;
    bool refresh = true, llt_ok = false;
    double prev_moved = std::numeric_limits<double>::infinity();
    n_iter_ = 0;
    for (int it = 0; it < options_.max_iter; ++it) {
        n_iter_ = it + 1;
        const VecXd g = cur.g;
        // Near the optimum the Hessian hardly changes: its last factorisation is reused
        // (the chord method; each step still uses the exact gradient) while that contracts
        // fast, and refreshed otherwise.
        const bool fresh = refresh || rho > 0.0;
        if (fresh) {
            H = weighted_gram(xf, cur.d, icpt, parts_n);
            H.topLeftCorner(p, p).diagonal().array() += l2;
            if (rho == 0.0) {
                llt.compute(H);  // positive definite unless the data are degenerate
                llt_ok = llt.info() == Eigen::Success;
            }
        }
        VecXd step(m);
        if (rho == 0.0) {
            step = llt_ok ? VecXd(-llt.solve(g)) : VecXd(-H.ldlt().solve(g));
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
        Eval next;
        double t = 1.0, f_new = evaluate(theta + step, next);
        // Armijo; near the optimum the decrease falls below the objective's rounding error,
        // and a full Newton step is then accepted on a tie within that error.
        const double noise = 64 * std::numeric_limits<double>::epsilon() * (1 + std::abs(f_old));
        for (int k = 0; k < 50 && f_new > f_old + 1e-4 * t * slope && f_new > f_old + noise; ++k) {
            t *= 0.5;
            f_new = evaluate(theta + t * step, next);
        }
        theta += t * step;
        cur = std::move(next);
        const double moved = (t * step).cwiseAbs().maxCoeff();
        f_old = f_new;
        // Steps shrink by the factor ρ = moved / prev_moved (≈ moved for Newton, quadratic
        // convergence; small and steady for chord steps): the error left is about ρ·moved.
        const double left = std::isfinite(prev_moved) ? moved * std::min(1.0, moved / prev_moved) : moved;
        if (moved < options_.tol || (rho == 0.0 && t == 1.0 && left < 1e-2 * options_.tol)) break;
        refresh = !(rho == 0.0 && t == 1.0 && moved < 1e-2 && (fresh || moved < 0.1 * prev_moved));
        prev_moved = moved;
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
