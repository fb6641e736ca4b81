#include "geometry/geometry.h"

#include <algorithm>
#include <stdexcept>

namespace spinesim {

namespace {
int find_name(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}
std::uint16_t intern_name(std::vector<std::string>& names, const std::string& name) {
  int i = find_name(names, name);
  if (i >= 0) return static_cast<std::uint16_t>(i);
  // Region and compartment ids are 16-bit in every triangle and molecule: a 65,537th
  // name would silently share id 0 with the first.
  if (names.size() >= kMaxNamedIds)
    throw std::length_error("more than " + std::to_string(kMaxNamedIds) + " names (ids are 16-bit): '" + name + "'");
  names.push_back(name);
  return static_cast<std::uint16_t>(names.size() - 1);
}
}  // namespace

TriangleMesh box_mesh(double x, double y, double z) {
  TriangleMesh m;
  // Corner k has x, y, z set by bits 0, 1, 2 of k.
  for (int k = 0; k < 8; ++k) m.vertices.push_back({(k & 1) ? x : 0.0, (k & 2) ? y : 0.0, (k & 4) ? z : 0.0});
  m.triangles = {{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
                 {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}};
  return m;
}

int Geometry::find_region(const std::string& name) const {
  return find_name(region_names, name);
}
int Geometry::find_surface(const std::string& name) const {
  return find_name(surface_names, name);
}
int Geometry::find_compartment(const std::string& name) const {
  return find_name(compartment_names, name);
}
RegionId Geometry::intern_region(const std::string& name) {
  return intern_name(region_names, name);
}
SurfaceId Geometry::intern_surface(const std::string& name) {
  return intern_name(surface_names, name);
}
CompartmentId Geometry::intern_compartment(const std::string& name) {
  CompartmentId id = intern_name(compartment_names, name);
  if (compartment_bounded.size() < compartment_names.size())
    compartment_bounded.resize(compartment_names.size(), false);
  return id;
}

void Geometry::add_surface(const TriangleMesh& mesh, const std::string& surface, const std::string& region,
                           const std::string& inside, const std::string& outside) {
  const auto base = static_cast<std::uint32_t>(vertices.size());
  vertices.insert(vertices.end(), mesh.vertices.begin(), mesh.vertices.end());
  const SurfaceId s = intern_surface(surface);
  const RegionId r = intern_region(region);
  const CompartmentId in = intern_compartment(inside);
  const CompartmentId out = intern_compartment(outside);
  compartment_bounded[in] = true;
  for (const auto& t : mesh.triangles) {
    triangles.push_back({t[0] + base, t[1] + base, t[2] + base});
    triangle_region.push_back(r);
    triangle_surface.push_back(s);
    triangle_sides.push_back({out, in});
  }
}

}  // namespace spinesim
