// Nearest-surface cartilage thickness through the exact EDT.

#include "sportsmed/imaging/thickness.hpp"

#include <cmath>
#include <limits>

#include "sportsmed/imaging/distance.hpp"

namespace sportsmed::imaging {

ThicknessMap cartilage_thickness(const Volume<std::uint8_t>& labels, int cart, int bone, bool include_contact) {
    const auto& s = labels.shape();
    const std::int64_t nx = s[0], ny = s[1], nz = s[2], n = labels.num_voxels();
    Volume<std::uint8_t> not_bone(labels.geometry());
    std::int64_t n_bone = 0, n_cart = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const int l = labels.data()[i];
        not_bone.data()[i] = l != bone;
        n_bone += l == bone;
        n_cart += l == cart;
    }
    SPORTSMED_CHECK(n_bone > 0, "cartilage_thickness: bone label {} is absent", bone);
    SPORTSMED_CHECK(n_cart > 0, "cartilage_thickness: cartilage label {} is absent", cart);
    std::vector<double> d2(static_cast<std::size_t>(n));
    distance_transform_squared(not_bone.data(), s, labels.geometry().spacing_mm, d2.data());
    ThicknessMap out;
    out.map = Volume<double>(labels.geometry(), 1, std::numeric_limits<double>::quiet_NaN());
    std::vector<double> t;
    for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i) {
                if (labels(i, j, k) != cart) continue;
                // Articular side: a face neighbour of background, or with include_contact of any
                // tissue but this cartilage and its bone (the opposing cartilage or meniscus).
                auto other = [&](std::uint8_t l) { return include_contact ? (l != cart && l != bone) : l == 0; };
                const bool surface = (i > 0 && other(labels(i - 1, j, k))) || (i + 1 < nx && other(labels(i + 1, j, k))) ||
                                     (j > 0 && other(labels(i, j - 1, k))) || (j + 1 < ny && other(labels(i, j + 1, k))) ||
                                     (k > 0 && other(labels(i, j, k - 1))) || (k + 1 < nz && other(labels(i, j, k + 1)));
                if (!surface) continue;
                const double th = std::sqrt(d2[static_cast<std::size_t>(labels.index(i, j, k))]);
                out.voxels.push_back({i, j, k});
                t.push_back(th);
                out.map(i, j, k) = th;
            }
    out.thickness_mm = Eigen::Map<Eigen::VectorXd>(t.data(), static_cast<Eigen::Index>(t.size()));
    out.points_mm.resize(static_cast<Eigen::Index>(t.size()), 3);
    for (std::size_t p = 0; p < t.size(); ++p) {
        const auto& v = out.voxels[p];
        out.points_mm.row(static_cast<Eigen::Index>(p)) =
            labels.geometry().to_world(Eigen::Vector3d(double(v[0]), double(v[1]), double(v[2]))).transpose();
    }
    return out;
}

std::vector<double> label_volumes_mm3(const Volume<std::uint8_t>& labels) {
    std::vector<double> v(256, 0.0);
    for (std::int64_t i = 0; i < labels.num_voxels(); ++i) v[labels.data()[i]] += 1.0;
    const double voxel = labels.geometry().spacing_mm.prod();
    for (auto& x : v) x *= voxel;
    return v;
}

}  // namespace sportsmed::imaging
