// No molecule ever leaves its compartment: ≥ 10^7 molecule-steps of glutamate-like
// diffusion (D = 330 µm²/s, dt = 1 µs: 26 nm per axis per step, more than the
// 20 nm cleft) in the parametric spine with its cleft and in the reconstructed
// OIST spine, checked against an independent ray-parity point-in-mesh test.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "geometry/mesh_check.h"
#include "io/mesh_import.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

TEST_CASE("no leaks: parametric spine with cleft, 1.2e7 molecule-steps") {
  SpineParams p;
  p.cleft = true;
  Model m = single_species_model(build_spine(p), "glu", false, 330.0, 1e-6, 21);
  const int cytosol = m.geometry.find_compartment("cytosol"), cleft = m.geometry.find_compartment("cleft");
  REQUIRE(cytosol >= 0);
  REQUIRE(cleft >= 0);
  m.placements.push_back({0, 16000, PlacementDef::Where::kCompartment, cytosol, {}, -1});
  m.placements.push_back({0, 8000, PlacementDef::Where::kCompartment, cleft, {}, -1});
  Simulator sim(m, make_tbb_stepper(2));
  const int steps = 500;
  advance(sim, steps);
  const Geometry& g = sim.model().geometry;
  const TriangleMesh membrane = extract_surface(g, "spine_membrane");
  // The cleft is the cylinder r ≤ r_psd between the PSD plane and the bouton face.
  double y_lo = 1e9, y_hi = -1e9;
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.triangle_sides[t][0] == cleft || g.triangle_sides[t][1] == cleft)
      for (int k = 0; k < 3; ++k) {
        y_lo = std::min(y_lo, g.vertex(t, k).y);
        y_hi = std::max(y_hi, g.vertex(t, k).y);
      }
  const auto& v = sim.world().volume;
  REQUIRE(v.size() == 24000u);  // reflective everywhere: nothing absorbed
  std::size_t outside = 0, wrong_label = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Vec3 x = v.position(i);
    if (v.compartment[i] == cytosol) {
      if (!point_inside(membrane, x)) ++outside;
    } else if (v.compartment[i] == cleft) {
      const double r = std::hypot(x.x, x.z);
      if (!(x.y > y_lo && x.y < y_hi && r <= p.psd_radius_um)) ++outside;
    } else {
      ++wrong_label;
    }
  }
  INFO(steps * v.size() << " molecule-steps");
  CHECK(outside == 0);
  CHECK(wrong_label == 0);
}

TEST_CASE("no leaks: reconstructed OIST spine (membrane + ER), 1e7 molecule-steps") {
  const std::string dir = std::string(SPINESIM_TEST_DATA_DIR) + "/meshes/oist_spine/";
  TriangleMesh spine = read_surface_mesh(dir + "spine.obj");
  TriangleMesh er = read_surface_mesh(dir + "er.obj");
  orient_outward(spine, "spine.obj");
  orient_outward(er, "er.obj");
  Geometry g;
  g.add_surface(spine, "spine_membrane", "membrane", "cytosol", "extracellular");
  g.add_surface(er, "er_membrane", "er_membrane", "er_lumen", "cytosol");
  Model m = single_species_model(std::move(g), "ca", false, 220.0, 1e-6, 22);
  const int cytosol = m.geometry.find_compartment("cytosol"), lumen = m.geometry.find_compartment("er_lumen");
  m.placements.push_back({0, 16000, PlacementDef::Where::kCompartment, cytosol, {}, -1});
  m.placements.push_back({0, 4000, PlacementDef::Where::kCompartment, lumen, {}, -1});
  Simulator sim(m, make_tbb_stepper(2));
  const int steps = 500;
  advance(sim, steps);
  const auto& v = sim.world().volume;
  REQUIRE(v.size() == 20000u);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Vec3 x = v.position(i);
    const bool in_spine = point_inside(spine, x), in_er = point_inside(er, x);
    const bool ok = v.compartment[i] == cytosol ? (in_spine && !in_er) : in_er;
    if (!ok) ++outside;
  }
  INFO(steps * v.size() << " molecule-steps");
  CHECK(outside == 0);
}
