// Knee MRI phantom: analytic tissues, partial-volume rasterisation, bias, Rician noise.

#include "sportsmed/imaging/phantom.hpp"

#include <atomic>
#include <cmath>
#include <limits>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFemurZ = 8.0, kFemurR = 18.0, kFemurHalfLength = 30.0;
constexpr double kCartHalfLength = 28.0, kThetaMin = -60.0 * kPi / 180.0, kThetaMax = 100.0 * kPi / 180.0;
constexpr double kShaftR = 13.0;
constexpr double kPlateauZ = -17.0, kTibiaBottom = -40.0, kTibiaAx = 34.0, kTibiaAy = 26.0;
constexpr double kCompX = 15.0, kCompAx = 12.0, kCompAy = 16.0;

double femoral_t(double theta, double x) { return 2.2 + 0.5 * std::cos(kPi * x / 28.0) + 0.4 * std::sin(1.5 * theta); }

double tibial_t(double x, double y) {
    const double cx = x < 0 ? -kCompX : kCompX;
    return 1.4 + 0.6 * std::cos(kPi * (x - cx) / 24.0) * std::cos(kPi * y / 32.0);
}

// Polar angle of (y, z) about the condyle axis, 0 pointing inferior, positive posterior.
double condyle_theta(double y, double z) { return std::atan2(y, -(z - kFemurZ)); }

double compartment_rho(double x, double y) {
    const double cx = x < 0 ? -kCompX : kCompX;
    return std::sqrt(((x - cx) / kCompAx) * ((x - cx) / kCompAx) + (y / kCompAy) * (y / kCompAy));
}

}  // namespace

const PhantomTissues& phantom_tissues() {
    static const PhantomTissues t{
        //  0 soft, 1 fem cart, 2 med tib, 3 lat tib, 4 pat cart, 5 femur, 6 tibia, 7 patella, 8 fibula, 9 lat men, 10 med men
        {45.0, 35.0, 30.0, 30.0, 40.0, 40.0, 40.0, 40.0, 40.0, 12.0, 12.0},
        {0.45, 0.8, 0.8, 0.8, 0.8, 0.3, 0.3, 0.3, 0.3, 0.25, 0.25},
        {0.35, 0.85, 0.85, 0.85, 0.85, 0.2, 0.2, 0.2, 0.2, 0.08, 0.08}};
    return t;
}

int phantom_label_at(const Eigen::Vector3d& p) {
    const double x = p[0], y = p[1], z = p[2];
    // Femur: condyle cylinder and shaft.
    const double r = std::sqrt(y * y + (z - kFemurZ) * (z - kFemurZ));
    if ((std::abs(x) <= kFemurHalfLength && r <= kFemurR) || (z >= kFemurZ && x * x + y * y <= kShaftR * kShaftR))
        return 5;
    if (std::abs(x) <= kCartHalfLength && r <= kFemurR + 3.2) {  // 3.2 mm > max of t_f
        const double theta = condyle_theta(y, z);
        if (theta >= kThetaMin && theta <= kThetaMax && r <= kFemurR + femoral_t(theta, x)) return 1;
    }
    // Tibia and its cartilage.
    const double e = (x / kTibiaAx) * (x / kTibiaAx) + (y / kTibiaAy) * (y / kTibiaAy);
    if (z <= kPlateauZ && z >= kTibiaBottom && e <= 1.0) return 6;
    const double rho = z > kPlateauZ && z < kPlateauZ + 4.5 ? compartment_rho(x, y) : 2.0;
    if (z > kPlateauZ && rho <= 1.0 && z <= kPlateauZ + tibial_t(x, y)) return x < 0 ? 2 : 3;
    // Patella and its cartilage (posterior half).
    const double px = x / 16.0, py = (y + 30.0) / 5.0, pz = (z - 14.0) / 14.0;
    if (px * px + py * py + pz * pz <= 1.0) return 7;
    const double cy = (y + 30.0) / 7.5;
    if (y > -30.0 && px * px + cy * cy + pz * pz <= 1.0) return 4;
    // Menisci: wedges on the compartment rims, rising towards the periphery.
    if (rho >= 0.72 && rho <= 1.12 && z > kPlateauZ) {
        const double h = 1.0 + 3.0 * std::min(1.0, (rho - 0.72) / 0.3);
        if (z <= kPlateauZ + h) return x < 0 ? 10 : 9;
    }
    // Fibula.
    if (z <= -22.0 && z >= kTibiaBottom && (x - 30.0) * (x - 30.0) + (y - 20.0) * (y - 20.0) <= 25.0) return 8;
    return 0;
}

double phantom_cartilage_thickness(int label, const Eigen::Vector3d& p, double margin) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    const double x = p[0], y = p[1], z = p[2];
    if (label == 1) {
        const double theta = condyle_theta(y, z);
        const double arc = margin / kFemurR;
        if (theta < kThetaMin + arc || theta > kThetaMax - arc || std::abs(x) > kCartHalfLength - margin) return kNaN;
        return femoral_t(theta, x);
    }
    if (label == 2 || label == 3) {
        if ((label == 2) != (x < 0)) return kNaN;
        if (compartment_rho(x, y) > 1.0 - margin / kCompAy) return kNaN;
        return tibial_t(x, y);
    }
    return kNaN;
}

KneePhantom make_knee_phantom(const KneePhantomOptions& o, const ProgressCallback& progress) {
    for (int a = 0; a < 3; ++a)
        SPORTSMED_CHECK(o.spacing_mm[a] > 0 && o.extent_mm[a] > o.spacing_mm[a],
                        "make_knee_phantom: spacing {} and extent {} mm along axis {} are invalid", o.spacing_mm[a],
                        o.extent_mm[a], a);
    SPORTSMED_CHECK(o.supersampling >= 1 && o.supersampling <= 8, "make_knee_phantom: supersampling {} outside 1..8",
                    o.supersampling);
    SPORTSMED_CHECK(!o.te_ms.empty(), "make_knee_phantom: no echo times");
    Geometry g;
    for (int a = 0; a < 3; ++a) {
        g.shape[a] = static_cast<std::int64_t>(std::floor(o.extent_mm[a] / o.spacing_mm[a]));
        g.spacing_mm[a] = o.spacing_mm[a];
        g.origin_mm[a] = -0.5 * static_cast<double>(g.shape[a] - 1) * o.spacing_mm[a];  // centred on 0
    }
    const auto& tissues = phantom_tissues();
    const std::int64_t ne = static_cast<std::int64_t>(o.te_ms.size());
    KneePhantom ph{Volume<std::uint8_t>(g), Volume<double>(g), Volume<double>(g, ne), o.te_ms, Volume<std::uint8_t>(g)};
    std::array<std::array<double, 11>, 32> decay{};
    SPORTSMED_CHECK(ne <= 32, "make_knee_phantom: at most 32 echoes, got {}", ne);
    for (std::int64_t e = 0; e < ne; ++e)
        for (int l = 0; l < 11; ++l) decay[e][l] = tissues.pd[l] * std::exp(-o.te_ms[e] / tissues.t2_ms[l]);
    const double sigma = o.snr > 0 ? tissues.pd[1] / o.snr : 0.0;
    const Eigen::Vector3d half = 0.5 * o.extent_mm;
    const int s = o.supersampling;
    const std::int64_t nx = g.shape[0], ny = g.shape[1], nz = g.shape[2], nv = g.num_voxels();
    ProgressReporter reporter(progress, "knee phantom", nz);
    parallel_for(0, nz, [&](std::int64_t kb, std::int64_t ke) {
        for (std::int64_t k = kb; k < ke; ++k) {
            // One generator per slice: the noise does not depend on the thread count.
            // splitmix64 uniforms and Box–Muller pairs: one pair per Rician sample.
            std::uint64_t state = o.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(k) * 0xBF58476D1CE4E5B9ULL + 1;
            auto uniform = [&]() {
                std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
                z ^= z >> 31;
                return (static_cast<double>(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);  // (0, 1)
            };
            auto rician = [&](double v) {
                if (sigma == 0) return v;
                const double rad = sigma * std::sqrt(-2.0 * std::log(uniform()));
                const double ang = 2.0 * kPi * uniform();
                const double a = v + rad * std::cos(ang), b = rad * std::sin(ang);
                return std::sqrt(a * a + b * b);
            };
            for (std::int64_t j = 0; j < ny; ++j)
                for (std::int64_t i = 0; i < nx; ++i) {
                    const Eigen::Vector3d c = g.to_world(Eigen::Vector3d(double(i), double(j), double(k)));
                    const int centre = phantom_label_at(c);
                    std::array<double, 11> frac{};
                    // Voxels whose 8 corners share the centre's tissue are taken as pure (the
                    // phantom's structures are all thicker than a voxel); the others are
                    // supersampled.
                    bool pure = true;
                    for (int a = 0; a < 8 && pure; ++a) {
                        const Eigen::Vector3d off((a & 1) - 0.5, ((a >> 1) & 1) - 0.5, ((a >> 2) & 1) - 0.5);
                        pure = phantom_label_at(c + off.cwiseProduct(g.spacing_mm)) == centre;
                    }
                    if (pure) {
                        frac[static_cast<std::size_t>(centre)] = double(s) * s * s;
                    } else {
                        for (int a = 0; a < s; ++a)
                            for (int b = 0; b < s; ++b)
                                for (int d = 0; d < s; ++d) {
                                    const Eigen::Vector3d off((a + 0.5) / s - 0.5, (b + 0.5) / s - 0.5,
                                                              (d + 0.5) / s - 0.5);
                                    const int l = phantom_label_at(c + off.cwiseProduct(g.spacing_mm));
                                    frac[static_cast<std::size_t>(l)] += 1.0;
                                }
                    }
                    const double n = double(s) * s * s;
                    // Smooth bias: a product of slow cosines over the field of view.
                    const Eigen::Vector3d u = c.cwiseQuotient(half);
                    const double bias = 1.0 + o.bias_amplitude * (0.6 * u[0] + 0.3 * u[1] * u[2] - 0.4 * u[2] * u[2]);
                    const std::int64_t idx = i + nx * (j + ny * k);
                    ph.labels.data()[idx] = static_cast<std::uint8_t>(centre);
                    ph.pure.data()[idx] = pure;
                    double dess = 0;
                    for (int l = 0; l < 11; ++l) dess += frac[l] / n * tissues.dess[l];
                    ph.image.data()[idx] = rician(bias * dess);
                    for (std::int64_t e = 0; e < ne; ++e) {
                        double v = 0;
                        for (int l = 0; l < 11; ++l) v += frac[l] / n * decay[e][l];
                        ph.echoes.data()[idx + nv * e] = rician(bias * v);
                    }
                }
            reporter.advance(1);
        }
    });
    reporter.finish();
    return ph;
}

}  // namespace sportsmed::imaging
