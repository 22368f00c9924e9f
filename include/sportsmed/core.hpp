#pragma once
/// @file
/// Umbrella header of sportsmed's core: errors, Eigen aliases, parallel loops,
/// progress reporting, reductions and build information.

#include "sportsmed/config.hpp"
#include "sportsmed/core/build_info.hpp"
#include "sportsmed/core/eigen.hpp"
#include "sportsmed/core/error.hpp"
#include "sportsmed/core/file.hpp"
#include "sportsmed/core/parallel.hpp"
#include "sportsmed/core/progress.hpp"
#include "sportsmed/core/reduce.hpp"
#include "sportsmed/core/text.hpp"
