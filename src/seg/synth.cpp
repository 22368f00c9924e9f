// SynthSeg-style synthesis (Billot et al. 2023) of images from label maps.

#include <algorithm>
#include <cmath>

#include "augment.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/seg/synth.hpp"

namespace sportsmed::seg {

namespace F = torch::nn::functional;

namespace {

// One axis acquired with thick slices (1 × 1 × spatial image): a Gaussian slice profile of
// FWHM = thickness, samples every `thickness` voxels from a random phase, and linear
// interpolation back onto every voxel (clamped at the ends).
torch::Tensor thick_slices(const torch::Tensor& image, const SynthOptions& o, std::mt19937_64& rng) {
    const std::int64_t dims = image.dim() - 2;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto axis = std::uniform_int_distribution<std::int64_t>(0, dims - 1)(rng);
    const double t = o.min_slice_thickness_vox + (o.max_slice_thickness_vox - o.min_slice_thickness_vox) * unit(rng);
    const double phase = t * unit(rng);
    std::vector<double> sigma(dims, 0.0);
    sigma[axis] = t / 2.3548;
    const torch::Tensor blurred = detail::gaussian_blur(image, sigma);
    const std::int64_t n = image.size(2 + axis);
    std::vector<std::int64_t> centres;  // voxel index nearest to each slice centre
    for (double c = phase; c < n; c += t) centres.push_back(std::min<std::int64_t>(n - 1, std::llround(c)));
    if (centres.size() < 2) return blurred;
    // Weights of the two neighbouring slices of every voxel.
    std::vector<std::int64_t> lo(n), hi(n);
    std::vector<float> w(n);
    for (std::int64_t i = 0; i < n; ++i) {
        const double pos = (i - phase) / t;  // in slice units
        const auto k = static_cast<std::int64_t>(std::floor(pos));
        const std::int64_t last = static_cast<std::int64_t>(centres.size()) - 1;
        lo[i] = std::clamp<std::int64_t>(k, 0, last);
        hi[i] = std::clamp<std::int64_t>(k + 1, 0, last);
        w[i] = lo[i] == hi[i] ? 0.0f : static_cast<float>(pos - k);
    }
    const torch::Tensor slices = blurred.index_select(2 + axis, torch::tensor(centres, torch::kLong));
    std::vector<std::int64_t> view(dims + 2, 1);
    view[2 + axis] = n;
    const torch::Tensor weight = torch::tensor(w).reshape(view);
    return slices.index_select(2 + axis, torch::tensor(lo, torch::kLong)) * (1 - weight) +
           slices.index_select(2 + axis, torch::tensor(hi, torch::kLong)) * weight;
}

}  // namespace

Sample synthesize(const std::vector<std::uint8_t>& labels, const std::vector<std::int64_t>& shape,
                  const SynthOptions& o, std::uint64_t seed) {
    SPORTSMED_CHECK(shape.size() == 2 || shape.size() == 3, "synthesize: expected a 2-D or 3-D label map, got {} axes",
                    shape.size());
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    SPORTSMED_CHECK(static_cast<std::int64_t>(labels.size()) == n,
                    "synthesize: {} labels for a shape of {} voxels", labels.size(), n);
    SPORTSMED_CHECK(o.prior_means.size() == o.prior_stds.size(),
                    "synthesize: prior_means has {} values but prior_stds has {}", o.prior_means.size(),
                    o.prior_stds.size());
    SPORTSMED_CHECK(o.prior_probability >= 0.0 && o.prior_probability <= 1.0,
                    "synthesize: prior_probability must be in [0, 1], got {}", o.prior_probability);
    SPORTSMED_CHECK(o.background_classes >= 1 && o.background_classes <= 16,
                    "synthesize: background_classes must be 1..16, got {}", o.background_classes);
    SPORTSMED_CHECK(o.partial_volume >= 1 && o.partial_volume <= 4,
                    "synthesize: partial_volume must be 1..4, got {}", o.partial_volume);
    SPORTSMED_CHECK(o.crop >= 0, "synthesize: crop must be >= 0 voxels, got {}", o.crop);
    SPORTSMED_CHECK(o.prior_tables >= 1 && o.prior_means.size() % o.prior_tables == 0,
                    "synthesize: {} prior means do not split into {} tables", o.prior_means.size(), o.prior_tables);
    SPORTSMED_CHECK(o.background_prior_means.size() == o.background_prior_stds.size() &&
                        o.background_prior_means.size() % o.prior_tables == 0,
                    "synthesize: background_prior_means ({} values) and background_prior_stds ({}) must have the same "
                    "length, a multiple of prior_tables ({})", o.background_prior_means.size(),
                    o.background_prior_stds.size(), o.prior_tables);
    SPORTSMED_CHECK(o.background_prior_means.empty() || !o.prior_means.empty(),
                    "synthesize: background_prior_means needs an intensity prior (prior_means)");
    SPORTSMED_CHECK(o.velocity_std_vox >= 0 && o.velocity_grid >= 2 && o.velocity_grid <= 16,
                    "synthesize: velocity_std_vox must be >= 0 and velocity_grid 2..16, got {} and {}",
                    o.velocity_std_vox, o.velocity_grid);
    SPORTSMED_CHECK(o.thick_slice_probability >= 0 && o.thick_slice_probability <= 1 &&
                        o.min_slice_thickness_vox >= 1 && o.max_slice_thickness_vox >= o.min_slice_thickness_vox,
                    "synthesize: thick slices need a probability in [0, 1] and 1 <= min <= max thickness, got {}, "
                    "{}, {}", o.thick_slice_probability, o.min_slice_thickness_vox, o.max_slice_thickness_vox);
    if (!o.output_classes.empty()) {
        std::uint8_t top = 0;
        for (std::uint8_t l : labels) top = std::max(top, l);
        SPORTSMED_CHECK(top < o.output_classes.size(),
                        "synthesize: label {} has no output class (output_classes has {} entries)", int(top),
                        o.output_classes.size());
    }
    const int f = o.partial_volume;
    std::mt19937_64 rng(seed);
    const int dims = static_cast<int>(shape.size());
    torch::Tensor map8 = torch::from_blob(const_cast<std::uint8_t*>(labels.data()), shape, torch::kUInt8);
    std::vector<std::int64_t> cropped = shape;
    if (o.crop > 0) {  // whole output voxels, so that partial-volume blocks stay aligned
        for (int d = 0; d < dims; ++d) {
            const std::int64_t keep = std::int64_t{o.crop} * f;
            if (shape[d] <= keep) continue;
            const std::int64_t start =
                f * std::uniform_int_distribution<std::int64_t>(0, (shape[d] - keep) / f)(rng);
            map8 = map8.narrow(d, start, keep);
            cropped[d] = keep;
        }
    }
    std::vector<std::int64_t> out_shape = cropped;
    for (auto& s : out_shape) {
        SPORTSMED_CHECK(s >= f, "synthesize: a label map of {} voxels along an axis is smaller than the partial-volume "
                        "factor {}", s, f);
        s /= f;
    }
    std::int64_t out_n = 1;
    for (auto s : out_shape) out_n *= s;
    std::uniform_real_distribution<double> unit(0.0, 1.0);

    std::vector<std::int64_t> full = {1, 1};
    full.insert(full.end(), cropped.begin(), cropped.end());
    torch::Tensor lab = map8.reshape(full).to(torch::kFloat32);
    torch::NoGradGuard no_grad;
    if (o.deform) {
        detail::SpatialParams sp;
        sp.max_rotation_deg = o.max_rotation_deg;
        sp.min_scale = o.min_scale;
        sp.max_scale = o.max_scale;
        sp.elastic_std_vox = o.elastic_std_vox;
        sp.elastic_grid = o.elastic_grid;
        sp.velocity_std_vox = o.velocity_std_vox;
        sp.velocity_grid = o.velocity_grid;
        // The transform is drawn on the output grid (displacements in output voxels) and,
        // with partial volume, interpolated to the fine grid: it is smooth, and this is
        // f^dims times cheaper than drawing it on the fine grid.
        torch::Tensor grid = detail::random_grid(out_shape, sp, rng);
        if (f > 1) grid = detail::resample_grid(grid, cropped);
        lab = F::grid_sample(lab, grid, F::GridSampleFuncOptions().mode(torch::kNearest)
                                            .padding_mode(torch::kZeros).align_corners(true));
    }
    const torch::Tensor ids = lab.round().to(torch::kLong);
    const std::int64_t max_label = ids.max().item<std::int64_t>();
    // Intensity classes: the labels, with label 0 split into background_classes regions
    // (region r > 0 draws as class max_label + r). Nothing is drawn for k = 1, so that the
    // random stream is the same as without the option.
    torch::Tensor classes = ids;
    std::int64_t max_class = max_label;
    if (o.background_classes > 1) {
        torch::Tensor best, region = torch::zeros_like(ids);
        for (int r = 0; r < o.background_classes; ++r) {  // exp of a smooth field: the argmax is the same
            const torch::Tensor field = detail::bias_field(cropped, 1.0, rng);
            if (r == 0) {
                best = field;
                continue;
            }
            const torch::Tensor more = field > best;
            best = torch::where(more, field, best);
            region.masked_fill_(more, r);
        }
        classes = torch::where((ids == 0) & (region > 0), region + max_label, ids);
        max_class = max_label + o.background_classes - 1;
    }

    // Gaussian mixture: one random mean and std per label, from the uniform ranges or, for
    // a share of the samples, around the intensity prior. (The prior's coin is drawn only
    // when a prior is given, so that samples without one keep their random stream.)
    const bool from_prior = !o.prior_means.empty() && unit(rng) < o.prior_probability;
    const std::size_t table_size = o.prior_means.size() / o.prior_tables;
    const std::size_t background_size = o.background_prior_means.size() / o.prior_tables;
    std::size_t table = 0;  // drawn only with several tables: one table keeps the random stream
    if (from_prior && o.prior_tables > 1)
        table = std::uniform_int_distribution<std::size_t>(0, o.prior_tables - 1)(rng);
    std::normal_distribution<double> gauss(0.0, 1.0);
    torch::Tensor means = torch::empty({max_class + 1});
    torch::Tensor stds = torch::empty({max_class + 1});
    for (std::int64_t k = 0; k <= max_class; ++k) {
        if (from_prior && k <= max_label && k < static_cast<std::int64_t>(table_size)) {
            means[k] = o.prior_means[table * table_size + k] + o.prior_mean_jitter * gauss(rng);
            stds[k] = o.prior_stds[table * table_size + k] * std::exp(0.25 * gauss(rng));
        } else if (from_prior && k > max_label && background_size > 0) {  // a background tissue of the table
            const std::size_t c =
                table * background_size + std::uniform_int_distribution<std::size_t>(0, background_size - 1)(rng);
            means[k] = o.background_prior_means[c] + o.prior_mean_jitter * gauss(rng);
            stds[k] = o.background_prior_stds[c] * std::exp(0.25 * gauss(rng));
        } else {
            means[k] = o.min_mean + (o.max_mean - o.min_mean) * unit(rng);
            stds[k] = o.min_std + (o.max_std - o.min_std) * unit(rng);
        }
    }
    const double texture = std::pow(double(f), 0.5 * dims);  // keeps the std after averaging f^dims voxels
    torch::Tensor image = means.index({classes}) + (texture * stds).index({classes}) * detail::randn(full, rng);
    torch::Tensor out_ids = ids;
    if (f > 1) {  // partial volume: block means of the intensities; labels at block centres or block modes
        auto pool = [&](const torch::Tensor& t) {
            return dims == 3 ? F::avg_pool3d(t, F::AvgPool3dFuncOptions(f).stride(f))
                             : F::avg_pool2d(t, F::AvgPool2dFuncOptions(f).stride(f));
        };
        image = pool(image);
        if (f % 2 == 1) {
            using torch::indexing::Slice;
            std::vector<at::indexing::TensorIndex> centre = {Slice(), Slice()};
            for (int d = 0; d < dims; ++d) centre.emplace_back(Slice(f / 2, out_shape[d] * f, f));
            out_ids = ids.index(centre);
        } else {
            torch::Tensor best = torch::full_like(image, -1.0);
            out_ids = torch::zeros(image.sizes(), torch::kLong);
            for (std::int64_t k = 0; k <= max_label; ++k) {
                const torch::Tensor share = pool((ids == k).to(torch::kFloat32));
                const torch::Tensor more = share > best;  // strictly: ties keep the lower label
                best = torch::where(more, share, best);
                out_ids.masked_fill_(more, k);
            }
        }
    }

    // Lower resolution along random axes (slice thickness), then a bias field.
    std::vector<double> sigma(dims);
    for (double& s : sigma) s = o.max_blur_sigma_vox * unit(rng);
    image = detail::gaussian_blur(image, sigma);
    if (o.thick_slice_probability > 0 && unit(rng) < o.thick_slice_probability) image = thick_slices(image, o, rng);
    image = image * detail::bias_field(out_shape, o.bias_std, rng);

    // Rescale to [0, 1], random gamma, Rician noise, rescale again.
    auto rescale = [](const torch::Tensor& t) {
        const torch::Tensor lo = t.min(), hi = t.max();
        return (t - lo) / torch::clamp_min(hi - lo, 1e-6);
    };
    image = rescale(image);
    std::normal_distribution<double> normal(0.0, 1.0);
    image = image.pow(std::exp(o.gamma_std * normal(rng)));
    const double noise = o.max_noise * unit(rng);
    if (noise > 0) {
        const std::vector<std::int64_t> out_full(image.sizes().begin(), image.sizes().end());
        const torch::Tensor re = image + noise * detail::randn(out_full, rng);
        const torch::Tensor im = noise * detail::randn(out_full, rng);
        image = torch::sqrt(re * re + im * im);
    }
    image = rescale(image).contiguous();

    Sample out;
    out.shape = out_shape;
    out.image.assign(image.data_ptr<float>(), image.data_ptr<float>() + out_n);
    if (!o.output_classes.empty()) {
        const torch::Tensor lut = torch::tensor(std::vector<std::int64_t>(o.output_classes.begin(),
                                                                          o.output_classes.end()), torch::kLong);
        out_ids = lut.index({out_ids});
    }
    const torch::Tensor lab8 = out_ids.to(torch::kUInt8).contiguous();
    out.labels.assign(lab8.data_ptr<std::uint8_t>(), lab8.data_ptr<std::uint8_t>() + out_n);
    return out;
}

}  // namespace sportsmed::seg
