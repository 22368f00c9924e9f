// seg::Model: construction, the JSON sidecar, loading and saving.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sstream>

#include <nlohmann/json.hpp>

#include "../core/json_value.hpp"
#include <torch/csrc/jit/python/update_graph_executor_opt.h>

#include "archive_check.hpp"
#include "detail.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/file.hpp"

namespace sportsmed::seg {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kSpecVersion = 1;

json unet_to_json(const UNetConfig& c) {
    return {{"spatial_dims", c.spatial_dims}, {"in_channels", c.in_channels},
            {"num_classes", c.num_classes},   {"base_features", c.base_features},
            {"max_features", c.max_features}, {"levels", c.levels},
            {"convs_per_stage", c.convs_per_stage}, {"negative_slope", c.negative_slope},
            {"deep_supervision", c.deep_supervision}};
}

template <typename T>
T field(const json& j, const char* key, const std::string& source, const T& fallback, bool required) {
    if (!j.is_object()) SPORTSMED_THROW(FormatError, "model sidecar '{}': expected an object holding '{}'", source, key);
    if (!j.contains(key)) {
        if (required) SPORTSMED_THROW(FormatError, "model sidecar '{}': missing field '{}'", source, key);
        return fallback;
    }
    return json_value::as<T>(j.at(key), fmt::format("model sidecar '{}': field '{}'", source, key));
}

void validate(const ModelSpec& s, const std::string& source) {
    const int dims = s.architecture == "unet" ? s.unet.spatial_dims : static_cast<int>(s.patch_size.size());
    SPORTSMED_CHECK(s.architecture == "unet" || s.architecture == "torchscript",
                    "model '{}': architecture must be 'unet' or 'torchscript', got '{}'", source, s.architecture);
    SPORTSMED_CHECK(s.labels.size() >= 2, "model '{}': needs at least 2 labels (background + one), got {}",
                    source, s.labels.size());
    SPORTSMED_CHECK(static_cast<int>(s.patch_size.size()) == dims && (dims == 2 || dims == 3),
                    "model '{}': patch_size has {} axes, expected {}", source, s.patch_size.size(), dims);
    SPORTSMED_CHECK(s.spacing_mm.empty() || s.spacing_mm.size() == s.patch_size.size(),
                    "model '{}': spacing_mm has {} axes, patch_size {}", source, s.spacing_mm.size(),
                    s.patch_size.size());
    SPORTSMED_CHECK(s.normalization == "zscore" || s.normalization == "none",
                    "model '{}': normalization must be 'zscore' or 'none', got '{}'", source, s.normalization);
    // Bounds far above any segmentation network, so that a damaged sidecar cannot make the
    // U-Net constructor allocate without limit or shift by more than 62 bits.
    SPORTSMED_CHECK(s.in_channels >= 1 && s.in_channels <= 64, "model '{}': in_channels must be in 1..64, got {}",
                    source, s.in_channels);
    SPORTSMED_CHECK(s.labels.size() <= 1024, "model '{}': {} labels (at most 1024)", source, s.labels.size());
    for (const auto& name : s.labels)
        SPORTSMED_CHECK(!name.empty() && name.size() <= 256, "model '{}': label names must have 1..256 characters",
                        source);
    {
        std::int64_t voxels = 1;
        for (std::int64_t p : s.patch_size) {
            SPORTSMED_CHECK(p >= 1 && p <= 4096, "model '{}': patch size {} is outside 1..4096", source, p);
            voxels *= p;
        }
        SPORTSMED_CHECK(voxels <= (std::int64_t{1} << 27), "model '{}': a patch of {} voxels is too large", source,
                        voxels);
    }
    for (double sp : s.spacing_mm)
        SPORTSMED_CHECK(std::isfinite(sp) && sp > 0 && sp < 1e4, "model '{}': spacing_mm {} is not a voxel size",
                        source, sp);
    if (s.architecture == "unet") {
        const UNetConfig& u = s.unet;
        SPORTSMED_CHECK(u.levels >= 1 && u.levels <= 8, "model '{}': unet.levels must be in 1..8, got {}", source,
                        u.levels);
        SPORTSMED_CHECK(u.base_features >= 1 && u.base_features <= 1024 && u.max_features >= 1 &&
                            u.max_features <= 4096,
                        "model '{}': unet.base_features ({}) / max_features ({}) outside 1..1024 / 1..4096", source,
                        u.base_features, u.max_features);
        SPORTSMED_CHECK(u.convs_per_stage >= 1 && u.convs_per_stage <= 8,
                        "model '{}': unet.convs_per_stage must be in 1..8, got {}", source, u.convs_per_stage);
        SPORTSMED_CHECK(std::isfinite(u.negative_slope), "model '{}': unet.negative_slope is not finite", source);
    }
    {
        bool seen[3] = {false, false, false};
        bool ok = s.orientation.size() == 3;
        for (char c : s.orientation) {
            const int w = c == 'L' || c == 'R' ? 0 : c == 'P' || c == 'A' ? 1 : c == 'S' || c == 'I' ? 2 : -1;
            ok = ok && w >= 0 && !seen[w];
            if (w >= 0) seen[w] = true;
        }
        SPORTSMED_CHECK(ok, "model '{}': orientation '{}' is not a 3-letter code of L/R, P/A, S/I", source,
                        s.orientation);
    }
    {
        const int dims = s.architecture == "unet" ? s.unet.spatial_dims : static_cast<int>(s.patch_size.size());
        std::vector<bool> seen_axis(static_cast<size_t>(std::max(dims, 0)), false);
        for (int a : s.mirror_axes) {
            SPORTSMED_CHECK(a >= 0 && a < dims && !seen_axis[static_cast<size_t>(a)],
                            "model '{}': mirror_axes has {}, not a distinct axis of 0..{}", source, a, dims - 1);
            seen_axis[static_cast<size_t>(a)] = true;
        }
    }
    for (int l : s.single_component_labels)
        SPORTSMED_CHECK(l >= 1 && l < s.num_classes(), "model '{}': single_component_labels has {}, outside 1..{}",
                        source, l, s.num_classes() - 1);
    {
        std::vector<bool> grouped(static_cast<size_t>(std::max(s.num_classes(), 0)), false);
        for (const auto& g : s.fragment_join_groups)
            for (int l : g) {
                const bool single = std::find(s.single_component_labels.begin(), s.single_component_labels.end(),
                                              l) != s.single_component_labels.end();
                SPORTSMED_CHECK(single && !grouped[static_cast<size_t>(l)],
                                "model '{}': fragment_join_groups has {}, not a single_component_label of one group "
                                "only", source, l);
                grouped[static_cast<size_t>(l)] = true;
            }
    }
    for (const auto& row : s.component_anchors) {
        bool ok = row.size() >= 2 && std::find(s.single_component_labels.begin(), s.single_component_labels.end(),
                                               row[0]) != s.single_component_labels.end();
        std::string text;
        for (int l : row) {
            ok = ok && l >= 1 && l < s.num_classes();
            text += (text.empty() ? "" : ", ") + std::to_string(l);
        }
        SPORTSMED_CHECK(ok, "model '{}': component_anchors row [{}] is not a single_component_label followed by its "
                        "anchor classes", source, text);
    }
    {
        std::vector<bool> has_row(static_cast<size_t>(std::max(s.num_classes(), 0)), false);
        for (const auto& row : s.attached_labels) {
            bool ok = row.size() >= 2;
            std::string text;
            for (std::size_t i = 0; i < row.size(); ++i) {
                ok = ok && row[i] >= 1 && row[i] < s.num_classes() && (i == 0 || row[i] != row[0]);
                text += (text.empty() ? "" : ", ") + std::to_string(row[i]);
            }
            ok = ok && !has_row[static_cast<size_t>(row[0])];
            SPORTSMED_CHECK(ok, "model '{}': attached_labels row [{}] is not a foreground label (1..{}, one row per "
                            "label) followed by its other supporting labels", source, text, s.num_classes() - 1);
            has_row[static_cast<size_t>(row[0])] = true;
        }
    }
    {
        std::vector<bool> grouped(static_cast<size_t>(std::max(s.num_classes(), 0)), false);
        for (const auto& g : s.context_groups) {
            SPORTSMED_CHECK(g.size() >= 2, "model '{}': a context_groups group needs two or more labels", source);
            for (int l : g) {
                SPORTSMED_CHECK(l >= 1 && l < s.num_classes() && !grouped[static_cast<size_t>(l)],
                                "model '{}': context_groups has {}, not a foreground label (1..{}) of one group only",
                                source, l, s.num_classes() - 1);
                grouped[static_cast<size_t>(l)] = true;
            }
        }
    }
    if (s.architecture == "unet") {
        SPORTSMED_CHECK(s.unet.num_classes == s.num_classes(),
                        "model '{}': the U-Net has {} classes but {} labels are named", source,
                        s.unet.num_classes, s.num_classes());
        SPORTSMED_CHECK(s.unet.in_channels == s.in_channels,
                        "model '{}': the U-Net takes {} channels but in_channels is {}", source,
                        s.unet.in_channels, s.in_channels);
        const std::int64_t factor = std::int64_t{1} << (s.unet.levels - 1);
        for (std::size_t d = 0; d < s.patch_size.size(); ++d) {
            SPORTSMED_CHECK(s.patch_size[d] > 0 && s.patch_size[d] % factor == 0,
                            "model '{}': patch size {} on axis {} must be a positive multiple of {}", source,
                            s.patch_size[d], d, factor);
        }
    }
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) SPORTSMED_THROW(NotFound, "cannot open '{}'", path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The sidecar's optional "weights" record ({"bytes": N, "crc32": "hex"}, written by
// Model::save) must describe @p weights exactly.
void check_weights_record(const std::string& sidecar_text, const std::string& sidecar, const std::string& weights,
                          const std::string& weights_path) {
    const json j = json::parse(sidecar_text);  // already parsed once by model_spec_from_json
    if (!j.contains("weights")) return;
    const json& w = j["weights"];
    const auto bytes = field<std::uint64_t>(w, "bytes", sidecar, 0, true);
    const auto crc = field<std::string>(w, "crc32", sidecar, "", true);
    if (bytes != weights.size() || crc != fmt::format("{:08x}", detail::crc32_of(weights)))
        SPORTSMED_THROW(FormatError,
                        "Model::load: the weights '{}' ({} bytes, CRC-32 {:08x}) are not the ones the sidecar '{}' "
                        "describes ({} bytes, CRC-32 {}): an interrupted save or a mixed-up pair of files",
                        weights_path, weights.size(), detail::crc32_of(weights), sidecar, bytes, crc);
}

fs::path sidecar_for(const fs::path& weights) {
    fs::path same_stem = weights;
    same_stem.replace_extension(".json");
    const fs::path appended = weights.string() + ".json";
    if (fs::exists(appended)) return appended;
    return same_stem;
}

}  // namespace

std::string to_json(const ModelSpec& s) {
    json j = {{"format", "sportsmed-seg"},     {"version", kSpecVersion},
              {"architecture", s.architecture}, {"in_channels", s.in_channels},
              {"labels", s.labels},             {"patch_size", s.patch_size},
              {"spacing_mm", s.spacing_mm},     {"normalization", s.normalization},
              {"notes", s.notes}};
    if (!s.single_component_labels.empty()) j["single_component_labels"] = s.single_component_labels;
    if (!s.fragment_join_groups.empty()) j["fragment_join_groups"] = s.fragment_join_groups;
    if (!s.component_anchors.empty()) j["component_anchors"] = s.component_anchors;
    if (!s.context_groups.empty()) j["context_groups"] = s.context_groups;
    if (!s.attached_labels.empty()) j["attached_labels"] = s.attached_labels;
    j["orientation"] = s.orientation;
    if (!s.mirror_axes.empty()) j["mirror_axes"] = s.mirror_axes;
    if (s.architecture == "unet") j["unet"] = unet_to_json(s.unet);
    return j.dump(2);
}

ModelSpec model_spec_from_json(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        SPORTSMED_THROW(FormatError, "model sidecar '{}': invalid JSON at byte {}: {}", source, e.byte, e.what());
    }
    SPORTSMED_CHECK_AS(FormatError, j.is_object(), "model sidecar '{}': expected a JSON object", source);
    const auto format = field<std::string>(j, "format", source, "", true);
    SPORTSMED_CHECK_AS(FormatError, format == "sportsmed-seg",
                       "model sidecar '{}': format is '{}', expected 'sportsmed-seg'", source, format);
    const int version = field<int>(j, "version", source, 0, true);
    SPORTSMED_CHECK_AS(FormatError, version == kSpecVersion,
                       "model sidecar '{}': version {} is not supported (this sportsmed reads {})", source,
                       version, kSpecVersion);
    ModelSpec s;
    s.architecture = field<std::string>(j, "architecture", source, "unet", true);
    s.in_channels = field<int>(j, "in_channels", source, 1, false);
    s.labels = field<std::vector<std::string>>(j, "labels", source, {}, true);
    s.patch_size = field<std::vector<std::int64_t>>(j, "patch_size", source, {}, true);
    s.spacing_mm = field<std::vector<double>>(j, "spacing_mm", source, {}, false);
    s.normalization = field<std::string>(j, "normalization", source, "zscore", false);
    s.notes = field<std::string>(j, "notes", source, "", false);
    s.single_component_labels = field<std::vector<int>>(j, "single_component_labels", source, {}, false);
    s.fragment_join_groups = field<std::vector<std::vector<int>>>(j, "fragment_join_groups", source, {}, false);
    s.component_anchors = field<std::vector<std::vector<int>>>(j, "component_anchors", source, {}, false);
    s.context_groups = field<std::vector<std::vector<int>>>(j, "context_groups", source, {}, false);
    s.attached_labels = field<std::vector<std::vector<int>>>(j, "attached_labels", source, {}, false);
    s.orientation = field<std::string>(j, "orientation", source, "LPS", false);
    s.mirror_axes = field<std::vector<int>>(j, "mirror_axes", source, {}, false);
    if (s.architecture == "unet") {
        const json u = field<json>(j, "unet", source, json::object(), true);
        UNetConfig c;
        c.spatial_dims = field<int>(u, "spatial_dims", source, 3, true);
        c.in_channels = field<int>(u, "in_channels", source, 1, true);
        c.num_classes = field<int>(u, "num_classes", source, 2, true);
        c.base_features = field<int>(u, "base_features", source, 16, true);
        c.max_features = field<int>(u, "max_features", source, 256, false);
        c.levels = field<int>(u, "levels", source, 4, true);
        c.convs_per_stage = field<int>(u, "convs_per_stage", source, 2, false);
        c.negative_slope = field<double>(u, "negative_slope", source, 0.01, false);
        c.deep_supervision = field<bool>(u, "deep_supervision", source, false, false);
        s.unet = c;
    }
    try {
        validate(s, source);
    } catch (const InvalidArgument& e) {
        throw FormatError(e.what());
    }
    return s;
}

// ---- Model -------------------------------------------------------------------------

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::create(const ModelSpec& spec, std::uint64_t seed) {
    SPORTSMED_CHECK(spec.architecture == "unet", "Model::create: only the built-in 'unet' can be created, got '{}'",
                    spec.architecture);
    validate(spec, "Model::create");
    auto impl = std::make_unique<Impl>();
    impl->spec = spec;
    torch::manual_seed(seed);
    impl->unet = detail::UNet(spec.unet);
    impl->unet->eval();
    return Model(std::move(impl));
}

Model Model::load(const std::string& path_str, const std::string& device) {
    const fs::path path(path_str);
    if (!fs::exists(path)) SPORTSMED_THROW(NotFound, "Model::load: no model file '{}'", path_str);
    const fs::path sidecar = sidecar_for(path);
    if (!fs::exists(sidecar)) {
        SPORTSMED_THROW(NotFound, "Model::load: model '{}' has no sidecar '{}' (patch size, spacing, labels)",
                        path_str, sidecar.string());
    }
    const std::string sidecar_text = read_text(sidecar);
    ModelSpec spec = model_spec_from_json(sidecar_text, sidecar.string());
    // The weights are read once, checked, and handed to LibTorch from memory.
    const std::string weights = read_text(path);
    check_weights_record(sidecar_text, sidecar.string(), weights, path_str);
    detail::check_torch_archive(weights, path_str);
    auto impl = std::make_unique<Impl>();
    impl->spec = spec;
    impl->device = detail::parse_device(device);
    try {
        std::istringstream in(weights);
        if (spec.architecture == "unet") {
            impl->unet = detail::UNet(spec.unet);
            torch::load(impl->unet, in);
            impl->unet->to(impl->device);
            impl->unet->eval();
        } else {
            impl->script = torch::jit::load(in, impl->device);
            impl->script->eval();
        }
    } catch (const c10::Error& e) {
        SPORTSMED_THROW(FormatError, "Model::load: cannot read weights '{}' for architecture '{}': {}", path_str,
                        spec.architecture, e.what_without_backtrace());
    } catch (const std::bad_alloc&) {
        SPORTSMED_THROW(FormatError, "Model::load: weights '{}' ask for more memory than this machine has", path_str);
    }
    return Model(std::move(impl));
}

void Model::save(const std::string& path_str) const {
    SPORTSMED_CHECK(impl_->unet, "Model::save: only built-in U-Nets can be saved (this is '{}')",
                    impl_->spec.architecture);
    const fs::path path(path_str);
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    fs::path sidecar = path;
    sidecar.replace_extension(".json");
    // Serialised in memory from the CPU (so that the file loads on machines without CUDA):
    // LibTorch's own file writer aborts the process on a full disk; the atomic writer
    // reports it as an Error instead.
    std::ostringstream weights_stream;
    auto module = impl_->unet;
    const torch::Device device = impl_->device;
    try {
        module->to(torch::kCPU);
        torch::save(module, weights_stream);
        module->to(device);
    } catch (const c10::Error& e) {
        module->to(device);
        SPORTSMED_THROW(Error, "Model::save: cannot serialise the network: {}", e.what_without_backtrace());
    }
    const std::string weights = weights_stream.str();
    // The sidecar records the weights' size and CRC-32: written after the weights, it
    // makes a save interrupted between the two renames (new weights, old sidecar) a
    // FormatError at load instead of a model that loads and then misbehaves.
    json side = json::parse(to_json(impl_->spec));
    side["weights"] = {{"file", path.filename().string()}, {"bytes", weights.size()},
                       {"crc32", fmt::format("{:08x}", detail::crc32_of(weights))}};
    const std::string side_text = side.dump(2) + "\n";
    write_file_atomic(path.string(), {{weights.data(), weights.size()}}, "Model::save");
    write_file_atomic(sidecar.string(), {{side_text.data(), side_text.size()}}, "Model::save");
}

const ModelSpec& Model::spec() const noexcept { return impl_->spec; }
ModelSpec& Model::mutable_spec() noexcept { return impl_->spec; }
std::string Model::device() const { return impl_->device.str(); }

void Model::to(const std::string& device) {
    impl_->device = detail::parse_device(device);
    if (impl_->unet) impl_->unet->to(impl_->device);
    if (impl_->script) impl_->script->to(impl_->device);
    impl_->script_inference.reset();  // its constants stay where they were frozen
    impl_->script_inference_tried = false;
}

std::int64_t Model::num_parameters() const {
    std::int64_t n = 0;
    if (impl_->unet) {
        for (const auto& p : impl_->unet->parameters()) n += p.numel();
    } else if (impl_->script) {
        for (const auto& p : impl_->script->parameters()) n += p.numel();
    }
    return n;
}

// ---- Impl --------------------------------------------------------------------------

namespace {

// The graph executor's optimisations off for this thread while it lives (the setting is
// thread-local in LibTorch).
class ExecutorOptimizeOff {
public:
    ExecutorOptimizeOff() : saved_(torch::jit::getGraphExecutorOptimize()) {
        torch::jit::setGraphExecutorOptimize(false);
    }
    ~ExecutorOptimizeOff() { torch::jit::setGraphExecutorOptimize(saved_); }
    ExecutorOptimizeOff(const ExecutorOptimizeOff&) = delete;
    ExecutorOptimizeOff& operator=(const ExecutorOptimizeOff&) = delete;

private:
    bool saved_;
};

}  // namespace

torch::Tensor Model::Impl::forward(const torch::Tensor& x) {
    if (unet) return unet->forward(x);
    torch::IValue out;
    if (script_inference && !torch::GradMode::is_enabled() && x.device().is_cpu()) {
        // The frozen, rewritten graph runs as it is: the profiling executor's passes (shape
        // profiling, guards, a second optimised graph) add time and tens of MB on the first
        // windows and nothing after (one measurement at one thread: 155 against 225 ms per call).
        ExecutorOptimizeOff plain;
        out = script_inference->forward({x});
    } else {
        out = script->forward({x});
    }
    if (out.isTensor()) return out.toTensor();
    if (out.isTuple()) return out.toTuple()->elements().at(0).toTensor();
    if (out.isList()) return out.toList().get(0).toTensor();
    SPORTSMED_THROW(FormatError, "TorchScript model returned {}, expected a tensor (or a tuple/list of them)",
                    out.tagKind());
}

std::vector<torch::Tensor> Model::Impl::parameters() {
    SPORTSMED_CHECK(unet, "training needs a built-in U-Net; TorchScript models are inference-only");
    return unet->parameters();
}

void Model::Impl::prepare_inference() {
    train(false);
    if (!script || script_inference_tried || !device.is_cpu()) return;
    script_inference_tried = true;
    // Frozen (parameters become constants) and rewritten so that every convolution runs on
    // oneDNN, never through LibTorch 1.13's reference convolution for one small window. A
    // network these passes cannot handle runs unchanged.
    script_inference = detail::optimize_script_for_cpu(*script, spec.patch_size, spec.in_channels);
#if defined(__GLIBC__)
    // Freezing and the check free tens of MB that glibc would keep in the heap, under the
    // segmentation's own buffers (mapped anew): hand them back so that they do not add up.
    malloc_trim(0);
#endif
}

void Model::Impl::train(bool on) {
    if (unet) unet->train(on);
    if (script) script->train(on);
}

}  // namespace sportsmed::seg
