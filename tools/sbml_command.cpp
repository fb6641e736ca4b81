// `spinesim export-sbml`: the well-mixed part of a pathway or scene as SBML L3 (io/sbml.h).
#include <iostream>

#include "core/atomic_file.h"
#include "io/sbml.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

namespace spinesim::cli {

namespace {
const char* kExportSbmlHelp = R"(usage: spinesim export-sbml PATHWAY_OR_SCENE -o OUT.xml

Writes the well-mixed part (pools, species, mass-action reactions, parameters) as an
SBML Level 3 Version 2 core model: counts in items, volumes in um3, time in s; what SBML
cannot say (clamp modulators, agent Ca2+ influx, agent <-> pool links, sources) travels in
annotations, so `well_mixed_file: "OUT.xml"` gives the same pathway back. For a scene,
its pathway files and inline well_mixed block are merged. See docs/sbml.md.

Example:
  spinesim export-sbml scenes/pathways/spine_pathway.pbtxt -o spine_pathway.xml
)";
}  // namespace

int export_sbml_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kExportSbmlHelp;
    return kExitOk;
  }
  Args args = parse_with_output(argc, argv, {{"output"}});
  if (args.positional().size() != 1) throw UsageError("export-sbml needs exactly one PATHWAY_OR_SCENE file");
  const auto out = args.get("output");
  if (!out) throw UsageError("export-sbml needs -o OUT.xml");
  atomic_write(*out, export_sbml(args.positional()[0]));
  std::cerr << *out << ": SBML written\n";
  return kExitOk;
}

}  // namespace spinesim::cli
