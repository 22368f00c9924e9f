#include <cmath>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/trc.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

TEST_CASE("trc: OpenSim walking file, values as written in the text", "[motion][trc]") {
    SHARED_DATA_OR_SKIP(path, "motion/opensim/subject01_walk1.trc");
    const Trial t = read_trc(path.string());
    CHECK(t.n_frames() == 151);
    CHECK(t.n_markers() == 41);
    CHECK(t.point_rate_hz == 60.0);
    CHECK(t.point_units == "mm");
    CHECK(t.first_frame == 1);
    CHECK(t.point_labels[0] == "R.ASIS");
    CHECK(t.points(0, 0) == 617.247620);
    CHECK(t.points(0, 5) == -88.909790);
    CHECK(t.points(1, 2) == 168.513170);
}

TEST_CASE("trc: comma-separated pyomeca file and AddBiomechanics drop jump", "[motion][trc]") {
    SHARED_DATA_OR_SKIP(path, "motion/pyomeca/markers.trc");
    const Trial t = read_trc(path.string());
    CHECK(t.n_frames() == 93);  // the fixture keeps 93 of the 652 frames its header declares
    CHECK(t.n_markers() == 51);
    CHECK(t.point_rate_hz == 100.0);
    CHECK(t.point_labels[1] == "ASISr");
    CHECK(t.points(0, 0) == 733.7041);
    const auto dj = test::shared_data("motion/addbiomechanics/DJ1.trc");
    const Trial d = read_trc(dj.string());
    CHECK(d.n_frames() == 240);
    CHECK(d.n_markers() == 51);
    CHECK(d.points(0, 0) == -1104.12540);
}

TEST_CASE("trc: write -> read is exact, NaN kept", "[motion][trc]") {
    Trial t;
    t.point_labels = {"A", "B"};
    t.points.resize(3, 6);
    t.points << 0.1, 1.0 / 3.0, -2e-9, 4, 5, 6,
                1e10, std::nan(""), std::nan(""), 7, 8, 9,
                -0.0, 2, 3, 1.7976931348623157e308, 5e-324, 1;
    t.point_rate_hz = 120;
    t.first_frame = 7;
    const auto p = std::filesystem::temp_directory_path() / "sportsmed_rt.trc";
    write_trc(p.string(), t);
    const Trial r = read_trc(p.string());
    std::filesystem::remove(p);
    CHECK(r.point_labels == t.point_labels);
    CHECK(r.first_frame == 7);
    CHECK(r.point_rate_hz == 120);
    REQUIRE(r.points.rows() == 3);
    CHECK(std::isnan(r.points(1, 0)));  // a marker with a missing coordinate is missing
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 6; ++j)
            if (!(i == 1 && j < 3)) CHECK(r.points(i, j) == t.points(i, j));
}

TEST_CASE("trc/mot: malformed files raise FormatError naming file and line", "[motion][trc]") {
    const auto p = std::filesystem::temp_directory_path() / "sportsmed_bad.trc";
    {
        std::ofstream out(p);
        out << "PathFileType\t4\t(X/Y/Z)\tx\nDataRate\tUnits\n100\tmm\nFrame#\tTime\tA\t\t\n\t\tX1\tY1\tZ1\n1\t0\t1\tzz\t3\n";
    }
    try {
        read_trc(p.string());
        FAIL("expected FormatError");
    } catch (const FormatError& e) {
        CHECK(std::string(e.what()).find("line 6") != std::string::npos);
        CHECK(std::string(e.what()).find("sportsmed_bad.trc") != std::string::npos);
    }
    {
        std::ofstream out(p);
        out << "name\nversion=1\n";
    }
    CHECK_THROWS_AS(read_mot(p.string()), FormatError);
    std::filesystem::remove(p);
    CHECK_THROWS_AS(read_trc("/nonexistent.trc"), NotFound);
}

TEST_CASE("mot: OpenSim IK and GRF tables, comma-separated pyomeca file, round trip", "[motion][mot]") {
    SHARED_DATA_OR_SKIP(path, "motion/opensim/subject01_walk1_ik.mot");
    const MotTable ik = read_mot(path.string());
    CHECK(ik.name == "Coordinates");
    CHECK(ik.in_degrees());
    CHECK(ik.data.rows() == 211);
    CHECK(ik.data.cols() == 24);
    CHECK(ik.labels[0] == "time");
    CHECK(ik.column("hip_flexion_r")(0) == 19.18693645);
    CHECK(ik.column("time")(0) == 0.5);
    CHECK_THROWS_AS(ik.column("nope"), NotFound);
    const auto grf = test::shared_data("motion/opensim/subject01_walk1_grf.mot");
    const MotTable g = read_mot(grf.string());
    CHECK(g.data.rows() == 1501);
    CHECK(g.data.cols() == 19);
    CHECK(g.column("ground_force_vy")(0) == 745.4661142);
    const auto pk = test::shared_data("motion/pyomeca/inverse_kin.mot");
    const MotTable k = read_mot(pk.string());
    CHECK(k.data.rows() == 88);  // the fixture keeps 88 of the 250 rows its header declares
    CHECK(k.data.cols() == 26);
    CHECK(k.column("thorax_tilt")(0) == -27.90807185);

    const auto p = std::filesystem::temp_directory_path() / "sportsmed_rt.mot";
    write_mot(p.string(), ik);
    const MotTable r = read_mot(p.string());
    std::filesystem::remove(p);
    CHECK(r.labels == ik.labels);
    CHECK(r.in_degrees());
    CHECK(r.data == ik.data);
}
