// Bimolecular reaction radii for a fixed-time-step Brownian-dynamics simulator, calibrated with the
// method of Andrews & Bray, "Stochastic simulation of chemical reactions with spatial resolution and
// single molecule detail", Phys. Biol. 1:137-151 (2004) — the scheme Smoldyn uses.
//
// Simulation model being calibrated. Each time step dt every A–B pair first diffuses (relative
// displacement Gaussian with standard deviation s = sqrt(2 (D_A + D_B) dt) per axis, called the rms
// step length), then every pair whose separation is < σ_b (binding radius) reacts. For a reversible
// reaction the products of C → A + B are placed at separation σ_u (unbinding radius).
//
// Method. In reduced units (lengths in s, time in dt) the steady-state radial distribution function
// g(r) of B around A (bulk value 1) under repeated "diffuse, then absorb everything inside σ_b" cycles
// is computed numerically: g = P·K·g with K the radial form of the 3D Gaussian convolution and P the
// removal of r < σ_b. The absorbed amount per step is k·dt/s³, so the rate constant is
// k = (absorbed per step)·s³/dt. Unlike Andrews & Bray's / Smoldyn's time iteration on a tabulated
// grid, the steady state is solved directly as a linear system: composite Gauss–Legendre nodes on
// [σ_b, σ_b + 10 s], the exact kernel, and an analytic far field g = 1 − a/r beyond the grid whose
// amplitude is tied to the absorbed flux (a = flux/2π, exact for a discrete-step walk). This gives the
// rate to ~1e-9 relative accuracy, smooth and monotone in σ_b, so it can be inverted to full precision.
//
// Limits: s ≪ σ_b gives the Smoluchowski rate k → 4π D σ_b (more precisely 4π D (σ_b − 0.58 s)),
// s ≫ σ_b gives the activation limit k → (4π/3) σ_b³ / dt.
//
// Units: lengths µm, diffusion coefficients µm²/s, times s, bimolecular rate constants µm³/s
// (per molecule pair; convert from M⁻¹s⁻¹ with per_molar_per_s_to_um3_per_s).
#pragma once

#include <string>

namespace spinesim {

/// rms step length s = sqrt(2 d_sum dt) (µm): standard deviation, per axis, of the relative A–B
/// displacement in one step, for summed diffusion coefficient d_sum (µm²/s) and step dt (s).
/// Throws std::invalid_argument for non-positive inputs.
double rms_step_um(double d_sum_um2_per_s, double dt_s);

/// Binding radius σ_b (µm) for an irreversible A + B → products with macroscopic rate constant k
/// (µm³/s), summed diffusion coefficient d_sum = D_A + D_B (µm²/s) and time step dt (s): molecules
/// react when their separation after a step is < σ_b. Every k > 0 has a solution (the reproducible
/// rate is unbounded, growing like 4π d_sum σ_b). Inverts rate_for_binding_radius to ~1e-12 relative
/// (bracketing bisection with Illinois regula-falsi steps on ln σ_b). Cost: typically 4–10 rdf solves,
/// ~0.4 ms (worst ~0.7 ms) at -O2, valid for k·dt/s³ from 1e-20 to 1e13.
/// Throws std::invalid_argument for non-positive or non-finite inputs.
double binding_radius(double k_um3_per_s, double d_sum_um2_per_s, double dt_s);

/// The rate constant k (µm³/s) that binding radius sigma_um (µm) produces at this d_sum (µm²/s) and
/// dt (s) for an irreversible reaction: the forward map of binding_radius. Strictly increasing in
/// sigma_um; ~1e-10 relative accuracy for σ_b/s in [1e-6, 1e6]. Cost: one rdf solve, ~0.1 ms.
/// Throws std::invalid_argument for non-positive or non-finite inputs.
double rate_for_binding_radius(double sigma_um, double d_sum_um2_per_s, double dt_s);

/// Radii for a reversible A + B ⇌ C.
struct ReversibleRadii {
  double binding_um;            ///< σ_b (µm): A + B react when closer than this after a step.
  double unbinding_um;          ///< σ_u (µm): C → A + B places the products this far apart (may be < σ_b).
  double geminate_probability;  ///< probability that a pair placed at σ_u eventually rebinds (achieved value).
};

/// Reversible A + B ⇌ C with forward rate constant kon (µm³/s), summed diffusion coefficient d_sum
/// (µm²/s) and step dt (s). Implements Andrews & Bray's "fixed geminate recombination probability"
/// mode (Smoldyn's `product_placement … pgem p`): the returned σ_u is the separation at which a freshly
/// dissociated pair rebinds (eventually, in the simulation's discrete-step dynamics) with probability
/// p_gem = geminate_probability, and σ_b is such that the equilibrium radial distribution function
/// *including the unbinding source at σ_u* gives the forward rate kon, i.e. with C → A + B simulated at
/// the user's k_off the equilibrium constant is kon/k_off. Uses the exact identity
/// k_rev(σ_b, σ_u) = k_irr(σ_b)/(1 − p_gem), so σ_b = binding_radius(kon·(1 − p_gem)).
/// (reversible_rate_for_radii evaluates the rdf with the explicit source; tests check the two agree.)
/// The largest attainable p_gem is the one at σ_u = 0, which shrinks as dt grows (σ_b ≪ s); asking for
/// more throws std::invalid_argument with a message saying so. Cost: ~0.6 ms (worst ~2.5 ms) at -O2.
/// Throws std::invalid_argument for non-positive kon/d_sum/dt or geminate_probability outside (0, 1).
ReversibleRadii reversible_radii(double kon_um3_per_s, double d_sum_um2_per_s, double dt_s,
                                 double geminate_probability);

/// Forward rate constant (µm³/s) of a reversible reaction with binding radius sigma_b_um and unbinding
/// radius sigma_u_um (µm, ≥ 0), from the steady-state rdf with the unbinding source at σ_u (every
/// absorbed pair is re-injected at σ_u: equilibrium). Returns +infinity if p_gem rounds to 1.
/// Cost grows with the grid [σ_b, max(σ_b, σ_u) + 10 s]: ~0.2 ms for σ_u within a few s of σ_b; beyond
/// σ_u − σ_b > 2000 s it uses the identity k_irr/(1 − p_gem) instead.
/// Throws std::invalid_argument for invalid inputs.
double reversible_rate_for_radii(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s);

/// Geminate recombination probability (eventual, 0..1) of a pair placed at separation sigma_u_um (µm,
/// ≥ 0) when the binding radius is sigma_b_um (µm). Throws std::invalid_argument for invalid inputs.
double geminate_probability(double sigma_b_um, double sigma_u_um, double d_sum_um2_per_s, double dt_s);

/// Largest rate constant (µm³/s) whose binding radius does not exceed the rms step s at this dt:
/// κ(1)·s³/dt with κ(1) ≈ 2.72388 (Andrews & Bray / Smoldyn table value 2.7240). The reproducible rate
/// itself is *unbounded* (k ≈ 4π d_sum (σ_b − 0.5826 s) for σ_b ≫ s, never finite-capped per step);
/// above this value the reaction is diffusion-limited in the simulation — see
/// rate_reproduction_warning. Grows like √dt. Throws std::invalid_argument for invalid inputs.
double largest_rate_within_rms_step(double d_sum_um2_per_s, double dt_s);

/// Diagnostic for showing to users. Returns "" when the rate is comfortably reproduced, i.e. when
/// σ_b ≤ s (rms step). Otherwise returns a message stating k (µm³/s and M⁻¹s⁻¹), the required σ_b, s,
/// the dt at which σ_b would equal s (dt ≥ (k/(κ(1)(2 d_sum)^1.5))²), and the Smoluchowski radius
/// k/(4π d_sum) below which σ_b cannot fall at *any* dt: such a rate is diffusion-limited, reproduced
/// only with a reaction radius that may exceed the molecules' real contact distance (then the rate is
/// faster than diffusion allows) and only after the pair distribution has relaxed for ~(σ_b/s)² steps.
/// Large dt never makes an irreversible rate unreproducible (σ_b → (3k dt/4π)^{1/3}, activation
/// limit); for reversible reactions a large dt caps the attainable geminate probability (see
/// reversible_radii). Throws std::invalid_argument for invalid inputs.
std::string rate_reproduction_warning(double k_um3_per_s, double d_sum_um2_per_s, double dt_s);

/// 1/(M·s) → µm³/s per molecule pair: divide by N_A·1e-15 L/µm³ (core/units.h).
double per_molar_per_s_to_um3_per_s(double k);
/// 1/(µM·s) → µm³/s per molecule pair: divide by 602.214076 (core/units.h).
double per_uM_per_s_to_um3_per_s(double k);

/// Probability that one Brownian hit of a ligand (diffusion coefficient D, µm²/s) on an
/// agent's capture disc (area, µm²) binds, for a binding rate kon (µm³/s) and step dt:
/// p = kon·sqrt(π·dt/D)/area, from the flux of Brownian crossings c·sqrt(D·dt/π).
/// Not clamped to 1 (the loader refuses scenes where it exceeds 1).
double capture_probability(double kon_um3_per_s, double dt_s, double d_um2_per_s, double disc_area_um2);

}  // namespace spinesim
