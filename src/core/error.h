// Error types. Every user-facing error carries where it came from (file, line,
// column, field path) and what to do, so the CLI can print it without context.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace spinesim {

/// One problem found in user input. `line`/`column` are 1-based; 0 means unknown.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string field;    ///< field path such as "species[2].diffusion_um2_per_s"
  std::string message;  ///< what is wrong and what to do

  /// "file:line:column: field: message", omitting the parts that are unknown.
  std::string format() const;
};

/// Thrown when input is invalid; holds every problem found, not only the first.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  explicit InputError(Diagnostic diagnostic);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

/// Thrown by the simulator when a run reaches a limit the scene sets on resources
/// (simulation.max_molecules); the run's checkpoint callback, if any, has been called
/// first, so what was computed is kept.
class ResourceLimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown on failures of the environment (disk full, unwritable directory).
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace spinesim
