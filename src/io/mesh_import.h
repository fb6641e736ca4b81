// Reads triangle surface meshes from common file formats (.obj, .ply, .stl, .vtp,
// .off) into a TriangleMesh: polygons are triangulated and coincident vertices are
// merged, so an STL (which repeats every vertex per facet) comes back indexed.
#pragma once

#include <filesystem>

#include "geometry/geometry.h"

namespace spinesim {

/// Reads the surface mesh in `file`; the format is chosen by the (case-insensitive)
/// extension: .obj, .ply, .stl, .vtp or .off. Coordinates are taken as µm, unscaled.
/// .obj and .off are parsed exactly (double); .ply and .stl go through VTK readers
/// that store float32 points (~1e-7 relative rounding); .vtp keeps its stored type.
/// Polygons with more than three vertices are triangulated (OBJ/OFF: fan from the
/// first vertex); vertices with equal coordinates are merged, keeping the first
/// occurrence's position in file order; vertices used by no triangle are dropped;
/// triangles that collapse after merging (two equal corners) are dropped.
/// Throws InputError (Diagnostic.file = `file`) when the file is missing, has an
/// unsupported extension, cannot be parsed, or contains no triangles (e.g. only
/// lines or points).
TriangleMesh read_surface_mesh(const std::filesystem::path& file);

}  // namespace spinesim
