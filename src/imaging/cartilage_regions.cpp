// Knee frame from a label map, regional cartilage thickness and the unrolled femoral map.

#include "sportsmed/imaging/cartilage_regions.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "sportsmed/imaging/local_thickness.hpp"
#include "sportsmed/imaging/thickness.hpp"

namespace sportsmed::imaging {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRadToDeg = 57.29577951308232;

Eigen::Vector3d centre_of(const Geometry& g, std::int64_t i, std::int64_t j, std::int64_t k) {
    return g.to_world(Eigen::Vector3d(double(i), double(j), double(k)));
}

// World centroid of label @p l, and its voxel count.
std::pair<Eigen::Vector3d, std::int64_t> centroid(const Volume<std::uint8_t>& lab, int l) {
    const auto& s = lab.shape();
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    std::int64_t n = 0;
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i)
                if (lab(i, j, k) == l) {
                    sum += Eigen::Vector3d(double(i), double(j), double(k));
                    ++n;
                }
    if (n == 0) return {Eigen::Vector3d::Constant(kNaN), 0};
    return {lab.geometry().to_world(sum / double(n)), n};
}

void check_label(int l, const char* what) {
    SPORTSMED_CHECK(l >= 1 && l <= 255, "knee regions: {} label {} outside 1..255", what, l);
}

// Local thickness of one label, computed on its bounding box grown by one voxel (exact:
// the nearest background of any label voxel is found inside that box), NaN off the label.
Volume<double> label_local_thickness(const Volume<std::uint8_t>& lab, int l) {
    const auto& s = lab.shape();
    std::array<std::int64_t, 3> lo{s[0], s[1], s[2]}, hi{-1, -1, -1};
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i)
                if (lab(i, j, k) == l) {
                    const std::array<std::int64_t, 3> p{i, j, k};
                    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], p[a]), hi[a] = std::max(hi[a], p[a]);
                }
    Volume<double> out(lab.geometry(), 1, kNaN);
    if (hi[0] < 0) return out;
    Shape3 cs;
    for (int a = 0; a < 3; ++a) {
        lo[a] = std::max<std::int64_t>(0, lo[a] - 1);
        hi[a] = std::min(s[a] - 1, hi[a] + 1);
        cs[a] = hi[a] - lo[a] + 1;
    }
    std::vector<std::uint8_t> m(static_cast<std::size_t>(cs[0] * cs[1] * cs[2]));
    for (std::int64_t k = 0; k < cs[2]; ++k)
        for (std::int64_t j = 0; j < cs[1]; ++j)
            for (std::int64_t i = 0; i < cs[0]; ++i)
                m[static_cast<std::size_t>(i + cs[0] * (j + cs[1] * k))] = lab(lo[0] + i, lo[1] + j, lo[2] + k) == l;
    std::vector<double> t(m.size());
    local_thickness(m.data(), cs, lab.geometry().spacing_mm, t.data());
    for (std::int64_t k = 0; k < cs[2]; ++k)
        for (std::int64_t j = 0; j < cs[1]; ++j)
            for (std::int64_t i = 0; i < cs[0]; ++i) {
                const auto v = static_cast<std::size_t>(i + cs[0] * (j + cs[1] * k));
                if (m[v]) out(lo[0] + i, lo[1] + j, lo[2] + k) = t[v];
            }
    return out;
}

struct Accumulator {
    double sum = 0, sum2 = 0;
    std::int64_t n = 0;
    double sum_local = 0;
    std::int64_t n_local = 0;
    void add(double t) { sum += t, sum2 += t * t, ++n; }
    void add_local(double t) { sum_local += t, ++n_local; }
};

RegionThickness summary(std::string name, int label, const Accumulator& a) {
    RegionThickness r;
    r.name = std::move(name);
    r.label = label;
    r.points = a.n;
    r.mean_mm = a.n ? a.sum / double(a.n) : kNaN;
    r.sd_mm = a.n ? std::sqrt(std::max(0.0, a.sum2 / double(a.n) - r.mean_mm * r.mean_mm)) : kNaN;
    r.voxels = a.n_local;
    r.mean_local_mm = a.n_local ? a.sum_local / double(a.n_local) : kNaN;
    return r;
}

}  // namespace

double KneeFrame::angle_deg(const Eigen::Vector3d& p) const {
    return std::atan2(p[1] - condyle_centre_yz_mm[0], -(p[2] - condyle_centre_yz_mm[1])) * kRadToDeg;
}

KneeFrame knee_frame(const Volume<std::uint8_t>& lab, const KneeRegionOptions& o) {
    const KneeLabels& L = o.labels;
    check_label(L.femoral_cartilage, "femoral cartilage");
    check_label(L.femur, "femur");
    SPORTSMED_CHECK(o.anterior_deg < o.posterior_deg,
                    "knee regions: anterior limit {}° must be below the posterior limit {}°", o.anterior_deg,
                    o.posterior_deg);
    KneeFrame f;
    const auto [fem_c, n_fem] = centroid(lab, L.femoral_cartilage);
    SPORTSMED_CHECK(n_fem > 0, "knee regions: femoral cartilage label {} is absent", L.femoral_cartilage);
    const bool two_tibial = L.medial_tibial_cartilage != L.lateral_tibial_cartilage;
    std::pair<Eigen::Vector3d, std::int64_t> med{}, lat{};
    if (two_tibial) {
        med = centroid(lab, L.medial_tibial_cartilage);
        lat = centroid(lab, L.lateral_tibial_cartilage);
    }
    const bool both = two_tibial && med.second > 0 && lat.second > 0;
    f.ml_split_mm = both ? 0.5 * (med.first[0] + lat.first[0]) : fem_c[0];
    // A side given against the labels would swap medial and lateral on the femur only (the
    // tibial plates keep their own labels): refused.
    if (both && o.side != KneeSide::Auto) {
        const bool labels_right = med.first[0] > lat.first[0];
        SPORTSMED_CHECK(labels_right == (o.side == KneeSide::Right),
                        "knee regions: the side given ({} knee) contradicts the labels: the medial tibial cartilage "
                        "({}) lies on the patient's {} of the lateral ({}), as in a {} knee; give no side (auto) or "
                        "check the labels and the image orientation",
                        o.side == KneeSide::Right ? "right" : "left", L.medial_tibial_cartilage,
                        labels_right ? "left" : "right", L.lateral_tibial_cartilage, labels_right ? "right" : "left");
    }
    switch (o.side) {
        case KneeSide::Right: f.medial_sign = 1; break;
        case KneeSide::Left: f.medial_sign = -1; break;
        case KneeSide::Auto:
            SPORTSMED_CHECK(both,
                            "knee regions: cannot tell the medial side: medial ({}) and lateral ({}) tibial cartilage "
                            "labels are not both present; give the side (right or left knee)",
                            L.medial_tibial_cartilage, L.lateral_tibial_cartilage);
            f.medial_sign = med.first[0] > lat.first[0] ? 1 : -1;
            break;
    }
    // Kåsa circle fit, in the y-z plane, to the bone-cartilage interface.
    const auto& s = lab.shape();
    const auto& g = lab.geometry();
    std::vector<Eigen::Vector2d> pts;
    for (std::int64_t k = 0; k < s[2]; ++k)
        for (std::int64_t j = 0; j < s[1]; ++j)
            for (std::int64_t i = 0; i < s[0]; ++i) {
                if (lab(i, j, k) != L.femoral_cartilage) continue;
                const bool interface = (i > 0 && lab(i - 1, j, k) == L.femur) ||
                                       (i + 1 < s[0] && lab(i + 1, j, k) == L.femur) ||
                                       (j > 0 && lab(i, j - 1, k) == L.femur) ||
                                       (j + 1 < s[1] && lab(i, j + 1, k) == L.femur) ||
                                       (k > 0 && lab(i, j, k - 1) == L.femur) ||
                                       (k + 1 < s[2] && lab(i, j, k + 1) == L.femur);
                if (interface) pts.push_back(centre_of(g, i, j, k).tail<2>());
            }
    SPORTSMED_CHECK(pts.size() >= 3,
                    "knee regions: the femoral cartilage (label {}) touches the femur (label {}) at {} voxel(s); "
                    "at least 3 are needed to fit the condyle axis",
                    L.femoral_cartilage, L.femur, pts.size());
    Eigen::Vector2d mean = Eigen::Vector2d::Zero();
    for (const auto& p : pts) mean += p;
    mean /= double(pts.size());
    Eigen::MatrixXd A(static_cast<Eigen::Index>(pts.size()), 3);
    Eigen::VectorXd b(static_cast<Eigen::Index>(pts.size()));
    for (std::size_t r = 0; r < pts.size(); ++r) {
        const Eigen::Vector2d q = pts[r] - mean;
        A.row(static_cast<Eigen::Index>(r)) << q[0], q[1], 1.0;
        b[static_cast<Eigen::Index>(r)] = -q.squaredNorm();
    }
    const Eigen::Vector3d c = A.colPivHouseholderQr().solve(b);
    f.condyle_centre_yz_mm = mean + Eigen::Vector2d(-0.5 * c[0], -0.5 * c[1]);
    f.condyle_radius_mm = std::sqrt(std::max(0.0, 0.25 * (c[0] * c[0] + c[1] * c[1]) - c[2]));
    return f;
}

std::vector<RegionThickness> regional_cartilage_thickness(const Volume<std::uint8_t>& lab, const KneeRegionOptions& o,
                                                          KneeFrame* frame_out) {
    const KneeFrame f = knee_frame(lab, o);
    if (frame_out) *frame_out = f;
    const KneeLabels& L = o.labels;
    const auto& g = lab.geometry();
    auto femoral_region = [&](const Eigen::Vector3d& p) {
        const double th = f.angle_deg(p);
        const int apc = th < o.anterior_deg ? 0 : (th < o.posterior_deg ? 1 : 2);
        return (f.medial(p) ? 0 : 3) + apc;
    };
    std::array<Accumulator, 8> acc{};
    {
        const ThicknessMap t = cartilage_thickness(lab, L.femoral_cartilage, L.femur, true);
        for (Eigen::Index r = 0; r < t.points_mm.rows(); ++r)
            acc[static_cast<std::size_t>(femoral_region(t.points_mm.row(r).transpose()))].add(t.thickness_mm[r]);
        const Volume<double> lt = label_local_thickness(lab, L.femoral_cartilage);
        const auto& s = lab.shape();
        for (std::int64_t k = 0; k < s[2]; ++k)
            for (std::int64_t j = 0; j < s[1]; ++j)
                for (std::int64_t i = 0; i < s[0]; ++i)
                    if (lab(i, j, k) == L.femoral_cartilage)
                        acc[static_cast<std::size_t>(femoral_region(centre_of(g, i, j, k)))].add_local(lt(i, j, k));
    }
    std::vector<RegionThickness> out;
    const char* apc[3] = {"anterior", "central", "posterior"};
    for (int r = 0; r < 6; ++r)
        out.push_back(summary(fmt::format("femoral {} {}", r < 3 ? "medial" : "lateral", apc[r % 3]),
                              L.femoral_cartilage, acc[static_cast<std::size_t>(r)]));
    // Tibial cartilage: by label when medial and lateral labels differ, else by the split.
    std::int64_t n_tibia = 0;
    for (auto v : lab.values()) n_tibia += v == L.tibia;
    if (L.tibia < 1 || L.tibia > 255 || n_tibia == 0) return out;
    const bool two = L.medial_tibial_cartilage != L.lateral_tibial_cartilage;
    std::vector<int> tib_labels{L.medial_tibial_cartilage};
    if (two) tib_labels.push_back(L.lateral_tibial_cartilage);
    for (int tl : tib_labels) {
        if (tl < 1 || tl > 255) continue;
        std::int64_t n = 0;
        for (auto v : lab.values()) n += v == tl;
        if (n == 0) continue;
        auto side_of = [&](const Eigen::Vector3d& p) {
            if (two) return tl == L.medial_tibial_cartilage ? 6 : 7;
            return f.medial(p) ? 6 : 7;
        };
        const ThicknessMap t = cartilage_thickness(lab, tl, L.tibia, true);
        for (Eigen::Index r = 0; r < t.points_mm.rows(); ++r)
            acc[static_cast<std::size_t>(side_of(t.points_mm.row(r).transpose()))].add(t.thickness_mm[r]);
        const Volume<double> lt = label_local_thickness(lab, tl);
        const auto& s = lab.shape();
        for (std::int64_t k = 0; k < s[2]; ++k)
            for (std::int64_t j = 0; j < s[1]; ++j)
                for (std::int64_t i = 0; i < s[0]; ++i)
                    if (lab(i, j, k) == tl)
                        acc[static_cast<std::size_t>(side_of(centre_of(g, i, j, k)))].add_local(lt(i, j, k));
    }
    out.push_back(summary("tibial medial", L.medial_tibial_cartilage, acc[6]));
    out.push_back(summary("tibial lateral", L.lateral_tibial_cartilage, acc[7]));
    return out;
}

UnrolledThicknessMap unrolled_femoral_thickness(const Volume<std::uint8_t>& lab, double ml_step_mm,
                                                double angle_step_deg, const KneeRegionOptions& o) {
    SPORTSMED_CHECK(ml_step_mm > 0 && std::isfinite(ml_step_mm), "unrolled_femoral_thickness: ml_step_mm {} <= 0",
                    ml_step_mm);
    SPORTSMED_CHECK(angle_step_deg > 0 && std::isfinite(angle_step_deg),
                    "unrolled_femoral_thickness: angle_step_deg {} <= 0", angle_step_deg);
    UnrolledThicknessMap u;
    u.frame = knee_frame(lab, o);
    const ThicknessMap t = cartilage_thickness(lab, o.labels.femoral_cartilage, o.labels.femur, true);
    const Eigen::Index n = t.points_mm.rows();
    std::vector<double> ang(static_cast<std::size_t>(n));
    double xmin = INFINITY, xmax = -INFINITY, amin = INFINITY, amax = -INFINITY;
    for (Eigen::Index r = 0; r < n; ++r) {
        const Eigen::Vector3d p = t.points_mm.row(r).transpose();
        ang[static_cast<std::size_t>(r)] = u.frame.angle_deg(p);
        xmin = std::min(xmin, p[0]), xmax = std::max(xmax, p[0]);
        amin = std::min(amin, ang[static_cast<std::size_t>(r)]), amax = std::max(amax, ang[static_cast<std::size_t>(r)]);
    }
    // Bins aligned to multiples of the step, so that maps of different knees line up.
    const double x_lo = std::floor(xmin / ml_step_mm) * ml_step_mm;
    const double a_lo = std::floor(amin / angle_step_deg) * angle_step_deg;
    const auto nx = static_cast<std::int64_t>(std::floor((xmax - x_lo) / ml_step_mm)) + 1;
    const auto na = static_cast<std::int64_t>(std::floor((amax - a_lo) / angle_step_deg)) + 1;
    u.ml_step_mm = ml_step_mm;
    u.angle_step_deg = angle_step_deg;
    u.ml0_mm = x_lo + 0.5 * ml_step_mm;
    u.angle0_deg = a_lo + 0.5 * angle_step_deg;
    Geometry g;
    g.shape = {nx, na, 1};
    g.spacing_mm = {ml_step_mm, angle_step_deg, 1.0};
    g.origin_mm = {u.ml0_mm, u.angle0_deg, 0.0};
    u.map = Volume<double>(g, 1, 0.0);
    u.counts = Volume<std::int32_t>(g, 1, 0);
    for (Eigen::Index r = 0; r < n; ++r) {
        const auto bi = std::clamp<std::int64_t>(
            static_cast<std::int64_t>(std::floor((t.points_mm(r, 0) - x_lo) / ml_step_mm)), 0, nx - 1);
        const auto bj = std::clamp<std::int64_t>(
            static_cast<std::int64_t>(std::floor((ang[static_cast<std::size_t>(r)] - a_lo) / angle_step_deg)), 0,
            na - 1);
        u.map(bi, bj, 0) += t.thickness_mm[r];
        u.counts(bi, bj, 0) += 1;
    }
    for (std::int64_t v = 0; v < u.map.size(); ++v)
        u.map.data()[v] = u.counts.data()[v] ? u.map.data()[v] / u.counts.data()[v] : kNaN;
    return u;
}

}  // namespace sportsmed::imaging
