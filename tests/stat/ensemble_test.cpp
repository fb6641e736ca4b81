// Ensembles against exact stochastic theory, through the path `spinesim ensemble`
// takes: the scene loaded with load_scene, replicate r run with seed
// replicate_seed(S, r) on the serial stepper, per-time statistics by EnsembleStats
// (Welford) fed in replicate order.
//
// 1. Immigration–death, 0 → A at k1 (production), A → ∅ at k2 (unimolecular), from
//    A(0) = 0: A(t) is Poisson with mean m(t) = (k1/k2)(1 − e^(−k2 t)), so mean and
//    variance both equal m(t).
// 2. Dimerisation A + A → C from n0 A in a closed box: the chemical master equation
//    of the pure-death chain n → n − 2 with propensity a(n) = kon·n(n−1)/V (the
//    scene convention: kon·[A]² events per volume and time), solved numerically here.
//
// Tolerances are in standard errors of the estimators under the theory: SE(mean) =
// sqrt(Var/N), SE(sample variance) = sqrt((μ4 − σ⁴(N−3)/(N−1))/N) with the central
// moments μ4, σ² of the exact distribution; each check allows 4 SE.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "engine/simulator.h"
#include "io/ensemble_stats.h"
#include "io/scene_loader.h"

using namespace spinesim;
namespace fs = std::filesystem;

namespace {

/// Volume molecules of species 0 at every observation.
class SpeciesCount final : public Observer {
 public:
  void observe(double time_s, const Simulator& sim) override {
    double n = 0;
    for (auto s : sim.world().volume.species) n += s == 0;
    times.push_back(time_s);
    counts.push_back(n);
  }
  std::vector<double> times, counts;
};

/// Runs `replicates` replicates of `scene` (2 threads; each replicate serial) and
/// returns the per-time statistics of species 0, fed in replicate order.
EnsembleStats run_ensemble(const fs::path& scene, std::uint64_t seed, std::uint64_t replicates) {
  const LoadedScene loaded = load_scene(scene);
  std::vector<CountsTable> tables(replicates);
  auto work = [&](std::uint64_t first) {
    for (std::uint64_t r = first; r < replicates; r += 2) {
      Model m = loaded.model;
      m.seed = replicate_seed(seed, r);
      Simulator sim(m, std::make_unique<SerialStepper>());
      SpeciesCount obs;
      sim.add_observer(&obs, m.counts_interval_s);
      sim.run();
      CountsTable& t = tables[r];
      t.columns = {"A"};
      for (std::size_t i = 0; i < obs.times.size(); ++i) {
        t.time_text.push_back(std::to_string(i));
        t.times.push_back(obs.times[i]);
        t.rows.push_back({obs.counts[i]});
      }
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  EnsembleStats stats;
  for (std::uint64_t r = 0; r < replicates; ++r) stats.add(tables[r], "replicate " + std::to_string(r));
  return stats;
}

fs::path write_scene(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "spinesim_ensemble_stat_test";
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}

struct Moments {
  double mean = 0, var = 0, mu4 = 0;
};

Moments moments(const std::vector<double>& value, const std::vector<double>& p) {
  Moments m;
  for (std::size_t i = 0; i < p.size(); ++i) m.mean += p[i] * value[i];
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double d = value[i] - m.mean;
    m.var += p[i] * d * d;
    m.mu4 += p[i] * d * d * d * d;
  }
  return m;
}

double se_variance(const Moments& m, double n) {
  return std::sqrt((m.mu4 - m.var * m.var * (n - 3) / (n - 1)) / n);
}

void check_against(const RunningStats& s, const Moments& m, double t, double n) {
  const double se_mean = std::sqrt(m.var / n), se_var = se_variance(m, n);
  INFO("stochastic test: t = " << t << " s: mean " << s.mean() << " vs " << m.mean << " (SE " << se_mean
                               << "), variance " << s.variance() << " vs " << m.var << " (SE " << se_var << ")");
  CHECK(std::fabs(s.mean() - m.mean) < 4 * se_mean);
  CHECK(std::fabs(s.variance() - m.var) < 4 * se_var);
}

}  // namespace

namespace {
/// The immigration–death check at output rows `rows` of the scene's ensemble.
void check_immigration_death(const std::vector<std::size_t>& rows) {
  const double k1 = 2000, k2 = 200;
  const std::uint64_t n = 4000;
  const EnsembleStats stats =
      run_ensemble(fs::path(SPINESIM_SOURCE_DIR) / "tests/e2e/scenes/immigration_death.pbtxt", 11, n);
  REQUIRE(stats.replicates() == n);
  REQUIRE(stats.times().size() == 11u);
  for (std::size_t i : rows) {
    const double t = stats.times()[i];
    const double m = k1 / k2 * (1 - std::exp(-k2 * t));
    const Moments poisson{m, m, m + 3 * m * m};
    check_against(stats.at(i, 0), poisson, t, static_cast<double>(n));
  }
}
}  // namespace

TEST_CASE("immigration-death ensemble: mean and variance follow the Poisson solution" * doctest::test_suite("stat")) {
  // Theory: A(t) ~ Poisson(m), m = (k1/k2)(1 − e^(−k2 t)), so mean = variance = m
  // and μ4 = m + 3m². Scene: tests/e2e/scenes/immigration_death.pbtxt (k1 = 2000 /s,
  // k2 = 200 /s, A does not diffuse, so the run is purely event-driven), checked at
  // t = 1, 2, 4, 8, 9, 10 ms (m = 1.8, 3.3, 5.5, 8.0, 8.3, 8.6). N = 4000 replicates,
  // base seed 11. Tolerance 4 SE each. (The early times caught a bug, now fixed: the
  // first two production intervals came from the same random stream.)
  check_immigration_death({1, 2, 4, 8, 9, 10});
}

TEST_CASE("dimerisation A + A -> C ensemble matches the master equation" * doctest::test_suite("stat")) {
  // Theory: n0 = 20 A in a closed V = 1 µm³ box; the number of reactions k has the
  // master equation dp_k/dt = a_{k−1} p_{k−1} − a_k p_k, a_k = kon·n(n−1)/V with
  // n = n0 − 2k and kon = 600 µM⁻¹s⁻¹ = 0.996 µm³/s (τ = 2·kon·n0·t/V = 1 at 25 ms),
  // integrated here with RK4 (h = 10 µs; error ≪ 1e-8).
  // Scene: D_A = 50 µm²/s, dt = 20 µs: rms step s = sqrt(2·2D·dt) = 63 nm against a
  // binding radius σ ≈ 21 nm (s/σ ≈ 3, towards the activation limit, so the box stays
  // well mixed). Known bias not in the CME: near the reflecting walls part of the
  // binding sphere lies outside the box, lowering the rate by ≈ (3/16)·σ·S/V ≈ 2.4 %
  // (S/V = 6 /µm), which shifts the mean by ≈ 0.12 molecule (≈ 0.75 SE) at τ ≈ 1.
  // Checked at t = 10, 20, 40 ms. N = 400 replicates, base seed 21. Tolerance 4 SE.
  const int n0 = 20;
  const double kon_uM = 600, kon = kon_uM / 602.214076, volume = 1;
  const auto scene = write_scene("dimer.pbtxt", R"(
simulation { dt_s: 2e-5 t_end_s: 0.04 seed: 21 }
geometry { box { x_um: 1 y_um: 1 z_um: 1 } }
species { name: "A" diffusion_um2_per_s: 50 }
species { name: "C" diffusion_um2_per_s: 0 }
placement { species: "A" count: 20 compartment: "box" }
reaction { reactant: "A" reactant: "A" product: "C" kon_per_uM_per_s: 600 }
output { counts_interval_s: 0.01 frame_interval_s: 0 render_png: false }
)");
  const std::uint64_t n = 400;
  const EnsembleStats stats = run_ensemble(scene, 21, n);
  REQUIRE(stats.times().size() == 5u);

  // CME over k = 0 … n0/2 reactions.
  const int states = n0 / 2 + 1;
  std::vector<double> a(states), value(states), p(states, 0.0);
  for (int k = 0; k < states; ++k) {
    const double na = n0 - 2 * k;
    a[static_cast<std::size_t>(k)] = kon * na * (na - 1) / volume;
    value[static_cast<std::size_t>(k)] = na;
  }
  p[0] = 1;
  auto deriv = [&](const std::vector<double>& q) {
    std::vector<double> d(states);
    for (int k = 0; k < states; ++k) {
      const auto i = static_cast<std::size_t>(k);
      d[i] = -a[i] * q[i] + (k > 0 ? a[i - 1] * q[i - 1] : 0.0);
    }
    return d;
  };
  const double h = 1e-5;
  double t = 0;
  for (std::size_t i = 1; i < stats.times().size(); ++i) {
    const double target = stats.times()[i];
    while (t < target - 1e-12) {
      const double step = std::min(h, target - t);
      auto k1 = deriv(p);
      std::vector<double> q(states);
      for (int s = 0; s < states; ++s) q[s] = p[s] + 0.5 * step * k1[s];
      auto k2 = deriv(q);
      for (int s = 0; s < states; ++s) q[s] = p[s] + 0.5 * step * k2[s];
      auto k3 = deriv(q);
      for (int s = 0; s < states; ++s) q[s] = p[s] + step * k3[s];
      auto k4 = deriv(q);
      for (int s = 0; s < states; ++s) p[s] += step / 6 * (k1[s] + 2 * k2[s] + 2 * k3[s] + k4[s]);
      t += step;
    }
    if (i == 1 || i == 2 || i == 4) check_against(stats.at(i, 0), moments(value, p), target, static_cast<double>(n));
  }
}
