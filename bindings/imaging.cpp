// Python bindings of sportsmed::imaging (submodule sportsmed._core.imaging).
//
// Volumes cross as numpy arrays indexed [i, j, k(, c)] in Fortran order (zero-copy with
// the C++ layout) plus a Geometry object (LPS world, mm).

#include <pybind11/eigen.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "common.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/imaging.hpp"
#include "sportsmed/imaging/dicom_deid.hpp"

namespace sportsmed::bindings {

using U8Array = py::array_t<std::uint8_t, py::array::f_style | py::array::forcecast>;

/// A label map argument: any integer or boolean array (uint8/16/32/64, int8/16/32/64), or a
/// float array holding whole numbers (nibabel's get_fdata() of a label map), with labels in
/// 0…255 — checked, never wrapped (a forced uint8 cast turns 300 into 44).
struct LabelsIn : U8Array {
    using U8Array::U8Array;
    LabelsIn() = default;
    explicit LabelsIn(U8Array&& a) : U8Array(std::move(a)) {}
};

/// A mask argument: any numeric or boolean array, read as value != 0 (a probability map of
/// 0.5 is inside, not 0).
struct MaskIn : U8Array {
    using U8Array::U8Array;
    MaskIn() = default;
    explicit MaskIn(U8Array&& a) : U8Array(std::move(a)) {}
};

namespace {

template <typename T>
bool convert_labels(const py::array& a, std::uint8_t* out, bool mask, std::string& problem) {
    const auto src = py::array_t<T, py::array::f_style | py::array::forcecast>::ensure(a);
    const T* v = src.data();
    const py::ssize_t n = src.size();
    for (py::ssize_t i = 0; i < n; ++i) {
        const T x = v[i];
        if (mask) {
            out[i] = x != T(0);
            continue;
        }
        if constexpr (std::is_floating_point_v<T>) {
            if (!(x >= 0 && x <= 255) || x != std::floor(x)) {
                problem = fmt::format("holds {} (a label map holds whole numbers 0-255; threshold or round a "
                                      "probability map first)", double(x));
                return false;
            }
        } else if constexpr (std::is_signed_v<T>) {
            if (x < 0 || x > 255) {
                problem = fmt::format("holds label {} (this function measures labels 0-255 at once; imaging.compact_label_map renumbers any integer labels and keeps their numbers)", std::int64_t(x));
                return false;
            }
        } else {
            if (x > 255) {
                problem = fmt::format("holds label {} (this function measures labels 0-255 at once; imaging.compact_label_map renumbers any integer labels and keeps their numbers)", std::uint64_t(x));
                return false;
            }
        }
        out[i] = static_cast<std::uint8_t>(x);
    }
    return true;
}

}  // namespace

/// Converts any numpy array to an F-ordered uint8 label map (mask: value != 0); @p what
/// names it in messages (a file path, say).
/// @throws InvalidArgument naming the dtype and the first value out of range.
inline U8Array to_uint8_labels(py::handle src, bool mask, const std::string& what = {}) {
    const std::string name = what.empty() ? (mask ? "mask" : "label map") : what;
    const py::array a = py::array::ensure(src);
    if (!a) SPORTSMED_THROW(InvalidArgument, "{}: expected a numpy array", name);
    const py::dtype dt = a.dtype();
    if (dt.is(py::dtype::of<std::uint8_t>())) return U8Array::ensure(a);
    std::vector<py::ssize_t> shape(a.shape(), a.shape() + a.ndim());
    U8Array out(shape, py::detail::f_strides(shape, sizeof(std::uint8_t)));
    std::string problem;
    bool ok = false;
    const char kind = dt.kind();
    const auto size = dt.itemsize();
    if (kind == 'b') ok = convert_labels<bool>(a, out.mutable_data(), mask, problem);
    else if (kind == 'u' && size == 1) ok = convert_labels<std::uint8_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'u' && size == 2) ok = convert_labels<std::uint16_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'u' && size == 4) ok = convert_labels<std::uint32_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'u' && size == 8) ok = convert_labels<std::uint64_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'i' && size == 1) ok = convert_labels<std::int8_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'i' && size == 2) ok = convert_labels<std::int16_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'i' && size == 4) ok = convert_labels<std::int32_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'i' && size == 8) ok = convert_labels<std::int64_t>(a, out.mutable_data(), mask, problem);
    else if (kind == 'f' && size == 4) ok = convert_labels<float>(a, out.mutable_data(), mask, problem);
    else if (kind == 'f' && size == 8) ok = convert_labels<double>(a, out.mutable_data(), mask, problem);
    else
        SPORTSMED_THROW(InvalidArgument, "{}: arrays of dtype {} are not supported (integer, bool or float)", name,
                        std::string(py::str(static_cast<py::handle>(dt))));
    if (!ok)
        SPORTSMED_THROW(InvalidArgument, "{}: label map of dtype {} {}", name,
                        std::string(py::str(static_cast<py::handle>(dt))), problem);
    return out;
}

}  // namespace sportsmed::bindings

namespace pybind11::detail {

// Both argument kinds convert through to_uint8_labels; only the reading differs.
template <typename Wrapper, bool Mask>
struct uint8_array_caster {
    PYBIND11_TYPE_CASTER(Wrapper, const_name("numpy.ndarray"));
    bool load(handle src, bool) {
        // Anything numpy can turn into an array (nested lists too), as forcecast took before.
        const array a = array::ensure(src);
        if (!a) {
            PyErr_Clear();
            return false;
        }
        value = Wrapper(sportsmed::bindings::to_uint8_labels(a, Mask));
        return true;
    }
    static handle cast(const Wrapper& v, return_value_policy, handle) { return v.inc_ref(); }
};

template <>
struct type_caster<sportsmed::bindings::LabelsIn> : uint8_array_caster<sportsmed::bindings::LabelsIn, false> {};
template <>
struct type_caster<sportsmed::bindings::MaskIn> : uint8_array_caster<sportsmed::bindings::MaskIn, true> {};

}  // namespace pybind11::detail

namespace sportsmed::bindings {
namespace {

using namespace sportsmed::imaging;
using DoubleIn = py::array_t<double, py::array::f_style | py::array::forcecast>;

// Hands an owned vector to numpy without copying, as an F-ordered array of @p shape.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& v, const std::vector<std::int64_t>& shape) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    std::vector<py::ssize_t> strides(shape.size());
    py::ssize_t s = sizeof(T);
    for (std::size_t d = 0; d < shape.size(); ++d) {
        strides[d] = s;
        s *= static_cast<py::ssize_t>(shape[d]);
    }
    return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), strides, owned->data(), free_when_done);
}

template <typename T>
py::array_t<T> volume_to_numpy(Volume<T>&& v) {
    std::vector<std::int64_t> shape{v.shape()[0], v.shape()[1], v.shape()[2]};
    if (v.components() > 1) shape.push_back(v.components());
    return to_numpy(std::move(v.values()), shape);
}

Shape3 shape3_of(const py::array& a, const char* what) {
    if (a.ndim() != 3) SPORTSMED_THROW(InvalidArgument, "{}: expected a 3-D array, got {} dimensions", what, a.ndim());
    return {a.shape(0), a.shape(1), a.shape(2)};
}

Geometry geometry_for(const Shape3& shape, const Eigen::Vector3d& spacing) {
    Geometry g;
    g.shape = shape;
    g.spacing_mm = spacing;
    return g;
}

Volume<std::uint8_t> mask_volume(const MaskIn& a, const Eigen::Vector3d& spacing, const char* what) {
    const Shape3 s = shape3_of(a, what);
    Volume<std::uint8_t> v(geometry_for(s, spacing));
    if (v.size()) std::memcpy(v.data(), a.data(), static_cast<std::size_t>(v.size()));
    return v;
}

py::dtype numpy_dtype(DType t) {
    switch (t) {
        case DType::RGB24: case DType::RGBA32: return py::dtype("uint8");
        default: return py::dtype(dtype_name(t));
    }
}

// An uninitialised float64 array of @p dims in Fortran order (an Image's layout).
py::array_t<double> fortran_doubles(const std::vector<std::int64_t>& dims) {
    std::vector<py::ssize_t> shape(dims.begin(), dims.end()), strides(shape.size());
    py::ssize_t st = sizeof(double);
    for (std::size_t d = 0; d < shape.size(); ++d) strides[d] = st, st *= shape[d];
    return py::array_t<double>(shape, strides);
}

// A view of the image's own voxels (no copy; the array keeps the Image alive), so that
// repeated accesses see one buffer and writes through it are kept.
py::array image_array(py::object self) {
    Image& img = self.cast<Image&>();
    std::vector<py::ssize_t> shape(img.dims.begin(), img.dims.end());
    if (img.dtype == DType::RGB24) shape.insert(shape.begin(), 3);
    if (img.dtype == DType::RGBA32) shape.insert(shape.begin(), 4);
    py::dtype dt = numpy_dtype(img.dtype);
    std::vector<py::ssize_t> strides(shape.size());
    py::ssize_t s = dt.itemsize();
    for (std::size_t d = 0; d < shape.size(); ++d) {
        strides[d] = s;
        s *= shape[d];
    }
    py::array out(dt, shape, strides, img.bytes.data(), self);
    if (img.dtype == DType::RGB24 || img.dtype == DType::RGBA32) {
        // channels last, as a (…, 3|4) uint8 view
        std::vector<py::ssize_t> axes;
        for (std::size_t d = 1; d < shape.size(); ++d) axes.push_back(static_cast<py::ssize_t>(d));
        axes.push_back(0);
        return out.attr("transpose")(py::tuple(py::cast(axes)));
    }
    return out;
}

// A volume as an Image (Python object) and, under @p key of @p out, the Image's array
// view: the dict keeps its arrays while the Image (geometry, affine, to_nibabel) comes
// with them, holding the one copy of the voxels.
template <typename T>
py::object volume_as_image(Volume<T>&& v, py::dict& out, const char* key) {
    py::object img = py::cast(Image::from_volume(v));
    v = Volume<T>();
    out[key] = image_array(img);
    return img;
}

Image image_from_array(const py::array& array, const Geometry& geometry) {
    const std::string name = py::str(array.dtype().attr("name"));
    const DType t = dtype_from_name(name == "bool" ? "uint8" : name);
    SPORTSMED_CHECK(array.ndim() >= 3 && array.ndim() <= 7, "Image: expected a 3-D to 7-D array, got {} dimensions",
                    array.ndim());
    Image img;
    img.dtype = t;
    for (py::ssize_t d = 0; d < array.ndim(); ++d) img.dims.push_back(array.shape(d));
    SPORTSMED_CHECK(img.dims[0] == geometry.shape[0] && img.dims[1] == geometry.shape[1] &&
                        img.dims[2] == geometry.shape[2],
                    "Image: array shape ({}, {}, {}) differs from the geometry shape ({}, {}, {})", img.dims[0],
                    img.dims[1], img.dims[2], geometry.shape[0], geometry.shape[1], geometry.shape[2]);
    img.geometry = geometry;
    py::module_ np = py::module_::import("numpy");
    py::object src = name == "bool" ? py::object(array.attr("astype")("uint8")) : py::object(array);
    // The bytes are kept in native order: an array of the other byte order (nibabel's view of a
    // big-endian file) is converted, never reinterpreted.
    if (!py::bool_(src.attr("dtype").attr("isnative")))
        src = src.attr("astype")(src.attr("dtype").attr("newbyteorder")("="));
    py::array f = np.attr("asfortranarray")(src);
    img.bytes.resize(static_cast<std::size_t>(f.nbytes()));
    if (!img.bytes.empty()) std::memcpy(img.bytes.data(), f.data(), img.bytes.size());
    img.pixdim.assign(img.dims.size(), 1.0);
    for (int c = 0; c < 3; ++c) img.pixdim[c] = geometry.spacing_mm[c];
    return img;
}

using RowMatX3 = Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>;

}  // namespace

namespace {

// The knee phantom's shape parameters, by name (for dict conversion both ways).
const std::vector<std::pair<const char*, double KneeShape::*>>& knee_shape_fields() {
    static const std::vector<std::pair<const char*, double KneeShape::*>> fields{
        {"femur_radius", &KneeShape::femur_radius}, {"condyle_z", &KneeShape::condyle_z},
        {"femur_half_length", &KneeShape::femur_half_length}, {"shaft_radius", &KneeShape::shaft_radius},
        {"femoral_cart_half_length", &KneeShape::femoral_cart_half_length}, {"theta_min", &KneeShape::theta_min},
        {"theta_max", &KneeShape::theta_max}, {"fem_t_mean", &KneeShape::fem_t_mean},
        {"fem_t_ml", &KneeShape::fem_t_ml}, {"fem_t_theta", &KneeShape::fem_t_theta},
        {"plateau_z", &KneeShape::plateau_z}, {"tibia_bottom_z", &KneeShape::tibia_bottom_z},
        {"tibia_ax", &KneeShape::tibia_ax}, {"tibia_ay", &KneeShape::tibia_ay}, {"comp_x", &KneeShape::comp_x},
        {"comp_ax", &KneeShape::comp_ax}, {"comp_ay", &KneeShape::comp_ay}, {"tib_t_mean", &KneeShape::tib_t_mean},
        {"tib_t_amp", &KneeShape::tib_t_amp}, {"patella_y", &KneeShape::patella_y},
        {"patella_z", &KneeShape::patella_z}, {"patella_rx", &KneeShape::patella_rx},
        {"patella_ry", &KneeShape::patella_ry}, {"patella_rz", &KneeShape::patella_rz},
        {"patellar_cart_mm", &KneeShape::patellar_cart_mm}, {"meniscus_inner", &KneeShape::meniscus_inner},
        {"meniscus_outer", &KneeShape::meniscus_outer}, {"meniscus_base_mm", &KneeShape::meniscus_base_mm},
        {"meniscus_rise_mm", &KneeShape::meniscus_rise_mm}, {"fibula_x", &KneeShape::fibula_x},
        {"fibula_y", &KneeShape::fibula_y}, {"fibula_radius", &KneeShape::fibula_radius},
        {"fibula_top_z", &KneeShape::fibula_top_z}, {"tibia_shaft_radius", &KneeShape::tibia_shaft_radius}};
    return fields;
}

py::dict shape_to_dict(const KneeShape& s) {
    py::dict d;
    for (const auto& [name, member] : knee_shape_fields()) d[name] = s.*member;
    return d;
}

// None -> the standard knee; int -> random_knee_shape(seed); dict -> standard knee with
// the given fields replaced (unknown names are an error).
KneeShape shape_from_python(const py::object& shape) {
    KneeShape s;
    if (shape.is_none()) return s;
    if (py::isinstance<py::int_>(shape)) {
        const auto seed = shape.cast<long long>();
        SPORTSMED_CHECK(seed >= 0, "knee phantom: a shape seed must be >= 0, got {}", seed);
        return random_knee_shape(static_cast<std::uint64_t>(seed));
    }
    SPORTSMED_CHECK(py::isinstance<py::dict>(shape), "knee phantom: shape must be None, an int seed or a dict");
    for (const auto& item : shape.cast<py::dict>()) {
        const auto key = item.first.cast<std::string>();
        bool found = false;
        for (const auto& [name, member] : knee_shape_fields())
            if (key == name) {
                s.*member = item.second.cast<double>();
                found = true;
            }
        SPORTSMED_CHECK(found, "knee phantom: unknown shape parameter '{}'", key);
    }
    return s;
}

}  // namespace

void bind_imaging(py::module_& m) {
    auto im = m.def_submodule("imaging", "Knee MRI volumes: geometry, NIfTI/NRRD I/O, distance and component kernels.");

    // Classes first, functions after (so signatures show Python names).
    py::class_<Geometry> geometry(im, "Geometry",
                                  "Voxel grid placement in LPS millimetres: world = origin + direction @ "
                                  "diag(spacing) @ (i, j, k).");
    py::class_<Image> image(im, "Image",
                            "File content: stored dtype, all dimensions, raw values, scaling and geometry.");

    geometry
        .def(py::init([](const std::array<std::int64_t, 3>& shape, const Eigen::Vector3d& spacing,
                         const Eigen::Vector3d& origin, const Eigen::Matrix3d& direction) {
                 Geometry g;
                 g.shape = shape;
                 g.spacing_mm = spacing;
                 g.origin_mm = origin;
                 g.direction = direction;
                 // A zero, negative or NaN spacing or a singular direction would make every
                 // later distance wrong: refuse it here rather than accept it silently.
                 for (int a = 0; a < 3; ++a)
                     SPORTSMED_CHECK(shape[static_cast<std::size_t>(a)] >= 0, "Geometry: shape {} along axis {} is negative",
                                     shape[static_cast<std::size_t>(a)], a);
                 try {
                     g.validate("Geometry");
                 } catch (const FormatError& e) {
                     SPORTSMED_THROW(InvalidArgument, "{}", e.what());
                 }
                 return g;
             }),
             py::arg("shape"), py::arg("spacing") = Eigen::Vector3d::Ones(), py::arg("origin") = Eigen::Vector3d::Zero(),
             py::arg("direction") = Eigen::Matrix3d::Identity())
        .def_property(
            "shape", [](const Geometry& g) { return py::make_tuple(g.shape[0], g.shape[1], g.shape[2]); },
            [](Geometry& g, const std::array<std::int64_t, 3>& s) { g.shape = s; },
            "Voxels along i, j, k, a tuple as numpy's shape (assign a new one to change it).")
        .def_readwrite("spacing", &Geometry::spacing_mm, "Voxel size along i, j, k (mm).")
        .def_readwrite("origin", &Geometry::origin_mm, "LPS position of voxel (0, 0, 0) (mm).")
        .def_readwrite("direction", &Geometry::direction, "3×3, columns are the unit i, j, k axes in LPS.")
        .def("voxel_to_world", &Geometry::voxel_to_world, "4×4 voxel → LPS world (mm) matrix.")
        .def("world_to_voxel", &Geometry::world_to_voxel, "4×4 LPS world → voxel matrix.")
        .def("affine_ras", &Geometry::affine_ras, "4×4 voxel → RAS world matrix (nibabel's img.affine).")
        .def(
            "to_world",
            [](const Geometry& g, const Eigen::Ref<const RowMatX3>& ijk) {
                RowMatX3 out(ijk.rows(), 3);
                for (Eigen::Index r = 0; r < ijk.rows(); ++r) out.row(r) = g.to_world(ijk.row(r).transpose()).transpose();
                return out;
            },
            py::arg("ijk"), "LPS world points (n, 3) mm of voxel indices (n, 3).")
        .def(
            "to_voxel",
            [](const Geometry& g, const Eigen::Ref<const RowMatX3>& xyz) {
                RowMatX3 out(xyz.rows(), 3);
                for (Eigen::Index r = 0; r < xyz.rows(); ++r) out.row(r) = g.to_voxel(xyz.row(r).transpose()).transpose();
                return out;
            },
            py::arg("xyz"), "Continuous voxel indices (n, 3) of LPS world points (n, 3) mm.")
        .def("same_grid", &Geometry::same_grid, py::arg("other"), py::arg("tol") = 1e-5,
             "True if shape matches and spacing, origin and direction agree within tol.")
        .def("__repr__", [](const Geometry& g) {
            return fmt::format("Geometry(shape=({}, {}, {}), spacing=({:.6g}, {:.6g}, {:.6g}), origin=({:.6g}, {:.6g}, "
                               "{:.6g}))",
                               g.shape[0], g.shape[1], g.shape[2], g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2],
                               g.origin_mm[0], g.origin_mm[1], g.origin_mm[2]);
        });

    image
        .def(py::init(&image_from_array), py::arg("array"), py::arg("geometry"),
             "Image holding a copy of array (3-D to 7-D, indexed [i, j, k, ...]) on geometry, unscaled.")
        .def_readwrite("geometry", &Image::geometry, "Geometry of the first three axes (LPS).")
        .def_property_readonly("dims", [](const Image& i) { return i.dims; }, "All dimensions.")
        .def_property_readonly("dtype", [](const Image& i) { return std::string(dtype_name(i.dtype)); },
                               "Stored voxel type ('int16', 'float32', 'rgb24', ...).")
        .def_property_readonly("array", &image_array,
                               "Stored values (unscaled), shape dims, Fortran order: a view of the image's own "
                               "buffer (no copy; writes are kept).")
        .def_readwrite("scaled", &Image::scaled, "True when a valid intensity scaling applies.")
        .def_readwrite("scl_slope", &Image::scl_slope, "Scaling slope (value = slope * stored + inter).")
        .def_readwrite("scl_inter", &Image::scl_inter, "Scaling intercept.")
        .def_readwrite("qform_code", &Image::qform_code, "NIfTI qform_code (0 for other formats).")
        .def_readwrite("sform_code", &Image::sform_code, "NIfTI sform_code (0 for other formats).")
        .def(
            "fdata",
            [](const Image& img) {
                // Converted straight into an uninitialised numpy buffer (no zero-fill pass).
                py::array_t<double> out = fortran_doubles(img.dims);
                double* dst = out.mutable_data();
                {
                    py::gil_scoped_release release;
                    imaging::detail::image_to_double(img, true, dst);
                }
                return out;
            },
            "Values as float64 with the scaling applied (nibabel's get_fdata()).");

    im.def("read_nifti", &read_nifti, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Reads a NIfTI-1/2 file (.nii, .nii.gz) or pair (.hdr + .img). Geometry as nibabel: sform, else "
           "qform, else pixdim.");
    im.def(
        "read_nifti_fdata",
        [](const std::string& path) {
            // The numpy array is allocated (uninitialised, Fortran order) once the header is
            // known, and the file's values are converted straight into it.
            py::array_t<double> out;
            Image header;
            {
                py::gil_scoped_release release;
                header = read_nifti_fdata(path, [&](const Image& h) {
                    py::gil_scoped_acquire acquire;
                    out = fortran_doubles(h.dims);
                    return out.mutable_data();
                });
            }
            return py::make_tuple(out, header.geometry);
        },
        py::arg("path"),
        "nibabel's load(path).get_fdata() in one pass: (float64 array with the scaling applied, Geometry). "
        "An uncompressed .nii is converted from the file block by block, without a copy of its raw data.");
    im.def("read_nrrd", &read_nrrd, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Reads a NRRD file (raw or gzip, 3-D).");
    im.def("read_image", &read_image, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Reads NIfTI or NRRD by extension.");
    im.def("write_nifti", &write_nifti, py::arg("image"), py::arg("path"), py::arg("version") = 1,
           py::call_guard<py::gil_scoped_release>(),
           "Writes NIfTI-1 or -2 (gzip if path ends in .gz; a .hdr/.img pair if it ends in .hdr or .img).");
    im.def("write_nrrd", &write_nrrd, py::arg("image"), py::arg("path"), py::arg("gzip") = true,
           py::call_guard<py::gil_scoped_release>(), "Writes NRRD (LPS space directions).");
    im.def("write_image", &write_image, py::arg("image"), py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Writes NIfTI or NRRD by extension.");

    im.def(
        "distance_transform",
        [](const MaskIn& mask, const Eigen::Vector3d& spacing) {
            const Shape3 s = shape3_of(mask, "distance_transform");
            std::vector<double> out(static_cast<std::size_t>(s[0] * s[1] * s[2]));
            {
                py::gil_scoped_release release;
                distance_transform_squared(mask.data(), s, spacing, out.data());
                for (auto& d : out) d = std::sqrt(d);
            }
            return to_numpy(std::move(out), {s[0], s[1], s[2]});
        },
        py::arg("mask"), py::arg("spacing"),
        "Exact Euclidean distance (mm) of each nonzero voxel to the nearest zero voxel, as "
        "scipy.ndimage.distance_transform_edt(mask, sampling=spacing). mask: (nx, ny, nz).");
    im.def(
        "label_components",
        [](const MaskIn& mask, int connectivity) {
            const Shape3 s = shape3_of(mask, "label_components");
            // numpy allocates the output uninitialised (and with huge pages where the system
            // offers them); the kernel writes every voxel.
            py::array_t<std::int32_t, py::array::f_style> out({s[0], s[1], s[2]});
            std::int32_t* o = out.mutable_data();
            std::int32_t n;
            {
                py::gil_scoped_release release;
                n = label_components(mask.data(), s, connectivity, o);
            }
            return py::make_tuple(std::move(out), n);
        },
        py::arg("mask"), py::arg("connectivity") = 26,
        "Connected components (6, 18 or 26 connectivity): (labels int32 (nx, ny, nz), count).");

    auto mask_op = [&](const char* name, auto fn, const char* doc) {
        im.def(
            name,
            [fn, name](const MaskIn& mask, int connectivity) {
                auto v = mask_volume(mask, Eigen::Vector3d::Ones(), name);
                Volume<std::uint8_t> out;
                {
                    py::gil_scoped_release release;
                    out = fn(v, connectivity);
                }
                return volume_to_numpy(std::move(out));
            },
            py::arg("mask"), py::arg("connectivity") = 26, doc);
    };
    mask_op("keep_largest_component",
            [](const Volume<std::uint8_t>& v, int c) { return keep_largest_component(v, c); },
            "Largest connected component of a mask (uint8 0/1).");
    im.def(
        "keep_largest_component_per_label",
        [](const LabelsIn& mask, int connectivity, const std::vector<int>& only,
           const std::vector<std::vector<int>>& join_groups, const std::vector<std::vector<int>>& anchors) {
            auto v = mask_volume(mask, Eigen::Vector3d::Ones(), "keep_largest_component_per_label");
            Volume<std::uint8_t> out;
            {
                py::gil_scoped_release release;
                out = keep_largest_component_per_label(v, connectivity, only, join_groups, anchors);
            }
            return volume_to_numpy(std::move(out));
        },
        py::arg("mask"), py::arg("connectivity") = 26, py::arg("only") = std::vector<int>{},
        py::arg("join_groups") = std::vector<std::vector<int>>{}, py::arg("anchors") = std::vector<std::vector<int>>{},
        "For each label > 0 of a uint8 label map (or only those in `only`), keep its largest component; "
        "removed voxels become 0, except that a removed fragment of a label in one of `join_groups` that touches "
        "the kept voxels of exactly one other label of its group (and is smaller than its own label's kept part) joins that label; "
        "a label of `anchors` (rows: label, its anchor labels) keeps its component touching the anchors most.");
    im.def(
        "remove_detached_components",
        [](const LabelsIn& labels, const std::vector<std::vector<int>>& rows, int connectivity) {
            auto v = mask_volume(labels, Eigen::Vector3d::Ones(), "remove_detached_components");
            Volume<std::uint8_t> out;
            {
                py::gil_scoped_release release;
                out = remove_detached_components(v, rows, connectivity);
            }
            return volume_to_numpy(std::move(out));
        },
        py::arg("labels"), py::arg("rows"), py::arg("connectivity") = 26,
        "Sets to 0 every connected piece of a label that touches none of its supports (rows: label, its support "
        "labels; e.g. [[5, 2]]: tibial cartilage must touch the tibia). Rows apply in order.");
    im.def(
        "fill_holes",
        [](const MaskIn& mask) {
            auto v = mask_volume(mask, Eigen::Vector3d::Ones(), "fill_holes");
            py::gil_scoped_release release;
            auto out = fill_holes(v);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("mask"), "Fills background regions not 6-connected to the border (scipy binary_fill_holes).");
    im.def(
        "fill_holes_per_label",
        [](const LabelsIn& mask) {
            auto v = mask_volume(mask, Eigen::Vector3d::Ones(), "fill_holes_per_label");
            py::gil_scoped_release release;
            auto out = fill_holes_per_label(v);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("labels"), "For each label > 0 of a uint8 label map, fill its holes.");
    im.def(
        "dilate_ball",
        [](const MaskIn& mask, const Eigen::Vector3d& spacing, double radius) {
            auto v = mask_volume(mask, spacing, "dilate_ball");
            py::gil_scoped_release release;
            auto out = dilate_ball(v, radius);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("mask"), py::arg("spacing"), py::arg("radius_mm"), "Binary dilation by a ball of radius_mm (exact).");
    im.def(
        "erode_ball",
        [](const MaskIn& mask, const Eigen::Vector3d& spacing, double radius) {
            auto v = mask_volume(mask, spacing, "erode_ball");
            py::gil_scoped_release release;
            auto out = erode_ball(v, radius);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("mask"), py::arg("spacing"), py::arg("radius_mm"), "Binary erosion by a ball of radius_mm (exact).");

    im.def(
        "surface_distances",
        [](const MaskIn& gt, const MaskIn& pred, const Eigen::Vector3d& spacing) {
            const Shape3 s = shape3_of(gt, "surface_distances");
            SPORTSMED_CHECK(shape3_of(pred, "surface_distances") == s,
                            "surface_distances: reference and prediction shapes differ");
            std::vector<std::uint8_t> gb(gt.data(), gt.data() + gt.size()), pb(pred.data(), pred.data() + pred.size());
            SurfaceDistances d;
            {
                py::gil_scoped_release release;
                d = surface_distances(gb.data(), pb.data(), s, spacing, 1, 1);
            }
            py::dict out;
            out["distances_gt_to_pred"] = py::array(py::cast(d.distances_gt_to_pred_mm));
            out["areas_gt"] = py::array(py::cast(d.areas_gt_mm2));
            out["distances_pred_to_gt"] = py::array(py::cast(d.distances_pred_to_gt_mm));
            out["areas_pred"] = py::array(py::cast(d.areas_pred_mm2));
            return out;
        },
        py::arg("gt"), py::arg("pred"), py::arg("spacing"),
        "Surface elements (cube centres on the half-voxel grid, in Fortran cube order) of two binary masks, "
        "their areas (mm^2) and distances (mm) to the other surface.");
    im.def(
        "segmentation_metrics",
        [](const LabelsIn& gt, const LabelsIn& pred, const Eigen::Vector3d& spacing, const std::vector<int>& labels,
           double tolerance_mm) {
            const Shape3 sg = shape3_of(gt, "segmentation_metrics (gt)");
            const Shape3 sp = shape3_of(pred, "segmentation_metrics (pred)");
            SPORTSMED_CHECK(sg == sp,
                            "segmentation_metrics: reference shape ({}, {}, {}) differs from prediction shape ({}, {}, {})",
                            sg[0], sg[1], sg[2], sp[0], sp[1], sp[2]);
            std::vector<SegmentationMetrics> res;
            {
                // The arrays are read in place (F-ordered uint8, as the caster delivers them).
                py::gil_scoped_release release;
                res = segmentation_metrics(gt.data(), pred.data(), sg, spacing, labels, tolerance_mm);
            }
            py::list out;
            for (const auto& m : res) {
                py::dict d;
                d["label"] = m.label;
                d["voxels_gt"] = m.voxels_gt;
                d["voxels_pred"] = m.voxels_pred;
                d["dice"] = m.dice;
                d["jaccard"] = m.jaccard;
                d["volume_gt_mm3"] = m.volume_gt_mm3;
                d["volume_pred_mm3"] = m.volume_pred_mm3;
                d["volume_difference_mm3"] = m.volume_difference_mm3;
                d["hausdorff_mm"] = m.hausdorff_mm;
                d["hd95_mm"] = m.hd95_mm;
                d["assd_mm"] = m.assd_mm;
                d["assd_mean_mm"] = m.assd_mean_mm;
                d["asd_gt_to_pred_mm"] = m.asd_gt_to_pred_mm;
                d["asd_pred_to_gt_mm"] = m.asd_pred_to_gt_mm;
                d["hd95_gt_to_pred_mm"] = m.hd95_gt_to_pred_mm;
                d["hd95_pred_to_gt_mm"] = m.hd95_pred_to_gt_mm;
                d["surface_dice"] = m.surface_dice;
                d["tolerance_mm"] = m.tolerance_mm;
                d["surface_area_gt_mm2"] = m.surface_area_gt_mm2;
                d["surface_area_pred_mm2"] = m.surface_area_pred_mm2;
                out.append(d);
            }
            return out;
        },
        py::arg("gt"), py::arg("pred"), py::arg("spacing"), py::arg("labels") = std::vector<int>{},
        py::arg("tolerance_mm") = 1.0,
        "Per-label Dice, Jaccard, volumes, Hausdorff, HD95, ASSD and surface Dice of two uint8 label maps "
        "(see sportsmed/imaging/metrics.hpp for definitions and empty-mask results). Returns a list of dicts.");
    auto options = [](double t2_min, double t2_max, bool noise_floor, int max_iterations) {
        T2FitOptions o;
        o.t2_min_ms = t2_min;
        o.t2_max_ms = t2_max;
        o.noise_floor = noise_floor;
        o.max_iterations = max_iterations;
        return o;
    };
    im.def(
        "fit_t2",
        [options](const DoubleIn& echoes, const std::vector<double>& te_ms, const py::object& mask, double t2_min_ms,
                  double t2_max_ms, bool noise_floor, int max_iterations, const py::object& progress) {
            if (echoes.ndim() != 4)
                SPORTSMED_THROW(InvalidArgument, "fit_t2: expected echoes of shape (nx, ny, nz, n_echoes), got {} dims",
                                echoes.ndim());
            Geometry g;
            g.shape = {echoes.shape(0), echoes.shape(1), echoes.shape(2)};
            Volume<double> v(g, std::vector<double>(echoes.data(), echoes.data() + echoes.size()), echoes.shape(3));
            Volume<std::uint8_t> m;
            const bool has_mask = !mask.is_none();
            if (has_mask) {
                MaskIn ma = py::cast<MaskIn>(mask);
                if (ma.ndim() != 3 || ma.shape(0) != g.shape[0] || ma.shape(1) != g.shape[1] || ma.shape(2) != g.shape[2])
                    SPORTSMED_THROW(InvalidArgument, "fit_t2: mask shape differs from the image shape ({}, {}, {})",
                                    g.shape[0], g.shape[1], g.shape[2]);
                m = mask_volume(ma, Eigen::Vector3d::Ones(), "fit_t2");
            }
            const auto cb = progress_from_python(progress);
            T2Maps maps;
            {
                py::gil_scoped_release release;
                maps = fit_t2(v, te_ms, has_mask ? &m : nullptr, options(t2_min_ms, t2_max_ms, noise_floor, max_iterations),
                              cb);
            }
            py::dict out;
            out["t2_ms"] = volume_to_numpy(std::move(maps.t2_ms));
            out["s0"] = volume_to_numpy(std::move(maps.s0));
            out["offset"] = volume_to_numpy(std::move(maps.offset));
            out["r2"] = volume_to_numpy(std::move(maps.r2));
            out["status"] = volume_to_numpy(std::move(maps.status));
            return out;
        },
        py::arg("echoes"), py::arg("te_ms"), py::arg("mask") = py::none(), py::arg("t2_min_ms") = 0.5,
        py::arg("t2_max_ms") = 1000.0, py::arg("noise_floor") = false, py::arg("max_iterations") = 200,
        py::arg("progress") = py::none(),
        "Per-voxel fit of S0*exp(-TE/T2) (+C): log-linear start then bounded Levenberg-Marquardt. "
        "echoes: (nx, ny, nz, n_echoes). Returns dict of maps t2_ms, s0, offset, r2, status "
        "(0 ok, 1 masked, 2 invalid data, 3 T2 at a bound, 4 not converged).");
    im.def(
        "fit_t2_curves",
        [options](const py::array_t<double, py::array::c_style | py::array::forcecast>& signals,
                  const std::vector<double>& te_ms, double t2_min_ms, double t2_max_ms, bool noise_floor,
                  int max_iterations) {
            if (signals.ndim() != 2 || signals.shape(1) != static_cast<py::ssize_t>(te_ms.size()))
                SPORTSMED_THROW(InvalidArgument, "fit_t2_curves: expected signals of shape (n, {}), got {} dims",
                                te_ms.size(), signals.ndim());
            const std::size_t needed = noise_floor ? 3 : 2;
            SPORTSMED_CHECK(te_ms.size() >= needed,
                            "fit_t2_curves: {} echo time(s) cannot determine {} (needs at least {} echoes)",
                            te_ms.size(), noise_floor ? "S0, T2 and the noise floor" : "S0 and T2", needed);
            const auto o = options(t2_min_ms, t2_max_ms, noise_floor, max_iterations);
            const std::int64_t n = signals.shape(0), ne = signals.shape(1);
            std::vector<double> t2(static_cast<std::size_t>(n)), s0(t2.size()), off(t2.size()), r2(t2.size());
            std::vector<std::uint8_t> st(t2.size());
            const double* y = signals.data();
            {
                py::gil_scoped_release release;
                parallel_for(0, n, [&](std::int64_t b, std::int64_t e) {
                    for (std::int64_t i = b; i < e; ++i) {
                        const T2Fit f = fit_t2_curve(te_ms.data(), y + i * ne, static_cast<int>(ne), o);
                        t2[i] = f.t2_ms, s0[i] = f.s0, off[i] = f.offset, r2[i] = f.r2;
                        st[i] = static_cast<std::uint8_t>(f.status);
                    }
                }, 64);
            }
            py::dict out;
            out["t2_ms"] = to_numpy(std::move(t2), {n});
            out["s0"] = to_numpy(std::move(s0), {n});
            out["offset"] = to_numpy(std::move(off), {n});
            out["r2"] = to_numpy(std::move(r2), {n});
            out["status"] = to_numpy(std::move(st), {n});
            return out;
        },
        py::arg("signals"), py::arg("te_ms"), py::arg("t2_min_ms") = 0.5, py::arg("t2_max_ms") = 1000.0,
        py::arg("noise_floor") = false, py::arg("max_iterations") = 200,
        "Fits each row of signals (n, n_echoes) like fit_t2; returns dict of (n,) arrays.");
    im.def(
        "read_dicom_series",
        [](const std::string& folder, const std::string& series) {
            DicomSeries s;
            {
                py::gil_scoped_release release;
                s = read_dicom_series(folder, series);
            }
            py::dict out;
            out["geometry"] = s.image.geometry();
            out["te_ms"] = s.te_ms;
            out["series_uid"] = s.series_uid;
            out["description"] = s.description;
            out["image"] = volume_as_image(std::move(s.image), out, "array");
            return out;
        },
        py::arg("folder"), py::arg("series") = "",
        "Reads a DICOM series folder (GDCM): slices sorted along the normal, spacing from positions, echoes split "
        "by EchoTime, rescale applied. Returns dict: image (an Image: float64, geometry, affine, to_nibabel), "
        "array (its voxels, (nx, ny, nz[, n_echoes]), a view of image), geometry (LPS), te_ms, series_uid, "
        "description.");
    im.def(
        "list_dicom_series",
        [](const std::string& folder) {
            std::vector<DicomSeriesInfo> found;
            {
                py::gil_scoped_release release;
                found = list_dicom_series(folder);
            }
            py::list out;
            for (const auto& i : found) {
                py::dict d;
                d["series_uid"] = i.series_uid;
                d["description"] = i.description;
                d["files"] = i.files;
                d["te_ms"] = i.te_ms;
                out.append(d);
            }
            return out;
        },
        py::arg("folder"), "The series of a DICOM folder (headers only): list of dicts series_uid, description, "
        "files, te_ms.");
    im.def(
        "deidentify_dicom_files",
        [](const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
           const py::object& patient_pseudonym, const std::vector<std::pair<std::uint16_t, std::uint16_t>>& keep,
           bool keep_private) {
            DicomDeidOptions o;
            o.keep = keep;
            o.keep_private = keep_private;
            if (!patient_pseudonym.is_none()) {
                auto fn = std::shared_ptr<py::object>(new py::object(patient_pseudonym), [](py::object* p) {
                    py::gil_scoped_acquire gil;
                    delete p;
                });
                o.patient_pseudonym = [fn](const std::string& id) {
                    py::gil_scoped_acquire gil;
                    return (*fn)(id).cast<std::string>();
                };
            }
            std::vector<DicomDeidReport> reports;
            {
                py::gil_scoped_release release;
                reports = deidentify_dicom_files(inputs, outputs, o);
            }
            py::list out;
            for (const auto& r : reports) {
                py::dict d;
                d["input"] = r.input;
                d["output"] = r.output;
                d["changes"] = r.changes;
                out.append(d);
            }
            return out;
        },
        py::arg("inputs"), py::arg("outputs"), py::arg("patient_pseudonym") = py::none(),
        py::arg("keep") = std::vector<std::pair<std::uint16_t, std::uint16_t>>{}, py::arg("keep_private") = false,
        "De-identifies DICOM files with GDCM's Anonymizer (PS3.15 Annex E basic profile), one UID map for the "
        "whole call, private attributes removed unless keep_private, pixel data checked byte for byte. "
        "patient_pseudonym(original PatientID) -> str fills PatientID and PatientName; keep lists (group, "
        "element) pairs left as they are. Returns one dict per file: input, output, changes (attribute names "
        "and what happened, never values).");
    im.def("dicom_deid_profile_attributes", &dicom_deid_profile_attributes,
           "The attributes of GDCM's basic profile table, as '(gggg,eeee) Keyword'.");
    im.def(
        "knee_shape",
        [](const py::object& shape) { return shape_to_dict(shape_from_python(shape)); },
        py::arg("shape") = py::none(),
        "Shape parameters of the knee phantom as a dict (mm, radians): None = the standard knee, an int = "
        "random_knee_shape(seed), a dict = the standard knee with those fields replaced.");
    im.def(
        "make_knee_phantom",
        [](const Eigen::Vector3d& spacing_mm, const Eigen::Vector3d& extent_mm, int supersampling, double snr,
           double bias_amplitude, const std::vector<double>& te_ms, std::uint64_t seed, const py::object& shape,
           const py::object& progress) {
            KneePhantomOptions o;
            o.spacing_mm = spacing_mm;
            o.extent_mm = extent_mm;
            o.supersampling = supersampling;
            o.snr = snr;
            o.bias_amplitude = bias_amplitude;
            o.te_ms = te_ms;
            o.seed = seed;
            o.shape = shape_from_python(shape);
            const auto cb = progress_from_python(progress);
            KneePhantom ph;
            {
                py::gil_scoped_release release;
                ph = make_knee_phantom(o, cb);
            }
            py::dict out;
            out["geometry"] = ph.labels.geometry();
            out["te_ms"] = ph.te_ms;
            py::dict images;
            images["labels"] = volume_as_image(std::move(ph.labels), out, "labels");
            images["image"] = volume_as_image(std::move(ph.image), out, "image");
            images["echoes"] = volume_as_image(std::move(ph.echoes), out, "echoes");
            images["pure"] = volume_as_image(std::move(ph.pure), out, "pure");
            out["images"] = images;
            const auto& t = phantom_tissues();
            out["t2_ms"] = std::vector<double>(t.t2_ms.begin(), t.t2_ms.end());
            out["pd"] = std::vector<double>(t.pd.begin(), t.pd.end());
            out["shape"] = shape_to_dict(o.shape);
            return out;
        },
        py::arg("spacing_mm") = Eigen::Vector3d(0.5, 0.5, 0.5), py::arg("extent_mm") = Eigen::Vector3d(84, 84, 84),
        py::arg("supersampling") = 3, py::arg("snr") = 50.0, py::arg("bias_amplitude") = 0.15,
        py::arg("te_ms") = KneePhantomOptions{}.te_ms, py::arg("seed") = 0, py::arg("shape") = py::none(),
        py::arg("progress") = py::none(),
        "Parametric knee MRI phantom (see sportsmed/imaging/phantom.hpp). seed draws the noise; shape is the "
        "anatomy (None: the standard knee, int: a random knee, dict: see knee_shape). Returns dict: labels "
        "(uint8), image (DESS-like), echoes (nx, ny, nz, n_echoes), pure (uint8), geometry, te_ms, t2_ms and pd "
        "per label, shape (dict), and images: the same four as Image objects (geometry, affine, to_nibabel; "
        "the arrays are views of them).");
    im.def(
        "phantom_cartilage_thickness",
        [](int label, const Eigen::Ref<const RowMatX3>& points_mm, double edge_margin_mm, const py::object& shape) {
            const KneeShape ks = shape_from_python(shape);
            Eigen::VectorXd out(points_mm.rows());
            for (Eigen::Index r = 0; r < points_mm.rows(); ++r)
                out[r] = phantom_cartilage_thickness(label, points_mm.row(r).transpose(), edge_margin_mm, ks);
            return out;
        },
        py::arg("label"), py::arg("points_mm"), py::arg("edge_margin_mm") = 1.5, py::arg("shape") = py::none(),
        "Analytic phantom cartilage thickness (mm) of label 1/2/3 at world points (n, 3); NaN near sheet edges.");
    im.def(
        "cartilage_thickness",
        [](const LabelsIn& labels, const Eigen::Vector3d& spacing, int cartilage_label, int bone_label,
           const py::object& geometry, bool include_contact) {
            auto v = mask_volume(labels, spacing, "cartilage_thickness");
            if (!geometry.is_none()) {
                Geometry g = geometry.cast<Geometry>();
                SPORTSMED_CHECK(g.shape == v.shape(), "cartilage_thickness: geometry shape differs from the labels");
                v.geometry() = g;
            }
            ThicknessMap t;
            {
                py::gil_scoped_release release;
                t = cartilage_thickness(v, cartilage_label, bone_label, include_contact);
            }
            py::dict out;
            std::vector<std::int64_t> vox;
            for (const auto& x : t.voxels) vox.insert(vox.end(), x.begin(), x.end());
            out["voxels"] = py::array_t<std::int64_t>({static_cast<py::ssize_t>(t.voxels.size()), py::ssize_t(3)}, vox.data());
            out["points_mm"] = t.points_mm;
            out["thickness_mm"] = t.thickness_mm;
            out["map"] = volume_to_numpy(std::move(t.map));
            return out;
        },
        py::arg("labels"), py::arg("spacing"), py::arg("cartilage_label"), py::arg("bone_label"),
        py::arg("geometry") = py::none(), py::arg("include_contact") = false,
        "Nearest-surface cartilage thickness: for each articular-surface voxel (face neighbour of label 0; with "
        "include_contact of any label but the cartilage and the bone), the "
        "EDT distance to the nearest bone voxel. Returns dict: voxels (n, 3), points_mm (n, 3, LPS; identity "
        "geometry unless given), thickness_mm (n,), map (nx, ny, nz) NaN off the surface.");
    im.def(
        "label_volumes_mm3",
        [](const LabelsIn& labels, const Eigen::Vector3d& spacing) {
            auto v = mask_volume(labels, spacing, "label_volumes_mm3");
            return label_volumes_mm3(v);
        },
        py::arg("labels"), py::arg("spacing"), "Volume (mm^3) of each label 0..255 of a uint8 label map.");
    auto double_volume = [](const DoubleIn& a, const Geometry& g, const char* what) {
        if (a.ndim() != 3 && a.ndim() != 4)
            SPORTSMED_THROW(InvalidArgument, "{}: expected a 3-D or 4-D array, got {} dims", what, a.ndim());
        if (a.shape(0) != g.shape[0] || a.shape(1) != g.shape[1] || a.shape(2) != g.shape[2])
            SPORTSMED_THROW(InvalidArgument, "{}: array shape ({}, {}, {}) differs from the geometry's ({}, {}, {})",
                            what, a.shape(0), a.shape(1), a.shape(2), g.shape[0], g.shape[1], g.shape[2]);
        return Volume<double>(g, std::vector<double>(a.data(), a.data() + a.size()), a.ndim() == 4 ? a.shape(3) : 1);
    };
    auto label_volume = [](const U8Array& a, const Geometry& g, const char* what) {
        auto v = mask_volume(a, g.spacing_mm, what);
        SPORTSMED_CHECK(v.shape() == g.shape, "{}: array shape differs from the geometry's", what);
        v.geometry() = g;
        return v;
    };
    im.def("with_spacing", &with_spacing, py::arg("geometry"), py::arg("spacing"),
           "Geometry over the same field of view with a new voxel size (mm).");
    im.def(
        "resample",
        [double_volume](const DoubleIn& a, const Geometry& g, const Geometry& target, double fill) {
            auto v = double_volume(a, g, "resample");
            py::gil_scoped_release release;
            auto out = resample_linear(v, target, fill);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("array"), py::arg("geometry"), py::arg("target"), py::arg("fill") = 0.0,
        "Trilinear resampling of an image (nx, ny, nz[, c]) on geometry onto the target grid.");
    im.def(
        "resample_labels",
        [label_volume](const LabelsIn& a, const Geometry& g, const Geometry& target, bool label_aware) {
            auto v = label_volume(a, g, "resample_labels");
            py::gil_scoped_release release;
            auto out = resample_labels(v, target, label_aware);
            py::gil_scoped_acquire gil;
            return volume_to_numpy(std::move(out));
        },
        py::arg("labels"), py::arg("geometry"), py::arg("target"), py::arg("label_aware") = true,
        "Label-map resampling: nearest neighbour, or label-aware (largest trilinear weight per label).");
    im.def(
        "reorient",
        [double_volume, label_volume](const py::array& a, const Geometry& g, const std::string& code) {
            const Reorientation r = canonical_reorientation(g, code);
            if (a.dtype().is(py::dtype::of<std::uint8_t>()) || a.dtype().is(py::dtype::of<bool>())) {
                auto out = reorient(label_volume(py::cast<LabelsIn>(a), g, "reorient"), r);
                Geometry og = out.geometry();
                return py::make_tuple(volume_to_numpy(std::move(out)), og);
            }
            auto out = reorient(double_volume(py::cast<DoubleIn>(a), g, "reorient"), r);
            Geometry og = out.geometry();
            return py::make_tuple(volume_to_numpy(std::move(out)), og);
        },
        py::arg("array"), py::arg("geometry"), py::arg("code") = "RAS",
        "Exact reorientation (axis permutation and flips, no interpolation) to the closest orientation named by "
        "a 3-letter code of L/R, P/A, S/I ('RAS' as nibabel.as_closest_canonical, 'LPS', 'PIR' ...). uint8/bool "
        "stay uint8, others become float64. Returns (array, geometry).");
    im.def("as_label_map", [](const py::object& array, const std::string& what) {
               return to_uint8_labels(array, false, what);
           }, py::arg("array"), py::arg("what") = "label map",
           "The array as a uint8 label map (F order), checked: any integer or bool dtype, or floats holding whole "
           "numbers (nibabel's get_fdata() of a label map), labels 0-255; InvalidArgument otherwise (never a wrapped "
           "cast: 300 would become 44). The conversion every label-map argument goes through.");
    im.def("orientation_code", &orientation_code, py::arg("geometry"),
           "Three-letter code of the frame the geometry's voxel axes are closest to ('LPS' for identity).");
    im.def(
        "bounding_box",
        [](const MaskIn& mask, std::int64_t margin) {
            auto v = mask_volume(mask, Eigen::Vector3d::Ones(), "bounding_box");
            return bounding_box(v, margin);
        },
        py::arg("mask"), py::arg("margin") = 0, "Inclusive (lo, hi) voxel bounds of the nonzero voxels, grown by margin.");
    im.def(
        "crop",
        [double_volume](const DoubleIn& a, const Geometry& g, const std::array<std::int64_t, 3>& lo,
                        const std::array<std::int64_t, 3>& hi) {
            auto out = crop(double_volume(a, g, "crop"), lo, hi);
            Geometry og = out.geometry();
            return py::make_tuple(volume_to_numpy(std::move(out)), og);
        },
        py::arg("array"), py::arg("geometry"), py::arg("lo"), py::arg("hi"),
        "Sub-volume [lo, hi] (inclusive) with its geometry. Returns (array, geometry).");
    im.def(
        "paste",
        [double_volume](const DoubleIn& a, const Geometry& part_geometry, const Geometry& full,
                        const std::array<std::int64_t, 3>& lo, double fill) {
            auto out = paste(double_volume(a, part_geometry, "paste"), full, lo, fill);
            return volume_to_numpy(std::move(out));
        },
        py::arg("array"), py::arg("geometry"), py::arg("full"), py::arg("lo"), py::arg("fill") = 0.0,
        "Inverse of crop: the part placed at voxel offset lo in a volume on full, filled elsewhere.");
    im.def(
        "normalize_zscore",
        [double_volume](const DoubleIn& a, const py::object& mask) {
            Geometry g;
            g.shape = {a.shape(0), a.shape(1), a.ndim() >= 3 ? a.shape(2) : 1};
            auto v = double_volume(a, g, "normalize_zscore");
            if (mask.is_none()) return volume_to_numpy(normalize_zscore(v));
            auto m = mask_volume(py::cast<MaskIn>(mask), Eigen::Vector3d::Ones(), "normalize_zscore");
            return volume_to_numpy(normalize_zscore(v, &m));
        },
        py::arg("array"), py::arg("mask") = py::none(), "(x - mean) / std over the mask (population std).");
    im.def(
        "normalize_percentile",
        [double_volume](const DoubleIn& a, double low, double high) {
            Geometry g;
            g.shape = {a.shape(0), a.shape(1), a.ndim() >= 3 ? a.shape(2) : 1};
            return volume_to_numpy(normalize_percentile(double_volume(a, g, "normalize_percentile"), low, high));
        },
        py::arg("array"), py::arg("low") = 0.5, py::arg("high") = 99.5,
        "Clip to the [low, high] percentiles (numpy.percentile, linear) and rescale to [0, 1].");
    // --- local thickness, knee regions, unrolled femoral map ---
    im.def(
        "local_thickness",
        [](const MaskIn& mask, const Eigen::Vector3d& spacing) {
            const Shape3 s = shape3_of(mask, "local_thickness");
            std::vector<double> out(static_cast<std::size_t>(s[0] * s[1] * s[2]));
            {
                py::gil_scoped_release release;
                local_thickness(mask.data(), s, spacing, out.data());
            }
            return to_numpy(std::move(out), {s[0], s[1], s[2]});
        },
        py::arg("mask"), py::arg("spacing"),
        "Local thickness (mm; Hildebrand & Ruegsegger 1997) of each nonzero voxel: 2 x the radius of the largest "
        "EDT ball (open, radius = distance to the nearest zero voxel centre) containing it; 0 on background.");
    auto region_options = [](const std::string& side, const std::array<int, 5>& labels, double anterior_deg,
                             double posterior_deg) {
        KneeRegionOptions o;
        o.labels = {labels[0], labels[1], labels[2], labels[3], labels[4]};
        if (side == "auto") o.side = KneeSide::Auto;
        else if (side == "right") o.side = KneeSide::Right;
        else if (side == "left") o.side = KneeSide::Left;
        else SPORTSMED_THROW(InvalidArgument, "knee regions: side '{}', expected 'auto', 'right' or 'left'", side);
        o.anterior_deg = anterior_deg;
        o.posterior_deg = posterior_deg;
        return o;
    };
    auto frame_dict = [](const KneeFrame& f) {
        py::dict d;
        d["ml_split_mm"] = f.ml_split_mm;
        d["medial_sign"] = f.medial_sign;
        d["condyle_centre_yz_mm"] = f.condyle_centre_yz_mm;
        d["condyle_radius_mm"] = f.condyle_radius_mm;
        return d;
    };
    const std::array<int, 5> default_knee_labels{1, 2, 3, 5, 6};
    im.def(
        "regional_cartilage_thickness",
        [label_volume, region_options, frame_dict](const LabelsIn& labels, const Geometry& geometry,
                                                   const std::string& side, const std::array<int, 5>& knee_labels,
                                                   double anterior_deg, double posterior_deg) {
            auto v = label_volume(labels, geometry, "regional_cartilage_thickness");
            const auto o = region_options(side, knee_labels, anterior_deg, posterior_deg);
            std::vector<RegionThickness> res;
            KneeFrame f;
            {
                py::gil_scoped_release release;
                res = regional_cartilage_thickness(v, o, &f);
            }
            py::list rows;
            for (const auto& r : res) {
                py::dict d;
                d["region"] = r.name;
                d["label"] = r.label;
                d["points"] = r.points;
                d["mean_mm"] = r.mean_mm;
                d["sd_mm"] = r.sd_mm;
                d["voxels"] = r.voxels;
                d["mean_local_mm"] = r.mean_local_mm;
                rows.append(d);
            }
            return py::make_tuple(rows, frame_dict(f));
        },
        py::arg("labels"), py::arg("geometry"), py::arg("side") = "auto",
        py::arg("knee_labels") = default_knee_labels, py::arg("anterior_deg") = -30.0,
        py::arg("posterior_deg") = 30.0,
        "Mean cartilage thickness per region (femoral medial/lateral x anterior/central/posterior by the angle about "
        "the fitted condyle axis, tibial medial/lateral), in world (LPS) coordinates, see cartilage_regions.hpp. "
        "knee_labels: (femoral cartilage, medial tibial, lateral tibial cartilage, femur, tibia); side: 'auto' "
        "(from the tibial labels), 'right' or 'left'. Returns (rows, frame): rows of region, label, points, mean_mm, "
        "sd_mm (nearest-surface thickness), voxels, mean_local_mm (local thickness).");
    im.def(
        "unrolled_femoral_thickness",
        [label_volume, region_options, frame_dict](const LabelsIn& labels, const Geometry& geometry, double ml_step_mm,
                                                   double angle_step_deg, const std::string& side,
                                                   const std::array<int, 5>& knee_labels) {
            auto v = label_volume(labels, geometry, "unrolled_femoral_thickness");
            const auto o = region_options(side, knee_labels, -30.0, 30.0);
            UnrolledThicknessMap u;
            {
                py::gil_scoped_release release;
                u = unrolled_femoral_thickness(v, ml_step_mm, angle_step_deg, o);
            }
            const std::int64_t nx = u.map.shape()[0], na = u.map.shape()[1];
            py::dict d;
            d["map"] = to_numpy(std::move(u.map.values()), {nx, na});
            d["counts"] = to_numpy(std::move(u.counts.values()), {nx, na});
            d["ml0_mm"] = u.ml0_mm;
            d["ml_step_mm"] = u.ml_step_mm;
            d["angle0_deg"] = u.angle0_deg;
            d["angle_step_deg"] = u.angle_step_deg;
            d["frame"] = frame_dict(u.frame);
            return d;
        },
        py::arg("labels"), py::arg("geometry"), py::arg("ml_step_mm") = 1.0, py::arg("angle_step_deg") = 2.0,
        py::arg("side") = "auto", py::arg("knee_labels") = default_knee_labels,
        "Femoral cartilage thickness unrolled about the condyle axis: map (n_ml, n_angle) of the mean "
        "nearest-surface thickness (mm) per bin, NaN where empty; bin (i, j) is centred at world x = ml0_mm + "
        "i*ml_step_mm and angle = angle0_deg + j*angle_step_deg (0 inferior, + posterior). Also counts, frame.");
}

}  // namespace sportsmed::bindings
