// Time profiles the scene imposes: clamped ligand concentrations and the membrane
// potential. Pure functions of time, plus the bounds that exact thinning needs.
#pragma once

#include <string>
#include <vector>

namespace spinesim {

/// A concentration (µM) or potential (mV) as a function of time (s).
struct TimeProfile {
  enum class Kind { kConstant, kSteps, kInfusion };
  Kind kind = Kind::kConstant;
  double constant = 0;
  // kSteps: value `initial` before times[0], values[i] on [times[i], times[i+1]).
  double initial = 0;
  std::vector<double> times, values;
  // kInfusion: see scene.proto Infusion.
  double start_s = 0, duration_s = 1, peak = 0, half_life_s = 1;

  double at(double t) const;
  /// Upper bound of the value on [t0, t1] (exact: the profile is monotone between breakpoints).
  double max_on(double t0, double t1) const;
  /// First time > t at which the profile changes form (a step, infusion start or end); +inf if none.
  double next_breakpoint(double t) const;
  static TimeProfile constant_value(double v) {
    TimeProfile p;
    p.constant = v;
    return p;
  }
};

}  // namespace spinesim
