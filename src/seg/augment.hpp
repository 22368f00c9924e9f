#pragma once
// Random spatial and intensity transforms on tensors (internal), shared by synthesis
// and training augmentation. Tensors are 1 × C × spatial (image) and 1 × 1 × spatial
// (labels as float class ids).

#include <random>

#include <torch/torch.h>

namespace sportsmed::seg::detail {

struct SpatialParams {
    double max_rotation_deg = 0;
    double min_scale = 1, max_scale = 1;
    double elastic_std_vox = 0;
    int elastic_grid = 5;
    bool flip = false;  ///< random flip per axis
    double velocity_std_vox = 0;  ///< stationary velocity field, integrated (scaling and squaring)
    int velocity_grid = 4;
};

/// Sampling grid (1 × spatial × dims, grid_sample order) of a random rotation, scaling
/// and smooth elastic displacement about the volume centre, drawn from @p rng.
torch::Tensor random_grid(const std::vector<std::int64_t>& shape, const SpatialParams& p, std::mt19937_64& rng);

/// Resamples image (trilinear/bilinear, border) and labels (nearest, background outside).
/// @p grid (from random_grid) linearly resampled to another spatial @p shape: the same
/// smooth transform, in grid_sample's normalised coordinates, at another resolution.
torch::Tensor resample_grid(const torch::Tensor& grid, const std::vector<std::int64_t>& shape);

void apply_grid(torch::Tensor& image, torch::Tensor& labels, const torch::Tensor& grid);

/// Random flips per spatial axis (same for image and labels).
void random_flips(torch::Tensor& image, torch::Tensor& labels, std::mt19937_64& rng,
                  const std::vector<int>& allowed = {});

/// Separable Gaussian blur of a 1 × C × spatial tensor with per-axis sigma (voxels).
torch::Tensor gaussian_blur(const torch::Tensor& x, const std::vector<double>& sigma);

/// Smooth multiplicative bias field exp(N(0, std) on a coarse 4^d grid, upsampled).
torch::Tensor bias_field(const std::vector<std::int64_t>& shape, double log_std, std::mt19937_64& rng);

/// Standard normal tensor drawn from @p rng (deterministic across LibTorch versions).
torch::Tensor randn(const std::vector<std::int64_t>& shape, std::mt19937_64& rng);

}  // namespace sportsmed::seg::detail
