// The disk and memory estimate a run prints before it starts (io/footprint).
#include "io/footprint.h"

#include <doctest/doctest.h>

#include "engine/world.h"

using namespace spinesim;

TEST_CASE("estimate_footprint counts rows, frames and released molecules from the scene") {
  Model m;
  m.t_end_s = 1;
  m.counts_interval_s = 0.01;  // rows at 0, 0.01, ..., 1: 101
  m.frame_interval_s = 0.1;    // frames at 0, 0.1, ..., 1: 11
  ReleaseDef r;
  r.count = 1000;
  r.times_s = {0.2, 0.4};
  r.poisson_rate_hz = 3;  // 3 expected releases in 1 s
  m.releases.push_back(r);
  const RunFootprint f = estimate_footprint(m, 9, 500, true);
  CHECK(f.molecules == 500 + 1000 * (2 + 3));
  CHECK(f.counts_rows == 101);
  CHECK(f.counts_bytes == 102 * (12 + 4 * 9));  // header + rows: time cell + 9 count cells
  CHECK(f.frames == 11);
  CHECK(f.frame_bytes == 11 * 5500 * 64);
  CHECK(f.checkpoint_bytes == 2 * 5500 * 32);
  CHECK(f.memory_bytes == static_cast<std::uint64_t>(5500 * kBytesPerMoleculeInMemory));

  m.max_molecules = 2000;  // the run stops there, so the estimate does too
  CHECK(estimate_footprint(m, 9, 500, false).molecules == 2000);
  CHECK(estimate_footprint(m, 9, 500, false).checkpoint_bytes == 0);
  m.frame_interval_s = 0;
  CHECK(estimate_footprint(m, 9, 500, false).frames == 0);
}

TEST_CASE("footprint_warnings name the numbers and the field to change") {
  RunFootprint f;
  f.molecules = 1000;
  f.counts_rows = 10;
  f.counts_bytes = 100;
  f.frames = 1000;
  f.frame_bytes = 64'000'000;
  f.memory_bytes = 41'000;
  CHECK(footprint_warnings(f, 1'000'000'000, 1'000'000'000).empty());
  const auto w = footprint_warnings(f, 100'000'000, 60'000);
  REQUIRE(w.size() == 2);
  CHECK(w[0].find("about 64 MB, but only 100 MB are free") != std::string::npos);
  CHECK(w[0].find("output.frame_interval_s") != std::string::npos);
  CHECK(w[1].find("simulation.max_molecules") != std::string::npos);
  CHECK(footprint_warnings(f, 1'000'000'000, 0).empty());  // memory unknown: not checked
  CHECK(format_bytes(999) == "999 B");
  CHECK(format_bytes(12'345'678) == "12.3 MB");
}
