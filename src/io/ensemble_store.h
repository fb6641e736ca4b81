// Where `spinesim ensemble` keeps its results: one NetCDF-4 file per ensemble
// (ensemble.nc, HDF5 underneath) instead of two small files per replicate, and,
// while replicates still run, an append-only journal per writing process.
//
// Why a journal and not the NetCDF file itself while running: HDF5 promises nothing
// about a file that was open for writing when its process died (its metadata may be
// half flushed, and then the whole file is unreadable, finished replicates with it).
// A journal record is appended with one write() and made durable with fdatasync()
// before the replicate counts as finished; a record cut short by a kill, or with a
// wrong CRC, ends the journal for the reader, so a torn record is never taken for a
// finished replicate. When every replicate is in, ensemble.nc is written beside its
// final name, synced and renamed over it, and only then are the journals removed.
// The file layout is documented in docs/outputs.md ("Ensemble file").
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "io/ensemble_stats.h"

namespace spinesim {

/// One finished replicate: its identity, cost and counts table. Values are those
/// counts.csv holds (counts exact; currents, ions and concentrations to the 9
/// significant digits counts.csv writes), so statistics from the file and from the
/// CSV export agree to the last digit.
struct ReplicateRecord {
  std::uint64_t point = 0, replicate = 0, seed = 0;
  std::uint64_t brownian_steps = 0, events = 0, reactions = 0;
  std::uint64_t columns = 0;   ///< values per output time
  std::vector<double> times;   ///< output times, s
  std::vector<double> values;  ///< [time * columns + column]
  /// The record as a counts table with these column names.
  CountsTable table(const std::vector<std::string>& names) const;
};

/// Appends finished replicates to one journal file; safe to call from many threads.
/// The file is opened for appending (created if missing); a torn tail must have been
/// cut off first (trim_journal), as the ensemble's setup does for every journal.
class ReplicateJournal {
 public:
  explicit ReplicateJournal(std::filesystem::path file);
  ~ReplicateJournal();
  ReplicateJournal(const ReplicateJournal&) = delete;
  ReplicateJournal& operator=(const ReplicateJournal&) = delete;
  /// Returns once the record is on disk (write + fdatasync). Throws IoError.
  void append(const ReplicateRecord& record);

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  std::mutex mutex_;
};

/// Where each complete record of a journal starts, by (point, replicate).
struct JournalIndex {
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> offsets;
  std::uint64_t valid_bytes = 0;  ///< length of the prefix of complete, CRC-checked records
  std::uint64_t file_bytes = 0;
};
/// Reads a journal from its start up to the first record that is short, has a bad
/// header or a bad CRC (a replicate being written when its process was killed).
JournalIndex scan_journal(const std::filesystem::path& file);
/// Cuts a journal back to its complete records; returns how many bytes went.
std::uint64_t trim_journal(const std::filesystem::path& file);
/// The record at `offset` (from scan_journal). Throws IoError if it does not check.
ReplicateRecord read_journal_record(const std::filesystem::path& file, std::uint64_t offset);
/// Record bytes as appended (exposed for the tests of torn records).
std::string encode_journal_record(const ReplicateRecord& record);

/// What ensemble.nc describes besides the replicates.
struct EnsembleLayout {
  std::uint64_t base_seed = 0;
  std::uint64_t replicates = 0;
  std::vector<std::string> sweep_fields;               ///< schema paths, one per axis
  std::vector<std::vector<std::string>> sweep_values;  ///< [point][axis] as given on the command line
  std::vector<std::string> resolved_scenes;            ///< [point]
  std::vector<std::string> columns;                    ///< counts.csv columns (without time_s)
  std::vector<std::string> units;                      ///< [column]
  std::vector<bool> integer_columns;                   ///< [column]: counts (exact integers)
  std::vector<std::vector<double>> times;              ///< [point] output times, s
  std::string command_line;
  std::size_t points() const { return resolved_scenes.size(); }
};

/// Writes ensemble.nc in one pass: the layout at construction, then every replicate
/// of a point followed by that point's statistics, points in order. close() (or the
/// destructor) completes the file; write to a temporary name and rename it.
class EnsembleFileWriter {
 public:
  EnsembleFileWriter(const std::filesystem::path& file, const EnsembleLayout& layout);
  ~EnsembleFileWriter();
  EnsembleFileWriter(const EnsembleFileWriter&) = delete;
  EnsembleFileWriter& operator=(const EnsembleFileWriter&) = delete;
  void put_replicate(const ReplicateRecord& record);
  void put_stats(std::uint64_t point, const EnsembleStats& stats);
  void close();

 private:
  struct Ids;
  std::filesystem::path file_;
  EnsembleLayout layout_;
  int nc_ = -1;
  Ids* ids_ = nullptr;
};

/// Reads ensemble.nc back (for the CSV export and to extend an ensemble with more
/// replicates). Throws IoError naming the file for anything it cannot read.
class EnsembleFileReader {
 public:
  explicit EnsembleFileReader(const std::filesystem::path& file);
  ~EnsembleFileReader();
  EnsembleFileReader(const EnsembleFileReader&) = delete;
  EnsembleFileReader& operator=(const EnsembleFileReader&) = delete;
  const EnsembleLayout& layout() const { return layout_; }
  ReplicateRecord replicate(std::uint64_t point, std::uint64_t replicate) const;

 private:
  std::filesystem::path file_;
  EnsembleLayout layout_;
  int nc_ = -1;
};

}  // namespace spinesim
