// Time series of a run's counts.csv as a PNG line chart (VTK charts, offscreen):
// time in ms on x, counts on y, one coloured line per column with a legend.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace spinesim {

/// What to plot and how.
struct PlotOptions {
  int width = 1000;                  ///< image width, pixels
  int height = 600;                  ///< image height, pixels
  std::vector<std::string> columns;  ///< counts.csv columns; empty = default_plot_columns
  std::string title;                 ///< empty = "RUN_DIR: counts.csv"
  std::string y_label;               ///< empty = count (and current when a current is plotted)
};

/// A parsed counts.csv: header names and numeric rows (one value per column).
struct CountsCsv {
  std::vector<std::string> names;
  std::vector<std::vector<double>> rows;
};

/// Reads counts.csv. Throws InputError (with file and line) when it is missing,
/// has no header or a row with the wrong number of fields or a non-number.
CountsCsv read_counts_csv(const std::filesystem::path& csv);

/// The columns plotted when none are asked for: columns that change over the run
/// (not time_s), counts of molecules and agents first, then cumulative absorbed /
/// crossed counts; currents (.current_pA) and Ca²⁺ influx (.ca_ions) are left out
/// because their units differ. At most `max_columns`, in file order.
std::vector<std::string> default_plot_columns(const CountsCsv& t, std::size_t max_columns = 8);

/// Plots RUN_DIR/counts.csv into `png` (written atomically). Throws InputError when
/// the file is unusable, a requested column does not exist (the message lists the
/// valid ones) or no column changes; IoError when no display is usable or the PNG
/// cannot be written. The same input gives the same bytes.
void plot_counts(const std::filesystem::path& run_dir, const std::filesystem::path& png, const PlotOptions& o);

}  // namespace spinesim
