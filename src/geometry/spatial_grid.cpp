#include "geometry/spatial_grid.h"

#include <algorithm>
#include <cmath>

namespace spinesim {

double point_triangle_distance2(const Vec3& p, const Vec3& a, const Vec3& b, const Vec3& c) {
  // Closest point by Voronoi regions (Ericson, Real-Time Collision Detection, §5.1.5).
  const Vec3 ab = b - a, ac = c - a, ap = p - a;
  const double d1 = dot(ab, ap), d2 = dot(ac, ap);
  if (d1 <= 0 && d2 <= 0) return norm2(ap);
  const Vec3 bp = p - b;
  const double d3 = dot(ab, bp), d4 = dot(ac, bp);
  if (d3 >= 0 && d4 <= d3) return norm2(bp);
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0 && d1 >= 0 && d3 <= 0) return norm2(p - (a + ab * (d1 / (d1 - d3))));
  const Vec3 cp = p - c;
  const double d5 = dot(ab, cp), d6 = dot(ac, cp);
  if (d6 >= 0 && d5 <= d6) return norm2(cp);
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0 && d2 >= 0 && d6 <= 0) return norm2(p - (a + ac * (d2 / (d2 - d6))));
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0)
    return norm2(p - (b + (c - b) * ((d4 - d3) / ((d4 - d3) + (d5 - d6)))));
  const double denom = 1 / (va + vb + vc);
  return norm2(p - (a + ab * (vb * denom) + ac * (vc * denom)));
}

namespace {
// Separating-axis test of a triangle against an axis-aligned box (Akenine-Möller 2001),
// so cells only list triangles that really cross them; a bounding-box test would
// mark many empty cells near slanted walls as occupied and slow the free-cell path.
bool triangle_overlaps_box(const Vec3& center, const Vec3& half, Vec3 a, Vec3 b, Vec3 c) {
  a -= center;
  b -= center;
  c -= center;
  const Vec3 e[3] = {b - a, c - b, a - c};
  const Vec3 axes[3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  auto separated = [&](const Vec3& axis) {
    const double pa = dot(a, axis), pb = dot(b, axis), pc = dot(c, axis);
    const double r = half.x * std::fabs(axis.x) + half.y * std::fabs(axis.y) + half.z * std::fabs(axis.z);
    return std::fmin(pa, std::fmin(pb, pc)) > r || std::fmax(pa, std::fmax(pb, pc)) < -r;
  };
  for (const auto& u : axes)
    for (const auto& ed : e) {
      const Vec3 axis = cross(u, ed);
      if (norm2(axis) > 1e-30 && separated(axis)) return false;
    }
  for (const auto& u : axes)
    if (separated(u)) return false;
  return !separated(cross(e[0], e[1]));
}
}  // namespace

SpatialGrid::SpatialGrid(const Geometry& g, const Box3& world, double cell_um, std::size_t max_cells,
                         bool with_clearance)
    : world_(world) {
  const Vec3 size = world.size();
  h_ = cell_um;
  auto cells_for = [&](double h) { return std::ceil(size.x / h) * std::ceil(size.y / h) * std::ceil(size.z / h); };
  while (cells_for(h_) > static_cast<double>(max_cells)) h_ *= 1.25;
  inv_h_ = 1.0 / h_;
  nx_ = std::max(1, static_cast<int>(std::ceil(size.x / h_)));
  ny_ = std::max(1, static_cast<int>(std::ceil(size.y / h_)));
  nz_ = std::max(1, static_cast<int>(std::ceil(size.z / h_)));
  const std::size_t n = static_cast<std::size_t>(nx_) * ny_ * nz_;
  // The box is exactly the grid: distances to the grid border are distances to the box.
  world_.hi = world_.lo + Vec3{nx_ * h_, ny_ * h_, nz_ * h_};

  // Two passes (count, fill) build the CSR lists without per-cell vectors.
  std::vector<std::uint32_t> count(n + 1, 0);
  std::vector<std::uint8_t> occupied(n, 0);
  // Inflated by 10⁻⁹ of a cell: the separating-axis test below is rounded, and a
  // triangle dropped from a cell it touches would let molecules there skip the wall.
  // The margin is ~10⁷ times the rounding of its products at µm scale, and axes too
  // short to trust are skipped, which can only list a triangle in more cells.
  const Vec3 half{0.5 * h_ * (1 + 1e-9), 0.5 * h_ * (1 + 1e-9), 0.5 * h_ * (1 + 1e-9)};
  auto visit = [&](TriangleIndex t, auto&& on_cell) {
    const Vec3 a = g.vertex(t, 0), b = g.vertex(t, 1), c = g.vertex(t, 2);
    const Vec3 lo = min(a, min(b, c)), hi = max(a, max(b, c));
    const int x0 = clamp_axis((lo.x - world_.lo.x) * inv_h_, nx_), x1 = clamp_axis((hi.x - world_.lo.x) * inv_h_, nx_);
    const int y0 = clamp_axis((lo.y - world_.lo.y) * inv_h_, ny_), y1 = clamp_axis((hi.y - world_.lo.y) * inv_h_, ny_);
    const int z0 = clamp_axis((lo.z - world_.lo.z) * inv_h_, nz_), z1 = clamp_axis((hi.z - world_.lo.z) * inv_h_, nz_);
    for (int z = z0; z <= z1; ++z)
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          const Vec3 center{world_.lo.x + (x + 0.5) * h_, world_.lo.y + (y + 0.5) * h_, world_.lo.z + (z + 0.5) * h_};
          if (triangle_overlaps_box(center, half, a, b, c)) on_cell(index(x, y, z));
        }
  };
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    visit(t, [&](std::uint32_t c) {
      ++count[c + 1];
      occupied[c] = 1;
    });
  for (std::size_t c = 0; c < n; ++c) count[c + 1] += count[c];
  start_ = count;
  tris_.resize(start_[n]);
  std::vector<std::uint32_t> cursor(start_.begin(), start_.end() - 1);
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t) visit(t, [&](std::uint32_t c) { tris_[cursor[c]++] = t; });

  if (with_clearance)
    compute_clearance(g, occupied);
  else
    clearance_.assign(n, 0.0f);
  tri_data_.resize(g.triangle_count());
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t) {
    const Vec3 a = g.vertex(t, 0);
    tri_data_[t] = {a, g.vertex(t, 1) - a, g.vertex(t, 2) - a};
    const Vec3 n = cross(tri_data_[t][1], tri_data_[t][2]);
    const double len = norm(n);
    tri_normal_.push_back(len > 0 ? n / len : Vec3{});
  }
  if (with_clearance) compute_block_planes();
}

void SpatialGrid::compute_block_planes() {
  bx_ = (nx_ + kPlaneBlock - 1) / kPlaneBlock;
  by_ = (ny_ + kPlaneBlock - 1) / kPlaneBlock;
  bz_ = (nz_ + kPlaneBlock - 1) / kPlaneBlock;
  const std::size_t blocks = static_cast<std::size_t>(bx_) * by_ * bz_;
  plane_blocks_.assign(blocks, PlaneBlock{});
  plane_chunks_.clear();
  // Per triangle seen in this block: its halo ring (1 or 2) and distance from the block centre.
  struct Entry {
    int ring;
    double distance2;
    TriangleIndex triangle;
  };
  std::vector<Entry> list;
  std::vector<std::uint32_t> seen(tri_data_.size(), ~0u);
  const double block_um = kPlaneBlock * h_;
  int lane = kPlaneLanes;  // lanes used in the last chunk
  auto close_chunk = [&] {
    // Padding planes: n = 0 and a huge negative offset put every point far in front.
    for (; lane < kPlaneLanes; ++lane) {
      PlaneChunk& c = plane_chunks_.back();
      c.nx[lane] = c.ny[lane] = c.nz[lane] = 0.0f;
      c.offset[lane] = -1e30f;
    }
    return static_cast<std::uint32_t>(plane_chunks_.size());
  };
  for (int iz = 0; iz < bz_; ++iz)
    for (int iy = 0; iy < by_; ++iy)
      for (int ix = 0; ix < bx_; ++ix) {
        const auto b = static_cast<std::uint32_t>(ix + bx_ * (iy + by_ * iz));
        const Vec3 o{world_.lo.x + ix * block_um, world_.lo.y + iy * block_um, world_.lo.z + iz * block_um};
        const Vec3 centre = o + Vec3{0.5 * block_um, 0.5 * block_um, 0.5 * block_um};
        list.clear();
        const int x0 = ix * kPlaneBlock, y0 = iy * kPlaneBlock, z0 = iz * kPlaneBlock;
        for (int ring = 1; ring <= 2; ++ring)
          for (int z = std::max(0, z0 - ring); z < std::min(nz_, z0 + kPlaneBlock + ring); ++z)
            for (int y = std::max(0, y0 - ring); y < std::min(ny_, y0 + kPlaneBlock + ring); ++y)
              for (int x = std::max(0, x0 - ring); x < std::min(nx_, x0 + kPlaneBlock + ring); ++x) {
                const std::uint32_t c = index(x, y, z);
                for (std::uint32_t k = start_[c]; k < start_[c + 1]; ++k) {
                  const TriangleIndex t = tris_[k];
                  if (seen[t] == b) continue;
                  seen[t] = b;
                  const auto& td = tri_data_[t];
                  list.push_back({ring, point_triangle_distance2(centre, td[0], td[0] + td[1], td[0] + td[2]), t});
                }
              }
        std::sort(list.begin(), list.end(), [](const Entry& a, const Entry& e) {
          return a.ring != e.ring ? a.ring < e.ring : a.distance2 < e.distance2;
        });
        PlaneBlock& block = plane_blocks_[b];
        block.begin = static_cast<std::uint32_t>(plane_chunks_.size());
        double max_offset = 0;
        bool near_closed = false;
        for (std::size_t k = 0; k <= list.size(); ++k) {
          if (!near_closed && (k == list.size() || list[k].ring == 2)) {
            block.near_end = close_chunk();
            near_closed = true;
          }
          if (k == list.size()) break;
          if (lane == kPlaneLanes) {
            plane_chunks_.emplace_back();
            lane = 0;
          }
          const TriangleIndex t = list[k].triangle;
          const Vec3& n = tri_normal_[t];
          const double offset = dot(tri_data_[t][0] - o, n);
          max_offset = std::max(max_offset, std::fabs(offset));
          PlaneChunk& c = plane_chunks_.back();
          c.nx[lane] = static_cast<float>(n.x);
          c.ny[lane] = static_cast<float>(n.y);
          c.nz[lane] = static_cast<float>(n.z);
          c.offset[lane] = static_cast<float>(offset);
          ++lane;
        }
        block.far_end = close_chunk();
        // Error of the float test against the exact plane distance: the inputs (n,
        // offset, the block-relative ends) are rounded to float (relative 2⁻²⁴ each) and
        // the dot product and subtraction add at most 4 roundings, each bounded by 2⁻²⁴
        // times (Σ|nᵢ||xᵢ| + |offset|) ≤ (√3·R + |offset|) with R the largest end
        // coordinate. 2⁻¹⁹ = 32·2⁻²⁴ covers all of that with room. first_wall_hit's own
        // double test rejects beyond kPlaneRejectMarginUm and is itself rounded
        // (~10⁻¹⁵ µm at µm scale): twice its margin covers it.
        const double reach_um = (kPlaneBlock + 2) * h_;
        block.margin =
            static_cast<float>(2 * kPlaneRejectMarginUm + 0x1p-19 * (std::sqrt(3.0) * reach_um + max_offset));
      }
}

void SpatialGrid::compute_clearance(const Geometry& g, const std::vector<std::uint8_t>& occupied) {
  const std::size_t n = occupied.size();
  // Chebyshev distance (in cells) from each cell to the nearest occupied cell, by
  // the classic two-pass chamfer over the 26-neighbourhood (exact for L∞). Cells
  // outside the grid count as occupied: the world box is a wall too.
  constexpr std::int32_t kFar = 1 << 20;
  std::vector<std::int32_t> dist(n);
  for (int z = 0; z < nz_; ++z)
    for (int y = 0; y < ny_; ++y)
      for (int x = 0; x < nx_; ++x) {
        const int to_border = std::min({x + 1, y + 1, z + 1, nx_ - x, ny_ - y, nz_ - z});
        dist[index(x, y, z)] = occupied[index(x, y, z)] ? 0 : std::min(kFar, to_border);
      }
  // Forward pass: neighbours preceding in scan order; backward pass: those following.
  for (int pass = 0; pass < 2; ++pass) {
    const int s = pass == 0 ? 1 : -1;
    for (int zi = 0; zi < nz_; ++zi)
      for (int yi = 0; yi < ny_; ++yi)
        for (int xi = 0; xi < nx_; ++xi) {
          const int x = s > 0 ? xi : nx_ - 1 - xi, y = s > 0 ? yi : ny_ - 1 - yi, z = s > 0 ? zi : nz_ - 1 - zi;
          std::int32_t best = dist[index(x, y, z)];
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                // Only neighbours already final in this pass's scan order.
                const long order = (static_cast<long>(dz) * ny_ + dy) * nx_ + dx;
                if (order * s >= 0) continue;
                const int xx = x + dx, yy = y + dy, zz = z + dz;
                if (xx < 0 || yy < 0 || zz < 0 || xx >= nx_ || yy >= ny_ || zz >= nz_) continue;
                best = std::min(best, dist[index(xx, yy, zz)] + 1);
              }
          dist[index(x, y, z)] = best;
        }
  }
  // Clearance of each cell centre: a lower bound on its distance to every triangle
  // and to the world box. A molecule at p in the cell is then at least
  // clearance − |p − centre| from any wall (triangle inequality). Far from walls the
  // Chebyshev distance k gives (k − ½)·h; within kExactCells of a wall the real
  // distance to the nearby triangles is measured, because most molecules there are
  // still a step or more from the wall and should take the fast path.
  constexpr int kExactCells = 3;
  clearance_.resize(n);
  for (int z = 0; z < nz_; ++z)
    for (int y = 0; y < ny_; ++y)
      for (int x = 0; x < nx_; ++x) {
        const std::uint32_t c = index(x, y, z);
        double clearance = (dist[c] - 0.5) * h_;
        if (dist[c] <= kExactCells) {
          const Vec3 center{world_.lo.x + (x + 0.5) * h_, world_.lo.y + (y + 0.5) * h_, world_.lo.z + (z + 0.5) * h_};
          // Triangles outside the searched block are at least (kExactCells + ½)·h from
          // the centre; the world box is a wall at the grid border.
          clearance = std::min({(kExactCells + 0.5) * h_, (x + 0.5) * h_, (y + 0.5) * h_, (z + 0.5) * h_,
                                (nx_ - 0.5 - x) * h_, (ny_ - 0.5 - y) * h_, (nz_ - 0.5 - z) * h_});
          double nearest2 = 1e300;
          for (int zz = std::max(0, z - kExactCells); zz <= std::min(nz_ - 1, z + kExactCells); ++zz)
            for (int yy = std::max(0, y - kExactCells); yy <= std::min(ny_ - 1, y + kExactCells); ++yy)
              for (int xx = std::max(0, x - kExactCells); xx <= std::min(nx_ - 1, x + kExactCells); ++xx) {
                const std::uint32_t cc = index(xx, yy, zz);
                for (std::uint32_t k = start_[cc]; k < start_[cc + 1]; ++k) {
                  const TriangleIndex t = tris_[k];
                  nearest2 = std::min(nearest2,
                                      point_triangle_distance2(center, g.vertex(t, 0), g.vertex(t, 1), g.vertex(t, 2)));
                }
              }
          clearance = std::min(clearance, std::sqrt(nearest2));
        }
        // Shrunk by a hair so float rounding never overstates it.
        clearance_[c] = static_cast<float>(std::max(0.0, clearance) * (1 - 1e-6));
      }
}

Box3 SpatialGrid::cell_box(std::uint32_t cell) const {
  const auto c = coords(cell);
  Box3 b;
  b.lo = {world_.lo.x + c[0] * h_, world_.lo.y + c[1] * h_, world_.lo.z + c[2] * h_};
  b.hi = b.lo + Vec3{h_, h_, h_};
  return b;
}

}  // namespace spinesim
