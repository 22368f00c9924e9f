#pragma once
// Shared helpers for the pybind11 binding files (not installed).

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/progress.hpp"
#include "sportsmed/core/text.hpp"

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

/// Maps sportsmed's C++ errors to the Python classes @p classes (Error, InvalidArgument,
/// FormatError, NotFound, Cancelled, in that order). Inline on purpose: each extension
/// module carries its own copy of sportsmed::base and registers a translator compiled
/// against it (sportsmed._torch as a module-local one). A message may quote bytes of a
/// file (a label, a path) that are not UTF-8: Python would drop it whole, so it is re-read.
inline void register_error_translator(const std::array<py::handle, 5>& classes, bool module_local) {
    static std::array<py::handle, 5> cls;
    cls = classes;
    auto translate = [](std::exception_ptr p) {
        auto set = [](py::handle c, const char* what) {
            std::string message(what);
            utf8_or_latin1(message);
            PyErr_SetString(c.ptr(), message.c_str());
        };
        try {
            if (p) std::rethrow_exception(p);
        } catch (const InvalidArgument& e) {  // most-derived first
            set(cls[1], e.what());
        } catch (const FormatError& e) {
            set(cls[2], e.what());
        } catch (const NotFound& e) {
            set(cls[3], e.what());
        } catch (const Cancelled& e) {
            set(cls[4], e.what());
        } catch (const Error& e) {
            set(cls[0], e.what());
        }
    };
    if (module_local) py::register_local_exception_translator(translate);
    else py::register_exception_translator(translate);
}

void bind_core(py::module_& m);
void bind_motion(py::module_& m);
void bind_imaging(py::module_& m);
void bind_risk(py::module_& m);

}  // namespace sportsmed::bindings
