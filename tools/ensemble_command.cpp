// `spinesim ensemble`: replicate runs of a scene (issue 5; in progress).
#include <iostream>

#include "tools/cli_args.h"
#include "tools/commands.h"

namespace spinesim::cli {

int ensemble_command(int, char**) {
  std::cerr << "spinesim ensemble: not available in this build yet\n";
  return kExitInput;
}

}  // namespace spinesim::cli
