#include "io/ensemble_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "core/random.h"
#include "io/csv.h"

namespace spinesim {

std::uint64_t replicate_seed(std::uint64_t base, std::uint64_t r) {
  const auto w = philox4x32({static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(r >> 32), 0x454E5345u, 0u},
                            {static_cast<std::uint32_t>(base), static_cast<std::uint32_t>(base >> 32)});
  return (std::uint64_t{w[1]} << 32) | w[0];
}

// ---- P² -------------------------------------------------------------------

P2Quantile::P2Quantile(double p) : p_(p) {
  step_ = {0, p / 2, p, (1 + p) / 2, 1};
}

void P2Quantile::add(double x) {
  if (n_ < 5) {
    q_[n_++] = x;
    if (n_ == 5) {
      std::sort(q_.begin(), q_.end());
      pos_ = {1, 2, 3, 4, 5};
      want_ = {1, 1 + 2 * p_, 1 + 4 * p_, 3 + 2 * p_, 5};
    }
    return;
  }
  ++n_;
  int k;  // cell holding x: q_[k] <= x < q_[k+1]
  if (x < q_[0]) {
    q_[0] = x;
    k = 0;
  } else if (x >= q_[4]) {
    q_[4] = std::max(q_[4], x);
    k = 3;
  } else {
    k = 0;
    while (k < 3 && x >= q_[k + 1]) ++k;
  }
  for (int i = k + 1; i < 5; ++i) pos_[i] += 1;
  for (int i = 0; i < 5; ++i) want_[i] += step_[i];
  for (int i = 1; i <= 3; ++i) {
    const double d = want_[i] - pos_[i];
    if ((d >= 1 && pos_[i + 1] - pos_[i] > 1) || (d <= -1 && pos_[i - 1] - pos_[i] < -1)) {
      const double s = d >= 0 ? 1.0 : -1.0;
      // Piecewise-parabolic (P²) prediction.
      const double qp = q_[i] + s / (pos_[i + 1] - pos_[i - 1]) *
                                    ((pos_[i] - pos_[i - 1] + s) * (q_[i + 1] - q_[i]) / (pos_[i + 1] - pos_[i]) +
                                     (pos_[i + 1] - pos_[i] - s) * (q_[i] - q_[i - 1]) / (pos_[i] - pos_[i - 1]));
      if (q_[i - 1] < qp && qp < q_[i + 1]) {
        q_[i] = qp;
      } else {  // linear
        const int j = i + static_cast<int>(s);
        q_[i] += s * (q_[j] - q_[i]) / (pos_[j] - pos_[i]);
      }
      pos_[i] += s;
    }
  }
}

double P2Quantile::value() const {
  if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (n_ >= 5) return q_[2];
  std::array<double, 5> v = q_;
  std::sort(v.begin(), v.begin() + static_cast<long>(n_));
  const double h = p_ * static_cast<double>(n_ - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min<std::size_t>(lo + 1, n_ - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// ---- moments --------------------------------------------------------------

RunningStats::RunningStats()
    : q_{P2Quantile(kQuantiles[0]), P2Quantile(kQuantiles[1]), P2Quantile(kQuantiles[2]), P2Quantile(kQuantiles[3]),
         P2Quantile(kQuantiles[4])} {}

void RunningStats::add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
  if (n_ == 1) {
    min_ = max_ = x;
  } else {
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
  }
  for (auto& q : q_) q.add(x);
}

double RunningStats::sd() const {
  return std::sqrt(variance());
}
double RunningStats::sem() const {
  return n_ > 0 ? sd() / std::sqrt(static_cast<double>(n_)) : 0.0;
}
double RunningStats::cv() const {
  return mean_ != 0 ? sd() / mean_ : std::numeric_limits<double>::quiet_NaN();
}
double RunningStats::fano() const {
  return mean_ != 0 ? variance() / mean_ : std::numeric_limits<double>::quiet_NaN();
}

// ---- tables ---------------------------------------------------------------

std::string format_stat(double x) {
  if (std::isnan(x)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", x == 0 ? 0.0 : x);  // no "-0"
  return buf;
}

CountsTable parse_counts_csv(const std::string& text, const std::string& what) {
  CountsTable t;
  std::size_t i = 0, line_no = 0;
  bool header = false;
  while (i < text.size()) {
    auto e = text.find('\n', i);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(i, e - i);
    i = e + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    try {
      cells = split_csv_record(line);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(what + ":" + std::to_string(line_no) + ": " + e.what());
    }
    if (!header) {
      if (cells.empty() || cells[0] != "time_s") throw std::runtime_error(what + ": no time_s header");
      t.columns.assign(cells.begin() + 1, cells.end());
      header = true;
      continue;
    }
    if (cells.size() != t.columns.size() + 1)
      throw std::runtime_error(what + ":" + std::to_string(line_no) + ": expected " +
                               std::to_string(t.columns.size() + 1) + " values");
    std::vector<double> row(t.columns.size());
    for (std::size_t k = 0; k < cells.size(); ++k) {
      char* end = nullptr;
      const double v = std::strtod(cells[k].c_str(), &end);
      if (cells[k].empty() || *end != '\0')
        throw std::runtime_error(what + ":" + std::to_string(line_no) + ": '" + cells[k] + "' is not a number");
      if (k == 0) {
        t.time_text.push_back(cells[0]);
        t.times.push_back(v);
      } else {
        row[k - 1] = v;
      }
    }
    t.rows.push_back(std::move(row));
  }
  if (!header) throw std::runtime_error(what + ": empty table");
  return t;
}

const char* EnsembleStats::kHeader = "time_s,observable,n,mean,sd,sem,cv,fano,min,q05,q25,median,q75,q95,max";

void EnsembleStats::add(const CountsTable& t, const std::string& what) {
  if (replicates_ == 0) {
    columns_ = t.columns;
    time_text_ = t.time_text;
    times_ = t.times;
    cells_.assign(times_.size() * columns_.size(), RunningStats());
  } else if (t.columns != columns_ || t.time_text != time_text_) {
    throw std::runtime_error(what + ": its columns or output times differ from the first replicate's");
  }
  for (std::size_t r = 0; r < t.rows.size(); ++r)
    for (std::size_t c = 0; c < columns_.size(); ++c) cells_[r * columns_.size() + c].add(t.rows[r][c]);
  ++replicates_;
}

std::string EnsembleStats::csv_rows(const std::string& prefix) const {
  std::string out;
  for (std::size_t r = 0; r < times_.size(); ++r)
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const RunningStats& s = at(r, c);
      out += prefix + time_text_[r] + "," + csv_cell(columns_[c]) + "," + std::to_string(s.n());
      for (double v : {s.mean(), s.sd(), s.sem(), s.cv(), s.fano(), s.min(), s.quantile(0), s.quantile(1),
                       s.quantile(2), s.quantile(3), s.quantile(4), s.max()})
        out += "," + format_stat(v);
      out += "\n";
    }
  return out;
}

std::vector<ColumnSummary> summarize_replicate(const CountsTable& t) {
  std::vector<ColumnSummary> out(t.columns.size());
  if (t.rows.empty()) return out;
  for (std::size_t c = 0; c < out.size(); ++c) {
    ColumnSummary& s = out[c];
    s.final_value = t.rows.back()[c];
    s.peak = t.rows[0][c];
    s.t_peak_s = t.times[0];
    for (std::size_t k = 1; k < t.rows.size(); ++k) {
      const double v = t.rows[k][c];
      if (v > s.peak) {
        s.peak = v;
        s.t_peak_s = t.times[k];
      }
      s.integral += 0.5 * (v + t.rows[k - 1][c]) * (t.times[k] - t.times[k - 1]);
    }
  }
  return out;
}

std::string replicate_summary_header(const std::vector<std::string>& columns) {
  std::string h;
  for (const auto& c : columns) {
    if (!h.empty()) h += ",";
    h += csv_cell("final:" + c) + "," + csv_cell("peak:" + c) + "," + csv_cell("t_peak_s:" + c) + "," +
         csv_cell("integral_s:" + c);
  }
  return h;
}

}  // namespace spinesim
