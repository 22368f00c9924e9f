#pragma once
/// @file
/// Umbrella header of sportsmed's motion pillar: trials, C3D/TRC/MOT I/O, filtering,
/// rotations and joint angles.

#include "sportsmed/motion/c3d.hpp"
#include "sportsmed/motion/checks.hpp"
#include "sportsmed/motion/dynamics.hpp"
#include "sportsmed/motion/cgm.hpp"
#include "sportsmed/motion/events.hpp"
#include "sportsmed/motion/features.hpp"
#include "sportsmed/motion/filter.hpp"
#include "sportsmed/motion/gait.hpp"
#include "sportsmed/motion/gap_fill.hpp"
#include "sportsmed/motion/force_plate.hpp"
#include "sportsmed/motion/frontal_plane.hpp"
#include "sportsmed/motion/joint_angles.hpp"
#include "sportsmed/motion/kernels/butterworth.hpp"
#include "sportsmed/motion/kernels/rotation.hpp"
#include "sportsmed/motion/rotation.hpp"
#include "sportsmed/motion/synthetic.hpp"
#include "sportsmed/motion/trc.hpp"
#include "sportsmed/motion/trial.hpp"
