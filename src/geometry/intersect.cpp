#include "geometry/intersect.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "geometry/predicates.h"

namespace spinesim {

bool segment_hits_triangle(const Geometry& g, TriangleIndex tri, const Vec3& p, const Vec3& d, double t_min,
                           double& t_out) {
  const Vec3 a = g.vertex(tri, 0);
  return segment_hits_triangle({a, g.vertex(tri, 1) - a, g.vertex(tri, 2) - a}, p, d, t_min, t_out);
}

// Rounded on purpose (the reflection hot path): the slack makes a segment through a
// shared edge hit at least one of its triangles, so rounding can change only which wall
// of an edge or corner a molecule reflects from first. That cannot leak it: the
// reflected segment is tested again against every wall (diffusion.cpp), so a second
// wall it would cross is found in the next pass. Exact decisions are kept for the
// checks whose answer is final (geometry/predicates.h).
bool segment_hits_triangle(const std::array<Vec3, 3>& tri, const Vec3& p, const Vec3& d, double t_min, double& t_out) {
  const Vec3& a = tri[0];
  const Vec3& e1 = tri[1];
  const Vec3& e2 = tri[2];
  const Vec3 pv = cross(d, e2);
  const double det = dot(e1, pv);
  if (std::fabs(det) < 1e-300) return false;  // segment parallel to the plane
  const double inv = 1.0 / det;
  const Vec3 s = p - a;
  const double u = dot(s, pv) * inv;
  if (u < -kEdgeSlack || u > 1 + kEdgeSlack) return false;
  const Vec3 q = cross(s, e1);
  const double v = dot(d, q) * inv;
  if (v < -kEdgeSlack || u + v > 1 + kEdgeSlack) return false;
  const double t = dot(e2, q) * inv;
  if (t <= t_min || t > 1.0) return false;
  t_out = t;
  return true;
}

bool first_wall_hit(const SpatialGrid& grid, const Vec3& p, const Vec3& d, TriangleIndex exclude, WallHit& hit) {
  const Vec3 q = p + d;
  bool found = false;
  double best = std::numeric_limits<double>::infinity();
  // Walk only the cells the segment passes through, nearest first, and stop once the
  // best hit lies inside the cell just searched: nothing further along can be closer.
  grid.for_each_cell_on_ray(p, d, 1.0, [&](std::uint32_t cell, double, double t_exit) {
    const auto [first, last] = grid.cell_triangles(cell);
    for (auto it = first; it != last; ++it) {
      const TriangleIndex tri = *it;
      // Most candidates lie wholly on one side of the segment: two dot products with
      // the plane normal reject them before the full intersection test.
      // SpatialGrid::segment_misses_wall_planes relies on exactly this rejection.
      const auto& td = grid.triangle_data(tri);
      const Vec3& n = grid.triangle_normal(tri);
      const double sp = dot(p - td[0], n), sq = dot(q - td[0], n);
      if ((sp > kPlaneRejectMarginUm && sq > kPlaneRejectMarginUm) ||
          (sp < -kPlaneRejectMarginUm && sq < -kPlaneRejectMarginUm))
        continue;
      double t;
      if (tri != exclude && segment_hits_triangle(td, p, d, 0.0, t) && t < best) {
        best = t;
        hit.triangle = tri;
        found = true;
      }
    }
    return !(found && best <= t_exit);
  });
  hit.t = best;
  return found;
}

int compartment_at(const Geometry& g, const SpatialGrid& grid, const Vec3& p, int outer) {
  // Irrational-looking directions make hits on edges and vertices unlikely; a ray that
  // grazes an edge (barycentric within slack) is retried in another direction.
  static const Vec3 kDirections[] = {
      normalized(Vec3{0.5773, 0.6321, 0.5167}), normalized(Vec3{-0.3109, 0.8461, -0.4331}),
      normalized(Vec3{0.7071, -0.1234, 0.6958}), normalized(Vec3{-0.2213, -0.5591, -0.7993})};
  const Box3& w = grid.world();
  const double reach = norm(w.size()) * 2.0;
  for (const Vec3& dir : kDirections) {
    const Vec3 d = dir * reach;
    bool grazing = false, found = false;
    double best = std::numeric_limits<double>::infinity();
    TriangleIndex best_tri = 0;
    // March the grid cells along the ray; the first cell whose own range contains
    // the best hit so far ends the search.
    grid.for_each_cell_on_ray(p, d, 1.0, [&](std::uint32_t cell, double, double t_exit) {
      const auto [b, e] = grid.cell_triangles(cell);
      for (auto it = b; it != e; ++it) {
        double t;
        if (segment_hits_triangle(grid.triangle_data(*it), p, d, 0.0, t) && t < best) {
          best = t;
          best_tri = *it;
          found = true;
        }
      }
      return !(found && best <= t_exit);
    });
    if (!found) return outer;
    if (best * reach < 1e-12) return -1;
    // Reject hits too close to an edge of the nearest triangle: parity there is ambiguous.
    const Vec3 a = g.vertex(best_tri, 0), e1 = g.vertex(best_tri, 1) - a, e2 = g.vertex(best_tri, 2) - a;
    const Vec3 x = p + d * best - a;
    const double d11 = dot(e1, e1), d12 = dot(e1, e2), d22 = dot(e2, e2), x1 = dot(x, e1), x2 = dot(x, e2);
    const double den = d11 * d22 - d12 * d12;
    const double u = (d22 * x1 - d12 * x2) / den, v = (d11 * x2 - d12 * x1) / den;
    if (u < 1e-7 || v < 1e-7 || u + v > 1 - 1e-7) grazing = true;
    if (grazing) continue;
    // Which side of the nearest wall p is on, decided exactly (a rounded dot product of
    // a grazing ray with the normal could take the wrong side). orient3d < 0: p is on
    // the side the normal points to, the front.
    const int side = orient3d(g.vertex(best_tri, 0), g.vertex(best_tri, 1), g.vertex(best_tri, 2), p);
    if (side == 0) return -1;
    return g.triangle_sides[best_tri][side < 0 ? 0 : 1];
  }
  return -1;
}

}  // namespace spinesim
