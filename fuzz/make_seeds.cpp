// Writes the seed files that the library's own writers produce (fuzz/make_corpus.py runs
// this, then adds the seeds it synthesises itself): small, valid files of every format,
// each under 64 KB so that the fuzzers start from fast inputs.
//
// Usage: sportsmed_make_seeds <corpus folder>   (writes <folder>/<target>/<name>)

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "sportsmed/imaging/image.hpp"
#include "sportsmed/imaging/io.hpp"
#include "sportsmed/imaging/phantom.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/synthetic.hpp"
#include "sportsmed/motion/trc.hpp"
#include "sportsmed/risk/boosting.hpp"

using namespace sportsmed;
namespace fs = std::filesystem;

namespace {

// The first @p frames frames and @p markers markers of @p t (analogs cut to match).
motion::Trial shrink(const motion::Trial& t, Eigen::Index frames, Eigen::Index markers, Eigen::Index channels) {
    motion::Trial s = t;
    s.point_labels.resize(static_cast<std::size_t>(markers));
    if (!s.point_descriptions.empty()) s.point_descriptions.resize(static_cast<std::size_t>(markers));
    s.points = t.points.topLeftCorner(frames, 3 * markers);
    if (t.residuals.size()) s.residuals = t.residuals.topLeftCorner(frames, markers);
    const Eigen::Index ratio = t.point_rate_hz > 0 ? static_cast<Eigen::Index>(std::lround(t.analog_rate_hz / t.point_rate_hz)) : 1;
    channels = std::min<Eigen::Index>(channels, t.analogs.cols());
    s.analog_labels.resize(static_cast<std::size_t>(channels));
    if (!s.analog_units.empty()) s.analog_units.resize(static_cast<std::size_t>(channels));
    s.analogs = t.analogs.topLeftCorner(std::min<Eigen::Index>(frames * ratio, t.analogs.rows()), channels);
    s.force_plates.clear();
    s.warnings.clear();
    const double end_s = s.frame_time_s(frames - 1);
    std::vector<motion::Event> events;
    for (const auto& e : t.events)
        if (e.time_s <= end_s) events.push_back(e);
    s.events = events;
    return s;
}

fs::path folder(const fs::path& root, const char* target) {
    const fs::path d = root / target;
    fs::create_directories(d);
    return d;
}

void report(const fs::path& p) {
    std::printf("  %-60s %8ju bytes\n", p.string().c_str(), static_cast<std::uintmax_t>(fs::file_size(p)));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    try {
        // ---- motion: a synthetic drop jump, cut down ----------------------------------
        motion::DropJumpSpec spec;
        spec.rate_hz = 100.0;
        const motion::Trial full = motion::synthesize_drop_jump(spec).trial;
        const motion::Trial small = shrink(full, 12, 5, 2);
        {
            const fs::path d = folder(root, "fuzz_c3d");
            motion::write_c3d((d / "drop_jump_float.c3d").string(), small);
            report(d / "drop_jump_float.c3d");
            motion::Trial tiny = shrink(full, 3, 2, 0);
            tiny.events.clear();
            motion::write_c3d((d / "tiny_no_analog.c3d").string(), tiny);
            report(d / "tiny_no_analog.c3d");
        }
        {
            const fs::path d = folder(root, "fuzz_trc");
            motion::write_trc((d / "drop_jump.trc").string(), small);
            report(d / "drop_jump.trc");
        }
        {
            const fs::path d = folder(root, "fuzz_mot");
            motion::MotTable t;
            t.name = "Coordinates";
            t.header = {{"version", "1"}, {"inDegrees", "yes"}};
            t.labels = {"time", "hip_flexion_r", "knee_angle_r", "ankle_angle_r"};
            t.data.resize(6, 4);
            for (Eigen::Index r = 0; r < t.data.rows(); ++r) {
                t.data(r, 0) = 0.01 * static_cast<double>(r);
                for (Eigen::Index c = 1; c < 4; ++c) t.data(r, c) = 10.0 * std::sin(0.3 * static_cast<double>(r * c));
            }
            motion::write_mot((d / "coordinates.mot").string(), t);
            report(d / "coordinates.mot");
        }
        // ---- imaging: the knee phantom on a coarse grid ------------------------------
        imaging::KneePhantomOptions po;
        po.spacing_mm = {7.0, 7.0, 7.0};
        po.supersampling = 1;
        po.te_ms = {10.0, 20.0};
        const imaging::KneePhantom ph = imaging::make_knee_phantom(po);
        const imaging::Image labels = imaging::Image::from_volume(ph.labels);
        imaging::Volume<float> echoes_f(ph.echoes.geometry(), ph.echoes.components());
        for (std::int64_t i = 0; i < ph.echoes.size(); ++i) echoes_f.data()[i] = static_cast<float>(ph.echoes.data()[i]);
        const imaging::Image echoes = imaging::Image::from_volume(echoes_f);
        {
            const fs::path d = folder(root, "fuzz_nifti");
            for (const auto& [name, img, version] :
                 {std::tuple{"labels_v1.nii", &labels, 1}, std::tuple{"labels_v2.nii", &labels, 2},
                  std::tuple{"echoes_v1.nii.gz", &echoes, 1}, std::tuple{"labels_v2.nii.gz", &labels, 2}}) {
                imaging::write_nifti(*img, (d / name).string(), version);
                report(d / name);
            }
        }
        {
            const fs::path d = folder(root, "fuzz_nrrd");
            imaging::write_nrrd(labels, (d / "labels_raw.nrrd").string(), false);
            report(d / "labels_raw.nrrd");
            imaging::write_nrrd(labels, (d / "labels_gzip.nrrd").string(), true);
            report(d / "labels_gzip.nrrd");
        }
        // ---- risk: a tiny boosted model ---------------------------------------------
        {
            const fs::path d = folder(root, "fuzz_xgboost_json");
            RowMatXd x(40, 3);
            VecXd y(40);
            for (Eigen::Index r = 0; r < x.rows(); ++r) {
                for (Eigen::Index c = 0; c < 3; ++c) x(r, c) = std::sin(0.7 * static_cast<double>(r + 3 * c));
                y[r] = x(r, 0) + 0.5 * x(r, 1) > 0 ? 1.0 : 0.0;
            }
            x(5, 2) = std::nan("");
            risk::BoostingOptions bo;
            bo.n_estimators = 3;
            bo.max_depth = 2;
            bo.n_threads = 1;
            risk::GradientBoosting m(bo);
            m.fit(x, y);
            // The target's first byte is the feature count the caller claims (1 + byte % 8).
            const std::string json = m.to_json();
            const fs::path p = d / "three_trees.bin";
            std::ofstream out(p, std::ios::binary);
            out.put(static_cast<char>(2));
            out << json;
            out.close();
            report(p);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sportsmed_make_seeds: %s\n", e.what());
        return 1;
    }
    return 0;
}
