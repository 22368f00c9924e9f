#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "support/shared_data.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

std::vector<std::uint8_t> file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Largest |a - b| over samples valid in both; also checks that NaN patterns agree.
double max_point_difference(const Trial& a, const Trial& b) {
    REQUIRE(a.points.rows() == b.points.rows());
    REQUIRE(a.points.cols() == b.points.cols());
    double worst = 0.0;
    Eigen::Index nan_mismatch = 0;
    for (Eigen::Index i = 0; i < a.points.size(); ++i) {
        const double x = a.points.data()[i], y = b.points.data()[i];
        nan_mismatch += std::isnan(x) != std::isnan(y);
        if (!std::isnan(x) && !std::isnan(y)) worst = std::max(worst, std::abs(x - y));
    }
    CHECK(nan_mismatch == 0);
    return worst;
}

void check_same_trial_across_encodings(const std::vector<std::string>& names) {
    const auto first = test::shared_data("motion/c3d/" + names[0]);
    if (!std::filesystem::exists(first)) {
        WARN("skipped: shared data file " << first.string() << " is absent");
        return;
    }
    const C3d ref = read_c3d(first.string());
    const double step = std::abs(ref.parameter("POINT", "SCALE").as_double());
    REQUIRE(step > 0);
    REQUIRE(ref.trial.n_frames() > 0);
    for (std::size_t k = 1; k < names.size(); ++k) {
        INFO(names[k]);
        const C3d c = read_c3d(test::shared_data("motion/c3d/" + names[k]).string());
        CHECK(c.trial.point_labels == ref.trial.point_labels);
        // One int16 step of POINT:SCALE (float storage rounds differently from int16).
        CHECK(max_point_difference(ref.trial, c.trial) <= step * (1 + 1e-5));
        REQUIRE(c.trial.analogs.rows() == ref.trial.analogs.rows());
        CHECK((c.trial.analogs - ref.trial.analogs).cwiseAbs().maxCoeff() <= 1e-9 * (1 + ref.trial.analogs.cwiseAbs().maxCoeff()));
        CHECK(c.trial.events.size() >= 1);
    }
}

}  // namespace

TEST_CASE("c3d: Sample01 Intel/MIPS/DEC int16/float encodings decode alike", "[motion][c3d]") {
    check_same_trial_across_encodings({"Eb015pi.c3d", "Eb015pr.c3d", "Eb015si.c3d", "Eb015sr.c3d",
                                       "Eb015vi.c3d", "Eb015vr.c3d"});
}

TEST_CASE("c3d: Sample02 pc/dec/sgi int/real decode alike", "[motion][c3d]") {
    check_same_trial_across_encodings({"pc_int.c3d", "pc_real.c3d", "dec_int.c3d", "dec_real.c3d",
                                       "sgi_int.c3d", "sgi_real.c3d"});
}

TEST_CASE("c3d: Sample08 sections at unusual blocks decode like Sample01", "[motion][c3d]") {
    // TESTAPI..TESTDPI hold the Eb015pi trial with the parameter and data sections moved.
    check_same_trial_across_encodings({"Eb015pi.c3d", "TESTAPI.c3d", "TESTBPI.c3d", "TESTCPI.c3d", "TESTDPI.c3d"});
}

TEST_CASE("c3d: Sample01 header, processor and events", "[motion][c3d]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/Eb015vr.c3d");
    const C3d c = read_c3d(path.string());
    CHECK(c.processor == C3dProcessor::Dec);
    CHECK(c.float_storage);
    CHECK(c.trial.n_frames() == 450);
    CHECK(c.trial.n_markers() == 26);
    CHECK(c.trial.point_rate_hz == Approx(50.0));
    CHECK(c.trial.analog_labels.size() == 16);
    CHECK(c.trial.analogs.rows() == 450 * 4);  // 200 Hz analog
    CHECK(c.trial.analog_rate_hz == Approx(200.0));
    REQUIRE(c.header.events.size() == 3);
    CHECK(c.header.events[0].label == "RIC");
    CHECK(c.header.events[0].time_s == Approx(2.72));
}

TEST_CASE("c3d: gait-pig EVENT group, subject prefixes, DEC int16", "[motion][c3d]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/gait-pig.c3d");
    const C3d c = read_c3d(path.string());
    CHECK(c.processor == C3dProcessor::Dec);
    CHECK_FALSE(c.float_storage);
    REQUIRE(c.trial.events.size() == 9);
    CHECK(c.trial.events[0].label == "Foot Strike");
    CHECK(c.trial.events[0].context == "Left");
    CHECK(c.trial.events[0].time_s == Approx(0.57).margin(1e-4));
    CHECK(c.trial.has_marker("LASI"));  // stored as "A22:LASI"
    CHECK(c.trial.point_labels[c.trial.marker_index("LASI")] == "A22:LASI");
    CHECK(c.parameter("SUBJECTS", "LABEL_PREFIXES").as_string() == "A22:");
    CHECK_THROWS_AS(c.trial.marker("NOPE"), NotFound);
    CHECK_THROWS_AS(c.parameter("POINT", "NOPE"), NotFound);
}

TEST_CASE("c3d: every conformance file reads, corrupt parameters are best effort", "[motion][c3d]") {
    const auto dir = test::shared_data("motion/c3d");
    if (!std::filesystem::exists(dir)) {
        WARN("skipped: " << dir.string() << " is absent");
        return;
    }
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        INFO(entry.path().string());
        C3d c;
        REQUIRE_NOTHROW(c = read_c3d(entry.path().string()));
        CHECK(c.trial.points.cols() == 3 * c.trial.n_markers());
        ++n;
        if (entry.path().filename() == "bad_parameter_section.c3d") {
            REQUIRE_FALSE(c.warnings.empty());
            CHECK(c.warnings[0].find("offset -1") != std::string::npos);
            CHECK(c.trial.n_markers() == 45);
        }
    }
    CHECK(n >= 24);
}

TEST_CASE("c3d: truncated files raise FormatError naming file and offset", "[motion][c3d]") {
    SHARED_DATA_OR_SKIP(path, "motion/c3d/Eb015pi.c3d");
    const auto bytes = file_bytes(path);
    // Cut inside the header.
    CHECK_THROWS_AS(decode_c3d(bytes.data(), 300, "cut.c3d"), FormatError);
    // Cut inside the parameter section (parameters start at block 2 = byte 512).
    try {
        decode_c3d(bytes.data(), 700, "cut.c3d");
        FAIL("expected FormatError");
    } catch (const FormatError& e) {
        const std::string msg = e.what();
        CHECK(msg.find("cut.c3d") != std::string::npos);
        CHECK(msg.find("byte") != std::string::npos);
    }
    // Cut inside the data: best effort keeps whole frames, strict mode raises.
    const C3d full = decode_c3d(bytes.data(), bytes.size(), "full.c3d");
    const std::size_t cut = bytes.size() - bytes.size() / 3;
    const C3d part = decode_c3d(bytes.data(), cut, "cut.c3d");
    CHECK(part.trial.n_frames() < full.trial.n_frames());
    CHECK(part.trial.n_frames() > 0);
    CHECK_FALSE(part.warnings.empty());
    CHECK(max_point_difference(part.trial, Trial{{}, {}, full.trial.points.topRows(part.trial.n_frames()), {}, "mm", 0, 1, {}, {}, {}, 0, {}}) == 0.0);
    CHECK_THROWS_AS(decode_c3d(bytes.data(), cut, "cut.c3d", C3dReadOptions{false}), FormatError);
    CHECK_THROWS_AS(read_c3d("/nonexistent/file.c3d"), NotFound);
}

TEST_CASE("c3d: write -> read round trips exactly", "[motion][c3d]") {
    for (const char* name : {"pc_real.c3d", "Eb015vi.c3d", "gait-pig.c3d", "pyCGM2_lower_limb_CGM24_Walking01.c3d"}) {
        const auto path = test::shared_data(std::string("motion/c3d/") + name);
        if (!std::filesystem::exists(path)) continue;
        INFO(name);
        const C3d a = read_c3d(path.string());
        const auto bytes = encode_c3d(a);
        const C3d b = decode_c3d(bytes.data(), bytes.size(), "mem.c3d");
        CHECK(b.trial.point_labels == a.trial.point_labels);
        CHECK(b.trial.first_frame == a.trial.first_frame);
        CHECK(b.trial.point_rate_hz == a.trial.point_rate_hz);
        // Float sources are exact; int16 sources are exact to float precision.
        const double tol = a.float_storage ? 0.0 : 1e-7 * a.trial.points.array().isNaN().select(0, a.trial.points).cwiseAbs().maxCoeff();
        CHECK(max_point_difference(a.trial, b.trial) <= tol);
        CHECK((a.trial.analogs - b.trial.analogs).cwiseAbs().maxCoeff() <= 1e-6 * (1 + a.trial.analogs.cwiseAbs().maxCoeff()));
        REQUIRE(b.trial.events.size() == a.trial.events.size());
        for (std::size_t e = 0; e < a.trial.events.size(); ++e) {
            CHECK(b.trial.events[e].label == a.trial.events[e].label);
            CHECK(b.trial.events[e].context == a.trial.events[e].context);
            CHECK(b.trial.events[e].time_s == Approx(a.trial.events[e].time_s).margin(1e-5));
        }
        CHECK(b.header.events.size() == a.header.events.size());
        // Other groups survive: a second write/read is bit-exact in points and analogs.
        const auto bytes2 = encode_c3d(b);
        const C3d c = decode_c3d(bytes2.data(), bytes2.size(), "mem2.c3d");
        CHECK(max_point_difference(b.trial, c.trial) == 0.0);
        CHECK((b.trial.analogs - c.trial.analogs).cwiseAbs().maxCoeff() == 0.0);
        CHECK(bytes2 == encode_c3d(c));
        for (const auto& g : a.groups)
            for (const auto& p : g.parameters) {
                if (g.name == "POINT" || g.name == "ANALOG" || g.name == "EVENT" || g.name == "TRIAL") continue;
                const C3dParameter* q = b.find(g.name, p.name);
                REQUIRE(q != nullptr);
                CHECK(q->strings == p.strings);
                CHECK(q->numbers == p.numbers);
                CHECK(q->dims == p.dims);
            }
    }
}

TEST_CASE("c3d: synthetic trial with >255 labels, >255 events, >65535 frames round-trips", "[motion][c3d]") {
    Trial t;
    const int markers = 300, frames = 70000;
    t.points.resize(frames, 3 * markers);
    for (int f = 0; f < frames; ++f)
        for (int c = 0; c < 3 * markers; ++c) t.points(f, c) = static_cast<float>(0.25 * f - 3.5 * c);
    t.points(10, 0) = t.points(10, 1) = t.points(10, 2) = std::nan("");
    for (int m = 0; m < markers; ++m) t.point_labels.push_back("M" + std::to_string(m));
    t.point_rate_hz = 1000;
    t.first_frame = 5;
    t.analog_labels = {"Fz"};
    t.analog_units = {"N"};
    t.analogs = RowMatXd::Constant(2 * frames, 1, 2.5);
    t.analog_rate_hz = 2000;
    for (int e = 0; e < 300; ++e) t.events.push_back(Event{"E" + std::to_string(e), e % 2 ? "Left" : "Right", 0.5 * e, ""});
    const auto tmp = std::filesystem::temp_directory_path() / "sportsmed_test_big.c3d";
    write_c3d(tmp.string(), t);
    const C3d c = read_c3d(tmp.string());
    std::filesystem::remove(tmp);
    CHECK(c.trial.point_labels == t.point_labels);
    CHECK(c.trial.n_frames() == frames);
    CHECK(c.trial.first_frame == 5);
    CHECK(max_point_difference(c.trial, t) == 0.0);
    CHECK(c.trial.analogs.rows() == 2 * frames);
    CHECK(c.trial.analogs.maxCoeff() == 2.5);
    REQUIRE(c.trial.events.size() == 300);
    CHECK(c.trial.events[299].label == "E299");
    CHECK(c.trial.events[299].context == "Left");
    CHECK(c.trial.events[299].time_s == Approx(149.5));
    CHECK(c.find("POINT", "LABELS2") != nullptr);
}
