// The run API: one simulation of one scene, driven step by step from C++ or Python.
// It owns the compiled model, the simulator and an in-memory record of the counts
// table (the columns of counts.csv, same values), and writes no files. Any sequence of
// advance_to / advance_steps gives the same run as `spinesim run` with the same scene,
// seed and thread count: same counts, same molecules, byte for byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/simulator.h"
#include "engine/snapshot.h"
#include "model/model.h"

namespace spinesim {
struct LoadedScene;
}

namespace spinesim::api {

struct RunOptions {
  std::optional<std::uint64_t> seed;  ///< replaces simulation.seed
  std::optional<double> t_end_s;      ///< replaces simulation.t_end_s
  int threads = 1;                    ///< 1: serial reference stepper; more: oneTBB (same output)
  /// "FIELD=value" assignments applied to the scene before it is checked, as
  /// `spinesim run --set` / ensemble sweeps take them (e.g. "release[0].count=500").
  std::vector<std::string> set;
};

class Run {
 public:
  /// Loads, checks and compiles a scene file; throws InputError naming file, line and
  /// field for anything wrong, like `spinesim validate`.
  static Run from_file(const std::filesystem::path& scene_file, const RunOptions& options = {});
  /// The same for scene text (protobuf text format). Relative mesh and pathway paths
  /// resolve against the directory of `name`, which also names the scene in errors.
  static Run from_text(const std::string& text, const std::filesystem::path& name, const RunOptions& options = {});
  /// A scene loaded already (io/scene_loader.h), e.g. once per ensemble sweep point
  /// and copied for each replicate with its own model.seed.
  static Run from_loaded(LoadedScene scene, int threads = 1);

  Run(Run&&) noexcept;
  Run& operator=(Run&&) noexcept;
  ~Run();

  const Model& model() const;
  /// The scene as run (overrides applied, defaults written out, paths absolute).
  const std::string& resolved_scene() const;
  /// Time (s) of the last thing that happened; t_end once finished.
  double time() const;
  double t_end() const;
  bool finished() const;
  int threads() const { return threads_; }

  /// Runs every step, reaction and event at or before t (s); true once t_end is reached.
  bool advance_to(double t_s);
  /// Takes n more Brownian steps (with the events between them), or runs to the end
  /// if nothing diffuses; true once t_end is reached.
  bool advance_steps(std::uint64_t n);
  /// Runs to t_end.
  void run_to_end();

  /// The counts.csv columns (without time_s) and the rows recorded so far, one per
  /// output time (simulation.counts_interval_s): rows()[k] holds time first, then
  /// one value per column.
  const std::vector<std::string>& count_columns() const;
  const std::vector<std::vector<double>>& count_rows() const;
  /// Every molecule and agent now: positions (µm), species, state, region,
  /// compartment, ids.
  Snapshot snapshot() const;
  const SchedulerStats& stats() const;
  const Simulator& simulator() const;

  /// The run's complete state as checkpoint bytes (the format of `spinesim run`'s
  /// checkpoint.N.pb, CRC-checked): resolved scene, engine state, threads and the
  /// counts recorded so far (exact to the bit). Write them anywhere.
  std::string checkpoint() const;
  /// A run continued from checkpoint() bytes: it goes on exactly as the original
  /// would have. `name` names the bytes in errors (e.g. the file they came from).
  /// Throws CorruptCheckpoint / CheckpointVersionError (IoError) for bad bytes.
  static Run from_checkpoint(const std::string& bytes, const std::filesystem::path& name);

 private:
  struct State;
  explicit Run(std::unique_ptr<State> state, int threads);
  std::unique_ptr<State> state_;
  int threads_ = 1;
};

}  // namespace spinesim::api
