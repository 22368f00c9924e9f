#pragma once
/// @file
/// Umbrella header of sportsmed's header-only kernels, templated over the scalar type
/// (float, double) and usable on any Eigen expression, like Sophus or manif:
/// - motion/kernels/butterworth.hpp: Butterworth design, lfilter, filtfilt, |H(e^{iω})|;
/// - motion/kernels/rotation.hpp: Cardan/Euler sequences both ways, Grood & Suntay JCS;
/// - risk/kernels/workload.hpp: rolling sum/mean/SD, EWMA, rolling and EWMA ACWR;
/// - imaging/kernels/overlap.hpp: Dice, Jaccard, soft Dice on Eigen arrays.
///
/// They need Eigen only. Linked with a compiled sportsmed library (sportsmed::motion,
/// sportsmed::risk), the float and double instantiations come from it (`extern template`);
/// a program that links no sportsmed library defines SPORTSMED_HEADER_ONLY (or links the
/// INTERFACE target sportsmed::kernels, which does) and instantiates them itself.

#include "sportsmed/imaging/kernels/overlap.hpp"
#include "sportsmed/motion/kernels/butterworth.hpp"
#include "sportsmed/motion/kernels/rotation.hpp"
#include "sportsmed/risk/kernels/workload.hpp"
