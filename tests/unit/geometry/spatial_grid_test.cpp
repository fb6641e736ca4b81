// The wall-plane pre-filter of the diffusion kernel: whenever it lets a step skip
// the wall walk, the walk (and a brute-force test against every triangle) must
// find no wall on that step, so the fast path gives the same result.
#include "geometry/spatial_grid.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "geometry/intersect.h"
#include "geometry/spine_builder.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {
// Counts of one sweep of random segments.
struct Sweep {
  int tested = 0;   ///< segments starting near a wall
  int skipped = 0;  ///< of those, the pre-filter said "no wall plane crossed"
  int wrong = 0;    ///< skipped although some triangle is hit
};

Sweep sweep(const Geometry& g, double cell_um, double step_sd_um, int segments) {
  Box3 world = g.bounds();
  world.lo -= Vec3{2 * cell_um, 2 * cell_um, 2 * cell_um};
  world.hi += Vec3{2 * cell_um, 2 * cell_um, 2 * cell_um};
  const SpatialGrid grid(g, world, cell_um, 1u << 18);
  std::mt19937_64 rng(20261208);
  std::uniform_real_distribution<double> ux(world.lo.x, world.hi.x), uy(world.lo.y, world.hi.y),
      uz(world.lo.z, world.hi.z);
  std::normal_distribution<double> step(0.0, step_sd_um);
  Sweep s;
  while (s.tested < segments) {
    const Vec3 p{ux(rng), uy(rng), uz(rng)};
    const Vec3 d{step(rng), step(rng), step(rng)};
    // Only segments the diffusion kernel would send to the pre-filter: those whose
    // step may reach a wall by the clearance bound.
    const double reach = grid.free_reach(p);
    if (reach > 0 && norm2(d) < reach * reach) continue;
    ++s.tested;
    const Vec3 q = p + d;
    if (!grid.segment_misses_wall_planes(p, q)) continue;
    ++s.skipped;
    WallHit hit;
    bool any = first_wall_hit(grid, p, d, static_cast<TriangleIndex>(-1), hit);
    for (TriangleIndex t = 0; t < g.triangle_count() && !any; ++t) {
      double t_hit;
      any = segment_hits_triangle(grid.triangle_data(t), p, d, 0.0, t_hit);
    }
    s.wrong += any ? 1 : 0;
  }
  return s;
}
}  // namespace

TEST_CASE("wall-plane pre-filter: a skipped step never meets a wall (default spine, glutamate steps)") {
  const Geometry g = build_spine(SpineParams{});
  // Glutamate: D = 330 µm²/s, dt = 1 µs gives 25.7 nm per axis, the automatic cell size.
  const Sweep s = sweep(g, 0.0257, 0.0257, 20000);
  CHECK(s.wrong == 0);
  // Not vacuous: most steps near a wall cross none of its planes.
  CHECK(s.skipped > s.tested / 2);
  MESSAGE("near-wall segments ", s.tested, ", skipped by the pre-filter ", s.skipped);
}

TEST_CASE("wall-plane pre-filter: long steps near a box's faces and corners") {
  Geometry g;
  g.add_surface(box_mesh(1, 1, 1), "box", "box", "in", "out");
  // Steps of one to three cells: many leave the listed halo (the filter must then
  // refuse) and many cross a face.
  for (const double sd : {0.02, 0.05}) {
    const Sweep s = sweep(g, 0.025, sd, 20000);
    CHECK(s.wrong == 0);
    CHECK(s.skipped > 0);
  }
}

TEST_CASE("wall-plane pre-filter: a step through a wall is never skipped") {
  Geometry g;
  g.add_surface(box_mesh(1, 1, 1), "box", "box", "in", "out");
  Box3 world = g.bounds();
  world.lo -= Vec3{0.05, 0.05, 0.05};
  world.hi += Vec3{0.05, 0.05, 0.05};
  const SpatialGrid grid(g, world, 0.025, 1u << 18);
  const double lo = g.bounds().lo.x, hi = g.bounds().hi.x;
  // Through the x = lo face, and grazing it: ending 1e-13 µm beyond, well inside the
  // pre-filter's rounding margin.
  CHECK_FALSE(grid.segment_misses_wall_planes({lo + 0.01, 0.5, 0.5}, {lo - 0.01, 0.5, 0.5}));
  CHECK_FALSE(grid.segment_misses_wall_planes({hi - 0.01, 0.5, 0.5}, {hi + 1e-13, 0.5, 0.5}));
  // Parallel to the face, 10 nm inside it: no plane crossed.
  CHECK(grid.segment_misses_wall_planes({hi - 0.01, 0.40, 0.5}, {hi - 0.01, 0.43, 0.5}));
}
