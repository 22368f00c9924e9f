#pragma once
/// @file
/// Umbrella header of sportsmed::risk: workload, labels, validation, metrics, models.

#include "sportsmed/risk/athlete_table.hpp"
#include "sportsmed/risk/boosting.hpp"
#include "sportsmed/risk/calibration.hpp"
#include "sportsmed/risk/cox.hpp"
#include "sportsmed/risk/kernels/workload.hpp"
#include "sportsmed/risk/labels.hpp"
#include "sportsmed/risk/logistic.hpp"
#include "sportsmed/risk/metrics.hpp"
#include "sportsmed/risk/neural.hpp"
#include "sportsmed/risk/validation.hpp"
#include "sportsmed/risk/workload.hpp"
