// Brownian motion against theory: MSD = 6·D·t in free 3D space, MSD = 4·D·t on a
// flat membrane, and ⟨cos θ(t)⟩ = exp(−2·D·t/R²) on a sphere of radius R.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/simulator.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

TEST_CASE("volume MSD in free 3D space is 6 D t" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: each axis displacement ~ N(0, 2Dt), so r² has mean 6Dt
  // and variance 6(2Dt)²; the relative SE of the sample mean is sqrt(2/(3N)).
  // N = 20000 molecules, seed 11, D = 1 µm²/s, dt = 1e-4 s, 200 steps (t = 0.02 s,
  // RMS path 0.35 µm) from the centre of a 20 µm box that none reaches.
  // Tolerance: 4 SE = 4·sqrt(2/(3N)) = 2.3 %.
  Geometry g;
  g.add_surface(box_mesh(20, 20, 20), "box", "box", "box", "extracellular");
  Model m = single_species_model(std::move(g), "A", false, 1.0, 1e-4, 11);
  m.grid_cell_um = 0.5;
  const int n = 20000, steps = 200;
  m.placements.push_back({0, static_cast<std::uint64_t>(n), PlacementDef::Where::kPoint, 0, {10, 10, 10}, -1});
  Simulator sim(m, std::make_unique<SerialStepper>());
  advance(sim, steps);
  double sum = 0;
  const auto& v = sim.world().volume;
  REQUIRE(v.size() == static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) sum += norm2(v.position(i) - Vec3{10, 10, 10});
  const double t = steps * m.dt_s, theory = 6 * 1.0 * t;
  const double rel_se = std::sqrt(2.0 / (3.0 * n));
  INFO("stochastic test: MSD " << sum / n << " µm² vs 6Dt = " << theory << ", relative SE " << rel_se);
  CHECK(std::fabs(sum / n / theory - 1) < 4 * rel_se);
}

TEST_CASE("membrane MSD on a flat triangulated sheet is 4 D t" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: r² = x² + y² with each ~ N(0, 2Dt)·… so mean 4Dt and
  // variance 4(2Dt)²; relative SE of the mean 1/sqrt(N). N = 20000, seed 12,
  // D = 1 µm²/s, dt = 1e-4 s, 200 steps (RMS path 0.28 µm, crossing ~10 triangle
  // edges of a 0.25 µm grid) from the centre of a 20 µm sheet. Tolerance 4 SE = 2.8 %.
  Geometry g;
  g.add_surface(flat_sheet(20, 80), "sheet", "sheet", "above", "below");
  Model m = single_species_model(std::move(g), "R", true, 1.0, 1e-4, 12);
  m.grid_cell_um = 0.5;
  m.outer_compartment = 0;
  Simulator sim(m, std::make_unique<SerialStepper>());
  World& w = sim.mutable_world();
  const int n = 20000, steps = 200;
  // Start every molecule at the sheet centre, a vertex shared by several triangles:
  // put it inside one of them at barycentric (0,0) of a triangle touching (0,0,0).
  const Geometry& geo = sim.model().geometry;
  TriangleIndex start = 0;
  for (TriangleIndex t = 0; t < geo.triangle_count(); ++t)
    if (norm(geo.vertex(t, 0)) < 1e-12) start = t;
  for (int i = 0; i < n; ++i) w.membrane.push({start, 0, 0}, 0, w.next_id++);
  advance(sim, steps);
  double sum = 0;
  for (std::size_t i = 0; i < w.membrane.size(); ++i) {
    const Vec3 p = surface_point_position(geo, w.membrane.point(i));
    CHECK(std::fabs(p.z) < 1e-12);
    sum += norm2(p);
  }
  const double theory = 4 * 1.0 * steps * m.dt_s;
  const double rel_se = 1 / std::sqrt(double(n));
  INFO("stochastic test: MSD " << sum / n << " µm² vs 4Dt = " << theory);
  CHECK(std::fabs(sum / n / theory - 1) < 4 * rel_se);
}

TEST_CASE("membrane diffusion on a triangulated sphere: <cos theta> = exp(-2 D t / R^2)" *
          doctest::test_suite("stat")) {
  // Stochastic test. Theory: for Brownian motion on a sphere of radius R the angle θ
  // from the start point obeys ⟨cos θ(t)⟩ = exp(−2Dt/R²). Icosphere R = 1 µm with
  // 20·4^4 = 5120 triangles (edge ≈ 0.06 µm; the polyhedron's area is 0.4 % below
  // the sphere's, shifting the expectation by ≈ 0.1 %, below the tolerance).
  // N = 4000 molecules, seed 13, D = 1 µm²/s, dt = 1e-4 s (step 14 nm), checked at
  // t = 0.1, 0.25 and 0.5 s. Tolerance: 4 sample standard errors at each time.
  Geometry g;
  g.add_surface(icosphere(1.0, 4), "sphere", "sphere", "inside", "outside");
  Model m = single_species_model(std::move(g), "R", true, 1.0, 1e-4, 13);
  m.outer_compartment = 1;
  m.placements.push_back({0, 4000, PlacementDef::Where::kRegion, -1, {}, 0});
  Simulator sim(m, std::make_unique<SerialStepper>());
  const Geometry& geo = sim.model().geometry;
  World& w = sim.mutable_world();
  std::vector<Vec3> start;
  for (std::size_t i = 0; i < w.membrane.size(); ++i)
    start.push_back(normalized(surface_point_position(geo, w.membrane.point(i))));
  int done = 0;
  for (double t : {0.1, 0.25, 0.5}) {
    const int target = static_cast<int>(std::lround(t / m.dt_s));
    advance(sim, target - done);
    done = target;
    double s1 = 0, s2 = 0;
    const double n = static_cast<double>(w.membrane.size());
    for (std::size_t i = 0; i < w.membrane.size(); ++i) {
      const double c = dot(start[i], normalized(surface_point_position(geo, w.membrane.point(i))));
      s1 += c;
      s2 += c * c;
    }
    const double mean = s1 / n, se = std::sqrt((s2 / n - mean * mean) / n);
    const double theory = std::exp(-2 * 1.0 * t / 1.0);
    INFO("stochastic test: t = " << t << " s, <cos theta> = " << mean << " vs " << theory << ", SE " << se);
    CHECK(std::fabs(mean - theory) < 4 * se);
  }
}
