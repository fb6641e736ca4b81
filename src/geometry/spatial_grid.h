// Uniform grid over the world box that lists, per cell, the triangles touching it.
// It answers the two questions of the diffusion hot loop: "can this molecule move
// without any wall test?" (a cell with no triangle in its 3×3×3 neighbourhood
// lets a molecule move up to one cell width per axis freely) and "which triangles
// could this short segment cross?".
#pragma once

#include <cstdint>
#include <vector>

#include "core/vec3.h"
#include "geometry/geometry.h"

namespace spinesim {

class SpatialGrid {
 public:
  /// Builds a grid over `world` with cubic cells of about `cell_um` (enlarged if
  /// the cell count would exceed `max_cells`).
  SpatialGrid(const Geometry& g, const Box3& world, double cell_um, std::size_t max_cells = 1u << 24);

  double cell_size() const { return h_; }
  const Box3& world() const { return world_; }
  std::array<int, 3> dims() const { return {nx_, ny_, nz_}; }
  std::size_t cell_count() const { return free_.size(); }

  /// Cell index of a point (clamped into the grid).
  std::uint32_t cell_of(const Vec3& p) const {
    return index(clamp_axis((p.x - world_.lo.x) * inv_h_, nx_), clamp_axis((p.y - world_.lo.y) * inv_h_, ny_),
                 clamp_axis((p.z - world_.lo.z) * inv_h_, nz_));
  }
  /// True when no triangle touches this cell or its 26 neighbours.
  bool is_free(std::uint32_t cell) const { return free_[cell] != 0; }
  const std::uint8_t* free_flags() const { return free_.data(); }

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
    int i = static_cast<int>(f);
    return i < 0 ? 0 : (i >= n ? n - 1 : i);
  }
  std::uint32_t index(int x, int y, int z) const {
    return static_cast<std::uint32_t>(x + nx_ * (y + ny_ * z));
  }

  Box3 world_;
  double h_ = 0, inv_h_ = 0;
  int nx_ = 1, ny_ = 1, nz_ = 1;
  std::vector<std::uint32_t> start_;  // CSR offsets, size cells+1
  std::vector<TriangleIndex> tris_;
  std::vector<std::uint8_t> free_;
};

}  // namespace spinesim
