// Headless rendering of one frame of a run directory to a PNG: the membrane mesh,
// semi-transparent and coloured by region, with the molecules as spheres coloured
// by species, a species legend with counts and the simulated time.
#pragma once

#include <filesystem>
#include <string>

namespace spinesim {

/// What to render and how.
struct RenderOptions {
  int width = 1200;             ///< image width, pixels
  int height = 900;             ///< image height, pixels
  int frame = -1;               ///< index into frames.pvd; -1 = last frame
  std::string camera = "side";  ///< "side": look along -z; "top": look down -y
};

/// Reads RUN_DIR/mesh.vtp and RUN_DIR/frames.pvd (+ the chosen frame's .vtp,
/// resolved relative to RUN_DIR) and writes a PNG atomically to `png`.
/// Offscreen OpenGL: needs an X display (run under `xvfb-run -a` on servers).
/// The same input gives the same image bytes.
/// Throws InputError (with file) when RUN_DIR lacks the files, frames.pvd lists no
/// frames, the frame index is out of range (message gives the valid range), the
/// size is not positive or the camera name is unknown; IoError when no display is
/// available or the PNG cannot be written.
void render_run(const std::filesystem::path& run_dir, const std::filesystem::path& png, const RenderOptions& o);

}  // namespace spinesim
