// Uniform grid over the world box that lists, per cell, the triangles touching it.
// It answers the two questions of the diffusion hot loop: "can this molecule move
// without any wall test?" (each cell stores how far, per axis, any point in it may
// move without reaching a cell that holds a triangle: a Chebyshev distance
// transform of the occupied cells) and "which triangles could this short segment
// cross?". Cells are small (about one step length) so a wall test sees few
// triangles, while the distance field still lets molecules far from walls skip it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__SSE__)
#include <immintrin.h>
#endif

#include "core/vec3.h"
#include "geometry/geometry.h"

namespace spinesim {

/// first_wall_hit skips a triangle without the full intersection test when both ends
/// of the segment lie on the same side of its plane, farther from it than this. Far
/// above rounding (positions ~1 µm carry ~1e-16 µm error), so near-plane cases always
/// reach the exact test.
inline constexpr double kPlaneRejectMarginUm = 1e-12;

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
  double free_reach(const Vec3& p) const { return reach_field().free_reach(p); }

  /// The data free_reach reads, copied out by value so a loop over many molecules
  /// keeps it in registers and can vectorise (no member loads the compiler must
  /// assume its stores could change).
  struct ReachField {
    double lo_x, lo_y, lo_z, h, inv_h;
    int nx, ny, nz;
    const float* clearance;
    double free_reach(const Vec3& p) const {
      const double fx = (p.x - lo_x) * inv_h, fy = (p.y - lo_y) * inv_h, fz = (p.z - lo_z) * inv_h;
      const int x = clamp_axis(fx, nx), y = clamp_axis(fy, ny), z = clamp_axis(fz, nz);
      const double ox = (fx - x - 0.5) * h, oy = (fy - y - 0.5) * h, oz = (fz - z - 0.5) * h;
      return clearance[x + nx * (y + ny * z)] - std::sqrt(ox * ox + oy * oy + oz * oz);
    }
  };
  ReachField reach_field() const {
    return {world_.lo.x, world_.lo.y, world_.lo.z, h_, inv_h_, nx_, ny_, nz_, clearance_.data()};
  }
  /// True only when the segment p → q provably crosses no wall plane near it, so that
  /// first_wall_hit(p, q − p) finds no triangle: every triangle listed in a cell the
  /// segment can touch has p and q on the same side of its plane, farther than
  /// kPlaneRejectMarginUm plus the float rounding of this test (the same per-triangle
  /// rejection first_wall_hit makes in double). A cheap superset test (a few dozen
  /// float plane distances, vectorised) for molecules near walls, whose step mostly does
  /// not cross one; false sends the caller to the exact walk. Also false when the
  /// segment leaves the block of cells the lists cover.
  bool segment_misses_wall_planes(const Vec3& p, const Vec3& q) const;
  /// Starts loading the plane list segment_misses_wall_planes will read for a segment
  /// from p: issued a few molecules ahead, it hides the cache misses of the lists.
  void prefetch_wall_planes(const Vec3& p) const;

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
  /// Fills the per-block plane lists of segment_misses_wall_planes.
  void compute_block_planes();

  Box3 world_;
  double h_ = 0, inv_h_ = 0;
  int nx_ = 1, ny_ = 1, nz_ = 1;
  std::vector<std::uint32_t> start_;  // CSR offsets, size cells+1
  std::vector<TriangleIndex> tris_;
  std::vector<float> clearance_;  // per cell centre, µm
  std::vector<std::array<Vec3, 3>> tri_data_;
  std::vector<Vec3> tri_normal_;

  // Plane lists of segment_misses_wall_planes. Cells are grouped in blocks of
  // kPlaneBlock³; a block lists every triangle of the cells within 2 cells of it
  // (its "far" list), those within 1 cell first (its "near" list, a prefix): a
  // segment starting in the block and staying within that halo meets only listed
  // triangles. Planes are stored as float n·(x − o) = offset relative to the block's
  // corner o, nearest first so a crossing is found early, in chunks of 8 (one AVX
  // vector per field, the chunk two adjacent cache lines), padded with planes no
  // segment crosses.
  static constexpr int kPlaneBlock = 2, kPlaneLanes = 8;
  struct alignas(32) PlaneChunk {
    float nx[kPlaneLanes], ny[kPlaneLanes], nz[kPlaneLanes], offset[kPlaneLanes];
  };
  struct PlaneBlock {
    std::uint32_t begin = 0, near_end = 0, far_end = 0;  // chunk ranges
    float margin = 0;                                    // rejection margin incl. rounding, µm
  };
  int bx_ = 1, by_ = 1, bz_ = 1;  // blocks per axis
  std::vector<PlaneBlock> plane_blocks_;
  std::vector<PlaneChunk> plane_chunks_;

  std::uint32_t plane_block_of(int cx, int cy, int cz) const {
    return static_cast<std::uint32_t>(cx / kPlaneBlock + bx_ * (cy / kPlaneBlock + by_ * (cz / kPlaneBlock)));
  }
};

inline void SpatialGrid::prefetch_wall_planes(const Vec3& p) const {
#if defined(__SSE__)
  if (plane_blocks_.empty()) return;
  const std::uint32_t b =
      plane_block_of(clamp_axis((p.x - world_.lo.x) * inv_h_, nx_), clamp_axis((p.y - world_.lo.y) * inv_h_, ny_),
                     clamp_axis((p.z - world_.lo.z) * inv_h_, nz_));
  const PlaneChunk* first = plane_chunks_.data() + plane_blocks_[b].begin;
  _mm_prefetch(reinterpret_cast<const char*>(first), _MM_HINT_T0);
  _mm_prefetch(reinterpret_cast<const char*>(first) + 64, _MM_HINT_T0);
#else
  (void)p;
#endif
}

inline bool SpatialGrid::segment_misses_wall_planes(const Vec3& p, const Vec3& q) const {
  if (plane_blocks_.empty()) return false;
  // The block of p's (clamped) cell: the cell where first_wall_hit starts its walk.
  const int cx = clamp_axis((p.x - world_.lo.x) * inv_h_, nx_), cy = clamp_axis((p.y - world_.lo.y) * inv_h_, ny_),
            cz = clamp_axis((p.z - world_.lo.z) * inv_h_, nz_);
  const double block_um = kPlaneBlock * h_;
  const Vec3 o{world_.lo.x + (cx / kPlaneBlock) * block_um, world_.lo.y + (cy / kPlaneBlock) * block_um,
               world_.lo.z + (cz / kPlaneBlock) * block_um};
  const Vec3 pr = p - o, qr = q - o;
  // Both ends (hence the whole segment) inside the block grown by one or two cells,
  // less a hair for the rounding of the cell walk.
  const double lo = std::min({pr.x, pr.y, pr.z, qr.x, qr.y, qr.z}), hi = std::max({pr.x, pr.y, pr.z, qr.x, qr.y, qr.z});
  const double shrink = 1 - 1e-6;
  const PlaneBlock& block = plane_blocks_[plane_block_of(cx, cy, cz)];
  std::uint32_t end;
  if (lo >= -1 * h_ * shrink && hi <= (kPlaneBlock + 1) * h_ * shrink)
    end = block.near_end;
  else if (lo >= -2 * h_ * shrink && hi <= (kPlaneBlock + 2) * h_ * shrink)
    end = block.far_end;
  else
    return false;
  const float px = static_cast<float>(pr.x), py = static_cast<float>(pr.y), pz = static_cast<float>(pr.z);
  const float qx = static_cast<float>(qr.x), qy = static_cast<float>(qr.y), qz = static_cast<float>(qr.z);
  const float m = block.margin;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 vpx = _mm256_set1_ps(px), vpy = _mm256_set1_ps(py), vpz = _mm256_set1_ps(pz);
  const __m256 vqx = _mm256_set1_ps(qx), vqy = _mm256_set1_ps(qy), vqz = _mm256_set1_ps(qz);
  const __m256 front = _mm256_set1_ps(m), back = _mm256_set1_ps(-m);
  for (std::uint32_t k = block.begin; k < end; ++k) {
    const PlaneChunk& c = plane_chunks_[k];
    const __m256 ax = _mm256_load_ps(c.nx), ay = _mm256_load_ps(c.ny), az = _mm256_load_ps(c.nz);
    const __m256 o8 = _mm256_load_ps(c.offset);
    const __m256 sp = _mm256_fmadd_ps(ax, vpx, _mm256_fmadd_ps(ay, vpy, _mm256_fmsub_ps(az, vpz, o8)));
    const __m256 sq = _mm256_fmadd_ps(ax, vqx, _mm256_fmadd_ps(ay, vqy, _mm256_fmsub_ps(az, vqz, o8)));
    // NaN compares false: such a plane counts as crossed.
    const __m256 in_front = _mm256_and_ps(_mm256_cmp_ps(sp, front, _CMP_GT_OQ), _mm256_cmp_ps(sq, front, _CMP_GT_OQ));
    const __m256 behind = _mm256_and_ps(_mm256_cmp_ps(sp, back, _CMP_LT_OQ), _mm256_cmp_ps(sq, back, _CMP_LT_OQ));
    if (_mm256_movemask_ps(_mm256_or_ps(in_front, behind)) != 0xFF) return false;
  }
#else
  for (std::uint32_t k = block.begin; k < end; ++k) {
    const PlaneChunk& c = plane_chunks_[k];
    for (int j = 0; j < kPlaneLanes; ++j) {
      const float sp = c.nx[j] * px + c.ny[j] * py + c.nz[j] * pz - c.offset[j];
      const float sq = c.nx[j] * qx + c.ny[j] * qy + c.nz[j] * qz - c.offset[j];
      if (!((sp > m && sq > m) || (sp < -m && sq < -m))) return false;
    }
  }
#endif
  return true;
}

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
