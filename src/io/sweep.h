// Parameter sweeps for `spinesim ensemble`: `--sweep FIELD=v1,v2,...` axes and the
// points of their cartesian product, each a list of FIELD=value assignments that
// load_scene applies to the scene (see SceneOverrides::assignments).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/scene_loader.h"

namespace spinesim {

struct SweepAxis {
  std::string path;                 ///< schema path, e.g. release[0].count
  std::vector<std::string> values;  ///< as given on the command line
};

/// Parses "FIELD=v1,v2,..."; throws InputError (field = the path) when the text has
/// no '=', an empty path, or an empty value.
SweepAxis parse_sweep_axis(const std::string& text);

/// Most points a sweep may have.
inline constexpr std::uint64_t kMaxSweepPoints = 1'000'000;

/// The cartesian product of `axes`, the first axis varying slowest; one point with
/// no assignments when `axes` is empty. Throws InputError (field = the last axis's
/// path) when it would have more than kMaxSweepPoints points.
std::vector<std::vector<FieldAssignment>> sweep_points(const std::vector<SweepAxis>& axes);

}  // namespace spinesim
