// `spinesim render`, `movie` and `plot`: pictures of a run directory, headless.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "viz/render.h"

namespace spinesim::cli {

namespace {

const char* kRenderHelp = R"(usage: spinesim render RUN_DIR -o OUT.png [--frame K] [--camera side|top] [--size WxH]

Draws the mesh (regions coloured, membrane semi-transparent) and the molecules of
one frame of a run as spheres coloured by species. Needs an X display; on a
headless machine run it under xvfb-run -a.

Options:
  -o, --output OUT.png   image to write
  --frame K              frame index in frames.pvd (default: the last)
  --camera NAME          side (default) or top
  --size WxH             image size in pixels (default 1200x900)

Example:
  xvfb-run -a spinesim render runs/demo -o runs/demo/frame.png --frame 3
)";

}  // namespace

int render_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kRenderHelp;
    return kExitOk;
  }
  // Accept -o as a synonym of --output.
  std::vector<char*> rewritten(argv, argv + argc);
  std::string output_flag = "--output";
  for (auto& a : rewritten)
    if (std::string(a) == "-o") a = output_flag.data();
  Args args(static_cast<int>(rewritten.size()), rewritten.data(), 2, {{"output"}, {"frame"}, {"camera"}, {"size"}});
  if (args.positional().size() != 1) throw UsageError("render needs exactly one RUN_DIR");
  if (!args.has("output")) throw UsageError("render needs -o OUT.png");
  RenderOptions o;
  o.frame = static_cast<int>(args.get_int("frame", -1, -1, 1 << 30));
  o.camera = args.get("camera").value_or("side");
  if (o.camera != "side" && o.camera != "top") throw UsageError("--camera must be side or top, got '" + o.camera + "'");
  if (auto size = args.get("size")) {
    int w = 0, h = 0;
    char tail = 0;
    if (std::sscanf(size->c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 8192 || h > 8192)
      throw UsageError("--size expects WxH with 16..8192 pixels each, e.g. 1920x1080; got '" + *size + "'");
    o.width = w;
    o.height = h;
  }
  render_run(args.positional()[0], *args.get("output"), o);
  std::cout << "wrote " << *args.get("output") << "\n";
  return kExitOk;
}

}  // namespace spinesim::cli

namespace spinesim::cli {

int movie_command(int, char**) {
  std::cerr << "spinesim movie: not available in this build yet\n";
  return kExitInput;
}

int plot_command(int, char**) {
  std::cerr << "spinesim plot: not available in this build yet\n";
  return kExitInput;
}

}  // namespace spinesim::cli
