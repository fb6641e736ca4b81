// Helpers shared by the viz tests: reading a file's bytes and a box mesh whose
// +z face is triangles 2 and 3 (the tests tag it as the PSD).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "geometry/geometry.h"

namespace spinesim::testing {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Axis-aligned box [lo, hi] as 12 outward-facing triangles; triangles 2 and 3 are the +z face.
inline TriangleMesh box(Vec3 lo, Vec3 hi) {
  TriangleMesh m;
  for (int i = 0; i < 8; ++i) {
    m.vertices.push_back({(i & 1) ? hi.x : lo.x, (i & 2) ? hi.y : lo.y, (i & 4) ? hi.z : lo.z});
  }
  m.triangles = {{0, 2, 3}, {0, 3, 1}, {4, 5, 7}, {4, 7, 6}, {0, 1, 5}, {0, 5, 4},
                 {2, 6, 7}, {2, 7, 3}, {0, 4, 6}, {0, 6, 2}, {1, 3, 7}, {1, 7, 5}};
  return m;
}

}  // namespace spinesim::testing
