// The simulated world's surfaces: one triangle soup in which every triangle knows
// the compartment on each of its sides, its region and the surface it belongs to.
//
// Why triangles carry compartments instead of meshes owning volumes: a synaptic
// cleft shares its floor with the spine head (the PSD) and its roof with the
// bouton. Labelling each triangle with (front, back) compartments lets one PSD
// triangle bound both the cytosol and the cleft without duplicated, coincident
// faces that a reflection test could slip between.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/vec3.h"

namespace spinesim {

using TriangleIndex = std::uint32_t;
using CompartmentId = std::uint16_t;
using RegionId = std::uint16_t;
/// Regions, compartments, species and agent states per type have 16-bit ids: at most
/// this many of each (intern_region/intern_compartment throw std::length_error past it).
inline constexpr std::size_t kMaxNamedIds = 65536;
/// Thinnest wall-to-wall feature (a cleft, a box edge) the diffusion code resolves
/// exactly, in µm. Reflection sets a molecule back 1e-9 µm from the wall it hit and
/// treats points within 1e-12 µm of a plane as on it, and the grid is never finer
/// than 1e-3 µm; at sub-picometre gaps molecules were set back through the far wall
/// while counts still placed them inside. 1 nm keeps a factor 10⁶ over the set-back
/// and is far below any physical gap (a synaptic cleft is 10–30 nm).
inline constexpr double kMinFeatureUm = 1e-3;
using SurfaceId = std::uint16_t;

/// An indexed triangle mesh with no semantics: what a file or builder produces.
/// Winding is counter-clockwise seen from the side the normal points to.
struct TriangleMesh {
  std::vector<Vec3> vertices;  ///< µm
  std::vector<std::array<std::uint32_t, 3>> triangles;
};

/// Closed axis-aligned box [0,x]×[0,y]×[0,z] (µm) of 12 triangles with outward normals.
TriangleMesh box_mesh(double x_um, double y_um, double z_um);

/// All surfaces of a scene. Invariants (established by `GeometryBuilder`/checks):
/// every surface is a closed, 2-manifold, consistently oriented triangle mesh,
/// except surfaces declared open (e.g. the cleft rim, whose edges end on other
/// surfaces); every compartment's boundary is closed.
struct Geometry {
  std::vector<Vec3> vertices;  ///< µm, shared between surfaces where they touch
  std::vector<std::array<std::uint32_t, 3>> triangles;
  std::vector<RegionId> triangle_region;
  std::vector<SurfaceId> triangle_surface;
  /// [0] = compartment on the front side (where the right-hand normal points), [1] = back.
  std::vector<std::array<CompartmentId, 2>> triangle_sides;

  std::vector<std::string> region_names;
  std::vector<std::string> surface_names;
  std::vector<std::string> compartment_names;
  /// Per compartment: true when bounded by surfaces; the outermost space is unbounded
  /// and is closed off by the reflective world box.
  std::vector<bool> compartment_bounded;

  std::size_t triangle_count() const { return triangles.size(); }
  Vec3 vertex(TriangleIndex t, int k) const { return vertices[triangles[t][k]]; }
  /// Unnormalised right-hand normal (length = 2 × area).
  Vec3 raw_normal(TriangleIndex t) const { return cross(vertex(t, 1) - vertex(t, 0), vertex(t, 2) - vertex(t, 0)); }
  Vec3 centroid(TriangleIndex t) const { return (vertex(t, 0) + vertex(t, 1) + vertex(t, 2)) / 3.0; }
  double area(TriangleIndex t) const { return 0.5 * norm(raw_normal(t)); }
  Box3 bounds() const {
    Box3 b;
    for (const auto& v : vertices) b.expand(v);
    return b;
  }

  /// Index of a named region/surface/compartment, or -1.
  int find_region(const std::string& name) const;
  int find_surface(const std::string& name) const;
  int find_compartment(const std::string& name) const;
  /// Index of the name, adding it when missing.
  RegionId intern_region(const std::string& name);
  SurfaceId intern_surface(const std::string& name);
  CompartmentId intern_compartment(const std::string& name);

  /// Appends `mesh` as a new surface whose normals point from `inside` to `outside`
  /// (the caller has oriented it), tagging every triangle with `region`.
  /// Vertices are not merged with existing ones.
  void add_surface(const TriangleMesh& mesh, const std::string& surface, const std::string& region,
                   const std::string& inside, const std::string& outside);
};

}  // namespace spinesim
