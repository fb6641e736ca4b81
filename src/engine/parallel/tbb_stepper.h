// The oneTBB stepper: the serial kernels over index ranges on a task arena of a
// fixed size. Threads live only in this folder (style rule 3).
#pragma once

#include <memory>

#include "engine/stepper.h"

namespace spinesim {

/// A stepper that runs on `threads` worker threads (≥ 1).
std::unique_ptr<Stepper> make_tbb_stepper(int threads);

/// The stepper for `threads`: the serial reference stepper for 1, oneTBB otherwise.
/// Both give the same bytes; 1 avoids the task arena's start-up for small runs.
std::unique_ptr<Stepper> make_stepper(int threads);

}  // namespace spinesim
