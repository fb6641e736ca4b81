// `spinesim run`, `validate` and `render`: load a scene, run it into a run
// directory with counts, VTK frames, the mesh, the resolved scene, run.json and a
// PNG; check a scene without running; draw a run.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string_view>
#include <thread>

#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/error.h"
#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "io/checkpoint.h"
#include "io/counts_writer.h"
#include "io/footprint.h"
#include "io/run_info.h"
#include "io/scene_loader.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "viz/render.h"
#include "viz/vtk_export.h"

namespace spinesim::cli {

namespace fs = std::filesystem;

namespace {

const char* kRunHelp =
    R"(usage: spinesim run SCENE --out DIR [--seed S] [--threads N] [--t-end T] [--checkpoint-every T]
                    [--overwrite] [--quiet]

Runs SCENE (protobuf text format, see docs/scene-format.md) and writes into DIR:
  counts.csv             time_s, then molecules per species@compartment / species@region,
                         agent states, open channels, current and Ca2+ influx, and cumulative
                         absorbed: and crossed_in:/crossed_out: counts per region
  frames/NNNNN.vtp       molecule positions with species, state, region arrays
  frames.pvd             the frames as one ParaView time series
  mesh.vtp               the surfaces with region ids
  scene.resolved.pbtxt   the scene as run (defaults written out, overrides applied)
  run.json               command line, seed, version, threads, wall time, step counts
  render.png             the last frame (when output.render_png is true and a display exists)
  checkpoint.N.pb        while the run is unfinished: the last two checkpoints (see resume)

Options:
  --out DIR      run directory (created if missing; files are replaced atomically)
  --seed S       random seed, replaces simulation.seed
  --threads N    worker threads (default: all cores); N = 1 runs the serial reference stepper.
                 Outputs are byte-identical for every N.
  --t-end T      end time in s, replaces simulation.t_end_s
  --checkpoint-every T  write a checkpoint every T simulated seconds (DIR/checkpoint.N.pb,
                 the last two kept; removed when the run finishes). After a crash or kill,
                 `spinesim resume DIR` continues with byte-identical outputs.
                 SIGINT/SIGTERM always write a checkpoint and exit with status 4.
  --overwrite    replace the run already in DIR (refused otherwise, so no result is lost);
                 the new run is written to DIR.partial beside DIR and moved into DIR
                 when it has finished, so a failed run leaves the old one whole
  --quiet        no progress lines

One writer per directory: while a run, resume or ensemble writes DIR it holds
DIR/.spinesim.lock, and a second writer is refused at once naming its PID (exit 3).
A lock left by a killed writer is taken over by the next one.

A run whose molecules (particles and pool molecules) pass simulation.max_molecules —
a release, production or reaction that grows without bound — stops with a checkpoint
and counts.csv kept, names the count and the time, and exits with status 3.

Example:
  spinesim run scenes/spine_glutamate.pbtxt --out runs/demo --seed 7 --threads 2
)";

const char* kResumeHelp = R"(usage: spinesim resume DIR [--threads N] [--quiet]

Continues the unfinished run in DIR from its newest valid checkpoint (checkpoint.N.pb,
written by `run --checkpoint-every T` or when a run or resume is stopped by SIGINT or
SIGTERM). A truncated or corrupt checkpoint is detected by its checksum and skipped in
favour of the one before it. counts.csv and frames come out byte-identical to an
uninterrupted run, for any --threads. The scene, seed and checkpoint interval are
those of the original run (the checkpoint holds the resolved scene). counts.csv must
still begin with the rows the checkpoint saw (its length and CRC-32 are in the
checkpoint); a counts.csv changed, cut or deleted since is refused, changing nothing.
A finished run (run.json and no checkpoint) is left as it is, with exit status 0.

A run started with --overwrite --out NAME is written to NAME.partial beside NAME;
`spinesim resume NAME.partial` finishes it and replaces the NAME beside it, from any
working directory. It is refused, changing nothing, when that is ambiguous:
NAME.partial renamed, moved away from NAME, or beside another NAME while the run it
was written for still exists.

Options:
  --threads N    worker threads (default: those of the original run)
  --quiet        no progress lines

Example:
  spinesim resume runs/demo
)";

const char* kValidateHelp = R"(usage: spinesim validate SCENE [--verbose] [--intersections FILE.vtp]

Checks SCENE without running it and lists every problem as FILE:LINE:COLUMN: FIELD: MESSAGE.
Exit status 0 when the scene can run, 2 otherwise.

  --verbose        also list every intersecting triangle pair of an imported surface (up
                   to 1000 per surface or pair of surfaces), not only the first
  --intersections FILE.vtp
                   write those triangles to FILE.vtp for ParaView: cell arrays "pair"
                   (k for the k-th pair, both triangles), "triangle" (index in its
                   surface's file) and "group" (index into the field array "groups":
                   a surface, or two surfaces "a x b" that meet)

Example:
  spinesim validate scenes/spine_glutamate.pbtxt
  spinesim validate my_cad_spine.pbtxt --verbose --intersections crossing.vtp
)";

void print_diagnostics(const std::vector<Diagnostic>& list) {
  for (const auto& d : list) std::cerr << d.format() << "\n";
}

/// Writes frames/NNNNN.vtp and keeps frames.pvd listing them.
class FrameObserver final : public Observer {
 public:
  explicit FrameObserver(const fs::path& run_dir, const Checkpoint* resume = nullptr)
      : dir_(run_dir),
        pvd_(resume ? PvdWriter(run_dir / "frames.pvd", resume->pvd) : PvdWriter(run_dir / "frames.pvd")),
        count_(resume ? resume->frame_count : 0) {
    fs::create_directories(dir_ / "frames");
  }
  std::size_t count() const { return count_; }
  std::vector<std::pair<double, std::string>> entries() const { return pvd_.entries(); }
  void observe(double time_s, const Simulator& sim) override {
    char name[32];
    std::snprintf(name, sizeof name, "%05zu.vtp", count_++);
    Snapshot s = sim.snapshot();
    s.time_s = time_s;
    write_frame_vtp(s, dir_ / "frames" / name);
    pvd_.add(time_s, std::string("frames/") + name);
  }

 private:
  fs::path dir_;
  PvdWriter pvd_;
  std::size_t count_ = 0;
};

/// Moves the finished run in `fresh` over the earlier run in `dir`: files of the
/// earlier run that the new one does not have (frames of a longer run, a render) go.
void replace_run(const fs::path& fresh, const fs::path& dir) {
  for (const char* f : {"counts.csv", "frames.pvd", "mesh.vtp", "scene.resolved.pbtxt", "run.json", "render.png"}) {
    std::error_code ec;
    if (fs::exists(fresh / f))
      fs::rename(fresh / f, dir / f);
    else
      fs::remove(dir / f, ec);
  }
  std::error_code ec;
  fs::remove_all(dir / "frames", ec);
  if (fs::exists(fresh / "frames")) fs::rename(fresh / "frames", dir / "frames");
  fs::remove_all(fresh, ec);
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

/// `dir` without a trailing separator, and absolute when its last part is "." or
/// "..": the name DIR.partial beside it must be a sibling, never a file inside it.
fs::path directory_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  while (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  if (p.empty() || p.filename() == "." || p.filename() == "..") {
    p = fs::absolute(p).lexically_normal();
    while (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  }
  return p;
}

constexpr const char* kPartialSuffix = ".partial";

/// Where a run that replaces `final_dir` (--overwrite) is written until it finishes.
fs::path partial_dir_for(const fs::path& final_dir) {
  return final_dir.parent_path() / (final_dir.filename().string() + kPartialSuffix);
}

/// For `resume DIR`: the run directory that the run in DIR replaces when it finishes
/// (DIR itself for a plain run). DIR is a NAME.partial written by `run --overwrite`
/// beside the run NAME it replaces; that run is found from DIR's own location, never
/// from the working directory (an older spinesim stored it relative to the working
/// directory of the run, which made a resume from elsewhere replace another run).
/// Anything that does not fit together is refused rather than guessed.
fs::path resume_target(const fs::path& dir, const Checkpoint& cp, const fs::path& file) {
  if (cp.final_dir.empty()) return dir;
  const fs::path stored = directory_name(fs::path(cp.final_dir));
  const fs::path here = directory_name(fs::absolute(dir));
  const std::string name = stored.filename().string();
  const fs::path beside = here.parent_path() / name;
  const std::string how = "; to discard it and start again, run the scene with --overwrite --out " +
                          (stored.is_absolute() ? stored : beside).string();
  if (here.filename().string() != name + kPartialSuffix)
    throw IoError(file.string() + " belongs to a run that replaces " + stored.string() +
                  " when it finishes and lives in " + name + kPartialSuffix + " beside it, but it is in " +
                  here.string() + ", so which run it replaces is ambiguous; rename " + here.string() + " back to " +
                  name + kPartialSuffix + " beside the run it replaces and resume that" + how);
  std::error_code ec;
  if (!fs::is_directory(beside, ec))
    throw IoError(
        file.string() + " belongs to a run that replaces " + beside.string() +
        (stored.is_absolute() && stored != beside ? " (written for " + stored.string() + ")" : std::string()) +
        " when it finishes, but that directory is not there; move " + here.string() + " back to " +
        (stored.is_absolute() ? partial_dir_for(stored).string() : std::string("beside the run it replaces")) +
        ", or create " + beside.string() + " (empty) for the resumed run to go there" + how);
  if (stored.is_absolute() && stored != beside && fs::exists(stored / "run.json", ec) &&
      !fs::equivalent(stored, beside, ec))
    throw IoError(file.string() + " was written to replace " + stored.string() + ", which still holds a run, but " +
                  here.string() + " now lies beside " + beside.string() +
                  ", so which run it replaces is ambiguous; move " + here.string() + " back beside " + stored.string() +
                  ", or move " + stored.string() + " away to replace " + beside.string());
  return beside;
}

/// Locks `dir` and says so when it takes over the lock of a writer that was killed.
DirLock lock_output_dir(const fs::path& dir, const std::string& command) {
  DirLock lock(dir, command);
  if (lock.stale_pid())
    std::cerr << "spinesim: " << dir.string() << " was left locked by PID " << *lock.stale_pid()
              << ", which has ended (killed?); taking it over\n";
  return lock;
}

}  // namespace

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag is set from a signal handler");

extern "C" void on_stop_signal(int) {
  g_stop.store(true, std::memory_order_relaxed);
}

/// SIGINT/SIGTERM raise the stop flag once; a second signal acts as usual (kills).
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Removes temporary files (.NAME.tmpPID) left by a killed run.
void remove_stale_temps(const fs::path& dir) {
  for (const fs::path& d : {dir, dir / "frames"}) {
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos) {
        std::error_code ignored;
        fs::remove(it->path(), ignored);
      }
    }
  }
}

/// Wall time of the parts of a run before a checkpoint: DIR/checkpoint.N.wall.json,
/// written (atomically) just before checkpoint.N.pb, so that `resume` can report the
/// run's cumulative wall time in run.json. The checkpoint format itself is unchanged.
fs::path wall_sidecar_path(const fs::path& dir, std::uint64_t number) {
  return dir / ("checkpoint." + std::to_string(number) + ".wall.json");
}

struct WallBefore {
  double wall_s = 0;  ///< cumulative wall seconds of the earlier parts up to the checkpoint
  int parts = 0;      ///< how many parts (the run and its resumes) came before
  bool known = false;
};

/// Reads checkpoint.N.wall.json; unknown (known = false) when it is missing or unreadable.
WallBefore read_wall_sidecar(const fs::path& dir, std::uint64_t number) {
  WallBefore w;
  std::ifstream in(wall_sidecar_path(dir, number), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto number_after = [&](const std::string& key, double& value) {
    const std::size_t at = text.find("\"" + key + "\": ");
    if (at == std::string::npos) return false;
    const char* begin = text.c_str() + at + key.size() + 4;
    char* end = nullptr;
    value = std::strtod(begin, &end);
    return end != begin && std::isfinite(value) && value >= 0;
  };
  double parts = 0;
  w.known = number_after("wall_time_s", w.wall_s) && number_after("parts", parts) && parts >= 1 && parts < 1e6;
  if (!w.known) return WallBefore{0, 1, false};  // at least the part that wrote the checkpoint
  w.parts = static_cast<int>(parts);
  return w;
}

/// Removes the wall-time sidecars whose checkpoint is gone (all of them once the run has finished).
void remove_stale_wall_sidecars(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string suffix = ".wall.json";
    if (name.rfind("checkpoint.", 0) != 0 || name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string pb = name.substr(0, name.size() - suffix.size()) + ".pb";
    std::error_code ignored;
    if (!fs::exists(dir / pb, ignored)) fs::remove(it->path(), ignored);
  }
}

struct RunPlan {
  fs::path scene_file;  ///< for messages and run.json
  fs::path out;         ///< the directory written
  fs::path final_dir;   ///< where the run ends up (differs from out for --overwrite)
  int threads = 1;
  bool quiet = false;
  double checkpoint_every_s = 0;
  std::string command_line;  ///< of the original run
  std::string resumed_by;    ///< command line of `resume`, empty for a fresh run
  SceneOverrides overrides;
  const Checkpoint* resume = nullptr;
  fs::path resume_file;
  WallBefore wall_before;  ///< for a resume: the earlier parts' wall time
};

int execute_run(const LoadedScene& loaded, const RunPlan& plan) {
  const auto wall_start = std::chrono::steady_clock::now();
  const Model& model = loaded.model;
  const fs::path& out = plan.out;
  atomic_write(out / "scene.resolved.pbtxt", loaded.resolved_text);
  write_mesh_vtp(model.geometry, out / "mesh.vtp");

  Simulator sim(model, make_stepper(plan.threads));
  const fs::path counts_file = out / "counts.csv";
  std::unique_ptr<CountsWriter> counts_writer;
  if (!plan.resume)
    counts_writer = std::make_unique<CountsWriter>(model, counts_file);
  else if (plan.resume->counts_bytes > 0)
    counts_writer = std::make_unique<CountsWriter>(model, counts_file,
                                                   CountsPrefix{plan.resume->counts_bytes, plan.resume->counts_crc32});
  else  // a checkpoint of format 2 carries the text itself
    counts_writer = std::make_unique<CountsWriter>(model, counts_file, plan.resume->counts_csv);
  CountsWriter& counts = *counts_writer;
  sim.add_observer(&counts, model.counts_interval_s);
  std::unique_ptr<FrameObserver> frames;
  if (model.frame_interval_s > 0) {
    frames = std::make_unique<FrameObserver>(out, plan.resume);
    sim.add_observer(frames.get(), model.frame_interval_s);
  }
  std::uint64_t checkpoint_number = plan.resume ? plan.resume->number : 0;
  fs::path last_checkpoint;
  sim.set_checkpoint(plan.checkpoint_every_s, [&](const Simulator& s) {
    Checkpoint cp;
    cp.program_version = SPINESIM_VERSION;
    cp.number = ++checkpoint_number;
    cp.scene_text = loaded.resolved_text;
    cp.scene_file = fs::absolute(plan.scene_file).string();
    cp.seed_override = plan.overrides.seed;
    cp.t_end_override_s = plan.overrides.t_end_s;
    cp.command_line = plan.command_line;
    cp.threads = plan.threads;
    cp.checkpoint_every_s = plan.checkpoint_every_s;
    // Absolute: a resume from another working directory must not look elsewhere.
    cp.final_dir = plan.final_dir == out ? std::string() : fs::absolute(plan.final_dir).lexically_normal().string();
    cp.quiet = plan.quiet;
    cp.state = s.save_state();
    // counts.csv on disk first: a checkpoint never refers to rows the file lacks.
    counts.flush();
    cp.counts_bytes = counts.on_disk().bytes;
    cp.counts_crc32 = counts.on_disk().crc32;
    if (frames) {
      cp.frame_count = frames->count();
      cp.pvd = frames->entries();
    }
    // The wall time up to this checkpoint, before the checkpoint itself: a resume from
    // checkpoint N always finds checkpoint.N.wall.json.
    const double part_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    JsonObject wall_info;
    wall_info.add("checkpoint", static_cast<unsigned long long>(cp.number))
        .add("wall_time_s", plan.wall_before.wall_s + part_s)
        .add("parts", plan.wall_before.parts + 1);
    atomic_write(wall_sidecar_path(out, cp.number), wall_info.str());
    last_checkpoint = write_checkpoint(out, cp);
    remove_stale_wall_sidecars(out);
  });
  g_stop.store(false);
  sim.set_stop_flag(&g_stop);
  install_stop_handlers();
  double resumed_at_t_s = 0;
  if (plan.resume) {
    try {
      sim.restore_state(plan.resume->state);
      resumed_at_t_s = sim.time();
    } catch (const std::invalid_argument& e) {
      throw IoError(plan.resume_file.string() + ": " + e.what() + " (was the checkpoint written for another scene?)");
    }
  }
  if (!plan.resume) {
    const RunFootprint need =
        estimate_footprint(model, counts.columns().size(), sim.world().molecule_count(), plan.checkpoint_every_s > 0);
    std::error_code ec;
    const fs::space_info disk = fs::space(out, ec);
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    const std::uint64_t memory = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * page : 0;
    if (!ec)
      for (const std::string& w : footprint_warnings(need, disk.available, memory))
        std::cerr << "spinesim: warning: " << w << "\n";
  }
  const bool tty = ::isatty(STDERR_FILENO);
  if (plan.resume)  // also when quiet: which checkpoint was used matters
    std::cerr << "spinesim: resuming " << plan.scene_file.string() << " at t = " << sim.time() << " s from "
              << plan.resume_file.string() << " on " << sim.stepper().name() << "\n";
  if (!plan.quiet) {
    if (!plan.resume)
      std::cerr << "spinesim: running " << plan.scene_file.string() << " (" << model.species.size() << " species, "
                << sim.world().molecule_count() << " molecules at t = 0, " << model.geometry.triangle_count()
                << " triangles) on " << sim.stepper().name() << "\n";
    sim.set_progress(
        [&, tty](const Simulator& s) {
          const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
          const double frac = s.time() / model.t_end_s;
          const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
          char line[256];
          std::snprintf(line, sizeof line,
                        "  t = %.6g / %.6g s (%5.1f%%)  molecules %zu  steps %llu  elapsed %.1f s  ETA %.1f s",
                        s.time(), model.t_end_s, 100 * frac, s.world().molecule_count(),
                        static_cast<unsigned long long>(s.stats().steps), elapsed, eta);
          if (tty)
            std::cerr << "\r" << line << std::flush;
          else
            std::cerr << line << "\n";
        },
        tty ? 0.5 : 10.0);
  }
  try {
    sim.run();
  } catch (const ResourceLimitError& e) {
    // Outputs up to the stop are kept, as for a signal; resuming would only reach the
    // same limit again, so the advice is to change the scene.
    counts.flush();
    if (!plan.quiet && tty) std::cerr << "\n";
    std::cerr << "spinesim: stopped: " << e.what() << "\n";
    if (!last_checkpoint.empty())
      std::cerr << "spinesim: outputs up to t = " << sim.time() << " s kept; checkpoint written to "
                << last_checkpoint.string() << "\n";
    return kExitIo;
  }
  counts.flush();
  if (!plan.quiet && tty) std::cerr << "\n";
  if (sim.stopped()) {
    std::cerr << "spinesim: stopped by signal at t = " << sim.time() << " s; checkpoint written to "
              << last_checkpoint.string() << "\n"
              << "spinesim: continue with: spinesim resume " << out.string() << "\n";
    return kExitInterrupted;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  JsonObject info;
  info.add("program", "spinesim").add("version", SPINESIM_VERSION).add("command_line", plan.command_line);
  info.add("resumed", plan.resume != nullptr);
  if (plan.resume) {
    info.add("resumed_by", plan.resumed_by)
        .add("resumed_from", plan.resume_file.string())
        .add("resumed_from_checkpoint", static_cast<unsigned long long>(plan.resume->number))
        .add("resumed_at_t_s", resumed_at_t_s);
  }
  info.add("scene", fs::absolute(plan.scene_file).string())
      .add("seed", static_cast<unsigned long long>(model.seed))
      .add("threads", plan.threads)
      .add("stepper", sim.stepper().name())
      .add("t_end_s", model.t_end_s)
      .add("dt_s", model.dt_s)
      .add("brownian_steps", static_cast<unsigned long long>(sim.stats().steps))
      .add("molecule_steps", static_cast<unsigned long long>(sim.stats().molecule_steps))
      .add("events", static_cast<unsigned long long>(sim.stats().events))
      .add("clock_jumps", static_cast<unsigned long long>(sim.stats().jumps))
      .add("pool_reactions", static_cast<unsigned long long>(sim.stats().pool_reactions))
      .add("brownian_step_wall_s", sim.stats().step_wall_s)
      .add("pool_ssa_wall_s", sim.stats().pool_wall_s)
      .add("molecules_at_end", static_cast<unsigned long long>(sim.world().molecule_count()))
      // Cumulative: the earlier parts up to the checkpoint resumed from, plus this part
      // (work redone after a kill, between that checkpoint and the kill, is not counted).
      .add("wall_time_s", plan.wall_before.wall_s + wall);
  if (plan.resume) {
    info.add("parts", plan.wall_before.parts + 1).add("wall_time_this_part_s", wall);
    if (plan.wall_before.known)
      info.add("wall_time_before_resume_s", plan.wall_before.wall_s);
    else
      info.add_raw("wall_time_before_resume_s", "null");  // checkpoint.N.wall.json missing
  }
  atomic_write(out / "run.json", info.str());
  // The run is complete: its checkpoints are of no further use.
  for (const fs::path& f : list_checkpoints(out)) {
    std::error_code ignored;
    fs::remove(f, ignored);
  }
  remove_stale_wall_sidecars(out);

  if (model.render_png && frames) {
    if (std::getenv("DISPLAY") == nullptr) {
      std::cerr << "spinesim: no X display, so no render.png; run under xvfb-run -a or use `spinesim render` later\n";
    } else {
      try {
        render_run(out, out / "render.png", RenderOptions{});
      } catch (const std::exception& e) {
        std::cerr << "spinesim: render.png not written: " << e.what() << "\n";
      }
    }
  }
  if (out != plan.final_dir) replace_run(out, plan.final_dir);
  if (!plan.quiet) {
    std::cerr << "spinesim: done in " << wall << " s (" << sim.stats().steps << " Brownian steps, "
              << sim.stats().events << " events).\n";
  }
  const fs::path& out_dir = plan.final_dir;
  std::cout << "Outputs in " << fs::absolute(out_dir).string() << ":\n  counts.csv, frames.pvd ("
            << "frames/*.vtp), mesh.vtp, "
            << "scene.resolved.pbtxt, run.json" << (fs::exists(out_dir / "render.png") ? ", render.png" : "") << "\n";
  return kExitOk;
}

}  // namespace

int run_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2,
            {{"out"}, {"seed"}, {"threads"}, {"t-end"}, {"checkpoint-every"}, {"quiet", false}, {"overwrite", false}});
  if (args.positional().size() != 1) throw UsageError("run needs exactly one SCENE file");
  if (!args.has("out")) throw UsageError("run needs --out DIR (the run directory to write)");
  const fs::path scene_file = args.positional()[0];
  const fs::path out_dir = directory_name(*args.get("out"));
  SceneOverrides ov;
  if (args.has("seed")) ov.seed = args.get_u64("seed", 1);
  if (args.has("t-end")) {
    ov.t_end_s = args.get_double("t-end", 0, 0);
    if (*ov.t_end_s <= 0) throw UsageError("--t-end must be > 0 s");
  }
  double checkpoint_every = 0;
  if (args.has("checkpoint-every")) {
    checkpoint_every = args.get_double("checkpoint-every", 0, 0);
    if (!(checkpoint_every > 0)) throw UsageError("--checkpoint-every must be > 0 s (simulated time)");
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(args.get_int("threads", hw, 1, 1024));
  const bool quiet = args.has("quiet");
  const bool overwrite = args.has("overwrite");
  const std::string cmd = command_line(argc, argv);
  auto holds_run = [&] {
    bool any = false;
    for (const char* f : {"run.json", "counts.csv", "frames.pvd"}) any = any || fs::exists(out_dir / f);
    return any;
  };
  auto refuse_unless_overwrite = [&] {
    if (overwrite) return;
    if (!list_checkpoints(out_dir).empty())
      throw UsageError(out_dir.string() +
                       " holds an unfinished run with checkpoints; continue it with `spinesim resume " +
                       out_dir.string() + "`, or pass --overwrite to start again");
    throw UsageError(out_dir.string() +
                     " already holds a run; choose another --out directory or pass --overwrite "
                     "to replace it");
  };
  // One writer per directory for the whole run: an existing directory is locked
  // before the scene is loaded, so a second writer is told at once who holds it.
  DirLock final_lock;
  if (fs::is_directory(out_dir)) {
    final_lock = lock_output_dir(out_dir, cmd);
    if (holds_run()) refuse_unless_overwrite();
  }

  LoadedScene loaded = load_scene(scene_file, ov);
  print_diagnostics(loaded.warnings);

  auto create_dir = [](const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
      throw IoError("cannot create run directory " + dir.string() + ": " +
                    (ec ? ec.message() : std::string("a file of that name exists")) +
                    " (choose a writable --out directory)");
  };
  if (!final_lock.held()) {
    create_dir(out_dir);
    final_lock = lock_output_dir(out_dir, cmd);
    // Another writer may have finished a run here while the scene was loading.
    if (holds_run()) refuse_unless_overwrite();
  }
  // Replacing a run: write the new one beside it and swap only when it has finished,
  // so a run that fails leaves the earlier one whole.
  const bool replacing = holds_run();
  const fs::path out = replacing ? partial_dir_for(out_dir) : out_dir;
  DirLock partial_lock;
  if (replacing) {
    create_dir(out);
    partial_lock = lock_output_dir(out, cmd);
    remove_all_but_lock(out);
  }
  RunPlan plan;
  plan.scene_file = scene_file;
  plan.out = out;
  plan.final_dir = out_dir;
  plan.threads = threads;
  plan.quiet = quiet;
  plan.checkpoint_every_s = checkpoint_every;
  plan.command_line = cmd;
  plan.overrides = ov;
  return execute_run(loaded, plan);
}

int resume_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kResumeHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2, {{"threads"}, {"quiet", false}});
  if (args.positional().size() != 1) throw UsageError("resume needs exactly one run directory DIR");
  const fs::path dir = directory_name(args.positional()[0]);
  if (!fs::is_directory(dir)) throw UsageError(dir.string() + " is not a run directory");
  const std::string cmd = command_line(argc, argv);
  // Lock order as in `run --overwrite`: the run replaced, then NAME.partial, so two
  // writers of one run never each hold half of the pair.
  DirLock final_lock;
  const fs::path here = directory_name(fs::absolute(dir));
  const std::string here_name = here.filename().string();
  const std::string_view suffix = kPartialSuffix;
  if (here_name.size() > suffix.size() && here_name.ends_with(suffix)) {
    const fs::path beside = here.parent_path() / here_name.substr(0, here_name.size() - suffix.size());
    if (fs::is_directory(beside)) final_lock = lock_output_dir(beside, cmd);
  }
  DirLock lock = lock_output_dir(dir, cmd);
  // run.json is written last, only when a run reaches t_end, and a finished run leaves no
  // checkpoint: resuming it is a no-op, not a failure (scripts may resume every directory).
  if (list_checkpoints(dir).empty() && fs::is_regular_file(dir / "run.json")) {
    std::cerr << "spinesim: " << dir.string() << " holds a finished run (" << (dir / "run.json").string()
              << "); nothing to resume\n";
    return kExitOk;
  }
  fs::path file;
  std::vector<std::string> skipped;
  Checkpoint cp;
  try {
    cp = load_newest_checkpoint(dir, file, skipped);
  } catch (...) {
    for (const auto& m : skipped) std::cerr << "spinesim: " << m << "\n";
    throw;
  }
  for (const auto& m : skipped) std::cerr << "spinesim: " << m << "\n";
  const fs::path final_dir = resume_target(dir, cp, file);
  // Created since the lock above was tried (resume_target asks for that when it is missing).
  if (final_dir != dir && !final_lock.held()) final_lock = lock_output_dir(final_dir, cmd);
  remove_stale_temps(dir);
  const int threads = static_cast<int>(args.get_int("threads", std::max(1, cp.threads), 1, 1024));
  // The scene is loaded again from its file (agent files are relative to it) with the
  // original overrides; it must resolve to exactly the text the checkpoint holds.
  SceneOverrides ov;
  ov.seed = cp.seed_override;
  ov.t_end_s = cp.t_end_override_s;
  if (!fs::exists(cp.scene_file))
    throw IoError(file.string() + " continues the scene " + cp.scene_file +
                  ", which no longer exists; restore it to resume");
  LoadedScene loaded = load_scene(cp.scene_file, ov);
  if (loaded.resolved_text != cp.scene_text)
    throw IoError(cp.scene_file + " (or a file it uses) has changed since " + file.string() +
                  " was written (its resolved scene differs from the one in the checkpoint; compare with " +
                  (dir / "scene.resolved.pbtxt").string() + "); restore it to resume");
  RunPlan plan;
  plan.scene_file = cp.scene_file;
  plan.out = dir;
  plan.final_dir = final_dir;
  plan.threads = threads;
  plan.quiet = args.has("quiet") || cp.quiet;
  plan.checkpoint_every_s = cp.checkpoint_every_s;
  plan.command_line = cp.command_line;
  plan.resumed_by = command_line(argc, argv);
  plan.overrides = ov;
  plan.resume = &cp;
  plan.resume_file = file;
  plan.wall_before = read_wall_sidecar(dir, cp.number);
  if (!plan.wall_before.known)
    std::cerr << "spinesim: " << wall_sidecar_path(dir, cp.number).string()
              << " is missing or unreadable; run.json will give only the resumed part's wall time\n";
  return execute_run(loaded, plan);
}

int validate_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kValidateHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2, {{"verbose", false}, {"intersections"}});
  if (args.positional().size() != 1) throw UsageError("validate needs exactly one SCENE file");
  std::vector<Diagnostic> errors, warnings;
  std::vector<MeshIntersections> intersections;
  validate_scene(args.positional()[0], errors, warnings, &intersections);
  print_diagnostics(warnings);
  print_diagnostics(errors);
  if (args.has("verbose"))
    for (const auto& group : intersections)
      for (const auto& pair : group.report.found) std::cerr << "  " << group.label << ": " << pair.describe() << "\n";
  if (const auto out = args.get("intersections")) {
    TriangleMesh all;
    std::vector<std::int32_t> pair_ids, triangle_ids, group_ids;
    std::vector<std::string> labels;
    for (std::size_t g = 0; g < intersections.size(); ++g) {
      const auto& group = intersections[g];
      labels.push_back(group.label);
      const auto base = static_cast<std::uint32_t>(all.vertices.size());
      all.vertices.insert(all.vertices.end(), group.triangles.vertices.begin(), group.triangles.vertices.end());
      for (auto t : group.triangles.triangles) all.triangles.push_back({t[0] + base, t[1] + base, t[2] + base});
      for (std::size_t k = 0; k < group.report.found.size(); ++k)
        for (const std::uint32_t t : group.report.found[k].triangles) {
          pair_ids.push_back(static_cast<std::int32_t>(pair_ids.size() / 2));
          triangle_ids.push_back(static_cast<std::int32_t>(t));
          group_ids.push_back(static_cast<std::int32_t>(g));
        }
    }
    write_triangles_vtp(all, {{"pair", pair_ids}, {"triangle", triangle_ids}, {"group", group_ids}},
                        {{"groups", labels}}, *out);
    std::cerr << *out << ": " << pair_ids.size() / 2 << " intersecting triangle pair"
              << (pair_ids.size() == 2 ? "" : "s") << " written\n";
  }
  if (!errors.empty()) {
    std::cerr << errors.size() << " problem" << (errors.size() == 1 ? "" : "s") << " found.\n";
    return kExitInput;
  }
  std::cout << args.positional()[0] << ": OK\n";
  return kExitOk;
}

}  // namespace spinesim::cli
