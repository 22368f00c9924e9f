// The header-only kernels (component `kernels`, target sportsmed::kernels): no sportsmed
// library is linked. Single-precision marker smoothing, a joint rotation and the EWMA
// acute:chronic workload ratio, each checked against its closed form. Exits non-zero when
// a check fails.

#include <cmath>
#include <cstdio>
#include <string>

#include <sportsmed/kernels.hpp>

namespace mk = sportsmed::motion::kernels;
namespace rk = sportsmed::risk::kernels;

int main() {
    int failures = 0;
    auto check = [&](bool ok, const char* what) {
        std::printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
        failures += ok ? 0 : 1;
    };

    // 1. Markers at 200 Hz in float, a 2nd-order Butterworth at 10 Hz run forward and back:
    //    a 10 Hz component comes out at |H|² = 1/2, a 1 Hz one nearly untouched.
    const float rate_hz = 200.0f, cutoff_hz = 10.0f;
    const auto filter = mk::butter<float>(2, cutoff_hz / (rate_hz / 2));
    Eigen::MatrixXf xyz(2000, 2);
    for (int i = 0; i < xyz.rows(); ++i) {
        const float t = static_cast<float>(i) / rate_hz;
        xyz(i, 0) = std::sin(2.0f * 3.14159265f * cutoff_hz * t);
        xyz(i, 1) = std::sin(2.0f * 3.14159265f * 1.0f * t);
    }
    const Eigen::MatrixXf smooth = mk::filtfilt(filter, xyz);
    const float gain10 = smooth.col(0).segment(500, 1000).cwiseAbs().maxCoeff();
    const float gain1 = smooth.col(1).segment(500, 1000).cwiseAbs().maxCoeff();
    std::printf("filtfilt gain at 10 Hz %.4f, at 1 Hz %.4f\n", gain10, gain1);
    check(std::abs(gain10 - 0.5f) < 2e-3f, "10 Hz attenuated to 1/2 (-6 dB after two passes)");
    check(std::abs(gain1 - 1.0f) < 2e-3f, "1 Hz passes");

    // 2. A knee rotation of 40° flexion, 5° valgus, 10° internal rotation (intrinsic YXZ).
    const double deg = 3.14159265358979323846 / 180.0;
    const Eigen::Vector3d truth(40 * deg, 5 * deg, 10 * deg);
    const Eigen::Matrix3d knee = mk::euler_to_matrix(std::string("YXZ"), truth);
    const Eigen::Vector3d back = mk::matrix_to_euler(std::string("YXZ"), knee);
    check((back - truth).cwiseAbs().maxCoeff() < 1e-12, "YXZ angles round-trip through the matrix");
    check((mk::grood_suntay(Eigen::Matrix3d::Identity().eval(), knee) - truth).cwiseAbs().maxCoeff() < 1e-12,
          "Grood & Suntay angles equal the YXZ angles");

    // 3. Four weeks at 300 AU/day, then one at 450: EWMA ACWR (Williams et al. 2017) on the
    //    7th heavy day is (450 − 150·0.75⁷) / (450 − 150·(27/29)⁷).
    Eigen::VectorXf load(35);
    load.head(28).setConstant(300.0f);
    load.tail(7).setConstant(450.0f);
    const Eigen::VectorXf acwr = rk::ewma_acwr(load, 7, 28);
    const double expected = (450 - 150 * std::pow(0.75, 7)) / (450 - 150 * std::pow(27.0 / 29.0, 7));
    std::printf("EWMA ACWR after a week at +50 %%: %.4f (closed form %.4f)\n", acwr[34], expected);
    check(std::abs(acwr[34] - expected) < 1e-5, "EWMA ACWR matches the closed form");
    return failures == 0 ? 0 : 1;
}
