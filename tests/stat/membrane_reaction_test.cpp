// Reactions among membrane molecules against 2D mass action.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/simulator.h"
#include "model/reaction_radii_2d.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {
struct CountObserver final : Observer {
  std::vector<double> times;
  std::vector<std::size_t> a_count;
  void observe(double t, const Simulator& sim) override {
    times.push_back(t);
    std::size_t n = 0;
    for (std::size_t i = 0; i < sim.world().membrane.size(); ++i) n += sim.world().membrane.species[i] == 0;
    a_count.push_back(n);
  }
};

Model sheet_model(std::uint64_t seed) {
  Geometry g;
  g.add_surface(flat_sheet(4, 40), "sheet", "sheet", "above", "below");
  Model m = single_species_model(std::move(g), "A", true, 0.1, 1e-3, seed);
  m.outer_compartment = 0;
  for (const char* name : {"B", "C"}) {
    SpeciesDef s;
    s.name = name;
    s.membrane = true;
    s.diffusion_um2_per_s = 0.1;
    m.species.push_back(s);
  }
  m.surface_behaviour.assign(m.geometry.region_names.size() * m.species.size(), SurfaceBehaviour::kReflect);
  return m;
}
}  // namespace

TEST_CASE("membrane A + B -> C follows 2D mass action" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: with equal densities ρ0 of A and B and a
  // reaction-limited rate k (µm²/s), dρ_A/dt = −k·ρ_A·ρ_B gives N_A(t) = N0/(1 + k·ρ0·t).
  // N0 = 2000 of each on a 4 × 4 µm sheet (ρ0 = 125 /µm²), k = 0.01 µm²/s, D = 0.1 µm²/s
  // each, dt = 1 ms: k/(2π·D_sum) = 0.008, so the 2D calibration's dependence on the
  // outer radius (d ln k / d ln R_out = −k/(2π·D_sum)) is below 1 % and mixing keeps the
  // pair density uniform. Seed 51. The number reacted by t has SD ≤ sqrt(N0·p·(1 − p))
  // (≤ 22.4); tolerance 4 SD plus 1 % of N0 for the residual 2D rate dependence.
  Model m = sheet_model(51);
  ReactionDef r;
  r.reactants = {0, 1};
  r.products = {2};
  r.kon_um3_per_s = 0.01;
  r.binding_radius_um = binding_radius_2d(0.01, 0.2, m.dt_s);
  m.membrane_reactions.push_back(r);
  m.t_end_s = 1.0;
  m.placements.push_back({0, 2000, PlacementDef::Where::kRegion, -1, {}, 0});
  m.placements.push_back({1, 2000, PlacementDef::Where::kRegion, -1, {}, 0});
  Simulator sim(m, std::make_unique<SerialStepper>());
  CountObserver obs;
  sim.add_observer(&obs, 0.25);
  sim.run();
  for (std::size_t k = 1; k < obs.times.size(); ++k) {
    const double t = obs.times[k];
    const double expected = 2000.0 / (1 + 0.01 * 125.0 * t);
    const double p = 1 - expected / 2000.0;
    const double tol = 4 * std::sqrt(2000.0 * p * (1 - p)) + 20;
    INFO("stochastic test: t = " << t << " s, N_A = " << obs.a_count[k] << ", mass action " << expected);
    CHECK(std::fabs(static_cast<double>(obs.a_count[k]) - expected) < tol);
  }
}

TEST_CASE("membrane A -> B at exact times, and the molecule count stays consistent" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: each A turns into B after an Exp(k) time, so N_A(t) is
  // Binomial(N0, e^{−kt}). N0 = 4000, k = 2 /s, seed 52; immobile molecules (D = 0),
  // so the clock stops exactly at each reaction. Tolerance 4 binomial SDs.
  Model m = sheet_model(52);
  for (auto& s : m.species) s.diffusion_um2_per_s = 0;
  ReactionDef r;
  r.reactants = {0};
  r.products = {1};
  r.rate_per_s = 2.0;
  m.membrane_reactions.push_back(r);
  m.t_end_s = 1.0;
  m.placements.push_back({0, 4000, PlacementDef::Where::kRegion, -1, {}, 0});
  Simulator sim(m, std::make_unique<SerialStepper>());
  CountObserver obs;
  sim.add_observer(&obs, 0.2);
  sim.run();
  CHECK(sim.stats().steps == 0);
  for (std::size_t k = 0; k < obs.times.size(); ++k) {
    const double p = std::exp(-2.0 * obs.times[k]);
    const double sd = std::sqrt(4000.0 * p * (1 - p));
    INFO("stochastic test: t = " << obs.times[k] << " N_A = " << obs.a_count[k] << " expected " << 4000 * p);
    CHECK(std::fabs(static_cast<double>(obs.a_count[k]) - 4000 * p) <= 4 * sd + 1e-9);
  }
  CHECK(sim.world().membrane.size() == 4000u);
}
