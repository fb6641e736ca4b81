#include "engine/stepper.h"

namespace spinesim {

void Stepper::step(const DiffusionContext& ctx, World& w) {
  outcome_.resize(w.volume.size());
  SurfaceTally total;
  total.reset(w.absorbed.size());
  run_kernels(ctx, w, total);
  total.add_to(w.absorbed, w.crossed);
  bool any_absorbed = false;
  for (std::size_t i = 0; i < total.absorbed.size(); ++i) any_absorbed = any_absorbed || total.absorbed[i] != 0;
  if (any_absorbed) remove_absorbed(w, outcome_);
  ++w.step_count;
}

void SerialStepper::run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) {
  step_volume_range(ctx, w, outcome_.data(), total, 0, w.volume.size());
  step_membrane_range(ctx, w, 0, w.membrane.size());
}

}  // namespace spinesim
