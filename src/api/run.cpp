#include "api/run.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "core/error.h"
#include "engine/parallel/tbb_stepper.h"
#include "io/checkpoint.h"
#include "io/counts_writer.h"
#include "io/scene_loader.h"

namespace spinesim::api {

namespace {

/// Keeps every counts row in memory, exactly as CountsWriter would format them.
class CountsRecorder final : public Observer {
 public:
  explicit CountsRecorder(const Model& model) : columns_(model) {}
  void observe(double time_s, const Simulator& sim) override {
    columns_.values(time_s, sim, scratch_);
    std::vector<double> row;
    row.reserve(scratch_.size() + 1);
    row.push_back(time_s);
    row.insert(row.end(), scratch_.begin(), scratch_.end());
    rows_.push_back(std::move(row));
  }
  const std::vector<std::string>& names() const { return columns_.names(); }
  const std::vector<std::vector<double>>& rows() const { return rows_; }
  std::vector<std::vector<double>>& mutable_rows() { return rows_; }

 private:
  CountColumns columns_;
  std::vector<double> scratch_;
  std::vector<std::vector<double>> rows_;
};

int checked_threads(int threads) {
  if (threads < 1) throw InputError({Diagnostic{"", 0, 0, "threads", "threads must be ≥ 1"}});
  return threads;
}

SceneOverrides overrides_of(const RunOptions& options) {
  checked_threads(options.threads);
  SceneOverrides o;
  o.seed = options.seed;
  o.t_end_s = options.t_end_s;
  for (const auto& a : options.set) o.assignments.push_back(parse_field_assignment(a));
  return o;
}

}  // namespace

// The model lives here, before the simulator that refers to it; neither moves again.
struct Run::State {
  explicit State(LoadedScene scene, int threads)
      : loaded(std::move(scene)), sim(loaded.model, make_stepper(threads)), counts(loaded.model) {
    sim.add_observer(&counts, loaded.model.counts_interval_s);
  }
  LoadedScene loaded;
  Simulator sim;
  CountsRecorder counts;
};

Run::Run(std::unique_ptr<State> state, int threads) : state_(std::move(state)), threads_(threads) {}
Run::Run(Run&&) noexcept = default;
Run& Run::operator=(Run&&) noexcept = default;
Run::~Run() = default;

Run Run::from_file(const std::filesystem::path& scene_file, const RunOptions& options) {
  return Run(std::make_unique<State>(load_scene(scene_file, overrides_of(options)), options.threads), options.threads);
}

Run Run::from_text(const std::string& text, const std::filesystem::path& name, const RunOptions& options) {
  return Run(std::make_unique<State>(load_scene_text(text, name, overrides_of(options)), options.threads),
             options.threads);
}

Run Run::from_loaded(LoadedScene scene, int threads) {
  return Run(std::make_unique<State>(std::move(scene), checked_threads(threads)), threads);
}

const Model& Run::model() const {
  return state_->loaded.model;
}
const std::string& Run::resolved_scene() const {
  return state_->loaded.resolved_text;
}
double Run::time() const {
  return state_->sim.time();
}
double Run::t_end() const {
  return state_->loaded.model.t_end_s;
}
bool Run::finished() const {
  return state_->sim.finished();
}
bool Run::advance_to(double t_s) {
  return state_->sim.advance(t_s);
}
bool Run::advance_steps(std::uint64_t n) {
  return state_->sim.advance(std::numeric_limits<double>::infinity(), n);
}
void Run::run_to_end() {
  state_->sim.advance(std::numeric_limits<double>::infinity());
}
const std::vector<std::string>& Run::count_columns() const {
  return state_->counts.names();
}
const std::vector<std::vector<double>>& Run::count_rows() const {
  return state_->counts.rows();
}
Snapshot Run::snapshot() const {
  return state_->sim.snapshot();
}
const SchedulerStats& Run::stats() const {
  return state_->sim.stats();
}
const Simulator& Run::simulator() const {
  return state_->sim;
}

// The counts rows travel in the checkpoint's counts_csv field as rows of %.17g
// numbers (every double round-trips): the recorder's values, not counts.csv's
// formatted text.
std::string Run::checkpoint() const {
  Checkpoint cp;
  cp.program_version = "api";
  cp.scene_text = state_->loaded.resolved_text;
  cp.threads = threads_;
  cp.state = state_->sim.save_state();
  std::string rows;
  char buf[40];
  for (const auto& row : state_->counts.rows()) {
    for (std::size_t k = 0; k < row.size(); ++k) {
      std::snprintf(buf, sizeof buf, k == 0 ? "%.17g" : ",%.17g", row[k]);
      rows += buf;
    }
    rows += "\n";
  }
  cp.counts_csv = std::move(rows);
  return encode_checkpoint(cp);
}

Run Run::from_checkpoint(const std::string& bytes, const std::filesystem::path& name) {
  Checkpoint cp = decode_checkpoint(bytes, name);
  auto state = std::make_unique<State>(load_scene_text(cp.scene_text, name), cp.threads);
  try {
    state->sim.restore_state(std::move(cp.state));
  } catch (const std::invalid_argument& e) {
    throw IoError(name.string() + ": " + e.what() + " (was the checkpoint written for another scene?)");
  }
  std::istringstream rows(cp.counts_csv);
  for (std::string line; std::getline(rows, line);) {
    std::vector<double> row;
    const char* p = line.c_str();
    while (*p != '\0') {
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p) throw IoError(name.string() + ": malformed counts rows in the checkpoint");
      row.push_back(v);
      p = *end == ',' ? end + 1 : end;
    }
    state->counts.mutable_rows().push_back(std::move(row));
  }
  const int threads = cp.threads;
  return Run(std::move(state), threads);
}

}  // namespace spinesim::api
