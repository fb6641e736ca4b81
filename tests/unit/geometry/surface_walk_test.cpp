// Walking membrane molecules across triangle edges and reflecting at region borders.
#include "geometry/surface_walk.h"

#include <doctest/doctest.h>

#include <cmath>

#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

TEST_CASE("a straight walk over a cube's edge keeps its length and stays on the surface") {
  Geometry g;
  g.add_surface(box_mesh(1, 1, 1), "cube", "cube", "in", "out");
  SurfaceTopology topo(g);
  // Start on the top face (z = 1) near x = 0.9 and walk +x by 0.3: 0.1 to the edge,
  // then 0.2 down the x = 1 face, ending at z = 0.8.
  SurfacePoint sp;
  bool found = false;
  for (TriangleIndex t = 0; t < g.triangle_count() && !found; ++t) {
    const SurfacePoint candidate = locate_on_triangle(g, t, {0.9, 0.3, 1.0});
    if (g.raw_normal(t).z > 0 && candidate.u >= 0 && candidate.v >= 0 && candidate.u + candidate.v <= 1) {
      sp = candidate;
      found = true;
    }
  }
  REQUIRE(found);
  REQUIRE(sp.u >= 0);
  REQUIRE(sp.v >= 0);
  const int crossed = walk_on_surface(g, topo, sp, {0.3, 0, 0}, -1);
  const Vec3 p = surface_point_position(g, sp);
  CHECK(crossed >= 1);
  CHECK(p.x == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(p.y == doctest::Approx(0.3).epsilon(1e-9));
  CHECK(p.z == doctest::Approx(0.8).epsilon(1e-9));
}

TEST_CASE("a region border reflects a confined walker") {
  Geometry g;
  g.add_surface(flat_sheet(2, 2), "sheet", "inner", "a", "b");
  // Put the triangles with x < 0 into another region.
  const RegionId outer = g.intern_region("outer");
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.centroid(t).x < 0) g.triangle_region[t] = outer;
  SurfaceTopology topo(g);
  TriangleIndex start = 0;
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.triangle_region[t] == 0 && g.centroid(t).y > 0 && g.centroid(t).x < 0.5) start = t;
  SurfacePoint sp = locate_on_triangle(g, start, g.centroid(start));
  const Vec3 before = surface_point_position(g, sp);
  // Walk -x by 0.5: it would cross x = 0 at distance before.x and reflect back.
  walk_on_surface(g, topo, sp, {-0.5, 0, 0}, 0);
  const Vec3 after = surface_point_position(g, sp);
  CHECK(g.triangle_region[sp.triangle] == 0);
  CHECK(after.x == doctest::Approx(0.5 - before.x).epsilon(1e-9));
  CHECK(after.y == doctest::Approx(before.y).epsilon(1e-9));
}

TEST_CASE("an open border reflects an unconfined walker") {
  Geometry g;
  g.add_surface(flat_sheet(2, 4), "sheet", "sheet", "a", "b");
  SurfaceTopology topo(g);
  TriangleIndex start = 0;
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.centroid(t).x > 0.7 && std::fabs(g.centroid(t).y) < 0.4) start = t;
  SurfacePoint sp = locate_on_triangle(g, start, g.centroid(start));
  const Vec3 before = surface_point_position(g, sp);
  walk_on_surface(g, topo, sp, {1.0, 0, 0}, -1);
  const Vec3 after = surface_point_position(g, sp);
  CHECK(after.x == doctest::Approx(2.0 - before.x - 1.0).epsilon(1e-9));
}
