#pragma once
/// @file
/// Gait cycles: time normalisation to 0-100 % and spatio-temporal parameters.

#include <cstdint>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::motion {

/// Time-normalises each cycle [strikes[i], strikes[i+1]] of @p signal to @p points samples
/// (0 … 100 % of the cycle, linear interpolation between frames).
/// @param signal  frames × channels
/// @param strikes increasing frame indices (fractional allowed) of one foot's strikes
/// @return (cycles · points) × channels: cycle c occupies rows [c·points, (c+1)·points)
/// @throws InvalidArgument for fewer than two strikes, strikes out of range or not increasing.
RowMatXd normalize_cycles(const RowMatXdCRef& signal, const std::vector<double>& strikes, int points = 101);

/// Spatio-temporal parameters of one foot from its strikes and offs (frame indices) and its
/// heel trajectory (frames × 3, mm), the progression being the heel's displacement between
/// strikes.
struct SpatioTemporal {
    double stride_time_s = 0;      ///< mean strike-to-strike time
    double cadence_steps_per_min = 0;  ///< 2 × 60 / stride time
    double stance_fraction = 0;    ///< mean (off − strike) / stride time
    double stride_length_m = 0;    ///< mean heel displacement between strikes
    double speed_m_per_s = 0;      ///< stride length / stride time
    int strides = 0;
};

/// Computes SpatioTemporal. @throws InvalidArgument for fewer than two strikes.
SpatioTemporal spatio_temporal(const std::vector<double>& strikes, const std::vector<double>& offs,
                               const RowMatX3dCRef& heel_mm, double rate_hz);

}  // namespace sportsmed::motion
