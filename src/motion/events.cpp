#include "sportsmed/motion/events.hpp"

#include <cmath>

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

}  // namespace sportsmed::motion
