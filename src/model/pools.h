// Well-mixed compartments: species counted per pool (no positions) and mass-action
// reactions among them, simulated by an exact SSA that shares the particle world's
// clock. Couplings to the particle world: Ca2+ flux of agents into a pool species,
// agents entering a given state leave the membrane into a pool species, and pool
// species that become membrane agents as soon as they are made.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/units.h"

namespace spinesim {

struct PoolDef {
  std::string name;
  double volume_um3 = 0;
  double molecules_per_uM() const { return kMoleculesPerUMPerUm3 * volume_um3; }
};

struct PoolSpeciesDef {
  std::string name;
  int pool = 0;
  std::uint64_t initial_count = 0;
  /// ≥ 0: every molecule made becomes an agent of this membrane species on
  /// `insert_region` in `insert_state`, so its count in the pool stays 0.
  int insert_species = -1;
  int insert_region = -1;
  int insert_state = 0;
};

struct PoolReactionDef {
  std::string name;
  std::vector<int> reactants;  ///< pool species, repeated for stoichiometry 2; at most 2
  std::vector<int> products;   ///< pool species, repeated for stoichiometry > 1
  /// Mass-action constant: µM/s (no reactant), 1/s (one), 1/(µM·s) (two). For A + A
  /// the propensity is k·n(n−1)/Ω, i.e. d[A]/dt = −2k[A]².
  double rate = 0;
  int volume_pool = 0;            ///< pool whose volume turns counts into µM (Ω)
  int modulator_clamp = -1;       ///< ≥ 0: the rate is multiplied by this clamp's value (µM) at each instant
  int influx_agent_species = -1;  ///< ≥ 0: no reactants; fires at rate × Ca2+ ions/s of this species' agents
};

/// Agents of `species` that enter `state` leave the membrane: one `pool_species` molecule each.
struct AgentToPoolDef {
  int species = 0;
  int state = 0;
  int pool_species = 0;
};

struct WellMixedModel {
  std::vector<PoolDef> pools;
  std::vector<PoolSpeciesDef> species;
  std::vector<PoolReactionDef> reactions;
  std::vector<AgentToPoolDef> agent_to_pool;
  bool empty() const { return species.empty(); }
  int find_species(const std::string& n) const {
    for (std::size_t i = 0; i < species.size(); ++i)
      if (species[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace spinesim
