// Uniform grid over the world box that lists, per cell, the triangles touching it.
// It answers the two questions of the diffusion hot loop: "can this molecule move
// without any wall test?" (each cell stores how far, per axis, any point in it may
// move without reaching a cell that holds a triangle: a Chebyshev distance
// transform of the occupied cells) and "which triangles could this short segment
// cross?". Cells are small (about one step length) so a wall test sees few
// triangles, while the distance field still lets molecules far from walls skip it.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/vec3.h"
#include "geometry/geometry.h"

namespace spinesim {

/// Squared distance from p to the triangle abc (µm²).
double point_triangle_distance2(const Vec3& p, const Vec3& a, const Vec3& b, const Vec3& c);

class SpatialGrid {
 public:
  /// Builds a grid over `world` with cubic cells of about `cell_um` (enlarged if
  /// the cell count would exceed `max_cells`). Without `with_clearance` the cells'
  /// wall clearances are not computed (free_reach is then never positive): enough
  /// for segment and point queries, and much faster to build.
  SpatialGrid(const Geometry& g, const Box3& world, double cell_um, std::size_t max_cells = 1u << 24,
              bool with_clearance = true);

  double cell_size() const { return h_; }
  const Box3& world() const { return world_; }
  std::array<int, 3> dims() const { return {nx_, ny_, nz_}; }
  std::size_t cell_count() const { return clearance_.size(); }

  /// Cell index of a point (clamped into the grid).
  std::uint32_t cell_of(const Vec3& p) const {
    return index(clamp_axis((p.x - world_.lo.x) * inv_h_, nx_), clamp_axis((p.y - world_.lo.y) * inv_h_, ny_),
                 clamp_axis((p.z - world_.lo.z) * inv_h_, nz_));
  }
  /// A lower bound (µm) on the distance from p to every triangle and to the world
  /// box; a displacement shorter than this cannot meet a wall. May be negative.
  double free_reach(const Vec3& p) const {
    const double fx = (p.x - world_.lo.x) * inv_h_, fy = (p.y - world_.lo.y) * inv_h_,
                 fz = (p.z - world_.lo.z) * inv_h_;
    const int x = clamp_axis(fx, nx_), y = clamp_axis(fy, ny_), z = clamp_axis(fz, nz_);
    const double ox = (fx - x - 0.5) * h_, oy = (fy - y - 0.5) * h_, oz = (fz - z - 0.5) * h_;
    return clearance_[index(x, y, z)] - std::sqrt(ox * ox + oy * oy + oz * oz);
  }
  /// Triangle corner and edge vectors (a, b − a, c − a), packed for intersection tests.
  const std::array<Vec3, 3>& triangle_data(TriangleIndex t) const { return tri_data_[t]; }
  /// Unit normal of a triangle (direction of e1 × e2).
  const Vec3& triangle_normal(TriangleIndex t) const { return tri_normal_[t]; }

  /// Visits the cells pierced by the ray p + t·d, t ∈ [0, t_max], in order, calling
  /// f(cell, t_enter, t_exit); stops when f returns false (3D DDA, Amanatides & Woo 1987).
  template <class F>
  void for_each_cell_on_ray(const Vec3& p, const Vec3& d, double t_max, F&& f) const;

  /// Calls f(triangle) for every triangle in cells overlapping the box [lo, hi]
  /// (a triangle may be reported more than once).
  template <class F>
  void for_each_triangle_in_box(const Vec3& lo, const Vec3& hi, F&& f) const {
    const int x0 = clamp_axis((lo.x - world_.lo.x) * inv_h_, nx_), x1 = clamp_axis((hi.x - world_.lo.x) * inv_h_, nx_);
    const int y0 = clamp_axis((lo.y - world_.lo.y) * inv_h_, ny_), y1 = clamp_axis((hi.y - world_.lo.y) * inv_h_, ny_);
    const int z0 = clamp_axis((lo.z - world_.lo.z) * inv_h_, nz_), z1 = clamp_axis((hi.z - world_.lo.z) * inv_h_, nz_);
    for (int z = z0; z <= z1; ++z)
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          const std::uint32_t c = index(x, y, z);
          for (std::uint32_t k = start_[c]; k < start_[c + 1]; ++k) f(tris_[k]);
        }
  }

  /// Triangles of one cell.
  std::pair<const TriangleIndex*, const TriangleIndex*> cell_triangles(std::uint32_t cell) const {
    return {tris_.data() + start_[cell], tris_.data() + start_[cell + 1]};
  }
  /// Integer coordinates of a cell.
  std::array<int, 3> coords(std::uint32_t cell) const {
    return {static_cast<int>(cell % nx_), static_cast<int>((cell / nx_) % ny_), static_cast<int>(cell / (nx_ * ny_))};
  }
  Box3 cell_box(std::uint32_t cell) const;

 private:
  static int clamp_axis(double f, int n) {
    // Clamped before the conversion: a point far outside the grid (1e31 µm, found by
    // fuzz/fuzz_scene.cpp) or NaN would overflow int (undefined behaviour).
    if (!(f >= 0)) return 0;
    return f >= n ? n - 1 : static_cast<int>(f);
  }
  std::uint32_t index(int x, int y, int z) const { return static_cast<std::uint32_t>(x + nx_ * (y + ny_ * z)); }

  /// Fills clearance_ from the occupied cells (distance transform + exact distances).
  void compute_clearance(const Geometry& g, const std::vector<std::uint8_t>& occupied);

  Box3 world_;
  double h_ = 0, inv_h_ = 0;
  int nx_ = 1, ny_ = 1, nz_ = 1;
  std::vector<std::uint32_t> start_;  // CSR offsets, size cells+1
  std::vector<TriangleIndex> tris_;
  std::vector<float> clearance_;  // per cell centre, µm
  std::vector<std::array<Vec3, 3>> tri_data_;
  std::vector<Vec3> tri_normal_;
};

template <class F>
void SpatialGrid::for_each_cell_on_ray(const Vec3& p, const Vec3& d, double t_max, F&& f) const {
  int cell[3] = {clamp_axis((p.x - world_.lo.x) * inv_h_, nx_), clamp_axis((p.y - world_.lo.y) * inv_h_, ny_),
                 clamp_axis((p.z - world_.lo.z) * inv_h_, nz_)};
  const int n[3] = {nx_, ny_, nz_};
  int step[3];
  double t_next[3], t_delta[3];
  for (int a = 0; a < 3; ++a) {
    if (d[a] > 0) {
      step[a] = 1;
      t_next[a] = (world_.lo[a] + (cell[a] + 1) * h_ - p[a]) / d[a];
      t_delta[a] = h_ / d[a];
    } else if (d[a] < 0) {
      step[a] = -1;
      t_next[a] = (world_.lo[a] + cell[a] * h_ - p[a]) / d[a];
      t_delta[a] = -h_ / d[a];
    } else {
      step[a] = 0;
      t_next[a] = t_delta[a] = 1e300;
    }
  }
  double t_enter = 0;
  while (t_enter <= t_max) {
    const int a = (t_next[0] < t_next[1]) ? (t_next[0] < t_next[2] ? 0 : 2) : (t_next[1] < t_next[2] ? 1 : 2);
    const double t_exit = t_next[a];
    if (!f(index(cell[0], cell[1], cell[2]), t_enter, t_exit)) return;
    cell[a] += step[a];
    if (cell[a] < 0 || cell[a] >= n[a]) return;
    t_enter = t_exit;
    t_next[a] += t_delta[a];
  }
}

}  // namespace spinesim
