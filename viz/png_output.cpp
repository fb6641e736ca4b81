#include "viz/png_output.h"

#include <vtkCommand.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkRenderWindow.h>
#include <vtkWindowToImageFilter.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace spinesim {

namespace {
/// Counts the errors a VTK object reports (instead of printing them).
class ErrorCount : public vtkCommand {
 public:
  static ErrorCount* New() { return new ErrorCount; }
  void Execute(vtkObject*, unsigned long event, void*) override {
    if (event == vtkCommand::ErrorEvent) ++errors;
  }
  int errors = 0;
};
}  // namespace

void write_window_png(vtkRenderWindow* window, const std::filesystem::path& png) {
  vtkNew<vtkWindowToImageFilter> grab;
  grab->SetInput(window);
  grab->SetInputBufferTypeToRGB();
  grab->ReadFrontBufferOff();
  grab->Update();
  atomic_write_with(png, [&](const std::filesystem::path& tmp) {
    vtkNew<vtkPNGWriter> w;
    vtkNew<ErrorCount> errors;
    w->AddObserver(vtkCommand::ErrorEvent, errors);
    w->SetInputConnection(grab->GetOutputPort());
    w->SetFileName(tmp.c_str());
    w->Write();
    if (errors->errors > 0 || w->GetErrorCode() != 0)
      throw IoError("cannot write " + png.string() + " (check that the directory exists and is writable)");
  });
}

}  // namespace spinesim
