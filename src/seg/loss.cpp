#include "loss.hpp"

#include "sportsmed/core/error.hpp"

namespace sportsmed::seg::detail {

torch::Tensor dice_ce_loss(const torch::Tensor& logits, const torch::Tensor& target,
                           const torch::Tensor& class_weights, bool batch, double lambda_dice,
                           double lambda_ce, double smooth_nr, double smooth_dr) {
    SPORTSMED_CHECK(logits.dim() >= 3 && target.dim() == logits.dim() - 1,
                    "dice_ce_loss: logits must be N x K x spatial and target N x spatial, got {} and {} axes",
                    logits.dim(), target.dim());
    const std::int64_t k = logits.size(1);
    const torch::Tensor weights =
        class_weights.defined() ? class_weights.to(logits.options()) : torch::ones({k}, logits.options());
    SPORTSMED_CHECK(weights.numel() == k, "dice_ce_loss: {} class weights for {} classes", weights.numel(), k);

    const torch::Tensor probs = torch::softmax(logits, 1);
    // One-hot N × K × spatial, written directly in the logits' layout and dtype (rather
    // than torch::one_hot's N × spatial × K int64, permuted and converted): the same 0/1
    // values without a 64-bit tensor of K × the batch and a strided conversion pass.
    if (!target.is_cuda() && target.numel() > 0) {  // on CUDA scatter's device assert checks
        SPORTSMED_CHECK(target.min().item<std::int64_t>() >= 0 && target.max().item<std::int64_t>() < k,
                        "dice_ce_loss: target class ids must be in [0, {})", k);
    }
    const torch::Tensor onehot =
        torch::zeros(logits.sizes(), logits.options().requires_grad(false)).scatter_(1, target.unsqueeze(1), 1.0);
    std::vector<std::int64_t> spatial = batch ? std::vector<std::int64_t>{0} : std::vector<std::int64_t>{};
    for (std::int64_t d = 2; d < logits.dim(); ++d) spatial.push_back(d);
    const torch::Tensor inter = (probs * onehot).sum(spatial);
    const torch::Tensor denom = probs.sum(spatial) + onehot.sum(spatial);
    const torch::Tensor dice = 1.0 - (2.0 * inter + smooth_nr) / (denom + smooth_dr);  // N × K, or K
    const torch::Tensor dice_loss = (dice * weights).mean() / weights.mean();
    const torch::Tensor ce = torch::nn::functional::cross_entropy(
        logits, target, torch::nn::functional::CrossEntropyFuncOptions().weight(weights));
    return lambda_dice * dice_loss + lambda_ce * ce;
}

}  // namespace sportsmed::seg::detail
