// Entry point of the extension module sportsmed._torch: the LibTorch half of sportsmed
// (seg, the neural risk models, CUDA facts), kept apart so that `import sportsmed` and the
// motion, imaging and risk commands do not load LibTorch.

#include <pybind11/eigen.h>

#include "../common.hpp"
#include "sportsmed/core/build_info.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::bindings {

void bind_seg(py::module_& m);
void bind_risk_neural(py::module_& m);
void bind_motion_autoencoder(py::module_& m);

namespace {

py::dict torch_build_info_dict() {
    const BuildInfo info = torch_build_info();
    py::dict d;
    d["torch_version"] = info.torch_version;
    d["cuda_available"] = info.cuda_available;
    d["cuda_device_count"] = info.cuda_device_count;
    return d;
}

}  // namespace
}  // namespace sportsmed::bindings

PYBIND11_MODULE(_torch, m) {
    namespace b = sportsmed::bindings;
    m.doc() = "sportsmed's LibTorch part (use sportsmed.seg and sportsmed.risk, not this module)";
    m.attr("__version__") = SPORTSMED_MODULE_VERSION;
    const auto core = b::py::module_::import("sportsmed._core");
    // This module carries its own copy of sportsmed::base: its exceptions are mapped to the
    // classes sportsmed._core created, by a translator compiled here.
    b::register_error_translator({core.attr("Error"), core.attr("InvalidArgument"), core.attr("FormatError"),
                                  core.attr("NotFound"), core.attr("Cancelled")},
                                 true);
    // One thread setting for both halves: start from the one sportsmed._core holds, and let
    // it drive LibTorch's intra-op threads.
    sportsmed::set_num_threads(core.attr("num_threads")().cast<int>());
    sportsmed::link_torch_threads();
    m.def("set_num_threads", &sportsmed::set_num_threads, b::py::arg("n"),
          "Sets the threads of this module's kernels (sportsmed.set_num_threads calls it).");
    m.def("build_info", &b::torch_build_info_dict,
          "LibTorch's own facts: torch_version, cuda_available, cuda_device_count.");
    b::bind_seg(m);
    auto risk = m.def_submodule("risk", "Neural injury-risk models (LibTorch).");
    b::bind_risk_neural(risk);
    auto motion = m.def_submodule("motion", "Deep scorer of unusual-movement detection (LibTorch).");
    b::bind_motion_autoencoder(motion);
}
