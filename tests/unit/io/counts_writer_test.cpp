// counts.csv is appended (never rewritten) and a checkpoint records only the length
// and CRC-32 of what it saw: the resume rules of CountsWriter, and which checkpoint
// formats decode.
#include "io/counts_writer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/crc32.h"
#include "core/error.h"
#include "engine/simulator.h"
#include "io/checkpoint.h"
#include "support/models.h"
#include "support/temp_dir.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void spit(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("crc32 is the IEEE CRC-32 and extends piecewise") {
  CHECK(crc32("123456789") == 0xCBF43926u);  // the standard check value
  CHECK(crc32("") == 0u);
  CHECK(crc32_extend(crc32("12345"), "6789") == crc32("123456789"));
}

TEST_CASE("CountsWriter appends rows, and a resume continues only the rows its checkpoint saw") {
  TempDir dir("spinesim_counts");
  const Model m = single_species_model(split_box(), "A", false, 1.0, 1e-6, 1);
  Simulator sim(m, std::make_unique<SerialStepper>());
  const auto file = dir.path / "counts.csv";

  CountsPrefix seen;
  {
    CountsWriter w(m, file);
    w.observe(0, sim);
    w.flush();
    seen = w.on_disk();
  }
  const std::string at_checkpoint = slurp(file);
  CHECK(at_checkpoint.rfind("time_s,A@", 0) == 0);
  CHECK(std::count(at_checkpoint.begin(), at_checkpoint.end(), '\n') == 2);  // header and one row
  CHECK(seen.bytes == at_checkpoint.size());
  CHECK(seen.crc32 == crc32(at_checkpoint));

  SUBCASE("rows written after the checkpoint are cut, then new rows follow") {
    spit(file, at_checkpoint + "0.5,99\n");
    CountsWriter w(m, file, seen);
    CHECK(slurp(file) == at_checkpoint);
    w.observe(0.5, sim);
    w.flush();
    const std::string now = slurp(file);
    CHECK(now.substr(0, at_checkpoint.size()) == at_checkpoint);
    CHECK(now.substr(at_checkpoint.size()).rfind("0.5,", 0) == 0);
    CHECK(w.on_disk().bytes == now.size());
    CHECK(w.on_disk().crc32 == crc32(now));
  }
  SUBCASE("a changed row is refused and the file left as it is") {
    std::string changed = at_checkpoint;
    changed[changed.size() - 2] = changed[changed.size() - 2] == '0' ? '1' : '0';
    spit(file, changed);
    CHECK(error_of([&] { CountsWriter w(m, file, seen); }).find("was changed after the checkpoint") !=
          std::string::npos);
    CHECK(slurp(file) == changed);
  }
  SUBCASE("a cut file is refused, naming both lengths") {
    spit(file, at_checkpoint.substr(0, 10));
    const std::string e = error_of([&] { CountsWriter w(m, file, seen); });
    CHECK(e.find("has 10 bytes, fewer than the " + std::to_string(seen.bytes)) != std::string::npos);
    CHECK(slurp(file) == at_checkpoint.substr(0, 10));
  }
  SUBCASE("a missing file is refused") {
    std::filesystem::remove(file);
    CHECK(error_of([&] { CountsWriter w(m, file, seen); }).find(file.string() + " is missing") != std::string::npos);
    CHECK(!std::filesystem::exists(file));
  }
  SUBCASE("a format-2 checkpoint's text is written back whole") {
    spit(file, "junk");
    CountsWriter w(m, file, at_checkpoint);
    CHECK(slurp(file) == at_checkpoint);
    CHECK(w.on_disk().bytes == seen.bytes);
    CHECK(w.on_disk().crc32 == seen.crc32);
  }
  SUBCASE("a fresh writer replaces a symbolic link instead of writing through it") {
    const auto target = dir.path / "elsewhere.csv";
    spit(target, "keep me");
    std::filesystem::remove(file);
    std::filesystem::create_symlink(target, file);
    CountsWriter w(m, file);
    CHECK(slurp(target) == "keep me");
    CHECK(!std::filesystem::is_symlink(file));
  }
}

TEST_CASE("checkpoints of formats 2 and 3 decode; others are refused naming the versions") {
  Checkpoint cp;
  cp.program_version = "test";
  cp.number = 4;
  cp.counts_bytes = 1234;
  cp.counts_crc32 = 0xDEADBEEFu;
  const Checkpoint back = decode_checkpoint(encode_checkpoint(cp), "c.pb");
  CHECK(back.counts_bytes == 1234);
  CHECK(back.counts_crc32 == 0xDEADBEEFu);
  cp.counts_bytes = 0;
  cp.counts_crc32 = 0;
  cp.counts_csv = "time_s\n0\n";
  CHECK(decode_checkpoint(encode_checkpoint(cp, 2), "c.pb").counts_csv == "time_s\n0\n");
  for (std::uint32_t v : {1u, 4u}) {
    try {
      decode_checkpoint(encode_checkpoint(cp, v), "c.pb");
      FAIL("version " << v << " accepted");
    } catch (const CheckpointVersionError& e) {
      CHECK(std::string(e.what()).find("reads versions 2 to 3") != std::string::npos);
    }
  }
}
