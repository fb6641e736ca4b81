#include "engine/pool_ssa.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "core/random.h"

namespace spinesim {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
/// A smoothly varying modulator (an infusion) is re-bounded at least this often (s).
constexpr double kThinningWindow_s = 1.0;
/// Stream entity of the pools (agents and molecules use their 32-bit ids).
constexpr std::uint32_t kPoolEntity = 0xFFFFFFFFu;
/// Children per node of the sum tree: a node's sum is 8 adds of contiguous doubles
/// with a short dependency chain, and the tree over the shipped pathway's 40
/// reactions is two levels deep.
constexpr std::size_t kFanout = 8;

/// Sorted without repeats.
template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}
}  // namespace

WellMixedSystem::WellMixedSystem(const WellMixedModel& model, const std::vector<ClampDef>& clamps, std::uint64_t seed)
    : model_(model), clamps_(clamps), seed_(seed) {
  const std::size_t nr = model_.reactions.size(), ns = model_.species.size();
  one_ = ns;
  level_.assign(ns + 1 + nr, 0);
  level_[one_] = 1;
  rate_.assign(nr, {});
  propensity_.assign(nr, 0);
  factor_.assign(nr, 1);
  dependents_.assign(ns, {});
  total_change_.assign(nr, 0);
  modulator_.assign(nr, -1);
  state_.counts.assign(ns, 0);
  state_.external.assign(nr, 0);
  std::size_t leaves = kFanout, internal = 1;
  while (leaves < nr) {
    leaves *= kFanout;
    internal = internal * kFanout + 1;
  }
  first_leaf_ = internal;
  tree_.assign(internal + leaves, 0);
  const auto one = static_cast<std::uint32_t>(one_);
  for (std::size_t r = 0; r < nr; ++r) {
    const PoolReactionDef& rx = model_.reactions[r];
    const double omega = model_.pools[static_cast<std::size_t>(rx.volume_pool)].molecules_per_uM();
    Rate& k = rate_[r];
    if (rx.influx_agent_species >= 0) {
      k = {rx.rate, 0, static_cast<std::uint32_t>(ns + 1 + r), one};
    } else if (rx.reactants.empty()) {
      k = {rx.rate * omega, 0, one, one};
    } else if (rx.reactants.size() == 1) {
      k = {rx.rate, 0, static_cast<std::uint32_t>(rx.reactants[0]), one};
    } else {
      const bool dimer = rx.reactants[0] == rx.reactants[1];
      k = {rx.rate / omega, dimer ? 1.0 : 0.0, static_cast<std::uint32_t>(rx.reactants[0]),
           static_cast<std::uint32_t>(rx.reactants[1])};
    }
    std::map<int, std::int64_t> net;
    for (int s : rx.reactants) --net[s];
    for (int s : rx.products)
      if (model_.species[static_cast<std::size_t>(s)].insert_species < 0) ++net[s];
    std::vector<Change> changes;
    for (const auto& [s, d] : net)
      if (d != 0) {
        changes.push_back({static_cast<std::uint32_t>(s), d});
        total_change_[r] += d;
      }
    change_.add_row(changes);
    std::vector<int> inserted;
    for (int s : rx.products)
      if (model_.species[static_cast<std::size_t>(s)].insert_species >= 0) inserted.push_back(s);
    inserted_.add_row(inserted);
    modulator_[r] = rx.modulator_clamp;
    std::vector<int> distinct = rx.reactants;
    sort_unique(distinct);
    for (int s : distinct) dependents_[static_cast<std::size_t>(s)].push_back(static_cast<std::uint32_t>(r));
    if (rx.modulator_clamp >= 0) {
      modulated_.push_back(static_cast<std::uint32_t>(r));
      if (clamps_[static_cast<std::size_t>(rx.modulator_clamp)].profile.kind == TimeProfile::Kind::kInfusion)
        has_infusion_modulator_ = true;
    }
  }
  // The dependency graph: firing r changes the propensities of the reactions that
  // consume a species r changes, and the tree nodes above them.
  for (std::size_t r = 0; r < nr; ++r) {
    std::vector<std::uint32_t> affected;
    for (const Change* c = change_.first(r); c != change_.last(r); ++c)
      affected.insert(affected.end(), dependents_[c->species].begin(), dependents_[c->species].end());
    sort_unique(affected);
    affected_.add_row(affected);
    affected_nodes_.add_row(ancestors_of(affected));
  }
  modulated_nodes_ = ancestors_of(modulated_);
}

std::vector<std::uint32_t> WellMixedSystem::ancestors_of(const std::vector<std::uint32_t>& reactions) const {
  std::vector<std::uint32_t> nodes;
  for (std::uint32_t r : reactions)
    for (std::size_t node = first_leaf_ + r; node > 0;) {
      node = (node - 1) / kFanout;
      nodes.push_back(static_cast<std::uint32_t>(node));
    }
  sort_unique(nodes);
  // A child's index exceeds its parent's: by decreasing index, one pass recomputes them all.
  std::reverse(nodes.begin(), nodes.end());
  return nodes;
}

void WellMixedSystem::update_propensity(std::size_t r) {
  const Rate& k = rate_[r];
  const double a = k.constant * (level_[k.a] * (level_[k.b] - k.offset));
  propensity_[r] = a;
  tree_[first_leaf_ + r] = a * factor_[r];
}

void WellMixedSystem::recompute_node(std::size_t node) {
  const double* c = &tree_[kFanout * node + 1];
  // Pairwise: three dependent adds instead of seven.
  tree_[node] = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}

void WellMixedSystem::recompute_nodes(const std::uint32_t* first, const std::uint32_t* last) {
  for (; first != last; ++first) recompute_node(*first);
}

void WellMixedSystem::recompute_above(const std::vector<std::uint32_t>& reactions) {
  const std::vector<std::uint32_t> nodes = ancestors_of(reactions);
  recompute_nodes(nodes.data(), nodes.data() + nodes.size());
}

void WellMixedSystem::rebuild() {
  total_count_ = 0;
  for (std::size_t s = 0; s < state_.counts.size(); ++s) {
    level_[s] = static_cast<double>(state_.counts[s]);
    total_count_ += state_.counts[s];
  }
  for (std::size_t r = 0; r < propensity_.size(); ++r) level_[one_ + 1 + r] = state_.external[r];
  for (std::size_t r = 0; r < propensity_.size(); ++r) update_propensity(r);
  for (std::size_t node = first_leaf_; node-- > 0;) recompute_node(node);
}

double WellMixedSystem::modulator_bound(std::size_t r, double t, double window) const {
  const TimeProfile& p = clamps_[static_cast<std::size_t>(model_.reactions[r].modulator_clamp)].profile;
  // Constant and stepped profiles are constant on [t, window) (the window ends at
  // their next breakpoint): the bound is exact and every candidate is accepted.
  return p.kind == TimeProfile::Kind::kInfusion ? p.max_on(t, window) : p.at(t);
}

void WellMixedSystem::make_blocks(std::uint64_t first_draw) {
  blocks_first_draw_ = first_draw;
  for (std::size_t i = 0; i < kBatch; ++i)
    blocks_[i] = CounterRng({seed_, kPoolEntity, first_draw + i, Purpose::kWellMixed}).counter();
  philox4x32_lanes(blocks_, CounterRng({seed_, kPoolEntity, first_draw, Purpose::kWellMixed}).key());
}

void WellMixedSystem::redraw(double t) {
  double window = kInf;
  if (!modulated_.empty()) {
    for (std::uint32_t r : modulated_)
      window = std::min(
          window, clamps_[static_cast<std::size_t>(model_.reactions[r].modulator_clamp)].profile.next_breakpoint(t));
    if (has_infusion_modulator_) window = std::min(window, t + kThinningWindow_s);
    for (std::uint32_t r : modulated_) {
      factor_[r] = modulator_bound(r, t, window);
      tree_[first_leaf_ + r] = propensity_[r] * factor_[r];
    }
    recompute_nodes(modulated_nodes_.data(), modulated_nodes_.data() + modulated_nodes_.size());
  }
  const double bound = tree_[0];
  state_.time = t;
  state_.window = window;
  double when = kInf;
  if (bound > 0) when = t - std::log(uniform_open0(candidate_words(state_.draws)[0])) / bound;
  state_.next_is_window = !(when < window);
  state_.next = state_.next_is_window ? window : when;
}

void WellMixedSystem::start(double t) {
  for (std::size_t s = 0; s < model_.species.size(); ++s)
    state_.counts[s] = static_cast<std::int64_t>(model_.species[s].initial_count);
  rebuild();
  redraw(t);
}

int WellMixedSystem::fire() {
  insertions_.clear();
  const double t = state_.next;
  if (state_.next_is_window) {
    ++state_.draws;
    redraw(t);
    return -1;
  }
  // Nothing changed since redraw(): the tree still sums to the candidate's bound.
  double u = uniform_open0(candidate_words(state_.draws++)[1]) * tree_[0];
  // Descend the sum tree. Rounding can leave u a hair above the sum of a node's
  // children: the last non-empty child then takes it, so a reaction that cannot
  // fire (propensity 0) is never chosen.
  std::size_t node = 0;
  while (node < first_leaf_) {
    const double* child = &tree_[kFanout * node + 1];
    std::size_t pick = 0;
    bool found = false;
    for (std::size_t j = 0; j < kFanout; ++j) {
      if (!(child[j] > 0)) continue;
      pick = j;
      if (u <= child[j]) {
        found = true;
        break;
      }
      u -= child[j];
    }
    if (!found) u += child[pick];
    node = kFanout * node + 1 + pick;
  }
  const std::size_t r = node - first_leaf_;
  const int mc = modulator_[r];
  // Thinning: the slot is the bound; the part of it below the true rate accepts.
  if (mc >= 0 && !(u <= propensity_[r] * clamps_[static_cast<std::size_t>(mc)].profile.at(t))) {
    redraw(t);
    return -1;
  }
  for (const Change* c = change_.first(r); c != change_.last(r); ++c) {
    state_.counts[c->species] += c->delta;
    level_[c->species] += static_cast<double>(c->delta);
  }
  total_count_ += total_change_[r];
  for (const std::uint32_t* dep = affected_.first(r); dep != affected_.last(r); ++dep) update_propensity(*dep);
  recompute_nodes(affected_nodes_.first(r), affected_nodes_.last(r));
  if (inserted_.first(r) != inserted_.last(r)) insertions_.assign(inserted_.first(r), inserted_.last(r));
  ++state_.fired;
  redraw(t);
  return static_cast<int>(r);
}

void WellMixedSystem::set_external(int reaction, double rate_per_s, double t) {
  const std::size_t r = static_cast<std::size_t>(reaction);
  if (state_.external[r] == rate_per_s) return;
  state_.external[r] = rate_per_s;
  level_[one_ + 1 + r] = rate_per_s;
  update_propensity(r);
  recompute_above({static_cast<std::uint32_t>(r)});
  ++state_.draws;  // a fresh stream position for the redrawn candidate
  redraw(t);
}

void WellMixedSystem::add(int species, std::int64_t delta, double t) {
  const std::size_t s = static_cast<std::size_t>(species);
  state_.counts[s] += delta;
  level_[s] = static_cast<double>(state_.counts[s]);
  total_count_ += delta;
  for (std::uint32_t dep : dependents_[s]) update_propensity(dep);
  recompute_above(dependents_[s]);
  ++state_.draws;
  redraw(t);
}

void WellMixedSystem::restore(WellMixedState s) {
  if (s.counts.size() != state_.counts.size() || s.external.size() != state_.external.size())
    throw std::invalid_argument("well-mixed pools: species or reaction count differs");
  state_ = std::move(s);
  for (std::uint32_t r : modulated_) factor_[r] = modulator_bound(r, state_.time, state_.window);
  rebuild();
}

}  // namespace spinesim
