// 2D Brownian motion on a triangulated surface. A membrane molecule's position is a
// triangle plus barycentric coordinates; a step is drawn in the triangle's plane
// and walked across edges, the remaining displacement rotated about each shared
// edge into the next triangle's plane (length preserved, i.e. geodesic unfolding),
// and reflected in-plane at borders it may not cross.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "geometry/geometry.h"

namespace spinesim {

/// Position on the mesh: p = v0 + u·(v1 − v0) + v·(v2 − v0).
struct SurfacePoint {
  TriangleIndex triangle = 0;
  double u = 0, v = 0;
};

/// Edge adjacency within each surface. neighbour(t, i) is the triangle across the
/// edge opposite vertex i of t, or -1 at an open border. Edges shared by more than
/// two triangles of one surface (non-manifold) are treated as borders.
class SurfaceTopology {
 public:
  explicit SurfaceTopology(const Geometry& g);
  std::int32_t neighbour(TriangleIndex t, int opposite_vertex) const { return neighbours_[t][opposite_vertex]; }
  /// Orthonormal in-plane frame and unit normal of a triangle.
  const std::array<Vec3, 3>& frame(TriangleIndex t) const { return frames_[t]; }

 private:
  std::vector<std::array<std::int32_t, 3>> neighbours_;
  std::vector<std::array<Vec3, 3>> frames_;  // e1, e2, n
};

Vec3 surface_point_position(const Geometry& g, const SurfacePoint& sp);

/// Barycentric coordinates (u, v) of a point assumed to lie in the triangle's plane.
SurfacePoint locate_on_triangle(const Geometry& g, TriangleIndex t, const Vec3& p);

/// Moves `sp` by the in-plane displacement `d` (µm, in the plane of sp.triangle).
/// When `confine_region` ≥ 0, edges into triangles of another region reflect.
/// Returns the number of edges crossed.
int walk_on_surface(const Geometry& g, const SurfaceTopology& topo, SurfacePoint& sp, Vec3 d, int confine_region);

}  // namespace spinesim
