// The built-in U-Net (nnU-Net style). See UNetConfig in sportsmed/seg/model.hpp.

#include <algorithm>

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

// ModuleList holds type-erased modules; the U-Net only stores these kinds.
torch::Tensor run_module(const std::shared_ptr<nn::Module>& m, const torch::Tensor& x) {
    if (auto p = std::dynamic_pointer_cast<nn::SequentialImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv3dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv2dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose3dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose2dImpl>(m)) return p->forward(x);
    SPORTSMED_THROW(Error, "UNet: unexpected module type {}", m->name());
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
