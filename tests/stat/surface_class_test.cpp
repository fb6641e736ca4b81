// Reflection, transmission and the world box against equilibrium statistics.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "geometry/mesh_check.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

// Pearson χ² of counts against equal expected counts.
double chi_square_uniform(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  const double expected = total / static_cast<double>(counts.size());
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  return chi2;
}
}  // namespace

TEST_CASE("reflection keeps a uniform distribution uniform up to the walls" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: the uniform density is stationary under Brownian motion
  // with reflecting walls, so after any number of steps the positions of N molecules
  // started uniform are still i.i.d. uniform. Histograms of x, y and z in 20 bins of
  // 50 nm (two step SDs, so the bins at the walls see every reflection) are tested by
  // Pearson χ² with 19 degrees of freedom against χ²₀.₉₉₉(19) = 43.82 (false-failure
  // rate 0.1 % per axis). N = 20000, seed 41, D = 330 µm²/s, dt = 1 µs, 300 steps.
  Geometry g;
  g.add_surface(box_mesh(1, 1, 1), "box", "wall", "box", "extracellular");
  Model m = single_species_model(std::move(g), "A", false, 330.0, 1e-6, 41);
  m.placements.push_back({0, 20000, PlacementDef::Where::kCompartment, 0, {}, -1});
  Simulator sim(m, std::make_unique<SerialStepper>());
  advance(sim, 300);
  const auto& v = sim.world().volume;
  for (int axis = 0; axis < 3; ++axis) {
    std::vector<double> counts(20, 0);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const double c = v.position(i)[axis];
      REQUIRE(c >= 0);
      REQUIRE(c <= 1);
      counts[std::min<std::size_t>(19, static_cast<std::size_t>(c * 20))] += 1;
    }
    const double chi2 = chi_square_uniform(counts);
    INFO("stochastic test: axis " << axis << " chi2 = " << chi2);
    CHECK(chi2 < 43.82);
  }
}

TEST_CASE("a transparent partition splits molecules by volume, with correct labels" * doctest::test_suite("threads")) {
  // Stochastic test. Theory: two unit cubes joined by a transparent face form one
  // box; at equilibrium each molecule is in either cube with probability 1/2, so the
  // count on the right is Binomial(N, 1/2): SE of the fraction sqrt(0.25/N) = 0.005
  // for N = 10000. Seed 42, D = 330 µm²/s, dt = 10 µs (81 nm per axis), 3000 steps
  // (30 ms ≫ the slowest relaxation time L²/(π²D) = 1.2 ms). Tolerance 4 SE.
  Model m = single_species_model(split_box(), "A", false, 330.0, 1e-5, 42);
  m.outer_compartment = m.geometry.find_compartment("extracellular");
  m.surface_behaviour[static_cast<std::size_t>(m.geometry.find_region("partition"))] = SurfaceBehaviour::kTransmit;
  const int left = m.geometry.find_compartment("left"), right = m.geometry.find_compartment("right");
  m.placements.push_back({0, 10000, PlacementDef::Where::kCompartment, left, {}, -1});
  Simulator sim(m, make_tbb_stepper(2));
  advance(sim, 3000);
  const auto& v = sim.world().volume;
  std::size_t n_right = 0, mislabelled = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Vec3 p = v.position(i);
    const int expected = p.x < 1 ? left : right;
    if (v.compartment[i] != expected) ++mislabelled;
    if (v.compartment[i] == right) ++n_right;
  }
  const double fraction = static_cast<double>(n_right) / static_cast<double>(v.size());
  INFO("stochastic test: fraction on the right " << fraction);
  CHECK(mislabelled == 0);
  CHECK(std::fabs(fraction - 0.5) < 4 * std::sqrt(0.25 / 10000.0));
  // Index (region·S + species)·2 + direction; one species, so region·2 + direction.
  const auto partition = static_cast<std::size_t>(m.geometry.find_region("partition"));
  const std::uint64_t into_left = sim.world().crossed[2 * partition],
                      into_right = sim.world().crossed[2 * partition + 1];
  INFO("crossings right→left " << into_left << ", left→right " << into_right);
  CHECK(into_left > 10000);
  // Net flux left → right equals the molecules now on the right.
  CHECK(into_right - into_left == n_right);
}

TEST_CASE("molecules outside the mesh stay outside (world box reflection)") {
  // Calcium that leaves through TRANSPARENT shaft ends must never re-enter the spine
  // through the membrane by bouncing off the world box.
  Model m = single_species_model(build_spine(SpineParams{}), "ca", false, 220.0, 1e-6, 43);
  const int cytosol = m.geometry.find_compartment("cytosol");
  m.surface_behaviour[static_cast<std::size_t>(m.geometry.find_region("shaft_end"))] = SurfaceBehaviour::kTransmit;
  m.placements.push_back({0, 10000, PlacementDef::Where::kCompartment, cytosol, {}, -1});
  Simulator sim(m, make_tbb_stepper(2));
  advance(sim, 2000);
  const TriangleMesh membrane = extract_surface(sim.model().geometry, "spine_membrane");
  const Box3& box = sim.grid().world();
  const auto& v = sim.world().volume;
  std::size_t outside_labelled = 0, wrong = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Vec3 p = v.position(i);
    const bool inside = point_inside(membrane, p);
    if (v.compartment[i] != cytosol) {
      ++outside_labelled;
      if (inside || !box.contains(p)) ++wrong;
    } else if (!inside) {
      ++wrong;
    }
  }
  INFO(outside_labelled << " molecules left the spine");
  CHECK(outside_labelled > 100);
  CHECK(wrong == 0);
}
