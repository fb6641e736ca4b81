// Numerics shared by the 3D and 2D binding-radius calibrations: Gauss–Legendre
// quadrature and a bracketed root finder (model-internal; other layers do not
// include detail/).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "core/vec3.h"

namespace spinesim::detail {

/// Nodes and weights on [-1, 1] (Newton on the Legendre recurrence).
struct GaussLegendre {
  std::vector<double> t, w;
  explicit GaussLegendre(std::size_t n) : t(n), w(n) {
    for (std::size_t i = 0; i < n; ++i) {
      double x = std::cos(kPi * (static_cast<double>(i) + 0.75) / (static_cast<double>(n) + 0.5));
      double dp = 1;
      for (int it = 0; it < 100; ++it) {
        double p0 = 1, p1 = x;
        for (std::size_t k = 2; k <= n; ++k) {
          const double kd = static_cast<double>(k);
          const double p2 = ((2 * kd - 1) * x * p1 - (kd - 1) * p0) / kd;
          p0 = p1;
          p1 = p2;
        }
        dp = static_cast<double>(n) * (x * p1 - p0) / (x * x - 1);
        const double dx = p1 / dp;
        x -= dx;
        if (std::abs(dx) < 1e-16) break;
      }
      t[i] = x;
      w[i] = 2 / ((1 - x * x) * dp * dp);
    }
  }
};

/// Root of an increasing function f on [lo, hi] with f(lo) ≤ 0 ≤ f(hi): Illinois-modified regula
/// falsi, which keeps the bisection bracket but converges superlinearly.
inline double bracketed_root(const std::function<double(double)>& f, double lo, double hi, double flo, double fhi,
                             double xtol) {
  int side = 0;
  for (int it = 0; it < 200 && hi - lo > xtol; ++it) {
    double x = (flo * hi - fhi * lo) / (flo - fhi);
    if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
    const double fx = f(x);
    if (fx == 0) return x;
    if (fx < 0) {
      lo = x;
      flo = fx;
      if (side == -1) fhi *= 0.5;
      side = -1;
    } else {
      hi = x;
      fhi = fx;
      if (side == 1) flo *= 0.5;
      side = 1;
    }
  }
  return flo == fhi ? 0.5 * (lo + hi) : std::clamp((flo * hi - fhi * lo) / (flo - fhi), lo, hi);
}

}  // namespace spinesim::detail
