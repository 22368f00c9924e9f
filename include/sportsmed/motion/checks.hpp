#pragma once
/// @file
/// Conventions read from the data and plausibility checks of a trial: the vertical axis,
/// marker-distance jumps (swapped or mislabelled markers) and joint angles outside the
/// human range. They return warnings (and flagged frames); they never change data silently.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sportsmed/core/eigen.hpp"
#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/trial.hpp"

namespace sportsmed::motion {

/// The lab's vertical axis as found in a trial.
struct VerticalAxis {
    int axis = 2;      ///< 0 x, 1 y, 2 z
    int sign = 1;      ///< +1: up is +axis; -1: up is -axis
    /// Where it comes from: "C3D POINT:Y_SCREEN", "marker labels" (pelvis/trunk markers
    /// above foot markers), "marker spread" (the axis of largest within-frame extent, sign
    /// from the floor), or "none" when the data cannot tell.
    std::string source = "none";
    /// Median within-frame extent of the moving markers along x, y, z (point units).
    std::array<double, 3> extent{{0.0, 0.0, 0.0}};
    /// True when the marker data alone single out one axis (largest extent at least 1.3
    /// times the next) and, with labels, agree on the sign.
    bool confident = false;
    /// "+z", "-y" ...
    std::string name() const;
};

/// Finds the vertical axis of a trial from its markers: the axis along which the moving
/// markers spread most within a frame (a standing or moving body is taller than it is
/// wide), up being the side where pelvis/trunk/head markers lie above foot markers when the
/// labels name them (ASI, PSI, SACR, C7, CLAV, HEAD, ... vs TOE, HEE, ANK, MT, CAL ...), else
/// the side away from the floor (the lowest markers). @p declared_screen_y, a C3D
/// POINT:Y_SCREEN value such as "+Z" or "+Y", is taken when the data do not contradict it.
VerticalAxis detect_vertical_axis(const Trial& trial, const std::string& declared_screen_y = {});

/// detect_vertical_axis with POINT:Y_SCREEN of @p c3d.
VerticalAxis detect_vertical_axis(const C3d& c3d);

/// @p trial turned by a proper rotation (a signed axis permutation, determinant +1) so that
/// @p vertical becomes +z: points, force plates (corners, axes, forces, moments, CoP).
/// +y up (OpenSim) maps (x, y, z) → (x, −z, y), keeping x as the first horizontal axis.
/// Points whose labels name model outputs (…Angles, …Moment, …Power, …Force) are left as
/// they are: they are not lab positions.
Trial to_z_up(const Trial& trial, const VerticalAxis& vertical);

/// Frames where distances between markers that move as one rigid body jump.
struct DistanceJump {
    std::string marker_a, marker_b;
    double median_distance = 0.0;   ///< point units
    double worst_distance = 0.0;    ///< the farthest from the median among the flagged frames
    std::vector<std::int64_t> frames;  ///< 0-based rows of the trial
};

/// Marker pairs that are rigid for most of the trial (distance within ±@p rigid_tolerance
/// of its median in 80 % of the frames where both are present, median absolute deviation
/// under half of it: robust to the swapped frames themselves) and whose distance departs
/// from that median by more than max(@p jump_threshold, 20 % of the median) in some frames:
/// the signature of swapped or mislabelled markers and of a marker that slid. Label-free: the
/// rigid pairs are found in the data. Lengths in the trial's point units; the defaults are
/// for millimetres and are scaled for cm and m.
std::vector<DistanceJump> marker_distance_jumps(const Trial& trial, double rigid_tolerance_mm = 5.0,
                                                double jump_threshold_mm = 30.0);

/// Frames of Plug-in Gait angles (N × 9: hip, knee, ankle; flexion, ab/adduction, rotation,
/// degrees) outside what a human joint reaches; one message per component with its frames
/// counted and its most extreme value. The limits (degrees): hip flexion −45…150,
/// ab/adduction ±60, rotation ±80; knee flexion −25…170, varus/valgus ±45, rotation ±70;
/// ankle dorsiflexion −75…60, inversion/eversion ±60, rotation ±70 (beyond the ranges
/// of motion of Soucie et al. 2011 and Roaas & Andersson 1982 by a margin for marker error).
/// @param side "left" or "right", used in the messages
std::vector<std::string> implausible_angles(const RowMatXdCRef& angles_deg, const std::string& side);

/// A warning when the markers' median within-frame extent (@p extent, as VerticalAxis::extent,
/// in @p units) is not the size of a person or of a part of one: its largest axis outside
/// 0.1–5 m. A TRC whose "Units" says m for coordinates in mm (or the reverse) puts every
/// length, speed and moment 1000× out; empty when plausible, or when nothing was measured.
std::string implausible_marker_extent(const std::array<double, 3>& extent, const std::string& units);

/// Every check that needs no model: vertical axis (a warning when it is not +z or unclear),
/// marker-distance jumps, markers present but never tracked. For `motion info` and the
/// feature paths; @p c3d may be null.
std::vector<std::string> trial_checks(const Trial& trial, const C3d* c3d = nullptr);

}  // namespace sportsmed::motion
