// Reactions among plain membrane molecules (not agents): unimolecular at exact
// putative times per molecule, as in the volume, and bimolecular A + B → … in 2D
// with binding radii calibrated for the step (src/model/reaction_radii_2d.h).
// Pairs are searched in 3D between molecules on the same surface: for binding
// radii of nanometres the chord and the geodesic distance agree. Products take the
// place of the first reactant; a second product of a dissociation is walked away
// on the membrane by the unbinding radius in a random direction.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/random.h"
#include "engine/simulator.h"

namespace spinesim {

void Simulator::init_membrane_reactions() {
  membrane_unimolecular_total_.assign(model_.species.size(), 0);
  for (const ReactionDef& rx : model_.membrane_reactions) {
    has_membrane_reactions_ = true;
    if (rx.reactants.size() == 1)
      membrane_unimolecular_total_[static_cast<std::size_t>(rx.reactants[0])] += rx.rate_per_s;
  }
}

double Simulator::draw_membrane_reaction_time(std::uint32_t id, int species, double t) const {
  if (membrane_unimolecular_total_.empty()) return kNever;
  const double total = membrane_unimolecular_total_[static_cast<std::size_t>(species)];
  if (total <= 0) return kNever;
  CounterRng rng({model_.seed, id, 0, Purpose::kLifetime});
  return t - std::log(uniform_open0(rng())) / total;
}

double Simulator::next_membrane_reaction_time() const {
  double next = kNever;
  for (double t : world_.membrane.reaction_time) next = std::min(next, t);
  return next;
}

void Simulator::compact_membrane(const std::vector<std::uint8_t>& keep) {
  MembraneMolecules& m = world_.membrane;
  std::size_t out = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (!keep[i]) {
      if (m.event[i] != kNoEvent && queue_.pending(m.event[i])) queue_.cancel(m.event[i]);
      continue;
    }
    if (out != i) {
      m.triangle[out] = m.triangle[i];
      m.u[out] = m.u[i];
      m.v[out] = m.v[i];
      m.species[out] = m.species[i];
      m.id[out] = m.id[i];
      m.state[out] = m.state[i];
      m.event[out] = m.event[i];
      m.draws[out] = m.draws[i];
      m.reaction_time[out] = m.reaction_time[i];
      m.ambient_bound[out] = m.ambient_bound[i];
      m.particle_bound[out] = m.particle_bound[i];
      agent_bound_[out] = agent_bound_[i];
      agent_window_[out] = agent_window_[i];
      if (m.event[out] != kNoEvent && queue_.pending(m.event[out])) queue_.set_target(m.event[out], out);
    }
    ++out;
  }
  m.triangle.resize(out);
  m.u.resize(out);
  m.v.resize(out);
  m.species.resize(out);
  m.id.resize(out);
  m.state.resize(out);
  m.event.resize(out);
  m.draws.resize(out);
  m.reaction_time.resize(out);
  m.ambient_bound.resize(out);
  m.particle_bound.resize(out);
  agent_bound_.resize(out);
  agent_window_.resize(out);
}

namespace {
// The surface point reached from `sp` by walking `distance` µm on the membrane in
// a random direction of the triangle's plane.
SurfacePoint walk_random(const Geometry& g, const SurfaceTopology& topo, SurfacePoint sp, double distance, double u,
                         int confine) {
  const auto& f = topo.frame(sp.triangle);
  const double phi = 2 * kPi * u;
  walk_on_surface(g, topo, sp, (f[0] * std::cos(phi) + f[1] * std::sin(phi)) * distance, confine);
  return sp;
}
}  // namespace

void Simulator::fire_membrane_reactions(double t) {
  const Geometry& g = model_.geometry;
  MembraneMolecules& m = world_.membrane;
  const std::size_t n = m.size();
  std::vector<std::uint8_t> keep(n, 1);
  bool removed = false;
  auto add_product = [&](const SurfacePoint& at, int species, double when) {
    const std::uint32_t id = new_molecule_id();
    m.push(at, static_cast<std::uint16_t>(species), id, 0, draw_membrane_reaction_time(id, species, when));
    keep.push_back(1);
    agent_bound_.push_back(0);
    agent_window_.push_back(kNever);
  };
  auto become = [&](std::size_t i, int species, double when) {
    const std::uint32_t id = new_molecule_id(false);
    m.species[i] = static_cast<std::uint16_t>(species);
    m.id[i] = id;
    m.reaction_time[i] = draw_membrane_reaction_time(id, species, when);
  };
  // Unimolecular reactions whose time has come.
  for (std::size_t i = 0; i < n; ++i) {
    const double when = m.reaction_time[i];
    if (when > t) continue;
    const int s = m.species[i];
    CounterRng rng({model_.seed, m.id[i], 1, Purpose::kLifetime});
    const double u = uniform_open0(rng()) * membrane_unimolecular_total_[static_cast<std::size_t>(s)];
    const ReactionDef* chosen = choose_unimolecular(model_.membrane_reactions, s, u);
    ++stats_.reactions;
    if (chosen->products.empty()) {
      keep[i] = 0;
      removed = true;
      continue;
    }
    const SurfacePoint here = m.point(i);
    become(i, chosen->products[0], when);
    if (chosen->products.size() == 2) {
      const int p1 = chosen->products[1];
      const SurfacePoint there = walk_random(g, *topology_, here, chosen->unbinding_radius_um, uniform_open0(rng()),
                                             model_.species[static_cast<std::size_t>(p1)].confine_region);
      add_product(there, p1, when);
    }
  }
  // Bimolecular: pairs closer than the binding radius after this step.
  double sigma_max = 0;
  for (const ReactionDef& rx : model_.membrane_reactions)
    if (rx.reactants.size() == 2) sigma_max = std::max(sigma_max, rx.binding_radius_um);
  if (sigma_max > 0) {
    const std::size_t n_species = model_.species.size();
    std::vector<int> pair_reaction(n_species * n_species, -1);
    for (std::size_t r = 0; r < model_.membrane_reactions.size(); ++r) {
      const ReactionDef& rx = model_.membrane_reactions[r];
      if (rx.reactants.size() != 2) continue;
      const auto a = static_cast<std::size_t>(rx.reactants[0]), b = static_cast<std::size_t>(rx.reactants[1]);
      pair_reaction[a * n_species + b] = pair_reaction[b * n_species + a] = static_cast<int>(r);
    }
    // Hash the reactive molecules into cubes of side sigma_max.
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> cells;
    std::vector<Vec3> pos(m.size());
    auto key_of = [&](const Vec3& p, int dx, int dy, int dz) {
      const auto ix = static_cast<std::int64_t>(std::floor(p.x / sigma_max)) + dx;
      const auto iy = static_cast<std::int64_t>(std::floor(p.y / sigma_max)) + dy;
      const auto iz = static_cast<std::int64_t>(std::floor(p.z / sigma_max)) + dz;
      return (static_cast<std::uint64_t>(ix & 0x1FFFFF) << 42) | (static_cast<std::uint64_t>(iy & 0x1FFFFF) << 21) |
             static_cast<std::uint64_t>(iz & 0x1FFFFF);
    };
    std::vector<std::uint8_t> reactive(n_species, 0);
    for (const ReactionDef& rx : model_.membrane_reactions)
      if (rx.reactants.size() == 2)
        reactive[static_cast<std::size_t>(rx.reactants[0])] = reactive[static_cast<std::size_t>(rx.reactants[1])] = 1;
    for (std::size_t i = 0; i < n; ++i) {
      if (!keep[i] || !reactive[m.species[i]]) continue;
      pos[i] = surface_point_position(g, m.point(i));
      cells[key_of(pos[i], 0, 0, 0)].push_back(static_cast<std::uint32_t>(i));
    }
    std::vector<std::uint8_t> used(m.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!keep[i] || used[i] || !reactive[m.species[i]]) continue;
      double best_d2 = kNever;
      std::uint32_t best = 0;
      int best_r = -1;
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const auto it = cells.find(key_of(pos[i], dx, dy, dz));
            if (it == cells.end()) continue;
            for (std::uint32_t j : it->second) {
              if (j == i || used[j] || !keep[j]) continue;
              if (g.triangle_surface[m.triangle[j]] != g.triangle_surface[m.triangle[i]]) continue;
              const int r = pair_reaction[static_cast<std::size_t>(m.species[i]) * n_species + m.species[j]];
              if (r < 0) continue;
              const double sigma = model_.membrane_reactions[static_cast<std::size_t>(r)].binding_radius_um;
              const double d2 = norm2(pos[j] - pos[i]);
              if (d2 < sigma * sigma && (d2 < best_d2 || (d2 == best_d2 && j < best))) {
                best_d2 = d2;
                best = j;
                best_r = r;
              }
            }
          }
      if (best_r < 0) continue;
      used[i] = used[best] = 1;
      const ReactionDef& rx = model_.membrane_reactions[static_cast<std::size_t>(best_r)];
      ++stats_.reactions;
      keep[best] = 0;
      removed = true;
      if (rx.products.empty()) {
        keep[i] = 0;
        continue;
      }
      const SurfacePoint here = m.point(i);
      become(i, rx.products[0], t);
      if (rx.products.size() == 2) add_product(here, rx.products[1], t);
    }
  }
  if (removed) compact_membrane(keep);
}

}  // namespace spinesim
