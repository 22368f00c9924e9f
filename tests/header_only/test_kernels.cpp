// The header-only kernels in float and double, in a program that links no sportsmed
// library (tests/CMakeLists.txt: Eigen's include directory and Catch2 only, with
// SPORTSMED_HEADER_ONLY so that every instantiation is compiled here). Each check is
// against an analytic reference.

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include "sportsmed/kernels.hpp"

#ifndef SPORTSMED_HEADER_ONLY
#error "this test must be compiled header-only"
#endif

namespace mk = sportsmed::motion::kernels;
namespace rk = sportsmed::risk::kernels;
namespace ik = sportsmed::imaging::kernels;
using sportsmed::motion::FilterKind;

namespace {

template <typename T>
constexpr T tol() {
    return std::is_same_v<T, float> ? T(2e-5) : T(1e-12);
}
constexpr double kPi = 3.14159265358979323846;

}  // namespace

TEMPLATE_TEST_CASE("kernels: Butterworth is -3 dB at its cutoff and unity at DC", "[kernels][motion]", float, double) {
    using T = TestType;
    for (int order : {1, 2, 4}) {
        for (T wn : {T(0.05), T(0.2), T(0.6)}) {
            INFO("order " << order << " wn " << wn);
            const auto lp = mk::butter<T>(order, wn, FilterKind::Lowpass);
            REQUIRE(lp.b.size() == std::size_t(order + 1));
            CHECK(std::abs(mk::magnitude_response(lp, wn) - T(1) / std::sqrt(T(2))) < 50 * tol<T>());
            CHECK(std::abs(mk::magnitude_response(lp, T(0)) - T(1)) < 50 * tol<T>());
            const auto hp = mk::butter<T>(order, wn, FilterKind::Highpass);
            CHECK(std::abs(mk::magnitude_response(hp, wn) - T(1) / std::sqrt(T(2))) < 50 * tol<T>());
            CHECK(std::abs(mk::magnitude_response(hp, T(1)) - T(1)) < 50 * tol<T>());
        }
    }
}

TEMPLATE_TEST_CASE("kernels: first-order Butterworth coefficients are the bilinear transform's", "[kernels][motion]",
                   float, double) {
    using T = TestType;
    const T wn = T(0.3);
    // H(s) = 1 / (1 + s/Ω) with Ω = tan(π wn / 2) after pre-warping: b = K/(1+K) (1, 1), a = (1, (K-1)/(K+1)).
    const T k = std::tan(T(kPi) * wn / T(2));
    const auto f = mk::butter<T>(1, wn);
    CHECK(std::abs(f.b[0] - k / (1 + k)) < 10 * tol<T>());
    CHECK(std::abs(f.b[1] - k / (1 + k)) < 10 * tol<T>());
    CHECK(f.a[0] == T(1));
    CHECK(std::abs(f.a[1] - (k - 1) / (k + 1)) < 10 * tol<T>());
    CHECK_THROWS_AS(mk::butter<T>(0, wn), sportsmed::InvalidArgument);
    CHECK_THROWS_AS(mk::butter<T>(2, T(1)), sportsmed::InvalidArgument);
}

TEMPLATE_TEST_CASE("kernels: filtfilt halves a sine at the cutoff and keeps a constant, on any Eigen expression",
                   "[kernels][motion]", float, double) {
    using T = TestType;
    const T wn = T(0.1);  // cutoff at 0.1 × Nyquist: a period of 20 samples
    const auto f = mk::butter<T>(2, wn);
    const int n = 2000;
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> x(n, 2);
    for (int i = 0; i < n; ++i) {
        x(i, 0) = std::sin(T(kPi) * wn * T(i));  // ω = π·wn rad/sample
        x(i, 1) = T(3.5);
    }
    // A column block (an expression, not a plain matrix) and the whole matrix.
    const auto y0 = mk::filtfilt(f, x.col(0));
    const auto y = mk::filtfilt(f, x);
    REQUIRE(y.rows() == n);
    REQUIRE(y.cols() == 2);
    CHECK((y.col(0) - y0).cwiseAbs().maxCoeff() == T(0));
    // Zero phase, |H|² = 1/2: the output in the middle is half the input, sample for sample.
    const auto mid = (y.col(0) - T(0.5) * x.col(0)).segment(500, 1000);
    CHECK(mid.cwiseAbs().maxCoeff() < (std::is_same_v<T, float> ? T(1e-4) : T(1e-9)));
    CHECK((y.col(1).array() - T(3.5)).abs().maxCoeff() < 100 * tol<T>());
    // An array expression goes through too.
    const Eigen::Array<T, Eigen::Dynamic, 1> a = x.col(1).array() * T(2);
    const auto ya = mk::filtfilt(f, a);
    CHECK((ya - T(7)).abs().maxCoeff() < 100 * tol<T>());
}

TEMPLATE_TEST_CASE("kernels: every Cardan/Euler sequence round-trips and matches the elementary rotations",
                   "[kernels][motion]", float, double) {
    using T = TestType;
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (const char* seq : {"XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX", "XYX", "XZX", "YXY", "YZY", "ZXZ", "ZYZ",
                            "xyz", "xzy", "yxz", "yzx", "zxy", "zyx", "xyx", "xzx", "yxy", "yzy", "zxz", "zyz"}) {
        const std::string s = seq;
        const bool proper = s[0] == s[2];
        for (int trial = 0; trial < 50; ++trial) {
            // Angles inside scipy's ranges and away from gimbal lock.
            mk::Vector3<T> ang(T(2.8 * u(rng)), T(proper ? 1.57 + 1.3 * u(rng) : 1.3 * u(rng)), T(2.8 * u(rng)));
            const mk::Matrix3<T> r = mk::euler_to_matrix(s, ang);
            CHECK((r.transpose() * r - mk::Matrix3<T>::Identity()).cwiseAbs().maxCoeff() < 10 * tol<T>());
            const mk::Vector3<T> back = mk::matrix_to_euler(s, r);
            INFO(s << " " << ang.transpose() << " -> " << back.transpose());
            CHECK((back - ang).cwiseAbs().maxCoeff() < (std::is_same_v<T, float> ? T(2e-3) : T(1e-9)));
        }
    }
    // Intrinsic XYZ with only the first angle: R_x(a) written out.
    const T a = T(0.7);
    const mk::Matrix3<T> rx = mk::euler_to_matrix(std::string("XYZ"), mk::Vector3<T>(a, 0, 0));
    mk::Matrix3<T> expected;
    expected << 1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a);
    CHECK((rx - expected).cwiseAbs().maxCoeff() < 10 * tol<T>());
    CHECK_THROWS_AS(mk::parse_euler_sequence("XXY"), sportsmed::InvalidArgument);
    CHECK_THROWS_AS(mk::parse_euler_sequence("XyZ"), sportsmed::InvalidArgument);
}

TEMPLATE_TEST_CASE("kernels: Grood & Suntay angles are the intrinsic YXZ angles of the relative rotation",
                   "[kernels][motion]", float, double) {
    using T = TestType;
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int trial = 0; trial < 100; ++trial) {
        const mk::Matrix3<T> proximal =
            mk::euler_to_matrix(std::string("ZXY"), mk::Vector3<T>(T(3 * u(rng)), T(1.2 * u(rng)), T(3 * u(rng))));
        const mk::Vector3<T> truth(T(1.5 * u(rng)), T(0.6 * u(rng)), T(0.8 * u(rng)));  // flexion, ab/ad, rotation
        const mk::Matrix3<T> distal = proximal * mk::euler_to_matrix(std::string("YXZ"), truth);
        const mk::Vector3<T> gs = mk::grood_suntay(proximal, distal);
        CHECK((gs - truth).cwiseAbs().maxCoeff() < (std::is_same_v<T, float> ? T(1e-4) : T(1e-12)));
        // Row-major frames (as the compiled API stores them) give the same angles.
        const Eigen::Matrix<T, 3, 3, Eigen::RowMajor> pr = proximal, dr = distal;
        CHECK((mk::grood_suntay(pr, dr) - gs).cwiseAbs().maxCoeff() < (std::is_same_v<T, float> ? T(1e-5) : T(1e-14)));
    }
    mk::Matrix3<T> bad = mk::Matrix3<T>::Identity();
    bad(0, 0) = std::numeric_limits<T>::quiet_NaN();
    CHECK(mk::grood_suntay(bad, mk::Matrix3<T>::Identity()).array().isNaN().all());
}

TEMPLATE_TEST_CASE("kernels: rolling and EWMA ACWR of a load step follow their closed forms", "[kernels][risk]",
                   float, double) {
    using T = TestType;
    // 28 days at 100 then 28 days at 200 (arbitrary units).
    Eigen::Matrix<T, Eigen::Dynamic, 1> load(56);
    load.head(28).setConstant(100);
    load.tail(28).setConstant(200);
    const auto rolling = rk::rolling_acwr(load, 7, 28);
    CHECK(std::isnan(rolling[26]));  // fewer than 28 days: NaN (min_periods = window)
    CHECK(rolling[27] == T(1));      // a constant month: exactly 1
    // Day 34: 7 days at 200 in the acute window; the chronic one holds 21 × 100 + 7 × 200.
    CHECK(std::abs(rolling[34] - T(200) / T((21 * 100 + 7 * 200) / 28.0)) < 10 * tol<T>());
    // EWMA (λ = 2 / (span + 1)) after a step from c to d at day T: d + (c − d)(1 − λ)^(t − T + 1).
    const auto ewma = rk::ewma_acwr(load, 7, 28);
    for (int t : {27, 28, 30, 40, 55}) {
        auto closed = [&](int span) {
            const double lambda = 2.0 / (span + 1.0);
            return t < 28 ? 100.0 : 200.0 + (100.0 - 200.0) * std::pow(1.0 - lambda, t - 28 + 1);
        };
        const double expected = closed(7) / closed(28);
        INFO("day " << t);
        CHECK(std::abs(double(ewma[t]) - expected) < (std::is_same_v<T, float> ? 1e-5 : 1e-12));
    }
    // Sample SD of 1, 2, 3, 4 (ddof = 1) is √(5/3); a rolling sum of the same.
    const Eigen::Matrix<T, 4, 1> v(1, 2, 3, 4);
    CHECK(std::abs(rk::rolling_std(v, 4)[3] - std::sqrt(T(5) / T(3))) < 10 * tol<T>());
    CHECK(rk::rolling_sum(v, 2)[3] == T(7));
    // A missing day: pandas adjust=False — the next load weighs λ / (λ + (1 − λ)²).
    const Eigen::Matrix<T, 3, 1> gap(10, std::numeric_limits<T>::quiet_NaN(), 20);
    const double lambda = 2.0 / 8.0;
    const double w = lambda / (lambda + (1 - lambda) * (1 - lambda));
    CHECK(std::abs(double(rk::ewma(gap, 7)[2]) - (10 * (1 - w) + 20 * w)) < (std::is_same_v<T, float> ? 1e-5 : 1e-12));
    CHECK_THROWS_AS(rk::ewma_acwr(load, 28, 7), sportsmed::InvalidArgument);
}

TEMPLATE_TEST_CASE("kernels: Dice and Jaccard of two offset squares, soft Dice of a half-confident map",
                   "[kernels][imaging]", float, double) {
    using T = TestType;
    // Two 10 × 10 squares of label 3 overlapping in a 10 × 5 band.
    Eigen::Array<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> gt = decltype(gt)::Zero(20, 30);
    Eigen::Array<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> pred = decltype(pred)::Zero(20, 30);
    gt.block(2, 2, 10, 10) = 3;
    pred.block(2, 7, 10, 10) = 3;
    CHECK(ik::dice<T>(gt, pred, 3) == T(0.5));
    CHECK(std::abs(ik::jaccard<T>(gt, pred, 3) - T(1) / T(3)) < tol<T>());
    CHECK(std::isnan(ik::dice<T>(gt, pred, 1)));  // label absent from both
    const auto c = ik::overlap_counts(gt, pred, 3);
    CHECK(c.gt == 100);
    CHECK(c.both == 50);
    // Soft Dice: p = 0.5 on the reference square (100 voxels), 0 elsewhere: 2·50 / (50 + 100).
    const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> p = (gt == 3).template cast<T>() * T(0.5);
    const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> g = (gt == 3).template cast<T>();
    CHECK(std::abs(ik::soft_dice(p, g) - T(2.0 * 50 / 150)) < tol<T>());
    CHECK_THROWS_AS(ik::dice<T>(gt, pred.topRows(5), 3), sportsmed::InvalidArgument);
}
