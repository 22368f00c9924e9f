#pragma once
/// @file
/// SynthSeg-style image synthesis from label maps (Billot et al., 2023, Medical Image
/// Analysis 86:102789): a random image with random contrast, shape, resolution, bias
/// field and noise for every draw, so that a network trained on them does not learn one
/// scanner's contrast.

#include <cstdint>
#include <vector>

#include "sportsmed/seg/train.hpp"

namespace sportsmed::seg {

/// Ranges of the random draws (uniform unless stated).
struct SynthOptions {
    double max_rotation_deg = 12.0;     ///< per axis
    double min_scale = 0.9, max_scale = 1.1;  ///< isotropic-ish scaling, per axis
    double elastic_std_vox = 2.0;       ///< std of the coarse displacement field (voxels)
    int elastic_grid = 5;               ///< control points per axis of the displacement field
    double min_mean = 0.0, max_mean = 1.0;   ///< per-label mean intensity
    double min_std = 0.005, max_std = 0.05;  ///< per-label intensity std
    double max_blur_sigma_vox = 1.0;    ///< Gaussian blur simulating lower resolution
    double bias_std = 0.3;              ///< std of the log bias field (coarse 4^d grid)
    double gamma_std = 0.25;            ///< log-gamma std of the final contrast curve
    double max_noise = 0.04;            ///< Rician noise σ (image scaled to [0, 1])
    bool deform = true;                 ///< apply the spatial deformation
    /// Optional intensity prior (the contrast-specific variant of the generator, whose
    /// mixture parameters are drawn around values measured on the target contrast; Billot
    /// et al., MIDL 2020): with probability @c prior_probability a sample takes label k's mean from
    /// N(prior_means[k], prior_mean_jitter²) and its std as prior_stds[k]·exp(0.25·N(0, 1))
    /// instead of the uniform draws above. Labels beyond the prior's length keep the uniform
    /// draws. Intensities are on the scale of the prior (e.g. a reference image in [0, 1]);
    /// blur, bias field, gamma and noise follow as for every sample.
    std::vector<double> prior_means, prior_stds;
    double prior_probability = 0.0;
    double prior_mean_jitter = 0.05;
    /// Partial volume (SynthSeg generates at the label map's high resolution and then
    /// lowers it): with a factor f > 1 the label map is taken at f times the output
    /// resolution along every axis. Intensities are drawn on that fine grid (the
    /// per-voxel texture std scaled by f^(dims/2), so that it survives the averaging
    /// as at f = 1) and averaged over each f^dims block, as voxels of a real image
    /// integrate the tissues they contain. Each output label is the label at the output
    /// voxel's centre for odd f (the block's central fine voxel: the labelling of the
    /// imaging phantom), and the block's most frequent label for even f (ties to the lower
    /// label, which biases half-filled voxels towards the lower label: prefer odd f). The
    /// output shape is the input shape divided by f (rounded down), and the deformation
    /// (drawn on the output grid and interpolated) and blur stay in output voxels.
    int partial_volume = 1;
    /// Heterogeneous background: with k > 1, the voxels of label 0 (everything a label map
    /// leaves unlabelled: fat, muscle, tendons, fluid, air) are split into k smooth random
    /// regions — the argmax of k random fields on a coarse 4^dims grid, upsampled — and
    /// each region draws its own intensity like a label (uniform draws beyond label 0, also
    /// when the prior is used). The output labels keep 0 there. SynthSeg gets the same
    /// effect from the extra non-brain labels of its training maps. 1: one background class.
    int background_classes = 1;
    /// Background tissues of the intensity prior: candidate (mean, std) values for the extra
    /// background regions of a prior-drawn sample, background_prior_means.size() / prior_tables
    /// per table (tables back to back, as prior_means). When given, each region r > 0 of such a
    /// sample takes the mean and std of one candidate of the sample's table, drawn uniformly
    /// (mean jittered and std scaled as for the labels), instead of a uniform draw: the
    /// unlabelled rest of a knee is mostly subcutaneous fat and muscle, and fatty marrow has
    /// the signal of fat in every protocol, so that fat-like regions against bone (told apart
    /// only by the cortex) are common in training as they are in knee MRI. Empty: uniform draws.
    std::vector<double> background_prior_means, background_prior_stds;
    /// Random crop (output voxels per axis, 0 = none): a box of this size at a uniformly
    /// random position (whole output voxels) is cut from the label map before anything
    /// else, as SynthSeg crops its training maps; axes no longer than it are kept whole.
    /// Training draws patches from the crop, so a crop a little larger than the patch
    /// keeps most of the variety at a fraction of the cost on large fields of view.
    int crop = 0;
    /// Generation labels → output classes (SynthSeg's generation labels): when not empty,
    /// the label map holds generation labels (every tissue that should draw its own
    /// intensity: muscles, fat, tendons, vessels, ...), the image is synthesised from them,
    /// and the returned labels are output_classes[label] (e.g. 0 for every tissue that is
    /// not a segmentation class). Labels beyond its length are refused.
    std::vector<std::uint8_t> output_classes;
    /// Number of intensity priors in prior_means / prior_stds (tables of equal length back
    /// to back, e.g. DESS-, PD-FS-, T1- and T2-like contrasts): a prior-drawn sample picks
    /// one uniformly.
    int prior_tables = 1;
    /// Stationary velocity field (SynthSeg, VoxelMorph): std (output voxels) of a random
    /// velocity on a velocity_grid^dims grid, upsampled and integrated by scaling and
    /// squaring (2^7 steps), so that even large displacements stay one-to-one. 0: none.
    double velocity_std_vox = 0.0;
    int velocity_grid = 4;
    /// Thick slices: with this probability one random axis is acquired with slices of a
    /// random thickness in [min_slice_thickness_vox, max_slice_thickness_vox] output voxels
    /// (a Gaussian slice profile of that FWHM, sampled every thickness at a random phase)
    /// and interpolated linearly back to the output grid, as a 2D-like stack is resampled
    /// to the model's grid at inference.
    double thick_slice_probability = 0.0;
    double min_slice_thickness_vox = 1.0, max_slice_thickness_vox = 1.0;
};

/// Synthesises one image from @p labels (spatial shape @p shape) with seed @p seed.
/// @return the (deformed) labels and the synthetic image on the same grid, in [0, 1]
/// (the grid of @p labels, or that grid coarsened by SynthOptions::partial_volume).
Sample synthesize(const std::vector<std::uint8_t>& labels, const std::vector<std::int64_t>& shape,
                  const SynthOptions& options, std::uint64_t seed);

}  // namespace sportsmed::seg
