#include "sportsmed/motion/gap_fill.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/LU>
#include <Eigen/SVD>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {

Trial rigid_body_fill(const Trial& trial, const std::vector<std::string>& cluster) {
    SPORTSMED_CHECK(cluster.size() >= 4, "rigid_body_fill: needs at least 4 cluster markers, got {}", cluster.size());
    std::string missing;
    for (const auto& l : cluster)
        if (!trial.has_marker(l)) missing += (missing.empty() ? "" : ", ") + l;
    SPORTSMED_CHECK(missing.empty(), "rigid_body_fill: markers absent from the trial: {}", missing);
    std::vector<std::int64_t> idx;
    for (const auto& l : cluster) idx.push_back(trial.marker_index(l));
    const std::int64_t n = trial.n_frames(), k = static_cast<std::int64_t>(idx.size());
    auto visible = [&](std::int64_t f, std::int64_t j) { return trial.points.row(f).segment(3 * idx[j], 3).allFinite(); };
    std::vector<std::int64_t> complete;
    for (std::int64_t f = 0; f < n; ++f) {
        bool all = true;
        for (std::int64_t j = 0; j < k && all; ++j) all = visible(f, j);
        if (all) complete.push_back(f);
    }
    Trial out = trial;
    if (complete.empty()) return out;
    for (std::int64_t f = 0; f < n; ++f) {
        std::vector<std::int64_t> donors, gaps;
        for (std::int64_t j = 0; j < k; ++j) (visible(f, j) ? donors : gaps).push_back(j);
        if (gaps.empty() || donors.size() < 3) continue;
        // Nearest frame with the whole cluster visible.
        const auto it = std::lower_bound(complete.begin(), complete.end(), f);
        std::int64_t ref = it == complete.end() ? complete.back() : *it;
        if (it != complete.begin() && (it == complete.end() || f - *(it - 1) < *it - f)) ref = *(it - 1);
        Eigen::MatrixX3d a(donors.size(), 3), b(donors.size(), 3);
        for (std::size_t d = 0; d < donors.size(); ++d) {
            a.row(d) = trial.points.row(ref).segment(3 * idx[donors[d]], 3);
            b.row(d) = trial.points.row(f).segment(3 * idx[donors[d]], 3);
        }
        const Eigen::RowVector3d ac = a.colwise().mean(), bc = b.colwise().mean();
        const Eigen::Matrix3d h = (a.rowwise() - ac).transpose() * (b.rowwise() - bc);
        Eigen::JacobiSVD<Eigen::Matrix3d> svd(h, Eigen::ComputeFullU | Eigen::ComputeFullV);
        Eigen::Matrix3d d = Eigen::Matrix3d::Identity();
        d(2, 2) = (svd.matrixV() * svd.matrixU().transpose()).determinant() < 0 ? -1.0 : 1.0;
        const Eigen::Matrix3d r = svd.matrixV() * d * svd.matrixU().transpose();
        for (auto g : gaps) {
            const Eigen::Vector3d p = trial.points.row(ref).segment(3 * idx[g], 3).transpose();
            out.points.row(f).segment(3 * idx[g], 3) = (r * (p - ac.transpose()) + bc.transpose()).transpose();
        }
    }
    return out;
}

}  // namespace sportsmed::motion
