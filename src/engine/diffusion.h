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
enum class StepOutcome : std::uint8_t { kMoved = 0, kAbsorbed = 1, kCaptured = 2 };

/// Membrane agents that volume ligands can collide with during one step, by
/// triangle, with the per-hit capture probability of every particle-ligand
/// transition. Rebuilt by the scheduler before each step (agents move slowly, the
/// membrane potential may change); empty when the scene has no such transition.
struct CaptureIndex {
  std::vector<std::uint32_t> start;   ///< CSR offsets per triangle (size triangles + 1)
  std::vector<std::uint32_t> agents;  ///< membrane molecule indices
  std::vector<Vec3> position;         ///< per membrane molecule, µm
  /// Per agent species, per transition of its type: probability that one hit inside the capture
  /// disc binds: p = kon(V) · sqrt(π·dt/D_ligand) / (π·r_capture²), from the flux of
  /// Brownian-step crossings c·sqrt(D·dt/π) per unit area per step.
  std::vector<std::vector<double>> probability;
  std::vector<std::uint8_t> is_ligand;  ///< per species: ligand of some capture transition
  bool empty() const { return agents.empty(); }
};

/// Per-molecule scratch results of a step, owned by the stepper.
struct StepScratch {
  std::vector<StepOutcome> outcome;
  std::vector<std::uint32_t> captured_by;         ///< agent (membrane index) that captured it
  std::vector<std::uint16_t> capture_transition;  ///< transition index within the agent type
  void resize(std::size_t n) {
    outcome.resize(n);
    captured_by.resize(n);
    capture_transition.resize(n);
  }
};

/// Read-only context of a step; build once per run.
struct DiffusionContext {
  const Model* model = nullptr;
  const SpatialGrid* grid = nullptr;
  const SurfaceTopology* topology = nullptr;
  std::vector<double> sigma_um;    ///< per species: sqrt(2·D·dt), the per-axis step SD
  std::vector<Vec3> unit_normals;  ///< per triangle
  Box3 world_box;                  ///< reflective outer wall of the unbounded compartment
  std::uint64_t seed = 0;
  const World* world = nullptr;           ///< for agent states during capture (read-only)
  const CaptureIndex* capture = nullptr;  ///< agents ligands may bind this step; null = none

  DiffusionContext(const Model& m, const SpatialGrid& g, const SurfaceTopology& t);
  bool anything_diffuses(const World& w) const;
};

/// Surface counters accumulated by one worker over its molecules; integer sums
/// commute, so merging tallies in any order gives the same totals.
struct SurfaceTally {
  std::vector<std::uint64_t> absorbed;  ///< index region * S + species
  std::vector<std::uint64_t> crossed;   ///< index (region * S + species) * 2 + direction (0: front → back)
  void reset(std::size_t n) {
    absorbed.assign(n, 0);
    crossed.assign(2 * n, 0);
  }
  void add_to(std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& c) const {
    for (std::size_t i = 0; i < absorbed.size(); ++i) a[i] += absorbed[i];
    for (std::size_t i = 0; i < crossed.size(); ++i) c[i] += crossed[i];
  }
};

/// Volume molecules are processed in blocks of this many, aligned to absolute
/// indices: the vectorised body and the scalar remainder of the displacement loop
/// may round differently, so a molecule must land in the same place of a block on
/// every thread count. Parallel steppers split work at multiples of kVolumeBlock.
inline constexpr std::size_t kVolumeBlock = 256;

/// Moves volume molecules [begin, end) by one step of dt; outcome[i] is written for
/// each. `begin` must be a multiple of kVolumeBlock.
void step_volume_range(const DiffusionContext& ctx, World& w, StepScratch& scratch, SurfaceTally& tally,
                       std::size_t begin, std::size_t end);
/// Moves membrane molecules [begin, end) by one step of dt.
void step_membrane_range(const DiffusionContext& ctx, World& w, std::size_t begin, std::size_t end);

/// Moves a volume molecule from p by d, reflecting, absorbing or transmitting at
/// walls. Returns kAbsorbed when a wall removed it, kCaptured (with the agent and
/// transition in scratch[i]) when an agent on a wall bound it.
StepOutcome move_volume(const DiffusionContext& ctx, std::size_t i, int species, std::uint32_t id, Vec3& p,
                        std::uint16_t& compartment, Vec3 d, SurfaceTally& tally, StepScratch& scratch,
                        std::uint64_t step);

}  // namespace spinesim
