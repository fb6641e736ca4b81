// What a run will need before it starts: disk for counts.csv, frames and checkpoints,
// and memory for its molecules, from the scene's own numbers. Estimates, so a run is
// warned, never refused, by them; the fields to change are named.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace spinesim {

struct RunFootprint {
  std::uint64_t molecules = 0;  ///< at t = 0 plus every release the scene schedules
  std::uint64_t counts_rows = 0, counts_bytes = 0;
  std::uint64_t frames = 0, frame_bytes = 0;  ///< frame_bytes: all frames together
  std::uint64_t checkpoint_bytes = 0;         ///< the two kept at once
  std::uint64_t memory_bytes = 0;
  std::uint64_t disk_bytes() const { return counts_bytes + frame_bytes + checkpoint_bytes; }
};

/// `counts_columns`: counts.csv columns without time_s; `molecules_at_start`: particles
/// and agents placed at t = 0. Releases add their count per scheduled time and, for
/// Poisson releases, per expected release; the total is capped at max_molecules.
RunFootprint estimate_footprint(const Model& model, std::size_t counts_columns, std::uint64_t molecules_at_start,
                                bool checkpoints);

/// Warnings for a footprint that would not fit: disk beyond half of `disk_free_bytes`,
/// memory beyond half of `memory_bytes` (0: unknown, not checked). Each names the
/// numbers and the scene fields that change them.
std::vector<std::string> footprint_warnings(const RunFootprint& f, std::uint64_t disk_free_bytes,
                                            std::uint64_t memory_bytes);

/// "12.3 MB", "4.1 GB": decimal units, three significant digits.
std::string format_bytes(double bytes);

}  // namespace spinesim
