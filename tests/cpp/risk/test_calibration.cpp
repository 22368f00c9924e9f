#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/calibration.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;
using Catch::Detail::Approx;

TEST_CASE("calibration: PAVA pools violators by hand, and Platt's gradient vanishes", "[risk][calibration]") {
    VecXd s(5), y(5);
    s << 1, 2, 3, 4, 5;
    y << 0, 1, 0, 1, 1;  // 1, 0 at scores 2, 3 violate: pooled to 0.5, 0.5
    IsotonicCalibration iso;
    iso.fit(s, y);
    VecXd q(4);
    q << 0.0, 2.5, 3.5, 9.0;
    const VecXd p = iso.predict(q);
    CHECK(p[0] == 0.0);             // clipped below
    CHECK(p[1] == Approx(0.5));     // inside a pooled block
    CHECK(p[2] == Approx(0.75));    // halfway between 0.5 and 1
    CHECK(p[3] == 1.0);             // clipped above

    VecXd sc(6), yy(6);
    sc << -2, -1, 0, 0.5, 1, 2;
    yy << 0, 0, 1, 0, 1, 1;
    PlattCalibration pl;
    pl.fit(sc, yy);
    const double tp = 4.0 / 5.0, tn = 1.0 / 5.0;  // (N+ + 1)/(N+ + 2), 1/(N- + 2)
    double ga = 0, gb = 0;
    const VecXd pp = pl.predict(sc);
    for (int i = 0; i < 6; ++i) {
        const double t = yy[i] == 1 ? tp : tn;
        ga += (pp[i] - t) * sc[i];
        gb += pp[i] - t;
    }
    CHECK(std::abs(ga) < 1e-10);
    CHECK(std::abs(gb) < 1e-10);
    CHECK(pl.slope() > 0);
}
