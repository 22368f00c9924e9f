// Python bindings of sportsmed::risk (submodule sportsmed._core.risk).

#include <pybind11/eigen.h>

#include "common.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/risk.hpp"

namespace sportsmed::bindings {
namespace {

using namespace sportsmed::risk;
using I64Ref = Eigen::Ref<const VecXi64>;
using GIL = py::call_guard<py::gil_scoped_release>;

MissingDay parse_policy(const std::string& s) {
    if (s == "zero") return MissingDay::Zero;
    if (s == "missing") return MissingDay::Missing;
    SPORTSMED_THROW(InvalidArgument, "missing-day policy must be 'zero' or 'missing', got '{}'", s);
}

Metric parse_metric(const std::string& s) {
    if (s == "roc_auc") return Metric::RocAuc;
    if (s == "average_precision") return Metric::AveragePrecision;
    if (s == "brier") return Metric::Brier;
    SPORTSMED_THROW(InvalidArgument, "metric must be 'roc_auc', 'average_precision' or 'brier', got '{}'", s);
}

WorkloadOptions make_options(int acute_days, int chronic_days, int min_periods) {
    WorkloadOptions o;
    o.acute_days = acute_days;
    o.chronic_days = chronic_days;
    o.min_periods = min_periods;
    return o;
}




}  // namespace

void bind_risk(py::module_& root) {
    py::module_ m = root.def_submodule("risk", "Injury risk: workload, labels, validation, metrics, models.");

    // Classes first so that signatures show Python names.
    py::class_<AthleteTable> table(m, "AthleteTable", "Athlete-time table sorted by athlete, then day.");
    py::class_<LogisticRegression> logistic(m, "LogisticRegression",
        "L2 / elastic-net logistic regression with scikit-learn's objective "
        "C·Σ logloss + (1−l1_ratio)/2‖w‖² + l1_ratio‖w‖₁ (intercept unpenalised).");

    py::class_<GradientBoosting> boosting(m, "GradientBoosting",
        "Binary-logistic gradient-boosted trees (libxgboost C API, exact splits); "
        "thread-safe prediction and TreeSHAP contributions.");

    py::class_<PlattCalibration> platt(m, "PlattCalibration", "Platt scaling p = 1/(1+exp(-(a·s+b))).");
    py::class_<IsotonicCalibration> isotonic(m, "IsotonicCalibration",
        "Isotonic calibration (PAVA) = sklearn IsotonicRegression(out_of_bounds='clip').");

    py::class_<CoxPH> cox(m, "CoxPH",
        "Cox proportional hazards, counting-process rows (start, stop], Breslow ties.");

    table.def(py::init<>())
        .def_readwrite("athletes", &AthleteTable::athletes, "athlete names")
        .def_readwrite("athlete", &AthleteTable::athlete, "per row, index into athletes")
        .def_readwrite("day", &AthleteTable::day, "per row, days since 1970-01-01")
        .def_readwrite("columns", &AthleteTable::columns, "value column names")
        .def_readwrite("values", &AthleteTable::values, "rows × columns, NaN = empty");

    m.def("parse_iso_day", &parse_iso_day, py::arg("iso"), "Days since 1970-01-01 of 'YYYY-MM-DD'.");
    m.def("format_iso_day", &format_iso_day, py::arg("day"), "'YYYY-MM-DD' of a day number.");
    m.def("read_athlete_csv",
          [](const std::string& path, const std::string& athlete_column, const std::string& date_column,
             const std::vector<std::string>& columns, const std::string& decimal,
             const std::vector<std::string>& nonnegative, const std::vector<std::string>& binary) {
              SPORTSMED_CHECK(decimal == "." || decimal == ",",
                              "read_athlete_csv: decimal must be '.' or ',', got '{}'", decimal);
              CsvOptions options;
              options.decimal = decimal[0];
              options.nonnegative = nonnegative;
              options.binary = binary;
              return read_athlete_csv(path, athlete_column, date_column, columns, options);
          },
          py::arg("path"), py::arg("athlete_column") = "athlete", py::arg("date_column") = "date",
          py::arg("columns") = std::vector<std::string>{}, py::arg("decimal") = ".",
          py::arg("nonnegative") = std::vector<std::string>{}, py::arg("binary") = std::vector<std::string>{},
          GIL(),
          "Reads a CSV athlete-time table (sorted by athlete, then day): ',' ';' or tab separated "
          "(from the header), RFC 4180 quotes, a UTF-8 BOM, missing tokens NA, N/A, #N/A, -, null, "
          "NaN, empty; decimal '.' or ','; columns in nonnegative must be >= 0, in binary 0 or 1.");
    m.def("complete_days",
          [](const AthleteTable& t, const std::string& policy, const std::string& load_column) {
              return complete_days(t, parse_policy(policy), load_column);
          },
          py::arg("table"), py::arg("policy"), py::arg("load_column") = "daily_load", GIL(),
          "One row per athlete-day from first to last day; absent days per policy 'zero' "
          "(load 0, others NaN) or 'missing' (all NaN).");

    m.def("rolling_mean", &rolling_mean, py::arg("load"), py::arg("window"), py::arg("min_periods") = 0, GIL(),
          "pandas rolling(window, min_periods).mean() over consecutive days; min_periods <= 0 means the whole window "
          "(pandas' None), not pandas' 0.");
    m.def("rolling_sum", &rolling_sum, py::arg("load"), py::arg("window"), py::arg("min_periods") = 0, GIL(),
          "pandas rolling(window, min_periods).sum() over consecutive days; min_periods <= 0 means the whole window "
          "(pandas' None), not pandas' 0.");
    m.def("rolling_std", &rolling_std, py::arg("load"), py::arg("window"), py::arg("min_periods") = 0, GIL(),
          "pandas rolling(window, min_periods).std() (ddof=1); min_periods <= 0 means the whole window (pandas' None).");
    m.def("ewma", &ewma, py::arg("load"), py::arg("span"), GIL(),
          "EWMA with λ = 2/(span+1) (Williams et al. 2017) = pandas ewm(span, adjust=False).mean().");
    m.def("workload_feature_names", &workload_feature_names, "Column names of workload_features.");
    m.def("workload_features",
          [](const VecXdCRef& load, int acute_days, int chronic_days, int min_periods) {
              return workload_features(load, make_options(acute_days, chronic_days, min_periods));
          },
          py::arg("load"), py::arg("acute_days") = 7, py::arg("chronic_days") = 28, py::arg("min_periods") = 0,
          GIL(), "All workload metrics of one athlete's consecutive daily loads (days × features).");
    m.def("workload_features_panel",
          [](const I64Ref& athlete, const VecXdCRef& load, int acute_days, int chronic_days, int min_periods) {
              return workload_features_panel(athlete, load, make_options(acute_days, chronic_days, min_periods));
          },
          py::arg("athlete"), py::arg("load"), py::arg("acute_days") = 7, py::arg("chronic_days") = 28,
          py::arg("min_periods") = 0, GIL(), "workload_features per athlete block, in parallel.");

    m.def("injury_within", &injury_within, py::arg("athlete"), py::arg("injured"), py::arg("horizon_days"), GIL(),
          "1 if an injury onset falls within the next h days, 0 if not, NaN while injured or censored.");
    m.def("grouped_kfold", &grouped_kfold, py::arg("athlete"), py::arg("k"), py::arg("seed") = 0, GIL(),
          "Fold index per row; all rows of an athlete in one fold.");
    m.def("temporal_split", &temporal_split, py::arg("day"), py::arg("test_start"), py::arg("purge_days"), GIL(),
          "0 train, 1 test, -1 purged per row.");
    m.def("check_split",
          [](const I64Ref& athlete, const I64Ref& day, const I64Ref& side) {
              SplitCheck c;
              {
                  py::gil_scoped_release release;
                  c = check_split(athlete, day, side);
              }
              py::dict d;
              d["n_train"] = c.n_train;
              d["n_test"] = c.n_test;
              d["athletes_train"] = c.athletes_train;
              d["athletes_test"] = c.athletes_test;
              d["athletes_both"] = c.athletes_both;
              d["min_gap_days"] = c.min_gap_days;
              return d;
          },
          py::arg("athlete"), py::arg("day"), py::arg("side"),
          "Leakage guard: athletes on both sides of a split and their closest train/test days.");

    m.def("roc_auc", &roc_auc, py::arg("y"), py::arg("score"), py::arg("weight") = VecXd(), GIL(),
          "ROC AUC, ties counted as half (= sklearn roc_auc_score).");
    m.def("average_precision", &average_precision, py::arg("y"), py::arg("score"), py::arg("weight") = VecXd(), GIL(),
          "Average precision (= sklearn average_precision_score).");
    m.def("brier_score", &brier_score, py::arg("y"), py::arg("p"), GIL(), "Mean squared error of probabilities.");
    m.def("cluster_bootstrap",
          [](const VecXdCRef& y, const VecXdCRef& score, const I64Ref& cluster, const std::string& metric,
             int replicates, double level, std::uint64_t seed) {
              BootstrapResult r;
              const Metric mt = parse_metric(metric);
              {
                  py::gil_scoped_release release;
                  r = cluster_bootstrap(y, score, cluster, mt, replicates, level, seed);
              }
              py::dict d;
              d["estimate"] = r.estimate;
              d["lower"] = r.lower;
              d["upper"] = r.upper;
              d["replicates"] = r.replicates;
              d["counts"] = r.counts;
              d["n_valid"] = r.n_valid;
              return d;
          },
          py::arg("y"), py::arg("score"), py::arg("cluster"), py::arg("metric") = "roc_auc",
          py::arg("replicates") = 1000, py::arg("level") = 0.95, py::arg("seed") = 0,
          "Percentile bootstrap over clusters (athletes) of roc_auc / average_precision / brier.");
    m.def("reliability_curve",
          [](const VecXdCRef& y, const VecXdCRef& p, int bins) {
              const Reliability r = reliability_curve(y, p, bins);
              py::dict d;
              d["mean_predicted"] = r.mean_predicted;
              d["fraction_positive"] = r.fraction_positive;
              d["count"] = r.count;
              d["ece"] = r.ece;
              return d;
          },
          py::arg("y"), py::arg("p"), py::arg("bins") = 10,
          "Equal-width reliability curve and expected calibration error.");
    m.def("net_benefit", &net_benefit, py::arg("y"), py::arg("p"), py::arg("thresholds"), GIL(),
          "Decision-curve net benefit TP/n − FP/n·t/(1−t) per threshold.");

    logistic
        .def(py::init([](double C, double l1_ratio, bool fit_intercept, int max_iter, double tol) {
                 LogisticOptions o;
                 o.C = C;
                 o.l1_ratio = l1_ratio;
                 o.fit_intercept = fit_intercept;
                 o.max_iter = max_iter;
                 o.tol = tol;
                 return LogisticRegression(o);
             }),
             py::arg("C") = 1.0, py::arg("l1_ratio") = 0.0, py::arg("fit_intercept") = true,
             py::arg("max_iter") = 200, py::arg("tol") = 1e-10)
        .def("fit", &LogisticRegression::fit, py::arg("x"), py::arg("y"), py::arg("sample_weight") = VecXd(),
             GIL(), py::return_value_policy::reference_internal, "Fits; returns self.")
        .def("decision_function", &LogisticRegression::decision_function, py::arg("x"), GIL())
        .def("predict_proba", &LogisticRegression::predict_proba, py::arg("x"), GIL(),
             "P(y = 1) per row (a vector, not sklearn's two columns).")
        .def("contributions", &LogisticRegression::contributions, py::arg("x"), GIL(),
             "rows × (features+1): coef_j·x_ij, intercept last; rows sum to the log-odds.")
        .def("set_coefficients", &LogisticRegression::set_coefficients, py::arg("coef"), py::arg("intercept"))
        .def_property_readonly("coef", &LogisticRegression::coef)
        .def_property_readonly("intercept", &LogisticRegression::intercept)
        .def_property_readonly("n_iter", &LogisticRegression::n_iter)
        .def_property_readonly("fitted", &LogisticRegression::fitted)
        .def_property_readonly("C", [](const LogisticRegression& r) { return r.options().C; })
        .def_property_readonly("l1_ratio", [](const LogisticRegression& r) { return r.options().l1_ratio; });

    boosting
        .def(py::init([](int n_estimators, int max_depth, double learning_rate, double subsample,
                         double min_child_weight, double reg_lambda, double scale_pos_weight, int n_threads,
                         std::uint64_t seed) {
                 BoostingOptions o;
                 o.n_estimators = n_estimators;
                 o.max_depth = max_depth;
                 o.learning_rate = learning_rate;
                 o.subsample = subsample;
                 o.min_child_weight = min_child_weight;
                 o.reg_lambda = reg_lambda;
                 o.scale_pos_weight = scale_pos_weight;
                 o.n_threads = n_threads;
                 o.seed = seed;
                 return GradientBoosting(o);
             }),
             py::arg("n_estimators") = 100, py::arg("max_depth") = 3, py::arg("learning_rate") = 0.1,
             py::arg("subsample") = 1.0, py::arg("min_child_weight") = 1.0, py::arg("reg_lambda") = 1.0,
             py::arg("scale_pos_weight") = 1.0, py::arg("n_threads") = 0, py::arg("seed") = 0)
        .def("fit", &GradientBoosting::fit, py::arg("x"), py::arg("y"), py::arg("sample_weight") = VecXd(), GIL(),
             py::return_value_policy::reference_internal, "Trains; returns self.")
        .def("decision_function", &GradientBoosting::decision_function, py::arg("x"), GIL())
        .def("predict_proba", &GradientBoosting::predict_proba, py::arg("x"), GIL())
        .def("contributions", &GradientBoosting::contributions, py::arg("x"), GIL(),
             "TreeSHAP: rows × (features+1), bias last; rows sum to the margin.")
        .def("to_json", &GradientBoosting::to_json, GIL())
        .def_static("from_json", &GradientBoosting::from_json, py::arg("json"), py::arg("n_features"))
        .def("dump_trees", &GradientBoosting::dump_trees)
        .def_property_readonly("n_features", &GradientBoosting::n_features);
    platt.def(py::init<>())
        .def("fit", &PlattCalibration::fit, py::arg("score"), py::arg("y"), GIL(),
             py::return_value_policy::reference_internal)
        .def("predict", &PlattCalibration::predict, py::arg("score"), GIL())
        .def("set", &PlattCalibration::set, py::arg("slope"), py::arg("intercept"))
        .def_property_readonly("slope", &PlattCalibration::slope)
        .def_property_readonly("intercept", &PlattCalibration::intercept);
    isotonic.def(py::init<>())
        .def("fit", &IsotonicCalibration::fit, py::arg("score"), py::arg("y"), py::arg("weight") = VecXd(), GIL(),
             py::return_value_policy::reference_internal)
        .def("predict", &IsotonicCalibration::predict, py::arg("score"), GIL())
        .def("set", &IsotonicCalibration::set, py::arg("x"), py::arg("y"))
        .def_property_readonly("x", &IsotonicCalibration::x)
        .def_property_readonly("y", &IsotonicCalibration::y);
    cox.def(py::init([](int max_iter, double tol) {
                 CoxOptions o;
                 o.max_iter = max_iter;
                 o.tol = tol;
                 return CoxPH(o);
             }),
             py::arg("max_iter") = 100, py::arg("tol") = 1e-10)
        .def("fit", &CoxPH::fit, py::arg("start"), py::arg("stop"), py::arg("event"), py::arg("x"), GIL(),
             py::return_value_policy::reference_internal)
        .def("predict_log_hazard", &CoxPH::predict_log_hazard, py::arg("x"), GIL())
        .def("set_coefficients", &CoxPH::set_coefficients, py::arg("coef"), py::arg("se") = VecXd(),
             py::arg("log_likelihood") = 0.0, "Sets the fitted state (loading a saved model).")
        .def_property_readonly("coef", &CoxPH::coef)
        .def_property_readonly("standard_errors", &CoxPH::standard_errors)
        .def_property_readonly("log_likelihood", &CoxPH::log_likelihood)
        .def_property_readonly("n_iter", &CoxPH::n_iter);
    m.def("xgboost_version", &xgboost_version, "Version of the linked libxgboost.");
    m.def("lagged_windows", &lagged_windows, py::arg("athlete"), py::arg("day"), py::arg("x"), py::arg("window_days"),
          GIL(), "Past-only windows rows × (window_days·p), oldest day first, NaN for absent days.");
    // NeuralRiskModel (LibTorch) is bound in sportsmed._torch.risk.
}

}  // namespace sportsmed::bindings
