// The exact SSA of the well-mixed pools (Gillespie's direct method over all pool
// reactions, one pending candidate at a time). The simulator keeps that candidate
// as one event in its queue, so pool reactions, agent transitions, releases and
// Brownian steps share one clock. Anything from outside (a changed Ca2+ influx, an
// agent that leaves the membrane into a pool) changes propensities at an exact
// time; the pending candidate is then redrawn, which is exact because exponential
// waiting times are memoryless. Rates that follow a clamped concentration are
// handled by thinning (Lewis & Shedler 1979): candidates at a bound of the total
// propensity over a window, each accepted with probability true/bound.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"
#include "model/well_mixed.h"

namespace spinesim {

/// The pools' complete mutable state, for checkpoints.
struct WellMixedState {
  std::vector<std::int64_t> counts;
  std::vector<double> external;  ///< per reaction: external rate (influx reactions), 1/s
  double time = 0;               ///< when the pending candidate was drawn
  double next = 0;               ///< its time
  double window = 0;             ///< end of the thinning window it was drawn for
  bool next_is_window = false;   ///< the pending time is a window end, not a candidate
  std::uint64_t draws = 0;
  std::uint64_t fired = 0;
};

class WellMixedSystem {
 public:
  WellMixedSystem(const WellMixedModel& model, const std::vector<ClampDef>& clamps, std::uint64_t seed);

  /// Sets the initial counts and draws the first candidate at time t.
  void start(double t);
  /// Time of the pending candidate or window end; +inf when nothing can happen.
  double next_time() const { return state_.next; }
  /// Handles the pending time: fires a reaction (returned) or, for a window end or
  /// a rejected candidate, returns −1. Draws the next candidate either way.
  int fire();
  /// Sets an influx reaction's rate (1/s) from time t on.
  void set_external(int reaction, double rate_per_s, double t);
  /// Adds molecules of a pool species at time t.
  void add(int species, std::int64_t delta, double t);
  std::int64_t count(int species) const { return state_.counts[static_cast<std::size_t>(species)]; }
  /// Membrane agents (pool species with insert_species) made by the last fire().
  const std::vector<int>& insertions() const { return insertions_; }
  std::uint64_t reactions_fired() const { return state_.fired; }

  const WellMixedState& state() const { return state_; }
  /// Throws std::invalid_argument when the state does not fit the model.
  void restore(WellMixedState s);

 private:
  void update_propensity(std::size_t r);
  double modulator_bound(std::size_t r, double t, double window) const;
  void redraw(double t);
  double total_bound() const;

  const WellMixedModel& model_;
  const std::vector<ClampDef>& clamps_;
  std::uint64_t seed_;
  WellMixedState state_;
  std::vector<double> constant_;                        ///< per reaction: k·Ω (order 0), k (1), k/Ω (2)
  std::vector<double> propensity_;                      ///< without the modulator factor
  std::vector<double> factor_;                          ///< modulator bound on the current window (1 if none)
  double bound_ = 0;                                    ///< Σ propensity·factor when the pending candidate was drawn
  std::vector<std::vector<std::uint32_t>> dependents_;  ///< per species: reactions it is a reactant of
  std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> change_;  ///< per reaction: net change per species
  std::vector<int> insertions_;
  bool has_modulators_ = false;
  bool has_infusion_modulator_ = false;
};

}  // namespace spinesim
