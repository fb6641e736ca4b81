// Scene loading: a valid scene compiles, overrides apply, the resolved scene spells
// out defaults, and errors carry file:line:column and the field path.
#include "io/scene_loader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace spinesim;
namespace fs = std::filesystem;

namespace {
fs::path write_scene(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "spinesim_scene_loader_test";
  fs::create_directories(dir);
  const fs::path f = dir / name;
  std::ofstream(f) << text;
  return f;
}
}  // namespace

TEST_CASE("a box scene compiles with defaults and overrides") {
  const auto f = write_scene("box.pbtxt", R"(
geometry { box { x_um: 2 } }
species { name: "A" diffusion_um2_per_s: 1 }
placement { species: "A" count: 10 compartment: "box" }
)");
  SceneOverrides ov;
  ov.seed = 99;
  const LoadedScene s = load_scene(f, ov);
  CHECK(s.model.seed == 99);
  CHECK(s.model.dt_s == 1e-6);
  CHECK(s.model.species.size() == 1);
  CHECK(s.model.geometry.triangle_count() == 12);
  CHECK(s.model.placements.at(0).count == 10);
  CHECK(s.resolved_text.find("dt_s: 1e-06") != std::string::npos);
  CHECK(s.resolved_text.find("seed: 99") != std::string::npos);
}

TEST_CASE("errors name file, line, column and field") {
  const auto f =
      write_scene("bad.pbtxt", "geometry { box { } }\nspecies {\n  name: \"A\"\n  diffusion_um2_per_s: -1\n}\n");
  std::vector<Diagnostic> errors, warnings;
  validate_scene(f, errors, warnings);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 4);
  CHECK(errors[0].column == 3);
  CHECK(errors[0].field == "species[0].diffusion_um2_per_s");
  CHECK(errors[0].format().find("bad.pbtxt:4:3: species[0].diffusion_um2_per_s: diffusion coefficient must be ≥ 0") !=
        std::string::npos);
}

TEST_CASE("every problem is listed, not only the first") {
  const auto f = write_scene("many.pbtxt", R"(
simulation { dt_s: 0 t_end_s: -1 }
geometry { box { } }
species { name: "A" diffusion_um2_per_s: 1 }
species { name: "A" diffusion_um2_per_s: 1 }
placement { species: "B" count: 1 compartment: "box" }
)");
  std::vector<Diagnostic> errors, warnings;
  validate_scene(f, errors, warnings);
  CHECK(errors.size() == 4);
}
