// Andrews & Bray (2004) calibration of bimolecular reaction radii; see reaction_radii.h.
//
// Everything below works in reduced units: lengths in units of the rms step s = sqrt(2 D dt), time in
// units of dt. A reduced rate κ = k·dt/s³ is the amount absorbed per step from a bulk density of 1.
#include "model/reaction_radii.h"

#include "core/units.h"

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

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1/sqrt(2π)

// Grid beyond the binding radius (and beyond σ_u for the explicit-source solve), in units of s. The
// kernel is negligible (< e^-40) beyond 9 s, and the rdf's deviation from its far-field form
// 1 − a/r decays within a few s of σ_b, so 10 s is ample (20 s, or 0.5 s panels of 10 nodes, change
// the rate by < 1e-11 relative for σ_b/s in [1e-6, 1e6]; checked in development).
constexpr double kSpan = 10.0;
// Composite Gauss–Legendre panels (width, nodes per panel): the integrands are Gaussians of unit width
// times smooth functions, integrated to ~1e-11 by 8 nodes per 1.25 s.
constexpr double kPanel = 1.25;
constexpr std::size_t kNodesPerPanel = 8;
// reversible_rate_for_radii solves the explicit-source rdf only while σ_u − σ_b ≤ this (in s): ~13k nodes.
constexpr double kMaxExplicitSourceDistance = 2000.0;
// Kernel entries between nodes further apart than this are dropped (e^{-40.5} ≈ 2.6e-18).
constexpr double kKernelCutoff = 9.0;

void require_positive(double v, const char* what) {
  if (!(v > 0) || !std::isfinite(v))
    throw std::invalid_argument(std::string("reaction radii: ") + what + " must be positive and finite");
}

using detail::bracketed_root;
using detail::GaussLegendre;

const GaussLegendre& panel_rule() {
  static const GaussLegendre rule(kNodesPerPanel);
  return rule;
}
const GaussLegendre& ball_rule() {
  static const GaussLegendre rule(20);
  return rule;
}

/// Transition density, in the radial coordinate ρ, of a pair at separation r after one step:
/// ρ/(r√(2π)) [e^{-(r−ρ)²/2} − e^{-(r+ρ)²/2}] (integrates to 1 over ρ ∈ [0, ∞)). (K f)(r) = ∫ f(ρ)·this dρ
/// applies one diffusion step to a radial density f.
double radial_kernel(double r, double rho) {
  const double d = r - rho;
  const double e = std::exp(-0.5 * d * d);
  if (e == 0) return 0;
  if (r == 0) return 2 * rho * rho * e * kInvSqrt2Pi;
  return e * (-std::expm1(-2 * r * rho)) * (rho / r) * kInvSqrt2Pi;
}

/// Probability that a pair at separation r is closer than sigma after one step.
double p_inside(double r, double sigma) {
  if (sigma < 0.5) {
    // Closed form cancels catastrophically for small sigma (result ~ σ³); integrate instead.
    const GaussLegendre& gl = ball_rule();
    double sum = 0;
    for (std::size_t m = 0; m < gl.t.size(); ++m) sum += gl.w[m] * radial_kernel(r, 0.5 * sigma * (1 + gl.t[m]));
    return 0.5 * sigma * sum;
  }
  if (r == 0) return std::erf(sigma * kInvSqrt2) - 2 * sigma * std::exp(-0.5 * sigma * sigma) * kInvSqrt2Pi;
  const double base = r > sigma ? 0.5 * (std::erfc((r - sigma) * kInvSqrt2) - std::erfc((r + sigma) * kInvSqrt2))
                                : 0.5 * (std::erf((sigma - r) * kInvSqrt2) + std::erf((sigma + r) * kInvSqrt2));
  const double d = r - sigma;
  const double corr = std::exp(-0.5 * d * d) * (-std::expm1(-2 * r * sigma)) / r * kInvSqrt2Pi;
  return std::max(0.0, base - corr);
}

/// ∫_R^∞ (1/ρ)·radial_kernel(r, ρ) dρ: one step applied to a 1/r far field that starts at R.
double far_field_inverse_r(double r, double R) {
  if (r < 1e-8) return std::sqrt(2 / kPi) * std::exp(-0.5 * R * R);
  return (std::erfc((R - r) * kInvSqrt2) - std::erfc((R + r) * kInvSqrt2)) / (2 * r);
}

/// Density (per unit bulk) at r one step after a unit amount was placed on the shell of radius b.
double shell_source_density(double r, double b) {
  const double d = r - b;
  const double e = std::exp(-0.5 * d * d);
  if (e == 0) return 0;
  const double shape = b < 1e-12 ? 2 * e : e * (-std::expm1(-2 * r * b)) / (r * b);
  return shape * kInvSqrt2Pi / (4 * kPi);
}

/// Quadrature grid on [lo, lo + span] (composite Gauss–Legendre).
struct Grid {
  std::vector<double> x, w;
  double R = 0;  // end of the grid
};

Grid make_grid(double lo, double span) {
  const GaussLegendre& gl = panel_rule();
  const int panels = std::max(1, static_cast<int>(std::ceil(span / kPanel - 1e-9)));
  const double width = span / panels;
  Grid g;
  g.x.reserve(static_cast<std::size_t>(panels) * gl.t.size());
  for (int p = 0; p < panels; ++p) {
    const double a = lo + p * width;
    for (std::size_t m = 0; m < gl.t.size(); ++m) {
      g.x.push_back(a + 0.5 * width * (1 + gl.t[m]));
      g.w.push_back(0.5 * width * gl.w[m]);
    }
  }
  g.R = lo + span;
  return g;
}

/// Solves (I − A) X = B for the kernel matrix A_ij = w_j radial_kernel(x_i, x_j) restricted to the band
/// |x_i − x_j| ≤ kKernelCutoff. I − A is a (weakly diagonally dominant) M-matrix: banded Gaussian
/// elimination without pivoting is stable. `rhs` holds nrhs columns, each of length n, overwritten with X.
void solve_kernel_system(const Grid& grid, std::vector<std::vector<double>>& rhs) {
  const std::size_t n = grid.x.size();
  std::size_t band = 0;  // half bandwidth in index units
  for (std::size_t i = 0; i < n; ++i)
    while (i + band + 1 < n && grid.x[i + band + 1] - grid.x[i] <= kKernelCutoff) ++band;
  const std::size_t width = 2 * band + 1;
  std::vector<double> m(n * width, 0.0);
  auto at = [&](std::size_t i, std::size_t j) -> double& { return m[i * width + (j + band - i)]; };
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j0 = i >= band ? i - band : 0, j1 = std::min(n - 1, i + band);
    for (std::size_t j = j0; j <= j1; ++j)
      at(i, j) = (i == j ? 1.0 : 0.0) - grid.w[j] * radial_kernel(grid.x[i], grid.x[j]);
  }
  for (std::size_t k = 0; k < n; ++k) {
    const double pivot = at(k, k);
    const std::size_t i1 = std::min(n - 1, k + band);
    for (std::size_t i = k + 1; i <= i1; ++i) {
      const double f = at(i, k) / pivot;
      if (f == 0) continue;
      for (std::size_t j = k; j <= i1; ++j) at(i, j) -= f * at(k, j);
      for (auto& b : rhs) b[i] -= f * b[k];
    }
  }
  for (auto& b : rhs) {
    for (std::size_t k = n; k-- > 0;) {
      double s = b[k];
      const std::size_t j1 = std::min(n - 1, k + band);
      for (std::size_t j = k + 1; j <= j1; ++j) s -= at(k, j) * b[j];
      b[k] = s / at(k, k);
    }
  }
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// Steady state of the irreversible cycle (diffuse, absorb r < σ) in reduced units. Unknown is the
/// deficit h = 1 − g on the grid (g after absorption); beyond the grid h = a/r exactly (up to
/// exponentially small terms), and a = κ/(2π) because one step of a 1 − a/r field carries 2π a inward
/// across any sphere far from σ (mass balance with the absorbed amount κ).
///   h = p_inside + A h + a·F,   κ = Σ c_j (1 − h_j),  c_j = w_j 4π x_j² p_inside(x_j).
struct IrreversibleRdf {
  double sigma = 0;
  Grid grid;
  std::vector<double> h;
  double a = 0;
  double kappa = 0;  // absorbed per step = reduced rate constant

  /// 1 − (K g)(r): probability that a pair placed at separation r (before a step) eventually reacts.
  double eventual_reaction_probability(double r) const {
    double s = p_inside(r, sigma) + a * far_field_inverse_r(r, grid.R);
    for (std::size_t j = 0; j < h.size(); ++j) s += grid.w[j] * radial_kernel(r, grid.x[j]) * h[j];
    return std::min(1.0, s);
  }
};

IrreversibleRdf solve_irreversible(double sigma) {
  IrreversibleRdf out;
  out.sigma = sigma;
  out.grid = make_grid(sigma, kSpan);
  const Grid& g = out.grid;
  const std::size_t n = g.x.size();
  std::vector<std::vector<double>> rhs(2, std::vector<double>(n));
  std::vector<double> c(n);
  double c_total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = p_inside(g.x[i], sigma);
    rhs[0][i] = p;
    rhs[1][i] = far_field_inverse_r(g.x[i], g.R);
    c[i] = g.w[i] * 4 * kPi * g.x[i] * g.x[i] * p;
    c_total += c[i];
  }
  solve_kernel_system(g, rhs);
  // h = X0 + a X1 and 2π a = Σ c (1 − h)  ⇒  a = (C − c·X0) / (2π + c·X1).
  out.a = (c_total - dot(c, rhs[0])) / (2 * kPi + dot(c, rhs[1]));
  out.h.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.h[i] = rhs[0][i] + out.a * rhs[1][i];
  out.kappa = 2 * kPi * out.a;
  return out;
}

/// Reduced rate of the reversible cycle (diffuse, absorb r < σ_b, re-inject the absorbed amount on the
/// shell σ_u), with the source explicitly in the rdf. Net flux from infinity is zero, so g → 1 beyond
/// the grid [σ_b, max(σ_b, σ_u) + span]. Unknown h = 1 − g (continuous part):
///   h = p_inside + A h − κ S,   κ = Σ c_j (1 − h_j) + κ p_inside(σ_u).
double reversible_kappa(double sigma_b, double sigma_u) {
  if (sigma_u - sigma_b > kMaxExplicitSourceDistance) {
    // Grid would be huge; use the superposition identity κ_rev = κ_irr/(1 − p_gem) instead (agrees
    // with the explicit solve to ~1e-7 or better where both are affordable).
    const IrreversibleRdf rdf = solve_irreversible(sigma_b);
    const double escape = 1 - rdf.eventual_reaction_probability(sigma_u);
    return escape > 0 ? rdf.kappa / escape : std::numeric_limits<double>::infinity();
  }
  const Grid g = make_grid(sigma_b, std::max(sigma_b, sigma_u) - sigma_b + kSpan);
  const std::size_t n = g.x.size();
  std::vector<std::vector<double>> rhs(2, std::vector<double>(n));
  std::vector<double> c(n);
  double c_total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = p_inside(g.x[i], sigma_b);
    rhs[0][i] = p;
    rhs[1][i] = shell_source_density(g.x[i], sigma_u);
    c[i] = g.w[i] * 4 * kPi * g.x[i] * g.x[i] * p;
    c_total += c[i];
  }
  solve_kernel_system(g, rhs);
  // h = X0 − κ X1  ⇒  κ (1 − c·X1 − p_u) = C − c·X0.  The bracket is 1 − p_gem.
  const double denom = 1 - dot(c, rhs[1]) - p_inside(sigma_u, sigma_b);
  if (!(denom > 1e-300)) return std::numeric_limits<double>::infinity();
  return (c_total - dot(c, rhs[0])) / denom;
}

/// Reduced binding radius for reduced rate κ > 0.
double reduced_binding_radius(double kappa) {
  // κ(σ) ≤ min(2πσ, 4πσ³/3) (discrete sampling absorbs less than continuous; g ≤ 1), so σ is at least
  // the larger of the two inverses. Work in u = ln σ with F(u) = ln κ(e^u) − ln κ.
  const double target = std::log(kappa);
  auto f = [&](double u) { return std::log(solve_irreversible(std::exp(u)).kappa) - target; };
  double lo = std::log(std::max(kappa / (2 * kPi), std::cbrt(3 * kappa / (4 * kPi))));
  double flo = f(lo);
  while (flo > 0) {
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

std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0, double e = 0, double f = 0,
                   double g = 0, double h = 0) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d, e, f, g, h);
  return buf;
}

}  // namespace

double rms_step_um(double d_sum_um2_per_s, double dt_s) {
  require_positive(d_sum_um2_per_s, "summed diffusion coefficient");
  require_positive(dt_s, "time step");
  return std::sqrt(2 * d_sum_um2_per_s * dt_s);
}

double rate_for_binding_radius(double sigma_um, double d_sum_um2_per_s, double dt_s) {
  require_positive(sigma_um, "binding radius");
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  return solve_irreversible(sigma_um / s).kappa * s * s * s / dt_s;
}

double binding_radius(double k_um3_per_s, double d_sum_um2_per_s, double dt_s) {
  require_positive(k_um3_per_s, "rate constant");
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  return reduced_binding_radius(k_um3_per_s * dt_s / (s * s * s)) * s;
}

double geminate_probability(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s) {
  require_positive(sigma_b_um, "binding radius");
  if (!(sigma_u_um >= 0) || !std::isfinite(sigma_u_um))
    throw std::invalid_argument("reaction radii: unbinding radius must be finite and >= 0");
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  return solve_irreversible(sigma_b_um / s).eventual_reaction_probability(sigma_u_um / s);
}

double reversible_rate_for_radii(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s) {
  require_positive(sigma_b_um, "binding radius");
  if (!(sigma_u_um >= 0) || !std::isfinite(sigma_u_um))
    throw std::invalid_argument("reaction radii: unbinding radius must be finite and >= 0");
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  return reversible_kappa(sigma_b_um / s, sigma_u_um / s) * s * s * s / dt_s;
}

ReversibleRadii reversible_radii(double kon_um3_per_s, double d_sum_um2_per_s, double dt_s,
                                 double geminate_probability) {
  require_positive(kon_um3_per_s, "rate constant");
  const double p = geminate_probability;
  if (!(p > 0 && p < 1))
    throw std::invalid_argument("reaction radii: geminate recombination probability must be in (0, 1)");
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  const double kappa_on = kon_um3_per_s * dt_s / (s * s * s);
  // Superposition: the equilibrium rdf = irreversible rdf + response to the re-injected pairs, each of
  // which is absorbed with probability p_gem, so κ_on = κ_irr(σ_b) + κ_on p_gem.
  const double sigma_b = reduced_binding_radius(kappa_on * (1 - p));
  const IrreversibleRdf rdf = solve_irreversible(sigma_b);
  const double p_max = rdf.eventual_reaction_probability(0);
  if (p > p_max)
    throw std::invalid_argument(
        format("reaction radii: geminate probability %.4g is unattainable: at dt = %.4g s (rms step %.4g um, "
               "binding radius %.4g um) even products placed at zero separation rebind with probability only "
               "%.4g; the time step is too large for this geminate probability (reduce dt or p_gem)",
               p, dt_s, s, sigma_b * s, p_max));
  // Eventual-reaction probability decreases with the starting separation; solve in log form.
  auto f = [&](double r) { return std::log(p) - std::log(rdf.eventual_reaction_probability(r)); };
  double lo = 0, flo = f(0), hi = std::max(1.0, sigma_b), fhi = f(hi);
  while (fhi < 0) {
    lo = hi;
    flo = fhi;
    hi *= 2;
    fhi = f(hi);
  }
  const double sigma_u = bracketed_root(f, lo, hi, flo, fhi, 1e-13 * std::max(1.0, hi));
  return {sigma_b * s, sigma_u * s, rdf.eventual_reaction_probability(sigma_u)};
}

double largest_rate_within_rms_step(double d_sum_um2_per_s, double dt_s) {
  return rate_for_binding_radius(rms_step_um(d_sum_um2_per_s, dt_s), d_sum_um2_per_s, dt_s);
}

std::string rate_reproduction_warning(double k_um3_per_s, double d_sum_um2_per_s, double dt_s) {
  const double s = rms_step_um(d_sum_um2_per_s, dt_s);
  const double sigma_b = binding_radius(k_um3_per_s, d_sum_um2_per_s, dt_s);
  if (sigma_b <= s) return {};
  const double smol = k_um3_per_s / (4 * kPi * d_sum_um2_per_s);
  // σ_b = s exactly when the reduced rate k·dt/s³ equals κ(1) ≈ 2.7239; since k·dt/s³ = k/((2D)^1.5 √dt),
  // σ_b ≤ s holds for dt ≥ (k / (κ(1) (2D)^1.5))².
  static const double kappa_at_step = solve_irreversible(1.0).kappa;
  const double dt_min = std::pow(k_um3_per_s / (kappa_at_step * std::pow(2 * d_sum_um2_per_s, 1.5)), 2);
  return format(
      "k = %.4g um^3/s (%.4g /(M s)) needs binding radius sigma_b = %.4g um, larger than the rms step "
      "s = sqrt(2 D dt) = %.4g um (D = %.4g um^2/s, dt = %.4g s): the reaction is diffusion-limited at this "
      "time step, and sigma_b <= s would need dt >= %.4g s. No dt brings sigma_b below the Smoluchowski "
      "radius k/(4 pi D) = %.4g um: if that exceeds the molecules' real contact distance, this rate is "
      "faster than diffusion allows and cannot be reproduced physically; otherwise it is reproduced only "
      "after ~(sigma_b/s)^2 steps of pair relaxation.",
      k_um3_per_s, k_um3_per_s * kPerMolarToUm3, sigma_b, s, d_sum_um2_per_s, dt_s, dt_min, smol);
}

double per_molar_per_s_to_um3_per_s(double k) {
  return k / kPerMolarToUm3;
}
double per_uM_per_s_to_um3_per_s(double k) {
  return k / kMoleculesPerUMPerUm3;
}

double capture_probability(double kon_um3_per_s, double dt_s, double d_um2_per_s, double disc_area_um2) {
  return kon_um3_per_s * std::sqrt(kPi * dt_s / d_um2_per_s) / disc_area_um2;
}

}  // namespace spinesim
