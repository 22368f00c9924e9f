// Core: uses an installed sportsmed: prints build facts, runs a multi-threaded NaN-aware
// reduction and shows the error hierarchy. Exits non-zero if a result is wrong.

#include <cmath>
#include <iostream>
#include <limits>

#include <sportsmed/core.hpp>

int main() {
    std::cout << sportsmed::to_string(sportsmed::build_info());

    // A 3-marker-coordinate trajectory with a gap: the mean skips the NaN frames.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    sportsmed::RowMatX3d xyz(4, 3);
    xyz << 1, 10, 100,
           nan, nan, nan,
           3, 20, 300,
           5, 30, 200;
    const sportsmed::VecXd mean = sportsmed::nanmean_columns(xyz);
    std::cout << "nanmean: " << mean.transpose() << "\n";
    if (std::abs(mean[0] - 3.0) > 1e-12 || std::abs(mean[1] - 20.0) > 1e-12 ||
        std::abs(mean[2] - 200.0) > 1e-12) {
        std::cerr << "unexpected mean\n";
        return 1;
    }

    try {
        SPORTSMED_CHECK_AS(FormatError, false, "example: file '{}' is {} bytes short", "trial.c3d", 12);
    } catch (const sportsmed::Error& e) {
        std::cout << "caught sportsmed::Error: " << e.what() << "\n";
        return 0;
    }
    return 1;
}
