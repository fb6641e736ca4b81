// counts.csv as a VTK line chart rendered offscreen to PNG.
#include "viz/plot.h"

#include <vtkAxis.h>
#include <vtkChartLegend.h>
#include <vtkChartXY.h>
#include <vtkCommand.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPen.h>
#include <vtkPlot.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/palette.h"
#include "viz/png_output.h"
#include "viz/render.h"
#include "viz/vtp_read.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& file, int line, const std::string& message) {
  Diagnostic d;
  d.file = file.string();
  d.line = line;
  d.message = message;
  throw InputError(std::move(d));
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void style(vtkTextProperty* tp, int size, bool bold) {
  tp->SetFontFamilyToArial();
  tp->SetFontSize(size);
  tp->SetColor(0.1, 0.1, 0.1);
  tp->SetBold(bold);
}

}  // namespace

CountsCsv read_counts_csv(const fs::path& csv) {
  std::ifstream in(csv);
  if (!in) {
    fail(csv, 0, "counts.csv not found; pass a run directory written by `spinesim run`");
  }
  CountsCsv t;
  std::string line;
  if (!std::getline(in, line) || line.empty()) fail(csv, 1, "counts.csv has no header line; re-run the simulation");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  t.names = split(line);
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto fields = split(line);
    if (fields.size() != t.names.size()) {
      fail(csv, number,
           "row has " + std::to_string(fields.size()) + " fields but the header has " + std::to_string(t.names.size()) +
               "; the file is truncated or edited, re-run the simulation");
    }
    std::vector<double> row;
    row.reserve(fields.size());
    for (const auto& f : fields) {
      char* end = nullptr;
      const double v = std::strtod(f.c_str(), &end);
      if (f.empty() || end == f.c_str() || *end != '\0') fail(csv, number, "'" + f + "' is not a number");
      row.push_back(v);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::vector<std::string> default_plot_columns(const CountsCsv& t, std::size_t max_columns) {
  std::vector<std::string> first, second;
  for (std::size_t c = 0; c < t.names.size(); ++c) {
    const std::string& name = t.names[c];
    if (name == "time_s" || ends_with(name, ".current_pA") || ends_with(name, ".ca_ions")) continue;
    bool changes = false;
    for (const auto& row : t.rows)
      if (row[c] != t.rows.front()[c]) changes = true;
    if (!changes) continue;
    (name.find(':') == std::string::npos ? first : second).push_back(name);
  }
  first.insert(first.end(), second.begin(), second.end());
  if (first.size() > max_columns) first.resize(max_columns);
  return first;
}

void plot_counts(const fs::path& run_dir, const fs::path& png, const PlotOptions& o) {
  require_image_extension(png, WindowContent::kChart);
  if (o.width <= 0 || o.height <= 0 || o.width > 16384 || o.height > 16384) {
    fail(png, 0,
         "image size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
             " is invalid; use a width and height between 1 and 16384 pixels");
  }
  const fs::path csv = run_dir / "counts.csv";
  const CountsCsv t = read_counts_csv(csv);
  if (t.rows.empty()) fail(csv, 0, "counts.csv has no rows yet; wait for the run to write its first output");
  const auto time_col = std::find(t.names.begin(), t.names.end(), "time_s");
  if (time_col == t.names.end()) fail(csv, 1, "counts.csv has no time_s column; re-run the simulation");

  std::vector<std::string> columns = o.columns.empty() ? default_plot_columns(t) : o.columns;
  for (const auto& c : columns) {
    if (std::find(t.names.begin(), t.names.end(), c) == t.names.end() || c == "time_s") {
      std::string valid;
      for (const auto& n : t.names) {
        if (n == "time_s") continue;
        valid += (valid.empty() ? "" : ", ") + n;
      }
      fail(csv, 1, "no column '" + c + "' in counts.csv; valid columns: " + valid);
    }
  }
  if (columns.empty()) {
    fail(csv, 0,
         "no column of counts.csv changes over the run, so there is nothing to plot; name columns with --columns");
  }

  vtkNew<vtkTable> table;
  vtkNew<vtkDoubleArray> time;
  const auto tc = static_cast<std::size_t>(time_col - t.names.begin());
  const TimeUnit unit = time_unit_for(t.rows.empty() ? 0 : t.rows.back()[tc]);
  time->SetName(unit.label);
  time->SetNumberOfValues(static_cast<vtkIdType>(t.rows.size()));
  for (std::size_t r = 0; r < t.rows.size(); ++r)
    time->SetValue(static_cast<vtkIdType>(r), t.rows[r][tc] * unit.per_second);
  table->AddColumn(time);
  bool has_current = false;
  for (const auto& c : columns) {
    const auto k = static_cast<std::size_t>(std::find(t.names.begin(), t.names.end(), c) - t.names.begin());
    vtkNew<vtkDoubleArray> a;
    a->SetName(c.c_str());
    a->SetNumberOfValues(static_cast<vtkIdType>(t.rows.size()));
    for (std::size_t r = 0; r < t.rows.size(); ++r) a->SetValue(static_cast<vtkIdType>(r), t.rows[r][k]);
    table->AddColumn(a);
    has_current = has_current || ends_with(c, ".current_pA");
  }

  check_display();
  vtkNew<vtkContextView> view;
  view->GetRenderer()->SetBackground(1, 1, 1);
  view->GetRenderWindow()->SetOffScreenRendering(1);
  view->GetRenderWindow()->SetMultiSamples(0);
  view->GetRenderWindow()->SetSize(o.width, o.height);
  vtkNew<vtkChartXY> chart;
  view->GetScene()->AddItem(chart);
  const int font = std::max(10, o.height / 40);
  chart->SetTitle(!o.title.empty()             ? o.title
                  : run_dir.filename().empty() ? "counts.csv"
                                               : run_dir.filename().string() + ": counts.csv");
  style(chart->GetTitleProperties(), font + 2, true);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    vtkPlot* line = chart->AddPlot(vtkChart::LINE);
    line->SetInputData(table, 0, static_cast<vtkIdType>(i + 1));
    const Rgb c = species_color(i);
    line->SetColor(static_cast<unsigned char>(std::lround(c[0] * 255)),
                   static_cast<unsigned char>(std::lround(c[1] * 255)),
                   static_cast<unsigned char>(std::lround(c[2] * 255)), 255);
    line->SetWidth(2.0);
  }
  vtkAxis* x = chart->GetAxis(vtkAxis::BOTTOM);
  x->SetTitle(unit.label);
  vtkAxis* y = chart->GetAxis(vtkAxis::LEFT);
  y->SetTitle(!o.y_label.empty() ? o.y_label : has_current ? "count; current (pA)" : "count (molecules or agents)");
  for (vtkAxis* a : {x, y}) {
    style(a->GetTitleProperties(), font, true);
    style(a->GetLabelProperties(), font - 1, false);
    a->GetGridPen()->SetColor(220, 220, 220, 255);
  }
  chart->SetShowLegend(true);
  chart->GetLegend()->SetHorizontalAlignment(vtkChartLegend::RIGHT);
  chart->GetLegend()->SetVerticalAlignment(vtkChartLegend::TOP);
  chart->GetLegend()->SetLabelSize(font - 1);

  vtkNew<ErrorSink> sink;
  view->GetRenderWindow()->AddObserver(vtkCommand::ErrorEvent, sink);
  view->GetRenderWindow()->Render();
  if (sink->errors > 0) {
    throw IoError("offscreen OpenGL rendering failed; check that the X display works (e.g. run under `xvfb-run -a`)");
  }
  write_window_image(view->GetRenderWindow(), png, WindowContent::kChart);
}

}  // namespace spinesim
