// motion::CycleAutoencoder: the LibTorch deep scorer of unusual-movement detection
// (training, scoring, the versioned weights + sidecar files).

#include "sportsmed/motion/autoencoder.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../core/json_value.hpp"
#include "../seg/archive_check.hpp"
#include "sportsmed/core/build_info.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/file.hpp"

namespace sportsmed::motion {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "sportsmed-motion-autoencoder";

struct NetImpl : torch::nn::Module {
    explicit NetImpl(const CycleAutoencoderOptions& o)
        : points(o.points), half((o.points) / 2), quarter((o.points) / 4), filters(o.filters) {
        const int k = o.kernel_size, p = o.kernel_size / 2;
        using torch::nn::Conv1dOptions;
        enc1 = register_module("enc1", torch::nn::Conv1d(Conv1dOptions(o.channels, o.filters, k).padding(p)));
        enc2 = register_module("enc2", torch::nn::Conv1d(Conv1dOptions(o.filters, o.filters, k).padding(p)));
        to_latent = register_module("to_latent", torch::nn::Linear(o.filters * quarter, o.latent));
        from_latent = register_module("from_latent", torch::nn::Linear(o.latent, o.filters * quarter));
        dec1 = register_module("dec1", torch::nn::Conv1d(Conv1dOptions(o.filters, o.filters, k).padding(p)));
        dec2 = register_module("dec2", torch::nn::Conv1d(Conv1dOptions(o.filters, o.channels, k).padding(p)));
    }
    // x: batch × channels × points (standardised) → the same shape.
    torch::Tensor forward(torch::Tensor x) {
        namespace F = torch::nn::functional;
        x = torch::silu(enc1->forward(x));
        x = F::adaptive_avg_pool1d(x, F::AdaptiveAvgPool1dFuncOptions(half));
        x = torch::silu(enc2->forward(x));
        x = F::adaptive_avg_pool1d(x, F::AdaptiveAvgPool1dFuncOptions(quarter));
        x = to_latent->forward(x.flatten(1));
        x = torch::silu(from_latent->forward(x)).view({-1, filters, quarter});
        x = F::interpolate(x, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{half})
                                  .mode(torch::kLinear)
                                  .align_corners(true));
        x = torch::silu(dec1->forward(x));
        x = F::interpolate(x, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{points})
                                  .mode(torch::kLinear)
                                  .align_corners(true));
        return dec2->forward(x);
    }
    int64_t points, half, quarter, filters;
    torch::nn::Conv1d enc1{nullptr}, enc2{nullptr}, dec1{nullptr}, dec2{nullptr};
    torch::nn::Linear to_latent{nullptr}, from_latent{nullptr};
};
TORCH_MODULE(Net);

json options_to_json(const CycleAutoencoderOptions& o) {
    return {{"channels", o.channels}, {"points", o.points},       {"filters", o.filters},
            {"latent", o.latent},     {"kernel_size", o.kernel_size}, {"learning_rate", o.learning_rate},
            {"batch_size", o.batch_size}, {"seed", o.seed}};
}

void check_options(const CycleAutoencoderOptions& o) {
    SPORTSMED_CHECK(o.channels >= 1 && o.channels <= 4096, "CycleAutoencoder: channels must be in [1, 4096], got {}",
                    o.channels);
    SPORTSMED_CHECK(o.points >= 8 && o.points <= 100000, "CycleAutoencoder: points must be in [8, 100000], got {}",
                    o.points);
    SPORTSMED_CHECK(o.filters >= 1 && o.filters <= 4096, "CycleAutoencoder: filters must be in [1, 4096], got {}",
                    o.filters);
    SPORTSMED_CHECK(o.latent >= 1 && o.latent <= 4096, "CycleAutoencoder: latent must be in [1, 4096], got {}",
                    o.latent);
    SPORTSMED_CHECK(o.kernel_size >= 1 && o.kernel_size % 2 == 1 && o.kernel_size <= 63,
                    "CycleAutoencoder: kernel_size must be odd, in [1, 63], got {}", o.kernel_size);
    SPORTSMED_CHECK(o.learning_rate > 0 && std::isfinite(o.learning_rate),
                    "CycleAutoencoder: learning_rate must be > 0, got {}", o.learning_rate);
    SPORTSMED_CHECK(o.batch_size >= 1, "CycleAutoencoder: batch_size must be >= 1, got {}", o.batch_size);
}

std::string read_all(const fs::path& p, const char* what) {
    std::ifstream in(p, std::ios::binary);
    if (!in) SPORTSMED_THROW(NotFound, "CycleAutoencoder.load: cannot open {} '{}'", what, p.string());
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

fs::path sidecar_for(const fs::path& weights) {
    fs::path s = weights;
    s.replace_extension(".json");
    return s;
}

}  // namespace

struct CycleAutoencoder::Impl {
    mutable Net net{nullptr};
    VecXd mean, sd;
    std::vector<double> history;
    std::uint64_t fits = 0;  // fit() calls so far: each shuffles from its own stream

    // rows × (C·P) degrees → batch × C × P standardised tensor
    torch::Tensor input(const RowMatXdCRef& x, const CycleAutoencoderOptions& o) const {
        RowMatXd z(x.rows(), x.cols());
        for (int c = 0; c < o.channels; ++c)
            z.middleCols(c * o.points, o.points) =
                ((x.middleCols(c * o.points, o.points).array() - mean[c]) / sd[c]).matrix();
        return torch::from_blob(z.data(), {z.rows(), o.channels, o.points}, torch::kFloat64).clone();
    }
    RowMatXd output(const torch::Tensor& t, const CycleAutoencoderOptions& o, bool degrees) const {
        const torch::Tensor c = t.contiguous();
        RowMatXd out = Eigen::Map<const RowMatXd>(c.data_ptr<double>(), c.size(0), o.channels * o.points);
        if (degrees)
            for (int k = 0; k < o.channels; ++k)
                out.middleCols(k * o.points, o.points) =
                    (out.middleCols(k * o.points, o.points).array() * sd[k] + mean[k]).matrix();
        return out;
    }
};

CycleAutoencoder::CycleAutoencoder(CycleAutoencoderOptions o) : options_(o), impl_(std::make_unique<Impl>()) {
    check_options(options_);
}
CycleAutoencoder::~CycleAutoencoder() = default;
CycleAutoencoder::CycleAutoencoder(CycleAutoencoder&&) noexcept = default;
CycleAutoencoder& CycleAutoencoder::operator=(CycleAutoencoder&&) noexcept = default;

bool CycleAutoencoder::fitted() const { return static_cast<bool>(impl_->net); }
const std::vector<double>& CycleAutoencoder::history() const { return impl_->history; }
const VecXd& CycleAutoencoder::channel_mean() const { return impl_->mean; }
const VecXd& CycleAutoencoder::channel_sd() const { return impl_->sd; }

namespace {
void check_rows(const char* fn, const RowMatXdCRef& x, const CycleAutoencoderOptions& o) {
    SPORTSMED_CHECK(x.cols() == static_cast<Eigen::Index>(o.channels) * o.points,
                    "CycleAutoencoder.{}: rows must hold channels × points = {} × {} values, got {} columns", fn,
                    o.channels, o.points, x.cols());
    SPORTSMED_CHECK(x.allFinite(), "CycleAutoencoder.{}: the cycles hold NaN or inf", fn);
}
}  // namespace

CycleAutoencoder& CycleAutoencoder::fit(const RowMatXdCRef& x, int epochs, double learning_rate, bool normalise) {
    check_rows("fit", x, options_);
    SPORTSMED_CHECK(x.rows() >= 2, "CycleAutoencoder.fit: {} cycles given, at least 2 needed", x.rows());
    SPORTSMED_CHECK(epochs >= 1, "CycleAutoencoder.fit: epochs must be >= 1, got {}", epochs);
    const int C = options_.channels, P = options_.points;
    if (normalise || impl_->mean.size() == 0) {
        impl_->mean.resize(C);
        impl_->sd.resize(C);
        for (int c = 0; c < C; ++c) {
            const auto block = x.middleCols(c * P, P).array();
            const double m = block.mean();
            const double v = (block - m).square().mean();
            impl_->mean[c] = m;
            impl_->sd[c] = std::max(std::sqrt(v), 1.0);  // 1 degree: the floor of marker/IK noise
        }
    }
    torch::NoGradGuard init_guard;
    const bool first = !impl_->net;
    if (first) {
        impl_->net = Net(options_);
        impl_->net->to(torch::kFloat64);
        std::mt19937_64 rng(options_.seed);
        for (auto& p : impl_->net->named_parameters()) {
            const auto sizes = p.value().sizes();
            double bound = 1.0;
            if (sizes.size() >= 2) {
                std::int64_t fan_in = 1;
                for (size_t d = 1; d < sizes.size(); ++d) fan_in *= sizes[d];
                bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
            }
            std::uniform_real_distribution<double> u(-bound, bound);
            torch::Tensor cpu = torch::empty(sizes, torch::kFloat64);
            double* d = cpu.data_ptr<double>();
            for (std::int64_t k = 0; k < cpu.numel(); ++k) d[k] = u(rng);
            p.value().copy_(cpu);
        }
    }
    for (auto& p : impl_->net->parameters()) p.set_requires_grad(true);
    const torch::Tensor X = impl_->input(x, options_);
    std::mt19937_64 rng(options_.seed + 0x9e3779b97f4a7c15ULL * (++impl_->fits));
    std::vector<std::int64_t> order(static_cast<size_t>(x.rows()));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    const double lr = learning_rate > 0 ? learning_rate : options_.learning_rate;
    torch::optim::Adam opt(impl_->net->parameters(), torch::optim::AdamOptions(lr));
    const size_t bs = static_cast<size_t>(options_.batch_size);
    {
        torch::AutoGradMode grad(true);
        impl_->net->train();
        for (int epoch = 0; epoch < epochs; ++epoch) {
            for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
            const torch::Tensor perm = torch::from_blob(order.data(), {static_cast<std::int64_t>(order.size())},
                                                        torch::kInt64).clone();
            double total = 0;
            int batches = 0;
            for (size_t b = 0; b < order.size(); b += bs) {
                const auto len = static_cast<std::int64_t>(std::min(bs, order.size() - b));
                const torch::Tensor xb = X.index_select(0, perm.narrow(0, static_cast<std::int64_t>(b), len));
                const torch::Tensor loss = torch::mse_loss(impl_->net->forward(xb), xb);
                opt.zero_grad();
                loss.backward();
                opt.step();
                total += loss.item<double>();
                ++batches;
            }
            impl_->history.push_back(total / batches);
        }
    }
    impl_->net->eval();
    for (auto& p : impl_->net->parameters()) p.set_requires_grad(false);
    return *this;
}

RowMatXd CycleAutoencoder::error_map(const RowMatXdCRef& x) const {
    SPORTSMED_CHECK(fitted(), "CycleAutoencoder.error_map: the model is not fitted");
    check_rows("error_map", x, options_);
    torch::NoGradGuard no_grad;
    const torch::Tensor X = impl_->input(x, options_);
    return impl_->output((impl_->net->forward(X) - X).square(), options_, false);
}

VecXd CycleAutoencoder::score(const RowMatXdCRef& x) const { return error_map(x).rowwise().mean(); }

RowMatXd CycleAutoencoder::reconstruct(const RowMatXdCRef& x) const {
    SPORTSMED_CHECK(fitted(), "CycleAutoencoder.reconstruct: the model is not fitted");
    check_rows("reconstruct", x, options_);
    torch::NoGradGuard no_grad;
    return impl_->output(impl_->net->forward(impl_->input(x, options_)), options_, true);
}

CycleAutoencoder CycleAutoencoder::clone() const {
    CycleAutoencoder out(options_);
    out.impl_->mean = impl_->mean;
    out.impl_->sd = impl_->sd;
    out.impl_->history = impl_->history;
    out.impl_->fits = impl_->fits;
    if (impl_->net) {
        torch::NoGradGuard no_grad;
        out.impl_->net = Net(options_);
        out.impl_->net->to(torch::kFloat64);
        auto src = impl_->net->parameters();
        auto dst = out.impl_->net->parameters();
        for (size_t k = 0; k < src.size(); ++k) dst[k].copy_(src[k]);
        out.impl_->net->eval();
        for (auto& p : dst) p.set_requires_grad(false);
    }
    return out;
}

void CycleAutoencoder::save(const std::string& path_str) const {
    SPORTSMED_CHECK(fitted(), "CycleAutoencoder.save: the model is not fitted");
    const fs::path path(path_str);
    std::ostringstream stream;
    try {
        torch::save(impl_->net, stream);
    } catch (const c10::Error& e) {
        SPORTSMED_THROW(Error, "CycleAutoencoder.save: cannot serialise the network: {}", e.what_without_backtrace());
    }
    const std::string weights = stream.str();
    const json side = {{"format", kFormat},
                       {"version", kCycleAutoencoderFormatVersion},
                       {"sportsmed_version", version()},
                       {"options", options_to_json(options_)},
                       {"channel_mean",
                        std::vector<double>(impl_->mean.data(), impl_->mean.data() + impl_->mean.size())},
                       {"channel_sd", std::vector<double>(impl_->sd.data(), impl_->sd.data() + impl_->sd.size())},
                       {"fits", impl_->fits},
                       {"history", impl_->history},
                       {"weights", {{"file", path.filename().string()},
                                    {"bytes", weights.size()},
                                    {"crc32", fmt::format("{:08x}", seg::detail::crc32_of(weights))}}}};
    const std::string text = side.dump(1) + "\n";
    // weights first: an interrupted save leaves new weights beside the old sidecar, which
    // load() refuses by the CRC
    write_file_atomic(path.string(), {{weights.data(), weights.size()}}, "CycleAutoencoder.save");
    const std::string sidecar = sidecar_for(path).string();
    write_file_atomic(sidecar, {{text.data(), text.size()}}, "CycleAutoencoder.save");
}

CycleAutoencoder CycleAutoencoder::load(const std::string& path_str) {
    const fs::path path(path_str);
    const fs::path sidecar = sidecar_for(path);
    if (!fs::exists(path)) SPORTSMED_THROW(NotFound, "CycleAutoencoder.load: no weights file '{}'", path_str);
    if (!fs::exists(sidecar))
        SPORTSMED_THROW(NotFound, "CycleAutoencoder.load: weights '{}' have no sidecar '{}'", path_str,
                        sidecar.string());
    const std::string side_text = read_all(sidecar, "sidecar");
    const std::string where = sidecar.string();
    json j;
    try {
        j = json::parse(side_text);
    } catch (const json::exception& e) {
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: sidecar '{}' is not JSON: {}", where, e.what());
    }
    if (!j.is_object() || j.value("format", json()) != kFormat)
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: '{}' is not a {} sidecar", where, kFormat);
    const json v = j.value("version", json());
    if (!v.is_number_integer() || v.get<int>() != kCycleAutoencoderFormatVersion)
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: '{}' has version {}, this sportsmed ({}) reads version {}",
                        where, v.dump(), version(), kCycleAutoencoderFormatVersion);
    CycleAutoencoderOptions o;
    std::vector<double> mean, sd, history;
    std::uint64_t bytes = 0, fits = 0;
    std::string crc;
    try {
        using json_value::member;
        const json jo = member<json>(j, "options", "document");
        o.channels = member<int>(jo, "channels", "options");
        o.points = member<int>(jo, "points", "options");
        o.filters = member<int>(jo, "filters", "options");
        o.latent = member<int>(jo, "latent", "options");
        o.kernel_size = member<int>(jo, "kernel_size", "options");
        o.learning_rate = member<double>(jo, "learning_rate", "options");
        o.batch_size = member<int>(jo, "batch_size", "options");
        o.seed = member<std::uint64_t>(jo, "seed", "options");
        mean = member<std::vector<double>>(j, "channel_mean", "document");
        sd = member<std::vector<double>>(j, "channel_sd", "document");
        history = member<std::vector<double>>(j, "history", "document");
        fits = member<std::uint64_t>(j, "fits", "document");
        const json w = member<json>(j, "weights", "document");
        bytes = member<std::uint64_t>(w, "bytes", "weights");
        crc = member<std::string>(w, "crc32", "weights");
    } catch (const json::exception& e) {
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: sidecar '{}' is incomplete: {}", where, e.what());
    } catch (const FormatError& e) {
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: sidecar '{}': {}", where, e.what());
    }
    try {
        check_options(o);
    } catch (const InvalidArgument& e) {
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: sidecar '{}' holds invalid options: {}", where, e.what());
    }
    if (mean.size() != static_cast<size_t>(o.channels) || sd.size() != mean.size() ||
        !std::all_of(sd.begin(), sd.end(), [](double s) { return std::isfinite(s) && s > 0; }) ||
        !std::all_of(mean.begin(), mean.end(), [](double m) { return std::isfinite(m); }))
        SPORTSMED_THROW(FormatError,
                        "CycleAutoencoder.load: sidecar '{}': channel_mean / channel_sd must hold {} finite values "
                        "(SD > 0)", where, o.channels);
    const std::string weights = read_all(path, "weights");
    if (bytes != weights.size() || crc != fmt::format("{:08x}", seg::detail::crc32_of(weights)))
        SPORTSMED_THROW(FormatError,
                        "CycleAutoencoder.load: the weights '{}' ({} bytes, CRC-32 {:08x}) are not the ones the "
                        "sidecar '{}' describes ({} bytes, CRC-32 {}): an interrupted save or a mixed-up pair of files",
                        path_str, weights.size(), seg::detail::crc32_of(weights), where, bytes, crc);
    seg::detail::check_torch_archive(weights, path_str);
    CycleAutoencoder out(o);
    out.impl_->mean = Eigen::Map<const VecXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
    out.impl_->sd = Eigen::Map<const VecXd>(sd.data(), static_cast<Eigen::Index>(sd.size()));
    out.impl_->history = history;
    out.impl_->fits = fits;
    try {
        out.impl_->net = Net(o);
        out.impl_->net->to(torch::kFloat64);
        std::istringstream in(weights);
        torch::load(out.impl_->net, in);
    } catch (const c10::Error& e) {
        SPORTSMED_THROW(FormatError, "CycleAutoencoder.load: cannot read the weights '{}' for the sidecar's shape: {}",
                        path_str, e.what_without_backtrace());
    }
    out.impl_->net->eval();
    for (auto& p : out.impl_->net->parameters()) p.set_requires_grad(false);
    return out;
}

}  // namespace sportsmed::motion
