// Connected components by parallel slab union-find.

#include "sportsmed/imaging/components.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

struct Offset {
    int di, dj, dk;
};

// Neighbours that precede a voxel in memory order (k, then j, then i) for a connectivity.
std::vector<Offset> previous_neighbours(int connectivity) {
    std::vector<Offset> out;
    for (int dk = -1; dk <= 0; ++dk)
        for (int dj = -1; dj <= 1; ++dj)
            for (int di = -1; di <= 1; ++di) {
                const bool before = dk < 0 || (dk == 0 && (dj < 0 || (dj == 0 && di < 0)));
                if (!before) continue;
                const int l1 = std::abs(di) + std::abs(dj) + std::abs(dk);
                if (connectivity == 6 && l1 > 1) continue;
                if (connectivity == 18 && l1 > 2) continue;
                out.push_back({di, dj, dk});
            }
    return out;
}

inline std::int32_t find_root(std::int32_t* parent, std::int32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];  // path halving
        x = parent[x];
    }
    return x;
}

// Links the trees of a and b; the smaller index becomes the root, so every root is the
// first voxel of its component in memory order.
inline void unite(std::int32_t* parent, std::int32_t a, std::int32_t b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (a < b) parent[b] = a;
    else parent[a] = b;
}

}  // namespace

std::int32_t label_components(const std::uint8_t* mask, const Shape3& shape, int connectivity, std::int32_t* out) {
    SPORTSMED_CHECK(connectivity == 6 || connectivity == 18 || connectivity == 26,
                    "label_components: connectivity must be 6, 18 or 26, got {}", connectivity);
    const std::int64_t nx = shape[0], ny = shape[1], nz = shape[2];
    const std::int64_t n = nx * ny * nz;
    SPORTSMED_CHECK(n < std::numeric_limits<std::int32_t>::max(),
                    "label_components: {} voxels exceed the 2^31-1 this kernel supports", n);
    if (n == 0) return 0;
    const auto offsets = previous_neighbours(connectivity);
    // Only foreground entries are ever written or read, so the array starts uninitialised.
    std::unique_ptr<std::int32_t[]> parent(new std::int32_t[static_cast<std::size_t>(n)]);
    std::int32_t* par = parent.get();

    std::vector<std::int64_t> linear;  // linear offsets of the previous neighbours
    for (const auto& o : offsets) linear.push_back(o.di + nx * (o.dj + ny * o.dk));

    // Joins voxel idx (whose earlier neighbours are all labelled) to the trees of its
    // foreground neighbours. idx comes after every neighbour in memory order, so it is
    // never a root unless it has no foreground neighbour.
    auto join = [&](std::int64_t idx, std::int32_t root, std::int64_t nb) {
        std::int32_t r = find_root(par, static_cast<std::int32_t>(nb));
        if (root < 0) return r;
        if (r == root) return root;
        if (r < root) std::swap(r, root);
        par[r] = root;
        return root;
    };
    auto scan_plane = [&](std::int64_t k, std::int64_t kmin) {
        const bool has_below = k - 1 >= kmin;
        for (std::int64_t j = 0; j < ny; ++j) {
            const bool j_inner = j > 0 && j + 1 < ny;
            for (std::int64_t i = 0; i < nx; ++i) {
                const std::int64_t idx = i + nx * (j + ny * k);
                if (!mask[idx]) continue;
                std::int32_t root = -1;
                if (j_inner && has_below && i > 0 && i + 1 < nx) {
                    for (const auto off : linear) {
                        const std::int64_t nb = idx + off;
                        if (mask[nb]) root = join(idx, root, nb);
                    }
                } else {
                    for (const auto& o : offsets) {
                        const std::int64_t ii = i + o.di, jj = j + o.dj, kk = k + o.dk;
                        if (ii < 0 || ii >= nx || jj < 0 || jj >= ny || kk < kmin) continue;
                        const std::int64_t nb = ii + nx * (jj + ny * kk);
                        if (mask[nb]) root = join(idx, root, nb);
                    }
                }
                par[idx] = root < 0 ? static_cast<std::int32_t>(idx) : root;
            }
        }
    };

    // Pass 1: each slab of planes independently (unions stay inside the slab).
    const int threads = std::max(1, num_threads());
    const std::int64_t slabs = std::min<std::int64_t>(nz, threads * 4);
    std::vector<std::int64_t> starts(static_cast<std::size_t>(slabs) + 1);
    for (std::int64_t s = 0; s <= slabs; ++s) starts[static_cast<std::size_t>(s)] = s * nz / slabs;
    parallel_for(0, slabs, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const std::int64_t k0 = starts[static_cast<std::size_t>(s)], k1 = starts[static_cast<std::size_t>(s) + 1];
            for (std::int64_t k = k0; k < k1; ++k) scan_plane(k, k0);
        }
    });
    // Pass 2: join across slab boundaries (serial; only the first plane of each slab).
    for (std::int64_t s = 1; s < slabs; ++s) {
        const std::int64_t k = starts[static_cast<std::size_t>(s)];
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i) {
                const std::int64_t idx = i + nx * (j + ny * k);
                if (!mask[idx]) continue;
                for (const auto& o : offsets) {
                    if (o.dk != -1) continue;
                    const std::int64_t ii = i + o.di, jj = j + o.dj;
                    if (ii < 0 || ii >= nx || jj < 0 || jj >= ny) continue;
                    const std::int64_t nb = ii + nx * (jj + ny * (k - 1));
                    if (mask[nb]) unite(par, static_cast<std::int32_t>(idx), static_cast<std::int32_t>(nb));
                }
            }
    }
    // Pass 3: every non-root points to a smaller index of its tree (roots are the smallest
    // index), which this memory-order pass has already labelled; roots open new labels.
    std::int32_t count = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        if (!mask[i]) {
            out[i] = 0;
            continue;
        }
        const std::int32_t p = par[i];
        out[i] = p == i ? ++count : out[p];
    }
    return count;
}

Volume<std::int32_t> label_components(const Volume<std::uint8_t>& mask, int connectivity, std::int32_t* count) {
    Volume<std::int32_t> out(mask.geometry());
    const std::int32_t n = label_components(mask.data(), mask.shape(), connectivity, out.data());
    if (count) *count = n;
    return out;
}

std::vector<std::int64_t> component_sizes(const Volume<std::int32_t>& labels, std::int32_t count) {
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(count) + 1, 0);
    for (std::int64_t i = 0; i < labels.num_voxels(); ++i) {
        const auto l = labels.data()[i];
        SPORTSMED_CHECK(l >= 0 && l <= count, "component_sizes: label {} outside 0..{}", l, count);
        ++sizes[static_cast<std::size_t>(l)];
    }
    return sizes;
}

Volume<std::uint8_t> keep_largest_component(const Volume<std::uint8_t>& mask, int connectivity) {
    std::int32_t count = 0;
    const auto labels = label_components(mask, connectivity, &count);
    Volume<std::uint8_t> out(mask.geometry());
    if (count == 0) return out;
    const auto sizes = component_sizes(labels, count);
    const auto best = static_cast<std::int32_t>(std::max_element(sizes.begin() + 1, sizes.end()) - sizes.begin());
    for (std::int64_t i = 0; i < out.size(); ++i) out.data()[i] = labels.data()[i] == best ? 1 : 0;
    return out;
}

Volume<std::uint8_t> fill_holes(const Volume<std::uint8_t>& mask) {
    Volume<std::uint8_t> bg(mask.geometry());
    for (std::int64_t i = 0; i < mask.size(); ++i) bg.data()[i] = mask.data()[i] ? 0 : 1;
    std::int32_t count = 0;
    const auto labels = label_components(bg, 6, &count);
    std::vector<std::uint8_t> outside(static_cast<std::size_t>(count) + 1, 0);
    const auto& s = mask.shape();
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                const bool border = i == 0 || j == 0 || k == 0 || i == s[0] - 1 || j == s[1] - 1 || k == s[2] - 1;
                if (border) outside[static_cast<std::size_t>(labels(i, j, k))] = 1;
            }
    Volume<std::uint8_t> out(mask.geometry());
    for (std::int64_t i = 0; i < out.size(); ++i) {
        const auto l = labels.data()[i];
        out.data()[i] = (mask.data()[i] || (l > 0 && !outside[static_cast<std::size_t>(l)])) ? 1 : 0;
    }
    return out;
}

namespace {
std::vector<std::uint8_t> present_labels(const Volume<std::uint8_t>& labels) {
    std::array<bool, 256> seen{};
    for (std::int64_t i = 0; i < labels.size(); ++i) seen[labels.data()[i]] = true;
    std::vector<std::uint8_t> out;
    for (int l = 1; l < 256; ++l)
        if (seen[static_cast<std::size_t>(l)]) out.push_back(static_cast<std::uint8_t>(l));
    return out;
}
}  // namespace

Volume<std::uint8_t> keep_largest_component_per_label(const Volume<std::uint8_t>& labels, int connectivity) {
    Volume<std::uint8_t> out(labels.geometry());
    Volume<std::uint8_t> m(labels.geometry());
    for (auto l : present_labels(labels)) {
        for (std::int64_t i = 0; i < m.size(); ++i) m.data()[i] = labels.data()[i] == l;
        const auto keep = keep_largest_component(m, connectivity);
        for (std::int64_t i = 0; i < m.size(); ++i)
            if (keep.data()[i]) out.data()[i] = l;
    }
    return out;
}

Volume<std::uint8_t> fill_holes_per_label(const Volume<std::uint8_t>& labels) {
    Volume<std::uint8_t> out = labels;
    Volume<std::uint8_t> m(labels.geometry());
    for (auto l : present_labels(labels)) {
        for (std::int64_t i = 0; i < m.size(); ++i) m.data()[i] = labels.data()[i] == l;
        const auto filled = fill_holes(m);
        for (std::int64_t i = 0; i < m.size(); ++i)
            if (filled.data()[i] && out.data()[i] == 0) out.data()[i] = l;
    }
    return out;
}

}  // namespace sportsmed::imaging
