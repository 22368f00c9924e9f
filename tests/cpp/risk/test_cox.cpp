#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/cox.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;
using Catch::Detail::Approx;

TEST_CASE("cox: closed-form optimum of a four-subject example, and splitting rows changes nothing", "[risk][cox]") {
    // A x=1 fails at 1; B x=0 fails at 2; C x=1 censored at 3; D x=0 fails at 4.
    // l(b) = b - log(2e^b + 2) - log(e^b + 2)  ->  e^{2b} = 2, b = log(2)/2.
    VecXd start(4), stop(4), event(4);
    RowMatXd x(4, 1);
    start << 0, 0, 0, 0;
    stop << 1, 2, 3, 4;
    event << 1, 1, 0, 1;
    x << 1, 0, 1, 0;
    CoxPH m;
    m.fit(start, stop, event, x);
    CHECK(m.coef()[0] == Approx(std::log(2.0) / 2).epsilon(1e-10));
    const double b = m.coef()[0];
    CHECK(m.log_likelihood() == Approx(b - std::log(2 * std::exp(b) + 2) - std::log(std::exp(b) + 2)));
    // D's follow-up as two counting-process rows (0, 2.5] and (2.5, 4]
    VecXd s2(5), t2(5), e2(5);
    RowMatXd x2(5, 1);
    s2 << 0, 0, 0, 0, 2.5;
    t2 << 1, 2, 3, 2.5, 4;
    e2 << 1, 1, 0, 0, 1;
    x2 << 1, 0, 1, 0, 0;
    CoxPH split;
    split.fit(s2, t2, e2, x2);
    CHECK(split.coef()[0] == Approx(m.coef()[0]).epsilon(1e-10));
    CHECK_THROWS_AS(CoxPH().fit(start, stop, VecXd::Zero(4), x), InvalidArgument);
}
