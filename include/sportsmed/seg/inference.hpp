#pragma once
/// @file
/// Sliding-window inference of a segmentation Model over a whole volume.

#include <cstdint>
#include <vector>

#include "sportsmed/core/progress.hpp"
#include "sportsmed/seg/model.hpp"

namespace sportsmed::seg {

/// Options of segment().
struct SegmentOptions {
    /// Window step as a fraction of the patch size per axis (0.5 = 50 % overlap), as
    /// MONAI's overlap = 1 - step_fraction.
    double step_fraction = 0.5;
    /// Windows per network call; 0 chooses: 1 on the CPU (with every convolution on oneDNN a
    /// window's activations stay in cache: faster per window than batches of 2 or 4 on the
    /// machines measured), 2 on other devices.
    int batch_size = 0;
    /// Test-time augmentation: average over every combination of flips along the model's
    /// ModelSpec::mirror_axes (all axes for a model that names none: 2^3 passes in 3-D).
    bool mirror = false;
    /// Accumulate in slabs along the first axis instead of a float32 buffer per class over
    /// the whole volume: memory ∝ patch depth instead of volume depth; same result.
    bool low_memory = true;
    bool probabilities = false;  ///< also return softmax probabilities (classes × spatial)
    /// Voxel spacing of the input (mm per axis). When set and different from the model's
    /// spacing (by more than 1 %), the image is resampled (linear; an axis shrunk by f > 1
    /// smoothed first with a Gaussian of σ = (f − 1)/2 voxels against aliasing) to the model's grid,
    /// segmented there, and brought back by one path: the model-grid probabilities are
    /// interpolated linearly onto the input grid and the labels are their argmax there —
    /// identical with and without @ref probabilities, whose full-volume buffer is made only
    /// when asked for. Empty: the image is taken to be on the model's grid.
    std::vector<double> input_spacing_mm;
    /// Keep only the largest 26-connected component of each label (3-D only), as nnU-Net's
    /// post-processing; removed voxels become background.
    bool keep_largest_component = false;
    /// With keep_largest_component: the labels to filter (e.g. the model's
    /// ModelSpec::single_component_labels); empty = every label. Labels of two-part
    /// structures (medial and lateral tibial cartilage) should be left out.
    std::vector<int> keep_largest_labels;
    /// With keep_largest_component: groups of filtered labels (the model's
    /// ModelSpec::fragment_join_groups) whose removed fragments join the one other label of
    /// the group they touch (imaging::keep_largest_component_per_label); empty: none.
    std::vector<std::vector<int>> join_fragment_groups;
    /// With keep_largest_component: rows of a label and its anchors (the model's
    /// ModelSpec::component_anchors): that label keeps the component touching its anchors most.
    std::vector<std::vector<int>> component_anchors;
    /// Rows of a label and its supports (the model's ModelSpec::attached_labels): every piece
    /// of the label touching none of its supports becomes background
    /// (imaging::remove_detached_components; 3-D only), after the largest-component filter if
    /// that is asked, for any label (also those in several pieces, such as the tibial
    /// cartilage). Empty: none.
    std::vector<std::vector<int>> attached_labels;
    /// The coarse first stage of a cascade (not owned; nullptr: none), a model with the same
    /// labels whose window sees the whole joint (48³ voxels of 3 mm: 144 mm), where the
    /// model's (48 mm) cannot tell a long-bone shaft far from the joint from another. Both
    /// segment the image, each on its own grid with its probabilities brought back to the
    /// input grid; each of @ref context_groups gets the two models' probabilities mixed by
    /// @ref context_mass_weight, split among its members as the context model splits it; the
    /// other classes keep the model's proportions (combine_context). The labels are the
    /// argmax, then post-processed as asked. Models on different grids need
    /// @ref input_spacing_mm.
    Model* context_model = nullptr;
    /// The label groups whose member the context model decides; empty: its
    /// ModelSpec::context_groups (refused when that is empty too).
    std::vector<std::vector<int>> context_groups;
    /// The context model's share of each group's probability (0: the model's alone). 0.5 was
    /// chosen on a training anatomy, not a test one: an SPL-trained pair on the SPL knee
    /// (independent simulator) gained mean bone Dice 0.75 → 0.89 (PD-FS) and 0.86 → 0.91
    /// (DESS) over 0. The pymskt-trained pair on its own knee preferred 0 (its fine model is
    /// already right there and the 3 mm context blurs the boundaries); see the README.
    double context_mass_weight = 0.5;
    ProgressCallback progress;   ///< fraction of windows done, stage "segment"
};

/// Result of segment(): a label map on the input grid.
struct Segmentation {
    std::vector<std::int64_t> shape;  ///< spatial shape (same as the input)
    int num_classes = 0;
    std::vector<std::uint8_t> labels;     ///< argmax class per voxel, C order
    std::vector<float> probabilities;     ///< classes × spatial if requested, else empty
};

/// Segments an image (on the model's grid unless options.input_spacing_mm says otherwise).
///
/// Normalises (spec().normalization), pads volumes smaller than the patch (centred, zero
/// after normalisation), slides windows with the given step (window starts as MONAI's
/// dense_patch_slices: multiples of int(patch × step_fraction), the last clamped to the
/// end), weights each window's logits by a Gaussian importance map (σ = patch/8 per axis,
/// MONAI's compute_importance_map, see gaussian_importance_map), averages overlapping
/// logits, and takes the argmax.
///
/// @param image channels × spatial, C order, float32; channels = spec().in_channels.
/// @param shape spatial shape (2 or 3 axes, as the model).
/// @throws InvalidArgument on shape/channel mismatch or non-finite intensities.
/// @throws Cancelled if the progress callback asks to stop.
Segmentation segment(Model& model, const float* image, const std::vector<std::int64_t>& shape,
                     const SegmentOptions& options = {});

/// Sets the post-processing of @p options to what the model's sidecar names (Python's
/// `keep_largest_component="model"`, `mri segment --keep-largest model`): the largest component
/// of its single_component_labels (none named: no such filter), its fragment_join_groups and
/// component_anchors, and its attached_labels.
void use_model_post_processing(SegmentOptions& options, const ModelSpec& spec);

/// The probabilities of a two-stage cascade, in place. Each group of labels gets the mass
/// (1 − @p mass_weight)·(@p detail's total for the group) + @p mass_weight·(@p context's),
/// split among its members in @p context's proportions (in @p detail's where @p context
/// gives the group less than @p eps). The other labels share what is left in @p detail's
/// proportions (@p context's where @p detail left nothing). A voxel still sums to one if
/// both did. Both are classes × voxels, C order.
/// @throws InvalidArgument on sizes that differ, a weight outside [0, 1], or groups that are
/// not disjoint sets of two or more labels of 1..num_classes-1.
void combine_context(std::vector<float>& detail, const std::vector<float>& context, int num_classes,
                     const std::vector<std::vector<int>>& groups, double mass_weight = 0.5, double eps = 1e-6);

/// Window start positions along one axis (MONAI's dense_patch_slices rule).
/// @return starts in increasing order; {0} when size <= patch.
std::vector<std::int64_t> window_starts(std::int64_t size, std::int64_t patch, double step_fraction);

/// Gaussian importance map over a patch, as MONAI's compute_importance_map(mode="gaussian"):
/// exp(-Σ (x_d - c_d)² / (2 σ_d²)) with c_d = (patch_d − 1)/2 (symmetric: between the two
/// middle voxels of an even patch), σ_d = sigma_scale × patch_d, not normalised (1 at the
/// centre of an odd patch), and floored at max(its smallest value, 1e-3).
/// @return patch voxels in C order.
std::vector<float> gaussian_importance_map(const std::vector<std::int64_t>& patch, double sigma_scale = 0.125);

}  // namespace sportsmed::seg
