// Training of the built-in U-Net: patch sampling with foreground oversampling,
// augmentation, a multi-threaded batch loader, Dice+CE, polynomial learning-rate decay,
// validation Dice, checkpoints with resume.

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "augment.hpp"
#include "detail.hpp"
#include "loss.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/seg/inference.hpp"
#include "sportsmed/seg/train.hpp"

namespace sportsmed::seg {
namespace {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {  // splitmix64 of a combination
    std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E5ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Autocast over a scope (LibTorch's C++ API has no torch.autocast): sets the thread-local
// autocast state for one device type and restores it, clearing the cast cache on the
// outermost exit as torch.autocast does.
class AutocastScope {
public:
    AutocastScope(torch::DeviceType device, at::ScalarType dtype) : device_(device) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        enabled_ = at::autocast::is_autocast_enabled(device);
        dtype_ = at::autocast::get_autocast_dtype(device);
        at::autocast::set_autocast_enabled(device, true);
        at::autocast::set_autocast_dtype(device, dtype);
#else
        if (device == torch::kCUDA) {
            enabled_ = at::autocast::is_enabled();
            dtype_ = at::autocast::get_autocast_gpu_dtype();
            at::autocast::set_enabled(true);
            at::autocast::set_autocast_gpu_dtype(dtype);
        } else {
            enabled_ = at::autocast::is_cpu_enabled();
            dtype_ = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_cpu_enabled(true);
            at::autocast::set_autocast_cpu_dtype(dtype);
        }
#endif
        at::autocast::increment_nesting();
    }
    ~AutocastScope() {
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(device_, enabled_);
        at::autocast::set_autocast_dtype(device_, dtype_);
#else
        if (device_ == torch::kCUDA) {
            at::autocast::set_enabled(enabled_);
            at::autocast::set_autocast_gpu_dtype(dtype_);
        } else {
            at::autocast::set_cpu_enabled(enabled_);
            at::autocast::set_autocast_cpu_dtype(dtype_);
        }
#endif
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    torch::DeviceType device_;
    bool enabled_ = false;
    at::ScalarType dtype_ = at::kFloat;
};

// Dynamic loss scaling for float16 (as torch.cuda.amp.GradScaler): the loss is multiplied
// by `scale` before backward; gradients are unscaled before clipping; a step with
// non-finite gradients is skipped and halves the scale; 2000 good steps double it.
struct LossScaler {
    bool active = false;
    double scale = 65536.0;
    int good_steps = 0;

    // Unscales in place; false when a gradient is not finite (the step must be skipped).
    bool unscale(std::vector<torch::Tensor>& params) {
        if (!active) return true;
        std::vector<torch::Tensor> ok;  // one device-to-host read for all parameters
        for (auto& p : params) {
            if (!p.grad().defined()) continue;
            p.mutable_grad().div_(scale);
            ok.push_back(torch::isfinite(p.grad()).all());
        }
        const bool finite = ok.empty() || torch::stack(ok).all().item<bool>();
        if (!finite) {
            scale /= 2;
            good_steps = 0;
        } else if (++good_steps == 2000) {
            scale *= 2;
            good_steps = 0;
        }
        return finite;
    }
};

struct Prepared {
    std::vector<std::int64_t> shape;            // after padding to the patch
    torch::Tensor image;                        // 1 × 1 × spatial float
    torch::Tensor labels;                       // 1 × 1 × spatial float class ids
    std::vector<std::vector<std::int64_t>> fg;  // per class: flat voxel indices
};

Prepared prepare(const Sample& s, int num_classes, const std::vector<std::int64_t>& patch, const char* what,
                 std::size_t index) {
    SPORTSMED_CHECK(s.shape.size() == patch.size(), "train: {} sample {} has {} axes, the model {}", what, index,
                    s.shape.size(), patch.size());
    std::int64_t n = 1;
    for (auto v : s.shape) n *= v;
    SPORTSMED_CHECK(static_cast<std::int64_t>(s.image.size()) == n && static_cast<std::int64_t>(s.labels.size()) == n,
                    "train: {} sample {} has {} intensities and {} labels for {} voxels", what, index, s.image.size(),
                    s.labels.size(), n);
    for (std::uint8_t l : s.labels) {
        SPORTSMED_CHECK(l < num_classes, "train: {} sample {} has label {} but the model has {} classes", what, index,
                        static_cast<int>(l), num_classes);
    }
    std::vector<std::int64_t> full = {1, 1};
    full.insert(full.end(), s.shape.begin(), s.shape.end());
    Prepared p;
    p.image = torch::from_blob(const_cast<float*>(s.image.data()), full, torch::kFloat32).clone();
    SPORTSMED_CHECK(torch::isfinite(p.image).all().item<bool>(), "train: {} sample {} has NaN or infinite intensities",
                    what, index);
    p.labels = torch::from_blob(const_cast<std::uint8_t*>(s.labels.data()), full, torch::kUInt8).to(torch::kFloat32);
    // z-score like inference, then pad to at least the patch (labels pad as background).
    const double sd = p.image.std(false).item<double>();
    p.image = (p.image - p.image.mean()) / (sd > 0 ? sd : 1.0);
    std::vector<std::int64_t> pads;
    p.shape = s.shape;
    for (std::int64_t d = static_cast<std::int64_t>(patch.size()) - 1; d >= 0; --d) {
        const std::int64_t missing = std::max<std::int64_t>(0, patch[d] - s.shape[d]);
        pads.push_back(missing / 2);
        pads.push_back(missing - missing / 2);
        p.shape[d] = std::max(patch[d], s.shape[d]);
    }
    p.image = torch::constant_pad_nd(p.image, pads, 0.0);
    p.labels = torch::constant_pad_nd(p.labels, pads, 0.0);
    p.fg.resize(num_classes);
    const torch::Tensor flat = p.labels.flatten().to(torch::kLong).contiguous();
    const std::int64_t* ids = flat.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < flat.numel(); ++i)
        if (ids[i] > 0) p.fg[ids[i]].push_back(i);
    return p;
}

struct Batch {
    torch::Tensor x;  // B × 1 × patch
    torch::Tensor y;  // B × patch, int64
};

Batch make_batch(const std::vector<Prepared>& data, const std::vector<std::int64_t>& patch, int batch_size,
                 double fg_fraction, bool augment, std::uint64_t seed, const std::vector<int>& flip_axes) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const int dims = static_cast<int>(patch.size());
    // As nnU-Net: the last round(B × fg_fraction) elements are forced onto foreground.
    const int first_forced = batch_size - static_cast<int>(std::lround(batch_size * fg_fraction));
    std::vector<torch::Tensor> xs, ys;
    for (int b = 0; b < batch_size; ++b) {
        const Prepared& s = data[rng() % data.size()];
        std::vector<std::int64_t> start(dims);
        std::vector<int> classes;
        for (std::size_t c = 1; c < s.fg.size(); ++c)
            if (!s.fg[c].empty()) classes.push_back(static_cast<int>(c));
        if (b >= first_forced && !classes.empty()) {
            const auto& voxels = s.fg[classes[rng() % classes.size()]];
            std::int64_t v = voxels[rng() % voxels.size()];
            std::vector<std::int64_t> at(dims);
            for (int d = dims - 1; d >= 0; --d) {
                at[d] = v % s.shape[d];
                v /= s.shape[d];
            }
            for (int d = 0; d < dims; ++d)
                start[d] = std::clamp<std::int64_t>(at[d] - patch[d] / 2, 0, s.shape[d] - patch[d]);
        } else {
            for (int d = 0; d < dims; ++d) start[d] = static_cast<std::int64_t>(rng() % (s.shape[d] - patch[d] + 1));
        }
        torch::Tensor x = s.image, y = s.labels;
        for (int d = 0; d < dims; ++d) {
            x = x.narrow(2 + d, start[d], patch[d]);
            y = y.narrow(2 + d, start[d], patch[d]);
        }
        x = x.clone();
        y = y.clone();
        if (augment) {
            detail::random_flips(x, y, rng, flip_axes);
            if (unit(rng) < 0.3) {
                detail::SpatialParams sp;
                sp.max_rotation_deg = 15;
                sp.min_scale = 0.85;
                sp.max_scale = 1.2;
                sp.elastic_std_vox = unit(rng) < 0.5 ? 1.5 : 0.0;
                detail::apply_grid(x, y, detail::random_grid(patch, sp, rng));
            }
            if (unit(rng) < 0.2) {
                std::vector<double> sigma(dims);
                for (double& v : sigma) v = 0.5 + 0.5 * unit(rng);
                x = detail::gaussian_blur(x, sigma);
            }
            if (unit(rng) < 0.3) x = x * detail::bias_field(patch, 0.2, rng);
            if (unit(rng) < 0.15) x = x * (0.75 + 0.5 * unit(rng));
            if (unit(rng) < 0.3) {  // gamma on the [0, 1]-rescaled patch
                const torch::Tensor lo = x.min(), range = torch::clamp_min(x.max() - lo, 1e-6);
                x = ((x - lo) / range).pow(0.7 + 0.8 * unit(rng)) * range + lo;
            }
            if (unit(rng) < 0.15) x = x + (0.1 * unit(rng)) * detail::randn(x.sizes().vec(), rng);
        }
        xs.push_back(x[0]);
        ys.push_back(y[0][0].round().to(torch::kLong));
    }
    return {torch::stack(xs), torch::stack(ys)};
}

// Prepares batches on worker threads, at most `ahead` batches in advance; batch i
// depends only on its seed, so results do not depend on the thread count.
class Loader {
public:
    Loader(std::int64_t count, int threads, std::function<Batch(std::int64_t)> make)
        : count_(count), ahead_(std::max(2, threads + 1)), make_(std::move(make)) {
        for (int t = 0; t < std::max(1, threads); ++t) workers_.emplace_back([this] { work(); });
    }
    ~Loader() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& w : workers_) w.join();
    }
    Batch get(std::int64_t i) {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return ready_.count(i) || error_; });
        if (error_) std::rethrow_exception(error_);
        Batch b = std::move(ready_[i]);
        ready_.erase(i);
        consumed_ = i + 1;
        cv_.notify_all();
        return b;
    }

private:
    void work() {
        for (;;) {
            std::int64_t i;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                cv_.wait(lock, [&] { return stop_ || next_ >= count_ || next_ < consumed_ + ahead_; });
                if (stop_ || next_ >= count_) return;
                i = next_++;
            }
            try {
                Batch b = make_(i);
                std::lock_guard<std::mutex> lock(mutex_);
                ready_[i] = std::move(b);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            cv_.notify_all();
        }
    }

    std::int64_t count_;
    std::int64_t ahead_;
    std::function<Batch(std::int64_t)> make_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::int64_t, Batch> ready_;
    std::int64_t next_ = 0, consumed_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
    std::vector<std::thread> workers_;
};

torch::Tensor downsample_labels(const torch::Tensor& y, const torch::Tensor& like) {
    if (y.sizes().slice(1) == like.sizes().slice(2)) return y;
    std::vector<std::int64_t> size(like.sizes().begin() + 2, like.sizes().end());
    return F::interpolate(y.unsqueeze(1).to(torch::kFloat32),
                          F::InterpolateFuncOptions().size(size).mode(torch::kNearest))
        .squeeze(1)
        .round()
        .to(torch::kLong);
}

nlohmann::json history_json(const std::vector<EpochStats>& history) {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& e : history) {
        nlohmann::json dice = nlohmann::json::array();
        for (double d : e.val_dice) dice.push_back(std::isnan(d) ? nlohmann::json() : nlohmann::json(d));
        h.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"val_dice", dice},
                     {"learning_rate", e.learning_rate}, {"seconds", e.seconds}});
    }
    return h;
}

std::vector<EpochStats> history_from_json(const nlohmann::json& h) {
    std::vector<EpochStats> out;
    for (const auto& e : h) {
        EpochStats s;
        s.epoch = e.at("epoch").get<int>();
        s.train_loss = e.at("train_loss").get<double>();
        for (const auto& d : e.at("val_dice"))
            s.val_dice.push_back(d.is_null() ? std::numeric_limits<double>::quiet_NaN() : d.get<double>());
        s.learning_rate = e.at("learning_rate").get<double>();
        s.seconds = e.at("seconds").get<double>();
        out.push_back(s);
    }
    return out;
}

using DataForEpoch = std::function<std::vector<Prepared>(int epoch)>;

TrainResult train_impl(Model& model, const DataForEpoch& data_for_epoch, const std::vector<Sample>& validation,
                       const TrainOptions& o) {
    auto& impl = model.impl();
    SPORTSMED_CHECK(impl.unet, "train: only built-in U-Nets can be trained (this model is '{}')",
                    model.spec().architecture);
    SPORTSMED_CHECK(o.epochs >= 1 && o.iterations_per_epoch >= 1 && o.batch_size >= 1,
                    "train: epochs ({}), iterations_per_epoch ({}) and batch_size ({}) must be >= 1", o.epochs,
                    o.iterations_per_epoch, o.batch_size);
    SPORTSMED_CHECK(o.optimizer == "adamw" || o.optimizer == "sgd", "train: optimizer must be 'adamw' or 'sgd', got '{}'",
                    o.optimizer);
    SPORTSMED_CHECK(o.foreground_fraction >= 0 && o.foreground_fraction <= 1,
                    "train: foreground_fraction must be in [0, 1], got {}", o.foreground_fraction);
    SPORTSMED_CHECK(o.precision == "float32" || o.precision == "bfloat16" || o.precision == "float16",
                    "train: precision must be 'float32', 'bfloat16' or 'float16', got '{}'", o.precision);
    const ModelSpec& spec = model.spec();
    const int k = spec.num_classes();
    const std::vector<std::int64_t> patch = o.patch_size.empty() ? spec.patch_size : o.patch_size;
    SPORTSMED_CHECK(patch.size() == spec.patch_size.size(), "train: patch_size has {} axes, the model {}", patch.size(),
                    spec.patch_size.size());
    SPORTSMED_CHECK(o.class_weights.empty() || static_cast<int>(o.class_weights.size()) == k,
                    "train: {} class weights for {} classes", o.class_weights.size(), k);
    const std::vector<int> flip_axes = o.flip_axes.empty() ? spec.mirror_axes : o.flip_axes;
    for (int a : flip_axes)
        SPORTSMED_CHECK(a >= 0 && a < static_cast<int>(patch.size()),
                        "train: flip_axes has {}, outside the spatial axes 0..{}", a, static_cast<int>(patch.size()) - 1);

    model.to(o.device);
    const torch::DeviceType device_type = impl.device.type();
    SPORTSMED_CHECK(o.precision != "float16" || device_type == torch::kCUDA,
                    "train: precision 'float16' needs a CUDA device (use 'bfloat16' on {})", impl.device.str());
    const bool autocast = o.precision != "float32";
    const at::ScalarType autocast_dtype = o.precision == "float16" ? at::kHalf : at::kBFloat16;
    LossScaler scaler;
    scaler.active = o.precision == "float16";
    torch::manual_seed(o.seed);
    auto params = impl.parameters();
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (o.optimizer == "adamw") {
        optimizer = std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
    } else {
        optimizer = std::make_unique<torch::optim::SGD>(
            params, torch::optim::SGDOptions(o.learning_rate).momentum(0.99).nesterov(true).weight_decay(o.weight_decay));
    }
    torch::Tensor weights;
    if (!o.class_weights.empty()) weights = torch::tensor(o.class_weights, torch::kFloat32).to(impl.device);

    TrainResult result;
    int start_epoch = 0;
    const std::string state_path = o.checkpoint + ".state.json";
    if (o.resume && !o.checkpoint.empty() && fs::exists(o.checkpoint) && fs::exists(state_path)) {
        Model saved = Model::load(o.checkpoint, o.device);
        torch::NoGradGuard no_grad;
        auto src = saved.impl().unet->named_parameters();
        for (auto& p : impl.unet->named_parameters()) p.value().copy_(src[p.key()]);
        auto src_buffers = saved.impl().unet->named_buffers();
        for (auto& b : impl.unet->named_buffers()) b.value().copy_(src_buffers[b.key()]);
        torch::load(*optimizer, o.checkpoint + ".optim");
        std::ifstream in(state_path);
        const nlohmann::json state = nlohmann::json::parse(in);
        start_epoch = state.at("epochs_done").get<int>();
        result.history = history_from_json(state.at("history"));
    }

    const std::int64_t total = static_cast<std::int64_t>(o.epochs) * o.iterations_per_epoch;
    ProgressReporter reporter(o.progress, "train", total, 0.0);
    reporter.advance(static_cast<std::int64_t>(start_epoch) * o.iterations_per_epoch);
    for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<Prepared> data = data_for_epoch(epoch);
        SPORTSMED_CHECK(!data.empty(), "train: no training samples");
        Loader loader(o.iterations_per_epoch, o.loader_threads, [&](std::int64_t i) {
            return make_batch(data, patch, o.batch_size, o.foreground_fraction, o.augment,
                              mix(mix(o.seed, static_cast<std::uint64_t>(epoch)), static_cast<std::uint64_t>(i)),
                              flip_axes);
        });
        impl.train(true);
        double loss_sum = 0, lr = o.learning_rate;
        for (int i = 0; i < o.iterations_per_epoch; ++i) {
            const std::int64_t it = static_cast<std::int64_t>(epoch) * o.iterations_per_epoch + i;
            lr = o.learning_rate * std::pow(1.0 - static_cast<double>(it) / static_cast<double>(total), o.poly_power);
            for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
            Batch batch = loader.get(i);
            const torch::Tensor x = batch.x.to(impl.device), y = batch.y.to(impl.device);
            std::vector<torch::Tensor> outs;
            if (autocast) {  // forward in reduced precision; loss and backward in float32
                AutocastScope scope(device_type, autocast_dtype);
                outs = impl.unet->forward_all(x);
            } else {
                outs = impl.unet->forward_all(x);
            }
            torch::Tensor loss;
            double wsum = 0;
            for (std::size_t h = 0; h < outs.size(); ++h) {  // deep supervision: weights 1/2^h
                const double w = std::ldexp(1.0, -static_cast<int>(h));
                const torch::Tensor out = outs[h].to(torch::kFloat32);
                const torch::Tensor l = detail::dice_ce_loss(out, downsample_labels(y, out), weights, /*batch=*/true) * w;
                loss = loss.defined() ? loss + l : l;
                wsum += w;
            }
            loss = loss / wsum;
            optimizer->zero_grad();
            (scaler.active ? loss * scaler.scale : loss).backward();
            if (scaler.unscale(params)) {
                torch::nn::utils::clip_grad_norm_(params, 12.0);
                optimizer->step();
            }
            const double value = loss.item<double>();
            SPORTSMED_CHECK_AS(Error, std::isfinite(value), "train: the loss became {} at epoch {} iteration {}",
                               value, epoch + 1, i + 1);
            loss_sum += value;
            if (o.progress) {
                reporter.advance(1);
            }
        }
        impl.train(false);
        EpochStats stats;
        stats.epoch = epoch + 1;
        stats.train_loss = loss_sum / o.iterations_per_epoch;
        stats.learning_rate = lr;
        if (!validation.empty() && o.validate_every > 0 && (epoch + 1) % o.validate_every == 0) {
            std::vector<double> sum(k, 0.0);
            std::vector<int> count(k, 0);
            for (const Sample& v : validation) {
                SegmentOptions so;
                so.batch_size = std::max(1, o.batch_size);
                const Segmentation seg = segment(model, v.image.data(), v.shape, so);
                const std::vector<double> d = dice_per_class(seg.labels, v.labels, k);
                for (int c = 0; c < k; ++c)
                    if (!std::isnan(d[c])) sum[c] += d[c], count[c]++;
            }
            for (int c = 0; c < k; ++c)
                stats.val_dice.push_back(count[c] ? sum[c] / count[c] : std::numeric_limits<double>::quiet_NaN());
        }
        stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        result.history.push_back(stats);
        if (!o.checkpoint.empty()) {
            model.save(o.checkpoint);
            torch::save(*optimizer, o.checkpoint + ".optim");
            const nlohmann::json state = {{"epochs_done", epoch + 1}, {"history", history_json(result.history)}};
            std::ofstream(state_path + ".tmp") << state.dump(2);
            fs::rename(state_path + ".tmp", state_path);
        }
        if (o.progress && !o.progress(reporter.fraction(), fmt::format("epoch {}/{} loss {:.4f}", epoch + 1, o.epochs,
                                                                       stats.train_loss))) {
            SPORTSMED_THROW(Cancelled, "train: cancelled by the progress callback after epoch {}", epoch + 1);
        }
    }
    return result;
}

}  // namespace

std::vector<double> dice_per_class(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                                   int num_classes) {
    SPORTSMED_CHECK(a.size() == b.size(), "dice_per_class: label maps have {} and {} voxels", a.size(), b.size());
    std::vector<double> inter(num_classes, 0), na(num_classes, 0), nb(num_classes, 0);
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] < num_classes) na[a[i]]++;
        if (b[i] < num_classes) nb[b[i]]++;
        if (a[i] == b[i] && a[i] < num_classes) inter[a[i]]++;
    }
    std::vector<double> d(num_classes);
    for (int c = 0; c < num_classes; ++c)
        d[c] = na[c] + nb[c] > 0 ? 2 * inter[c] / (na[c] + nb[c]) : std::numeric_limits<double>::quiet_NaN();
    return d;
}

TrainResult train(Model& model, const std::vector<Sample>& training, const std::vector<Sample>& validation,
                  const TrainOptions& options) {
    SPORTSMED_CHECK(!training.empty(), "train: no training samples");
    const std::vector<std::int64_t> patch = options.patch_size.empty() ? model.spec().patch_size : options.patch_size;
    std::vector<Prepared> prepared;
    for (std::size_t i = 0; i < training.size(); ++i)
        prepared.push_back(prepare(training[i], model.spec().num_classes(), patch, "training", i));
    for (std::size_t i = 0; i < validation.size(); ++i)
        prepare(validation[i], model.spec().num_classes(), patch, "validation", i);  // validates only
    return train_impl(model, [&](int) { return prepared; }, validation, options);
}

TrainResult train(Model& model, const SampleSource& source, const std::vector<Sample>& validation,
                  const TrainOptions& options) {
    SPORTSMED_CHECK(options.samples_per_epoch >= 1, "train: samples_per_epoch must be >= 1, got {}",
                    options.samples_per_epoch);
    const std::vector<std::int64_t> patch = options.patch_size.empty() ? model.spec().patch_size : options.patch_size;
    const int k = model.spec().num_classes();
    return train_impl(
        model,
        [&](int epoch) {
            std::vector<Prepared> prepared(options.samples_per_epoch);
            parallel_for(0, options.samples_per_epoch, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) {
                    const std::uint64_t index = static_cast<std::uint64_t>(epoch) * options.samples_per_epoch + i;
                    prepared[i] = prepare(source(index, mix(options.seed, index)), k, patch, "generated",
                                          static_cast<std::size_t>(index));
                }
            });
            return prepared;
        },
        validation, options);
}

}  // namespace sportsmed::seg
