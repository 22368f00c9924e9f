// motion::CycleAutoencoder: determinism, scoring against its own reconstruction, files.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/autoencoder.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

// Two channels of sinusoidal "cycles" with random amplitude and phase (2 latent factors).
RowMatXd cycles(int n, std::uint64_t seed, double offset = 0.0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    RowMatXd x(n, 2 * 32);
    for (int i = 0; i < n; ++i) {
        const double amp = 30 + 3 * nd(rng), lag = 0.1 * nd(rng);
        for (int p = 0; p < 32; ++p) {
            const double ph = 2 * M_PI * p / 31.0;
            x(i, p) = amp * std::sin(ph + lag) + (p >= 8 && p < 16 ? offset : 0.0);
            x(i, 32 + p) = 0.5 * amp * std::cos(ph + lag);
        }
    }
    return x;
}

CycleAutoencoderOptions small() {
    CycleAutoencoderOptions o;
    o.channels = 2;
    o.points = 32;
    o.filters = 8;
    o.latent = 4;
    o.batch_size = 16;
    o.seed = 7;
    return o;
}

}  // namespace

TEST_CASE("CycleAutoencoder: seeded fits are identical, the score is the standardised reconstruction error",
          "[motion][autoencoder]") {
    const RowMatXd x = cycles(48, 1);
    CycleAutoencoder a(small()), b(small());
    a.fit(x, 40);
    b.fit(x, 40);
    REQUIRE(a.history().size() == 40);
    CHECK(a.history().back() < 0.25 * a.history().front());  // it learns
    const RowMatXd y = cycles(8, 2);
    CHECK((a.reconstruct(y) - b.reconstruct(y)).cwiseAbs().maxCoeff() == 0.0);
    // independent reference: the score from reconstruct() and the channel SDs
    const RowMatXd r = a.reconstruct(y);
    for (int i = 0; i < y.rows(); ++i) {
        double s = 0;
        for (int c = 0; c < 2; ++c)
            for (int p = 0; p < 32; ++p) s += std::pow((r(i, c * 32 + p) - y(i, c * 32 + p)) / a.channel_sd()[c], 2);
        CHECK(a.score(y)[i] == Approx(s / 64).epsilon(1e-10));
    }
    // an offset the cycles never had is reconstructed worse
    CHECK(a.score(cycles(8, 3, 8.0)).mean() > 2.0 * a.score(cycles(8, 3)).mean());
    // a clone scores the same and adapts on its own
    CycleAutoencoder c = a.clone();
    CHECK((c.score(y) - a.score(y)).cwiseAbs().maxCoeff() == 0.0);
    c.fit(cycles(16, 4, 8.0), 5);
    CHECK((c.score(y) - a.score(y)).cwiseAbs().maxCoeff() > 0.0);
    CHECK_THROWS_AS(a.fit(RowMatXd(4, 10), 1), InvalidArgument);
    CHECK_THROWS_AS(CycleAutoencoder(small()).score(y), InvalidArgument);
}

TEST_CASE("CycleAutoencoder: save / load round trip, and a damaged or mismatched file is a FormatError",
          "[motion][autoencoder]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / fmt::format("sportsmed_ae_{}", std::random_device{}());
    fs::create_directories(dir);
    const std::string w = (dir / "m.pt").string();
    CycleAutoencoder a(small());
    a.fit(cycles(32, 1), 5);
    a.save(w);
    REQUIRE(fs::exists(dir / "m.json"));
    const CycleAutoencoder l = CycleAutoencoder::load(w);
    const RowMatXd y = cycles(4, 2);
    CHECK((l.score(y) - a.score(y)).cwiseAbs().maxCoeff() == 0.0);
    CHECK(l.history() == a.history());
    // one flipped byte in the weights
    std::string bytes;
    {
        std::ifstream in(w, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    bytes[bytes.size() / 2] ^= 0x5a;
    { std::ofstream(w, std::ios::binary) << bytes; }
    CHECK_THROWS_WITH(CycleAutoencoder::load(w), Catch::Contains("CRC-32"));
    // another version in the sidecar
    {
        std::ofstream(dir / "m.json") << R"({"format": "sportsmed-motion-autoencoder", "version": 99})";
    }
    CHECK_THROWS_AS(CycleAutoencoder::load(w), FormatError);
    CHECK_THROWS_AS(CycleAutoencoder::load((dir / "none.pt").string()), NotFound);
    fs::remove_all(dir);
}
