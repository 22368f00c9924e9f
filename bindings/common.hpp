#pragma once
// Shared helpers for the pybind11 binding files (not installed).

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "sportsmed/core/progress.hpp"

namespace sportsmed::bindings {

namespace py = pybind11;

/// Wraps an optional Python callable f(fraction: float, stage: str) -> bool | None into a
/// ProgressCallback. The GIL is taken for each call, so kernels may release it and call
/// back from worker threads. A None return means "continue".
inline ProgressCallback progress_from_python(const py::object& callable) {
    if (callable.is_none()) return {};
    // Copy the handle under the GIL; destroy it under the GIL too (shared_ptr deleter).
    auto fn = std::shared_ptr<py::object>(new py::object(callable), [](py::object* p) {
        py::gil_scoped_acquire gil;
        delete p;
    });
    return [fn](double fraction, std::string_view stage) -> bool {
        py::gil_scoped_acquire gil;
        py::object result = (*fn)(fraction, std::string(stage));
        return result.is_none() || result.cast<bool>();
    };
}

void bind_core(py::module_& m);
void bind_motion(py::module_& m);
void bind_imaging(py::module_& m);
void bind_seg(py::module_& m);
void bind_risk(py::module_& m);

}  // namespace sportsmed::bindings
