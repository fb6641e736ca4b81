// `spinesim bench`: molecule-steps per second for Brownian diffusion in the
// parametric spine (with wall reflections) and on its membrane; the cost of
// bimolecular reactions relative to pure diffusion; and any scene end to end.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include "engine/parallel/tbb_stepper.h"
#include "engine/pool_ssa.h"
#include "engine/simulator.h"
#include "geometry/mesh_check.h"
#include "geometry/spine_builder.h"
#include "io/scene_loader.h"
#include "model/reaction_radii.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

namespace spinesim::cli {

namespace {
const char* kBenchHelp =
    R"(usage: spinesim bench diffusion [--molecules N] [--steps S] [--threads T] [--kind volume|membrane]
                               [--geometry spine|box] [--grid-cell-um H] [--diffusion-um2-per-s D] [--dt-s DT]

Measures Brownian stepping speed in molecule-steps per second. Volume molecules
(glutamate-like, D = 330 µm²/s, dt = 1 µs, so 26 nm per axis per step) start
uniformly in the cytosol of the default parametric spine (or a 1 µm box) and are
reflected at its triangles; membrane molecules (D = 0.1 µm²/s) walk on the spine
membrane. Placement time is excluded. T = 1 uses the serial reference stepper.
--grid-cell-um sets the spatial-grid cell (default: automatic, about one step SD);
--diffusion-um2-per-s and --dt-s change the species and step (defaults above).

       spinesim bench reactions [--molecules N] [--steps S] [--threads T] [--kon-per-uM-per-s K]

A + B → C with N molecules of each (default 20,000) in a 1 µm³ reflective box
(D = 100 µm²/s for all, dt = 1 µs, kon default 1 µM⁻¹s⁻¹ calibrated to a binding
radius by Andrews & Bray), run through the full scheduler; then the same molecules
without the reaction. Reports molecule-steps/s of both, their ratio, and reactions/s.

       spinesim bench scene SCENE [--t-end T] [--threads T]

Runs SCENE without writing outputs and reports molecule-steps/s and events/s
(scheduler events, agent transitions, ligand captures and reactions), and the
well-mixed pools' share: their reactions and the wall time spent in their SSA.

       spinesim bench ssa [SCENE] [--reactions N]

The exact SSA of SCENE's well-mixed pools on its own (default
scenes/ketamine_spine.pbtxt, whose pools are scenes/pathways/spine_pathway.pbtxt,
started from the pathway's resting counts with no Ca2+ influx): N reactions
(default 2e7) after 10 % as many for warm-up; reports reactions/s.

       spinesim bench soak [SCENE] [--molecule-steps N] [--threads T]

Runs SCENE (default bench/soak_oist.pbtxt: calcium and a buffer binding reversibly
in the reconstructed OIST spine, calcium in its ER, receptors in its PSD) until N
molecule-steps (default 1e8) and reports: molecules outside their compartment by
an independent ray-parity point-in-mesh test, the conserved totals of a reversible
A + B ⇌ C (A + C and B + C), and the resident memory after warm-up and at the end.

Example:
  spinesim bench diffusion --molecules 100000 --steps 200 --threads 2
  spinesim bench reactions --threads 2
  spinesim bench scene scenes/single_quantum.pbtxt --t-end 0.002
  spinesim bench ssa --reactions 50000000
)";

/// FNV-1a over the bytes of every molecule's position, compartment and surface point:
/// two builds that print the same value computed the same trajectories.
std::uint64_t state_fingerprint(const World& w) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](const auto& values) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t k = 0; k < values.size() * sizeof(values[0]); ++k) h = (h ^ bytes[k]) * 0x100000001b3ull;
  };
  mix(w.volume.x);
  mix(w.volume.y);
  mix(w.volume.z);
  mix(w.volume.compartment);
  mix(w.membrane.triangle);
  mix(w.membrane.u);
  mix(w.membrane.v);
  return h;
}

/// Events of every kind the scheduler handled.
std::uint64_t all_events(const SchedulerStats& s) {
  return s.events + s.agent_transitions + s.captures + s.reactions;
}

int bench_reactions(const Args& args) {
  const auto n = static_cast<std::uint64_t>(args.get_int("molecules", 20000, 1, 10'000'000));
  const auto steps = static_cast<std::uint64_t>(args.get_int("steps", 2000, 1, 1'000'000'000));
  const int threads = static_cast<int>(args.get_int("threads", 1, 1, 1024));
  const double kon = args.get_double("kon-per-uM-per-s", 1.0, 1e-12);
  Model m;
  m.name = "bench_reactions";
  const TriangleMesh box = box_mesh(1, 1, 1);
  m.geometry.add_surface(box, "box_wall", "box_wall", "box", "extracellular");
  m.outer_compartment = m.geometry.find_compartment("extracellular");
  m.dt_s = 1e-6;
  m.t_end_s = static_cast<double>(steps) * m.dt_s;
  m.max_molecules = 3 * n;
  for (const char* name : {"A", "B", "C"}) {
    SpeciesDef s;
    s.name = name;
    s.diffusion_um2_per_s = 100;
    m.species.push_back(s);
  }
  m.surface_behaviour.assign(m.geometry.region_names.size() * m.species.size(), SurfaceBehaviour::kReflect);
  const int box_compartment = m.geometry.find_compartment("box");
  for (int sp : {0, 1}) m.placements.push_back({sp, n, PlacementDef::Where::kCompartment, box_compartment, {}, -1});
  ReactionDef r;
  r.reactants = {0, 1};
  r.products = {2};
  r.kon_um3_per_s = per_uM_per_s_to_um3_per_s(kon);
  r.binding_radius_um = binding_radius(r.kon_um3_per_s, 200, m.dt_s);
  auto run = [&](const Model& model, SchedulerStats& stats) {
    Simulator sim(model, make_stepper(threads));
    const auto t0 = std::chrono::steady_clock::now();
    sim.run();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats = sim.stats();
    return secs;
  };
  SchedulerStats pure_stats, react_stats;
  const double pure = run(m, pure_stats);
  m.reactions.push_back(r);
  const double react = run(m, react_stats);
  const double pure_rate = static_cast<double>(pure_stats.molecule_steps) / pure;
  const double react_rate = static_cast<double>(react_stats.molecule_steps) / react;
  std::printf(
      "workload=reactions A+B->C molecules_each=%llu steps=%llu threads=%d kon_per_uM_per_s=%g "
      "binding_radius_um=%.4g\n",
      static_cast<unsigned long long>(n), static_cast<unsigned long long>(steps), threads, kon, r.binding_radius_um);
  std::printf("pure_diffusion molecule_steps_per_s=%.4g\n", pure_rate);
  std::printf("with_reaction molecule_steps_per_s=%.4g reactions=%llu reactions_per_s=%.4g\n", react_rate,
              static_cast<unsigned long long>(react_stats.reactions),
              static_cast<double>(react_stats.reactions) / react);
  std::printf("cost_ratio=%.3f (reaction / pure diffusion per molecule-step)\n", pure_rate / react_rate);
  return kExitOk;
}

int bench_scene(const Args& args) {
  if (args.positional().size() != 2) throw UsageError("bench scene needs a SCENE file");
  SceneOverrides ov;
  if (args.has("t-end")) ov.t_end_s = args.get_double("t-end", 0, 1e-12);
  const int threads = static_cast<int>(args.get_int("threads", 1, 1, 1024));
  const LoadedScene loaded = load_scene(args.positional()[1], ov);
  Simulator sim(loaded.model, make_stepper(threads));
  const auto t0 = std::chrono::steady_clock::now();
  sim.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const SchedulerStats& s = sim.stats();
  std::printf("workload=scene scene=%s t_end_s=%g threads=%d wall_s=%.3f\n", args.positional()[1].c_str(),
              loaded.model.t_end_s, threads, secs);
  std::printf(
      "brownian_steps=%llu molecule_steps=%llu events=%llu agent_transitions=%llu captures=%llu "
      "reactions=%llu\n",
      static_cast<unsigned long long>(s.steps), static_cast<unsigned long long>(s.molecule_steps),
      static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.agent_transitions),
      static_cast<unsigned long long>(s.captures), static_cast<unsigned long long>(s.reactions));
  std::printf("molecule_steps_per_s=%.4g events_per_s=%.4g\n", static_cast<double>(s.molecule_steps) / secs,
              static_cast<double>(all_events(s)) / secs);
  std::printf("step_wall_s=%.3f pool_reactions=%llu pool_wall_s=%.3f pool_reactions_per_s=%.4g\n", s.step_wall_s,
              static_cast<unsigned long long>(s.pool_reactions), s.pool_wall_s,
              s.pool_wall_s > 0 ? static_cast<double>(s.pool_reactions) / s.pool_wall_s : 0.0);
  return kExitOk;
}

int bench_ssa(const Args& args) {
  const std::string scene = args.positional().size() > 1 ? args.positional()[1] : "scenes/ketamine_spine.pbtxt";
  const auto n = static_cast<std::uint64_t>(args.get_double("reactions", 2e7, 1));
  const LoadedScene loaded = load_scene(scene);
  const Model& m = loaded.model;
  if (m.well_mixed.empty()) throw UsageError("bench ssa: " + scene + " has no well-mixed pools");
  WellMixedSystem pools(m.well_mixed, m.clamps, m.seed);
  pools.start(0);
  // Fires until `count` more reactions happened; false when nothing can happen any more.
  const auto fire_reactions = [&pools](std::uint64_t count) {
    const std::uint64_t until = pools.reactions_fired() + count;
    while (pools.reactions_fired() < until) {
      if (!std::isfinite(pools.next_time())) return false;
      pools.fire();
    }
    return true;
  };
  if (!fire_reactions(n / 10 + 1)) throw UsageError("bench ssa: the pools of " + scene + " stop reacting");
  const double t_start = pools.next_time();
  const auto t0 = std::chrono::steady_clock::now();
  const bool ran = fire_reactions(n);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ran) throw UsageError("bench ssa: the pools of " + scene + " stop reacting");
  std::printf("workload=ssa scene=%s species=%zu reactions_defined=%zu\n", scene.c_str(), m.well_mixed.species.size(),
              m.well_mixed.reactions.size());
  std::printf("reactions=%llu simulated_s=%.4g wall_s=%.3f reactions_per_s=%.4g ns_per_reaction=%.2f\n",
              static_cast<unsigned long long>(n), pools.next_time() - t_start, secs, static_cast<double>(n) / secs,
              1e9 * secs / static_cast<double>(n));
  return kExitOk;
}
/// Resident set size of this process in MiB (Linux /proc), or -1.
double resident_mib() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long pages = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<double>(resident) * 4096.0 / (1024.0 * 1024.0) : -1;
}

int bench_soak(const Args& args) {
  const std::string scene = args.positional().size() > 1 ? args.positional()[1] : "bench/soak_oist.pbtxt";
  const double target = args.get_double("molecule-steps", 1e8, 1);
  const int threads = static_cast<int>(args.get_int("threads", 1, 1, 1024));
  LoadedScene loaded = load_scene(scene);
  Model& m = loaded.model;
  // Run long enough for the requested molecule-steps (molecules are conserved here).
  std::uint64_t molecules = 0;
  for (const auto& p : m.placements) molecules += p.count;
  // Binding lowers the count (to ~60 % here): twice the steps keeps the total above the target.
  m.t_end_s = std::ceil(2.0 * target / static_cast<double>(std::max<std::uint64_t>(1, molecules))) * m.dt_s;
  Simulator sim(m, make_stepper(threads));
  std::vector<double> rss;
  sim.set_progress([&](const Simulator&) { rss.push_back(resident_mib()); }, 1.0);
  const double rss_start = resident_mib();
  const auto t0 = std::chrono::steady_clock::now();
  sim.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rss_end = resident_mib();

  // Leaks: every volume molecule against an independent point-in-mesh test of the
  // surfaces bounding its compartment (inside its own closed surfaces, outside the
  // others it could be inside of).
  const Geometry& g = sim.model().geometry;
  std::vector<TriangleMesh> surfaces;
  for (const auto& name : g.surface_names) surfaces.push_back(extract_surface(g, name));
  std::vector<double> surface_volume;
  for (const auto& s : surfaces) surface_volume.push_back(check_closed_mesh(s).signed_volume_um3);
  std::vector<int> surface_inside(g.surface_names.size(), -1);
  for (TriangleIndex t = 0; t < g.triangle_count(); ++t) surface_inside[g.triangle_surface[t]] = g.triangle_sides[t][1];
  std::uint64_t outside = 0;
  const auto& v = sim.world().volume;
  for (std::size_t i = 0; i < v.size(); ++i) {
    // The innermost closed surface containing the point decides its compartment.
    int found = sim.model().outer_compartment;
    double smallest = 1e300;
    for (std::size_t s = 0; s < surfaces.size(); ++s) {
      if (!point_inside(surfaces[s], v.position(i))) continue;
      if (surface_volume[s] < smallest) {
        smallest = surface_volume[s];
        found = surface_inside[s];
      }
    }
    if (found != v.compartment[i]) ++outside;
  }
  // Conservation of A + C and B + C for every reversible reaction A + B ⇌ C.
  std::vector<std::uint64_t> count(m.species.size(), 0);
  for (std::size_t i = 0; i < v.size(); ++i) ++count[v.species[i]];
  std::vector<std::uint64_t> initial(m.species.size(), 0);
  for (const auto& p : m.placements) initial[static_cast<std::size_t>(p.species)] += p.count;
  std::printf("workload=soak scene=%s threads=%d molecule_steps=%llu wall_s=%.1f molecule_steps_per_s=%.4g\n",
              scene.c_str(), threads, static_cast<unsigned long long>(sim.stats().molecule_steps), secs,
              static_cast<double>(sim.stats().molecule_steps) / secs);
  std::printf("reactions=%llu volume_molecules=%zu membrane_molecules=%zu molecules_outside_their_compartment=%llu\n",
              static_cast<unsigned long long>(sim.stats().reactions), v.size(), sim.world().membrane.size(),
              static_cast<unsigned long long>(outside));
  bool conserved = true;
  for (const ReactionDef& rx : m.reactions) {
    if (rx.reactants.size() != 2 || rx.koff_per_s <= 0) continue;
    const auto c = static_cast<std::size_t>(rx.products[0]);
    for (int r : rx.reactants) {
      const auto a = static_cast<std::size_t>(r);
      const bool same = count[a] + count[c] == initial[a] + initial[c];
      conserved = conserved && same;
      std::printf("conserved %s+%s: initial %llu final %llu %s\n", m.species[a].name.c_str(), m.species[c].name.c_str(),
                  static_cast<unsigned long long>(initial[a] + initial[c]),
                  static_cast<unsigned long long>(count[a] + count[c]), same ? "ok" : "VIOLATED");
    }
  }
  const double rss_warm = rss.size() > 2 ? rss[1] : rss_start;
  std::printf("rss_mib start=%.1f after_warmup=%.1f end=%.1f samples=%zu\n", rss_start, rss_warm, rss_end, rss.size());
  return outside == 0 && conserved ? kExitOk : kExitInternal;
}
}  // namespace

int bench_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kBenchHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2,
            {{"molecules"},
             {"steps"},
             {"threads"},
             {"kind"},
             {"geometry"},
             {"grid-cell-um"},
             {"diffusion-um2-per-s"},
             {"dt-s"},
             {"kon-per-uM-per-s"},
             {"molecule-steps"},
             {"t-end"},
             {"reactions"}});
  if (!args.positional().empty() && args.positional()[0] == "reactions") return bench_reactions(args);
  if (!args.positional().empty() && args.positional()[0] == "scene") return bench_scene(args);
  if (!args.positional().empty() && args.positional()[0] == "soak") return bench_soak(args);
  if (!args.positional().empty() && args.positional()[0] == "ssa") return bench_ssa(args);
  if (args.positional().size() != 1 || args.positional()[0] != "diffusion")
    throw UsageError("bench needs a workload name: diffusion, reactions, scene, soak or ssa");
  const auto n = static_cast<std::uint64_t>(args.get_int("molecules", 100000, 1, 100'000'000));
  const auto steps = static_cast<std::uint64_t>(args.get_int("steps", 100, 1, 1'000'000'000));
  const int threads = static_cast<int>(args.get_int("threads", 1, 1, 1024));
  const std::string kind = args.get("kind").value_or("volume");
  const std::string geometry = args.get("geometry").value_or("spine");
  if (kind != "volume" && kind != "membrane") throw UsageError("--kind must be volume or membrane");
  if (geometry != "spine" && geometry != "box") throw UsageError("--geometry must be spine or box");
  if (kind == "membrane" && geometry == "box") throw UsageError("membrane benchmarks run on the spine");

  Model m;
  m.name = "bench";
  if (geometry == "spine") {
    m.geometry = build_spine(SpineParams{});
  } else {
    const TriangleMesh box = box_mesh(1, 1, 1);
    m.geometry.add_surface(box, "box_wall", "box_wall", "cytosol", "extracellular");
  }
  m.outer_compartment = m.geometry.find_compartment("extracellular");
  m.dt_s = args.get_double("dt-s", 1e-6, 1e-12);
  m.t_end_s = 1;
  m.max_molecules = n;
  m.grid_cell_um = args.get_double("grid-cell-um", 0, 0);
  SpeciesDef s;
  s.name = kind == "volume" ? "glutamate" : "receptor";
  s.membrane = kind == "membrane";
  s.diffusion_um2_per_s = args.get_double("diffusion-um2-per-s", kind == "volume" ? 330.0 : 0.1, 0);
  m.species.push_back(s);
  m.surface_behaviour.assign(m.geometry.region_names.size(), SurfaceBehaviour::kReflect);
  PlacementDef p;
  p.species = 0;
  p.count = n;
  if (kind == "volume") {
    p.where = PlacementDef::Where::kCompartment;
    p.compartment = m.geometry.find_compartment("cytosol");
    m.placements.push_back(p);
  } else {
    // One placement per region of the spine membrane spreads molecules over all of it.
    for (std::size_t r = 0; r < m.geometry.region_names.size(); ++r) {
      p.where = PlacementDef::Where::kRegion;
      p.region = static_cast<int>(r);
      p.count = n / m.geometry.region_names.size() + (r < n % m.geometry.region_names.size() ? 1 : 0);
      m.placements.push_back(p);
    }
  }
  std::unique_ptr<Stepper> stepper = make_stepper(threads);
  const auto t0 = std::chrono::steady_clock::now();
  Simulator sim(m, std::move(stepper));
  const auto t1 = std::chrono::steady_clock::now();
  World& w = sim.mutable_world();
  Stepper& st = const_cast<Stepper&>(sim.stepper());
  st.step(sim.diffusion_context(), w);  // warm-up: page in scratch buffers
  const auto t2 = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  for (std::uint64_t k = 0; k < steps; ++k) st.step(sim.diffusion_context(), w);
  const std::clock_t cpu1 = std::clock();
  const auto t3 = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(t3 - t2).count();
  // Processor time of all threads: on a shared machine it stays near the idle-machine
  // cost while the wall-clock rate drops with the load.
  const double cpu_secs = static_cast<double>(cpu1 - cpu0) / CLOCKS_PER_SEC;
  const double rate = static_cast<double>(n) * static_cast<double>(steps) / secs;
  const std::size_t bytes_per_molecule =
      kind == "volume" ? 3 * sizeof(double) + 2 * sizeof(std::uint16_t) + sizeof(std::uint32_t) + sizeof(StepOutcome)
                       : sizeof(std::uint32_t) + 2 * sizeof(double) + sizeof(std::uint16_t) + sizeof(std::uint32_t);
  std::printf("workload=diffusion kind=%s geometry=%s molecules=%llu steps=%llu threads=%d stepper=%s\n", kind.c_str(),
              geometry.c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(steps), threads,
              sim.stepper().name().c_str());
  std::printf("triangles=%zu grid_cell_um=%.4g placement_s=%.3f step_s=%.3f\n", m.geometry.triangle_count(),
              sim.grid().cell_size(), std::chrono::duration<double>(t1 - t0).count(), secs);
  std::printf("molecule_steps_per_s=%.4g ns_per_molecule_step=%.2f bytes_per_molecule=%zu\n", rate, 1e9 / rate,
              bytes_per_molecule);
  std::printf("molecule_steps_per_cpu_s=%.4g cpu_s=%.3f\n",
              static_cast<double>(n) * static_cast<double>(steps) / cpu_secs, cpu_secs);
  std::printf("state_fnv1a=%016llx (final positions and compartments: equal across builds = same results)\n",
              static_cast<unsigned long long>(state_fingerprint(w)));
  return kExitOk;
}

}  // namespace spinesim::cli
