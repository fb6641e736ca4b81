// Coupling of the well-mixed pools to the particle world. The pools keep one
// pending event in the queue; when it comes up, their SSA runs on until the next
// other event (or Brownian step boundary), so a quiet hour of pool chemistry costs
// no queue traffic. Couplings, each applied at the exact time it happens:
// * Ca2+ influx: agents' Ca2+ flux (ions/s of the conducting states at the current
//   potential) is the rate of an influx reaction, so ions enter the pool one by one
//   at the times of a Poisson process with exactly that rate. The rate changes only
//   at agent transitions and potential breakpoints, where the pools' candidate is
//   redrawn (memoryless, hence exact).
// * Agents that enter a state linked to a pool species (e.g. an endocytosed AMPAR)
//   leave the membrane and become one molecule of that species.
// * Pool species marked for insertion become membrane agents the moment a pool
//   reaction makes them (e.g. AMPAR exocytosis driven by active TrkB).
#include <chrono>

#include "core/random.h"
#include "engine/simulator.h"

namespace spinesim {

namespace {
/// Stream entity of agents inserted from the pools.
constexpr std::uint32_t kInsertionEntity = 0xFFFFFFFEu;
}  // namespace

void Simulator::init_well_mixed() {
  const WellMixedModel& wm = model_.well_mixed;
  if (wm.empty()) return;
  pools_ = std::make_unique<WellMixedSystem>(wm, model_.clamps, model_.seed);
  exit_pool_species_.assign(model_.species.size(), {});
  for (const AgentToPoolDef& e : wm.agent_to_pool) {
    auto& per_state = exit_pool_species_[static_cast<std::size_t>(e.species)];
    const AgentTypeDef& type =
        model_.agent_types[static_cast<std::size_t>(model_.species[static_cast<std::size_t>(e.species)].agent_type)];
    per_state.resize(type.states.size(), -1);
    per_state[static_cast<std::size_t>(e.state)] = e.pool_species;
  }
  for (std::size_t r = 0; r < wm.reactions.size(); ++r)
    if (wm.reactions[r].influx_agent_species >= 0)
      influx_.push_back({static_cast<int>(r), wm.reactions[r].influx_agent_species});
  pools_->start(time_s_);
  sync_influx(time_s_);
}

void Simulator::schedule_well_mixed() {
  if (!pools_) return;
  const double next = pools_->next_time();
  // Strictly before the end: advance_well_mixed() fires nothing at t_end itself, and
  // a pending time exactly at t_end (a thinning window that ends at a clamp step or
  // at t + 1 s) would be pushed back at t_end forever by the end-of-run loop.
  const bool due = next < model_.t_end_s;
  const bool pending = pool_event_ != kNoEvent && queue_.pending(pool_event_);
  if (pending && due) {
    if (queue_.time(pool_event_) != next) queue_.reschedule(pool_event_, next);
  } else if (pending) {
    queue_.cancel(pool_event_);
    pool_event_ = kNoEvent;
  } else if (due) {
    pool_event_ = queue_.push(next, {kWellMixed, 0});
  } else {
    pool_event_ = kNoEvent;
  }
}

void Simulator::sync_influx(double t) {
  if (!pools_ || influx_.empty()) return;
  bool changed = false;
  for (const auto& [r, sp] : influx_) {
    const double rate = ca_influx_now(sp, t);
    if (pools_->state().external[static_cast<std::size_t>(r)] != rate) {
      pools_->set_external(r, rate, t);
      changed = true;
    }
  }
  if (changed) schedule_well_mixed();
}

void Simulator::advance_well_mixed() {
  const auto wall_start = std::chrono::steady_clock::now();
  pool_event_ = kNoEvent;
  for (;;) {
    const double t = pools_->next_time();
    double limit = std::min(queue_.next_time(), model_.t_end_s);
    // While diffusing, the scheduler takes the next step once the earliest event is
    // at or after time_s_ + dt·(1 − 1e−9); the same expression here (not the step
    // boundary anchor + n·dt, which can differ from it by an ulp late in a run) so
    // that the pools always fire when the scheduler hands them the clock.
    if (diffusing_) limit = std::min(limit, time_s_ + model_.dt_s * (1 - 1e-9));
    // A paused run (Simulator::advance) leaves later reactions to the next advance: the
    // candidate goes back into the queue unchanged, so the run continues identically.
    if (!(t < limit) || t > pause_limit_) break;
    if (!diffusing_ && t > time_s_) time_s_ = t;
    if (pools_->fire() >= 0) {
      ++stats_.pool_reactions;
      for (int s : pools_->insertions()) insert_agent(s, t);
      check_pool_budget();
    }
    // Pool reactions can run on for a long time between other events (a quiet stretch
    // of a slow scene is millions of reactions): a signal or a passed budget leaves the
    // next candidate pending in the queue, where the run loop stops at a clean point.
    if (over_budget_ != Limit::kNone || (stop_flag_ && stop_flag_->load(std::memory_order_relaxed))) break;
    report_progress_if_due();
  }
  schedule_well_mixed();
  stats_.pool_wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
}

void Simulator::insert_agent(int pool_species, double t) {
  const PoolSpeciesDef& ps = model_.well_mixed.species[static_cast<std::size_t>(pool_species)];
  // Keyed by the new agent's id: a reaction that makes two agents places them apart.
  CounterRng rng({model_.seed, kInsertionEntity, world_.next_id, Purpose::kPlacement});
  const std::uint32_t a = static_cast<std::uint32_t>(world_.membrane.size());
  add_membrane_on_region(ps.insert_species, 1, ps.insert_region, ps.insert_state, rng);
  agent_bound_.push_back(0);
  agent_window_.push_back(kNever);
  // A new agent's conducting state (if any) adds to the currents from now on.
  recompute_flux_rates(t);
  schedule_agent(a, t);
  next_reaction_valid_ = false;
  if (!diffusing_ && ctx_->anything_diffuses(world_)) {
    diffusing_ = true;
    anchor_ = time_s_;
    steps_since_anchor_ = 0;
  }
  sync_influx(t);
}

bool Simulator::exit_to_pool(std::uint32_t a, double t) {
  if (!pools_) return false;
  const auto& per_state = exit_pool_species_[world_.membrane.species[a]];
  const std::uint16_t state = world_.membrane.state[a];
  if (state >= per_state.size() || per_state[state] < 0) return false;
  const int pool_species = per_state[state];
  std::vector<std::uint8_t> keep(world_.membrane.size(), 1);
  keep[a] = 0;
  compact_membrane(keep);
  recompute_flux_rates(t);
  next_reaction_valid_ = false;
  pools_->add(pool_species, 1, t);
  schedule_well_mixed();
  sync_influx(t);
  return true;
}

}  // namespace spinesim
