// Reactions of volume molecules. Unimolecular reactions use one putative reaction
// time per molecule, drawn from its own stream when it is made (the next-reaction
// method of Gibson & Bruck 2000 with constant rates: a molecule's time never needs
// redrawing because nothing changes its rate). While molecules diffuse, reactions
// whose time has come are applied at the next step boundary; when nothing moves the
// clock stops exactly at them. Bimolecular reactions follow Andrews & Bray (2004):
// after each step, pairs closer than the binding radius calibrated for this dt
// react; a molecule reacts at most once per step, pairs are taken in molecule order
// (nearest partner first), so the outcome never depends on threads.
#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "engine/simulator.h"
#include "geometry/intersect.h"

namespace spinesim {

/// Scratch of the pair search, kept between steps so they allocate nothing.
struct Simulator::PairSearchBuffers {
  struct Packed {
    Vec3 p;
    std::uint32_t index;
    std::uint16_t species, compartment;
  };
  struct Candidate {
    std::uint32_t i, j;
    double d2;
    int reaction;
  };
  std::vector<Packed> packed;
  std::vector<std::vector<Candidate>> found;
};

Simulator::~Simulator() = default;

void Simulator::init_reactions() {
  unimolecular_total_.assign(model_.species.size(), 0);
  for (std::size_t r = 0; r < model_.reactions.size(); ++r) {
    const ReactionDef& rx = model_.reactions[r];
    if (rx.reactants.size() == 1) {
      unimolecular_total_[static_cast<std::size_t>(rx.reactants[0])] += rx.rate_per_s;
      has_unimolecular_ = true;
    } else {
      bimolecular_.push_back(static_cast<int>(r));
    }
  }
}

double Simulator::draw_reaction_time(std::uint32_t id, int species, double t) const {
  if (unimolecular_total_.empty()) return kNever;
  const double total = unimolecular_total_[static_cast<std::size_t>(species)];
  if (total <= 0) return kNever;
  CounterRng rng({model_.seed, id, 0, Purpose::kLifetime});
  return t - std::log(uniform_open0(rng())) / total;
}

double Simulator::next_unimolecular_time() const {
  double next = kNever;
  for (double t : world_.volume.reaction_time) next = std::min(next, t);
  return next;
}

bool Simulator::place_product(const Vec3& from, Vec3 to, int compartment, Vec3& out) const {
  // A product may not be put behind a wall: if the short hop from a reactant to the
  // product's place crosses a triangle, the product stays at the reactant.
  WallHit hit;
  if (first_wall_hit(*grid_, from, to - from, static_cast<TriangleIndex>(-1), hit)) to = from;
  out = to;
  return compartment >= 0;
}

namespace {
/// Uniform random unit vector from two uniforms.
Vec3 random_direction(double u1, double u2) {
  const double z = 2 * u1 - 1, r = std::sqrt(std::max(0.0, 1 - z * z)), phi = 2 * kPi * u2;
  return {r * std::cos(phi), r * std::sin(phi), z};
}
}  // namespace

void Simulator::fire_unimolecular(double t) {
  VolumeMolecules& v = world_.volume;
  std::vector<std::uint8_t> keep(v.size(), 1);
  const std::size_t n = v.size();  // products appended below are not reconsidered now
  bool removed = false;
  for (std::size_t i = 0; i < n; ++i) {
    const double when = v.reaction_time[i];
    if (when > t) continue;
    const int s = v.species[i];
    CounterRng rng({model_.seed, v.id[i], 1, Purpose::kLifetime});
    const double u = uniform_open0(rng()) * unimolecular_total_[static_cast<std::size_t>(s)];
    const ReactionDef* chosen = choose_unimolecular(model_.reactions, s, u);
    ++stats_.reactions;
    const Vec3 p = v.position(i);
    const int c = v.compartment[i];
    if (chosen->products.empty()) {
      keep[i] = 0;
      removed = true;
      continue;
    }
    // The first product takes the reactant's place (with a new identity); a second
    // one is put at the unbinding radius in a random direction, the pair's offsets
    // weighted by diffusion coefficients so their centre stays where the reactant was.
    const int p0 = chosen->products[0];
    Vec3 x0 = p, x1 = p;
    if (chosen->products.size() == 2 && chosen->unbinding_radius_um > 0) {
      const double d0 = model_.species[static_cast<std::size_t>(p0)].diffusion_um2_per_s;
      const double d1 = model_.species[static_cast<std::size_t>(chosen->products[1])].diffusion_um2_per_s;
      const double w0 = d0 + d1 > 0 ? d0 / (d0 + d1) : 0.5;
      const Vec3 dir = random_direction(uniform_open0(rng()), uniform_open0(rng()));
      place_product(p, p - dir * (w0 * chosen->unbinding_radius_um), c, x0);
      place_product(p, p + dir * ((1 - w0) * chosen->unbinding_radius_um), c, x1);
    }
    const std::uint32_t id0 = new_molecule_id(false);
    v.x[i] = x0.x;
    v.y[i] = x0.y;
    v.z[i] = x0.z;
    v.species[i] = static_cast<std::uint16_t>(p0);
    v.id[i] = id0;
    v.reaction_time[i] = draw_reaction_time(id0, p0, when);
    if (chosen->products.size() == 2) {
      const std::uint32_t id1 = new_molecule_id();
      v.push(x1, static_cast<std::uint16_t>(chosen->products[1]), static_cast<std::uint16_t>(c), id1,
             draw_reaction_time(id1, chosen->products[1], when));
      keep.push_back(1);
    }
  }
  if (removed) v.compact([&](std::size_t i) { return keep[i] != 0; });
}

void Simulator::fire_bimolecular(double t) {
  VolumeMolecules& v = world_.volume;
  const std::size_t n = v.size();
  if (n == 0) return;
  const std::size_t n_species = model_.species.size();
  // Which reaction (if any) a species pair undergoes, and the largest binding radius.
  std::vector<int> pair_reaction(n_species * n_species, -1);
  std::vector<std::uint8_t> reactive(n_species, 0);
  double sigma_max = 0;
  for (int r : bimolecular_) {
    const ReactionDef& rx = model_.reactions[static_cast<std::size_t>(r)];
    const auto a = static_cast<std::size_t>(rx.reactants[0]), b = static_cast<std::size_t>(rx.reactants[1]);
    pair_reaction[a * n_species + b] = pair_reaction[b * n_species + a] = r;
    reactive[a] = reactive[b] = 1;
    sigma_max = std::max(sigma_max, rx.binding_radius_um);
  }
  // Bucket the reactive molecules in cubes of about one mean spacing (never smaller
  // than the largest binding radius): a molecule farther than σ from its cube's faces
  // — nearly all of them when σ ≪ spacing — needs to look only in its own cube.
  std::size_t n_reactive = 0;
  for (std::size_t i = 0; i < n; ++i) n_reactive += reactive[v.species[i]];
  if (n_reactive < 2) return;
  const Box3& box = grid_->world();
  const Vec3 size = box.size();
  double cube = std::max(sigma_max, std::cbrt(size.x * size.y * size.z / static_cast<double>(n_reactive)));
  while ((size.x / cube + 1) * (size.y / cube + 1) * (size.z / cube + 1) > 4e6) cube *= 1.25;
  const int nx = static_cast<int>(size.x / cube) + 1, ny = static_cast<int>(size.y / cube) + 1,
            nz = static_cast<int>(size.z / cube) + 1;
  const std::size_t cells = static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny) * static_cast<std::size_t>(nz);
  const double inv_cube = 1.0 / cube;
  auto axis = [&](double x, double lo, int nmax) {
    return std::clamp(static_cast<int>((x - lo) * inv_cube), 0, nmax - 1);
  };
  bimolecular_start_.assign(cells + 1, 0);
  bimolecular_cell_.resize(n);
  // Cube of every reactive molecule (in parallel blocks), then a serial count.
  constexpr std::size_t kMoleculesPerBlock = 8192;
  stepper_->for_each_block((n + kMoleculesPerBlock - 1) / kMoleculesPerBlock, [&](std::size_t block) {
    for (std::size_t i = block * kMoleculesPerBlock; i < std::min(n, (block + 1) * kMoleculesPerBlock); ++i) {
      if (!reactive[v.species[i]]) continue;
      bimolecular_cell_[i] = static_cast<std::uint32_t>(
          static_cast<std::size_t>(axis(v.x[i], box.lo.x, nx)) +
          static_cast<std::size_t>(nx) *
              (static_cast<std::size_t>(axis(v.y[i], box.lo.y, ny)) +
               static_cast<std::size_t>(ny) * static_cast<std::size_t>(axis(v.z[i], box.lo.z, nz))));
    }
  });
  for (std::size_t i = 0; i < n; ++i)
    if (reactive[v.species[i]]) ++bimolecular_start_[bimolecular_cell_[i] + 1];
  for (std::size_t c = 0; c < cells; ++c) bimolecular_start_[c + 1] += bimolecular_start_[c];
  // Copy the reactive molecules in cube order so the scans below read memory in order.
  if (!pair_buffers_) pair_buffers_ = std::make_shared<PairSearchBuffers>();
  using Packed = PairSearchBuffers::Packed;
  using Candidate = PairSearchBuffers::Candidate;
  std::vector<Packed>& packed = pair_buffers_->packed;
  packed.resize(n_reactive);
  {
    std::vector<std::uint32_t>& cursor = bimolecular_members_;
    cursor.assign(bimolecular_start_.begin(), bimolecular_start_.end() - 1);
    for (std::size_t i = 0; i < n; ++i)
      if (reactive[v.species[i]])
        packed[cursor[bimolecular_cell_[i]]++] = {v.position(i), static_cast<std::uint32_t>(i), v.species[i],
                                                  v.compartment[i]};
  }
  // Candidate pairs within their binding radius, each recorded from both ends.
  // Cubes are searched in blocks (in parallel with the oneTBB stepper); each block
  // keeps its own list, and the lists are sorted together below.
  constexpr std::size_t kCubesPerBlock = 2048;
  const std::size_t blocks = (cells + kCubesPerBlock - 1) / kCubesPerBlock;
  std::vector<std::vector<Candidate>>& found = pair_buffers_->found;
  found.resize(blocks);
  for (auto& list : found) list.clear();
  stepper_->for_each_block(blocks, [&](std::size_t block) {
    std::vector<Candidate>& candidates = found[block];
    for (std::size_t cell = block * kCubesPerBlock; cell < std::min(cells, (block + 1) * kCubesPerBlock); ++cell) {
      if (bimolecular_start_[cell] == bimolecular_start_[cell + 1]) continue;
      const int c[3] = {static_cast<int>(cell % static_cast<std::size_t>(nx)),
                        static_cast<int>((cell / static_cast<std::size_t>(nx)) % static_cast<std::size_t>(ny)),
                        static_cast<int>(cell / (static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny)))};
      const int nmax[3] = {nx, ny, nz};
      for (std::uint32_t k = bimolecular_start_[cell]; k < bimolecular_start_[cell + 1]; ++k) {
        const Packed& me = packed[k];
        // Neighbour cubes only on the sides where the σ-ball pokes out of this cube.
        int lo[3], hi[3];
        for (int a = 0; a < 3; ++a) {
          const double offset = me.p[a] - (box.lo[a] + c[a] * cube);
          lo[a] = (offset < sigma_max && c[a] > 0) ? -1 : 0;
          hi[a] = (cube - offset < sigma_max && c[a] + 1 < nmax[a]) ? 1 : 0;
        }
        for (int dz = lo[2]; dz <= hi[2]; ++dz)
          for (int dy = lo[1]; dy <= hi[1]; ++dy)
            for (int dx = lo[0]; dx <= hi[0]; ++dx) {
              const std::size_t other =
                  static_cast<std::size_t>(c[0] + dx) +
                  static_cast<std::size_t>(nx) * (static_cast<std::size_t>(c[1] + dy) +
                                                  static_cast<std::size_t>(ny) * static_cast<std::size_t>(c[2] + dz));
              for (std::uint32_t q = bimolecular_start_[other]; q < bimolecular_start_[other + 1]; ++q) {
                const Packed& them = packed[q];
                if (q == k || them.compartment != me.compartment) continue;
                const int r = pair_reaction[static_cast<std::size_t>(me.species) * n_species + them.species];
                if (r < 0) continue;
                const double sigma = model_.reactions[static_cast<std::size_t>(r)].binding_radius_um;
                const double d2 = norm2(them.p - me.p);
                if (d2 < sigma * sigma) candidates.push_back({me.index, them.index, d2, r});
              }
            }
      }
    }
  });
  std::vector<Candidate> candidates;
  for (const auto& list : found) candidates.insert(candidates.end(), list.begin(), list.end());
  if (candidates.empty()) return;
  // Each molecule, in index order, takes its nearest partner still free (ties by index).
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.i != b.i ? a.i < b.i : (a.d2 != b.d2 ? a.d2 < b.d2 : a.j < b.j);
  });
  std::vector<std::uint8_t> used(n, 0);
  struct Pair {
    std::uint32_t a, b;
    int reaction;
  };
  std::vector<Pair> pairs;
  for (const Candidate& cand : candidates) {
    if (used[cand.i] || used[cand.j]) continue;
    used[cand.i] = used[cand.j] = 1;
    pairs.push_back({cand.i, cand.j, cand.reaction});
  }
  if (pairs.empty()) return;
  std::vector<std::uint8_t> keep(n, 1);
  for (const Pair& pr : pairs) {
    const ReactionDef& rx = model_.reactions[static_cast<std::size_t>(pr.reaction)];
    ++stats_.reactions;
    const Vec3 xa = v.position(pr.a), xb = v.position(pr.b);
    const double da = model_.species[v.species[pr.a]].diffusion_um2_per_s;
    const double db = model_.species[v.species[pr.b]].diffusion_um2_per_s;
    // The product appears at the diffusion-weighted centre of the pair.
    const Vec3 centre = da + db > 0 ? (xa * db + xb * da) / (da + db) : (xa + xb) * 0.5;
    keep[pr.b] = 0;
    if (rx.products.empty()) {
      keep[pr.a] = 0;
      continue;
    }
    Vec3 x0;
    place_product(xa, centre, v.compartment[pr.a], x0);
    const std::uint32_t id0 = new_molecule_id(false);
    v.x[pr.a] = x0.x;
    v.y[pr.a] = x0.y;
    v.z[pr.a] = x0.z;
    v.species[pr.a] = static_cast<std::uint16_t>(rx.products[0]);
    v.id[pr.a] = id0;
    v.reaction_time[pr.a] = draw_reaction_time(id0, rx.products[0], t);
    if (rx.products.size() == 2) {
      const std::uint32_t id1 = new_molecule_id();
      v.push(x0, static_cast<std::uint16_t>(rx.products[1]), v.compartment[pr.a], id1,
             draw_reaction_time(id1, rx.products[1], t));
      keep.push_back(1);
    }
  }
  v.compact([&](std::size_t i) { return keep[i] != 0; });
}

void Simulator::produce(std::size_t index, double t) {
  const ProductionDef& pd = model_.productions[index];
  const std::uint64_t k = production_count_[index];
  CounterRng rng({model_.seed, static_cast<std::uint32_t>(index), k, Purpose::kProduction});
  if (pd.compartment >= 0) {
    const Vec3 p = sample_in_compartment(pd.compartment, compartment_bounds(pd.compartment), rng);
    const std::uint32_t id = new_molecule_id();
    world_.volume.push(p, static_cast<std::uint16_t>(pd.species), static_cast<std::uint16_t>(pd.compartment), id,
                       draw_reaction_time(id, pd.species, t));
    if (ctx_->sigma_um[static_cast<std::size_t>(pd.species)] > 0) diffusing_ = true;
  } else {
    add_membrane_on_region(pd.species, 1, pd.region, 0, rng);
    agent_bound_.resize(world_.membrane.size(), 0);
    agent_window_.resize(world_.membrane.size(), kNever);
    const auto a = static_cast<std::uint32_t>(world_.membrane.size() - 1);
    if (model_.species[static_cast<std::size_t>(pd.species)].agent_type >= 0) schedule_agent(a, t);
    if (ctx_->sigma_um[static_cast<std::size_t>(pd.species)] > 0) diffusing_ = true;
  }
  production_count_[index] += 1;
  // Interval n + 1 uses stream step 2^40 + n + 1; step 2^40 drew the first one in run().
  CounterRng next(
      {model_.seed, static_cast<std::uint32_t>(index), k + 1 + (std::uint64_t{1} << 40), Purpose::kProduction});
  const double when = t - std::log(uniform_open0(next())) / pd.rate_per_s;
  if (when <= model_.t_end_s) queue_.push(when, {kProduction, index});
}

}  // namespace spinesim
