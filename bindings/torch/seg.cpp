// Python bindings of sportsmed::seg (submodule sportsmed._torch.seg). Arrays cross as
// numpy arrays; LibTorch tensors never cross the boundary.

#include <cstring>

#include "../common.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/seg.hpp"

namespace sportsmed::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using LabelArray = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;

std::vector<std::int64_t> shape_of(const py::array& a) {
    return std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim());
}

template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& data, const std::vector<std::int64_t>& shape) {
    auto* owner = new std::vector<T>(std::move(data));
    py::capsule free_when_done(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), owner->data(), free_when_done);
}

seg::Sample to_sample(const py::array& image_in, const py::array& labels_in, const char* what, std::size_t i) {
    const FloatArray image = FloatArray::ensure(image_in);
    const LabelArray labels = LabelArray::ensure(labels_in);
    SPORTSMED_CHECK(image && labels, "{} {}: image must be numeric and labels integer arrays", what, i);
    SPORTSMED_CHECK(shape_of(image) == shape_of(labels), "{} {}: image shape ({}) differs from label shape ({})", what,
                    i, fmt::join(shape_of(image), ", "), fmt::join(shape_of(labels), ", "));
    seg::Sample s;
    s.shape = shape_of(image);
    s.image.assign(image.data(), image.data() + image.size());
    s.labels.assign(labels.data(), labels.data() + labels.size());
    return s;
}

std::vector<seg::Sample> to_samples(const std::vector<py::array>& images, const std::vector<py::array>& labels,
                                    const char* what) {
    SPORTSMED_CHECK(images.size() == labels.size(), "{}: {} images but {} label maps", what, images.size(),
                    labels.size());
    std::vector<seg::Sample> out;
    for (std::size_t i = 0; i < images.size(); ++i) out.push_back(to_sample(images[i], labels[i], what, i));
    return out;
}

seg::TrainOptions train_options(const py::dict& kw, const py::object& progress) {
    seg::TrainOptions o;
    for (auto item : kw) {
        const std::string key = py::str(item.first);
        const py::handle v = item.second;
        if (key == "epochs") o.epochs = v.cast<int>();
        else if (key == "iterations_per_epoch") o.iterations_per_epoch = v.cast<int>();
        else if (key == "batch_size") o.batch_size = v.cast<int>();
        else if (key == "patch_size") o.patch_size = v.cast<std::vector<std::int64_t>>();
        else if (key == "optimizer") o.optimizer = v.cast<std::string>();
        else if (key == "learning_rate") o.learning_rate = v.cast<double>();
        else if (key == "weight_decay") o.weight_decay = v.cast<double>();
        else if (key == "poly_power") o.poly_power = v.cast<double>();
        else if (key == "foreground_fraction") o.foreground_fraction = v.cast<double>();
        else if (key == "class_weights") o.class_weights = v.cast<std::vector<double>>();
        else if (key == "augment") o.augment = v.cast<bool>();
        else if (key == "flip_axes") o.flip_axes = v.cast<std::vector<int>>();
        else if (key == "loader_threads") o.loader_threads = v.cast<int>();
        else if (key == "samples_per_epoch") o.samples_per_epoch = v.cast<int>();
        else if (key == "validate_every") o.validate_every = v.cast<int>();
        else if (key == "seed") o.seed = v.cast<std::uint64_t>();
        else if (key == "device") o.device = v.cast<std::string>();
        else if (key == "precision") o.precision = v.cast<std::string>();
        else if (key == "checkpoint") o.checkpoint = v.cast<std::string>();
        else if (key == "resume") o.resume = v.cast<bool>();
        else SPORTSMED_THROW(InvalidArgument, "train: unknown option '{}'", key);
    }
    o.progress = progress_from_python(progress);
    return o;
}

seg::SynthOptions synth_options(const py::dict& kw) {
    seg::SynthOptions o;
    for (auto item : kw) {
        const std::string key = py::str(item.first);
        const py::handle v = item.second;
        if (key == "max_rotation_deg") o.max_rotation_deg = v.cast<double>();
        else if (key == "min_scale") o.min_scale = v.cast<double>();
        else if (key == "max_scale") o.max_scale = v.cast<double>();
        else if (key == "elastic_std_vox") o.elastic_std_vox = v.cast<double>();
        else if (key == "elastic_grid") o.elastic_grid = v.cast<int>();
        else if (key == "min_mean") o.min_mean = v.cast<double>();
        else if (key == "max_mean") o.max_mean = v.cast<double>();
        else if (key == "min_std") o.min_std = v.cast<double>();
        else if (key == "max_std") o.max_std = v.cast<double>();
        else if (key == "max_blur_sigma_vox") o.max_blur_sigma_vox = v.cast<double>();
        else if (key == "bias_std") o.bias_std = v.cast<double>();
        else if (key == "gamma_std") o.gamma_std = v.cast<double>();
        else if (key == "max_noise") o.max_noise = v.cast<double>();
        else if (key == "deform") o.deform = v.cast<bool>();
        else if (key == "prior_means") o.prior_means = v.cast<std::vector<double>>();
        else if (key == "prior_stds") o.prior_stds = v.cast<std::vector<double>>();
        else if (key == "prior_probability") o.prior_probability = v.cast<double>();
        else if (key == "prior_mean_jitter") o.prior_mean_jitter = v.cast<double>();
        else if (key == "partial_volume") o.partial_volume = v.cast<int>();
        else if (key == "background_classes") o.background_classes = v.cast<int>();
        else if (key == "crop") o.crop = v.cast<int>();
        else if (key == "background_prior_means") o.background_prior_means = v.cast<std::vector<double>>();
        else if (key == "background_prior_stds") o.background_prior_stds = v.cast<std::vector<double>>();
        else if (key == "output_classes") o.output_classes = v.cast<std::vector<std::uint8_t>>();
        else if (key == "prior_tables") o.prior_tables = v.cast<int>();
        else if (key == "velocity_std_vox") o.velocity_std_vox = v.cast<double>();
        else if (key == "velocity_grid") o.velocity_grid = v.cast<int>();
        else if (key == "thick_slice_probability") o.thick_slice_probability = v.cast<double>();
        else if (key == "min_slice_thickness_vox") o.min_slice_thickness_vox = v.cast<double>();
        else if (key == "max_slice_thickness_vox") o.max_slice_thickness_vox = v.cast<double>();
        else SPORTSMED_THROW(InvalidArgument, "synthesis: unknown option '{}'", key);
    }
    return o;
}

py::list history_to_python(const seg::TrainResult& r) {
    py::list out;
    for (const auto& e : r.history) {
        py::dict d;
        d["epoch"] = e.epoch;
        d["train_loss"] = e.train_loss;
        d["val_dice"] = e.val_dice;
        d["learning_rate"] = e.learning_rate;
        d["seconds"] = e.seconds;
        out.append(d);
    }
    return out;
}

}  // namespace

void bind_seg(py::module_& parent) {
    auto m = parent.def_submodule("seg", "Knee MRI segmentation with U-Nets in LibTorch (see sportsmed.seg).");

    py::class_<seg::Model>(m, "Model", "A segmentation network (built-in U-Net or TorchScript) with its spec.")
        .def_static(
            "create_from_json",
            [](const std::string& spec_json, std::uint64_t seed) {
                return seg::Model::create(seg::model_spec_from_json(spec_json, "<spec>"), seed);
            },
            py::arg("spec_json"), py::arg("seed") = 0, "New built-in U-Net from a sidecar JSON document.")
        .def_static("load", &seg::Model::load, py::arg("path"), py::arg("device") = "cpu",
                    py::call_guard<py::gil_scoped_release>(),
                    "Loads weights or a TorchScript archive and its JSON sidecar.")
        .def("save", &seg::Model::save, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
             "Saves weights to path and the spec to <stem>.json (built-in U-Nets).")
        .def_property_readonly("spec_json", [](const seg::Model& self) { return seg::to_json(self.spec()); },
                               "The sidecar JSON document.")
        .def_property_readonly("device", &seg::Model::device)
        .def("to", &seg::Model::to, py::arg("device"), "Moves the weights to 'cpu', 'cuda' or 'cuda:N'.")
        .def_property_readonly("num_parameters", &seg::Model::num_parameters);

    m.def(
        "segment",
        [](seg::Model& model, const FloatArray& image, double step_fraction, int batch_size, bool mirror,
           bool low_memory, bool probabilities, const std::vector<double>& input_spacing_mm,
           bool keep_largest_component, const std::vector<int>& keep_largest_labels,
           const py::object& progress, const std::vector<std::vector<int>>& join_fragment_groups,
           const std::vector<std::vector<int>>& component_anchors, seg::Model* context_model,
           const std::vector<std::vector<int>>& context_groups, double context_mass_weight,
           const std::vector<std::vector<int>>& attached_labels) -> py::tuple {
            const int channels = model.spec().in_channels;
            std::vector<std::int64_t> shape = shape_of(image);
            const auto dims = static_cast<std::int64_t>(model.spec().patch_size.size());
            if (static_cast<std::int64_t>(shape.size()) == dims + 1) {
                SPORTSMED_CHECK(shape[0] == channels, "segment: image has {} channels, the model expects {}",
                                shape[0], channels);
                shape.erase(shape.begin());
            } else {
                SPORTSMED_CHECK(channels == 1 && static_cast<std::int64_t>(shape.size()) == dims,
                                "segment: expected an image of shape {}spatial ({} axes), got {} axes",
                                channels > 1 ? "channels x " : "", dims, image.ndim());
            }
            seg::SegmentOptions o;
            o.step_fraction = step_fraction;
            o.batch_size = batch_size;
            o.mirror = mirror;
            o.low_memory = low_memory;
            o.probabilities = probabilities;
            o.input_spacing_mm = input_spacing_mm;
            o.keep_largest_component = keep_largest_component;
            o.keep_largest_labels = keep_largest_labels;
            o.join_fragment_groups = join_fragment_groups;
            o.component_anchors = component_anchors;
            o.attached_labels = attached_labels;
            o.context_model = context_model;
            o.context_groups = context_groups;
            o.context_mass_weight = context_mass_weight;
            o.progress = progress_from_python(progress);
            seg::Segmentation s;
            {
                py::gil_scoped_release release;
                s = seg::segment(model, image.data(), shape, o);
            }
            py::object probs = py::none();
            if (probabilities) {
                std::vector<std::int64_t> pshape = {s.num_classes};
                pshape.insert(pshape.end(), shape.begin(), shape.end());
                probs = to_numpy(std::move(s.probabilities), pshape);
            }
            return py::make_tuple(to_numpy(std::move(s.labels), shape), probs);
        },
        py::arg("model"), py::arg("image"), py::arg("step_fraction") = 0.5, py::arg("batch_size") = 0,
        py::arg("mirror") = false, py::arg("low_memory") = true, py::arg("probabilities") = false,
        py::arg("input_spacing_mm") = std::vector<double>{}, py::arg("keep_largest_component") = false,
        py::arg("keep_largest_labels") = std::vector<int>{}, py::arg("progress") = py::none(),
        py::arg("join_fragment_groups") = std::vector<std::vector<int>>{},
        py::arg("component_anchors") = std::vector<std::vector<int>>{}, py::arg("context_model") = nullptr,
        py::arg("context_groups") = std::vector<std::vector<int>>{}, py::arg("context_mass_weight") = 0.5,
        py::arg("attached_labels") = std::vector<std::vector<int>>{},
        "Sliding-window segmentation of an image on the model's grid; returns (labels, probabilities|None). "
        "batch_size 0: 1 window per call on the CPU, 2 elsewhere. context_model: a coarse first stage that "
        "decides the member of each context group.");

    m.def(
        "combine_context",
        [](const FloatArray& detail, const FloatArray& context, const std::vector<std::vector<int>>& groups,
           double mass_weight, double eps) {
            const std::vector<std::int64_t> shape = shape_of(detail);
            SPORTSMED_CHECK(shape == shape_of(context) && !shape.empty(),
                            "combine_context: shapes differ or are empty ({} and {} axes)", detail.ndim(),
                            context.ndim());
            std::vector<float> out(detail.data(), detail.data() + detail.size());
            const std::vector<float> ctx(context.data(), context.data() + context.size());
            {
                py::gil_scoped_release release;
                seg::combine_context(out, ctx, static_cast<int>(shape[0]), groups, mass_weight, eps);
            }
            return to_numpy(std::move(out), shape);
        },
        py::arg("detail"), py::arg("context"), py::arg("groups"), py::arg("mass_weight") = 0.5,
        py::arg("eps") = 1e-6,
        "The probabilities of a two-stage cascade (classes first): each group's total mixed from both, split as "
        "context splits it; the other classes keep detail's proportions.");

    m.def(
        "train",
        [](seg::Model& model, const std::vector<py::array>& images, const std::vector<py::array>& labels,
           const std::vector<py::array>& val_images, const std::vector<py::array>& val_labels,
           const py::object& progress, const py::kwargs& kw) {
            const auto training = to_samples(images, labels, "training");
            const auto validation = to_samples(val_images, val_labels, "validation");
            const seg::TrainOptions o = train_options(kw, progress);
            seg::TrainResult r;
            {
                py::gil_scoped_release release;
                r = seg::train(model, training, validation, o);
            }
            return history_to_python(r);
        },
        py::arg("model"), py::arg("images"), py::arg("labels"), py::arg("val_images"), py::arg("val_labels"),
        py::arg("progress") = py::none(), "Trains on fixed labelled images; returns the per-epoch history.");

    m.def(
        "train_synthetic",
        [](seg::Model& model, const std::vector<py::array>& label_maps, const std::vector<py::array>& val_images,
           const std::vector<py::array>& val_labels, const py::dict& synthesis, const py::object& progress,
           const py::kwargs& kw) {
            std::vector<seg::Sample> maps;
            for (std::size_t i = 0; i < label_maps.size(); ++i) {
                const LabelArray l = LabelArray::ensure(label_maps[i]);
                SPORTSMED_CHECK(l, "train_synthetic: label map {} is not an integer array", i);
                seg::Sample s;
                s.shape = shape_of(l);
                s.labels.assign(l.data(), l.data() + l.size());
                maps.push_back(std::move(s));
            }
            SPORTSMED_CHECK(!maps.empty(), "train_synthetic: no label maps");
            const auto validation = to_samples(val_images, val_labels, "validation");
            const seg::SynthOptions so = synth_options(synthesis);
            const seg::TrainOptions o = train_options(kw, progress);
            seg::TrainResult r;
            {
                py::gil_scoped_release release;
                const seg::SampleSource source = [&maps, so](std::uint64_t index, std::uint64_t seed) {
                    const seg::Sample& map = maps[index % maps.size()];
                    return seg::synthesize(map.labels, map.shape, so, seed);
                };
                r = seg::train(model, source, validation, o);
            }
            return history_to_python(r);
        },
        py::arg("model"), py::arg("label_maps"), py::arg("val_images"), py::arg("val_labels"),
        py::arg("synthesis") = py::dict(), py::arg("progress") = py::none(),
        "SynthSeg-style training: a fresh synthetic image from a label map for every sample.");

    m.def(
        "synthesize",
        [](const LabelArray& labels, std::uint64_t seed, const py::kwargs& kw) {
            const std::vector<std::int64_t> shape = shape_of(labels);
            const std::vector<std::uint8_t> data(labels.data(), labels.data() + labels.size());
            const seg::SynthOptions o = synth_options(kw);
            seg::Sample s;
            {
                py::gil_scoped_release release;
                s = seg::synthesize(data, shape, o, seed);
            }
            return py::make_tuple(to_numpy(std::move(s.image), s.shape), to_numpy(std::move(s.labels), s.shape));
        },
        py::arg("labels"), py::arg("seed"), "Synthetic image from a label map: returns (image, deformed labels).");

    m.def("window_starts", &seg::window_starts, py::arg("size"), py::arg("patch"), py::arg("step_fraction"),
          "Window start positions along one axis (MONAI's rule).");
    m.def(
        "gaussian_importance_map",
        [](const std::vector<std::int64_t>& patch, double sigma_scale) {
            return to_numpy(seg::gaussian_importance_map(patch, sigma_scale), patch);
        },
        py::arg("patch"), py::arg("sigma_scale") = 0.125, "Gaussian window weights (maximum 1).");
    m.def(
        "dice_per_class",
        [](const LabelArray& a, const LabelArray& b, int num_classes) {
            SPORTSMED_CHECK(shape_of(a) == shape_of(b), "dice_per_class: shapes differ");
            return seg::dice_per_class(std::vector<std::uint8_t>(a.data(), a.data() + a.size()),
                                       std::vector<std::uint8_t>(b.data(), b.data() + b.size()), num_classes);
        },
        py::arg("a"), py::arg("b"), py::arg("num_classes"), "Dice per class (NaN where absent from both).");
}

}  // namespace sportsmed::bindings
