// PNG plots of ensemble statistics with VTK charts, offscreen: the mean ± SD band
// of one observable over time with a few individual trajectories, and histograms of
// it at chosen times. Needs an X display (run under xvfb-run -a on a headless machine).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace spinesim {

struct BandPlot {
  std::string title;
  std::string y_label;
  std::vector<double> time_s;
  std::vector<double> mean, sd;                   ///< per time
  std::vector<std::vector<double>> trajectories;  ///< a few replicates, each per time
  int width = 1000, height = 700;
};

/// Writes the band plot (time in ms on x) to `png` atomically. Throws IoError.
void plot_mean_band(const BandPlot& plot, const std::filesystem::path& png);

struct Histogram {
  std::string label;           ///< e.g. "t = 1 ms"
  std::vector<double> edges;   ///< bins+1 increasing bin edges
  std::vector<double> counts;  ///< per bin
};

/// Writes histograms (one outlined step curve each, same x axis) to `png` atomically.
void plot_histograms(const std::string& title, const std::string& x_label, const std::vector<Histogram>& hists,
                     const std::filesystem::path& png, int width = 1000, int height = 700);

}  // namespace spinesim
