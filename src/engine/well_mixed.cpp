#include "engine/well_mixed.h"

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
}  // namespace

WellMixedSystem::WellMixedSystem(const WellMixedModel& model, const std::vector<ClampDef>& clamps, std::uint64_t seed)
    : model_(model), clamps_(clamps), seed_(seed) {
  const std::size_t nr = model_.reactions.size(), ns = model_.species.size();
  constant_.assign(nr, 0);
  propensity_.assign(nr, 0);
  factor_.assign(nr, 1);
  dependents_.assign(ns, {});
  change_.assign(nr, {});
  state_.counts.assign(ns, 0);
  state_.external.assign(nr, 0);
  for (std::size_t r = 0; r < nr; ++r) {
    const PoolReactionDef& rx = model_.reactions[r];
    const double omega = model_.pools[static_cast<std::size_t>(rx.volume_pool)].molecules_per_uM();
    switch (rx.influx_agent_species >= 0 ? std::size_t{1} : rx.reactants.size()) {
      case 0:
        constant_[r] = rx.rate * omega;
        break;
      case 1:
        constant_[r] = rx.rate;
        break;
      default:
        constant_[r] = rx.rate / omega;
        break;
    }
    std::map<int, std::int64_t> net;
    for (int s : rx.reactants) --net[s];
    for (int s : rx.products)
      if (model_.species[static_cast<std::size_t>(s)].insert_species < 0) ++net[s];
    for (const auto& [s, d] : net)
      if (d != 0) change_[r].push_back({static_cast<std::uint32_t>(s), d});
    std::vector<int> distinct = rx.reactants;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (int s : distinct) dependents_[static_cast<std::size_t>(s)].push_back(static_cast<std::uint32_t>(r));
    if (rx.modulator_clamp >= 0) {
      has_modulators_ = true;
      if (clamps_[static_cast<std::size_t>(rx.modulator_clamp)].profile.kind == TimeProfile::Kind::kInfusion)
        has_infusion_modulator_ = true;
    }
  }
}

void WellMixedSystem::update_propensity(std::size_t r) {
  const PoolReactionDef& rx = model_.reactions[r];
  const auto& n = state_.counts;
  double a;
  if (rx.influx_agent_species >= 0) {
    a = constant_[r] * state_.external[r];
  } else if (rx.reactants.empty()) {
    a = constant_[r];
  } else if (rx.reactants.size() == 1) {
    a = constant_[r] * static_cast<double>(n[static_cast<std::size_t>(rx.reactants[0])]);
  } else {
    const double na = static_cast<double>(n[static_cast<std::size_t>(rx.reactants[0])]);
    const double nb = static_cast<double>(n[static_cast<std::size_t>(rx.reactants[1])]);
    a = constant_[r] * (rx.reactants[0] == rx.reactants[1] ? na * (na - 1) : na * nb);
  }
  propensity_[r] = a;
}

double WellMixedSystem::modulator_bound(std::size_t r, double t, double window) const {
  const TimeProfile& p = clamps_[static_cast<std::size_t>(model_.reactions[r].modulator_clamp)].profile;
  // Constant and stepped profiles are constant on [t, window) (the window ends at
  // their next breakpoint): the bound is exact and every candidate is accepted.
  return p.kind == TimeProfile::Kind::kInfusion ? p.max_on(t, window) : p.at(t);
}

void WellMixedSystem::redraw(double t) {
  double window = kInf;
  if (has_modulators_) {
    for (const PoolReactionDef& rx : model_.reactions)
      if (rx.modulator_clamp >= 0)
        window = std::min(window, clamps_[static_cast<std::size_t>(rx.modulator_clamp)].profile.next_breakpoint(t));
    if (has_infusion_modulator_) window = std::min(window, t + kThinningWindow_s);
    for (std::size_t r = 0; r < model_.reactions.size(); ++r)
      if (model_.reactions[r].modulator_clamp >= 0) factor_[r] = modulator_bound(r, t, window);
  }
  const double bound = total_bound();
  bound_ = bound;
  state_.time = t;
  state_.window = window;
  double when = kInf;
  if (bound > 0) {
    CounterRng rng({seed_, kPoolEntity, state_.draws, Purpose::kWellMixed});
    when = t - std::log(uniform_open0(rng())) / bound;
  }
  state_.next_is_window = !(when < window);
  state_.next = state_.next_is_window ? window : when;
}

void WellMixedSystem::start(double t) {
  for (std::size_t s = 0; s < model_.species.size(); ++s)
    state_.counts[s] = static_cast<std::int64_t>(model_.species[s].initial_count);
  for (std::size_t r = 0; r < propensity_.size(); ++r) update_propensity(r);
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
  // The second word of the candidate's block picks the reaction.
  CounterRng rng({seed_, kPoolEntity, state_.draws++, Purpose::kWellMixed});
  rng();
  // The bound of the candidate's draw: nothing changed since redraw().
  double u = uniform_open0(rng()) * bound_;
  int chosen = -1;
  for (std::size_t r = 0; r < propensity_.size(); ++r) {
    const double slot = propensity_[r] * factor_[r];
    if (u <= slot) {
      const int mc = model_.reactions[r].modulator_clamp;
      const double actual = mc < 0 ? slot : propensity_[r] * clamps_[static_cast<std::size_t>(mc)].profile.at(t);
      if (u <= actual) chosen = static_cast<int>(r);
      break;
    }
    u -= slot;
  }
  if (chosen >= 0) {
    const std::size_t r = static_cast<std::size_t>(chosen);
    for (const auto& [s, d] : change_[r]) state_.counts[s] += d;
    for (const auto& [s, d] : change_[r])
      for (std::uint32_t dep : dependents_[s]) update_propensity(dep);
    for (int s : model_.reactions[r].products)
      if (model_.species[static_cast<std::size_t>(s)].insert_species >= 0) insertions_.push_back(s);
    ++state_.fired;
  }
  redraw(t);
  return chosen;
}

void WellMixedSystem::set_external(int reaction, double rate_per_s, double t) {
  const std::size_t r = static_cast<std::size_t>(reaction);
  if (state_.external[r] == rate_per_s) return;
  state_.external[r] = rate_per_s;
  update_propensity(r);
  ++state_.draws;  // a fresh stream position for the redrawn candidate
  redraw(t);
}

void WellMixedSystem::add(int species, std::int64_t delta, double t) {
  const std::size_t s = static_cast<std::size_t>(species);
  state_.counts[s] += delta;
  for (std::uint32_t dep : dependents_[s]) update_propensity(dep);
  ++state_.draws;
  redraw(t);
}

void WellMixedSystem::restore(WellMixedState s) {
  if (s.counts.size() != state_.counts.size() || s.external.size() != state_.external.size())
    throw std::invalid_argument("well-mixed pools: species or reaction count differs");
  state_ = std::move(s);
  for (std::size_t r = 0; r < propensity_.size(); ++r) update_propensity(r);
  if (has_modulators_)
    for (std::size_t r = 0; r < model_.reactions.size(); ++r)
      if (model_.reactions[r].modulator_clamp >= 0) factor_[r] = modulator_bound(r, state_.time, state_.window);
  bound_ = total_bound();
}

double WellMixedSystem::total_bound() const {
  double bound = 0;
  for (std::size_t r = 0; r < propensity_.size(); ++r) bound += propensity_[r] * factor_[r];
  return bound;
}

}  // namespace spinesim
