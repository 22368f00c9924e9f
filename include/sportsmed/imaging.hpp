#pragma once
/// @file
/// Umbrella header of the imaging pillar (sportsmed::imaging): volumes with geometry,
/// NIfTI/NRRD I/O, distance and component kernels, segmentation metrics, T2 relaxometry,
/// cartilage thickness and the knee MRI phantom.

#include "sportsmed/imaging/cartilage_regions.hpp"
#include "sportsmed/imaging/components.hpp"
#include "sportsmed/imaging/dicom.hpp"
#include "sportsmed/imaging/distance.hpp"
#include "sportsmed/imaging/image.hpp"
#include "sportsmed/imaging/io.hpp"
#include "sportsmed/imaging/kernels/overlap.hpp"
#include "sportsmed/imaging/local_thickness.hpp"
#include "sportsmed/imaging/metrics.hpp"
#include "sportsmed/imaging/phantom.hpp"
#include "sportsmed/imaging/processing.hpp"
#include "sportsmed/imaging/relaxometry.hpp"
#include "sportsmed/imaging/thickness.hpp"
#include "sportsmed/imaging/volume.hpp"
