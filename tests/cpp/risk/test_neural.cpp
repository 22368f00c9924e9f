#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/metrics.hpp"
#include "sportsmed/risk/neural.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;

namespace {

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Rows with a known logit: z = -2 + 1.2 x0 - 0.8 x1 + 0.6 x0² (x2 is noise), 8 groups.
struct Data {
    RowMatXd x;
    VecXd y, z;
    VecXi64 g;
};
Data make_data(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    std::uniform_real_distribution<double> u;
    Data d{RowMatXd(n, 3), VecXd(n), VecXd(n), VecXi64(n)};
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < 3; ++j) d.x(i, j) = nd(rng);
        d.z[i] = -2.0 + 1.2 * d.x(i, 0) - 0.8 * d.x(i, 1) + 0.6 * d.x(i, 0) * d.x(i, 0);
        d.y[i] = u(rng) < sigmoid(d.z[i]) ? 1.0 : 0.0;
        d.g[i] = i % 8;
    }
    return d;
}

NeuralOptions small_mlp() {
    NeuralOptions o;
    o.hidden = {16, 8};
    o.learning_rate = 1e-2;
    o.batch_size = 256;
    o.max_epochs = 60;
    o.patience = 8;
    return o;
}

}  // namespace

TEST_CASE("neural: lagged windows read only past days of the same athlete", "[risk][neural]") {
    // athlete 0: days 10, 11, 13; athlete 1: days 12, 13
    VecXi64 a(5), day(5);
    a << 0, 0, 0, 1, 1;
    day << 10, 11, 13, 12, 13;
    RowMatXd x(5, 2);
    x << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
    const RowMatXd w = lagged_windows(a, day, x, 3);
    REQUIRE(w.rows() == 5);
    REQUIRE(w.cols() == 6);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    RowMatXd expected(5, 6);
    expected << nan, nan, nan, nan, 1, 2,   // day 10: nothing before
        nan, nan, 1, 2, 3, 4,               // day 11: day 10, 11
        3, 4, nan, nan, 5, 6,               // day 13: day 11, (12 absent), 13
        nan, nan, nan, nan, 7, 8,           // athlete 1 day 12: never athlete 0's day 11
        nan, nan, 7, 8, 9, 10;
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 6; ++j) {
            INFO("row " << i << " col " << j);
            if (std::isnan(expected(i, j))) CHECK(std::isnan(w(i, j)));
            else CHECK(w(i, j) == expected(i, j));
        }
    // truncating the table after a day leaves every kept window unchanged (no future)
    const RowMatXd part = lagged_windows(a.head(2), day.head(2), x.topRows(2), 3);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 6; ++j) CHECK((std::isnan(part(i, j)) ? std::isnan(w(i, j)) : part(i, j) == w(i, j)));
    day[1] = 10;
    CHECK_THROWS_AS(lagged_windows(a, day, x, 3), InvalidArgument);
}

TEST_CASE("neural: a linear network's integrated gradients are w·(x − b) exactly", "[risk][neural]") {
    NeuralOptions o;
    o.hidden = {};
    NeuralRiskModel m(o);
    NeuralRiskModel::Parameter w{"layers.0.weight", {1, 3}, VecXd(3)}, b{"layers.0.bias", {1}, VecXd(1)};
    w.values << 0.5, -1.5, 2.0;
    b.values << -0.25;
    m.set_parameters(3, {w, b});
    RowMatXd x(2, 3);
    x << 1, 2, 3, -1, 0.5, 0;
    VecXd base(3);
    base << 0.1, 0.2, 0.3;
    const RowMatXd ig = m.integrated_gradients(x, base, 4);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) CHECK(ig(i, j) == Approx(w.values[j] * (x(i, j) - base[j])).margin(1e-12));
    CHECK(ig(0, 3) == Approx(0.5 * 0.1 - 1.5 * 0.2 + 2.0 * 0.3 - 0.25).margin(1e-12));
    CHECK(m.decision_function(x)[0] == Approx(0.5 - 3.0 + 6.0 - 0.25).margin(1e-12));
    // a wrong shape or name is a FormatError
    NeuralRiskModel other(o);
    NeuralRiskModel::Parameter bad{"layers.0.weight", {1, 2}, VecXd(2)};
    CHECK_THROWS_AS(other.set_parameters(3, {bad, b}), FormatError);
    NeuralRiskModel::Parameter renamed{"head.weight", {1, 3}, w.values};
    CHECK_THROWS_AS(other.set_parameters(3, {renamed, b}), FormatError);
}

TEST_CASE("neural: MLP reaches the oracle AUC, IG is complete, threads agree, seeds reproduce",
          "[risk][neural][slow]") {
    const Data tr = make_data(6000, 1), te = make_data(4000, 2);
    NeuralRiskModel m(small_mlp());
    m.fit(tr.x, tr.y, tr.g);
    CHECK(m.best_epoch() >= 1);
    CHECK(static_cast<int>(m.history().size()) >= m.best_epoch());
    const VecXd p = m.predict_proba(te.x);
    const double auc = roc_auc(te.y, p), oracle = roc_auc(te.y, te.z);
    INFO("MLP AUC " << auc << " oracle " << oracle);
    CHECK(auc > oracle - 0.02);

    // completeness: Σ attributions = f(x) − f(baseline) on the logit
    const RowMatXd ig = m.integrated_gradients(te.x.topRows(200));
    const VecXd f = m.decision_function(te.x.topRows(200));
    const double fb = m.decision_function(RowMatXd::Zero(1, 3))[0];
    CHECK(ig(0, 3) == Approx(fb).margin(1e-12));
    const double err = (ig.leftCols(3).rowwise().sum() - (f.array() - fb).matrix()).cwiseAbs().maxCoeff();
    INFO("completeness error " << err);
    CHECK(err < 1e-6);
    // the noise feature gets the smallest attributions
    const Eigen::RowVectorXd mean_abs = ig.leftCols(3).cwiseAbs().colwise().mean();
    CHECK(mean_abs[2] < 0.3 * std::min(mean_abs[0], mean_abs[1]));

    const VecXd serial = m.predict_proba(te.x);
    const RowMatXd ig_serial = m.integrated_gradients(te.x.topRows(50));
    std::vector<VecXd> out(4);
    std::vector<RowMatXd> outs_ig(4);
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            for (int k = 0; k < 3; ++k) {
                out[t] = m.predict_proba(te.x);
                outs_ig[t] = m.integrated_gradients(te.x.topRows(50));
            }
        });
    for (auto& t : ts) t.join();
    for (int t = 0; t < 4; ++t) {
        CHECK(out[t] == serial);
        CHECK(outs_ig[t] == ig_serial);
    }

    NeuralRiskModel again(small_mlp());
    again.fit(tr.x, tr.y, tr.g);
    CHECK(again.predict_proba(te.x) == serial);
    NeuralOptions o2 = small_mlp();
    o2.seed = 7;
    NeuralRiskModel other(o2);
    other.fit(tr.x, tr.y, tr.g);
    CHECK(other.predict_proba(te.x) != serial);

    // round trip through parameters()
    NeuralRiskModel loaded(small_mlp());
    loaded.set_parameters(3, m.parameters());
    CHECK(loaded.predict_proba(te.x) == serial);

    CHECK_THROWS_AS(m.predict_proba(te.x.leftCols(2)), InvalidArgument);
    RowMatXd bad = te.x.topRows(3);
    bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.predict_proba(bad), InvalidArgument);
}

TEST_CASE("neural: pos_weight w shifts the fitted log-odds by about log w", "[risk][neural][slow]") {
    // weighted maximum likelihood multiplies the odds by w (prior shift, King & Zeng 2001)
    const Data tr = make_data(6000, 3);
    NeuralOptions o = small_mlp();
    o.hidden = {};  // a logistic model: the shift is exactly log w at the weighted optimum
    NeuralRiskModel plain(o);
    plain.fit(tr.x.leftCols(2), tr.y, tr.g);
    o.pos_weight = 4.0;
    NeuralRiskModel weighted(o);
    weighted.fit(tr.x.leftCols(2), tr.y, tr.g);
    const double shift = (weighted.decision_function(tr.x.leftCols(2)) - plain.decision_function(tr.x.leftCols(2))).mean();
    INFO("mean logit shift " << shift << ", log 4 = " << std::log(4.0));
    CHECK(std::abs(shift - std::log(4.0)) < 0.25);
}

TEST_CASE("neural: the temporal CNN finds a lagged effect the same-day MLP cannot", "[risk][neural][slow]") {
    // one athlete-day series per group; the outcome depends on feature 0 two days earlier
    std::mt19937_64 rng(5);
    std::normal_distribution<double> nd;
    std::uniform_real_distribution<double> u;
    const int athletes = 20, days = 400, n = athletes * days, window = 5;
    VecXi64 a(n), day(n);
    RowMatXd x(n, 2);
    for (int i = 0; i < n; ++i) {
        a[i] = i / days;
        day[i] = i % days;
        x(i, 0) = nd(rng);
        x(i, 1) = nd(rng);
    }
    VecXd y(n), z(n);
    for (int i = 0; i < n; ++i) {
        const double lagged = day[i] >= 2 ? x(i - 2, 0) : 0.0;
        z[i] = -1.5 + 1.5 * lagged + 0.5 * x(i, 1);
        y[i] = u(rng) < sigmoid(z[i]) ? 1.0 : 0.0;
    }
    RowMatXd w = lagged_windows(a, day, x, window);
    w = w.unaryExpr([](double v) { return std::isnan(v) ? 0.0 : v; });
    const Eigen::Index half = n / 2;  // athletes 0–9 train, 10–19 test
    NeuralOptions o = small_mlp();
    o.architecture = "cnn";
    o.window_days = window;
    o.channels = 8;
    NeuralRiskModel cnn(o);
    cnn.fit(w.topRows(half), y.head(half), a.head(half));
    const double auc = roc_auc(y.tail(n - half), cnn.predict_proba(w.bottomRows(n - half)));
    const double oracle = roc_auc(y.tail(n - half), z.tail(n - half));
    NeuralRiskModel mlp(small_mlp());
    mlp.fit(x.topRows(half), y.head(half), a.head(half));
    const double same_day = roc_auc(y.tail(n - half), mlp.predict_proba(x.bottomRows(n - half)));
    INFO("CNN AUC " << auc << " oracle " << oracle << " same-day MLP " << same_day);
    CHECK(auc > oracle - 0.02);
    CHECK(same_day < oracle - 0.1);
    // completeness on the CNN, and the lag-2 slot of feature 0 carries the most attribution
    const RowMatXd ig = cnn.integrated_gradients(w.bottomRows(300));
    const VecXd f = cnn.decision_function(w.bottomRows(300));
    CHECK((ig.leftCols(2 * window).rowwise().sum() - (f.array() - ig(0, 2 * window)).matrix()).cwiseAbs().maxCoeff() <
          1e-6);
    Eigen::Index best = 0;
    ig.leftCols(2 * window).cwiseAbs().colwise().mean().maxCoeff(&best);
    CHECK(best == (window - 1 - 2) * 2 + 0);
}
