// Agents: every state change of a receptor or enzyme at exact times. Each agent
// has one pending event in the queue. Its total exit rate may follow a clamped
// concentration or the membrane potential; both are piecewise constant except an
// infusion profile, which is smooth. Events are therefore drawn by thinning (Lewis
// & Shedler 1979): candidates from a Poisson process whose rate bounds the true
// rate over a window that ends at the next breakpoint, each accepted with
// probability rate/bound. For piecewise-constant rates the bound is the rate and
// every candidate is accepted, which is Gillespie's direct method per agent. When a
// rate changes at a breakpoint, or a ligand collision changes the state, the
// pending event is redrawn; exponential waiting times are memoryless, so that is
// exact. A particle ligand with a background concentration in the compartment an
// agent faces is both: its particles bind by collision and its background by rate,
// like a clamp; an agent that moves to a triangle facing another compartment is
// redrawn at the end of that step (positions change only at step boundaries).
#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "core/units.h"
#include "engine/simulator.h"
#include "model/reaction_radii.h"

namespace spinesim {

namespace {
/// Windows of continuous profiles (an infusion) are re-bounded at least this often (s).
constexpr double kThinningWindow_s = 1.0;
/// A ligand given back by an agent starts this far off the membrane (µm).
constexpr double kReleaseOffsetUm = 1e-6;
}  // namespace

double Simulator::next_breakpoint(double t) const {
  double next = model_.membrane_potential_mV.next_breakpoint(t);
  for (const ClampDef& c : model_.clamps) next = std::min(next, c.profile.next_breakpoint(t));
  for (const BackgroundDef& b : model_.backgrounds) next = std::min(next, b.profile.next_breakpoint(t));
  return next;
}

int Simulator::binding_compartment(std::uint32_t a) const {
  const MembraneMolecules& m = world_.membrane;
  return model_.geometry.triangle_sides[m.triangle[a]][model_.species[m.species[a]].binds_from_back ? 1 : 0];
}

const TimeProfile* Simulator::ligand_profile(const AgentTransitionDef& tr, int compartment) const {
  switch (tr.ligand_source) {
    case LigandSource::kClamp:
      return &model_.clamps[static_cast<std::size_t>(tr.ligand_index)].profile;
    case LigandSource::kParticle: {
      const int b = compartment >= 0 ? background_index(tr.ligand_index, compartment) : -1;
      return b >= 0 ? &model_.backgrounds[static_cast<std::size_t>(b)].profile : nullptr;
    }
    case LigandSource::kNone:
    case LigandSource::kAbsent:
      break;
  }
  return nullptr;
}

double Simulator::transition_rate(const AgentTransitionDef& tr, int compartment, double t) const {
  double k = tr.rate;
  if (tr.ligand_source != LigandSource::kNone) {
    const TimeProfile* c = ligand_profile(tr, compartment);
    if (c == nullptr) return 0;
    k *= c->at(t);
  }
  if (tr.voltage_per_mV != 0) k *= std::exp(tr.voltage_per_mV * voltage_mV(t));
  return k;
}

void Simulator::init_agents() {
  const std::size_t n_species = model_.species.size();
  ca_rate_.assign(n_species, 0);
  current_pA_.assign(n_species, 0);
  world_.ca_ions.assign(n_species, 0);
  world_.charge_pC.assign(n_species, 0);
  if (world_.ambient_bindings.size() != n_species) world_.ambient_bindings.assign(n_species, 0);
  has_background_.assign(n_species, 0);
  background_index_.clear();
  if (!model_.backgrounds.empty()) {
    const std::size_t n_compartments = model_.geometry.compartment_names.size();
    background_index_.assign(n_species * n_compartments, -1);
    for (std::size_t b = 0; b < model_.backgrounds.size(); ++b) {
      const BackgroundDef& bg = model_.backgrounds[b];
      background_index_[static_cast<std::size_t>(bg.species) * n_compartments +
                        static_cast<std::size_t>(bg.compartment)] = static_cast<int>(b);
      has_background_[static_cast<std::size_t>(bg.species)] = 1;
    }
  }
  type_sees_background_.clear();
  int offset = 1;  // global state 0 is a plain molecule
  for (const AgentTypeDef& type : model_.agent_types) {
    state_offset_.push_back(offset);
    offset += static_cast<int>(type.states.size());
    bool continuous = false, sees_background = false;
    for (const AgentTransitionDef& tr : type.transitions) {
      if (tr.ligand_source == LigandSource::kClamp &&
          model_.clamps[static_cast<std::size_t>(tr.ligand_index)].profile.kind == TimeProfile::Kind::kInfusion)
        continuous = true;
      if (tr.ligand_source != LigandSource::kParticle) continue;
      has_capture_ = true;
      for (const BackgroundDef& bg : model_.backgrounds) {
        if (bg.species != tr.ligand_index) continue;
        sees_background = true;
        if (bg.profile.kind == TimeProfile::Kind::kInfusion) continuous = true;
      }
    }
    type_has_continuous_.push_back(continuous ? 1 : 0);
    type_sees_background_.push_back(sees_background ? 1 : 0);
  }
  for (const SpeciesDef& sp : model_.species)
    if (sp.agent_type >= 0 && sp.diffusion_um2_per_s > 0 &&
        type_sees_background_[static_cast<std::size_t>(sp.agent_type)])
      track_agent_moves_ = true;
  agent_bound_.assign(world_.membrane.size(), 0);
  agent_window_.assign(world_.membrane.size(), kNever);
  if (has_capture_) {
    capture_.is_ligand.assign(n_species, 0);
    capture_.probability.assign(n_species, {});
    for (const AgentTypeDef& type : model_.agent_types)
      for (const AgentTransitionDef& tr : type.transitions)
        if (tr.ligand_source == LigandSource::kParticle)
          capture_.is_ligand[static_cast<std::size_t>(tr.ligand_index)] = 1;
  }
  flux_time_ = time_s_;
  recompute_flux_rates(time_s_);
}

void Simulator::integrate_flux(double t) {
  if (t <= flux_time_) return;
  const double span = t - flux_time_;
  for (std::size_t s = 0; s < ca_rate_.size(); ++s) {
    world_.ca_ions[s] += ca_rate_[s] * span;
    world_.charge_pC[s] += current_pA_[s] * span;
  }
  flux_time_ = t;
}

double Simulator::ca_ions(int species) const {
  return world_.ca_ions[static_cast<std::size_t>(species)];
}
double Simulator::charge_pC(int species) const {
  return world_.charge_pC[static_cast<std::size_t>(species)];
}

namespace {
/// Single-channel current (pA) and Ca2+ influx (ions/s) of a state at potential v.
void state_flux(const AgentStateDef& st, double v, double& current_pA, double& ca_per_s) {
  current_pA = st.conductance_pS * (v - st.reversal_mV) * 1e-3;  // pS·mV = fA
  // Ca2+ enters with the inward (negative) part of the current, two charges per ion.
  ca_per_s = current_pA < 0 ? st.ca_fraction * (-current_pA) * 1e-12 / (2 * kElementaryCharge_C) : 0;
}
}  // namespace

void Simulator::recompute_flux_rates(double t) {
  integrate_flux(t);
  std::fill(ca_rate_.begin(), ca_rate_.end(), 0.0);
  std::fill(current_pA_.begin(), current_pA_.end(), 0.0);
  const double v = voltage_mV(t);
  const MembraneMolecules& m = world_.membrane;
  for (std::size_t a = 0; a < m.size(); ++a) {
    const SpeciesDef& sp = model_.species[m.species[a]];
    if (sp.agent_type < 0) continue;
    const AgentStateDef& st = model_.agent_types[static_cast<std::size_t>(sp.agent_type)].states[m.state[a]];
    if (st.conductance_pS == 0 || st.internal) continue;
    double i, ca;
    state_flux(st, v, i, ca);
    current_pA_[m.species[a]] += i;
    ca_rate_[m.species[a]] += ca;
  }
}

double Simulator::ca_influx_now(int species, double t) const {
  const double v = voltage_mV(t);
  const MembraneMolecules& m = world_.membrane;
  const AgentTypeDef& type =
      model_.agent_types[static_cast<std::size_t>(model_.species[static_cast<std::size_t>(species)].agent_type)];
  double total = 0;
  for (std::size_t a = 0; a < m.size(); ++a) {
    if (m.species[a] != species) continue;
    const AgentStateDef& st = type.states[m.state[a]];
    if (st.ca_fraction == 0 || st.conductance_pS == 0 || st.internal) continue;
    double i, ca;
    state_flux(st, v, i, ca);
    total += ca;
  }
  return total;
}

void Simulator::set_agent_state(std::uint32_t a, int state, double t) {
  MembraneMolecules& m = world_.membrane;
  const int s = m.species[a];
  const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(model_.species[s].agent_type)];
  integrate_flux(t);
  const double v = voltage_mV(t);
  double i_old = 0, ca_old = 0, i_new = 0, ca_new = 0;
  if (!type.states[m.state[a]].internal) state_flux(type.states[m.state[a]], v, i_old, ca_old);
  if (!type.states[static_cast<std::size_t>(state)].internal)
    state_flux(type.states[static_cast<std::size_t>(state)], v, i_new, ca_new);
  current_pA_[static_cast<std::size_t>(s)] += i_new - i_old;
  ca_rate_[static_cast<std::size_t>(s)] += ca_new - ca_old;
  m.state[a] = static_cast<std::uint16_t>(state);
  if (ca_new != ca_old) sync_influx(t);
}

void Simulator::schedule_agent(std::uint32_t a, double t) {
  MembraneMolecules& m = world_.membrane;
  if (m.event[a] != kNoEvent && queue_.pending(m.event[a])) queue_.cancel(m.event[a]);
  m.event[a] = kNoEvent;
  const SpeciesDef& sp = model_.species[m.species[a]];
  const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(sp.agent_type)];
  double window = next_breakpoint(t);
  if (type_has_continuous_[static_cast<std::size_t>(sp.agent_type)]) window = std::min(window, t + kThinningWindow_s);
  // Bound of the total exit rate on [t, window): the potential is constant there and
  // each clamp is monotone, so its maximum is at an end of the window. A constant or
  // stepped clamp is constant on [t, window) (window ≤ its next breakpoint), so its
  // value at t is the exact rate: every candidate is accepted. Its value at `window`
  // itself must not enter the bound: a candidate at `window` is never a transition,
  // and with it an agent waiting for the next step of a pulse would draw rejected
  // candidates at the pulse's rate all the time before it.
  const double v = voltage_mV(t);
  const int compartment = binding_compartment(a);
  double bound = 0;
  for (int j : type.out[m.state[a]]) {
    const AgentTransitionDef& tr = type.transitions[static_cast<std::size_t>(j)];
    double k = tr.rate;
    if (tr.ligand_source != LigandSource::kNone) {
      const TimeProfile* c = ligand_profile(tr, compartment);
      if (c == nullptr) continue;  // a particle ligand without a background binds by collision only
      k *= c->kind == TimeProfile::Kind::kInfusion ? c->max_on(t, std::min(window, model_.t_end_s)) : c->at(t);
    }
    if (tr.voltage_per_mV != 0) k *= std::exp(tr.voltage_per_mV * v);
    bound += k;
  }
  agent_bound_[a] = bound;
  agent_window_[a] = window;
  double when = kNever;
  bool candidate = false;
  if (bound > 0) {
    CounterRng rng({model_.seed, m.id[a], m.draws[a]++, Purpose::kEvent});
    when = t - std::log(uniform_open0(rng())) / bound;
    candidate = when < window;
  }
  if (!candidate) when = window;
  if (when > model_.t_end_s) return;  // nothing more happens to this agent in this run
  m.event[a] = queue_.push(when, {candidate ? kAgent : kAgentWindow, a});
}

void Simulator::fire_agent(std::uint32_t a, double t) {
  MembraneMolecules& m = world_.membrane;
  m.event[a] = kNoEvent;
  const SpeciesDef& sp = model_.species[m.species[a]];
  const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(sp.agent_type)];
  CounterRng rng({model_.seed, m.id[a], m.draws[a]++, Purpose::kEvent});
  double u = uniform_open0(rng()) * agent_bound_[a];
  const int compartment = binding_compartment(a);
  int chosen = -1;
  for (int j : type.out[m.state[a]]) {
    const double k = transition_rate(type.transitions[static_cast<std::size_t>(j)], compartment, t);
    if (u <= k) {
      chosen = j;
      break;
    }
    u -= k;
  }
  if (chosen >= 0) {
    const AgentTransitionDef& tr = type.transitions[static_cast<std::size_t>(chosen)];
    const bool gives_particle = note_bound_ligand(a, tr, false);
    set_agent_state(a, tr.to, t);
    ++stats_.agent_transitions;
    if (tr.releases_species >= 0 && gives_particle) release_ligand(a, tr.releases_species);
    if (exit_to_pool(a, t)) return;
  }
  schedule_agent(a, t);
}

bool Simulator::note_bound_ligand(std::uint32_t a, const AgentTransitionDef& tr, bool by_capture) {
  MembraneMolecules& m = world_.membrane;
  if (tr.ligand_source == LigandSource::kParticle && has_background_[static_cast<std::size_t>(tr.ligand_index)]) {
    // Saturating: a scheme whose unbinding steps give nothing back never decrements.
    std::uint8_t& held = by_capture ? m.particle_bound[a] : m.ambient_bound[a];
    if (held < 255) ++held;
    if (!by_capture) ++world_.ambient_bindings[m.species[a]];
    return false;
  }
  if (tr.releases_species < 0 || !has_background_[static_cast<std::size_t>(tr.releases_species)]) return true;
  // The ligand that leaves is one of those held, each equally likely (the scheme's
  // states do not tell identical ligands apart); the background is a reservoir, so
  // one of its own goes back to it.
  const unsigned ambient = m.ambient_bound[a], particle = m.particle_bound[a];
  bool from_particle = true;
  if (ambient > 0 && particle > 0) {
    CounterRng rng({model_.seed, m.id[a], m.draws[a]++, Purpose::kEvent});
    from_particle = uniform_open0(rng()) * (ambient + particle) > ambient;
  } else if (ambient > 0) {
    from_particle = false;
  }
  if (from_particle && particle > 0) --m.particle_bound[a];
  if (!from_particle) --m.ambient_bound[a];
  return from_particle;
}

void Simulator::reschedule_moved_agents(double t) {
  const MembraneMolecules& m = world_.membrane;
  const auto& sides = model_.geometry.triangle_sides;
  for (std::uint32_t a = 0; a < pre_step_triangle_.size() && a < m.size(); ++a) {
    if (m.triangle[a] == pre_step_triangle_[a]) continue;
    const SpeciesDef& sp = model_.species[m.species[a]];
    if (sp.agent_type < 0 || !type_sees_background_[static_cast<std::size_t>(sp.agent_type)]) continue;
    const int side = sp.binds_from_back ? 1 : 0;
    if (sides[m.triangle[a]][side] != sides[pre_step_triangle_[a]][side]) schedule_agent(a, t);
  }
}

void Simulator::release_ligand(std::uint32_t a, int species) {
  const Geometry& g = model_.geometry;
  const TriangleIndex tri = world_.membrane.triangle[a];
  const Vec3 n = normalized(g.raw_normal(tri));
  const Vec3 p = surface_point_position(g, world_.membrane.point(a)) + n * kReleaseOffsetUm;
  const int compartment = g.triangle_sides[tri][0];
  const std::uint32_t id = new_molecule_id();
  world_.volume.push(p, static_cast<std::uint16_t>(species), static_cast<std::uint16_t>(compartment), id,
                     draw_reaction_time(id, species, time_s_));
  if (!diffusing_ && ctx_->sigma_um[static_cast<std::size_t>(species)] > 0) diffusing_ = true;
}

void Simulator::rebuild_capture_index(double t) {
  const Geometry& g = model_.geometry;
  const MembraneMolecules& m = world_.membrane;
  const double v = voltage_mV(t);
  capture_.start.assign(g.triangle_count() + 1, 0);
  capture_.position.resize(m.size());
  std::size_t n_agents = 0;
  for (std::size_t a = 0; a < m.size(); ++a) {
    const SpeciesDef& sp = model_.species[m.species[a]];
    if (sp.agent_type < 0) continue;
    const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(sp.agent_type)];
    if (type.states[m.state[a]].internal) continue;  // internalised: out of reach
    ++capture_.start[m.triangle[a] + 1];
    capture_.position[a] = surface_point_position(g, m.point(a));
    ++n_agents;
  }
  for (std::size_t t = 0; t < g.triangle_count(); ++t) capture_.start[t + 1] += capture_.start[t];
  capture_.agents.resize(n_agents);
  std::vector<std::uint32_t> cursor(capture_.start.begin(), capture_.start.end() - 1);
  for (std::size_t a = 0; a < m.size(); ++a) {
    const SpeciesDef& sp = model_.species[m.species[a]];
    if (sp.agent_type < 0 || model_.agent_types[static_cast<std::size_t>(sp.agent_type)].states[m.state[a]].internal)
      continue;
    capture_.agents[cursor[m.triangle[a]]++] = static_cast<std::uint32_t>(a);
  }
  // Per-hit probabilities at the current potential.
  for (std::size_t s = 0; s < model_.species.size(); ++s) {
    const SpeciesDef& sp = model_.species[s];
    if (sp.agent_type < 0) continue;
    const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(sp.agent_type)];
    auto& prob = capture_.probability[s];
    prob.assign(type.transitions.size(), 0);
    const double disc = kPi * sp.capture_radius_um * sp.capture_radius_um;
    for (std::size_t j = 0; j < type.transitions.size(); ++j) {
      const AgentTransitionDef& tr = type.transitions[j];
      if (tr.ligand_source != LigandSource::kParticle) continue;
      const double d_ligand = model_.species[static_cast<std::size_t>(tr.ligand_index)].diffusion_um2_per_s;
      double kon_um3 = per_uM_per_s_to_um3_per_s(tr.rate);
      if (tr.voltage_per_mV != 0) kon_um3 *= std::exp(tr.voltage_per_mV * v);
      prob[j] = std::min(1.0, capture_probability(kon_um3, model_.dt_s, d_ligand, disc));
    }
  }
}

bool Simulator::on_capture(std::size_t /*ligand*/, std::uint32_t a, std::uint16_t transition) {
  MembraneMolecules& m = world_.membrane;
  const AgentTypeDef& type = model_.agent_types[static_cast<std::size_t>(model_.species[m.species[a]].agent_type)];
  const AgentTransitionDef& tr = type.transitions[transition];
  // An earlier ligand in this step may already have moved the agent on.
  if (m.state[a] != tr.from) return false;
  note_bound_ligand(a, tr, true);
  set_agent_state(a, tr.to, capture_time_);
  schedule_agent(a, capture_time_);
  ++stats_.captures;
  return true;
}

}  // namespace spinesim
