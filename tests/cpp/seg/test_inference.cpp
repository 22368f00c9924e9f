#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "support/torch_catch.hpp"  // before anything else that includes torch
#include "seg/augment.hpp"
#include "seg/detail.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/imaging/components.hpp"
#include "sportsmed/seg.hpp"

using namespace sportsmed;
using namespace sportsmed::seg;

TEST_CASE("seg: window starts follow MONAI's dense_patch_slices", "[seg][inference]") {
    // interval = int(patch * step) = 2; n = ceil((size - patch) / 2) + 1; last clamped.
    CHECK(window_starts(10, 4, 0.5) == std::vector<std::int64_t>{0, 2, 4, 6});
    CHECK(window_starts(11, 4, 0.5) == std::vector<std::int64_t>{0, 2, 4, 6, 7});
    CHECK(window_starts(4, 4, 0.5) == std::vector<std::int64_t>{0});
    CHECK(window_starts(3, 4, 0.5) == std::vector<std::int64_t>{0});
    CHECK(window_starts(100, 32, 0.75) == std::vector<std::int64_t>{0, 24, 48, 68});
    CHECK_THROWS_AS(window_starts(10, 4, 0.0), InvalidArgument);
}

TEST_CASE("seg: window batches never leave a lone window at the end", "[seg][inference]") {
    using Batches = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(seg::detail::plan_batches(7, 2) == Batches{{0, 2}, {2, 4}, {4, 7}});  // 7 = 2 + 2 + 3, not 2 + 2 + 2 + 1
    CHECK(seg::detail::plan_batches(8, 3) == Batches{{0, 3}, {3, 6}, {6, 8}});
    CHECK(seg::detail::plan_batches(9, 4) == Batches{{0, 4}, {4, 9}});
    CHECK(seg::detail::plan_batches(3, 1) == Batches{{0, 1}, {1, 2}, {2, 3}});  // batch size 1 asked for
    CHECK(seg::detail::plan_batches(1, 4) == Batches{{0, 1}});
    CHECK_THROWS_AS(seg::detail::plan_batches(3, 0), InvalidArgument);
}

TEST_CASE("seg: Gaussian importance map equals the analytic formula", "[seg][inference]") {
    // MONAI's compute_importance_map: centred at (p - 1)/2, sigma = p/8, not normalised,
    // floored at max(min, 1e-3).
    const std::vector<std::int64_t> patch = {8, 6, 5};
    const std::vector<float> map = gaussian_importance_map(patch);
    REQUIRE(map.size() == 8u * 6u * 5u);
    auto g = [](int i, int p) {
        const double s = 0.125 * p, d = i - (p - 1) / 2.0;
        return std::exp(-d * d / (2 * s * s));
    };
    double min_value = 1;
    for (int z = 0; z < 8; ++z)
        for (int y = 0; y < 6; ++y)
            for (int x = 0; x < 5; ++x) min_value = std::min(min_value, g(z, 8) * g(y, 6) * g(x, 5));
    const double floor = std::max(min_value, 1e-3);
    for (int z = 0; z < 8; ++z)
        for (int y = 0; y < 6; ++y)
            for (int x = 0; x < 5; ++x) {
                const double expected = std::max(g(z, 8) * g(y, 6) * g(x, 5), floor);
                CHECK(map[(z * 6 + y) * 5 + x] == Approx(expected).epsilon(1e-6));
            }
    // symmetric: the two middle voxels of the even axis weigh the same
    CHECK(map[(3 * 6 + 2) * 5 + 2] == Approx(map[(4 * 6 + 3) * 5 + 2]).epsilon(1e-7));
    // a large patch reaches the floor in its corners
    const std::vector<float> big = gaussian_importance_map({64, 64, 64});
    CHECK(*std::min_element(big.begin(), big.end()) == Approx(1e-3).epsilon(1e-6));
}

namespace {
// Brute-force weighted average of per-window constants, independent of the engine.
torch::Tensor reference_stitch(const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& patch,
                               double step) {
    const auto sz = window_starts(size[0], patch[0], step);
    const auto sy = window_starts(size[1], patch[1], step);
    const auto sx = window_starts(size[2], patch[2], step);
    torch::Tensor num = torch::zeros(size, torch::kFloat64), den = torch::zeros(size, torch::kFloat64);
    auto g = [](std::int64_t i, std::int64_t p) {  // MONAI's weights: centred at (p - 1)/2
        const double s = 0.125 * p, d = static_cast<double>(i) - (static_cast<double>(p) - 1.0) / 2.0;
        return std::exp(-d * d / (2 * s * s));
    };
    const double floor = std::max(g(0, patch[0]) * g(0, patch[1]) * g(0, patch[2]), 1e-3);  // corners are smallest
    double k = 0;
    auto n = num.accessor<double, 3>();
    auto w = den.accessor<double, 3>();
    for (auto z0 : sz)
        for (auto y0 : sy)
            for (auto x0 : sx) {
                for (std::int64_t z = 0; z < patch[0]; ++z)
                    for (std::int64_t y = 0; y < patch[1]; ++y)
                        for (std::int64_t x = 0; x < patch[2]; ++x) {
                            const double wt = std::max(g(z, patch[0]) * g(y, patch[1]) * g(x, patch[2]), floor);
                            n[z0 + z][y0 + y][x0 + x] += wt * k;
                            w[z0 + z][y0 + y][x0 + x] += wt;
                        }
                k += 1;
            }
    return num / den;
}
}  // namespace

TEST_CASE("seg: window stitching is exact for a linear network and per-window constants", "[seg][inference]") {
    const std::vector<std::int64_t> size = {13, 11, 9}, patch = {6, 4, 4};
    torch::manual_seed(0);
    const torch::Tensor image = torch::randn({1, 13, 11, 9});
    for (bool low_memory : {true, false}) {
        for (int batch : {1, 3, 4}) {  // 3 and 4 windows per batch cross slab boundaries
            // A pointwise linear "network": every window agrees, so the average is exact.
            torch::Tensor out = torch::zeros({2, 13, 11, 9});
            std::int64_t next_row = 0;
            seg::detail::sliding_window(
                [](const torch::Tensor& x) { return torch::cat({2 * x + 1, -x}, 1); }, image, patch, 0.5, batch,
                false, low_memory, torch::kCPU,
                [&](std::int64_t b, std::int64_t e, const torch::Tensor& logits) {
                    CHECK(b == next_row);  // slabs arrive in order, without gaps
                    next_row = e;
                    out.narrow(1, b, e - b).copy_(logits);
                },
                nullptr);
            CHECK(next_row == 13);
            CHECK(torch::allclose(out[0], 2 * image[0] + 1, 1e-5, 1e-5));
            CHECK(torch::allclose(out[1], -image[0], 1e-5, 1e-5));

            // Each window returns its own index: the result is the Gaussian-weighted mean.
            float counter = 0;
            torch::Tensor stitched = torch::zeros({1, 13, 11, 9});
            seg::detail::sliding_window(
                [&](const torch::Tensor& x) {
                    torch::Tensor y = torch::empty({x.size(0), 1, 6, 4, 4});
                    for (std::int64_t i = 0; i < x.size(0); ++i) y[i].fill_(counter++);
                    return y;
                },
                image, patch, 0.5, batch, false, low_memory, torch::kCPU,
                [&](std::int64_t b, std::int64_t e, const torch::Tensor& logits) {
                    stitched.narrow(1, b, e - b).copy_(logits);
                },
                nullptr);
            const torch::Tensor expected = reference_stitch(size, patch, 0.5).to(torch::kFloat32);
            CHECK(torch::allclose(stitched[0], expected, 1e-5, 1e-4));
        }
    }
}

namespace {
ModelSpec tiny_spec(int levels = 2, int dims = 3) {
    ModelSpec s;
    s.unet.spatial_dims = dims;
    s.unet.levels = levels;
    s.unet.base_features = 4;
    s.unet.num_classes = 3;
    s.labels = {"background", "a", "b"};
    s.patch_size = dims == 3 ? std::vector<std::int64_t>{8, 8, 8} : std::vector<std::int64_t>{16, 16};
    s.spacing_mm = dims == 3 ? std::vector<double>{1, 1, 1} : std::vector<double>{1, 1};
    return s;
}
}  // namespace

TEST_CASE("seg: U-Net shapes, 2-D variant, deep supervision and input checks", "[seg][unet]") {
    ModelSpec s = tiny_spec(3);
    s.unet.deep_supervision = true;
    seg::detail::UNet net(s.unet);
    const auto outs = net->forward_all(torch::randn({2, 1, 8, 16, 8}));
    REQUIRE(outs.size() == 2);
    CHECK(outs[0].sizes().vec() == std::vector<std::int64_t>{2, 3, 8, 16, 8});
    CHECK(outs[1].sizes().vec() == std::vector<std::int64_t>{2, 3, 4, 8, 4});
    CHECK_THROWS_AS(net->forward(torch::randn({1, 1, 6, 8, 8})), InvalidArgument);  // 6 not divisible by 4
    CHECK_THROWS_AS(net->forward(torch::randn({1, 2, 8, 8, 8})), InvalidArgument);  // channels

    seg::detail::UNet net2d(tiny_spec(3, 2).unet);
    CHECK(net2d->forward(torch::randn({1, 1, 16, 12})).sizes().vec() == std::vector<std::int64_t>{1, 3, 16, 12});
}

TEST_CASE("seg: model save/load round trip and sidecar errors", "[seg][model]") {
    namespace stdfs = std::filesystem;
    const stdfs::path dir = stdfs::temp_directory_path() / "sportsmed_seg_model_test";
    stdfs::remove_all(dir);
    Model m = Model::create(tiny_spec(), 3);
    const std::vector<float> image(10 * 9 * 8, 0.5f);
    std::vector<float> ramp(image.size());
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = std::sin(0.1f * i);
    SegmentOptions so;
    so.probabilities = true;
    const Segmentation before = segment(m, ramp.data(), {10, 9, 8}, so);
    m.save((dir / "tiny.pt").string());
    CHECK(stdfs::exists(dir / "tiny.json"));
    Model loaded = Model::load((dir / "tiny.pt").string());
    CHECK(loaded.spec().labels == m.spec().labels);
    CHECK(loaded.num_parameters() == m.num_parameters());
    const Segmentation after = segment(loaded, ramp.data(), {10, 9, 8}, so);
    CHECK(after.labels == before.labels);
    CHECK(after.probabilities == before.probabilities);

    CHECK_THROWS_AS(Model::load((dir / "missing.pt").string()), NotFound);
    stdfs::copy_file(dir / "tiny.pt", dir / "orphan.pt");
    CHECK_THROWS_AS(Model::load((dir / "orphan.pt").string()), NotFound);
    std::ofstream(dir / "orphan.json") << "{\"format\": \"sportsmed-seg\", \"version\": 1, ";
    CHECK_THROWS_AS(Model::load((dir / "orphan.pt").string()), FormatError);
    ModelSpec wrong = tiny_spec();
    wrong.labels.push_back("c");  // 4 labels, 3 classes
    std::string text = to_json(wrong);
    std::ofstream(dir / "orphan.json", std::ios::trunc) << text;
    CHECK_THROWS_WITH(Model::load((dir / "orphan.pt").string()), Catch::Contains("3 classes but 4 labels"));

    // single_component_labels: optional, round-trips, must name a foreground class.
    ModelSpec single = tiny_spec();
    single.single_component_labels = {2};
    CHECK(model_spec_from_json(to_json(single)).single_component_labels == std::vector<int>{2});
    CHECK(model_spec_from_json(to_json(tiny_spec())).single_component_labels.empty());
    single.single_component_labels = {0};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(single), "s.json"),
                      Catch::Contains("single_component_labels has 0, outside 1..2"));

    // fragment_join_groups: optional, round-trips, single_component_labels in one group only.
    ModelSpec joined = tiny_spec();
    joined.single_component_labels = {1, 2};
    CHECK(to_json(joined).find("fragment_join_groups") == std::string::npos);
    joined.fragment_join_groups = {{1, 2}};
    CHECK(model_spec_from_json(to_json(joined)).fragment_join_groups == std::vector<std::vector<int>>{{1, 2}});
    joined.single_component_labels = {1};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(joined), "s.json"),
                      Catch::Contains("fragment_join_groups has 2, not a single_component_label"));
    joined.single_component_labels = {1, 2};
    joined.fragment_join_groups = {{1}, {1, 2}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(joined), "s.json"),
                      Catch::Contains("fragment_join_groups has 1"));

    // component_anchors: optional, round-trips, a single_component_label then anchor classes.
    ModelSpec anchored = tiny_spec();
    anchored.single_component_labels = {1};
    anchored.component_anchors = {{1, 2}};
    CHECK(model_spec_from_json(to_json(anchored)).component_anchors == std::vector<std::vector<int>>{{1, 2}});
    anchored.component_anchors = {{2, 1}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(anchored), "s.json"),
                      Catch::Contains("component_anchors row [2, 1] is not a single_component_label"));
    anchored.component_anchors = {{1}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(anchored), "s.json"), Catch::Contains("row [1] is not"));

    // context_groups: optional, round-trips, groups of two or more foreground labels, disjoint.
    ModelSpec context = tiny_spec();
    CHECK(to_json(context).find("context_groups") == std::string::npos);
    context.context_groups = {{1, 2}};
    CHECK(model_spec_from_json(to_json(context)).context_groups == std::vector<std::vector<int>>{{1, 2}});
    context.context_groups = {{1}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(context), "c.json"),
                      Catch::Contains("needs two or more labels"));
    context.context_groups = {{0, 1}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(context), "c.json"), Catch::Contains("context_groups has 0"));
    context.context_groups = {{1, 2}, {2, 1}};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(context), "c.json"), Catch::Contains("context_groups has 2"));

    // attached_labels: optional, round-trips, a foreground label (one row each) and other
    // foreground supports.
    ModelSpec attached = tiny_spec();
    CHECK(to_json(attached).find("attached_labels") == std::string::npos);
    attached.attached_labels = {{2, 1}, {1, 2}};
    CHECK(model_spec_from_json(to_json(attached)).attached_labels == std::vector<std::vector<int>>{{2, 1}, {1, 2}});
    for (const auto& bad : std::vector<std::vector<std::vector<int>>>{{{2}}, {{2, 2}}, {{0, 1}}, {{2, 9}},
                                                                       {{2, 1}, {2, 1}}})
    {
        attached.attached_labels = bad;
        CHECK_THROWS_WITH(model_spec_from_json(to_json(attached), "a.json"),
                          Catch::Contains("a.json") && Catch::Contains("attached_labels row"));
    }

    // mirror_axes: optional (absent = every axis), round-trips, distinct spatial axes only.
    ModelSpec mirrored = tiny_spec();
    CHECK(to_json(mirrored).find("mirror_axes") == std::string::npos);
    mirrored.mirror_axes = {0, 2};
    CHECK(model_spec_from_json(to_json(mirrored)).mirror_axes == std::vector<int>{0, 2});
    mirrored.mirror_axes = {3};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(mirrored), "m.json"),
                      Catch::Contains("mirror_axes has 3, not a distinct axis of 0..2"));
    mirrored.mirror_axes = {1, 1};
    CHECK_THROWS_WITH(model_spec_from_json(to_json(mirrored), "m.json"), Catch::Contains("mirror_axes has 1"));
    stdfs::remove_all(dir);
}

TEST_CASE("seg: segment pads small volumes and rejects bad input", "[seg][inference]") {
    Model m = Model::create(tiny_spec(), 1);
    std::vector<float> small(5 * 7 * 3, 1.0f);
    small[3] = 2.0f;
    SegmentOptions so;
    so.probabilities = true;
    const Segmentation s = segment(m, small.data(), {5, 7, 3}, so);
    CHECK(s.labels.size() == small.size());
    double total = 0;
    for (std::size_t i = 0; i < small.size(); ++i)
        total += s.probabilities[i] + s.probabilities[small.size() + i] + s.probabilities[2 * small.size() + i];
    CHECK(total == Approx(static_cast<double>(small.size())).epsilon(1e-5));  // softmax sums to one
    small[4] = std::nanf("");
    CHECK_THROWS_WITH(segment(m, small.data(), {5, 7, 3}), Catch::Contains("NaN"));
    CHECK_THROWS_AS(segment(m, small.data(), {5, 21}), InvalidArgument);
}

TEST_CASE("seg: low-memory and full-buffer accumulation agree, mirroring keeps shapes", "[seg][inference]") {
    Model m = Model::create(tiny_spec(), 2);
    std::vector<float> img(20 * 12 * 10);
    for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::cos(0.05f * i) + 0.01f * (i % 7);
    SegmentOptions a, b;
    a.probabilities = b.probabilities = true;
    b.low_memory = false;
    const Segmentation sa = segment(m, img.data(), {20, 12, 10}, a);
    const Segmentation sb = segment(m, img.data(), {20, 12, 10}, b);
    CHECK(sa.labels == sb.labels);
    double max_diff = 0;
    for (std::size_t i = 0; i < sa.probabilities.size(); ++i)
        max_diff = std::max<double>(max_diff, std::abs(sa.probabilities[i] - sb.probabilities[i]));
    CHECK(max_diff < 1e-6);
    a.mirror = true;
    CHECK(segment(m, img.data(), {20, 12, 10}, a).labels.size() == img.size());
}

TEST_CASE("seg: combine_context mixes the group's probability and splits it as the context does", "[seg][inference]") {
    // 4 classes x 2 voxels, group {1, 2}. Voxel 0: detail gives the group 0.6, the context
    // 0.8 split 3:1. Voxel 1: the context gives the group nothing: detail's own split.
    const std::vector<float> d0 = {0.4f, 0.1f, 0.5f, 0.2f, 0.1f, 0.3f, 0.0f, 0.4f};
    const std::vector<float> context = {0.2f, 0.9f, 0.6f, 0.0f, 0.2f, 0.0f, 0.0f, 0.1f};
    std::vector<float> detail = d0;
    combine_context(detail, context, 4, {{1, 2}}, 0.0);  // weight 0: the group's mass is detail's
    CHECK(detail[2] == Approx(0.45f));  // 0.6 * 0.6 / 0.8
    CHECK(detail[4] == Approx(0.15f));  // 0.6 * 0.2 / 0.8
    CHECK(detail[0] == Approx(0.4f));   // the others unchanged
    CHECK(detail[6] == Approx(0.0f));
    CHECK(detail[3] == Approx(0.2f));
    CHECK(detail[5] == Approx(0.3f));
    detail = d0;
    combine_context(detail, context, 4, {{1, 2}}, 0.5);  // mass 0.5 * 0.6 + 0.5 * 0.8 = 0.7
    CHECK(detail[2] == Approx(0.525f));  // 0.7 * 0.6 / 0.8
    CHECK(detail[4] == Approx(0.175f));
    CHECK(detail[0] == Approx(0.3f));  // the rest, 0.3, in detail's proportions 0.4 : 0.0
    CHECK(detail[6] == Approx(0.0f));
    // voxel 1: mass 0.5 * 0.5 + 0.5 * 0.0 = 0.25 split 0.2 : 0.3; the rest 0.75 as 0.1 : 0.4
    CHECK(detail[3] == Approx(0.1f));
    CHECK(detail[5] == Approx(0.15f));
    CHECK(detail[1] == Approx(0.15f));
    CHECK(detail[7] == Approx(0.6f));
    detail = {0.0f, 0.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f};  // detail: all in the group
    combine_context(detail, context, 4, {{1, 2}}, 1.0);       // weight 1: the context alone
    for (std::size_t i = 0; i < 8; ++i) CHECK(detail[i] == Approx(context[i]).margin(1e-6));
    CHECK_THROWS_WITH(combine_context(detail, context, 4, {{1}}), Catch::Contains("two or more labels"));
    CHECK_THROWS_WITH(combine_context(detail, context, 4, {{1, 4}}), Catch::Contains("label 4 is not"));
    CHECK_THROWS_WITH(combine_context(detail, context, 4, {{1, 2}, {2, 3}}), Catch::Contains("label 2 is not"));
    CHECK_THROWS_WITH(combine_context(detail, context, 4, {{1, 2}}, 1.5), Catch::Contains("mass_weight"));
    CHECK_THROWS_AS(combine_context(detail, std::vector<float>(6), 4, {{1, 2}}), InvalidArgument);
}

TEST_CASE("seg: a cascade's labels are the argmax of the combined probabilities", "[seg][inference]") {
    Model fine = Model::create(tiny_spec(), 3);
    ModelSpec cs = tiny_spec();
    cs.spacing_mm = {2, 2, 2};
    cs.context_groups = {{1, 2}};
    Model coarse = Model::create(cs, 4);
    const std::vector<std::int64_t> shape = {20, 14, 12};
    std::vector<float> img(20 * 14 * 12);
    for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::sin(0.07f * i) + 0.02f * (i % 5);
    SegmentOptions plain;
    plain.probabilities = true;
    plain.input_spacing_mm = {1, 1, 1};
    Segmentation a = segment(fine, img.data(), shape, plain);
    const Segmentation b = segment(coarse, img.data(), shape, plain);
    combine_context(a.probabilities, b.probabilities, 3, {{1, 2}}, 0.5);
    SegmentOptions cascade = plain;
    cascade.context_model = &coarse;
    const Segmentation c = segment(fine, img.data(), shape, cascade);
    REQUIRE(c.probabilities.size() == a.probabilities.size());
    double diff = 0;
    for (std::size_t i = 0; i < a.probabilities.size(); ++i)
        diff = std::max<double>(diff, std::abs(a.probabilities[i] - c.probabilities[i]));
    CHECK(diff < 1e-6);
    const std::size_t n = img.size();
    std::size_t argmax_equal = 0, changed = 0;
    for (std::size_t v = 0; v < n; ++v) {
        int best = 0;
        for (int k = 1; k < 3; ++k)
            if (a.probabilities[k * n + v] > a.probabilities[best * n + v]) best = k;
        argmax_equal += c.labels[v] == best;
        changed += c.labels[v] != a.labels[v];  // a.labels: the fine model alone
    }
    CHECK(argmax_equal == n);
    CHECK(changed > 0);  // the context decided some voxels
    cascade.probabilities = false;
    CHECK(segment(fine, img.data(), shape, cascade).probabilities.empty());
    cascade.context_mass_weight = -0.1;
    CHECK_THROWS_WITH(segment(fine, img.data(), shape, cascade), Catch::Contains("context_mass_weight must be in"));
    cascade.context_mass_weight = 0.5;
    cascade.input_spacing_mm.clear();
    CHECK_THROWS_WITH(segment(fine, img.data(), shape, cascade), Catch::Contains("give the image's spacing"));
    cascade.context_model = &fine;  // its sidecar names no groups
    CHECK_THROWS_WITH(segment(fine, img.data(), shape, cascade), Catch::Contains("names no context_groups"));
    cascade.context_model = nullptr;
    cascade.context_groups = {{1, 2}};
    CHECK_THROWS_WITH(segment(fine, img.data(), shape, cascade), Catch::Contains("without a context_model"));
}

TEST_CASE("seg: the model's own post-processing from its sidecar", "[seg][inference]") {
    ModelSpec spec = tiny_spec();
    spec.single_component_labels = {1};
    spec.component_anchors = {{1, 2}};
    spec.attached_labels = {{2, 1}};
    Model m = Model::create(spec, 5);
    const std::vector<std::int64_t> shape = {18, 16, 14};
    std::vector<float> img(18 * 16 * 14);
    for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::sin(0.13f * i) + std::cos(0.011f * i * (i % 7));
    SegmentOptions o;
    use_model_post_processing(o, m.spec());
    CHECK(o.keep_largest_component);
    CHECK(o.keep_largest_labels == std::vector<int>{1});
    CHECK(o.attached_labels == std::vector<std::vector<int>>{{2, 1}});
    const Segmentation got = segment(m, img.data(), shape, o);
    // the same by hand: the plain labels, keep-largest with the anchors, then the attached rule
    const Segmentation plain = segment(m, img.data(), shape, SegmentOptions{});
    imaging::Geometry g;
    g.shape = {shape[2], shape[1], shape[0]};
    imaging::Volume<std::uint8_t> v(g, plain.labels);
    v = imaging::keep_largest_component_per_label(v, 26, {1}, {}, {{1, 2}});
    v = imaging::remove_detached_components(v, {{2, 1}});
    CHECK(std::vector<std::uint8_t>(v.data(), v.data() + v.num_voxels()) == got.labels);
    CHECK(got.labels != plain.labels);  // the random network's output had something to remove
    // a model naming no one-piece labels: no largest-component filter, the attached rule still
    ModelSpec loose = spec;
    loose.single_component_labels.clear();
    loose.component_anchors.clear();
    SegmentOptions lo;
    use_model_post_processing(lo, loose);
    CHECK_FALSE(lo.keep_largest_component);
    CHECK(lo.attached_labels == std::vector<std::vector<int>>{{2, 1}});
}

namespace {

// Trains a tiny U-Net on one 16^3 volume with two blobs of different intensity on a noisy
// background, validating on the same volume.
TrainResult overfit_tiny(const std::string& precision, int epochs = 4) {
    Sample s;
    s.shape = {16, 16, 16};
    s.image.resize(4096);
    s.labels.resize(4096);
    std::mt19937 rng(5);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (int z = 0; z < 16; ++z)
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x) {
                const int i = (z * 16 + y) * 16 + x;
                const double r1 = std::hypot(z - 5.0, y - 5.0, x - 6.0);
                const bool cube = z >= 9 && z < 14 && y >= 8 && y < 14 && x >= 7 && x < 13;
                s.labels[i] = r1 < 3.5 ? 1 : cube ? 2 : 0;
                s.image[i] = (s.labels[i] == 1 ? 1.0f : s.labels[i] == 2 ? 0.5f : 0.0f) + noise(rng);
            }
    ModelSpec spec = tiny_spec();
    spec.unet.base_features = 8;
    spec.patch_size = {16, 16, 16};  // train and infer on the same patch (instance norm statistics)
    Model m = Model::create(spec, 0);
    TrainOptions o;
    o.epochs = epochs;
    o.iterations_per_epoch = 50;
    o.batch_size = 2;
    o.learning_rate = 3e-3;
    o.augment = false;
    o.seed = 1;
    o.precision = precision;
    return train(m, std::vector<Sample>{s}, std::vector<Sample>{s}, o);
}

}  // namespace

TEST_CASE("seg: a tiny U-Net overfits a tiny volume (Dice >= 0.95)", "[seg][train]") {
    const TrainResult r = overfit_tiny("float32");
    REQUIRE(r.history.size() == 4);
    CHECK(r.history.back().train_loss < r.history.front().train_loss);
    const auto& dice = r.history.back().val_dice;
    INFO("Dice " << dice[1] << " " << dice[2]);
    CHECK(dice[1] >= 0.95);
    CHECK(dice[2] >= 0.95);
}

TEST_CASE("seg: mixed-precision (bfloat16 autocast) training learns and differs from float32", "[seg][train]") {
    const TrainResult f32 = overfit_tiny("float32", 1);
    const TrainResult bf16 = overfit_tiny("bfloat16", 4);
    // Same seed and data: a bitwise-equal loss would mean autocast did nothing.
    CHECK(bf16.history.front().train_loss != f32.history.front().train_loss);
    CHECK(std::abs(bf16.history.front().train_loss - f32.history.front().train_loss) < 0.1);
    CHECK(bf16.history.back().train_loss < bf16.history.front().train_loss);
    const auto& dice = bf16.history.back().val_dice;
    INFO("Dice " << dice[1] << " " << dice[2]);
    CHECK(dice[1] >= 0.9);
    CHECK(dice[2] >= 0.9);
    CHECK_THROWS_WITH(overfit_tiny("float16", 1), Catch::Contains("needs a CUDA device"));
    CHECK_THROWS_WITH(overfit_tiny("fp8", 1), Catch::Contains("precision must be"));
}

namespace {
// A 24³ label map: two touching boxes (labels 1 and 2) in a background of 0.
std::vector<std::uint8_t> two_boxes_24() {
    std::vector<std::uint8_t> labels(24 * 24 * 24, 0);
    for (int i = 0; i < 24 * 24 * 24; ++i) {
        const int z = i / 576, y = (i / 24) % 24, x = i % 24;
        labels[i] = (z > 6 && z < 18 && y > 6 && y < 18) ? (x < 12 ? 1 : 2) : 0;
    }
    return labels;
}
}  // namespace

TEST_CASE("seg: synthesis keeps labels aligned and draws different contrasts", "[seg][synth]") {
    const std::vector<std::uint8_t> labels = two_boxes_24();
    SynthOptions o;
    const Sample a = synthesize(labels, {24, 24, 24}, o, 1);
    const Sample b = synthesize(labels, {24, 24, 24}, o, 2);
    const Sample a2 = synthesize(labels, {24, 24, 24}, o, 1);
    CHECK(a.image == a2.image);  // deterministic in the seed
    CHECK(a.labels == a2.labels);
    CHECK(a.image != b.image);
    // Within-label spread is small relative to the image range: the labels drive contrast.
    float lo = 1, hi = 0;
    for (float v : a.image) lo = std::min(lo, v), hi = std::max(hi, v);
    CHECK(lo == Approx(0.0f).margin(1e-6));
    CHECK(hi == Approx(1.0f).margin(1e-6));
    // Deformation is mild: most voxels keep their label.
    std::size_t same = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) same += a.labels[i] == labels[i];
    CHECK(same > labels.size() * 0.7);
    SynthOptions still = o;
    still.deform = false;
    CHECK(synthesize(labels, {24, 24, 24}, still, 3).labels == labels);
}

TEST_CASE("seg: synthesis with an intensity prior reproduces the prior's contrast", "[seg][synth]") {
    const std::vector<std::uint8_t> labels = two_boxes_24();
    // Everything but the mixture switched off: the image is the prior's means rescaled to [0, 1].
    SynthOptions o;
    o.deform = false;
    o.max_blur_sigma_vox = 0;
    o.bias_std = 0;
    o.gamma_std = 0;
    o.max_noise = 0;
    o.prior_means = {0.3, 0.9, 0.5};
    o.prior_stds = {1e-7, 1e-7, 1e-7};
    o.prior_mean_jitter = 0;
    o.prior_probability = 1;
    const Sample s = synthesize(labels, {24, 24, 24}, o, 5);
    const double expected[3] = {(0.3 - 0.3) / 0.6, (0.9 - 0.3) / 0.6, (0.5 - 0.3) / 0.6};
    for (std::size_t i = 0; i < labels.size(); i += 37) CHECK(s.image[i] == Approx(expected[labels[i]]).margin(1e-4));
    // Probability 0: the uniform draws, and the same stream as without a prior.
    SynthOptions uniform = o;
    uniform.prior_probability = 0;
    const Sample u = synthesize(labels, {24, 24, 24}, uniform, 5);
    CHECK(u.image != s.image);
    SynthOptions bad = o;
    bad.prior_stds.pop_back();
    CHECK_THROWS_WITH(synthesize(labels, {24, 24, 24}, bad, 1), Catch::Contains("prior_stds has 2"));
    bad = o;
    bad.prior_probability = 1.5;
    CHECK_THROWS_WITH(synthesize(labels, {24, 24, 24}, bad, 1), Catch::Contains("prior_probability must be in [0, 1]"));
}

TEST_CASE("seg: test-time mirroring averages over the model's mirror axes only", "[seg][inference]") {
    const std::vector<std::int64_t> patch = {4, 6, 8};
    torch::manual_seed(1);
    const torch::Tensor image = torch::randn({1, 4, 6, 8});
    const torch::Tensor ramp = torch::rand({1, 1, 4, 6, 8}) + 0.5;  // a position-dependent "network"
    for (const std::vector<int>& axes : {std::vector<int>{0}, std::vector<int>{1, 2}, std::vector<int>{}}) {
        int calls = 0;
        torch::Tensor out;
        seg::detail::sliding_window(
            [&](const torch::Tensor& x) {
                ++calls;
                return x * ramp;
            },
            image, patch, 0.5, 1, true, false, torch::kCPU,
            [&](std::int64_t, std::int64_t, const torch::Tensor& logits) { out = logits.clone(); }, nullptr, axes);
        // one window: net(F x) flipped back is x * F(ramp), so the average is x * mean over F of F(ramp)
        const std::vector<int> used = axes.empty() ? std::vector<int>{0, 1, 2} : axes;
        const int k = static_cast<int>(used.size());
        torch::Tensor mean_ramp = torch::zeros_like(ramp[0]);
        for (int mask = 0; mask < (1 << k); ++mask) {
            std::vector<std::int64_t> dims;
            for (int b = 0; b < k; ++b)
                if (mask & (1 << b)) dims.push_back(1 + used[static_cast<size_t>(b)]);
            mean_ramp += dims.empty() ? ramp[0] : ramp[0].flip(dims);
        }
        mean_ramp /= static_cast<double>(1 << k);
        CHECK(calls == (1 << k));
        CHECK(torch::allclose(out, image * mean_ramp, 1e-5, 1e-5));
    }
}

TEST_CASE("seg: training flips only the allowed axes", "[seg][train]") {
    const torch::Tensor base = torch::arange(27, torch::kFloat32).reshape({1, 1, 3, 3, 3});
    std::mt19937_64 rng(5);
    int flipped = 0;
    for (int i = 0; i < 64; ++i) {
        torch::Tensor x = base.clone(), y = base.clone();
        seg::detail::random_flips(x, y, rng, {1});
        const bool same = torch::equal(x, base), along1 = torch::equal(x, base.flip({3}));
        CHECK((same || along1));
        CHECK(torch::equal(x, y));
        flipped += along1;
    }
    CHECK(flipped > 16);
    CHECK(flipped < 48);
}
