#include "sportsmed/core/reduce.hpp"

#include <cmath>
#include <limits>
#include <algorithm>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed {
namespace {

constexpr std::int64_t kRowBlock = 8192;

// Per-column sums over non-NaN entries: of x when centre is null, else of (x - centre)^2.
void column_sums(const RowMatXdCRef& x, const VecXd* centre, VecXd& sum, VecXi64& count) {
    const Eigen::Index cols = x.cols();
    // Fixed-size row blocks summed in block order: the result does not depend on the
    // thread count or on scheduling (bitwise reproducible).
    const std::int64_t blocks = (x.rows() + kRowBlock - 1) / kRowBlock;
    RowMatXd block_sum = RowMatXd::Zero(blocks, cols);
    RowMatXi64 block_count = RowMatXi64::Zero(blocks, cols);
    parallel_for(0, blocks, [&](std::int64_t b0, std::int64_t b1) {
        const Eigen::Index stride = x.innerStride();
        for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t r1 = std::min<std::int64_t>(x.rows(), (b + 1) * kRowBlock);
            for (std::int64_t r = b * kRowBlock; r < r1; ++r) {
                const double* row = x.row(r).data();
                for (Eigen::Index j = 0; j < cols; ++j) {
                    const double v = row[j * stride];
                    if (std::isnan(v)) continue;
                    const double d = centre ? v - (*centre)[j] : v;
                    block_sum(b, j) += centre ? d * d : d;
                    block_count(b, j) += 1;
                }
            }
        }
    });
    sum = block_sum.colwise().sum().transpose();
    count = block_count.colwise().sum().transpose();
}

}  // namespace

VecXi64 count_valid_columns(const RowMatXdCRef& x) {
    VecXd sum;
    VecXi64 count;
    column_sums(x, nullptr, sum, count);
    return count;
}

VecXd nanmean_columns(const RowMatXdCRef& x) {
    VecXd sum;
    VecXi64 count;
    column_sums(x, nullptr, sum, count);
    VecXd mean(x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        mean[j] = count[j] > 0 ? sum[j] / static_cast<double>(count[j])
                               : std::numeric_limits<double>::quiet_NaN();
    }
    return mean;
}

VecXd nanstd_columns(const RowMatXdCRef& x, int ddof) {
    const VecXd mean = nanmean_columns(x);
    VecXd ss;
    VecXi64 count;
    column_sums(x, &mean, ss, count);
    VecXd sd(x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const std::int64_t dof = count[j] - ddof;
        sd[j] = dof > 0 ? std::sqrt(ss[j] / static_cast<double>(dof))
                        : std::numeric_limits<double>::quiet_NaN();
    }
    return sd;
}

}  // namespace sportsmed
