// libFuzzer target: risk::GradientBoosting::from_json (XGBoost JSON model loading), then a
// prediction, the contributions and the tree dumps on a few fixed rows.
//
// Crashes inside libxgboost on corrupt models (out-of-range node indices) are findings for
// src/risk/boosting.cpp, which is to validate the model before handing it over.

#include "fuzz_common.hpp"
#include "sportsmed/risk/boosting.hpp"

using namespace sportsmed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // First byte: the number of features the caller claims (1..8); the rest is the JSON.
    const int n_features = 1 + data[0] % 8;
    const std::string json(reinterpret_cast<const char*>(data + 1), size - 1);
    fuzz::expect_success_or_error([&] {
        risk::GradientBoosting model = risk::GradientBoosting::from_json(json, n_features);
        RowMatXd x(3, model.n_features());
        for (Eigen::Index r = 0; r < x.rows(); ++r)
            for (Eigen::Index c = 0; c < x.cols(); ++c) x(r, c) = r == 2 ? std::nan("") : 0.5 * (r + 1) - 0.1 * c;
        fuzz::consume_matrix(model.predict_proba(x));
        fuzz::consume_matrix(model.contributions(x));
        for (const auto& t : model.dump_trees()) fuzz::consume(static_cast<double>(t.size()));
    });
    return 0;
}
