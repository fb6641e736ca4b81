// Topology and orientation checks for triangle meshes, and the small repairs that
// are safe to do automatically (welding STL's unshared vertices, making winding
// consistent and outward). Everything downstream — reflection at walls, deciding
// which compartment a molecule is in, surface-molecule walks — assumes closed,
// 2-manifold, outward-oriented surfaces, so imported and built meshes pass here
// first and users get a message that says what is wrong and how to fix it.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// Result of `check_self_intersections`.
struct SelfIntersectionReport {
  std::size_t pairs = 0;            ///< crossing triangle pairs found (stops at `limit`)
  std::uint32_t first[2] = {0, 0};  ///< the first crossing pair (triangle indices)
  Vec3 where{};                     ///< a point on the first crossing (µm)
};

/// Finds pairs of triangles that share no vertex yet cross or touch (an edge of one
/// passes through the other), binning triangles into a uniform grid so that only
/// nearby pairs are tested: O(triangles) for ordinary meshes. Coplanar overlaps are
/// not detected. Stops after `limit` pairs; never throws.
SelfIntersectionReport check_self_intersections(const TriangleMesh& mesh, std::size_t limit = 1);

/// Merges vertices closer than tol_um (µm) — imported STL files have unshared
/// vertices. Returns the merged mesh (only referenced vertices, in first-use order);
/// drops triangles that become degenerate (two corners welded together).
/// tol_um <= 0 merges only exactly equal positions.
TriangleMesh weld_vertices(const TriangleMesh& mesh, double tol_um = 1e-9);

/// True when p (µm) lies inside the closed mesh, by ray-crossing parity along a fixed,
/// irrational direction (so hits on edges/vertices are practically impossible).
/// Points exactly on the surface may go either way. O(triangles) per call: meant for
/// tests and placement checks, not for inner loops.
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
