#include "sportsmed/motion/gait.hpp"

#include <cmath>
#include <limits>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {

RowMatXd normalize_cycles(const RowMatXdCRef& x, const std::vector<double>& strikes, int points) {
    SPORTSMED_CHECK(strikes.size() >= 2, "normalize_cycles: need at least two strikes, got {}", strikes.size());
    SPORTSMED_CHECK(points >= 2, "normalize_cycles: points {} must be >= 2", points);
    const double last = double(x.rows() - 1);
    for (std::size_t i = 0; i < strikes.size(); ++i) {
        SPORTSMED_CHECK(strikes[i] >= 0 && strikes[i] <= last, "normalize_cycles: strike {} at frame {} is outside 0..{}",
                        i, strikes[i], last);
        SPORTSMED_CHECK(i == 0 || strikes[i] > strikes[i - 1], "normalize_cycles: strikes must increase (index {})", i);
    }
    const std::size_t cycles = strikes.size() - 1;
    RowMatXd out(static_cast<Eigen::Index>(cycles) * points, x.cols());
    for (std::size_t c = 0; c < cycles; ++c) {
        for (int k = 0; k < points; ++k) {
            const double pos = strikes[c] + (strikes[c + 1] - strikes[c]) * k / double(points - 1);
            const auto j = std::min<Eigen::Index>(static_cast<Eigen::Index>(std::floor(pos)), x.rows() - 1);
            const double w = pos - double(j);
            const Eigen::Index row = static_cast<Eigen::Index>(c) * points + k;
            if (j + 1 >= x.rows() || w == 0.0) out.row(row) = x.row(j);
            else out.row(row) = (1.0 - w) * x.row(j) + w * x.row(j + 1);
        }
    }
    return out;
}

SpatioTemporal spatio_temporal(const std::vector<double>& strikes, const std::vector<double>& offs,
                               const RowMatX3dCRef& heel, double rate_hz) {
    SPORTSMED_CHECK(strikes.size() >= 2, "spatio_temporal: need at least two strikes, got {}", strikes.size());
    SPORTSMED_CHECK(rate_hz > 0, "spatio_temporal: rate {} Hz must be positive", rate_hz);
    SpatioTemporal s;
    double time = 0, length = 0, stance = 0;
    int n_stance = 0, n_length = 0;
    auto at = [&](double f) -> Eigen::Vector3d {
        const auto j = static_cast<Eigen::Index>(std::lround(f));
        SPORTSMED_CHECK(j >= 0 && j < heel.rows(), "spatio_temporal: frame {} outside the heel trajectory", f);
        return heel.row(j).transpose();
    };
    for (std::size_t i = 0; i + 1 < strikes.size(); ++i) {
        const double dt = (strikes[i + 1] - strikes[i]) / rate_hz;
        time += dt;
        const Eigen::Vector3d d = at(strikes[i + 1]) - at(strikes[i]);
        if (d.allFinite()) {
            length += std::hypot(d.x(), d.y()) / 1000.0;
            ++n_length;
        }
        for (double o : offs)
            if (o > strikes[i] && o < strikes[i + 1]) {
                stance += (o - strikes[i]) / rate_hz / dt;
                ++n_stance;
                break;
            }
    }
    s.strides = static_cast<int>(strikes.size() - 1);
    s.stride_time_s = time / s.strides;
    s.cadence_steps_per_min = 120.0 / s.stride_time_s;
    s.stance_fraction = n_stance ? stance / n_stance : std::numeric_limits<double>::quiet_NaN();
    s.stride_length_m = n_length ? length / n_length : std::numeric_limits<double>::quiet_NaN();
    s.speed_m_per_s = s.stride_length_m / s.stride_time_s;
    return s;
}

}  // namespace sportsmed::motion
