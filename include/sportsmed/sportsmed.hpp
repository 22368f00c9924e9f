#pragma once
/// @file
/// Everything sportsmed offers. Prefer the per-pillar umbrella headers
/// (sportsmed/core.hpp, sportsmed/motion.hpp, ...) to keep compile times down.

#include "sportsmed/core.hpp"
