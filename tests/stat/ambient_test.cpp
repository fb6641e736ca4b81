// Ambient (background) concentrations of particle ligands against theory: agents
// that see only a background follow the pseudo-first-order chain of their scheme
// exactly (stationary occupancy of U ⇌ B, a stepped background, the tonic current),
// and a background and diffusing particles of the same ligand add (binding by rate
// plus binding by collision, the mass-action solution of both).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "model/reaction_radii.h"
#include "support/agent_helpers.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

/// Binder: U --L, kon--> B (conducting, 10 pS, E_rev 0 mV), B --koff--> U.
/// Catcher: U --L, kon--> B, irreversible.
constexpr const char* kBinderFile = R"(
agent_type {
  name: "Binder"
  source: "test scheme"
  state { name: "U" }
  state { name: "B" conductance_pS: 10 reversal_mV: 0 source: "test" }
  transition { from: "U" to: "B" ligand { species: "L" kon_per_uM_per_s: 2 } source: "test" }
  transition { from: "B" to: "U" rate_per_s: 3 source: "test" }
}
agent_type {
  name: "Catcher"
  source: "test scheme"
  state { name: "U" }
  state { name: "B" }
  transition { from: "U" to: "B" ligand { species: "L" kon_per_uM_per_s: 0.1 } source: "test" }
}
)";

/// Writes kBinderFile as binder.pbtxt in `dir`.
void write_binder_file(const TempDir& dir) {
  std::ofstream out(dir.path() / "binder.pbtxt");
  out << kBinderFile;
}

/// A 1 µm box, `n` immobile Binders on its wall facing the inside (compartment
/// "box"), a diffusing ligand L with no particles and the given background block.
std::string binder_scene(int n, double t_end, double every, std::uint64_t seed, const std::string& background) {
  std::ostringstream s;
  s.precision(17);
  s << "simulation { dt_s: 1e-4 t_end_s: " << t_end << " seed: " << seed << " }\n"
    << "geometry { box { } }\n"
    << "agent_file: \"binder.pbtxt\"\n"
    << "membrane_potential { holding_mV: -70 }\n"
    << "output { counts_interval_s: " << every << " frame_interval_s: 0 render_png: false }\n"
    << "species { name: \"L\" diffusion_um2_per_s: 100 }\n"
    << "species { name: \"A\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"Binder\" binding_side: BACK }\n"
    << "placement { species: \"A\" count: " << n << " region: \"box_wall\" }\n"
    << background;
  return s.str();
}

}  // namespace

TEST_CASE("background only: U ⇌ B agents reach kon·C/(kon·C + koff), with the tonic current" *
          doctest::test_suite("stat")) {
  // Theory: with L only as a background C in the compartment the agents face, each
  // agent is the two-state chain U → B at kon·C, B → U at koff; the stationary bound
  // (= conducting) fraction is p = kon·C/(kon·C + koff) = 2·1/(2·1 + 3) = 0.4, and
  // the relaxation rate is λ = kon·C + koff = 5 s⁻¹. Sampling every 2 s (λ·2 s = 10,
  // correlation e⁻¹⁰ = 5e-5) from t = 2 s on makes the samples independent
  // Bernoulli(p) draws: N = 100 agents × 100 times = 10⁴ samples, SE = sqrt(p(1−p)/N)
  // = 0.0049; tolerance 4 SE. Seed 11. The current at −70 mV is exactly
  // −0.7 pA (10 pS × −70 mV) per bound agent at every sample (an identity, checked
  // at each), so its mean is the tonic current −0.7 pA·N_agents·p.
  TempDir dir;
  write_binder_file(dir);
  const int n = 100;
  const double every = 2, t_end = 200;
  const LoadedScene scene = load_scene_text(
      dir, "bg.pbtxt",
      binder_scene(n, t_end, every, 11, "background { species: \"L\" compartment: \"box\" constant_uM: 1 }\n"));
  const int species = scene.model.find_species("A");
  REQUIRE(species >= 0);
  Simulator sim(scene.model, std::make_unique<SerialStepper>());
  long bound = 0, samples = 0, bound_at_end = 0;
  double current_sum = 0;
  bool current_matches = true;
  SamplingObserver obs([&](double t, const Simulator& s) {
    if (t < every * (1 - 1e-12)) return;
    long now = 0;
    for (std::size_t a = 0; a < s.world().membrane.size(); ++a) now += s.world().membrane.state[a] == 1;
    bound += now;
    samples += n;
    bound_at_end = now;
    current_sum += s.current_pA(species);
    current_matches = current_matches && std::fabs(s.current_pA(species) - (-0.7 * static_cast<double>(now))) < 1e-9;
  });
  sim.add_observer(&obs, every);
  sim.run();
  const double p_theory = 2.0 * 1 / (2.0 * 1 + 3);
  const double p = static_cast<double>(bound) / static_cast<double>(samples);
  const double se = std::sqrt(p_theory * (1 - p_theory) / static_cast<double>(samples));
  const double rows = static_cast<double>(samples) / n;
  std::printf(
      "[background] bound fraction %.4f ± %.4f vs kon·C/(kon·C + koff) = %.4f; mean current %.3f pA vs %.3f pA; "
      "%llu bindings from the background\n",
      p, se, p_theory, current_sum / rows, -0.7 * n * p_theory,
      static_cast<unsigned long long>(sim.ambient_bindings(species)));
  CHECK(samples == 100L * n);
  CHECK(current_matches);
  INFO("stochastic test: bound fraction " << p << " vs " << p_theory << " ± " << se);
  CHECK(std::fabs(p - p_theory) <= 4 * se);
  // Every binding came from the background (there are no particles), and every
  // transition is a binding or an unbinding: bindings − unbindings = bound at the end.
  const auto bindings = static_cast<long>(sim.ambient_bindings(species));
  CHECK(bindings - (static_cast<long>(sim.stats().agent_transitions) - bindings) == bound_at_end);
  CHECK(sim.stats().captures == 0);
}

TEST_CASE("stepped background: nothing binds before the step, kon·C/(kon·C + koff) after" *
          doctest::test_suite("stat")) {
  // Background 0 µM until t = 20 s, then 1 µM: no agent may leave U before 20 s
  // (the rate is exactly 0 there, an exact check of the breakpoint), and from 22 s
  // on (10 relaxation times after the step) the bound fraction is the stationary
  // p = 0.4 of the test above. N = 100 agents × 90 samples (every 2 s up to 200 s);
  // SE = sqrt(p(1−p)/9000) = 0.0052; tolerance 4 SE. Seed 12.
  TempDir dir;
  write_binder_file(dir);
  const int n = 100;
  const LoadedScene scene = load_scene_text(
      dir, "steps.pbtxt",
      binder_scene(n, 200, 2, 12,
                   "background { species: \"L\" compartment: \"box\" steps { initial_uM: 0 time_s: 20 uM: 1 } }\n"));
  Simulator sim(scene.model, std::make_unique<SerialStepper>());
  long bound_before = 0, bound = 0, samples = 0;
  SamplingObserver obs([&](double t, const Simulator& s) {
    long now = 0;
    for (std::size_t a = 0; a < s.world().membrane.size(); ++a) now += s.world().membrane.state[a] == 1;
    if (t < 20 * (1 - 1e-12)) {
      bound_before += now;
    } else if (t > 21) {
      bound += now;
      samples += n;
    }
  });
  sim.add_observer(&obs, 2);
  sim.run();
  const double p_theory = 0.4;
  const double p = static_cast<double>(bound) / static_cast<double>(samples);
  const double se = std::sqrt(p_theory * (1 - p_theory) / static_cast<double>(samples));
  std::printf("[stepped background] bound before the step %ld; after %.4f ± %.4f vs %.4f\n", bound_before, p, se,
              p_theory);
  CHECK(bound_before == 0);
  CHECK(samples == 90L * n);
  INFO("stochastic test: bound fraction " << p << " vs " << p_theory << " ± " << se);
  CHECK(std::fabs(p - p_theory) <= 4 * se);
}

TEST_CASE("infusion background: irreversible binding follows 1 − exp(−kon·∫C dt) (thinning)" *
          doctest::test_suite("stat")) {
  // A smooth background profile is followed by thinning against its bound over
  // windows of at most 1 s, as a clamp's infusion. Theory for U --kon·C(t)--> B:
  // P(bound at T) = 1 − exp(−kon·∫₀ᵀ C dt). Infusion start 0, duration D = 10 s,
  // peak C_p = 1 µM, half-life 5 s (k = ln 2/5 s⁻¹), T = 20 s:
  //   ∫₀ᴰ C = C_p·(D − (1 − e^(−kD))/k)/(1 − e^(−kD)),  ∫ᴰᵀ C = C_p·(1 − e^(−k(T−D)))/k,
  // 11.53 µM·s in all; kon = 0.1 µM⁻¹s⁻¹ gives P = 0.684. N = 1000 independent
  // agents: Binomial, SE = sqrt(P(1 − P)/N) = 0.0147; tolerance 4 SE. Seed 13.
  TempDir dir;
  write_binder_file(dir);
  const LoadedScene scene = load_scene_text(dir, "infusion.pbtxt", R"(
simulation { dt_s: 1e-4 t_end_s: 20 seed: 13 }
geometry { box { } }
agent_file: "binder.pbtxt"
output { counts_interval_s: 20 frame_interval_s: 0 render_png: false }
species { name: "L" diffusion_um2_per_s: 100 }
species { name: "A" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Catcher" binding_side: BACK }
placement { species: "A" count: 1000 region: "box_wall" }
background {
  species: "L" compartment: "box"
  infusion { start_s: 0 duration_s: 10 peak_uM: 1 half_life_s: 5 }
}
)");
  const double k = std::log(2.0) / 5, d = 10, t_end = 20, kon = 0.1;
  const double integral =
      (d - (1 - std::exp(-k * d)) / k) / (1 - std::exp(-k * d)) + (1 - std::exp(-k * (t_end - d))) / k;
  const double p_theory = 1 - std::exp(-kon * integral);
  Simulator sim(scene.model, std::make_unique<SerialStepper>());
  long bound = 0;
  SamplingObserver obs([&](double t, const Simulator& s) {
    if (t < t_end) return;
    for (std::size_t a = 0; a < s.world().membrane.size(); ++a) bound += s.world().membrane.state[a] == 1;
  });
  sim.add_observer(&obs, t_end);
  sim.run();
  const double p = static_cast<double>(bound) / 1000;
  const double se = std::sqrt(p_theory * (1 - p_theory) / 1000);
  std::printf("[infusion background] bound %.3f ± %.3f vs 1 - exp(-kon ∫C dt) = %.3f (∫C dt = %.3f uM s)\n", p, se,
              p_theory, integral);
  INFO("stochastic test: bound fraction " << p << " vs " << p_theory << " ± " << se);
  CHECK(std::fabs(p - p_theory) <= 4 * se);
}

TEST_CASE("background and particles of one ligand add: binding by rate plus by collision, mass action of both" *
          doctest::test_suite("stat")) {
  // The collision-binding test of agent_test.cpp (N_R = 1000 receptors R --L--> RL,
  // kon = 10 µM⁻¹s⁻¹, on the partition of two unit cubes facing "right"; 60000
  // glutamate particles in "right", c₀ = 99.6 µM, D = 200 µm²/s, dt = 2 µs, capture
  // radius 0.01 µm, T = 1 ms) plus a background of the same ligand, C_bg = 50 µM,
  // in "right". Theory (mass action): with R free receptors and L particles,
  //   dR/dt = −(k·L + kon·C_bg)·R,  dL/dt = −k·L·R,  k = kon/V (V = 1 µm³),
  // so particles bind ∫k·L·R dt receptors and the background ∫kon·C_bg·R dt
  // (integrated by RK4, 10⁴ steps). Without the background the bound fraction
  // would be 0.63; with it 0.82. The bound count is Binomial(N_R, f) (receptors
  // interact only through the 1 % depletion); tolerance 4·sqrt(N_R·f·(1 − f)) for
  // the bound count and likewise for the particle and background bindings apart
  // (each a binomial count of receptors). Exact identities: bound = captures +
  // bindings from the background, and only captures remove particles. Seed 502.
  const double d_glu = 200, dt = 2e-6, r_capture = 0.01, kon = 10, t_end = 1e-3, c_bg = 50;
  const int n_receptors = 1000, n_glutamate = 60000;
  Model m = collision_model(d_glu, dt, r_capture, kon, t_end, 502, n_receptors, n_glutamate);
  const int right = m.geometry.find_compartment("right");
  REQUIRE(right >= 0);
  BackgroundDef bg;
  bg.species = 0;
  bg.compartment = right;
  bg.profile = TimeProfile::constant_value(c_bg);
  m.backgrounds = {bg};

  // Mass action of both routes, RK4 in molecule numbers.
  const double k = per_uM_per_s_to_um3_per_s(kon) / 1.0, k_bg = kon * c_bg;
  double r = n_receptors, l = n_glutamate, by_particles = 0, by_background = 0;
  const int steps = 10000;
  const double h = t_end / steps;
  auto deriv = [&](double rr, double ll, double out[4]) {
    out[0] = -(k * ll + k_bg) * rr;  // dR/dt
    out[1] = -k * ll * rr;           // dL/dt
    out[2] = k * ll * rr;            // particle bindings
    out[3] = k_bg * rr;              // background bindings
  };
  for (int i = 0; i < steps; ++i) {
    double k1[4], k2[4], k3[4], k4[4];
    deriv(r, l, k1);
    deriv(r + h / 2 * k1[0], l + h / 2 * k1[1], k2);
    deriv(r + h / 2 * k2[0], l + h / 2 * k2[1], k3);
    deriv(r + h * k3[0], l + h * k3[1], k4);
    r += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
    l += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    by_particles += h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2]);
    by_background += h / 6 * (k1[3] + 2 * k2[3] + 2 * k3[3] + k4[3]);
  }
  const double f_theory = 1 - r / n_receptors;

  Simulator sim(m, std::make_unique<SerialStepper>());
  int bound = 0;
  SamplingObserver obs([&](double t, const Simulator& s) {
    if (t < t_end) return;
    for (std::size_t i = 0; i < s.world().membrane.size(); ++i) bound += s.world().membrane.state[i] == 1;
  });
  sim.add_observer(&obs, t_end);
  sim.run();
  const auto captures = static_cast<double>(sim.stats().captures);
  const auto ambient = static_cast<double>(sim.ambient_bindings(1));
  auto binomial_se = [&](double expected) {
    const double f = expected / n_receptors;
    return std::sqrt(n_receptors * f * (1 - f));
  };
  std::printf(
      "[background + particles] bound %d vs %.1f ± %.1f; by collision %.0f vs %.1f ± %.1f; "
      "by background %.0f vs %.1f ± %.1f\n",
      bound, n_receptors * f_theory, binomial_se(n_receptors * f_theory), captures, by_particles,
      binomial_se(by_particles), ambient, by_background, binomial_se(by_background));
  CHECK(static_cast<double>(bound) == captures + ambient);
  CHECK(sim.world().volume.size() == static_cast<std::size_t>(n_glutamate) - sim.stats().captures);
  INFO("stochastic test: bound " << bound << ", particles " << captures << ", background " << ambient);
  CHECK(std::fabs(bound - n_receptors * f_theory) <= 4 * binomial_se(n_receptors * f_theory));
  CHECK(std::fabs(captures - by_particles) <= 4 * binomial_se(by_particles));
  CHECK(std::fabs(ambient - by_background) <= 4 * binomial_se(by_background));
}

TEST_CASE("NMDARs under ambient glutamate alone: tonic current = the scheme's own chain, started in C0" *
          doctest::test_suite("stat")) {
  // The shipped NMDAR scheme (agents/nmdar.pbtxt) in 1 mM Mg²⁺ at −70 mV with
  // glutamate only as a 25 nM background (the ketamine_spine_ambient level) and no
  // particles; every receptor starts in C0. Theory: the same scene with glutamate
  // clamped at 25 nM instead gives the chain's rate matrix Q; p(t) = p(0)·exp(Qt)
  // gives the expected current per receptor i(t) = Σ_s p_s(t)·g_s·(V − E_s), and
  // the expected charge from t0 = 20 s to T = 620 s is ∫ i(t) dt, by Simpson's rule
  // on a 20 s grid (after t0 the chain relaxes with a time constant of ≈ 400 s,
  // Mg²⁺ trapped in closed receptors, so i(t) is smooth there; the grid's error is
  // far below the SE). Simulated: the charge column (integrated exactly between
  // state changes) over the same window, per run of 50 receptors; R = 24 runs
  // (seeds 31…54) are independent, SE = sd over runs / sqrt(R); tolerance 4 SE
  // (R − 1 = 23 degrees of freedom: |t| > 4 has probability 0.06 %). Printed for
  // docs/ketamine.md: the stationary open-and-Mg²⁺-free fraction at 25 and 90 nM.
  TempDir dir;
  const std::string nmdar = (agents_dir() / "nmdar.pbtxt").string();
  const int runs = 24, n = 50;
  const double t0 = 20, t_end = 620, grid = 20;
  auto scene = [&](const std::string& glutamate, std::uint64_t seed) {
    std::ostringstream s;
    s << "simulation { dt_s: 1e-6 t_end_s: " << t_end << " seed: " << seed << " }\n"
      << "geometry { box { } }\n"
      << "agent_file: \"" << nmdar << "\"\n"
      << "membrane_potential { holding_mV: -70 }\n"
      << "output { counts_interval_s: " << t0 << " frame_interval_s: 0 render_png: false }\n"
      << "species { name: \"NMDAR\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"NMDAR\" binding_side: BACK }\n"
      << "placement { species: \"NMDAR\" count: " << n << " region: \"box_wall\" }\n"
      << "clamp { species: \"Mg\" constant_uM: 1000 }\n"
      << "clamp { species: \"ketamine\" constant_uM: 0 }\n"
      << "clamp { species: \"memantine\" constant_uM: 0 }\n"
      << glutamate;
    return s.str();
  };
  auto clamped_model = [&](double glutamate_uM) {
    std::ostringstream c;
    c << "clamp { species: \"glutamate\" constant_uM: " << glutamate_uM << " }\n";
    return load_scene_text(dir, "clamped.pbtxt", scene(c.str(), 1)).model;
  };
  const Model clamped = clamped_model(0.025);
  const AgentTypeDef& type = clamped.agent_types[static_cast<std::size_t>(
      clamped.species[static_cast<std::size_t>(clamped.find_species("NMDAR"))].agent_type)];
  auto current_of = [&](const std::vector<double>& p) {  // pA per receptor
    double i = 0;
    for (std::size_t s = 0; s < type.states.size(); ++s)
      if (type.states[s].conductance_pS > 0 && !type.states[s].internal)
        i += p[s] * type.states[s].conductance_pS * (-70 - type.states[s].reversal_mV) * 1e-3;
    return i;
  };
  const double i_open = 45 * (-70.0) * 1e-3;  // one conducting NMDAR (45 pS, E_rev 0 mV)
  const RateMatrix q = rate_matrix(clamped, type, 0);
  std::vector<double> p(type.states.size(), 0.0);
  p[0] = 1;
  p = propagate(q, p, t0);
  const int intervals = static_cast<int>(std::lround((t_end - t0) / grid));  // even, for Simpson
  double integral = current_of(p);
  for (int k = 1; k <= intervals; ++k) {
    p = propagate(q, p, grid);
    integral += (k == intervals ? 1 : (k % 2 == 1 ? 4 : 2)) * current_of(p);
  }
  const double mean_theory = integral * grid / 3 / (t_end - t0);  // pA per receptor
  const double stationary_25 = current_of(stationary(q)) / i_open;
  const double stationary_90 = current_of(stationary(rate_matrix(clamped_model(0.09), type, 0))) / i_open;

  std::vector<double> per_run;  // mean current per receptor (pC/s = pA) over [t0, T]
  std::uint64_t bindings = 0;
  for (int r = 0; r < runs; ++r) {
    const LoadedScene ambient =
        load_scene_text(dir, "ambient.pbtxt",
                        scene("species { name: \"glutamate\" diffusion_um2_per_s: 330 }\n"
                              "background { species: \"glutamate\" compartment: \"box\" constant_uM: 0.025 }\n",
                              31 + static_cast<std::uint64_t>(r)));
    const int species = ambient.model.find_species("NMDAR");
    Simulator sim(ambient.model, std::make_unique<SerialStepper>());
    double charge_t0 = 0, charge_end = 0;
    SamplingObserver obs([&](double t, const Simulator& s) {
      if (std::fabs(t - t0) < 1e-9) charge_t0 = s.charge_pC(species);
      if (t >= t_end) charge_end = s.charge_pC(species);
    });
    sim.add_observer(&obs, t0);
    sim.run();
    per_run.push_back((charge_end - charge_t0) / (t_end - t0) / n);
    bindings += sim.ambient_bindings(species);
  }
  double mean = 0, ss = 0;
  for (double v : per_run) mean += v / runs;
  for (double v : per_run) ss += (v - mean) * (v - mean);
  const double se = std::sqrt(ss / (runs - 1) / runs);
  std::printf(
      "[NMDAR, 25 nM ambient glutamate, 1 mM Mg, -70 mV] tonic current per receptor %.4g ± %.2g fA vs "
      "%.4g fA (open and Mg-free %.3g vs %.3g over 20-620 s); stationary open and Mg-free: %.3g at 25 nM, "
      "%.3g at 90 nM; %llu bindings from the background\n",
      1e3 * mean, 1e3 * se, 1e3 * mean_theory, mean / i_open, mean_theory / i_open, stationary_25, stationary_90,
      static_cast<unsigned long long>(bindings));
  INFO("stochastic test: tonic current per receptor " << mean << " pA vs " << mean_theory << " ± " << se);
  CHECK(std::fabs(mean - mean_theory) <= 4 * se);
}

TEST_CASE("diffusing agents bind a background at kon·C exactly while they face its compartment" *
          doctest::test_suite("stat")) {
  // Positions change only at step ends; an agent's pending event is redrawn there
  // when its triangle now faces another compartment. So an agent that is unbound and
  // faces the cleft at t_k (a sample after step k) binds in (t_k, t_k + dt] with
  // probability q = 1 − exp(−kon·C·dt), and one that faces elsewhere never does.
  // Agents start on the PSD (facing the cleft) and on the perisynaptic ring (facing
  // the extracellular space) of a spine with a cleft and diffuse across the border
  // (D = 0.1 µm²/s, dt = 0.1 ms), with kon·C = 2 µM⁻¹s⁻¹ · 25 µM = 50 s⁻¹ in the
  // cleft only; sampled after every step for 0.1 s. Checks: no binding off the cleft
  // (a drop in rate is handled by thinning at the event) and the number of bindings
  // equals Σ_k n_k·q (n_k: unbound agents facing the cleft at t_k), which needs the
  // redraw for agents that arrive on the PSD. The count is a sum of independent
  // Bernoulli(q) trials given the n_k: SE = sqrt(Σ n_k·q(1 − q)); tolerance 4 SE
  // (a binding and unbinding inside one step, probability ≈ 50·dt·3·dt/2 = 7.5e-7
  // per trial, is neglected). Seed 21.
  TempDir dir;
  write_binder_file(dir);
  const double dt = 1e-4, rate = 2 * 25;
  const LoadedScene scene = load_scene_text(dir, "moving.pbtxt", R"(
simulation { dt_s: 1e-4 t_end_s: 0.1 seed: 21 }
geometry { spine { cleft: true } }
agent_file: "binder.pbtxt"
output { counts_interval_s: 0.1 frame_interval_s: 0 render_png: false }
species { name: "L" diffusion_um2_per_s: 100 }
species { name: "A" kind: MEMBRANE diffusion_um2_per_s: 0.1 agent_type: "Binder" }
placement { species: "A" count: 200 region: "psd" }
placement { species: "A" count: 200 region: "perisynaptic" }
background { species: "L" compartment: "cleft" constant_uM: 25 }
)");
  const Model& m = scene.model;
  const int cleft = m.geometry.find_compartment("cleft");
  REQUIRE(cleft >= 0);
  Simulator sim(m, std::make_unique<SerialStepper>());
  std::vector<int> last_state, last_side;
  long bindings = 0, bindings_off_cleft = 0, trials = 0, unbound_off_cleft = 0;
  SamplingObserver obs([&](double t, const Simulator& s) {
    const auto& mem = s.world().membrane;
    std::vector<int> state(mem.size()), side(mem.size());
    for (std::size_t a = 0; a < mem.size(); ++a) {
      state[a] = mem.state[a];
      side[a] = m.geometry.triangle_sides[mem.triangle[a]][0];
      unbound_off_cleft += state[a] == 0 && side[a] != cleft;
      if (t < m.t_end_s * (1 - 1e-9)) trials += state[a] == 0 && side[a] == cleft;
    }
    if (!last_state.empty())
      for (std::size_t a = 0; a < mem.size(); ++a)
        if (last_state[a] == 0 && state[a] == 1) {
          ++bindings;
          bindings_off_cleft += last_side[a] != cleft;
        }
    last_state = std::move(state);
    last_side = std::move(side);
  });
  sim.add_observer(&obs, dt);
  sim.run();
  const double q = 1 - std::exp(-rate * dt);
  const double expected = static_cast<double>(trials) * q;
  const double se = std::sqrt(static_cast<double>(trials) * q * (1 - q));
  std::printf(
      "[moving agents] %ld bindings vs %.1f ± %.1f (%ld unbound agent-steps facing the cleft); %ld off the "
      "cleft; %ld unbound agent-steps elsewhere\n",
      bindings, expected, se, trials, bindings_off_cleft, unbound_off_cleft);
  CHECK(unbound_off_cleft > 1000);  // agents are off the cleft-facing PSD, unbound, much of the time
  CHECK(bindings_off_cleft == 0);
  INFO("stochastic test: bindings " << bindings << " vs " << expected << " ± " << se);
  CHECK(std::fabs(static_cast<double>(bindings) - expected) <= 4 * se);
}
