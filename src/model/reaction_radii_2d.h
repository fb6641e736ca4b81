// Bimolecular reaction radii for molecules diffusing in 2D (on a membrane) in a fixed-time-step
// Brownian-dynamics simulator: the 2D analogue of the Andrews & Bray (2004) calibration in
// reaction_radii.h.
//
// Simulation model being calibrated. Each time step dt every A–B pair first diffuses (relative
// displacement a 2D Gaussian with standard deviation s = sqrt(2 (D_A + D_B) dt) per axis), then every
// pair whose separation is < σ_b reacts. For a reversible reaction C → A + B places the products at
// separation σ_u.
//
// Rate constant. k (µm²/s) is the number of reactions per unit time per A molecule divided by the
// B density (molecules/µm²) far from that A, in the steady state of the "diffuse, then absorb r < σ_b"
// cycle: in reduced units (lengths in s, time in dt) κ = k·dt/s² = k/(2 D_sum) is the amount absorbed
// per step. Note that κ does not involve dt: σ_b/s is a function of k/D_sum (and the outer radius) only.
//
// Why an outer radius is needed (2D physics). In an infinite plane a 2D random walk is recurrent:
// the depletion zone around an absorbing disc grows for ever and the rate decays like 1/ln t, so
// there is no steady state and no rate constant, for continuous diffusion *and* for discrete steps.
// A steady state exists only if the bulk density is restored at some distance — in a real simulation
// by the other molecules (finite density) or by the domain. The calibration therefore fixes the outer
// radius R_out at which the pair density equals the bulk value, and solves the radial distribution
// function (rdf) g(r) of B around A with the exact discrete-step kernel on [σ_b, σ_b + 10 s] joined to
// the exact far field g = 1 − a ln(R_out/r) (ln r is invariant under a Gaussian step to O(e^{-r²/2}),
// and one step carries π a inward across any circle, so κ = π a). This gives the rate to ~1e-10.
//
// Consequences, exact for this model:  1/κ(R_out) = 1/κ(R_1) + ln(R_out/R_1)/π, i.e.
//   d ln k / d ln R_out = −k/(2π D_sum).
// So when k ≪ 2π D_sum (activation-limited, σ_b ≪ s, k → π σ_b²/dt) the outer radius barely matters
// and k is a genuine constant. When k is comparable with 2π D_sum (σ_b ≳ 0.3 s) the reaction is
// diffusion-influenced: the rate a simulation shows depends on density/domain size (logarithmically),
// and no dt changes that (σ_b/s depends only on k/D_sum). rate_reproduction_warning_2d says so.
//
// Choosing R_out (outer_radius_um arguments; 0 means the default):
//  * default: R_out = σ_b + 10 s — bulk density restored just beyond the reach of one step (what the
//    simulator sees when the mean distance between molecules is ~10 s, or as an activation-limited
//    reference). Any R_out < σ_b + 10 s is raised to σ_b + 10 s.
//  * cell / finite density: for a closed system or uniform replenishment with area A per A molecule
//    (A = 1/density), R_out = outer_radius_for_area_2d(A) = sqrt(A/π)·e^{−3/4} (reflecting-cell
//    mean-first-passage matching); for a periodic square of side L exactly, R_out = 0.2696763·L
//    (regular part of the torus Green's function). Both valid for R_out ≫ s.
//  * explicit reservoir (g ≡ 1 imposed for r ≥ R_res ≫ s): R_out = R_res + 0.5826 s.
//
// Units: lengths µm, diffusion coefficients µm²/s, times s, 2D rate constants µm²/s.
#pragma once

#include <string>

namespace spinesim {

/// Binding radius σ_b (µm) reproducing the 2D rate constant k (µm²/s) for summed diffusion coefficient
/// d_sum (µm²/s), step dt (s) and outer radius outer_radius_um (µm; 0 = default σ_b + 10 s; see the file
/// comment). Every k > 0 has a solution. Inverts rate_for_binding_radius_2d to ~1e-12 relative.
/// Cost ~1.5–9 ms at -O2 (6–12 rdf solves). Throws std::invalid_argument for non-positive/non-finite
/// inputs (outer radius may be 0).
double binding_radius_2d(double k_um2_per_s, double d_sum_um2_per_s, double dt_s, double outer_radius_um = 0);

/// The 2D rate constant k (µm²/s) that binding radius sigma_um produces (forward map of
/// binding_radius_2d). Strictly increasing in sigma_um; k → π σ²/dt for σ ≪ s. ~1e-12 relative
/// accuracy for σ/s up to 1e4 (~1e-9 at 1e6). Cost: one rdf solve, 0.15–0.55 ms.
double rate_for_binding_radius_2d(double sigma_um, double d_sum_um2_per_s, double dt_s, double outer_radius_um = 0);

/// Radii for a reversible A + B ⇌ C in 2D.
struct ReversibleRadii2d {
  double binding_um;            ///< σ_b (µm).
  double unbinding_um;          ///< σ_u (µm): products placed this far apart (may be < σ_b).
  double geminate_probability;  ///< achieved probability that a pair placed at σ_u rebinds before
                                ///< reaching the bulk at R_out (in 2D every pair rebinds eventually
                                ///< in an infinite plane; the outer radius makes this finite).
};

/// Reversible A + B ⇌ C with forward rate kon (µm²/s): Andrews & Bray's fixed-geminate-probability
/// mode, as reversible_radii in 3D. σ_b = binding_radius_2d(kon (1 − p)) (equilibrium rdf with the
/// unbinding source gives kon), σ_u such that a pair placed at σ_u rebinds with probability p before
/// escaping to R_out. The largest attainable p is the one at σ_u = 0 (it depends on kon/d_sum and
/// R_out/s, not on dt otherwise); asking for more throws std::invalid_argument. Throws for p outside
/// (0, 1) or invalid inputs. Cost ~4–7 ms.
ReversibleRadii2d reversible_radii_2d(double kon_um2_per_s, double d_sum_um2_per_s, double dt_s,
                                      double geminate_probability, double outer_radius_um = 0);

/// Probability that a pair placed at separation sigma_u_um (≥ 0, before its next step) reacts before
/// reaching the bulk at R_out, for binding radius sigma_b_um. Cost ~0.5 ms.
double geminate_probability_2d(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s,
                               double outer_radius_um = 0);

/// Outer radius (µm) equivalent to an area area_um2 per A molecule (area = 1/density) with the bulk
/// replenished uniformly (reflecting cell): sqrt(area/π)·e^{−3/4}. Throws for non-positive area.
double outer_radius_for_area_2d(double area_um2);

/// Diagnostic for users. Returns "" when the 2D rate is activation-limited enough to be a genuine
/// constant: k/(2π d_sum) ≤ 0.05, i.e. the rate changes by < 3.5 % when the outer radius (density,
/// domain) changes by a factor 2 (then σ_b ≲ 0.26 s). Otherwise a message stating k, σ_b, s, σ_b/s, the
/// sensitivity d ln k/d ln R_out = −k/(2π d_sum), that reducing dt does not help (σ_b/s depends only on
/// k/d_sum) and that the rate in a simulation will depend on density/domain size. Throws for invalid
/// inputs.
std::string rate_reproduction_warning_2d(double k_um2_per_s, double d_sum_um2_per_s, double dt_s,
                                         double outer_radius_um = 0);

}  // namespace spinesim
