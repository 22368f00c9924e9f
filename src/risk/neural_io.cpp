// Versioned files for NeuralRiskModel (JSON; no LibTorch needed here: the weights go
// through parameters() / set_parameters()).

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/json_value.hpp"

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

NeuralOptions options_from_json(const json& j, const std::string& where) {
    using json_value::member;
    NeuralOptions o;
    o.architecture = member<std::string>(j, "architecture", where);
    o.hidden = member<std::vector<int>>(j, "hidden", where);
    o.window_days = member<int>(j, "window_days", where);
    o.channels = member<int>(j, "channels", where);
    o.kernel_size = member<int>(j, "kernel_size", where);
    o.learning_rate = member<double>(j, "learning_rate", where);
    o.weight_decay = member<double>(j, "weight_decay", where);
    o.batch_size = member<int>(j, "batch_size", where);
    o.max_epochs = member<int>(j, "max_epochs", where);
    o.patience = member<int>(j, "patience", where);
    o.validation_fraction = member<double>(j, "validation_fraction", where);
    o.pos_weight = member<double>(j, "pos_weight", where);
    o.seed = member<std::uint64_t>(j, "seed", where);
    o.device = member<std::string>(j, "device", where);
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
        using json_value::member;
        const std::string where = "document";  // FormatErrors below get the path prepended
        NeuralOptions o = options_from_json(member<json>(doc, "options", where), "options");
        if (!device.empty()) o.device = device;
        std::vector<Parameter> params;
        const json tensors = member<json>(doc, "tensors", where);
        if (!tensors.is_array()) SPORTSMED_THROW(FormatError, "tensors must be an array");
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            const std::string node = fmt::format("tensors[{}]", i);
            Parameter q;
            q.name = member<std::string>(tensors[i], "name", node);
            q.shape = member<std::vector<std::int64_t>>(tensors[i], "shape", node);
            const auto v = member<std::vector<double>>(tensors[i], "values", node);
            q.values = Eigen::Map<const VecXd>(v.data(), static_cast<Eigen::Index>(v.size()));
            params.push_back(std::move(q));
        }
        NeuralRiskModel m(std::move(o));
        m.set_parameters(member<int>(doc, "n_inputs", where), params);
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
