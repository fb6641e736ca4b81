// The scheduler: one event queue for every discrete event (outputs, releases, the
// end of the run), Brownian steps of dt only while something diffuses, and a jump
// straight to the next event when nothing does.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "core/random.h"
#include "engine/diffusion.h"
#include "engine/event_queue.h"
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
};

class Simulator {
 public:
  /// Builds the spatial index and places the initial molecules. `model` must outlive
  /// the simulator. Throws InputError if a placement is impossible.
  Simulator(const Model& model, std::unique_ptr<Stepper> stepper);

  /// Registers an observer fired at 0, interval, 2·interval, … and at t_end.
  /// Must be called before run(). The simulator does not own it.
  void add_observer(Observer* observer, double interval_s);
  /// Called roughly every `every_s` of wall time during run().
  void set_progress(std::function<void(const Simulator&)> callback, double every_s = 2.0);

  /// Runs to model().t_end_s.
  void run();

  const Model& model() const { return model_; }
  const World& world() const { return world_; }
  World& mutable_world() { return world_; }
  const SpatialGrid& grid() const { return *grid_; }
  const SurfaceTopology& topology() const { return *topology_; }
  const DiffusionContext& diffusion_context() const { return *ctx_; }
  double time() const { return time_s_; }
  const SchedulerStats& stats() const { return stats_; }
  const Stepper& stepper() const { return *stepper_; }

  /// Positions, species and regions of every molecule now.
  Snapshot snapshot() const;
  /// Compartment containing p (-1 on a wall), using the grid's per-cell cache.
  int compartment_at(const Vec3& p) const;

 private:
  enum EventKind : std::uint32_t { kObserve = 1, kRelease = 2, kEnd = 3 };
  void place_initial();
  void add_volume_molecules(int species, std::uint64_t count, const Vec3& at, int compartment);
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
  SchedulerStats stats_;
  std::function<void(const Simulator&)> progress_;
  double progress_every_s_ = 2.0;
};

}  // namespace spinesim
