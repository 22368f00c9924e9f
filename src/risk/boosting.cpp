// Gradient-boosted trees through libxgboost's C API.

#include "sportsmed/risk/boosting.hpp"

#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>
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

namespace {

// libxgboost trusts the trees it loads: a child index of -1 on one side only, a child out
// of range or a split on feature 10^6 crash the process when the model is loaded or used.
// Every tree is therefore checked here first: a proper binary tree over num_nodes nodes
// (each node but the root the child of exactly one node, parents consistent), numeric
// splits on features below num_feature, finite values. @p n_features (> 0) must equal the
// model's num_feature.
using nlohmann::json;

[[noreturn]] void bad_model(const std::string& node, const std::string& problem) {
    SPORTSMED_THROW(FormatError, "GradientBoosting.from_json: node {}: {}", node, problem);
}

const json& member(const json& j, const char* key, const std::string& node) {
    if (!j.is_object()) bad_model(node, "expected an object");
    auto it = j.find(key);
    if (it == j.end()) bad_model(node, fmt::format("missing '{}'", key));
    return *it;
}

// XGBoost writes its parameters as strings ("3"); accept numbers too.
long long int_param(const json& j, const char* key, const std::string& node, long long lo, long long hi) {
    const json& v = member(j, key, node);
    long long x = 0;
    if (v.is_number_integer()) {
        x = v.get<long long>();
    } else if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        std::size_t used = 0;
        try {
            x = std::stoll(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != s.size()) bad_model(node + "." + key, fmt::format("'{}' is not an integer", s));
    } else {
        bad_model(node + "." + key, "expected an integer");
    }
    if (x < lo || x > hi) bad_model(node + "." + key, fmt::format("{} is outside [{}, {}]", x, lo, hi));
    return x;
}

const json& array_of(const json& tree, const char* key, const std::string& node, std::size_t n, bool integers) {
    const json& a = member(tree, key, node);
    if (!a.is_array() || a.size() != n)
        bad_model(node + "." + key, fmt::format("expected an array of {} values", n));
    for (const auto& v : a) {
        if (integers ? !v.is_number_integer() : !v.is_number())
            bad_model(node + "." + key, integers ? "holds a non-integer" : "holds a non-number");
        if (!integers && !std::isfinite(v.get<double>())) bad_model(node + "." + key, "holds a non-finite value");
    }
    return a;
}

int validate_xgboost_model(const std::string& text, int n_features) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        SPORTSMED_THROW(FormatError, "GradientBoosting.from_json: not JSON: {}", e.what());
    }
    const json& learner = member(j, "learner", "(root)");
    const long long num_feature =
        int_param(member(learner, "learner_model_param", "learner"), "num_feature", "learner.learner_model_param", 1,
                  1 << 24);
    if (n_features > 0 && num_feature != n_features)
        bad_model("learner.learner_model_param.num_feature",
                  fmt::format("the model has {} features, its file names {}", num_feature, n_features));
    int_param(member(learner, "learner_model_param", "learner"), "num_class", "learner.learner_model_param", 0, 0);
    const json& gb = member(learner, "gradient_booster", "learner");
    const json& name = member(gb, "name", "learner.gradient_booster");
    if (name != "gbtree") bad_model("learner.gradient_booster.name", "only 'gbtree' boosters are read");
    const json& model = member(gb, "model", "learner.gradient_booster");
    const json& trees = member(model, "trees", "learner.gradient_booster.model");
    if (!trees.is_array() || trees.empty()) bad_model("learner.gradient_booster.model.trees", "expected trees");
    const long long num_trees = int_param(member(model, "gbtree_model_param", "learner.gradient_booster.model"),
                                          "num_trees", "learner.gradient_booster.model.gbtree_model_param", 1,
                                          1 << 24);
    if (static_cast<std::size_t>(num_trees) != trees.size())
        bad_model("learner.gradient_booster.model.gbtree_model_param.num_trees",
                  fmt::format("{} trees declared, {} stored", num_trees, trees.size()));
    const json& info = member(model, "tree_info", "learner.gradient_booster.model");
    if (!info.is_array() || info.size() != trees.size())
        bad_model("learner.gradient_booster.model.tree_info", "expected one entry per tree");
    for (const auto& v : info)
        if (v != 0) bad_model("learner.gradient_booster.model.tree_info", "expected 0 (one output) for every tree");
    constexpr long long kNoParent = 2147483647;  // XGBoost's kInvalidNodeId for the root
    for (std::size_t t = 0; t < trees.size(); ++t) {
        const std::string node = fmt::format("learner.gradient_booster.model.trees[{}]", t);
        const json& tree = trees[t];
        const json& tp = member(tree, "tree_param", node);
        const long long n = int_param(tp, "num_nodes", node + ".tree_param", 1, 1 << 26);
        int_param(tp, "num_deleted", node + ".tree_param", 0, 0);
        const long long tf = int_param(tp, "num_feature", node + ".tree_param", 1, 1 << 24);
        if (tf != num_feature) bad_model(node + ".tree_param.num_feature", "differs from the learner's num_feature");
        if (tp.contains("size_leaf_vector")) int_param(tp, "size_leaf_vector", node + ".tree_param", 0, 0);
        const auto un = static_cast<std::size_t>(n);
        const json& left = array_of(tree, "left_children", node, un, true);
        const json& right = array_of(tree, "right_children", node, un, true);
        const json& parents = array_of(tree, "parents", node, un, true);
        const json& split = array_of(tree, "split_indices", node, un, true);
        array_of(tree, "split_conditions", node, un, false);
        array_of(tree, "base_weights", node, un, false);
        array_of(tree, "default_left", node, un, true);
        for (const char* optional : {"loss_changes", "sum_hessian"})
            if (tree.contains(optional)) array_of(tree, optional, node, un, false);
        if (tree.contains("split_type")) {
            for (const auto& v : array_of(tree, "split_type", node, un, true))
                if (v != 0) bad_model(node + ".split_type", "categorical splits are not supported");
        }
        if (tree.contains("categories") && !(tree["categories"].is_array() && tree["categories"].empty()))
            bad_model(node + ".categories", "categorical splits are not supported");
        if (parents[0] != kNoParent) bad_model(node + ".parents[0]", "the root must have no parent");
        std::vector<char> reached(un, 0);
        reached[0] = 1;
        // XGBoost numbers children after their parent, so one pass in index order visits
        // parents first; a child that is never reached, or reached twice, is an error.
        for (std::size_t i = 0; i < un; ++i) {
            const long long l = left[i].get<long long>(), r = right[i].get<long long>();
            if (!reached[i]) bad_model(fmt::format("{}.left_children", node), fmt::format("node {} is unreachable", i));
            if (l == -1 && r == -1) continue;  // a leaf
            const long long f = split[i].get<long long>();
            if (f < 0 || f >= num_feature)
                bad_model(fmt::format("{}.split_indices[{}]", node, i),
                          fmt::format("feature {} is outside 0..{}", f, num_feature - 1));
            for (const long long c : {l, r}) {
                if (c <= static_cast<long long>(i) || c >= n)
                    bad_model(fmt::format("{}.children[{}]", node, i), fmt::format("child {} is out of range", c));
                if (reached[static_cast<std::size_t>(c)])
                    bad_model(fmt::format("{}.children[{}]", node, i), fmt::format("node {} has two parents", c));
                if (parents[static_cast<std::size_t>(c)] != static_cast<long long>(i))
                    bad_model(fmt::format("{}.parents[{}]", node, c), fmt::format("expected {}", i));
                reached[static_cast<std::size_t>(c)] = 1;
            }
            if (l == r) bad_model(fmt::format("{}.children[{}]", node, i), "both children are the same node");
        }
    }
    return static_cast<int>(num_feature);
}

}  // namespace

GradientBoosting GradientBoosting::from_json(const std::string& json, int n_features) {
    const int model_features = validate_xgboost_model(json, n_features);
    GradientBoosting g;
    xgb_check(XGBoosterCreate(nullptr, 0, &g.impl_->booster), "XGBoosterCreate");
    if (XGBoosterLoadModelFromBuffer(g.impl_->booster, json.data(), static_cast<bst_ulong>(json.size())) != 0)
        SPORTSMED_THROW(FormatError, "GradientBoosting.from_json: XGBoost cannot read the model: {}", XGBGetLastError());
    g.impl_->n_features = model_features;
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
