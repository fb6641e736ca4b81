#include "engine/simulator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/error.h"
#include "core/random.h"
#include "geometry/intersect.h"

namespace spinesim {

namespace {
// Cells of about one step SD keep the triangles a wall test sees to a handful; the
// distance field lets molecules far from walls skip the test however small cells
// are. The grid never gets finer than extent/256 (memory) or 1 nm.
double auto_cell_size(const Model& m, const Box3& mesh_box) {
  double sigma_max = 0;
  for (const auto& s : m.species)
    if (!s.membrane) sigma_max = std::max(sigma_max, std::sqrt(2 * s.diffusion_um2_per_s * m.dt_s));
  const Vec3 size = mesh_box.size();
  const double extent = std::max(size.x, std::max(size.y, size.z));
  if (sigma_max == 0) return extent / 64;
  return std::max({sigma_max, extent / 256, 1e-3});
}
}  // namespace

Simulator::Simulator(const Model& model, std::unique_ptr<Stepper> stepper)
    : model_(model), stepper_(std::move(stepper)) {
  const Geometry& g = model_.geometry;
  const Box3 mesh_box = g.bounds();
  const double h = model_.grid_cell_um > 0 ? model_.grid_cell_um : auto_cell_size(model_, mesh_box);
  // The world box leaves two cells of free space around the meshes: the unbounded
  // compartment then has room, and border cells (never "free") hold no triangles.
  Box3 world = mesh_box;
  const double pad = std::max(2 * h, model_.world_padding_um);
  world.lo -= Vec3{pad, pad, pad};
  world.hi += Vec3{pad, pad, pad};
  // An automatic grid stays within ~2^18 cells (≈ 1 MB of reach values), so the
  // per-molecule cell lookup hits L2 instead of memory.
  grid_ = std::make_unique<SpatialGrid>(g, world, h, model_.grid_cell_um > 0 ? (1u << 24) : (1u << 18));
  topology_ = std::make_unique<SurfaceTopology>(g);
  ctx_ = std::make_unique<DiffusionContext>(model_, *grid_, *topology_);
  cell_compartment_.assign(grid_->cell_count(), -2);
  const std::size_t counters = g.region_names.size() * model_.species.size();
  world_.absorbed.assign(counters, 0);
  world_.crossed.assign(2 * counters, 0);
  init_reactions();
  init_membrane_reactions();
  place_initial();
  init_agents();
  init_well_mixed();
  diffusing_ = ctx_->anything_diffuses(world_);
}

int Simulator::compartment_at(const Vec3& p) const {
  if (!grid_->world().contains(p)) return -1;
  const std::uint32_t cell = grid_->cell_of(p);
  const auto [b, e] = grid_->cell_triangles(cell);
  if (b != e) return spinesim::compartment_at(model_.geometry, *grid_, p, model_.outer_compartment);
  if (cell_compartment_[cell] == -2) {
    const Box3 box = grid_->cell_box(cell);
    cell_compartment_[cell] =
        spinesim::compartment_at(model_.geometry, *grid_, (box.lo + box.hi) * 0.5, model_.outer_compartment);
  }
  return cell_compartment_[cell];
}

Box3 Simulator::compartment_bounds(int compartment) const {
  const Geometry& g = model_.geometry;
  if (compartment == model_.outer_compartment) return grid_->world();
  Box3 box;
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.triangle_sides[t][0] == compartment || g.triangle_sides[t][1] == compartment)
      for (int k = 0; k < 3; ++k) box.expand(g.vertex(t, k));
  return box;
}

Vec3 Simulator::sample_in_compartment(int compartment, const Box3& box, CounterRng& rng) const {
  const Geometry& g = model_.geometry;
  const Vec3 size = box.size();
  auto unit = [&] { return static_cast<double>(rng()) * (1.0 / 4294967296.0); };
  for (int attempt = 0; attempt < 1'000'000; ++attempt) {
    const Vec3 p = box.lo + Vec3{size.x * unit(), size.y * unit(), size.z * unit()};
    if (compartment_at(p) == compartment) return p;
  }
  throw InputError(Diagnostic{"", 0, 0, "placement",
                              "could not find a point inside compartment '" + g.compartment_names[compartment] +
                                  "' after 10^6 tries; is it empty or very thin?"});
}

std::uint64_t Simulator::population() const {
  std::uint64_t n = world_.molecule_count();
  // Pool counts never go negative (a reaction needs its reactants), so their sum is the pools' population.
  if (pools_) n += static_cast<std::uint64_t>(pools_->total_count());
  return n;
}

std::uint32_t Simulator::new_molecule_id(bool adds) {
  if (over_budget_ == Limit::kNone) {
    // +1: the molecule being made is not in the arrays yet. Reactants about to be
    // compacted away may still be counted here, so this may over-count; the run
    // loop recounts before it stops.
    if (adds && population() + 1 > model_.max_molecules) over_budget_ = Limit::kMolecules;
    // A step can at most double the particles (each reaction makes ≤ 2 from ≥ 1), so
    // stopping while ids for that many are left keeps every id unique.
    else if (0xFFFFFFFFull - world_.next_id <= 2 * world_.molecule_count() + 2)
      over_budget_ = Limit::kIds;
  }
  return world_.next_id++;
}

void Simulator::check_pool_budget() {
  if (over_budget_ == Limit::kNone && population() > model_.max_molecules) over_budget_ = Limit::kMolecules;
}

void Simulator::report_progress_if_due() {
  // The clock is read every 64 calls only: a call per SSA reaction must stay cheap.
  if (!progress_ || ++since_progress_check_ < 64) return;
  since_progress_check_ = 0;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_report_).count() >= progress_every_s_) {
    last_report_ = now;
    progress_(*this);
  }
}

void Simulator::add_volume_molecules(int species, std::uint64_t count, const Vec3& at, int compartment) {
  if (count > 0 && ctx_ && ctx_->sigma_um[static_cast<std::size_t>(species)] > 0) diffusing_ = true;
  for (std::uint64_t k = 0; k < count; ++k) {
    const std::uint32_t id = new_molecule_id();
    world_.volume.push(at, static_cast<std::uint16_t>(species), static_cast<std::uint16_t>(compartment), id,
                       draw_reaction_time(id, species, time_s_));
  }
}

void Simulator::add_membrane_on_region(int species, std::uint64_t count, int region, int state, CounterRng& rng) {
  // Uniform by area: pick a triangle by cumulative area, then a uniform point in it.
  const Geometry& g = model_.geometry;
  std::vector<TriangleIndex> tris;
  std::vector<double> cumulative;
  double sum = 0;
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t)
    if (g.triangle_region[t] == region) {
      sum += g.area(t);
      tris.push_back(t);
      cumulative.push_back(sum);
    }
  auto unit = [&] { return uniform_open0(rng()); };
  for (std::uint64_t k = 0; k < count; ++k) {
    const double a = unit() * sum;
    const std::size_t idx = std::min<std::size_t>(
        static_cast<std::size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), a) - cumulative.begin()),
        tris.size() - 1);
    const double r1 = std::sqrt(unit()), r2 = unit();
    const std::uint32_t id = new_molecule_id();
    world_.membrane.push({tris[idx], r1 * (1 - r2), r1 * r2}, static_cast<std::uint16_t>(species), id,
                         static_cast<std::uint16_t>(state), draw_membrane_reaction_time(id, species, time_s_));
  }
}

void Simulator::place_initial() {
  std::uint64_t total = 0;
  for (const auto& p : model_.placements) total += p.count;
  for (const auto& r : model_.releases) total += r.count * r.times_s.size();
  if (total > model_.max_molecules)
    throw InputError(Diagnostic{"", 0, 0, "simulation.max_molecules",
                                "the scene would create " + std::to_string(total) +
                                    " molecules, more than the limit of " + std::to_string(model_.max_molecules) +
                                    "; lower the counts or raise the limit"});
  for (std::size_t pi = 0; pi < model_.placements.size(); ++pi) {
    const PlacementDef& p = model_.placements[pi];
    CounterRng rng({model_.seed, static_cast<std::uint32_t>(pi), 0, Purpose::kPlacement});
    switch (p.where) {
      case PlacementDef::Where::kPoint:
        add_volume_molecules(p.species, p.count, p.point, p.compartment);
        break;
      case PlacementDef::Where::kCompartment: {
        const Box3 box = compartment_bounds(p.compartment);
        for (std::uint64_t k = 0; k < p.count; ++k)
          add_volume_molecules(p.species, 1, sample_in_compartment(p.compartment, box, rng), p.compartment);
        break;
      }
      case PlacementDef::Where::kRegion:
        add_membrane_on_region(p.species, p.count, p.region, p.state, rng);
        break;
    }
  }
}

void Simulator::add_observer(Observer* observer, double interval_s) {
  observers_.push_back({observer, interval_s, 0});
}

void Simulator::set_progress(std::function<void(const Simulator&)> callback, double every_s) {
  progress_ = std::move(callback);
  progress_every_s_ = every_s;
}

void Simulator::fire(EventHandle h) {
  const EventPayload payload = queue_.payload(h);
  const double t = queue_.time(h);
  ++stats_.events;
  switch (payload.kind) {
    case kObserve: {
      // Summing currents afresh at each output keeps rounding from accumulating.
      recompute_flux_rates(t);
      ObserverSlot& slot = observers_[payload.target];
      slot.observer->observe(t, *this);
      ++slot.next_k;
      const double next = static_cast<double>(slot.next_k) * slot.interval_s;
      // Times are k·interval (no accumulated drift), and the last one is exactly t_end.
      if (t < model_.t_end_s)
        queue_.push(next < model_.t_end_s * (1 - 1e-12) ? next : model_.t_end_s, {kObserve, payload.target});
      break;
    }
    case kRelease: {
      const ReleaseDef& r = model_.releases[payload.target >> 32];
      add_volume_molecules(r.species, r.count, r.at, r.compartment);
      break;
    }
    case kPoissonRelease: {
      const ReleaseDef& r = model_.releases[payload.target];
      add_volume_molecules(r.species, r.count, r.at, r.compartment);
      schedule_poisson_release(payload.target, t);
      break;
    }
    case kAgent:
      fire_agent(static_cast<std::uint32_t>(payload.target), t);
      break;
    case kAgentWindow:
      world_.membrane.event[payload.target] = kNoEvent;
      schedule_agent(static_cast<std::uint32_t>(payload.target), t);
      break;
    case kBreakpoint: {
      recompute_flux_rates(t);
      sync_influx(t);
      const double next = next_breakpoint(t);
      if (next <= model_.t_end_s) queue_.push(next, {kBreakpoint, 0});
      break;
    }
    case kProduction:
      produce(payload.target, t);
      break;
    case kWellMixed:
      --stats_.events;  // counted as pool reactions
      advance_well_mixed();
      break;
    case kCheckpoint: {
      --stats_.events;  // not part of the model: a checkpointed run counts as an uninterrupted one
      ++checkpoint_k_;
      const double next = static_cast<double>(checkpoint_k_ + 1) * checkpoint_interval_s_;
      // A restored run without a checkpoint interval keeps no schedule (0 would
      // re-queue this event at the same time for ever).
      if (checkpoint_interval_s_ > 0 && next < model_.t_end_s * (1 - 1e-12)) queue_.push(next, {kCheckpoint, 0});
      if (checkpoint_) checkpoint_(*this);
      break;
    }
    default:
      break;
  }
}

void Simulator::schedule_poisson_release(std::size_t release, double t) {
  const ReleaseDef& r = model_.releases[release];
  CounterRng rng({model_.seed, static_cast<std::uint32_t>(release), poisson_count_[release]++, Purpose::kRelease});
  const double when = t - std::log(uniform_open0(rng())) / r.poisson_rate_hz;
  if (when <= model_.t_end_s) queue_.push(when, {kPoissonRelease, release});
}

void Simulator::run() {
  advance(std::numeric_limits<double>::infinity());
}

bool Simulator::advance(double t_limit, std::uint64_t max_steps) {
  const double t_end = model_.t_end_s;
  const double dt = model_.dt_s;
  stopped_ = false;
  if (finished_) return true;
  // Restored on every return: only this call's pools stop at t_limit.
  struct PauseLimit {
    double& limit;
    ~PauseLimit() { limit = std::numeric_limits<double>::infinity(); }
  } pause_guard{pause_limit_};
  pause_limit_ = t_limit;
  if (!started_) {
    poisson_count_.assign(model_.releases.size(), 0);
    for (std::size_t i = 0; i < observers_.size(); ++i) queue_.push(0.0, {kObserve, i});
    for (std::size_t ri = 0; ri < model_.releases.size(); ++ri)
      for (std::size_t ti = 0; ti < model_.releases[ri].times_s.size(); ++ti)
        queue_.push(model_.releases[ri].times_s[ti], {kRelease, (std::uint64_t{ri} << 32) | ti});
    for (std::size_t ri = 0; ri < model_.releases.size(); ++ri)
      if (model_.releases[ri].poisson_rate_hz > 0) schedule_poisson_release(ri, time_s_);
    production_count_.assign(model_.productions.size(), 0);
    for (std::size_t pi = 0; pi < model_.productions.size(); ++pi) {
      CounterRng rng({model_.seed, static_cast<std::uint32_t>(pi), std::uint64_t{1} << 40, Purpose::kProduction});
      const double when = time_s_ - std::log(uniform_open0(rng())) / model_.productions[pi].rate_per_s;
      if (model_.productions[pi].rate_per_s > 0 && when <= t_end) queue_.push(when, {kProduction, pi});
    }
    if (const double bp = next_breakpoint(time_s_); bp <= t_end) queue_.push(bp, {kBreakpoint, 0});
    for (std::size_t a = 0; a < world_.membrane.size(); ++a)
      if (model_.species[world_.membrane.species[a]].agent_type >= 0)
        schedule_agent(static_cast<std::uint32_t>(a), time_s_);
    schedule_well_mixed();
    queue_.push(t_end, {kEnd, 0});
    // Pushed last: checkpoint events take sequence numbers after every other initial
    // event, and they change nothing in the model, so outputs do not depend on them.
    if (checkpoint_interval_s_ > 0 && checkpoint_interval_s_ < t_end * (1 - 1e-12))
      queue_.push(checkpoint_interval_s_, {kCheckpoint, 0});
    anchor_ = time_s_;
    steps_since_anchor_ = 0;
  }
  started_ = true;

  last_report_ = std::chrono::steady_clock::now();
  const std::uint64_t step_budget_end = max_steps > std::numeric_limits<std::uint64_t>::max() - stats_.steps
                                            ? std::numeric_limits<std::uint64_t>::max()
                                            : stats_.steps + max_steps;
  while (!queue_.empty()) {
    // A clean point: everything the loop needs is in members (save_state()).
    if (stop_flag_ && stop_flag_->load(std::memory_order_relaxed)) {
      stopped_ = true;
      if (checkpoint_) checkpoint_(*this);
      return false;
    }
    if (over_budget_ != Limit::kNone && population() <= model_.max_molecules &&
        0xFFFFFFFFull - world_.next_id > 2 * world_.molecule_count() + 2)
      over_budget_ = Limit::kNone;  // counted removed reactants; within the budget after all
    if (over_budget_ != Limit::kNone) {
      stopped_ = true;
      if (checkpoint_) checkpoint_(*this);
      const std::uint64_t n = population();
      const std::string what =
          over_budget_ == Limit::kIds
              ? "the run created nearly 2^32 molecules in all (molecule ids are 32-bit)"
              : "the run has " + std::to_string(n) + " molecules (" + std::to_string(world_.volume.size()) +
                    " in volume, " + std::to_string(world_.membrane.size()) + " on membranes, " +
                    std::to_string(n - world_.molecule_count()) +
                    " in pools), more than simulation.max_molecules = " + std::to_string(model_.max_molecules);
      throw ResourceLimitError(what + " at t = " + std::to_string(time_s_) +
                               " s; the scene makes more molecules than the limit (a release, production or "
                               "reaction that grows without bound?): check its rates, or raise "
                               "simulation.max_molecules if the memory allows (about " +
                               std::to_string(static_cast<int>(kBytesPerMoleculeInMemory)) + " bytes per molecule)");
    }
    // A pause (advance's limits) also waits at a clean point, before the next action
    // that would pass the limit, and changes nothing: continuing gives the same run.
    if (t_limit < t_end || max_steps != std::numeric_limits<std::uint64_t>::max()) {
      const double te = queue_.next_time();
      const bool steps_next = diffusing_ && te >= time_s_ + dt * (1 - 1e-9);
      if (steps_next && stats_.steps >= step_budget_end) return false;
      double next_action = steps_next ? anchor_ + static_cast<double>(steps_since_anchor_ + 1) * dt : te;
      if (!steps_next && !diffusing_ && (has_unimolecular_ || has_membrane_reactions_)) {
        const double tr = next_quiet_reaction_time();
        if (tr < te && tr <= t_end) next_action = tr;
      }
      if (next_action > t_limit && t_limit < t_end) return false;
    }
    report_progress_if_due();
    const double te = queue_.next_time();
    if (diffusing_ && te >= time_s_ + dt * (1 - 1e-9)) {
      const auto step_start = std::chrono::steady_clock::now();
      stats_.molecule_steps += world_.molecule_count();
      capture_time_ = anchor_ + static_cast<double>(steps_since_anchor_ + 1) * dt;
      if (has_capture_) rebuild_capture_index(time_s_);
      ctx_->world = &world_;
      ctx_->capture = has_capture_ ? &capture_ : nullptr;
      if (track_agent_moves_) pre_step_triangle_ = world_.membrane.triangle;
      stepper_->step(*ctx_, world_, this);
      next_reaction_valid_ = false;
      ++stats_.steps;
      ++steps_since_anchor_;
      time_s_ = capture_time_;
      if (track_agent_moves_) reschedule_moved_agents(time_s_);
      // Pairs first: products made by dissociation at this boundary must take a step
      // before their first binding check (the unbinding radius is calibrated so).
      if (!bimolecular_.empty()) fire_bimolecular(time_s_);
      if (has_unimolecular_) fire_unimolecular(time_s_);
      if (has_membrane_reactions_) fire_membrane_reactions(time_s_);
      if (world_.volume.size() + world_.membrane.size() == 0 || !ctx_->anything_diffuses(world_)) diffusing_ = false;
      stats_.step_wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
      continue;
    }
    if (!diffusing_ && (has_unimolecular_ || has_membrane_reactions_)) {
      // Nothing moves: stop the clock exactly at the next unimolecular reaction.
      const double tr = next_quiet_reaction_time();
      const double tv = next_volume_reaction_, tm = next_membrane_reaction_;
      if (tr < te && tr <= t_end) {
        time_s_ = std::max(time_s_, tr);
        if (tv <= tr) fire_unimolecular(tr);
        if (tm <= tr) fire_membrane_reactions(tr);
        next_reaction_valid_ = false;
        diffusing_ = diffusing_ || ctx_->anything_diffuses(world_);
        if (diffusing_) {
          anchor_ = time_s_;
          steps_since_anchor_ = 0;
        }
        continue;
      }
    }
    // The next event comes before the next step boundary: fire it with the world as
    // it is now (at most dt old), or jump the clock to it when nothing moves.
    if (!diffusing_ && te > time_s_) {
      time_s_ = te;
      ++stats_.jumps;
    }
    const EventHandle h = queue_.pop();
    if (queue_.payload(h).kind == kEnd) {
      // Outputs due exactly at t_end still fire, after everything else.
      time_s_ = std::max(time_s_, t_end);
      integrate_flux(t_end);
      while (!queue_.empty() && queue_.next_time() <= t_end) fire(queue_.pop());
      time_s_ = t_end;
      finished_ = true;
      break;
    }
    const bool was_diffusing = diffusing_;
    const std::uint32_t kind = queue_.payload(h).kind;
    fire(h);
    if (kind == kRelease || kind == kPoissonRelease || kind == kProduction || kind == kAgent)
      next_reaction_valid_ = false;
    // Events that add diffusing molecules switch diffusion on themselves; no scan needed.
    if (!was_diffusing && diffusing_) {
      anchor_ = time_s_;
      steps_since_anchor_ = 0;
    }
  }
  finished_ = true;
  if (progress_) progress_(*this);
  return true;
}

double Simulator::next_quiet_reaction_time() {
  // The earliest putative reaction time changes only when molecules change, so a quiet
  // stretch of agent events does not rescan every molecule.
  if (!next_reaction_valid_) {
    next_volume_reaction_ = has_unimolecular_ ? next_unimolecular_time() : kNever;
    next_membrane_reaction_ = has_membrane_reactions_ ? next_membrane_reaction_time() : kNever;
    next_reaction_valid_ = true;
  }
  return std::min(next_volume_reaction_, next_membrane_reaction_);
}

void Simulator::set_checkpoint(double interval_s, std::function<void(const Simulator&)> callback) {
  checkpoint_interval_s_ = interval_s;
  checkpoint_ = std::move(callback);
}

RunState Simulator::save_state() const {
  RunState s;
  s.world = world_;
  s.queue = queue_.export_state();
  s.time_s = time_s_;
  s.diffusing = diffusing_;
  s.anchor_s = anchor_;
  s.steps_since_anchor = steps_since_anchor_;
  s.agent_bound = agent_bound_;
  s.agent_window = agent_window_;
  s.flux_time_s = flux_time_;
  s.ca_rate = ca_rate_;
  s.current_pA = current_pA_;
  s.poisson_count = poisson_count_;
  s.production_count = production_count_;
  s.next_reaction_valid = next_reaction_valid_;
  s.next_volume_reaction = next_volume_reaction_;
  s.next_membrane_reaction = next_membrane_reaction_;
  for (const ObserverSlot& o : observers_) s.observer_next_k.push_back(o.next_k);
  s.checkpoint_k = checkpoint_k_;
  if (pools_) {
    s.has_pools = true;
    s.pools = pools_->state();
    s.pool_event = pool_event_;
  }
  s.pool_reactions = stats_.pool_reactions;
  s.steps = stats_.steps;
  s.events = stats_.events;
  s.jumps = stats_.jumps;
  s.molecule_steps = stats_.molecule_steps;
  s.agent_transitions = stats_.agent_transitions;
  s.captures = stats_.captures;
  s.reactions = stats_.reactions;
  return s;
}

void Simulator::restore_state(RunState s) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("run state does not fit the scene: " + what); };
  const std::size_t n_species = model_.species.size();
  const std::size_t counters = model_.geometry.region_names.size() * n_species;
  const VolumeMolecules& v = s.world.volume;
  const MembraneMolecules& m = s.world.membrane;
  const std::size_t nv = v.size(), nm = m.size();
  if (v.y.size() != nv || v.z.size() != nv || v.species.size() != nv || v.compartment.size() != nv ||
      v.id.size() != nv || v.reaction_time.size() != nv)
    fail("volume molecule arrays differ in length");
  if (m.u.size() != nm || m.v.size() != nm || m.species.size() != nm || m.id.size() != nm || m.state.size() != nm ||
      m.event.size() != nm || m.draws.size() != nm || m.reaction_time.size() != nm || s.agent_bound.size() != nm ||
      s.agent_window.size() != nm)
    fail("membrane molecule arrays differ in length");
  // Checkpoints from before backgrounds hold no ligand-origin counts: all 0 then.
  if (m.ambient_bound.empty() && m.particle_bound.empty()) {
    s.world.membrane.ambient_bound.assign(nm, 0);
    s.world.membrane.particle_bound.assign(nm, 0);
  }
  if (s.world.ambient_bindings.empty()) s.world.ambient_bindings.assign(n_species, 0);
  if (m.ambient_bound.size() != nm || m.particle_bound.size() != nm) fail("membrane molecule arrays differ in length");
  for (std::size_t i = 0; i < nv; ++i)
    if (v.species[i] >= n_species || v.compartment[i] >= model_.geometry.compartment_names.size())
      fail("a volume molecule has an unknown species or compartment");
  for (std::size_t i = 0; i < nm; ++i)
    if (m.species[i] >= n_species || m.triangle[i] >= model_.geometry.triangle_count())
      fail("a membrane molecule has an unknown species or triangle");
  if (s.world.absorbed.size() != counters || s.world.crossed.size() != 2 * counters ||
      s.world.ca_ions.size() != n_species || s.world.charge_pC.size() != n_species ||
      s.world.ambient_bindings.size() != n_species || s.ca_rate.size() != n_species || s.current_pA.size() != n_species)
    fail("per-species counters have the wrong size");
  if (s.poisson_count.size() != model_.releases.size() || s.production_count.size() != model_.productions.size())
    fail("release or production counters have the wrong size");
  if (s.observer_next_k.size() != observers_.size()) fail("the number of observers differs");
  if (s.has_pools != (pools_ != nullptr)) fail("well-mixed pools present in one but not the other");
  if (pools_) {
    try {
      pools_->restore(std::move(s.pools));
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    pool_event_ = s.pool_event;
  }
  try {
    queue_.import_state(std::move(s.queue));
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  world_ = std::move(s.world);
  time_s_ = s.time_s;
  diffusing_ = s.diffusing;
  anchor_ = s.anchor_s;
  steps_since_anchor_ = s.steps_since_anchor;
  agent_bound_ = std::move(s.agent_bound);
  agent_window_ = std::move(s.agent_window);
  flux_time_ = s.flux_time_s;
  ca_rate_ = std::move(s.ca_rate);
  current_pA_ = std::move(s.current_pA);
  poisson_count_ = std::move(s.poisson_count);
  production_count_ = std::move(s.production_count);
  next_reaction_valid_ = s.next_reaction_valid;
  next_volume_reaction_ = s.next_volume_reaction;
  next_membrane_reaction_ = s.next_membrane_reaction;
  for (std::size_t i = 0; i < observers_.size(); ++i) observers_[i].next_k = s.observer_next_k[i];
  checkpoint_k_ = s.checkpoint_k;
  stats_ = {s.steps,    s.events,    s.jumps,         s.molecule_steps, s.agent_transitions,
            s.captures, s.reactions, s.pool_reactions};
  started_ = true;
  finished_ = false;
}

Snapshot Simulator::snapshot() const {
  const Geometry& g = model_.geometry;
  Snapshot s;
  s.time_s = time_s_;
  for (const auto& sp : model_.species) {
    s.species_names.push_back(sp.name);
    s.species_display_radius_um.push_back(sp.display_radius_um);
  }
  s.state_names = {""};
  for (const AgentTypeDef& type : model_.agent_types)
    for (const AgentStateDef& st : type.states) s.state_names.push_back(type.name + ":" + st.name);
  s.region_names = g.region_names;
  s.compartment_names = g.compartment_names;
  const std::size_t n = world_.molecule_count();
  s.positions.reserve(n);
  for (std::size_t i = 0; i < world_.volume.size(); ++i) {
    s.positions.push_back(world_.volume.position(i));
    s.species.push_back(world_.volume.species[i]);
    s.state.push_back(0);
    s.region.push_back(-1);
    s.compartment.push_back(world_.volume.compartment[i]);
    s.ids.push_back(world_.volume.id[i]);
  }
  for (std::size_t i = 0; i < world_.membrane.size(); ++i) {
    const SurfacePoint sp = world_.membrane.point(i);
    s.positions.push_back(surface_point_position(g, sp));
    s.species.push_back(world_.membrane.species[i]);
    const int type = model_.species[world_.membrane.species[i]].agent_type;
    s.state.push_back(type >= 0 ? state_offset_[static_cast<std::size_t>(type)] + world_.membrane.state[i] : 0);
    s.region.push_back(g.triangle_region[sp.triangle]);
    s.compartment.push_back(-1);
    s.ids.push_back(world_.membrane.id[i]);
  }
  return s;
}

}  // namespace spinesim
