// counts.csv: one row per output time, one column per species × compartment (volume
// species) or species × region (membrane species), agent states, open channels,
// currents and Ca2+ influx, then cumulative absorbed and crossed counts per region.
// The format is documented in docs/outputs.md.
#pragma once

#include <chrono>
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

class CountsWriter final : public Observer {
 public:
  /// `file` is (re)written atomically; the previous content stays valid until then.
  /// With `resume_text`, continues a run whose counts.csv text so far it is.
  CountsWriter(const Model& model, std::filesystem::path file, const std::string* resume_text = nullptr);
  void observe(double time_s, const Simulator& sim) override;
  /// Writes everything so far to disk (also done every few seconds of wall time).
  void flush();
  const std::vector<std::string>& columns() const { return columns_.names(); }
  /// The whole counts.csv text so far (for checkpoints).
  const std::string& text() const { return text_; }

 private:
  const Model& model_;
  std::filesystem::path file_;
  CountColumns columns_;
  std::vector<double> row_;
  std::string text_;
  std::chrono::steady_clock::time_point last_flush_;
};

/// Formats a time in s with 9 significant digits, identically on every platform.
std::string format_time(double t);

}  // namespace spinesim
