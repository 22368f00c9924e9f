// sportsmed device check: trains the default knee model's configuration for a few minutes
// per precision and segments one 384×384×160 volume, on CUDA when there is one, and
// prints the times as JSON. Run by scripts/device_check.sh; CPU stays the tested path.

#include <torch/cuda.h>
#include <torch/version.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging/phantom.hpp"
#include "sportsmed/seg/inference.hpp"
#include "sportsmed/seg/model.hpp"
#include "sportsmed/seg/synth.hpp"
#include "sportsmed/seg/train.hpp"

using namespace sportsmed;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kKneeLabels = {"background",        "femur",           "tibia",
                                              "patella",           "femoral_cartilage", "tibial_cartilage",
                                              "patellar_cartilage", "menisci"};

// pymskt numbering (the phantom's) -> the default model's classes (as seg.PYMSKT_TO_KNEE).
std::uint8_t remap(std::uint8_t l) {
    static const std::uint8_t lut[11] = {0, 4, 5, 5, 6, 1, 2, 3, 0, 7, 7};
    return l < 11 ? lut[l] : 0;
}

struct Volume {
    std::vector<std::int64_t> shape;  // C order (z, y, x)
    std::vector<float> image;
    std::vector<std::uint8_t> labels;
};

Volume phantom(const Eigen::Vector3d& spacing, const Eigen::Vector3d& extent, std::uint64_t seed, int shape_seed,
               double snr) {
    imaging::KneePhantomOptions o;
    o.spacing_mm = spacing;
    o.extent_mm = extent;
    o.supersampling = 1;
    o.snr = snr;
    o.seed = seed;
    if (shape_seed >= 0) o.shape = imaging::random_knee_shape(static_cast<std::uint64_t>(shape_seed));
    const imaging::KneePhantom ph = imaging::make_knee_phantom(o);
    const auto& g = ph.labels.geometry();
    Volume v;
    v.shape = {g.shape[2], g.shape[1], g.shape[0]};  // x fastest in memory = C order (z, y, x)
    const std::int64_t n = g.num_voxels();
    v.image.resize(n);
    v.labels.resize(n);
    for (std::int64_t i = 0; i < n; ++i) {
        v.image[i] = static_cast<float>(ph.image.data()[i]);
        v.labels[i] = remap(ph.labels.data()[i]);
    }
    return v;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string json_list(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.4f}", i ? ", " : "", v[i]);
    return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
    std::string device = torch::cuda::is_available() ? "cuda" : "cpu";
    std::string model_path = "python/sportsmed/seg/models/knee_unet.pt";
    std::string out_path;
    double minutes = 1.5;
    std::array<int, 3> big_shape = {384, 384, 160};  // x, y, z
    std::vector<std::string> precisions = {"float32", "bfloat16"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw InvalidArgument(fmt::format("{} needs a value", a));
            return argv[++i];
        };
        if (a == "--device") device = next();
        else if (a == "--model") model_path = next();
        else if (a == "--out") out_path = next();
        else if (a == "--minutes") minutes = std::stod(next());
        else if (a == "--big") {
            if (std::sscanf(next().c_str(), "%d,%d,%d", &big_shape[0], &big_shape[1], &big_shape[2]) != 3)
                throw InvalidArgument("--big takes X,Y,Z");
        }
        else if (a == "--precisions") {
            precisions.clear();
            std::stringstream ss(next());
            for (std::string p; std::getline(ss, p, ',');) precisions.push_back(p);
        } else {
            std::fprintf(stderr, "usage: %s [--device D] [--model M.pt] [--minutes M] [--precisions a,b] [--big X,Y,Z] [--out F]\n",
                         argv[0]);
            return 2;
        }
    }
    try {
        std::vector<std::string> json;
        json.push_back(fmt::format("\"torch\": \"{}\", \"cuda_available\": {}, \"cuda_devices\": {}, \"device\": "
                                   "\"{}\", \"threads\": {}",
                                   TORCH_VERSION, torch::cuda::is_available() ? "true" : "false",
                                   torch::cuda::device_count(), device, num_threads()));
        std::printf("%s\n", json.back().c_str());

        // Training data: the standard knee and eight random shapes (labels only), 1.0 mm.
        const Eigen::Vector3d one(1.0, 1.0, 1.0), fov(84.0, 84.0, 84.0);
        std::vector<Volume> maps;
        for (int s = -1; s <= 8; ++s) maps.push_back(phantom(one, fov, 0, s, 0.0));
        const Volume held_out = phantom(one, fov, 1001, 1001, 50.0);
        seg::Sample val{held_out.shape, held_out.image, held_out.labels};

        seg::ModelSpec spec;
        spec.labels = kKneeLabels;
        spec.patch_size = {48, 48, 48};
        spec.spacing_mm = {1.0, 1.0, 1.0};
        spec.unet.num_classes = 8;
        spec.unet.base_features = 8;
        spec.unet.levels = 4;
        const seg::SynthOptions synth;
        for (const std::string& precision : precisions) {
            seg::Model model = seg::Model::create(spec, 1);
            seg::TrainOptions o;
            o.epochs = 100000;
            o.iterations_per_epoch = 25;
            o.batch_size = 2;
            o.learning_rate = 1e-2;
            o.validate_every = 0;
            o.device = device;
            o.precision = precision;
            o.samples_per_epoch = 4;
            double last_fraction = 0;
            const auto t0 = Clock::now();
            o.progress = [&](double fraction, std::string_view) {
                last_fraction = fraction;
                return seconds_since(t0) < 60.0 * minutes;
            };
            const seg::SampleSource source = [&maps, &synth](std::uint64_t index, std::uint64_t seed) {
                const Volume& m = maps[index % maps.size()];
                return seg::synthesize(m.labels, m.shape, synth, seed);
            };
            try {
                seg::train(model, source, {}, o);
            } catch (const Cancelled&) {
                // the time is up
            }
            const double train_s = seconds_since(t0);
            const double iterations = last_fraction * o.epochs * o.iterations_per_epoch;
            const auto t1 = Clock::now();
            const seg::Segmentation s = seg::segment(model, val.image.data(), val.shape);
            const double seg_s = seconds_since(t1);
            const std::vector<double> dice = seg::dice_per_class(s.labels, val.labels, 8);
            json.push_back(fmt::format(
                "\"train_{}\": {{\"seconds\": {:.1f}, \"iterations\": {:.0f}, \"iterations_per_s\": {:.2f}, "
                "\"held_out_dice\": {}, \"segment_84mm_s\": {:.2f}}}",
                precision, train_s, iterations, iterations / train_s, json_list(dice), seg_s));
            std::printf("%s\n", json.back().c_str());
            std::fflush(stdout);
        }

        // Inference: the shipped model on a 384×384×160 phantom (0.25 × 0.25 × 0.6 mm: a
        // 96 mm field of view).
        const Eigen::Vector3d big_spacing(96.0 / big_shape[0], 96.0 / big_shape[1], 96.0 / big_shape[2]);
        const Volume big = phantom(big_spacing, {96.0, 96.0, 96.0}, 7, 1002, 50.0);
        seg::Model shipped = seg::Model::load(model_path, device);
        for (const bool resample : {false, true}) {
            seg::SegmentOptions so;
            so.batch_size = 4;
            if (resample) so.input_spacing_mm = {big_spacing[2], big_spacing[1], big_spacing[0]};  // C order
            const auto t0 = Clock::now();
            const seg::Segmentation s = seg::segment(shipped, big.image.data(), big.shape, so);
            const double secs = seconds_since(t0);
            const std::vector<double> dice = seg::dice_per_class(s.labels, big.labels, 8);
            json.push_back(fmt::format(
                "\"segment_{}x{}x{}_{}\": {{\"seconds\": {:.2f}, \"dice\": {}}}", big.shape[2], big.shape[1],
                big.shape[0], resample ? "resampled_to_model_spacing" : "on_its_grid", secs, json_list(dice)));
            std::printf("%s\n", json.back().c_str());
            std::fflush(stdout);
        }
        std::string all = "{";
        for (std::size_t i = 0; i < json.size(); ++i) all += (i ? ",\n " : "") + json[i];
        all += "}\n";
        if (!out_path.empty()) std::ofstream(out_path) << all;
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "device check failed: %s\n", e.what());
        return 1;
    }
}
