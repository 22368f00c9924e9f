#include "sportsmed/motion/events.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {

std::vector<ContactInterval> detect_contacts(const VecXdCRef& fz, double on, double off, std::int64_t min_samples) {
    SPORTSMED_CHECK(off <= on, "detect_contacts: off threshold {} N exceeds on threshold {} N", off, on);
    std::vector<ContactInterval> out;
    const std::int64_t n = fz.size();
    bool loaded = false;
    std::int64_t start = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const double v = std::isnan(fz[i]) ? -INFINITY : fz[i];
        if (!loaded && v >= on) {
            loaded = true;
            start = i;
        } else if (loaded && v < off) {
            loaded = false;
            if (i - start >= min_samples) out.push_back({start, i});
        }
    }
    if (loaded && n - start >= min_samples) out.push_back({start, n});
    return out;
}

namespace {

// Frames i where x[i] is the largest value of x[i-w … i+w] (ties: the earliest; NaN samples
// skipped), the window lying inside the trial. Both neighbours must be finite: a maximum at
// the edge of a gap is where the data stop, not a peak (the true one may be in the gap).
std::vector<std::int64_t> window_maxima(const VecXd& x, std::int64_t w) {
    std::vector<std::int64_t> out;
    const std::int64_t n = x.size();
    for (std::int64_t i = w; i + w < n; ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(x[i - 1]) || !std::isfinite(x[i + 1])) continue;
        bool best = true;
        for (std::int64_t j = i - w; j <= i + w && best; ++j)
            if (j != i && std::isfinite(x[j]) && (x[j] > x[i] || (x[j] == x[i] && j < i))) best = false;
        if (best) out.push_back(i);
    }
    return out;
}

// Unit horizontal direction of progression at each frame: the pelvis's (x, y) displacement
// between the first and last frames with data within ±half frames. A trial walked out and
// back gets each pass's own direction; NaN where the pelvis has no data around the frame or
// does not move (at a turn).
RowMatX3d progression(const RowMatX3dCRef& pelvis, std::int64_t half) {
    const Eigen::Index n = pelvis.rows();
    std::vector<Eigen::Index> valid;
    for (Eigen::Index i = 0; i < n; ++i)
        if (pelvis.row(i).head<2>().allFinite()) valid.push_back(i);
    RowMatX3d dir = RowMatX3d::Constant(n, 3, std::numeric_limits<double>::quiet_NaN());
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto lo = std::lower_bound(valid.begin(), valid.end(), i - half);
        const auto hi = std::upper_bound(valid.begin(), valid.end(), i + half);
        if (lo == hi || *lo >= *(hi - 1)) continue;
        const Eigen::Vector2d d = (pelvis.row(*(hi - 1)) - pelvis.row(*lo)).head<2>().transpose();
        const double len = d.norm();
        if (!(len > 0.0)) continue;
        dir.row(i) << d.x() / len, d.y() / len, 0.0;
    }
    return dir;
}

}  // namespace

GaitEvents zeni_events(const RowMatX3dCRef& heel, const RowMatX3dCRef& toe, const RowMatX3dCRef& pelvis,
                       double rate_hz, double window_s) {
    const Eigen::Index n = pelvis.rows();
    SPORTSMED_CHECK(heel.rows() == n && toe.rows() == n, "zeni_events: trajectories differ in length");
    SPORTSMED_CHECK(rate_hz > 0 && window_s > 0, "zeni_events: rate and window must be positive");
    // The direction of progression frame by frame (Zeni's anterior axis), from the pelvis
    // displacement over about one stride (±0.5 s), so that each pass of a trial that turns
    // has its own.
    const RowMatX3d dir = progression(pelvis, std::max<std::int64_t>(1, std::llround(0.5 * rate_hz)));
    SPORTSMED_CHECK(dir.col(0).array().isFinite().any(), "zeni_events: the pelvis does not move horizontally");
    const VecXd heel_ahead = ((heel - pelvis).array() * dir.array()).rowwise().sum();
    const VecXd toe_behind = -((toe - pelvis).array() * dir.array()).rowwise().sum();
    const auto w = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::lround(window_s * rate_hz)));
    return GaitEvents{window_maxima(heel_ahead, w), window_maxima(toe_behind, w)};
}

GaitEvents zeni_events_from_trial(const Trial& t, const std::string& side, double window_s) {
    SPORTSMED_CHECK(side == "L" || side == "R", "zeni_events_from_trial: side '{}' is not L or R", side);
    std::string missing;
    // A heel label can exist and hold no data: take the first foot marker that is tracked.
    const std::string heel = first_tracked_marker(t, {side + "HEE", side + "ANK"}, "zeni_events_from_trial: heel");
    for (const std::string& m : {heel, side + "TOE"})
        if (!t.has_marker(m)) missing += (missing.empty() ? "" : ", ") + m;
    const bool sacr = t.has_marker("SACR");
    if (!sacr && !(t.has_marker("LPSI") && t.has_marker("RPSI")))
        missing += (missing.empty() ? "" : ", ") + std::string("SACR (or LPSI and RPSI)");
    SPORTSMED_CHECK(missing.empty(), "zeni_events_from_trial: missing markers {}", missing);
    const RowMatX3d pelvis = sacr ? t.marker("SACR") : RowMatX3d(0.5 * (t.marker("LPSI") + t.marker("RPSI")));
    return zeni_events(t.marker(heel), t.marker(side + "TOE"), pelvis, t.point_rate_hz, window_s);
}

}  // namespace sportsmed::motion
