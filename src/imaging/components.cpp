// Connected components by union-find over foreground runs, in parallel slabs.

#include "sportsmed/imaging/components.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

// Foreground runs [begin, end) along i, stored per row (row r = j + ny·k) in memory order.
struct Runs {
    std::vector<std::int64_t> row_first;  // runs of row r: row_first[r] .. row_first[r + 1] - 1
    std::vector<std::int32_t> begin, end;
};

// First i >= i0 in [i0, n) with mask[i] == 0 (or n); skips foreground eight bytes at a time
// when no byte of the word is zero.
inline std::int64_t next_zero(const std::uint8_t* m, std::int64_t i, std::int64_t n) {
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, m + i, 8);
        if ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) break;  // a zero byte
    }
    while (i < n && m[i]) ++i;
    return i;
}

inline std::int64_t next_nonzero(const std::uint8_t* m, std::int64_t i, std::int64_t n) {
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, m + i, 8);
        if (w) break;
    }
    while (i < n && !m[i]) ++i;
    return i;
}

inline std::int32_t find_root(std::int32_t* parent, std::int32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];  // path halving
        x = parent[x];
    }
    return x;
}

// Links the trees of a and b; the smaller index becomes the root, so every root is the
// first run of its component in memory order and parent[x] <= x always holds.
inline void unite(std::int32_t* parent, std::int32_t a, std::int32_t b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (a < b) parent[b] = a;
    else parent[a] = b;
}

// Unites every run of the current row [c0, c1) with the runs of an earlier row [p0, p1)
// that it touches: runs [s, e) and [s', e') touch when s' < e + ext and e' + ext > s
// (ext = 1 when diagonal neighbours along i count, 0 otherwise).
inline void link_rows(const Runs& r, std::int32_t* parent, std::int64_t c0, std::int64_t c1, std::int64_t p0,
                      std::int64_t p1, int ext) {
    std::int64_t p = p0;
    for (std::int64_t c = c0; c < c1 && p < p1; ++c) {
        const std::int32_t s = r.begin[static_cast<std::size_t>(c)], e = r.end[static_cast<std::size_t>(c)];
        while (p < p1 && r.end[static_cast<std::size_t>(p)] + ext <= s) ++p;
        for (std::int64_t q = p; q < p1 && r.begin[static_cast<std::size_t>(q)] < e + ext; ++q)
            unite(parent, static_cast<std::int32_t>(c), static_cast<std::int32_t>(q));
    }
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
    const std::int64_t rows = ny * nz;

    // Slabs of planes along k: runs are found and united inside each slab in parallel,
    // then the slabs are joined at their boundaries.
    const int threads = std::max(1, num_threads());
    const std::int64_t slabs = std::min<std::int64_t>(nz, threads * 4);
    std::vector<std::int64_t> starts(static_cast<std::size_t>(slabs) + 1);
    for (std::int64_t s = 0; s <= slabs; ++s) starts[static_cast<std::size_t>(s)] = s * nz / slabs;

    // Pass 1: runs per slab (row offsets local to the slab), then one global list.
    Runs runs;
    runs.row_first.assign(static_cast<std::size_t>(rows) + 1, 0);
    std::vector<std::vector<std::int32_t>> slab_runs(static_cast<std::size_t>(slabs));  // begin, end pairs
    parallel_for(0, slabs, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            auto& v = slab_runs[static_cast<std::size_t>(s)];
            const std::int64_t r0 = starts[static_cast<std::size_t>(s)] * ny;
            const std::int64_t r1 = starts[static_cast<std::size_t>(s) + 1] * ny;
            for (std::int64_t r = r0; r < r1; ++r) {
                runs.row_first[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(v.size() / 2);
                const std::uint8_t* m = mask + r * nx;
                for (std::int64_t i = next_nonzero(m, 0, nx); i < nx; i = next_nonzero(m, i, nx)) {
                    const std::int64_t stop = next_zero(m, i, nx);
                    v.push_back(static_cast<std::int32_t>(i));
                    v.push_back(static_cast<std::int32_t>(stop));
                    i = stop;
                }
            }
        }
    });
    std::vector<std::int64_t> slab_base(static_cast<std::size_t>(slabs) + 1, 0);
    for (std::int64_t s = 0; s < slabs; ++s)
        slab_base[static_cast<std::size_t>(s) + 1] =
            slab_base[static_cast<std::size_t>(s)] + static_cast<std::int64_t>(slab_runs[static_cast<std::size_t>(s)].size() / 2);
    const std::int64_t nruns = slab_base.back();
    SPORTSMED_CHECK(nruns < std::numeric_limits<std::int32_t>::max(), "label_components: {} runs exceed 2^31-1", nruns);
    runs.row_first[static_cast<std::size_t>(rows)] = nruns;
    runs.begin.resize(static_cast<std::size_t>(nruns));
    runs.end.resize(static_cast<std::size_t>(nruns));
    std::unique_ptr<std::int32_t[]> parent(new std::int32_t[static_cast<std::size_t>(std::max<std::int64_t>(nruns, 1))]);
    std::int32_t* par = parent.get();

    // Earlier rows a row can touch: (dj, dk, ext) per connectivity.
    struct Prev {
        int dj, dk, ext;
    };
    std::vector<Prev> prev;
    if (connectivity == 6) prev = {{-1, 0, 0}, {0, -1, 0}};
    else if (connectivity == 18) prev = {{-1, 0, 1}, {-1, -1, 0}, {0, -1, 1}, {1, -1, 0}};
    else prev = {{-1, 0, 1}, {-1, -1, 1}, {0, -1, 1}, {1, -1, 1}};

    auto link_row = [&](std::int64_t j, std::int64_t k, std::int64_t kmin, bool only_below) {
        const std::int64_t r = j + ny * k;
        const std::int64_t c0 = runs.row_first[static_cast<std::size_t>(r)];
        const std::int64_t c1 = runs.row_first[static_cast<std::size_t>(r) + 1];
        if (c0 == c1) return;
        for (const auto& p : prev) {
            if (only_below && p.dk == 0) continue;
            const std::int64_t jj = j + p.dj, kk = k + p.dk;
            if (jj < 0 || jj >= ny || kk < kmin) continue;
            const std::int64_t q = jj + ny * kk;
            link_rows(runs, par, c0, c1, runs.row_first[static_cast<std::size_t>(q)],
                      runs.row_first[static_cast<std::size_t>(q) + 1], p.ext);
        }
    };

    // Pass 2: the global run list, then unions inside each slab.
    parallel_for(0, slabs, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const std::int64_t base = slab_base[static_cast<std::size_t>(s)];
            const auto& v = slab_runs[static_cast<std::size_t>(s)];
            for (std::size_t t = 0; t < v.size() / 2; ++t) {
                runs.begin[static_cast<std::size_t>(base) + t] = v[2 * t];
                runs.end[static_cast<std::size_t>(base) + t] = v[2 * t + 1];
                par[static_cast<std::size_t>(base) + t] = static_cast<std::int32_t>(base + static_cast<std::int64_t>(t));
            }
            const std::int64_t k0 = starts[static_cast<std::size_t>(s)], k1 = starts[static_cast<std::size_t>(s) + 1];
            for (std::int64_t r = k0 * ny; r < k1 * ny; ++r) runs.row_first[static_cast<std::size_t>(r)] += base;
        }
    });
    parallel_for(0, slabs, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t s = b; s < e; ++s) {
            const std::int64_t k0 = starts[static_cast<std::size_t>(s)], k1 = starts[static_cast<std::size_t>(s) + 1];
            for (std::int64_t k = k0; k < k1; ++k)
                for (std::int64_t j = 0; j < ny; ++j) link_row(j, k, k0, false);
        }
    });
    slab_runs.clear();
    // Pass 3: join across slab boundaries (serial; only the first plane of each slab).
    for (std::int64_t s = 1; s < slabs; ++s)
        for (std::int64_t j = 0; j < ny; ++j) link_row(j, starts[static_cast<std::size_t>(s)], 0, true);

    // Pass 4: labels per run in memory order: a root opens a new label, any other run
    // takes the label of its parent, an earlier run of the same tree.
    std::vector<std::int32_t> label(static_cast<std::size_t>(nruns));
    std::int32_t count = 0;
    for (std::int64_t r = 0; r < nruns; ++r) {
        const std::int32_t p = par[r];
        label[static_cast<std::size_t>(r)] = p == r ? ++count : label[static_cast<std::size_t>(p)];
    }
    // Pass 5: write the labels, row by row.
    parallel_for(0, rows, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            std::int32_t* o = out + r * nx;
            std::int64_t i = 0;
            for (std::int64_t c = runs.row_first[static_cast<std::size_t>(r)];
                 c < runs.row_first[static_cast<std::size_t>(r) + 1]; ++c) {
                const std::int64_t s = runs.begin[static_cast<std::size_t>(c)], t = runs.end[static_cast<std::size_t>(c)];
                std::fill(o + i, o + s, 0);
                std::fill(o + s, o + t, label[static_cast<std::size_t>(c)]);
                i = t;
            }
            std::fill(o + i, o + nx, 0);
        }
    }, 64);
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

Volume<std::uint8_t> keep_largest_component_per_label(const Volume<std::uint8_t>& labels, int connectivity,
                                                      const std::vector<int>& only) {
    for (int l : only)
        SPORTSMED_CHECK(l >= 1 && l <= 255, "keep_largest_component_per_label: label {} outside 1..255", l);
    Volume<std::uint8_t> out = labels;
    Volume<std::uint8_t> m(labels.geometry());
    for (auto l : present_labels(labels)) {
        if (!only.empty() && std::find(only.begin(), only.end(), static_cast<int>(l)) == only.end()) continue;
        for (std::int64_t i = 0; i < m.size(); ++i) m.data()[i] = labels.data()[i] == l;
        const auto keep = keep_largest_component(m, connectivity);
        for (std::int64_t i = 0; i < m.size(); ++i)
            if (m.data()[i] && !keep.data()[i]) out.data()[i] = 0;
    }
    return out;
}

namespace {
// Neighbour offsets (di, dj, dk) of a 6-, 18- or 26-connectivity.
std::vector<std::array<std::int64_t, 3>> neighbour_steps(int connectivity) {
    std::vector<std::array<std::int64_t, 3>> steps;
    for (int dk = -1; dk <= 1; ++dk)
        for (int dj = -1; dj <= 1; ++dj)
            for (int di = -1; di <= 1; ++di) {
                const int n = std::abs(di) + std::abs(dj) + std::abs(dk);
                if (n == 0 || (connectivity == 6 && n > 1) || (connectivity == 18 && n > 2)) continue;
                steps.push_back({di, dj, dk});
            }
    return steps;
}

// Keeps, of label l in `out`, the component with the most voxels touching an anchor label
// (anchor[v] true), or the largest when none touches.
void keep_anchored_component(Volume<std::uint8_t>& out, std::uint8_t l, const std::array<bool, 256>& anchor,
                             int connectivity) {
    Volume<std::uint8_t> m(out.geometry());
    for (std::int64_t i = 0; i < m.size(); ++i) m.data()[i] = out.data()[i] == l;
    std::int32_t count = 0;
    const auto comp = label_components(m, connectivity, &count);
    if (count <= 1) return;
    const auto sizes = component_sizes(comp, count);
    std::vector<std::int64_t> contact(static_cast<std::size_t>(count) + 1, 0);
    const auto& s = out.shape();
    const auto steps = neighbour_steps(connectivity);
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                const std::int32_t c = comp(i, j, k);
                if (!c) continue;
                for (const auto& d : steps) {
                    const std::int64_t a = i + d[0], b = j + d[1], e = k + d[2];
                    if (a < 0 || b < 0 || e < 0 || a >= s[0] || b >= s[1] || e >= s[2]) continue;
                    if (anchor[out(a, b, e)]) {
                        ++contact[static_cast<std::size_t>(c)];
                        break;
                    }
                }
            }
    std::int32_t best = 1;
    for (std::int32_t c = 2; c <= count; ++c) {
        const auto u = static_cast<std::size_t>(c), b = static_cast<std::size_t>(best);
        if (contact[u] > contact[b] || (contact[u] == contact[b] && sizes[u] > sizes[b])) best = c;
    }
    for (std::int64_t i = 0; i < out.size(); ++i)
        if (comp.data()[i] && comp.data()[i] != best) out.data()[i] = 0;
}
}  // namespace

Volume<std::uint8_t> remove_detached_components(const Volume<std::uint8_t>& labels,
                                                const std::vector<std::vector<int>>& rows, int connectivity) {
    SPORTSMED_CHECK(connectivity == 6 || connectivity == 18 || connectivity == 26,
                    "remove_detached_components: connectivity must be 6, 18 or 26, got {}", connectivity);
    std::array<bool, 256> seen{};
    for (const auto& row : rows) {
        SPORTSMED_CHECK(row.size() >= 2, "remove_detached_components: a row needs a label and at least one support, "
                        "got {} values", row.size());
        for (int l : row)
            SPORTSMED_CHECK(l >= 1 && l <= 255, "remove_detached_components: label {} outside 1..255", l);
        SPORTSMED_CHECK(!seen[static_cast<std::size_t>(row[0])], "remove_detached_components: label {} has two rows",
                        row[0]);
        seen[static_cast<std::size_t>(row[0])] = true;
        SPORTSMED_CHECK(std::find(row.begin() + 1, row.end(), row[0]) == row.end(),
                        "remove_detached_components: label {} supports itself", row[0]);
    }
    Volume<std::uint8_t> out = labels;
    const auto& s = out.shape();
    const auto steps = neighbour_steps(connectivity);
    Volume<std::uint8_t> m(out.geometry());
    for (const auto& row : rows) {
        const auto l = static_cast<std::uint8_t>(row[0]);
        std::array<bool, 256> support{};
        for (std::size_t a = 1; a < row.size(); ++a) support[static_cast<std::size_t>(row[a])] = true;
        bool any = false;
        for (std::int64_t i = 0; i < m.size(); ++i) {
            m.data()[i] = out.data()[i] == l;
            any = any || m.data()[i];
        }
        if (!any) continue;
        std::int32_t count = 0;
        const auto comp = label_components(m, connectivity, &count);
        std::vector<bool> attached(static_cast<std::size_t>(count) + 1, false);
        for (std::int64_t k = 0; k < s[2]; ++k)
            for (std::int64_t j = 0; j < s[1]; ++j)
                for (std::int64_t i = 0; i < s[0]; ++i) {
                    const std::int32_t c = comp(i, j, k);
                    if (!c || attached[static_cast<std::size_t>(c)]) continue;
                    for (const auto& d : steps) {
                        const std::int64_t a = i + d[0], b = j + d[1], e = k + d[2];
                        if (a < 0 || b < 0 || e < 0 || a >= s[0] || b >= s[1] || e >= s[2]) continue;
                        if (support[out(a, b, e)]) {
                            attached[static_cast<std::size_t>(c)] = true;
                            break;
                        }
                    }
                }
        for (std::int64_t i = 0; i < out.size(); ++i)
            if (comp.data()[i] && !attached[static_cast<std::size_t>(comp.data()[i])]) out.data()[i] = 0;
    }
    return out;
}

Volume<std::uint8_t> keep_largest_component_per_label(const Volume<std::uint8_t>& labels, int connectivity,
                                                      const std::vector<int>& only,
                                                      const std::vector<std::vector<int>>& join_groups,
                                                      const std::vector<std::vector<int>>& anchors) {
    std::array<int, 256> group{};  // label -> 1 + its group's index; 0: in no group
    for (std::size_t g = 0; g < join_groups.size(); ++g)
        for (int l : join_groups[g]) {
            SPORTSMED_CHECK(l >= 1 && l <= 255, "keep_largest_component_per_label: join label {} outside 1..255", l);
            SPORTSMED_CHECK(group[static_cast<std::size_t>(l)] == 0,
                            "keep_largest_component_per_label: label {} is in two join groups", l);
            group[static_cast<std::size_t>(l)] = static_cast<int>(g) + 1;
        }
    std::array<std::vector<int>, 256> anchor_of{};  // label -> its anchors
    for (const auto& row : anchors) {
        SPORTSMED_CHECK(row.size() >= 2, "keep_largest_component_per_label: an anchor row needs a label and at least "
                        "one anchor, got {} values", row.size());
        for (int l : row)
            SPORTSMED_CHECK(l >= 1 && l <= 255, "keep_largest_component_per_label: anchor label {} outside 1..255", l);
        SPORTSMED_CHECK(anchor_of[static_cast<std::size_t>(row[0])].empty(),
                        "keep_largest_component_per_label: label {} has two anchor rows", row[0]);
        anchor_of[static_cast<std::size_t>(row[0])].assign(row.begin() + 1, row.end());
    }
    for (const auto& row : anchors)
        for (std::size_t a = 1; a < row.size(); ++a)
            SPORTSMED_CHECK(anchor_of[static_cast<std::size_t>(row[a])].empty() && row[a] != row[0],
                            "keep_largest_component_per_label: anchor {} of label {} is itself anchored", row[a],
                            row[0]);
    auto filtered = [&](int l) { return only.empty() || std::find(only.begin(), only.end(), l) != only.end(); };
    std::vector<int> first;  // the filtered labels without anchors go first (empty `only`: every label)
    for (int l = 1; l < 256; ++l)
        if (anchor_of[static_cast<std::size_t>(l)].empty() && filtered(l)) first.push_back(l);
    Volume<std::uint8_t> out = first.empty() ? labels : keep_largest_component_per_label(labels, connectivity, first);
    for (const auto& row : anchors) {
        if (!filtered(row[0])) continue;
        std::array<bool, 256> is_anchor{};
        for (std::size_t a = 1; a < row.size(); ++a) is_anchor[static_cast<std::size_t>(row[a])] = true;
        keep_anchored_component(out, static_cast<std::uint8_t>(row[0]), is_anchor, connectivity);
    }
    if (join_groups.empty()) return out;
    // The fragments: removed voxels of grouped labels, as components of their label.
    const auto& s = labels.shape();
    Volume<std::uint8_t> m(labels.geometry());
    std::vector<std::vector<std::int64_t>> voxels;  // per fragment, its voxel indices
    std::vector<std::uint8_t> own;                  // per fragment, its label
    for (auto l : present_labels(labels)) {
        if (!group[l]) continue;
        bool any = false;
        for (std::int64_t i = 0; i < m.size(); ++i) {
            m.data()[i] = labels.data()[i] == l && out.data()[i] == 0;
            any = any || m.data()[i];
        }
        if (!any) continue;
        std::int32_t count = 0;
        const auto comp = label_components(m, connectivity, &count);
        const std::size_t base = voxels.size();
        voxels.resize(base + static_cast<std::size_t>(count));
        own.resize(base + static_cast<std::size_t>(count), l);
        for (std::int64_t i = 0; i < comp.size(); ++i)
            if (comp.data()[i]) voxels[base + static_cast<std::size_t>(comp.data()[i] - 1)].push_back(i);
    }
    const auto steps = neighbour_steps(connectivity);
    std::array<std::int64_t, 256> kept{};  // each label's kept voxels before any join
    for (std::int64_t i = 0; i < out.size(); ++i) ++kept[out.data()[i]];
    std::vector<bool> done(voxels.size(), false);
    for (bool changed = true; changed;) {
        changed = false;
        for (std::size_t f = 0; f < voxels.size(); ++f) {
            if (done[f]) continue;
            int target = 0;  // 0: none yet, -1: two or more
            for (std::int64_t v : voxels[f]) {
                const std::int64_t i = v % s[0], j = (v / s[0]) % s[1], k = v / (s[0] * s[1]);
                for (const auto& d : steps) {
                    const std::int64_t a = i + d[0], b = j + d[1], c = k + d[2];
                    if (a < 0 || b < 0 || c < 0 || a >= s[0] || b >= s[1] || c >= s[2]) continue;
                    const int l = out(a, b, c);
                    if (l == 0 || l == own[f] || group[static_cast<std::size_t>(l)] != group[own[f]]) continue;
                    if (target == 0) target = l;
                    else if (target != l) target = -1;
                }
                if (target < 0) break;
            }
            // a piece larger than the kept part of its own label is no stray piece but a large
            // mislabelled region (a fat network labelled bone): it does not move
            if (target <= 0 || static_cast<std::int64_t>(voxels[f].size()) >= kept[own[f]]) continue;
            for (std::int64_t v : voxels[f]) out.data()[v] = static_cast<std::uint8_t>(target);
            done[f] = changed = true;
        }
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
