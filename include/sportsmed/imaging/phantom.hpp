#pragma once
/// @file
/// Parametric knee MRI phantom — the pillar's embedded default and a ground truth for
/// cartilage thickness and T2.
///
/// An idealised right knee in LPS millimetres with the knee centre at the world origin
/// (x: medial-lateral, y: anterior (−) to posterior (+), z: inferior (−) to superior (+)):
/// - femur: condyles as a cylinder along x (axis y = 0, z = 8, radius 18, |x| ≤ 30) joined
///   to a shaft (cylinder along z, radius 13);
/// - femoral cartilage: a shell outside the condyles over θ ∈ [−60°, 100°] (θ from the
///   inferior direction towards posterior), |x| ≤ 28, of thickness
///   t_f(θ, x) = 2.2 + 0.5 cos(πx/28) + 0.4 sin(1.5 θ) mm;
/// - tibia: z ∈ [−40, −17] inside the ellipse (x/34)² + (y/26)² ≤ 1; tibial cartilage on
///   the plateau in two compartments (medial x < 0, lateral x > 0) centred at x = ∓15,
///   ((x ± 15)/12)² + (y/16)² ≤ 1, of thickness t_t = 1.4 + 0.6 cos(π(x ± 15)/24) cos(πy/32);
/// - menisci: wedges on the compartments' rims; patella: an ellipsoid anterior to the
///   femur with a 2.5 mm cartilage layer on its posterior half; fibula: a cylinder.
/// Labels follow the pymskt knee map: 1 femoral, 2 medial tibial, 3 lateral tibial,
/// 4 patellar cartilage, 5 femur, 6 tibia, 7 patella, 8 fibula, 9 lateral, 10 medial
/// meniscus; 0 is soft tissue.
///
/// Rasterisation: the label map takes the tissue at each voxel centre; intensities mix the
/// tissues of supersampling³ sub-voxel points (partial volume), times a smooth
/// multiplicative bias field, with Rician noise (magnitude of complex Gaussian noise).
/// The DESS-like image has bright cartilage and dark menisci; the multi-echo image follows
/// S = PD · exp(−TE / T2) per tissue, noise σ = PD_cartilage / snr.

#include <array>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/core/progress.hpp"
#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Settings of the knee phantom.
struct KneePhantomOptions {
    Eigen::Vector3d spacing_mm{0.5, 0.5, 0.5};  ///< voxel size
    Eigen::Vector3d extent_mm{84.0, 84.0, 84.0}; ///< field of view, centred on the knee
    int supersampling = 3;                      ///< sub-points per axis for partial volume
    double snr = 50.0;                          ///< cartilage S0 / noise σ (≤ 0: no noise)
    double bias_amplitude = 0.15;               ///< peak relative bias field deviation
    std::vector<double> te_ms{6.312, 12.624, 18.936, 25.248, 31.56, 37.872, 44.184, 50.496};
    std::uint64_t seed = 0;                     ///< noise seed (deterministic for a given seed)
};

/// Tissue properties used by the phantom, indexed by label 0..10.
struct PhantomTissues {
    std::array<double, 11> t2_ms;    ///< true T2 per label
    std::array<double, 11> pd;       ///< proton density (multi-echo S0 before bias)
    std::array<double, 11> dess;     ///< DESS-like intensity
};

/// The phantom's tissue table.
const PhantomTissues& phantom_tissues();

/// A rasterised phantom.
struct KneePhantom {
    Volume<std::uint8_t> labels;   ///< tissue at each voxel centre
    Volume<double> image;          ///< DESS-like image with partial volume, bias and noise
    Volume<double> echoes;         ///< multi-echo image (components = echoes)
    std::vector<double> te_ms;     ///< echo times
    Volume<std::uint8_t> pure;     ///< 1 where all sub-voxel points share the centre's tissue
};

/// Tissue label at a world point (mm), from the analytic model.
int phantom_label_at(const Eigen::Vector3d& p_mm);

/// Analytic cartilage thickness (mm) of label 1, 2 or 3 at (or nearest to) a world point:
/// t_f(θ, x) for femoral, t_t(x, y) for tibial cartilage. NaN when the point lies within
/// @p edge_margin_mm of the sheet's edge (where a nearest-surface thickness is not the
/// sheet thickness) or for another label.
double phantom_cartilage_thickness(int label, const Eigen::Vector3d& p_mm, double edge_margin_mm = 1.5);

/// Rasterises the phantom. @param progress optional callback ("knee phantom").
KneePhantom make_knee_phantom(const KneePhantomOptions& options = {}, const ProgressCallback& progress = {});

}  // namespace sportsmed::imaging
