// libFuzzer target: the surface-mesh importer (spinesim::read_surface_mesh) and the
// closed-mesh checks that follow it in the scene loader. The first byte chooses the
// format (.obj, .off, .stl, .ply, .vtp); the rest is written to a temporary file with
// that extension. Any crash, sanitizer report or exception other than InputError is
// a bug. See fuzz_scene.cpp for how this is built and replayed.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "geometry/mesh_check.h"
#include "io/mesh_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* const kExt[] = {".obj", ".off", ".stl", ".ply", ".vtp"};
  const char* ext = kExt[data[0] % 5];
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("spinesim_fuzz_mesh_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::filesystem::path file = dir / (std::string("input") + ext);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    spinesim::TriangleMesh mesh = spinesim::read_surface_mesh(file);
    (void)spinesim::check_closed_mesh(mesh);
    (void)spinesim::check_self_intersections(mesh);
    spinesim::orient_outward(mesh, file.string());
    (void)spinesim::point_inside(mesh, spinesim::Vec3{0.1, 0.2, 0.3});
  } catch (const spinesim::InputError&) {
  }
  return 0;
}
