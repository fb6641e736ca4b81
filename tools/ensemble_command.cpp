// `spinesim ensemble`: N replicates of a scene, optionally at every point of a
// parameter sweep, run with oneTBB on one machine or over MPI ranks; each finished
// replicate is appended to a journal and synced (so a rerun resumes), then one
// NetCDF-4 file holds every replicate's counts, per-replicate summaries, statistics,
// resolved scenes and seeds (io/ensemble_store.h); CSV tables and PNG plots on request.
//
// Reproducibility: replicate r of base seed S runs with seed replicate_seed(S, r)
// (src/io/ensemble_stats.h), the same at every sweep point (common random numbers),
// with the serial reference stepper; statistics are computed after all replicates
// have finished by reading them in replicate order, so they do not depend on the
// thread count, the number of ranks or on interruptions.
#include <fcntl.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifdef SPINESIM_WITH_MPI
#include <mpi.h>
#endif

#include "api/run.h"
#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/error.h"
#include "io/counts_writer.h"
#include "io/ensemble_stats.h"
#include "io/ensemble_store.h"
#include "io/run_info.h"
#include "io/scene_loader.h"
#include "io/sweep.h"
#include "tools/cli_args.h"
#include "tools/commands.h"
#include "viz/ensemble_plot.h"

namespace spinesim::cli {

namespace fs = std::filesystem;

namespace {

const char* kHelp =
    R"(usage: spinesim ensemble SCENE --replicates N --out DIR [--threads T] [--seed S]
                         [--sweep FIELD=v1,v2,...]... [--t-end T] [--csv] [--plot-columns C1,C2,...]
                         [--hist-times t1,t2,...] [--no-plots] [--overwrite] [--quiet]

Runs N replicates of SCENE (each single-threaded, with the serial reference stepper)
in parallel, at every point of the sweep, and writes into DIR:
  ensemble.nc            one NetCDF-4 file (HDF5; opens in xarray, netCDF4, h5py):
                         every replicate's counts over time, per-replicate summaries
                         (final value, peak, time of peak, time integral; Brownian
                         steps, events, reactions), the statistics below, the seeds,
                         the sweep and the resolved scene of every point; units as
                         attributes. Layout: docs/outputs.md
  plots/pPPPP_COLUMN.png       mean ± SD over time with 5 replicates drawn
  plots/pPPPP_COLUMN_hist.png  histograms at the --hist-times
  ensemble.json          command line, seeds, replicates, wall time
With --csv, also the CSV tables (`spinesim export-csv DIR` writes them later):
  stats.csv              per point, output time and counts column: n, mean, sd, sem,
                         cv, fano, min, q05, q25, median, q75, q95, max
  summary.csv            one row per replicate: point, sweep values, replicate, seed,
                         Brownian steps, events, reactions, and per column its final
                         value, peak, time of peak (s) and time integral (column·s)
  points.csv             the sweep points
  replicates/pPPPP/rNNNNNN.csv  counts.csv of each replicate

Replicate r uses seed replicate_seed(S, r) (Philox4x32-10 of r keyed by S; see
README), the same at every sweep point. Results do not depend on --threads or on the
number of MPI ranks. Interrupted runs resume: each finished replicate is appended to
DIR/replicates.RANK.journal and synced to disk; rerun the same command and finished
replicates are kept (a larger --replicates extends a finished ensemble). Plots need
an X display (xvfb-run -a). One writer per DIR: a second ensemble or run into DIR is
refused while this one writes (DIR/.spinesim.lock).

Options:
  --replicates N     replicates per sweep point (≥ 1)
  --out DIR          output directory
  --threads T        replicates run at once (default: all cores; per rank under MPI)
  --seed S           base seed (default: the scene's simulation.seed)
  --sweep F=v1,...   a numeric scene field by schema path and its values; repeat for
                     a cartesian product, e.g. --sweep release[0].count=500,1000
                     --sweep simulation.dt_s=1e-6,2e-6
  --t-end T          end time in s, replaces simulation.t_end_s
  --csv              also write the CSV tables and replicates/ (as `export-csv`)
  --plot-columns L   counts columns to plot (default: up to 4 that vary most)
  --hist-times L     output times (s) of the histograms (default: the middle and the end)
  --no-plots         no PNGs
  --overwrite        discard a different ensemble already in DIR
  --quiet            no progress lines

Under MPI (built with SPINESIM_WITH_MPI): mpirun -np R spinesim ensemble ... hands out
replicates dynamically from rank 0; each rank appends to its own journal and rank 0
writes ensemble.nc, so DIR must be on a file system all ranks share.

Example:
  spinesim ensemble scenes/minis_quiet.pbtxt --replicates 100 --out runs/ens --threads 4 \
    --sweep release[0].count=1000,2000
)";

const char* kExportHelp =
    R"(usage: spinesim export-csv ENSEMBLE [--out DIR] [--no-replicates]

Writes the CSV tables of an ensemble from its one file: ENSEMBLE is an ensemble
directory (its ensemble.nc) or the file itself. Into DIR (default: the ensemble's
directory): stats.csv, summary.csv, points.csv and, unless --no-replicates,
replicates/pPPPP/rNNNNNN.csv (each replicate's counts.csv) with
replicates/pPPPP/scene.resolved.pbtxt: the files `spinesim ensemble` wrote before it
kept one file, byte for byte.

Example:
  spinesim export-csv runs/ens --no-replicates     # runs/ens/stats.csv, summary.csv, points.csv
)";

constexpr const char* kFileName = "ensemble.nc";

struct Point {
  std::vector<FieldAssignment> assign;
  LoadedScene scene;
};

struct Task {
  std::uint64_t point = 0, replicate = 0;
};

/// What every replicate needs: the points, the base seed, which columns are exact
/// counts, and where finished replicates go.
struct Job {
  const std::vector<Point>& points;
  std::uint64_t seed;
  std::vector<bool> integer_columns;
  ReplicateJournal& journal;
};

std::string replicate_name(std::uint64_t r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "r%06llu", static_cast<unsigned long long>(r));
  return buf;
}

std::string point_name(std::size_t p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%04zu", p);
  return buf;
}

std::string read_file(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  if (!in) throw IoError("cannot read " + f.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    const auto c = s.find(sep, i);
    out.push_back(s.substr(i, c == std::string::npos ? std::string::npos : c - i));
    if (c == std::string::npos) break;
    i = c + 1;
  }
  return out;
}

/// `value` as counts.csv writes it and reads back: the file and the CSV export then
/// give the same statistics, to the last digit.
double as_written(double value, bool integer) {
  return integer ? value : std::strtod(format_count(value, false).c_str(), nullptr);
}

/// Runs replicate `t` and appends it to the journal: it counts as finished once the
/// journal has it on disk.
void run_replicate(const Job& job, const Task& t) {
  LoadedScene scene = job.points[t.point].scene;
  scene.model.seed = replicate_seed(job.seed, t.replicate);
  ReplicateRecord rec;
  rec.point = t.point;
  rec.replicate = t.replicate;
  rec.seed = scene.model.seed;
  api::Run run = api::Run::from_loaded(std::move(scene), 1);
  run.run_to_end();
  rec.brownian_steps = run.stats().steps;
  rec.events = run.stats().events;
  rec.reactions = run.stats().reactions;
  rec.columns = run.count_columns().size();
  for (const auto& row : run.count_rows()) {
    rec.times.push_back(as_written(row[0], false));
    for (std::size_t c = 0; c < rec.columns; ++c) rec.values.push_back(as_written(row[c + 1], job.integer_columns[c]));
  }
  job.journal.append(rec);
}

/// Progress: a bar with ETA on a terminal, a line every 10 s otherwise.
class Progress {
 public:
  Progress(std::uint64_t todo, std::uint64_t total, bool quiet)
      : todo_(todo),
        total_(total),
        quiet_(quiet),
        tty_(::isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  void tick() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    const auto now = std::chrono::steady_clock::now();
    if (quiet_) return;
    if (done_ < todo_ && std::chrono::duration<double>(now - last_).count() < (tty_ ? 0.2 : 10.0)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
    const double eta = rate > 0 ? static_cast<double>(todo_ - done_) / rate : 0;
    const double frac = todo_ ? static_cast<double>(done_) / static_cast<double>(todo_) : 1.0;
    char line[256];
    if (tty_) {
      std::string bar(30, ' ');
      for (int i = 0; i < static_cast<int>(30 * frac); ++i) bar[static_cast<std::size_t>(i)] = '#';
      std::snprintf(line, sizeof line, "\r  [%s] %llu/%llu replicates  %.1f /s  elapsed %.0f s  ETA %.0f s ",
                    bar.c_str(), static_cast<unsigned long long>(done_ + total_ - todo_),
                    static_cast<unsigned long long>(total_), rate, elapsed, eta);
      std::cerr << line << (done_ == todo_ ? "\n" : "") << std::flush;
    } else {
      std::snprintf(line, sizeof line, "  %llu/%llu replicates (%.1f%%)  %.2f /s  elapsed %.1f s  ETA %.1f s",
                    static_cast<unsigned long long>(done_ + total_ - todo_), static_cast<unsigned long long>(total_),
                    100 * frac, rate, elapsed, eta);
      std::cerr << line << "\n";
    }
  }

 private:
  std::mutex mutex_;
  std::uint64_t todo_, total_, done_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

/// The first exception thrown by a worker; the others stop taking work.
struct Failure {
  std::mutex mutex;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  void set(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!error) error = e;
    failed = true;
  }
};

/// Runs tasks[i] for every i handed out by `next` (an atomic counter) on T threads.
void run_local(const Job& job, const std::vector<Task>& tasks, int threads, std::atomic<std::uint64_t>& next,
               Progress& progress, Failure& failure) {
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, threads, 1),
        [&](const tbb::blocked_range<int>& range) {
          for (int slot = range.begin(); slot != range.end(); ++slot) {
            while (!failure.failed) {
              const std::uint64_t i = next.fetch_add(1);
              if (i >= tasks.size()) break;
              try {
                run_replicate(job, tasks[i]);
                progress.tick();
              } catch (...) {
                failure.set(std::current_exception());
              }
            }
          }
        },
        tbb::simple_partitioner());
  });
}

/// Columns of point 0 to plot: the given list, else up to 4 whose SD at the end is
/// largest (ties: column order).
std::vector<std::size_t> choose_plot_columns(const EnsembleStats& s, const std::vector<std::string>& wanted) {
  std::vector<std::size_t> out;
  if (!wanted.empty()) {
    for (const auto& w : wanted) {
      const auto it = std::find(s.columns().begin(), s.columns().end(), w);
      if (it == s.columns().end()) {
        std::cerr << "spinesim ensemble: --plot-columns: no column '" << w << "' in counts; skipped\n";
        continue;
      }
      out.push_back(static_cast<std::size_t>(it - s.columns().begin()));
    }
    return out;
  }
  std::vector<std::pair<double, std::size_t>> spread;
  for (std::size_t c = 0; c < s.columns().size(); ++c) {
    double var = 0;
    for (std::size_t r = 0; r < s.times().size(); ++r) var = std::max(var, s.at(r, c).sd());
    if (var > 0) spread.push_back({-var, c});
  }
  std::stable_sort(spread.begin(), spread.end(), [](auto a, auto b) { return a.first < b.first; });
  for (std::size_t k = 0; k < spread.size() && k < 4; ++k) out.push_back(spread[k].second);
  std::sort(out.begin(), out.end());
  return out;
}

std::string file_safe(const std::string& s) {
  std::string o = s;
  for (char& c : o)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return o;
}

/// The journals in DIR: replicates.RANK.journal, one per process that ran replicates.
std::vector<fs::path> journals(const fs::path& out) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("replicates.", 0) == 0 && n.size() > 8 && n.compare(n.size() - 8, 8, ".journal") == 0)
      found.push_back(e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

/// Where each finished replicate is: a journal record, else a previous ensemble.nc
/// (an ensemble extended with more replicates), else the two files per replicate of
/// spinesim before ensemble.nc (replicates/pPPPP/rNNNNNN.csv and .meta: an ensemble
/// interrupted under an older version resumes without rerunning them).
class ReplicateSources {
 public:
  ReplicateSources(const fs::path& out, std::vector<std::string> columns) : out_(out), columns_(std::move(columns)) {
    for (const auto& j : journals(out)) {
      const JournalIndex index = scan_journal(j);
      for (const auto& [key, offset] : index.offsets) where_.emplace(key, std::make_pair(j, offset));
    }
    if (fs::exists(out / kFileName)) previous_.emplace(out / kFileName);
  }
  std::uint64_t previous_replicates() const { return previous_ ? previous_->layout().replicates : 0; }
  bool has(std::uint64_t p, std::uint64_t r) const {
    return r < previous_replicates() || where_.count({p, r}) > 0 ||
           (fs::exists(legacy(p, r, ".csv")) && fs::exists(legacy(p, r, ".meta")));
  }
  ReplicateRecord get(std::uint64_t p, std::uint64_t r) const {
    const auto it = where_.find({p, r});
    if (it != where_.end()) return read_journal_record(it->second.first, it->second.second);
    if (r < previous_replicates()) return previous_->replicate(p, r);
    if (fs::exists(legacy(p, r, ".csv")) && fs::exists(legacy(p, r, ".meta"))) return read_legacy(p, r);
    throw IoError("replicate " + std::to_string(r) + " of point " + std::to_string(p) +
                  " is in no journal: was a journal removed while the ensemble ran?");
  }

 private:
  fs::path legacy(std::uint64_t p, std::uint64_t r, const char* ext) const {
    return out_ / "replicates" / point_name(p) / (replicate_name(r) + ext);
  }
  ReplicateRecord read_legacy(std::uint64_t p, std::uint64_t r) const {
    const fs::path csv = legacy(p, r, ".csv"), meta = legacy(p, r, ".meta");
    const CountsTable t = parse_counts_csv(read_file(csv), csv.string());
    const auto lines = split(read_file(meta), '\n');
    const auto cells = split(lines.size() > 1 ? lines[1] : "", ',');
    if (t.columns != columns_ || cells.size() != 4)
      throw IoError(csv.string() +
                    " (or its .meta) does not hold a replicate of this ensemble's columns; "
                    "rerun with --overwrite to start again");
    ReplicateRecord rec;
    rec.point = p;
    rec.replicate = r;
    std::uint64_t* fields[4] = {&rec.seed, &rec.brownian_steps, &rec.events, &rec.reactions};
    for (int k = 0; k < 4; ++k) *fields[k] = std::strtoull(cells[static_cast<std::size_t>(k)].c_str(), nullptr, 10);
    rec.columns = t.columns.size();
    rec.times = t.times;
    for (const auto& row : t.rows) rec.values.insert(rec.values.end(), row.begin(), row.end());
    return rec;
  }
  fs::path out_;
  std::vector<std::string> columns_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<fs::path, std::uint64_t>> where_;
  std::optional<EnsembleFileReader> previous_;
};

/// The statistics of every point, and its first few replicates (for the plots).
struct Aggregate {
  std::vector<EnsembleStats> stats;
  std::vector<std::vector<CountsTable>> first;
};

std::string replicate_what(std::uint64_t p, std::uint64_t r) {
  return "replicate " + std::to_string(r) + " of sweep point " + std::to_string(p);
}

/// Writes DIR/ensemble.nc from every replicate in order (beside it, synced, renamed).
Aggregate write_ensemble_file(const fs::path& out, const EnsembleLayout& layout_without_times,
                              const ReplicateSources& sources) {
  EnsembleLayout layout = layout_without_times;
  for (std::uint64_t p = 0; p < layout.points(); ++p) layout.times.push_back(sources.get(p, 0).times);
  Aggregate agg;
  constexpr std::size_t kTrajectories = 5;
  atomic_write_with(out / kFileName, [&](const fs::path& tmp) {
    EnsembleFileWriter file(tmp, layout);
    agg = Aggregate{};
    for (std::uint64_t p = 0; p < layout.points(); ++p) {
      EnsembleStats stats;
      std::vector<CountsTable> first;
      for (std::uint64_t r = 0; r < layout.replicates; ++r) {
        const ReplicateRecord rec = sources.get(p, r);
        file.put_replicate(rec);
        CountsTable t = rec.table(layout.columns);
        stats.add(t, replicate_what(p, r));
        if (first.size() < kTrajectories) first.push_back(std::move(t));
      }
      file.put_stats(p, stats);
      agg.stats.push_back(std::move(stats));
      agg.first.push_back(std::move(first));
    }
    file.close();
  });
  // The rename must be on disk before the journals it replaces go.
  const int dir = ::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return agg;
}

/// stats.csv, summary.csv, points.csv and (with_replicates) replicates/ from the file,
/// byte for byte what the ensemble wrote before it kept one file.
void export_csv(const EnsembleFileReader& file, const fs::path& dir, bool with_replicates) {
  const EnsembleLayout& l = file.layout();
  std::string fields;
  for (const auto& f : l.sweep_fields) fields += "," + f;
  std::string points_csv = "point" + fields + "\n";
  std::string stats_csv = "point" + fields + "," + EnsembleStats::kHeader + "\n";
  std::string summary = "point" + fields + ",replicate,seed,brownian_steps,events,reactions";
  if (!l.columns.empty()) summary += "," + replicate_summary_header(l.columns);
  summary += "\n";
  for (std::uint64_t p = 0; p < l.points(); ++p) {
    std::string prefix = std::to_string(p) + ",";
    for (const auto& v : l.sweep_values[p]) prefix += v + ",";
    points_csv += prefix.substr(0, prefix.size() - 1) + "\n";
    const fs::path pdir = dir / "replicates" / point_name(p);
    if (with_replicates) {
      fs::create_directories(pdir);
      atomic_write(pdir / "scene.resolved.pbtxt", l.resolved_scenes[p]);
    }
    EnsembleStats stats;
    for (std::uint64_t r = 0; r < l.replicates; ++r) {
      const ReplicateRecord rec = file.replicate(p, r);
      const CountsTable t = rec.table(l.columns);
      stats.add(t, replicate_what(p, r));
      summary += prefix + std::to_string(r) + "," + std::to_string(rec.seed) + "," +
                 std::to_string(rec.brownian_steps) + "," + std::to_string(rec.events) + "," +
                 std::to_string(rec.reactions);
      for (const ColumnSummary& c : summarize_replicate(t))
        summary += "," + format_stat(c.final_value) + "," + format_stat(c.peak) + "," + format_stat(c.t_peak_s) + "," +
                   format_stat(c.integral);
      summary += "\n";
      if (!with_replicates) continue;
      std::string counts = counts_csv_header(l.columns);
      for (std::size_t k = 0; k < rec.times.size(); ++k) {
        counts += format_time(rec.times[k]);
        for (std::size_t c = 0; c < rec.columns; ++c)
          counts += "," + format_count(rec.values[k * rec.columns + c], l.integer_columns[c]);
        counts += "\n";
      }
      atomic_write(pdir / (replicate_name(r) + ".csv"), counts);
    }
    stats_csv += stats.csv_rows(prefix);
  }
  atomic_write(dir / "stats.csv", stats_csv);
  atomic_write(dir / "summary.csv", summary);
  atomic_write(dir / "points.csv", points_csv);
}

void plot_point(const fs::path& out, const EnsembleFileReader& file, std::size_t p, const EnsembleStats& stats,
                const std::vector<CountsTable>& first, const std::vector<std::string>& plot_columns,
                const std::vector<double>& hist_times_wanted) {
  const std::uint64_t replicates = file.layout().replicates;
  // Plots.
  fs::create_directories(out / "plots");
  const auto cols = choose_plot_columns(stats, plot_columns);
  std::vector<std::size_t> hist_rows;
  const auto& times = stats.times();
  std::vector<double> wanted = hist_times_wanted;
  if (wanted.empty()) wanted = {times[times.size() / 2], times.back()};
  for (double w : wanted) {
    std::size_t best = 0;
    for (std::size_t r = 1; r < times.size(); ++r)
      if (std::fabs(times[r] - w) < std::fabs(times[best] - w)) best = r;
    if (std::find(hist_rows.begin(), hist_rows.end(), best) == hist_rows.end()) hist_rows.push_back(best);
  }
  // Histogram bins: integer-wide when the values are counts spanning ≤ 60, else 30 bins.
  struct Bins {
    double lo = 0, width = 1;
    std::size_t n = 1;
    std::vector<std::vector<double>> counts;  // [hist row][bin]
  };
  std::vector<Bins> bins(cols.size());
  for (std::size_t k = 0; k < cols.size(); ++k) {
    double lo = 1e300, hi = -1e300;
    for (std::size_t r : hist_rows) {
      lo = std::min(lo, stats.at(r, cols[k]).min());
      hi = std::max(hi, stats.at(r, cols[k]).max());
    }
    Bins& b = bins[k];
    bool integral = true;
    for (std::size_t r : hist_rows)
      for (double v : {stats.at(r, cols[k]).min(), stats.at(r, cols[k]).max()})
        integral = integral && v == std::floor(v);
    if (integral && hi - lo <= 60) {
      b.lo = lo - 0.5;
      b.width = 1;
      b.n = static_cast<std::size_t>(hi - lo) + 1;
    } else {
      b.lo = lo;
      b.n = 30;
      b.width = hi > lo ? (hi - lo) / 30 : 1;
    }
    b.counts.assign(hist_rows.size(), std::vector<double>(b.n, 0.0));
  }
  // Second pass over the replicates for the histograms (memory stays fixed).
  for (std::uint64_t r = 0; r < replicates && !cols.empty(); ++r) {
    const CountsTable t = file.replicate(p, r).table(file.layout().columns);
    for (std::size_t k = 0; k < cols.size(); ++k)
      for (std::size_t h = 0; h < hist_rows.size(); ++h) {
        const double v = t.rows[hist_rows[h]][cols[k]];
        auto bin = static_cast<long>(std::floor((v - bins[k].lo) / bins[k].width));
        bin = std::clamp<long>(bin, 0, static_cast<long>(bins[k].n) - 1);
        bins[k].counts[h][static_cast<std::size_t>(bin)] += 1;
      }
  }
  std::string where = file.layout().points() > 1 ? " at point " + std::to_string(p) : "";
  for (std::size_t a = 0; a < file.layout().sweep_fields.size(); ++a)
    where += " " + file.layout().sweep_fields[a] + "=" + file.layout().sweep_values[p][a];
  try {
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const std::size_t c = cols[k];
      BandPlot band;
      band.title = stats.columns()[c] + where + " (" + std::to_string(replicates) + " replicates)";
      band.y_label = stats.columns()[c];
      band.time_s = times;
      for (std::size_t r = 0; r < times.size(); ++r) {
        band.mean.push_back(stats.at(r, c).mean());
        band.sd.push_back(stats.at(r, c).sd());
      }
      for (const auto& t : first) {
        std::vector<double> y;
        for (const auto& row : t.rows) y.push_back(row[c]);
        band.trajectories.push_back(std::move(y));
      }
      const std::string stem = point_name(p) + "_" + file_safe(stats.columns()[c]);
      plot_mean_band(band, out / "plots" / (stem + ".png"));
      std::vector<Histogram> hists;
      for (std::size_t h = 0; h < hist_rows.size(); ++h) {
        Histogram hist;
        char label[64];
        std::snprintf(label, sizeof label, "t = %.6g ms", 1e3 * times[hist_rows[h]]);
        hist.label = label;
        for (std::size_t b = 0; b <= bins[k].n; ++b)
          hist.edges.push_back(bins[k].lo + static_cast<double>(b) * bins[k].width);
        hist.counts = bins[k].counts[h];
        hists.push_back(std::move(hist));
      }
      plot_histograms(stats.columns()[c] + where, stats.columns()[c], hists, out / "plots" / (stem + "_hist.png"));
    }
  } catch (const std::exception& e) {
    std::cerr << "spinesim ensemble: plots not written: " << e.what() << "\n";
  }
}
std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

#ifdef SPINESIM_WITH_MPI
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

constexpr int kTagRequest = 1, kTagTask = 2, kTagBye = 3;
constexpr std::uint64_t kNoMoreWork = ~std::uint64_t{0};

/// Rank 0: its own T threads take tasks from `next` while this thread answers the
/// other ranks' requests from the same counter, until every rank has said goodbye.
void mpi_serve(int size, const Job& job, const std::vector<Task>& tasks, int threads, Progress& progress,
               Failure& failure) {
  std::atomic<std::uint64_t> next{0};
  std::thread local([&] {
    try {
      run_local(job, tasks, threads, next, progress, failure);
    } catch (...) {
      failure.set(std::current_exception());
    }
  });
  int byes = 0;
  while (byes < size - 1) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    std::uint64_t msg = 0;
    MPI_Recv(&msg, 1, MPI_UINT64_T, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (st.MPI_TAG == kTagBye) {
      ++byes;
      continue;
    }
    if (msg == 1) progress.tick();  // the requester just finished a replicate
    std::uint64_t reply[2] = {kNoMoreWork, 0};
    if (!failure.failed) {
      const std::uint64_t i = next.fetch_add(1);
      if (i < tasks.size()) reply[0] = tasks[i].point, reply[1] = tasks[i].replicate;
    }
    MPI_Send(reply, 2, MPI_UINT64_T, st.MPI_SOURCE, kTagTask, MPI_COMM_WORLD);
  }
  local.join();
}

/// Ranks > 0: T worker threads; only this thread talks to rank 0 (MPI_THREAD_FUNNELED).
void mpi_work(const Job& job, int threads, Failure& failure) {
  struct Request {
    bool finished_one = false, ready = false;
    std::uint64_t point = 0, replicate = 0;
  };
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Request*> pending;
  int active = threads;
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&] {
      bool finished = false;
      while (true) {
        Request req;
        req.finished_one = finished;
        std::unique_lock<std::mutex> lock(mutex);
        pending.push_back(&req);
        cv.notify_all();
        cv.wait(lock, [&] { return req.ready; });
        lock.unlock();
        if (req.point == kNoMoreWork || failure.failed) break;
        try {
          run_replicate(job, Task{req.point, req.replicate});
          finished = true;
        } catch (...) {
          failure.set(std::current_exception());
          break;
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      --active;
      cv.notify_all();
    });
  while (true) {
    Request* req = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return !pending.empty() || active == 0; });
      if (pending.empty()) break;
      req = pending.front();
      pending.pop_front();
    }
    std::uint64_t msg = req->finished_one ? 1 : 0, reply[2] = {kNoMoreWork, 0};
    MPI_Send(&msg, 1, MPI_UINT64_T, 0, kTagRequest, MPI_COMM_WORLD);
    MPI_Recv(reply, 2, MPI_UINT64_T, 0, kTagTask, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::lock_guard<std::mutex> lock(mutex);
    req->point = reply[0];
    req->replicate = reply[1];
    req->ready = true;
    cv.notify_all();
  }
  for (auto& t : workers) t.join();
  std::uint64_t bye = 0;
  MPI_Send(&bye, 1, MPI_UINT64_T, 0, kTagBye, MPI_COMM_WORLD);
}

struct MpiSession {
  bool active = false;
  int rank = 0, size = 1;
  MpiSession() {
    if (!launched_by_mpi()) return;
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    active = true;
  }
  ~MpiSession() {
    if (!active) return;
    if (std::uncaught_exceptions() > 0 && size > 1)
      MPI_Abort(MPI_COMM_WORLD, 1);
    else
      MPI_Finalize();
  }
  /// True on every rank when every rank passed `ok`.
  bool all(bool ok) const {
    int mine = ok ? 1 : 0, every = mine;
    if (active) MPI_Allreduce(&mine, &every, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return every == 1;
  }
};
#else
struct MpiSession {
  bool active = false;
  int rank = 0, size = 1;
  bool all(bool ok) const { return ok; }
};
#endif

}  // namespace
int ensemble_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kHelp;
    return kExitOk;
  }
  // --sweep may repeat; take them out before the strict parser sees the rest.
  std::vector<SweepAxis> axes;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (i >= 2 && a == "--sweep") {
      if (i + 1 >= argc) throw UsageError("option --sweep needs FIELD=v1,v2,...");
      axes.push_back(parse_sweep_axis(argv[++i]));
    } else if (i >= 2 && a.rfind("--sweep=", 0) == 0) {
      axes.push_back(parse_sweep_axis(a.substr(8)));
    } else {
      rest.push_back(argv[i]);
    }
  }
  Args args(static_cast<int>(rest.size()), rest.data(), 2,
            {{"replicates"},
             {"out"},
             {"threads"},
             {"seed"},
             {"t-end"},
             {"plot-columns"},
             {"hist-times"},
             {"csv", false},
             {"no-plots", false},
             {"overwrite", false},
             {"quiet", false}});
  if (args.positional().size() != 1) throw UsageError("ensemble needs exactly one SCENE file");
  if (!args.has("replicates")) throw UsageError("ensemble needs --replicates N");
  if (!args.has("out")) throw UsageError("ensemble needs --out DIR");
  const fs::path scene_file = args.positional()[0];
  const fs::path out = *args.get("out");
  const auto replicates = static_cast<std::uint64_t>(args.get_int("replicates", 1, 1, 100000000));
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(args.get_int("threads", hw, 1, 1024));
  const bool quiet = args.has("quiet"), overwrite = args.has("overwrite"), plots = !args.has("no-plots");
  SceneOverrides base;
  if (args.has("t-end")) {
    base.t_end_s = args.get_double("t-end", 0, 0);
    if (*base.t_end_s <= 0) throw UsageError("--t-end must be > 0 s");
  }
  if (args.has("seed")) base.seed = args.get_u64("seed", 1);
  std::vector<std::string> plot_columns;
  if (auto v = args.get("plot-columns")) plot_columns = split(*v, ',');
  std::vector<double> hist_times;
  if (auto v = args.get("hist-times"))
    for (const auto& s : split(*v, ',')) {
      char* end = nullptr;
      const double t = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || !std::isfinite(t) || t < 0)
        throw UsageError("--hist-times expects times in s separated by commas, got '" + s + "'");
      hist_times.push_back(t);
    }

  MpiSession mpi;
  const bool root = mpi.rank == 0;
  const auto wall_start = std::chrono::steady_clock::now();

  // Every sweep point is loaded and checked before anything runs.
  std::vector<Point> points;
  std::vector<Diagnostic> problems;
  for (auto& assign : sweep_points(axes)) {
    SceneOverrides ov = base;
    ov.assignments = assign;
    Point p;
    p.assign = assign;
    try {
      p.scene = load_scene(scene_file, ov);
    } catch (const InputError& e) {
      for (Diagnostic d : e.diagnostics()) {
        if (!assign.empty()) {
          std::string at;
          for (const auto& a : assign) at += (at.empty() ? "" : " ") + a.path + "=" + a.value;
          d.message += " (at sweep point " + at + ")";
        }
        problems.push_back(std::move(d));
      }
      continue;
    }
    points.push_back(std::move(p));
  }
  // One set of counts columns for the whole ensemble (one variable per column).
  EnsembleLayout layout;
  if (problems.empty()) {
    const CountColumns columns(points.front().scene.model);
    layout.columns = columns.names();
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      layout.units.push_back(columns.unit(c));
      layout.integer_columns.push_back(columns.is_integer(c));
    }
    for (std::size_t p = 1; p < points.size(); ++p)
      if (CountColumns(points[p].scene.model).names() != layout.columns)
        problems.push_back(Diagnostic{scene_file.string(), 0, 0, "--sweep",
                                      "sweep point " + std::to_string(p) +
                                          " counts other columns than point 0; an ensemble needs one column set "
                                          "(sweep numeric fields that keep the species, compartments and regions)"});
  }
  if (!problems.empty()) {
    // Identical on every rank; only rank 0 reports.
    if (!mpi.active) throw InputError(problems);
    if (root) std::cerr << InputError(problems).what() << "\n";
    return kExitInput;
  }
  for (const auto& w : points.front().scene.warnings)
    if (root) std::cerr << w.format() << "\n";
  const std::uint64_t seed = points.front().scene.model.seed;  // --seed or the scene's
  layout.base_seed = seed;
  layout.replicates = replicates;
  layout.command_line = command_line(argc, argv);
  for (const auto& a : axes) layout.sweep_fields.push_back(a.path);
  for (const auto& p : points) {
    layout.resolved_scenes.push_back(p.scene.resolved_text);
    layout.sweep_values.emplace_back();
    for (const auto& a : p.assign) layout.sweep_values.back().push_back(a.value);
  }

  // Rank 0 prepares DIR and lists the replicates still to run.
  std::vector<Task> tasks;
  std::string setup_error;
  int setup_exit = kExitOk;
  // Rank 0 holds DIR for the whole ensemble, so a second ensemble (or run) into the
  // same DIR fails at once instead of committing replicates of another seed or scene.
  DirLock lock;
  if (root) {
    try {
      std::error_code ec;
      fs::create_directories(out, ec);
      if (ec || !fs::is_directory(out)) throw IoError("cannot create " + out.string() + ": " + ec.message());
      lock = DirLock(out, command_line(argc, argv));
      if (lock.stale_pid())
        std::cerr << "spinesim: " << out.string() << " was left locked by PID " << *lock.stale_pid()
                  << ", which has ended (killed?); taking it over\n";
      std::string identity = "spinesim ensemble\nseed " + std::to_string(seed) + "\n";
      for (std::size_t p = 0; p < points.size(); ++p) {
        identity += "--- point " + std::to_string(p);
        for (const auto& a : points[p].assign) identity += " " + a.path + "=" + a.value;
        identity += "\n" + points[p].scene.resolved_text;
      }
      const fs::path id_file = out / "ensemble.id";
      if (fs::exists(id_file) && read_file(id_file) != identity) {
        if (!overwrite)
          throw UsageError(out.string() +
                           " holds an ensemble of another scene, seed, sweep or --t-end; choose another --out or "
                           "pass --overwrite to discard it");
        remove_all_but_lock(out);
      } else if (!fs::exists(id_file) && !empty_but_lock(out)) {
        if (!overwrite)
          throw UsageError(out.string() +
                           " exists and is not an ensemble directory; choose another --out or pass "
                           "--overwrite to replace it");
        remove_all_but_lock(out);
      }
      atomic_write(id_file, identity);
      // Leftovers of a kill: temporary files of atomic writes (an unfinished
      // ensemble.nc among them) and the torn last record of a journal.
      for (const auto& e : fs::directory_iterator(out)) {
        const std::string n = e.path().filename().string();
        if (!n.empty() && n[0] == '.' && !is_lock_file(e.path().filename())) fs::remove(e.path(), ec);
      }
      for (const auto& j : journals(out))
        if (const std::uint64_t cut = trim_journal(j); cut > 0 && !quiet)
          std::cerr << "spinesim: " << j.string() << ": dropped " << cut
                    << " bytes of a replicate that was being written when the ensemble stopped\n";
      const ReplicateSources done(out, layout.columns);
      if (done.previous_replicates() > replicates)
        throw UsageError(out.string() + " holds " + std::to_string(done.previous_replicates()) +
                         " replicates per point; pass --replicates " + std::to_string(done.previous_replicates()) +
                         " or more (or --overwrite to start again)");
      for (std::size_t p = 0; p < points.size(); ++p)
        for (std::uint64_t r = 0; r < replicates; ++r)
          if (!done.has(p, r)) tasks.push_back({p, r});
    } catch (const UsageError& e) {
      setup_error = e.what();
      setup_exit = kExitInput;
    } catch (const std::exception& e) {
      setup_error = e.what();
      setup_exit = kExitIo;
    }
  }
  if (!mpi.all(setup_exit == kExitOk)) {
    if (mpi.active) {
      if (root) std::cerr << "spinesim ensemble: " << setup_error << "\n";
      return root ? setup_exit : kExitInput;
    }
    if (setup_exit == kExitInput) throw UsageError(setup_error);
    throw IoError(setup_error);
  }

  const std::uint64_t total = replicates * points.size();
  Failure failure;
  if (root && !quiet) {
    std::cerr << "spinesim: ensemble of " << scene_file.string() << ": " << points.size() << " point"
              << (points.size() == 1 ? "" : "s") << " x " << replicates << " replicates, base seed " << seed << ", "
              << threads << " thread" << (threads == 1 ? "" : "s")
              << (mpi.size > 1 ? " per rank on " + std::to_string(mpi.size) + " MPI ranks" : "") << "; "
              << total - tasks.size() << " already done, " << tasks.size() << " to run\n";
  }
  Progress progress(tasks.size(), total, quiet || !root);
  {
    ReplicateJournal journal(out / ("replicates." + std::to_string(mpi.rank) + ".journal"));
    const Job job{points, seed, layout.integer_columns, journal};
#ifdef SPINESIM_WITH_MPI
    if (mpi.size > 1) {
      if (root)
        mpi_serve(mpi.size, job, tasks, threads, progress, failure);
      else
        mpi_work(job, threads, failure);
    } else
#endif
    {
      std::atomic<std::uint64_t> next{0};
      run_local(job, tasks, threads, next, progress, failure);
    }
  }
  if (failure.error) std::rethrow_exception(failure.error);
  if (!root) return kExitOk;

  // Every replicate is in a journal (or the previous file): one file replaces them.
  const Aggregate agg = write_ensemble_file(out, layout, ReplicateSources(out, layout.columns));
  for (const auto& j : journals(out)) fs::remove(j);
  if (!quiet && fs::exists(out / "replicates" / point_name(0) / (replicate_name(0) + ".meta")))
    std::cerr << "spinesim: the replicates/ of an earlier spinesim are now in " << kFileName << " too; remove "
              << (out / "replicates").string() << " to keep one file\n";
  const EnsembleFileReader file(out / kFileName);
  const bool display = std::getenv("DISPLAY") != nullptr;
  if (plots && !display)
    std::cerr << "spinesim ensemble: no X display, so no plots; run under xvfb-run -a (statistics are written)\n";
  if (plots && display)
    for (std::size_t p = 0; p < points.size(); ++p)
      if (!agg.stats[p].times().empty()) plot_point(out, file, p, agg.stats[p], agg.first[p], plot_columns, hist_times);
  const bool csv = args.has("csv");
  if (csv) export_csv(file, out, true);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  JsonObject info;
  info.add("program", "spinesim")
      .add("version", SPINESIM_VERSION)
      .add("command_line", command_line(argc, argv))
      .add("scene", fs::absolute(scene_file).string())
      .add("base_seed", static_cast<unsigned long long>(seed))
      .add("replicate_seed", "replicate_seed(base_seed, r): Philox4x32-10, see README")
      .add("replicates", static_cast<unsigned long long>(replicates))
      .add("sweep_points", static_cast<unsigned long long>(points.size()))
      .add("replicates_run_now", static_cast<unsigned long long>(tasks.size()))
      .add("threads", threads)
      .add("mpi_ranks", mpi.size)
      .add("wall_time_s", wall)
      .add("replicates_per_s", wall > 0 ? static_cast<double>(tasks.size()) / wall : 0.0);
  atomic_write(out / "ensemble.json", info.str());
  if (!quiet) std::cerr << "spinesim: ensemble done in " << wall << " s (" << tasks.size() << " replicates run now).\n";
  std::cout << "Outputs in " << fs::absolute(out).string() << ":\n  " << kFileName << ", ensemble.json"
            << (csv ? ", stats.csv, summary.csv, points.csv, replicates/" : "")
            << (fs::exists(out / "plots") ? ", plots/" : "") << "\n";
  return kExitOk;
}

int export_csv_command(int argc, char** argv) {
  if (wants_help(argc, argv)) {
    std::cout << kExportHelp;
    return kExitOk;
  }
  Args args(argc, argv, 2, {{"out"}, {"no-replicates", false}});
  if (args.positional().size() != 1) throw UsageError("export-csv needs exactly one ENSEMBLE (directory or file)");
  const fs::path given = args.positional()[0];
  const fs::path file = fs::is_directory(given) ? given / kFileName : given;
  if (!fs::exists(file))
    throw UsageError(file.string() +
                     " does not exist; ENSEMBLE is the --out DIR of a finished `spinesim ensemble` "
                     "or its " +
                     kFileName);
  const fs::path out = args.has("out")              ? fs::path(*args.get("out"))
                       : file.parent_path().empty() ? "."
                                                    : file.parent_path();
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) throw IoError("cannot create " + out.string() + ": " + ec.message());
  // Not beside a running ensemble: it may be replacing the file.
  const DirLock lock(out, command_line(argc, argv));
  const EnsembleFileReader reader(file);
  export_csv(reader, out, !args.has("no-replicates"));
  std::cout << "Wrote stats.csv, summary.csv, points.csv" << (args.has("no-replicates") ? "" : ", replicates/")
            << " in " << fs::absolute(out).string() << "\n";
  return kExitOk;
}

}  // namespace spinesim::cli
