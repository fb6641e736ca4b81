// The scheduler: one event queue for every discrete event (outputs, releases, the
// end of the run), Brownian steps of dt only while something diffuses, and a jump
// straight to the next event when nothing does.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "core/random.h"
#include "engine/diffusion.h"
#include "engine/event_queue.h"
#include "engine/pool_ssa.h"
#include "engine/run_state.h"
#include "engine/snapshot.h"
#include "engine/stepper.h"
#include "engine/world.h"
#include "geometry/spatial_grid.h"
#include "geometry/surface_walk.h"
#include "model/model.h"

namespace spinesim {

class Simulator;

/// Called by the scheduler at its output times with a read-only view of the run.
/// Observers may write files; the engine does not know what they write.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void observe(double time_s, const Simulator& sim) = 0;
};

/// Counters of what the scheduler did; for progress lines and benchmarks.
struct SchedulerStats {
  std::uint64_t steps = 0;   ///< Brownian steps taken
  std::uint64_t events = 0;  ///< discrete events fired
  std::uint64_t jumps = 0;   ///< clock jumps over quiet time
  std::uint64_t molecule_steps = 0;
  std::uint64_t agent_transitions = 0;  ///< agent state changes by rate (not captures)
  std::uint64_t captures = 0;           ///< ligands bound by agents on collision
  std::uint64_t reactions = 0;          ///< volume reactions fired
  std::uint64_t pool_reactions = 0;     ///< well-mixed pool reactions fired
  // Wall time (s) spent in Brownian steps and in the pools' SSA, for benchmarks.
  double step_wall_s = 0, pool_wall_s = 0;
};

class Simulator final : private CaptureSink {
 public:
  /// Builds the spatial index and places the initial molecules. `model` must outlive
  /// the simulator. Throws InputError if a placement is impossible.
  Simulator(const Model& model, std::unique_ptr<Stepper> stepper);
  ~Simulator() override;

  /// Registers an observer fired at 0, interval, 2·interval, … and at t_end.
  /// Must be called before run(). The simulator does not own it.
  void add_observer(Observer* observer, double interval_s);
  /// Called roughly every `every_s` of wall time during run().
  void set_progress(std::function<void(const Simulator&)> callback, double every_s = 2.0);

  /// Calls `callback` at interval, 2·interval, … (simulated s, before t_end), at a
  /// clean point of the loop: save_state() then captures a state that run() can
  /// continue from exactly. Must be called before run().
  void set_checkpoint(double interval_s, std::function<void(const Simulator&)> callback);
  /// When *flag becomes true (e.g. from a signal handler), run() finishes the step
  /// or event in progress, calls the checkpoint callback (if any) and returns early.
  void set_stop_flag(const std::atomic<bool>* flag) { stop_flag_ = flag; }

  /// Runs to model().t_end_s, or until the stop flag is raised (see stopped()).
  /// After restore_state(), continues the restored run instead of starting one.
  /// Throws ResourceLimitError, after calling the checkpoint callback, when the
  /// molecules (particles and pool molecules) pass simulation.max_molecules.
  void run();
  /// Runs until every step, reaction and event at or before `t_limit` (s) has happened,
  /// or `max_steps` more Brownian steps have been taken, or t_end is reached; then
  /// pauses at a clean point. Calling it again continues the same run: any sequence
  /// of advances gives the same outputs as one run(). time() is the time of the last
  /// thing that happened (≤ t_limit). Returns true once t_end has been reached.
  bool advance(double t_limit, std::uint64_t max_steps = std::numeric_limits<std::uint64_t>::max());
  bool finished() const { return finished_; }
  /// Whether the last run() returned early because of the stop flag.
  bool stopped() const { return stopped_; }

  /// The complete mutable state of the run (valid inside the checkpoint callback and
  /// after run() returns).
  RunState save_state() const;
  /// Replaces the run state by one saved from a simulator of the same model, with the
  /// same observers added in the same order. Throws std::invalid_argument when the
  /// state does not fit the model.
  void restore_state(RunState state);

  const Model& model() const { return model_; }
  const World& world() const { return world_; }
  World& mutable_world() { return world_; }
  const SpatialGrid& grid() const { return *grid_; }
  const SurfaceTopology& topology() const { return *topology_; }
  const DiffusionContext& diffusion_context() const { return *ctx_; }
  double time() const { return time_s_; }
  const SchedulerStats& stats() const { return stats_; }
  const Stepper& stepper() const { return *stepper_; }
  /// Count of a well-mixed pool species now.
  std::int64_t pool_count(int pool_species) const { return pools_->count(pool_species); }

  /// Positions, species and regions of every molecule now.
  Snapshot snapshot() const;
  /// Membrane potential (mV) and a clamped ligand's concentration (µM) at time t.
  double voltage_mV(double t) const { return model_.membrane_potential_mV.at(t); }
  double clamp_uM(int clamp, double t) const { return model_.clamps[static_cast<std::size_t>(clamp)].profile.at(t); }
  /// Cumulative Ca2+ ions and charge (pC) through each species' agents up to now,
  /// and the current (pA) flowing now.
  double ca_ions(int species) const;
  double charge_pC(int species) const;
  double current_pA(int species) const { return current_pA_[static_cast<std::size_t>(species)]; }
  /// Ligands the agents of `species` have bound from a background so far.
  std::uint64_t ambient_bindings(int species) const {
    return world_.ambient_bindings[static_cast<std::size_t>(species)];
  }
  /// Offset of an agent type's states in the snapshot's global state table.
  int state_offset(int agent_type) const { return state_offset_[static_cast<std::size_t>(agent_type)]; }
  /// Current rate (1/s) of an agent transition at time t for an agent whose binding
  /// side faces `compartment`: first order, a clamped ligand, or the background of a
  /// particle ligand there (particles themselves bind by collision, not by rate).
  double transition_rate(const AgentTransitionDef& tr, int compartment, double t) const;
  /// Compartment from which volume ligands reach agent `a` (its binding side).
  int binding_compartment(std::uint32_t a) const;
  /// Index into Model::backgrounds of `species` in `compartment`, or -1.
  int background_index(int species, int compartment) const {
    return background_index_.empty()
               ? -1
               : background_index_[static_cast<std::size_t>(species) * model_.geometry.compartment_names.size() +
                                   static_cast<std::size_t>(compartment)];
  }
  /// Compartment containing p (-1 on a wall), using the grid's per-cell cache.
  int compartment_at(const Vec3& p) const;

 private:
  enum EventKind : std::uint32_t {
    kObserve = 1,
    kRelease = 2,
    kEnd = 3,
    kAgent = 4,           ///< target: membrane index; candidate transition time (thinning)
    kAgentWindow = 5,     ///< target: membrane index; end of the agent's bound window
    kBreakpoint = 6,      ///< the membrane potential or a clamp changes form
    kPoissonRelease = 7,  ///< target: release index
    kProduction = 8,      ///< target: production index
    kCheckpoint = 9,      ///< target: unused; a checkpoint at checkpoint_k_ · interval
    kWellMixed = 10,      ///< target: unused; the pools' pending candidate (or window end)
  };
  void place_initial();
  /// Earliest unimolecular or membrane reaction while nothing diffuses (cached).
  double next_quiet_reaction_time();
  void schedule_poisson_release(std::size_t release, double t);
  // Agents (simulator_agents.cpp).
  void init_agents();
  void schedule_agent(std::uint32_t agent, double t);
  void fire_agent(std::uint32_t agent, double t);
  void set_agent_state(std::uint32_t agent, int state, double t);
  void integrate_flux(double t);
  void recompute_flux_rates(double t);
  double next_breakpoint(double t) const;
  void rebuild_capture_index(double t);
  bool on_capture(std::size_t ligand, std::uint32_t agent, std::uint16_t transition) override;
  void release_ligand(std::uint32_t agent, int species);
  /// The concentration profile a ligand transition follows for an agent facing
  /// `compartment`: its clamp, or the background of its particle species; null if none.
  const TimeProfile* ligand_profile(const AgentTransitionDef& tr, int compartment) const;
  /// Bookkeeping of a transition's ligand for an agent that has a background ligand;
  /// returns whether an unbinding step gives a particle back.
  bool note_bound_ligand(std::uint32_t agent, const AgentTransitionDef& tr, bool by_capture);
  /// After a Brownian step: redraws the pending event of every agent that moved to a
  /// triangle whose binding side faces another compartment (its background changed).
  void reschedule_moved_agents(double t);
  // Volume reactions (simulator_reactions.cpp).
  void init_reactions();
  double draw_reaction_time(std::uint32_t id, int species, double t) const;
  void fire_unimolecular(double t);
  void fire_bimolecular(double t);
  void produce(std::size_t production, double t);
  double next_unimolecular_time() const;
  bool place_product(const Vec3& from, Vec3 to, int compartment, Vec3& out) const;
  // Membrane reactions (simulator_membrane_reactions.cpp).
  void init_membrane_reactions();
  double draw_membrane_reaction_time(std::uint32_t id, int species, double t) const;
  double next_membrane_reaction_time() const;
  void fire_membrane_reactions(double t);
  /// Removes membrane molecules with keep[i] == 0, keeping order, and re-points the
  /// pending events and per-agent data of the agents that moved.
  void compact_membrane(const std::vector<std::uint8_t>& keep);
  // Well-mixed pools (simulator_well_mixed.cpp).
  void init_well_mixed();
  void schedule_well_mixed();
  /// Runs the pools' SSA from their pending event up to the next other event.
  void advance_well_mixed();
  /// Tells the pools the agents' current Ca2+ influx (after agent states changed).
  void sync_influx(double t);
  /// Ca2+ ions/s through the agents of `species` at time t, summed afresh (no
  /// accumulated rounding, so the pools see the same rate however often outputs run).
  double ca_influx_now(int species, double t) const;
  /// Whether agent `a` has just entered a state that moves it into a pool; if so,
  /// removes it from the membrane and adds it to the pool.
  bool exit_to_pool(std::uint32_t a, double t);
  void insert_agent(int pool_species, double t);
  void add_volume_molecules(int species, std::uint64_t count, const Vec3& at, int compartment);
  /// Every molecule the engine makes takes its id here: the one place that keeps the
  /// population within simulation.max_molecules and the 32-bit ids from wrapping. It
  /// only notes a possible excess (over_budget_); the run loop recounts exactly at its
  /// next clean point and stops there. `adds` is false for a molecule that takes a
  /// reactant's place (A → B), which needs a fresh id but adds nothing.
  std::uint32_t new_molecule_id(bool adds = true);
  /// Particles plus pool molecules now.
  std::uint64_t population() const;
  /// After the pools changed: notes an excess of the budget, as new_molecule_id() does.
  void check_pool_budget();
  void report_progress_if_due();
  /// Places `count` membrane molecules uniformly by area on `region`.
  void add_membrane_on_region(int species, std::uint64_t count, int region, int state, CounterRng& rng);
  void fire(EventHandle h);
  Box3 compartment_bounds(int compartment) const;
  /// Uniform point in `compartment` by rejection from `box` (its bounds).
  Vec3 sample_in_compartment(int compartment, const Box3& box, CounterRng& rng) const;

  const Model& model_;
  World world_;
  std::unique_ptr<SpatialGrid> grid_;
  std::unique_ptr<SurfaceTopology> topology_;
  std::unique_ptr<DiffusionContext> ctx_;
  std::unique_ptr<Stepper> stepper_;
  EventQueue queue_;
  struct ObserverSlot {
    Observer* observer;
    double interval_s;
    std::uint64_t next_k;
  };
  std::vector<ObserverSlot> observers_;
  // Per triangle-free cell: its compartment, or -2 until first asked. Filled lazily by
  // compartment_at(), which is therefore not thread-safe (placement is serial).
  mutable std::vector<std::int32_t> cell_compartment_;
  double time_s_ = 0;
  bool diffusing_ = false;
  // Steps are counted from the moment diffusion (re)starts so step boundaries are
  // anchor + n·dt exactly, without summing dt.
  double anchor_ = 0;
  std::uint64_t steps_since_anchor_ = 0;
  bool started_ = false;   ///< initial events queued (by run/advance or restore_state)
  bool finished_ = false;  ///< t_end reached
  /// advance()'s time limit while it runs (infinity otherwise): the pools' run-on stops there.
  double pause_limit_ = std::numeric_limits<double>::infinity();
  bool stopped_ = false;
  const std::atomic<bool>* stop_flag_ = nullptr;
  double checkpoint_interval_s_ = 0;
  std::uint64_t checkpoint_k_ = 0;  ///< checkpoints taken so far by schedule
  std::function<void(const Simulator&)> checkpoint_;
  SchedulerStats stats_;
  std::function<void(const Simulator&)> progress_;
  double progress_every_s_ = 2.0;
  std::chrono::steady_clock::time_point last_report_ = std::chrono::steady_clock::now();
  std::uint32_t since_progress_check_ = 0;
  /// Set when a creation may have passed the budget (or ids ran short).
  enum class Limit : std::uint8_t { kNone, kMolecules, kIds };
  Limit over_budget_ = Limit::kNone;

  // Agent kinetics.
  std::vector<double> agent_bound_;   ///< per membrane molecule: thinning bound (1/s) of its pending candidate
  std::vector<double> agent_window_;  ///< per membrane molecule: end of the bound's validity
  std::vector<int> state_offset_;     ///< per agent type
  std::vector<std::uint8_t> type_has_continuous_;  ///< per agent type: a rate follows a smooth profile
  /// Per (species, compartment), species-major: index into Model::backgrounds or -1;
  /// empty when the scene has no backgrounds.
  std::vector<int> background_index_;
  std::vector<std::uint8_t> has_background_;        ///< per species: it has a background somewhere
  std::vector<std::uint8_t> type_sees_background_;  ///< per agent type: it binds a ligand that has one
  /// Triangles of membrane molecules before the step in progress, kept only when
  /// agents that see a background can move (reschedule_moved_agents).
  bool track_agent_moves_ = false;
  std::vector<std::uint32_t> pre_step_triangle_;
  bool has_capture_ = false;
  CaptureIndex capture_;
  double capture_time_ = 0;                   ///< end time of the step being taken (captures happen then)
  double flux_time_ = 0;                      ///< time up to which ca_ions/charge are integrated
  std::vector<double> ca_rate_, current_pA_;  ///< per species, now
  // Volume reactions.
  std::vector<double> unimolecular_total_;  ///< per species: sum of its unimolecular rates (1/s)
  std::vector<int> bimolecular_;            ///< indices of bimolecular reactions
  bool has_unimolecular_ = false;
  std::vector<std::uint32_t> bimolecular_start_, bimolecular_cell_, bimolecular_members_;  ///< pair-search buffers
  struct PairSearchBuffers;                          // defined in simulator_reactions.cpp
  std::shared_ptr<PairSearchBuffers> pair_buffers_;  // shared_ptr: its type is complete only there
  std::vector<std::uint64_t> production_count_;
  std::vector<std::uint64_t> poisson_count_;         ///< spontaneous releases drawn so far, per release
  std::vector<double> membrane_unimolecular_total_;  ///< per species (1/s)
  bool has_membrane_reactions_ = false;
  // Well-mixed pools.
  std::unique_ptr<WellMixedSystem> pools_;
  EventHandle pool_event_ = kNoEvent;
  std::vector<std::vector<int>> exit_pool_species_;  ///< per species, per agent state: pool species or −1
  std::vector<std::pair<int, int>> influx_;          ///< (pool reaction, agent species)
  // Cache of the earliest putative unimolecular reaction times (volume, membrane).
  bool next_reaction_valid_ = false;
  double next_volume_reaction_ = 0, next_membrane_reaction_ = 0;  ///< molecules made so far, per production
};

}  // namespace spinesim
