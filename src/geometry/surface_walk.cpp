#include "geometry/surface_walk.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace spinesim {

SurfaceTopology::SurfaceTopology(const Geometry& g) {
  const std::size_t n = g.triangle_count();
  neighbours_.assign(n, {-1, -1, -1});
  frames_.resize(n);
  // Key: (surface, min vertex, max vertex) → list of (triangle, opposite vertex).
  std::map<std::tuple<SurfaceId, std::uint32_t, std::uint32_t>, std::vector<std::pair<TriangleIndex, int>>> edges;
  for (TriangleIndex t = 0; t < n; ++t) {
    for (int i = 0; i < 3; ++i) {
      std::uint32_t a = g.triangles[t][(i + 1) % 3], b = g.triangles[t][(i + 2) % 3];
      if (a > b) std::swap(a, b);
      edges[{g.triangle_surface[t], a, b}].push_back({t, i});
    }
    const Vec3 e1 = normalized(g.vertex(t, 1) - g.vertex(t, 0));
    const Vec3 nrm = normalized(g.raw_normal(t));
    frames_[t] = {e1, cross(nrm, e1), nrm};
  }
  for (const auto& [key, list] : edges) {
    if (list.size() != 2) continue;
    neighbours_[list[0].first][list[0].second] = static_cast<std::int32_t>(list[1].first);
    neighbours_[list[1].first][list[1].second] = static_cast<std::int32_t>(list[0].first);
  }
}

Vec3 surface_point_position(const Geometry& g, const SurfacePoint& sp) {
  const Vec3 a = g.vertex(sp.triangle, 0);
  return a + (g.vertex(sp.triangle, 1) - a) * sp.u + (g.vertex(sp.triangle, 2) - a) * sp.v;
}

SurfacePoint locate_on_triangle(const Geometry& g, TriangleIndex t, const Vec3& p) {
  const Vec3 a = g.vertex(t, 0), e1 = g.vertex(t, 1) - a, e2 = g.vertex(t, 2) - a, x = p - a;
  const double d11 = dot(e1, e1), d12 = dot(e1, e2), d22 = dot(e2, e2), x1 = dot(x, e1), x2 = dot(x, e2);
  const double den = d11 * d22 - d12 * d12;
  return {t, (d22 * x1 - d12 * x2) / den, (d11 * x2 - d12 * x1) / den};
}

namespace {
// Keeps a point that ended a hair outside its triangle (rounding) inside it.
void clamp_into_triangle(SurfacePoint& sp) {
  sp.u = std::max(sp.u, 0.0);
  sp.v = std::max(sp.v, 0.0);
  const double s = sp.u + sp.v;
  if (s > 1.0) {
    sp.u /= s;
    sp.v /= s;
  }
}
}  // namespace

int walk_on_surface(const Geometry& g, const SurfaceTopology& topo, SurfacePoint& sp, Vec3 d, int confine_region) {
  constexpr int kMaxEdgeCrossings = 1000;
  int crossings = 0;
  int came_from_edge = -1;  // edge (opposite vertex) just entered through, never the next exit
  for (int iter = 0; iter < kMaxEdgeCrossings; ++iter) {
    const TriangleIndex t = sp.triangle;
    const Vec3 a = g.vertex(t, 0), e1 = g.vertex(t, 1) - a, e2 = g.vertex(t, 2) - a;
    // Barycentric change of the displacement, solved in the triangle's plane.
    const double d11 = dot(e1, e1), d12 = dot(e1, e2), d22 = dot(e2, e2), x1 = dot(d, e1), x2 = dot(d, e2);
    const double den = d11 * d22 - d12 * d12;
    const double du = (d22 * x1 - d12 * x2) / den, dv = (d11 * x2 - d12 * x1) / den;
    const double lam[3] = {1 - sp.u - sp.v, sp.u, sp.v};
    const double dlam[3] = {-du - dv, du, dv};
    double t_exit = 1.0;
    int exit_edge = -1;
    for (int i = 0; i < 3; ++i) {
      if (dlam[i] < 0 && i != came_from_edge) {
        const double ti = -lam[i] / dlam[i];
        if (ti < t_exit) {
          t_exit = std::max(ti, 0.0);
          exit_edge = i;
        }
      }
    }
    if (exit_edge < 0) {
      sp.u += du;
      sp.v += dv;
      clamp_into_triangle(sp);
      return crossings;
    }
    // Move to the edge.
    sp.u += du * t_exit;
    sp.v += dv * t_exit;
    const Vec3 rest = d * (1.0 - t_exit);
    const Vec3 edge_a = g.vertex(t, (exit_edge + 1) % 3), edge_b = g.vertex(t, (exit_edge + 2) % 3);
    const Vec3 along = normalized(edge_b - edge_a);
    const Vec3 nrm = topo.frame(t)[2];
    Vec3 out_dir = cross(along, nrm);  // in-plane, perpendicular to the edge
    if (dot(out_dir, g.vertex(t, exit_edge) - edge_a) > 0) out_dir = -out_dir;
    const double a_comp = dot(rest, along), b_comp = dot(rest, out_dir);
    const std::int32_t next = topo.neighbour(t, exit_edge);
    const bool blocked =
        next < 0 || (confine_region >= 0 && g.triangle_region[static_cast<TriangleIndex>(next)] != confine_region);
    if (blocked) {
      // Reflect in-plane at the border and stay in this triangle.
      d = along * a_comp - out_dir * b_comp;
      came_from_edge = exit_edge;
      continue;
    }
    // Unfold: same along-edge component, perpendicular part turned into the neighbour.
    const auto nt = static_cast<TriangleIndex>(next);
    const Vec3 pos = surface_point_position(g, sp);
    int opposite = 0;
    for (int k = 0; k < 3; ++k)
      if (g.triangles[nt][k] != g.triangles[t][(exit_edge + 1) % 3] &&
          g.triangles[nt][k] != g.triangles[t][(exit_edge + 2) % 3])
        opposite = k;
    const Vec3 nn = topo.frame(nt)[2];
    Vec3 in_dir = cross(along, nn);
    if (dot(in_dir, g.vertex(nt, opposite) - edge_a) < 0) in_dir = -in_dir;
    d = along * a_comp + in_dir * b_comp;
    sp = locate_on_triangle(g, nt, pos);
    clamp_into_triangle(sp);
    came_from_edge = opposite;
    ++crossings;
  }
  clamp_into_triangle(sp);
  return crossings;
}

}  // namespace spinesim
