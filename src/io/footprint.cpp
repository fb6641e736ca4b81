#include "io/footprint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/world.h"

namespace spinesim {

namespace {
// Measured on the shipped scenes' outputs: a counts.csv cell is a small integer and its
// comma (the time column ~12 bytes); a frame stores ~60 bytes per molecule (position,
// species, state and region arrays of vtkXMLPolyDataWriter, appended binary); memory
// per molecule is kBytesPerMoleculeInMemory (engine/world.h).
constexpr double kBytesPerCountsCell = 4;
constexpr double kBytesPerTimeCell = 12;
constexpr double kFrameBytesPerMolecule = 64;
constexpr double kCheckpointBytesPerMolecule = 32;

std::uint64_t outputs_over(double t_end_s, double interval_s) {
  if (!(interval_s > 0) || !(t_end_s >= 0)) return 0;
  return static_cast<std::uint64_t>(std::floor(t_end_s / interval_s)) + 1;
}
}  // namespace

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return buf;
}

RunFootprint estimate_footprint(const Model& model, std::size_t counts_columns, std::uint64_t molecules_at_start,
                                bool checkpoints) {
  RunFootprint f;
  double molecules = static_cast<double>(molecules_at_start);
  for (const ReleaseDef& r : model.releases)
    molecules += static_cast<double>(r.count) *
                 (static_cast<double>(r.times_s.size()) + r.poisson_rate_hz * std::max(0.0, model.t_end_s));
  molecules = std::min(molecules, static_cast<double>(model.max_molecules));
  f.molecules = static_cast<std::uint64_t>(molecules);
  f.counts_rows = outputs_over(model.t_end_s, model.counts_interval_s);
  f.counts_bytes = static_cast<std::uint64_t>(static_cast<double>(f.counts_rows + 1) *
                                              (kBytesPerTimeCell + kBytesPerCountsCell * counts_columns));
  f.frames = outputs_over(model.t_end_s, model.frame_interval_s);
  f.frame_bytes = static_cast<std::uint64_t>(static_cast<double>(f.frames) * molecules * kFrameBytesPerMolecule);
  f.checkpoint_bytes = checkpoints ? static_cast<std::uint64_t>(2 * molecules * kCheckpointBytesPerMolecule) : 0;
  f.memory_bytes = static_cast<std::uint64_t>(molecules * kBytesPerMoleculeInMemory);
  return f;
}

std::vector<std::string> footprint_warnings(const RunFootprint& f, std::uint64_t disk_free_bytes,
                                            std::uint64_t memory_bytes) {
  std::vector<std::string> w;
  if (2 * static_cast<double>(f.disk_bytes()) > static_cast<double>(disk_free_bytes)) {
    std::string what = "the run's outputs need about " + format_bytes(static_cast<double>(f.disk_bytes())) +
                       ", but only " + format_bytes(static_cast<double>(disk_free_bytes)) + " are free there (" +
                       "counts.csv " + std::to_string(f.counts_rows) + " rows, " +
                       format_bytes(static_cast<double>(f.counts_bytes)) + "; " + std::to_string(f.frames) +
                       " frames of ~" + std::to_string(f.molecules) + " molecules, " +
                       format_bytes(static_cast<double>(f.frame_bytes)) + ")";
    what += f.frame_bytes >= f.counts_bytes ? "; raise output.frame_interval_s (0: no frames)"
                                            : "; raise output.counts_interval_s";
    what += ", or free space; a run that fills the disk stops with its outputs so far intact and resumes";
    w.push_back(what);
  }
  if (memory_bytes > 0 && 2 * static_cast<double>(f.memory_bytes) > static_cast<double>(memory_bytes))
    w.push_back("the run may reach ~" + std::to_string(f.molecules) + " molecules, about " +
                format_bytes(static_cast<double>(f.memory_bytes)) + " of memory, more than half of the " +
                format_bytes(static_cast<double>(memory_bytes)) +
                " this machine has; lower the release counts or simulation.max_molecules (the run stops with a "
                "checkpoint when it passes it)");
  return w;
}

}  // namespace spinesim
