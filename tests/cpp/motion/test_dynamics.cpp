#include <cmath>

#include <Eigen/Geometry>
#include <catch2/catch.hpp>

#include "sportsmed/core/error.hpp"
#include "sportsmed/motion/dynamics.hpp"

using namespace sportsmed;
using namespace sportsmed::motion;

namespace {

RowMatX3d constant_rows(const Eigen::Vector3d& v, Eigen::Index n) {
    RowMatX3d m(n, 3);
    for (Eigen::Index i = 0; i < n; ++i) m.row(i) = v.transpose();
    return m;
}

RowMatXd identity_frames(Eigen::Index n) {
    RowMatXd f = RowMatXd::Zero(n, 9);
    f.col(0).setOnes();
    f.col(4).setOnes();
    f.col(8).setOnes();
    return f;
}

// A standing leg: hip above knee above ankle, the foot forward along x.
LegSegments standing_leg(Eigen::Index n) {
    LegSegments leg;
    leg.hip = constant_rows({0, 0, 0.90}, n);
    leg.knee = constant_rows({0, 0, 0.50}, n);
    leg.ankle = constant_rows({0, 0, 0.08}, n);
    leg.toe = constant_rows({0.15, 0, 0.02}, n);
    leg.pelvis = leg.thigh = leg.shank = leg.foot = identity_frames(n);
    return leg;
}

}  // namespace

TEST_CASE("dynamics: static foot on a plate gives r x F plus the foot's weight", "[motion][dynamics]") {
    const Eigen::Index n = 9;
    const LegSegments leg = standing_leg(n);
    const Eigen::Vector3d force(15.0, -8.0, 700.0), cop(0.05, 0.01, 0.0), free_torque(0, 0, 1.5);
    FootLoad load;
    load.force = constant_rows(force, n);
    load.moment = constant_rows(cop.cross(force) + free_torque, n);  // about the lab origin
    const double mass = 70.0;
    const Eigen::Vector3d g(0, 0, -9.81);
    const LegDynamics d = leg_inverse_dynamics(leg, load, dempster_table(), mass, 100.0, g);

    // By hand: the foot is at rest, so F_a + F + m g = 0 and, about the ankle a,
    // M_a + (p − a) × F + τ + (c − a) × m g = 0.
    const double m_foot = 0.0145 * mass;
    const Eigen::Vector3d a(0, 0, 0.08), toe(0.15, 0, 0.02);
    const Eigen::Vector3d c = a + 0.5 * (toe - a);
    const Eigen::Vector3d f_ankle = -force - m_foot * g;
    const Eigen::Vector3d m_ankle = -(cop - a).cross(force) - free_torque - (c - a).cross(m_foot * g);
    for (Eigen::Index i = 0; i < n; ++i) {
        for (int k = 0; k < 3; ++k) {
            CHECK(d.ankle_force(i, k) == Approx(f_ankle(k)).margin(1e-9));
            CHECK(d.ankle_moment(i, k) == Approx(m_ankle(k)).margin(1e-9));
        }
    }
    // The knee carries the foot's and the shank's weight too; static, so no inertial terms.
    const double m_shank = 0.0465 * mass;
    const Eigen::Vector3d k(0, 0, 0.50), cs = k + 0.433 * (a - k);
    const Eigen::Vector3d f_knee = f_ankle - m_shank * g;
    // M_k + (a − k) × (−F_a) − M_a + (c_s − k) × m_s g = 0
    const Eigen::Vector3d m_knee_hand = m_ankle + (a - k).cross(f_ankle) - (cs - k).cross(m_shank * g);
    for (int j = 0; j < 3; ++j) {
        CHECK(d.knee_force(4, j) == Approx(f_knee(j)).margin(1e-9));
        CHECK(d.knee_moment(4, j) == Approx(m_knee_hand(j)).margin(1e-9));
    }
    CHECK(d.ankle_power.cwiseAbs().maxCoeff() < 1e-12);  // nothing moves, no power
}

TEST_CASE("dynamics: a leg in uniform acceleration needs m (a − g) at the hip", "[motion][dynamics]") {
    // Every point moves by x(t) = ½ a t² (exact under central differences), no rotation, no
    // ground contact: the hip force is the whole leg's m (a − g) and the hip moment
    // Σ (c_i − hip) × m_i (a − g).
    const Eigen::Index n = 21;
    const double rate = 100.0, mass = 80.0;
    const Eigen::Vector3d acc(2.0, -1.0, 3.0), g(0, 0, -9.81);
    LegSegments leg = standing_leg(n);
    for (RowMatX3d* p : {&leg.hip, &leg.knee, &leg.ankle, &leg.toe})
        for (Eigen::Index i = 0; i < n; ++i) {
            const double t = static_cast<double>(i) / rate;
            p->row(i) += (0.5 * t * t * acc).transpose();
        }
    FootLoad none{RowMatX3d::Zero(n, 3), RowMatX3d::Zero(n, 3)};
    const BodySegmentTable table = dempster_table();
    const LegDynamics d = leg_inverse_dynamics(leg, none, table, mass, rate, g);
    const Eigen::Index i = n / 2;
    const Eigen::Vector3d hip = leg.hip.row(i).transpose(), knee = leg.knee.row(i).transpose(),
                          ankle = leg.ankle.row(i).transpose(), toe = leg.toe.row(i).transpose();
    const double m[3] = {table.thigh.mass_fraction * mass, table.shank.mass_fraction * mass,
                         table.foot.mass_fraction * mass};
    const Eigen::Vector3d c[3] = {hip + 0.433 * (knee - hip), knee + 0.433 * (ankle - knee), ankle + 0.5 * (toe - ankle)};
    Eigen::Vector3d f = Eigen::Vector3d::Zero(), mom = Eigen::Vector3d::Zero();
    for (int s = 0; s < 3; ++s) {
        f += m[s] * (acc - g);
        mom += (c[s] - hip).cross(m[s] * (acc - g));
    }
    for (int k = 0; k < 3; ++k) {
        CHECK(d.hip_force(i, k) == Approx(f(k)).epsilon(1e-9));
        CHECK(d.hip_moment(i, k) == Approx(mom(k)).margin(1e-9));
    }
}

TEST_CASE("dynamics: a pendulum shank rotating at constant rate about the knee", "[motion][dynamics]") {
    // The shank (foot massless, no load) turns about the fixed knee at ω about y: the knee
    // moment about y is 0 (no angular acceleration) apart from gravity, and the knee force
    // supplies the centripetal acceleration −ω² (c − k) and the weight.
    const Eigen::Index n = 41;
    const double rate = 1000.0, mass = 75.0, w = 2.0, length = 0.4;
    BodySegmentTable table = dempster_table();
    table.foot.mass_fraction = 0.0;
    LegSegments leg;
    leg.hip = RowMatX3d(n, 3);
    leg.knee = RowMatX3d(n, 3);
    leg.ankle = RowMatX3d(n, 3);
    leg.toe = RowMatX3d(n, 3);
    leg.thigh = identity_frames(n);
    leg.pelvis = identity_frames(n);
    leg.shank = RowMatXd(n, 9);
    leg.foot = RowMatXd(n, 9);
    for (Eigen::Index i = 0; i < n; ++i) {
        const double th = w * static_cast<double>(i) / rate;
        const Eigen::Matrix3d r = Eigen::AngleAxisd(th, Eigen::Vector3d::UnitY()).toRotationMatrix();
        leg.hip.row(i) << 0, 0, 0.9;
        leg.knee.row(i) << 0, 0, 0.5;
        const Eigen::Vector3d ankle = Eigen::Vector3d(0, 0, 0.5) - length * r.col(2);
        leg.ankle.row(i) = ankle.transpose();
        leg.toe.row(i) = (ankle + 0.1 * r.col(0)).transpose();
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) leg.shank(i, 3 * a + b) = leg.foot(i, 3 * a + b) = r(a, b);
    }
    FootLoad none{RowMatX3d::Zero(n, 3), RowMatX3d::Zero(n, 3)};
    const Eigen::Vector3d g(0, 0, -9.81);
    const LegDynamics d = leg_inverse_dynamics(leg, none, table, mass, rate, g);
    const Eigen::Index i = n / 2;
    const double ms = table.shank.mass_fraction * mass;
    const Eigen::Vector3d k(0, 0, 0.5), ank = leg.ankle.row(i).transpose();
    const Eigen::Vector3d c = k + 0.433 * (ank - k);
    const Eigen::Vector3d f_expected = ms * (-w * w * (c - k)) - ms * g;
    // Constant ω about a principal axis: dH/dt = 0, so M_k = −(k − c) × F_k.
    const Eigen::Vector3d m_expected = -(k - c).cross(f_expected);
    for (int a = 0; a < 3; ++a) {
        CHECK(d.knee_force(i, a) == Approx(f_expected(a)).margin(1e-3));
        CHECK(d.knee_moment(i, a) == Approx(m_expected(a)).margin(1e-3));
        CHECK(d.shank_omega(i, a) == Approx(a == 1 ? w : 0.0).margin(1e-6));
    }
    // Knee power: internal moment · (ω_shank − ω_thigh) = M_y ω.
    CHECK(d.knee_power(i) == Approx(m_expected.y() * w).margin(1e-3));
}

TEST_CASE("dynamics: tables and refusals", "[motion][dynamics]") {
    CHECK(de_leva_table("female").thigh.mass_fraction == Approx(0.1478));
    CHECK(de_leva_table("male").foot.com_from_proximal == Approx(0.4415));
    CHECK_THROWS_AS(de_leva_table("x"), InvalidArgument);
    CHECK_THROWS_AS(body_segment_table("winter"), InvalidArgument);
    const LegSegments leg = standing_leg(5);
    FootLoad none{RowMatX3d::Zero(5, 3), RowMatX3d::Zero(5, 3)};
    CHECK_THROWS_AS(leg_inverse_dynamics(leg, none, dempster_table(), 0.0, 100.0), InvalidArgument);
    Trial t;
    InverseDynamicsOptions o;
    CHECK_THROWS_WITH(inverse_dynamics(t, o), Catch::Contains("no body mass"));
}
