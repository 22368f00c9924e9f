// Platt scaling and isotonic calibration.

#include "sportsmed/risk/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <Eigen/Dense>

#include "sportsmed/core/error.hpp"

namespace sportsmed::risk {
namespace {

void check(const char* fn, const VecXdCRef& s, const VecXdCRef& y) {
    SPORTSMED_CHECK(s.size() == y.size(), "{}: {} scores but {} labels", fn, s.size(), y.size());
    SPORTSMED_CHECK(s.size() > 0, "{}: no rows", fn);
    for (Eigen::Index i = 0; i < s.size(); ++i) {
        SPORTSMED_CHECK(std::isfinite(s[i]), "{}: score at row {} is {}", fn, i, s[i]);
        SPORTSMED_CHECK(std::isfinite(y[i]), "{}: target at row {} is {}", fn, i, y[i]);
    }
}

double log1pexp(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

}  // namespace

PlattCalibration& PlattCalibration::fit(const VecXdCRef& s, const VecXdCRef& y) {
    check("PlattCalibration.fit", s, y);
    double n1 = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
        SPORTSMED_CHECK(y[i] == 0.0 || y[i] == 1.0, "PlattCalibration.fit: label {} at row {} is not 0 or 1", y[i], i);
        n1 += y[i];
    }
    const double n0 = static_cast<double>(y.size()) - n1;
    const double tp = (n1 + 1) / (n1 + 2), tn = 1 / (n0 + 2);
    // Newton on the cross-entropy to soft targets; z = a·s + b is the log-odds.
    double a = 0, b = std::log((n1 + 1) / (n0 + 1));
    const auto loss = [&](double A, double B) {
        double f = 0;
        for (Eigen::Index i = 0; i < s.size(); ++i) {
            const double z = A * s[i] + B, t = y[i] == 1.0 ? tp : tn;
            f += log1pexp(z) - t * z;
        }
        return f;
    };
    double f = loss(a, b);
    for (int it = 0; it < 100; ++it) {
        double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
        for (Eigen::Index i = 0; i < s.size(); ++i) {
            const double z = a * s[i] + b, p = 1 / (1 + std::exp(-z)), t = y[i] == 1.0 ? tp : tn;
            const double w = p * (1 - p);
            ga += (p - t) * s[i];
            gb += p - t;
            haa += w * s[i] * s[i];
            hab += w * s[i];
            hbb += w;
        }
        const double det = haa * hbb - hab * hab;
        if (!(det > 0)) break;
        const double da = -(hbb * ga - hab * gb) / det, db = -(haa * gb - hab * ga) / det;
        double step = 1, fn = loss(a + da, b + db);
        while (fn > f && step > 1e-10) {
            step *= 0.5;
            fn = loss(a + step * da, b + step * db);
        }
        a += step * da;
        b += step * db;
        f = fn;
        if (std::abs(step * da) < 1e-12 * (1 + std::abs(a)) && std::abs(step * db) < 1e-12 * (1 + std::abs(b))) break;
    }
    a_ = a;
    b_ = b;
    fitted_ = true;
    return *this;
}

VecXd PlattCalibration::predict(const VecXdCRef& s) const {
    SPORTSMED_CHECK(fitted_, "PlattCalibration.predict: not fitted");
    VecXd p(s.size());
    for (Eigen::Index i = 0; i < s.size(); ++i) p[i] = 1 / (1 + std::exp(-(a_ * s[i] + b_)));
    return p;
}

IsotonicCalibration& IsotonicCalibration::fit(const VecXdCRef& s, const VecXdCRef& y, const VecXdCRef& w) {
    check("IsotonicCalibration.fit", s, y);
    SPORTSMED_CHECK(w.size() == 0 || w.size() == s.size(), "IsotonicCalibration.fit: {} weights for {} rows",
                    w.size(), s.size());
    std::vector<Eigen::Index> order(static_cast<size_t>(s.size()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](Eigen::Index i, Eigen::Index j) { return s[i] < s[j]; });
    // Merge ties: weighted mean of y per distinct score.
    std::vector<double> xs, ys, ws;
    for (const Eigen::Index i : order) {
        const double wi = w.size() ? w[i] : 1.0;
        SPORTSMED_CHECK(wi >= 0, "IsotonicCalibration.fit: weight {} at row {} is negative", wi, i);
        if (!xs.empty() && xs.back() == s[i]) {
            ys.back() += wi * y[i];
            ws.back() += wi;
        } else {
            xs.push_back(s[i]);
            ys.push_back(wi * y[i]);
            ws.push_back(wi);
        }
    }
    // Drop zero-weight points (sklearn does too), then turn sums into means.
    std::vector<double> x2, y2, w2;
    for (size_t k = 0; k < xs.size(); ++k) {
        if (ws[k] > 0) {
            x2.push_back(xs[k]);
            y2.push_back(ys[k] / ws[k]);
            w2.push_back(ws[k]);
        }
    }
    SPORTSMED_CHECK(!x2.empty(), "IsotonicCalibration.fit: all weights are zero");
    // Pool adjacent violators over blocks.
    std::vector<double> bv, bw;
    std::vector<size_t> bn;
    for (size_t k = 0; k < x2.size(); ++k) {
        bv.push_back(y2[k]);
        bw.push_back(w2[k]);
        bn.push_back(1);
        while (bv.size() > 1 && bv[bv.size() - 2] >= bv.back()) {
            const double wsum = bw[bw.size() - 2] + bw.back();
            const double v = (bv[bv.size() - 2] * bw[bw.size() - 2] + bv.back() * bw.back()) / wsum;
            const size_t n = bn[bn.size() - 2] + bn.back();
            bv.pop_back(), bw.pop_back(), bn.pop_back();
            bv.back() = v, bw.back() = wsum, bn.back() = n;
        }
    }
    x_.resize(static_cast<Eigen::Index>(x2.size()));
    y_.resize(x_.size());
    Eigen::Index k = 0;
    for (size_t b = 0; b < bv.size(); ++b)
        for (size_t j = 0; j < bn[b]; ++j, ++k) {
            x_[k] = x2[static_cast<size_t>(k)];
            y_[k] = bv[b];
        }
    return *this;
}

VecXd IsotonicCalibration::predict(const VecXdCRef& s) const {
    SPORTSMED_CHECK(x_.size() > 0, "IsotonicCalibration.predict: not fitted");
    VecXd p(s.size());
    const Eigen::Index n = x_.size();
    for (Eigen::Index i = 0; i < s.size(); ++i) {
        const double v = s[i];
        SPORTSMED_CHECK(!std::isnan(v), "IsotonicCalibration.predict: score at row {} is NaN", i);
        if (v <= x_[0]) p[i] = y_[0];
        else if (v >= x_[n - 1]) p[i] = y_[n - 1];
        else {
            const Eigen::Index j = std::upper_bound(x_.data(), x_.data() + n, v) - x_.data();  // x_[j-1] <= v < x_[j]
            const double t = (v - x_[j - 1]) / (x_[j] - x_[j - 1]);
            p[i] = y_[j - 1] + t * (y_[j] - y_[j - 1]);
        }
    }
    return p;
}

void IsotonicCalibration::set(const VecXdCRef& x, const VecXdCRef& y) {
    SPORTSMED_CHECK(x.size() == y.size() && x.size() > 0, "IsotonicCalibration.set: need equal, non-empty x and y");
    x_ = x;
    y_ = y;
}

}  // namespace sportsmed::risk
