// The built-in U-Net (nnU-Net style). See UNetConfig in sportsmed/seg/model.hpp.

#include <algorithm>
#include <variant>

#include <ATen/autocast_mode.h>

#include "detail.hpp"
#include "sportsmed/core/error.hpp"

namespace sportsmed::seg::detail {
namespace {

namespace nn = torch::nn;

nn::AnyModule conv(int dims, int in, int out, int kernel, int stride) {
    const int pad = kernel / 2;
    if (dims == 3) {
        return nn::AnyModule(nn::Conv3d(nn::Conv3dOptions(in, out, kernel).stride(stride).padding(pad)));
    }
    return nn::AnyModule(nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(pad)));
}

nn::AnyModule norm(int dims, int channels) {
    if (dims == 3) return nn::AnyModule(nn::InstanceNorm3d(nn::InstanceNorm3dOptions(channels).affine(true)));
    return nn::AnyModule(nn::InstanceNorm2d(nn::InstanceNorm2dOptions(channels).affine(true)));
}

nn::AnyModule up(int dims, int in, int out) {
    if (dims == 3) {
        return nn::AnyModule(nn::ConvTranspose3d(nn::ConvTranspose3dOptions(in, out, 2).stride(2)));
    }
    return nn::AnyModule(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, 2).stride(2)));
}

// convs_per_stage × (conv → instance norm → leaky ReLU); the first conv may stride.
nn::Sequential stage(const UNetConfig& c, int in, int out, int first_stride) {
    nn::Sequential s;
    for (int i = 0; i < c.convs_per_stage; ++i) {
        s->push_back(conv(c.spatial_dims, i == 0 ? in : out, out, 3, i == 0 ? first_stride : 1));
        s->push_back(norm(c.spatial_dims, out));
        s->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(c.negative_slope).inplace(true)));
    }
    return s;
}

// Fast paths of the training step. Both compute exactly what the modules compute and
// keep the modules (hence parameter names and saved weights) unchanged; under autocast
// the modules' own forward runs, so that the autocast casting policy stays LibTorch's.
bool autocast_active() {
    return at::autocast::is_cpu_enabled() || at::autocast::is_enabled();
}

// Instance norm followed by an in-place leaky ReLU. torch::instance_norm runs batch norm
// over a 1 × (N·C) × spatial view and returns a view of its result; an in-place
// activation on that view makes autograd copy the whole gradient (CopySlices) in
// backward. Here the same batch-norm call is made and the activation applied to its own
// result before reshaping: identical values, no extra gradient copies.
template <typename Norm>
torch::Tensor instance_norm_leaky_relu(Norm& norm, const torch::Tensor& x, double slope) {
    const auto& o = norm.options;
    std::vector<std::int64_t> shape = x.sizes().vec();
    const std::int64_t n = shape[0];
    shape[1] *= n;
    shape[0] = 1;
    const torch::Tensor w = norm.weight.defined() ? norm.weight.repeat({n}) : torch::Tensor();
    const torch::Tensor b = norm.bias.defined() ? norm.bias.repeat({n}) : torch::Tensor();
    torch::Tensor y = torch::batch_norm(x.contiguous().view(shape), w, b, /*running_mean=*/{}, /*running_var=*/{},
                                        /*training=*/true, o.momentum(), o.eps(),
                                        at::globalContext().userEnabledCuDNN());
    torch::leaky_relu_(y, slope);
    return y.view(x.sizes());
}

// Tries the fused norm + activation on modules m[i], m[i+1]; undefined when not applicable.
torch::Tensor try_norm_act(const std::shared_ptr<nn::Module>& norm, const std::shared_ptr<nn::Module>& act,
                           const torch::Tensor& x) {
    auto relu = std::dynamic_pointer_cast<nn::LeakyReLUImpl>(act);
    if (!relu || !relu->options.inplace()) return {};
    if (auto p = std::dynamic_pointer_cast<nn::InstanceNorm3dImpl>(norm)) {
        if (!p->options.track_running_stats()) return instance_norm_leaky_relu(*p, x, relu->options.negative_slope());
    }
    if (auto p = std::dynamic_pointer_cast<nn::InstanceNorm2dImpl>(norm)) {
        if (!p->options.track_running_stats()) return instance_norm_leaky_relu(*p, x, relu->options.negative_slope());
    }
    return {};
}

torch::Tensor run_sequential(nn::Sequential s, torch::Tensor x);

// Inference on the CPU calls oneDNN's convolution directly. LibTorch 1.13 chooses between
// oneDNN and its reference convolution (slow_conv3d: vol2col + the reference BLAS Debian
// links) by heuristics meant for 2-D images: a batch of one window whose
// batch × channels × depth × height is below 20480 (every 3×3×3 layer of a 48³ patch with
// 8 features), and 1×1 layers at one thread, take the reference path, 5–20× slower.
// Training (grad mode) and autocast keep LibTorch's own choice.
bool use_onednn(const torch::Tensor& x) {
    return x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && !torch::GradMode::is_enabled() &&
           !autocast_active() && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
}

torch::Tensor onednn_conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                          torch::IntArrayRef padding, torch::IntArrayRef stride, torch::IntArrayRef dilation,
                          std::int64_t groups) {
    return at::mkldnn_convolution(x.contiguous(), w.contiguous(),
                                  b.defined() ? c10::optional<torch::Tensor>(b) : c10::nullopt, padding, stride,
                                  dilation, groups);
}

// A Conv3d/Conv2d module's forward, through oneDNN when use_onednn (same weights, same
// result to float rounding).
template <std::size_t D, typename Conv>
torch::Tensor run_conv(Conv& c, const torch::Tensor& x) {
    const auto& o = c.options;
    const auto* pad = c10::get_if<torch::ExpandingArray<D>>(&o.padding());
    if (pad && c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()) && use_onednn(x))
        return onednn_conv(x, c.weight, c.bias, **pad, *o.stride(), *o.dilation(), o.groups());
    return c.forward(x);
}

// Transposed convolution with kernel = stride = 2 (no padding, dilation, groups or
// output padding): every output voxel receives exactly one input voxel, so the layer is
// a 1×1 convolution to C_out·2^d channels followed by an interleave of the 2^d kernel
// offsets into the doubled grid. LibTorch 1.13 runs the layer itself through
// slow_conv_transpose3d (vol2col + BLAS gemm, reference BLAS on Debian), which costs
// more than all 3×3×3 convolutions of the coarser levels together; the 1×1 convolution
// runs on oneDNN when more than one thread is used.
template <typename Conv>
torch::Tensor transposed_conv_k2s2(Conv& up, const torch::Tensor& x) {
    const std::int64_t dims = x.dim() - 2;
    const std::int64_t n = x.size(0), cin = x.size(1), cout = up.weight.size(1);
    const std::int64_t taps = std::int64_t{1} << dims;
    std::vector<std::int64_t> wshape = {cout * taps, cin};
    wshape.resize(dims + 2, 1);
    // weight C_in × C_out × 2^d → (C_out·taps) × C_in × 1^d; bias repeated per offset.
    const torch::Tensor w = up.weight.reshape({cin, cout * taps}).t().reshape(wshape);
    const torch::Tensor b =
        up.bias.defined() ? up.bias.view({cout, 1}).expand({cout, taps}).reshape({cout * taps}) : torch::Tensor();
    const std::vector<std::int64_t> zeros(dims, 0), ones(dims, 1);
    const torch::Tensor z = use_onednn(x)   ? onednn_conv(x, w, b, zeros, ones, ones, 1)
                            : dims == 3 ? torch::conv3d(x, w, b)
                                        : torch::conv2d(x, w, b);
    // z viewed as N × C_out × 2 (per axis) × spatial; the output interleaves each axis
    // with its kernel offset: N × C_out × (D·2) × (H·2) × (W·2).
    std::vector<std::int64_t> split = {n, cout}, perm = {0, 1}, out = {n, cout};
    for (std::int64_t d = 0; d < dims; ++d) split.push_back(2);
    for (std::int64_t d = 0; d < dims; ++d) {
        split.push_back(x.size(2 + d));
        perm.push_back(2 + dims + d);
        perm.push_back(2 + d);
        out.push_back(2 * x.size(2 + d));
    }
    return z.view(split).permute(perm).reshape(out);
}

template <std::size_t D, typename Conv>
bool is_k2s2(const Conv& c) {
    const auto& o = c.options;
    auto all = [](const torch::ExpandingArray<D>& v, std::int64_t value) {
        for (auto e : *v)
            if (e != value) return false;
        return true;
    };
    const auto* pad = c10::get_if<torch::ExpandingArray<D>>(&o.padding());
    return pad && all(*pad, 0) && all(o.kernel_size(), 2) && all(o.stride(), 2) && all(o.dilation(), 1) &&
           all(o.output_padding(), 0) && o.groups() == 1;
}

// ModuleList holds type-erased modules; the U-Net only stores these kinds.
torch::Tensor run_module(const std::shared_ptr<nn::Module>& m, const torch::Tensor& x) {
    if (auto p = std::dynamic_pointer_cast<nn::SequentialImpl>(m)) return run_sequential(nn::Sequential(p), x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv3dImpl>(m)) return run_conv<3>(*p, x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv2dImpl>(m)) return run_conv<2>(*p, x);
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose3dImpl>(m)) {
        if (x.device().is_cpu() && !autocast_active() && is_k2s2<3>(*p)) return transposed_conv_k2s2(*p, x);
        return p->forward(x);
    }
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose2dImpl>(m)) {
        if (x.device().is_cpu() && !autocast_active() && is_k2s2<2>(*p)) return transposed_conv_k2s2(*p, x);
        return p->forward(x);
    }
    SPORTSMED_THROW(Error, "UNet: unexpected module type {}", m->name());
}

// A stage: its modules in order, instance norm + leaky ReLU pairs fused.
torch::Tensor run_sequential(nn::Sequential s, torch::Tensor x) {
    const bool fuse = !autocast_active();
    for (auto it = s->begin(); it != s->end(); ++it) {
        if (fuse && it + 1 != s->end()) {
            torch::Tensor y = try_norm_act(it->ptr(), (it + 1)->ptr(), x);
            if (y.defined()) {
                x = std::move(y);
                ++it;
                continue;
            }
        }
        if (auto p = std::dynamic_pointer_cast<nn::Conv3dImpl>(it->ptr())) x = run_conv<3>(*p, x);
        else if (auto q = std::dynamic_pointer_cast<nn::Conv2dImpl>(it->ptr())) x = run_conv<2>(*q, x);
        else x = it->forward(x);
    }
    return x;
}

int features(const UNetConfig& c, int level) {
    return std::min(c.max_features, c.base_features << level);
}

}  // namespace

UNetImpl::UNetImpl(const UNetConfig& c) : config_(c) {
    SPORTSMED_CHECK(c.spatial_dims == 2 || c.spatial_dims == 3, "UNet: spatial_dims must be 2 or 3, got {}",
                    c.spatial_dims);
    SPORTSMED_CHECK(c.levels >= 1 && c.levels <= 8, "UNet: levels must be in [1, 8], got {}", c.levels);
    SPORTSMED_CHECK(c.in_channels >= 1 && c.num_classes >= 2 && c.base_features >= 1 && c.convs_per_stage >= 1,
                    "UNet: in_channels ({}), base_features ({}) and convs_per_stage ({}) must be >= 1 and "
                    "num_classes ({}) >= 2", c.in_channels, c.base_features, c.convs_per_stage, c.num_classes);
    encoder_ = register_module("encoder", nn::ModuleList());
    upsample_ = register_module("upsample", nn::ModuleList());
    decoder_ = register_module("decoder", nn::ModuleList());
    heads_ = register_module("heads", nn::ModuleList());
    for (int l = 0; l < c.levels; ++l) {
        encoder_->push_back(stage(c, l == 0 ? c.in_channels : features(c, l - 1), features(c, l), l == 0 ? 1 : 2));
    }
    // Decoder index i works at level levels-2-i (coarse to fine).
    for (int l = c.levels - 2; l >= 0; --l) {
        upsample_->push_back(up(c.spatial_dims, features(c, l + 1), features(c, l)).ptr());
        decoder_->push_back(stage(c, 2 * features(c, l), features(c, l), 1));
    }
    // heads_[0] is the full-resolution head; further heads (deep supervision) coarser.
    const int n_heads = c.deep_supervision ? std::max(1, c.levels - 1) : 1;
    for (int h = 0; h < n_heads; ++h) {
        heads_->push_back(conv(c.spatial_dims, features(c, h), c.num_classes, 1, 1).ptr());
    }
}

std::vector<torch::Tensor> UNetImpl::forward_all(torch::Tensor x) {
    const auto& c = config_;
    SPORTSMED_CHECK(x.dim() == c.spatial_dims + 2 && x.size(1) == c.in_channels,
                    "UNet: expected input N x {} x spatial ({} dims), got shape {}", c.in_channels,
                    c.spatial_dims + 2, fmt::join(x.sizes().vec(), " x "));
    const std::int64_t factor = std::int64_t{1} << (c.levels - 1);
    for (int d = 0; d < c.spatial_dims; ++d) {
        SPORTSMED_CHECK(x.size(2 + d) % factor == 0,
                        "UNet: spatial size {} on axis {} is not divisible by 2^(levels-1) = {}",
                        x.size(2 + d), d, factor);
    }
    std::vector<torch::Tensor> skips;
    for (std::size_t l = 0; l < encoder_->size(); ++l) {
        x = run_module(encoder_[l], x);
        skips.push_back(x);
    }
    std::vector<torch::Tensor> decoded;  // finest last
    for (std::size_t i = 0; i < decoder_->size(); ++i) {
        const std::size_t level = skips.size() - 2 - i;
        x = run_module(upsample_[i], x);
        x = torch::cat({x, skips[level]}, 1);
        x = run_module(decoder_[i], x);
        decoded.push_back(x);
    }
    if (decoded.empty()) decoded.push_back(x);  // levels == 1: no decoder
    std::vector<torch::Tensor> outputs;
    for (std::size_t h = 0; h < heads_->size(); ++h) {
        outputs.push_back(run_module(heads_[h], decoded[decoded.size() - 1 - h]));
    }
    return outputs;
}

torch::Tensor UNetImpl::forward(torch::Tensor x) { return forward_all(std::move(x)).front(); }

torch::Device parse_device(const std::string& device) {
    try {
        torch::Device d(device);
        if (d.is_cuda()) {
            SPORTSMED_CHECK(torch::cuda::is_available(),
                            "device '{}' requested but this LibTorch sees no CUDA device", device);
        }
        return d;
    } catch (const c10::Error&) {
        SPORTSMED_THROW(InvalidArgument, "device: expected 'cpu', 'cuda' or 'cuda:N', got '{}'", device);
    }
}

}  // namespace sportsmed::seg::detail
