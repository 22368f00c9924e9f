// The built-in U-Net computes its transposed convolutions (kernel = stride = 2) as a 1×1
// convolution plus an interleave, and fuses instance norm with the in-place leaky ReLU.
// Reference: the same network run through LibTorch's own module forward() calls.

#include <atomic>
#include <string>

#include "support/torch_catch.hpp"  // before anything else that includes torch
#include <ATen/record_function.h>

#include "seg/detail.hpp"

using namespace sportsmed;
using sportsmed::seg::UNetConfig;

namespace {

std::atomic<int> g_slow_transposed{0};

std::unique_ptr<at::ObserverContext> count_slow_transposed(const at::RecordFunction& fn) {
    if (std::string(fn.name()).find("slow_conv_transpose") != std::string::npos) ++g_slow_transposed;
    return nullptr;
}

// Runs @p body and returns how many slow_conv_transpose{2,3}d calls it made.
template <typename Body>
int slow_transposed_calls(Body&& body) {
    g_slow_transposed = 0;
    const auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(count_slow_transposed));
    body();
    at::removeCallback(handle);
    return g_slow_transposed.load();
}

torch::Tensor module_forward(const std::shared_ptr<torch::nn::Module>& m, const torch::Tensor& x) {
    namespace nn = torch::nn;
    if (auto p = std::dynamic_pointer_cast<nn::SequentialImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv3dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::Conv2dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose3dImpl>(m)) return p->forward(x);
    if (auto p = std::dynamic_pointer_cast<nn::ConvTranspose2dImpl>(m)) return p->forward(x);
    throw std::runtime_error("unexpected module " + m->name());
}

// The U-Net's data flow with every layer computed by the LibTorch module itself.
torch::Tensor reference_forward(seg::detail::UNet& net, torch::Tensor x) {
    auto children = net->named_children();
    auto list = [&](const char* name) { return std::dynamic_pointer_cast<torch::nn::ModuleListImpl>(children[name]); };
    const auto enc = list("encoder"), up = list("upsample"), dec = list("decoder"), heads = list("heads");
    std::vector<torch::Tensor> skips;
    for (std::size_t l = 0; l < enc->size(); ++l) {
        x = module_forward(enc->ptr(l), x);
        skips.push_back(x);
    }
    for (std::size_t i = 0; i < dec->size(); ++i) {
        x = torch::cat({module_forward(up->ptr(i), x), skips[skips.size() - 2 - i]}, 1);
        x = module_forward(dec->ptr(i), x);
    }
    return module_forward(heads->ptr(0), x);
}

UNetConfig config(int dims) {
    UNetConfig c;
    c.spatial_dims = dims;
    c.levels = 3;
    c.base_features = 4;
    c.num_classes = 3;
    return c;
}

}  // namespace

TEST_CASE("seg: U-Net fast paths equal LibTorch's modules in values and gradients", "[seg][unet]") {
    for (int dims : {3, 2}) {
        torch::manual_seed(11);
        seg::detail::UNet net(config(dims));
        net->to(torch::kFloat64);
        net->train(true);
        const torch::Tensor x = dims == 3 ? torch::randn({2, 1, 8, 16, 12}, torch::kFloat64)
                                          : torch::randn({2, 1, 16, 12}, torch::kFloat64);
        std::vector<torch::Tensor> grads[2];
        torch::Tensor out[2];
        for (int pass = 0; pass < 2; ++pass) {  // 0: the U-Net's forward, 1: module by module
            for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
            const int slow = slow_transposed_calls([&] {
                out[pass] = pass == 0 ? net->forward(x) : reference_forward(net, x);
                torch::manual_seed(5);  // same random weighting of the outputs in both passes
                (out[pass] * torch::randn_like(out[pass])).sum().backward();
            });
            if (pass == 0) CHECK(slow == 0);  // the fast path is taken...
            else CHECK(slow > 0);             // ...and the reference really is LibTorch's layer
            for (auto& p : net->parameters()) grads[pass].push_back(p.grad().clone());
        }
        CAPTURE(dims);
        CHECK(torch::allclose(out[0], out[1], 1e-12, 1e-12));
        REQUIRE(grads[0].size() == grads[1].size());
        for (std::size_t i = 0; i < grads[0].size(); ++i) {
            CAPTURE(i);
            CHECK(torch::allclose(grads[0][i], grads[1][i], 1e-10, 1e-12));
        }
    }
}

TEST_CASE("seg: U-Net fast paths agree with the modules in float32 inference", "[seg][unet]") {
    torch::manual_seed(12);
    seg::detail::UNet net(config(3));
    net->train(false);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({1, 1, 16, 16, 16});
    CHECK(torch::allclose(net->forward(x), reference_forward(net, x), 1e-4, 1e-5));
}
