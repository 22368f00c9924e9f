#pragma once
// Reads every part of a motion::Trial (fuzz targets C3D, TRC).

#include "fuzz_common.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::fuzz {

inline void consume_trial(const motion::Trial& t) {
    consume_matrix(t.points);
    consume_matrix(t.residuals);
    consume_matrix(t.analogs);
    consume(static_cast<double>(t.point_labels.size() + t.point_descriptions.size() + t.analog_labels.size() +
                                t.analog_units.size() + t.warnings.size() + t.point_units.size()));
    consume(t.point_rate_hz + t.analog_rate_hz + t.time_offset_s + static_cast<double>(t.first_frame));
    for (const auto& e : t.events) consume(e.time_s + static_cast<double>(e.label.size() + e.context.size()));
    for (const auto& fp : t.force_plates) {
        consume_matrix(fp.corners);
        consume_matrix(fp.force);
        consume_matrix(fp.moment);
        consume_matrix(fp.cop);
        consume_matrix(fp.free_moment);
    }
    // Columns and labels must agree: a reader that got this wrong would send later code
    // (marker(), the Python view frames x markers x 3) out of bounds.
    if (t.points.size() != 0 && t.points.cols() != 3 * t.n_markers()) {
        std::fprintf(stderr, "fuzz: %ld point columns for %ld markers\n", static_cast<long>(t.points.cols()),
                     static_cast<long>(t.n_markers()));
        std::abort();
    }
    if (t.n_frames() > 0) consume(t.frame_time_s(t.n_frames() - 1));
}

}  // namespace sportsmed::fuzz
