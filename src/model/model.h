// The validated, immutable description of a run, compiled from a scene file by
// src/io. The engine reads only this: it never sees protobuf, file names or
// receptor names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/vec3.h"
#include "geometry/geometry.h"

namespace spinesim {

/// What a molecule does when its path meets a triangle.
enum class SurfaceBehaviour : std::uint8_t { kReflect = 0, kAbsorb = 1, kTransmit = 2 };

struct SpeciesDef {
  std::string name;
  bool membrane = false;  ///< lives on a surface (2D) rather than in a compartment (3D)
  double diffusion_um2_per_s = 0;
  int confine_region = -1;  ///< membrane only: region whose borders reflect; -1 = free
  double display_radius_um = 0.006;
};

struct PlacementDef {
  enum class Where { kCompartment, kPoint, kRegion };
  int species = 0;
  std::uint64_t count = 0;
  Where where = Where::kCompartment;
  int compartment = -1;  ///< kCompartment, and kPoint (the compartment containing the point)
  Vec3 point;            ///< kPoint
  int region = -1;       ///< kRegion
};

struct ReleaseDef {
  int species = 0;
  std::uint64_t count = 0;
  Vec3 at;
  int compartment = -1;         ///< compartment containing `at`
  std::vector<double> times_s;  ///< sorted
};

struct Model {
  std::string name;
  Geometry geometry;
  std::vector<SpeciesDef> species;
  /// behaviour for (region r, species s) at [r * species.size() + s]
  std::vector<SurfaceBehaviour> surface_behaviour;
  std::vector<PlacementDef> placements;
  std::vector<ReleaseDef> releases;

  double dt_s = 1e-6;
  double t_end_s = 1e-3;
  std::uint64_t seed = 1;
  double grid_cell_um = 0;  ///< 0 = choose automatically
  std::uint64_t max_molecules = 10'000'000;
  int outer_compartment = -1;  ///< the unbounded compartment, closed by the world box

  double counts_interval_s = 1e-5;
  double frame_interval_s = 1e-4;
  std::vector<int> count_species;  ///< species with columns in counts.csv
  bool render_png = true;

  SurfaceBehaviour behaviour(RegionId region, int species_index) const {
    return surface_behaviour[static_cast<std::size_t>(region) * species.size() +
                             static_cast<std::size_t>(species_index)];
  }
  int find_species(const std::string& n) const {
    for (std::size_t i = 0; i < species.size(); ++i)
      if (species[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace spinesim
