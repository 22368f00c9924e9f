#pragma once
/// @file
/// Regional cartilage thickness and the unrolled femoral thickness map.
///
/// **Anatomical axes assumption.** The knee's axes are taken to be the patient (world)
/// axes of the image, LPS: x medial-lateral, y anterior (−) to posterior (+), z inferior
/// (−) to superior (+) — the situation of a knee scanned supine in a knee coil (within
/// ~15°). Everything is computed on world coordinates of voxel centres, so the result does
/// not depend on how the grid is stored (axis order, flips, oblique direction cosines).
///
/// **Knee frame**, from the label map:
/// - medial side: towards the medial tibial cartilage centroid from the lateral one (labels
///   of the pymskt map), or from the side given (right knee: medial = +x, left: −x in LPS);
/// - medial/lateral split (the intercondylar notch): the plane x = x_split, with x_split
///   the midpoint of the medial and lateral tibial cartilage centroids along x when both
///   labels exist, else the femoral cartilage centroid;
/// - condyle axis: the line along x through (y_c, z_c), the centre of the circle fitted
///   (Kåsa least squares, in the y-z plane) to the femoral bone–cartilage interface (centres
///   of femoral cartilage voxels with a face neighbour of the femur);
/// - angle θ of a point: atan2(y − y_c, −(z − z_c)) in degrees: 0° points inferior (towards
///   the tibia), positive posterior, negative anterior.
///
/// **Regions** (after Eckstein et al.'s femorotibial subregions, simplified to angles):
/// femoral cartilage medial/lateral × anterior (θ < θ_a), central (θ_a ≤ θ < θ_p),
/// posterior (θ ≥ θ_p), defaults θ_a = −30°, θ_p = 30° (the central region is the
/// weight-bearing arc facing the tibia); tibial cartilage medial/lateral (by label when
/// medial and lateral labels differ, else by the split plane).
///
/// **Thickness per region**: the mean and SD of the nearest-surface per-point thickness
/// (cartilage_thickness over the bone below, with include_contact: the contact zones with
/// the opposing cartilage and the menisci count) of the articular-surface points in the region,
/// and the mean local thickness (local_thickness of the cartilage label) of its voxels.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Labels of the structures used (defaults: the pymskt knee map of phantom.hpp).
struct KneeLabels {
    int femoral_cartilage = 1;
    int medial_tibial_cartilage = 2;
    int lateral_tibial_cartilage = 3;  ///< equal to medial_tibial_cartilage for one tibial label
    int femur = 5;
    int tibia = 6;
};

/// Which knee: Auto takes the medial side from the tibial cartilage labels.
enum class KneeSide { Auto, Right, Left };

/// Options of the regional analysis and of the unrolled map.
struct KneeRegionOptions {
    KneeLabels labels;
    KneeSide side = KneeSide::Auto;
    double anterior_deg = -30.0;   ///< θ below which femoral cartilage is anterior
    double posterior_deg = 30.0;   ///< θ from which femoral cartilage is posterior
};

/// The knee frame derived from a label map (see the file comment).
struct KneeFrame {
    double ml_split_mm = 0;          ///< world x of the medial/lateral split plane
    int medial_sign = 1;             ///< +1: medial is +x (LPS left); −1: medial is −x
    Eigen::Vector2d condyle_centre_yz_mm = Eigen::Vector2d::Zero();  ///< (y_c, z_c)
    double condyle_radius_mm = 0;    ///< radius of the fitted circle
    /// Angle θ (degrees) of a world point about the condyle axis.
    double angle_deg(const Eigen::Vector3d& p_mm) const;
    /// True if the world point lies on the medial side of the split plane.
    bool medial(const Eigen::Vector3d& p_mm) const { return medial_sign * (p_mm[0] - ml_split_mm) > 0; }
};

/// Thickness summary of one region.
struct RegionThickness {
    std::string name;            ///< e.g. "femoral medial central", "tibial lateral"
    int label = 0;               ///< cartilage label of the region
    std::int64_t points = 0;     ///< articular-surface points in the region
    double mean_mm = 0;          ///< mean nearest-surface thickness (NaN if no point)
    double sd_mm = 0;            ///< its population SD
    std::int64_t voxels = 0;     ///< cartilage voxels in the region
    double mean_local_mm = 0;    ///< mean local thickness of those voxels (NaN if none)
};

/// Knee frame of a label map. @throws InvalidArgument if the femoral cartilage or femur is
/// absent, or the side cannot be told (Auto without both tibial labels).
KneeFrame knee_frame(const Volume<std::uint8_t>& labels, const KneeRegionOptions& options = {});

/// Regional thickness: 6 femoral regions (medial anterior, central, posterior, then
/// lateral) and 2 tibial ones (medial, lateral; skipped if the tibia or both tibial labels
/// are absent). @throws InvalidArgument as knee_frame.
std::vector<RegionThickness> regional_cartilage_thickness(const Volume<std::uint8_t>& labels,
                                                          const KneeRegionOptions& options = {},
                                                          KneeFrame* frame = nullptr);

/// Unrolled femoral cartilage thickness map (a cylindrical projection about the condyle
/// axis).
struct UnrolledThicknessMap {
    /// Mean nearest-surface thickness (mm, include_contact) per bin, NaN for empty bins; shape
    /// (n_ml, n_angle, 1). Its geometry is a chart, not a place in the world: axis i is
    /// world x (mm, spacing ml_step_mm, origin the first bin centre), axis j the angle θ
    /// (degrees, spacing angle_step_deg).
    Volume<double> map;
    Volume<std::int32_t> counts;  ///< surface points per bin
    KneeFrame frame;
    double ml0_mm = 0, ml_step_mm = 0;        ///< x of bin i = ml0_mm + i·ml_step_mm (bin centre)
    double angle0_deg = 0, angle_step_deg = 0;  ///< θ of bin j = angle0_deg + j·angle_step_deg
};

/// Unrolled map of the femoral cartilage's nearest-surface thickness.
/// @param ml_step_mm bin width along x (mm, > 0); @param angle_step_deg bin width in θ.
/// @throws InvalidArgument as knee_frame, or for non-positive steps.
UnrolledThicknessMap unrolled_femoral_thickness(const Volume<std::uint8_t>& labels, double ml_step_mm = 1.0,
                                                double angle_step_deg = 2.0, const KneeRegionOptions& options = {});

}  // namespace sportsmed::imaging
