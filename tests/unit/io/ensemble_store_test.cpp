// The ensemble's storage: the replicate journal (appends from many threads; a record
// cut short at any byte, or with a changed byte, is never read as finished; trimming
// makes the journal appendable again) and ensemble.nc (what is written reads back,
// and the statistics and summaries stored are those computed from the replicates).
#include "io/ensemble_store.h"

#include <doctest/doctest.h>
#include <netcdf.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace spinesim;
namespace fs = std::filesystem;

namespace {

ReplicateRecord record(std::uint64_t point, std::uint64_t replicate, std::size_t times = 4, std::size_t columns = 3) {
  ReplicateRecord r;
  r.point = point;
  r.replicate = replicate;
  r.seed = replicate_seed(7, replicate);
  r.brownian_steps = 100 + replicate;
  r.events = 10 * replicate + point;
  r.reactions = replicate;
  r.columns = columns;
  for (std::size_t k = 0; k < times; ++k) {
    r.times.push_back(0.5 * static_cast<double>(k));
    for (std::size_t c = 0; c < columns; ++c)
      r.values.push_back(static_cast<double>((replicate + 1) * (k + 1) * (c + 2) % 17) + (c == 2 ? 0.25 : 0.0));
  }
  return r;
}

void same(const ReplicateRecord& a, const ReplicateRecord& b) {
  CHECK(a.point == b.point);
  CHECK(a.replicate == b.replicate);
  CHECK(a.seed == b.seed);
  CHECK(a.brownian_steps == b.brownian_steps);
  CHECK(a.events == b.events);
  CHECK(a.reactions == b.reactions);
  CHECK(a.columns == b.columns);
  CHECK(a.times == b.times);
  CHECK(a.values == b.values);
}

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("spinesim_store_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  const fs::path f = d / name;
  fs::remove(f);
  return f;
}

}  // namespace

TEST_CASE("journal: records appended from several threads all read back") {
  const fs::path f = scratch("threads.journal");
  {
    ReplicateJournal journal(f);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (std::uint64_t r = static_cast<std::uint64_t>(t); r < 40; r += 4) journal.append(record(1, r));
      });
    for (auto& t : threads) t.join();
  }
  const JournalIndex index = scan_journal(f);
  CHECK(index.offsets.size() == 40);
  CHECK(index.valid_bytes == index.file_bytes);
  for (std::uint64_t r = 0; r < 40; ++r) {
    REQUIRE(index.offsets.count({1, r}) == 1);
    same(read_journal_record(f, index.offsets.at({1, r})), record(1, r));
  }
}

TEST_CASE("journal: a record cut short at any byte is not a finished replicate") {
  const fs::path f = scratch("torn.journal");
  const std::string first = encode_journal_record(record(0, 0)) + encode_journal_record(record(0, 1));
  const std::string last = encode_journal_record(record(0, 2));
  for (std::size_t cut = 0; cut < last.size(); ++cut) {
    std::ofstream(f, std::ios::binary | std::ios::trunc) << first << last.substr(0, cut);
    const JournalIndex index = scan_journal(f);
    CHECK(index.offsets.size() == 2);
    CHECK(index.valid_bytes == first.size());
    CHECK(index.offsets.count({0, 2}) == 0);
  }
  // A changed byte anywhere in the last record ends the journal before it: in the
  // header it breaks the magic, the length or the CRC; in the payload the CRC-32
  // (which detects every error burst of up to 32 bits).
  for (std::size_t at = 0; at < last.size(); ++at) {
    std::string bad = last;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    std::ofstream(f, std::ios::binary | std::ios::trunc) << first << bad;
    CHECK(scan_journal(f).offsets.size() == 2);
  }
}

TEST_CASE("journal: trimming drops the torn tail and appending goes on after it") {
  const fs::path f = scratch("trim.journal");
  const std::string last = encode_journal_record(record(0, 2));
  std::ofstream(f, std::ios::binary | std::ios::trunc)
      << encode_journal_record(record(0, 0)) << encode_journal_record(record(0, 1)) << last.substr(0, 37);
  CHECK(trim_journal(f) == 37);
  CHECK(trim_journal(f) == 0);
  ReplicateJournal(f).append(record(0, 2));
  const JournalIndex index = scan_journal(f);
  CHECK(index.offsets.size() == 3);
  same(read_journal_record(f, index.offsets.at({0, 2})), record(0, 2));
}

TEST_CASE("ensemble.nc: replicates, layout and statistics read back") {
  const fs::path f = scratch("ensemble.nc");
  EnsembleLayout layout;
  layout.base_seed = 7;
  layout.replicates = 5;
  layout.sweep_fields = {"release[0].count"};
  layout.sweep_values = {{"500"}, {"1e3"}};
  layout.resolved_scenes = {"simulation { seed: 7 }\n", "simulation { seed: 7 } # point 1\n"};
  // A '/' is not allowed in a NetCDF name: the variable is renamed, the column kept.
  layout.columns = {"A@box", "clamp:glu/x_uM", "B.current_pA"};
  layout.units = {"count", "µM", "pA"};
  layout.integer_columns = {true, false, false};
  layout.times = {record(0, 0).times, record(1, 0).times};
  layout.command_line = "spinesim ensemble test";
  std::vector<EnsembleStats> stats(2);
  {
    EnsembleFileWriter writer(f, layout);
    for (std::uint64_t p = 0; p < 2; ++p) {
      for (std::uint64_t r = 0; r < 5; ++r) {
        writer.put_replicate(record(p, r));
        stats[p].add(record(p, r).table(layout.columns), "test");
      }
      writer.put_stats(p, stats[p]);
    }
    writer.close();
  }
  const EnsembleFileReader reader(f);
  const EnsembleLayout& l = reader.layout();
  CHECK(l.base_seed == 7);
  CHECK(l.replicates == 5);
  CHECK(l.columns == layout.columns);
  CHECK(l.units == layout.units);
  CHECK(l.integer_columns == layout.integer_columns);
  CHECK(l.sweep_fields == layout.sweep_fields);
  CHECK(l.sweep_values == layout.sweep_values);
  CHECK(l.resolved_scenes == layout.resolved_scenes);
  CHECK(l.times == layout.times);
  CHECK(l.command_line == layout.command_line);
  for (std::uint64_t p = 0; p < 2; ++p)
    for (std::uint64_t r = 0; r < 5; ++r) same(reader.replicate(p, r), record(p, r));

  // What the file says besides the replicates, read as any NetCDF client would.
  int nc, var;
  REQUIRE(nc_open(f.c_str(), NC_NOWRITE, &nc) == NC_NOERR);
  REQUIRE(nc_inq_varid(nc, "stats_mean", &var) == NC_NOERR);
  const std::size_t at[3] = {1, 3, 2};  // point 1, time 3, column B.current_pA
  double mean = 0;
  REQUIRE(nc_get_var1_double(nc, var, at, &mean) == NC_NOERR);
  CHECK(mean == stats[1].at(3, 2).mean());
  REQUIRE(nc_inq_varid(nc, "peak:A@box", &var) == NC_NOERR);
  const std::size_t pr[2] = {0, 4};
  double peak = 0;
  REQUIRE(nc_get_var1_double(nc, var, pr, &peak) == NC_NOERR);
  CHECK(peak == summarize_replicate(record(0, 4).table(layout.columns))[0].peak);
  std::size_t len = 0;
  REQUIRE(nc_inq_varid(nc, "clamp:glu_x_uM", &var) == NC_NOERR);
  REQUIRE(nc_inq_attlen(nc, var, "units", &len) == NC_NOERR);
  std::string units(len, '\0');
  REQUIRE(nc_get_att_text(nc, var, "units", units.data()) == NC_NOERR);
  CHECK(units == "µM");
  REQUIRE(nc_inq_varid(nc, "release[0].count", &var) == NC_NOERR);
  double swept = 0;
  const std::size_t p1[1] = {1};
  REQUIRE(nc_get_var1_double(nc, var, p1, &swept) == NC_NOERR);
  CHECK(swept == 1000.0);
  nc_close(nc);
  fs::remove_all(f.parent_path());
}
