#pragma once
// Segmentation losses (internal; LibTorch types).

#include <torch/torch.h>

namespace sportsmed::seg::detail {

/// Soft Dice + cross-entropy with MONAI DiceCELoss semantics (softmax=True,
/// to_onehot_y=True, include_background=True, squared_pred=False, batch as given):
///   dice = mean over samples n and classes k of w_k · (1 − (2 Σ p·g + ε_nr) / (Σ p + Σ g + ε_dr)) / mean(w)
/// with the sums over each sample's voxels, or (batch = true, nnU-Net's "batch Dice") over
/// all voxels of the batch, giving one term per class
///   ce   = torch cross_entropy(logits, target, weight = w) (weighted mean)
///   loss = λ_dice · dice + λ_ce · ce
/// @param logits N × K × spatial; @param target N × spatial (int64 class ids);
/// @param class_weights K weights or an undefined tensor (all ones).
torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target,
                           const torch::Tensor& class_weights = {}, bool batch = false,
                           double lambda_dice = 1.0, double lambda_ce = 1.0, double smooth_nr = 1e-5,
                           double smooth_dr = 1e-5);

}  // namespace sportsmed::seg::detail
