// Topology and orientation checks for triangle meshes, and the small repairs that
// are safe to do automatically (welding STL's unshared vertices, making winding
// consistent and outward). Everything downstream — reflection at walls, deciding
// which compartment a molecule is in, surface-molecule walks — assumes closed,
// 2-manifold, outward-oriented surfaces, so imported and built meshes pass here
// first and users get a message that says what is wrong and how to fix it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/vec3.h"
#include "geometry/geometry.h"

namespace spinesim {

/// Result of `check_closed_mesh`. Edges are undirected vertex pairs.
struct MeshCheckReport {
  bool closed = false;                   ///< every edge is shared by exactly 2 triangles
  bool manifold = false;                 ///< no edge is shared by more than 2 triangles
  bool consistently_oriented = false;    ///< no directed edge is used by two triangles
  std::size_t boundary_edges = 0;        ///< edges used by exactly 1 triangle (holes)
  std::size_t nonmanifold_edges = 0;     ///< edges used by 3 or more triangles
  std::size_t inconsistent_edges = 0;    ///< edges whose triangles traverse them in the same direction
  std::size_t degenerate_triangles = 0;  ///< repeated/out-of-range vertex index or (near-)zero area
  std::size_t components = 0;            ///< connected components over shared edges
  double signed_volume_um3 = 0;          ///< Σ v0·(v1×v2)/6; positive when normals point outward
  double area_um2 = 0;                   ///< total triangle area
  /// Human-readable defects, each saying what to do; empty when the mesh is a closed,
  /// manifold, consistently wound surface without degenerate triangles. Inward (but
  /// consistent) winding is not listed: `orient_outward` fixes it silently and a negative
  /// `signed_volume_um3` shows it.
  std::vector<std::string> problems;
};

/// Checks closure, manifoldness, winding consistency and degeneracy; never throws.
MeshCheckReport check_closed_mesh(const TriangleMesh& mesh);

/// Makes a closed 2-manifold mesh consistently oriented with outward normals (positive
/// signed volume per connected component), flipping triangles by BFS over edge
/// adjacency where only the winding is inconsistent. Returns the number of triangles
/// whose winding changed. Throws InputError (Diagnostic with file=source_name, field
/// empty, message listing problems) when the mesh is not closed, not manifold, has
/// degenerate (zero-area) triangles, or is non-orientable.
std::size_t orient_outward(TriangleMesh& mesh, const std::string& source_name);

/// One pair of triangles that meet where a closed surface must not (see
/// `check_self_intersections`).
struct SelfIntersection {
  enum class Kind {
    kCross,            ///< one passes through the other
    kTouch,            ///< they meet only on a boundary (edge or corner), not passing through
    kCoplanarOverlap,  ///< they lie in one plane and overlap (incl. a fold onto a shared edge)
  };
  std::uint32_t triangles[2] = {0, 0};  ///< triangle indices, smaller first
  Kind kind = Kind::kCross;
  Vec3 where{};         ///< a point where they meet (µm; rounded, for reporting)
  double depth_um = 0;  ///< how far one passes through the other's plane (0 for touch/coplanar)
  /// One line for users: the two triangles, where they meet and how.
  std::string describe() const;
};

/// Result of `check_self_intersections`.
struct SelfIntersectionReport {
  std::size_t pairs = 0;                ///< offending pairs found (stops at `limit`)
  std::vector<SelfIntersection> found;  ///< those pairs, in the order found
};

/// Finds pairs of triangles that meet where a closed surface must not, with exact
/// predicates (geometry/predicates.h), so coplanar facets and near misses are decided
/// right. Pairs with no common vertex must not touch at all; pairs sharing one vertex
/// must meet only at it; pairs sharing an edge must not fold onto each other (coplanar,
/// on the same side of the edge). Triangles are binned into a uniform grid so that only
/// nearby pairs are tested: O(triangles) for ordinary meshes. Triangles sharing vertex
/// indices are connected; coincident positions under different indices count as
/// touching. Stops after `limit` pairs; never throws.
SelfIntersectionReport check_self_intersections(const TriangleMesh& mesh, std::size_t limit = 1);

/// A vertex closer than the minimum gap to a triangle it is not near along the mesh.
struct ThinGap {
  std::uint32_t vertex = 0, triangle = 0;  ///< indices in the mesh checked
  double distance_um = 0;
};

/// The closest vertex–triangle approach below `min_gap_um` between parts of `mesh` that
/// are not neighbours along it (the triangle has no vertex in the vertex's one-ring),
/// i.e. a slab, cleft or gap thinner than `min_gap_um` (see kMinFeatureUm); nullopt if
/// none. Triangles are binned into a hash grid, so this is O(triangles) for ordinary
/// meshes. Meshes must have shared (welded) vertices.
std::optional<ThinGap> find_thin_gap(const TriangleMesh& mesh, double min_gap_um);

/// The triangles of the pairs in `r.found`, copied out of `mesh` for viewing:
/// triangles 2k and 2k + 1 of the result are pair k (vertices not shared).
TriangleMesh intersecting_triangles(const TriangleMesh& mesh, const SelfIntersectionReport& r);

/// Merges vertices closer than tol_um (µm) — imported STL files have unshared
/// vertices. Returns the merged mesh (only referenced vertices, in first-use order);
/// drops triangles that become degenerate (two corners welded together).
/// tol_um <= 0 merges only exactly equal positions.
TriangleMesh weld_vertices(const TriangleMesh& mesh, double tol_um = 1e-9);

/// True when p (µm) lies inside the closed mesh, by ray-crossing parity decided with
/// exact predicates: a ray through an edge or corner is recognised and another
/// direction taken. Points exactly on the surface count as outside. O(triangles) per
/// call: meant for tests and placement checks, not for inner loops.
bool point_inside(const TriangleMesh& mesh, const Vec3& p);

/// For each bounded compartment c (g.compartment_bounded[c]), gathers the triangles
/// that have c on exactly one side, orients each to point away from c, and verifies
/// that every edge of that set is shared by exactly two triangles with opposite
/// directed edges. Returns problems (empty when every bounded compartment is closed).
/// Unbounded compartments are skipped.
std::vector<std::string> check_compartments_closed(const Geometry& g);

/// Copies the triangles of `g` whose surface is `surface` into a standalone mesh
/// (vertices compacted), keeping their winding. Empty mesh when the name is unknown.
TriangleMesh extract_surface(const Geometry& g, const std::string& surface);

/// Volume (µm³) enclosed by the triangles that have compartment c on exactly one side,
/// each oriented away from c. Meaningful only when the compartment is closed.
double compartment_volume(const Geometry& g, CompartmentId c);

}  // namespace spinesim
