// Versioned files for NeuralRiskModel (JSON; no LibTorch needed here: the weights go
// through parameters() / set_parameters()).

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sportsmed/core/build_info.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/file.hpp"
#include "sportsmed/risk/neural.hpp"

namespace sportsmed::risk {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "sportsmed-risk-neural";

json options_to_json(const NeuralOptions& o) {
    return {{"architecture", o.architecture}, {"hidden", o.hidden}, {"window_days", o.window_days},
            {"channels", o.channels}, {"kernel_size", o.kernel_size}, {"learning_rate", o.learning_rate},
            {"weight_decay", o.weight_decay}, {"batch_size", o.batch_size}, {"max_epochs", o.max_epochs},
            {"patience", o.patience}, {"validation_fraction", o.validation_fraction}, {"pos_weight", o.pos_weight},
            {"seed", o.seed}, {"device", o.device}};
}

NeuralOptions options_from_json(const json& j) {
    NeuralOptions o;
    o.architecture = j.at("architecture").get<std::string>();
    o.hidden = j.at("hidden").get<std::vector<int>>();
    o.window_days = j.at("window_days").get<int>();
    o.channels = j.at("channels").get<int>();
    o.kernel_size = j.at("kernel_size").get<int>();
    o.learning_rate = j.at("learning_rate").get<double>();
    o.weight_decay = j.at("weight_decay").get<double>();
    o.batch_size = j.at("batch_size").get<int>();
    o.max_epochs = j.at("max_epochs").get<int>();
    o.patience = j.at("patience").get<int>();
    o.validation_fraction = j.at("validation_fraction").get<double>();
    o.pos_weight = j.at("pos_weight").get<double>();
    o.seed = j.at("seed").get<std::uint64_t>();
    o.device = j.at("device").get<std::string>();
    return o;
}

}  // namespace

void NeuralRiskModel::save(const std::string& path) const {
    SPORTSMED_CHECK(fitted(), "NeuralRiskModel.save: the model is not fitted");
    json tensors = json::array();
    for (const auto& p : parameters()) {
        // Doubles are written in their shortest form that reads back to the same bits.
        tensors.push_back({{"name", p.name},
                           {"shape", p.shape},
                           {"values", std::vector<double>(p.values.data(), p.values.data() + p.values.size())}});
    }
    const json doc = {{"format", kFormat},
                      {"format_version", kNeuralFormatVersion},
                      {"sportsmed_version", version()},
                      {"options", options_to_json(options_)},
                      {"n_inputs", n_inputs()},
                      {"training", {{"best_epoch", best_epoch()}, {"history", history()}}},
                      {"tensors", std::move(tensors)}};
    const std::string text = doc.dump(1);
    write_file_atomic(path, {{text.data(), text.size()}}, "NeuralRiskModel.save");
}

NeuralRiskModel NeuralRiskModel::load(const std::string& path, const std::string& device) {
    std::ifstream in(path, std::ios::binary);
    if (!in) SPORTSMED_THROW(NotFound, "NeuralRiskModel.load: cannot open '{}'", path);
    std::stringstream buf;
    buf << in.rdbuf();
    json doc;
    try {
        doc = json::parse(buf.str());
    } catch (const json::exception& e) {
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}' is not JSON: {}", path, e.what());
    }
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != kFormat)
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}' is not a {} file", path, kFormat);
    const json fv = doc.value("format_version", json());
    if (!fv.is_number_integer() || fv.get<int>() != kNeuralFormatVersion)
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}' has format version {}, this sportsmed ({}) reads "
                        "version {}", path, fv.dump(), version(), kNeuralFormatVersion);
    try {
        NeuralOptions o = options_from_json(doc.at("options"));
        if (!device.empty()) o.device = device;
        std::vector<Parameter> params;
        for (const auto& t : doc.at("tensors")) {
            Parameter q;
            q.name = t.at("name").get<std::string>();
            q.shape = t.at("shape").get<std::vector<std::int64_t>>();
            const auto v = t.at("values").get<std::vector<double>>();
            q.values = Eigen::Map<const VecXd>(v.data(), static_cast<Eigen::Index>(v.size()));
            params.push_back(std::move(q));
        }
        NeuralRiskModel m(std::move(o));
        m.set_parameters(doc.at("n_inputs").get<int>(), params);
        return m;
    } catch (const json::exception& e) {
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}' is incomplete or malformed: {}", path, e.what());
    } catch (const InvalidArgument& e) {  // options or sizes a model cannot have
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}' holds an invalid model: {}", path, e.what());
    } catch (const FormatError& e) {  // tensors that do not fit the architecture
        SPORTSMED_THROW(FormatError, "NeuralRiskModel.load: '{}': {}", path, e.what());
    }
}

}  // namespace sportsmed::risk
