// Writing what an offscreen VTK window shows to a PNG, atomically: shared by
// renders, count plots and ensemble plots.
#pragma once

#include <filesystem>

class vtkRenderWindow;

namespace spinesim {

/// Grabs the back buffer of `window` (already rendered) as RGB and writes it to
/// `png` via a temporary file. Throws IoError naming the path when it cannot.
void write_window_png(vtkRenderWindow* window, const std::filesystem::path& png);

/// What a window shows: a chart (Context2D: vector export keeps text and lines) or a
/// 3D scene (GL2PS: polygons sorted back to front).
enum class WindowContent { kChart, kScene3D };

/// Writes the rendered window in the format of `file`'s extension, atomically: .png
/// (pixels), .pdf (GL2PS: vector text and lines, the 3D scene as an embedded image) or,
/// for charts, .svg (VTK's SVG exporter). Throws InputError naming the file for any
/// other extension, so no file ever holds bytes of another format than its name says.
void write_window_image(vtkRenderWindow* window, const std::filesystem::path& file, WindowContent content);

/// Throws InputError unless `file` ends in .png, .svg or .pdf, and for 3D scenes not
/// .svg (checked before any work).
void require_image_extension(const std::filesystem::path& file, WindowContent content);

}  // namespace spinesim
