// The mutable state of a run: molecules as structures of arrays (cache-friendly,
// vectorisable), plus cumulative surface counters and agent observables.
// 41 bytes per volume molecule.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/vec3.h"
#include "geometry/surface_walk.h"

namespace spinesim {

inline constexpr double kNever = std::numeric_limits<double>::infinity();

/// Volume molecules. Index order is creation order; removal compacts stably, so
/// the order (and hence every output) is independent of thread count.
struct VolumeMolecules {
  std::vector<double> x, y, z;  ///< µm
  std::vector<std::uint16_t> species;
  std::vector<std::uint16_t> compartment;
  std::vector<std::uint32_t> id;  ///< unique, keys the random stream
  /// Exact time (s) of the molecule's next unimolecular reaction; kNever when its
  /// species has none (next-reaction method: one putative time per molecule).
  std::vector<double> reaction_time;
  std::size_t size() const { return x.size(); }
  void push(const Vec3& p, std::uint16_t s, std::uint16_t c, std::uint32_t i, double t_react = kNever) {
    x.push_back(p.x);
    y.push_back(p.y);
    z.push_back(p.z);
    species.push_back(s);
    compartment.push_back(c);
    id.push_back(i);
    reaction_time.push_back(t_react);
  }
  Vec3 position(std::size_t i) const { return {x[i], y[i], z[i]}; }
  /// Keeps molecules with keep[i] != 0, in order.
  template <class Keep>
  void compact(Keep&& keep) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < size(); ++i) {
      if (!keep(i)) continue;
      if (out != i) {
        x[out] = x[i];
        y[out] = y[i];
        z[out] = z[i];
        species[out] = species[i];
        compartment[out] = compartment[i];
        id[out] = id[i];
        reaction_time[out] = reaction_time[i];
      }
      ++out;
    }
    x.resize(out);
    y.resize(out);
    z.resize(out);
    species.resize(out);
    compartment.resize(out);
    id.resize(out);
    reaction_time.resize(out);
  }
};

/// Membrane molecules: a triangle and barycentric coordinates. Agents (molecules
/// with a kinetic scheme) also carry a state and their pending event. Only membrane
/// reactions remove membrane molecules; the scheduler then re-points the pending
/// events of agents that moved in the arrays.
struct MembraneMolecules {
  std::vector<std::uint32_t> triangle;
  std::vector<double> u, v;
  std::vector<std::uint16_t> species;
  std::vector<std::uint32_t> id;
  std::vector<std::uint16_t> state;   ///< agent state; 0 for plain molecules
  std::vector<std::uint32_t> event;   ///< pending event handle of an agent, or kNoEvent
  std::vector<std::uint32_t> draws;   ///< random draws used so far (keys the agent's event stream)
  std::vector<double> reaction_time;  ///< next unimolecular reaction of a plain molecule; kNever if none
  /// Agents whose ligand has a background (Model::backgrounds): ligands of that
  /// species held now that came from the background and from particles. An unbinding
  /// step gives a particle back only for the latter.
  std::vector<std::uint8_t> ambient_bound, particle_bound;
  std::size_t size() const { return triangle.size(); }
  void push(const SurfacePoint& p, std::uint16_t s, std::uint32_t i, std::uint16_t st = 0, double t_react = kNever) {
    reaction_time.push_back(t_react);
    triangle.push_back(p.triangle);
    u.push_back(p.u);
    v.push_back(p.v);
    species.push_back(s);
    id.push_back(i);
    state.push_back(st);
    event.push_back(std::numeric_limits<std::uint32_t>::max());
    draws.push_back(0);
    ambient_bound.push_back(0);
    particle_bound.push_back(0);
  }
  SurfacePoint point(std::size_t i) const { return {triangle[i], u[i], v[i]}; }
};

/// Memory per molecule in World's arrays and the spatial grid, as `spinesim bench
/// diffusion` measures it (bytes_per_molecule): the figure for budgets and estimates.
inline constexpr double kBytesPerMoleculeInMemory = 41;

struct World {
  VolumeMolecules volume;
  MembraneMolecules membrane;
  std::uint32_t next_id = 0;
  std::uint64_t step_count = 0;  ///< Brownian steps taken so far (keys diffusion streams)
  /// Cumulative per (region r, species s): molecules absorbed, index r·S + s; and
  /// transmitted, index (r·S + s)·2 + d with d = 0 from the front (normal) side to
  /// the back, d = 1 from back to front.
  std::vector<std::uint64_t> absorbed, crossed;
  /// Cumulative per species: Ca2+ ions that entered through its agents' conducting
  /// states (integrated exactly between state changes), and charge in pC.
  std::vector<double> ca_ions, charge_pC;
  /// Cumulative per agent species: ligands its agents bound from a background.
  std::vector<std::uint64_t> ambient_bindings;
  std::size_t molecule_count() const { return volume.size() + membrane.size(); }
};

}  // namespace spinesim
