// spinesim command line: dispatches verbs and turns every error into a message that
// says what went wrong and what to do, with a distinct exit status.
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "core/error.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

namespace {
const char* kHelp = R"(spinesim — stochastic simulation of molecules and receptors in a dendritic spine

usage: spinesim VERB [options]      (spinesim VERB --help for details and an example)

verbs:
  run SCENE --out DIR     run a scene; writes counts.csv, VTK frames, mesh.vtp, run.json, render.png
  resume DIR              continue a run from its newest checkpoint (after a kill or SIGINT/SIGTERM)
  validate SCENE          check a scene and list every problem with file:line:column
  render RUN_DIR -o PNG   draw a frame of a run (headless: xvfb-run -a spinesim render ...)
  movie RUN_DIR -o MP4    render every frame into a movie (or a PNG sequence without ffmpeg)
  plot RUN_DIR -o PNG     plot counts.csv over time
  ensemble SCENE --replicates N --out DIR   replicate runs, sweeps and statistics
  bench diffusion         measure molecule-steps per second

options:
  --version               print the version
  --help                  this text

Example:
  spinesim run scenes/spine_glutamate.pbtxt --out runs/demo
)";
}  // namespace

int main(int argc, char** argv) {
  using namespace spinesim::cli;
  if (argc < 2) {
    std::cerr << kHelp;
    return kExitInput;
  }
  const std::string verb = argv[1];
#if defined(SPINESIM_REQUIRES_AVX2) && (defined(__x86_64__) || defined(__i386__))
  // The diffusion kernel is built for x86-64-v3; fail clearly rather than with SIGILL.
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::cerr << "spinesim: this build needs a processor with AVX2 and FMA (x86-64-v3); rebuild with "
                 "-DSPINESIM_NATIVE_MATH=OFF for older processors\n";
    return kExitInternal;
  }
#endif
  if (verb == "--help" || verb == "-h" || verb == "help") {
    std::cout << kHelp;
    return kExitOk;
  }
  if (verb == "--version" || verb == "version") {
    std::cout << "spinesim " << SPINESIM_VERSION << "\n";
    return kExitOk;
  }
  try {
    if (verb == "run") return run_command(argc, argv);
    if (verb == "resume") return resume_command(argc, argv);
    if (verb == "validate") return validate_command(argc, argv);
    if (verb == "render") return render_command(argc, argv);
    if (verb == "movie") return movie_command(argc, argv);
    if (verb == "plot") return plot_command(argc, argv);
    if (verb == "ensemble") return ensemble_command(argc, argv);
    if (verb == "bench") return bench_command(argc, argv);
    std::cerr << "spinesim: unknown verb '" << verb << "'; see spinesim --help\n";
    return kExitInput;
  } catch (const UsageError& e) {
    std::cerr << "spinesim " << verb << ": " << e.what() << " (see spinesim " << verb << " --help)\n";
    return kExitInput;
  } catch (const spinesim::InputError& e) {
    std::cerr << e.what() << "\n";
    return kExitInput;
  } catch (const spinesim::IoError& e) {
    std::cerr << "spinesim: " << e.what() << "\n";
    return kExitIo;
  } catch (const std::exception& e) {
    std::cerr << "spinesim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
