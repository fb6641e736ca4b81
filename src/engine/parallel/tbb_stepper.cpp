#include "engine/parallel/tbb_stepper.h"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>

// Debian's libtbb is not built with ThreadSanitizer, so TSan cannot see that a
// parallel_for's tasks finish before it returns (nor that they start after it is
// called). These annotations state exactly that ordering — no more — so real races
// between tasks are still reported.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPINESIM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SPINESIM_TSAN 1
#endif
#ifdef SPINESIM_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace spinesim {

namespace {
/// Brackets a parallel region for ThreadSanitizer (no-op otherwise): the caller's
/// earlier writes happen before every task, every task happens before the caller's
/// later reads.
class ForkJoinOrder {
 public:
  void fork() { annotate_release(); }
  void task_begin() { annotate_acquire(); }
  void task_end() { annotate_release(); }
  void join() { annotate_acquire(); }

 private:
#ifdef SPINESIM_TSAN
  void annotate_release() {
    __tsan_release(this);
  }
  void annotate_acquire() {
    __tsan_acquire(this);
  }
#else
  void annotate_release() {}
  void annotate_acquire() {}
#endif
};

class TbbStepper final : public Stepper {
 public:
  explicit TbbStepper(int threads) : arena_(threads), threads_(threads) {}
  std::string name() const override { return "tbb(" + std::to_string(threads_) + ")"; }
  void for_each_block(std::size_t blocks, const std::function<void(std::size_t)>& work) const override {
    ForkJoinOrder order;
    arena_.execute([&] {
      order.fork();
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, blocks, 1),
          [&](const tbb::blocked_range<std::size_t>& r) {
            order.task_begin();
            for (std::size_t b = r.begin(); b < r.end(); ++b) work(b);
            order.task_end();
          },
          tbb::simple_partitioner());
    });
    order.join();
  }

 protected:
  void run_kernels(const DiffusionContext& ctx, World& w, SurfaceTally& total) override {
    // Grains of a few thousand molecules amortise scheduling; results do not depend
    // on how ranges are split because each molecule is independent. The simple
    // partitioner keeps no shared splitting state between tasks, which
    // ThreadSanitizer could not see synchronised in Debian's uninstrumented libtbb.
    constexpr std::size_t kGrainBlocks = 16;
    tbb::enumerable_thread_specific<SurfaceTally> tallies([&] {
      SurfaceTally t;
      t.reset(total.absorbed.size());
      return t;
    });
    ForkJoinOrder order;
    arena_.execute([&] {
      const std::size_t n = w.volume.size();
      const std::size_t blocks = (n + kVolumeBlock - 1) / kVolumeBlock;
      order.fork();
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, blocks, kGrainBlocks),
          [&](const tbb::blocked_range<std::size_t>& r) {
            order.task_begin();
            step_volume_range(ctx, w, scratch_, tallies.local(), r.begin() * kVolumeBlock,
                              std::min(n, r.end() * kVolumeBlock));
            order.task_end();
          },
          tbb::simple_partitioner());
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, w.membrane.size(), 1024),
          [&](const tbb::blocked_range<std::size_t>& r) {
            order.task_begin();
            step_membrane_range(ctx, w, r.begin(), r.end());
            order.task_end();
          },
          tbb::simple_partitioner());
    });
    order.join();
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

std::unique_ptr<Stepper> make_stepper(int threads) {
  if (threads == 1) return std::make_unique<SerialStepper>();
  return make_tbb_stepper(threads);
}

}  // namespace spinesim
