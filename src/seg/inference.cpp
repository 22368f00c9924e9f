// Sliding-window inference with Gaussian weighting and slab-wise accumulation.

#include <algorithm>
#include <array>
#include <cmath>

#include "detail.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/core/progress.hpp"
#include "sportsmed/imaging/components.hpp"
#include "sportsmed/imaging/volume.hpp"
#include "sportsmed/seg/inference.hpp"

namespace sportsmed::seg {

std::vector<std::int64_t> window_starts(std::int64_t size, std::int64_t patch, double step_fraction) {
    SPORTSMED_CHECK(patch > 0, "window_starts: patch must be positive, got {}", patch);
    SPORTSMED_CHECK(step_fraction > 0 && step_fraction <= 1, "window_starts: step_fraction must be in (0, 1], got {}",
                    step_fraction);
    if (size <= patch) return {0};
    const auto interval = std::max<std::int64_t>(1, static_cast<std::int64_t>(patch * step_fraction));
    const std::int64_t n = (size - patch + interval - 1) / interval + 1;
    std::vector<std::int64_t> starts;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t s = std::min(i * interval, size - patch);
        if (starts.empty() || s != starts.back()) starts.push_back(s);
    }
    return starts;
}

std::vector<float> gaussian_importance_map(const std::vector<std::int64_t>& patch, double sigma_scale) {
    const torch::Tensor map = detail::gaussian_importance_tensor(patch, sigma_scale).contiguous();
    return std::vector<float>(map.data_ptr<float>(), map.data_ptr<float>() + map.numel());
}

namespace detail {

torch::Tensor gaussian_importance_tensor(const std::vector<std::int64_t>& patch, double sigma_scale) {
    SPORTSMED_CHECK(!patch.empty() && sigma_scale > 0, "gaussian_importance_map: need a patch and sigma_scale > 0");
    torch::Tensor map = torch::ones({1}, torch::kFloat64);
    for (const std::int64_t p : patch) {
        SPORTSMED_CHECK(p > 0, "gaussian_importance_map: patch sizes must be positive, got {}", p);
        const double sigma = sigma_scale * static_cast<double>(p);
        // centred between the middle voxels, (p − 1)/2, as MONAI's compute_importance_map
        torch::Tensor x = torch::arange(p, torch::kFloat64) - (static_cast<double>(p) - 1.0) / 2.0;
        torch::Tensor g = torch::exp(-(x * x) / (2.0 * sigma * sigma));
        map = map.unsqueeze(-1) * g;  // outer product, axis by axis
    }
    map = map.reshape(patch);
    // MONAI floors the weights at max(smallest weight, 1e-3): a window's border voxels keep a
    // small weight, so a voxel seen only at window borders is not divided by ~0.
    const double floor = std::max(map.min().item<double>(), 1e-3);
    map = torch::clamp_min(map, floor);
    return map.to(torch::kFloat32);
}

namespace {

// All flip combinations over the allowed spatial axes (2^k, the identity first; empty
// `allowed` = every axis).
std::vector<std::vector<std::int64_t>> flip_sets(int spatial_dims, const std::vector<int>& allowed) {
    std::vector<int> axes_of;
    for (int d = 0; d < spatial_dims; ++d)
        if (allowed.empty() || std::find(allowed.begin(), allowed.end(), d) != allowed.end()) axes_of.push_back(d);
    const int k = static_cast<int>(axes_of.size());
    std::vector<std::vector<std::int64_t>> sets;
    for (int mask = 0; mask < (1 << k); ++mask) {
        std::vector<std::int64_t> axes;
        for (int b = 0; b < k; ++b)
            if (mask & (1 << b)) axes.push_back(2 + axes_of[b]);
        sets.push_back(axes);
    }
    return sets;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> plan_batches(std::size_t windows, int batch_size) {
    SPORTSMED_CHECK(batch_size >= 1, "sliding_window: batch_size must be >= 1, got {}", batch_size);
    std::vector<std::pair<std::size_t, std::size_t>> batches;
    const auto b = static_cast<std::size_t>(batch_size);
    for (std::size_t i = 0; i < windows; i += b) batches.emplace_back(i, std::min(windows, i + b));
    // A lone window in the last batch joins the one before (one batch of b + 1): LibTorch 1.13
    // sends a batch of one small window through its reference convolution (slow_conv3d, ~10×
    // the time per window of a batch of two) where batches of two or more take oneDNN.
    if (batches.size() >= 2 && batches.back().second - batches.back().first == 1 && b >= 2) {
        batches[batches.size() - 2].second = batches.back().second;
        batches.pop_back();
    }
    return batches;
}

void sliding_window(const std::function<torch::Tensor(const torch::Tensor&)>& net, const torch::Tensor& image,
                    const std::vector<std::int64_t>& patch, double step_fraction, int batch_size, bool mirror,
                    bool low_memory, torch::Device device, const SlabSink& sink, ProgressReporter* progress,
                    const std::vector<int>& mirror_axes) {
    const int dims = static_cast<int>(patch.size());
    SPORTSMED_CHECK(image.dim() == dims + 1, "sliding_window: image has {} axes, expected channels + {}",
                    image.dim(), dims);
    SPORTSMED_CHECK(batch_size >= 1, "sliding_window: batch_size must be >= 1, got {}", batch_size);
    std::vector<std::int64_t> size(dims);
    std::vector<std::vector<std::int64_t>> starts(dims);
    for (int d = 0; d < dims; ++d) {
        size[d] = image.size(1 + d);
        SPORTSMED_CHECK(size[d] >= patch[d], "sliding_window: axis {} has {} voxels, smaller than the patch {}", d,
                        size[d], patch[d]);
        starts[d] = window_starts(size[d], patch[d], step_fraction);
    }
    // Inference mode: no autograd bookkeeping (version counters, views) on any tensor below.
    c10::InferenceMode inference;
    const torch::Tensor weight = gaussian_importance_tensor(patch, 0.125).to(device);
    const auto flips = mirror ? flip_sets(dims, mirror_axes) : std::vector<std::vector<std::int64_t>>{{}};

    // Windows in row-major order of their starts: all windows of one axis-0 start are
    // consecutive, which is what the slab accumulation relies on.
    std::vector<std::vector<std::int64_t>> windows;
    {
        std::vector<std::size_t> idx(dims, 0);
        for (;;) {
            std::vector<std::int64_t> w(dims);
            for (int d = 0; d < dims; ++d) w[d] = starts[d][idx[d]];
            windows.push_back(w);
            int d = dims - 1;
            while (d >= 0 && ++idx[d] == starts[d].size()) idx[d--] = 0;
            if (d < 0) break;
        }
    }
    // Batches run across axis-0 starts (a batch may end one slab and begin the next): the
    // slab buffer is then as deep as the widest batch's rows, the patch plus one step in
    // general, instead of each slab ending in a short batch.
    const auto batches = plan_batches(windows.size(), batch_size);
    std::int64_t depth = patch[0];
    for (const auto& [b0, b1] : batches)
        depth = std::max(depth, windows[b1 - 1][0] + patch[0] - windows[b0][0]);
    if (!low_memory) depth = size[0];
    depth = std::min(depth, size[0]);

    std::vector<std::int64_t> buffer_shape = size;
    buffer_shape[0] = depth;
    torch::Tensor acc;  // classes × buffer (lazily sized once the class count is known)
    torch::Tensor wsum = torch::zeros(buffer_shape, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    std::int64_t base = 0;  // axis-0 row held at buffer row 0

    auto region = [&](const std::vector<std::int64_t>& w, std::int64_t offset0) {
        std::vector<torch::indexing::TensorIndex> index;
        index.push_back(torch::indexing::Slice());
        for (int d = 0; d < dims; ++d) {
            const std::int64_t s = d == 0 ? w[0] - offset0 : w[d];
            index.push_back(torch::indexing::Slice(s, s + patch[d]));
        }
        return index;
    };

    // Hands finished rows to the sink a few at a time (small temporaries), then shifts
    // the slab buffer up in place (no second buffer).
    auto emit = [&](std::int64_t end_row) {
        const std::int64_t n = end_row - base;
        if (n <= 0) return;
        constexpr std::int64_t kRowsPerCall = 4;
        for (std::int64_t r = 0; r < n; r += kRowsPerCall) {
            const std::int64_t m = std::min(kRowsPerCall, n - r);
            // divided in place: these rows are final, and are overwritten or dropped next
            sink(base + r, base + r + m, acc.narrow(1, r, m).div_(wsum.narrow(0, r, m).unsqueeze(0)));
        }
        if (low_memory && end_row < size[0]) {
            const std::int64_t keep = depth - n;  // rows still accumulating
            // Row blocks of at most n rows never overlap their destination.
            for (std::int64_t r = 0; r < keep; r += n) {
                const std::int64_t m = std::min(n, keep - r);
                acc.narrow(1, r, m).copy_(acc.narrow(1, r + n, m));
                wsum.narrow(0, r, m).copy_(wsum.narrow(0, r + n, m));
            }
            acc.narrow(1, std::max<std::int64_t>(0, keep), std::min(n, depth)).zero_();
            wsum.narrow(0, std::max<std::int64_t>(0, keep), std::min(n, depth)).zero_();
        }
        base = end_row;
    };

    for (const auto& [b0, b1] : batches) {
        if (low_memory && windows[b0][0] > base) emit(windows[b0][0]);

        std::vector<torch::Tensor> crops;
        for (std::size_t b = b0; b < b1; ++b) crops.push_back(image.index(region(windows[b], 0)));
        torch::Tensor x = torch::stack(crops).to(device);
        torch::Tensor logits;
        for (const auto& axes : flips) {
            torch::Tensor y = axes.empty() ? net(x) : net(x.flip(axes)).flip(axes);
            if (!logits.defined()) logits = y;
            else if (logits.dtype() == torch::kFloat32) logits.add_(y);  // the sum in place
            else logits = logits + y;
        }
        if (flips.size() > 1) logits = logits / static_cast<double>(flips.size());
        logits = logits.to(torch::kFloat32);
        if (!acc.defined()) {
            std::vector<std::int64_t> shape = {logits.size(1)};
            shape.insert(shape.end(), buffer_shape.begin(), buffer_shape.end());
            acc = torch::zeros(shape, torch::TensorOptions().dtype(torch::kFloat32).device(device));
        }
        for (std::size_t b = b0; b < b1; ++b) {
            const auto index = region(windows[b], base);
            acc.index(index).addcmul_(logits[static_cast<std::int64_t>(b - b0)], weight);  // no temporary
            std::vector<torch::indexing::TensorIndex> windex(index.begin() + 1, index.end());
            wsum.index(windex).add_(weight);
        }
        if (progress) progress->advance(static_cast<std::int64_t>(b1 - b0));
    }
    emit(size[0]);
}

}  // namespace detail

namespace {

Segmentation segment_on_grid(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                             const SegmentOptions& options);

// Keeps the largest component of each label (if asked), then removes the pieces detached from
// their supports (if any are named). A C-order (a0, a1, a2) array is the same memory as a
// Fortran-order (a2, a1, a0) volume; connectivity does not care.
void post_process(Segmentation& s, const SegmentOptions& o) {
    if (s.shape.size() != 3) return;
    imaging::Geometry g;
    g.shape = {s.shape[2], s.shape[1], s.shape[0]};
    imaging::Volume<std::uint8_t> kept(g, std::move(s.labels));
    if (o.keep_largest_component)
        kept = imaging::keep_largest_component_per_label(kept, 26, o.keep_largest_labels, o.join_fragment_groups,
                                                         o.component_anchors);
    if (!o.attached_labels.empty()) kept = imaging::remove_detached_components(kept, o.attached_labels, 26);
    s.labels.assign(kept.data(), kept.data() + kept.num_voxels());
}

/// Linear-interpolation taps of one axis, as torch's interpolate (align_corners=false):
/// source coordinate (o + ½)·in/out − ½, clamped at 0 below and at the last sample above.
struct Taps {
    std::vector<std::int64_t> i0, i1;
    std::vector<float> w1;
};

Taps linear_taps(std::int64_t in, std::int64_t out) {
    Taps t;
    t.i0.resize(static_cast<std::size_t>(out));
    t.i1.resize(static_cast<std::size_t>(out));
    t.w1.resize(static_cast<std::size_t>(out));
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    for (std::int64_t o = 0; o < out; ++o) {
        const double src = std::max(0.0, (static_cast<double>(o) + 0.5) * scale - 0.5);
        const auto i0 = std::min<std::int64_t>(static_cast<std::int64_t>(src), in - 1);
        const auto k = static_cast<std::size_t>(o);
        t.i0[k] = i0;
        t.i1[k] = std::min<std::int64_t>(i0 + 1, in - 1);
        t.w1[k] = static_cast<float>(src - static_cast<double>(i0));
    }
    return t;
}

/// Linear interpolation of class-major probabilities (classes × @p from) onto the grid @p to,
/// one output voxel at a time.
class ProbabilityInterpolator {
public:
    ProbabilityInterpolator(const std::vector<float>& probs, const std::vector<std::int64_t>& from, int classes,
                            const std::vector<std::int64_t>& to)
        : probs_(probs), classes_(classes) {
        const std::size_t dims = to.size();
        SPORTSMED_CHECK(dims == 2 || dims == 3, "segment: resampling supports 2-D and 3-D images, got {}-D", dims);
        fy_ = from[dims - 2];
        fx_ = from[dims - 1];
        fvox_ = (dims == 3 ? from[0] : 1) * fy_ * fx_;
        az_ = linear_taps(dims == 3 ? from[0] : 1, dims == 3 ? to[0] : 1);
        ay_ = linear_taps(fy_, to[dims - 2]);
        ax_ = linear_taps(fx_, to[dims - 1]);
    }

    /// The values at output voxel (z, y, x) into @p p (classes values); with @p normalise,
    /// scaled to sum 1 (all zero where they sum to 0) — not needed for the argmax alone.
    void at(std::int64_t z, std::int64_t y, std::int64_t x, float* p, bool normalise) const {
        const auto kz = static_cast<std::size_t>(z), ky = static_cast<std::size_t>(y), kx = static_cast<std::size_t>(x);
        const std::int64_t za = az_.i0[kz] * fy_ * fx_, zb = az_.i1[kz] * fy_ * fx_;
        const std::int64_t ya = ay_.i0[ky] * fx_, yb = ay_.i1[ky] * fx_;
        const std::int64_t xa = ax_.i0[kx], xb = ax_.i1[kx];
        const float wz = az_.w1[kz], wy = ay_.w1[ky], wx = ax_.w1[kx];
        const std::int64_t c000 = za + ya + xa, c001 = za + ya + xb, c010 = za + yb + xa, c011 = za + yb + xb,
                           c100 = zb + ya + xa, c101 = zb + ya + xb, c110 = zb + yb + xa, c111 = zb + yb + xb;
        float sum = 0.0f;
        for (int c = 0; c < classes_; ++c) {
            const float* q = probs_.data() + static_cast<std::size_t>(c) * static_cast<std::size_t>(fvox_);
            const float a = q[c000] + wx * (q[c001] - q[c000]);
            const float b = q[c010] + wx * (q[c011] - q[c010]);
            const float cc = q[c100] + wx * (q[c101] - q[c100]);
            const float d = q[c110] + wx * (q[c111] - q[c110]);
            const float e = a + wy * (b - a), f = cc + wy * (d - cc);
            const float v = e + wz * (f - e);
            p[c] = v;
            sum += v;
        }
        if (normalise)
            for (int c = 0; c < classes_; ++c) p[c] = sum > 0 ? p[c] / sum : 0.0f;
    }

private:
    const std::vector<float>& probs_;
    int classes_;
    std::int64_t fy_ = 1, fx_ = 1, fvox_ = 1;
    Taps az_, ay_, ax_;
};

/// Labels (the argmax: the first on ties) and, with @p keep_probabilities, classes × voxels of
/// the values that @p value(z, y, x, p, scratch) writes into p per voxel of the grid @p to
/// (scratch: room for classes more values) — computed a voxel at a time, so that memory is the
/// labels plus only what is asked for.
template <class Value>
void labels_from(const std::vector<std::int64_t>& to, int classes, bool keep_probabilities, Segmentation& result,
                 const Value& value) {
    const std::size_t dims = to.size();
    const std::int64_t tz = dims == 3 ? to[0] : 1, ty = to[dims - 2], tx = to[dims - 1];
    const std::int64_t tvox = tz * ty * tx;
    result.labels.assign(static_cast<std::size_t>(tvox), 0);
    if (keep_probabilities) result.probabilities.assign(static_cast<std::size_t>(tvox) * classes, 0.0f);
    parallel_for(0, tz, [&](std::int64_t z0, std::int64_t z1) {
        std::vector<float> p(2 * static_cast<std::size_t>(classes));
        for (std::int64_t z = z0; z < z1; ++z)
            for (std::int64_t y = 0; y < ty; ++y)
                for (std::int64_t x = 0; x < tx; ++x) {
                    value(z, y, x, p.data(), p.data() + classes);
                    int arg = 0;
                    for (int c = 1; c < classes; ++c)
                        if (p[static_cast<std::size_t>(c)] > p[static_cast<std::size_t>(arg)]) arg = c;
                    const std::int64_t o = (z * ty + y) * tx + x;
                    result.labels[static_cast<std::size_t>(o)] = static_cast<std::uint8_t>(arg);
                    if (keep_probabilities)
                        for (int c = 0; c < classes; ++c)
                            result.probabilities[static_cast<std::size_t>(c) * static_cast<std::size_t>(tvox) +
                                                 static_cast<std::size_t>(o)] = p[static_cast<std::size_t>(c)];
                }
    });
}

/// Brings model-grid probabilities (classes × @p from) to the input grid @p to by trilinear
/// (bilinear in 2-D) interpolation and takes the argmax there — the labels are the same
/// whether or not the probabilities are returned. Memory: the labels, plus classes × output
/// voxels only when @p keep_probabilities (normalised to sum 1 per voxel).
void resample_probabilities(const std::vector<float>& probs, const std::vector<std::int64_t>& from, int classes,
                            const std::vector<std::int64_t>& to, bool keep_probabilities, Segmentation& result) {
    const ProbabilityInterpolator at(probs, from, classes, to);
    labels_from(to, classes, keep_probabilities, result,
                [&](std::int64_t z, std::int64_t y, std::int64_t x, float* p, float*) {
                    at.at(z, y, x, p, keep_probabilities);
                });
}

}  // namespace

namespace {

void check_context_groups(const std::vector<std::vector<int>>& groups, int num_classes, const char* what) {
    std::vector<bool> seen(static_cast<std::size_t>(std::max(num_classes, 0)), false);
    for (const auto& g : groups) {
        SPORTSMED_CHECK(g.size() >= 2, "{}: a context group needs two or more labels, got {}", what, g.size());
        for (int l : g) {
            SPORTSMED_CHECK(l >= 1 && l < num_classes && !seen[static_cast<std::size_t>(l)],
                            "{}: context group label {} is not a foreground label (1..{}) of one group only", what, l,
                            num_classes - 1);
            seen[static_cast<std::size_t>(l)] = true;
        }
    }
}

}  // namespace

namespace {

/// combine_context at one voxel: @p d (the detail model's values, stride @p sd, changed in
/// place) and @p c (the context's, stride @p sc); @p grouped marks the grouped labels.
inline void combine_voxel(float* d, std::int64_t sd, const float* c, std::int64_t sc, int num_classes,
                          const std::vector<std::vector<int>>& groups, const std::vector<bool>& grouped, float w,
                          float floor) {
    auto D = [&](int l) -> float& { return d[l * sd]; };
    auto C = [&](int l) { return c[l * sc]; };
    float in_detail = 0.0f, in_context = 0.0f, in_new = 0.0f;
    for (const auto& g : groups) {
        float dm = 0.0f, cm = 0.0f;
        for (int l : g) {
            dm += D(l);
            cm += C(l);
        }
        const float mass = (1.0f - w) * dm + w * cm;
        for (int l : g) {  // the context's split; detail's own where the context gives the group ~nothing
            if (cm >= floor) D(l) = mass * C(l) / cm;
            else if (dm > 0.0f) D(l) *= mass / dm;
            else D(l) = mass / static_cast<float>(g.size());
        }
        in_detail += dm;
        in_context += cm;
        in_new += mass;
    }
    // every other class: detail's proportions (the context's where detail has none left)
    const float rest = std::max(0.0f, 1.0f - in_new);
    const bool from_detail = 1.0f - in_detail > floor;
    const float denom = from_detail ? 1.0f - in_detail : std::max(1.0f - in_context, floor);
    for (int l = 0; l < num_classes; ++l)
        if (!grouped[static_cast<std::size_t>(l)]) D(l) = (from_detail ? D(l) : C(l)) * rest / denom;
}

std::vector<bool> grouped_labels(const std::vector<std::vector<int>>& groups, int num_classes) {
    std::vector<bool> grouped(static_cast<std::size_t>(num_classes), false);
    for (const auto& g : groups)
        for (int l : g) grouped[static_cast<std::size_t>(l)] = true;
    return grouped;
}

}  // namespace

void combine_context(std::vector<float>& detail, const std::vector<float>& context, int num_classes,
                     const std::vector<std::vector<int>>& groups, double mass_weight, double eps) {
    SPORTSMED_CHECK(num_classes >= 2 && detail.size() == context.size() &&
                        detail.size() % static_cast<std::size_t>(num_classes) == 0,
                    "combine_context: {} and {} probabilities for {} classes", detail.size(), context.size(),
                    num_classes);
    SPORTSMED_CHECK(mass_weight >= 0.0 && mass_weight <= 1.0, "combine_context: mass_weight must be in [0, 1], got {}",
                    mass_weight);
    check_context_groups(groups, num_classes, "combine_context");
    const std::vector<bool> grouped = grouped_labels(groups, num_classes);
    const auto n = static_cast<std::int64_t>(detail.size() / static_cast<std::size_t>(num_classes));
    const float w = static_cast<float>(mass_weight), floor = static_cast<float>(eps);
    parallel_for(0, n, [&](std::int64_t v0, std::int64_t v1) {
        for (std::int64_t v = v0; v < v1; ++v)
            combine_voxel(detail.data() + v, n, context.data() + v, n, num_classes, groups, grouped, w, floor);
    });
}

namespace {

/// A model's result on its own grid: the input's when no resampling is needed (then as
/// segment_on_grid gives it, probabilities if asked), else the resampled image's, with its
/// probabilities always.
struct OnModelGrid {
    Segmentation result;
    std::vector<std::int64_t> grid;  ///< the spatial shape of result
    bool resampled = false;
};

OnModelGrid probabilities_on_model_grid(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                                        const SegmentOptions& options) {
    const ModelSpec& spec = model.spec();
    bool resample = false;
    if (!options.input_spacing_mm.empty() && !spec.spacing_mm.empty()) {
        SPORTSMED_CHECK(options.input_spacing_mm.size() == shape.size(),
                        "segment: {} input spacings for a {}-D image", options.input_spacing_mm.size(), shape.size());
        for (std::size_t d = 0; d < shape.size(); ++d) {
            SPORTSMED_CHECK(options.input_spacing_mm[d] > 0, "segment: input spacing must be positive, got {}",
                            options.input_spacing_mm[d]);
            if (std::abs(options.input_spacing_mm[d] / spec.spacing_mm[d] - 1.0) > 0.01) resample = true;
        }
    }
    SegmentOptions inner = options;
    inner.keep_largest_component = false;
    inner.attached_labels.clear();
    OnModelGrid out;
    if (!resample) {
        out.result = segment_on_grid(model, image, shape, inner);
        out.grid = shape;
        return out;
    }
    namespace F = torch::nn::functional;
    const auto dims = static_cast<std::int64_t>(shape.size());
    std::vector<std::int64_t> full = {1, spec.in_channels};
    full.insert(full.end(), shape.begin(), shape.end());
    std::vector<std::int64_t> target(dims);
    for (std::int64_t d = 0; d < dims; ++d) {
        target[d] = std::max<std::int64_t>(
            1, std::llround(shape[d] * options.input_spacing_mm[d] / spec.spacing_mm[d]));
    }
    auto interp = [&](const torch::Tensor& t, const std::vector<std::int64_t>& size, bool linear) {
        F::InterpolateFuncOptions o = F::InterpolateFuncOptions().size(size);
        if (!linear) o.mode(torch::kNearest);
        else if (dims == 3) o.mode(torch::kTrilinear).align_corners(false);
        else o.mode(torch::kBilinear).align_corners(false);
        return F::interpolate(t, o);
    };
    torch::NoGradGuard no_grad;
    // Anti-aliasing: an axis shrunk by a factor f > 1 is first smoothed with a Gaussian of
    // σ = (f − 1)/2 input voxels (scikit-image's resize default), so that detail finer than
    // the model's grid is averaged, as an acquisition at that resolution would, not aliased.
    torch::Tensor x = torch::from_blob(const_cast<float*>(image), full, torch::kFloat32);
    for (std::int64_t d = 0; d < dims; ++d) {
        const double factor = static_cast<double>(shape[d]) / static_cast<double>(target[d]);
        if (factor <= 1.0 + 1e-6) continue;
        const double sigma = (factor - 1.0) / 2.0;
        const auto radius = static_cast<std::int64_t>(std::ceil(4.0 * sigma));
        torch::Tensor k = torch::arange(-radius, radius + 1, torch::kFloat64);
        k = torch::exp(-0.5 * (k / sigma).pow(2));
        k = (k / k.sum()).to(torch::kFloat32);
        // move axis d last, convolve along it with edge replication, move it back
        const std::int64_t axis = 2 + d;
        torch::Tensor moved = x.movedim(axis, -1).contiguous();
        const auto sizes = moved.sizes().vec();
        torch::Tensor rows = moved.reshape({-1, 1, sizes.back()});
        rows = F::pad(rows, F::PadFuncOptions({radius, radius}).mode(torch::kReplicate));
        rows = F::conv1d(rows, k.view({1, 1, -1}));
        x = rows.reshape(sizes).movedim(-1, axis).contiguous();
    }
    const torch::Tensor xr = interp(x, target, true).contiguous();
    inner.input_spacing_mm.clear();
    inner.probabilities = true;  // one path: the labels are always the argmax of the resampled probabilities
    out.result = segment_on_grid(model, xr.data_ptr<float>(), target, inner);
    out.grid = target;
    out.resampled = true;
    return out;
}

Segmentation segment_cascade(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                             const SegmentOptions& options) {
    Model& context = *options.context_model;
    const ModelSpec& spec = model.spec();
    SPORTSMED_CHECK(context.spec().labels == spec.labels,
                    "segment: the context model's labels ({}) differ from the model's ({})",
                    fmt::join(context.spec().labels, ", "), fmt::join(spec.labels, ", "));
    const auto& groups = options.context_groups.empty() ? context.spec().context_groups : options.context_groups;
    SPORTSMED_CHECK(!groups.empty(),
                    "segment: the context model's sidecar names no context_groups; pass the groups whose member it "
                    "decides (the knee's bones: [[1, 2, 3]])");
    check_context_groups(groups, spec.num_classes(), "segment");
    SPORTSMED_CHECK(options.context_mass_weight >= 0.0 && options.context_mass_weight <= 1.0,
                    "segment: context_mass_weight must be in [0, 1], got {}", options.context_mass_weight);
    SPORTSMED_CHECK(!options.input_spacing_mm.empty() || context.spec().spacing_mm == spec.spacing_mm,
                    "segment: the context model's grid ({} mm) differs from the model's ({} mm): give the image's "
                    "spacing (input_spacing_mm)", fmt::join(context.spec().spacing_mm, " x "),
                    fmt::join(spec.spacing_mm, " x "));
    SegmentOptions inner = options;
    inner.context_model = nullptr;
    inner.context_groups.clear();
    inner.probabilities = true;
    auto half = [&](double offset) -> ProgressCallback {
        if (!options.progress) return {};
        return [cb = options.progress, offset](double f, std::string_view stage) {
            return cb(offset + 0.5 * f, stage);
        };
    };
    // Each model's probabilities on its own grid; the two are interpolated onto the input grid,
    // combined and argmaxed a voxel at a time (memory: the labels, plus the probabilities when
    // asked for — not two class buffers of the input's size).
    inner.progress = half(0.0);
    const OnModelGrid fine = probabilities_on_model_grid(model, image, shape, inner);
    inner.progress = half(0.5);
    const OnModelGrid coarse = probabilities_on_model_grid(context, image, shape, inner);
    const int k = fine.result.num_classes;
    const ProbabilityInterpolator at_fine(fine.result.probabilities, fine.grid, k, shape);
    const ProbabilityInterpolator at_coarse(coarse.result.probabilities, coarse.grid, k, shape);
    const std::vector<bool> grouped = grouped_labels(groups, k);
    const auto w = static_cast<float>(options.context_mass_weight);
    Segmentation result;
    result.shape = shape;
    result.num_classes = k;
    labels_from(shape, k, options.probabilities, result,
                [&](std::int64_t z, std::int64_t y, std::int64_t x, float* p, float* q) {
                    at_fine.at(z, y, x, p, true);  // combine_context takes probabilities
                    at_coarse.at(z, y, x, q, true);
                    combine_voxel(p, 1, q, 1, k, groups, grouped, w, 1e-6f);
                });
    if (options.keep_largest_component || !options.attached_labels.empty()) post_process(result, options);
    return result;
}

}  // namespace

void use_model_post_processing(SegmentOptions& options, const ModelSpec& spec) {
    options.keep_largest_component = !spec.single_component_labels.empty();
    options.keep_largest_labels = spec.single_component_labels;
    options.join_fragment_groups = spec.fragment_join_groups;
    options.component_anchors = spec.component_anchors;
    options.attached_labels = spec.attached_labels;
}

Segmentation segment(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                     const SegmentOptions& options) {
    const ModelSpec& spec = model.spec();
    SPORTSMED_CHECK(options.context_model != nullptr || options.context_groups.empty(),
                    "segment: context_groups given without a context_model");
    SPORTSMED_CHECK(options.batch_size >= 0, "segment: batch_size must be >= 0 (0: automatic), got {}",
                    options.batch_size);
    for (int l : options.keep_largest_labels)
        SPORTSMED_CHECK(l >= 1 && l < spec.num_classes(), "segment: keep_largest_labels has {}, outside 1..{}", l,
                        spec.num_classes() - 1);
    for (const auto& g : options.join_fragment_groups)
        for (int l : g)
            SPORTSMED_CHECK(options.keep_largest_labels.empty() ||
                                std::find(options.keep_largest_labels.begin(), options.keep_largest_labels.end(), l) !=
                                    options.keep_largest_labels.end(),
                            "segment: join_fragment_groups has {}, which keep_largest_labels does not filter", l);
    if (options.context_model != nullptr) return segment_cascade(model, image, shape, options);
    OnModelGrid on_model = probabilities_on_model_grid(model, image, shape, options);
    if (!on_model.resampled) {
        if (!options.probabilities) std::vector<float>().swap(on_model.result.probabilities);
        Segmentation result = std::move(on_model.result);
        if (options.keep_largest_component || !options.attached_labels.empty()) post_process(result, options);
        return result;
    }
    Segmentation result;
    result.shape = shape;
    result.num_classes = on_model.result.num_classes;
    resample_probabilities(on_model.result.probabilities, on_model.grid, result.num_classes, shape,
                           options.probabilities, result);
    if (options.keep_largest_component || !options.attached_labels.empty()) post_process(result, options);
    return result;
}

namespace {

/// The class of the largest logit per voxel (the first on ties, as torch.argmax) of a CPU
/// float tensor classes × spatial (any strides), written in C order to @p out. A plain loop:
/// LibTorch's argmax over a leading axis of a strided view costs as much as a tenth of a
/// small U-Net's inference.
void argmax_classes(const torch::Tensor& logits, std::uint8_t* out) {
    const std::int64_t classes = logits.size(0);
    std::array<std::int64_t, 3> n = {1, 1, 1}, st = {0, 0, 0};
    const std::int64_t spatial = logits.dim() - 1;
    SPORTSMED_CHECK(spatial >= 1 && spatial <= 3, "segment: {} spatial axes", spatial);
    for (std::int64_t d = 0; d < spatial; ++d) {
        n[static_cast<std::size_t>(3 - spatial + d)] = logits.size(1 + d);
        st[static_cast<std::size_t>(3 - spatial + d)] = logits.stride(1 + d);
    }
    const float* base = logits.data_ptr<float>();
    const std::int64_t cs = logits.stride(0);
    std::vector<float> best(static_cast<std::size_t>(n[2]));
    for (std::int64_t a = 0; a < n[0]; ++a)
        for (std::int64_t b = 0; b < n[1]; ++b) {
            const float* row = base + a * st[0] + b * st[1];
            std::uint8_t* o = out + (a * n[1] + b) * n[2];
            for (std::int64_t x = 0; x < n[2]; ++x) {
                best[static_cast<std::size_t>(x)] = row[x * st[2]];
                o[x] = 0;
            }
            for (std::int64_t k = 1; k < classes; ++k) {
                const float* q = row + k * cs;
                for (std::int64_t x = 0; x < n[2]; ++x) {
                    const float v = q[x * st[2]];
                    if (v > best[static_cast<std::size_t>(x)]) {
                        best[static_cast<std::size_t>(x)] = v;
                        o[x] = static_cast<std::uint8_t>(k);
                    }
                }
            }
        }
}

/// Mean and population standard deviation of one channel (spatial axes), summed in double
/// precision a few axis-0 rows at a time: no drift on big volumes, and no double copy of the
/// whole channel (190 MB for a 384×384×160 volume). Two passes, as numpy's std.
std::pair<double, double> mean_std(const torch::Tensor& channel) {
    const std::int64_t rows = channel.size(0);
    const auto n = static_cast<double>(channel.numel());
    constexpr std::int64_t kRows = 8;
    double sum = 0;
    for (std::int64_t r = 0; r < rows; r += kRows)
        sum += channel.narrow(0, r, std::min(kRows, rows - r)).to(torch::kFloat64).sum().item<double>();
    const double m = sum / n;
    if (!std::isfinite(m)) return {m, 0.0};
    double squares = 0;
    for (std::int64_t r = 0; r < rows; r += kRows) {
        const torch::Tensor d = channel.narrow(0, r, std::min(kRows, rows - r)).to(torch::kFloat64) - m;
        squares += (d * d).sum().item<double>();
    }
    return {m, std::sqrt(squares / n)};
}

Segmentation segment_on_grid(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                             const SegmentOptions& options) {
    const ModelSpec& spec = model.spec();
    const auto dims = static_cast<std::int64_t>(spec.patch_size.size());
    SPORTSMED_CHECK(static_cast<std::int64_t>(shape.size()) == dims,
                    "segment: the model works on {}-D images, got a {}-D shape", dims, shape.size());
    std::int64_t voxels = 1;
    for (const std::int64_t s : shape) {
        SPORTSMED_CHECK(s > 0, "segment: image shape has a non-positive size {}", s);
        voxels *= s;
    }
    std::vector<std::int64_t> full = {spec.in_channels};
    full.insert(full.end(), shape.begin(), shape.end());
    // A view of the caller's array: windows are normalised as they are cut, so the whole
    // volume is never copied (unless it must be padded).
    torch::Tensor x = torch::from_blob(const_cast<float*>(image), full, torch::kFloat32);

    std::vector<std::int64_t> stat_shape(dims + 2, 1);
    stat_shape[1] = spec.in_channels;
    torch::Tensor mean = torch::zeros(stat_shape), scale = torch::ones(stat_shape);
    for (std::int64_t c = 0; c < spec.in_channels; ++c) {
        const auto [m, sd] = mean_std(x[c]);
        if (!std::isfinite(m)) {  // a double sum of floats is finite exactly when every value is
            const std::int64_t bad = (~torch::isfinite(x)).sum().item<std::int64_t>();
            SPORTSMED_THROW(InvalidArgument, "segment: the image contains {} NaN or infinite intensities", bad);
        }
        if (spec.normalization == "zscore") {
            mean.view(-1)[c] = m;
            scale.view(-1)[c] = sd > 0 ? 1.0 / sd : 1.0;
        }
    }

    // Pad (centred) to at least the patch size with each channel's mean, i.e. zero after
    // normalisation; cropped back below.
    std::vector<std::int64_t> pad_before(dims, 0), padded(shape);
    bool needs_pad = false;
    for (std::int64_t d = 0; d < dims; ++d) {
        if (shape[d] < spec.patch_size[d]) {
            pad_before[d] = (spec.patch_size[d] - shape[d]) / 2;
            padded[d] = spec.patch_size[d];
            needs_pad = true;
        }
    }
    if (needs_pad) {
        std::vector<std::int64_t> pads;  // torch order: last axis first, (before, after)
        for (std::int64_t d = dims - 1; d >= 0; --d) {
            pads.push_back(pad_before[d]);
            pads.push_back(padded[d] - shape[d] - pad_before[d]);
        }
        std::vector<torch::Tensor> channels;
        for (std::int64_t c = 0; c < spec.in_channels; ++c)
            channels.push_back(torch::constant_pad_nd(x[c], pads, mean.view(-1)[c].item<double>()));
        x = torch::stack(channels);
    }

    std::int64_t n_windows = 1;
    for (std::int64_t d = 0; d < dims; ++d)
        n_windows *= static_cast<std::int64_t>(window_starts(padded[d], spec.patch_size[d], options.step_fraction).size());
    ProgressReporter reporter(options.progress, "segment", n_windows);

    Segmentation result;
    result.shape = shape;
    result.num_classes = spec.num_classes();
    result.labels.resize(static_cast<std::size_t>(voxels));
    if (options.probabilities) result.probabilities.resize(static_cast<std::size_t>(voxels) * result.num_classes);

    auto& impl = model.impl();
    impl.prepare_inference();
    const std::int64_t plane = voxels / shape[0];  // voxels per axis-0 row of the output
    auto sink = [&](std::int64_t begin, std::int64_t end, const torch::Tensor& logits_padded) {
        SPORTSMED_CHECK(logits_padded.size(0) == result.num_classes,
                        "segment: the network returned {} classes but the model names {} labels",
                        logits_padded.size(0), result.num_classes);
        // Crop padding: rows [begin, end) of the padded grid → rows of the input grid.
        const std::int64_t lo = std::max(begin, pad_before[0]);
        const std::int64_t hi = std::min(end, pad_before[0] + shape[0]);
        if (hi <= lo) return;
        std::vector<torch::indexing::TensorIndex> index = {torch::indexing::Slice(),
                                                           torch::indexing::Slice(lo - begin, hi - begin)};
        for (std::int64_t d = 1; d < dims; ++d)
            index.push_back(torch::indexing::Slice(pad_before[d], pad_before[d] + shape[d]));
        torch::Tensor logits = logits_padded.index(index);
        const std::int64_t row0 = lo - pad_before[0];
        if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32) {
            argmax_classes(logits, result.labels.data() + row0 * plane);
        } else {  // on the device: only the labels come back
            torch::Tensor labels = logits.argmax(0).to(torch::kUInt8).to(torch::kCPU).contiguous();
            std::copy_n(labels.data_ptr<std::uint8_t>(), labels.numel(), result.labels.data() + row0 * plane);
        }
        if (options.probabilities) {
            logits = logits.to(torch::kCPU);
            torch::Tensor p = torch::softmax(logits, 0).contiguous();
            const std::int64_t rows = hi - lo;
            for (std::int64_t k = 0; k < result.num_classes; ++k) {
                std::copy_n(p[k].data_ptr<float>(), rows * plane,
                            result.probabilities.data() + k * voxels + row0 * plane);
            }
        }
    };
    const std::vector<std::int64_t> patch = spec.patch_size;
    const torch::Tensor mean_d = mean.to(impl.device), scale_d = scale.to(impl.device);
    const int batch = options.batch_size > 0 ? options.batch_size : impl.device.is_cpu() ? 1 : 2;
    detail::sliding_window([&](const torch::Tensor& t) { return impl.forward((t - mean_d) * scale_d); }, x, patch,
                           options.step_fraction, batch, options.mirror, options.low_memory, impl.device, sink,
                           &reporter, spec.mirror_axes);
    reporter.finish();
    return result;
}

}  // namespace
}  // namespace sportsmed::seg
