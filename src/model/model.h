// The validated, immutable description of a run, compiled from a scene file by
// src/io. The engine reads only this: it never sees protobuf, file names or
// receptor names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/vec3.h"
#include "geometry/geometry.h"
#include "model/environment.h"
#include "model/pools.h"

namespace spinesim {

/// What a molecule does when its path meets a triangle.
enum class SurfaceBehaviour : std::uint8_t { kReflect = 0, kAbsorb = 1, kTransmit = 2 };

struct SpeciesDef {
  std::string name;
  bool membrane = false;  ///< lives on a surface (2D) rather than in a compartment (3D)
  double diffusion_um2_per_s = 0;
  int confine_region = -1;  ///< membrane only: region whose borders reflect; -1 = free
  double display_radius_um = 0.006;
  int agent_type = -1;  ///< membrane only: index into Model::agent_types; -1 = plain molecule
  double capture_radius_um = 0.005;
  bool binds_from_back = false;  ///< agents: ligands reach it from the back side of its membrane
};

/// Where a transition's ligand comes from.
enum class LigandSource : std::uint8_t { kNone, kClamp, kParticle, kAbsent };

struct AgentTransitionDef {
  int from = 0, to = 0;
  double rate = 0;     ///< 1/s, or 1/(µM·s) when there is a ligand
  std::string ligand;  ///< "" = first order
  LigandSource ligand_source = LigandSource::kNone;
  int ligand_index = -1;      ///< clamp index (kClamp) or volume species index (kParticle)
  double voltage_per_mV = 0;  ///< k(V) = k(0)·exp(voltage_per_mV · V)
  int releases_species = -1;  ///< volume species given back on this transition; -1 none
};

struct AgentStateDef {
  std::string name;
  double conductance_pS = 0;
  double reversal_mV = 0;
  double ca_fraction = 0;
  bool internal = false;
};

/// A kinetic scheme compiled from an agents/*.pbtxt file.
struct AgentTypeDef {
  std::string name;
  std::vector<AgentStateDef> states;
  std::vector<AgentTransitionDef> transitions;
  /// Per state: indices of transitions leaving it.
  std::vector<std::vector<int>> out;
  int find_state(const std::string& n) const {
    for (std::size_t i = 0; i < states.size(); ++i)
      if (states[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

struct ClampDef {
  std::string species;
  TimeProfile profile;  ///< µM
};

/// An ambient concentration of a particle ligand in one compartment: agents whose
/// binding side faces `compartment` bind it at kon × profile(t), besides colliding
/// with the species' particles.
struct BackgroundDef {
  int species = -1;      ///< volume species
  int compartment = -1;  ///< compartment it fills
  TimeProfile profile;   ///< µM
};

/// A reaction among volume species.
struct ReactionDef {
  std::vector<int> reactants;  ///< 1 or 2 species
  std::vector<int> products;   ///< 0–2 species
  double rate_per_s = 0;       ///< unimolecular
  double kon_um3_per_s = 0;    ///< bimolecular macroscopic rate (µm²/s for membrane reactions)
  double binding_radius_um = 0;
  double koff_per_s = 0;  ///< reversible: dissociation of products[0]
  double unbinding_radius_um = 0;
};

/// The unimolecular reaction of `species` picked by u ∈ (0, Σ rates]: walks the
/// cumulative rates of its reactions in declaration order. Null if it has none.
inline const ReactionDef* choose_unimolecular(const std::vector<ReactionDef>& reactions, int species, double u) {
  const ReactionDef* chosen = nullptr;
  for (const ReactionDef& rx : reactions)
    if (rx.reactants.size() == 1 && rx.reactants[0] == species) {
      chosen = &rx;
      if (u <= rx.rate_per_s) break;
      u -= rx.rate_per_s;
    }
  return chosen;
}

struct ProductionDef {
  int species = 0;
  double rate_per_s = 0;
  int compartment = -1;  ///< volume species
  int region = -1;       ///< membrane species
};

struct PlacementDef {
  enum class Where { kCompartment, kPoint, kRegion };
  int species = 0;
  std::uint64_t count = 0;
  Where where = Where::kCompartment;
  int compartment = -1;  ///< kCompartment, and kPoint (the compartment containing the point)
  Vec3 point;            ///< kPoint
  int region = -1;       ///< kRegion
  int state = 0;         ///< agents: initial state
};

struct ReleaseDef {
  int species = 0;
  std::uint64_t count = 0;
  Vec3 at;
  int compartment = -1;         ///< compartment containing `at`
  std::vector<double> times_s;  ///< sorted; trains are expanded into these
  double poisson_rate_hz = 0;   ///< spontaneous releases in addition to times_s
};

struct Model {
  std::string name;
  Geometry geometry;
  std::vector<SpeciesDef> species;
  /// behaviour for (region r, species s) at [r * species.size() + s]
  std::vector<SurfaceBehaviour> surface_behaviour;
  std::vector<PlacementDef> placements;
  std::vector<ReleaseDef> releases;
  std::vector<AgentTypeDef> agent_types;
  std::vector<ClampDef> clamps;
  std::vector<BackgroundDef> backgrounds;  ///< at most one per (species, compartment)
  TimeProfile membrane_potential_mV = TimeProfile::constant_value(-70);
  double temperature_C = 22;
  std::vector<ReactionDef> reactions;           ///< among volume species
  std::vector<ReactionDef> membrane_reactions;  ///< among plain (non-agent) membrane species; kon in µm²/s
  std::vector<ProductionDef> productions;
  WellMixedModel well_mixed;

  double dt_s = 1e-6;
  double t_end_s = 1e-3;
  std::uint64_t seed = 1;
  double grid_cell_um = 0;  ///< 0 = choose automatically
  std::uint64_t max_molecules = 10'000'000;
  int outer_compartment = -1;   ///< the unbounded compartment, closed by the world box
  int world_box_region = -1;    ///< region id of the world box's faces (no triangles)
  double world_padding_um = 0;  ///< free space around the meshes; 0 = two grid cells

  double counts_interval_s = 1e-5;
  double frame_interval_s = 1e-4;
  std::vector<int> count_species;  ///< species with columns in counts.csv
  bool render_png = true;

  SurfaceBehaviour behaviour(RegionId region, int species_index) const {
    return surface_behaviour[static_cast<std::size_t>(region) * species.size() +
                             static_cast<std::size_t>(species_index)];
  }
  int find_clamp(const std::string& n) const {
    for (std::size_t i = 0; i < clamps.size(); ++i)
      if (clamps[i].species == n) return static_cast<int>(i);
    return -1;
  }
  int find_species(const std::string& n) const {
    for (std::size_t i = 0; i < species.size(); ++i)
      if (species[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace spinesim
