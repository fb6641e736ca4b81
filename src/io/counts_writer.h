// counts.csv: one row per output time, one column per species × compartment (volume
// species) or species × region (membrane species), agent states, open channels,
// currents and Ca2+ influx, then cumulative absorbed and crossed counts per region.
// The format is documented in docs/outputs.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/simulator.h"

namespace spinesim {

/// The columns of counts.csv and their values at an output time: one definition for
/// the file, the run API and the Python package.
class CountColumns {
 public:
  explicit CountColumns(const Model& model);
  const std::vector<std::string>& names() const { return names_; }
  /// Whether a column holds counts (integers, exact in a double below 2⁵³) rather than
  /// a physical quantity (current, ions, concentration).
  bool is_integer(std::size_t column) const;
  /// The unit of a column: "count", "pA", "ions (cumulative)" or "µM".
  const char* unit(std::size_t column) const;
  /// Values at `time_s` in names() order (`out` is resized).
  void values(double time_s, const Simulator& sim, std::vector<double>& out) const;

 private:
  struct Column {
    enum Kind {
      kVolume,
      kMembrane,
      kAbsorbed,
      kCrossedIn,
      kCrossedOut,
      kAgentState,
      kOpen,
      kCurrent,
      kCaIons,
      kPool,
      kClamp,
      kAmbientBindings,
      kBackground
    } kind;
    int species, place;  // place = compartment or region
  };
  const Model& model_;
  std::vector<Column> spec_;
  std::size_t max_states_ = 1;
  std::vector<std::string> names_;
};

/// How much of counts.csv a checkpoint saw: its length and the CRC-32 of those bytes.
/// A resume checks the file against it and continues from there.
struct CountsPrefix {
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
};

/// Appends counts.csv rows as they come (a run of many rows costs linear time: the file
/// is never rewritten). Rows reach the disk (fsync) every few seconds of wall time, at
/// t_end and on flush(); a write that fails is cut back, so the file always ends with a
/// whole row.
class CountsWriter final : public Observer {
 public:
  /// Starts `file` afresh with the header row.
  CountsWriter(const Model& model, std::filesystem::path file);
  /// Continues the run whose checkpoint saw `prefix` of `file`: the file must still begin
  /// with those bytes (else IoError saying what changed); rows written after the
  /// checkpoint are cut, since the resumed run writes them again.
  CountsWriter(const Model& model, std::filesystem::path file, const CountsPrefix& prefix);
  /// Continues a run from the whole counts.csv text so far (checkpoints of format 2
  /// carried it): `file` is rewritten with it.
  CountsWriter(const Model& model, std::filesystem::path file, const std::string& text_so_far);
  ~CountsWriter() override;
  CountsWriter(const CountsWriter&) = delete;
  CountsWriter& operator=(const CountsWriter&) = delete;

  void observe(double time_s, const Simulator& sim) override;
  /// Writes the rows not yet on disk and syncs the file. Throws IoError naming the file.
  void flush();
  const std::vector<std::string>& columns() const { return columns_.names(); }
  /// What is on disk after the last flush() (for checkpoints).
  CountsPrefix on_disk() const { return on_disk_; }

 private:
  void open_for_append(bool fresh);
  void append_now(const std::string& bytes);

  const Model& model_;
  std::filesystem::path file_;
  CountColumns columns_;
  std::vector<double> row_;
  std::string pending_;  ///< formatted rows not yet written
  int fd_ = -1;
  CountsPrefix on_disk_;
  std::chrono::steady_clock::time_point last_flush_;
};

/// Formats a time in s with 9 significant digits, identically on every platform.
std::string format_time(double t);
/// counts.csv's header line: time_s and the columns, CSV-quoted where needed.
std::string counts_csv_header(const std::vector<std::string>& columns);
/// A counts.csv cell: counts as integers, physical quantities like format_time.
std::string format_count(double value, bool integer);

}  // namespace spinesim
