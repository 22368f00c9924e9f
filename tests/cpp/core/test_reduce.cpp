#include <cmath>
#include <limits>
#include <random>

#include <catch2/catch.hpp>

#include "sportsmed/core/parallel.hpp"
#include "sportsmed/core/reduce.hpp"

using namespace sportsmed;

TEST_CASE("reduce: nanmean/nanstd of a known table", "[core][reduce]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    RowMatXd x(5, 3);
    x << 1, nan, 2,
         2, nan, 4,
         3, nan, nan,
         4, nan, 8,
         nan, nan, 6;
    const VecXd m = nanmean_columns(x);
    CHECK(m[0] == Approx(2.5).epsilon(1e-15));
    CHECK(std::isnan(m[1]));
    CHECK(m[2] == Approx(5.0).epsilon(1e-15));
    const VecXd s0 = nanstd_columns(x, 0);
    CHECK(s0[0] == Approx(std::sqrt(1.25)).epsilon(1e-14));  // population sd of 1..4
    const VecXd s1 = nanstd_columns(x, 1);
    CHECK(s1[0] == Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-14));
    CHECK(s1[2] == Approx(std::sqrt(20.0 / 3.0)).epsilon(1e-14));  // {2,4,8,6}
    const VecXi64 c = count_valid_columns(x);
    CHECK(c[0] == 4);
    CHECK(c[1] == 0);
    CHECK(c[2] == 4);
}

TEST_CASE("reduce: result is independent of the thread count", "[core][reduce]") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(3.0, 2.0);
    RowMatXd x(200001, 4);
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j)
            x(i, j) = (i % 17 == static_cast<Eigen::Index>(j)) ? std::nan("") : normal(rng);
    const int saved = num_threads();
    set_num_threads(1);
    const VecXd m1 = nanmean_columns(x);
    set_num_threads(4);
    const VecXd m4 = nanmean_columns(x);
    set_num_threads(saved);
    CHECK((m1.array() == m4.array()).all());  // bitwise: fixed blocks, fixed order
    for (Eigen::Index j = 0; j < 4; ++j) CHECK(m1[j] == Approx(3.0).margin(0.02));
}

TEST_CASE("reduce: strided views (a column block of a bigger matrix)", "[core][reduce]") {
    RowMatXd big(3, 4);
    big << 1, 2, 3, 4,
           5, 6, 7, 8,
           9, 10, 11, 12;
    const VecXd m = nanmean_columns(big.rightCols(2));
    CHECK(m[0] == Approx(7.0));
    CHECK(m[1] == Approx(8.0));
}
