// Tests for parse_surface_mesh (the in-memory mesh parsers): our own STL reader
// (binary: exact float32 corners; ASCII: strict grammar, full double precision), the
// guards added after fuzzing (indices past the last vertex, OFF counts larger than the
// file, .vtp points without three components), and that files are parsed the same
// from memory as from disk.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.h"
#include "io/mesh_import.h"

using namespace spinesim;

namespace {

/// Message of the InputError thrown by parsing `data` as `name`; fails when none is thrown.
std::string parse_error(std::string_view data, const std::string& name, int* line = nullptr) {
  try {
    parse_surface_mesh(data, name);
  } catch (const InputError& e) {
    REQUIRE(!e.diagnostics().empty());
    CHECK(e.diagnostics()[0].file == name);
    if (line != nullptr) *line = e.diagnostics()[0].line;
    return e.diagnostics()[0].message;
  }
  FAIL("expected InputError for " << name);
  return {};
}

void put_u32(std::string& s, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) s += static_cast<char>((v >> (8 * k)) & 0xff);
}
void put_f32(std::string& s, float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_u32(s, bits);
}

/// A binary STL of a tetrahedron; the header starts with "solid" as many exporters' do.
std::string binary_tetra_stl() {
  const float v[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 0.1f}};
  const int f[4][3] = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  std::string s = "solid binary header";
  s.resize(80, ' ');
  put_u32(s, 4);
  for (const auto& t : f) {
    for (int k = 0; k < 3; ++k) put_f32(s, 0);  // normal, ignored
    for (int c : t)
      for (float x : v[c]) put_f32(s, x);
    s += std::string(2, '\0');  // attribute byte count
  }
  return s;
}

const char* kAsciiTri =
    "solid t\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1 0 0\n   vertex 0 1 0\n"
    "  endloop\n endfacet\n";

}  // namespace

TEST_SUITE("mesh_parse") {
  TEST_CASE("binary STL: corners are the stored float32 values, vertices merged") {
    const TriangleMesh m = parse_surface_mesh(binary_tetra_stl(), "tet.stl");
    CHECK(m.vertices.size() == 4);
    CHECK(m.triangles.size() == 4);
    bool found = false;
    for (const Vec3& p : m.vertices) found = found || p == Vec3(0, 0, static_cast<double>(0.1f));
    CHECK(found);
  }

  TEST_CASE("ASCII STL keeps double precision and accepts several solids") {
    const std::string text = std::string(kAsciiTri) + "endsolid t\n" +
                             "solid u\nfacet normal 0 0 1\nouter loop\nvertex 0.1234567890123 0 0\n"
                             "vertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid u\n";
    const TriangleMesh m = parse_surface_mesh(text, "two.stl");
    CHECK(m.triangles.size() == 2);
    bool found = false;
    for (const Vec3& p : m.vertices) found = found || p.x == 0.1234567890123;
    CHECK(found);
  }

  TEST_CASE("malformed ASCII STL: each error names what was expected and the line") {
    int line = 0;
    CHECK(parse_error(std::string(kAsciiTri), "noend.stl", &line).find("'endsolid'") != std::string::npos);
    const std::string four =
        "solid q\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\n"
        "vertex 1 1 0\nendloop\nendfacet\nendsolid q\n";
    const std::string msg = parse_error(four, "quad.stl", &line);
    CHECK(msg.find("exactly three 'vertex x y z'") != std::string::npos);
    CHECK(line == 7);
    CHECK(parse_error("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 zero 0\n", "nan.stl", &line)
              .find("'zero' in a vertex is not a number") != std::string::npos);
    CHECK(line == 4);
    CHECK(parse_error("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0", "cut.stl").find("truncated") !=
          std::string::npos);
    CHECK(parse_error("solid x\nendsolid x\n", "empty.stl").find("no facets") != std::string::npos);
    CHECK(parse_error(std::string("solid x\n\0\n", 10), "nul.stl").find("non-text byte (code 0)") != std::string::npos);
    CHECK(parse_error("garbage", "garbage.stl").find("not an STL file") != std::string::npos);
  }

  TEST_CASE("binary STL whose size does not match its count is not read as binary") {
    std::string s = binary_tetra_stl();
    s.pop_back();
    CHECK(parse_error(s, "short.stl").find("non-text byte") != std::string::npos);
  }

  TEST_CASE("a face index past the last vertex is an input error in every format") {
    CHECK(parse_error("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n", "bad.obj").find("does not refer to a vertex") !=
          std::string::npos);
    const std::string vtp =
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"PolyData\" version=\"0.1\"><PolyData><Piece NumberOfPoints=\"3\" "
        "NumberOfPolys=\"1\"><Points><DataArray type=\"Float32\" NumberOfComponents=\"3\" format=\"ascii\">0 0 0 1 0 "
        "0 0 1 0</DataArray></Points><Polys><DataArray type=\"Int32\" Name=\"connectivity\" format=\"ascii\">0 1 "
        "7</DataArray><DataArray type=\"Int32\" Name=\"offsets\" format=\"ascii\">3</DataArray></Polys></Piece>"
        "</PolyData></VTKFile>\n";
    // VTK may or may not report the bad index itself; either way it is an input error.
    CHECK(!parse_error(vtp, "bad.vtp").empty());
  }

  TEST_CASE("a .vtp whose points do not have three components is refused before VTK reads it") {
    const std::string vtp =
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"PolyData\" version=\"0.1\"><PolyData><Piece NumberOfPoints=\"3\" "
        "NumberOfPolys=\"1\"><Points><DataArray type=\"Float32\" NumberOfComponents=\"6\" format=\"ascii\">0 0 0 1 0 "
        "0 0 1 0</DataArray></Points><Polys><DataArray type=\"Int32\" Name=\"connectivity\" format=\"ascii\">0 1 "
        "2</DataArray><DataArray type=\"Int32\" Name=\"offsets\" format=\"ascii\">3</DataArray></Polys></Piece>"
        "</PolyData></VTKFile>\n";
    CHECK(parse_error(vtp, "six.vtp").find("NumberOfComponents=\"3\"") != std::string::npos);
    std::string good = vtp;
    good.replace(good.find("NumberOfComponents=\"6\""), 22, "NumberOfComponents=\"3\"");
    CHECK(parse_surface_mesh(good, "tri.vtp").triangles.size() == 1);
  }

  TEST_CASE("OFF counts larger than the file are a truncation error, not an allocation") {
    int line = 0;
    CHECK(parse_error("OFF\n499999990 4 0\n0 0 0\n", "huge.off", &line).find("ends after 1 of 499999990 vertices") !=
          std::string::npos);
  }
}
