// Neural risk models (LibTorch): MLP and temporal 1D-CNN, integrated gradients.

#include "sportsmed/risk/neural.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <torch/torch.h>

#include <fmt/format.h>

#include "sportsmed/core/error.hpp"

namespace sportsmed::risk {

namespace {

// Gauss–Legendre nodes and weights on [0, 1] (Newton's method on P_n from the
// three-term recurrence, started at the Tricomi approximation of each root).
void gauss_legendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
    nodes.assign(static_cast<size_t>(n), 0.0);
    weights.assign(static_cast<size_t>(n), 0.0);
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < (n + 1) / 2; ++i) {
        double z = std::cos(pi * (i + 0.75) / (n + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; ++it) {
            double p0 = 1.0, p1 = 0.0;
            for (int j = 1; j <= n; ++j) {
                const double p2 = p1;
                p1 = p0;
                p0 = ((2.0 * j - 1.0) * z * p1 - (j - 1.0) * p2) / j;
            }
            dp = n * (z * p0 - p1) / (z * z - 1.0);
            const double dz = p0 / dp;
            z -= dz;
            if (std::abs(dz) < 1e-15) break;
        }
        const double w = 2.0 / ((1.0 - z * z) * dp * dp);
        nodes[static_cast<size_t>(i)] = 0.5 * (1.0 - z);
        nodes[static_cast<size_t>(n - 1 - i)] = 0.5 * (1.0 + z);
        weights[static_cast<size_t>(i)] = weights[static_cast<size_t>(n - 1 - i)] = 0.5 * w;
    }
}

torch::Device parse_device(const std::string& device) {
    try {
        torch::Device d(device);
        if (d.is_cuda())
            SPORTSMED_CHECK(torch::cuda::is_available(), "NeuralRiskModel: device '{}' asked but CUDA is not available",
                            device);
        return d;
    } catch (const c10::Error&) {
        SPORTSMED_THROW(InvalidArgument, "NeuralRiskModel: device must be 'cpu', 'cuda' or 'cuda:N', got '{}'", device);
    }
}

// The network: one module for both architectures (the forward pass differs).
struct NetImpl : torch::nn::Module {
    NetImpl(const NeuralOptions& o, int n_inputs) : cnn(o.architecture == "cnn"), window(o.window_days) {
        if (cnn) {
            features = n_inputs / window;
            conv1 = register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(features, o.channels, o.kernel_size)
                                                                     .padding(o.kernel_size / 2)));
            conv2 = register_module("conv2", torch::nn::Conv1d(torch::nn::Conv1dOptions(o.channels, o.channels, o.kernel_size)
                                                                     .padding(o.kernel_size / 2)));
            // the head also sees the last day's inputs directly (a skip path): today's
            // features enter linearly, the convolutions add what the days before tell
            layers->push_back(torch::nn::Linear(o.channels * window + features, 1));
        } else {
            int width = n_inputs;
            for (int h : o.hidden) {
                layers->push_back(torch::nn::Linear(width, h));
                width = h;
            }
            layers->push_back(torch::nn::Linear(width, 1));
        }
        register_module("layers", layers);
    }
    // Logit per row of x (rows × inputs).
    torch::Tensor forward(torch::Tensor x) {
        if (cnn) {
            const torch::Tensor today = x.narrow(1, (window - 1) * features, features);
            x = x.view({x.size(0), window, features}).transpose(1, 2);  // rows × features × days
            x = torch::silu(conv1->forward(x));
            x = torch::cat({torch::silu(conv2->forward(x)).flatten(1), today}, 1);
        }
        const size_t last = layers->size() - 1;
        for (size_t k = 0; k < layers->size(); ++k) {
            x = layers[k]->as<torch::nn::Linear>()->forward(x);
            if (k != last) x = torch::silu(x);
        }
        return x.squeeze(1);
    }
    bool cnn;
    int window, features = 0;
    torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
    torch::nn::ModuleList layers;
};
TORCH_MODULE(Net);

torch::Tensor to_tensor(const RowMatXdCRef& x, const torch::Device& device) {
    const RowMatXd copy = x;  // a Ref may have an outer stride; torch gets a dense block
    return torch::from_blob(const_cast<double*>(copy.data()), {copy.rows(), copy.cols()}, torch::kFloat64)
        .to(device, /*non_blocking=*/false, /*copy=*/true);
}

VecXd to_vec(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU).contiguous();
    return Eigen::Map<const VecXd>(c.data_ptr<double>(), c.numel());
}

}  // namespace

struct NeuralRiskModel::Impl {
    mutable Net net{nullptr};  // forward() is not const in torch; it only reads the weights here
    int n_inputs = 0;
    torch::Device device{torch::kCPU};
    std::vector<double> history;
    int best_epoch = 0;

    void build(const NeuralOptions& o, int inputs) {
        n_inputs = inputs;
        net = Net(o, inputs);
        net->to(torch::kFloat64);
        net->to(device);
    }
    void freeze() {
        net->eval();
        for (auto& p : net->parameters()) p.set_requires_grad(false);
    }
    void check(const char* fn, const RowMatXdCRef& x) const {
        SPORTSMED_CHECK(net, "NeuralRiskModel.{}: the model is not fitted", fn);
        SPORTSMED_CHECK(x.cols() == n_inputs, "NeuralRiskModel.{}: x has {} columns, the model {} inputs", fn,
                        x.cols(), n_inputs);
        SPORTSMED_CHECK(x.allFinite(), "NeuralRiskModel.{}: x holds NaN or inf (impute first)", fn);
    }
    torch::Tensor logits(const RowMatXdCRef& x) const {
        torch::NoGradGuard no_grad;
        return net->forward(to_tensor(x, device));
    }
};

NeuralRiskModel::NeuralRiskModel(NeuralOptions o) : options_(std::move(o)), impl_(std::make_unique<Impl>()) {
    SPORTSMED_CHECK(options_.architecture == "mlp" || options_.architecture == "cnn",
                    "NeuralRiskModel: architecture must be 'mlp' or 'cnn', got '{}'", options_.architecture);
    for (int h : options_.hidden) SPORTSMED_CHECK(h >= 1, "NeuralRiskModel: hidden widths must be >= 1, got {}", h);
    SPORTSMED_CHECK(options_.window_days >= 1, "NeuralRiskModel: window_days must be >= 1, got {}", options_.window_days);
    SPORTSMED_CHECK(options_.channels >= 1, "NeuralRiskModel: channels must be >= 1, got {}", options_.channels);
    SPORTSMED_CHECK(options_.kernel_size >= 1 && options_.kernel_size % 2 == 1,
                    "NeuralRiskModel: kernel_size must be odd and >= 1, got {}", options_.kernel_size);
    SPORTSMED_CHECK(options_.learning_rate > 0, "NeuralRiskModel: learning_rate must be > 0, got {}", options_.learning_rate);
    SPORTSMED_CHECK(options_.weight_decay >= 0, "NeuralRiskModel: weight_decay must be >= 0, got {}", options_.weight_decay);
    SPORTSMED_CHECK(options_.batch_size >= 1, "NeuralRiskModel: batch_size must be >= 1, got {}", options_.batch_size);
    SPORTSMED_CHECK(options_.max_epochs >= 1, "NeuralRiskModel: max_epochs must be >= 1, got {}", options_.max_epochs);
    SPORTSMED_CHECK(options_.patience >= 1, "NeuralRiskModel: patience must be >= 1, got {}", options_.patience);
    SPORTSMED_CHECK(options_.validation_fraction >= 0 && options_.validation_fraction < 1,
                    "NeuralRiskModel: validation_fraction must be in [0, 1), got {}", options_.validation_fraction);
    impl_->device = parse_device(options_.device);
}

NeuralRiskModel::~NeuralRiskModel() = default;
NeuralRiskModel::NeuralRiskModel(NeuralRiskModel&&) noexcept = default;
NeuralRiskModel& NeuralRiskModel::operator=(NeuralRiskModel&&) noexcept = default;

int NeuralRiskModel::n_inputs() const { return impl_->n_inputs; }
const std::vector<double>& NeuralRiskModel::history() const { return impl_->history; }
int NeuralRiskModel::best_epoch() const { return impl_->best_epoch; }
bool NeuralRiskModel::fitted() const { return static_cast<bool>(impl_->net); }

NeuralRiskModel& NeuralRiskModel::fit(const RowMatXdCRef& x, const VecXdCRef& y, const Eigen::Ref<const VecXi64>& groups) {
    const Eigen::Index n = x.rows(), m = x.cols();
    SPORTSMED_CHECK(y.size() == n, "NeuralRiskModel.fit: x has {} rows but y {}", n, y.size());
    SPORTSMED_CHECK(groups.size() == 0 || groups.size() == n, "NeuralRiskModel.fit: {} groups for {} rows",
                    groups.size(), n);
    SPORTSMED_CHECK(m >= 1, "NeuralRiskModel.fit: x has no columns");
    SPORTSMED_CHECK(x.allFinite(), "NeuralRiskModel.fit: x holds NaN or inf (standardise and impute first)");
    if (options_.architecture == "cnn")
        SPORTSMED_CHECK(m % options_.window_days == 0,
                        "NeuralRiskModel.fit: a cnn input row holds window_days ({}) × features values, got {} "
                        "columns (build rows with lagged_windows)", options_.window_days, m);
    for (Eigen::Index i = 0; i < n; ++i)
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "NeuralRiskModel.fit: label {} at row {} is not 0 or 1", y[i], i);
    const double pos = y.sum();
    SPORTSMED_CHECK(pos > 0 && pos < n, "NeuralRiskModel.fit: y holds a single class; need both 0 and 1");

    std::mt19937_64 rng(options_.seed);
    const auto shuffle = [&rng](std::vector<std::int64_t>& v) {  // Fisher–Yates, same on every platform
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(rng() % i)]);
    };

    // Validation split: whole athletes when groups are given.
    std::vector<std::int64_t> train_rows, val_rows;
    if (options_.validation_fraction > 0) {
        std::vector<bool> held(static_cast<size_t>(n), false);
        if (groups.size()) {
            std::vector<std::int64_t> ids(groups.data(), groups.data() + n);
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            SPORTSMED_CHECK(ids.size() >= 2, "NeuralRiskModel.fit: a validation split by athlete needs >= 2 athletes");
            shuffle(ids);
            const auto k = std::clamp<size_t>(static_cast<size_t>(std::lround(options_.validation_fraction * ids.size())),
                                              1, ids.size() - 1);
            std::vector<std::int64_t> chosen(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k));
            std::sort(chosen.begin(), chosen.end());
            for (Eigen::Index i = 0; i < n; ++i)
                held[static_cast<size_t>(i)] = std::binary_search(chosen.begin(), chosen.end(), groups[i]);
        } else {
            std::vector<std::int64_t> rows(static_cast<size_t>(n));
            for (Eigen::Index i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i;
            shuffle(rows);
            const auto k = std::clamp<Eigen::Index>(std::lround(options_.validation_fraction * n), 1, n - 1);
            for (Eigen::Index i = 0; i < k; ++i) held[static_cast<size_t>(rows[static_cast<size_t>(i)])] = true;
        }
        for (Eigen::Index i = 0; i < n; ++i) (held[static_cast<size_t>(i)] ? val_rows : train_rows).push_back(i);
        double vp = 0, tp = 0;
        for (auto i : val_rows) vp += y[i];
        for (auto i : train_rows) tp += y[i];
        SPORTSMED_CHECK(vp > 0 && vp < static_cast<double>(val_rows.size()) && tp > 0,
                        "NeuralRiskModel.fit: the validation split ({} rows, {} positive) or the training part ({} "
                        "positive) lacks a class; use another seed or validation_fraction", val_rows.size(), vp, tp);
    } else {
        for (Eigen::Index i = 0; i < n; ++i) train_rows.push_back(i);
    }
    double train_pos = 0;
    for (auto i : train_rows) train_pos += y[i];
    const double pw = options_.pos_weight > 0 ? options_.pos_weight
                                              : (static_cast<double>(train_rows.size()) - train_pos) / train_pos;

    impl_->build(options_, static_cast<int>(m));
    auto& net = impl_->net;
    {  // initialise from the seed: uniform ±1/√fan_in (torch's default distribution)
        torch::NoGradGuard no_grad;
        double bound = 1.0;
        for (auto& p : net->named_parameters()) {
            const auto sizes = p.value().sizes();
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
    const torch::Device dev = impl_->device;
    const torch::Tensor X = to_tensor(x, dev);
    const torch::Tensor Y = torch::from_blob(const_cast<double*>(VecXd(y).data()), {n}, torch::kFloat64).to(dev, false, true);
    const torch::Tensor pos_weight = torch::full({1}, pw, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
    const auto idx = [&](const std::vector<std::int64_t>& rows) {
        return torch::from_blob(const_cast<std::int64_t*>(rows.data()), {static_cast<std::int64_t>(rows.size())},
                                torch::kInt64).to(dev, false, true);
    };
    const torch::Tensor val_idx = val_rows.empty() ? torch::Tensor() : idx(val_rows);
    const torch::Tensor Xv = val_rows.empty() ? torch::Tensor() : X.index_select(0, val_idx);
    const torch::Tensor Yv = val_rows.empty() ? torch::Tensor() : Y.index_select(0, val_idx);

    torch::optim::Adam opt(net->parameters(),
                           torch::optim::AdamOptions(options_.learning_rate).weight_decay(options_.weight_decay));
    impl_->history.clear();
    double best = std::numeric_limits<double>::infinity();
    std::vector<torch::Tensor> best_state;
    int since = 0;
    impl_->best_epoch = options_.max_epochs;
    std::vector<std::int64_t> order = train_rows;
    const size_t bs = static_cast<size_t>(options_.batch_size);
    for (int epoch = 1; epoch <= options_.max_epochs; ++epoch) {
        net->train();
        shuffle(order);
        const torch::Tensor perm = idx(order);
        for (size_t b = 0; b < order.size(); b += bs) {
            const auto len = static_cast<std::int64_t>(std::min(bs, order.size() - b));
            const torch::Tensor rows = perm.narrow(0, static_cast<std::int64_t>(b), len);
            const torch::Tensor loss = torch::binary_cross_entropy_with_logits(
                net->forward(X.index_select(0, rows)), Y.index_select(0, rows), {}, pos_weight);
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
        if (val_rows.empty()) continue;
        net->eval();
        double v;
        {
            torch::NoGradGuard no_grad;
            v = torch::binary_cross_entropy_with_logits(net->forward(Xv), Yv, {}, pos_weight).item<double>();
        }
        impl_->history.push_back(v);
        if (v < best) {
            best = v;
            since = 0;
            impl_->best_epoch = epoch;
            best_state.clear();
            for (auto& p : net->parameters()) best_state.push_back(p.detach().clone());
        } else if (++since >= options_.patience) {
            break;
        }
    }
    if (!best_state.empty()) {
        torch::NoGradGuard no_grad;
        auto params = net->parameters();
        for (size_t k = 0; k < params.size(); ++k) params[k].copy_(best_state[k]);
    }
    impl_->freeze();
    return *this;
}

VecXd NeuralRiskModel::decision_function(const RowMatXdCRef& x) const {
    impl_->check("decision_function", x);
    return to_vec(impl_->logits(x));
}

VecXd NeuralRiskModel::predict_proba(const RowMatXdCRef& x) const {
    impl_->check("predict_proba", x);
    return to_vec(torch::sigmoid(impl_->logits(x)));
}

RowMatXd NeuralRiskModel::integrated_gradients(const RowMatXdCRef& x, const VecXdCRef& baseline, int steps) const {
    impl_->check("integrated_gradients", x);
    SPORTSMED_CHECK(steps >= 1, "NeuralRiskModel.integrated_gradients: steps must be >= 1, got {}", steps);
    SPORTSMED_CHECK(baseline.size() == 0 || baseline.size() == impl_->n_inputs,
                    "NeuralRiskModel.integrated_gradients: baseline has {} values, the model {} inputs",
                    baseline.size(), impl_->n_inputs);
    SPORTSMED_CHECK(baseline.allFinite(), "NeuralRiskModel.integrated_gradients: baseline holds NaN or inf");
    const Eigen::Index n = x.rows(), m = impl_->n_inputs;
    const torch::Device dev = impl_->device;
    const torch::Tensor X = to_tensor(x, dev);
    const VecXd bvec = baseline.size() ? VecXd(baseline) : VecXd::Zero(m);
    const torch::Tensor B = to_tensor(RowMatXd(bvec.transpose()), dev);  // 1 × m
    const torch::Tensor diff = X - B;
    std::vector<double> nodes, weights;
    gauss_legendre(steps, nodes, weights);
    torch::Tensor acc = torch::zeros_like(X);
    torch::AutoGradMode grad_on(true);
    for (size_t k = 0; k < nodes.size(); ++k) {
        torch::Tensor point = (B + nodes[k] * diff).detach().set_requires_grad(true);
        const torch::Tensor out = impl_->net->forward(point).sum();
        acc += weights[k] * torch::autograd::grad({out}, {point})[0];
    }
    const torch::Tensor attr = (diff * acc).to(torch::kCPU).contiguous();
    RowMatXd r(n, m + 1);
    r.leftCols(m) = Eigen::Map<const RowMatXd>(attr.data_ptr<double>(), n, m);
    double fb;
    {
        torch::NoGradGuard no_grad;
        fb = impl_->net->forward(B).item<double>();
    }
    r.col(m).setConstant(fb);
    return r;
}

std::vector<NeuralRiskModel::Parameter> NeuralRiskModel::parameters() const {
    SPORTSMED_CHECK(impl_->net, "NeuralRiskModel.parameters: the model is not fitted");
    std::vector<Parameter> out;
    for (const auto& p : impl_->net->named_parameters()) {
        Parameter q;
        q.name = p.key();
        q.shape.assign(p.value().sizes().begin(), p.value().sizes().end());
        q.values = to_vec(p.value().flatten());
        out.push_back(std::move(q));
    }
    return out;
}

void NeuralRiskModel::set_parameters(int n_inputs, const std::vector<Parameter>& params) {
    SPORTSMED_CHECK(n_inputs >= 1, "NeuralRiskModel.set_parameters: n_inputs must be >= 1, got {}", n_inputs);
    if (options_.architecture == "cnn")
        SPORTSMED_CHECK(n_inputs % options_.window_days == 0,
                        "NeuralRiskModel.set_parameters: {} inputs is not a multiple of window_days {}", n_inputs,
                        options_.window_days);
    // The network's size follows from the options and n_inputs; compare it with the values
    // given before building anything, so that a damaged file cannot make the constructor
    // allocate far more than it holds.
    {
        const double k = options_.kernel_size, c = options_.channels, w = options_.window_days;
        double expected = 0;
        if (options_.architecture == "cnn") {
            const double f = static_cast<double>(n_inputs) / w;
            expected = (c * f * k + c) + (c * c * k + c) + (c * w + f + 1);
        } else {
            double width = n_inputs;
            for (int h : options_.hidden) {
                expected += width * h + h;
                width = h;
            }
            expected += width + 1;
        }
        double given = 0;
        for (const auto& q : params) given += static_cast<double>(q.values.size());
        SPORTSMED_CHECK_AS(FormatError, expected == given,
                           "NeuralRiskModel.set_parameters: the {} network of {} inputs has {:.0f} parameters, {:.0f} "
                           "values given", options_.architecture, n_inputs, expected, given);
    }
    impl_->build(options_, n_inputs);
    auto named = impl_->net->named_parameters();
    SPORTSMED_CHECK_AS(FormatError, params.size() == named.size(),
                       "NeuralRiskModel.set_parameters: {} tensors given, the {} network has {}", params.size(),
                       options_.architecture, named.size());
    torch::NoGradGuard no_grad;
    for (const auto& q : params) {
        auto* t = named.find(q.name);
        if (!t) SPORTSMED_THROW(FormatError, "NeuralRiskModel.set_parameters: unknown tensor '{}'", q.name);
        const std::vector<std::int64_t> shape(t->sizes().begin(), t->sizes().end());
        if (shape != q.shape || t->numel() != q.values.size())
            SPORTSMED_THROW(FormatError, "NeuralRiskModel.set_parameters: tensor '{}' has shape [{}], expected [{}]",
                            q.name, fmt::join(q.shape, ", "), fmt::join(shape, ", "));
        VecXd v = q.values;
        t->copy_(torch::from_blob(v.data(), t->sizes(), torch::kFloat64).to(impl_->device, false, true));
    }
    impl_->history.clear();
    impl_->best_epoch = 0;
    impl_->freeze();
}

}  // namespace sportsmed::risk
