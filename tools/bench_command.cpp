// `spinesim bench diffusion`: molecule-steps per second for volume molecules in the
// parametric spine (with wall reflections) and membrane molecules walking on it.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "geometry/spine_builder.h"
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

Example:
  spinesim bench diffusion --molecules 100000 --steps 200 --threads 2
)";
}  // namespace

int bench_command(int argc, char** argv) {
  for (int i = 2; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
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
             {"dt-s"}});
  if (args.positional().size() != 1 || args.positional()[0] != "diffusion")
    throw UsageError("bench needs a workload name: diffusion");
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
    TriangleMesh box;
    for (int k = 0; k < 8; ++k) box.vertices.push_back({(k & 1) ? 1.0 : 0.0, (k & 2) ? 1.0 : 0.0, (k & 4) ? 1.0 : 0.0});
    box.triangles = {{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
                     {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}};
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
  std::unique_ptr<Stepper> stepper;
  if (threads == 1)
    stepper = std::make_unique<SerialStepper>();
  else
    stepper = make_tbb_stepper(threads);
  const auto t0 = std::chrono::steady_clock::now();
  Simulator sim(m, std::move(stepper));
  const auto t1 = std::chrono::steady_clock::now();
  World& w = sim.mutable_world();
  Stepper& st = const_cast<Stepper&>(sim.stepper());
  st.step(sim.diffusion_context(), w);  // warm-up: page in scratch buffers
  const auto t2 = std::chrono::steady_clock::now();
  for (std::uint64_t k = 0; k < steps; ++k) st.step(sim.diffusion_context(), w);
  const auto t3 = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(t3 - t2).count();
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
  return kExitOk;
}

}  // namespace spinesim::cli
