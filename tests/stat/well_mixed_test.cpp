// Well-mixed pools against theory: the exact SSA of src/engine/well_mixed.cpp on
// the run's clock, alone and coupled to membrane agents.
//
// Scenes are written to a temporary directory and loaded with the real scene loader,
// so pathways are compiled exactly as `spinesim run` compiles them. Every test states
// its theory, sample size, seed and tolerance. Unless said otherwise a tolerance is
// 4 standard errors (two-sided P ≈ 6·10⁻⁵ per comparison for a normal estimator),
// with the SE taken from theory wherever theory gives it (the variance of a mean is
// the model's variance over the number of independent samples); only the SE of a
// sample variance needs a fourth moment, which comes from theory where it is known
// (binomial, Poisson, the CME) and from the sample otherwise (said so).
//
// Samples of one run are taken far enough apart that they are independent for all
// practical purposes: each test states the autocorrelation at its sample spacing
// from the model's own relaxation rates, and where it is not negligible the SE
// includes it (the variance of a mean of n samples with autocovariance K(τ) is
// (1/n²) Σ_ij K(|i−j|Δ)).
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/agent_helpers.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

double elapsed_s(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Sample mean, unbiased variance and fourth central moment.
struct Moments {
  double n = 0, mean = 0, var = 0, m4 = 0;
};
Moments moments(const std::vector<double>& x) {
  Moments m;
  m.n = static_cast<double>(x.size());
  for (double v : x) m.mean += v;
  m.mean /= m.n;
  double s2 = 0, s4 = 0;
  for (double v : x) {
    const double d = v - m.mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  m.var = s2 / (m.n - 1);
  m.m4 = s4 / m.n;
  return m;
}

/// Checks |value − expected| ≤ 4·se and prints the comparison.
void check_4se(const char* what, double value, double expected, double se) {
  const double z = (value - expected) / se;
  std::printf("[pool] %-58s %12.5g  theory %12.5g  SE %9.3g  z %+5.2f\n", what, value, expected, se, z);
  INFO("stochastic test: " << what << " = " << value << ", theory " << expected << " ± " << se << " (SE), z = " << z
                           << "; tolerance 4 SE");
  CHECK(std::fabs(value - expected) <= 4 * se);
}

/// Single-channel Ca2+ influx (ions/s) of an agent state at potential v (mV), the
/// engine's formula (simulator_agents.cpp, state_flux) written out independently:
/// I = g·(V − E) (pS·mV = 10⁻³ pA); the inward part carries ca_fraction of the
/// charge, two elementary charges per ion.
double state_ca_per_s(const AgentStateDef& st, double v_mV) {
  const double current_pA = st.conductance_pS * (v_mV - st.reversal_mV) * 1e-3;
  return current_pA < 0 ? st.ca_fraction * (-current_pA) * 1e-12 / (2 * kElementaryCharge_C) : 0;
}

/// Scene preamble: a 1 µm box, no frames, outputs only where the test samples.
std::string preamble(double t_end, std::uint64_t seed, double dt = 1e-4) {
  std::ostringstream s;
  s.precision(17);
  s << "simulation { dt_s: " << dt << " t_end_s: " << t_end << " seed: " << seed << " grid_cell_um: 0.25 }\n"
    << "geometry { box { } }\n"
    << "output { counts_interval_s: " << t_end << " frame_interval_s: 0 render_png: false }\n";
  return s.str();
}

/// Calls `sample(sim)` at first, first + every, … ≤ t_end (the observer's other times skipped).
void run_sampled(const Model& model, double first, double every, const std::function<void(const Simulator&)>& sample) {
  Simulator sim(model, std::make_unique<SerialStepper>());
  SamplingObserver obs([&](double t, const Simulator& s) {
    if (t < first * (1 - 1e-12)) return;
    const double k = (t - first) / every;
    if (std::fabs(k - std::round(k)) > 1e-6) return;  // t_end when it is off the grid
    sample(s);
  });
  sim.add_observer(&obs, every);
  sim.run();
}

// --- a. Channels driving a pool: telegraph-driven birth–death ---------------------

struct TelegraphTheory {
  double n, kon, koff, lambda, gamma;
  double p() const { return kon / (kon + koff); }
  double alpha() const { return kon + koff; }
  double mean() const { return n * lambda * p() / gamma; }
  /// Peccoud & Ycart 1995 (summed over N independent channels).
  double var() const {
    return n * (lambda * p() / gamma + lambda * lambda * p() * (1 - p()) / (gamma * (gamma + alpha())));
  }
  /// Stationary autocovariance of Ca at lag τ ≥ 0 (linear system, exact): with X the
  /// open count, Cov(X, Ca) = λ·Var X/(α + γ), dK/dτ = λ·Cov(X, Ca)·e^(−ατ) − γK.
  double autocov(double tau) const {
    const double cxc = lambda * n * p() * (1 - p()) / (alpha() + gamma);
    return var() * std::exp(-gamma * tau) +
           lambda * cxc * (std::exp(-alpha() * tau) - std::exp(-gamma * tau)) / (gamma - alpha());
  }
  /// Variance of the mean of n samples at spacing Δ.
  double var_of_mean(double samples, double delta) const {
    double s = var() * samples;
    for (double k = 1; k < samples; ++k) {
      const double c = autocov(k * delta);
      if (c < 1e-300) break;
      s += 2 * (samples - k) * c;
    }
    return s / (samples * samples);
  }
  /// Inflation of the variance of a sample variance by autocorrelation (Gaussian
  /// approximation: 1 + 2·Σ ρ(kΔ)²).
  double var_estimator_inflation(double delta) const {
    double s = 1;
    for (int k = 1; k < 1000; ++k) {
      const double r = autocov(k * delta) / var();
      if (r * r < 1e-300) break;
      s += 2 * r * r;
    }
    return s;
  }
};

std::string channel_agent_file(double kon, double koff, double conductance_pS, double ca_fraction) {
  std::ostringstream s;
  s.precision(17);
  s << "agent_type {\n  name: \"Chan\"\n  source: \"test\"\n  state { name: \"C\" }\n"
    << "  state { name: \"O\" conductance_pS: " << conductance_pS << " reversal_mV: 0 ca_fraction: " << ca_fraction
    << " source: \"test\" }\n"
    << "  transition { from: \"C\" to: \"O\" rate_per_s: " << kon << " source: \"test\" }\n"
    << "  transition { from: \"O\" to: \"C\" rate_per_s: " << koff << " source: \"test\" }\n}\n";
  return s.str();
}

}  // namespace

TEST_CASE("pool Ca2+ driven by two-state channels: hybrid and pure SSA match the telegraph birth-death theory" *
          doctest::test_suite("stat")) {
  // Stochastic test. Model: N two-state channels C ⇌ O (kon, koff); each open
  // channel lets Ca2+ into pool species Ca at λ ions/s, λ = ca_fraction·|g·V|/(2e)
  // (g = 1 pS, V = −70 mV, E = 0, ca_fraction = 0.002: λ = 436.9/s); Ca → ∅ at γ.
  // The open count X is a sum of N independent telegraph processes and Ca a
  // birth–death process driven by it (Peccoud & Ycart 1995), so in the stationary state
  //   E[Ca] = N·λ·p/γ,  Var Ca = N·[λp/γ + λ²p(1−p)/(γ(γ + kon + koff))],  p = kon/(kon+koff).
  // N = 10, kon = 20/s, koff = 30/s, γ = 100/s: E = 17.48, Var = 48.0 (Fano 2.75: a
  // Poisson count, i.e. Ca fed at the mean flux, would miss the variance by > 50 SE).
  // Run 1 (hybrid): the channels are membrane agents on the box wall and an influx
  // reaction (influx_from, rate 1) feeds Ca. Run 2 (pure SSA): C, O are pool species
  // (C starts at N) with C → O, O → C, O → O + Ca at λ and Ca → ∅.
  // Sample: warm-up 1 s (≫ 1/α = 20 ms, 1/γ = 10 ms), then every Δ = 0.2 s to 4001 s:
  // n = 20001 samples per run; seeds 301 (hybrid), 302 (SSA). The autocorrelation at Δ
  // is K(Δ)/K(0) = 6·10⁻⁵ (from the exact autocovariance); the SE of the mean
  // includes all lags, and the SE of the variance, sqrt((m4 − s⁴)/n) with the
  // sample's fourth moment m4, is inflated by 1 + 2Σρ² (< 1 + 10⁻⁸ here).
  // Tolerance: 4 SE for each of mean and variance in each run, and 4 SE for the
  // difference of the two runs' means.
  const double kon = 20, koff = 30, gamma = 100, g_pS = 1, f_ca = 0.002, v_mV = -70;
  const int n_chan = 10;
  const double warmup = 1, every = 0.2, t_end = 4001;
  TempDir dir;
  { std::ofstream(dir.path() / "chan.pbtxt") << channel_agent_file(kon, koff, g_pS, f_ca); }
  std::ostringstream hybrid;
  hybrid.precision(17);
  hybrid << preamble(t_end, 301) << "agent_file: \"chan.pbtxt\"\n"
         << "membrane_potential { holding_mV: " << v_mV << " }\n"
         << "species { name: \"Chan\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"Chan\" }\n"
         << "placement { species: \"Chan\" count: " << n_chan << " region: \"box_wall\" }\n"
         << "well_mixed {\n  pool { name: \"cyt\" volume_um3: 0.1 }\n  species { name: \"Ca\" pool: \"cyt\" }\n"
         << "  reaction { influx_from: \"Chan\" product: \"Ca\" rate: 1 }\n"
         << "  reaction { reactant: \"Ca\" rate: " << gamma << " }\n}\n";
  const LoadedScene hs = load_scene_text(dir, "hybrid.pbtxt", hybrid.str());
  const AgentTypeDef& type = hs.model.agent_types.at(0);
  const double lambda = state_ca_per_s(type.states.at(1), hs.model.membrane_potential_mV.at(0));
  REQUIRE(lambda == doctest::Approx(f_ca * 0.07e-12 / (2 * kElementaryCharge_C)).epsilon(1e-12));
  const TelegraphTheory th{static_cast<double>(n_chan), kon, koff, lambda, gamma};

  std::ostringstream ssa;
  ssa.precision(17);
  ssa << preamble(t_end, 302) << "well_mixed {\n  pool { name: \"cyt\" volume_um3: 0.1 }\n"
      << "  species { name: \"C\" pool: \"cyt\" count: " << n_chan << " }\n"
      << "  species { name: \"O\" pool: \"cyt\" }\n  species { name: \"Ca\" pool: \"cyt\" }\n"
      << "  reaction { reactant: \"C\" product: \"O\" rate: " << kon << " }\n"
      << "  reaction { reactant: \"O\" product: \"C\" rate: " << koff << " }\n"
      << "  reaction { reactant: \"O\" product: \"O\" product: \"Ca\" rate: " << lambda << " }\n"
      << "  reaction { reactant: \"Ca\" rate: " << gamma << " }\n}\n";
  const LoadedScene ss = load_scene_text(dir, "ssa.pbtxt", ssa.str());

  std::printf("[pool] telegraph: N %d, p %.3f, lambda %.4g /s, gamma %g /s: E %.5g, Var %.5g, rho(dt) %.2g\n", n_chan,
              th.p(), lambda, gamma, th.mean(), th.var(), th.autocov(every) / th.var());
  double means[2], ses[2];
  for (int run = 0; run < 2; ++run) {
    const Model& model = run == 0 ? hs.model : ss.model;
    const int ca = model.well_mixed.find_species("Ca");
    const int o = model.well_mixed.find_species("O");
    const int c = model.well_mixed.find_species("C");
    REQUIRE(ca >= 0);
    std::vector<double> x;
    bool conserved = true;
    const auto w0 = std::chrono::steady_clock::now();
    std::uint64_t pool_reactions = 0;
    run_sampled(model, warmup, every, [&](const Simulator& sim) {
      x.push_back(static_cast<double>(sim.pool_count(ca)));
      if (run == 1 && sim.pool_count(c) + sim.pool_count(o) != n_chan) conserved = false;
      if (run == 0 && sim.world().membrane.size() != static_cast<std::size_t>(n_chan)) conserved = false;
      pool_reactions = sim.stats().pool_reactions;
    });
    CHECK(conserved);
    const Moments m = moments(x);
    std::printf("[pool] %s run: %zu samples, %llu pool reactions, %.2f s wall\n", run == 0 ? "hybrid" : "pure SSA",
                x.size(), static_cast<unsigned long long>(pool_reactions), elapsed_s(w0));
    REQUIRE(m.n == doctest::Approx(20001));
    const double se_mean = std::sqrt(th.var_of_mean(m.n, every));
    const double se_var = std::sqrt((m.m4 - m.var * m.var) / m.n * th.var_estimator_inflation(every));
    check_4se(run == 0 ? "hybrid: mean Ca" : "pure SSA: mean Ca", m.mean, th.mean(), se_mean);
    check_4se(run == 0 ? "hybrid: variance of Ca" : "pure SSA: variance of Ca", m.var, th.var(), se_var);
    means[run] = m.mean;
    ses[run] = se_mean;
  }
  check_4se("hybrid − pure SSA: difference of mean Ca", means[0] - means[1], 0,
            std::sqrt(ses[0] * ses[0] + ses[1] * ses[1]));
}

namespace {

/// ∫₀ᵗ C(s) ds of an infusion (scene.proto Infusion, TimeProfile::at): 0 before the
/// start s0; C = P·(1 − e^(−κ(s−s0)))/Z on [s0, E] with Z = 1 − e^(−κD), E = s0 + D;
/// C = P·e^(−κ(s−E)) after E; κ = ln 2/half-life.
double infusion_integral(double s0, double dur, double peak, double half_life, double t) {
  const double kappa = std::log(2.0) / half_life, end = s0 + dur, z = 1 - std::exp(-kappa * dur);
  if (t <= s0) return 0;
  auto rising = [&](double u) { return peak / z * ((u - s0) - (1 - std::exp(-kappa * (u - s0))) / kappa); };
  if (t <= end) return rising(t);
  return rising(end) + peak / kappa * (1 - std::exp(-kappa * (t - end)));
}

/// ∫₀ᵗ C(s) ds of a stepped profile: `initial` before times[0], values[i] on [times[i], times[i+1]).
double steps_integral(double initial, const std::vector<double>& times, const std::vector<double>& values, double t) {
  double integral = 0, from = 0, level = initial;
  for (std::size_t i = 0; i < times.size() && times[i] < t; ++i) {
    integral += level * (times[i] - from);
    from = times[i];
    level = values[i];
  }
  return integral + level * (t - from);
}

}  // namespace

TEST_CASE("pool decay modulated by an infusion or a stepped clamp follows N·exp(−k∫C) exactly (thinning)" *
          doctest::test_suite("stat")) {
  // Stochastic test. Three pool species of N = 20000 molecules each decay
  // independently: A → ∅ at k_A·C_inf(t), B → ∅ at k_B·C_step(t), D → ∅ at k_D
  // (unmodulated, sharing the SSA with the thinned reactions). Each molecule
  // survives to t with probability S(t) = exp(−k·∫₀ᵗ C), so the count at t is
  // Binomial(N, S(t)) exactly. ∫C is derived analytically (infusion_integral,
  // steps_integral above, from the formulas of scene.proto / TimeProfile::at).
  // Profiles: infusion start 0.5 s, duration 2 s, peak 2 µM, half-life 1 s (the
  // modulated rate is bounded over windows of ≤ 1 s and thinned; k_A = 0.3/(µM·s));
  // steps 0.4 µM, then 2 µM from 1 s, 0 from 2.5 s, 1 µM from 4 s (k_B = 0.3/(µM·s));
  // k_D = 0.2/s.
  // Sample: counts at t = 0, 0.5, …, 7 s (15 times, 3 species), summed over R = 50
  // independent runs, so each sum is Binomial(R·N = 10⁶, S(t)); two modes: seeds
  // 311–360 with nothing else in the scene (the clock jumps from pool event to pool
  // event) and seeds 411–460 with 20 molecules diffusing in the box (dt = 1 ms), so
  // the SSA also runs between Brownian step boundaries.
  // Tolerance: |Σn(t) − R·N·S(t)| ≤ 4·sqrt(R·N·S(1 − S)) for each species, time and
  // mode (84 comparisons; relative tolerance 0.1–1.4 %); and in every run B exactly
  // constant while its clamp is 0 (samples at 2.5, 3, 3.5 and 4 s).
  const double n0 = 20000, k_a = 0.3, k_b = 0.3, k_d = 0.2, t_end = 7, every = 0.5;
  const double inf_start = 0.5, inf_dur = 2, inf_peak = 2, inf_half = 1;
  const double step_initial = 0.4;
  const std::vector<double> step_times{1, 2.5, 4}, step_values{2, 0, 1};
  const int replicates = 50;
  TempDir dir;
  for (int mode = 0; mode < 2; ++mode) {
    std::ostringstream s;
    s.precision(17);
    s << preamble(t_end, 1, 1e-3) << "clamp { species: \"drug\" infusion { start_s: " << inf_start
      << " duration_s: " << inf_dur << " peak_uM: " << inf_peak << " half_life_s: " << inf_half << " } }\n"
      << "clamp { species: \"pulse\" steps { initial_uM: " << step_initial;
    for (std::size_t i = 0; i < step_times.size(); ++i) s << " time_s: " << step_times[i] << " uM: " << step_values[i];
    s << " } }\n";
    if (mode == 1)
      s << "species { name: \"X\" diffusion_um2_per_s: 1 }\n"
        << "placement { species: \"X\" count: 20 compartment: \"box\" }\n";
    s << "well_mixed {\n  pool { name: \"cyt\" volume_um3: 1 }\n";
    for (const char* sp : {"A", "B", "D"})
      s << "  species { name: \"" << sp << "\" pool: \"cyt\" count: " << n0 << " }\n";
    s << "  reaction { reactant: \"A\" rate: " << k_a << " modulator: \"drug\" }\n"
      << "  reaction { reactant: \"B\" rate: " << k_b << " modulator: \"pulse\" }\n"
      << "  reaction { reactant: \"D\" rate: " << k_d << " }\n}\n";
    const LoadedScene scene = load_scene_text(dir, "decay.pbtxt", s.str());
    Model model = scene.model;
    const int ia = model.well_mixed.find_species("A"), ib = model.well_mixed.find_species("B"),
              id = model.well_mixed.find_species("D");
    // The test's profiles are the scene's (the integrals below are of these very profiles).
    const int drug = model.find_clamp("drug"), pulse = model.find_clamp("pulse");
    REQUIRE(drug >= 0);
    REQUIRE(pulse >= 0);
    CHECK(model.clamps[static_cast<std::size_t>(drug)].profile.at(2.5) == doctest::Approx(inf_peak));
    CHECK(model.clamps[static_cast<std::size_t>(pulse)].profile.at(3) == 0);
    const int n_times = 15;
    // Per time: counts of A, B, D summed over the replicates.
    std::vector<double> times(n_times), sum_a(n_times, 0), sum_b(n_times, 0), sum_d(n_times, 0);
    const auto w0 = std::chrono::steady_clock::now();
    std::uint64_t pool_reactions = 0, steps = 0;
    for (int rep = 0; rep < replicates; ++rep) {
      model.seed = (mode == 0 ? 311 : 411) + static_cast<std::uint64_t>(rep);
      std::vector<std::int64_t> b_at;
      int k = 0;
      Simulator sim(model, std::make_unique<SerialStepper>());
      SamplingObserver obs([&](double t, const Simulator& x) {
        REQUIRE(k < n_times);
        times[static_cast<std::size_t>(k)] = t;
        sum_a[static_cast<std::size_t>(k)] += static_cast<double>(x.pool_count(ia));
        sum_b[static_cast<std::size_t>(k)] += static_cast<double>(x.pool_count(ib));
        sum_d[static_cast<std::size_t>(k)] += static_cast<double>(x.pool_count(id));
        b_at.push_back(x.pool_count(ib));
        ++k;
      });
      sim.add_observer(&obs, every);
      sim.run();
      REQUIRE(k == n_times);
      pool_reactions += sim.stats().pool_reactions;
      steps += sim.stats().steps;
      if (mode == 1) CHECK(sim.stats().steps == 7000);
      // No B molecule decays while the stepped clamp is 0 (rows at 2.5, 3, 3.5, 4 s).
      CHECK(times[5] == 2.5);
      CHECK(times[8] == 4);
      CHECK(b_at[5] == b_at[6]);
      CHECK(b_at[5] == b_at[8]);
    }
    std::printf("[pool] decay, %s: %d runs, %llu pool reactions, %llu Brownian steps, %.2f s wall\n",
                mode == 0 ? "pools only" : "with diffusion", replicates,
                static_cast<unsigned long long>(pool_reactions), static_cast<unsigned long long>(steps), elapsed_s(w0));
    const double n_total = n0 * replicates;
    double worst = 0;
    for (int k = 0; k < n_times; ++k) {
      const double t = times[static_cast<std::size_t>(k)];
      const double ia_t = infusion_integral(inf_start, inf_dur, inf_peak, inf_half, t);
      const double ib_t = steps_integral(step_initial, step_times, step_values, t);
      const struct {
        const char* name;
        double count, survival;
      } cases[] = {{"A (infusion)", sum_a[static_cast<std::size_t>(k)], std::exp(-k_a * ia_t)},
                   {"B (steps)", sum_b[static_cast<std::size_t>(k)], std::exp(-k_b * ib_t)},
                   {"D (constant)", sum_d[static_cast<std::size_t>(k)], std::exp(-k_d * t)}};
      for (const auto& c : cases) {
        const double expected = n_total * c.survival, se = std::sqrt(n_total * c.survival * (1 - c.survival));
        if (se == 0) {
          CHECK(c.count == n_total);
          continue;
        }
        const double z = (c.count - expected) / se;
        worst = std::max(worst, std::fabs(z));
        INFO("stochastic test: mode " << mode << ", " << c.name << " at t = " << t << " s: " << c.count
                                      << " vs N·S = " << expected << " ± " << se << " (binomial SE), z = " << z);
        CHECK(std::fabs(z) <= 4);
      }
      if (k % 2 == 0 && k > 0)
        std::printf("[pool]   t %.1f s: A %8.0f (theory %9.1f)  B %8.0f (theory %9.1f)  D %8.0f (theory %9.1f)\n", t,
                    sum_a[static_cast<std::size_t>(k)], n_total * std::exp(-k_a * ia_t),
                    sum_b[static_cast<std::size_t>(k)], n_total * std::exp(-k_b * ib_t),
                    sum_d[static_cast<std::size_t>(k)], n_total * std::exp(-k_d * t));
    }
    std::printf("[pool] decay, %s: largest |z| over %d binomial comparisons %.2f\n",
                mode == 0 ? "pools only" : "with diffusion", 3 * (n_times - 1), worst);
  }
}

TEST_CASE("agents cycling through a pool (agent_to_pool, insert_as_agent): conservation and Binomial membrane count" *
          doctest::test_suite("stat")) {
  // Stochastic test. Model: M = 20 receptor agents on the box wall, state A; A → Int
  // at k_out = 2/s. Int is linked by agent_to_pool to pool species R, so an agent that
  // enters Int leaves the membrane and R gains one molecule; R → New at k_in = 3/s,
  // and New is inserted as a new agent in state A (insert_as_agent). Each receptor
  // alternates independently between Exp(k_out) on the membrane and Exp(k_in) in the
  // pool, so at stationarity the membrane count is Binomial(M, q), q = k_in/(k_in + k_out)
  // = 0.6: mean 12, variance 4.8, and its autocorrelation is e^(−(k_in + k_out)τ).
  // Exact at every sample: agents + R = M, every agent is in state A, New stays 0.
  // Sample: warm-up 4 s (20 relaxation times), then every Δ = 2 s (ρ(Δ) = e^(−10) =
  // 4.5·10⁻⁵) to 80002 s: n = 40000 samples; seed 321. SEs: mean sqrt(Mq(1−q)/n)·
  // sqrt((1+ρ)/(1−ρ)); variance sqrt((μ4 − σ⁴)/n) with the binomial fourth central
  // moment μ4 = Mq(1−q)[1 + 3(M−2)q(1−q)]. Tolerance 4 SE for each; and for every
  // count k with n·π_k ≥ 5 (π = Binomial(M, q)), |#samples at k − n·π_k| ≤
  // 4·sqrt(n·π_k(1 − π_k)) + 1.
  const double k_out = 2, k_in = 3, warmup = 4, every = 2, t_end = 80002;
  const int m_agents = 20;
  TempDir dir;
  {
    std::ofstream f(dir.path() / "cyc.pbtxt");
    f << "agent_type {\n  name: \"Cyc\"\n  source: \"test\"\n  state { name: \"A\" }\n"
      << "  state { name: \"Int\" internal: true }\n"
      << "  transition { from: \"A\" to: \"Int\" rate_per_s: " << k_out << " source: \"test\" }\n}\n";
  }
  std::ostringstream s;
  s.precision(17);
  s << preamble(t_end, 321) << "agent_file: \"cyc.pbtxt\"\n"
    << "species { name: \"Rec\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"Cyc\" }\n"
    << "placement { species: \"Rec\" count: " << m_agents << " region: \"box_wall\" }\n"
    << "well_mixed {\n  pool { name: \"endo\" volume_um3: 0.1 }\n  species { name: \"R\" pool: \"endo\" }\n"
    << "  species { name: \"New\" pool: \"endo\" insert_as_agent { species: \"Rec\" region: \"box_wall\" state: \"A\" "
       "} }\n"
    << "  reaction { reactant: \"R\" product: \"New\" rate: " << k_in << " }\n"
    << "  agent_to_pool { species: \"Rec\" state: \"Int\" pool_species: \"R\" }\n}\n";
  const LoadedScene scene = load_scene_text(dir, "cycle.pbtxt", s.str());
  const int r = scene.model.well_mixed.find_species("R"), fresh = scene.model.well_mixed.find_species("New");
  REQUIRE(r >= 0);
  REQUIRE(fresh >= 0);
  std::vector<double> x;
  std::size_t violations = 0, not_in_a = 0, new_nonzero = 0;
  const auto w0 = std::chrono::steady_clock::now();
  std::uint64_t pool_reactions = 0, transitions = 0;
  run_sampled(scene.model, warmup, every, [&](const Simulator& sim) {
    const auto& mem = sim.world().membrane;
    x.push_back(static_cast<double>(mem.size()));
    if (static_cast<std::int64_t>(mem.size()) + sim.pool_count(r) != m_agents) ++violations;
    for (std::size_t a = 0; a < mem.size(); ++a)
      if (mem.state[a] != 0) ++not_in_a;
    if (sim.pool_count(fresh) != 0) ++new_nonzero;
    pool_reactions = sim.stats().pool_reactions;
    transitions = sim.stats().agent_transitions;
  });
  std::printf("[pool] agent cycle: %zu samples, %llu agent transitions, %llu pool reactions, %.2f s wall\n", x.size(),
              static_cast<unsigned long long>(transitions), static_cast<unsigned long long>(pool_reactions),
              elapsed_s(w0));
  REQUIRE(x.size() == 40000);
  CHECK(violations == 0);
  CHECK(not_in_a == 0);
  CHECK(new_nonzero == 0);
  // Each cycle is one transition out and one insertion back.
  CHECK(transitions > 1000000);
  CHECK(static_cast<double>(pool_reactions) == doctest::Approx(static_cast<double>(transitions)).epsilon(1e-3));

  const double q = k_in / (k_in + k_out), mq = m_agents * q, var = mq * (1 - q);
  const double rho = std::exp(-(k_in + k_out) * every);
  const Moments m = moments(x);
  const double mu4 = var * (1 + 3 * (m_agents - 2) * q * (1 - q));
  check_4se("agent cycle: mean membrane count", m.mean, mq, std::sqrt(var / m.n * (1 + rho) / (1 - rho)));
  check_4se("agent cycle: variance of membrane count", m.var, var, std::sqrt((mu4 - var * var) / m.n));
  std::vector<double> hist(m_agents + 1, 0);
  for (double v : x) hist[static_cast<std::size_t>(v)] += 1;
  int compared = 0;
  for (int k = 0; k <= m_agents; ++k) {
    const double pk = std::exp(std::lgamma(m_agents + 1.0) - std::lgamma(k + 1.0) - std::lgamma(m_agents - k + 1.0) +
                               k * std::log(q) + (m_agents - k) * std::log(1 - q));
    const double expected = m.n * pk;
    if (expected < 5) continue;
    ++compared;
    const double tol = 4 * std::sqrt(m.n * pk * (1 - pk)) + 1;
    INFO("stochastic test: membrane count " << k << " seen " << hist[static_cast<std::size_t>(k)] << " times, Binomial "
                                            << expected << " (tolerance " << tol << ")");
    CHECK(std::fabs(hist[static_cast<std::size_t>(k)] - expected) <= tol);
  }
  CHECK(compared >= 10);
}

namespace {

/// Moments of a distribution over counts 0, 1, … .
struct DistMoments {
  double mean = 0, var = 0, mu4 = 0;
};
DistMoments dist_moments(const std::vector<double>& p) {
  DistMoments d;
  for (std::size_t k = 0; k < p.size(); ++k) d.mean += static_cast<double>(k) * p[k];
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double e = static_cast<double>(k) - d.mean;
    d.var += e * e * p[k];
    d.mu4 += e * e * e * e * p[k];
  }
  return d;
}

}  // namespace

TEST_CASE("bimolecular pool reactions A + B ⇌ C and 2A ⇌ C follow the chemical master equation" *
          doctest::test_suite("stat")) {
  // Stochastic test. Theory: the CME of each closed system, a birth–death chain in
  // the product count c, solved by uniformization (propagate() in agent_helpers.h,
  // error < 1e-15) from c = 0:
  //   A + B ⇌ C: A = 30 − c, B = 20 − c; c → c+1 at k1·A·B/Ω, c → c−1 at k−1·c;
  //   2A ⇌ C:    A = 40 − 2c;             c → c+1 at k2·A(A−1)/Ω, c → c−1 at k−2·c
  // (the engine's documented propensities: rate·n(n−1)/Ω for A + A, i.e.
  // d[A]/dt = −2·k2·[A]²), with Ω = 602.214076·V molecules/µM, V = 0.01 µm³;
  // k1 = 0.1/(µM·s), k−1 = 1/s, k2 = 0.05/(µM·s), k−2 = 1/s.
  // Sample: 50 independent copies of each system (their own species) in one pool,
  // 400 runs (seeds 331–730): n = 20000 samples of C per system at t = 0.2, 1 and 4 s
  // (early rise, near and at equilibrium).
  // Tolerances: mean 4·sqrt(σ²/n), variance 4·sqrt((μ4 − σ⁴)/n) with σ², μ4 of the
  // CME; for each count k with n·p_k ≥ 5, |#samples at k − n·p_k| ≤ 4·sqrt(n·p_k(1 − p_k)) + 1.
  const double volume = 0.01, omega = kMoleculesPerUMPerUm3 * volume;
  const double k1 = 0.1, km1 = 1, k2 = 0.05, km2 = 1;
  const int a0 = 30, b0 = 20, d0 = 40, copies = 50, runs = 400;
  const std::vector<double> times{0.2, 1, 4};
  std::ostringstream s;
  s.precision(17);
  s << preamble(times.back(), 1) << "well_mixed {\n  pool { name: \"cyt\" volume_um3: " << volume << " }\n";
  for (int i = 0; i < copies; ++i) {
    s << "  species { name: \"A" << i << "\" pool: \"cyt\" count: " << a0 << " }\n"
      << "  species { name: \"B" << i << "\" pool: \"cyt\" count: " << b0 << " }\n"
      << "  species { name: \"C" << i << "\" pool: \"cyt\" }\n"
      << "  reaction { reactant: \"A" << i << "\" reactant: \"B" << i << "\" product: \"C" << i << "\" rate: " << k1
      << " }\n"
      << "  reaction { reactant: \"C" << i << "\" product: \"A" << i << "\" product: \"B" << i << "\" rate: " << km1
      << " }\n"
      << "  species { name: \"D" << i << "\" pool: \"cyt\" count: " << d0 << " }\n"
      << "  species { name: \"E" << i << "\" pool: \"cyt\" }\n"
      << "  reaction { reactant: \"D" << i << "\" reactant: \"D" << i << "\" product: \"E" << i << "\" rate: " << k2
      << " }\n"
      << "  reaction { reactant: \"E" << i << "\" product: \"D" << i << "\" product: \"D" << i << "\" rate: " << km2
      << " }\n";
  }
  s << "}\n";
  TempDir dir;
  const LoadedScene scene = load_scene_text(dir, "bimolecular.pbtxt", s.str());
  REQUIRE(scene.model.well_mixed.pools.at(0).molecules_per_uM() == doctest::Approx(omega).epsilon(1e-15));
  std::vector<int> c_idx, e_idx;
  for (int i = 0; i < copies; ++i) {
    c_idx.push_back(scene.model.well_mixed.find_species("C" + std::to_string(i)));
    e_idx.push_back(scene.model.well_mixed.find_species("E" + std::to_string(i)));
  }

  // Chains: state c; up and down rates.
  RateMatrix q_ab, q_dim;
  q_ab.n = std::min(a0, b0) + 1;
  q_ab.q.assign(static_cast<std::size_t>(q_ab.n * q_ab.n), 0);
  for (int c = 0; c < q_ab.n; ++c) {
    const double up = k1 * (a0 - c) * (b0 - c) / omega, down = km1 * c;
    if (c + 1 < q_ab.n) q_ab.at(c, c + 1) = up;
    if (c > 0) q_ab.at(c, c - 1) = down;
    q_ab.at(c, c) = -(c + 1 < q_ab.n ? up : 0) - down;
  }
  q_dim.n = d0 / 2 + 1;
  q_dim.q.assign(static_cast<std::size_t>(q_dim.n * q_dim.n), 0);
  for (int c = 0; c < q_dim.n; ++c) {
    const double a = d0 - 2 * c;
    const double up = k2 * a * (a - 1) / omega, down = km2 * c;
    if (c + 1 < q_dim.n) q_dim.at(c, c + 1) = up;
    if (c > 0) q_dim.at(c, c - 1) = down;
    q_dim.at(c, c) = -(c + 1 < q_dim.n ? up : 0) - down;
  }

  // hist[system][time][count]
  std::vector<std::vector<std::vector<double>>> hist(2, std::vector<std::vector<double>>(times.size()));
  hist[0].assign(times.size(), std::vector<double>(static_cast<std::size_t>(q_ab.n), 0));
  hist[1].assign(times.size(), std::vector<double>(static_cast<std::size_t>(q_dim.n), 0));
  bool conserved = true;
  Model model = scene.model;
  const auto w0 = std::chrono::steady_clock::now();
  std::uint64_t pool_reactions = 0;
  for (int run = 0; run < runs; ++run) {
    model.seed = 331 + static_cast<std::uint64_t>(run);
    Simulator sim(model, std::make_unique<SerialStepper>());
    std::vector<std::unique_ptr<SamplingObserver>> observers;
    for (std::size_t k = 0; k < times.size(); ++k) {
      // An observer with interval t_k fires first at t_k (then at multiples; ignored).
      observers.push_back(std::make_unique<SamplingObserver>([&, k](double t, const Simulator& x) {
        if (std::fabs(t - times[k]) > 1e-9 * times[k]) return;
        for (int i = 0; i < copies; ++i) {
          const std::int64_t c = x.pool_count(c_idx[static_cast<std::size_t>(i)]);
          const std::int64_t e = x.pool_count(e_idx[static_cast<std::size_t>(i)]);
          const std::string n = std::to_string(i);
          if (x.pool_count(x.model().well_mixed.find_species("A" + n)) + c != a0 ||
              x.pool_count(x.model().well_mixed.find_species("B" + n)) + c != b0 ||
              x.pool_count(x.model().well_mixed.find_species("D" + n)) + 2 * e != d0)
            conserved = false;
          hist[0][k][static_cast<std::size_t>(c)] += 1;
          hist[1][k][static_cast<std::size_t>(e)] += 1;
        }
      }));
      sim.add_observer(observers.back().get(), times[k]);
    }
    sim.run();
    pool_reactions += sim.stats().pool_reactions;
  }
  std::printf("[pool] bimolecular: %d runs x %d copies, %llu pool reactions, %.2f s wall\n", runs, copies,
              static_cast<unsigned long long>(pool_reactions), elapsed_s(w0));
  CHECK(conserved);

  const double n = static_cast<double>(copies * runs);
  for (int sys = 0; sys < 2; ++sys) {
    const RateMatrix& q = sys == 0 ? q_ab : q_dim;
    std::vector<double> p(static_cast<std::size_t>(q.n), 0);
    p[0] = 1;
    double t_prev = 0;
    for (std::size_t k = 0; k < times.size(); ++k) {
      p = propagate(q, p, times[k] - t_prev);
      t_prev = times[k];
      const DistMoments th = dist_moments(p);
      std::vector<double> xs;
      for (std::size_t c = 0; c < p.size(); ++c) xs.insert(xs.end(), static_cast<std::size_t>(hist[sys][k][c]), c);
      REQUIRE(xs.size() == static_cast<std::size_t>(n));
      const Moments m = moments(xs);
      char what[96];
      std::snprintf(what, sizeof what, "%s at t = %g s: mean C", sys == 0 ? "A + B <-> C" : "2A <-> C", times[k]);
      check_4se(what, m.mean, th.mean, std::sqrt(th.var / n));
      std::snprintf(what, sizeof what, "%s at t = %g s: variance of C", sys == 0 ? "A + B <-> C" : "2A <-> C",
                    times[k]);
      check_4se(what, m.var, th.var, std::sqrt((th.mu4 - th.var * th.var) / n));
      for (std::size_t c = 0; c < p.size(); ++c) {
        const double expected = n * p[c];
        if (expected < 5) continue;
        const double tol = 4 * std::sqrt(n * p[c] * (1 - p[c])) + 1;
        INFO("stochastic test: system " << sys << " at t = " << times[k] << " s, count " << c << ": seen "
                                        << hist[sys][k][c] << " times, CME " << expected << " (tolerance " << tol
                                        << ")");
        CHECK(std::fabs(hist[sys][k][c] - expected) <= tol);
      }
    }
  }
}

TEST_CASE("zeroth-order pool production (µM/s × Ω, also through volume_of) with decay gives a Poisson count" *
          doctest::test_suite("stat")) {
  // Stochastic test. Theory: immigration–death ∅ → X at c·Ω molecules/s (c in µM/s,
  // Ω = 602.214076·V of the reaction's volume pool), X → ∅ at δ: the stationary count
  // is Poisson(c·Ω/δ), with autocorrelation e^(−δτ).
  // X: pool "cyt" (V = 0.05 µm³), c = 1 µM/s, δ = 2/s: mean = variance = 15.055.
  // Y: lives in "cyt" but its production is given per volume of pool "er"
  // (volume_of, V = 0.5 µm³), c = 0.1 µM/s, δ = 2/s: mean = variance = 15.055.
  // Sample: warm-up 5 s, then every Δ = 5 s (ρ = e^(−10) = 4.5·10⁻⁵) to 100000 s:
  // n = 20000 samples; seed 341. SEs: mean sqrt(λ/n)·sqrt((1+ρ)/(1−ρ)), variance
  // sqrt((μ4 − σ⁴)/n) = sqrt((λ + 2λ²)/n) (Poisson μ4 = λ + 3λ²). Tolerance 4 SE.
  const double c_x = 1, c_y = 0.1, delta = 2, v_cyt = 0.05, v_er = 0.5, warmup = 5, every = 5, t_end = 100000;
  std::ostringstream s;
  s.precision(17);
  s << preamble(t_end, 341) << "well_mixed {\n  pool { name: \"cyt\" volume_um3: " << v_cyt << " }\n"
    << "  pool { name: \"er\" volume_um3: " << v_er << " }\n"
    << "  species { name: \"X\" pool: \"cyt\" }\n  species { name: \"Y\" pool: \"cyt\" }\n"
    << "  reaction { product: \"X\" rate: " << c_x << " }\n"
    << "  reaction { reactant: \"X\" rate: " << delta << " }\n"
    << "  reaction { product: \"Y\" rate: " << c_y << " volume_of: \"er\" }\n"
    << "  reaction { reactant: \"Y\" rate: " << delta << " }\n}\n";
  TempDir dir;
  const LoadedScene scene = load_scene_text(dir, "immigration.pbtxt", s.str());
  const int ix = scene.model.well_mixed.find_species("X"), iy = scene.model.well_mixed.find_species("Y");
  std::vector<double> x, y;
  run_sampled(scene.model, warmup, every, [&](const Simulator& sim) {
    x.push_back(static_cast<double>(sim.pool_count(ix)));
    y.push_back(static_cast<double>(sim.pool_count(iy)));
  });
  REQUIRE(x.size() == 20000);
  const double rho = std::exp(-delta * every);
  const struct {
    const char* name;
    const std::vector<double>& v;
    double lambda;
  } cases[] = {{"X (own pool)", x, c_x * kMoleculesPerUMPerUm3 * v_cyt / delta},
               {"Y (volume_of er)", y, c_y * kMoleculesPerUMPerUm3 * v_er / delta}};
  for (const auto& c : cases) {
    const Moments m = moments(c.v);
    const std::string mean_what = std::string("immigration-death ") + c.name + ": mean";
    const std::string var_what = std::string("immigration-death ") + c.name + ": variance";
    check_4se(mean_what.c_str(), m.mean, c.lambda, std::sqrt(c.lambda / m.n * (1 + rho) / (1 - rho)));
    check_4se(var_what.c_str(), m.var, c.lambda, std::sqrt((c.lambda + 2 * c.lambda * c.lambda) / m.n));
  }
}
