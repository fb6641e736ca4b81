// Ensemble statistics: replicate seeds, streaming moments (Welford) and streaming
// quantiles (P², Jain & Chlamtac 1985), and the table of per-time statistics of
// every counts.csv column that `spinesim ensemble` writes as stats.csv.
//
// Memory does not grow with the number of replicates: each (time, column) cell
// keeps 3 moments, min/max and 5 P² estimators of 5 markers each. Values must be
// fed in a fixed order (replicate 0, 1, 2, …) for the output to be reproducible
// byte for byte; both algorithms are deterministic for a given order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace spinesim {

/// Seed of replicate `r` of an ensemble with base seed `base`: the first two words
/// of Philox4x32-10 with key = base (low, high 32 bits) and counter
/// (r mod 2^32, r / 2^32, 0x454E5345 "ENSE", 0), as (word1 << 32) | word0. A pure
/// function of (base, r), so replicate r is the same run on any machine, rank or
/// thread; distinct r give distinct seeds (Philox is a bijection of the counter).
std::uint64_t replicate_seed(std::uint64_t base, std::uint64_t r);

/// One quantile by the P² algorithm (Jain & Chlamtac, CACM 28:1076, 1985): five
/// markers whose heights are adjusted by piecewise-parabolic interpolation. Exact
/// (type-7 linear interpolation of the sorted sample) while n ≤ 5; afterwards an
/// estimate, typically within a few percent of the inter-quartile range for smooth
/// distributions (tests/unit/io/ensemble_stats_test.cpp checks normal and Poisson
/// samples). On integer data the estimate need not be an integer.
class P2Quantile {
 public:
  explicit P2Quantile(double p = 0.5);
  void add(double x);
  double value() const;
  std::uint64_t count() const { return n_; }

 private:
  double p_;
  std::uint64_t n_ = 0;
  std::array<double, 5> q_{};     ///< marker heights (the first observations until n = 5)
  std::array<double, 5> pos_{};   ///< actual marker positions (1-based)
  std::array<double, 5> want_{};  ///< desired marker positions
  std::array<double, 5> step_{};  ///< increments of the desired positions
};

/// Streaming summary of one observable: count, mean and variance by Welford's
/// algorithm, min, max, and the 5, 25, 50, 75 and 95 % quantiles by P².
class RunningStats {
 public:
  static constexpr std::array<double, 5> kQuantiles = {0.05, 0.25, 0.5, 0.75, 0.95};
  RunningStats();
  void add(double x);
  std::uint64_t n() const { return n_; }
  double mean() const { return mean_; }
  /// Sample variance (divisor n − 1); 0 for n < 2.
  double variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0.0; }
  double sd() const;
  double sem() const;
  double cv() const;    ///< SD / mean; NaN when the mean is 0
  double fano() const;  ///< variance / mean; NaN when the mean is 0
  double min() const { return min_; }
  double max() const { return max_; }
  /// kQuantiles[k].
  double quantile(std::size_t k) const { return q_[k].value(); }

 private:
  std::uint64_t n_ = 0;
  double mean_ = 0, m2_ = 0, min_ = 0, max_ = 0;
  std::array<P2Quantile, 5> q_;
};

/// A counts.csv read back: the time column (as written, and as numbers) and one
/// row of values per time.
struct CountsTable {
  std::vector<std::string> columns;  ///< without time_s
  std::vector<std::string> time_text;
  std::vector<double> times;
  std::vector<std::vector<double>> rows;  ///< [time][column]
};

/// Parses counts.csv text (header `time_s,...`); lines starting with '#' are
/// skipped. Throws std::runtime_error naming `what` on a malformed table.
CountsTable parse_counts_csv(const std::string& text, const std::string& what);

/// What summary.csv reports of one replicate's trajectory, per column: the final
/// value, the peak (maximum), the first time it is reached, and the time integral by
/// the trapezoid rule over the output times (column unit · s) — what an experimenter
/// measures of one trial (e.g. open AMPARs at peak, Ca²⁺ charge).
struct ColumnSummary {
  double final_value = 0, peak = 0, t_peak_s = 0, integral = 0;
};
/// One ColumnSummary per column of `t` (empty table: zeros).
std::vector<ColumnSummary> summarize_replicate(const CountsTable& t);
/// summary.csv's header cells for `columns`: final:C, peak:C, t_peak_s:C, integral_s:C
/// for each column C in turn, comma-separated, no leading comma.
std::string replicate_summary_header(const std::vector<std::string>& columns);

/// Per-(time, column) RunningStats over replicates of one sweep point.
class EnsembleStats {
 public:
  /// Header of stats.csv after the leading sweep-point columns.
  static const char* kHeader;
  /// Adds one replicate; the first fixes the columns and times, later ones must match
  /// (std::runtime_error naming `what` otherwise).
  void add(const CountsTable& t, const std::string& what);
  std::uint64_t replicates() const { return replicates_; }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<double>& times() const { return times_; }
  const RunningStats& at(std::size_t time, std::size_t column) const { return cells_[time * columns_.size() + column]; }
  /// stats.csv rows for this point: `prefix` (e.g. "0,500," for point 0 with one
  /// sweep value) then time_s, observable, n, mean, sd, sem, cv, fano, min, q05,
  /// q25, median, q75, q95, max, numbers with 9 significant digits.
  std::string csv_rows(const std::string& prefix) const;

 private:
  std::uint64_t replicates_ = 0;
  std::vector<std::string> columns_, time_text_;
  std::vector<double> times_;
  std::vector<RunningStats> cells_;
};

/// A number with 9 significant digits ("nan" for NaN), identical on every platform.
std::string format_stat(double x);

}  // namespace spinesim
