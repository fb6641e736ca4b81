// `spinesim render`, `movie`, `plot` and `export-web`: pictures of a run directory, headless,
// and a browser view of it.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "viz/movie.h"
#include "viz/plot.h"
#include "viz/render.h"
#include "viz/web_export.h"

namespace spinesim::cli {

namespace {

const char* kRenderHelp =
    R"(usage: spinesim render RUN_DIR -o OUT.png [--frame K | --time T] [--camera side|top|psd|cutaway]
                       [--size WxH] [--no-ssao]

Draws one frame of a run: the membrane coloured by region (PSD dark red,
perisynaptic orange, extrasynaptic head / neck / shaft in three blue-greys), the
molecules as spheres of their species' display radius coloured by species, receptors
and other agents coloured by state (closed: the agent's colour, open: yellow,
pore-blocked or trapped: one dark hue per blocker), a legend of species and agent
states with counts, a scale bar in nm and the simulated time. Needs an X display;
on a headless machine run it under xvfb-run -a. The same frame gives the same bytes.

Options:
  -o, --output OUT.png   image to write: .png, .pdf (or .svg for plots)
  --frame K              frame index in frames.pvd (default: the last)
  --time T               the frame nearest simulated time T, in seconds (e.g. 0.002)
  --camera NAME          side (default): the whole spine, head semi-transparent
                         top: looking down the spine axis
                         psd: close-up of the PSD from above, presynaptic side hidden
                         cutaway: side view with the near half of the membrane cut away
  --size WxH             image size in pixels (default 1200x900)
  --no-ssao              plain lighting without ambient occlusion (faster)

Example:
  xvfb-run -a spinesim render runs/demo -o runs/demo/psd.png --time 0.001 --camera psd
)";

const char* kMovieHelp =
    R"(usage: spinesim movie RUN_DIR -o OUT.mp4 [--orbit] [--fps N] [--size WxH] [--camera NAME] [--no-ssao]

Renders every frame of a run like `spinesim render` and encodes them with ffmpeg
(H.264 for .mp4). Without ffmpeg on PATH (Debian: apt-get install ffmpeg) the frames
are left as a numbered PNG sequence OUT_frames/frame_00000.png, ... beside OUT.
Needs an X display; on a headless machine run it under xvfb-run -a.

Options:
  -o, --output OUT.mp4   movie to write (.mp4, .mkv, .webm, .gif: whatever ffmpeg knows)
  --orbit                turn the camera once around the spine over the movie
  --fps N                frames per second (default 10)
  --size WxH             frame size in pixels (default 1280x720)
  --camera NAME          side (default), top, psd or cutaway, as for render
  --no-ssao              plain lighting without ambient occlusion (faster)

Example:
  xvfb-run -a spinesim movie runs/demo -o runs/demo/movie.mp4 --orbit --fps 15
)";

const char* kPlotHelp = R"(usage: spinesim plot RUN_DIR -o OUT.png [--columns A,B,...] [--size WxH]
                     [--title T] [--y-label L]

Plots columns of RUN_DIR/counts.csv against time (ms, s or min by the run's length) as lines with a legend.
Without --columns it picks up to 8 columns that change during the run (molecule
and agent counts first; currents and Ca2+ influx only when named). Needs an X
display; on a headless machine run it under xvfb-run -a.

Options:
  -o, --output OUT.png   image to write: .png, .pdf (or .svg for plots)
  --columns A,B,...      counts.csv column names, comma-separated (see its header)
  --size WxH             image size in pixels (default 1000x600)
  --title T              chart title (default: RUN_DIR: counts.csv)
  --y-label L            left axis title (default: count, and current when plotted)

Example:
  xvfb-run -a spinesim plot runs/demo -o runs/demo/counts.png --columns calcium@cytosol,glutamate@cleft
)";

const char* kExportWebHelp =
    R"(usage: spinesim export-web RUN_DIR -o OUT.html [--stride K] [--max-points N]

Writes one self-contained HTML file that shows the run in a web browser: the
membrane coloured by region (as in render), the molecules of every frame as
spheres coloured by species (the same colours as render and plot), agents by
state, a time slider, play/pause, a check box per species and a legend with counts.
The viewer (vtk.js) is inside the file: it needs no network and opens from a
file:// URL, so the file can be mailed or archived with a paper. Drag to rotate,
right-drag or wheel to zoom, shift-drag to pan; OUT.html#frame=K opens frame K
(#frame=-1 the last). Needs a browser with WebGL. The run must have written frames
(output.frame_interval_s > 0).

Options:
  -o, --output OUT.html  the HTML file to write
  --stride K             keep every K-th frame (and the last; default 1: all)
  --max-points N         refuse when the kept frames hold more than N molecule
                         positions in all (default 2000000, about 42 MB of HTML;
                         each costs about 21 bytes); use --stride to keep fewer
                         frames, or raise N for a larger file

Example:
  spinesim export-web runs/demo -o runs/demo/view.html
)";

/// Accepts -o as a synonym of --output, then parses.
Args parse(int argc, char** argv, const std::vector<OptionSpec>& specs) {
  return parse_with_output(argc, argv, specs);
}

void require_run_dir_and_output(const Args& args, const std::string& verb, const std::string& example_out) {
  if (args.positional().size() != 1) {
    throw UsageError(verb + " needs exactly one RUN_DIR (a directory written by spinesim run), got " +
                     std::to_string(args.positional().size()));
  }
  if (!args.has("output")) throw UsageError(verb + " needs -o " + example_out);
}

void parse_size(const Args& args, int& width, int& height) {
  auto size = args.get("size");
  if (!size) return;
  int w = 0, h = 0;
  char tail = 0;
  if (std::sscanf(size->c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 8192 || h > 8192)
    throw UsageError("--size expects WxH with 16..8192 pixels each, e.g. 1920x1080; got '" + *size + "'");
  width = w;
  height = h;
}

std::string parse_camera(const Args& args) {
  const std::string camera = args.get("camera").value_or("side");
  for (const auto& c : kRenderCameras)
    if (c == camera) return camera;
  throw UsageError("--camera must be side, top, psd or cutaway, got '" + camera + "'");
}

}  // namespace

int render_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kRenderHelp;
    return kExitOk;
  }
  Args args = parse(argc, argv, {{"output"}, {"frame"}, {"time"}, {"camera"}, {"size"}, {"no-ssao", false}});
  require_run_dir_and_output(args, "render", "OUT.png");
  RenderOptions o;
  if (args.has("frame") && args.has("time")) {
    throw UsageError("--frame and --time both choose the frame; give only one");
  }
  o.frame = static_cast<int>(args.get_int("frame", -1, -1, 1 << 30));
  if (args.has("time")) o.time_s = args.get_double("time", 0.0, 0.0);
  o.camera = parse_camera(args);
  o.ambient_occlusion = !args.has("no-ssao");
  parse_size(args, o.width, o.height);
  render_run(args.positional()[0], *args.get("output"), o);
  std::cout << "wrote " << *args.get("output") << "\n";
  return kExitOk;
}

int movie_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kMovieHelp;
    return kExitOk;
  }
  Args args = parse(argc, argv, {{"output"}, {"orbit", false}, {"fps"}, {"size"}, {"camera"}, {"no-ssao", false}});
  require_run_dir_and_output(args, "movie", "OUT.mp4");
  MovieOptions o;
  o.render.width = 1280;
  o.render.height = 720;
  parse_size(args, o.render.width, o.render.height);
  o.render.camera = parse_camera(args);
  o.render.ambient_occlusion = !args.has("no-ssao");
  o.orbit = args.has("orbit");
  o.fps = static_cast<int>(args.get_int("fps", 10, 1, 240));
  const auto result = make_movie(args.positional()[0], *args.get("output"), o, [](std::size_t k, std::size_t n) {
    std::cerr << "\rframe " << k << "/" << n << std::flush;
    if (k == n) std::cerr << "\n";
  });
  if (result.encoded) {
    std::cout << "wrote " << result.written.string() << " (" << result.frames << " frames at " << o.fps << " fps)\n";
  } else {
    std::cout << "ffmpeg is not on PATH, so no movie was encoded; wrote " << result.frames << " frames to "
              << result.written.string() << "/frame_00000.png ... (install ffmpeg, e.g. apt-get install ffmpeg, "
              << "and run again, or encode them with: ffmpeg -framerate " << o.fps << " -i "
              << (result.written / "frame_%05d.png").string() << " -pix_fmt yuv420p " << *args.get("output") << ")\n";
  }
  return kExitOk;
}

int plot_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kPlotHelp;
    return kExitOk;
  }
  Args args = parse(argc, argv, {{"output"}, {"columns"}, {"size"}, {"title"}, {"y-label"}});
  require_run_dir_and_output(args, "plot", "OUT.png");
  PlotOptions o;
  if (auto t = args.get("title")) o.title = *t;
  if (auto y = args.get("y-label")) o.y_label = *y;
  parse_size(args, o.width, o.height);
  if (auto cols = args.get("columns")) {
    std::istringstream in(*cols);
    std::string c;
    while (std::getline(in, c, ',')) {
      if (!c.empty()) o.columns.push_back(c);
    }
    if (o.columns.empty()) {
      throw UsageError("--columns expects comma-separated counts.csv column names, e.g. calcium@cytosol,AMPAR.open");
    }
  }
  plot_counts(args.positional()[0], *args.get("output"), o);
  std::cout << "wrote " << *args.get("output") << "\n";
  return kExitOk;
}

int export_web_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kExportWebHelp;
    return kExitOk;
  }
  Args args = parse(argc, argv, {{"output"}, {"stride"}, {"max-points"}});
  require_run_dir_and_output(args, "export-web", "OUT.html");
  WebExportOptions o;
  o.stride = static_cast<std::size_t>(args.get_int("stride", 1, 1, 1LL << 40));
  o.max_points = static_cast<std::uint64_t>(args.get_int("max-points", 2'000'000, 1, 1LL << 40));
  const auto r = export_web(args.positional()[0], *args.get("output"), o);
  std::cout << "wrote " << *args.get("output") << " (" << r.frames << " of " << r.run_frames << " frames, "
            << r.molecules << " molecule positions, " << (r.bytes + 512 * 1024) / (1024 * 1024) << " MiB)\n";
  return kExitOk;
}

}  // namespace spinesim::cli
