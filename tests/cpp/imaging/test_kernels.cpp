#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <queue>
#include <random>

#include <catch2/catch.hpp>

#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging/components.hpp"
#include "sportsmed/imaging/distance.hpp"

using namespace sportsmed;
using namespace sportsmed::imaging;

namespace {
Volume<std::uint8_t> random_mask(Shape3 shape, double p, unsigned seed) {
    Geometry g;
    g.shape = shape;
    g.spacing_mm = {0.7, 1.3, 2.1};
    Volume<std::uint8_t> m(g);
    std::mt19937 rng(seed);
    std::bernoulli_distribution b(p);
    for (auto& v : m.values()) v = b(rng);
    return m;
}
}  // namespace

TEST_CASE("edt: equals brute-force nearest background distance (anisotropic)", "[imaging][edt]") {
    const auto m = random_mask({9, 7, 6}, 0.85, 3);
    const auto d = distance_transform(m);
    const auto& s = m.shape();
    const auto& h = m.geometry().spacing_mm;
    double max_err = 0;
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                double best = INFINITY;
                for (std::int64_t c = 0; c < s[2]; ++c)
                    for (std::int64_t b = 0; b < s[1]; ++b)
                        for (std::int64_t a = 0; a < s[0]; ++a)
                            if (!m(a, b, c)) {
                                const double dx = (a - i) * h[0], dy = (b - j) * h[1], dz = (c - k) * h[2];
                                best = std::min(best, std::sqrt(dx * dx + dy * dy + dz * dz));
                            }
                max_err = std::max(max_err, std::abs(best - d(i, j, k)));
            }
    CHECK(max_err < 1e-12);
}

TEST_CASE("edt: no background gives +inf, and ball erosion undoes dilation of a point", "[imaging][edt]") {
    Geometry g;
    g.shape = {5, 5, 5};
    Volume<std::uint8_t> all(g, 1, 1);
    const auto d = distance_transform(all);
    CHECK(std::isinf(d(2, 2, 2)));
    Volume<std::uint8_t> point(g);
    point(2, 2, 2) = 1;
    const auto ball = dilate_ball(point, 1.5);  // 1 + 6 + 12 voxels within sqrt(2)
    std::int64_t n = 0;
    for (auto v : ball.values()) n += v;
    CHECK(n == 19);
    const auto back = erode_ball(ball, 1.5);
    n = 0;
    for (auto v : back.values()) n += v;
    CHECK(n == 1);
    CHECK(back(2, 2, 2) == 1);
}

namespace {
// Reference labelling: breadth-first flood fill from each unlabelled voxel in memory order.
Volume<std::int32_t> flood_fill_labels(const Volume<std::uint8_t>& m, int conn, std::int32_t* count) {
    Volume<std::int32_t> ref(m.geometry());
    std::int32_t n = 0;
    const auto& s = m.shape();
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (!m(i, j, k) || ref(i, j, k)) continue;
                ++n;
                std::queue<std::array<std::int64_t, 3>> q;
                q.push({i, j, k});
                ref(i, j, k) = n;
                while (!q.empty()) {
                    auto [a, b, c] = q.front();
                    q.pop();
                    for (int dk = -1; dk <= 1; ++dk)
                        for (int dj = -1; dj <= 1; ++dj)
                            for (int di = -1; di <= 1; ++di) {
                                const int l1 = std::abs(di) + std::abs(dj) + std::abs(dk);
                                if (l1 == 0 || (conn == 6 && l1 > 1) || (conn == 18 && l1 > 2)) continue;
                                const std::int64_t x = a + di, y = b + dj, z = c + dk;
                                if (x < 0 || y < 0 || z < 0 || x >= s[0] || y >= s[1] || z >= s[2]) continue;
                                if (m(x, y, z) && !ref(x, y, z)) {
                                    ref(x, y, z) = n;
                                    q.push({x, y, z});
                                }
                            }
                }
            }
    *count = n;
    return ref;
}
}  // namespace

TEST_CASE("components: same partition as a breadth-first flood fill, 6/18/26", "[imaging][components]") {
    for (int conn : {6, 18, 26}) {
        const auto m = random_mask({23, 17, 19}, 0.3, 7 + conn);
        std::int32_t count = 0, n = 0;
        const auto lab = label_components(m, conn, &count);
        const auto ref = flood_fill_labels(m, conn, &n);
        CHECK(count == n);
        // Both number components in memory order of first voxel: identical labels.
        CHECK(lab.values() == ref.values());
    }
}

TEST_CASE("components: long runs, any thread count (slab joins), equal the flood fill", "[imaging][components]") {
    // Dense masks give long runs along i that touch several runs of the earlier rows, and
    // thread counts 1..3 put the slab boundaries (joined serially) at different planes.
    const int saved = num_threads();
    for (double p : {0.55, 0.75})
        for (int conn : {6, 18, 26}) {
            const auto m = random_mask({41, 13, 29}, p, 100 + conn + static_cast<unsigned>(p * 10));
            std::int32_t n = 0;
            const auto ref = flood_fill_labels(m, conn, &n);
            for (int threads : {1, 2, 3}) {
                set_num_threads(threads);
                std::int32_t count = 0;
                const auto lab = label_components(m, conn, &count);
                CHECK(count == n);
                CHECK(lab.values() == ref.values());
            }
        }
    set_num_threads(saved);
    // Edge shapes: a single voxel, one row, all foreground, all background.
    Geometry g;
    g.shape = {1, 1, 1};
    std::int32_t count = -1;
    CHECK(label_components(Volume<std::uint8_t>(g, 1, 1), 26, &count).values() == std::vector<std::int32_t>{1});
    CHECK(count == 1);
    g.shape = {9, 1, 1};
    Volume<std::uint8_t> row(g);
    for (int i : {0, 1, 3, 8}) row(i, 0, 0) = 1;
    CHECK(label_components(row, 26, &count).values() == std::vector<std::int32_t>{1, 1, 0, 2, 0, 0, 0, 0, 3});
    CHECK(count == 3);
    g.shape = {17, 5, 6};
    const auto full = label_components(Volume<std::uint8_t>(g, 1, 7), 6, &count);
    CHECK(count == 1);
    CHECK(std::all_of(full.values().begin(), full.values().end(), [](auto v) { return v == 1; }));
    const auto none = label_components(Volume<std::uint8_t>(g), 6, &count);
    CHECK(count == 0);
    CHECK(std::all_of(none.values().begin(), none.values().end(), [](auto v) { return v == 0; }));
}

TEST_CASE("components: largest component and hole filling", "[imaging][components]") {
    Geometry g;
    g.shape = {12, 12, 12};
    Volume<std::uint8_t> m(g);
    for (int k = 2; k < 9; ++k)
        for (int j = 2; j < 9; ++j)
            for (int i = 2; i < 9; ++i) m(i, j, k) = 1;  // 7³ cube
    m(5, 5, 5) = 0;                                       // a hole
    m(10, 10, 10) = 1;                                    // a speck
    const auto big = keep_largest_component(m);
    CHECK(big(10, 10, 10) == 0);
    CHECK(big(2, 2, 2) == 1);
    const auto filled = fill_holes(big);
    CHECK(filled(5, 5, 5) == 1);
    std::int64_t n = 0;
    for (auto v : filled.values()) n += v;
    CHECK(n == 343);

    // Per label, restricted to some labels: label 2's speck stays, label 1's goes.
    Volume<std::uint8_t> labels = m;  // label 1: the cube with a speck
    labels(0, 0, 11) = 2;             // label 2: two single voxels
    labels(11, 0, 0) = 2;
    const auto all = keep_largest_component_per_label(labels);
    CHECK(all(10, 10, 10) == 0);
    CHECK(all(0, 0, 11) + all(11, 0, 0) == 2);  // equal sizes: the first in memory order stays
    const auto only1 = keep_largest_component_per_label(labels, 26, {1});
    CHECK(only1(10, 10, 10) == 0);
    CHECK(only1(0, 0, 11) == 2);
    CHECK(only1(11, 0, 0) == 2);
    CHECK(only1(3, 3, 3) == 1);
    const auto only2 = keep_largest_component_per_label(labels, 26, {2});
    CHECK(only2(10, 10, 10) == 1);
    CHECK(only2(0, 0, 11) + only2(11, 0, 0) == 2);
    CHECK_THROWS_AS(keep_largest_component_per_label(labels, 26, {0}), InvalidArgument);
}

namespace {
// Sets the voxels lo..hi (inclusive, per axis) of @p v to @p l.
void fill_box(Volume<std::uint8_t>& v, std::array<int, 3> lo, std::array<int, 3> hi, std::uint8_t l) {
    for (int k = lo[2]; k <= hi[2]; ++k)
        for (int j = lo[1]; j <= hi[1]; ++j)
            for (int i = lo[0]; i <= hi[0]; ++i) v(i, j, k) = l;
}
}  // namespace

TEST_CASE("remove_detached_components drops the pieces that touch none of their supports", "[imaging][components]") {
    Geometry g;
    g.shape = {12, 10, 8};
    Volume<std::uint8_t> v(g);
    fill_box(v, {0, 0, 0}, {5, 9, 3}, 2);    // the bone
    fill_box(v, {0, 0, 4}, {1, 2, 4}, 5);    // cartilage on the bone (face neighbours): 6 voxels
    fill_box(v, {6, 0, 4}, {6, 0, 4}, 5);    // cartilage touching the bone along an edge only
    fill_box(v, {9, 7, 6}, {11, 9, 7}, 5);   // a detached piece
    fill_box(v, {0, 0, 5}, {1, 1, 5}, 7);    // on the attached cartilage only: 4 voxels
    fill_box(v, {9, 6, 7}, {9, 6, 7}, 7);    // on the detached cartilage only
    fill_box(v, {9, 0, 7}, {9, 0, 7}, 7);    // detached
    auto count = [](const Volume<std::uint8_t>& x, std::uint8_t l) {
        std::int64_t n = 0;
        for (auto val : x.values()) n += val == l;
        return n;
    };
    const auto out = remove_detached_components(v, {{5, 2}, {7, 2, 5}});
    CHECK(count(out, 5) == 6 + 1);  // the face piece and the edge piece (26-connected) stay
    CHECK(out(10, 8, 7) == 0);
    CHECK(count(out, 7) == 4);      // the piece on the removed cartilage goes with it
    CHECK(out(9, 0, 7) == 0);
    CHECK(count(out, 2) == count(v, 2));
    CHECK(count(remove_detached_components(v, {{5, 2}}, 18), 5) == 7);
    CHECK(count(remove_detached_components(v, {{5, 2}}, 6), 5) == 6);  // the edge piece is detached too
    // rows apply in order: label 7 first is judged against all of label 5
    const auto late = remove_detached_components(v, {{7, 5}, {5, 2}});
    CHECK(count(late, 7) == 5);
    CHECK(count(late, 5) == 7);
    CHECK(count(remove_detached_components(v, {}), 5) == count(v, 5));
    CHECK_THROWS_AS(remove_detached_components(v, {{5}}), InvalidArgument);
    CHECK_THROWS_AS(remove_detached_components(v, {{5, 5}}), InvalidArgument);
    CHECK_THROWS_AS(remove_detached_components(v, {{5, 2}, {5, 1}}), InvalidArgument);
    CHECK_THROWS_AS(remove_detached_components(v, {{0, 2}}), InvalidArgument);
    CHECK_THROWS_AS(remove_detached_components(v, {{5, 2}}, 8), InvalidArgument);
}

TEST_CASE("components: removed fragments join the one other label of their group they touch", "[imaging][components]") {
    Geometry g;
    g.shape = {40, 12, 12};
    Volume<std::uint8_t> v(g);
    auto box = [&](int i0, int i1, int j0, int j1, int k0, int k1, std::uint8_t l) {
        fill_box(v, {i0, j0, k0}, {i1, j1, k1}, l);
    };
    box(0, 9, 0, 11, 0, 11, 1);    // femur (1), its largest part
    box(12, 16, 0, 11, 0, 11, 2);  // tibia (2)
    box(25, 29, 0, 11, 0, 11, 3);  // patella (3)
    box(17, 18, 0, 3, 0, 3, 1);    // a femur fragment touching the tibia only: tibia
    box(17, 24, 8, 9, 8, 9, 1);    // one touching tibia and patella: ambiguous, background
    box(17, 17, 0, 1, 10, 11, 3);  // a patella fragment touching the tibia: tibia ...
    box(18, 19, 0, 1, 10, 11, 1);  // ... and a femur fragment touching only it: tibia (second pass)
    box(32, 33, 0, 1, 0, 1, 4);    // label 4, in no group
    box(34, 34, 0, 1, 0, 1, 1);    // a femur fragment touching label 4 only: background
    box(36, 37, 5, 5, 5, 5, 1);    // a lone femur fragment: background
    const std::vector<int> only = {1, 2, 3};
    const auto plain = keep_largest_component_per_label(v, 26, only);
    CHECK(keep_largest_component_per_label(v, 26, only, {}).values() == plain.values());
    const auto joined = keep_largest_component_per_label(v, 26, only, {{1, 2, 3}});
    CHECK(joined(17, 0, 0) == 2);
    CHECK(joined(18, 3, 3) == 2);
    CHECK(joined(20, 8, 8) == 0);
    CHECK(joined(17, 8, 8) == 0);
    CHECK(joined(17, 0, 10) == 2);
    CHECK(joined(19, 1, 11) == 2);
    CHECK(joined(32, 0, 0) == 4);
    CHECK(joined(34, 0, 0) == 0);
    CHECK(joined(36, 5, 5) == 0);
    std::int64_t changed = 0;  // nothing else differs from the plain filter
    for (std::int64_t i = 0; i < v.size(); ++i) changed += joined.data()[i] != plain.data()[i];
    CHECK(changed == 32 + 4 + 8);
    // Two groups: a fragment joins only within its own ({1, 3} cannot join 2).
    const auto apart = keep_largest_component_per_label(v, 26, only, {{1, 3}});
    CHECK(apart(17, 0, 0) == 0);
    CHECK(apart(17, 0, 10) == 0);
    CHECK_THROWS_AS(keep_largest_component_per_label(v, 26, only, {{1, 2}, {2, 3}}), InvalidArgument);
    CHECK_THROWS_AS(keep_largest_component_per_label(v, 26, only, {{0, 1}}), InvalidArgument);
    // A fragment no smaller than the kept part of its own label does not move.
    v.values().assign(v.values().size(), 0);
    box(0, 9, 0, 11, 0, 11, 1);    // femur, 1440 voxels
    box(12, 16, 0, 11, 0, 11, 2);  // tibia, 720
    box(17, 20, 0, 11, 0, 11, 1);  // a femur piece of 576 touching only the tibia: joins
    CHECK(keep_largest_component_per_label(v, 26, only, {{1, 2, 3}})(18, 5, 5) == 2);
    box(17, 29, 0, 11, 0, 11, 1);  // 1872, more than the femur kept by its anchor (cartilage, 4):
    box(10, 10, 0, 11, 0, 11, 4);  // a large mislabelled region, it does not move
    const auto capped = keep_largest_component_per_label(v, 26, only, {{1, 2, 3}}, {{1, 4}});
    CHECK(capped(5, 5, 5) == 1);
    CHECK(capped(18, 5, 5) == 0);
}

TEST_CASE("components: an anchored label keeps the component touching its anchors most", "[imaging][components]") {
    Geometry g;
    g.shape = {30, 10, 10};
    Volume<std::uint8_t> v(g);
    auto box = [&](int i0, int i1, int j0, int j1, int k0, int k1, std::uint8_t l) {
        fill_box(v, {i0, j0, k0}, {i1, j1, k1}, l);
    };
    box(0, 11, 0, 9, 0, 9, 1);    // a large "bone" piece far from any cartilage (1200 voxels)
    box(16, 21, 0, 9, 0, 9, 1);   // the true bone (600 voxels) ...
    box(22, 22, 0, 9, 0, 9, 4);   // ... with its cartilage (4) on one face
    box(28, 28, 0, 1, 0, 1, 4);   // a speck of cartilage, filtered away first (largest of 4)
    box(29, 29, 0, 1, 0, 1, 1);   // a bone speck touching only that speck
    const auto largest = keep_largest_component_per_label(v, 26, {1, 4});
    CHECK(largest(5, 5, 5) == 1);
    CHECK(largest(18, 5, 5) == 0);
    const auto anchored = keep_largest_component_per_label(v, 26, {1, 4}, {}, {{1, 4}});
    CHECK(anchored(5, 5, 5) == 0);
    CHECK(anchored(18, 5, 5) == 1);
    CHECK(anchored(29, 0, 0) == 0);  // its cartilage speck was removed before the choice
    CHECK(anchored(22, 5, 5) == 4);
    // No component touches an anchor: the largest stays.
    box(22, 22, 0, 9, 0, 9, 0);
    box(28, 29, 0, 1, 0, 1, 0);
    CHECK(keep_largest_component_per_label(v, 26, {1}, {}, {{1, 4}})(5, 5, 5) == 1);
    CHECK_THROWS_AS(keep_largest_component_per_label(v, 26, {1}, {}, {{1}}), InvalidArgument);
    CHECK_THROWS_AS(keep_largest_component_per_label(v, 26, {1}, {}, {{1, 4}, {4, 1}}), InvalidArgument);
}
