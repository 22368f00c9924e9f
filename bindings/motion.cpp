// Python bindings of sportsmed::motion (submodule sportsmed._core.motion).

#include <fmt/format.h>
#include <pybind11/eigen.h>

#include "common.hpp"
#include <cstring>
#include <optional>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion.hpp"

namespace sportsmed::bindings {
namespace {

using namespace sportsmed::motion;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::array_t<double> points_to_numpy(const Trial& t) {
    const py::ssize_t f = t.points.rows(), m = t.n_markers();
    py::array_t<double> out({f, m, py::ssize_t(3)});
    if (t.points.size()) std::memcpy(out.mutable_data(), t.points.data(), sizeof(double) * t.points.size());
    return out;
}

void points_from_numpy(Trial& t, const Array& a) {
    SPORTSMED_CHECK(a.ndim() == 3 && a.shape(2) == 3, "Trial.points: expected frames × markers × 3, got {} dims",
                    a.ndim());
    t.points.resize(a.shape(0), 3 * a.shape(1));
    if (a.size()) std::memcpy(t.points.data(), a.data(), sizeof(double) * a.size());
}

py::object parameter_value(const C3dParameter& p) {
    if (p.type == C3dType::Char) return py::cast(p.strings);
    return py::cast(p.numbers);
}

void bind_types(py::module_& m, py::class_<Event>& event, py::class_<Trial>& trial,
                py::class_<C3dParameter>& param, py::class_<C3dGroup>& group, py::class_<C3d>& c3d) {
    event.def(py::init<>())
        .def(py::init([](std::string label, double time_s, std::string context, std::string description) {
                 return Event{std::move(label), std::move(context), time_s, std::move(description)};
             }),
             py::arg("label"), py::arg("time_s"), py::arg("context") = "", py::arg("description") = "")
        .def_readwrite("label", &Event::label)
        .def_readwrite("context", &Event::context)
        .def_readwrite("time_s", &Event::time_s)
        .def_readwrite("description", &Event::description)
        .def("__repr__", [](const Event& e) {
            return fmt::format("Event({!r}, time_s={}, context={!r})", e.label, e.time_s, e.context);
        });

    trial.def(py::init<>())
        .def_property("points", &points_to_numpy, &points_from_numpy,
                      "frames × markers × 3 float64 array (a copy), NaN where missing, in point_units")
        .def_readwrite("residuals", &Trial::residuals, "frames × markers residuals (-1 invalid)")
        .def_readwrite("point_labels", &Trial::point_labels)
        .def_readwrite("point_descriptions", &Trial::point_descriptions)
        .def_readwrite("point_units", &Trial::point_units)
        .def_readwrite("point_rate_hz", &Trial::point_rate_hz)
        .def_readwrite("first_frame", &Trial::first_frame)
        .def_readwrite("time_offset_s", &Trial::time_offset_s,
                       "seconds added to every frame time (a TRC whose Time column starts elsewhere)")
        .def_property_readonly("times_s", [](const Trial& t) {
                Eigen::VectorXd out(t.n_frames());
                for (std::int64_t i = 0; i < t.n_frames(); ++i) out[i] = t.frame_time_s(i);
                return out;
            }, "time of every frame in s ((first_frame − 1 + i) / point_rate_hz + time_offset_s)")
        .def_readwrite("warnings", &Trial::warnings,
                       "what the reader or a check found doubtful (gaps read as missing, implausible values ...)")
        .def_readwrite("analogs", &Trial::analogs, "samples × channels, physical units")
        .def_readwrite("analog_labels", &Trial::analog_labels)
        .def_readwrite("analog_units", &Trial::analog_units)
        .def_readwrite("analog_rate_hz", &Trial::analog_rate_hz)
        .def_readwrite("events", &Trial::events)
        .def_readwrite("force_plates", &Trial::force_plates, "force plates (lab frame, analog rate), from FORCE_PLATFORM")
        .def_property_readonly("n_frames", &Trial::n_frames)
        .def_property_readonly("n_markers", &Trial::n_markers)
        .def("marker", [](const Trial& t, const std::string& label, std::optional<std::int64_t> occurrence) {
                return occurrence ? t.marker(label, *occurrence) : t.marker(label);
            }, py::arg("label"), py::arg("occurrence") = py::none(),
            "frames × 3 trajectory of one marker; occurrence (0-based) picks among columns sharing the label "
            "(without it a shared label is an InvalidArgument)")
        .def("marker_indices", &Trial::marker_indices, py::arg("label"), "every column holding the label")
        .def("has_marker", &Trial::has_marker, py::arg("label"))
        .def("set_marker", &Trial::set_marker, py::arg("label"), py::arg("xyz"))
        .def("__repr__", [](const Trial& t) {
            return fmt::format("Trial({} frames × {} markers @ {} Hz, {} analog channels, {} events)",
                               t.n_frames(), t.n_markers(), t.point_rate_hz, t.analog_labels.size(),
                               t.events.size());
        });

    param.def_readonly("name", &C3dParameter::name)
        .def_readonly("description", &C3dParameter::description)
        .def_property_readonly("type", [](const C3dParameter& p) { return static_cast<int>(p.type); },
                               "-1 char, 1 byte, 2 int16, 4 float")
        .def_readonly("dims", &C3dParameter::dims)
        .def_readonly("locked", &C3dParameter::locked)
        .def_property_readonly("value", &parameter_value, "list of str (char) or of float (numeric)");

    group.def_readonly("name", &C3dGroup::name)
        .def_readonly("description", &C3dGroup::description)
        .def_readonly("parameters", &C3dGroup::parameters);

    c3d.def_property_readonly("processor", [](const C3d& c) {
            switch (c.processor) {
                case C3dProcessor::Dec: return "DEC";
                case C3dProcessor::Mips: return "MIPS";
                default: return "Intel";
            }
        })
        .def_readonly("float_storage", &C3d::float_storage)
        .def_readwrite("trial", &C3d::trial)
        .def_readonly("groups", &C3d::groups)
        .def_readonly("warnings", &C3d::warnings)
        .def_property_readonly("rotation_labels", [](const C3d& c) { return c.rotations.labels; },
                               "labels of the rigid bodies of the ROTATION group (empty without one)")
        .def_property_readonly("rotation_rate_hz", [](const C3d& c) { return c.rotations.rate_hz; })
        .def_property_readonly("rotations", [](const C3d& c) {
                const auto& r = c.rotations;
                const py::ssize_t n = r.matrices.rows(), b = static_cast<py::ssize_t>(r.labels.size());
                py::array_t<double> out({n, b, py::ssize_t(4), py::ssize_t(4)});
                if (n * b > 0) std::memcpy(out.mutable_data(), r.matrices.data(), sizeof(double) * n * b * 16);
                return out;
            }, "samples × bodies × 4 × 4 homogeneous transforms of the ROTATION group (NaN: not tracked)")
        .def_property_readonly("rotation_reliability", [](const C3d& c) { return c.rotations.reliability; },
                               "samples × bodies reliabilities as stored (negative: not tracked)")
        .def_property_readonly("header_events",
                               [](const C3d& c) {
                                   py::list out;
                                   for (const auto& e : c.header.events)
                                       out.append(py::make_tuple(e.label, e.time_s, e.displayed));
                                   return out;
                               },
                               "header events as (label, time_s, displayed)")
        .def_property_readonly("camera_masks", [](const C3d& c) {
            return py::array_t<std::uint8_t>({c.camera_masks.rows(), c.camera_masks.cols()},
                                             c.camera_masks.data());
        })
        .def("parameter", [](const C3d& c, const std::string& g, const std::string& n) {
                return parameter_value(c.parameter(g, n));
            }, py::arg("group"), py::arg("name"),
            "Value of GROUP:NAME: list of str or of float. Raises NotFound.")
        .def("has_parameter", [](const C3d& c, const std::string& g, const std::string& n) {
                return c.find(g, n) != nullptr;
            }, py::arg("group"), py::arg("name"));
    (void)m;
}

// A 1-D or 2-D float64 array seen as samples × channels (1-D: one channel).
Eigen::Map<const RowMatXd> as_matrix(const Array& a, const char* who) {
    SPORTSMED_CHECK(a.ndim() == 1 || a.ndim() == 2, "{}: expected a 1-D or 2-D array, got {} dimensions", who,
                    a.ndim());
    const Eigen::Index rows = a.shape(0), cols = a.ndim() == 2 ? a.shape(1) : 1;
    return Eigen::Map<const RowMatXd>(a.data(), rows, cols);
}

py::array_t<double> like_input(const RowMatXd& m, const Array& a) {
    py::array_t<double> out(a.ndim() == 1 ? std::vector<py::ssize_t>{m.rows()}
                                          : std::vector<py::ssize_t>{m.rows(), m.cols()});
    if (m.size()) std::memcpy(out.mutable_data(), m.data(), sizeof(double) * m.size());
    return out;
}

FilterKind filter_kind(const std::string& btype) {
    if (btype == "lowpass" || btype == "low") return FilterKind::Lowpass;
    if (btype == "highpass" || btype == "high") return FilterKind::Highpass;
    SPORTSMED_THROW(InvalidArgument, "butter: btype '{}' is not 'lowpass' or 'highpass'", btype);
}

py::tuple coefficients_tuple(const FilterCoefficients& f) {
    return py::make_tuple(py::array_t<double>(f.b.size(), f.b.data()), py::array_t<double>(f.a.size(), f.a.data()));
}

void bind_filters(py::module_& m) {
    m.def("butter", [](int order, double wn, const std::string& btype) {
            return coefficients_tuple(butter(order, wn, filter_kind(btype)));
        }, py::arg("order"), py::arg("wn"), py::arg("btype") = "lowpass",
        "Butterworth (b, a) equal to scipy.signal.butter(order, wn, btype); wn is a fraction of Nyquist.");
    m.def("lfilter_zi", [](std::vector<double> b, std::vector<double> a) {
            return lfilter_zi(FilterCoefficients{std::move(b), std::move(a)});
        }, py::arg("b"), py::arg("a"), "Steady-state initial conditions, as scipy.signal.lfilter_zi.");
    m.def("filtfilt", [](std::vector<double> b, std::vector<double> a, const Array& x) {
            const auto xm = as_matrix(x, "filtfilt");
            // Filter straight into the NumPy result (no intermediate matrix, no copy).
            py::array_t<double> out(x.ndim() == 1 ? std::vector<py::ssize_t>{xm.rows()}
                                                  : std::vector<py::ssize_t>{xm.rows(), xm.cols()});
            Eigen::Map<RowMatXd> om(out.mutable_data(), xm.rows(), xm.cols());
            {
                py::gil_scoped_release release;
                filtfilt(FilterCoefficients{std::move(b), std::move(a)}, xm, om);
            }
            return out;
        }, py::arg("b"), py::arg("a"), py::arg("x"),
        "Zero-lag filter along axis 0, equal to scipy.signal.filtfilt(b, a, x, axis=0) (odd padding); "
        "NaN gaps split channels into independently filtered segments.");
    m.def("lowpass", [](const Array& x, double rate_hz, double cutoff_hz, int order, bool correct_double_pass) {
            const auto xm = as_matrix(x, "lowpass");
            RowMatXd out;
            {
                py::gil_scoped_release release;
                out = lowpass(xm, rate_hz, cutoff_hz, order, correct_double_pass);
            }
            return like_input(out, x);
        }, py::arg("x"), py::arg("rate_hz"), py::arg("cutoff_hz"), py::arg("order") = 2,
        py::arg("correct_double_pass") = false, "Butterworth low-pass filtfilt along axis 0.");
    m.def("double_pass_cutoff_hz", &double_pass_cutoff_hz, py::arg("cutoff_hz"), py::arg("rate_hz"), py::arg("order"),
          "Design cutoff giving -3 dB at cutoff_hz after filtfilt's double pass.");
    m.def("fill_gaps_spline", [](const Array& x, std::int64_t max_gap) {
            const auto xm = as_matrix(x, "fill_gaps_spline");
            RowMatXd out;
            {
                py::gil_scoped_release release;
                out = fill_gaps_spline(xm, max_gap);
            }
            return like_input(out, x);
        }, py::arg("x"), py::arg("max_gap"),
        "Fills interior NaN runs of at most max_gap samples with a natural cubic spline.");
    m.def("derivative", [](const Array& x, double rate_hz) {
            return like_input(derivative(as_matrix(x, "derivative"), rate_hz), x);
        }, py::arg("x"), py::arg("rate_hz"), "Central differences along axis 0, as numpy.gradient(x, 1/rate, axis=0).");
    m.def("resample_linear", [](const Array& x, double rate_hz, double new_rate_hz) {
            return like_input(resample_linear(as_matrix(x, "resample_linear"), rate_hz, new_rate_hz), x);
        }, py::arg("x"), py::arg("rate_hz"), py::arg("new_rate_hz"), "Linear resampling along axis 0.");
}

RowMatXd matrices_9(const Array& r, const char* who) {
    SPORTSMED_CHECK(r.ndim() == 3 && r.shape(1) == 3 && r.shape(2) == 3, "{}: expected N × 3 × 3 matrices", who);
    return Eigen::Map<const RowMatXd>(r.data(), r.shape(0), 9);
}

py::array_t<double> to_n33(const RowMatXd& m) {
    py::array_t<double> out({m.rows(), py::ssize_t(3), py::ssize_t(3)});
    if (m.size()) std::memcpy(out.mutable_data(), m.data(), sizeof(double) * m.size());
    return out;
}

void bind_rotations(py::module_& m) {
    m.def("matrices_to_euler", [](const std::string& seq, const Array& r, bool degrees) {
            RowMatXd in = matrices_9(r, "matrices_to_euler");
            RowMatXd out;
            {
                py::gil_scoped_release release;
                out = matrices_to_euler(seq, in);
            }
            if (degrees) out *= 180.0 / M_PI;
            return out;
        }, py::arg("seq"), py::arg("matrices"), py::arg("degrees") = false,
        "N × 3 angles of sequence seq (scipy Rotation.as_euler conventions) from N × 3 × 3 matrices.");
    m.def("euler_to_matrices", [](const std::string& seq, const Array& angles, bool degrees) {
            SPORTSMED_CHECK(angles.ndim() == 2 && angles.shape(1) == 3, "euler_to_matrices: expected N × 3 angles");
            RowMatXd a = Eigen::Map<const RowMatXd>(angles.data(), angles.shape(0), 3);
            if (degrees) a *= M_PI / 180.0;
            RowMatXd out;
            {
                py::gil_scoped_release release;
                out = euler_to_matrices(seq, a);
            }
            return to_n33(out);
        }, py::arg("seq"), py::arg("angles"), py::arg("degrees") = false,
        "N × 3 × 3 matrices from N × 3 angles (scipy Rotation.from_euler conventions).");
}

Side parse_side(const std::string& side) {
    if (side == "L" || side == "left" || side == "Left") return Side::Left;
    if (side == "R" || side == "right" || side == "Right") return Side::Right;
    SPORTSMED_THROW(InvalidArgument, "side '{}' is not 'L' or 'R'", side);
}

void bind_angles(py::module_& m) {
    m.def("segment_frames", [](const RowMatX3d& o, const RowMatX3d& a, const RowMatX3d& l, const RowMatX3d& p) {
            return to_n33(segment_frames(o, a, l, p));
        }, py::arg("origin"), py::arg("anterior"), py::arg("left"), py::arg("proximal"),
        "N × 3 × 3 orthonormal frames (columns x, y, z) from O, A, L, P points (N × 3 each).");
    m.def("grood_suntay_angles", [](const Array& prox, const Array& dist) {
            return grood_suntay_angles(matrices_9(prox, "grood_suntay_angles"), matrices_9(dist, "grood_suntay_angles"));
        }, py::arg("proximal"), py::arg("distal"),
        "Grood & Suntay JCS angles (radians, N × 3: about e1, floating e2, e3).");
    m.def("plugin_gait_angles", [](const Array& prox, const Array& dist, const std::string& side,
                                   const std::string& joint, const std::string& ankle_sequence) {
            return plugin_gait_angles(matrices_9(prox, "plugin_gait_angles"), matrices_9(dist, "plugin_gait_angles"),
                                      parse_side(side), joint, ankle_sequence);
        }, py::arg("proximal"), py::arg("distal"), py::arg("side"), py::arg("joint"), py::arg("ankle_sequence") = "auto",
        "Plug-in Gait angles in degrees (N × 3) of joint 'hip', 'knee', 'ankle', 'pelvis' or 'foot_progression' "
        "(proximal: the progression frame) on side 'L' or 'R'; ankle_sequence 'auto' (= 'YXZ', Vicon's "
        "documented one) or 'YZX' (older VCM-style output).");
    m.def("plugin_gait_angles_from_axes", [](const Trial& trial, const std::string& side,
                                             const std::string& ankle_sequence, bool with_pelvis_foot) {
            return plugin_gait_angles_from_axes(trial, parse_side(side), ankle_sequence, with_pelvis_foot);
        }, py::arg("trial"), py::arg("side"), py::arg("ankle_sequence") = "auto", py::arg("with_pelvis_foot") = false,
        "Hip, knee, ankle angles (N × 9 degrees; N × 15 with pelvis and foot progression) from the stored PiG "
        "segment axes (PELO…, *FEO…, *TIO…, *TOO…/*FOO…); 'auto' takes the foot convention the file's stored "
        "*AnkleAngles reveal.");
    m.def("plugin_gait_progression_frame", &plugin_gait_progression_frame, py::arg("trial"),
          "Plug-in Gait's progression frame (3 × 3, columns x forward, y left, z up).");
    m.def("resolve_ankle_sequence", [](const Trial& trial, const std::string& side, const Array& tor,
                                       const Array& foot, const std::string& requested) {
            std::string note;
            const std::string seq = resolve_ankle_sequence(trial, parse_side(side), matrices_9(tor, "resolve_ankle_sequence"),
                                                           matrices_9(foot, "resolve_ankle_sequence"), requested, &note);
            return py::make_tuple(seq, note);
        }, py::arg("trial"), py::arg("side"), py::arg("torsioned_tibia"), py::arg("foot"), py::arg("requested") = "auto",
        "(sequence, note): the foot decomposition the trial's stored *AnkleAngles call for.");
}

void bind_force_plates(py::module_& m) {
    m.def("force_plates", [](const C3d& c, double threshold) {
            py::list out;
            for (const auto& d : force_plates(c, threshold)) {
                py::dict p;
                p["type"] = d.type;
                p["corners"] = RowMatXd(d.corners);
                p["origin"] = VecXd(d.origin);
                p["rotation"] = RowMatXd(d.rotation);
                p["force"] = d.force;
                p["moment"] = d.moment;
                p["cop"] = d.cop;
                p["free_moment"] = d.free_moment;
                out.append(p);
            }
            return out;
        }, py::arg("c3d"), py::arg("cop_threshold_n") = 10.0,
        "Force plates (types 2, 3, 4) as dicts: force (N), moment (N·mm, surface centre), cop, free_moment, "
        "all in the lab frame at the analog rate.");
}

void bind_synthetic(py::module_& m, py::class_<SegmentTemplate>& tmpl, py::class_<SyntheticDropJump>& sdj) {
    tmpl.def(py::init<>())
        .def_readwrite("segment", &SegmentTemplate::segment)
        .def_readwrite("markers", &SegmentTemplate::markers)
        .def_readwrite("local_mm", &SegmentTemplate::local_mm)
        .def_readwrite("proximal_joint_mm", &SegmentTemplate::proximal_joint_mm,
                       "proximal joint centre in the segment frame (mm; NaN if unknown)");
    sdj.def_readonly("trial", &SyntheticDropJump::trial)
        .def_readonly("model", &SyntheticDropJump::model)
        .def_readonly("true_angles_left", &SyntheticDropJump::true_angles_left)
        .def_readonly("true_angles_right", &SyntheticDropJump::true_angles_right)
        .def_readonly("true_joint_centres_left", &SyntheticDropJump::true_joint_centres_left)
        .def_readonly("true_joint_centres_right", &SyntheticDropJump::true_joint_centres_right)
        .def_readonly("initial_contact_s", &SyntheticDropJump::initial_contact_s)
        .def_readonly("take_off_s", &SyntheticDropJump::take_off_s)
        .def_readonly("second_contact_s", &SyntheticDropJump::second_contact_s)
        .def_readonly("body_mass_kg", &SyntheticDropJump::body_mass_kg);
    m.def("synthesize_drop_jump", [](std::uint64_t seed, double rate_hz, double body_mass_kg, double knee_valgus_peak_deg,
                                     double noise_mm, int dropouts) {
            return synthesize_drop_jump(DropJumpSpec{seed, rate_hz, body_mass_kg, knee_valgus_peak_deg, noise_mm, dropouts});
        }, py::arg("seed") = 1, py::arg("rate_hz") = 200.0, py::arg("body_mass_kg") = 70.0,
        py::arg("knee_valgus_peak_deg") = 8.0, py::arg("noise_mm") = 0.5, py::arg("dropouts") = 6,
        py::call_guard<py::gil_scoped_release>(),
        "The synthetic athlete's drop vertical jump (seeded): markers, vertical GRF and the prescribed angles.");
    m.def("fit_segment", &fit_segment, py::arg("trial"), py::arg("segment"),
          "Rigid (Kabsch) fit of a segment template: N × 12 (rotation row-major, then origin).");
    m.def("model_angles", &model_angles, py::arg("trial"), py::arg("model"), py::arg("side"), py::arg("cutoff_hz") = 12.0,
          py::arg("max_gap") = 20, py::call_guard<py::gil_scoped_release>(),
          "PiG hip/knee/ankle angles (N × 9 degrees) from markers and a segment-template model.");
    m.def("detect_contacts", [](const VecXd& fz, double on, double off, std::int64_t min_samples) {
            const auto c = detect_contacts(fz, on, off, min_samples);
            RowMatXi64 out(static_cast<Eigen::Index>(c.size()), 2);
            for (std::size_t i = 0; i < c.size(); ++i) out.row(static_cast<Eigen::Index>(i)) << c[i].on, c[i].off;
            return out;
        }, py::arg("fz"), py::arg("on_threshold_n"), py::arg("off_threshold_n"), py::arg("min_samples") = 1,
        "Contacts (K × 2 sample indices [on, off)) by threshold with hysteresis.");
    m.def("cgm1_pelvis_frames", [](const Trial& t) {
            RowMatX3d origin;
            const RowMatXd f = cgm1_pelvis_frames(t, &origin);
            return py::make_tuple(to_n33(f), origin);
        }, py::arg("trial"), "CGM1 pelvis frames (N × 3 × 3) and mid-ASIS origins (N × 3) from LASI/RASI/SACR or PSIs.");
    m.def("cgm1_hip_joint_centres", &cgm1_hip_joint_centres, py::arg("trial"), py::arg("side"), py::arg("leg_length_mm"),
          py::arg("inter_asis_mm"), py::arg("asis_trocanter_mm"), py::arg("marker_radius_mm") = 7.0,
          py::arg("mean_leg_length_mm") = 0.0,
          "Davis (1991) hip joint centres (N × 3, lab mm) as Plug-in Gait applies the regression.");
    m.def("normalize_cycles", [](const Array& x, const std::vector<double>& strikes, int points) {
            const RowMatXd out = normalize_cycles(as_matrix(x, "normalize_cycles"), strikes, points);
            const py::ssize_t cycles = static_cast<py::ssize_t>(strikes.size()) - 1, ch = out.cols();
            py::array_t<double> a({cycles, py::ssize_t(points), ch});
            std::memcpy(a.mutable_data(), out.data(), sizeof(double) * out.size());
            return a;
        }, py::arg("x"), py::arg("strikes"), py::arg("points") = 101,
        "Cycles × points × channels: each strike-to-strike cycle of x (frames × channels) resampled to 0-100 %.");
    m.def("spatio_temporal", [](const std::vector<double>& strikes, const std::vector<double>& offs,
                                const RowMatX3d& heel, double rate_hz) {
            const SpatioTemporal s = spatio_temporal(strikes, offs, heel, rate_hz);
            py::dict d;
            d["stride_time_s"] = s.stride_time_s;
            d["cadence_steps_per_min"] = s.cadence_steps_per_min;
            d["stance_fraction"] = s.stance_fraction;
            d["stride_length_m"] = s.stride_length_m;
            d["speed_m_per_s"] = s.speed_m_per_s;
            d["strides"] = s.strides;
            return d;
        }, py::arg("strikes"), py::arg("offs"), py::arg("heel_mm"), py::arg("rate_hz"),
        "Stride time, cadence, stance fraction, stride length and speed of one foot.");
    m.def("rigid_body_fill", &rigid_body_fill, py::arg("trial"), py::arg("cluster"),
          py::call_guard<py::gil_scoped_release>(),
          "Fills gaps of cluster markers from >= 3 visible markers of the same rigid segment.");
    m.def("zeni_events", [](const Trial& t, const std::string& side, double window_s) {
            const GaitEvents g = zeni_events_from_trial(t, side, window_s);
            py::dict d;
            d["foot_strikes"] = g.foot_strikes;
            d["foot_offs"] = g.foot_offs;
            return d;
        }, py::arg("trial"), py::arg("side"), py::arg("window_s") = 0.2,
        "Zeni et al. 2008 gait events of side 'L'/'R' as frame indices: {'foot_strikes': [...], 'foot_offs': [...]}.");
    m.def("drop_jump_features", [](const RowMatXd& al, const RowMatXd& ar, double rate, const VecXd& fl, const VecXd& fr,
                                   double arate, double mass, std::optional<RowMatXd> cl, std::optional<RowMatXd> cr) {
            SPORTSMED_CHECK(cl.has_value() == cr.has_value(),
                            "drop_jump_features: give the joint centres of both sides or of none");
            py::list out;
            for (const auto& f : cl ? drop_jump_features(al, ar, rate, fl, fr, arate, mass, *cl, *cr)
                                    : drop_jump_features(al, ar, rate, fl, fr, arate, mass))
                out.append(py::make_tuple(f.name, f.value, f.unit));
            return out;
        }, py::arg("angles_left"), py::arg("angles_right"), py::arg("point_rate_hz"), py::arg("fz_left"),
        py::arg("fz_right"), py::arg("analog_rate_hz"), py::arg("body_mass_kg"), py::arg("centres_left") = py::none(),
        py::arg("centres_right") = py::none(),
        "Drop-vertical-jump features as (name, value, unit) tuples; with joint centres (frames × 9: hip, knee, "
        "ankle, lab) also the frontal-plane projection angles and knee-to-ankle separation ratios.");
    m.def("unloaded_plate_offset", [](const VecXd& force, double rate_hz, double body_weight_n) {
            return unloaded_plate_offset(force, rate_hz, body_weight_n);
        }, py::arg("force"), py::arg("rate_hz"), py::arg("body_weight_n"),
        "The level (N) an unloaded plate reads: its lowest 50 ms mean when under 10 % of body weight and at "
        "least 5 N; 0 otherwise (drop_jump_features takes it off before finding the contacts).");
    m.def("model_joint_centres", &model_joint_centres, py::arg("trial"), py::arg("model"), py::arg("side"),
          py::arg("cutoff_hz") = 12.0, py::arg("max_gap") = 20, py::call_guard<py::gil_scoped_release>(),
          "Hip, knee, ankle joint centres (N × 9, lab) from markers and a segment-template model.");
    m.def("frontal_view_anterior", &frontal_view_anterior, py::arg("left_hip"), py::arg("right_hip"),
          "Horizontal unit axis the athlete faces (a frontal camera's view axis), from the hip centres (N × 3).");
    m.def("frontal_plane_projection_angle", [](const RowMatX3d& hip, const RowMatX3d& knee, const RowMatX3d& ankle,
                                               const Eigen::Vector3d& anterior, const std::string& side) {
            return frontal_plane_projection_angle(hip, knee, ankle, anterior, parse_side(side));
        }, py::arg("hip"), py::arg("knee"), py::arg("ankle"), py::arg("anterior"), py::arg("side"),
        "Frontal-plane projection angle (deg, N) of the knee, valgus positive, from N × 3 joint centres.");
    m.def("knee_ankle_separation_ratio", &knee_ankle_separation_ratio, py::arg("left_knee"), py::arg("right_knee"),
          py::arg("left_ankle"), py::arg("right_ankle"), py::arg("anterior"),
          "Knee separation / ankle separation along the frontal medio-lateral axis (N), Noyes 2005.");
}

FeatureOptions feature_options(const std::string& task, double body_mass_kg, const std::string& gait_events,
                               double zeni_window_s, const std::string& vertical_axis) {
    FeatureOptions o;
    o.task = parse_task(task);
    o.body_mass_kg = body_mass_kg;
    o.gait_events = gait_events;
    o.zeni_window_s = zeni_window_s;
    o.vertical_axis = vertical_axis;
    return o;
}

std::vector<Feature> features_from_tuples(const py::list& rows) {
    std::vector<Feature> out;
    for (const auto& r : rows) {
        const auto t = r.cast<py::tuple>();
        SPORTSMED_CHECK(t.size() == 3, "make_feature_table: features are (name, value, unit) tuples");
        out.push_back({t[0].cast<std::string>(), t[1].cast<double>(), t[2].cast<std::string>()});
    }
    return out;
}

void bind_features(py::module_& m, py::class_<ForcePlateData>& plate, py::class_<FeatureTable>& table) {
    plate.def(py::init<>())
        .def_readwrite("type", &ForcePlateData::type)
        .def_readwrite("corners", &ForcePlateData::corners, "4 × 3 lab corners")
        .def_readwrite("origin", &ForcePlateData::origin)
        .def_readwrite("rotation", &ForcePlateData::rotation, "3 × 3, columns: plate axes in the lab")
        .def_readwrite("force", &ForcePlateData::force, "samples × 3, N, lab frame")
        .def_readwrite("moment", &ForcePlateData::moment, "samples × 3, N·mm about the surface centre, lab frame")
        .def_readwrite("cop", &ForcePlateData::cop, "samples × 3 centre of pressure (NaN when unloaded)")
        .def_readwrite("free_moment", &ForcePlateData::free_moment, "samples, N·mm")
        .def("__repr__", [](const ForcePlateData& d) {
            return fmt::format("ForcePlate(type {}, {} samples)", d.type, d.force.rows());
        });
    table.def_readonly("trials", &FeatureTable::trials)
        .def_readonly("names", &FeatureTable::names)
        .def_readonly("units", &FeatureTable::units)
        .def_readonly("values", &FeatureTable::values, "trials × features, NaN where absent")
        .def_readonly("errors", &FeatureTable::errors, "one per trial: empty or the error message")
        .def_readonly("warnings", &FeatureTable::warnings, "one per trial: empty or its warnings joined by '; '");
    m.def("trial_features", [](const Trial& t, const std::string& task, double mass, const std::string& events,
                               double window, const std::string& vertical, bool with_warnings) -> py::object {
            py::list out;
            std::vector<Feature> f;
            std::vector<std::string> w;
            {
                py::gil_scoped_release release;
                f = trial_features(t, feature_options(task, mass, events, window, vertical), &w);
            }
            for (const auto& x : f) out.append(py::make_tuple(x.name, x.value, x.unit));
            if (with_warnings) return py::make_tuple(out, w);
            return std::move(out);
        }, py::arg("trial"), py::arg("task") = "drop_jump", py::arg("body_mass_kg") = 0.0,
        py::arg("gait_events") = "auto", py::arg("zeni_window_s") = 0.2, py::arg("vertical_axis") = "auto",
        py::arg("with_warnings") = false,
        "Features of one trial ('drop_jump' or 'gait') as (name, value, unit) tuples; with_warnings=True returns "
        "(features, warnings).");
    m.def("batch_features", [](const std::vector<std::string>& paths, const std::string& task, double mass,
                               const std::string& events, double window, const py::object& progress,
                               const std::string& vertical) {
            const FeatureOptions o = feature_options(task, mass, events, window, vertical);
            const ProgressCallback cb = progress_from_python(progress);
            py::gil_scoped_release release;
            return batch_features(paths, o, cb);
        }, py::arg("paths"), py::arg("task") = "drop_jump", py::arg("body_mass_kg") = 0.0,
        py::arg("gait_events") = "auto", py::arg("zeni_window_s") = 0.2, py::arg("progress") = py::none(),
        py::arg("vertical_axis") = "auto",
        "Reads .c3d/.trc files in parallel and returns their FeatureTable (failed files: NaN row and error).");
    m.def("make_feature_table", [](const std::vector<std::string>& trials, const py::list& features,
                                   const std::vector<std::string>& errors, const std::vector<std::string>& warnings) {
            std::vector<std::vector<Feature>> rows;
            for (const auto& r : features) rows.push_back(features_from_tuples(r.cast<py::list>()));
            return make_feature_table(trials, rows, errors, warnings);
        }, py::arg("trials"), py::arg("features"), py::arg("errors") = std::vector<std::string>{},
        py::arg("warnings") = std::vector<std::string>{},
        "FeatureTable from per-trial lists of (name, value, unit) tuples.");
}

// --- CGM1 (Plug-in Gait lower body) ---
py::dict cgm1_to_dict(const Cgm1Result& r) {
    py::dict d;
    d["pelvis"] = to_n33(r.pelvis);
    d["pelvis_origin"] = r.pelvis_origin;
    for (const auto& [s, leg] : {std::pair<std::string, const Cgm1Leg*>{"L", &r.left}, {"R", &r.right}}) {
        d[py::str(s + "HJC")] = leg->hip_joint_centre;
        d[py::str(s + "KJC")] = leg->knee_joint_centre;
        d[py::str(s + "AJC")] = leg->ankle_joint_centre;
        d[py::str(s + "Femur")] = to_n33(leg->femur);
        d[py::str(s + "Tibia")] = to_n33(leg->tibia);
        d[py::str(s + "TibiaTorsioned")] = to_n33(leg->tibia_torsioned);
        d[py::str(s + "FootUncorrected")] = to_n33(leg->foot_uncorrected);
        d[py::str(s + "Foot")] = to_n33(leg->foot);
        d[py::str(s + "HipAngles")] = leg->hip_angles_deg;
        d[py::str(s + "KneeAngles")] = leg->knee_angles_deg;
        d[py::str(s + "AnkleAngles")] = leg->ankle_angles_deg;
    }
    return d;
}

void bind_cgm(py::module_& m) {
    py::class_<Cgm1LegParameters> leg(m, "Cgm1LegParameters",
                                      "Subject measurements of one leg (PROCESSING names; angles in radians).");
    py::class_<Cgm1Parameters> par(m, "Cgm1Parameters", "Everything the CGM1 needs besides the markers.");
    leg.def(py::init<>())
        .def_readwrite("leg_length_mm", &Cgm1LegParameters::leg_length_mm)
        .def_readwrite("asis_trocanter_mm", &Cgm1LegParameters::asis_trocanter_mm)
        .def_readwrite("knee_width_mm", &Cgm1LegParameters::knee_width_mm)
        .def_readwrite("ankle_width_mm", &Cgm1LegParameters::ankle_width_mm)
        .def_readwrite("thigh_rotation_rad", &Cgm1LegParameters::thigh_rotation_rad)
        .def_readwrite("shank_rotation_rad", &Cgm1LegParameters::shank_rotation_rad)
        .def_readwrite("tibial_torsion_rad", &Cgm1LegParameters::tibial_torsion_rad)
        .def_readwrite("static_plantar_flexion_rad", &Cgm1LegParameters::static_plantar_flexion_rad)
        .def_readwrite("static_rotation_offset_rad", &Cgm1LegParameters::static_rotation_offset_rad)
        .def_readwrite("ankle_abadd_rad", &Cgm1LegParameters::ankle_abadd_rad);
    par.def(py::init<>())
        .def_readwrite("left", &Cgm1Parameters::left)
        .def_readwrite("right", &Cgm1Parameters::right)
        .def_readwrite("inter_asis_mm", &Cgm1Parameters::inter_asis_mm)
        .def_readwrite("marker_diameter_mm", &Cgm1Parameters::marker_diameter_mm)
        .def_property("hip_joint_centre",
                      [](const Cgm1Parameters& p) {
                          return p.hip_joint_centre == HipJointCentreMethod::Davis ? "davis" : "harrington";
                      },
                      [](Cgm1Parameters& p, const std::string& v) {
                          if (v == "davis") p.hip_joint_centre = HipJointCentreMethod::Davis;
                          else if (v == "harrington") p.hip_joint_centre = HipJointCentreMethod::Harrington;
                          else SPORTSMED_THROW(InvalidArgument, "hip_joint_centre '{}' is not davis or harrington", v);
                      },
                      "'davis' (Plug-in Gait) or 'harrington' (Harrington et al. 2007)")
        .def_readwrite("ankle_sequence", &Cgm1Parameters::ankle_sequence,
                       "'auto' (the trial's stored *AnkleAngles decide, else YXZ), 'YXZ' or 'YZX'");
    m.def("cgm1_parameters_from_c3d", &cgm1_parameters_from_c3d, py::arg("c3d"),
          "CGM1 parameters from a C3D's PROCESSING group. Raises InvalidArgument naming missing ones.");
    m.def("cgm1", [](const Trial& t, const Cgm1Parameters& p) {
            Cgm1Result r;
            {
                py::gil_scoped_release release;
                r = cgm1(t, p);
            }
            return cgm1_to_dict(r);
        }, py::arg("trial"), py::arg("params"),
        "CGM1 / Plug-in Gait lower body from markers: dict of joint centres (N × 3, the trial's point units), frames (N × 3 × 3) and "
        "'LHipAngles'… (N × 3 degrees). Raises InvalidArgument listing missing markers.");
    m.def("chord_joint_centres", &chord_joint_centres, py::arg("proximal"), py::arg("wand"), py::arg("lateral"),
          py::arg("offset_mm"), py::arg("rotation_rad") = 0.0,
          "Plug-in Gait chord function: joint centres (N × 3) from proximal centre, wand and lateral marker.");
    m.def("davis_hip_joint_centre", [](double leg, double ia, double atd, double r, bool left, double mean_leg) {
            return Eigen::Vector3d(davis_hip_joint_centre(leg, ia, atd, r, left, mean_leg));
        }, py::arg("leg_length_mm"), py::arg("inter_asis_mm"), py::arg("asis_trocanter_mm"), py::arg("marker_radius_mm"),
        py::arg("left"), py::arg("mean_leg_length_mm") = 0.0, "Davis (1991) HJC in the pelvis frame (mm).");
    m.def("harrington_hip_joint_centre", [](double pw, double pd, bool left) {
            return Eigen::Vector3d(harrington_hip_joint_centre(pw, pd, left));
        }, py::arg("pelvis_width_mm"), py::arg("pelvis_depth_mm"), py::arg("left"),
        "Harrington (2007) HJC in the pelvis frame (mm; x anterior, y left, z up).");
}
// --- end CGM1 ---

// --- inverse dynamics ---
py::dict bsp_to_dict(const BodySegmentTable& t) {
    py::dict d;
    d["name"] = t.name;
    for (auto [name, s] : {std::pair<const char*, const SegmentInertia*>{"thigh", &t.thigh}, {"shank", &t.shank},
                           {"foot", &t.foot}}) {
        py::dict e;
        e["mass_fraction"] = s->mass_fraction;
        e["com_from_proximal"] = s->com_from_proximal;
        e["gyration_sagittal"] = s->gyration_sagittal;
        e["gyration_frontal"] = s->gyration_frontal;
        e["gyration_long"] = s->gyration_long;
        d[name] = e;
    }
    return d;
}

void bind_dynamics(py::module_& m) {
    m.def("body_segment_table", [](const std::string& name) { return bsp_to_dict(body_segment_table(name)); },
          py::arg("name") = "dempster",
          "Body-segment parameters ('dempster' as Plug-in Gait/Winter 2009, 'de_leva_female', 'de_leva_male' "
          "(de Leva 1996)) as a dict: segment → mass_fraction, com_from_proximal, gyration_* (fractions).");
    m.def("_inverse_dynamics",
          [](const Trial& trial, double body_mass_kg, const std::string& table, double cutoff_hz,
             const std::string& frame, bool external, double force_threshold_n, double max_cop_distance_m,
             const std::string& model, std::optional<Cgm1Parameters> cgm1_parameters,
             std::optional<RowMatX3d> left_force, std::optional<RowMatX3d> left_moment,
             std::optional<RowMatX3d> right_force, std::optional<RowMatX3d> right_moment,
             const std::string& screen_y) {
              InverseDynamicsOptions o;
              o.screen_y = screen_y;
              o.body_mass_kg = body_mass_kg;
              o.table = table;
              o.cutoff_hz = cutoff_hz;
              if (frame == "distal") o.frame = MomentFrame::Distal;
              else if (frame == "proximal") o.frame = MomentFrame::Proximal;
              else if (frame == "lab") o.frame = MomentFrame::Lab;
              else if (frame == "jcs") o.frame = MomentFrame::Jcs;
              else SPORTSMED_THROW(InvalidArgument, "inverse_dynamics: frame '{}' is not distal, proximal, lab or jcs",
                                   frame);
              o.external = external;
              o.force_threshold_n = force_threshold_n;
              o.max_cop_distance_m = max_cop_distance_m;
              o.model = model;
              const Cgm1Parameters* cp = cgm1_parameters ? &*cgm1_parameters : nullptr;
              InverseDynamicsResult r;
              {
                  py::gil_scoped_release release;
                  if (left_force) {
                      SPORTSMED_CHECK(left_moment && right_force && right_moment,
                                      "inverse_dynamics: give the force and moment of both feet");
                      r = inverse_dynamics(trial, FootLoad{*left_force, *left_moment},
                                           FootLoad{*right_force, *right_moment}, o, cp);
                  } else {
                      r = inverse_dynamics(trial, o, cp);
                  }
              }
              py::dict d;
              for (auto [side, s] : {std::pair<const char*, const SideDynamics*>{"L", &r.left}, {"R", &r.right}}) {
                  py::dict e;
                  e["moments"] = s->moments;
                  e["forces"] = s->forces;
                  e["powers"] = s->powers;
                  e["plate"] = s->plate;
                  d[side] = e;
              }
              d["warnings"] = r.warnings;
              d["model"] = r.model;
              d["vertical_axis"] = r.vertical_axis;
              d["body_mass_kg"] = r.body_mass_kg;
              d["rate_hz"] = r.rate_hz;
              return d;
          },
          py::arg("trial"), py::arg("body_mass_kg"), py::arg("table") = "dempster", py::arg("cutoff_hz") = 15.0,
          py::arg("frame") = "distal", py::arg("external") = false, py::arg("force_threshold_n") = 20.0,
          py::arg("max_cop_distance_m") = 0.10, py::arg("model") = "auto", py::arg("cgm1_parameters") = py::none(),
          py::arg("left_force") = py::none(), py::arg("left_moment") = py::none(),
          py::arg("right_force") = py::none(), py::arg("right_moment") = py::none(), py::arg("screen_y") = "",
          "Newton–Euler lower-limb inverse dynamics (see sportsmed.motion.inverse_dynamics): dict with 'L'/'R' → "
          "moments (N × 9, N·m, hip/knee/ankle X Y Z), forces (N × 9, N), powers (N × 3, W), plate (N), and "
          "warnings, model, vertical_axis, body_mass_kg, rate_hz.");
    m.def("_leg_segments",
          [](const Trial& trial, const std::string& side, const std::string& model,
             std::optional<Cgm1Parameters> cgm1_parameters) {
              std::string used;
              const LegSegments leg = leg_segments_from_trial(trial, side, model,
                                                              cgm1_parameters ? &*cgm1_parameters : nullptr, &used);
              py::dict d;
              d["hip"] = leg.hip;
              d["knee"] = leg.knee;
              d["ankle"] = leg.ankle;
              d["toe"] = leg.toe;
              d["pelvis"] = leg.pelvis;
              d["thigh"] = leg.thigh;
              d["shank"] = leg.shank;
              d["foot"] = leg.foot;
              d["model"] = used;
              return d;
          },
          py::arg("trial"), py::arg("side"), py::arg("model") = "auto", py::arg("cgm1_parameters") = py::none(),
          "Segment kinematics of one leg (SI units): hip/knee/ankle/toe (N × 3, m), pelvis/thigh/shank/foot "
          "frames (N × 9), and the model used ('axes' or 'cgm1').");
    m.def("_leg_inverse_dynamics_batch",
          [](const py::list& legs, const py::list& loads, const std::string& table, const std::vector<double>& masses,
             double rate_hz, const Eigen::Vector3d& gravity) {
              std::vector<LegSegments> ls;
              std::vector<FootLoad> fl;
              ls.reserve(legs.size());
              fl.reserve(loads.size());
              for (const py::handle& h : legs) {
                  const py::dict d = h.cast<py::dict>();
                  LegSegments l;
                  l.hip = d["hip"].cast<RowMatX3d>();
                  l.knee = d["knee"].cast<RowMatX3d>();
                  l.ankle = d["ankle"].cast<RowMatX3d>();
                  l.toe = d["toe"].cast<RowMatX3d>();
                  if (d.contains("pelvis")) l.pelvis = d["pelvis"].cast<RowMatXd>();
                  l.thigh = d["thigh"].cast<RowMatXd>();
                  l.shank = d["shank"].cast<RowMatXd>();
                  l.foot = d["foot"].cast<RowMatXd>();
                  ls.push_back(std::move(l));
              }
              for (const py::handle& h : loads) {
                  const py::dict d = h.cast<py::dict>();
                  fl.push_back(FootLoad{d["force"].cast<RowMatX3d>(), d["moment"].cast<RowMatX3d>()});
              }
              const BodySegmentTable bsp = body_segment_table(table);
              std::vector<LegDynamics> r;
              {
                  py::gil_scoped_release release;
                  r = leg_inverse_dynamics_batch(ls, fl, bsp, masses, rate_hz, gravity);
              }
              py::list out;
              for (const LegDynamics& d : r) {
                  py::dict e;
                  e["ankle_force"] = d.ankle_force;
                  e["knee_force"] = d.knee_force;
                  e["hip_force"] = d.hip_force;
                  e["ankle_moment"] = d.ankle_moment;
                  e["knee_moment"] = d.knee_moment;
                  e["hip_moment"] = d.hip_moment;
                  e["ankle_power"] = d.ankle_power;
                  e["knee_power"] = d.knee_power;
                  e["hip_power"] = d.hip_power;
                  out.append(e);
              }
              return out;
          },
          py::arg("legs"), py::arg("loads"), py::arg("table"), py::arg("body_mass_kg"), py::arg("rate_hz"),
          py::arg("gravity"),
          "Newton–Euler of many legs in parallel (see sportsmed.motion.leg_inverse_dynamics).");
}
// --- end inverse dynamics ---

}  // namespace

void bind_checks(py::module_& m) {
    m.def("detect_vertical_axis", [](const py::object& source) {
            const VerticalAxis v = py::isinstance<C3d>(source) ? detect_vertical_axis(source.cast<const C3d&>())
                                                               : detect_vertical_axis(source.cast<const Trial&>());
            py::dict d;
            d["axis"] = v.axis;
            d["sign"] = v.sign;
            d["name"] = v.name();
            d["source"] = v.source;
            d["confident"] = v.confident;
            d["extent"] = py::make_tuple(v.extent[0], v.extent[1], v.extent[2]);
            return d;
        }, py::arg("source"),
        "The lab's vertical axis of a Trial or C3d: dict(axis 0-2, sign ±1, name '+z', source, confident, extent).");
    m.def("to_z_up", [](const Trial& t, const std::string& vertical) {
            SPORTSMED_CHECK(vertical.size() == 2 && (vertical[0] == '+' || vertical[0] == '-') &&
                                (vertical[1] == 'x' || vertical[1] == 'y' || vertical[1] == 'z'),
                            "to_z_up: vertical '{}' is not one of +x, -x, +y, -y, +z, -z", vertical);
            VerticalAxis v;
            v.axis = vertical[1] - 'x';
            v.sign = vertical[0] == '+' ? 1 : -1;
            v.source = "given";
            return to_z_up(t, v);
        }, py::arg("trial"), py::arg("vertical"),
        "The trial turned (a proper signed axis permutation) so that the given vertical ('+y' ...) becomes +z.");
    m.def("marker_distance_jumps", [](const Trial& t, double tol, double jump) {
            py::list out;
            for (const auto& j : marker_distance_jumps(t, tol, jump)) {
                py::dict d;
                d["marker_a"] = j.marker_a;
                d["marker_b"] = j.marker_b;
                d["median_distance"] = j.median_distance;
                d["worst_distance"] = j.worst_distance;
                d["frames"] = j.frames;
                out.append(d);
            }
            return out;
        }, py::arg("trial"), py::arg("rigid_tolerance_mm") = 5.0, py::arg("jump_threshold_mm") = 30.0,
        "Rigid marker pairs whose distance jumps (swapped or mislabelled markers): list of dicts.");
    m.def("implausible_angles", &implausible_angles, py::arg("angles_deg"), py::arg("side"),
          "Messages for Plug-in Gait angles (N × 9) outside the human range.");
    m.def("trial_checks", [](const py::object& source) {
            if (py::isinstance<C3d>(source)) {
                const C3d& c = source.cast<const C3d&>();
                return trial_checks(c.trial, &c);
            }
            return trial_checks(source.cast<const Trial&>());
        }, py::arg("source"),
        "Warnings about a Trial or C3d that need no model: vertical axis, empty markers, distance jumps.");
}

void bind_motion(py::module_& parent) {
    py::module_ m = parent.def_submodule("motion", "Motion capture: C3D/TRC/MOT, filtering, joint angles.");
    py::class_<Event> event(m, "Event", "A labelled instant of a trial.");
    py::class_<Trial> trial(m, "Trial", "One motion-capture trial (points, analogs, events).");
    py::class_<C3dParameter> param(m, "C3dParameter", "One C3D parameter.");
    py::class_<C3dGroup> group(m, "C3dGroup", "One C3D parameter group.");
    py::class_<C3d> c3d(m, "C3d", "A C3D file: header, parameters and trial.");
    py::class_<MotTable> mot(m, "MotTable", "An OpenSim .mot/.sto table.");
    py::class_<SegmentTemplate> tmpl(m, "SegmentTemplate", "Marker positions of one segment in its frame (mm).");
    py::class_<SyntheticDropJump> sdj(m, "SyntheticDropJump", "A generated drop jump with its ground truth.");
    py::class_<ForcePlateData> plate(m, "ForcePlate", "One force plate's signals in the lab frame (analog rate).");
    py::class_<FeatureTable> table(m, "FeatureTable", "Features of many trials: a row per trial, a column per feature.");
    bind_types(m, event, trial, param, group, c3d);
    mot.def(py::init<>())
        .def_readwrite("name", &MotTable::name)
        .def_readwrite("header", &MotTable::header)
        .def_readwrite("labels", &MotTable::labels)
        .def_readwrite("data", &MotTable::data, "rows × columns float64 (time first)")
        .def_property_readonly("in_degrees", &MotTable::in_degrees)
        .def("column", &MotTable::column, py::arg("label"), "One column by label. Raises NotFound.");

    bind_filters(m);
    bind_rotations(m);
    bind_angles(m);
    bind_force_plates(m);
    bind_synthetic(m, tmpl, sdj);
    bind_features(m, plate, table);
    bind_checks(m);
    bind_cgm(m);
    bind_dynamics(m);
    m.def("read_trc", &read_trc, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Reads a TRC marker file (tab or comma separated) into a Trial.");
    m.def("write_trc", &write_trc, py::arg("path"), py::arg("trial"), py::call_guard<py::gil_scoped_release>(),
          "Writes a Trial's points as a TRC file (exact round trip).");
    m.def("read_mot", &read_mot, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Reads an OpenSim .mot/.sto table.");
    m.def("write_mot", &write_mot, py::arg("path"), py::arg("table"), py::call_guard<py::gil_scoped_release>(),
          "Writes an OpenSim .mot/.sto table (exact round trip).");

    m.def("read_c3d", [](const std::string& path, bool allow_short_data) {
            return read_c3d(path, C3dReadOptions{allow_short_data});
        }, py::arg("path"), py::arg("allow_short_data") = true,
        py::call_guard<py::gil_scoped_release>(),
        "Reads a C3D file (Intel/DEC/MIPS, int16/float). Raises FormatError for a corrupt or "
        "truncated file (naming the byte offset); allow_short_data=False also rejects a data "
        "section shorter than declared.");
    m.def("write_c3d", py::overload_cast<const std::string&, const C3d&>(&write_c3d), py::arg("path"),
          py::arg("c3d"), py::call_guard<py::gil_scoped_release>(),
          "Writes an Intel float C3D file (parameters kept, POINT/ANALOG/EVENT regenerated).");
    m.def("write_trial_c3d", py::overload_cast<const std::string&, const Trial&>(&write_c3d),
          py::arg("path"), py::arg("trial"), py::call_guard<py::gil_scoped_release>(),
          "Writes a Trial as an Intel float C3D file with a minimal parameter set.");
    m.def("convert_units", &convert_units, py::arg("trial"), py::arg("units"),
          "Returns the trial with points in 'mm', 'cm' or 'm'.");
    m.def("strip_label_prefixes", &strip_label_prefixes, py::arg("trial"),
          "Returns the trial with subject prefixes ('A22:') removed from point labels.");
}

}  // namespace sportsmed::bindings
