// Python bindings of sportsmed's core: errors, threads, build info, reductions.

#include <pybind11/eigen.h>

#include "common.hpp"
#include "sportsmed/core.hpp"

namespace sportsmed::bindings {
namespace {

// Creates the Python exception class `name` in module m with the given bases.
py::object make_exception(py::module_& m, const char* name, py::tuple bases, const char* doc) {
    const std::string qualified = std::string("sportsmed.") + name;
    py::object cls = py::reinterpret_steal<py::object>(
        PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr));
    if (!cls) throw py::error_already_set();
    m.attr(name) = cls;
    return cls;
}

void bind_errors(py::module_& m) {
    // Kept alive for the interpreter's lifetime by the module attributes.
    static py::handle error, invalid, format, not_found, cancelled;
    error = make_exception(m, "Error", py::make_tuple(py::handle(PyExc_RuntimeError)),
                           "Base class of every error sportsmed raises.").release();
    invalid = make_exception(m, "InvalidArgument", py::make_tuple(error, py::handle(PyExc_ValueError)),
                             "An argument has the wrong shape, range or value.").release();
    format = make_exception(m, "FormatError", py::make_tuple(error, py::handle(PyExc_ValueError)),
                            "A file's content is malformed or unsupported.").release();
    not_found = make_exception(m, "NotFound", py::make_tuple(error, py::handle(PyExc_FileNotFoundError)),
                               "A file, key, label or parameter does not exist.").release();
    cancelled = make_exception(m, "Cancelled", py::make_tuple(error),
                               "A long operation was cancelled by its progress callback.").release();

    register_error_translator({error, invalid, format, not_found, cancelled}, false);
}

py::dict build_info_dict() {
    const BuildInfo info = build_info();
    py::dict d;
    d["version"] = info.version;
    d["torch_version"] = info.torch_version;
    d["cuda_available"] = info.cuda_available;
    d["cuda_device_count"] = info.cuda_device_count;
    d["num_threads"] = info.num_threads;
    d["eigen_version"] = info.eigen_version;
    d["fmt_version"] = info.fmt_version;
    d["compiler"] = info.compiler;
    d["build_type"] = info.build_type;
    return d;
}

void bind_testing(py::module_& m) {
    auto t = m.def_submodule("_testing", "Hooks for sportsmed's own test-suite.");
    t.def(
        "raise_error",
        [](const std::string& kind, const std::string& message) {
            for (ErrorKind k : {ErrorKind::Error, ErrorKind::InvalidArgument, ErrorKind::FormatError,
                                ErrorKind::NotFound, ErrorKind::Cancelled}) {
                if (kind == error_kind_name(k)) detail::throw_error(k, message);
            }
            SPORTSMED_THROW(InvalidArgument, "raise_error: unknown error kind '{}'", kind);
        },
        py::arg("kind"), py::arg("message"),
        "Throws the C++ sportsmed::<kind> with message (to test exception mapping).");
    t.def(
        "parallel_sum_with_progress",
        [](std::int64_t n, const py::object& progress) {
            // Sums 0..n-1 in parallel, reporting one unit per index.
            ProgressReporter reporter(progress_from_python(progress), "sum", n);
            std::atomic<std::int64_t> total{0};
            {
                py::gil_scoped_release release;
                parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
                    std::int64_t s = 0;
                    for (std::int64_t i = b; i < e; ++i) s += i;
                    total += s;
                    reporter.advance(e - b);
                });
                reporter.finish();
            }
            return total.load();
        },
        py::arg("n"), py::arg("progress") = py::none(),
        "Sum of range(n) through parallel_for, with progress reporting (for tests).");
}

}  // namespace

void bind_core(py::module_& m) {
    bind_errors(m);

    m.def("version", &version, "Library version, 'MAJOR.MINOR.PATCH'.");
    m.def("build_info", &build_info_dict,
          "Versions and build facts: version, torch_version, cuda_available, "
          "cuda_device_count, num_threads, eigen_version, fmt_version, compiler, build_type.");
    m.def("set_num_threads", &set_num_threads, py::arg("n"),
          "Sets the threads sportsmed kernels (and LibTorch) use; n <= 0 restores the default.");
    m.def("num_threads", &num_threads, "Threads sportsmed kernels currently use.");

    using ArrayIn = py::array_t<double, py::array::c_style | py::array::forcecast>;
    auto as_matrix = [](const ArrayIn& a) {
        if (a.ndim() != 2) {
            SPORTSMED_THROW(InvalidArgument, "expected a 2-D array (rows x columns), got {} dimensions",
                            a.ndim());
        }
        return Eigen::Map<const RowMatXd>(a.data(), a.shape(0), a.shape(1));
    };
    m.def(
        "nanmean_columns",
        [as_matrix](const ArrayIn& a) {
            auto x = as_matrix(a);
            py::gil_scoped_release release;
            return VecXd(nanmean_columns(x));
        },
        py::arg("x"), "Column means ignoring NaN, as numpy.nanmean(x, axis=0). x: (rows, cols) float64.");
    m.def(
        "nanstd_columns",
        [as_matrix](const ArrayIn& a, int ddof) {
            auto x = as_matrix(a);
            py::gil_scoped_release release;
            return VecXd(nanstd_columns(x, ddof));
        },
        py::arg("x"), py::arg("ddof") = 0,
        "Column standard deviations ignoring NaN, as numpy.nanstd(x, axis=0, ddof=ddof).");

    bind_testing(m);
}

}  // namespace sportsmed::bindings
