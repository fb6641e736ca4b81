// spinesim command line: dispatches verbs and turns every error into a message that
// says what went wrong and what to do, with a distinct exit status.
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
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
  export-sbml FILE -o XML the well-mixed pathway of a scene or pathway file as SBML Level 3
  render RUN_DIR -o PNG   draw a frame of a run (headless: xvfb-run -a spinesim render ...)
  movie RUN_DIR -o MP4    render every frame into a movie (or a PNG sequence without ffmpeg)
  plot RUN_DIR -o PNG     plot counts.csv over time
  export-web RUN_DIR -o HTML  one self-contained HTML file to view the run in a browser
  ensemble SCENE --replicates N --out DIR   replicate runs, sweeps and statistics (one ensemble.nc)
  export-csv ENSEMBLE     an ensemble's CSV tables (stats, summary, replicates) from its ensemble.nc
  bench diffusion         measure molecule-steps per second

options:
  --version               print the version
  --help                  this text

Example:
  spinesim run scenes/spine_glutamate.pbtxt --out runs/demo
)";
/// A std::filesystem error (a path too long, a symbolic-link loop, a permission) as a
/// message naming the path and what to change, instead of "internal error".
std::string describe_filesystem_error(const std::filesystem::filesystem_error& e) {
  const std::string path = e.path1().empty() ? std::string("a path") : e.path1().string();
  switch (e.code().value()) {
    case ENAMETOOLONG:
      return path + ": the path is too long for the file system (at most " + std::to_string(PATH_MAX - 1) +
             " characters in all and " + std::to_string(NAME_MAX) + " per name); use a shorter path";
    case ELOOP:
      return path + ": too many levels of symbolic links (a link that points back at itself); fix or remove the link";
    case EACCES:
    case EPERM:
      return path + ": permission denied; make it accessible or choose another path";
    case ENOSPC:
    case EDQUOT:
      return path + ": no space left on the device; free space or write elsewhere";
    case EROFS:
      return path + ": read-only file system; choose a writable directory";
    case ENOTDIR:
      return path + ": a part of the path is a file, not a directory; check the path";
    default:
      return path + ": " + e.code().message() + " (" + e.what() + ")";
  }
}

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
    if (verb == "export-sbml") return export_sbml_command(argc, argv);
    if (verb == "render") return render_command(argc, argv);
    if (verb == "movie") return movie_command(argc, argv);
    if (verb == "plot") return plot_command(argc, argv);
    if (verb == "export-web") return export_web_command(argc, argv);
    if (verb == "ensemble") return ensemble_command(argc, argv);
    if (verb == "export-csv") return export_csv_command(argc, argv);
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
  } catch (const std::bad_alloc&) {
    // Not a bug to report but a run too large for this machine: say what to shrink.
    std::cerr << "spinesim: out of memory; reduce the scene (fewer molecules or releases, a coarser mesh, a "
                 "shorter t_end_s or fewer frames), use fewer --threads, or run where more memory is free\n";
    return kExitIo;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "spinesim: " << describe_filesystem_error(e) << "\n";
    return kExitIo;
  } catch (const std::exception& e) {
    std::cerr << "spinesim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
