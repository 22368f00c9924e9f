// Python bindings of sportsmed::motion's LibTorch deep scorer (sportsmed._torch.motion).

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "../common.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/autoencoder.hpp"

namespace sportsmed::bindings {

using namespace sportsmed::motion;
using GIL = py::call_guard<py::gil_scoped_release>;

void bind_motion_autoencoder(py::module_& m) {
    m.attr("AUTOENCODER_FORMAT_VERSION") = kCycleAutoencoderFormatVersion;
    py::class_<CycleAutoencoder>(m, "CycleAutoencoder",
        "1-D convolutional autoencoder of time-normalised cycles (channels × points, channel-major rows, "
        "degrees): pre-train, adapt to an athlete, score by reconstruction error; versioned weights + sidecar.")
        .def(py::init([](int channels, int points, int filters, int latent, int kernel_size, double learning_rate,
                         int batch_size, std::uint64_t seed) {
                 CycleAutoencoderOptions o;
                 o.channels = channels;
                 o.points = points;
                 o.filters = filters;
                 o.latent = latent;
                 o.kernel_size = kernel_size;
                 o.learning_rate = learning_rate;
                 o.batch_size = batch_size;
                 o.seed = seed;
                 return CycleAutoencoder(o);
             }),
             py::arg("channels"), py::arg("points") = 101, py::arg("filters") = 16, py::arg("latent") = 8,
             py::arg("kernel_size") = 5, py::arg("learning_rate") = 3e-3, py::arg("batch_size") = 32,
             py::arg("seed") = 0)
        .def("fit", &CycleAutoencoder::fit, py::arg("x"), py::arg("epochs"), py::arg("learning_rate") = 0.0,
             py::arg("normalise") = true, GIL(), py::return_value_policy::reference_internal,
             "Trains (first call: from the seed; later calls: adaptation from the current weights); returns self.")
        .def("reconstruct", &CycleAutoencoder::reconstruct, py::arg("x"), GIL())
        .def("score", &CycleAutoencoder::score, py::arg("x"), GIL(),
             "Mean squared standardised reconstruction error per row.")
        .def("error_map", &CycleAutoencoder::error_map, py::arg("x"), GIL(),
             "Squared standardised reconstruction error per row, channel and point.")
        .def("clone", &CycleAutoencoder::clone, GIL())
        .def("save", &CycleAutoencoder::save, py::arg("path"), GIL())
        .def_static("load", &CycleAutoencoder::load, py::arg("path"), GIL())
        .def_property_readonly("fitted", &CycleAutoencoder::fitted)
        .def_property_readonly("history", &CycleAutoencoder::history)
        .def_property_readonly("channel_mean", &CycleAutoencoder::channel_mean)
        .def_property_readonly("channel_sd", &CycleAutoencoder::channel_sd)
        .def_property_readonly("channels", [](const CycleAutoencoder& a) { return a.options().channels; })
        .def_property_readonly("points", [](const CycleAutoencoder& a) { return a.options().points; })
        .def_property_readonly("seed", [](const CycleAutoencoder& a) { return a.options().seed; });
}

}  // namespace sportsmed::bindings
