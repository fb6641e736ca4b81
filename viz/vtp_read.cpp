#include "viz/vtp_read.h"

#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkStringArray.h>
#include <vtkXMLPolyDataReader.h>

#include "core/error.h"

namespace spinesim {

namespace fs = std::filesystem;

[[noreturn]] void fail_in_file(const fs::path& file, const std::string& message) {
  Diagnostic d;
  d.file = file.string();
  d.message = message;
  throw InputError(std::move(d));
}

vtkSmartPointer<vtkPolyData> read_vtp(const fs::path& file, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    fail_in_file(
        file,
        what +
            " not found; pass a run directory written by `spinesim run` (it holds mesh.vtp, frames.pvd and frames/)");
  }
  vtkNew<vtkXMLPolyDataReader> r;
  vtkNew<ErrorSink> sink;
  r->AddObserver(vtkCommand::ErrorEvent, sink);
  r->SetFileName(file.c_str());
  r->Update();
  auto* out = r->GetOutput();
  if (sink->errors > 0 || out == nullptr) {
    fail_in_file(file, "cannot read " + what +
                           " (truncated or not a VTK XML PolyData file); re-run the simulation to regenerate it");
  }
  vtkSmartPointer<vtkPolyData> pd = out;
  return pd;
}

std::vector<std::string> names_of(vtkPolyData* pd, const char* array) {
  std::vector<std::string> names;
  auto* a = vtkStringArray::SafeDownCast(pd->GetFieldData()->GetAbstractArray(array));
  if (a == nullptr) return names;
  for (vtkIdType i = 0; i < a->GetNumberOfValues(); ++i) names.push_back(a->GetValue(i));
  return names;
}

std::map<std::string, Rgb> agent_type_colors(vtkPolyData* frame, const std::vector<std::string>& state_names,
                                             const std::vector<Rgb>& species_rgb) {
  std::map<std::string, Rgb> out;
  vtkDataArray* species = frame->GetPointData()->GetArray("species");
  vtkDataArray* state = frame->GetPointData()->GetArray("state");
  if (species == nullptr || state == nullptr) return out;
  for (vtkIdType i = 0; i < frame->GetNumberOfPoints(); ++i) {
    const int st = static_cast<int>(state->GetComponent(i, 0));
    if (st <= 0 || static_cast<std::size_t>(st) >= state_names.size()) continue;
    const int s = static_cast<int>(species->GetComponent(i, 0));
    out.emplace(type_part(state_names[static_cast<std::size_t>(st)]),
                s >= 0 && static_cast<std::size_t>(s) < species_rgb.size()
                    ? species_rgb[static_cast<std::size_t>(s)]
                    : species_color(s >= 0 ? static_cast<std::size_t>(s) : 0));
  }
  return out;
}

}  // namespace spinesim
