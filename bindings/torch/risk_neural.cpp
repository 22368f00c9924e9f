// Python bindings of sportsmed::risk's LibTorch models (sportsmed._torch.risk).

#include <pybind11/eigen.h>

#include "../common.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/neural.hpp"

namespace sportsmed::bindings {

using namespace sportsmed::risk;
using GIL = py::call_guard<py::gil_scoped_release>;

void bind_risk_neural(py::module_& m) {
    py::class_<NeuralRiskModel> neural(m, "NeuralRiskModel",
        "LibTorch MLP or temporal 1D-CNN risk model (class weighting, early stopping, "
        "integrated-gradients explanations, thread-safe prediction).");
    neural
        .def(py::init([](const std::string& architecture, std::vector<int> hidden, int window_days, int channels,
                         int kernel_size, double learning_rate, double weight_decay, int batch_size, int max_epochs,
                         int patience, double validation_fraction, double pos_weight, std::uint64_t seed,
                         const std::string& device) {
                 NeuralOptions o;
                 o.architecture = architecture;
                 o.hidden = std::move(hidden);
                 o.window_days = window_days;
                 o.channels = channels;
                 o.kernel_size = kernel_size;
                 o.learning_rate = learning_rate;
                 o.weight_decay = weight_decay;
                 o.batch_size = batch_size;
                 o.max_epochs = max_epochs;
                 o.patience = patience;
                 o.validation_fraction = validation_fraction;
                 o.pos_weight = pos_weight;
                 o.seed = seed;
                 o.device = device;
                 return NeuralRiskModel(o);
             }),
             py::arg("architecture") = "mlp", py::arg("hidden") = std::vector<int>{32, 16}, py::arg("window_days") = 14,
             py::arg("channels") = 16, py::arg("kernel_size") = 3, py::arg("learning_rate") = 3e-3,
             py::arg("weight_decay") = 1e-4, py::arg("batch_size") = 512, py::arg("max_epochs") = 200,
             py::arg("patience") = 10, py::arg("validation_fraction") = 0.2, py::arg("pos_weight") = 1.0,
             py::arg("seed") = 0, py::arg("device") = "cpu")
        .def("fit", &NeuralRiskModel::fit, py::arg("x"), py::arg("y"), py::arg("groups") = VecXi64(), GIL(),
             py::return_value_policy::reference_internal, "Trains (early stopping on a validation split); returns self.")
        .def("decision_function", &NeuralRiskModel::decision_function, py::arg("x"), GIL())
        .def("predict_proba", &NeuralRiskModel::predict_proba, py::arg("x"), GIL())
        .def("integrated_gradients", &NeuralRiskModel::integrated_gradients, py::arg("x"), py::arg("baseline") = VecXd(),
             py::arg("steps") = 32, GIL(), "rows × (inputs+1): IG attributions of the logit, f(baseline) last.")
        .def("contributions", &NeuralRiskModel::contributions, py::arg("x"), GIL(),
             "integrated_gradients with the zero (training-mean) baseline; rows sum to the logit.")
        .def("parameters",
             [](const NeuralRiskModel& n) {
                 py::list out;
                 for (const auto& p : n.parameters()) {
                     py::dict d;
                     d["name"] = p.name;
                     d["shape"] = p.shape;
                     d["values"] = p.values;
                     out.append(d);
                 }
                 return out;
             },
             "Named weight tensors: list of {name, shape, values (flat)}.")
        .def("set_parameters",
             [](NeuralRiskModel& n, int n_inputs, const py::list& params) {
                 std::vector<NeuralRiskModel::Parameter> ps;
                 for (const auto& item : params) {
                     const auto d = item.cast<py::dict>();
                     ps.push_back({d["name"].cast<std::string>(), d["shape"].cast<std::vector<std::int64_t>>(),
                                   d["values"].cast<VecXd>()});
                 }
                 n.set_parameters(n_inputs, ps);
             },
             py::arg("n_inputs"), py::arg("params"))
        .def_property_readonly("n_inputs", &NeuralRiskModel::n_inputs)
        .def_property_readonly("history", &NeuralRiskModel::history)
        .def_property_readonly("best_epoch", &NeuralRiskModel::best_epoch)
        .def_property_readonly("fitted", &NeuralRiskModel::fitted)
        .def_property_readonly("architecture", [](const NeuralRiskModel& n) { return n.options().architecture; })
        .def_property_readonly("window_days", [](const NeuralRiskModel& n) { return n.options().window_days; })
        .def("save", &NeuralRiskModel::save, py::arg("path"), GIL(),
             "Writes the versioned JSON model file (format sportsmed-risk-neural).")
        .def_static("load", &NeuralRiskModel::load, py::arg("path"), py::arg("device") = "", GIL(),
                    "Reads a file written by save(); device '' keeps the saved one.");
}

}  // namespace sportsmed::bindings
