// Tests for the VTK export (.vtp mesh and frames, .pvd index) and, in test suite
// "render", the headless PNG renderer (needs an X server: run under xvfb-run -a).
#include "viz/vtk_export.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLPolyDataReader.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

#include "core/error.h"
#include "engine/snapshot.h"
#include "geometry/geometry.h"
#include "support/temp_dir.h"
#include "support/viz_fixtures.h"
#include "viz/render.h"

namespace fs = std::filesystem;
using namespace spinesim;
using spinesim::testing::box;
using spinesim::testing::slurp;

namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("spinesim_viz") {}
};

TriangleMesh tetrahedron(Vec3 o, double s) {
  TriangleMesh m;
  m.vertices = {o, o + Vec3(s, 0, 0), o + Vec3(0, s, 0), o + Vec3(0, 0, s)};
  m.triangles = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
  return m;
}

Geometry two_surface_geometry() {
  Geometry g;
  g.add_surface(tetrahedron({0, 0, 0}, 1.0), "spine", "head", "cytosol", "extracellular");
  g.add_surface(tetrahedron({0.1, 0.1, 0.1}, 0.2), "er_surface", "er", "er_lumen", "cytosol");
  return g;
}

Snapshot three_molecules() {
  Snapshot s;
  s.time_s = 0.00125;
  s.species_names = {"Ca", "CaM"};
  s.state_names = {"", "bound"};
  s.region_names = {"head", "er"};
  s.compartment_names = {"cytosol", "extracellular", "er_lumen"};
  s.positions = {{0.1, 0.2, 0.3}, {0.25, 0.05, 0.05}, {0.4, 0.1, 0.1}};
  s.species = {0, 1, 0};
  s.state = {0, 1, 0};
  s.region = {-1, 0, -1};
  s.compartment = {0, -1, 2};
  s.ids = {7, 8, 123456789012345ULL};
  return s;
}

vtkSmartPointer<vtkPolyData> read_back(const fs::path& file) {
  vtkNew<vtkXMLPolyDataReader> r;
  r->SetFileName(file.c_str());
  r->Update();
  vtkSmartPointer<vtkPolyData> pd = r->GetOutput();
  return pd;
}

std::vector<std::string> strings(vtkPolyData* pd, const char* name) {
  std::vector<std::string> out;
  auto* a = vtkStringArray::SafeDownCast(pd->GetFieldData()->GetAbstractArray(name));
  if (a == nullptr) return out;
  for (vtkIdType i = 0; i < a->GetNumberOfValues(); ++i) out.push_back(a->GetValue(i));
  return out;
}

}  // namespace

TEST_SUITE("vtk_export") {
  TEST_CASE("mesh .vtp round trip") {
    TempDir dir;
    const Geometry g = two_surface_geometry();
    const fs::path file = dir.path / "mesh.vtp";
    write_mesh_vtp(g, file);
    auto pd = read_back(file);
    CHECK(pd->GetNumberOfPoints() == 8);
    CHECK(pd->GetNumberOfCells() == 8);
    CHECK(pd->GetNumberOfPolys() == 8);
    double p[3];
    pd->GetPoint(5, p);
    CHECK(p[0] == doctest::Approx(0.3));
    CHECK(p[1] == 0.1);
    CHECK(pd->GetPoints()->GetDataType() == VTK_DOUBLE);

    auto* region = pd->GetCellData()->GetArray("region_id");
    auto* surface = pd->GetCellData()->GetArray("surface_id");
    auto* front = pd->GetCellData()->GetArray("front_compartment");
    auto* back = pd->GetCellData()->GetArray("back_compartment");
    REQUIRE(region != nullptr);
    REQUIRE(surface != nullptr);
    REQUIRE(front != nullptr);
    REQUIRE(back != nullptr);
    CHECK(region->GetDataType() == VTK_INT);
    CHECK(front->GetDataType() == VTK_INT);
    for (vtkIdType c = 0; c < 8; ++c) {
      const auto t = static_cast<std::size_t>(c);
      CHECK(region->GetComponent(c, 0) == g.triangle_region[t]);
      CHECK(surface->GetComponent(c, 0) == g.triangle_surface[t]);
      CHECK(front->GetComponent(c, 0) == g.triangle_sides[t][0]);
      CHECK(back->GetComponent(c, 0) == g.triangle_sides[t][1]);
    }
    vtkNew<vtkIdList> ids;
    pd->GetCellPoints(4, ids);
    REQUIRE(ids->GetNumberOfIds() == 3);
    CHECK(ids->GetId(0) == 4);
    CHECK(ids->GetId(1) == 6);
    CHECK(ids->GetId(2) == 5);
    CHECK(strings(pd, "region_names") == std::vector<std::string>{"head", "er"});
    CHECK(strings(pd, "surface_names") == std::vector<std::string>{"spine", "er_surface"});
    CHECK(strings(pd, "compartment_names") == std::vector<std::string>{"cytosol", "extracellular", "er_lumen"});
  }

  TEST_CASE("frame .vtp round trip") {
    TempDir dir;
    const Snapshot s = three_molecules();
    const fs::path file = dir.path / "f.vtp";
    write_frame_vtp(s, file);
    auto pd = read_back(file);
    CHECK(pd->GetNumberOfPoints() == 3);
    CHECK(pd->GetNumberOfVerts() == 3);
    CHECK(pd->GetPoints()->GetDataType() == VTK_DOUBLE);
    double p[3];
    pd->GetPoint(2, p);
    CHECK(p[0] == 0.4);
    CHECK(p[2] == 0.1);
    auto* species = pd->GetPointData()->GetArray("species");
    auto* state = pd->GetPointData()->GetArray("state");
    auto* region = pd->GetPointData()->GetArray("region");
    auto* compartment = pd->GetPointData()->GetArray("compartment");
    auto* id = pd->GetPointData()->GetArray("id");
    REQUIRE(species != nullptr);
    REQUIRE(state != nullptr);
    REQUIRE(region != nullptr);
    REQUIRE(compartment != nullptr);
    REQUIRE(id != nullptr);
    CHECK(species->GetDataType() == VTK_INT);
    CHECK(id->GetDataTypeSize() == 8);
    CHECK((id->GetDataType() == VTK_UNSIGNED_LONG || id->GetDataType() == VTK_UNSIGNED_LONG_LONG));
    for (vtkIdType i = 0; i < 3; ++i) {
      const auto k = static_cast<std::size_t>(i);
      CHECK(species->GetComponent(i, 0) == s.species[k]);
      CHECK(state->GetComponent(i, 0) == s.state[k]);
      CHECK(region->GetComponent(i, 0) == s.region[k]);
      CHECK(compartment->GetComponent(i, 0) == s.compartment[k]);
    }
    CHECK(id->GetVariantValue(2).ToTypeUInt64() == 123456789012345ULL);
    auto* time = pd->GetFieldData()->GetArray("time_s");
    REQUIRE(time != nullptr);
    CHECK(time->GetComponent(0, 0) == 0.00125);
    CHECK(strings(pd, "species_names") == s.species_names);
    CHECK(strings(pd, "state_names") == s.state_names);
    CHECK(strings(pd, "region_names") == s.region_names);
    CHECK(strings(pd, "compartment_names") == s.compartment_names);
  }

  TEST_CASE("frame with zero molecules") {
    TempDir dir;
    Snapshot s;
    s.time_s = 0;
    s.species_names = {"Ca"};
    const fs::path file = dir.path / "empty.vtp";
    write_frame_vtp(s, file);
    auto pd = read_back(file);
    CHECK(pd->GetNumberOfPoints() == 0);
    CHECK(pd->GetNumberOfCells() == 0);
    CHECK(strings(pd, "species_names") == s.species_names);
  }

  TEST_CASE("output is byte-identical for identical input") {
    TempDir dir;
    write_mesh_vtp(two_surface_geometry(), dir.path / "a.vtp");
    write_mesh_vtp(two_surface_geometry(), dir.path / "b.vtp");
    CHECK(slurp(dir.path / "a.vtp") == slurp(dir.path / "b.vtp"));
    write_frame_vtp(three_molecules(), dir.path / "c.vtp");
    write_frame_vtp(three_molecules(), dir.path / "d.vtp");
    CHECK(slurp(dir.path / "c.vtp") == slurp(dir.path / "d.vtp"));
    // No temp files left behind.
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++n;
    CHECK(n == 4);
  }

  TEST_CASE("writing into a missing directory throws IoError") {
    TempDir dir;
    CHECK_THROWS_AS(write_mesh_vtp(two_surface_geometry(), dir.path / "no" / "mesh.vtp"), IoError);
  }

  TEST_CASE("PvdWriter lists every frame and is always valid") {
    TempDir dir;
    const fs::path pvd = dir.path / "frames.pvd";
    PvdWriter w(pvd);
    CHECK(slurp(pvd).find("<Collection>") != std::string::npos);
    CHECK(read_pvd(pvd).empty());
    w.add(0.0, "frames/00000.vtp");
    w.add(0.0015, "frames/00001.vtp");
    const std::string text = slurp(pvd);
    CHECK(text.find("<VTKFile type=\"Collection\" version=\"0.1\"") != std::string::npos);
    CHECK(text.find("<DataSet timestep=\"0\" group=\"\" part=\"0\" file=\"frames/00000.vtp\"/>") != std::string::npos);
    CHECK(text.find("<DataSet timestep=\"0.0015\" group=\"\" part=\"0\" file=\"frames/00001.vtp\"/>") !=
          std::string::npos);
    CHECK(text.find("</VTKFile>") != std::string::npos);
    auto entries = read_pvd(pvd);
    REQUIRE(entries.size() == 2);
    CHECK(entries[1].time_s == 0.0015);
    CHECK(entries[1].file == "frames/00001.vtp");
    CHECK(w.size() == 2);
  }
}

namespace {

/// Writes a run directory: a box membrane (region "head") with a PSD patch on its
/// +z face seen by the side camera, and one frame with a few molecules.
void make_run_dir(const fs::path& dir) {
  Geometry g;
  // Head box minus its +z face, plus a separate +z face tagged psd.
  TriangleMesh head = box({0, 0, 0}, {1, 0.8, 0.6});
  TriangleMesh psd;
  psd.vertices = head.vertices;
  psd.triangles = {head.triangles[2], head.triangles[3]};
  head.triangles.erase(head.triangles.begin() + 2, head.triangles.begin() + 4);
  g.add_surface(head, "spine", "head", "cytosol", "extracellular");
  g.add_surface(psd, "spine_psd", "psd", "cytosol", "extracellular");
  write_mesh_vtp(g, dir / "mesh.vtp");

  fs::create_directories(dir / "frames");
  PvdWriter pvd(dir / "frames.pvd");
  Snapshot s = three_molecules();
  s.positions = {{0.5, 0.4, 0.3}, {0.2, 0.2, 0.2}, {0.8, 0.6, 0.4}};
  write_frame_vtp(s, dir / "frames" / "00000.vtp");
  pvd.add(s.time_s, "frames/00000.vtp");
}

std::string input_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.diagnostics().at(0).message;
  }
  return "";
}

}  // namespace

TEST_SUITE("render") {
  TEST_CASE("render_run writes a deterministic PNG") {
    TempDir dir;
    make_run_dir(dir.path);
    RenderOptions o;
    o.width = 400;
    o.height = 300;
    const fs::path a = dir.path / "a.png";
    const fs::path b = dir.path / "b.png";
    render_run(dir.path, a, o);
    render_run(dir.path, b, o);
    CHECK(slurp(a) == slurp(b));

    vtkNew<vtkPNGReader> r;
    r->SetFileName(a.c_str());
    r->Update();
    vtkImageData* img = r->GetOutput();
    int dims[3];
    img->GetDimensions(dims);
    CHECK(dims[0] == 400);
    CHECK(dims[1] == 300);
    auto* px = vtkUnsignedCharArray::SafeDownCast(img->GetPointData()->GetScalars());
    REQUIRE(px != nullptr);
    const int nc = px->GetNumberOfComponents();
    REQUIRE(nc >= 3);
    int non_background = 0, reddish = 0;
    for (vtkIdType i = 0; i < px->GetNumberOfTuples(); ++i) {
      const int cr = px->GetValue(i * nc), cg = px->GetValue(i * nc + 1), cb = px->GetValue(i * nc + 2);
      if (cr < 250 || cg < 250 || cb < 250) ++non_background;
      if (cr > 150 && cr - cg > 50 && cr - cb > 50) ++reddish;
    }
    CHECK(non_background > 400 * 300 / 20);
    CHECK(reddish > 400 * 300 / 50);

    RenderOptions top = o;
    top.camera = "top";
    render_run(dir.path, dir.path / "top.png", top);
    CHECK(fs::file_size(dir.path / "top.png") > 0);
  }

  TEST_CASE("render_run with an empty frame selected by index") {
    TempDir dir;
    make_run_dir(dir.path);
    // Rewrite the index with a second, empty frame.
    PvdWriter pvd(dir.path / "frames.pvd");
    pvd.add(0.00125, "frames/00000.vtp");
    Snapshot empty;
    empty.time_s = 0.0025;
    empty.species_names = {"Ca", "CaM"};
    write_frame_vtp(empty, dir.path / "frames" / "00001.vtp");
    pvd.add(empty.time_s, "frames/00001.vtp");
    RenderOptions o;
    o.width = 320;
    o.height = 240;
    o.frame = 1;
    render_run(dir.path, dir.path / "empty.png", o);
    vtkNew<vtkPNGReader> r;
    r->SetFileName((dir.path / "empty.png").c_str());
    r->Update();
    int dims[3];
    r->GetOutput()->GetDimensions(dims);
    CHECK(dims[0] == 320);
    CHECK(dims[1] == 240);
  }

  TEST_CASE("render_run input errors") {
    TempDir dir;
    RenderOptions o;
    CHECK(input_error_message([&] { render_run(dir.path, dir.path / "x.png", o); }).find("mesh.vtp") !=
          std::string::npos);
    make_run_dir(dir.path);
    o.frame = 3;
    CHECK(input_error_message([&] { render_run(dir.path, dir.path / "x.png", o); }).find("valid frames are 0..0") !=
          std::string::npos);
    o.frame = -1;
    o.camera = "diagonal";
    CHECK(input_error_message([&] { render_run(dir.path, dir.path / "x.png", o); }).find("unknown camera") !=
          std::string::npos);
    CHECK(!fs::exists(dir.path / "x.png"));
  }
}
