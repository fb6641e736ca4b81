// Small models built in code for engine and statistical tests, so those tests do
// not depend on the scene parser.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "engine/simulator.h"
#include "geometry/spine_builder.h"
#include "model/model.h"

namespace spinesim::testing {

/// Flat square sheet in the z = 0 plane, side `side` µm, n×n squares split in two
/// triangles each, normals +z. Open: its border reflects membrane molecules.
inline TriangleMesh flat_sheet(double side, int n) {
  TriangleMesh m;
  for (int j = 0; j <= n; ++j)
    for (int i = 0; i <= n; ++i) m.vertices.push_back({side * i / n - side / 2, side * j / n - side / 2, 0});
  auto v = [n](int i, int j) { return static_cast<std::uint32_t>(j * (n + 1) + i); };
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      // Alternate the diagonal so edges run in several directions.
      if ((i + j) % 2 == 0) {
        m.triangles.push_back({v(i, j), v(i + 1, j), v(i + 1, j + 1)});
        m.triangles.push_back({v(i, j), v(i + 1, j + 1), v(i, j + 1)});
      } else {
        m.triangles.push_back({v(i, j), v(i + 1, j), v(i, j + 1)});
        m.triangles.push_back({v(i + 1, j), v(i + 1, j + 1), v(i, j + 1)});
      }
    }
  return m;
}

/// Icosphere of radius r: an icosahedron subdivided `levels` times, projected on the sphere.
inline TriangleMesh icosphere(double r, int levels) {
  TriangleMesh m;
  const double t = (1.0 + std::sqrt(5.0)) / 2.0;
  const double raw[12][3] = {{-1, t, 0},  {1, t, 0},  {-1, -t, 0}, {1, -t, 0}, {0, -1, t},  {0, 1, t},
                             {0, -1, -t}, {0, 1, -t}, {t, 0, -1},  {t, 0, 1},  {-t, 0, -1}, {-t, 0, 1}};
  for (auto& p : raw) m.vertices.push_back(normalized(Vec3{p[0], p[1], p[2]}) * r);
  m.triangles = {{0, 11, 5},  {0, 5, 1},  {0, 1, 7},  {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
                 {11, 10, 2}, {10, 7, 6}, {7, 1, 8},  {3, 9, 4},  {3, 4, 2},   {3, 2, 6}, {3, 6, 8},
                 {3, 8, 9},   {4, 9, 5},  {2, 4, 11}, {6, 2, 10}, {8, 6, 7},   {9, 8, 1}};
  for (int l = 0; l < levels; ++l) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> mid;
    auto midpoint = [&](std::uint32_t a, std::uint32_t b) {
      auto key = std::minmax(a, b);
      auto it = mid.find(key);
      if (it != mid.end()) return it->second;
      m.vertices.push_back(normalized((m.vertices[a] + m.vertices[b]) * 0.5) * r);
      const auto idx = static_cast<std::uint32_t>(m.vertices.size() - 1);
      mid[key] = idx;
      return idx;
    };
    std::vector<std::array<std::uint32_t, 3>> next;
    for (const auto& tri : m.triangles) {
      const auto a = midpoint(tri[0], tri[1]), b = midpoint(tri[1], tri[2]), c = midpoint(tri[2], tri[0]);
      next.push_back({tri[0], a, c});
      next.push_back({tri[1], b, a});
      next.push_back({tri[2], c, b});
      next.push_back({a, b, c});
    }
    m.triangles = std::move(next);
  }
  return m;
}

/// Two unit cubes side by side, "left" on [0,1] and "right" on [1,2] along x,
/// sharing the square at x = 1 (region "partition", normal +x: front = right).
/// The outer walls are region "wall"; outside is "extracellular".
inline Geometry split_box() {
  Geometry g;
  const int left = g.intern_compartment("left"), right = g.intern_compartment("right");
  const int outside = g.intern_compartment("extracellular");
  g.compartment_bounded[static_cast<std::size_t>(left)] = true;
  g.compartment_bounded[static_cast<std::size_t>(right)] = true;
  const SurfaceId surface = g.intern_surface("walls");
  const RegionId wall = g.intern_region("wall"), partition = g.intern_region("partition");
  for (int k = 0; k < 12; ++k)  // vertex (i, j, l) = (x ∈ {0,1,2}, y ∈ {0,1}, z ∈ {0,1})
    g.vertices.push_back({static_cast<double>(k % 3), static_cast<double>((k / 3) % 2), static_cast<double>(k / 6)});
  auto v = [](int x, int y, int z) { return static_cast<std::uint32_t>(x + 3 * (y + 2 * z)); };
  auto quad = [&](std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d, RegionId r, int front, int back) {
    // a, b, c, d counter-clockwise seen from the front side
    for (const auto& t : {std::array<std::uint32_t, 3>{a, b, c}, std::array<std::uint32_t, 3>{a, c, d}}) {
      g.triangles.push_back(t);
      g.triangle_region.push_back(r);
      g.triangle_surface.push_back(surface);
      g.triangle_sides.push_back({static_cast<CompartmentId>(front), static_cast<CompartmentId>(back)});
    }
  };
  for (int x = 0; x < 2; ++x) {
    const int inside = x == 0 ? left : right;
    quad(v(x, 0, 0), v(x + 1, 0, 0), v(x + 1, 0, 1), v(x, 0, 1), wall, outside, inside);  // y = 0, normal −y
    quad(v(x, 1, 0), v(x, 1, 1), v(x + 1, 1, 1), v(x + 1, 1, 0), wall, outside, inside);  // y = 1, normal +y
    quad(v(x, 0, 0), v(x, 1, 0), v(x + 1, 1, 0), v(x + 1, 0, 0), wall, outside, inside);  // z = 0, normal −z
    quad(v(x, 0, 1), v(x + 1, 0, 1), v(x + 1, 1, 1), v(x, 1, 1), wall, outside, inside);  // z = 1, normal +z
  }
  quad(v(0, 0, 0), v(0, 0, 1), v(0, 1, 1), v(0, 1, 0), wall, outside, left);     // x = 0, normal −x
  quad(v(2, 0, 0), v(2, 1, 0), v(2, 1, 1), v(2, 0, 1), wall, outside, right);    // x = 2, normal +x
  quad(v(1, 0, 0), v(1, 1, 0), v(1, 1, 1), v(1, 0, 1), partition, right, left);  // x = 1, normal +x
  return g;
}

/// The collision-binding test model: split_box() with `n_ligand` glutamate
/// (diffusion d_ligand) uniform in "right" and `n_receptors` immobile agents R on the
/// partition (front side = right), R --glutamate, kon--> RL irreversibly, capture
/// radius r_capture; reflective everywhere.
inline Model collision_model(double d_ligand, double dt, double r_capture, double kon, double t_end, std::uint64_t seed,
                             int n_receptors, int n_ligand) {
  Model m;
  m.name = "collision";
  m.geometry = split_box();
  m.outer_compartment = m.geometry.find_compartment("extracellular");
  m.dt_s = dt;
  m.t_end_s = t_end;
  m.seed = seed;
  SpeciesDef glu;
  glu.name = "glutamate";
  glu.diffusion_um2_per_s = d_ligand;
  SpeciesDef rec;
  rec.name = "R";
  rec.membrane = true;
  rec.agent_type = 0;
  rec.capture_radius_um = r_capture;
  m.species = {glu, rec};
  AgentTypeDef type;
  type.name = "Receptor";
  type.states = {{"R"}, {"RL"}};
  AgentTransitionDef tr;
  tr.from = 0;
  tr.to = 1;
  tr.rate = kon;
  tr.ligand = "glutamate";
  tr.ligand_source = LigandSource::kParticle;
  tr.ligand_index = 0;
  type.transitions = {tr};
  type.out = {{0}, {}};
  m.agent_types = {type};
  m.surface_behaviour.assign(m.geometry.region_names.size() * m.species.size(), SurfaceBehaviour::kReflect);
  const int right = m.geometry.find_compartment("right");
  const int partition = m.geometry.find_region("partition");
  m.placements.push_back({0, static_cast<std::uint64_t>(n_ligand), PlacementDef::Where::kCompartment, right, {}, -1});
  m.placements.push_back({1, static_cast<std::uint64_t>(n_receptors), PlacementDef::Where::kRegion, -1, {}, partition});
  m.count_species = {0, 1};
  return m;
}

/// Runs `steps` Brownian steps directly on the simulator's stepper (no events).
inline void advance(Simulator& sim, int steps) {
  World& w = sim.mutable_world();
  Stepper& st = const_cast<Stepper&>(sim.stepper());
  for (int k = 0; k < steps; ++k) st.step(sim.diffusion_context(), w);
}

/// A model with the given geometry and one species, reflective everywhere.
inline Model single_species_model(Geometry g, const std::string& name, bool membrane, double diffusion, double dt,
                                  std::uint64_t seed) {
  Model m;
  m.name = "test";
  m.geometry = std::move(g);
  m.outer_compartment = m.geometry.find_compartment("extracellular");
  m.dt_s = dt;
  m.t_end_s = 1;
  m.seed = seed;
  SpeciesDef s;
  s.name = name;
  s.membrane = membrane;
  s.diffusion_um2_per_s = diffusion;
  m.species.push_back(s);
  m.surface_behaviour.assign(m.geometry.region_names.size(), SurfaceBehaviour::kReflect);
  m.count_species = {0};
  return m;
}

}  // namespace spinesim::testing
