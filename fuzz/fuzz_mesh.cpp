// libFuzzer target: the surface-mesh importer (spinesim::parse_surface_mesh, the
// whole of read_surface_mesh after it has read the file) and the closed-mesh checks
// that follow it in the scene loader. The first byte chooses the format (.obj, .off,
// .stl, .ply, .vtp); the rest are the file's bytes, parsed in memory (no temporary
// file, so the fuzzer is not limited by the file system). Any crash, sanitizer
// report or exception other than InputError is a bug. See fuzz_scene.cpp for how
// this is built and replayed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "geometry/mesh_check.h"
#include "io/mesh_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* const kName[] = {"input.obj", "input.off", "input.stl", "input.ply", "input.vtp"};
  const std::string name = kName[data[0] % 5];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    spinesim::TriangleMesh mesh = spinesim::parse_surface_mesh(bytes, name);
    (void)spinesim::check_closed_mesh(mesh);
    (void)spinesim::check_self_intersections(mesh);
    spinesim::orient_outward(mesh, name);
    (void)spinesim::point_inside(mesh, spinesim::Vec3{0.1, 0.2, 0.3});
  } catch (const spinesim::InputError&) {
  }
  return 0;
}
