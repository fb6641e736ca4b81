#include "model/environment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace spinesim {

double TimeProfile::at(double t) const {
  switch (kind) {
    case Kind::kConstant:
      return constant;
    case Kind::kSteps: {
      const auto it = std::upper_bound(times.begin(), times.end(), t);
      return it == times.begin() ? initial : values[static_cast<std::size_t>(it - times.begin()) - 1];
    }
    case Kind::kInfusion: {
      if (t < start_s) return 0;
      const double k = std::log(2.0) / half_life_s;
      const double end = start_s + duration_s;
      if (t <= end) return peak * (1 - std::exp(-k * (t - start_s))) / (1 - std::exp(-k * duration_s));
      return peak * std::exp(-k * (t - end));
    }
  }
  return 0;
}

double TimeProfile::max_on(double t0, double t1) const {
  switch (kind) {
    case Kind::kConstant:
      return constant;
    case Kind::kSteps: {
      double m = at(t0);
      for (std::size_t i = 0; i < times.size(); ++i)
        if (times[i] > t0 && times[i] <= t1) m = std::max(m, values[i]);
      return m;
    }
    case Kind::kInfusion:
      // Rising during the infusion, falling after: the maximum is at an end point or
      // at the end of the infusion.
      {
        const double end = start_s + duration_s;
        double m = std::max(at(t0), at(t1));
        if (t0 < end && t1 > end) m = std::max(m, peak);
        return m;
      }
  }
  return 0;
}

double TimeProfile::next_breakpoint(double t) const {
  constexpr double kNone = std::numeric_limits<double>::infinity();
  switch (kind) {
    case Kind::kConstant:
      return kNone;
    case Kind::kSteps: {
      const auto it = std::upper_bound(times.begin(), times.end(), t);
      return it == times.end() ? kNone : *it;
    }
    case Kind::kInfusion:
      if (t < start_s) return start_s;
      if (t < start_s + duration_s) return start_s + duration_s;
      return kNone;
  }
  return kNone;
}

}  // namespace spinesim
