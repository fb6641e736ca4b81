// Everything a paused run needs to continue bit-exactly (see Simulator::save_state):
// the world, the event queue with its tie-breaking sequence numbers and handles,
// the scheduler's clock and step anchor, agent thinning bounds, flux integrators,
// random-stream counters and observer positions. The model is not part of it: a
// resumed run rebuilds the same Model from the resolved scene text.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/event_queue.h"
#include "engine/pool_ssa.h"
#include "engine/world.h"

namespace spinesim {

struct RunState {
  World world;
  EventQueue::State queue;
  double time_s = 0;
  bool diffusing = false;
  double anchor_s = 0;
  std::uint64_t steps_since_anchor = 0;
  std::vector<double> agent_bound, agent_window;
  double flux_time_s = 0;
  std::vector<double> ca_rate, current_pA;
  std::vector<std::uint64_t> poisson_count, production_count;
  bool next_reaction_valid = false;
  double next_volume_reaction = 0, next_membrane_reaction = 0;
  std::vector<std::uint64_t> observer_next_k;
  std::uint64_t checkpoint_k = 0;
  bool has_pools = false;
  WellMixedState pools;
  EventHandle pool_event = kNoEvent;
  // SchedulerStats, for run.json only.
  std::uint64_t steps = 0, events = 0, jumps = 0, molecule_steps = 0, agent_transitions = 0, captures = 0,
                reactions = 0, pool_reactions = 0;
};

}  // namespace spinesim
