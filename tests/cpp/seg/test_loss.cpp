#include <cmath>

#include "support/torch_catch.hpp"  // before anything else that includes torch
#include "seg/loss.hpp"
#include "sportsmed/core/error.hpp"

using namespace sportsmed::seg::detail;

// Independent scalar implementation of the same definition, loop by loop.
static double reference_loss(const std::vector<std::vector<std::vector<double>>>& logits,  // n, k, voxel
                             const std::vector<std::vector<int>>& target, const std::vector<double>& w) {
    const std::size_t n = logits.size(), k = logits[0].size(), v = logits[0][0].size();
    double dice = 0, ce_num = 0, ce_den = 0, wmean = 0;
    for (double x : w) wmean += x / k;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::vector<double>> p(k, std::vector<double>(v));
        for (std::size_t x = 0; x < v; ++x) {
            double z = 0;
            for (std::size_t c = 0; c < k; ++c) z += std::exp(logits[i][c][x]);
            for (std::size_t c = 0; c < k; ++c) p[c][x] = std::exp(logits[i][c][x]) / z;
            const int t = target[i][x];
            ce_num += -w[t] * std::log(p[t][x]);
            ce_den += w[t];
        }
        for (std::size_t c = 0; c < k; ++c) {
            double inter = 0, sp = 0, sg = 0;
            for (std::size_t x = 0; x < v; ++x) {
                const double g = target[i][x] == static_cast<int>(c);
                inter += p[c][x] * g;
                sp += p[c][x];
                sg += g;
            }
            dice += w[c] * (1.0 - (2 * inter + 1e-5) / (sp + sg + 1e-5)) / (n * k);
        }
    }
    return dice / wmean + ce_num / ce_den;
}

TEST_CASE("seg loss: Dice+CE equals a scalar implementation", "[seg][loss]") {
    torch::manual_seed(1);
    const torch::Tensor logits = torch::randn({2, 3, 4, 5}, torch::kFloat64);
    torch::Tensor target = torch::randint(0, 3, {2, 4, 5}, torch::kLong);
    target[1].fill_(2);  // classes 0 and 1 absent from sample 1: empty-class Dice terms
    std::vector<std::vector<std::vector<double>>> l(2, std::vector<std::vector<double>>(3, std::vector<double>(20)));
    std::vector<std::vector<int>> t(2, std::vector<int>(20));
    for (int n = 0; n < 2; ++n)
        for (int i = 0; i < 20; ++i) {
            t[n][i] = static_cast<int>(target[n][i / 5][i % 5].item<std::int64_t>());
            for (int c = 0; c < 3; ++c) l[n][c][i] = logits[n][c][i / 5][i % 5].item<double>();
        }
    CHECK(dice_ce_loss(logits, target).item<double>() == Approx(reference_loss(l, t, {1, 1, 1})).epsilon(1e-12));
    const torch::Tensor w = torch::tensor({0.5, 1.0, 3.0}, torch::kFloat64);
    CHECK(dice_ce_loss(logits, target, w).item<double>() ==
          Approx(reference_loss(l, t, {0.5, 1.0, 3.0})).epsilon(1e-12));
    // Batch Dice = the per-sample definition applied to the batch concatenated along space.
    const torch::Tensor joined_logits = torch::cat({logits[0], logits[1]}, 1).unsqueeze(0);
    const torch::Tensor joined_target = torch::cat({target[0], target[1]}, 0).unsqueeze(0);
    std::vector<std::vector<std::vector<double>>> lj(1, std::vector<std::vector<double>>(3));
    std::vector<std::vector<int>> tj(1);
    for (int c = 0; c < 3; ++c) lj[0][c] = l[0][c], lj[0][c].insert(lj[0][c].end(), l[1][c].begin(), l[1][c].end());
    tj[0] = t[0];
    tj[0].insert(tj[0].end(), t[1].begin(), t[1].end());
    CHECK(dice_ce_loss(logits, target, w, /*batch=*/true).item<double>() ==
          Approx(reference_loss(lj, tj, {0.5, 1.0, 3.0})).epsilon(1e-12));
    CHECK(dice_ce_loss(joined_logits, joined_target, w).item<double>() ==
          Approx(dice_ce_loss(logits, target, w, true).item<double>()).epsilon(1e-12));
}

TEST_CASE("seg loss: a perfect, confident prediction has a loss near zero", "[seg][loss]") {
    torch::Tensor target = torch::randint(0, 2, {1, 6, 6}, torch::kLong);
    target[0][0][0] = 0;
    target[0][0][1] = 1;
    const torch::Tensor logits = torch::one_hot(target, 2).permute({0, 3, 1, 2}).to(torch::kFloat64) * 40.0;
    CHECK(dice_ce_loss(logits, target).item<double>() == Approx(0.0).margin(1e-9));
}

TEST_CASE("seg loss: class ids outside [0, K) are rejected", "[seg][loss]") {
    const torch::Tensor logits = torch::randn({1, 3, 4, 4}, torch::kFloat64);
    torch::Tensor target = torch::zeros({1, 4, 4}, torch::kLong);
    CHECK_NOTHROW(dice_ce_loss(logits, target));
    target[0][1][2] = 3;
    CHECK_THROWS_AS(dice_ce_loss(logits, target), sportsmed::InvalidArgument);
    target[0][1][2] = -1;
    CHECK_THROWS_AS(dice_ce_loss(logits, target), sportsmed::InvalidArgument);
}
