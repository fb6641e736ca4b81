// The scheduler: output times, releases at their times, Brownian steps only while
// something diffuses, and clock jumps over quiet time.
#include "engine/simulator.h"

#include <doctest/doctest.h>

#include <vector>

#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {
struct Recorder final : Observer {
  std::vector<double> times;
  std::vector<std::size_t> counts;
  void observe(double t, const Simulator& sim) override {
    times.push_back(t);
    counts.push_back(sim.world().molecule_count());
  }
};

Model box_model(double diffusion) {
  Geometry g;
  g.add_surface(box_mesh(1, 1, 1), "box", "wall", "box", "extracellular");
  Model m = single_species_model(std::move(g), "A", false, diffusion, 1e-5, 3);
  m.t_end_s = 0.105;
  return m;
}
}  // namespace

TEST_CASE("outputs fire at k*interval and at t_end; nothing diffusing means no steps") {
  Model m = box_model(0.0);
  m.placements.push_back({0, 5, PlacementDef::Where::kPoint, 0, {0.5, 0.5, 0.5}, -1});
  Simulator sim(m, std::make_unique<SerialStepper>());
  Recorder r;
  sim.add_observer(&r, 0.01);
  sim.run();
  REQUIRE(r.times.size() == 12);  // 0, 0.01, ..., 0.10 and t_end = 0.105
  for (int k = 0; k <= 10; ++k) CHECK(r.times[k] == k * 0.01);
  CHECK(r.times.back() == 0.105);
  CHECK(sim.stats().steps == 0);
  CHECK(sim.stats().jumps >= 11);
  CHECK(sim.time() == 0.105);
}

TEST_CASE("steps are taken only while molecules diffuse, then the clock jumps") {
  // Molecules released at 0.02 s and 0.06 s are absorbed by the walls within a few
  // ms (the box is 1 µm, D = 50 µm²/s: mean exit time from the centre ≈ 0.8 ms);
  // between and after, nothing diffuses.
  Model m = box_model(50.0);
  m.surface_behaviour.assign(m.surface_behaviour.size(), SurfaceBehaviour::kAbsorb);
  m.releases.push_back({0, 100, {0.5, 0.5, 0.5}, 0, {0.02, 0.06}});
  Simulator sim(m, std::make_unique<SerialStepper>());
  Recorder r;
  sim.add_observer(&r, 0.01);
  sim.run();
  const std::uint64_t steps_if_always = static_cast<std::uint64_t>(m.t_end_s / m.dt_s);
  INFO("steps " << sim.stats().steps << " of " << steps_if_always);
  CHECK(sim.stats().steps > 0);
  CHECK(sim.stats().steps < steps_if_always / 4);
  CHECK(sim.world().absorbed[0] == 200);
  // Released molecules exist at the first output after each release ...
  CHECK(r.counts[0] == 0);
  CHECK(r.counts[2] == 100);  // the release at 0.02 s fires before the output at 0.02 s
  // ... and are gone by the next quiet stretch.
  CHECK(r.counts[5] == 0);
  CHECK(r.counts[6] == 100);
  CHECK(r.counts.back() == 0);
}

TEST_CASE("a release inside a diffusion phase adds molecules at the next step boundary") {
  Model m = box_model(1.0);
  m.t_end_s = 1e-3;
  m.placements.push_back({0, 10, PlacementDef::Where::kCompartment, 0, {}, -1});
  m.releases.push_back({0, 7, {0.5, 0.5, 0.5}, 0, {2.5e-4}});
  Simulator sim(m, std::make_unique<SerialStepper>());
  Recorder r;
  sim.add_observer(&r, 1e-4);
  sim.run();
  CHECK(r.counts[2] == 10);
  CHECK(r.counts[3] == 17);
  CHECK(sim.stats().steps == 100);  // t_end / dt with no jumps while diffusing
  CHECK(sim.stats().jumps == 0);
}
