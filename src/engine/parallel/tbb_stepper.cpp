#include "engine/parallel/tbb_stepper.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>

namespace spinesim {

namespace {
class TbbStepper final : public Stepper {
 public:
  explicit TbbStepper(int threads) : arena_(threads), threads_(threads) {}
  std::string name() const override { return "tbb(" + std::to_string(threads_) + ")"; }
  void for_each_block(std::size_t blocks, const std::function<void(std::size_t)>& work) const override {
    arena_.execute([&] {
      tbb::parallel_for(std::size_t{0}, blocks, [&](std::size_t b) { work(b); });
    });
  }

 protected:
  void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) override {
    // Grains of a few thousand molecules amortise scheduling; results do not depend
    // on how ranges are split because each molecule is independent.
    constexpr std::size_t kGrainBlocks = 16;
    tbb::enumerable_thread_specific<SurfaceTally> tallies([&] {
      SurfaceTally t;
      t.reset(total.absorbed.size());
      return t;
    });
    arena_.execute([&] {
      const std::size_t n = w.volume.size();
      const std::size_t blocks = (n + kVolumeBlock - 1) / kVolumeBlock;
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks, kGrainBlocks),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          step_volume_range(ctx, w, scratch_, tallies.local(), r.begin() * kVolumeBlock,
                                            std::min(n, r.end() * kVolumeBlock));
                        });
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, w.membrane.size(), 1024),
          [&](const tbb::blocked_range<std::size_t>& r) { step_membrane_range(ctx, w, r.begin(), r.end()); });
    });
    for (const auto& t : tallies) t.add_to(total.absorbed, total.crossed);
  }

 private:
  mutable tbb::task_arena arena_;
  int threads_;
};
}  // namespace

std::unique_ptr<Stepper> make_tbb_stepper(int threads) {
  return std::make_unique<TbbStepper>(threads);
}

}  // namespace spinesim
