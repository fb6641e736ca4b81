// `spinesim export-web`: one self-contained HTML file that shows a run in the
// browser (vtk.js, bundled into the binary): the membrane by region, molecules by
// species and agents by state per frame, with a time slider, play/pause, species
// toggles and a legend. No network is needed to view it; it opens from file://.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace spinesim {

struct WebExportOptions {
  std::size_t stride = 1;  ///< keep frames 0, stride, 2·stride, ... (and always the last)
  /// Refuse when the kept frames hold more molecule positions than this in all: each
  /// costs about 21 bytes of HTML, and a browser parses the whole file at once.
  std::uint64_t max_points = 2'000'000;
};

struct WebExportResult {
  std::size_t frames = 0;       ///< frames written
  std::size_t run_frames = 0;   ///< frames in frames.pvd
  std::uint64_t molecules = 0;  ///< molecule positions written, all frames together
  std::uintmax_t bytes = 0;     ///< size of the HTML file
};

/// Reads RUN_DIR/mesh.vtp, RUN_DIR/frames.pvd and the frames it lists, and writes
/// `html` atomically. Throws InputError naming the file when one is missing or
/// corrupt, when frames disagree on their species or state tables, or when the
/// kept frames exceed `max_points` (the message names --stride and --max-points);
/// IoError when the HTML cannot be written.
WebExportResult export_web(const std::filesystem::path& run_dir, const std::filesystem::path& html,
                           const WebExportOptions& options);

/// The bundled viewer script (viz/web/dist/viewer.min.js, compiled in).
std::string web_viewer_script();

}  // namespace spinesim
