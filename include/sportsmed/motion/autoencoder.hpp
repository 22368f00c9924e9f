#pragma once
/// @file
/// The deep scorer of unusual-movement detection: a 1-D convolutional autoencoder of
/// time-normalised movement cycles (channels × points of joint angles), trained in LibTorch,
/// pre-trained on many cycles (e.g. the synthetic athlete's) and adapted to one athlete's
/// baseline; the anomaly score of a cycle is its reconstruction error. LibTorch stays behind
/// a pimpl: this header does not include torch.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::motion {

/// Format version of the sidecar CycleAutoencoder::save() writes and load() reads.
inline constexpr int kCycleAutoencoderFormatVersion = 1;

/// Shape and training options of CycleAutoencoder.
struct CycleAutoencoderOptions {
    int channels = 10;           ///< joint-angle channels per cycle
    int points = 101;            ///< samples per cycle (>= 8)
    int filters = 16;            ///< channels of each convolution
    int latent = 8;              ///< width of the bottleneck
    int kernel_size = 5;         ///< odd convolution width, samples
    double learning_rate = 3e-3; ///< Adam step size (fit's default)
    int batch_size = 32;         ///< cycles per mini-batch
    std::uint64_t seed = 0;      ///< weight initialisation and shuffling
};

/// A 1-D convolutional autoencoder of cycles (double precision, CPU).
///
/// Input: a cycle as one row of channels × points values, channel-major (row i holds channel
/// c's point p at column c · points + p), in degrees. Each channel is standardised with a
/// mean and SD over the cycles and points of the last fit() with normalise = true.
/// Encoder: Conv1d(channels → filters, kernel) → SiLU → average-pool 2 → Conv1d(filters →
/// filters) → SiLU → average-pool 2 → Linear → latent. Decoder: Linear → SiLU → linear
/// up-sampling → Conv1d → SiLU → up-sampling to points → Conv1d(filters → channels).
///
/// Weights are initialised (uniform ±1/√fan_in) and batches shuffled from the seed with
/// sportsmed's own generator, so a fit is reproducible bit for bit on one machine.
class CycleAutoencoder {
public:
    explicit CycleAutoencoder(CycleAutoencoderOptions options = {});
    ~CycleAutoencoder();
    CycleAutoencoder(CycleAutoencoder&&) noexcept;
    CycleAutoencoder& operator=(CycleAutoencoder&&) noexcept;

    /// Trains on cycles @p x (rows × channels · points, degrees; finite) for @p epochs passes,
    /// minimising the mean squared reconstruction error of the standardised cycles (Adam).
    /// The first call initialises the weights from the seed; a later call continues from the
    /// current weights (adaptation: pre-train on many cycles, then fit the athlete's).
    /// @param learning_rate Adam step (<= 0: the options' one).
    /// @param normalise recompute the per-channel mean and SD from @p x (an adaptation
    ///        re-centres the inputs on the athlete's own cycles).
    /// @throws InvalidArgument for a wrong column count, NaN, fewer than 2 rows or epochs < 1.
    CycleAutoencoder& fit(const RowMatXdCRef& x, int epochs, double learning_rate = 0.0, bool normalise = true);

    /// Reconstructed cycles, degrees (rows × channels · points).
    RowMatXd reconstruct(const RowMatXdCRef& x) const;
    /// Anomaly score per row: the mean squared reconstruction error of the standardised cycle.
    VecXd score(const RowMatXdCRef& x) const;
    /// Per row, channel and point: the squared standardised reconstruction error (where the
    /// cycle deviates), rows × channels · points.
    RowMatXd error_map(const RowMatXdCRef& x) const;

    /// An independent copy (weights, normalisation, history).
    CycleAutoencoder clone() const;

    bool fitted() const;
    const CycleAutoencoderOptions& options() const { return options_; }
    /// Training loss (mean over the epoch's batches) of every epoch of every fit, in order.
    const std::vector<double>& history() const;
    /// Per-channel standardisation (mean, SD; degrees).
    const VecXd& channel_mean() const;
    const VecXd& channel_sd() const;

    /// Writes the weights to @p path (a PyTorch archive) and the sidecar "<path stem>.json":
    /// format "sportsmed-motion-autoencoder", version kCycleAutoencoderFormatVersion,
    /// sportsmed_version, the options, the standardisation, the training history and the
    /// weights' size and CRC-32. Both written atomically, the weights first.
    /// @throws InvalidArgument if not fitted; Error if a file cannot be written.
    void save(const std::string& path) const;
    /// Reads a model written by save(): the sidecar is checked first (format, version,
    /// options), then the weights against the sidecar's size and CRC-32 and the archive's
    /// structure, before LibTorch reads them.
    /// @throws NotFound for a missing file; FormatError naming the file and the problem.
    static CycleAutoencoder load(const std::string& path);

private:
    struct Impl;
    CycleAutoencoderOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sportsmed::motion
