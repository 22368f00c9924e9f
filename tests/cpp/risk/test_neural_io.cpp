#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/risk/neural.hpp"

using namespace sportsmed;
using namespace sportsmed::risk;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temporary directory, removed at scope exit.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("sportsmed_neural_io_" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
void spit(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

void fit_small(NeuralRiskModel& m, int inputs, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    const int n = 400;
    RowMatXd x(n, inputs);
    VecXd y(n);
    for (int i = 0; i < n; ++i) {
        double z = -1.0;
        for (int j = 0; j < inputs; ++j) {
            x(i, j) = nd(rng);
            z += (j % 2 ? -0.7 : 0.9) * x(i, j) / inputs * 3;
        }
        y[i] = std::uniform_real_distribution<double>()(rng) < 1 / (1 + std::exp(-z)) ? 1.0 : 0.0;
    }
    m.fit(x, y);
}

}  // namespace

TEST_CASE("neural io: MLP and CNN round trip to identical predictions, bad files are typed errors",
          "[risk][neural]") {
    TempDir tmp;
    for (const std::string arch : {"mlp", "cnn"}) {
        NeuralOptions o;
        o.architecture = arch;
        o.hidden = {8, 4};
        o.window_days = 3;
        o.channels = 4;
        o.max_epochs = 3;
        o.batch_size = 64;
        o.seed = 5;
        const int inputs = arch == "cnn" ? 3 * 2 : 3;
        NeuralRiskModel m(o);
        fit_small(m, inputs, 9);
        const fs::path file = tmp.path / (arch + ".json");
        m.save(file.string());
        CHECK(!fs::exists(file.string() + ".tmp"));
        const NeuralRiskModel back = NeuralRiskModel::load(file.string());
        CHECK(back.options().architecture == arch);
        CHECK(back.n_inputs() == inputs);
        RowMatXd x = RowMatXd::Random(50, inputs) * 2.0;
        CHECK(back.decision_function(x) == m.decision_function(x));  // bit for bit
        CHECK(back.integrated_gradients(x) == m.integrated_gradients(x));
        const auto p0 = m.parameters(), p1 = back.parameters();
        REQUIRE(p0.size() == p1.size());
        for (size_t k = 0; k < p0.size(); ++k) {
            CHECK(p0[k].name == p1[k].name);
            CHECK(p0[k].shape == p1[k].shape);
            CHECK(p0[k].values == p1[k].values);
        }
        const std::string text = slurp(file);
        CHECK(text.find("\"format\": \"sportsmed-risk-neural\"") != std::string::npos);
        CHECK(text.find("\"best_epoch\": " + std::to_string(m.best_epoch())) != std::string::npos);
    }

    const fs::path good = tmp.path / "mlp.json";
    const std::string text = slurp(good);
    const auto edited = [&](const std::string& from, const std::string& to) {
        std::string t = text;
        const auto at = t.find(from);
        REQUIRE(at != std::string::npos);
        t.replace(at, from.size(), to);
        const fs::path p = tmp.path / "edited.json";
        spit(p, t);
        return p.string();
    };
    CHECK_THROWS_AS(NeuralRiskModel::load(edited("\"format_version\": 1", "\"format_version\": 2")), FormatError);
    CHECK_THROWS_WITH(NeuralRiskModel::load(edited("\"format_version\": 1", "\"format_version\": 2")),
                      Catch::Contains("format version 2"));
    CHECK_THROWS_AS(NeuralRiskModel::load(edited("sportsmed-risk-neural", "sportsmed-risk-cox")), FormatError);
    CHECK_THROWS_AS(NeuralRiskModel::load(edited("\"n_inputs\": 3", "\"n_inputs\": 4")), FormatError);
    CHECK_THROWS_AS(NeuralRiskModel::load(edited("\"tensors\"", "\"weights\"")), FormatError);
    CHECK_THROWS_AS(NeuralRiskModel::load(edited("\"architecture\": \"mlp\"", "\"architecture\": \"rnn\"")),
                    FormatError);
    spit(tmp.path / "cut.json", text.substr(0, text.size() / 2));
    CHECK_THROWS_AS(NeuralRiskModel::load((tmp.path / "cut.json").string()), FormatError);
    CHECK_THROWS_AS(NeuralRiskModel::load((tmp.path / "absent.json").string()), NotFound);
    CHECK_THROWS_AS(NeuralRiskModel().save((tmp.path / "unfitted.json").string()), InvalidArgument);
    CHECK_THROWS_AS(NeuralRiskModel::load(good.string()).save((tmp.path / "no" / "such" / "dir.json").string()), Error);
}
