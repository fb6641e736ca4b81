// 2D Andrews & Bray calibration of reaction radii; see reaction_radii_2d.h.
//
// Reduced units throughout: lengths in units of the rms step s = sqrt(2 D dt), time in units of dt.
// κ = k·dt/s² is the amount absorbed per step from a bulk density of 1 (at R_out).
#include "model/reaction_radii_2d.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/detail/numerics.h"

namespace spinesim {
namespace {

// Near-field grid [σ, σ + kSpan] (units of s). The kernel is < e^{-40} beyond 9 s and the rdf's
// deviation from the harmonic far field decays within a few s of σ.
constexpr double kSpan = 10.0;
constexpr double kPanel = 1.25;
constexpr std::size_t kNodesPerPanel = 8;
// Kernel reach used for the integrals (|r − ρ| beyond this contributes < e^{-40}).
constexpr double kReach = 9.0;

void require_positive(double v, const char* what) {
  if (!(v > 0) || !std::isfinite(v))
    throw std::invalid_argument(std::string("2D reaction radii: ") + what + " must be positive and finite");
}

void require_outer(double v) {
  if (!(v >= 0) || !std::isfinite(v))
    throw std::invalid_argument("2D reaction radii: outer radius must be finite and >= 0 (0 = default)");
}

/// e^{-x} I0(x) for x ≥ 0: power series (positive terms, no cancellation) below 25, asymptotic
/// expansion above (smallest term ~e^{-2x} < 1e-21). Relative error ~1e-15.
double bessel_i0e(double x) {
  if (x < 25) {
    const double q = 0.25 * x * x;
    double term = 1, sum = 1;
    for (int k = 1; k < 200; ++k) {
      term *= q / (static_cast<double>(k) * k);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return sum * std::exp(-x);
  }
  const double inv8x = 1 / (8 * x);
  double term = 1, sum = 1;
  for (int k = 1; k < 60; ++k) {
    const double m = 2.0 * k - 1;
    const double next = term * m * m * inv8x / k;
    if (next > term) break;
    term = next;
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum / std::sqrt(2 * kPi * x);
}

/// Rice transition density of the separation: a pair at r is at ρ after one step with density
/// ρ e^{-(r²+ρ²)/2} I0(rρ) = ρ e^{-(r−ρ)²/2} I0e(rρ) in ρ. Symmetric as a measure on the plane, so
/// (K f)(r) = ∫ f(ρ)·kernel(r, ρ) dρ is one diffusion step applied to a radial density f.
double kernel(double r, double rho) {
  const double d = r - rho;
  if (std::abs(d) > 40) return 0;
  return rho * std::exp(-0.5 * d * d) * bessel_i0e(r * rho);
}

using detail::bracketed_root;
using detail::GaussLegendre;

const GaussLegendre& panel_rule() {
  static const GaussLegendre rule(kNodesPerPanel);
  return rule;
}

struct Grid {
  std::vector<double> x, w;
};

/// Composite Gauss–Legendre nodes on [lo, hi] with panels no wider than kPanel.
Grid make_grid(double lo, double hi) {
  const GaussLegendre& gl = panel_rule();
  const double span = hi - lo;
  const int panels = std::max(1, static_cast<int>(std::ceil(span / kPanel - 1e-9)));
  const double width = span / panels;
  Grid g;
  g.x.reserve(static_cast<std::size_t>(panels) * gl.t.size());
  g.w.reserve(g.x.capacity());
  for (int p = 0; p < panels; ++p) {
    const double a = lo + p * width;
    for (std::size_t m = 0; m < gl.t.size(); ++m) {
      g.x.push_back(a + 0.5 * width * (1 + gl.t[m]));
      g.w.push_back(0.5 * width * gl.w[m]);
    }
  }
  return g;
}

/// Probability that a pair at separation r is closer than sigma after one step (1 − Marcum Q1),
/// integrated over the part of [0, σ] within the kernel's reach of r.
double p_inside(double r, double sigma) {
  const double lo = std::max(0.0, r - kReach);
  if (lo >= sigma) return 0;
  const Grid g = make_grid(lo, sigma);
  double s = 0;
  for (std::size_t j = 0; j < g.x.size(); ++j) s += g.w[j] * kernel(r, g.x[j]);
  return std::clamp(s, 0.0, 1.0);
}

/// Dense LU (no pivoting: I − A is an M-matrix, diagonally dominant in the weak sense) solving
/// (I − A) X = B for several right-hand sides.
void solve_system(std::vector<double>& m, std::size_t n, std::vector<std::vector<double>>& rhs) {
  for (std::size_t k = 0; k < n; ++k) {
    const double pivot = m[k * n + k];
    for (std::size_t i = k + 1; i < n; ++i) {
      const double f = m[i * n + k] / pivot;
      if (f == 0) continue;
      for (std::size_t j = k; j < n; ++j) m[i * n + j] -= f * m[k * n + j];
      for (auto& b : rhs) b[i] -= f * b[k];
    }
  }
  for (auto& b : rhs) {
    for (std::size_t k = n; k-- > 0;) {
      double s = b[k];
      for (std::size_t j = k + 1; j < n; ++j) s -= m[k * n + j] * b[j];
      b[k] = s / m[k * n + k];
    }
  }
}

/// Steady state of the irreversible cycle with bulk restored at R_out (reduced units). Unknown is the
/// deficit h = 1 − g on [σ, R_g], R_g = σ + kSpan; beyond, h = a ln(R_out/r) exactly, and κ = π a
/// (flux of a logarithmic profile across any circle, D = 1/2 in reduced units):
///   h = p_inside + A h + a·F,   κ = Σ c_j (1 − h_j),  c_j = w_j 2π x_j p_inside(x_j).
/// h(r) (r before a step) is also the probability that a pair at r reacts before reaching R_out.
struct Rdf2d {
  double sigma = 0, r_grid = 0, r_out = 0;
  Grid grid, far;  // far: quadrature nodes on [R_g, R_g + kReach + 1]
  std::vector<double> h;
  double a = 0, kappa = 0;

  double far_field(double r) const { return a * std::log(r_out / r); }

  /// Probability that a pair placed at separation r (before its step) reacts before reaching R_out.
  double eventual_reaction_probability(double r) const {
    if (r > r_grid) return std::max(0.0, far_field(r));
    double s = p_inside(r, sigma);
    for (std::size_t j = 0; j < h.size(); ++j) s += grid.w[j] * kernel(r, grid.x[j]) * h[j];
    for (std::size_t j = 0; j < far.x.size(); ++j) s += far.w[j] * kernel(r, far.x[j]) * far_field(far.x[j]);
    return std::clamp(s, 0.0, 1.0);
  }
};

/// r_out = 0 selects the default σ + kSpan; smaller values are raised to it.
Rdf2d solve_rdf(double sigma, double r_out) {
  Rdf2d out;
  out.sigma = sigma;
  out.r_grid = sigma + kSpan;
  out.r_out = std::max(r_out, out.r_grid);
  out.grid = make_grid(sigma, out.r_grid);
  out.far = make_grid(out.r_grid, out.r_grid + kReach + 1);
  const Grid& g = out.grid;
  const std::size_t n = g.x.size();
  std::vector<double> m(n * n);
  std::vector<std::vector<double>> rhs(2, std::vector<double>(n));
  std::vector<double> c(n);
  double c_total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) m[i * n + j] = (i == j ? 1.0 : 0.0) - g.w[j] * kernel(g.x[i], g.x[j]);
    const double p = p_inside(g.x[i], sigma);
    rhs[0][i] = p;
    double f = 0;
    for (std::size_t j = 0; j < out.far.x.size(); ++j)
      f += out.far.w[j] * kernel(g.x[i], out.far.x[j]) * std::log(out.r_out / out.far.x[j]);
    rhs[1][i] = f;
    c[i] = g.w[i] * 2 * kPi * g.x[i] * p;
    c_total += c[i];
  }
  solve_system(m, n, rhs);
  double c0 = 0, c1 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    c0 += c[i] * rhs[0][i];
    c1 += c[i] * rhs[1][i];
  }
  // h = X0 + a X1 and π a = Σ c (1 − h)  ⇒  a = (C − c·X0) / (π + c·X1).
  out.a = (c_total - c0) / (kPi + c1);
  out.h.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.h[i] = rhs[0][i] + out.a * rhs[1][i];
  out.kappa = kPi * out.a;
  return out;
}

/// Reduced binding radius for reduced rate κ > 0 and reduced outer radius (0 = default).
double reduced_binding_radius(double kappa, double r_out) {
  // g ≤ 1 and ∫ 2πρ p_inside dρ = πσ² give κ < πσ², so σ > sqrt(κ/π). Work in u = ln σ.
  const double target = std::log(kappa);
  auto f = [&](double u) { return std::log(solve_rdf(std::exp(u), r_out).kappa) - target; };
  double lo = 0.5 * std::log(kappa / kPi);
  double flo = f(lo);
  while (flo > 0) {  // not expected; guards rounding
    lo -= 0.1;
    flo = f(lo);
  }
  double hi = lo + 0.5;
  double fhi = f(hi);
  while (fhi < 0) {
    lo = hi;
    flo = fhi;
    hi += 0.5;
    fhi = f(hi);
  }
  return std::exp(bracketed_root(f, lo, hi, flo, fhi, 1e-13));
}

double rms_step(double d_sum, double dt) {
  require_positive(d_sum, "summed diffusion coefficient");
  require_positive(dt, "time step");
  return std::sqrt(2 * d_sum * dt);
}

}  // namespace

double rate_for_binding_radius_2d(double sigma_um, double d_sum_um2_per_s, double dt_s, double outer_radius_um) {
  require_positive(sigma_um, "binding radius");
  require_outer(outer_radius_um);
  const double s = rms_step(d_sum_um2_per_s, dt_s);
  return solve_rdf(sigma_um / s, outer_radius_um / s).kappa * s * s / dt_s;
}

double binding_radius_2d(double k_um2_per_s, double d_sum_um2_per_s, double dt_s, double outer_radius_um) {
  require_positive(k_um2_per_s, "rate constant");
  require_outer(outer_radius_um);
  const double s = rms_step(d_sum_um2_per_s, dt_s);
  return reduced_binding_radius(k_um2_per_s * dt_s / (s * s), outer_radius_um / s) * s;
}

double geminate_probability_2d(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s,
                               double outer_radius_um) {
  require_positive(sigma_b_um, "binding radius");
  require_outer(outer_radius_um);
  if (!(sigma_u_um >= 0) || !std::isfinite(sigma_u_um))
    throw std::invalid_argument("2D reaction radii: unbinding radius must be finite and >= 0");
  const double s = rms_step(d_sum_um2_per_s, dt_s);
  return solve_rdf(sigma_b_um / s, outer_radius_um / s).eventual_reaction_probability(sigma_u_um / s);
}

ReversibleRadii2d reversible_radii_2d(double kon_um2_per_s, double d_sum_um2_per_s, double dt_s,
                                      double geminate_probability, double outer_radius_um) {
  require_positive(kon_um2_per_s, "rate constant");
  require_outer(outer_radius_um);
  const double p = geminate_probability;
  if (!(p > 0 && p < 1))
    throw std::invalid_argument("2D reaction radii: geminate recombination probability must be in (0, 1)");
  const double s = rms_step(d_sum_um2_per_s, dt_s);
  const double r_out = outer_radius_um / s;
  // Superposition: equilibrium rdf = irreversible rdf + response to re-injected pairs, each rebinding
  // with probability p, so κ_on = κ_irr(σ_b) + κ_on p.
  const double sigma_b = reduced_binding_radius(kon_um2_per_s * dt_s / (s * s) * (1 - p), r_out);
  const Rdf2d rdf = solve_rdf(sigma_b, r_out);
  const double p_max = rdf.eventual_reaction_probability(0);
  if (p > p_max) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "2D reaction radii: geminate probability %.4g is unattainable: with binding radius %.4g um and "
                  "rms step %.4g um (dt = %.4g s) even products placed at zero separation rebind with "
                  "probability only %.4g. In 2D this limit depends on kon/D_sum and the outer radius, not on "
                  "dt (sigma_b/s is dt-independent): lower p_gem, or use a larger outer radius if the "
                  "simulated density allows",
                  p, sigma_b * s, s, dt_s, p_max);
    throw std::invalid_argument(buf);
  }
  auto f = [&](double r) { return std::log(p) - std::log(rdf.eventual_reaction_probability(r)); };
  const double lo = 0, flo = f(0);
  const double hi = rdf.r_grid;  // beyond the grid h = a ln(R_out/r) is inverted in closed form
  const double fhi = f(hi);
  double sigma_u = 0;
  if (fhi < 0) {
    sigma_u = rdf.r_out * std::exp(-p / rdf.a);
  } else {
    sigma_u = bracketed_root(f, lo, hi, flo, fhi, 1e-13 * std::max(1.0, hi));
  }
  return {sigma_b * s, sigma_u * s, rdf.eventual_reaction_probability(sigma_u)};
}

double outer_radius_for_area_2d(double area_um2) {
  require_positive(area_um2, "area per molecule");
  return std::sqrt(area_um2 / kPi) * std::exp(-0.75);
}

std::string rate_reproduction_warning_2d(double k_um2_per_s, double d_sum_um2_per_s, double dt_s,
                                         double outer_radius_um) {
  const double s = rms_step(d_sum_um2_per_s, dt_s);
  const double sigma_b = binding_radius_2d(k_um2_per_s, d_sum_um2_per_s, dt_s, outer_radius_um);
  const double sensitivity = k_um2_per_s / (2 * kPi * d_sum_um2_per_s);
  if (sensitivity <= 0.05) return {};
  const double r_used = std::max(outer_radius_um, sigma_b + kSpan * s);
  char buf[1400];
  std::snprintf(buf, sizeof buf,
                "2D rate k = %.4g um^2/s with D = %.4g um^2/s is diffusion-influenced: k/(2 pi D) = %.3g > 0.05. "
                "It needs binding radius sigma_b = %.4g um = %.3g x the rms step s = sqrt(2 D dt) = %.4g um "
                "(dt = %.4g s), calibrated with the bulk density restored at R_out = %.4g um. In 2D such a rate is "
                "not a constant: the rate a simulation shows depends on the density / domain size, "
                "d ln k / d ln R_out = -%.3g (the rate changes by a factor %.3g when R_out doubles), and in an "
                "unbounded plane it decays like 1/ln t. Reducing dt does not help (sigma_b/s depends only on k/D). "
                "Pass outer_radius_um matching the simulated density (outer_radius_for_area_2d) and check the "
                "rate in the simulation.",
                k_um2_per_s, d_sum_um2_per_s, sensitivity, sigma_b, sigma_b / s, s, dt_s, r_used, sensitivity,
                1 / (1 + sensitivity * std::log(2.0)));
  return buf;
}

}  // namespace spinesim
