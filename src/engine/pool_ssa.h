// The exact SSA of the well-mixed pools (Gillespie's direct method over all pool
// reactions, one pending candidate at a time). The reaction is found by descending
// an 8-ary sum tree whose leaves are the propensities in reaction order (the same
// slots of (0, total] as the textbook linear search, so the same reaction for the
// same random number up to rounding), and a firing recomputes only the
// propensities of reactions that consume a species it changed (its dependency
// graph) and the tree nodes above them: O(log R) work per reaction instead of
// O(R). The simulator keeps that candidate as one event in its queue, so pool reactions, agent transitions, releases
// and Brownian steps share one clock. Anything from outside (a changed Ca2+ influx, an agent that leaves the membrane
// into a pool) changes propensities at an exact time; the pending candidate is then redrawn, which is exact because
// exponential waiting times are memoryless. Rates that follow a clamped concentration are handled by thinning (Lewis &
// Shedler 1979): candidates at a bound of the total propensity over a window, each accepted with probability
// true/bound.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "model/pools.h"

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
  /// Σ counts over all pool species (kept up to date: the molecule budget checks it per reaction).
  std::int64_t total_count() const { return total_count_; }

  const WellMixedState& state() const { return state_; }
  /// Throws std::invalid_argument when the state does not fit the model.
  void restore(WellMixedState s);

 private:
  /// A reaction's propensity is constant·(level_[a]·(level_[b] − offset)): level_
  /// holds the counts, then 1, then the external rates, so every order is the same
  /// three multiplications with no branch (order 0: a = b = the 1; order 1 and
  /// influx: b = the 1; A + A: b = a, offset 1). Multiplying by 1 and subtracting
  /// 0 are exact, so these are the textbook propensities bit for bit.
  struct Rate {
    double constant = 0;  ///< k·Ω (order 0), k (order 1, influx), k/Ω (order 2)
    double offset = 0;
    std::uint32_t a = 0, b = 0;
  };
  /// Compressed rows: row i of a table is items[begin[i] .. begin[i + 1]).
  template <typename T>
  struct Rows {
    std::vector<std::uint32_t> begin{0};
    std::vector<T> items;
    void add_row(const std::vector<T>& row) {
      items.insert(items.end(), row.begin(), row.end());
      begin.push_back(static_cast<std::uint32_t>(items.size()));
    }
    const T* first(std::size_t i) const { return items.data() + begin[i]; }
    const T* last(std::size_t i) const { return items.data() + begin[i + 1]; }
  };
  struct Change {
    std::uint32_t species;
    std::int64_t delta;
  };

  void update_propensity(std::size_t r);
  void recompute_node(std::size_t node);
  void recompute_nodes(const std::uint32_t* first, const std::uint32_t* last);
  void recompute_above(const std::vector<std::uint32_t>& reactions);
  void rebuild();
  /// Tree nodes above the leaves of `reactions`, children before parents.
  std::vector<std::uint32_t> ancestors_of(const std::vector<std::uint32_t>& reactions) const;
  double modulator_bound(std::size_t r, double t, double window) const;
  /// The Philox block of candidate `draw` (word 0: waiting time, word 1: reaction).
  /// Blocks are made kBatch draws at a time (interleaved rounds) and kept until used.
  const std::array<std::uint32_t, 4>& candidate_words(std::uint64_t draw) {
    if (draw < blocks_first_draw_ || draw - blocks_first_draw_ >= kBatch) make_blocks(draw);
    return blocks_[draw - blocks_first_draw_];
  }
  void make_blocks(std::uint64_t first_draw);
  void redraw(double t);

  static constexpr std::size_t kBatch = 4;

  const WellMixedModel& model_;
  const std::vector<ClampDef>& clamps_;
  std::uint64_t seed_;
  WellMixedState state_;
  std::size_t one_ = 0;        ///< index of the constant 1 in level_
  std::vector<double> level_;  ///< counts, 1, external rates (see Rate)
  std::vector<Rate> rate_;
  std::vector<double> propensity_;  ///< without the modulator factor
  std::vector<double> factor_;      ///< modulator bound on the current window (1 if none)
  /// Sum tree: leaf first_leaf_ + r holds propensity·factor of reaction r (0 past
  /// the last), node i the sum of nodes 8i + 1 … 8i + 8, node 0 the total.
  std::size_t first_leaf_ = 0;
  std::vector<double> tree_;
  std::vector<std::vector<std::uint32_t>> dependents_;  ///< per species: reactions it is a reactant of
  Rows<Change> change_;                                 ///< per reaction: net change per species
  std::vector<std::int64_t> total_change_;              ///< per reaction: Σ of its changes
  Rows<int> inserted_;                                  ///< per reaction: products that become agents
  std::vector<int> modulator_;                          ///< per reaction: modulator clamp, −1 if none
  Rows<std::uint32_t> affected_;                        ///< per reaction: propensities its firing changes
  Rows<std::uint32_t> affected_nodes_;                  ///< per reaction: tree nodes above them
  std::vector<std::uint32_t> modulated_;                ///< reactions with a modulator clamp
  std::vector<std::uint32_t> modulated_nodes_;
  std::int64_t total_count_ = 0;
  std::array<std::array<std::uint32_t, 4>, kBatch> blocks_{};
  std::uint64_t blocks_first_draw_ = ~std::uint64_t{0};  ///< draw of blocks_[0] (none yet)
  std::vector<int> insertions_;
  bool has_infusion_modulator_ = false;
};

}  // namespace spinesim
