// Tests for read_surface_mesh: every supported format round-trips a small mesh
// (counts, coordinates, STL vertex merging), errors name the file and say what to
// do, and the shared OIST spine meshes load with their known sizes.
#include "io/mesh_import.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace fs = std::filesystem;
using namespace spinesim;

namespace {

/// A fresh directory under the system temp dir, removed on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("spinesim_mesh_import_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& contents) const {
    fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }
};

/// Message of the first diagnostic of the InputError thrown by reading `file`.
std::string error_of(const fs::path& file) {
  try {
    read_surface_mesh(file);
  } catch (const InputError& e) {
    REQUIRE(!e.diagnostics().empty());
    CHECK(e.diagnostics()[0].file == file.string());
    return e.diagnostics()[0].message;
  }
  FAIL("expected InputError for " << file);
  return {};
}

/// Line of the first diagnostic of the InputError thrown by reading `file`.
int error_line_of(const fs::path& file) {
  try {
    read_surface_mesh(file);
  } catch (const InputError& e) {
    return e.diagnostics().at(0).line;
  }
  return -1;
}

bool has_vertex(const TriangleMesh& m, Vec3 v) {
  for (const auto& p : m.vertices) {
    if (p == v) return true;
  }
  return false;
}

// Unit tetrahedron with outward normals.
const char* kTetraStl = R"(solid tet
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0 1 0
  vertex 1 0 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 1 0 0
  vertex 0 0 1
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0 1
  vertex 0 1 0
 endloop
endfacet
facet normal 1 1 1
 outer loop
  vertex 1 0 0
  vertex 0 1 0
  vertex 0 0 1
 endloop
endfacet
endsolid tet
)";

const char* kTetraPly = R"(ply
format ascii 1.0
comment unit tetrahedron
element vertex 4
property float x
property float y
property float z
element face 4
property list uchar int vertex_indices
end_header
0 0 0
1 0 0
0 1 0
0 0 1
3 0 2 1
3 0 1 3
3 0 3 2
3 1 2 3
)";

// Unit cube with quad faces (fan-/VTK-triangulated into 12 triangles).
const char* kCubeObj = R"(# unit cube
o cube
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
f 1 4 3 2
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
)";

const char* kCubeOff = R"(OFF
# unit cube, quads
8 6 12
0 0 0
1 0 0
1 1 0
0 1 0
0 0 1   # trailing comment
1 0 1
1 1 1
0 1 1

4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 1 2 6 5
4 2 3 7 6
4 3 0 4 7
)";

}  // namespace

TEST_SUITE("mesh_import") {
  TEST_CASE("OBJ cube with quads is triangulated") {
    TempDir dir;
    auto m = read_surface_mesh(dir.write("cube.obj", kCubeObj));
    CHECK(m.vertices.size() == 8);
    CHECK(m.triangles.size() == 12);
    CHECK(m.vertices[0] == Vec3(0, 0, 0));
    CHECK(m.vertices[6] == Vec3(1, 1, 1));
  }

  TEST_CASE("ASCII PLY tetrahedron") {
    TempDir dir;
    auto m = read_surface_mesh(dir.write("tet.ply", kTetraPly));
    CHECK(m.vertices.size() == 4);
    CHECK(m.triangles.size() == 4);
    CHECK(m.vertices[1] == Vec3(1, 0, 0));
    CHECK(m.vertices[3] == Vec3(0, 0, 1));
    CHECK(m.triangles[0] == std::array<std::uint32_t, 3>{0, 2, 1});
  }

  TEST_CASE("ASCII STL tetrahedron: per-facet vertices are merged") {
    TempDir dir;
    auto m = read_surface_mesh(dir.write("tet.STL", kTetraStl));
    CHECK(m.vertices.size() == 4);
    CHECK(m.triangles.size() == 4);
    for (Vec3 v : {Vec3(0, 0, 0), Vec3(1, 0, 0), Vec3(0, 1, 0), Vec3(0, 0, 1)}) CHECK(has_vertex(m, v));
    // Every edge is shared by exactly two triangles once vertices are merged.
    for (const auto& t : m.triangles) {
      CHECK(t[0] != t[1]);
      CHECK(t[1] != t[2]);
      CHECK(t[0] != t[2]);
    }
  }

  TEST_CASE("OFF cube: comments, blank lines and quads") {
    TempDir dir;
    auto m = read_surface_mesh(dir.write("cube.off", kCubeOff));
    CHECK(m.vertices.size() == 8);
    REQUIRE(m.triangles.size() == 12);
    CHECK(m.vertices[4] == Vec3(0, 0, 1));
    // Fan triangulation from the first vertex of each face.
    CHECK(m.triangles[0] == std::array<std::uint32_t, 3>{0, 3, 2});
    CHECK(m.triangles[1] == std::array<std::uint32_t, 3>{0, 2, 1});
  }

  TEST_CASE("OFF with counts on the header line") {
    TempDir dir;
    auto m = read_surface_mesh(dir.write("tri.off", "OFF 3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"));
    CHECK(m.vertices.size() == 3);
    CHECK(m.triangles.size() == 1);
  }

  TEST_CASE("missing file") {
    TempDir dir;
    auto msg = error_of(dir.path / "nope.obj");
    CHECK(msg.find("file not found") != std::string::npos);
    CHECK(msg.find("relative paths are resolved against the scene file's directory") != std::string::npos);
  }

  TEST_CASE("unsupported extension lists the supported ones") {
    TempDir dir;
    auto msg = error_of(dir.write("mesh.xyz", "1 2 3\n"));
    CHECK(msg.find("unsupported mesh format '.xyz'") != std::string::npos);
    CHECK(msg.find(".obj, .ply, .stl, .vtp, .off") != std::string::npos);
  }

  TEST_CASE("malformed OFF reports the line") {
    TempDir dir;
    auto bad_vertex = dir.write("bad1.off", "OFF\n3 1 0\n0 0 0\n1 zero 0\n0 1 0\n3 0 1 2\n");
    CHECK(error_of(bad_vertex).find("vertex line") != std::string::npos);
    CHECK(error_line_of(bad_vertex) == 4);
    auto bad_index = dir.write("bad2.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n");
    CHECK(error_of(bad_index).find("0..2") != std::string::npos);
    CHECK(error_line_of(bad_index) == 6);
    auto truncated = dir.write("bad3.off", "OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n");
    CHECK(error_of(truncated).find("ends after 1 of 2 faces") != std::string::npos);
    auto header = dir.write("bad4.off", "PLY\n");
    CHECK(error_of(header).find("'OFF'") != std::string::npos);
    CHECK(error_line_of(header) == 1);
    auto line_face = dir.write("bad5.off", "OFF\n2 1 0\n0 0 0\n1 0 0\n2 0 1\n");
    CHECK(error_of(line_face).find("at least 3") != std::string::npos);
  }

  TEST_CASE("lines-only OBJ is rejected") {
    TempDir dir;
    auto msg = error_of(dir.write("lines.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\nl 2 3\n"));
    CHECK(msg.find("only lines or points") != std::string::npos);
  }

  TEST_CASE("empty and garbage files are rejected") {
    TempDir dir;
    CHECK(!error_of(dir.write("empty.obj", "")).empty());
    CHECK(!error_of(dir.write("empty.stl", "")).empty());
    CHECK(!error_of(dir.write("garbage.ply", "this is not a ply file\n")).empty());
    CHECK(!error_of(dir.write("garbage.vtp", "<nope>")).empty());
    CHECK(!error_of(dir.write("empty.off", "# nothing\n")).empty());
  }

  TEST_CASE("OIST spine meshes") {
    const fs::path dir = fs::path(SPINESIM_TEST_DATA_DIR) / "meshes" / "oist_spine";
    auto obj = read_surface_mesh(dir / "spine.obj");
    CHECK(obj.vertices.size() == 1430);
    CHECK(obj.triangles.size() == 2856);
    auto off = read_surface_mesh(dir / "Spine.off");
    CHECK(off.vertices.size() == 1430);
    CHECK(off.triangles.size() == 2856);
    // Same vertices (same decimal strings) and same triangles in both formats.
    CHECK(obj.vertices == off.vertices);
    CHECK(obj.triangles == off.triangles);
    CHECK(off.vertices[0] == Vec3(0.051397, 0.59799, 0.082654));
  }
}

TEST_CASE("binary PLY, little- and big-endian, read exactly") {
  // A tetrahedron with double coordinates (not representable as float), written in
  // both byte orders; VTK's reader would round them to float.
  const double coords[4][3] = {{0.1, 0.2, 0.3}, {1.123456789012, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  const int faces[4][3] = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  for (const bool big : {false, true}) {
    std::string body;
    auto put = [&](const void* p, std::size_t n) {
      std::string bytes(static_cast<const char*>(p), n);
      if (big) std::reverse(bytes.begin(), bytes.end());
      body += bytes;
    };
    for (const auto& v : coords)
      for (double c : v) put(&c, sizeof c);
    for (const auto& f : faces) {
      const unsigned char three = 3;
      body += static_cast<char>(three);
      for (int i : f) {
        const std::int32_t idx = i;
        put(&idx, sizeof idx);
      }
    }
    const std::string header = std::string("ply\nformat ") + (big ? "binary_big_endian" : "binary_little_endian") +
                               " 1.0\nelement vertex 4\nproperty double x\nproperty double y\nproperty double z\n"
                               "element face 4\nproperty list uchar int vertex_indices\nend_header\n";
    const auto file = std::filesystem::temp_directory_path() / (big ? "spinesim_be.ply" : "spinesim_le.ply");
    std::ofstream(file, std::ios::binary) << header << body;
    const TriangleMesh m = read_surface_mesh(file);
    CHECK(m.vertices.size() == 4);
    CHECK(m.triangles.size() == 4);
    CHECK(m.vertices[1].x == 1.123456789012);
    CHECK(m.vertices[0].z == 0.3);
  }
}

TEST_CASE("PLY data that would crash VTK's reader is an input error") {
  const auto file = std::filesystem::temp_directory_path() / "spinesim_bad_data.ply";
  std::ofstream(file, std::ios::binary)
      << "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
         "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
         "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n";
  CHECK_THROWS_WITH_AS(read_surface_mesh(file), doctest::Contains("a face uses vertex 7 of 3"), InputError);
}
