#include "engine/stepper.h"

namespace spinesim {

void Stepper::step(const DiffusionContext& ctx, World& w, CaptureSink* sink) {
  scratch_.resize(w.volume.size());
  SurfaceTally total;
  total.reset(w.absorbed.size());
  run_kernels(ctx, w, total);
  total.add_to(w.absorbed, w.crossed);
  bool any_removed = false;
  std::vector<StepOutcome>& outcome = scratch_.outcome;
  for (std::size_t i = 0; i < outcome.size(); ++i) {
    if (outcome[i] == StepOutcome::kCaptured &&
        !(sink && sink->on_capture(i, scratch_.captured_by[i], scratch_.capture_transition[i])))
      outcome[i] = StepOutcome::kMoved;  // refused: the ligand stays where it touched the wall
    any_removed = any_removed || outcome[i] != StepOutcome::kMoved;
  }
  if (any_removed) w.volume.compact([&](std::size_t i) { return outcome[i] == StepOutcome::kMoved; });
  ++w.step_count;
}

void SerialStepper::run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) {
  step_volume_range(ctx, w, scratch_, total, 0, w.volume.size());
  step_membrane_range(ctx, w, 0, w.membrane.size());
}

}  // namespace spinesim
