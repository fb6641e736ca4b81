// Movies: render every frame to PNG, then hand the sequence to ffmpeg if present.
#include "viz/movie.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"

extern char** environ;

namespace spinesim {

namespace fs = std::filesystem;

namespace {

std::string frame_name(std::size_t k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "frame_%05zu.png", k);
  return buf;
}

/// Makes `dir` an empty directory for frames; an existing one may only hold
/// frame_*.png files from an earlier movie (those are removed).
void prepare_frame_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      throw IoError(dir.string() + " exists and is not a directory; remove it or choose another -o");
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("frame_", 0) != 0 || e.path().extension() != ".png") {
        throw IoError(dir.string() + " holds other files than frame_*.png; remove it or choose another -o");
      }
    }
    fs::remove_all(dir, ec);
  }
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create " + dir.string() + ": " + ec.message());
}

/// Runs argv (argv[0] looked up on PATH) and returns its exit status.
int run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return 127;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

fs::path find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::string p = path;
  std::size_t start = 0;
  while (start <= p.size()) {
    const std::size_t end = p.find(':', start);
    const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      const fs::path candidate = fs::path(dir) / program;
      if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

MovieResult make_movie(const fs::path& run_dir, const fs::path& out, const MovieOptions& o,
                       const std::function<void(std::size_t, std::size_t)>& progress) {
  if (o.fps < 1 || o.fps > 240) {
    Diagnostic d;
    d.file = out.string();
    d.message = "frame rate " + std::to_string(o.fps) + " is invalid; use 1..240 frames per second";
    throw InputError(std::move(d));
  }
  const std::size_t n = frame_count(run_dir);
  if (n == 0) {
    Diagnostic d;
    d.file = (run_dir / "frames.pvd").string();
    d.message = "frames.pvd lists no frames yet; wait for the run to write its first output";
    throw InputError(std::move(d));
  }
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const fs::path ffmpeg = find_on_path("ffmpeg");
  const fs::path frames_dir = parent / (out.stem().string() + "_frames");
  const fs::path work_dir = ffmpeg.empty() ? frames_dir : parent / ("." + out.stem().string() + ".frames.tmp");
  prepare_frame_dir(work_dir);

  RenderOptions r = o.render;
  r.time_s.reset();
  r.fit_for_orbit = o.orbit;
  for (std::size_t k = 0; k < n; ++k) {
    r.frame = static_cast<int>(k);
    r.orbit_deg = o.orbit ? 360.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0;
    render_run(run_dir, work_dir / frame_name(k), r);
    if (progress) progress(k + 1, n);
  }

  MovieResult result;
  result.frames = n;
  if (ffmpeg.empty()) {
    result.written = frames_dir;
    return result;
  }
  const std::string ext = out.extension().string();
  const fs::path tmp = parent / ("." + out.stem().string() + ".partial" + ext);
  std::vector<std::string> args = {ffmpeg.string(),
                                   "-hide_banner",
                                   "-loglevel",
                                   "error",
                                   "-y",
                                   "-framerate",
                                   std::to_string(o.fps),
                                   "-i",
                                   (work_dir / "frame_%05d.png").string()};
  if (ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext.empty()) {
    // H.264 needs even sizes; yuv420p plays everywhere.
    args.insert(args.end(), {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"});
  }
  if (ext.empty()) args.insert(args.end(), {"-f", "mp4"});
  args.push_back(tmp.string());
  const int rc = run_program(args);
  std::error_code ec;
  if (rc != 0) {
    fs::remove(tmp, ec);
    prepare_frame_dir(frames_dir);
    for (std::size_t k = 0; k < n; ++k) fs::rename(work_dir / frame_name(k), frames_dir / frame_name(k), ec);
    fs::remove_all(work_dir, ec);
    throw IoError("ffmpeg failed (exit " + std::to_string(rc) + ") writing " + out.string() + "; the frames are in " +
                  frames_dir.string() + " (try another extension such as .mp4, or encode them yourself)");
  }
  fs::rename(tmp, out, ec);
  if (ec) throw IoError("cannot write " + out.string() + ": " + ec.message());
  fs::remove_all(work_dir, ec);
  result.written = out;
  result.encoded = true;
  return result;
}

}  // namespace spinesim
