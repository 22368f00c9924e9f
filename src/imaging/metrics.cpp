// Segmentation metrics: overlap and area-weighted surface distances.

#include "sportsmed/imaging/metrics.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <utility>
#include <vector>

#include <Eigen/Geometry>

#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging/distance.hpp"
#include "sportsmed/imaging/kernels/overlap.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Box {
    std::array<std::int64_t, 3> lo{std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<std::int64_t>::max()};
    std::array<std::int64_t, 3> hi{-1, -1, -1};
    bool empty() const { return hi[0] < 0; }
    void add(std::int64_t i, std::int64_t j, std::int64_t k) {
        lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
        hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
    }
};

// Surface cubes of a mask on a cube grid of size c (cube x has corners at padded voxels
// x and x+1; the padded box starts one voxel before the bounding box).
struct Surface {
    std::vector<std::uint8_t> not_border;  // per cube, 0 at surface cubes (EDT input)
    std::vector<std::int64_t> elems;       // surface cubes, ascending (Fortran cube order)
    std::vector<double> area;              // per surface cube
};

// Marching-cubes surface elements of the 256 corner configurations of a 2×2×2 cube, as
// area vectors of triangles in the unit cube (bit b of a code is corner
// (b & 1, (b >> 1) & 1, (b >> 2) & 1) along (i, j, k)). The triangulation follows the
// rule that reproduces the area table of DeepMind's surface-distance package for all 256
// configurations and any spacing:
//  - vertices at the midpoints of the edges whose two corners differ;
//  - on a face with four such edges (a saddle), the contour cuts off the minority corners
//    of the cube (the inside ones when at most 4 corners are inside, else the outside ones);
//  - the face segments chain into closed polygons, and each polygon is split into the
//    triangulation of largest total area.
// With spacing h a triangle's area vector n scales to (n0 h1 h2, n1 h0 h2, n2 h0 h1).
using Triangles = std::vector<Eigen::Vector3d>;

Eigen::Vector3d cube_corner(int b) { return {double(b & 1), double((b >> 1) & 1), double((b >> 2) & 1)}; }

// Largest-area triangulation of the polygon p[first..last] (vertex indices into pts);
// returns the area and appends the triangles' area vectors.
double best_triangulation(const std::vector<Eigen::Vector3d>& pts, int first, int last, Triangles* out) {
    if (last - first < 2) return 0.0;
    double best = -1.0;
    Triangles best_tris;
    for (int k = first + 1; k < last; ++k) {
        Triangles tris;
        double a = best_triangulation(pts, first, k, &tris) + best_triangulation(pts, k, last, &tris);
        const Eigen::Vector3d n = 0.5 * (pts[k] - pts[first]).cross(pts[last] - pts[first]);
        a += n.norm();
        tris.push_back(n);
        if (a > best + 1e-12) best = a, best_tris = std::move(tris);
    }
    out->insert(out->end(), best_tris.begin(), best_tris.end());
    return best;
}

Triangles cube_triangles(int code) {
    auto inside = [&](int b) { return (code >> b) & 1; };
    struct Edge { int a, b; };
    std::vector<Edge> cut;  // cut edges, each a polygon vertex
    for (int b = 0; b < 8; ++b)
        for (int axis = 0; axis < 3; ++axis)
            if (!((b >> axis) & 1) && inside(b) != inside(b | (1 << axis))) cut.push_back({b, b | (1 << axis)});
    int n_inside = 0;
    for (int b = 0; b < 8; ++b) n_inside += inside(b);
    const int minority = n_inside <= 4 ? 1 : 0;
    std::vector<std::vector<int>> adj(cut.size());
    for (int axis = 0; axis < 3; ++axis)
        for (int v = 0; v < 2; ++v) {
            auto on_face = [&](int b) { return ((b >> axis) & 1) == v; };
            std::vector<int> fe;
            for (int e = 0; e < int(cut.size()); ++e)
                if (on_face(cut[e].a) && on_face(cut[e].b)) fe.push_back(e);
            auto link = [&](int e, int f) { adj[e].push_back(f), adj[f].push_back(e); };
            if (fe.size() == 2) link(fe[0], fe[1]);
            if (fe.size() == 4)
                for (int b = 0; b < 8; ++b) {
                    if (!on_face(b) || inside(b) != minority) continue;
                    std::vector<int> pair;
                    for (int e : fe)
                        if (cut[e].a == b || cut[e].b == b) pair.push_back(e);
                    link(pair[0], pair[1]);
                }
        }
    Triangles tris;
    std::vector<bool> seen(cut.size(), false);
    for (int s = 0; s < int(cut.size()); ++s) {
        if (seen[s]) continue;
        std::vector<Eigen::Vector3d> poly;
        for (int prev = -1, cur = s; cur >= 0;) {
            seen[cur] = true;
            poly.push_back(0.5 * (cube_corner(cut[cur].a) + cube_corner(cut[cur].b)));
            int next = -1;
            for (int f : adj[cur])
                if (f != prev && !seen[f]) next = f;
            prev = cur, cur = next;
        }
        best_triangulation(poly, 0, int(poly.size()) - 1, &tris);
    }
    return tris;
}

std::array<double, 256> area_table(const Eigen::Vector3d& h) {
    static const std::array<Triangles, 256> unit = [] {
        std::array<Triangles, 256> t;
        for (int code = 1; code < 255; ++code) t[static_cast<std::size_t>(code)] = cube_triangles(code);
        return t;
    }();
    const Eigen::Vector3d scale(h[1] * h[2], h[0] * h[2], h[0] * h[1]);
    std::array<double, 256> t{};
    for (std::size_t code = 0; code < 256; ++code)
        for (const auto& n : unit[code]) t[code] += n.cwiseProduct(scale).norm();
    return t;
}

Surface cube_surface(const std::uint8_t* labels, int label, const Shape3& shape, const std::array<std::int64_t, 3>& o,
                     const std::array<std::int64_t, 3>& c, const Eigen::Vector3d& h) {
    const std::int64_t nx = shape[0], ny = shape[1], nz = shape[2];
    // Padded crop (c + 1 voxels per axis) of the mask, so corner lookups need no bounds checks.
    const std::int64_t px = c[0] + 1, py = c[1] + 1, pz = c[2] + 1;
    std::vector<std::uint8_t> m(static_cast<std::size_t>(px * py * pz), 0);
    // Per padded row, the first and last x inside the mask (px and -1 for none).
    std::vector<std::int64_t> row_lo(static_cast<std::size_t>(py * pz), px), row_hi(static_cast<std::size_t>(py * pz), -1);
    parallel_for(0, pz, [&](std::int64_t kb, std::int64_t ke) {
        if (label < 0 || label > 255) return;  // no voxel has it: an empty mask
        for (std::int64_t z = kb; z < ke; ++z) {
            const std::int64_t k = o[2] + z;
            if (k < 0 || k >= nz) continue;
            for (std::int64_t y = 0; y < py; ++y) {
                const std::int64_t j = o[1] + y;
                if (j < 0 || j >= ny) continue;
                const std::int64_t x0 = std::max<std::int64_t>(0, -o[0]), x1 = std::min(px, nx - o[0]);
                const std::uint8_t* src = labels + o[0] + nx * (j + ny * k);
                std::uint8_t* dst = m.data() + px * (y + py * z);
                const auto l = static_cast<std::uint8_t>(label);
                std::int64_t first = px, last = -1;
                for (std::int64_t x = x0; x < x1; ++x) dst[x] = src[x] == l;
                for (std::int64_t x = x0; x < x1; ++x)
                    if (dst[x]) {
                        first = x;
                        break;
                    }
                for (std::int64_t x = x1 - 1; x >= first; --x)
                    if (dst[x]) {
                        last = x;
                        break;
                    }
                row_lo[static_cast<std::size_t>(y + py * z)] = first;
                row_hi[static_cast<std::size_t>(y + py * z)] = last;
            }
        }
    });
    const auto table = area_table(h);
    const std::int64_t ncube = c[0] * c[1] * c[2];
    Surface s;
    s.not_border.assign(static_cast<std::size_t>(ncube), 1);
    // Slabs of cube planes, each listing its surface cubes in order; concatenated in slab
    // order the lists are in Fortran cube order.
    const std::int64_t slabs = std::min<std::int64_t>(c[2], 4 * std::max(1, num_threads()));
    std::vector<std::vector<std::int64_t>> slab_elems(static_cast<std::size_t>(slabs));
    std::vector<std::vector<double>> slab_area(static_cast<std::size_t>(slabs));
    parallel_for(0, slabs, [&](std::int64_t sb, std::int64_t se) {
        for (std::int64_t sl = sb; sl < se; ++sl) {
            auto& el = slab_elems[static_cast<std::size_t>(sl)];
            auto& ar = slab_area[static_cast<std::size_t>(sl)];
            for (std::int64_t z = sl * c[2] / slabs; z < (sl + 1) * c[2] / slabs; ++z)
                for (std::int64_t y = 0; y < c[1]; ++y) {
                    const std::uint8_t* row = m.data() + px * (y + py * z);
                    const std::int64_t base = c[0] * (y + c[1] * z);
                    // The four corner rows of this cube row; eight cubes whose corner
                    // bytes (x .. x + 8 of each row) are all 0 are skipped at once.
                    const std::uint8_t* rows4[4] = {row, row + px, row + px * py, row + px * py + px};
                    auto column = [&](std::int64_t x) {
                        return rows4[0][x] | (rows4[1][x] << 2) | (rows4[2][x] << 4) | (rows4[3][x] << 6);
                    };
                    // Only cubes with a corner between the rows' first and last inside x.
                    std::int64_t lo = px, hi = -1;
                    for (std::int64_t r : {y + py * z, y + 1 + py * z, y + py * (z + 1), y + 1 + py * (z + 1)}) {
                        lo = std::min(lo, row_lo[static_cast<std::size_t>(r)]);
                        hi = std::max(hi, row_hi[static_cast<std::size_t>(r)]);
                    }
                    if (hi < 0) continue;
                    for (std::int64_t x = std::max<std::int64_t>(0, lo - 1); x <= std::min(c[0] - 1, hi); ++x) {
                        if ((x & 7) == 0 && x + 9 <= px) {
                            std::uint64_t any = 0;
                            for (const std::uint8_t* r : rows4) {
                                std::uint64_t w0, w1;
                                std::memcpy(&w0, r + x, 8);
                                std::memcpy(&w1, r + x + 1, 8);
                                any |= w0 | w1;
                            }
                            if (!any) {
                                x += 7;
                                continue;
                            }
                        }
                        // corner (dx, dy, dz) is bit dx + 2 dy + 4 dz
                        const int code = column(x) | (column(x + 1) << 1);
                        if (code == 0 || code == 255) continue;
                        s.not_border[static_cast<std::size_t>(base + x)] = 0;
                        el.push_back(base + x);
                        ar.push_back(table[static_cast<std::size_t>(code)]);
                    }
                }
        }
    });
    std::size_t total = 0;
    for (const auto& el : slab_elems) total += el.size();
    s.elems.reserve(total);
    s.area.reserve(total);
    for (std::size_t sl = 0; sl < slab_elems.size(); ++sl) {
        s.elems.insert(s.elems.end(), slab_elems[sl].begin(), slab_elems[sl].end());
        s.area.insert(s.area.end(), slab_area[sl].begin(), slab_area[sl].end());
    }
    return s;
}

}  // namespace

namespace {
SurfaceDistances surface_distances_in_box(const std::uint8_t* gt, const std::uint8_t* pred, const Shape3& shape,
                                          const Eigen::Vector3d& h, int label_gt, int label_pred, const Box& box);
}  // namespace

namespace detail {

double area_weighted_percentile_sorted(std::vector<double> d, std::vector<double> a, double fraction) {
    SPORTSMED_CHECK(d.size() == a.size(), "area_weighted_percentile: {} distances but {} areas", d.size(), a.size());
    if (d.empty()) return kNaN;
    std::vector<std::pair<double, double>> da(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) da[i] = {d[i], a[i]};
    std::sort(da.begin(), da.end());
    double total = 0;
    for (const auto& p : da) total += p.second;
    double cum = 0;
    for (const auto& p : da) {
        cum += p.second;
        if (cum / total >= fraction) return p.first;
    }
    return da.back().first;
}

double area_weighted_percentile(const std::vector<double>& d, const std::vector<double>& a, double fraction) {
    SPORTSMED_CHECK(d.size() == a.size(), "area_weighted_percentile: {} distances but {} areas", d.size(), a.size());
    const std::size_t n = d.size();
    if (n == 0) return kNaN;
    // Surface distances and areas take few distinct values (grid offsets, 256 cube
    // configurations), so the sorted pair list is a short list of distinct (d, a) pairs
    // with repeat counts. Equal pairs are interchangeable, so adding each pair's area
    // count times, pair by pair in sorted order, performs exactly the additions (same
    // values, same order) of the running sums over the fully sorted list: bit-identical
    // results. Few repeats (or NaN, which has no order) fall back to the full sort.
    struct Entry {
        std::uint64_t d_bits = 0, a_bits = 0;
        std::int64_t count = 0;  // 0: empty slot
    };
    const std::size_t max_distinct = std::max<std::size_t>(64, n / 8);
    std::size_t cap = 256;
    std::vector<Entry> table(cap);
    std::size_t distinct = 0;
    auto slot_of = [](const std::vector<Entry>& t, std::uint64_t db, std::uint64_t ab) {
        std::uint64_t x = db * 0x9E3779B97F4A7C15ULL ^ (ab + 0x632BE59BD9B4E019ULL) * 0xC2B2AE3D27D4EB4FULL;
        x ^= x >> 29;
        std::size_t i = static_cast<std::size_t>(x) & (t.size() - 1);
        while (t[i].count && (t[i].d_bits != db || t[i].a_bits != ab)) i = (i + 1) & (t.size() - 1);
        return i;
    };
    for (std::size_t i = 0; i < n; ++i) {
        // + 0.0 maps -0 to +0, which the sort treats as equal.
        const double di = d[i] + 0.0, ai = a[i] + 0.0;
        if (std::isnan(di) || std::isnan(ai)) return area_weighted_percentile_sorted(d, a, fraction);
        std::uint64_t db, ab;
        std::memcpy(&db, &di, 8);
        std::memcpy(&ab, &ai, 8);
        std::size_t k = slot_of(table, db, ab);
        if (!table[k].count) {
            if (++distinct > max_distinct) return area_weighted_percentile_sorted(d, a, fraction);
            if (2 * distinct > cap) {
                std::vector<Entry> bigger(cap *= 2);
                for (const auto& e : table)
                    if (e.count) bigger[slot_of(bigger, e.d_bits, e.a_bits)] = e;
                table.swap(bigger);
                k = slot_of(table, db, ab);
            }
            table[k].d_bits = db;
            table[k].a_bits = ab;
        }
        ++table[k].count;
    }
    struct Pair {
        double d, a;
        std::int64_t count;
    };
    std::vector<Pair> pairs;
    pairs.reserve(distinct);
    for (const auto& e : table)
        if (e.count) {
            Pair p{0, 0, e.count};
            std::memcpy(&p.d, &e.d_bits, 8);
            std::memcpy(&p.a, &e.a_bits, 8);
            pairs.push_back(p);
        }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.d < y.d || (x.d == y.d && x.a < y.a); });
    double total = 0;
    for (const auto& p : pairs)
        for (std::int64_t c = 0; c < p.count; ++c) total += p.a;
    double cum = 0;
    for (const auto& p : pairs)
        for (std::int64_t c = 0; c < p.count; ++c) {
            cum += p.a;
            if (cum / total >= fraction) return p.d;
        }
    return pairs.back().d;
}

}  // namespace detail

SurfaceDistances surface_distances(const std::uint8_t* gt, const std::uint8_t* pred, const Shape3& shape,
                                   const Eigen::Vector3d& h, int label_gt, int label_pred) {
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(h[a] > 0 && std::isfinite(h[a]), "surface_distances: spacing {} along axis {}", h[a], a);
    Box box;
    const std::int64_t nx = shape[0], ny = shape[1], nz = shape[2];
    for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i) {
                const std::int64_t idx = i + nx * (j + ny * k);
                if (gt[idx] == label_gt || pred[idx] == label_pred) box.add(i, j, k);
            }
    return surface_distances_in_box(gt, pred, shape, h, label_gt, label_pred, box);
}

namespace {
SurfaceDistances surface_distances_in_box(const std::uint8_t* gt, const std::uint8_t* pred, const Shape3& shape,
                                          const Eigen::Vector3d& h, int label_gt, int label_pred, const Box& box) {
    SurfaceDistances out;
    if (box.empty()) return out;
    const std::array<std::int64_t, 3> o{box.lo[0] - 1, box.lo[1] - 1, box.lo[2] - 1};
    const std::array<std::int64_t, 3> c{box.hi[0] - box.lo[0] + 2, box.hi[1] - box.lo[1] + 2,
                                        box.hi[2] - box.lo[2] + 2};
    const Surface sg = cube_surface(gt, label_gt, shape, o, c, h);
    const Surface sp = cube_surface(pred, label_pred, shape, o, c, h);
    const Shape3 cs{c[0], c[1], c[2]};
    auto gather = [&](const Surface& from, const Surface& to, std::vector<double>& d, std::vector<double>& a) {
        const std::vector<std::int64_t>& elems = from.elems;
        a = from.area;
        d.assign(elems.size(), kInf);
        const bool to_empty = to.elems.empty();
        if (to_empty || elems.empty()) return;
        // Nearest element of the other surface by a search in a window around each element:
        // a window of half-widths ⌊R/h⌋ holds every element within R mm, so a nearest
        // distance ≤ R found there is exact. Elements with none within R get a wider window,
        // then, if any remain, the exact EDT of the whole cube grid. Surfaces being compared
        // are mostly close, which makes the full-grid EDT the rare case.
        std::vector<std::int64_t> todo(elems.size());
        std::iota(todo.begin(), todo.end(), 0);
        const double hmax = h.maxCoeff();
        const std::uint8_t* nb = to.not_border.data();
        for (double radius : {hmax, 3.0 * hmax}) {
            std::array<std::int64_t, 3> w;
            for (int ax = 0; ax < 3; ++ax) w[ax] = static_cast<std::int64_t>(std::floor(radius / h[ax] + 1e-9));
            const double r2 = radius * radius * (1 + 1e-12);
            // The window's offsets by increasing distance: the first one that lands on an
            // element of the other surface gives the window's minimum.
            struct Off {
                std::int64_t dx, dy, dz, linear;
                double d2;
            };
            std::vector<Off> offs;
            for (std::int64_t dz = -w[2]; dz <= w[2]; ++dz)
                for (std::int64_t dy = -w[1]; dy <= w[1]; ++dy)
                    for (std::int64_t dx = -w[0]; dx <= w[0]; ++dx) {
                        const double fx = static_cast<double>(dx), fy = static_cast<double>(dy),
                                     fz = static_cast<double>(dz);
                        // summed in the order of the EDT's passes (i, j, k), so both give the same bits
                        const double d2 = ((0.0 + h[0] * h[0] * fx * fx) + h[1] * h[1] * fy * fy) + h[2] * h[2] * fz * fz;
                        offs.push_back({dx, dy, dz, dx + c[0] * (dy + c[1] * dz), d2});
                    }
            std::stable_sort(offs.begin(), offs.end(), [](const Off& p, const Off& q) { return p.d2 < q.d2; });
            std::vector<std::uint8_t> resolved(todo.size(), 0);
            parallel_for(0, static_cast<std::int64_t>(todo.size()), [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t t = b; t < e; ++t) {
                    const std::int64_t idx = elems[static_cast<std::size_t>(todo[static_cast<std::size_t>(t)])];
                    const std::int64_t x = idx % c[0], y = (idx / c[0]) % c[1], z = idx / (c[0] * c[1]);
                    const bool inner = x >= w[0] && x + w[0] < c[0] && y >= w[1] && y + w[1] < c[1] && z >= w[2] &&
                                       z + w[2] < c[2];
                    double best = kInf;
                    for (const Off& f : offs) {
                        if (!inner && (static_cast<std::uint64_t>(x + f.dx) >= static_cast<std::uint64_t>(c[0]) ||
                                       static_cast<std::uint64_t>(y + f.dy) >= static_cast<std::uint64_t>(c[1]) ||
                                       static_cast<std::uint64_t>(z + f.dz) >= static_cast<std::uint64_t>(c[2])))
                            continue;
                        if (!nb[idx + f.linear]) {
                            best = f.d2;
                            break;
                        }
                    }
                    if (best <= r2) {
                        d[static_cast<std::size_t>(todo[static_cast<std::size_t>(t)])] = std::sqrt(best);
                        resolved[static_cast<std::size_t>(t)] = 1;
                    }
                }
            }, 256);
            std::vector<std::int64_t> left;
            for (std::size_t t = 0; t < todo.size(); ++t)
                if (!resolved[t]) left.push_back(todo[t]);
            todo.swap(left);
            if (todo.empty()) return;
        }
        std::vector<double> dist(from.not_border.size());
        distance_transform_squared(to.not_border.data(), cs, h, dist.data());
        for (const std::int64_t e : todo)
            d[static_cast<std::size_t>(e)] = std::sqrt(dist[static_cast<std::size_t>(elems[static_cast<std::size_t>(e)])]);
    };
    gather(sg, sp, out.distances_gt_to_pred_mm, out.areas_gt_mm2);
    gather(sp, sg, out.distances_pred_to_gt_mm, out.areas_pred_mm2);
    return out;
}

}  // namespace

std::vector<SegmentationMetrics> segmentation_metrics(const Volume<std::uint8_t>& gt, const Volume<std::uint8_t>& pred,
                                                      std::vector<int> labels, double tolerance_mm) {
    SPORTSMED_CHECK(gt.shape() == pred.shape(),
                    "segmentation_metrics: reference shape ({}, {}, {}) differs from prediction shape ({}, {}, {})",
                    gt.shape()[0], gt.shape()[1], gt.shape()[2], pred.shape()[0], pred.shape()[1], pred.shape()[2]);
    SPORTSMED_CHECK(gt.geometry().same_grid(pred.geometry(), 1e-4),
                    "segmentation_metrics: reference and prediction lie on different grids (spacing/origin/direction)");
    return segmentation_metrics(gt.data(), pred.data(), gt.shape(), gt.geometry().spacing_mm, std::move(labels),
                                tolerance_mm);
}

std::vector<SegmentationMetrics> segmentation_metrics(const std::uint8_t* gt_data, const std::uint8_t* pred_data,
                                                      const Shape3& sh, const Eigen::Vector3d& h,
                                                      std::vector<int> labels, double tolerance_mm) {
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(h[a] > 0 && std::isfinite(h[a]), "segmentation_metrics: spacing {} along axis {}", h[a], a);
    SPORTSMED_CHECK(tolerance_mm >= 0, "segmentation_metrics: tolerance {} mm, expected >= 0", tolerance_mm);
    // One pass: voxel counts and, per label, the bounding box of (gt == l) or (pred == l).
    // Slabs along k are counted in parallel and merged.
    struct Tally {
        std::array<std::int64_t, 256> n_gt{}, n_pred{}, n_both{};
        std::vector<Box> boxes = std::vector<Box>(256);
    };
    std::vector<Tally> tallies;
    std::mutex tallies_mutex;
    parallel_for(0, sh[2], [&](std::int64_t kb, std::int64_t ke) {
        Tally t;
        // Per row, the first and last i of each label; boxes are updated once per row.
        std::array<std::int64_t, 256> row_lo, row_hi;
        row_lo.fill(std::numeric_limits<std::int64_t>::max());
        std::vector<int> seen;
        for (std::int64_t k = kb; k < ke; ++k)
            for (std::int64_t j = 0; j < sh[1]; ++j) {
                const std::uint8_t* ga = gt_data + sh[0] * (j + sh[1] * k);
                const std::uint8_t* pa = pred_data + sh[0] * (j + sh[1] * k);
                // Runs of equal (gt, pred) pairs: label maps are mostly long runs, compared
                // eight voxels at a time.
                for (std::int64_t i = 0; i < sh[0];) {
                    const auto a = ga[i], b = pa[i];
                    const std::uint64_t wa = 0x0101010101010101ULL * a, wb = 0x0101010101010101ULL * b;
                    const std::int64_t start = i;
                    for (++i; i + 8 <= sh[0]; i += 8) {
                        std::uint64_t xa, xb;
                        std::memcpy(&xa, ga + i, 8);
                        std::memcpy(&xb, pa + i, 8);
                        if (xa != wa || xb != wb) break;
                    }
                    for (; i < sh[0] && ga[i] == a && pa[i] == b; ++i) {
                    }
                    const std::int64_t len = i - start;
                    t.n_gt[a] += len;
                    t.n_pred[b] += len;
                    if (a == b) t.n_both[a] += len;
                    for (const auto l : {a, b}) {
                        if (row_lo[l] == std::numeric_limits<std::int64_t>::max()) {
                            row_lo[l] = start;
                            seen.push_back(l);
                        }
                        row_hi[l] = i - 1;
                    }
                }
                for (int l : seen) {
                    if (l) {
                        t.boxes[static_cast<std::size_t>(l)].add(row_lo[static_cast<std::size_t>(l)], j, k);
                        t.boxes[static_cast<std::size_t>(l)].add(row_hi[static_cast<std::size_t>(l)], j, k);
                    }
                    row_lo[static_cast<std::size_t>(l)] = std::numeric_limits<std::int64_t>::max();
                }
                seen.clear();
            }
        std::lock_guard<std::mutex> lock(tallies_mutex);
        tallies.push_back(std::move(t));
    });
    std::array<std::int64_t, 256> n_gt{}, n_pred{}, n_both{};
    std::vector<Box> boxes(256);
    for (const auto& t : tallies)
        for (std::size_t l = 0; l < 256; ++l) {
            n_gt[l] += t.n_gt[l];
            n_pred[l] += t.n_pred[l];
            n_both[l] += t.n_both[l];
            if (!t.boxes[l].empty()) {
                boxes[l].add(t.boxes[l].lo[0], t.boxes[l].lo[1], t.boxes[l].lo[2]);
                boxes[l].add(t.boxes[l].hi[0], t.boxes[l].hi[1], t.boxes[l].hi[2]);
            }
        }
    if (labels.empty()) {
        for (int l = 1; l < 256; ++l)
            if (n_gt[static_cast<std::size_t>(l)] || n_pred[static_cast<std::size_t>(l)]) labels.push_back(l);
    }
    const double voxel = h.prod();
    std::vector<SegmentationMetrics> out;
    for (int l : labels) {
        SPORTSMED_CHECK(l >= 1 && l <= 255, "segmentation_metrics: label {} outside 1..255", l);
        const auto L = static_cast<std::size_t>(l);
        SegmentationMetrics m;
        m.label = l;
        m.tolerance_mm = tolerance_mm;
        m.voxels_gt = n_gt[L];
        m.voxels_pred = n_pred[L];
        m.volume_gt_mm3 = static_cast<double>(n_gt[L]) * voxel;
        m.volume_pred_mm3 = static_cast<double>(n_pred[L]) * voxel;
        m.volume_difference_mm3 = m.volume_pred_mm3 - m.volume_gt_mm3;
        const double sum = static_cast<double>(n_gt[L] + n_pred[L]);
        if (sum == 0) {
            m.dice = m.jaccard = m.hausdorff_mm = m.hd95_mm = m.assd_mm = m.surface_dice = kNaN;
            m.asd_gt_to_pred_mm = m.asd_pred_to_gt_mm = m.assd_mean_mm = kNaN;
            m.hd95_gt_to_pred_mm = m.hd95_pred_to_gt_mm = kNaN;
            out.push_back(m);
            continue;
        }
        m.dice = kernels::dice_from_counts<double>(n_both[L], n_gt[L], n_pred[L]);
        m.jaccard = kernels::jaccard_from_counts<double>(n_both[L], n_gt[L], n_pred[L]);
        SurfaceDistances s = surface_distances_in_box(gt_data, pred_data, sh, h, l, l, boxes[L]);
        double area_g = 0, area_p = 0, wsum_g = 0, wsum_p = 0, within = 0;
        for (std::size_t i = 0; i < s.areas_gt_mm2.size(); ++i) {
            area_g += s.areas_gt_mm2[i];
            wsum_g += s.areas_gt_mm2[i] * s.distances_gt_to_pred_mm[i];
            if (s.distances_gt_to_pred_mm[i] <= tolerance_mm) within += s.areas_gt_mm2[i];
        }
        for (std::size_t i = 0; i < s.areas_pred_mm2.size(); ++i) {
            area_p += s.areas_pred_mm2[i];
            wsum_p += s.areas_pred_mm2[i] * s.distances_pred_to_gt_mm[i];
            if (s.distances_pred_to_gt_mm[i] <= tolerance_mm) within += s.areas_pred_mm2[i];
        }
        m.surface_area_gt_mm2 = area_g;
        m.surface_area_pred_mm2 = area_p;
        if (n_gt[L] == 0 || n_pred[L] == 0) {
            m.hausdorff_mm = m.hd95_mm = m.assd_mm = kInf;
            m.asd_gt_to_pred_mm = m.asd_pred_to_gt_mm = m.assd_mean_mm = kInf;
            m.hd95_gt_to_pred_mm = m.hd95_pred_to_gt_mm = kInf;
            m.surface_dice = 0.0;
            out.push_back(m);
            continue;
        }
        m.hausdorff_mm = std::max(*std::max_element(s.distances_gt_to_pred_mm.begin(), s.distances_gt_to_pred_mm.end()),
                                  *std::max_element(s.distances_pred_to_gt_mm.begin(), s.distances_pred_to_gt_mm.end()));
        m.hd95_gt_to_pred_mm = detail::area_weighted_percentile(s.distances_gt_to_pred_mm, s.areas_gt_mm2, 0.95);
        m.hd95_pred_to_gt_mm = detail::area_weighted_percentile(s.distances_pred_to_gt_mm, s.areas_pred_mm2, 0.95);
        m.hd95_mm = std::max(m.hd95_gt_to_pred_mm, m.hd95_pred_to_gt_mm);
        m.assd_mm = (wsum_g + wsum_p) / (area_g + area_p);
        m.asd_gt_to_pred_mm = wsum_g / area_g;
        m.asd_pred_to_gt_mm = wsum_p / area_p;
        m.assd_mean_mm = 0.5 * (m.asd_gt_to_pred_mm + m.asd_pred_to_gt_mm);
        m.surface_dice = within / (area_g + area_p);
        out.push_back(m);
    }
    return out;
}

}  // namespace sportsmed::imaging
