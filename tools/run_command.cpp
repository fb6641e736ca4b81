// `spinesim run`, `validate` and `render`: load a scene, run it into a run
// directory with counts, VTK frames, the mesh, the resolved scene, run.json and a
// PNG; check a scene without running; draw a run.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "core/atomic_file.h"
#include "core/error.h"
#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "io/counts_writer.h"
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
    R"(usage: spinesim run SCENE --out DIR [--seed S] [--threads N] [--t-end T] [--overwrite] [--quiet]

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

Options:
  --out DIR      run directory (created if missing; files are replaced atomically)
  --seed S       random seed, replaces simulation.seed
  --threads N    worker threads (default: all cores); N = 1 runs the serial reference stepper.
                 Outputs are byte-identical for every N.
  --t-end T      end time in s, replaces simulation.t_end_s
  --overwrite    replace the run already in DIR (refused otherwise, so no result is lost);
                 its files are replaced one by one as the new run writes them
  --quiet        no progress lines

Example:
  spinesim run scenes/spine_glutamate.pbtxt --out runs/demo --seed 7 --threads 2
)";

const char* kValidateHelp = R"(usage: spinesim validate SCENE

Checks SCENE without running it and lists every problem as FILE:LINE:COLUMN: FIELD: MESSAGE.
Exit status 0 when the scene can run, 2 otherwise.

Example:
  spinesim validate scenes/spine_glutamate.pbtxt
)";

void print_diagnostics(const std::vector<Diagnostic>& list) {
  for (const auto& d : list) std::cerr << d.format() << "\n";
}

/// Writes frames/NNNNN.vtp and keeps frames.pvd listing them.
class FrameObserver final : public Observer {
 public:
  explicit FrameObserver(const fs::path& run_dir) : dir_(run_dir), pvd_(run_dir / "frames.pvd") {
    fs::create_directories(dir_ / "frames");
  }
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

}  // namespace

int run_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kRunHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2, {{"out"}, {"seed"}, {"threads"}, {"t-end"}, {"quiet", false}, {"overwrite", false}});
  if (args.positional().size() != 1) throw UsageError("run needs exactly one SCENE file");
  if (!args.has("out")) throw UsageError("run needs --out DIR (the run directory to write)");
  const fs::path scene_file = args.positional()[0];
  const fs::path out_dir = *args.get("out");
  SceneOverrides ov;
  if (args.has("seed")) ov.seed = args.get_u64("seed", 1);
  if (args.has("t-end")) {
    ov.t_end_s = args.get_double("t-end", 0, 0);
    if (*ov.t_end_s <= 0) throw UsageError("--t-end must be > 0 s");
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(args.get_int("threads", hw, 1, 1024));
  const bool quiet = args.has("quiet");
  const bool overwrite = args.has("overwrite");
  bool holds_run = false;
  for (const char* f : {"run.json", "counts.csv", "frames.pvd"}) holds_run = holds_run || fs::exists(out_dir / f);
  if (holds_run && !overwrite)
    throw UsageError(out_dir.string() +
                     " already holds a run; choose another --out directory or pass --overwrite "
                     "to replace it");
  // Replacing a run: write the new one beside it and swap only when it has finished,
  // so a run that fails leaves the earlier one whole.
  const fs::path out = holds_run ? fs::path(out_dir.string() + ".partial") : out_dir;
  if (holds_run) fs::remove_all(out);

  const auto wall_start = std::chrono::steady_clock::now();
  LoadedScene loaded = load_scene(scene_file, ov);
  print_diagnostics(loaded.warnings);
  const Model& model = loaded.model;

  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw IoError("cannot create run directory " + out.string() + ": " + ec.message() +
                  " (choose a writable --out directory)");
  atomic_write(out / "scene.resolved.pbtxt", loaded.resolved_text);
  write_mesh_vtp(model.geometry, out / "mesh.vtp");

  std::unique_ptr<Stepper> stepper;
  if (threads == 1)
    stepper = std::make_unique<SerialStepper>();
  else
    stepper = make_tbb_stepper(threads);
  Simulator sim(model, std::move(stepper));
  CountsWriter counts(model, out / "counts.csv");
  sim.add_observer(&counts, model.counts_interval_s);
  std::unique_ptr<FrameObserver> frames;
  if (model.frame_interval_s > 0) {
    frames = std::make_unique<FrameObserver>(out);
    sim.add_observer(frames.get(), model.frame_interval_s);
  }
  const bool tty = ::isatty(STDERR_FILENO);
  if (!quiet) {
    std::cerr << "spinesim: running " << scene_file.string() << " (" << model.species.size() << " species, "
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
  sim.run();
  counts.flush();
  if (!quiet && tty) std::cerr << "\n";
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  JsonObject info;
  info.add("program", "spinesim")
      .add("version", SPINESIM_VERSION)
      .add("command_line", command_line(argc, argv))
      .add("scene", fs::absolute(scene_file).string())
      .add("seed", static_cast<unsigned long long>(model.seed))
      .add("threads", threads)
      .add("stepper", sim.stepper().name())
      .add("t_end_s", model.t_end_s)
      .add("dt_s", model.dt_s)
      .add("brownian_steps", static_cast<unsigned long long>(sim.stats().steps))
      .add("molecule_steps", static_cast<unsigned long long>(sim.stats().molecule_steps))
      .add("events", static_cast<unsigned long long>(sim.stats().events))
      .add("clock_jumps", static_cast<unsigned long long>(sim.stats().jumps))
      .add("molecules_at_end", static_cast<unsigned long long>(sim.world().molecule_count()))
      .add("wall_time_s", wall);
  atomic_write(out / "run.json", info.str());

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
  if (holds_run) replace_run(out, out_dir);
  if (!quiet) {
    std::cerr << "spinesim: done in " << wall << " s (" << sim.stats().steps << " Brownian steps, "
              << sim.stats().events << " events).\n";
  }
  std::cout << "Outputs in " << fs::absolute(out_dir).string() << ":\n  counts.csv, frames.pvd ("
            << "frames/*.vtp), mesh.vtp, "
            << "scene.resolved.pbtxt, run.json" << (fs::exists(out_dir / "render.png") ? ", render.png" : "") << "\n";
  return kExitOk;
}

int validate_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kValidateHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2, {});
  if (args.positional().size() != 1) throw UsageError("validate needs exactly one SCENE file");
  std::vector<Diagnostic> errors, warnings;
  validate_scene(args.positional()[0], errors, warnings);
  print_diagnostics(warnings);
  print_diagnostics(errors);
  if (!errors.empty()) {
    std::cerr << errors.size() << " problem" << (errors.size() == 1 ? "" : "s") << " found.\n";
    return kExitInput;
  }
  std::cout << args.positional()[0] << ": OK\n";
  return kExitOk;
}

}  // namespace spinesim::cli
