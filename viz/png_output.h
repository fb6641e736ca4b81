// Writing what an offscreen VTK window shows to a PNG, atomically: shared by
// renders, count plots and ensemble plots.
#pragma once

#include <filesystem>

class vtkRenderWindow;

namespace spinesim {

/// Grabs the back buffer of `window` (already rendered) as RGB and writes it to
/// `png` via a temporary file. Throws IoError naming the path when it cannot.
void write_window_png(vtkRenderWindow* window, const std::filesystem::path& png);

}  // namespace spinesim
