#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/athlete_table.hpp"
#include "sportsmed/risk/labels.hpp"
#include "sportsmed/risk/workload.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;
using Catch::Detail::Approx;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
}

TEST_CASE("workload: rolling mean/sum/std of a ramp equal their closed forms", "[risk][workload]") {
    VecXd x(40);
    for (int i = 0; i < 40; ++i) x[i] = i;  // L_t = t
    const VecXd m = rolling_mean(x, 7), s = rolling_sum(x, 7), sd = rolling_std(x, 7);
    for (int t = 0; t < 6; ++t) CHECK(std::isnan(m[t]));
    for (int t = 6; t < 40; ++t) {
        CHECK(m[t] == Approx(t - 3.0).epsilon(1e-14));        // mean of t-6..t
        CHECK(s[t] == Approx(7.0 * (t - 3.0)).epsilon(1e-14));
        CHECK(sd[t] == Approx(std::sqrt(28.0 / 6.0)).epsilon(1e-14));  // SD of 7 consecutive ints
    }
    // min_periods counts only observed days.
    VecXd y = x;
    y[10] = kNaN;
    const VecXd m3 = rolling_mean(y, 7, 3);
    CHECK(m3[12] == Approx((6 + 7 + 8 + 9 + 11 + 12) / 6.0));  // days 6..12 but 10
    CHECK(std::isnan(rolling_mean(y, 7)[12]));  // default: the whole window
}

TEST_CASE("workload: EWMA of a step equals 1 - (1 - lambda)^t (Williams 2017)", "[risk][workload]") {
    VecXd x = VecXd::Ones(30);
    x[0] = 0.0;
    const VecXd e = ewma(x, 7);
    const double lambda = 2.0 / 8.0;
    for (int t = 0; t < 30; ++t) CHECK(e[t] == Approx(1.0 - std::pow(1.0 - lambda, t)).epsilon(1e-13));
    // a missing day keeps the average and lets its weight decay (pandas adjust=False)
    VecXd z(3);
    z << 0.0, kNaN, 1.0;
    const VecXd ez = ewma(z, 7);
    CHECK(ez[1] == 0.0);
    const double old_w = (1 - lambda) * (1 - lambda);
    CHECK(ez[2] == Approx(lambda / (old_w + lambda)).epsilon(1e-14));
    CHECK_THROWS_AS(ewma(z, 0), InvalidArgument);
}

TEST_CASE("workload: constant load gives ACWR 1, undefined monotony, linear totals", "[risk][workload]") {
    const VecXd x = VecXd::Constant(60, 300.0);
    const RowMatXd f = workload_features(x);
    const auto names = workload_feature_names();
    REQUIRE(f.cols() == static_cast<Eigen::Index>(names.size()));
    const auto col = [&](const std::string& n) {
        return static_cast<Eigen::Index>(std::find(names.begin(), names.end(), n) - names.begin());
    };
    for (int t = 34; t < 60; ++t) {
        CHECK(f(t, col("acwr_coupled")) == Approx(1.0));
        CHECK(f(t, col("acwr_uncoupled")) == Approx(1.0));
        CHECK(f(t, col("ewma_acwr")) == Approx(1.0));
        CHECK(std::isnan(f(t, col("monotony"))));  // SD 0: Foster's monotony undefined
        CHECK(f(t, col("week_change")) == 0.0);
        CHECK(f(t, col("load_28d")) == Approx(28 * 300.0));
    }
    CHECK(std::isnan(f(26, col("acwr_uncoupled"))));
    CHECK(f(59, col("load_total")) == Approx(60 * 300.0));
    CHECK_THROWS_AS(workload_features(x, WorkloadOptions{28, 7, 0}), InvalidArgument);
}

TEST_CASE("workload: panel rows must be contiguous per athlete", "[risk][workload]") {
    VecXi64 a(4);
    a << 0, 1, 0, 1;
    CHECK_THROWS_AS(workload_features_panel(a, VecXd::Ones(4)), InvalidArgument);
    a << 0, 0, 1, 1;
    const RowMatXd p = workload_features_panel(a, VecXd::Ones(4), WorkloadOptions{1, 2, 0});
    CHECK(p.rows() == 4);
    CHECK(std::isnan(p(2, 1)));  // athlete 1's first day has no 2-day window of its own
}

TEST_CASE("labels: injury within h days, excluded while injured, censored at the end", "[risk][labels]") {
    VecXi64 a(10);
    a << 0, 0, 0, 0, 0, 0, 1, 1, 1, 1;
    VecXd inj(10);
    inj << 0, 0, 0, 1, 1, 0, 0, 0, 0, 1;
    const VecXd y = injury_within(a, inj, 2);
    CHECK(y[0] == 0.0);       // onset on day 3 is 3 days ahead
    CHECK(y[1] == 1.0);
    CHECK(y[2] == 1.0);
    CHECK(std::isnan(y[3]));  // injured
    CHECK(std::isnan(y[4]));
    CHECK(std::isnan(y[5]));  // record ends: days 6, 7 unknown
    CHECK(y[6] == 0.0);
    CHECK(y[7] == 1.0);
    CHECK(y[8] == 1.0);
    CHECK(std::isnan(y[9]));
}

TEST_CASE("athlete table: ISO days, CSV reading, complete days", "[risk][table]") {
    CHECK(parse_iso_day("1970-01-01") == 0);
    CHECK(parse_iso_day("2020-01-01") == 18262);
    CHECK(format_iso_day(18262 + 59) == "2020-02-29");
    CHECK_THROWS_AS(parse_iso_day("2021-02-29"), FormatError);
    CHECK_THROWS_AS(parse_iso_day("yesterday"), FormatError);

    const auto path = std::filesystem::temp_directory_path() / "sportsmed_risk_table.csv";
    {
        std::ofstream f(path);
        f << "date,athlete,load,team\n2020-01-03,b,5,x\n2020-01-01,b,1,x\n2020-01-02,a,,x\n2020-01-05,a,7,x\n";
    }
    const AthleteTable t = read_athlete_csv(path.string());
    REQUIRE(t.athletes == std::vector<std::string>{"a", "b"});
    REQUIRE(t.columns == std::vector<std::string>{"load"});  // 'team' is not numeric
    CHECK(t.day[0] == parse_iso_day("2020-01-02"));
    CHECK(std::isnan(t.values(0, 0)));
    CHECK(t.values(2, 0) == 1.0);  // b sorted by day
    const AthleteTable z = complete_days(t, MissingDay::Zero, "load");
    REQUIRE(z.athlete.size() == 7);  // a: 4 days, b: 3 days
    CHECK(z.values(1, 0) == 0.0);
    const AthleteTable m = complete_days(t, MissingDay::Missing, "load");
    CHECK(std::isnan(m.values(1, 0)));
    CHECK_THROWS_AS(read_athlete_csv(path.string(), "player"), NotFound);
    CHECK_THROWS_AS(read_athlete_csv(path.string(), "athlete", "date", {"team"}), FormatError);
    CHECK_THROWS_AS(read_athlete_csv("/no/such/file.csv"), NotFound);
    std::filesystem::remove(path);
}

TEST_CASE("athlete table: spreadsheet exports (BOM, quotes, semicolons, tokens, decimal commas)", "[risk][table]") {
    const auto path = std::filesystem::temp_directory_path() / "sportsmed_risk_messy.csv";
    const auto write = [&](const std::string& text) {
        std::ofstream f(path, std::ios::binary);
        f << text;
    };
    write("\xEF\xBB\xBF" "athlete,date,load,injury,team\n"
          "a,2020-01-01,\"1.5\",0,\"Oslo, \"\"N\"\"\"\n"
          "a,2020-01-02,N/A,#n/a,x\n"
          "b,2020-01-01,-,NULL,y\n");
    AthleteTable t = read_athlete_csv(path.string());
    REQUIRE(t.columns == std::vector<std::string>{"load", "injury"});
    CHECK(t.values(0, 0) == 1.5);
    CHECK(std::isnan(t.values(1, 0)));
    CHECK(std::isnan(t.values(2, 1)));

    write("athlete;date;load\na;2020-01-01;2,5\n");
    CsvOptions comma;
    comma.decimal = ',';
    t = read_athlete_csv(path.string(), "athlete", "date", {}, comma);
    CHECK(t.values(0, 0) == 2.5);
    CHECK_THROWS_WITH(read_athlete_csv(path.string()), Catch::Contains("decimal comma"));

    write("athlete,date,load\na,2020-01-01,1\na,2020-01-02,abc\n");
    CHECK_THROWS_WITH(read_athlete_csv(path.string()),
                      Catch::Contains("line 3") && Catch::Contains("'load'"));
    write("athlete,date,load,injury\na,2020-01-01,-1,3\n");
    CsvOptions ranges;
    ranges.nonnegative = {"load"};
    CHECK_THROWS_WITH(read_athlete_csv(path.string(), "athlete", "date", {}, ranges),
                      Catch::Contains("cannot be negative"));
    ranges.nonnegative.clear();
    ranges.binary = {"injury"};
    CHECK_THROWS_WITH(read_athlete_csv(path.string(), "athlete", "date", {}, ranges),
                      Catch::Contains("injury code 0 or 1"));
    write("athlete,date,load\n");
    CHECK_THROWS_AS(read_athlete_csv(path.string()), FormatError);
    std::filesystem::remove(path);
}

TEST_CASE("athlete table: SoccerMon reads as 50 players x 731 days", "[risk][table][shared]") {
    SHARED_DATA_OR_SKIP(path, "risk/soccermon/master_dataset.csv");
    const AthleteTable t = read_athlete_csv(path.string(), "player_id", "date");
    CHECK(t.athletes.size() == 50);
    CHECK(t.athlete.size() == 36550);
    const AthleteTable g = complete_days(t, MissingDay::Zero, "daily_load");
    CHECK(g.athlete.size() == 36550);  // already complete
}
