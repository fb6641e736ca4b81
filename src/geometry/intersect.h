// Segment–triangle queries for reflecting volume molecules and for deciding which
// compartment a point lies in.
#pragma once

#include "geometry/geometry.h"
#include "geometry/spatial_grid.h"

namespace spinesim {

/// Relative slack on barycentric coordinates: a segment through a shared edge
/// hits at least one of the two triangles, so no molecule slips through a crack.
inline constexpr double kEdgeSlack = 1e-10;

/// Intersection parameter of segment p + t·d, t ∈ (t_min, 1], with triangle `t`
/// (Möller–Trumbore, double-sided). Returns false when there is none.
bool segment_hits_triangle(const Geometry& g, TriangleIndex tri, const Vec3& p, const Vec3& d, double t_min,
                           double& t_out);
/// The same test on packed (a, b − a, c − a) triangle data.
bool segment_hits_triangle(const std::array<Vec3, 3>& tri, const Vec3& p, const Vec3& d, double t_min, double& t_out);

struct WallHit {
  TriangleIndex triangle = 0;
  double t = 0;  ///< fraction of the segment travelled before the hit
};

/// First triangle crossed by the segment p → p + d, ignoring `exclude` (the wall just
/// reflected from). Uses the grid cells overlapping the segment's bounding box.
bool first_wall_hit(const SpatialGrid& grid, const Vec3& p, const Vec3& d, TriangleIndex exclude, WallHit& hit);

/// Which compartment contains `p`: the side of the nearest triangle hit by a ray from
/// p, or `outer` when the ray escapes. Returns -1 when p is (numerically) on a wall.
int compartment_at(const Geometry& g, const SpatialGrid& grid, const Vec3& p, int outer);

}  // namespace spinesim
