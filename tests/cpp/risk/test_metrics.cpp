#include <cmath>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/logistic.hpp"
#include "sportsmed/risk/metrics.hpp"
#include "sportsmed/risk/validation.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;
using Catch::Detail::Approx;

TEST_CASE("metrics: AUC and AP of scikit-learn's documented example", "[risk][metrics]") {
    VecXd y(4), s(4);
    y << 0, 0, 1, 1;
    s << 0.1, 0.4, 0.35, 0.8;
    CHECK(roc_auc(y, s) == Approx(0.75).epsilon(1e-15));              // sklearn docs
    CHECK(average_precision(y, s) == Approx(0.8333333333333333).epsilon(1e-15));
    // Ties count half: all scores equal -> 0.5; AP = prevalence.
    CHECK(roc_auc(y, VecXd::Constant(4, 0.3)) == 0.5);
    CHECK(average_precision(y, VecXd::Constant(4, 0.3)) == 0.5);
    CHECK(brier_score(y, s) == Approx((0.01 + 0.16 + 0.4225 + 0.04) / 4));
    CHECK_THROWS_AS(roc_auc(VecXd::Zero(4), s), InvalidArgument);
}

TEST_CASE("metrics: AUC equals the Mann-Whitney U statistic with tied pairs as half", "[risk][metrics]") {
    std::mt19937_64 rng(3);
    const int n = 300;
    VecXd y(n), s(n);
    for (int i = 0; i < n; ++i) {
        y[i] = (rng() % 5 == 0) ? 1 : 0;
        s[i] = static_cast<double>(rng() % 20) + y[i] * 3;  // many ties
    }
    double u = 0, np = 0, nn = 0;
    for (int i = 0; i < n; ++i) {
        if (y[i] != 1) continue;
        ++np;
        for (int j = 0; j < n; ++j)
            if (y[j] == 0) u += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
    }
    for (int j = 0; j < n; ++j) nn += y[j] == 0;
    CHECK(roc_auc(y, s) == Approx(u / (np * nn)).epsilon(1e-13));
}

TEST_CASE("metrics: cluster bootstrap replicates equal the weighted metric", "[risk][metrics]") {
    std::mt19937_64 rng(5);
    const int n = 400;
    VecXd y(n), s(n);
    VecXi64 c(n);
    for (int i = 0; i < n; ++i) {
        c[i] = i % 20;
        y[i] = (rng() % 4 == 0) ? 1 : 0;
        s[i] = static_cast<double>(rng() % 1000) / 1000.0 + 0.3 * y[i];
    }
    const BootstrapResult r = cluster_bootstrap(y, s, c, Metric::RocAuc, 50, 0.9, 11);
    CHECK(r.estimate == roc_auc(y, s));
    for (int b = 0; b < 50; ++b) {
        CHECK(r.counts.row(b).sum() == 20);
        VecXd w(n);
        for (int i = 0; i < n; ++i) w[i] = static_cast<double>(r.counts(b, c[i]));
        CHECK(r.replicates[b] == Approx(roc_auc(y, s, w)).epsilon(1e-13));
    }
    CHECK(r.lower < r.estimate);
    CHECK(r.upper > r.estimate);
    // Same seed, any thread count: same replicates.
    const BootstrapResult again = cluster_bootstrap(y, s, c, Metric::RocAuc, 50, 0.9, 11);
    CHECK(again.replicates == r.replicates);
}

TEST_CASE("validation: grouped folds keep athletes whole, and the temporal split purges", "[risk][validation]") {
    VecXi64 a(12), d(12);
    for (int i = 0; i < 12; ++i) {
        a[i] = i / 3;
        d[i] = i % 3;
    }
    const VecXi64 f = grouped_kfold(a, 2, 1);
    for (int i = 0; i < 12; ++i) CHECK(f[i] == f[(i / 3) * 3]);
    VecXi64 side(12);
    for (int i = 0; i < 12; ++i) side[i] = f[i];
    CHECK(check_split(a, d, side).athletes_both == 0);
    const VecXi64 t = temporal_split(d, 2, 1);
    for (int i = 0; i < 12; ++i) CHECK(t[i] == (d[i] == 2 ? 1 : (d[i] == 1 ? -1 : 0)));
    for (int i = 0; i < 12; ++i) side[i] = i % 2;  // row-wise split
    const SplitCheck c = check_split(a, d, side);
    CHECK(c.athletes_both == 4);
    CHECK(c.min_gap_days == 1);
    CHECK_THROWS_AS(grouped_kfold(a, 5), InvalidArgument);
}

TEST_CASE("logistic: the fit satisfies the optimality conditions and threads agree", "[risk][logistic]") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g;
    const int n = 500, p = 4;
    RowMatXd x(n, p);
    VecXd y(n);
    for (int i = 0; i < n; ++i) {
        double z = -1.0;
        for (int j = 0; j < p; ++j) {
            x(i, j) = g(rng);
            z += 0.5 * (j + 1) * x(i, j) * (j % 2 ? -1 : 1);
        }
        y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-z)) ? 1 : 0;
    }
    const double C = 0.3;
    LogisticRegression m(LogisticOptions{C, 0.0, true, 200, 1e-12});
    m.fit(x, y);
    const VecXd prob = m.predict_proba(x);
    // Gradient of C·Σ logloss + ½‖w‖² vanishes; intercept gradient too.
    const VecXd grad = C * x.transpose() * (prob - y) + m.coef();
    CHECK(grad.cwiseAbs().maxCoeff() < 1e-8);
    CHECK(std::abs((prob - y).sum()) < 1e-8);
    const RowMatXd contrib = m.contributions(x);
    CHECK((contrib.rowwise().sum() - m.decision_function(x)).cwiseAbs().maxCoeff() < 1e-12);

    // Elastic net: KKT conditions |grad_j| <= rho where w_j = 0, = -rho·sign(w_j) otherwise.
    const double rho = 0.7, Ce = 0.02;
    LogisticRegression e(LogisticOptions{Ce, rho, true, 500, 1e-12});
    e.fit(x, y);
    const VecXd pe = e.predict_proba(x);
    const VecXd ge = Ce * x.transpose() * (pe - y) + (1 - rho) * e.coef();
    for (int j = 0; j < p; ++j) {
        if (e.coef()[j] == 0) CHECK(std::abs(ge[j]) <= rho + 1e-9);
        else CHECK(ge[j] == Approx(-rho * (e.coef()[j] > 0 ? 1 : -1)).margin(1e-8));
    }

    const VecXd serial = m.predict_proba(x);
    std::vector<VecXd> out(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) threads.emplace_back([&, t] { for (int k = 0; k < 20; ++k) out[t] = m.predict_proba(x); });
    for (auto& th : threads) th.join();
    for (const auto& o : out) CHECK(o == serial);

    RowMatXd bad = x;
    bad(3, 1) = std::nan("");
    CHECK_THROWS_AS(LogisticRegression().fit(bad, y), InvalidArgument);
    CHECK_THROWS_AS(LogisticRegression().fit(x, VecXd::Zero(n)), InvalidArgument);
    CHECK_THROWS_AS(m.predict_proba(RowMatXd::Zero(2, 3)), InvalidArgument);
}

TEST_CASE("calibration metrics: reliability bins, ECE and net benefit by hand", "[risk][metrics]") {
    VecXd y(6), p(6);
    y << 0, 1, 0, 1, 1, 0;
    p << 0.05, 0.15, 0.55, 0.65, 0.95, 1.0;
    const Reliability r = reliability_curve(y, p, 2);
    CHECK(r.count[0] == 2);
    CHECK(r.count[1] == 4);
    CHECK(r.mean_predicted[0] == Approx(0.1));
    CHECK(r.fraction_positive[1] == Approx(0.5));
    CHECK(r.ece == Approx(2.0 / 6 * 0.4 + 4.0 / 6 * std::abs(0.5 - 0.7875)));
    VecXd t(1);
    t << 0.5;
    const VecXd nb = net_benefit(y, p, t);
    CHECK(nb[0] == Approx(2.0 / 6 - 2.0 / 6 * 1.0));
}
