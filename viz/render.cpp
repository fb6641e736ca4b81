// Offscreen VTK rendering of a run directory frame to PNG. Everything that could
// vary between runs (colours, camera, draw order) is fixed by the input, so the
// same run directory always gives the same image.
#include "viz/render.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkGlyph3DMapper.h>
#include <vtkLegendBoxActor.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSphereSource.h>
#include <vtkStringArray.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowToImageFilter.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/vec3.h"
#include "viz/vtk_export.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

using Rgb = std::array<double, 3>;

/// Sphere radius of a molecule glyph when the frame does not give one per species, µm.
constexpr double kMoleculeRadius = 0.006;

[[noreturn]] void fail(const fs::path& file, const std::string& message) {
  Diagnostic d;
  d.file = file.string();
  d.message = message;
  throw InputError(std::move(d));
}

/// Categorical palette (Tableau 10), used for species and for unknown region names.
constexpr std::array<Rgb, 10> kPalette = {{
    {0.122, 0.467, 0.706},  // blue
    {1.000, 0.498, 0.055},  // orange
    {0.173, 0.627, 0.173},  // green
    {0.839, 0.153, 0.157},  // red
    {0.580, 0.404, 0.741},  // purple
    {0.549, 0.337, 0.294},  // brown
    {0.890, 0.467, 0.761},  // pink
    {0.498, 0.498, 0.498},  // grey
    {0.737, 0.741, 0.133},  // olive
    {0.090, 0.745, 0.812},  // cyan
}};

struct RegionStyle {
  Rgb color;
  double opacity;
};

RegionStyle region_style(const std::string& name, std::size_t index) {
  static const std::map<std::string, RegionStyle> known = {
      {"psd", {{0.86, 0.12, 0.12}, 0.75}},       {"perisynaptic", {{1.00, 0.60, 0.15}, 0.55}},
      {"head", {{0.62, 0.72, 0.88}, 0.35}},      {"neck", {{0.62, 0.72, 0.88}, 0.35}},
      {"shaft", {{0.62, 0.72, 0.88}, 0.35}},     {"shaft_end", {{0.55, 0.55, 0.55}, 0.35}},
      {"bouton", {{0.60, 0.88, 0.60}, 0.30}},    {"bouton_face", {{0.60, 0.88, 0.60}, 0.30}},
      {"cleft_rim", {{0.80, 0.80, 0.90}, 0.12}},
  };
  auto it = known.find(name);
  if (it != known.end()) return it->second;
  return {kPalette[index % kPalette.size()], 0.35};
}

Rgb species_color(std::size_t index) {
  return kPalette[index % kPalette.size()];
}

/// Counts VTK error events (and keeps them off stderr).
class ErrorSink : public vtkCommand {
 public:
  static ErrorSink* New() { return new ErrorSink; }
  void Execute(vtkObject*, unsigned long event, void*) override {
    if (event == vtkCommand::ErrorEvent) ++errors;
  }
  int errors = 0;
};

vtkSmartPointer<vtkPolyData> read_vtp(const fs::path& file, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    fail(file,
         what +
             " not found; pass a run directory written by `spinesim run` (it holds mesh.vtp, frames.pvd and frames/)");
  }
  vtkNew<vtkXMLPolyDataReader> r;
  vtkNew<ErrorSink> sink;
  r->AddObserver(vtkCommand::ErrorEvent, sink);
  r->SetFileName(file.c_str());
  r->Update();
  auto* out = r->GetOutput();
  if (sink->errors > 0 || out == nullptr) {
    fail(file,
         "cannot read " + what + " (truncated or not a VTK XML PolyData file); re-run the simulation to regenerate it");
  }
  vtkSmartPointer<vtkPolyData> pd = out;
  return pd;
}

std::vector<std::string> names_of(vtkPolyData* pd, const char* array) {
  std::vector<std::string> names;
  auto* a = vtkStringArray::SafeDownCast(pd->GetFieldData()->GetAbstractArray(array));
  if (a == nullptr) return names;
  for (vtkIdType i = 0; i < a->GetNumberOfValues(); ++i) names.push_back(a->GetValue(i));
  return names;
}

std::string format_time(double time_s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "t = %.6g ms", time_s * 1e3);
  return buf;
}

/// One actor per region id, in region-id order, so colours and draw order are fixed.
void add_mesh_actors(vtkRenderer* ren, vtkPolyData* mesh) {
  const auto region_names = names_of(mesh, "region_names");
  vtkDataArray* region = mesh->GetCellData()->GetArray("region_id");
  std::map<int, vtkSmartPointer<vtkCellArray>> cells_by_region;
  vtkCellArray* polys = mesh->GetPolys();
  vtkNew<vtkIdList> ids;
  vtkIdType cell = 0;
  for (polys->InitTraversal(); polys->GetNextCell(ids); ++cell) {
    // Polys are the only cells written by write_mesh_vtp, so cell index == poly index.
    const int r = region != nullptr ? static_cast<int>(region->GetComponent(cell, 0)) : -1;
    auto& ca = cells_by_region[r];
    if (!ca) ca = vtkSmartPointer<vtkCellArray>::New();
    ca->InsertNextCell(ids);
  }
  for (const auto& [r, ca] : cells_by_region) {
    vtkNew<vtkPolyData> part;
    part->SetPoints(mesh->GetPoints());
    part->SetPolys(ca);
    const std::string name =
        r >= 0 && static_cast<std::size_t>(r) < region_names.size() ? region_names[static_cast<std::size_t>(r)] : "";
    const RegionStyle style = region_style(name, r >= 0 ? static_cast<std::size_t>(r) : 0);
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->SetInputData(part);
    mapper->ScalarVisibilityOff();
    vtkNew<vtkActor> actor;
    actor->SetMapper(mapper);
    actor->GetProperty()->SetColor(style.color[0], style.color[1], style.color[2]);
    actor->GetProperty()->SetOpacity(style.opacity);
    actor->GetProperty()->SetAmbient(0.25);
    actor->GetProperty()->SetDiffuse(0.75);
    actor->GetProperty()->SetSpecular(0.0);
    ren->AddActor(actor);
  }
}

/// Molecules as spheres coloured by species; returns the count per species index.
std::vector<std::size_t> add_molecule_actor(vtkRenderer* ren, vtkPolyData* frame, std::size_t species_count) {
  std::vector<std::size_t> counts(species_count, 0);
  const vtkIdType n = frame->GetNumberOfPoints();
  if (n == 0) return counts;
  vtkDataArray* species = frame->GetPointData()->GetArray("species");
  vtkDataArray* species_radius = frame->GetFieldData()->GetArray("species_display_radius_um");
  vtkNew<vtkDoubleArray> radius;
  radius->SetName("display_radius");
  radius->SetNumberOfTuples(n);
  vtkNew<vtkUnsignedCharArray> rgb;
  rgb->SetName("species_rgb");
  rgb->SetNumberOfComponents(3);
  rgb->SetNumberOfTuples(n);
  for (vtkIdType i = 0; i < n; ++i) {
    const int s = species != nullptr ? static_cast<int>(species->GetComponent(i, 0)) : 0;
    const std::size_t si = s >= 0 ? static_cast<std::size_t>(s) : 0;
    if (si >= counts.size()) counts.resize(si + 1, 0);
    ++counts[si];
    const Rgb c = species_color(si);
    const bool has_radius = species_radius != nullptr && static_cast<vtkIdType>(si) < species_radius->GetNumberOfTuples();
    radius->SetValue(i, has_radius ? species_radius->GetComponent(static_cast<vtkIdType>(si), 0) : kMoleculeRadius);
    for (int k = 0; k < 3; ++k) rgb->SetComponent(i, k, std::lround(c[static_cast<std::size_t>(k)] * 255.0));
  }
  vtkNew<vtkPolyData> pts;
  pts->SetPoints(frame->GetPoints());
  pts->GetPointData()->AddArray(rgb);
  pts->GetPointData()->AddArray(radius);

  // A unit sphere scaled per molecule by its species' display radius.
  vtkNew<vtkSphereSource> sphere;
  sphere->SetRadius(1.0);
  sphere->SetThetaResolution(12);
  sphere->SetPhiResolution(8);
  vtkNew<vtkGlyph3DMapper> mapper;
  mapper->SetInputData(pts);
  mapper->SetSourceConnection(sphere->GetOutputPort());
  mapper->ScalingOn();
  mapper->SetScaleArray("display_radius");
  mapper->SetScaleModeToScaleByMagnitude();
  mapper->OrientOff();
  mapper->ScalarVisibilityOn();
  mapper->SetScalarModeToUsePointFieldData();
  mapper->SelectColorArray("species_rgb");
  mapper->SetColorModeToDirectScalars();
  vtkNew<vtkActor> actor;
  actor->SetMapper(mapper);
  actor->GetProperty()->SetAmbient(0.3);
  actor->GetProperty()->SetDiffuse(0.7);
  ren->AddActor(actor);
  return counts;
}

void add_legend(vtkRenderer* ren, const std::vector<std::string>& species_names,
                const std::vector<std::size_t>& counts) {
  const std::size_t n = std::max(species_names.size(), counts.size());
  if (n == 0) return;
  vtkNew<vtkSphereSource> symbol_source;
  symbol_source->SetThetaResolution(16);
  symbol_source->SetPhiResolution(8);
  symbol_source->Update();
  vtkNew<vtkLegendBoxActor> legend;
  legend->SetNumberOfEntries(static_cast<int>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = i < species_names.size() ? species_names[i] : "species " + std::to_string(i);
    const std::string text = name + ": " + std::to_string(i < counts.size() ? counts[i] : 0);
    Rgb c = species_color(i);
    legend->SetEntry(static_cast<int>(i), symbol_source->GetOutput(), text.c_str(), c.data());
  }
  legend->GetEntryTextProperty()->SetColor(0, 0, 0);
  legend->GetEntryTextProperty()->SetFontFamilyToArial();
  legend->GetEntryTextProperty()->BoldOff();
  legend->GetEntryTextProperty()->ItalicOff();
  legend->GetEntryTextProperty()->ShadowOff();
  legend->BorderOff();
  legend->BoxOff();
  legend->UseBackgroundOff();
  const double h = std::min(0.05 * static_cast<double>(n), 0.8);
  legend->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  legend->GetPositionCoordinate()->SetValue(0.01, 0.97 - h);
  legend->GetPosition2Coordinate()->SetCoordinateSystemToNormalizedViewport();
  legend->GetPosition2Coordinate()->SetValue(0.28, h);
  ren->AddViewProp(legend);
}

void add_time_label(vtkRenderer* ren, double time_s, int height) {
  vtkNew<vtkTextActor> text;
  text->SetInput(format_time(time_s).c_str());
  vtkTextProperty* tp = text->GetTextProperty();
  tp->SetFontFamilyToArial();
  tp->SetFontSize(std::max(10, height / 30));
  tp->SetColor(0, 0, 0);
  tp->SetJustificationToRight();
  tp->SetVerticalJustificationToBottom();
  text->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  text->GetPositionCoordinate()->SetValue(0.98, 0.02);
  ren->AddViewProp(text);
}

/// Points the camera at the centre of `bounds` from the +z ("side") or +y ("top")
/// direction, at the distance where the box's projected extent just fits the
/// image with a 10% margin (tighter than ResetCamera's bounding sphere).
void set_camera(vtkRenderer* ren, const double bounds[6], const std::string& camera, double aspect) {
  const double c[3] = {(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2};
  const double sx = bounds[1] - bounds[0], sy = bounds[3] - bounds[2], sz = bounds[5] - bounds[4];
  vtkCamera* cam = ren->GetActiveCamera();
  cam->SetViewAngle(30.0);
  const double tan_half = std::tan(kPi * 30.0 / 360.0);
  // Screen-horizontal extent, screen-vertical extent, depth extent.
  double w = sx, h = sy, depth = sz;
  if (camera == "top") {
    h = sz;
    depth = sy;
  }
  const double fit = std::max({h / 2 / tan_half, w / 2 / (aspect * tan_half), 1e-6});
  const double d = 1.1 * fit + depth / 2;
  cam->SetFocalPoint(c);
  if (camera == "side") {
    cam->SetPosition(c[0], c[1], c[2] + d);
    cam->SetViewUp(0, 1, 0);
  } else {  // "top": x to the right, -z up the screen
    cam->SetPosition(c[0], c[1] + d, c[2]);
    cam->SetViewUp(0, 0, -1);
  }
  ren->ResetCameraClippingRange();
}

/// VTK's X render window abort()s when it cannot connect, so check first: DISPLAY
/// must be set and, for a local display ":N[.S]", the X socket must exist.
void check_display() {
  const char* display = std::getenv("DISPLAY");
  if (display == nullptr || *display == '\0') {
    throw IoError(
        "rendering needs an X display, and DISPLAY is not set; on a headless machine run the command under `xvfb-run "
        "-a`");
  }
  const std::string d = display;
  if (d.size() > 1 && d[0] == ':') {
    const std::string number = d.substr(1, d.find('.') == std::string::npos ? std::string::npos : d.find('.') - 1);
    std::error_code ec;
    if (!number.empty() && !fs::exists(fs::path("/tmp/.X11-unix") / ("X" + number), ec)) {
      throw IoError("no X server is running on DISPLAY=" + d + "; start one or run the command under `xvfb-run -a`");
    }
  }
}

}  // namespace

void render_run(const fs::path& run_dir, const fs::path& png, const RenderOptions& o) {
  if (o.width <= 0 || o.height <= 0 || o.width > 16384 || o.height > 16384) {
    fail(png, "image size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                  " is invalid; use a width and height between 1 and 16384 pixels");
  }
  if (o.camera != "side" && o.camera != "top") {
    fail(png, "unknown camera '" + o.camera + "'; use \"side\" (look along -z) or \"top\" (look down -y)");
  }
  const fs::path mesh_file = run_dir / "mesh.vtp";
  const fs::path pvd_file = run_dir / "frames.pvd";
  auto mesh = read_vtp(mesh_file, "mesh.vtp");
  if (mesh->GetNumberOfPoints() == 0 || mesh->GetNumberOfPolys() == 0) {
    fail(mesh_file, "mesh.vtp has no triangles; re-run the simulation to regenerate it");
  }
  std::error_code ec;
  if (!fs::is_regular_file(pvd_file, ec)) {
    fail(pvd_file,
         "frames.pvd not found; pass a run directory written by `spinesim run` that has written at least one frame");
  }
  const auto frames = read_pvd(pvd_file);
  if (frames.empty()) fail(pvd_file, "frames.pvd lists no frames yet; wait for the run to write its first output");
  const int count = static_cast<int>(frames.size());
  if (o.frame < -1 || o.frame >= count) {
    fail(pvd_file, "frame " + std::to_string(o.frame) + " is out of range; valid frames are 0.." +
                       std::to_string(count - 1) + " (or -1 for the last)");
  }
  const PvdEntry& entry = frames[static_cast<std::size_t>(o.frame == -1 ? count - 1 : o.frame)];
  auto frame = read_vtp(run_dir / entry.file, "frame file " + entry.file);

  double time_s = entry.time_s;
  if (auto* t = frame->GetFieldData()->GetArray("time_s"); t != nullptr && t->GetNumberOfTuples() > 0) {
    time_s = t->GetComponent(0, 0);
  }

  check_display();

  vtkNew<vtkRenderer> ren;
  ren->SetBackground(1, 1, 1);
  ren->SetUseDepthPeeling(1);
  ren->SetMaximumNumberOfPeels(16);
  ren->SetOcclusionRatio(0.0);
  ren->UseFXAAOn();
  ren->TwoSidedLightingOn();

  add_mesh_actors(ren, mesh);
  const auto species_names = names_of(frame, "species_names");
  const auto counts = add_molecule_actor(ren, frame, species_names.size());
  add_legend(ren, species_names, counts);
  add_time_label(ren, time_s, o.height);
  set_camera(ren, mesh->GetBounds(), o.camera, static_cast<double>(o.width) / o.height);

  vtkNew<vtkRenderWindow> win;
  vtkNew<ErrorSink> sink;
  win->AddObserver(vtkCommand::ErrorEvent, sink);
  win->SetOffScreenRendering(1);
  win->SetMultiSamples(0);
  win->SetAlphaBitPlanes(1);
  win->SetSize(o.width, o.height);
  win->AddRenderer(ren);
  win->Render();
  if (sink->errors > 0) {
    throw IoError("offscreen OpenGL rendering failed; check that the X display works (e.g. run under `xvfb-run -a`)");
  }

  vtkNew<vtkWindowToImageFilter> grab;
  grab->SetInput(win);
  grab->SetInputBufferTypeToRGB();
  grab->ReadFrontBufferOff();
  grab->Update();

  atomic_write_with(png, [&](const fs::path& tmp) {
    vtkNew<vtkPNGWriter> w;
    vtkNew<ErrorSink> wsink;
    w->AddObserver(vtkCommand::ErrorEvent, wsink);
    w->SetInputConnection(grab->GetOutputPort());
    w->SetFileName(tmp.c_str());
    w->Write();
    if (wsink->errors > 0) {
      throw IoError("cannot write " + png.string() + " (check that the directory exists and is writable)");
    }
  });
}

}  // namespace spinesim
