#pragma once
// Internal LibTorch side of the seg pillar (never installed, never in public headers).

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "sportsmed/seg/model.hpp"

namespace sportsmed::seg::detail {

/// The built-in U-Net (see UNetConfig).
class UNetImpl : public torch::nn::Module {
public:
    explicit UNetImpl(const UNetConfig& config);
    /// Logits N × classes × spatial at full resolution.
    torch::Tensor forward(torch::Tensor x);
    /// Full-resolution logits first, then (with deep supervision) lower-resolution heads.
    std::vector<torch::Tensor> forward_all(torch::Tensor x);
    const UNetConfig& config() const { return config_; }

private:
    UNetConfig config_;
    torch::nn::ModuleList encoder_{nullptr};
    torch::nn::ModuleList upsample_{nullptr};
    torch::nn::ModuleList decoder_{nullptr};
    torch::nn::ModuleList heads_{nullptr};
};
TORCH_MODULE(UNet);

torch::Device parse_device(const std::string& device);

/// @p script frozen (torch.jit.freeze, which folds batch norms into convolutions), its
/// kernel-2 stride-2 transposed convolutions rewritten as 1×1 convolutions plus an
/// interleave, and its convolutions called as aten::mkldnn_convolution (oneDNN whatever the
/// batch size): the CPU inference version of the network.
/// Empty when a pass fails or when the result differs from @p script's (by more than 1e-4
/// relative) on a deterministic window of @p patch × @p in_channels.
std::optional<torch::jit::Module> optimize_script_for_cpu(const torch::jit::Module& script,
                                                          const std::vector<std::int64_t>& patch,
                                                          std::int64_t in_channels);

}  // namespace sportsmed::seg::detail

namespace sportsmed::seg {

struct Model::Impl {
    ModelSpec spec;
    detail::UNet unet{nullptr};
    std::optional<torch::jit::Module> script;
    /// The TorchScript network frozen and optimised for inference on the CPU (oneDNN
    /// convolutions with prepacked weights), made by prepare_inference(); empty when not
    /// made yet, not on the CPU, or when freezing failed (the plain module runs then).
    std::optional<torch::jit::Module> script_inference;
    bool script_inference_tried = false;
    torch::Device device{torch::kCPU};

    /// Logits N × classes × spatial (eval mode, no grad is the caller's business). Without
    /// grad mode a TorchScript network runs its script_inference version when there is one.
    torch::Tensor forward(const torch::Tensor& x);
    /// Eval mode, and for a TorchScript network on the CPU its frozen, optimised version.
    void prepare_inference();
    /// Parameters to optimise (built-in U-Net only).
    std::vector<torch::Tensor> parameters();
    void train(bool on);
};

}  // namespace sportsmed::seg

namespace sportsmed {
class ProgressReporter;
}

namespace sportsmed::seg::detail {

/// Receives the averaged logits of rows [begin, end) along axis 0: classes × rows × rest.
using SlabSink = std::function<void(std::int64_t begin, std::int64_t end, const torch::Tensor& logits)>;

/// Sliding-window engine behind segment(). @p image: C × spatial (float, normalised, at
/// least patch-sized). @p net maps N × C × patch to N × K × patch logits. Calls @p sink
/// in increasing order of axis-0 rows; once for the whole volume if !low_memory. With
/// @p mirror, the logits are averaged over every combination of flips along @p mirror_axes
/// (spatial axes; empty = every axis).
void sliding_window(const std::function<torch::Tensor(const torch::Tensor&)>& net, const torch::Tensor& image,
                    const std::vector<std::int64_t>& patch, double step_fraction, int batch_size, bool mirror,
                    bool low_memory, torch::Device device, const SlabSink& sink, ProgressReporter* progress,
                    const std::vector<int>& mirror_axes = {});

torch::Tensor gaussian_importance_tensor(const std::vector<std::int64_t>& patch, double sigma_scale);

/// Batches [first, last) of @p windows windows taken in order, @p batch_size at a time; a
/// last batch of one window joins the batch before it (see sliding_window).
std::vector<std::pair<std::size_t, std::size_t>> plan_batches(std::size_t windows, int batch_size);

}  // namespace sportsmed::seg::detail
