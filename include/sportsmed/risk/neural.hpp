#pragma once
/// @file
/// Neural risk models in LibTorch: a multilayer perceptron over one athlete-day's
/// features and a temporal 1D-CNN over the last N days, with integrated-gradients
/// explanations. LibTorch stays behind a pimpl: this header does not include torch.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sportsmed/core/eigen.hpp"

namespace sportsmed::risk {

/// Past-only windows of features: for each row (athlete a, day t) the features of days
/// t − window_days + 1 … t of the *same* athlete, oldest day first
/// (column (window_days − 1 − lag) · p + j holds feature j of day t − lag).
/// Days the table lacks for that athlete (before its first row, gaps) are NaN: impute
/// them with training statistics like any other missing value. No row ever reads a later
/// day or another athlete.
/// @param athlete per row, athlete code; rows grouped by athlete, days increasing within
///        an athlete (the order of an AthleteTable).
/// @param day per row, day number.
/// @param x rows × p features.
/// @param window_days N >= 1.
/// @return rows × (N · p).
/// @throws InvalidArgument for mismatched sizes, N < 1, or rows out of order.
RowMatXd lagged_windows(const Eigen::Ref<const VecXi64>& athlete, const Eigen::Ref<const VecXi64>& day,
                        const RowMatXdCRef& x, int window_days);

/// Format version of the files NeuralRiskModel::save() writes and load() reads.
inline constexpr int kNeuralFormatVersion = 1;

/// Architecture and training options of NeuralRiskModel.
struct NeuralOptions {
    std::string architecture = "mlp";   ///< "mlp" or "cnn"
    std::vector<int> hidden = {32, 16};  ///< MLP: hidden layer widths (SiLU after each)
    int window_days = 14;               ///< CNN: days per input window (input = window_days × features)
    int channels = 16;                  ///< CNN: channels of the two convolutions
    int kernel_size = 3;                ///< CNN: odd convolution width, days
    double learning_rate = 3e-3;        ///< Adam step size
    double weight_decay = 1e-4;         ///< L2 penalty (Adam weight_decay)
    int batch_size = 512;               ///< rows per mini-batch
    int max_epochs = 200;               ///< upper bound on epochs
    int patience = 10;                  ///< early stopping: epochs without validation improvement
    double validation_fraction = 0.2;   ///< share of athletes (of rows without groups) held out
    double pos_weight = 1.0;            ///< weight of positive rows in the loss; <= 0: n_neg / n_pos
    std::uint64_t seed = 0;             ///< weight initialisation, shuffling and the validation split
    std::string device = "cpu";         ///< "cpu", "cuda" or "cuda:N"
};

/// A feed-forward binary risk model trained with LibTorch (double precision).
///
/// - "mlp": inputs → [Linear → SiLU] per hidden width → Linear → logit.
/// - "cnn": the input row is a window from lagged_windows() (window_days × features,
///   oldest day first), read as features × days channels; two same-padded Conv1d
///   (kernel_size) with SiLU, flattened and joined by the last day's inputs (a skip path),
///   then Linear → logit.
///
/// Training minimises the weighted logistic loss (BCE with logits, positives weighted by
/// pos_weight, i.e. class weighting) with Adam on mini-batches. Early stopping: a
/// validation split (by athlete when groups are given, Hastie's "grouped" hold-out) is
/// scored after every epoch and the weights of the best epoch are kept. Weights are
/// initialised (uniform ±1/√fan_in, torch's default distribution) and batches shuffled from @p seed with
/// sportsmed's own generator, independent of torch's global RNG, so a fit is reproducible
/// and concurrent fits do not disturb each other.
///
/// After fit() every prediction method is const and thread-safe: several threads may
/// predict or explain with one model at once and get the serial results.
class NeuralRiskModel {
public:
    explicit NeuralRiskModel(NeuralOptions options = {});
    ~NeuralRiskModel();
    NeuralRiskModel(NeuralRiskModel&&) noexcept;
    NeuralRiskModel& operator=(NeuralRiskModel&&) noexcept;

    /// Trains on standardised, finite @p x (rows × inputs; for "cnn" inputs =
    /// window_days × features) and 0/1 labels @p y.
    /// @param groups per row, athlete code for the validation split (empty: random rows).
    /// @throws InvalidArgument for NaN inputs, labels other than 0/1, a single class, a
    ///         validation split without both classes, or inconsistent sizes.
    NeuralRiskModel& fit(const RowMatXdCRef& x, const VecXdCRef& y,
                         const Eigen::Ref<const VecXi64>& groups = VecXi64());

    /// Logit per row.
    VecXd decision_function(const RowMatXdCRef& x) const;
    /// P(y = 1) per row.
    VecXd predict_proba(const RowMatXdCRef& x) const;

    /// Integrated gradients (Sundararajan, Taly & Yan 2017) of the logit: attribution of
    /// input i = (x_i − b_i) ∫₀¹ ∂f/∂x_i (b + α(x − b)) dα, by Gauss–Legendre quadrature
    /// with @p steps nodes (the network is smooth, so the error falls fast with steps).
    /// Completeness: each row's attributions sum to f(x) − f(b) up to that error.
    /// @param baseline one row of inputs (empty: zeros = the training mean of
    ///        standardised inputs).
    /// @return rows × (inputs + 1): attributions, then f(baseline) last, so that a row
    ///         sums to the logit (the convention of the other models' contributions()).
    RowMatXd integrated_gradients(const RowMatXdCRef& x, const VecXdCRef& baseline = VecXd(), int steps = 32) const;
    /// integrated_gradients() with the default baseline.
    RowMatXd contributions(const RowMatXdCRef& x) const { return integrated_gradients(x); }

    /// Number of inputs per row (0 before fit or set_parameters).
    int n_inputs() const;
    /// Validation loss after each epoch (unweighted mean log loss).
    const std::vector<double>& history() const;
    /// Epoch (1-based) whose weights were kept.
    int best_epoch() const;
    const NeuralOptions& options() const { return options_; }
    bool fitted() const;

    /// Named parameter tensors, flattened (row-major), with their shapes (for saving).
    struct Parameter {
        std::string name;
        std::vector<std::int64_t> shape;
        VecXd values;
    };
    std::vector<Parameter> parameters() const;
    /// Builds the network for @p n_inputs and loads @p params (as from parameters()).
    /// @throws FormatError if a name is unknown or missing or a shape differs.
    void set_parameters(int n_inputs, const std::vector<Parameter>& params);

    /// Writes the fitted model to @p path as versioned JSON (the risk pillar's model-file
    /// conventions): format "sportsmed-risk-neural", format_version (kNeuralFormatVersion),
    /// sportsmed_version, the options, n_inputs, the training record (best epoch,
    /// validation history) and every parameter tensor's name, shape and row-major values
    /// in the shortest decimal form that reads back to the same double (the tensors of a
    /// Python RiskModel file's "model" entry). Written to "<path>.tmp", then renamed.
    /// @throws InvalidArgument if not fitted; Error if the file cannot be written.
    void save(const std::string& path) const;
    /// Reads a model written by save(); on the same device its predictions equal the
    /// saved model's bit for bit. history() is empty after loading (as after
    /// set_parameters()); the file keeps it.
    /// @param device "" keeps the saved device; else e.g. "cpu" or "cuda:0".
    /// @throws NotFound if @p path cannot be opened; FormatError for non-JSON, another
    ///         format or format version, missing fields, invalid options, or tensors that
    ///         do not fit the architecture.
    static NeuralRiskModel load(const std::string& path, const std::string& device = "");

private:
    struct Impl;
    NeuralOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sportsmed::risk
