// Writes simulation geometry and molecule snapshots as VTK XML PolyData (.vtp)
// plus a ParaView collection (.pvd) that lists the frames with their times, so a
// run directory opens directly in ParaView and can be rendered by viz/render.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/snapshot.h"
#include "geometry/geometry.h"

namespace spinesim {

/// Writes `g` as triangles (points in µm, float64) with Int32 cell arrays
/// "region_id", "surface_id", "front_compartment", "back_compartment" and string
/// field arrays "region_names", "surface_names", "compartment_names".
/// Uncompressed raw-binary appended data: the same geometry gives byte-identical
/// files. Written atomically; throws IoError when the file cannot be written.
void write_mesh_vtp(const Geometry& g, const std::filesystem::path& file);

/// Writes a bare triangle mesh with Int32 cell arrays and string field arrays (e.g. the
/// offending triangles of `validate --intersections`). Deterministic and atomic.
void write_triangles_vtp(const TriangleMesh& mesh,
                         const std::vector<std::pair<std::string, std::vector<std::int32_t>>>& cell_arrays,
                         const std::vector<std::pair<std::string, std::vector<std::string>>>& field_strings,
                         const std::filesystem::path& file);

/// Writes the molecules of `s` as points (µm, float64) with one vertex cell each,
/// point arrays "species", "state", "region", "compartment" (Int32) and "id"
/// (UInt64), field data "time_s" (one float64, seconds) and string arrays
/// "species_names", "state_names", "region_names", "compartment_names".
/// Works with zero molecules. Deterministic and atomic like write_mesh_vtp.
void write_frame_vtp(const Snapshot& s, const std::filesystem::path& file);

/// Maintains a ParaView collection file listing frame files and their times.
/// The .pvd is rewritten atomically on construction (empty collection) and on
/// every add(), so it is always a complete, valid file.
class PvdWriter {
 public:
  /// `pvd_file`: path of the .pvd to (re)create. Throws IoError when unwritable.
  explicit PvdWriter(std::filesystem::path pvd_file);
  /// Continues a collection (a resumed run): `entries` are (time_s, file) pairs.
  PvdWriter(std::filesystem::path pvd_file, const std::vector<std::pair<double, std::string>>& entries);
  /// The frames listed so far as (time_s, file) pairs.
  std::vector<std::pair<double, std::string>> entries() const;

  /// Appends a frame at `time_s` (seconds) whose .vtp lives at `relative_vtp_path`
  /// (relative to the .pvd's directory, '/'-separated, e.g. "frames/00000.vtp").
  void add(double time_s, const std::string& relative_vtp_path);

  /// Number of frames listed so far.
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    double time_s;
    std::string file;
  };
  void rewrite() const;

  std::filesystem::path pvd_file_;
  std::vector<Entry> entries_;
};

/// One frame listed in a .pvd collection.
struct PvdEntry {
  double time_s = 0;  ///< seconds
  std::string file;   ///< as written in the .pvd (relative to its directory)
};

/// Reads the DataSet entries of a .pvd written by PvdWriter (or ParaView), in file
/// order. Throws InputError (with file) when it is missing or malformed.
std::vector<PvdEntry> read_pvd(const std::filesystem::path& pvd_file);

}  // namespace spinesim
