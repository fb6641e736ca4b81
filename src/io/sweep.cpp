#include "io/sweep.h"

#include <cstdio>

#include "core/error.h"

namespace spinesim {

SweepAxis parse_sweep_axis(const std::string& text) {
  const FieldAssignment a = parse_field_assignment(text);
  SweepAxis axis{a.path, {}};
  std::size_t i = 0;
  while (true) {
    const auto c = a.value.find(',', i);
    std::string v = a.value.substr(i, c == std::string::npos ? std::string::npos : c - i);
    if (v.empty())
      throw InputError(Diagnostic{
          "", 0, 0, a.path, "empty value in --sweep " + text + " (expected FIELD=v1,v2,... with no empty entries)"});
    axis.values.push_back(std::move(v));
    if (c == std::string::npos) break;
    i = c + 1;
  }
  return axis;
}

std::vector<std::vector<FieldAssignment>> sweep_points(const std::vector<SweepAxis>& axes) {
  // The product is materialised (every point is loaded and checked before anything
  // runs), so its size is checked first: ten axes of ten values would otherwise fill
  // memory before a message.
  double n = 1;  // a double cannot overflow here (at most argv's length of factors)
  std::string shape;
  for (const SweepAxis& axis : axes) {
    n *= static_cast<double>(axis.values.size());
    shape += (shape.empty() ? "" : " × ") + std::to_string(axis.values.size());
  }
  if (n > static_cast<double>(kMaxSweepPoints)) {
    char count[32];
    std::snprintf(count, sizeof count, "%.4g", n);
    throw InputError(Diagnostic{"", 0, 0, axes.back().path,
                                std::string("the sweep has ") + count + " points (" + shape + "), more than " +
                                    std::to_string(kMaxSweepPoints) +
                                    "; sweep fewer values, or split the sweep into several ensembles"});
  }
  std::vector<std::vector<FieldAssignment>> points{{}};
  for (const SweepAxis& axis : axes) {
    std::vector<std::vector<FieldAssignment>> next;
    for (const auto& p : points)
      for (const auto& v : axis.values) {
        auto q = p;
        q.push_back({axis.path, v});
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

}  // namespace spinesim
