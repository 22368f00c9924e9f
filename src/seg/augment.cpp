#include "augment.hpp"

#include <algorithm>
#include <cmath>

#include "sportsmed/core/error.hpp"

namespace sportsmed::seg::detail {
namespace F = torch::nn::functional;

torch::Tensor randn(const std::vector<std::int64_t>& shape, std::mt19937_64& rng) {
    // std::normal_distribution is implementation-defined but fixed for one standard
    // library; drawing here (not with torch's generator) keeps seeds meaningful across
    // LibTorch versions and devices.
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    float* p = t.data_ptr<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = normal(rng);
    return t;
}

namespace {

torch::Tensor upsample(const torch::Tensor& coarse, const std::vector<std::int64_t>& shape) {
    F::InterpolateFuncOptions options = F::InterpolateFuncOptions().size(shape).align_corners(true);
    if (shape.size() == 3) options.mode(torch::kTrilinear);
    else options.mode(torch::kBilinear);
    return F::interpolate(coarse, options);
}

// Rotation about each axis in turn (3-D) or the single in-plane rotation (2-D).
torch::Tensor rotation(int dims, const std::vector<double>& angles_rad) {
    if (dims == 2) {
        const double c = std::cos(angles_rad[0]), s = std::sin(angles_rad[0]);
        return torch::tensor({c, -s, s, c}, torch::kFloat64).reshape({2, 2});
    }
    torch::Tensor r = torch::eye(3, torch::kFloat64);
    for (int axis = 0; axis < 3; ++axis) {
        const double c = std::cos(angles_rad[axis]), s = std::sin(angles_rad[axis]);
        torch::Tensor m = torch::eye(3, torch::kFloat64);
        const int i = (axis + 1) % 3, j = (axis + 2) % 3;
        m[i][i] = c;
        m[i][j] = -s;
        m[j][i] = s;
        m[j][j] = c;
        r = torch::matmul(m, r);
    }
    return r;
}

// The grid_sample grid (1 × spatial × dims, last axis first, align_corners=true) that
// reads voxel positions `index + disp` (disp: dims × spatial, voxels).
torch::Tensor sampling_grid(const torch::Tensor& disp, const std::vector<std::int64_t>& shape) {
    const auto dims = static_cast<std::int64_t>(shape.size());
    std::vector<torch::Tensor> grid;
    for (std::int64_t d = dims - 1; d >= 0; --d) {
        std::vector<std::int64_t> view(dims, 1);
        view[d] = shape[d];
        const torch::Tensor index = torch::arange(shape[d], torch::kFloat32).reshape(view);
        grid.push_back((index + disp[d]) * (2.0 / std::max<double>(1.0, shape[d] - 1)) - 1.0);
    }
    return torch::stack(grid, -1).unsqueeze(0);
}

// A random stationary velocity field integrated by scaling and squaring (Arsigny 2006;
// SynthSeg): a displacement (dims × spatial, voxels) whose map is one-to-one however large.
torch::Tensor integrated_velocity(const std::vector<std::int64_t>& shape, const SpatialParams& p,
                                  std::mt19937_64& rng) {
    const auto dims = static_cast<std::int64_t>(shape.size());
    std::vector<std::int64_t> coarse = {1, dims};
    for (std::int64_t d = 0; d < dims; ++d) coarse.push_back(std::max(2, p.velocity_grid));
    constexpr int steps = 7;
    torch::Tensor disp = upsample(randn(coarse, rng) * (p.velocity_std_vox / (1 << steps)), shape);
    const auto options = F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder)
                             .align_corners(true);
    for (int i = 0; i < steps; ++i) disp = disp + F::grid_sample(disp, sampling_grid(disp[0], shape), options);
    return disp[0];
}

}  // namespace

torch::Tensor random_grid(const std::vector<std::int64_t>& shape, const SpatialParams& p, std::mt19937_64& rng) {
    const int dims = static_cast<int>(shape.size());
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> angles(dims == 3 ? 3 : 1);
    for (double& a : angles) a = (2 * unit(rng) - 1) * p.max_rotation_deg * M_PI / 180.0;
    torch::Tensor a = rotation(dims, angles);
    torch::Tensor scale = torch::empty({dims}, torch::kFloat64);
    for (int d = 0; d < dims; ++d) scale[d] = p.min_scale + (p.max_scale - p.min_scale) * unit(rng);
    a = torch::matmul(a, torch::diag(1.0 / scale));  // output voxel → input voxel

    // Centred voxel coordinates, dims × spatial, axis order of the tensor.
    std::vector<torch::Tensor> axes;
    for (int d = 0; d < dims; ++d) axes.push_back(torch::arange(shape[d], torch::kFloat64) - (shape[d] - 1) / 2.0);
    torch::Tensor coords = torch::stack(torch::meshgrid(axes, "ij"));  // dims × spatial
    if (p.velocity_std_vox > 0) coords = coords + integrated_velocity(shape, p, rng).to(torch::kFloat64);
    torch::Tensor q = torch::tensordot(a, coords, {1}, {0});
    if (p.elastic_std_vox > 0) {
        std::vector<std::int64_t> coarse = {1, dims};
        for (int d = 0; d < dims; ++d) coarse.push_back(p.elastic_grid);
        torch::Tensor disp = upsample(randn(coarse, rng) * p.elastic_std_vox, shape)[0];
        q = q + disp.to(torch::kFloat64);
    }
    // Normalise to [-1, 1] (align_corners=true) and put the axis order last, reversed
    // (grid_sample wants x = last axis first).
    std::vector<torch::Tensor> grid;
    for (int d = dims - 1; d >= 0; --d) grid.push_back(q[d] / std::max(1.0, (shape[d] - 1) / 2.0));
    return torch::stack(grid, -1).unsqueeze(0).to(torch::kFloat32);
}

torch::Tensor resample_grid(const torch::Tensor& grid, const std::vector<std::int64_t>& shape) {
    const std::int64_t dims = grid.dim() - 2;
    std::vector<std::int64_t> to_channels = {0, dims + 1}, back = {0};
    for (std::int64_t d = 1; d <= dims; ++d) to_channels.push_back(d);
    for (std::int64_t d = 2; d < dims + 2; ++d) back.push_back(d);
    back.push_back(1);
    return upsample(grid.permute(to_channels), shape).permute(back).contiguous();
}

void apply_grid(torch::Tensor& image, torch::Tensor& labels, const torch::Tensor& grid) {
    image = F::grid_sample(image, grid, F::GridSampleFuncOptions().mode(torch::kBilinear)
                                            .padding_mode(torch::kBorder).align_corners(true));
    labels = F::grid_sample(labels, grid, F::GridSampleFuncOptions().mode(torch::kNearest)
                                              .padding_mode(torch::kZeros).align_corners(true));
}

void random_flips(torch::Tensor& image, torch::Tensor& labels, std::mt19937_64& rng,
                  const std::vector<int>& allowed) {
    std::vector<std::int64_t> axes;
    for (std::int64_t d = 2; d < image.dim(); ++d) {
        const bool flip = (rng() & 1) != 0;  // drawn for every axis: the stream does not depend on `allowed`
        if (flip && (allowed.empty() || std::find(allowed.begin(), allowed.end(), static_cast<int>(d - 2)) !=
                                            allowed.end()))
            axes.push_back(d);
    }
    if (axes.empty()) return;
    image = image.flip(axes);
    labels = labels.flip(axes);
}

torch::Tensor gaussian_blur(const torch::Tensor& x, const std::vector<double>& sigma) {
    torch::Tensor y = x;
    const std::int64_t dims = x.dim() - 2;
    const std::int64_t channels = x.size(1);
    for (std::int64_t d = 0; d < dims; ++d) {
        if (sigma[d] <= 0.05) continue;
        const auto radius = static_cast<std::int64_t>(std::ceil(3 * sigma[d]));
        torch::Tensor k = torch::arange(-radius, radius + 1, torch::kFloat32);
        k = torch::exp(-(k * k) / (2 * sigma[d] * sigma[d]));
        k = k / k.sum();
        std::vector<std::int64_t> kshape(dims + 2, 1);
        kshape[0] = channels;
        kshape[2 + d] = 2 * radius + 1;
        const torch::Tensor kernel = k.reshape(kshape).to(x.device());
        std::vector<std::int64_t> pad(dims, 0);
        pad[d] = radius;
        // Replicate padding keeps borders from darkening.
        std::vector<std::int64_t> torch_pad;
        for (std::int64_t e = dims - 1; e >= 0; --e) {
            torch_pad.push_back(pad[e]);
            torch_pad.push_back(pad[e]);
        }
        torch::Tensor padded = F::pad(y, F::PadFuncOptions(torch_pad).mode(torch::kReplicate));
        y = dims == 3 ? F::conv3d(padded, kernel, F::Conv3dFuncOptions().groups(channels))
                      : F::conv2d(padded, kernel, F::Conv2dFuncOptions().groups(channels));
    }
    return y;
}

torch::Tensor bias_field(const std::vector<std::int64_t>& shape, double log_std, std::mt19937_64& rng) {
    std::vector<std::int64_t> coarse = {1, 1};
    for (std::size_t d = 0; d < shape.size(); ++d) coarse.push_back(4);
    return torch::exp(upsample(randn(coarse, rng) * log_std, shape));
}

}  // namespace sportsmed::seg::detail
