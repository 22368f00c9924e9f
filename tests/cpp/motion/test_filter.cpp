#include <cmath>
#include <complex>
#include <limits>

#include <catch2/catch.hpp>

#include "sportsmed/motion/filter.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("filter: 2nd-order Butterworth at half Nyquist matches the closed form", "[motion][filter]") {
    // Bilinear transform of 1/(s²+√2 s+1) pre-warped to tan(π/4) = 1:
    // b = [1, 2, 1] / (2 + √2), a = [1, 0, (2 − √2)/(2 + √2)].
    const auto f = butter(2, 0.5);
    const double d = 2.0 + std::sqrt(2.0);
    REQUIRE(f.b.size() == 3);
    CHECK(f.b[0] == Approx(1.0 / d).epsilon(1e-14));
    CHECK(f.b[1] == Approx(2.0 / d).epsilon(1e-14));
    CHECK(f.a[1] == Approx(0.0).margin(1e-14));
    CHECK(f.a[2] == Approx((2.0 - std::sqrt(2.0)) / d).epsilon(1e-13));
    const auto h = butter(2, 0.5, FilterKind::Highpass);
    CHECK(h.b[0] + h.b[1] + h.b[2] == Approx(0.0).margin(1e-14));  // zero DC gain
}

TEST_CASE("filter: filtfilt keeps constants and ramps, removes high frequency", "[motion][filter]") {
    const auto f = butter_hz(4, 6.0, 100.0);
    RowMatXd x(500, 3);
    for (int i = 0; i < 500; ++i) {
        x(i, 0) = 7.5;
        x(i, 1) = 0.3 * i - 2;                               // a ramp passes with no lag
        x(i, 2) = std::sin(2 * M_PI * 40.0 * i / 100.0);     // far above the cutoff
    }
    const RowMatXd y = filtfilt(f, x);
    CHECK((y.col(0).array() - 7.5).abs().maxCoeff() < 1e-9);
    // Zero lag: away from the edge transients the ramp comes through unchanged.
    CHECK((y.col(1) - x.col(1)).segment(100, 300).cwiseAbs().maxCoeff() < 1e-6);
    CHECK(y.col(2).segment(50, 400).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("filter: NaN gaps stay NaN and do not smear", "[motion][filter]") {
    RowMatXd x = RowMatXd::Constant(100, 1, 1.0);
    for (int i = 40; i < 45; ++i) x(i, 0) = std::numeric_limits<double>::quiet_NaN();
    for (int i = 45; i < 100; ++i) x(i, 0) = 5.0;
    const RowMatXd y = filtfilt(butter(2, 0.2), x);
    for (int i = 0; i < 40; ++i) CHECK(y(i, 0) == Approx(1.0).margin(1e-9));
    for (int i = 40; i < 45; ++i) CHECK(std::isnan(y(i, 0)));
    for (int i = 45; i < 100; ++i) CHECK(y(i, 0) == Approx(5.0).margin(1e-9));
}

TEST_CASE("filter: spline fill is exact on a cubic, derivative of a parabola", "[motion][filter]") {
    // A natural spline reproduces a straight line exactly.
    RowMatXd x(50, 1);
    for (int i = 0; i < 50; ++i) x(i, 0) = 3.0 * i - 1.0;
    x(20, 0) = x(21, 0) = std::numeric_limits<double>::quiet_NaN();
    const RowMatXd f = fill_gaps_spline(x, 5);
    CHECK(f(20, 0) == Approx(59.0).epsilon(1e-12));
    CHECK(f(21, 0) == Approx(62.0).epsilon(1e-12));
    RowMatXd p(20, 1);
    for (int i = 0; i < 20; ++i) p(i, 0) = 0.5 * (i / 10.0) * (i / 10.0);
    const RowMatXd d = derivative(p, 10.0);
    for (int i = 1; i < 19; ++i) CHECK(d(i, 0) == Approx(i / 10.0).epsilon(1e-12));  // central differences are exact on t²
}
