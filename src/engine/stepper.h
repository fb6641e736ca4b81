// Brownian stepping strategies. The serial stepper is the reference; the oneTBB
// stepper (engine/parallel) must produce byte-identical worlds, which holds by
// construction because both call the same per-molecule kernels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/diffusion.h"

namespace spinesim {

class Stepper {
 public:
  virtual ~Stepper() = default;
  /// Advances every molecule by one dt and increments w.step_count.
  void step(const DiffusionContext& ctx, World& w);
  virtual std::string name() const = 0;

 protected:
  /// Runs both kernels over all molecules, filling outcome_ and merging tallies into `total`.
  virtual void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) = 0;
  std::vector<StepOutcome> outcome_;
};

class SerialStepper final : public Stepper {
 public:
  std::string name() const override { return "serial"; }

 protected:
  void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) override;
};

}  // namespace spinesim
