// A movie of a run: every frame rendered with viz/render.h (optionally with the
// camera orbiting the spine once), encoded with ffmpeg when it is on PATH, else
// left as a numbered PNG sequence.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>

#include "viz/render.h"

namespace spinesim {

struct MovieOptions {
  RenderOptions render;  ///< size, camera, SSAO (frame / time are set per frame)
  bool orbit = false;    ///< rotate the camera 360° about the vertical axis over the movie
  int fps = 10;          ///< frames per second of the encoded movie
};

struct MovieResult {
  std::filesystem::path written;  ///< the movie file, or the PNG directory
  bool encoded = false;           ///< true when ffmpeg wrote `written`
  std::size_t frames = 0;
};

/// Full path of `program` found on PATH, or empty.
std::filesystem::path find_on_path(const std::string& program);

/// Renders every frame of RUN_DIR. With ffmpeg on PATH the PNGs go to a temporary
/// directory beside `out` and are encoded into `out` (H.264 for .mp4/.mov/.mkv,
/// otherwise what ffmpeg picks for the extension); without it they are written as
/// OUTSTEM_frames/frame_00000.png, ... beside `out`. `progress(k, n)` is called
/// after each frame. Throws like render_run, and IoError when ffmpeg fails (the
/// frames are then kept in OUTSTEM_frames/).
MovieResult make_movie(const std::filesystem::path& run_dir, const std::filesystem::path& out, const MovieOptions& o,
                       const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace spinesim
