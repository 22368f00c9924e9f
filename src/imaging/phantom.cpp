// Knee MRI phantom: analytic tissues, partial-volume rasterisation, bias, Rician noise.

#include "sportsmed/imaging/phantom.hpp"

#include <atomic>
#include <cmath>
#include <limits>

#include "sportsmed/core/parallel.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;

double femoral_t(const KneeShape& s, double theta, double x) {
    return s.fem_t_mean + s.fem_t_ml * std::cos(kPi * x / s.femoral_cart_half_length) +
           s.fem_t_theta * std::sin(1.5 * theta);
}

double compartment_centre(const KneeShape& s, double x) { return x < 0 ? -s.comp_x : s.comp_x; }

double tibial_t(const KneeShape& s, double x, double y) {
    const double cx = compartment_centre(s, x);
    return s.tib_t_mean +
           s.tib_t_amp * std::cos(kPi * (x - cx) / (2 * s.comp_ax)) * std::cos(kPi * y / (2 * s.comp_ay));
}

// Polar angle of (y, z) about the condyle axis, 0 pointing inferior, positive posterior.
double condyle_theta(const KneeShape& s, double y, double z) { return std::atan2(y, -(z - s.condyle_z)); }

double compartment_rho(const KneeShape& s, double x, double y) {
    const double dx = (x - compartment_centre(s, x)) / s.comp_ax, dy = y / s.comp_ay;
    return std::sqrt(dx * dx + dy * dy);
}

// splitmix64 stream for the shape draws.
struct ShapeRng {
    std::uint64_t state;
    double uniform(double lo, double hi) {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return lo + (hi - lo) * (static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0));
    }
};

}  // namespace

KneeShape random_knee_shape(std::uint64_t seed) {
    ShapeRng r{seed * 0xD1B54A32D192ED03ULL + 0x2545F4914F6CDD1DULL};
    KneeShape s;
    const KneeShape d;  // the standard knee
    const double g = r.uniform(0.9, 1.1);  // overall size
    auto vary = [&](double v, double rel) { return v * g * r.uniform(1.0 - rel, 1.0 + rel); };
    s.femur_radius = vary(d.femur_radius, 0.07);
    s.condyle_z = d.condyle_z * g;
    s.femur_half_length = vary(d.femur_half_length, 0.07);
    s.shaft_radius = std::min(vary(d.shaft_radius, 0.08), 0.8 * s.femur_radius);
    s.femoral_cart_half_length = s.femur_half_length - 2.0 * g;
    s.theta_min = d.theta_min + r.uniform(-10, 10) * kPi / 180.0;
    s.theta_max = d.theta_max + r.uniform(-10, 10) * kPi / 180.0;
    s.fem_t_mean = d.fem_t_mean * r.uniform(0.8, 1.2);
    s.fem_t_ml = d.fem_t_ml * r.uniform(0.5, 1.5);
    s.fem_t_theta = d.fem_t_theta * r.uniform(0.5, 1.5);
    const double fem_min = s.fem_t_mean - s.fem_t_ml - s.fem_t_theta;
    if (fem_min < 1.0) {  // keep the thinnest femoral cartilage at 1 mm
        const double k = (s.fem_t_mean - 1.0) / (s.fem_t_ml + s.fem_t_theta);
        s.fem_t_ml *= k;
        s.fem_t_theta *= k;
    }
    s.tibia_ax = vary(d.tibia_ax, 0.07);
    s.tibia_ay = vary(d.tibia_ay, 0.07);
    s.comp_x = vary(d.comp_x, 0.07);
    s.comp_ax = std::min(vary(d.comp_ax, 0.1), 0.9 * s.comp_x);
    s.comp_ay = std::min(vary(d.comp_ay, 0.1), 0.75 * s.tibia_ay);
    s.tib_t_mean = d.tib_t_mean * r.uniform(0.8, 1.2);
    s.tib_t_amp = d.tib_t_amp * r.uniform(0.6, 1.4);
    const double fem_max = s.fem_t_mean + s.fem_t_ml + s.fem_t_theta;
    const double tib_max = s.tib_t_mean + s.tib_t_amp;
    s.plateau_z = s.condyle_z - s.femur_radius - (fem_max + tib_max + r.uniform(1.0, 2.5));
    s.tibia_bottom_z = s.plateau_z - 23.0 * g;
    s.patella_rx = vary(d.patella_rx, 0.1);
    s.patella_ry = vary(d.patella_ry, 0.1);
    s.patella_rz = vary(d.patella_rz, 0.1);
    s.patella_y = -(s.femur_radius + 12.0 * g + r.uniform(-1.5, 1.5));
    s.patella_z = s.condyle_z + 6.0 * g + r.uniform(-2, 2);
    s.patellar_cart_mm = d.patellar_cart_mm * r.uniform(0.8, 1.2);
    s.meniscus_inner = d.meniscus_inner * r.uniform(0.92, 1.08);
    s.meniscus_outer = d.meniscus_outer * r.uniform(0.97, 1.03);
    s.meniscus_base_mm = d.meniscus_base_mm * r.uniform(0.8, 1.2);
    // The meniscus must stay below the femoral cartilage: its top at most fem_max + 0.5 mm
    // under the condyles' lowest point.
    const double room = s.condyle_z - s.femur_radius - fem_max - 0.5 - s.plateau_z;
    s.meniscus_rise_mm = std::min(d.meniscus_rise_mm * r.uniform(0.8, 1.2), room - s.meniscus_base_mm);
    s.fibula_x = d.fibula_x * g;
    s.fibula_y = d.fibula_y * g;
    s.fibula_radius = vary(d.fibula_radius, 0.1);
    s.fibula_top_z = s.plateau_z - 5.0 * g;
    return s;
}

const PhantomTissues& phantom_tissues() {
    static const PhantomTissues t{
        //  0 soft, 1 fem cart, 2 med tib, 3 lat tib, 4 pat cart, 5 femur, 6 tibia, 7 patella, 8 fibula, 9 lat men, 10 med men
        {45.0, 35.0, 30.0, 30.0, 40.0, 40.0, 40.0, 40.0, 40.0, 12.0, 12.0},
        {0.45, 0.8, 0.8, 0.8, 0.8, 0.3, 0.3, 0.3, 0.3, 0.25, 0.25},
        {0.35, 0.85, 0.85, 0.85, 0.85, 0.2, 0.2, 0.2, 0.2, 0.08, 0.08}};
    return t;
}

int phantom_label_at(const Eigen::Vector3d& p, const KneeShape& s) {
    const double x = p[0], y = p[1], z = p[2];
    // Femur: condyle cylinder and shaft.
    const double r = std::sqrt(y * y + (z - s.condyle_z) * (z - s.condyle_z));
    if ((std::abs(x) <= s.femur_half_length && r <= s.femur_radius) ||
        (z >= s.condyle_z && x * x + y * y <= s.shaft_radius * s.shaft_radius))
        return 5;
    const double fem_max = s.fem_t_mean + std::abs(s.fem_t_ml) + std::abs(s.fem_t_theta);
    if (std::abs(x) <= s.femoral_cart_half_length && r <= s.femur_radius + fem_max) {
        const double theta = condyle_theta(s, y, z);
        if (theta >= s.theta_min && theta <= s.theta_max && r <= s.femur_radius + femoral_t(s, theta, x)) return 1;
    }
    // Tibia and its cartilage.
    const double e = (x / s.tibia_ax) * (x / s.tibia_ax) + (y / s.tibia_ay) * (y / s.tibia_ay);
    if (z <= s.plateau_z && z >= s.tibia_bottom_z && e <= 1.0) return 6;
    if (s.tibia_shaft_radius > 0.0 && z < s.tibia_bottom_z) {  // long field of view: taper into the shaft
        constexpr double kTaper = 15.0;
        const double w = std::min(1.0, (s.tibia_bottom_z - z) / kTaper);  // 0 at the bottom, 1 in the shaft
        const double ax = (1 - w) * s.tibia_ax + w * s.tibia_shaft_radius;
        const double ay = (1 - w) * s.tibia_ay + w * s.tibia_shaft_radius;
        if ((x / ax) * (x / ax) + (y / ay) * (y / ay) <= 1.0) return 6;
    }
    const double above = std::max(s.tib_t_mean + std::abs(s.tib_t_amp), s.meniscus_base_mm + s.meniscus_rise_mm) + 0.5;
    const double rho = z > s.plateau_z && z < s.plateau_z + above ? compartment_rho(s, x, y) : 2.0;
    if (z > s.plateau_z && rho <= 1.0 && z <= s.plateau_z + tibial_t(s, x, y)) return x < 0 ? 2 : 3;
    // Patella and its cartilage (posterior half).
    const double px = x / s.patella_rx, py = (y - s.patella_y) / s.patella_ry, pz = (z - s.patella_z) / s.patella_rz;
    if (px * px + py * py + pz * pz <= 1.0) return 7;
    const double cy = (y - s.patella_y) / (s.patella_ry + s.patellar_cart_mm);
    if (y > s.patella_y && px * px + cy * cy + pz * pz <= 1.0) return 4;
    // Menisci: wedges on the compartment rims, rising towards the periphery.
    if (rho >= s.meniscus_inner && rho <= s.meniscus_outer && z > s.plateau_z) {
        const double h = s.meniscus_base_mm + s.meniscus_rise_mm * std::min(1.0, (rho - s.meniscus_inner) / 0.3);
        if (z <= s.plateau_z + h) return x < 0 ? 10 : 9;
    }
    // Fibula.
    const double fx = x - s.fibula_x, fy = y - s.fibula_y;
    const bool fibula_z = z <= s.fibula_top_z && (z >= s.tibia_bottom_z || s.tibia_shaft_radius > 0.0);
    if (fibula_z && fx * fx + fy * fy <= s.fibula_radius * s.fibula_radius) return 8;
    return 0;
}

double phantom_cartilage_thickness(int label, const Eigen::Vector3d& p, double margin, const KneeShape& s) {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    const double x = p[0], y = p[1], z = p[2];
    if (label == 1) {
        const double theta = condyle_theta(s, y, z);
        const double arc = margin / s.femur_radius;
        if (theta < s.theta_min + arc || theta > s.theta_max - arc || std::abs(x) > s.femoral_cart_half_length - margin)
            return kNaN;
        return femoral_t(s, theta, x);
    }
    if (label == 2 || label == 3) {
        if ((label == 2) != (x < 0)) return kNaN;
        if (compartment_rho(s, x, y) > 1.0 - margin / s.comp_ay) return kNaN;
        return tibial_t(s, x, y);
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
                    const int centre = phantom_label_at(c, o.shape);
                    std::array<double, 11> frac{};
                    // Voxels whose 8 corners share the centre's tissue are taken as pure (the
                    // phantom's structures are all thicker than a voxel); the others are
                    // supersampled.
                    bool pure = true;
                    for (int a = 0; a < 8 && pure; ++a) {
                        const Eigen::Vector3d off((a & 1) - 0.5, ((a >> 1) & 1) - 0.5, ((a >> 2) & 1) - 0.5);
                        pure = phantom_label_at(c + off.cwiseProduct(g.spacing_mm), o.shape) == centre;
                    }
                    if (pure) {
                        frac[static_cast<std::size_t>(centre)] = double(s) * s * s;
                    } else {
                        for (int a = 0; a < s; ++a)
                            for (int b = 0; b < s; ++b)
                                for (int d = 0; d < s; ++d) {
                                    const Eigen::Vector3d off((a + 0.5) / s - 0.5, (b + 0.5) / s - 0.5,
                                                              (d + 0.5) / s - 0.5);
                                    const int l = phantom_label_at(c + off.cwiseProduct(g.spacing_mm), o.shape);
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
