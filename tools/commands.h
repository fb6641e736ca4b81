// The verbs of the spinesim command line. Each returns the process exit code:
// 0 success, 1 internal error, 2 bad input or usage, 3 an output could not be written
// (or the environment failed: the directory is locked by another writer, a path the
// file system refuses, out of memory), 4 stopped by SIGINT/SIGTERM after writing a
// checkpoint (continue with `spinesim resume`).
#pragma once

namespace spinesim::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitInput = 2;
inline constexpr int kExitIo = 3;
inline constexpr int kExitInterrupted = 4;

int run_command(int argc, char** argv);
int resume_command(int argc, char** argv);
int validate_command(int argc, char** argv);
int export_sbml_command(int argc, char** argv);
int render_command(int argc, char** argv);
int movie_command(int argc, char** argv);
int plot_command(int argc, char** argv);
int export_web_command(int argc, char** argv);
int ensemble_command(int argc, char** argv);
int export_csv_command(int argc, char** argv);
int bench_command(int argc, char** argv);

}  // namespace spinesim::cli
