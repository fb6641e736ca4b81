// Headless rendering of one frame of a run directory to a PNG: the membrane mesh
// coloured by region (PSD, perisynaptic, extrasynaptic head / neck / shaft), the
// head semi-transparent or cut open, the molecules as spheres sized by their
// species' display radius and coloured by species (agents by their state), a
// legend of species and agent states, a scale bar in nm and the simulated time.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace spinesim {

/// What to render and how.
struct RenderOptions {
  int width = 1200;               ///< image width, pixels
  int height = 900;               ///< image height, pixels
  int frame = -1;                 ///< index into frames.pvd; -1 = last frame
  std::optional<double> time_s;   ///< when set: the frame whose time is nearest (overrides `frame`)
  std::string camera = "side";    ///< side | top | psd | cutaway (see kRenderCameras)
  double orbit_deg = 0;           ///< extra rotation of the camera about the vertical (y) axis, degrees
  bool fit_for_orbit = false;     ///< size the view so that every orbit angle keeps the same scale
  bool ambient_occlusion = true;  ///< screen-space ambient occlusion (vtkSSAOPass)
};

/// The camera names render_run accepts, with what each shows.
///  side:    look along -z at the whole mesh, membrane semi-transparent
///  top:     look down -y at the whole mesh
///  psd:     oblique close-up of the PSD from above, presynaptic surfaces hidden
///  cutaway: side view with the near half (z > centre) of the membrane cut away
inline const std::vector<std::string> kRenderCameras = {"side", "top", "psd", "cutaway"};

/// Frames listed in RUN_DIR/frames.pvd (throws InputError when it is missing).
std::size_t frame_count(const std::filesystem::path& run_dir);

/// Reads RUN_DIR/mesh.vtp and RUN_DIR/frames.pvd (+ the chosen frame's .vtp,
/// resolved relative to RUN_DIR) and writes a PNG atomically to `png`.
/// Offscreen OpenGL: needs an X display (run under `xvfb-run -a` on servers).
/// The same input gives the same image bytes.
/// Throws InputError (with file) when RUN_DIR lacks the files, frames.pvd lists no
/// frames, the frame index or time is out of range (message gives the valid range),
/// the size is not positive, the camera name is unknown or the psd camera finds no
/// "psd" region; IoError when no display is available or the PNG cannot be written.
void render_run(const std::filesystem::path& run_dir, const std::filesystem::path& png, const RenderOptions& o);

/// Throws IoError naming the fix when no X display is usable (VTK's X window would
/// abort the process instead).
void check_display();

}  // namespace spinesim
