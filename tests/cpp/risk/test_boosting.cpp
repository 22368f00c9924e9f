#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/boosting.hpp"
#include "sportsmed/risk/metrics.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;

TEST_CASE("boosting: XGBoost learns an interaction, SHAP sums to the margin, threads agree", "[risk][boosting]") {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> g;
    const int n = 2000;
    RowMatXd x(n, 3);
    VecXd y(n);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < 3; ++j) x(i, j) = g(rng);
        y[i] = (x(i, 0) * x(i, 1) > 0) ? 1.0 : 0.0;  // XOR-like: no linear model separates it
    }
    GradientBoosting m(BoostingOptions{200, 3, 0.3});
    m.fit(x, y);
    CHECK(roc_auc(y, m.predict_proba(x)) > 0.97);
    const RowMatXd c = m.contributions(x);
    REQUIRE(c.cols() == 4);
    CHECK((c.rowwise().sum() - m.decision_function(x)).cwiseAbs().maxCoeff() < 1e-4);
    // feature 2 is noise: its mean |SHAP| is far below the others'
    const Eigen::RowVectorXd mean_abs = c.cwiseAbs().colwise().mean();
    CHECK(mean_abs[2] < 0.2 * std::min(mean_abs[0], mean_abs[1]));

    const VecXd serial = m.predict_proba(x);
    std::vector<VecXd> out(6);
    std::vector<std::thread> ts;
    for (int t = 0; t < 6; ++t) ts.emplace_back([&, t] { for (int k = 0; k < 5; ++k) out[t] = m.predict_proba(x); });
    for (auto& t : ts) t.join();
    for (const auto& o : out) CHECK(o == serial);

    const GradientBoosting back = GradientBoosting::from_json(m.to_json(), 3);
    CHECK(back.predict_proba(x) == serial);
    CHECK_THROWS_AS(GradientBoosting::from_json("nonsense", 3), FormatError);
    CHECK_THROWS_AS(GradientBoosting().predict_proba(x), InvalidArgument);
}
