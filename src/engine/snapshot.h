// A read-only copy of what observers need from the world at an output time:
// the engine fills it, writers in src/io and viz/ consume it. No file format here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/vec3.h"

namespace spinesim {

/// Every molecule at one instant, as parallel arrays (index i = one molecule).
struct Snapshot {
  double time_s = 0;
  std::vector<std::string> species_names;         ///< indexed by `species`
  std::vector<double> species_display_radius_um;  ///< sphere radius for renders, per species
  std::vector<std::string> state_names;           ///< indexed by `state` ("" state = default)
  std::vector<std::string> region_names;          ///< indexed by `region`
  std::vector<std::string> compartment_names;
  std::vector<Vec3> positions;  ///< µm
  std::vector<std::int32_t> species;
  std::vector<std::int32_t> state;        ///< agent state index; 0 for plain molecules
  std::vector<std::int32_t> region;       ///< region of a membrane molecule's triangle; -1 in volume
  std::vector<std::int32_t> compartment;  ///< compartment of a volume molecule; -1 on membrane
  std::vector<std::uint64_t> ids;         ///< stable molecule ids
  std::size_t size() const { return positions.size(); }
};

}  // namespace spinesim
