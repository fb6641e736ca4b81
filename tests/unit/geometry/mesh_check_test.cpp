// Unit tests for mesh topology checks and repairs (check_closed_mesh,
// orient_outward, weld_vertices, point_inside, check_compartments_closed) on
// small hand-built meshes whose defects are known exactly.
#include "geometry/mesh_check.h"

#include <doctest/doctest.h>

#include <string>

#include "core/error.h"

using namespace spinesim;

namespace {

/// Unit cube [0,1]³, 12 triangles wound outward.
TriangleMesh unit_cube() {
  TriangleMesh m;
  for (int i = 0; i < 8; ++i) m.vertices.push_back(Vec3{double(i & 1), double((i >> 1) & 1), double((i >> 2) & 1)});
  // Each face as a quad (a, b, c, d) counter-clockwise seen from outside.
  const int quads[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (const auto& q : quads) {
    m.triangles.push_back({std::uint32_t(q[0]), std::uint32_t(q[1]), std::uint32_t(q[2])});
    m.triangles.push_back({std::uint32_t(q[0]), std::uint32_t(q[2]), std::uint32_t(q[3])});
  }
  return m;
}

/// Triangle soup as an STL file gives it: three private vertices per triangle.
TriangleMesh unshare(const TriangleMesh& m) {
  TriangleMesh out;
  for (const auto& t : m.triangles) {
    const auto base = static_cast<std::uint32_t>(out.vertices.size());
    for (int k = 0; k < 3; ++k) out.vertices.push_back(m.vertices[t[k]]);
    out.triangles.push_back({base, base + 1, base + 2});
  }
  return out;
}

}  // namespace

TEST_CASE("check_closed_mesh: cube is closed, manifold, consistent, outward") {
  const auto r = check_closed_mesh(unit_cube());
  CHECK(r.closed);
  CHECK(r.manifold);
  CHECK(r.consistently_oriented);
  CHECK(r.boundary_edges == 0);
  CHECK(r.nonmanifold_edges == 0);
  CHECK(r.inconsistent_edges == 0);
  CHECK(r.degenerate_triangles == 0);
  CHECK(r.components == 1);
  CHECK(r.signed_volume_um3 == doctest::Approx(1.0));
  CHECK(r.area_um2 == doctest::Approx(6.0));
  CHECK(r.problems.empty());
}

TEST_CASE("check_closed_mesh: cube with a triangle removed has 3 boundary edges") {
  auto m = unit_cube();
  m.triangles.pop_back();
  const auto r = check_closed_mesh(m);
  CHECK_FALSE(r.closed);
  CHECK(r.manifold);
  CHECK(r.boundary_edges == 3);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].find("3 boundary edges") != std::string::npos);
  CHECK(r.problems[0].find("Close Holes") != std::string::npos);
}

TEST_CASE("orient_outward: one flipped triangle is repaired with one flip") {
  auto m = unit_cube();
  std::swap(m.triangles[5][1], m.triangles[5][2]);
  const auto before = check_closed_mesh(m);
  CHECK(before.closed);
  CHECK_FALSE(before.consistently_oriented);
  CHECK(before.inconsistent_edges == 3);
  CHECK(orient_outward(m, "cube.stl") == 1);
  const auto after = check_closed_mesh(m);
  CHECK(after.consistently_oriented);
  CHECK(after.problems.empty());
  CHECK(after.signed_volume_um3 == doctest::Approx(1.0));
}

TEST_CASE("orient_outward: repairs when the seed triangle is the flipped one") {
  auto m = unit_cube();
  std::swap(m.triangles[0][1], m.triangles[0][2]);
  CHECK(orient_outward(m, "cube.stl") == 1);
  CHECK(check_closed_mesh(m).signed_volume_um3 == doctest::Approx(1.0));
}

TEST_CASE("orient_outward: inward cube is flipped entirely") {
  auto m = unit_cube();
  for (auto& t : m.triangles) std::swap(t[1], t[2]);
  const auto before = check_closed_mesh(m);
  CHECK(before.consistently_oriented);
  CHECK(before.signed_volume_um3 == doctest::Approx(-1.0));
  CHECK(orient_outward(m, "cube.stl") == 12);
  CHECK(check_closed_mesh(m).signed_volume_um3 == doctest::Approx(1.0));
  CHECK(orient_outward(m, "cube.stl") == 0);  // idempotent
}

TEST_CASE("orient_outward: each component is made outward on its own") {
  auto m = unit_cube();
  auto second = unit_cube();
  for (auto& t : second.triangles) std::swap(t[1], t[2]);  // inward
  const auto base = static_cast<std::uint32_t>(m.vertices.size());
  for (auto v : second.vertices) m.vertices.push_back(v + Vec3{3, 0, 0});
  for (auto t : second.triangles) m.triangles.push_back({t[0] + base, t[1] + base, t[2] + base});
  CHECK(check_closed_mesh(m).components == 2);
  CHECK(orient_outward(m, "two.stl") == 12);
  CHECK(check_closed_mesh(m).signed_volume_um3 == doctest::Approx(2.0));
}

TEST_CASE("orient_outward: open mesh throws InputError mentioning boundary edges and the file") {
  auto m = unit_cube();
  m.triangles.resize(10);
  try {
    orient_outward(m, "holey.stl");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].file == "holey.stl");
    CHECK(e.diagnostics()[0].field.empty());
    CHECK(std::string(e.what()).find("boundary edges") != std::string::npos);
  }
}

TEST_CASE("check_closed_mesh / orient_outward: three triangles on one edge are non-manifold") {
  TriangleMesh m;
  m.vertices = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}};
  m.triangles = {{0, 1, 2}, {1, 0, 3}, {0, 1, 4}};
  const auto r = check_closed_mesh(m);
  CHECK_FALSE(r.manifold);
  CHECK_FALSE(r.closed);
  CHECK(r.nonmanifold_edges == 1);
  CHECK(r.boundary_edges == 6);
  bool mentions = false;
  for (const auto& p : r.problems) mentions |= p.find("non-manifold") != std::string::npos;
  CHECK(mentions);
  CHECK_THROWS_AS(orient_outward(m, "x.stl"), InputError);
}

TEST_CASE("check_closed_mesh: degenerate triangles are counted and reported") {
  auto m = unit_cube();
  m.triangles.push_back({0, 0, 1});
  m.vertices.push_back(Vec3{0.5, 0, 0});  // on edge 0-1: collinear triangle
  m.triangles.push_back({0, 1, 8});
  const auto r = check_closed_mesh(m);
  CHECK(r.degenerate_triangles == 2);
  bool mentions = false;
  for (const auto& p : r.problems) mentions |= p.find("degenerate") != std::string::npos;
  CHECK(mentions);
  CHECK_FALSE(check_closed_mesh(TriangleMesh{}).problems.empty());
}

TEST_CASE("orient_outward: non-orientable closed surface (Klein-bottle-like) throws") {
  // A triangulated torus whose seam is glued with a reflection: a Klein bottle.
  const int nu = 6, nv = 4;  // large enough to avoid repeated edges
  TriangleMesh m;
  for (int i = 0; i < nu; ++i)
    for (int j = 0; j < nv; ++j) m.vertices.push_back(Vec3{double(i), double(j), double(i * j % 5) * 0.1});
  auto id = [&](int i, int j) {
    if (i == nu) {  // glue with reversed j
      i = 0;
      j = (nv - j) % nv;
    }
    return static_cast<std::uint32_t>(i * nv + (j % nv));
  };
  for (int i = 0; i < nu; ++i)
    for (int j = 0; j < nv; ++j) {
      m.triangles.push_back({id(i, j), id(i + 1, j), id(i + 1, j + 1)});
      m.triangles.push_back({id(i, j), id(i + 1, j + 1), id(i, j + 1)});
    }
  const auto r = check_closed_mesh(m);
  REQUIRE(r.closed);
  try {
    orient_outward(m, "klein.obj");
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("non-orientable") != std::string::npos);
  }
}

TEST_CASE("weld_vertices: STL-style soup becomes the shared cube") {
  const auto soup = unshare(unit_cube());
  CHECK(soup.vertices.size() == 36);
  CHECK_FALSE(check_closed_mesh(soup).closed);
  const auto welded = weld_vertices(soup);
  CHECK(welded.vertices.size() == 8);
  CHECK(welded.triangles.size() == 12);
  CHECK(check_closed_mesh(welded).problems.empty());

  // Near-duplicates within tolerance merge; a triangle collapsed by welding is dropped.
  TriangleMesh near = soup;
  near.vertices[1] += Vec3{1e-7, -1e-7, 0};
  near.vertices.push_back(Vec3{0, 0, 0});
  near.vertices.push_back(Vec3{0, 0, 1e-8});
  near.vertices.push_back(Vec3{1, 1, 1});
  near.triangles.push_back({36, 37, 38});
  const auto w2 = weld_vertices(near, 1e-6);
  CHECK(w2.vertices.size() == 8);
  CHECK(w2.triangles.size() == 12);
  CHECK(weld_vertices(near, 0.0).vertices.size() > 8);  // exact only: the nudged vertex stays apart
}

TEST_CASE("point_inside: cube") {
  const auto m = unit_cube();
  CHECK(point_inside(m, {0.5, 0.5, 0.5}));
  CHECK(point_inside(m, {0.01, 0.99, 0.5}));
  CHECK(point_inside(m, {0.5, 0.5, 0.5 + 1e-9}));
  CHECK_FALSE(point_inside(m, {1.5, 0.5, 0.5}));
  CHECK_FALSE(point_inside(m, {-0.5, -0.5, -0.5}));
  CHECK_FALSE(point_inside(m, {0.5, 0.5, 1.0001}));
}

TEST_CASE("check_compartments_closed: two cubes sharing a face") {
  // Compartments A = [0,1]³ and B = [1,2]×[0,1]², the shared face x = 1 has A behind, B in front.
  Geometry g;
  const auto a = g.intern_compartment("A");
  const auto b = g.intern_compartment("B");
  const auto out = g.intern_compartment("outside");
  g.compartment_bounded = {true, true, false};
  const auto s = g.intern_surface("s");
  const auto r = g.intern_region("r");
  const auto cube = unit_cube();
  for (auto v : cube.vertices) g.vertices.push_back(v);
  // Second cube: vertices of x=0 layer are cube's x=1 layer (indices 1,3,5,7); new x=2 layer.
  std::uint32_t map2[8];
  for (std::uint32_t i = 0; i < 8; ++i) {
    if ((i & 1) == 0) {
      map2[i] = i + 1;
    } else {
      map2[i] = static_cast<std::uint32_t>(g.vertices.size());
      g.vertices.push_back(cube.vertices[i] + Vec3{1, 0, 0});
    }
  }
  auto add = [&](std::array<std::uint32_t, 3> t, CompartmentId front, CompartmentId back) {
    g.triangles.push_back(t);
    g.triangle_region.push_back(r);
    g.triangle_surface.push_back(s);
    g.triangle_sides.push_back({front, back});
  };
  for (std::size_t k = 0; k < cube.triangles.size(); ++k) {
    const auto t = cube.triangles[k];
    const bool on_x1 = cube.vertices[t[0]].x == 1 && cube.vertices[t[1]].x == 1 && cube.vertices[t[2]].x == 1;
    if (on_x1) {
      add(t, b, a);  // shared wall: normal +x points into B
    } else {
      add(t, out, a);
    }
    const bool on_x0 = cube.vertices[t[0]].x == 0 && cube.vertices[t[1]].x == 0 && cube.vertices[t[2]].x == 0;
    if (!on_x0) add({map2[t[0]], map2[t[1]], map2[t[2]]}, out, b);
  }
  CHECK(check_compartments_closed(g).empty());
  CHECK(compartment_volume(g, a) == doctest::Approx(1.0));
  CHECK(compartment_volume(g, b) == doctest::Approx(1.0));

  // Removing one outer wall of B opens it; A stays closed.
  g.triangles.pop_back();
  g.triangle_region.pop_back();
  g.triangle_surface.pop_back();
  g.triangle_sides.pop_back();
  const auto problems = check_compartments_closed(g);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("'B'") != std::string::npos);
  CHECK(problems[0].find("boundary edge") != std::string::npos);
}

namespace {
/// Closed box [lo, hi] with outward normals.
TriangleMesh box_between(const Vec3& lo, const Vec3& hi) {
  TriangleMesh m = box_mesh(hi.x - lo.x, hi.y - lo.y, hi.z - lo.z);
  for (auto& v : m.vertices) v = v + lo;
  return m;
}
TriangleMesh joined(const TriangleMesh& a, const TriangleMesh& b) {
  TriangleMesh m = a;
  const auto offset = static_cast<std::uint32_t>(m.vertices.size());
  m.vertices.insert(m.vertices.end(), b.vertices.begin(), b.vertices.end());
  for (auto t : b.triangles) m.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
  return m;
}
}  // namespace

TEST_CASE("find_thin_gap: slabs and clefts thinner than the minimum gap (issue 16)") {
  const double gap = 1e-3;
  // A unit cube and a fine-meshed OIST-like surface have no thin gap.
  CHECK_FALSE(find_thin_gap(box_mesh(1, 1, 1), gap).has_value());
  CHECK_FALSE(find_thin_gap(box_mesh(1, 1, 2e-3), gap).has_value());  // a 2 nm slab is resolved
  // A 0.5 pm slab: its two faces share the rim's short edges, and face each other.
  const auto slab = find_thin_gap(box_mesh(1, 1, 5e-7), gap);
  REQUIRE(slab.has_value());
  CHECK(slab->distance_um == doctest::Approx(5e-7).epsilon(1e-6));
  // Two cubes: 0.5 nm apart refused, 2 nm apart accepted, and the distance reported.
  const TriangleMesh a = box_between({0, 0, 0}, {1, 1, 1});
  const auto near = find_thin_gap(joined(a, box_between({1 + 5e-4, 0, 0}, {2, 1, 1})), gap);
  REQUIRE(near.has_value());
  CHECK(near->distance_um == doctest::Approx(5e-4).epsilon(1e-6));
  CHECK_FALSE(find_thin_gap(joined(a, box_between({1 + 2e-3, 0, 0}, {2, 1, 1})), gap).has_value());
  // A small cube inside a big one, 0.1 nm from its wall: an interior cleft.
  const auto inner =
      find_thin_gap(joined(box_between({0, 0, 0}, {4, 4, 4}), box_between({1e-4, 1, 1}, {2, 2, 2})), gap);
  REQUIRE(inner.has_value());
  CHECK(inner->distance_um == doctest::Approx(1e-4).epsilon(1e-6));
}
