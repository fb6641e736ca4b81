// Reads a scene file (protobuf text format against src/io/schema/scene.proto),
// reports every problem with file:line:column and field path, and compiles the
// scene into the engine's immutable Model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "geometry/mesh_check.h"
#include "model/model.h"

namespace spinesim {

/// `FIELD=value`: a numeric scene field named by its path in the schema, e.g.
/// `release[0].count`, `simulation.dt_s`, `clamp[1].constant_uM` (repeated fields
/// take an index; a missing optional sub-message is created), and its new value.
struct FieldAssignment {
  std::string path;
  std::string value;
};

/// Command-line values that replace the scene's own.
struct SceneOverrides {
  std::optional<std::uint64_t> seed;
  std::optional<double> t_end_s;
  /// Applied in order to the parsed scene before it is checked and compiled; an
  /// unknown path, a non-numeric field or a malformed value is an InputError whose
  /// diagnostic names the path (and the line of the field when the scene sets it).
  std::vector<FieldAssignment> assignments;
};

/// Splits "FIELD=value" at the first '='; throws InputError if either side is empty.
FieldAssignment parse_field_assignment(const std::string& text);

struct LoadedScene {
  Model model;
  std::vector<Diagnostic> warnings;  ///< e.g. a mesh whose orientation was repaired
  /// The scene as run: overrides applied, defaults written out, mesh paths absolute.
  std::string resolved_text;
};

/// Parses, validates and compiles. Throws InputError listing every problem found.
LoadedScene load_scene(const std::filesystem::path& file, const SceneOverrides& overrides = {});
/// The same for a scene held in memory (the Python package's Scene messages): `name`
/// stands for the file in diagnostics, and relative paths resolve against its directory.
LoadedScene load_scene_text(const std::string& text, const std::filesystem::path& name,
                            const SceneOverrides& overrides = {});

/// How many intersecting triangle pairs a scene check collects per surface (or pair
/// of surfaces) for `validate --intersections`; the error quotes the first.
inline constexpr std::size_t kIntersectionsKept = 1000;

/// A surface that intersects itself, or two that meet ("a x b"): the offending pairs
/// and their triangles (triangles 2k, 2k + 1 of `triangles` are pair k). Triangle
/// indices in `report` are those of each surface's own file (for "a x b", the first
/// of a pair is in a, the second in b).
struct MeshIntersections {
  std::string label;
  TriangleMesh triangles;
  SelfIntersectionReport report;
};

/// Parses and validates; returns errors and warnings without throwing (for
/// `spinesim validate`). `errors` empty means the scene can run. When `intersections`
/// is given, it receives the offending triangles of intersecting surfaces.
void validate_scene(const std::filesystem::path& file, std::vector<Diagnostic>& errors,
                    std::vector<Diagnostic>& warnings, std::vector<MeshIntersections>* intersections = nullptr);

/// Same as validate_scene, for a scene held in memory: `name` stands for the file in
/// diagnostics, and relative mesh and agent-file paths are resolved against its
/// directory. The entry point of the scene fuzzer (fuzz/fuzz_scene.cpp) and its
/// regression test.
void validate_scene_text(const std::string& text, const std::string& name, std::vector<Diagnostic>& errors,
                         std::vector<Diagnostic>& warnings);

}  // namespace spinesim
