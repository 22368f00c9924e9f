// Force plates of types 2, 3 and 4.

#include "sportsmed/motion/force_plate.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Geometry>

#include "sportsmed/core/error.hpp"

namespace sportsmed::motion {

std::vector<ForcePlateData> force_plates(const C3d& c, double threshold) {
    std::vector<ForcePlateData> out;
    const C3dParameter* used = c.find("FORCE_PLATFORM", "USED");
    if (!used || used->numbers.empty() || used->as_int() <= 0) return out;
    const std::int64_t n_plates = used->as_int();
    auto need = [&](const char* name) -> const C3dParameter& {
        const C3dParameter* p = c.find("FORCE_PLATFORM", name);
        if (!p || p->type == C3dType::Char)
            SPORTSMED_THROW(FormatError, "force_plates: FORCE_PLATFORM:{} is missing", name);
        return *p;
    };
    const auto types = need("TYPE").as_ints();
    const auto corners = need("CORNERS").numbers;
    const auto origins = need("ORIGIN").numbers;
    const C3dParameter& channel = need("CHANNEL");
    const int per_plate = channel.dims.empty() ? 6 : channel.dims[0];
    const auto channels = channel.as_ints();
    SPORTSMED_CHECK_AS(FormatError,
                       static_cast<std::int64_t>(types.size()) >= n_plates &&
                           static_cast<std::int64_t>(corners.size()) >= 12 * n_plates &&
                           static_cast<std::int64_t>(origins.size()) >= 3 * n_plates &&
                           static_cast<std::int64_t>(channels.size()) >= per_plate * n_plates,
                       "force_plates: FORCE_PLATFORM holds too few TYPE/CORNERS/ORIGIN/CHANNEL values for {} plates",
                       n_plates);
    const C3dParameter* cal = c.find("FORCE_PLATFORM", "CAL_MATRIX");
    const RowMatXd& analog = c.trial.analogs;
    const std::int64_t samples = analog.rows();
    const std::int64_t ratio = c.trial.n_frames() > 0 ? samples / c.trial.n_frames() : 1;

    // Baseline frames (1-based, inclusive) from ZERO.
    std::int64_t zero_first = 0, zero_last = -1;
    if (const C3dParameter* z = c.find("FORCE_PLATFORM", "ZERO"); z && z->numbers.size() >= 2) {
        zero_first = std::max<std::int64_t>(1, z->as_int(0));
        zero_last = z->as_int(1);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();

    for (std::int64_t p = 0; p < n_plates; ++p) {
        ForcePlateData d;
        d.type = static_cast<int>(types[p]);
        SPORTSMED_CHECK_AS(FormatError, d.type == 2 || d.type == 3 || d.type == 4,
                           "force_plates: plate {} has type {}; types 2, 3 and 4 are supported", p + 1, d.type);
        const int nch = d.type == 3 ? 8 : 6;
        SPORTSMED_CHECK_AS(FormatError, per_plate >= nch, "force_plates: plate {} of type {} needs {} channels, CHANNEL has {}",
                           p + 1, d.type, nch, per_plate);
        for (int k = 0; k < 4; ++k)
            for (int a = 0; a < 3; ++a) d.corners(k, a) = corners[12 * p + 3 * k + a];
        d.origin = Eigen::Vector3d(origins[3 * p], origins[3 * p + 1], origins[3 * p + 2]);
        // ORIGIN is the vector from the sensor origin to the centre of the plate's surface,
        // plate frame (z down), so its z is negative: the sensor origin lies below the
        // surface. Vicon (and files converted by it) store it negated; the C3D documentation
        // and ezc3d take such a vector back. For type 3 (Kistler) a and b are the distances
        // of the sensors from the plate's axes, positive by definition whichever way the
        // vector was stored: (|a|, |b|, −|az0|).
        if (d.type == 3) d.origin = Eigen::Vector3d(std::abs(d.origin.x()), std::abs(d.origin.y()), -std::abs(d.origin.z()));
        else if (d.origin.z() > 0) d.origin = -d.origin;
        const Eigen::Vector3d x = (d.corners.row(0) - d.corners.row(1)).transpose().normalized();
        Eigen::Vector3d y = (d.corners.row(0) - d.corners.row(3)).transpose();
        y = (y - y.dot(x) * x).normalized();
        d.rotation.col(0) = x;
        d.rotation.col(1) = y;
        d.rotation.col(2) = x.cross(y);
        const Eigen::Vector3d centre = d.corners.colwise().mean().transpose();

        // Raw channel samples, baseline removed.
        RowMatXd raw(samples, nch);
        for (int k = 0; k < nch; ++k) {
            const std::int64_t ch = channels[per_plate * p + k];
            SPORTSMED_CHECK_AS(FormatError, ch >= 1 && ch <= analog.cols(),
                               "force_plates: plate {} channel {} is analog {} of {}", p + 1, k + 1, ch, analog.cols());
            raw.col(k) = analog.col(ch - 1);
        }
        if (zero_last >= zero_first && zero_last * ratio <= samples) {
            const std::int64_t b = (zero_first - 1) * ratio, n = (zero_last - zero_first + 1) * ratio;
            const Eigen::RowVectorXd base = raw.middleRows(b, n).colwise().mean();
            raw.rowwise() -= base;
        }
        RowMatXd fm(samples, 6);  // plate frame: F (3), M about sensor origin (3)
        if (d.type == 3) {
            const double a = d.origin[0], b = d.origin[1];
            for (std::int64_t i = 0; i < samples; ++i) {
                const auto r = raw.row(i);
                fm(i, 0) = r[0] + r[1];
                fm(i, 1) = r[2] + r[3];
                fm(i, 2) = r[4] + r[5] + r[6] + r[7];
                fm(i, 3) = b * (r[4] + r[5] - r[6] - r[7]);
                fm(i, 4) = a * (-r[4] + r[5] + r[6] - r[7]);
                fm(i, 5) = b * (-r[0] + r[1]) + a * (r[2] - r[3]);
            }
        } else if (d.type == 4) {
            SPORTSMED_CHECK_AS(FormatError, cal && cal->numbers.size() >= static_cast<std::size_t>(36 * (p + 1)),
                               "force_plates: plate {} is type 4 but FORCE_PLATFORM:CAL_MATRIX is missing", p + 1);
            Eigen::Matrix<double, 6, 6> m;
            // C3D arrays vary their first index fastest: value i + 6 j is CAL_MATRIX(i, j).
            for (int j = 0; j < 6; ++j)
                for (int i = 0; i < 6; ++i) m(i, j) = cal->numbers[36 * p + i + 6 * j];
            fm = raw * m.transpose();
        } else {
            fm = raw;
        }
        // Moments carried from the sensor origin O to the surface centre C:
        // M_C = M_O + (O − C) × F = M_O + F × ORIGIN. Kistler's a, b are already in the
        // channel combination above; only its depth az0 moves the moments.
        const Eigen::Vector3d r = d.type == 3 ? Eigen::Vector3d(0, 0, d.origin[2]) : Eigen::Vector3d(d.origin);
        d.force.resize(samples, 3);
        d.moment.resize(samples, 3);
        d.cop.resize(samples, 3);
        d.free_moment.resize(samples);
        for (std::int64_t i = 0; i < samples; ++i) {
            const Eigen::Vector3d f = fm.row(i).head<3>().transpose();
            const Eigen::Vector3d mo = fm.row(i).tail<3>().transpose() + f.cross(r);
            d.force.row(i) = (d.rotation * f).transpose();
            d.moment.row(i) = (d.rotation * mo).transpose();
            if (std::abs(f.z()) < threshold) {
                d.cop.row(i).setConstant(nan);
                d.free_moment[i] = nan;
                continue;
            }
            const double px = -mo.y() / f.z(), py = mo.x() / f.z();
            d.cop.row(i) = (centre + d.rotation * Eigen::Vector3d(px, py, 0)).transpose();
            d.free_moment[i] = mo.z() - px * f.y() + py * f.x();
        }
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace sportsmed::motion
