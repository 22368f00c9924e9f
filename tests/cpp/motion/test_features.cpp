#include <cmath>
#include <cstdio>
#include <filesystem>

#include <unistd.h>
#include <map>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/features.hpp"
#include "sportsmed/motion/synthetic.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

// The synthetic drop jump with its model outputs stored as Plug-in Gait stores them.
struct Processed {
    Trial trial;
    std::vector<Feature> direct;
};

Processed processed_drop_jump(double valgus) {
    DropJumpSpec spec;
    spec.knee_valgus_peak_deg = valgus;
    const SyntheticDropJump s = synthesize_drop_jump(spec);
    Processed p{s.trial, {}};
    const RowMatXd al = model_angles(s.trial, s.model, "L"), ar = model_angles(s.trial, s.model, "R");
    const RowMatXd cl = model_joint_centres(s.trial, s.model, "L"), cr = model_joint_centres(s.trial, s.model, "R");
    const char* joints[3] = {"Hip", "Knee", "Ankle"};
    const char* centres[3] = {"HJC", "KJC", "AJC"};
    for (int k = 0; k < 3; ++k) {
        p.trial.set_marker(std::string("L") + joints[k] + "Angles", al.middleCols(3 * k, 3));
        p.trial.set_marker(std::string("R") + joints[k] + "Angles", ar.middleCols(3 * k, 3));
        p.trial.set_marker(std::string("L") + centres[k], cl.middleCols(3 * k, 3));
        p.trial.set_marker(std::string("R") + centres[k], cr.middleCols(3 * k, 3));
    }
    p.direct = drop_jump_features(al, ar, s.trial.point_rate_hz, s.trial.analogs.col(0), s.trial.analogs.col(1),
                                  s.trial.analog_rate_hz, s.body_mass_kg, cl, cr);
    return p;
}

std::filesystem::path temp_dir() {
    const auto d = std::filesystem::temp_directory_path() / ("sportsmed_features_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

}  // namespace

TEST_CASE("features: batch table over C3D files equals the features computed directly", "[motion][features]") {
    const auto dir = temp_dir();
    const Processed a = processed_drop_jump(4.0), b = processed_drop_jump(12.0);
    const std::string pa = (dir / "a.c3d").string(), pb = (dir / "b.c3d").string(), bad = (dir / "bad.c3d").string();
    write_c3d(pa, a.trial);
    write_c3d(pb, b.trial);
    {
        std::FILE* f = std::fopen(bad.c_str(), "wb");
        std::fputs("not a c3d file at all", f);
        std::fclose(f);
    }
    FeatureOptions o;
    o.task = Task::DropJump;
    o.body_mass_kg = 70.0;
    int calls = 0;
    const FeatureTable t = batch_features({pa, bad, pb, (dir / "absent.trc").string()}, o, [&](double, std::string_view) {
        ++calls;
        return true;
    });
    CHECK(calls >= 1);
    REQUIRE(t.trials.size() == 4);
    REQUIRE(t.values.rows() == 4);
    CHECK(t.errors[0].empty());
    CHECK(t.errors[2].empty());
    CHECK(t.errors[1].find("bad.c3d") != std::string::npos);
    CHECK(!t.errors[3].empty());
    CHECK(t.values.row(1).array().isNaN().all());
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < t.names.size(); ++i) col[t.names[i]] = i;
    for (int r : {0, 2}) {
        const auto& direct = r == 0 ? a.direct : b.direct;
        REQUIRE(direct.size() == t.names.size());
        for (const auto& f : direct) {
            INFO(f.name << " direct " << f.value << " batch " << t.values(r, col.at(f.name)));
            CHECK(t.units[col.at(f.name)] == f.unit);
            // The C3D stores float32: a few 1e-5 relative.
            CHECK(t.values(r, col.at(f.name)) == Approx(f.value).epsilon(1e-4).margin(1e-3));
        }
    }
    CHECK(t.values(2, col.at("left_peak_fppa_deg")) > t.values(0, col.at("left_peak_fppa_deg")) + 5.0);
    // Without a body mass the force features cannot be normalised: the row says so.
    o.body_mass_kg = 0;
    const FeatureTable nomass = batch_features({pa}, o);
    CHECK(nomass.errors[0].find("body mass") != std::string::npos);
    // A callback returning false cancels the batch.
    o.body_mass_kg = 70;
    CHECK_THROWS_AS(batch_features({pa, pb}, o, [](double, std::string_view) { return false; }), Cancelled);
    std::filesystem::remove_all(dir);
}

TEST_CASE("features: table columns are the union in first-seen order, one unit each", "[motion][features]") {
    const FeatureTable t = make_feature_table({"x", "y"}, {{{"a", 1, "s"}, {"b", 2, "m"}}, {{"c", 3, "deg"}, {"a", 4, "s"}}},
                                              {"", "warn"});
    REQUIRE(t.names == std::vector<std::string>{"a", "b", "c"});
    CHECK(t.units == std::vector<std::string>{"s", "m", "deg"});
    CHECK(t.values(0, 0) == 1);
    CHECK(t.values(1, 0) == 4);
    CHECK(std::isnan(t.values(1, 1)));
    CHECK(t.values(1, 2) == 3);
    CHECK(t.errors[1] == "warn");
    CHECK_THROWS_AS(make_feature_table({"x"}, {{{"a", 1, "s"}, {"a", 2, "ms"}}}), InvalidArgument);
    CHECK(parse_task("drop-jump") == Task::DropJump);
    CHECK_THROWS_AS(parse_task("swim"), InvalidArgument);
}

TEST_CASE("features: two force plates are given to the feet by their centre of pressure", "[motion][features]") {
    const Processed p = processed_drop_jump(8.0);
    Trial t = p.trial;
    // Move the vertical forces from the Fz_L/Fz_R channels onto two plates, the right foot's
    // first, each with its centre of pressure under its ankle marker.
    const RowMatX3d lank = t.marker("LANK"), rank = t.marker("RANK");
    const Eigen::Index na = t.analogs.rows();
    for (int side : {1, 0}) {
        ForcePlateData d;
        d.type = 2;
        d.force = RowMatXd::Zero(na, 3);
        d.force.col(2) = -t.analogs.col(side);  // force on the plate: downwards
        d.cop = RowMatXd(na, 3);
        for (Eigen::Index i = 0; i < na; ++i) d.cop.row(i) = (side == 0 ? lank : rank).row(std::min<Eigen::Index>(i / 5, t.n_frames() - 1));
        t.force_plates.push_back(d);
    }
    t.analog_labels = {"F1Z", "F2Z"};
    FeatureOptions o;
    o.body_mass_kg = 70.0;
    std::map<std::string, double> direct, plates;
    for (const auto& f : p.direct) direct[f.name] = f.value;
    for (const auto& f : trial_features(t, o)) plates[f.name] = f.value;
    for (const char* name : {"left_peak_vgrf_bw", "right_peak_vgrf_bw", "landing_force_symmetry", "jump_height_m"}) {
        INFO(name);
        CHECK(plates[name] == Approx(direct[name]).epsilon(1e-12));
    }
    t.force_plates.pop_back();
    CHECK_THROWS_AS(trial_features(t, o), InvalidArgument);
}
