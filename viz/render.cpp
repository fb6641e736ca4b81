// Offscreen VTK rendering of a run directory frame to PNG. Everything that could
// vary between runs (colours, camera, draw order) is fixed by the input, so the
// same run directory always gives the same image.
#include "viz/render.h"

#include <vtkActor.h>
#include <vtkActor2D.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkClipPolyData.h>
#include <vtkCommand.h>
#include <vtkCoordinate.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkGlyph3DMapper.h>
#include <vtkLegendBoxActor.h>
#include <vtkLightKit.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPlane.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkProperty.h>
#include <vtkProperty2D.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkRendererCollection.h>
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
#include "viz/palette.h"
#include "viz/png_output.h"
#include "viz/vtk_export.h"
#include "viz/vtp_read.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

/// At most this many legend rows; further agent states are summarised in one row.
constexpr int kMaxLegendRows = 22;

std::string format_time(double time_s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "t = %.3f ms", time_s * 1e3);
  return buf;
}

using Bounds = std::array<double, 6>;

Bounds empty_bounds() {
  return {1e300, -1e300, 1e300, -1e300, 1e300, -1e300};
}

bool valid(const Bounds& b) {
  return b[0] <= b[1];
}

/// One frame's molecules with what the legend needs.
struct FrameContent {
  std::vector<std::string> species_names;
  std::vector<std::string> state_names;
  std::vector<Rgb> state_rgb;
  std::vector<Rgb> species_rgb;  ///< by name (species_colors), stable across scenes
  Rgb species_rgb_of(std::size_t s) const { return s < species_rgb.size() ? species_rgb[s] : species_color(s); }
  std::vector<std::size_t> species_count;                          ///< per species index
  std::map<std::size_t, std::map<int, std::size_t>> agent_states;  ///< species -> state -> count
};

/// Region ids whose triangles are hidden with this camera: the psd close-up looks
/// down through the presynaptic side, so its surfaces would hide the PSD.
bool hidden_region(const std::string& name, const std::string& camera) {
  if (camera != "psd") return false;
  return name.find("bouton") != std::string::npos || name == "cleft_rim";
}

/// One actor per region id, in region-id order, so colours and draw order are fixed.
/// Returns the bounds of the triangles of regions named in `focus` (for the psd camera).
Bounds add_mesh_actors(vtkRenderer* ren, vtkPolyData* mesh, const std::string& camera,
                       const std::vector<std::string>& focus) {
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
  double mb[6];
  mesh->GetBounds(mb);
  Bounds focus_bounds = empty_bounds();
  for (const auto& [r, ca] : cells_by_region) {
    const std::string name =
        r >= 0 && static_cast<std::size_t>(r) < region_names.size() ? region_names[static_cast<std::size_t>(r)] : "";
    if (hidden_region(name, camera)) continue;
    vtkNew<vtkPolyData> part;
    part->SetPoints(mesh->GetPoints());
    part->SetPolys(ca);
    if (std::find(focus.begin(), focus.end(), name) != focus.end()) {
      const vtkIdType* pts = nullptr;
      vtkIdType npts = 0;
      for (ca->InitTraversal(); ca->GetNextCell(npts, pts);) {
        for (vtkIdType k = 0; k < npts; ++k) {
          double p[3];
          mesh->GetPoint(pts[k], p);
          for (int a = 0; a < 3; ++a) {
            focus_bounds[static_cast<std::size_t>(2 * a)] =
                std::min(focus_bounds[static_cast<std::size_t>(2 * a)], p[a]);
            focus_bounds[static_cast<std::size_t>(2 * a + 1)] =
                std::max(focus_bounds[static_cast<std::size_t>(2 * a + 1)], p[a]);
          }
        }
      }
    }
    RegionStyle style = region_style(name, r >= 0 ? static_cast<std::size_t>(r) : 0);
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->ScalarVisibilityOff();
    if (camera == "cutaway") {
      // Keep the far half (z below the mesh centre): the plane's function n·(x − o)
      // is positive there. The cut-open membrane is drawn opaque.
      vtkNew<vtkPlane> plane;
      plane->SetOrigin(0, 0, (mb[4] + mb[5]) / 2);
      plane->SetNormal(0, 0, -1);
      vtkNew<vtkClipPolyData> clip;
      clip->SetInputData(part);
      clip->SetClipFunction(plane);
      mapper->SetInputConnection(clip->GetOutputPort());
      if (name != "cleft_rim") style.opacity = 1.0;
    } else {
      mapper->SetInputData(part);
    }
    vtkNew<vtkActor> actor;
    actor->SetMapper(mapper);
    actor->GetProperty()->SetColor(style.color[0], style.color[1], style.color[2]);
    actor->GetProperty()->SetOpacity(style.opacity);
    actor->GetProperty()->SetAmbient(0.20);
    actor->GetProperty()->SetDiffuse(0.80);
    actor->GetProperty()->SetSpecular(0.10);
    actor->GetProperty()->SetSpecularPower(20);
    ren->AddActor(actor);
  }
  return focus_bounds;
}

/// Molecules as spheres of their species' display radius, coloured by species
/// (agents by state); fills the counts of `fc`.
void add_molecule_actor(vtkRenderer* ren, vtkPolyData* frame, FrameContent& fc) {
  fc.species_count.assign(fc.species_names.size(), 0);
  const vtkIdType n = frame->GetNumberOfPoints();
  if (n == 0) return;
  vtkDataArray* species = frame->GetPointData()->GetArray("species");
  vtkDataArray* state = frame->GetPointData()->GetArray("state");
  vtkDataArray* species_radius = frame->GetFieldData()->GetArray("species_display_radius_um");
  vtkNew<vtkDoubleArray> radius;
  radius->SetName("display_radius");
  radius->SetNumberOfTuples(n);
  vtkNew<vtkUnsignedCharArray> rgb;
  rgb->SetName("molecule_rgb");
  rgb->SetNumberOfComponents(3);
  rgb->SetNumberOfTuples(n);
  for (vtkIdType i = 0; i < n; ++i) {
    const int s = species != nullptr ? static_cast<int>(species->GetComponent(i, 0)) : 0;
    const std::size_t si = s >= 0 ? static_cast<std::size_t>(s) : 0;
    const int st = state != nullptr ? static_cast<int>(state->GetComponent(i, 0)) : 0;
    if (si >= fc.species_count.size()) fc.species_count.resize(si + 1, 0);
    ++fc.species_count[si];
    Rgb c = fc.species_rgb_of(si);
    if (st > 0) {
      ++fc.agent_states[si][st];
      if (static_cast<std::size_t>(st) < fc.state_rgb.size()) c = fc.state_rgb[static_cast<std::size_t>(st)];
    }
    const bool has_radius =
        species_radius != nullptr && static_cast<vtkIdType>(si) < species_radius->GetNumberOfTuples();
    const double r =
        has_radius ? species_radius->GetComponent(static_cast<vtkIdType>(si), 0) : kDefaultMoleculeRadiusUm;
    radius->SetValue(i, r > 0 ? r : kDefaultMoleculeRadiusUm);
    for (int k = 0; k < 3; ++k) rgb->SetComponent(i, k, std::lround(c[static_cast<std::size_t>(k)] * 255.0));
  }
  vtkNew<vtkPolyData> pts;
  pts->SetPoints(frame->GetPoints());
  pts->GetPointData()->AddArray(rgb);
  pts->GetPointData()->AddArray(radius);

  // A unit sphere scaled per molecule by its species' display radius; coarser for
  // very many molecules, where each covers a few pixels anyway.
  vtkNew<vtkSphereSource> sphere;
  sphere->SetRadius(1.0);
  sphere->SetThetaResolution(n > 20000 ? 10 : 16);
  sphere->SetPhiResolution(n > 20000 ? 6 : 10);
  vtkNew<vtkGlyph3DMapper> mapper;
  mapper->SetInputData(pts);
  mapper->SetSourceConnection(sphere->GetOutputPort());
  mapper->ScalingOn();
  mapper->SetScaleArray("display_radius");
  mapper->SetScaleModeToScaleByMagnitude();
  mapper->OrientOff();
  mapper->ScalarVisibilityOn();
  mapper->SetScalarModeToUsePointFieldData();
  mapper->SelectColorArray("molecule_rgb");
  mapper->SetColorModeToDirectScalars();
  vtkNew<vtkActor> actor;
  actor->SetMapper(mapper);
  actor->GetProperty()->SetAmbient(0.25);
  actor->GetProperty()->SetDiffuse(0.75);
  actor->GetProperty()->SetSpecular(0.25);
  actor->GetProperty()->SetSpecularPower(30);
  ren->AddActor(actor);
}

void style_text(vtkTextProperty* tp, int size) {
  tp->SetFontFamilyToArial();
  tp->SetFontSize(size);
  tp->SetColor(0.1, 0.1, 0.1);
  tp->BoldOff();
  tp->ItalicOff();
  tp->ShadowOff();
}

/// Species with their counts; for agent species one indented row per state present.
void add_legend(vtkRenderer* ren, const FrameContent& fc, int height) {
  struct Row {
    std::string text;
    Rgb color;
  };
  std::vector<Row> rows;
  const std::size_t n = std::max(fc.species_names.size(), fc.species_count.size());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = i < fc.species_names.size() ? fc.species_names[i] : "species " + std::to_string(i);
    const std::size_t count = i < fc.species_count.size() ? fc.species_count[i] : 0;
    auto agents = fc.agent_states.find(i);
    if (agents == fc.agent_states.end()) {
      rows.push_back({name + ": " + std::to_string(count), fc.species_rgb_of(i)});
      continue;
    }
    // Agent species: the header takes the colour of its most common state.
    int top = agents->second.begin()->first;
    for (const auto& [st, c] : agents->second)
      if (c > agents->second.at(top)) top = st;
    const auto colour_of = [&](int st) {
      return static_cast<std::size_t>(st) < fc.state_rgb.size() ? fc.state_rgb[static_cast<std::size_t>(st)]
                                                                : fc.species_rgb_of(i);
    };
    rows.push_back({name + ": " + std::to_string(count), colour_of(top)});
    for (const auto& [st, c] : agents->second) {
      if (static_cast<int>(rows.size()) >= kMaxLegendRows - 1) {
        rows.push_back({"   (more states: see counts.csv)", {0.5, 0.5, 0.5}});
        break;
      }
      const std::string state_name = static_cast<std::size_t>(st) < fc.state_names.size()
                                         ? state_part(fc.state_names[static_cast<std::size_t>(st)])
                                         : "state " + std::to_string(st);
      rows.push_back({"   " + state_name + ": " + std::to_string(c), colour_of(st)});
    }
  }
  if (rows.empty()) return;
  vtkNew<vtkSphereSource> symbol_source;
  symbol_source->SetThetaResolution(16);
  symbol_source->SetPhiResolution(8);
  symbol_source->Update();
  vtkNew<vtkLegendBoxActor> legend;
  legend->SetNumberOfEntries(static_cast<int>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Rgb c = rows[i].color;
    legend->SetEntry(static_cast<int>(i), symbol_source->GetOutput(), rows[i].text.c_str(), c.data());
  }
  style_text(legend->GetEntryTextProperty(), std::max(10, height / 40));
  legend->BorderOff();
  legend->BoxOff();
  legend->UseBackgroundOn();
  legend->SetBackgroundColor(1, 1, 1);
  legend->SetBackgroundOpacity(0.8);
  const double h = std::min(0.04 * static_cast<double>(rows.size()), 0.9);
  legend->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  legend->GetPositionCoordinate()->SetValue(0.01, 0.98 - h);
  legend->GetPosition2Coordinate()->SetCoordinateSystemToNormalizedViewport();
  legend->GetPosition2Coordinate()->SetValue(0.26, h);
  ren->AddViewProp(legend);
}

void add_time_label(vtkRenderer* ren, double time_s, int height) {
  vtkNew<vtkTextActor> text;
  text->SetInput(format_time(time_s).c_str());
  vtkTextProperty* tp = text->GetTextProperty();
  style_text(tp, std::max(10, height / 28));
  tp->SetJustificationToRight();
  tp->SetVerticalJustificationToTop();
  tp->SetBackgroundColor(1, 1, 1);
  tp->SetBackgroundOpacity(0.8);
  text->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  text->GetPositionCoordinate()->SetValue(0.98, 0.97);
  ren->AddViewProp(text);
}

/// Largest 1, 2 or 5 × 10^k nm not longer than `max_nm`.
double nice_length_nm(double max_nm) {
  const double p = std::pow(10.0, std::floor(std::log10(std::max(max_nm, 1e-9))));
  for (double m : {5.0, 2.0, 1.0})
    if (m * p <= max_nm) return m * p;
  return p;
}

/// A horizontal bar in the lower left, about a fifth of the image wide, with its
/// length in nm. `px_per_um` holds at the focal plane (parallel projection: everywhere).
void add_scale_bar(vtkRenderer* ren, double px_per_um, int width, int height) {
  const double nm = nice_length_nm(0.2 * width / px_per_um * 1000.0);
  const double len_px = nm / 1000.0 * px_per_um;
  const double x0 = 0.04 * width, y0 = 0.05 * height, thick = std::max(2.0, height / 180.0);
  vtkNew<vtkPoints> pts;
  pts->InsertNextPoint(x0, y0, 0);
  pts->InsertNextPoint(x0 + len_px, y0, 0);
  pts->InsertNextPoint(x0 + len_px, y0 + thick, 0);
  pts->InsertNextPoint(x0, y0 + thick, 0);
  vtkNew<vtkCellArray> quad;
  const vtkIdType ids[4] = {0, 1, 2, 3};
  quad->InsertNextCell(4, ids);
  vtkNew<vtkPolyData> bar;
  bar->SetPoints(pts);
  bar->SetPolys(quad);
  vtkNew<vtkPolyDataMapper2D> mapper;
  mapper->SetInputData(bar);
  vtkNew<vtkActor2D> actor;
  actor->SetMapper(mapper);
  actor->GetProperty()->SetColor(0.1, 0.1, 0.1);
  ren->AddViewProp(actor);

  char label[64];
  if (nm >= 1000) {
    std::snprintf(label, sizeof label, "%g µm", nm / 1000.0);
  } else {
    std::snprintf(label, sizeof label, "%g nm", nm);
  }
  vtkNew<vtkTextActor> text;
  text->SetInput(label);
  style_text(text->GetTextProperty(), std::max(10, height / 36));
  text->GetTextProperty()->SetJustificationToCentered();
  text->GetTextProperty()->SetVerticalJustificationToBottom();
  text->GetTextProperty()->SetBackgroundColor(1, 1, 1);
  text->GetTextProperty()->SetBackgroundOpacity(0.8);
  text->GetPositionCoordinate()->SetCoordinateSystemToDisplay();
  text->GetPositionCoordinate()->SetValue(x0 + len_px / 2, y0 + thick + 0.01 * height);
  ren->AddViewProp(text);
}

Vec3 unit_vector(Vec3 v) {
  const double n = std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
  return {v.x / n, v.y / n, v.z / n};
}

/// Places a parallel-projection camera and returns pixels per µm. "side" and
/// "cutaway" look along -z, "top" down -y, "psd" obliquely down at the PSD; the
/// view fits `b` (the screen extent of the box) with a margin.
double set_camera(vtkRenderer* ren, const Bounds& b, const RenderOptions& o) {
  const double c[3] = {(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2};
  const double sx = b[1] - b[0], sy = b[3] - b[2], sz = b[5] - b[4];
  const double aspect = static_cast<double>(o.width) / o.height;
  Vec3 dir{0, 0, 1}, up{0, 1, 0};  // from focal point towards the camera
  double w = sx, h = sy, margin = 1.12;
  if (o.camera == "top") {
    dir = {0, 1, 0};
    up = {0, 0, -1};
    h = sz;
  } else if (o.camera == "psd") {
    // 55° above the horizon, from the +z side; PSD box plus its surroundings.
    const double elev = 55.0 * kPi / 180.0;
    dir = {0, std::sin(elev), std::cos(elev)};
    up = {0, std::cos(elev), -std::sin(elev)};
    w = std::max(sx, sz);
    h = std::max(sx, sz) * std::sin(elev) + sy * std::cos(elev);
    margin = 1.6;
  }
  if (o.fit_for_orbit) w = std::sqrt(sx * sx + sz * sz);
  const double half_h = std::max({h / 2, w / (2 * aspect), 1e-6}) * margin;
  const double dist = 4.0 * std::max({sx, sy, sz, 1e-3});
  vtkCamera* cam = ren->GetActiveCamera();
  cam->ParallelProjectionOn();
  cam->SetParallelScale(half_h);
  cam->SetFocalPoint(c);
  const Vec3 d = unit_vector(dir);
  cam->SetPosition(c[0] + dist * d.x, c[1] + dist * d.y, c[2] + dist * d.z);
  cam->SetViewUp(up.x, up.y, up.z);
  if (o.orbit_deg != 0) {
    // Orbit about the vertical (y) axis through the focal point.
    const double a = o.orbit_deg * kPi / 180.0;
    const double px = dist * d.x, pz = dist * d.z;
    cam->SetPosition(c[0] + px * std::cos(a) + pz * std::sin(a), c[1] + dist * d.y,
                     c[2] - px * std::sin(a) + pz * std::cos(a));
    const double ux = up.x * std::cos(a) + up.z * std::sin(a), uz = -up.x * std::sin(a) + up.z * std::cos(a);
    cam->SetViewUp(ux, up.y, uz);
  }
  cam->OrthogonalizeViewUp();
  ren->ResetCameraClippingRange();
  return o.height / (2 * half_h);
}

/// Index of the frame to draw: by time (nearest listed time) or by index.
std::size_t choose_frame(const std::vector<PvdEntry>& frames, const RenderOptions& o, const fs::path& pvd_file) {
  const int count = static_cast<int>(frames.size());
  if (o.time_s) {
    const double t = *o.time_s;
    const double first = frames.front().time_s, last = frames.back().time_s;
    const double slack = frames.size() > 1 ? (last - first) / static_cast<double>(frames.size() - 1) : 0.0;
    if (!std::isfinite(t) || t < first - slack || t > last + slack) {
      char msg[256];
      std::snprintf(msg, sizeof msg, "time %g s is outside the frames of this run; frames cover %g .. %g s", t, first,
                    last);
      fail_in_file(pvd_file, msg);
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i < frames.size(); ++i)
      if (std::abs(frames[i].time_s - t) < std::abs(frames[best].time_s - t)) best = i;
    return best;
  }
  if (o.frame < -1 || o.frame >= count) {
    fail_in_file(pvd_file, "frame " + std::to_string(o.frame) + " is out of range; valid frames are 0.." +
                               std::to_string(count - 1) + " (or -1 for the last)");
  }
  return static_cast<std::size_t>(o.frame == -1 ? count - 1 : o.frame);
}

}  // namespace

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

std::size_t frame_count(const fs::path& run_dir) {
  const fs::path pvd_file = run_dir / "frames.pvd";
  std::error_code ec;
  if (!fs::is_regular_file(pvd_file, ec)) {
    fail_in_file(
        pvd_file,
        "frames.pvd not found; pass a run directory written by `spinesim run` that has written at least one frame");
  }
  return read_pvd(pvd_file).size();
}

void render_run(const fs::path& run_dir, const fs::path& png, const RenderOptions& o) {
  require_image_extension(png, WindowContent::kScene3D);
  if (o.width <= 0 || o.height <= 0 || o.width > 16384 || o.height > 16384) {
    fail_in_file(png, "image size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                          " is invalid; use a width and height between 1 and 16384 pixels");
  }
  if (std::find(kRenderCameras.begin(), kRenderCameras.end(), o.camera) == kRenderCameras.end()) {
    fail_in_file(
        png, "unknown camera '" + o.camera + "'; use side, top, psd (PSD close-up) or cutaway (near half cut away)");
  }
  const fs::path mesh_file = run_dir / "mesh.vtp";
  const fs::path pvd_file = run_dir / "frames.pvd";
  auto mesh = read_vtp(mesh_file, "mesh.vtp");
  if (mesh->GetNumberOfPoints() == 0 || mesh->GetNumberOfPolys() == 0) {
    fail_in_file(mesh_file, "mesh.vtp has no triangles; re-run the simulation to regenerate it");
  }
  std::error_code ec;
  if (!fs::is_regular_file(pvd_file, ec)) {
    fail_in_file(
        pvd_file,
        "frames.pvd not found; pass a run directory written by `spinesim run` that has written at least one frame");
  }
  const auto frames = read_pvd(pvd_file);
  if (frames.empty())
    fail_in_file(pvd_file, "frames.pvd lists no frames yet; wait for the run to write its first output");
  const PvdEntry& entry = frames[choose_frame(frames, o, pvd_file)];
  auto frame = read_vtp(run_dir / entry.file, "frame file " + entry.file);

  double time_s = entry.time_s;
  if (auto* t = frame->GetFieldData()->GetArray("time_s"); t != nullptr && t->GetNumberOfTuples() > 0) {
    time_s = t->GetComponent(0, 0);
  }

  if (o.camera == "psd") {
    const auto regions = names_of(mesh, "region_names");
    if (std::find(regions.begin(), regions.end(), "psd") == regions.end()) {
      fail_in_file(mesh_file,
                   "camera psd needs a region named \"psd\" and this mesh has none; use --camera side or cutaway");
    }
  }

  check_display();

  vtkNew<vtkRenderer> ren;
  ren->SetBackground(1, 1, 1);
  ren->SetUseDepthPeeling(1);
  ren->SetMaximumNumberOfPeels(8);
  ren->SetOcclusionRatio(0.0);
  ren->UseFXAAOn();
  ren->TwoSidedLightingOn();
  ren->AutomaticLightCreationOff();
  vtkNew<vtkLightKit> lights;
  lights->SetKeyLightIntensity(0.85);
  lights->AddLightsToRenderer(ren);

  const Bounds focus = add_mesh_actors(ren, mesh, o.camera, {"psd", "perisynaptic"});
  FrameContent fc;
  fc.species_names = names_of(frame, "species_names");
  fc.state_names = names_of(frame, "state_names");
  fc.species_rgb = species_colors(fc.species_names);
  fc.state_rgb = state_colors(fc.state_names, agent_type_colors(frame, fc.state_names, fc.species_rgb));
  add_molecule_actor(ren, frame, fc);
  add_legend(ren, fc, o.height);
  add_time_label(ren, time_s, o.height);

  Bounds view;
  mesh->GetBounds(view.data());
  if (o.camera == "psd" && valid(focus)) view = focus;
  const double px_per_um = set_camera(ren, view, o);
  add_scale_bar(ren, px_per_um, o.width, o.height);

  if (o.ambient_occlusion) {
    // Radius about a molecule's size relative to the scene: dark creases where
    // spheres touch the membrane and each other, no haloes around the whole spine.
    const double scale = std::max({view[1] - view[0], view[3] - view[2], view[5] - view[4]});
    ren->UseSSAOOn();
    ren->SetSSAORadius(0.04 * scale);
    ren->SetSSAOBias(0.002 * scale);
    ren->SetSSAOKernelSize(64);
    ren->SSAOBlurOn();
  }

  // One offscreen window per process, reused by every render: with Mesa under Xvfb a
  // second XOpenDisplay in the same process intermittently fails, and VTK 9.1 then
  // abort()s inside vtkXOpenGLRenderWindow. Reuse also saves the window set-up per
  // movie frame.
  static vtkSmartPointer<vtkRenderWindow> shared_window;
  if (!shared_window) {
    shared_window = vtkSmartPointer<vtkRenderWindow>::New();
    shared_window->SetOffScreenRendering(1);
    shared_window->SetMultiSamples(0);
    shared_window->SetAlphaBitPlanes(1);
  }
  vtkRenderWindow* win = shared_window;
  vtkNew<ErrorSink> sink;
  const unsigned long observer = win->AddObserver(vtkCommand::ErrorEvent, sink);
  win->GetRenderers()->RemoveAllItems();
  win->SetSize(o.width, o.height);
  win->AddRenderer(ren);
  win->Render();
  win->RemoveObserver(observer);
  if (sink->errors > 0) {
    throw IoError("offscreen OpenGL rendering failed; check that the X display works (e.g. run under `xvfb-run -a`)");
  }

  write_window_image(win, png, WindowContent::kScene3D);
}

}  // namespace spinesim
