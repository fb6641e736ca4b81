// Reads triangle surface meshes from common file formats (.obj, .ply, .stl, .vtp,
// .off) into a TriangleMesh: polygons are triangulated and coincident vertices are
// merged, so an STL (which repeats every vertex per facet) comes back indexed.
#pragma once

#include <filesystem>
#include <string_view>

#include "geometry/geometry.h"

namespace spinesim {

/// Reads the surface mesh in `file`; the format is chosen by the (case-insensitive)
/// extension: .obj, .ply, .stl, .vtp or .off. Coordinates are taken as µm, unscaled.
/// .obj, .off, .ply and ASCII .stl are parsed exactly (double; binary PLY and STL
/// keep their stored type); .vtp goes through VTK's XML reader and keeps its stored
/// type. Files over 1 GiB are refused.
/// Polygons with more than three vertices are triangulated (OBJ/OFF: fan from the
/// first vertex); vertices with equal coordinates are merged, keeping the first
/// occurrence's position in file order; vertices used by no triangle are dropped;
/// triangles that collapse after merging (two equal corners) are dropped.
/// Throws InputError (Diagnostic.file = `file`) when the file is missing, has an
/// unsupported extension, cannot be parsed, or contains no triangles (e.g. only
/// lines or points).
TriangleMesh read_surface_mesh(const std::filesystem::path& file);

/// The same on bytes already in memory: `name`'s extension chooses the format and
/// `name` is the file that diagnostics name (used by the fuzz target, which writes
/// no temporary files).
TriangleMesh parse_surface_mesh(std::string_view data, const std::filesystem::path& name);

}  // namespace spinesim
