// Self-intersection checks on meshes with many coplanar, non-adjacent facets (which
// must pass) and on meshes that really cross, touch or overlap (which must fail and
// say where). Issue 17: a faceted spine neck used to be refused as crossing.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <tuple>
#include <vector>

#include "geometry/mesh_check.h"
#include "io/scene_loader.h"
#include "support/temp_dir.h"

namespace spinesim {
namespace {



/// A closed surface of revolution about z with `sides` flat facets around: rings at
/// (radius, z) from `profile`; a flat fan cap closes each end whose radius is not 0, a
/// pole vertex closes an end whose radius is 0. Rings of equal radius give stacked
/// coplanar facet strips, the caps coplanar fans.
TriangleMesh revolve(const std::vector<std::pair<double, double>>& profile, int sides) {
  TriangleMesh m;
  std::vector<std::uint32_t> ring_start;
  for (const auto& [r, z] : profile) {
    ring_start.push_back(static_cast<std::uint32_t>(m.vertices.size()));
    if (r == 0) {
      m.vertices.push_back({0, 0, z});
      continue;
    }
    for (int k = 0; k < sides; ++k) {
      const double a = 2 * kPi * k / sides;
      m.vertices.push_back({r * std::cos(a), r * std::sin(a), z});
    }
  }
  auto at = [&](std::size_t ring, int k) {
    return profile[ring].first == 0 ? ring_start[ring] : ring_start[ring] + static_cast<std::uint32_t>(k % sides);
  };
  for (std::size_t i = 0; i + 1 < profile.size(); ++i)
    for (int k = 0; k < sides; ++k) {
      const auto a = at(i, k), b = at(i, k + 1), c = at(i + 1, k + 1), d = at(i + 1, k);
      if (profile[i].first != 0) m.triangles.push_back({a, b, c});
      if (profile[i + 1].first != 0) m.triangles.push_back({a, c, d});
    }
  auto cap = [&](std::size_t ring, bool bottom) {
    const auto centre = static_cast<std::uint32_t>(m.vertices.size());
    m.vertices.push_back({0, 0, profile[ring].second});
    for (int k = 0; k < sides; ++k) {
      if (bottom)
        m.triangles.push_back({centre, at(ring, k + 1), at(ring, k)});
      else
        m.triangles.push_back({centre, at(ring, k), at(ring, k + 1)});
    }
  };
  if (profile.front().first != 0) cap(0, true);
  if (profile.back().first != 0) cap(profile.size() - 1, false);
  return m;
}

/// A CA1-like spine: a faceted cylindrical neck (radius 0.1 µm, 1 µm long, cut into
/// `neck_rings` − 1 stacked bands) under a head sphere of radius 0.3 µm.
TriangleMesh faceted_spine(int sides, int neck_rings, int head_rings) {
  std::vector<std::pair<double, double>> profile;
  for (int i = 0; i < neck_rings; ++i) profile.push_back({0.1, 1.0 * i / (neck_rings - 1)});
  const double R = 0.3, zc = 1.0 + std::sqrt(R * R - 0.1 * 0.1);
  const double theta0 = std::asin(0.1 / R);  // polar angle (from −z) where the neck meets the head
  for (int i = 1; i <= head_rings; ++i) {
    const double theta = theta0 + (kPi - theta0) * i / head_rings;
    profile.push_back({i == head_rings ? 0.0 : R * std::sin(theta), zc - R * std::cos(theta)});
  }
  return revolve(profile, sides);
}

/// An axis-aligned box [lo, hi] with each face cut into n × n squares of two triangles.
TriangleMesh subdivided_box(const Vec3& lo, const Vec3& hi, int n) {
  TriangleMesh m;
  std::map<std::tuple<int, int, int>, std::uint32_t> index;
  auto vertex = [&](int i, int j, int k) {
    const auto key = std::make_tuple(i, j, k);
    if (auto it = index.find(key); it != index.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(m.vertices.size());
    m.vertices.push_back({lo.x + (hi.x - lo.x) * i / n, lo.y + (hi.y - lo.y) * j / n, lo.z + (hi.z - lo.z) * k / n});
    index[key] = id;
    return id;
  };
  for (int axis = 0; axis < 3; ++axis)
    for (int side = 0; side <= 1; ++side)
      for (int u = 0; u < n; ++u)
        for (int v = 0; v < n; ++v) {
          auto corner = [&](int du, int dv) {
            int c[3];
            c[axis] = side * n;
            c[(axis + 1) % 3] = u + du;
            c[(axis + 2) % 3] = v + dv;
            return vertex(c[0], c[1], c[2]);
          };
          const auto a = corner(0, 0), b = corner(1, 0), c = corner(1, 1), d = corner(0, 1);
          if (side == 1) {
            m.triangles.push_back({a, b, c});
            m.triangles.push_back({a, c, d});
          } else {
            m.triangles.push_back({a, c, b});
            m.triangles.push_back({a, d, c});
          }
        }
  return m;
}

/// A star-shaped polygon with `points` spikes extruded to height h in `layers` layers;
/// the ends are fans from the centre (coplanar), the walls rectangles (coplanar pairs,
/// stacked).
TriangleMesh extruded_star(int points, double h, int layers) {
  TriangleMesh m;
  const int n = 2 * points;
  for (int layer = 0; layer <= layers; ++layer)
    for (int k = 0; k < n; ++k) {
      const double r = k % 2 == 0 ? 1.0 : 0.45, a = 2 * kPi * k / n;
      m.vertices.push_back({r * std::cos(a), r * std::sin(a), h * layer / layers});
    }
  auto at = [&](int layer, int k) { return static_cast<std::uint32_t>(layer * n + (k % n)); };
  for (int layer = 0; layer < layers; ++layer)
    for (int k = 0; k < n; ++k) {
      m.triangles.push_back({at(layer, k), at(layer, k + 1), at(layer + 1, k + 1)});
      m.triangles.push_back({at(layer, k), at(layer + 1, k + 1), at(layer + 1, k)});
    }
  const auto bottom = static_cast<std::uint32_t>(m.vertices.size());
  m.vertices.push_back({0, 0, 0});
  const auto top = static_cast<std::uint32_t>(m.vertices.size());
  m.vertices.push_back({0, 0, h});
  for (int k = 0; k < n; ++k) {
    m.triangles.push_back({bottom, at(0, k + 1), at(0, k)});
    m.triangles.push_back({top, at(layers, k), at(layers, k + 1)});
  }
  return m;
}

TriangleMesh merged(const TriangleMesh& a, const TriangleMesh& b) {
  TriangleMesh m = a;
  const auto offset = static_cast<std::uint32_t>(m.vertices.size());
  m.vertices.insert(m.vertices.end(), b.vertices.begin(), b.vertices.end());
  for (auto t : b.triangles) m.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
  return m;
}

/// The constructions must themselves be valid closed surfaces, or passing proves little.
void require_closed(const TriangleMesh& m) {
  const auto report = check_closed_mesh(m);
  REQUIRE(report.closed);
  REQUIRE(report.manifold);
  REQUIRE(report.consistently_oriented);
  REQUIRE(report.degenerate_triangles == 0);
}

/// How many non-adjacent triangle pairs are exactly coplanar and near each other: the
/// configurations the old floating-point test got wrong.
std::size_t coplanar_pairs(const TriangleMesh& m) {
  std::size_t n = 0;
  for (std::size_t s = 0; s < m.triangles.size(); ++s)
    for (std::size_t t = s + 1; t < m.triangles.size(); ++t) {
      bool shared = false;
      for (auto a : m.triangles[s])
        for (auto b : m.triangles[t]) shared = shared || a == b;
      if (shared) continue;
      const Vec3 &a = m.vertices[m.triangles[s][0]], &b = m.vertices[m.triangles[s][1]], &c = m.vertices[m.triangles[s][2]];
      bool coplanar = true;
      for (auto v : m.triangles[t]) coplanar = coplanar && std::fabs(dot(m.vertices[v] - a, cross(b - a, c - a))) < 1e-18;
      n += coplanar && norm(m.vertices[m.triangles[t][0]] - a) < 0.3;
    }
  return n;
}

}  // namespace

TEST_CASE("meshes with many coplanar non-adjacent facets pass") {
  SUBCASE("faceted cylinders at several resolutions") {
    for (int sides : {6, 16, 48, 97})
      for (int rings : {2, 5, 33}) {
        std::vector<std::pair<double, double>> profile;
        for (int i = 0; i < rings; ++i) profile.push_back({0.1, 0.7 * i / (rings - 1)});
        const auto m = revolve(profile, sides);
        require_closed(m);
        CAPTURE(sides);
        CAPTURE(rings);
        CHECK(check_self_intersections(m).pairs == 0);
      }
  }
  SUBCASE("the faceted spine of issue 17 (head sphere on a neck of flat strips)") {
    const auto m = faceted_spine(48, 24, 24);
    require_closed(m);
    MESSAGE(m.triangles.size() << " triangles");
    CHECK(m.triangles.size() > 4000);
    CHECK(check_self_intersections(m).pairs == 0);
  }
  SUBCASE("a box with each face cut into many coplanar triangles") {
    for (int n : {1, 4, 20}) {
      const auto m = subdivided_box({0, 0, 0}, {1, 0.6, 0.3}, n);
      require_closed(m);
      CHECK(check_self_intersections(m).pairs == 0);
    }
  }
  SUBCASE("an extruded non-convex polygon") {
    const auto m = extruded_star(7, 0.5, 6);
    require_closed(m);
    CHECK(coplanar_pairs(m) > 100);
    CHECK(check_self_intersections(m).pairs == 0);
  }
  SUBCASE("near misses: boxes 1e-9 µm apart, coplanar tops and parallel faces") {
    const auto a = subdivided_box({0, 0, 0}, {1, 1, 1}, 3);
    const auto b = subdivided_box({1 + 1e-9, 0, 0}, {2, 1, 1}, 3);
    CHECK(check_self_intersections(merged(a, b)).pairs == 0);
  }
  SUBCASE("triangles touching only at a shared vertex: two tetrahedra on one apex") {
    TriangleMesh m;
    m.vertices = {{0, 0, 0}, {1, 0, -1}, {-1, 1, -1}, {-1, -1, -1}, {1, 0, 1}, {-1, 1, 1}, {-1, -1, 1}};
    m.triangles = {{0, 1, 2}, {0, 2, 3}, {0, 3, 1}, {1, 3, 2}, {0, 5, 4}, {0, 6, 5}, {0, 4, 6}, {4, 5, 6}};
    CHECK(check_self_intersections(m).pairs == 0);
  }
}

TEST_CASE("meshes that cross, touch or overlap fail and say where") {
  SUBCASE("coplanar overlapping triangles") {
    TriangleMesh m;
    m.vertices = {{0, 0, 0.5}, {1, 0, 0.5}, {0, 1, 0.5}, {0.2, 0.2, 0.5}, {1.2, 0.2, 0.5}, {0.2, 1.2, 0.5}};
    m.triangles = {{0, 1, 2}, {3, 4, 5}};
    const auto r = check_self_intersections(m);
    REQUIRE(r.pairs == 1);
    CHECK(r.found[0].kind == SelfIntersection::Kind::kCoplanarOverlap);
    CHECK(r.found[0].where.z == doctest::Approx(0.5));
    CHECK(r.found[0].describe().find("lie in one plane and overlap") != std::string::npos);
  }
  SUBCASE("a triangle piercing another, with the depth it reaches through") {
    TriangleMesh m;
    m.vertices = {{-1, -1, 0}, {1, -1, 0}, {0, 1, 0}, {0, 0, -0.25}, {0.1, 0, 2}, {-0.1, 0.1, 2}};
    m.triangles = {{0, 1, 2}, {3, 4, 5}};
    const auto r = check_self_intersections(m);
    REQUIRE(r.pairs == 1);
    CHECK(r.found[0].kind == SelfIntersection::Kind::kCross);
    // The piercing triangle reaches 0.25 µm below the plane z = 0 (its shallow side).
    CHECK(r.found[0].depth_um == doctest::Approx(0.25));
    CHECK(std::fabs(r.found[0].where.z) < 1e-12);
    CHECK(r.found[0].describe().find("triangles 0 and 1 cross near") != std::string::npos);
  }
  SUBCASE("touching without sharing a vertex") {
    const auto a = subdivided_box({0, 0, 0}, {1, 1, 1}, 2);
    const auto b = subdivided_box({1, 0.25, 0.25}, {2, 0.75, 0.75}, 2);
    const auto r = check_self_intersections(merged(a, b), 100);
    CHECK(r.pairs > 0);
  }
  SUBCASE("a fold onto a shared edge") {
    TriangleMesh m;
    m.vertices = {{0, 0, 0}, {1, 0, 0}, {0.3, 1, 0}, {0.7, 0.5, 0}};
    m.triangles = {{0, 1, 2}, {1, 0, 3}};
    CHECK(check_self_intersections(m).pairs == 1);
    m.vertices[3] = {0.7, -0.5, 0};  // unfolded: flat continuation
    CHECK(check_self_intersections(m).pairs == 0);
    m.vertices[3] = {0.7, 0.5, 1e-9};  // a sharp but real dihedral
    CHECK(check_self_intersections(m).pairs == 0);
  }
  SUBCASE("two closed surfaces that cross") {
    const auto a = subdivided_box({0, 0, 0}, {1, 1, 1}, 2);
    const auto b = revolve({{0.2, 0.5}, {0.2, 1.5}}, 12);
    TriangleMesh shifted = b;
    for (auto& v : shifted.vertices) v += Vec3{0.5, 0.5, 0};
    const auto r = check_self_intersections(merged(a, shifted), 1000);
    CHECK(r.pairs > 0);
    for (const auto& pair : r.found) {
      CHECK(pair.triangles[0] < a.triangles.size());  // always one of each surface
      CHECK(pair.triangles[1] >= a.triangles.size());
    }
    const auto shown = intersecting_triangles(merged(a, shifted), r);
    CHECK(shown.triangles.size() == 2 * r.found.size());
  }
}

namespace {
void write_obj(const TriangleMesh& m, const std::filesystem::path& file) {
  std::ofstream out(file);
  out.precision(17);
  for (const auto& v : m.vertices) out << "v " << v.x << " " << v.y << " " << v.z << "\n";
  for (const auto& t : m.triangles) out << "f " << t[0] + 1 << " " << t[1] + 1 << " " << t[2] + 1 << "\n";
}
}  // namespace

TEST_CASE("scene validation: a faceted spine loads; crossing surfaces are refused naming both") {
  testing::TempDir dir;
  write_obj(faceted_spine(48, 24, 24), dir.path / "spine.obj");
  TriangleMesh er = revolve({{0.05, 1.1}, {0.05, 1.4}}, 8);
  write_obj(er, dir.path / "er.obj");
  const std::string species = "species { name: \"ca\" diffusion_um2_per_s: 220 }\n";
  std::vector<Diagnostic> errors, warnings;
  validate_scene_text(
      "simulation { t_end_s: 0.001 dt_s: 1e-6 }\n"
      "geometry { meshes { surface { file: \"spine.obj\" inside: \"cytosol\" outside: \"extracellular\" }\n"
      "  surface { file: \"er.obj\" inside: \"er\" outside: \"cytosol\" } } }\n" + species,
      (dir.path / "ok.pbtxt").string(), errors, warnings);
  for (const auto& e : errors) MESSAGE(e.format());
  CHECK(errors.empty());

  // The same ER pushed down so that it pokes out through the neck wall.
  for (auto& v : er.vertices) v += Vec3{0.07, 0, -0.3};
  write_obj(er, dir.path / "er_out.obj");
  errors.clear();
  validate_scene_text(
      "simulation { t_end_s: 0.001 dt_s: 1e-6 }\n"
      "geometry { meshes { surface { file: \"spine.obj\" inside: \"cytosol\" outside: \"extracellular\" }\n"
      "  surface { file: \"er_out.obj\" inside: \"er\" outside: \"cytosol\" } } }\n" + species,
      (dir.path / "bad.pbtxt").string(), errors, warnings);
  REQUIRE(!errors.empty());
  const std::string message = errors[0].format();
  MESSAGE(message);
  CHECK(message.find("surfaces 'spine' and 'er_out' meet") != std::string::npos);
  CHECK(message.find("cross near") != std::string::npos);
}

}  // namespace spinesim
