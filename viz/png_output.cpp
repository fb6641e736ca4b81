#include "viz/png_output.h"

#include <vtkCommand.h>
#include <vtkGL2PSExporter.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkRenderWindow.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/vtp_read.h"

namespace spinesim {

void write_window_png(vtkRenderWindow* window, const std::filesystem::path& png) {
  vtkNew<vtkWindowToImageFilter> grab;
  grab->SetInput(window);
  grab->SetInputBufferTypeToRGB();
  grab->ReadFrontBufferOff();
  grab->Update();
  atomic_write_with(png, [&](const std::filesystem::path& tmp) {
    vtkNew<vtkPNGWriter> w;
    vtkNew<ErrorSink> errors;
    w->AddObserver(vtkCommand::ErrorEvent, errors);
    w->SetInputConnection(grab->GetOutputPort());
    w->SetFileName(tmp.c_str());
    w->Write();
    if (errors->errors > 0 || w->GetErrorCode() != 0)
      throw IoError("cannot write " + png.string() + " (check that the directory exists and is writable)");
  });
}

namespace {
std::string extension_of(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}
}  // namespace

void require_image_extension(const std::filesystem::path& file, WindowContent content) {
  const std::string ext = extension_of(file);
  if (ext != ".png" && ext != ".svg" && ext != ".pdf")
    throw InputError({Diagnostic{file.string(), 0, 0, "output",
                                 "unknown image format '" + ext + "': name the file .png, .svg or .pdf"}});
  // GL2PS embeds the rendered 3D scene as an image, which in SVG needs a gl2ps built
  // with PNG support; Debian's is not, and would write the labels without the scene.
  if (content == WindowContent::kScene3D && ext == ".svg")
    throw InputError({Diagnostic{file.string(), 0, 0, "output",
                                 "3D renders are written as .png or .pdf (SVG would lose the scene: this "
                                 "gl2ps cannot embed images in SVG); plots can be .svg"}});
}

void write_window_image(vtkRenderWindow* window, const std::filesystem::path& file, WindowContent content) {
  require_image_extension(file, content);
  const std::string ext = extension_of(file);
  if (ext == ".png") {
    write_window_png(window, file);
    return;
  }
  atomic_write_with(file, [&](const std::filesystem::path& tmp) {
    vtkNew<ErrorSink> errors;
    // GL2PS for both formats and both contents: VTK 9.1's own SVG and PDF chart
    // exporters scale line widths with the data transform (every curve becomes a
    // band across the plot). GL2PS adds the extension to a prefix: write
    // PREFIX.svg/.pdf, then move it onto tmp.
    const std::filesystem::path prefix = tmp.string() + ".gl2ps";
    vtkNew<vtkGL2PSExporter> e;
    e->AddObserver(vtkCommand::ErrorEvent, errors);
    e->SetRenderWindow(window);
    e->SetFilePrefix(prefix.c_str());
    if (ext == ".svg")
      e->SetFileFormatToSVG();
    else
      e->SetFileFormatToPDF();
    e->CompressOff();
    e->SetSortToBSP();
    e->DrawBackgroundOn();
    e->Write();
    std::error_code ec;
    std::filesystem::rename(prefix.string() + ext, tmp, ec);
    if (ec) throw IoError("cannot write " + file.string() + ": " + ec.message());
    if (errors->errors > 0 || !std::filesystem::exists(tmp) || std::filesystem::file_size(tmp) == 0)
      throw IoError("cannot write " + file.string() + " (check that the directory exists and is writable)");
  });
}

}  // namespace spinesim
