#pragma once
/// @file
/// Segmentation networks: a configurable U-Net (nnU-Net style) or an imported
/// TorchScript network, with the metadata needed to run it (the JSON sidecar).
///
/// LibTorch stays behind a pimpl: this header does not include torch.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sportsmed::seg {

/// Architecture of the built-in U-Net (Ronneberger 2015; nnU-Net's variant, Isensee
/// et al. 2021): per resolution level `convs_per_stage` × (3^d conv → instance norm →
/// leaky ReLU); down-sampling by stride-2 convolution, up-sampling by stride-2
/// transposed convolution, skip connections by concatenation, 1×1 conv heads.
struct UNetConfig {
    int spatial_dims = 3;        ///< 3 (volumes) or 2 (slices)
    int in_channels = 1;         ///< image channels
    int num_classes = 8;         ///< output classes including background
    int base_features = 16;      ///< features at full resolution; doubled per level
    int max_features = 256;      ///< cap on features per level
    int levels = 4;              ///< resolution levels (levels - 1 down-samplings)
    int convs_per_stage = 2;     ///< conv blocks per level, encoder and decoder
    double negative_slope = 0.01;  ///< leaky ReLU slope
    bool deep_supervision = false; ///< extra heads at lower decoder levels (training only)
};

/// Everything needed to run a network on an image: saved as the JSON sidecar
/// `<model>.json` next to the weights `<model>.pt`.
struct ModelSpec {
    std::string architecture = "unet";  ///< "unet" (built-in) or "torchscript"
    UNetConfig unet;                    ///< used when architecture == "unet"
    int in_channels = 1;                ///< channels the network expects
    std::vector<std::string> labels;    ///< class names, index = class id (0 = background)
    std::vector<std::int64_t> patch_size;  ///< window size per spatial axis (voxels)
    std::vector<double> spacing_mm;     ///< voxel spacing the network was trained at
    std::string normalization = "zscore";  ///< "zscore" (per volume) or "none"
    std::string notes;                  ///< free text: training command, validation figures
    /// Labels that are one connected structure in every image (femur, patella; not the
    /// medial + lateral tibial cartilage): those a keep-largest-component post-processing
    /// may filter (SegmentOptions::keep_largest_labels). Optional in the sidecar.
    std::vector<int> single_component_labels;
    /// Groups of single_component_labels (the knee's bones: femur, tibia, patella) whose
    /// removed fragments join the one other label of the group they touch
    /// (imaging::keep_largest_component_per_label with join groups; SegmentOptions::
    /// join_fragment_groups). Optional in the sidecar.
    std::vector<std::vector<int>> fragment_join_groups;
    /// Rows of a single_component_label followed by its anchor labels (femur and femoral
    /// cartilage: {1, 4}): the component kept is the one touching its anchors most, not the
    /// largest (imaging::keep_largest_component_per_label). Optional in the sidecar.
    std::vector<std::vector<int>> component_anchors;
    /// Rows of a label followed by its supports (tibial cartilage and tibia: {5, 2}): with the
    /// model's post-processing, a piece of the label touching none of its supports is removed
    /// (imaging::remove_detached_components; SegmentOptions::attached_labels). Optional.
    std::vector<std::vector<int>> attached_labels;
    /// Groups of labels (the knee's bones: femur, tibia, patella) whose member this model
    /// decides when it is the coarse first stage of a cascade: its window sees the whole
    /// joint, the fine model's does not (SegmentOptions::context_model). Optional.
    std::vector<std::vector<int>> context_groups;
    /// Orientation of the arrays the network was trained on, as a 3-letter code of L/R, P/A,
    /// S/I (imaging::canonical_reorientation): images are brought to it before inference.
    /// Sidecars without it mean "LPS", the layout of the project's phantoms.
    std::string orientation = "LPS";
    /// Spatial axes (0-based, in @ref orientation) along which the network was trained with
    /// random flips, and over which test-time mirroring averages (nnU-Net's mirror axes): a
    /// knee model mirrored only left-right keeps superior/inferior (femur above tibia) as a
    /// cue. Empty (sidecars without it) = every axis.
    std::vector<int> mirror_axes;

    int num_classes() const { return static_cast<int>(labels.size()); }
};

/// Serialises @p spec as the sidecar JSON document.
std::string to_json(const ModelSpec& spec);

/// Parses a sidecar JSON document.
/// @param source file name used in error messages.
/// @throws FormatError on malformed JSON, missing or inconsistent fields.
ModelSpec model_spec_from_json(const std::string& text, const std::string& source = "<string>");

/// A segmentation network with its spec. Move-only; the weights live in LibTorch.
class Model {
public:
    /// A new built-in U-Net with weights initialised from @p seed.
    /// @throws InvalidArgument if the spec is inconsistent (labels vs classes, patch not
    ///         divisible by 2^(levels-1), ...).
    static Model create(const ModelSpec& spec, std::uint64_t seed = 0);

    /// Loads `<path>` (weights or TorchScript archive) and its sidecar: `<path>.json`, or
    /// the same stem with `.json`.
    /// @param device "cpu", "cuda" or "cuda:N".
    /// @throws NotFound if the weights or the sidecar are missing; FormatError if either is
    ///         unreadable or they disagree (e.g. class count).
    static Model load(const std::string& path, const std::string& device = "cpu");

    /// Saves weights to @p path and the spec to its sidecar (`<stem>.json`), each written
    /// to a temporary name and renamed. Built-in U-Nets only.
    void save(const std::string& path) const;

    const ModelSpec& spec() const noexcept;
    ModelSpec& mutable_spec() noexcept;
    std::string device() const;
    /// Moves the weights to @p device ("cpu", "cuda", "cuda:N").
    void to(const std::string& device);
    /// Number of trainable parameters.
    std::int64_t num_parameters() const;

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    struct Impl;
    Impl& impl() { return *impl_; }
    const Impl& impl() const { return *impl_; }

private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sportsmed::seg
