#pragma once
/// @file
/// Parametric knee MRI phantom — the pillar's embedded default and a ground truth for
/// cartilage thickness and T2.
///
/// An idealised left knee (medial compartment at −x, fibula at +x: lateral) in LPS millimetres with the knee centre at the world origin
/// (x: medial-lateral, y: anterior (−) to posterior (+), z: inferior (−) to superior (+)).
/// The numbers below are the standard knee (KneeShape's defaults); random_knee_shape()
/// draws other anatomies (size, condyle radius, tibial plateau, cartilage thickness and
/// its variation, patella, menisci) for training and held-out testing:
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

/// Shape parameters of the phantom (mm and radians). The defaults are the standard knee
/// described above; every formula above uses these fields in place of the numbers.
struct KneeShape {
    double femur_radius = 18.0;        ///< condyle cylinder radius
    double condyle_z = 8.0;            ///< condyle axis height (axis along x at y = 0)
    double femur_half_length = 30.0;   ///< condyle cylinder half length along x
    double shaft_radius = 13.0;
    double femoral_cart_half_length = 28.0;  ///< L: femoral cartilage for |x| ≤ L
    double theta_min = -60.0 * 3.14159265358979323846 / 180.0;  ///< femoral cartilage arc
    double theta_max = 100.0 * 3.14159265358979323846 / 180.0;
    /// t_f(θ, x) = fem_t_mean + fem_t_ml cos(πx/L) + fem_t_theta sin(1.5 θ)
    double fem_t_mean = 2.2, fem_t_ml = 0.5, fem_t_theta = 0.4;
    double plateau_z = -17.0, tibia_bottom_z = -40.0;
    double tibia_ax = 34.0, tibia_ay = 26.0;   ///< tibial ellipse half axes
    double comp_x = 15.0;                      ///< compartment centres at x = ∓comp_x
    double comp_ax = 12.0, comp_ay = 16.0;     ///< compartment half axes
    /// t_t = tib_t_mean + tib_t_amp cos(π(x ± comp_x)/(2 comp_ax)) cos(πy/(2 comp_ay))
    double tib_t_mean = 1.4, tib_t_amp = 0.6;
    double patella_y = -30.0, patella_z = 14.0;  ///< patella centre (x = 0)
    double patella_rx = 16.0, patella_ry = 5.0, patella_rz = 14.0;
    double patellar_cart_mm = 2.5;             ///< cartilage thickness at the posterior pole
    double meniscus_inner = 0.72, meniscus_outer = 1.12;  ///< in compartment radii
    double meniscus_base_mm = 1.0, meniscus_rise_mm = 3.0;
    double fibula_x = 30.0, fibula_y = 20.0, fibula_radius = 5.0, fibula_top_z = -22.0;
    /// 0 (the standard and random knees): the tibia and fibula end at tibia_bottom_z. > 0: a
    /// long field of view — the tibia narrows over 15 mm below tibia_bottom_z into a shaft of
    /// this radius (axis x = y = 0) and the fibula continues, both to the edge of the volume.
    double tibia_shaft_radius = 0.0;
};

/// A random but anatomically consistent knee (deterministic in @p seed): overall size
/// ×0.9–1.1 and independent variations of each dimension, cartilage mean thickness
/// ×0.8–1.2 with its spatial variation ×0.5–1.5 (the thinnest femoral cartilage stays ≥
/// 1 mm), femoral cartilage arc ±10°, and a femorotibial gap of 1–2.5 mm between the
/// thickest cartilages.
KneeShape random_knee_shape(std::uint64_t seed);

/// Settings of the knee phantom.
struct KneePhantomOptions {
    KneeShape shape;                            ///< anatomy (default: the standard knee)
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
int phantom_label_at(const Eigen::Vector3d& p_mm, const KneeShape& shape = {});

/// Analytic cartilage thickness (mm) of label 1, 2 or 3 at (or nearest to) a world point:
/// t_f(θ, x) for femoral, t_t(x, y) for tibial cartilage. NaN when the point lies within
/// @p edge_margin_mm of the sheet's edge (where a nearest-surface thickness is not the
/// sheet thickness) or for another label.
double phantom_cartilage_thickness(int label, const Eigen::Vector3d& p_mm, double edge_margin_mm = 1.5,
                                   const KneeShape& shape = {});

/// Rasterises the phantom. @param progress optional callback ("knee phantom").
KneePhantom make_knee_phantom(const KneePhantomOptions& options = {}, const ProgressCallback& progress = {});

}  // namespace sportsmed::imaging
