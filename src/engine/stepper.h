// Brownian stepping strategies. The serial stepper is the reference; the oneTBB
// stepper (engine/parallel) must produce byte-identical worlds, which holds by
// construction because both call the same per-molecule kernels and fold their
// outcomes into the world serially, in molecule order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/diffusion.h"

namespace spinesim {

/// Receives ligand captures proposed during a step, in molecule order; returns
/// whether the agent accepted (its state still allows the transition).
class CaptureSink {
 public:
  virtual ~CaptureSink() = default;
  virtual bool on_capture(std::size_t ligand, std::uint32_t agent, std::uint16_t transition) = 0;
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  /// Advances every molecule by one dt, removes absorbed molecules and accepted
  /// captures, and increments w.step_count. Without a sink, captures are refused.
  void step(const DiffusionContext& ctx, World& w, CaptureSink* sink = nullptr);
  virtual std::string name() const = 0;
  /// Calls work(b) for every b in [0, blocks), in parallel where the stepper can.
  /// Each call must write only its own outputs (indexed by b), so results never
  /// depend on the order in which blocks run.
  virtual void for_each_block(std::size_t blocks, const std::function<void(std::size_t)>& work) const {
    for (std::size_t b = 0; b < blocks; ++b) work(b);
  }

 protected:
  /// Runs both kernels over all molecules, filling scratch_ and merging tallies into `total`.
  virtual void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) = 0;
  StepScratch scratch_;
};

class SerialStepper final : public Stepper {
 public:
  std::string name() const override { return "serial"; }

 protected:
  void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) override;
};

}  // namespace spinesim
