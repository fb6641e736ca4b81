// Reading back the .vtp files of a run directory (mesh.vtp, frames/NNNNN.vtp) for
// `spinesim render`, `movie` and `export-web`, with errors that name the file.
#pragma once

#include <vtkCommand.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "viz/palette.h"

namespace spinesim {

/// Sphere radius of a molecule when the frame gives none for its species, µm.
inline constexpr double kDefaultMoleculeRadiusUm = 0.006;

/// Counts VTK error events (and keeps them off stderr).
class ErrorSink : public vtkCommand {
 public:
  static ErrorSink* New() { return new ErrorSink; }
  void Execute(vtkObject*, unsigned long event, void*) override {
    if (event == vtkCommand::ErrorEvent) ++errors;
  }
  int errors = 0;
};

/// Throws InputError for `file` with `message` (what is wrong and what to do).
[[noreturn]] void fail_in_file(const std::filesystem::path& file, const std::string& message);

/// Reads a VTK XML PolyData file; `what` names it in the message. Throws InputError
/// (with file) when it is missing, truncated or not PolyData.
vtkSmartPointer<vtkPolyData> read_vtp(const std::filesystem::path& file, const std::string& what);

/// The strings of a field-data string array (empty when the array is absent).
std::vector<std::string> names_of(vtkPolyData* pd, const char* array);

/// Each agent type takes the colour of the species whose molecules carry it, so
/// closed AMPARs and NMDARs differ as their species do (the `type_base` of
/// state_colors), from the agents present in `frame`.
std::map<std::string, Rgb> agent_type_colors(vtkPolyData* frame, const std::vector<std::string>& state_names,
                                             const std::vector<Rgb>& species_rgb);

}  // namespace spinesim
