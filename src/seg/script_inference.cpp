// A TorchScript network prepared for CPU inference: frozen, its 2×2(×2) stride-2 transposed
// convolutions rewritten as 1×1 convolutions, and every convolution with constant weights
// called on oneDNN directly.

#include <cmath>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "detail.hpp"

namespace sportsmed::seg::detail {
namespace {

bool all_equal(const c10::IValue& v, std::int64_t value, std::size_t n) {
    if (!v.isIntList()) return false;
    const auto list = v.toIntVector();
    if (list.size() != n) return false;
    for (auto e : list)
        if (e != value) return false;
    return true;
}

// aten::conv_transpose{2,3}d(input, weight, bias, stride, padding, output_padding, groups,
// dilation) with kernel = stride = 2, no padding, output padding or dilation, one group and
// constant weights (a frozen module): every output voxel receives exactly one input voxel,
// so the layer is a 1×1 convolution to C_out·2^d channels followed by an interleave of the
// 2^d kernel offsets into the doubled grid (the built-in U-Net's transposed_conv_k2s2).
// LibTorch 1.13 runs the layer itself through slow_conv_transpose3d (vol2col + reference
// BLAS), about a fifth of a 4-level U-Net's time; the 1×1 convolution runs on oneDNN.
int rewrite_transposed_k2s2(const std::shared_ptr<torch::jit::Graph>& graph) {
    using torch::jit::Node;
    using torch::jit::Symbol;
    std::vector<Node*> matches;
    for (Node* n : graph->nodes()) {
        const bool d3 = n->kind() == Symbol::aten("conv_transpose3d");
        const bool d2 = n->kind() == Symbol::aten("conv_transpose2d");
        if ((!d3 && !d2) || n->inputs().size() != 8) continue;
        const std::size_t dims = d3 ? 3 : 2;
        const auto weight = torch::jit::toIValue(n->input(1));
        const auto bias = torch::jit::toIValue(n->input(2));
        if (!weight || !weight->isTensor() || !bias || !(bias->isTensor() || bias->isNone())) continue;
        const torch::Tensor w = weight->toTensor();
        if (w.dim() != static_cast<std::int64_t>(dims) + 2 || w.scalar_type() != torch::kFloat32) continue;
        bool k2 = true;
        for (std::size_t d = 0; d < dims; ++d) k2 = k2 && w.size(2 + static_cast<std::int64_t>(d)) == 2;
        const auto stride = torch::jit::toIValue(n->input(3)), padding = torch::jit::toIValue(n->input(4)),
                   output_padding = torch::jit::toIValue(n->input(5)), groups = torch::jit::toIValue(n->input(6)),
                   dilation = torch::jit::toIValue(n->input(7));
        if (k2 && stride && all_equal(*stride, 2, dims) && padding && all_equal(*padding, 0, dims) &&
            output_padding && all_equal(*output_padding, 0, dims) && groups && groups->isInt() &&
            groups->toInt() == 1 && dilation && all_equal(*dilation, 1, dims))
            matches.push_back(n);
    }
    for (Node* n : matches) {
        const bool d3 = n->kind() == Symbol::aten("conv_transpose3d");
        const std::int64_t dims = d3 ? 3 : 2, taps = std::int64_t{1} << dims;
        const torch::Tensor w = torch::jit::toIValue(n->input(1))->toTensor();
        const auto bias = torch::jit::toIValue(n->input(2));
        const std::int64_t cin = w.size(0), cout = w.size(1);
        std::vector<std::int64_t> wshape = {cout * taps, cin};
        wshape.resize(static_cast<std::size_t>(dims) + 2, 1);
        // weight C_in × C_out × 2^d → (C_out·taps) × C_in × 1^d; bias repeated per offset.
        const torch::Tensor w1 = w.reshape({cin, cout * taps}).t().reshape(wshape).contiguous();
        torch::jit::WithInsertPoint guard(n);
        std::vector<torch::jit::NamedValue> conv_args = {n->input(0), graph->insertConstant(w1)};
        if (bias->isTensor()) {
            const torch::Tensor b = bias->toTensor();
            conv_args.emplace_back(graph->insertConstant(
                b.view({cout, 1}).expand({cout, taps}).reshape({cout * taps}).contiguous()));
        } else {
            conv_args.emplace_back(graph->insertConstant(c10::IValue()));
        }
        torch::jit::Value* z = graph->insert(Symbol::aten(d3 ? "conv3d" : "conv2d"), conv_args);
        // N × (C_out·2^d) × spatial → N × C_out × 2 (per axis) × spatial, then each axis
        // followed by its offset, then offset and axis merged: N × C_out × (2·spatial).
        std::vector<std::int64_t> split = {cout};
        for (std::int64_t d = 0; d < dims; ++d) split.push_back(2);
        torch::jit::Value* t = graph->insert(Symbol::aten("unflatten"), {z, std::int64_t{1}, split});
        std::vector<std::int64_t> perm = {0, 1};
        for (std::int64_t d = 0; d < dims; ++d) {
            perm.push_back(2 + dims + d);
            perm.push_back(2 + d);
        }
        t = graph->insert(Symbol::aten("permute"), {t, perm});
        for (std::int64_t d = dims - 1; d >= 0; --d)
            t = graph->insert(Symbol::aten("flatten"), {t, 2 + 2 * d, 3 + 2 * d});
        n->output()->replaceAllUsesWith(t);
        n->destroy();
    }
    if (!matches.empty()) torch::jit::EliminateDeadCode(graph);
    return static_cast<int>(matches.size());
}

// aten::conv{2,3}d(input, weight, bias, stride, padding, dilation, groups) with constant
// float weights and integer padding → aten::mkldnn_convolution(input, weight, bias, padding,
// stride, dilation, groups): oneDNN for every window, as the built-in U-Net's run_conv (see
// unet.cpp for LibTorch 1.13's heuristics). Measured on a 4-level U-Net at one thread:
// 48 ms per 48³ window against 62 ms for torch.jit.optimize_for_inference, whose oneDNN
// layout conversions around every instance norm cost more than they save.
int rewrite_conv_onednn(const std::shared_ptr<torch::jit::Graph>& graph) {
    using torch::jit::Node;
    using torch::jit::Symbol;
    std::vector<Node*> matches;
    for (Node* n : graph->nodes()) {
        const bool d3 = n->kind() == Symbol::aten("conv3d");
        if ((!d3 && n->kind() != Symbol::aten("conv2d")) || n->inputs().size() != 7) continue;
        const std::size_t dims = d3 ? 3 : 2;
        const auto weight = torch::jit::toIValue(n->input(1));
        const auto bias = torch::jit::toIValue(n->input(2));
        const auto stride = torch::jit::toIValue(n->input(3)), padding = torch::jit::toIValue(n->input(4)),
                   dilation = torch::jit::toIValue(n->input(5)), groups = torch::jit::toIValue(n->input(6));
        if (!weight || !weight->isTensor() || weight->toTensor().scalar_type() != torch::kFloat32 || !bias ||
            !(bias->isNone() || (bias->isTensor() && bias->toTensor().scalar_type() == torch::kFloat32)))
            continue;
        if (!stride || !padding || !dilation || !groups || !stride->isIntList() || !padding->isIntList() ||
            !dilation->isIntList() || !groups->isInt() || stride->toIntVector().size() != dims ||
            padding->toIntVector().size() != dims || dilation->toIntVector().size() != dims)
            continue;
        matches.push_back(n);
    }
    for (Node* n : matches) {
        torch::jit::WithInsertPoint guard(n);
        torch::jit::Value* x = graph->insert(Symbol::aten("contiguous"), {n->input(0)});
        torch::jit::Value* y = graph->insert(Symbol::aten("mkldnn_convolution"),
                                             {x, n->input(1), n->input(2), n->input(4), n->input(3), n->input(5),
                                              n->input(6)});
        n->output()->replaceAllUsesWith(y);
        n->destroy();
    }
    if (!matches.empty()) torch::jit::EliminateDeadCode(graph);
    return static_cast<int>(matches.size());
}

}  // namespace

std::optional<torch::jit::Module> optimize_script_for_cpu(const torch::jit::Module& script,
                                                          const std::vector<std::int64_t>& patch,
                                                          std::int64_t in_channels) {
    c10::InferenceMode off(false);  // the constants must be ordinary tensors
    torch::NoGradGuard no_grad;
    try {
        if (!at::hasMKLDNN()) return std::nullopt;
        torch::jit::Module optimized = torch::jit::freeze(script);  // also folds conv + batch norm
        const auto graph = optimized.get_method("forward").graph();
        rewrite_transposed_k2s2(graph);
        rewrite_conv_onednn(graph);
        // The optimised network must compute what the original does (to float rounding) on
        // a deterministic pseudo-random input; otherwise the original runs. The input is the
        // smallest of patch/4, patch/2 and the patch the original accepts, two windows of it:
        // the original's first run (TorchScript's profiling executor, LibTorch 1.13's
        // reference convolution for a lone window) would otherwise be the peak memory of a
        // whole segmentation.
        auto first = [](const c10::IValue& out) -> torch::Tensor {
            if (out.isTensor()) return out.toTensor();
            if (out.isTuple()) return out.toTuple()->elements().at(0).toTensor();
            if (out.isList()) return out.toList().get(0).toTensor();
            return {};
        };
        torch::jit::Module original = script;  // forward() is not const
        for (const std::int64_t f : {4, 2, 1}) {
            std::vector<std::int64_t> shape = {2, in_channels};
            for (const std::int64_t p : patch) shape.push_back(p % f == 0 ? p / f : p);
            std::int64_t numel = 1;
            for (auto v : shape) numel *= v;
            const torch::Tensor x = torch::sin(torch::arange(numel, torch::kFloat32) * 0.37f).reshape(shape);
            torch::Tensor expected;
            try {
                expected = first(original.forward({x}));
            } catch (const std::exception&) {
                if (f > 1) continue;  // e.g. a U-Net whose levels do not divide that size
                throw;
            }
            const torch::Tensor got = first(optimized.forward({x}));
            if (!expected.defined() || !got.defined() || expected.sizes() != got.sizes()) return std::nullopt;
            const double scale = expected.abs().max().item<double>();
            const double diff = (expected - got).abs().max().item<double>();
            if (!(diff <= 1e-4 * (1.0 + scale))) return std::nullopt;
            break;
        }
        return optimized;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace sportsmed::seg::detail
