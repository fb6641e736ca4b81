#include "viz/ensemble_plot.h"

#include <vtkAutoInit.h>
#include <vtkAxis.h>
#include <vtkBrush.h>
#include <vtkChartLegend.h>
#include <vtkChartXY.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPen.h>
#include <vtkPlot.h>
#include <vtkPlotArea.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>
#include <vtkWindowToImageFilter.h>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/palette.h"
#include "viz/png_output.h"

// Chart painting (vtkContextDevice2D → OpenGL2); harmless if also registered elsewhere.
VTK_MODULE_INIT(vtkRenderingContextOpenGL2);

namespace spinesim {

namespace fs = std::filesystem;

namespace {

vtkSmartPointer<vtkDoubleArray> column(const char* name, const std::vector<double>& v) {
  auto a = vtkSmartPointer<vtkDoubleArray>::New();
  a->SetName(name);
  a->SetNumberOfValues(static_cast<vtkIdType>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) a->SetValue(static_cast<vtkIdType>(i), v[i]);
  return a;
}

void style(vtkChartXY* chart, const std::string& title, const std::string& x, const std::string& y) {
  chart->SetTitle(title);
  chart->GetTitleProperties()->SetFontSize(18);
  chart->GetAxis(vtkAxis::BOTTOM)->SetTitle(x);
  chart->GetAxis(vtkAxis::LEFT)->SetTitle(y);
  for (int a : {vtkAxis::BOTTOM, vtkAxis::LEFT}) {
    chart->GetAxis(a)->GetTitleProperties()->SetFontSize(15);
    chart->GetAxis(a)->GetLabelProperties()->SetFontSize(13);
  }
  chart->SetShowLegend(true);
  chart->GetLegend()->GetLabelProperties()->SetFontSize(13);
}

void save(vtkContextView* view, int width, int height, const fs::path& png) {
  view->GetRenderer()->SetBackground(1, 1, 1);
  view->GetRenderWindow()->SetOffScreenRendering(1);
  view->GetRenderWindow()->SetSize(width, height);
  view->GetRenderWindow()->Render();
  write_window_image(view->GetRenderWindow(), png, WindowContent::kChart);
}

}  // namespace

void plot_mean_band(const BandPlot& p, const fs::path& png) {
  const std::size_t n = p.time_s.size();
  std::vector<double> t_axis(n), lo(n), hi(n);
  const TimeUnit unit = time_unit_for(n == 0 ? 0 : p.time_s.back());
  for (std::size_t i = 0; i < n; ++i) {
    t_axis[i] = unit.per_second * p.time_s[i];
    lo[i] = p.mean[i] - p.sd[i];
    hi[i] = p.mean[i] + p.sd[i];
  }
  vtkNew<vtkTable> table;
  table->AddColumn(column("time", t_axis));
  table->AddColumn(column("mean - SD", lo));
  table->AddColumn(column("mean + SD", hi));
  table->AddColumn(column("mean", p.mean));
  std::vector<std::string> names;
  for (std::size_t k = 0; k < p.trajectories.size(); ++k) {
    names.push_back("replicate " + std::to_string(k));
    table->AddColumn(column(names.back().c_str(), p.trajectories[k]));
  }
  vtkNew<vtkContextView> view;
  vtkNew<vtkChartXY> chart;
  view->GetScene()->AddItem(chart);
  style(chart, p.title, unit.label, p.y_label);
  auto* area = vtkPlotArea::SafeDownCast(chart->AddPlot(vtkChart::AREA));
  area->SetInputData(table);
  area->SetInputArray(0, "time");
  area->SetInputArray(1, "mean - SD");
  area->SetInputArray(2, "mean + SD");
  area->SetColor(0.35, 0.55, 0.85);
  area->GetBrush()->SetOpacity(90);
  area->SetLabel("mean ± SD");
  const unsigned char grey[4] = {110, 110, 110, 200};
  for (std::size_t k = 0; k < names.size(); ++k) {
    vtkPlot* line = chart->AddPlot(vtkChart::LINE);
    line->SetInputData(table, 0, static_cast<vtkIdType>(4 + k));
    line->GetPen()->SetColor(grey[0], grey[1], grey[2], grey[3]);
    line->SetWidth(1.0);
    line->SetLabel(k == 0 ? "replicates" : "");
    if (k > 0) line->SetLegendVisibility(false);
  }
  vtkPlot* mean = chart->AddPlot(vtkChart::LINE);
  mean->SetInputData(table, 0, 3);
  mean->SetColor(0.05, 0.15, 0.55);
  mean->SetWidth(3.0);
  mean->SetLabel("mean");
  save(view, p.width, p.height, png);
}

void plot_histograms(const std::string& title, const std::string& x_label, const std::vector<Histogram>& hists,
                     const fs::path& png, int width, int height) {
  vtkNew<vtkContextView> view;
  vtkNew<vtkChartXY> chart;
  view->GetScene()->AddItem(chart);
  style(chart, title, x_label, "replicates");
  static const double colours[6][3] = {{0.85, 0.35, 0.1}, {0.1, 0.45, 0.8}, {0.2, 0.6, 0.2},
                                       {0.6, 0.2, 0.6},   {0.4, 0.4, 0.4},  {0.8, 0.6, 0.0}};
  std::vector<vtkSmartPointer<vtkTable>> tables;
  for (std::size_t h = 0; h < hists.size(); ++h) {
    // Outline of the bars as a step curve.
    const Histogram& hist = hists[h];
    std::vector<double> x, y;
    for (std::size_t b = 0; b < hist.counts.size(); ++b) {
      x.push_back(hist.edges[b]);
      y.push_back(b == 0 ? 0.0 : hist.counts[b - 1]);
      x.push_back(hist.edges[b]);
      y.push_back(hist.counts[b]);
    }
    if (!hist.counts.empty()) {
      x.push_back(hist.edges.back());
      y.push_back(hist.counts.back());
      x.push_back(hist.edges.back());
      y.push_back(0);
    }
    auto table = vtkSmartPointer<vtkTable>::New();
    table->AddColumn(column("x", x));
    table->AddColumn(column(hist.label.c_str(), y));
    tables.push_back(table);
    vtkPlot* line = chart->AddPlot(vtkChart::LINE);
    line->SetInputData(table, 0, 1);
    const double* c = colours[h % 6];
    line->SetColor(c[0], c[1], c[2]);
    line->SetWidth(2.5);
    line->SetLabel(hist.label);
  }
  save(view, width, height, png);
}

}  // namespace spinesim
