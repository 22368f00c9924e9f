// Zeni et al. (2008) gait events on constructed trajectories with a known answer.

#include <cmath>

#include <catch2/catch.hpp>

#include "sportsmed/motion/events.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A walker going out along +x for 4 s, turning on the spot and coming back along -x for
// 4 s, at 100 Hz. Along the direction of travel the heel is 300 mm·sin(2π t / T) ahead of the
// pelvis and the toe 250 mm·sin(2π (t - 0.6 T) / T): the foot strikes are the heel's maxima
// (t = T/4 + kT), the foot offs the toe's minima (t = 0.6 T + 3T/4 + kT); T = 1.2 s puts
// them on whole frames.
struct OutAndBack {
    RowMatX3d pelvis, heel, toe;
    double rate = 100.0, period = 1.2;
    std::int64_t turn = 400;
    OutAndBack() {
        const std::int64_t n = 2 * turn;
        pelvis.resize(n, 3);
        heel.resize(n, 3);
        toe.resize(n, 3);
        for (std::int64_t i = 0; i < n; ++i) {
            const double t = i / rate;
            const double s = i < turn ? 1.0 : -1.0;  // direction of travel along x
            const double x = i < turn ? 1200.0 * t : 1200.0 * (2.0 * turn / rate - t);
            pelvis.row(i) << x, 0.0, 950.0;
            const double h = 300.0 * std::sin(2 * kPi * t / period);
            const double o = 250.0 * std::sin(2 * kPi * (t - 0.6 * period) / period);
            heel.row(i) << x + s * h, 100.0, 60.0;
            toe.row(i) << x + s * o, 110.0, 40.0;
        }
    }
};

// Frames of t0 + k·period within [lo, hi].
std::vector<std::int64_t> expected(double t0, double period, double rate, std::int64_t lo, std::int64_t hi) {
    std::vector<std::int64_t> out;
    for (double t = t0; t * rate <= hi; t += period)
        if (t * rate >= lo) out.push_back(std::llround(t * rate));
    return out;
}

std::vector<std::int64_t> within(const std::vector<std::int64_t>& v, std::int64_t lo, std::int64_t hi) {
    std::vector<std::int64_t> out;
    for (auto e : v)
        if (e >= lo && e <= hi) out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("events: Zeni finds the events of both passes of an out-and-back trial", "[motion][events]") {
    const OutAndBack w;
    const GaitEvents g = zeni_events(w.heel, w.toe, w.pelvis, w.rate);
    // Away from the turn (±0.6 s) every analytic event is found, to the frame, on both passes.
    for (auto [lo, hi] : {std::pair<std::int64_t, std::int64_t>{20, w.turn - 60}, {w.turn + 60, 2 * w.turn - 21}}) {
        const auto fs = expected(w.period / 4, w.period, w.rate, lo, hi);
        const auto fo = expected(0.35 * w.period, w.period, w.rate, lo, hi);
        CHECK(within(g.foot_strikes, lo, hi) == fs);
        CHECK(within(g.foot_offs, lo, hi) == fo);
        CHECK(fs.size() >= 2);
    }
}

TEST_CASE("events: Zeni reports no extremum at the edge of a marker gap", "[motion][events]") {
    OutAndBack w;
    const std::int64_t n = w.turn;  // the outward pass only
    RowMatX3d pelvis = w.pelvis.topRows(n), heel = w.heel.topRows(n), toe = w.toe.topRows(n);
    const GaitEvents all = zeni_events(heel, toe, pelvis, w.rate);
    REQUIRE(all.foot_strikes.size() >= 3);
    // Hide the heel from 5 frames before the second foot strike onwards for 30 frames: the
    // last frame before the gap is the largest value seen in its window, but it is where the
    // data stop, not a peak, so no strike is reported there (nor at the far edge).
    const std::int64_t strike = all.foot_strikes[1];
    heel.middleRows(strike - 5, 30).setConstant(std::nan(""));
    const GaitEvents gap = zeni_events(heel, toe, pelvis, w.rate);
    for (auto e : gap.foot_strikes) CHECK((e < strike - 25 || e > strike + 45));
    CHECK(gap.foot_strikes.size() == all.foot_strikes.size() - 1);
    // A gap after a peak, with both neighbours of the peak present, keeps the peak.
    RowMatX3d heel2 = w.heel.topRows(n);
    heel2.middleRows(strike + 3, 10).setConstant(std::nan(""));
    CHECK(zeni_events(heel2, toe, pelvis, w.rate).foot_strikes == all.foot_strikes);
}
