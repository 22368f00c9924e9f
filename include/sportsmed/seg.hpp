#pragma once
/// @file
/// Umbrella header of the segmentation pillar (LibTorch stays inside the library).

#include "sportsmed/seg/inference.hpp"
#include "sportsmed/seg/model.hpp"
#include "sportsmed/seg/synth.hpp"
#include "sportsmed/seg/train.hpp"
