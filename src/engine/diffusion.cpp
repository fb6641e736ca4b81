#include "engine/diffusion.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "geometry/intersect.h"

namespace spinesim {

DiffusionContext::DiffusionContext(const Model& m, const SpatialGrid& g, const SurfaceTopology& t)
    : model(&m), grid(&g), topology(&t), world_box(g.world()), seed(m.seed) {
  for (const auto& s : m.species) sigma_um.push_back(std::sqrt(2.0 * s.diffusion_um2_per_s * m.dt_s));
  unit_normals.reserve(m.geometry.triangle_count());
  for (TriangleIndex i = 0; i < m.geometry.triangle_count(); ++i)
    unit_normals.push_back(normalized(m.geometry.raw_normal(i)));
}

bool DiffusionContext::anything_diffuses(const World& w) const {
  for (std::size_t i = 0; i < w.volume.size(); ++i)
    if (sigma_um[w.volume.species[i]] > 0) return true;
  for (std::size_t i = 0; i < w.membrane.size(); ++i)
    if (sigma_um[w.membrane.species[i]] > 0) return true;
  return false;
}

namespace {
// Distance a reflected molecule is set back from the wall, on its own side. Far
// below any physical length (a cleft is 2e-2 µm) but far above double rounding at
// µm coordinates (~1e-16), so the next segment never starts behind the wall.
constexpr double kWallOffsetUm = 1e-9;
constexpr int kMaxWallHits = 64;

}  // namespace

namespace {
// Agent whose capture disc contains x and binds the ligand, drawn with the ligand's
// own stream; returns false when none binds.
bool try_capture(const DiffusionContext& ctx, TriangleIndex tri, const Vec3& x, bool from_front, int species,
                 std::uint32_t id, std::uint64_t step, int hit_count, std::uint32_t& agent_out,
                 std::uint16_t& transition_out) {
  const CaptureIndex& cap = *ctx.capture;
  const Model& m = *ctx.model;
  const MembraneMolecules& mem = ctx.world->membrane;
  // The hit lies on `tri`; a capture disc centred on a neighbouring triangle may reach it.
  TriangleIndex candidates[4] = {tri, tri, tri, tri};
  int n_candidates = 1;
  for (int k = 0; k < 3; ++k) {
    const std::int32_t nb = ctx.topology->neighbour(tri, k);
    if (nb >= 0) candidates[n_candidates++] = static_cast<TriangleIndex>(nb);
  }
  double u = -1;
  for (int c = 0; c < n_candidates; ++c) {
    const TriangleIndex t = candidates[c];
    for (std::uint32_t k = cap.start[t]; k < cap.start[t + 1]; ++k) {
      const std::uint32_t a = cap.agents[k];
      const SpeciesDef& sp = m.species[mem.species[a]];
      if (from_front == sp.binds_from_back) continue;  // the binding site faces the other side
      if (norm2(cap.position[a] - x) > sp.capture_radius_um * sp.capture_radius_um) continue;
      const AgentTypeDef& type = m.agent_types[static_cast<std::size_t>(sp.agent_type)];
      double total = 0;
      for (int j : type.out[mem.state[a]]) {
        const AgentTransitionDef& tr = type.transitions[static_cast<std::size_t>(j)];
        if (tr.ligand_source == LigandSource::kParticle && tr.ligand_index == species)
          total += cap.probability[mem.species[a]][static_cast<std::size_t>(j)];
      }
      if (total <= 0) continue;
      if (u < 0) {
        CounterRng rng({ctx.seed, id, step, Purpose::kReaction});
        for (int skip = 0; skip < hit_count; ++skip) rng();
        u = uniform_open0(rng()) - 0x1p-33;  // in [0, 1)
      }
      // One uniform decides among all agents in reach: walk the cumulative sum.
      for (int j : type.out[mem.state[a]]) {
        const AgentTransitionDef& tr = type.transitions[static_cast<std::size_t>(j)];
        if (tr.ligand_source != LigandSource::kParticle || tr.ligand_index != species) continue;
        const double p = cap.probability[mem.species[a]][static_cast<std::size_t>(j)];
        if (u < p) {
          agent_out = a;
          transition_out = static_cast<std::uint16_t>(j);
          return true;
        }
        u -= p;
      }
    }
  }
  return false;
}
}  // namespace

StepOutcome move_volume(const DiffusionContext& ctx, std::size_t i, int species, std::uint32_t id, Vec3& p,
                        std::uint16_t& compartment, Vec3 d, SurfaceTally& tally, StepScratch& scratch,
                        std::uint64_t step) {
  const Geometry& g = ctx.model->geometry;
  const std::size_t n_species = ctx.model->species.size();
  const bool can_bind = ctx.capture != nullptr && !ctx.capture->empty() && ctx.capture->is_ligand[species];
  TriangleIndex last = static_cast<TriangleIndex>(-1);
  for (int k = 0; k < kMaxWallHits; ++k) {
    WallHit hit;
    const bool hits_triangle = first_wall_hit(*ctx.grid, p, d, last, hit);
    // The world box is a wall too (it closes the unbounded compartment): reflect at
    // it when the path leaves the box before meeting a triangle.
    int box_axis = -1;
    double t_box = hits_triangle ? hit.t : 1.0;
    for (int a = 0; a < 3; ++a) {
      const double end = p[a] + d[a];
      double t = 2;
      if (end > ctx.world_box.hi[a])
        t = (ctx.world_box.hi[a] - p[a]) / d[a];
      else if (end < ctx.world_box.lo[a])
        t = (ctx.world_box.lo[a] - p[a]) / d[a];
      if (t < t_box) {
        t_box = std::max(0.0, t);
        box_axis = a;
      }
    }
    if (box_axis >= 0) {
      if (ctx.model->world_box_region >= 0 && ctx.model->behaviour(static_cast<RegionId>(ctx.model->world_box_region),
                                                                   species) == SurfaceBehaviour::kAbsorb) {
        ++tally.absorbed[static_cast<std::size_t>(ctx.model->world_box_region) * n_species +
                         static_cast<std::size_t>(species)];
        p += d * t_box;
        return StepOutcome::kAbsorbed;
      }
      Vec3 x = p + d * t_box;
      Vec3 rest = d * (1.0 - t_box);
      rest[box_axis] = -rest[box_axis];
      x[box_axis] += d[box_axis] > 0 ? -kWallOffsetUm : kWallOffsetUm;  // back inside
      p = x;
      d = rest;
      last = static_cast<TriangleIndex>(-1);
      continue;
    }
    if (!hits_triangle) {
      p += d;
      return StepOutcome::kMoved;
    }
    const TriangleIndex tri = hit.triangle;
    const Vec3& n = ctx.unit_normals[tri];
    // Rounded, and safe: the segment crosses the wall's plane, so |d·n| is at least p's
    // distance from it, and every wall contact leaves a molecule kWallOffsetUm (10⁻⁹ µm)
    // off the wall, 10⁷ times the rounding of d·n at µm scale. Only a molecule that
    // arrived by free steps within ~10⁻¹⁶ µm of the plane could be misjudged.
    const bool from_front = dot(d, n) < 0;
    const Vec3 x = p + d * hit.t;
    const RegionId region = g.triangle_region[tri];
    const std::size_t key = static_cast<std::size_t>(region) * n_species + static_cast<std::size_t>(species);
    // A hit binds only agents whose binding site faces the side it came from.
    if (can_bind && try_capture(ctx, tri, x, from_front, species, id, step, k, scratch.captured_by[i],
                                scratch.capture_transition[i])) {
      p = x + (from_front ? n : -n) * kWallOffsetUm;
      return StepOutcome::kCaptured;
    }
    switch (ctx.model->behaviour(region, species)) {
      case SurfaceBehaviour::kAbsorb:
        ++tally.absorbed[key];
        p = x;
        return StepOutcome::kAbsorbed;
      case SurfaceBehaviour::kTransmit: {
        ++tally.crossed[2 * key + (from_front ? 0 : 1)];
        compartment = g.triangle_sides[tri][from_front ? 1 : 0];
        const Vec3 to_side = from_front ? -n : n;
        p = x + to_side * kWallOffsetUm;
        d = d * (1.0 - hit.t);
        break;
      }
      case SurfaceBehaviour::kReflect: {
        Vec3 rest = d * (1.0 - hit.t);
        rest -= n * (2.0 * dot(rest, n));
        const Vec3 own_side = from_front ? n : -n;
        p = x + own_side * kWallOffsetUm;
        d = rest;
        break;
      }
    }
    last = tri;
  }
  // Pathological corner: stay where the last wall put us (never behind a wall).
  return StepOutcome::kMoved;
}

// Fills displacements for molecules [begin, begin + n). Kept free of branches and
// calls other than the math library so the compiler can vectorise it (Philox's
// 32×32→64-bit multiplies map to AVX2 vpmuludq; log/sin/cos to libmvec).
static void draw_displacements(const DiffusionContext& ctx, const World& w, std::size_t begin, std::size_t n,
                               double* dx, double* dy, double* dz) {
  const VolumeMolecules& m = w.volume;
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(ctx.seed),
                                         static_cast<std::uint32_t>(ctx.seed >> 32)};
  const auto step_lo = static_cast<std::uint32_t>(w.step_count);
  const std::uint32_t step_hi_purpose = static_cast<std::uint32_t>((w.step_count >> 32) & 0xFFFFu) |
                                        (static_cast<std::uint32_t>(Purpose::kDiffusion) << 16);
  const std::uint32_t* ids = m.id.data() + begin;
  const std::uint16_t* species = m.species.data() + begin;
  const double* sigma = ctx.sigma_um.data();
  for (std::size_t k = 0; k < n; ++k) {
    // Same words as CounterRng({seed, id, step, kDiffusion}).next_block().
    const auto words = philox4x32({0u, ids[k], step_lo, step_hi_purpose}, key);
    const double s = sigma[species[k]];
    const double r0 = std::sqrt(-2.0 * std::log(uniform_open0(words[0])));
    const double phi0 = 2.0 * kPi * (static_cast<double>(words[1]) * (1.0 / 4294967296.0));
    const double r1 = std::sqrt(-2.0 * std::log(uniform_open0(words[2])));
    const double phi1 = 2.0 * kPi * (static_cast<double>(words[3]) * (1.0 / 4294967296.0));
    dx[k] = s * r0 * std::cos(phi0);
    dy[k] = s * r0 * std::sin(phi0);
    dz[k] = s * r1 * std::cos(phi1);
  }
}

void step_volume_range(const DiffusionContext& ctx, World& w, StepScratch& scratch, SurfaceTally& tally,
                       std::size_t begin, std::size_t end) {
  StepOutcome* outcome = scratch.outcome.data();
  VolumeMolecules& m = w.volume;
  const SpatialGrid& grid = *ctx.grid;
  const Box3& box = ctx.world_box;
  const SpatialGrid::ReachField field = grid.reach_field();
  constexpr std::size_t kBlock = kVolumeBlock;
  double dx[kBlock], dy[kBlock], dz[kBlock];
  std::uint8_t near_wall[kBlock];
  std::uint16_t near_list[kBlock];
  double* x = m.x.data();
  double* y = m.y.data();
  double* z = m.z.data();
  for (std::size_t b = begin; b < end; b += kBlock) {
    const std::size_t n = std::min(kBlock, end - b);
    draw_displacements(ctx, w, b, n, dx, dy, dz);
    // Free molecules, in one vectorised pass: a step shorter than the distance to
    // every wall cannot meet one, so it lands at p + d, as the wall walk would put it.
    double* xb = x + b;
    double* yb = y + b;
    double* zb = z + b;
    // Each iteration reads and writes only molecule k (the clearance field is read-only).
#if defined(__clang__)
#pragma clang diagnostic push
// Instrumented builds (ASan, TSan) cannot vectorise this loop; the hint is for speed
// only, so its failure there is no error.
#pragma clang diagnostic ignored "-Wpass-failed"
#pragma clang loop vectorize(assume_safety)
#endif
    for (std::size_t k = 0; k < n; ++k) {
      const double px = xb[k], py = yb[k], pz = zb[k];
      const double reach = field.free_reach({px, py, pz});
      const bool free = reach > 0 && dx[k] * dx[k] + dy[k] * dy[k] + dz[k] * dz[k] < reach * reach;
      xb[k] = free ? px + dx[k] : px;
      yb[k] = free ? py + dy[k] : py;
      zb[k] = free ? pz + dz[k] : pz;
      near_wall[k] = !free;
    }
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    std::fill(outcome + b, outcome + b + n, StepOutcome::kMoved);
    std::size_t n_near = 0;
    for (std::size_t k = 0; k < n; ++k) {
      near_list[n_near] = static_cast<std::uint16_t>(k);
      n_near += near_wall[k];
    }
    // Plane lists are read in molecule order, which jumps around the grid: prefetch
    // them a few molecules ahead.
    constexpr std::size_t kAhead = 4;
    for (std::size_t j = 0; j < std::min(kAhead, n_near); ++j) {
      const std::size_t i = b + near_list[j];
      grid.prefetch_wall_planes({x[i], y[i], z[i]});
    }
    for (std::size_t j = 0; j < n_near; ++j) {
      if (j + kAhead < n_near) {
        const std::size_t ahead = b + near_list[j + kAhead];
        grid.prefetch_wall_planes({x[ahead], y[ahead], z[ahead]});
      }
      const std::size_t k = near_list[j];
      const std::size_t i = b + k;
      const Vec3 d{dx[k], dy[k], dz[k]};
      if (d.x == 0 && d.y == 0 && d.z == 0) continue;  // immobile species
      Vec3 p{x[i], y[i], z[i]};
      // Near a wall, most steps still cross no wall plane: then the wall walk below
      // would find no triangle, and (inside the world box) end at p + d too.
      const Vec3 q = p + d;
      if (box.contains(p) && box.contains(q) && grid.segment_misses_wall_planes(p, q)) {
        x[i] = q.x;
        y[i] = q.y;
        z[i] = q.z;
        continue;
      }
      std::uint16_t comp = m.compartment[i];
      outcome[i] = move_volume(ctx, i, m.species[i], m.id[i], p, comp, d, tally, scratch, w.step_count);
      x[i] = p.x;
      y[i] = p.y;
      z[i] = p.z;
      m.compartment[i] = comp;
    }
  }
}

void step_membrane_range(const DiffusionContext& ctx, World& w, std::size_t begin, std::size_t end) {
  MembraneMolecules& m = w.membrane;
  const Geometry& g = ctx.model->geometry;
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(ctx.seed),
                                         static_cast<std::uint32_t>(ctx.seed >> 32)};
  const auto step_lo = static_cast<std::uint32_t>(w.step_count);
  const std::uint32_t step_hi_purpose = static_cast<std::uint32_t>((w.step_count >> 32) & 0xFFFFu) |
                                        (static_cast<std::uint32_t>(Purpose::kDiffusion) << 16);
  constexpr std::size_t kBlock = 256;
  std::uint32_t word0[kBlock], word1[kBlock];
  for (std::size_t b = begin; b < end; b += kBlock) {
    const std::size_t n = std::min(kBlock, end - b);
    // The counter-based draws of a block at once (integer arithmetic: vectorises and
    // gives the same words as CounterRng({seed, id, step, kDiffusion}).next_block()).
    // The normals stay scalar: a vector log/sin/cos would round differently.
    const std::uint32_t* ids = m.id.data() + b;
    for (std::size_t k = 0; k < n; ++k) {
      const auto words = philox4x32({0u, ids[k], step_lo, step_hi_purpose}, key);
      word0[k] = words[0];
      word1[k] = words[1];
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = b + k;
      const int s = m.species[i];
      const double sigma = ctx.sigma_um[s];
      if (sigma == 0) continue;
      double n0, n1;
      box_muller(word0[k], word1[k], n0, n1);
      SurfacePoint sp = m.point(i);
      const auto& frame = ctx.topology->frame(sp.triangle);
      walk_on_surface(g, *ctx.topology, sp, frame[0] * (sigma * n0) + frame[1] * (sigma * n1),
                      ctx.model->species[s].confine_region);
      m.triangle[i] = sp.triangle;
      m.u[i] = sp.u;
      m.v[i] = sp.v;
    }
  }
}

}  // namespace spinesim
