// The mutable state of a run: molecules as structures of arrays (cache-friendly,
// vectorisable), plus cumulative surface counters. 32 bytes per volume molecule.
#pragma once

#include <cstdint>
#include <vector>

#include "core/vec3.h"
#include "geometry/surface_walk.h"

namespace spinesim {

/// Volume molecules. Index order is creation order; removal compacts stably, so
/// the order (and hence every output) is independent of thread count.
struct VolumeMolecules {
  std::vector<double> x, y, z;  ///< µm
  std::vector<std::uint16_t> species;
  std::vector<std::uint16_t> compartment;
  std::vector<std::uint32_t> id;  ///< unique, keys the random stream
  std::size_t size() const { return x.size(); }
  void push(const Vec3& p, std::uint16_t s, std::uint16_t c, std::uint32_t i) {
    x.push_back(p.x);
    y.push_back(p.y);
    z.push_back(p.z);
    species.push_back(s);
    compartment.push_back(c);
    id.push_back(i);
  }
  Vec3 position(std::size_t i) const { return {x[i], y[i], z[i]}; }
};

/// Membrane molecules: a triangle and barycentric coordinates.
struct MembraneMolecules {
  std::vector<std::uint32_t> triangle;
  std::vector<double> u, v;
  std::vector<std::uint16_t> species;
  std::vector<std::uint32_t> id;
  std::size_t size() const { return triangle.size(); }
  void push(const SurfacePoint& p, std::uint16_t s, std::uint32_t i) {
    triangle.push_back(p.triangle);
    u.push_back(p.u);
    v.push_back(p.v);
    species.push_back(s);
    id.push_back(i);
  }
  SurfacePoint point(std::size_t i) const { return {triangle[i], u[i], v[i]}; }
};

struct World {
  VolumeMolecules volume;
  MembraneMolecules membrane;
  std::uint32_t next_id = 0;
  std::uint64_t step_count = 0;  ///< Brownian steps taken so far (keys diffusion streams)
  /// Cumulative per (region, species): molecules absorbed / transmitted. Index r * S + s.
  std::vector<std::uint64_t> absorbed, crossed;
  std::size_t molecule_count() const { return volume.size() + membrane.size(); }
};

}  // namespace spinesim
