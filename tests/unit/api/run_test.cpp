// The run API: pausing anywhere changes nothing, and the counts it records are the
// bytes `spinesim run` writes (checked against the stored reference runs).
#include "api/run.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "io/counts_writer.h"

namespace spinesim {
namespace {

std::string scene_path(const std::string& name) {
  return std::string(SPINESIM_SOURCE_DIR) + "/scenes/" + name + ".pbtxt";
}

/// The recorded rows formatted as counts.csv (one home for the format: CountColumns
/// says which columns are integers; physical quantities use format_time).
std::string as_csv(const api::Run& run) {
  CountColumns columns(run.model());
  std::string text = "time_s";
  for (const auto& c : run.count_columns()) text += "," + c;
  text += "\n";
  for (const auto& row : run.count_rows()) {
    text += format_time(row[0]);
    for (std::size_t k = 1; k < row.size(); ++k)
      text += "," + (columns.is_integer(k - 1) ? std::to_string(static_cast<long long>(row[k])) : format_time(row[k]));
    text += "\n";
  }
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("run API: counts equal the CLI's reference counts.csv, whole or advanced in pieces") {
  struct Case {
    const char* scene;
    std::uint64_t seed;
    double t_end;
    int threads;
    const char* reference;
  };
  for (const Case& c : {Case{"spine_glutamate", 7, 0.002, 1, "spine_glutamate_seed7"},
                        Case{"spine_glutamate", 7, 0.002, 2, "spine_glutamate_seed7"},
                        Case{"minis_quiet", 3, 0.02, 1, "minis_quiet_seed3"},
                        Case{"ketamine_spine", 5, 2, 1, "ketamine_spine_seed5"}}) {
    CAPTURE(c.scene);
    CAPTURE(c.threads);
    const std::string want =
        read_file(std::string(SPINESIM_TEST_DATA_DIR) + "/reference/" + c.reference + "/counts.csv");
    REQUIRE(!want.empty());
    api::RunOptions options;
    options.seed = c.seed;
    options.t_end_s = c.t_end;
    options.threads = c.threads;

    auto whole = api::Run::from_file(scene_path(c.scene), options);
    whole.run_to_end();
    CHECK(whole.finished());
    CHECK(as_csv(whole) == want);

    // Paused at odd times and step counts, including inside steps and before t = 0 events.
    auto pieces = api::Run::from_file(scene_path(c.scene), options);
    // (The ketamine scene has no diffusing molecule in its first 2 s: there
    // advance_steps would run to the end, as documented, so it only pauses by time.)
    const bool diffuses = std::string(c.scene) != "ketamine_spine";
    CHECK_FALSE(pieces.advance_to(0.0));
    if (diffuses) CHECK_FALSE(pieces.advance_steps(3));
    CHECK_FALSE(pieces.advance_to(c.t_end * 0.37));
    CHECK(pieces.time() <= c.t_end * 0.37);
    if (diffuses) CHECK_FALSE(pieces.advance_steps(11));
    CHECK_FALSE(pieces.advance_to(c.t_end * 0.5 + 1.3e-7));
    CHECK(pieces.advance_to(c.t_end * 2));
    CHECK(pieces.time() == c.t_end);
    CHECK(as_csv(pieces) == want);
    const Snapshot a = whole.snapshot(), b = pieces.snapshot();
    CHECK(a.positions == b.positions);
    CHECK(a.state == b.state);
    CHECK(a.ids == b.ids);
  }
}

TEST_CASE("run API: advance_steps takes exactly that many Brownian steps while molecules diffuse") {
  api::RunOptions options;
  options.seed = 7;
  options.t_end_s = 0.002;
  auto run = api::Run::from_file(scene_path("spine_glutamate"), options);
  run.advance_steps(25);
  CHECK(run.stats().steps == 25);
  run.advance_steps(40);
  CHECK(run.stats().steps == 65);
  CHECK(run.time() == doctest::Approx(65 * run.model().dt_s).epsilon(1e-9));
}

TEST_CASE("run API: bad scenes and options are InputErrors naming the problem") {
  CHECK_THROWS_AS(api::Run::from_file(scene_path("no_such_scene")), InputError);
  try {
    api::Run::from_text("species { name: \"a\" diffusion_um2_per_s: -1 }\n", "inline.pbtxt");
    FAIL("accepted a negative diffusion coefficient");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("diffusion") != std::string::npos);
  }
  api::RunOptions bad;
  bad.threads = 0;
  CHECK_THROWS_AS(api::Run::from_file(scene_path("minis_quiet"), bad), InputError);
  api::RunOptions typo;
  typo.set = {"simulation.sede=3"};
  CHECK_THROWS_AS(api::Run::from_file(scene_path("minis_quiet"), typo), InputError);
}

}  // namespace spinesim

namespace spinesim {
TEST_CASE("run API: a pool-heavy run paused 29 times equals the uninterrupted run") {
  // The well-mixed pools run on between events; a pause must stop them at the limit
  // and continue with the same candidate, or counts would differ.
  api::RunOptions options;
  options.seed = 11;
  options.t_end_s = 20;
  auto whole = api::Run::from_file(scene_path("ketamine_spine"), options);
  whole.run_to_end();
  auto pieces = api::Run::from_file(scene_path("ketamine_spine"), options);
  for (int k = 1; k < 30; ++k) {
    pieces.advance_to(0.6897 * k);
    CHECK(pieces.time() <= 0.6897 * k);
  }
  pieces.run_to_end();
  CHECK(whole.stats().pool_reactions > 100000);
  CHECK(pieces.stats().pool_reactions == whole.stats().pool_reactions);
  CHECK(as_csv(pieces) == as_csv(whole));
}
}  // namespace spinesim

namespace spinesim {
TEST_CASE("run API: checkpoint bytes continue the run exactly, and bad bytes are refused") {
  api::RunOptions options;
  options.seed = 7;
  options.t_end_s = 0.002;
  options.threads = 2;
  auto whole = api::Run::from_file(scene_path("spine_glutamate"), options);
  whole.run_to_end();
  auto first = api::Run::from_file(scene_path("spine_glutamate"), options);
  first.advance_to(0.00071);
  const std::string bytes = first.checkpoint();
  auto second = api::Run::from_checkpoint(bytes, "mem.ckpt");
  CHECK(second.threads() == 2);
  CHECK(second.time() == first.time());
  CHECK(second.count_rows() == first.count_rows());
  second.run_to_end();
  first.run_to_end();
  CHECK(as_csv(second) == as_csv(whole));
  CHECK(second.count_rows() == whole.count_rows());
  CHECK(second.snapshot().positions == whole.snapshot().positions);
  // A pool-heavy run saved mid-way, too.
  api::RunOptions pools;
  pools.seed = 3;
  pools.t_end_s = 10;
  auto k_whole = api::Run::from_file(scene_path("ketamine_spine"), pools);
  k_whole.run_to_end();
  auto k_first = api::Run::from_file(scene_path("ketamine_spine"), pools);
  k_first.advance_to(4.2);
  auto k_second = api::Run::from_checkpoint(k_first.checkpoint(), "k.ckpt");
  k_second.run_to_end();
  CHECK(as_csv(k_second) == as_csv(k_whole));
  // Truncated or altered bytes fail the checksum and say so.
  CHECK_THROWS_AS(api::Run::from_checkpoint(bytes.substr(0, bytes.size() / 2), "half.ckpt"), IoError);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x20;
  CHECK_THROWS_AS(api::Run::from_checkpoint(flipped, "flipped.ckpt"), IoError);
}
}  // namespace spinesim

namespace spinesim {
TEST_CASE("run API: ambient glutamate (backgrounds) resumes exactly from checkpoint bytes and on 2 threads") {
  api::RunOptions options;
  options.seed = 5;
  options.t_end_s = 30;
  options.threads = 1;
  auto whole = api::Run::from_file(scene_path("ketamine_spine_ambient"), options);
  whole.run_to_end();
  options.threads = 2;
  auto first = api::Run::from_file(scene_path("ketamine_spine_ambient"), options);
  first.advance_to(12.3);
  auto second = api::Run::from_checkpoint(first.checkpoint(), "ambient.ckpt");
  second.run_to_end();
  CHECK(as_csv(second) == as_csv(whole));
  // The background is seen: the last row counts NMDAR bindings of ambient glutamate.
  const auto& names = whole.count_columns();
  const auto column = std::find(names.begin(), names.end(), "NMDAR.ambient_bindings");
  REQUIRE(column != names.end());
  CHECK(whole.count_rows().back()[1 + static_cast<std::size_t>(column - names.begin())] > 0);
}
}  // namespace spinesim
