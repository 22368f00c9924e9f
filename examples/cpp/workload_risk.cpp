// Risk pillar: daily training loads → workload features → a fitted injury-risk model.
//
// The program simulates its own cohort: 60 athletes over 365 days with a 4-week training
// cycle, random overload weeks, rest days and a few unrecorded days (NaN). Injuries are
// drawn from a known model, logit P(injury) = β0 + β1 · (EWMA ACWR − 1) with β0 = −4,
// β1 = 2.5. The program computes the workload features of every athlete-day
// (workload_features_panel: rolling and EWMA acute:chronic workload ratios, monotony,
// strain, ...; Williams et al. 2017, Hulin et al. 2016, Foster 1998), fits an
// (effectively unpenalised) logistic regression of injury on the EWMA ACWR, and checks that
// the fitted slope is within four standard errors (from the Fisher information at the fit)
// of the β1 that generated the data. It also prints the ROC AUC of the fitted model.
// Exits non-zero when the check fails.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <Eigen/LU>
#include <sportsmed/risk.hpp>

namespace rk = sportsmed::risk;
using sportsmed::RowMatXd;
using sportsmed::VecXd;
using sportsmed::VecXi64;

int main() {
    const int athletes = 60, days = 365;
    const double beta0 = -4.0, beta1 = 2.5;
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    try {
        // 1. Daily loads (session-RPE × minutes), one contiguous block of days per athlete.
        VecXi64 athlete(athletes * days);
        VecXd load(athletes * days);
        for (int a = 0; a < athletes; ++a) {
            const double base = 300.0 + 300.0 * unif(rng);
            const double phase = 6.283185307179586 * unif(rng);
            double week_factor = 1.0;
            for (int d = 0; d < days; ++d) {
                if (d % 7 == 0) week_factor = unif(rng) < 0.15 ? 1.8 + 0.6 * unif(rng) : 1.0;  // overload weeks
                const double cycle = 1.0 + 0.3 * std::sin(6.283185307179586 * d / 28.0 + phase);
                double l = d % 7 == 6 ? 0.0 : base * cycle * week_factor * std::exp(0.25 * (unif(rng) - 0.5));
                if (unif(rng) < 0.03) l = std::nan("");  // not recorded
                athlete[a * days + d] = a;
                load[a * days + d] = l;
            }
        }

        // 2. Workload features of every athlete-day (days × features, NaN during warm-up).
        rk::WorkloadOptions options;
        options.min_periods = 0;
        const RowMatXd features = rk::workload_features_panel(athlete, load, options);
        const auto names = rk::workload_feature_names();
        const auto col = std::find(names.begin(), names.end(), "ewma_acwr") - names.begin();
        if (col == static_cast<long>(names.size())) throw sportsmed::NotFound("no ewma_acwr feature");

        // 3. Injuries from the known model, on the days where the ratio is defined.
        std::vector<double> xs, ys;
        for (Eigen::Index r = 0; r < features.rows(); ++r) {
            const double acwr = features(r, col);
            if (!std::isfinite(acwr) || r % days < 28) continue;
            const double p = 1.0 / (1.0 + std::exp(-(beta0 + beta1 * (acwr - 1.0))));
            xs.push_back(acwr - 1.0);
            ys.push_back(unif(rng) < p ? 1.0 : 0.0);
        }
        const auto n = static_cast<Eigen::Index>(xs.size());
        RowMatXd x(n, 1);
        VecXd y(n);
        for (Eigen::Index i = 0; i < n; ++i) {
            x(i, 0) = xs[i];
            y[i] = ys[i];
        }

        // 4. Fit and compare with the generating slope.
        rk::LogisticOptions lo;
        lo.C = 1e8;  // effectively unpenalised: the maximum-likelihood estimate
        rk::LogisticRegression model(lo);
        model.fit(x, y);
        const VecXd p = model.predict_proba(x);
        Eigen::Matrix2d info = Eigen::Matrix2d::Zero();  // Fisher information of (b0, b1)
        for (Eigen::Index i = 0; i < n; ++i) {
            const Eigen::Vector2d xi(1.0, x(i, 0));
            info += p[i] * (1.0 - p[i]) * xi * xi.transpose();
        }
        const double se = std::sqrt(info.inverse()(1, 1));
        const double b1 = model.coef()[0];
        std::printf("%lld athlete-days, %d injuries; EWMA ACWR %.2f–%.2f\n", static_cast<long long>(n),
                    static_cast<int>(y.sum()), x.minCoeff() + 1.0, x.maxCoeff() + 1.0);
        std::printf("fitted: intercept %.3f, slope %.3f ± %.3f (generated with %.1f, %.1f)\n", model.intercept(), b1,
                    se, beta0, beta1);
        std::printf("ROC AUC of the fitted model: %.3f\n", rk::roc_auc(y, p));
        if (!(std::abs(b1 - beta1) < 4.0 * se)) {
            std::fprintf(stderr, "fitted slope %g is more than 4 standard errors from %g\n", b1, beta1);
            return 1;
        }
    } catch (const sportsmed::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
