#pragma once
/// @file
/// Training a built-in U-Net from labelled volumes (or a generator of them).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sportsmed/core/progress.hpp"
#include "sportsmed/seg/model.hpp"

namespace sportsmed::seg {

/// One labelled image: single-channel intensities and class ids on the same grid.
struct Sample {
    std::vector<std::int64_t> shape;    ///< spatial shape (2 or 3 axes)
    std::vector<float> image;           ///< C order, product(shape) values
    std::vector<std::uint8_t> labels;   ///< C order, class ids < num_classes
};

/// Produces training sample number @p index (e.g. by synthesis). Must be deterministic
/// in (index, seed) and safe to call from loader threads.
using SampleSource = std::function<Sample(std::uint64_t index, std::uint64_t seed)>;

/// Options of train().
struct TrainOptions {
    int epochs = 10;
    int iterations_per_epoch = 50;
    int batch_size = 2;
    std::vector<std::int64_t> patch_size;  ///< default: the model's patch size
    std::string optimizer = "adamw";       ///< "adamw" or "sgd" (Nesterov, momentum 0.99, as nnU-Net)
    double learning_rate = 1e-3;           ///< initial; decays as (1 - it/total)^poly_power
    double weight_decay = 1e-4;
    double poly_power = 0.9;
    double foreground_fraction = 1.0 / 3.0;  ///< share of patches centred on a foreground voxel (nnU-Net)
    std::vector<double> class_weights;       ///< per class; empty = all 1
    bool augment = true;  ///< flips, rotation, scaling, elastic, gamma, noise, blur, bias field
    /// Spatial axes random flips may flip (augment); empty = the model's
    /// ModelSpec::mirror_axes (every axis when it names none). Test-time mirroring uses the
    /// model's mirror_axes: give other axes here only with a sidecar that records them.
    std::vector<int> flip_axes;
    int loader_threads = 1;  ///< threads preparing batches while the network trains
    /// Fresh samples drawn from the SampleSource per epoch (ignored for fixed samples).
    int samples_per_epoch = 4;
    int validate_every = 1;  ///< epochs between validations (0: never)
    std::uint64_t seed = 0;
    std::string device = "cpu";
    /// Arithmetic of the forward pass: "float32"; "bfloat16" (autocast, CPU or CUDA; no
    /// loss scaling needed); "float16" (autocast with dynamic loss scaling, CUDA only).
    /// Weights, optimiser state and the loss stay float32 (mixed precision).
    std::string precision = "float32";
    std::string checkpoint;  ///< path; saved after every epoch when set
    bool resume = false;     ///< continue from `checkpoint` if it exists
    ProgressCallback progress;  ///< fraction of iterations; stage "epoch e/E loss x"
};

/// Statistics of one epoch.
struct EpochStats {
    int epoch = 0;
    double train_loss = 0;         ///< mean Dice+CE over the epoch's iterations
    std::vector<double> val_dice;  ///< per class (index = class; NaN where absent in both)
    double learning_rate = 0;      ///< at the end of the epoch
    double seconds = 0;
};

/// Training history.
struct TrainResult {
    std::vector<EpochStats> history;
};

/// Trains @p model on fixed samples; validates on @p validation with segment().
/// Loss: Dice + cross-entropy (MONAI DiceCELoss semantics with batch=True, i.e.
/// nnU-Net's batch Dice: one Dice term per class over the whole batch, so that classes
/// absent from one patch do not dominate), deep supervision if the U-Net has it. Deterministic for a given seed and loader_threads on CPU.
/// @throws InvalidArgument on empty data, shape mismatches, labels >= num_classes.
TrainResult train(Model& model, const std::vector<Sample>& training, const std::vector<Sample>& validation,
                  const TrainOptions& options);

/// As above, drawing options.samples_per_epoch fresh samples per epoch from @p source
/// (SynthSeg-style training: a new synthetic image every time).
TrainResult train(Model& model, const SampleSource& source, const std::vector<Sample>& validation,
                  const TrainOptions& options);

/// Dice per class between two label maps of equal size (NaN where a class is absent
/// from both).
std::vector<double> dice_per_class(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                                   int num_classes);

}  // namespace sportsmed::seg
