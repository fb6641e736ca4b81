// One Brownian step for one molecule: the per-entity kernel shared by the serial
// reference stepper and the oneTBB stepper. It touches only its own molecule and
// takes randomness from that molecule's counter-based stream, so the result does
// not depend on which thread runs it or when.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/world.h"
#include "geometry/spatial_grid.h"
#include "geometry/surface_walk.h"
#include "model/model.h"

namespace spinesim {

/// Outcome of one molecule's step, folded into the world serially afterwards.
enum class StepOutcome : std::uint8_t { kMoved = 0, kAbsorbed = 1 };

/// Read-only context of a step; build once per run.
struct DiffusionContext {
  const Model* model = nullptr;
  const SpatialGrid* grid = nullptr;
  const SurfaceTopology* topology = nullptr;
  std::vector<double> sigma_um;    ///< per species: sqrt(2·D·dt), the per-axis step SD
  std::vector<Vec3> unit_normals;  ///< per triangle
  Box3 world_box;                  ///< reflective outer wall of the unbounded compartment
  std::uint64_t seed = 0;

  DiffusionContext(const Model& m, const SpatialGrid& g, const SurfaceTopology& t);
  bool anything_diffuses(const World& w) const;
};

/// Surface counters accumulated by one worker over its molecules; integer sums
/// commute, so merging tallies in any order gives the same totals.
struct SurfaceTally {
  std::vector<std::uint64_t> absorbed, crossed;  ///< index region * S + species
  void reset(std::size_t n) {
    absorbed.assign(n, 0);
    crossed.assign(n, 0);
  }
  void add_to(std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& c) const {
    for (std::size_t i = 0; i < absorbed.size(); ++i) {
      a[i] += absorbed[i];
      c[i] += crossed[i];
    }
  }
};

/// Volume molecules are processed in blocks of this many, aligned to absolute
/// indices: the vectorised body and the scalar remainder of the displacement loop
/// may round differently, so a molecule must land in the same place of a block on
/// every thread count. Parallel steppers split work at multiples of kVolumeBlock.
inline constexpr std::size_t kVolumeBlock = 256;

/// Moves volume molecules [begin, end) by one step of dt; outcome[i] is written for
/// each. `begin` must be a multiple of kVolumeBlock.
void step_volume_range(const DiffusionContext& ctx, World& w, StepOutcome* outcome, SurfaceTally& tally,
                       std::size_t begin, std::size_t end);
/// Moves membrane molecules [begin, end) by one step of dt.
void step_membrane_range(const DiffusionContext& ctx, World& w, std::size_t begin, std::size_t end);

/// Removes absorbed volume molecules, keeping the order of the rest.
void remove_absorbed(World& w, const std::vector<StepOutcome>& outcome);

/// Moves a volume molecule from p by d, reflecting, absorbing or transmitting at
/// walls. Returns kAbsorbed (and the region) when a wall removed it.
StepOutcome move_volume(const DiffusionContext& ctx, int species, Vec3& p, std::uint16_t& compartment, Vec3 d,
                        SurfaceTally& tally);

}  // namespace spinesim
