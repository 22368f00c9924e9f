// Gradient-boosted trees through libxgboost's C API.

#include "sportsmed/risk/boosting.hpp"

#include <cmath>
#include <mutex>

#include <xgboost/c_api.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/core/parallel.hpp"

namespace sportsmed::risk {
namespace {

void xgb_check(int rc, const char* what) {
    if (rc != 0) SPORTSMED_THROW(Error, "GradientBoosting: XGBoost {} failed: {}", what, XGBGetLastError());
}

// Owns a DMatrix built from a row-major double view (XGBoost reads float32).
struct DMatrix {
    DMatrixHandle h = nullptr;
    DMatrix(const RowMatXdCRef& x) {
        const RowMatXf xf = x.cast<float>();
        xgb_check(XGDMatrixCreateFromMat(xf.data(), static_cast<bst_ulong>(x.rows()),
                                         static_cast<bst_ulong>(x.cols()), std::nanf(""), &h),
                  "XGDMatrixCreateFromMat");
    }
    ~DMatrix() {
        if (h) XGDMatrixFree(h);
    }
    DMatrix(const DMatrix&) = delete;
    DMatrix& operator=(const DMatrix&) = delete;
};

}  // namespace

struct GradientBoosting::Impl {
    BoosterHandle booster = nullptr;
    int n_features = 0;
    mutable std::mutex mutex;  // XGBoost's predictor keeps per-booster caches
    ~Impl() {
        if (booster) XGBoosterFree(booster);
    }
};

GradientBoosting::GradientBoosting(BoostingOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
    SPORTSMED_CHECK(options_.n_estimators >= 1, "GradientBoosting: n_estimators must be >= 1, got {}", options_.n_estimators);
    SPORTSMED_CHECK(options_.max_depth >= 1, "GradientBoosting: max_depth must be >= 1, got {}", options_.max_depth);
    SPORTSMED_CHECK(options_.learning_rate > 0, "GradientBoosting: learning_rate must be > 0, got {}", options_.learning_rate);
    SPORTSMED_CHECK(options_.subsample > 0 && options_.subsample <= 1,
                    "GradientBoosting: subsample must be in (0, 1], got {}", options_.subsample);
}

GradientBoosting::~GradientBoosting() = default;
GradientBoosting::GradientBoosting(GradientBoosting&&) noexcept = default;
GradientBoosting& GradientBoosting::operator=(GradientBoosting&&) noexcept = default;

GradientBoosting& GradientBoosting::fit(const RowMatXdCRef& x, const VecXdCRef& y, const VecXdCRef& sw) {
    SPORTSMED_CHECK(y.size() == x.rows(), "GradientBoosting.fit: x has {} rows but y {}", x.rows(), y.size());
    SPORTSMED_CHECK(sw.size() == 0 || sw.size() == x.rows(), "GradientBoosting.fit: {} sample weights for {} rows",
                    sw.size(), x.rows());
    bool has0 = false, has1 = false;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "GradientBoosting.fit: label {} at row {} is not 0 or 1", y[i], i);
        has0 |= y[i] == 0.0;
        has1 |= y[i] == 1.0;
    }
    SPORTSMED_CHECK(has0 && has1, "GradientBoosting.fit: y holds a single class; need both 0 and 1");
    DMatrix d(x);
    const Eigen::VectorXf yf = y.cast<float>();
    xgb_check(XGDMatrixSetFloatInfo(d.h, "label", yf.data(), static_cast<bst_ulong>(yf.size())), "set label");
    if (sw.size()) {
        const Eigen::VectorXf wf = sw.cast<float>();
        xgb_check(XGDMatrixSetFloatInfo(d.h, "weight", wf.data(), static_cast<bst_ulong>(wf.size())), "set weight");
    }
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->booster) {
        XGBoosterFree(impl_->booster);
        impl_->booster = nullptr;
    }
    xgb_check(XGBoosterCreate(&d.h, 1, &impl_->booster), "XGBoosterCreate");
    const auto set = [&](const char* k, const std::string& v) { xgb_check(XGBoosterSetParam(impl_->booster, k, v.c_str()), k); };
    set("objective", "binary:logistic");
    set("tree_method", "exact");
    set("verbosity", "0");
    set("max_depth", std::to_string(options_.max_depth));
    set("eta", fmt::format("{:.17g}", options_.learning_rate));
    set("subsample", fmt::format("{:.17g}", options_.subsample));
    set("min_child_weight", fmt::format("{:.17g}", options_.min_child_weight));
    set("lambda", fmt::format("{:.17g}", options_.reg_lambda));
    set("scale_pos_weight", fmt::format("{:.17g}", options_.scale_pos_weight));
    set("nthread", std::to_string(options_.n_threads > 0 ? options_.n_threads : num_threads()));
    set("seed", std::to_string(options_.seed));
    for (int it = 0; it < options_.n_estimators; ++it)
        xgb_check(XGBoosterUpdateOneIter(impl_->booster, it, d.h), "XGBoosterUpdateOneIter");
    impl_->n_features = static_cast<int>(x.cols());
    return *this;
}

namespace {

RowMatXd predict(BoosterHandle b, int n_features, const RowMatXdCRef& x, int type, const char* fn) {
    SPORTSMED_CHECK(b != nullptr, "GradientBoosting.{}: the model is not fitted", fn);
    SPORTSMED_CHECK(x.cols() == n_features, "GradientBoosting.{}: x has {} columns, the model {} features", fn,
                    x.cols(), n_features);
    DMatrix d(x);
    const std::string config = fmt::format(
        R"({{"type": {}, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false}})", type);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    xgb_check(XGBoosterPredictFromDMatrix(b, d.h, config.c_str(), &shape, &dim, &out), "predict");
    const Eigen::Index cols = type == 2 ? n_features + 1 : 1;
    RowMatXd r(x.rows(), cols);
    for (Eigen::Index i = 0; i < r.size(); ++i) r.data()[i] = static_cast<double>(out[i]);
    return r;
}

}  // namespace

VecXd GradientBoosting::decision_function(const RowMatXdCRef& x) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return predict(impl_->booster, impl_->n_features, x, 1, "decision_function").col(0);
}

VecXd GradientBoosting::predict_proba(const RowMatXdCRef& x) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return predict(impl_->booster, impl_->n_features, x, 0, "predict_proba").col(0);
}

RowMatXd GradientBoosting::contributions(const RowMatXdCRef& x) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return predict(impl_->booster, impl_->n_features, x, 2, "contributions");
}

int GradientBoosting::n_features() const { return impl_->n_features; }

std::string GradientBoosting::to_json() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    SPORTSMED_CHECK(impl_->booster != nullptr, "GradientBoosting.to_json: the model is not fitted");
    bst_ulong len = 0;
    const char* buf = nullptr;
    xgb_check(XGBoosterSaveModelToBuffer(impl_->booster, R"({"format": "json"})", &len, &buf), "save");
    return std::string(buf, len);
}

GradientBoosting GradientBoosting::from_json(const std::string& json, int n_features) {
    GradientBoosting g;
    xgb_check(XGBoosterCreate(nullptr, 0, &g.impl_->booster), "XGBoosterCreate");
    if (XGBoosterLoadModelFromBuffer(g.impl_->booster, json.data(), static_cast<bst_ulong>(json.size())) != 0)
        SPORTSMED_THROW(FormatError, "GradientBoosting.from_json: XGBoost cannot read the model: {}", XGBGetLastError());
    g.impl_->n_features = n_features;
    return g;
}

std::vector<std::string> GradientBoosting::dump_trees() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    SPORTSMED_CHECK(impl_->booster != nullptr, "GradientBoosting.dump_trees: the model is not fitted");
    bst_ulong n = 0;
    const char** arr = nullptr;
    xgb_check(XGBoosterDumpModelEx(impl_->booster, "", 1, "json", &n, &arr), "dump");
    return std::vector<std::string>(arr, arr + n);
}

std::string xgboost_version() {
    int a = 0, b = 0, c = 0;
    XGBoostVersion(&a, &b, &c);
    return fmt::format("{}.{}.{}", a, b, c);
}

}  // namespace sportsmed::risk
