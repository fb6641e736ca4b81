// Pictures of a run: the colour tables (suite "palette", no display needed) and, in
// suite "render_scene" (needs an X server: run under xvfb-run -a), a fixed tiny
// scene rendered and checked for size, colours and against a committed reference
// image, plus plot and movie.
#include "viz/render.h"

#include <doctest/doctest.h>
#include <unistd.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkPNGWriter.h>
#include <vtkPointData.h>
#include <vtkUnsignedCharArray.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/snapshot.h"
#include "geometry/geometry.h"
#include "support/temp_dir.h"
#include "support/viz_fixtures.h"
#include "viz/movie.h"
#include "viz/palette.h"
#include "viz/plot.h"
#include "viz/vtk_export.h"

namespace fs = std::filesystem;
using namespace spinesim;
using spinesim::testing::box;
using spinesim::testing::slurp;

namespace {

struct TempDir : testing::TempDir {
  TempDir() : testing::TempDir("spinesim_render") {}
};

const std::vector<std::string> kStates = {"", "NMDAR:C0", "NMDAR:O1", "NMDAR:C0_Mg"};

/// The fixed tiny scene: a 1 × 0.8 × 0.6 µm box ("head") whose +z face, towards the
/// side camera, is the PSD; two volume species (4 molecules each) and four NMDAR
/// agents (2 closed, 1 open, 1 Mg-blocked) just in front of the PSD.
void make_tiny_run(const fs::path& dir) {
  Geometry g;
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
  Snapshot s;
  s.time_s = 0.0015;
  s.species_names = {"glutamate", "calcium", "NMDAR"};
  s.species_display_radius_um = {0.04, 0.04, 0.04};
  s.state_names = kStates;
  s.region_names = {"head", "psd"};
  s.compartment_names = {"cytosol", "extracellular"};
  const double z = 0.65;
  for (int k = 0; k < 4; ++k) {
    s.positions.push_back({0.15 + 0.2 * k, 0.65, z});  // glutamate, top row
    s.species.push_back(0);
    s.state.push_back(0);
    s.positions.push_back({0.15 + 0.2 * k, 0.40, z});  // calcium, middle row
    s.species.push_back(1);
    s.state.push_back(0);
    s.positions.push_back({0.15 + 0.2 * k, 0.15, z});  // NMDAR, bottom row
    s.species.push_back(2);
    s.state.push_back(k == 3 ? 3 : (k == 2 ? 2 : 1));
  }
  for (std::size_t i = 0; i < s.positions.size(); ++i) {
    s.region.push_back(s.species[i] == 2 ? 1 : -1);
    s.compartment.push_back(s.species[i] == 2 ? -1 : 1);
    s.ids.push_back(i);
  }
  write_frame_vtp(s, dir / "frames" / "00000.vtp");
  pvd.add(s.time_s, "frames/00000.vtp");
}

struct Image {
  int width = 0, height = 0;
  std::vector<std::array<int, 3>> px;
};

Image read_png(const fs::path& file) {
  vtkNew<vtkPNGReader> r;
  r->SetFileName(file.c_str());
  r->Update();
  Image img;
  int dims[3];
  r->GetOutput()->GetDimensions(dims);
  img.width = dims[0];
  img.height = dims[1];
  auto* a = vtkUnsignedCharArray::SafeDownCast(r->GetOutput()->GetPointData()->GetScalars());
  REQUIRE(a != nullptr);
  const int nc = a->GetNumberOfComponents();
  REQUIRE(nc >= 3);
  for (vtkIdType i = 0; i < a->GetNumberOfTuples(); ++i)
    img.px.push_back({a->GetValue(i * nc), a->GetValue(i * nc + 1), a->GetValue(i * nc + 2)});
  return img;
}

/// Pixels of colour `c` under shading: the pixel is c scaled by a brightness
/// s ∈ [0.55, 1.35] to within 30/255 per channel (so hue and saturation match).
int count_shaded(const Image& img, const Rgb& c) {
  int n = 0;
  const double cc = c[0] * c[0] + c[1] * c[1] + c[2] * c[2];
  for (const auto& p : img.px) {
    const double pr = p[0] / 255.0, pg = p[1] / 255.0, pb = p[2] / 255.0;
    const double s = (pr * c[0] + pg * c[1] + pb * c[2]) / cc;
    if (s < 0.55 || s > 1.35) continue;
    if (std::abs(pr - s * c[0]) < 30 / 255.0 && std::abs(pg - s * c[1]) < 30 / 255.0 &&
        std::abs(pb - s * c[2]) < 30 / 255.0)
      ++n;
  }
  return n;
}

}  // namespace

TEST_SUITE("palette") {
  TEST_CASE("state colours: closed by type, open yellow, blocked one hue per blocker") {
    const std::vector<std::string> names = {
        "", "NMDAR:C0", "NMDAR:C1", "NMDAR:O1", "NMDAR:C0_Mg", "NMDAR:O1_Mg", "NMDAR:C0_Ket", "AMPAR:C0", "AMPAR:O"};
    const auto c = state_colors(names);
    REQUIRE(c.size() == names.size());
    // Open states are yellow-ish (red and green high, blue low).
    for (std::size_t i : {3u, 8u}) {
      CHECK(c[i][0] > 0.8);
      CHECK(c[i][1] > 0.7);
      CHECK(c[i][2] < 0.3);
    }
    CHECK(c[1] != c[2]);              // closed states of one type differ in lightness
    CHECK(c[1] != c[7]);              // types differ
    CHECK(c[4] != c[6]);              // Mg and ketamine blocks differ
    CHECK(c[4] != c[5]);              // open-blocked is lighter than closed-blocked
    CHECK(state_colors(names) == c);  // a function of the table alone
    CHECK(state_part("NMDAR:C0_Mg") == "C0_Mg");
    CHECK(state_part("plain") == "plain");
  }

  TEST_CASE("species colours follow the name, not the order, across scenes") {
    // Issue 15: AMPAR was orange in one scene and cyan in another.
    const auto a = species_colors({"glutamate", "AMPAR", "NMDAR"});
    const auto b = species_colors({"calcium", "NMDAR", "extrasynaptic_receptor", "AMPAR", "glutamate"});
    CHECK(a[1] == b[3]);  // AMPAR
    CHECK(a[2] == b[1]);  // NMDAR
    CHECK(a[0] == b[4]);  // glutamate
    // Unnamed species take colours no named species of the scene uses, all distinct.
    const auto c = species_colors({"glutamate", "X", "Y", "calcium", "Z"});
    for (std::size_t i = 0; i < c.size(); ++i)
      for (std::size_t j = 0; j < i; ++j) CHECK(c[i] != c[j]);
    CHECK(c[0] == a[0]);
  }

  TEST_CASE("species colours differ from the PSD colour and from each other") {
    const Rgb psd = region_style("psd", 0).color;
    for (std::size_t i = 0; i < 9; ++i) {
      CHECK(species_color(i) != psd);
      for (std::size_t j = 0; j < i; ++j) CHECK(species_color(i) != species_color(j));
    }
    CHECK(region_style("psd", 0).opacity == 1.0);
    CHECK(region_style("head", 0).color != region_style("neck", 0).color);
    CHECK(region_style("neck", 0).color != region_style("shaft", 0).color);
  }

  TEST_CASE("default plot columns: changing counts first, at most 8, no currents") {
    CountsCsv t;
    t.names = {"time_s", "a@cytosol", "b@cytosol", "R.current_pA", "absorbed:a@end", "c@cytosol"};
    t.rows = {{0, 1, 5, 0, 0, 2}, {1, 2, 5, -3, 1, 3}};
    CHECK(default_plot_columns(t) == std::vector<std::string>{"a@cytosol", "c@cytosol", "absorbed:a@end"});
    CHECK(default_plot_columns(t, 1) == std::vector<std::string>{"a@cytosol"});
  }
}

TEST_SUITE("render_scene") {
  TEST_CASE("tiny scene: size, PSD and every species and state colour present, deterministic") {
    TempDir dir;
    make_tiny_run(dir.path);
    RenderOptions o;
    o.width = 320;
    o.height = 240;
    const fs::path a = dir.path / "a.png";
    render_run(dir.path, a, o);
    render_run(dir.path, dir.path / "b.png", o);
    CHECK(slurp(a) == slurp(dir.path / "b.png"));

    const Image img = read_png(a);
    CHECK(img.width == 320);
    CHECK(img.height == 240);
    int non_white = 0;
    for (const auto& p : img.px)
      if (p[0] < 245 || p[1] < 245 || p[2] < 245) ++non_white;
    CHECK(non_white > 320 * 240 / 4);

    // px/µm = 240 / (2 · 1.12 · max(0.8/2, 1/(2·4/3))) ≈ 268, so a 0.04 µm sphere has a
    // radius of ~10.7 px and covers ~360 px; 4 per species (or 2 per closed state).
    const int psd = count_shaded(img, region_style("psd", 1).color);
    MESSAGE("psd pixels: ", psd);
    CHECK(psd > 320 * 240 / 6);
    const auto states = state_colors(kStates, {{"NMDAR", species_color(2)}});
    const std::vector<std::pair<std::string, std::pair<Rgb, int>>> expected = {{"glutamate", {species_color(0), 4}},
                                                                               {"calcium", {species_color(1), 4}},
                                                                               {"NMDAR:C0", {states[1], 2}},
                                                                               {"NMDAR:O1", {states[2], 1}},
                                                                               {"NMDAR:C0_Mg", {states[3], 1}}};
    for (const auto& [name, spec] : expected) {
      const int n = count_shaded(img, spec.first);
      MESSAGE(name, " pixels: ", n);
      CHECK(n > 120 * spec.second);
      CHECK(n < 500 * spec.second);
    }
  }

  TEST_CASE("tiny scene matches the committed reference image") {
    // Tolerance: Mesa's llvmpipe gives byte-identical images on one machine (checked
    // above), but another Mesa / LLVM version or CPU (AVX2 vs AVX-512 code paths)
    // rounds edge coverage, FXAA and the SSAO blur differently. So every pixel may
    // differ by up to 12/255 per channel, and at most 1 % of pixels (sphere and text
    // edges) by more; a wrong colour, camera, legend or missing sphere changes far more.
    TempDir dir;
    make_tiny_run(dir.path);
    RenderOptions o;
    o.width = 240;
    o.height = 180;
    const fs::path out = dir.path / "tiny.png";
    render_run(dir.path, out, o);
    const fs::path reference = fs::path(SPINESIM_TEST_DATA_DIR) / "render_reference" / "tiny_side.png";
    if (std::getenv("SPINESIM_UPDATE_RENDER_REFERENCE") != nullptr) {
      fs::create_directories(reference.parent_path());
      fs::copy_file(out, reference, fs::copy_options::overwrite_existing);
      MESSAGE("reference image rewritten: ", reference.string());
    }
    REQUIRE(fs::exists(reference));
    const Image got = read_png(out), want = read_png(reference);
    REQUIRE(got.width == want.width);
    REQUIRE(got.height == want.height);
    int off = 0, max_diff = 0;
    for (std::size_t i = 0; i < got.px.size(); ++i) {
      int d = 0;
      for (int k = 0; k < 3; ++k)
        d = std::max(d, std::abs(got.px[i][static_cast<std::size_t>(k)] - want.px[i][static_cast<std::size_t>(k)]));
      max_diff = std::max(max_diff, d);
      if (d > 12) ++off;
    }
    MESSAGE("pixels off by > 12: ", off, " of ", got.px.size(), "; largest difference ", max_diff);
    CHECK(off <= static_cast<int>(got.px.size()) / 100);
  }

  TEST_CASE("cameras and time selection") {
    TempDir dir;
    make_tiny_run(dir.path);
    RenderOptions o;
    o.width = 160;
    o.height = 120;
    for (const auto& cam : kRenderCameras) {
      o.camera = cam;
      const fs::path png = dir.path / (cam + ".png");
      render_run(dir.path, png, o);
      CHECK(read_png(png).width == 160);
    }
    o.camera = "side";
    o.time_s = 0.0015;
    render_run(dir.path, dir.path / "t.png", o);
    o.time_s = 5.0;
    try {
      render_run(dir.path, dir.path / "late.png", o);
      FAIL("a time outside the frames must be an error");
    } catch (const InputError& e) {
      CHECK(e.diagnostics().at(0).message.find("frames cover") != std::string::npos);
    }
  }

  TEST_CASE("plot: chart of counts.csv, unknown column lists the valid ones") {
    TempDir dir;
    std::ofstream(dir.path / "counts.csv") << "time_s,calcium@cytosol,glutamate@cleft,AMPAR.open\n"
                                              "0,300,3000,0\n0.001,250,100,12\n0.002,200,5,3\n";
    PlotOptions o;
    o.width = 400;
    o.height = 300;
    plot_counts(dir.path, dir.path / "p.png", o);
    const Image img = read_png(dir.path / "p.png");
    CHECK(img.width == 400);
    CHECK(img.height == 300);
    CHECK(count_shaded(img, species_color(0)) > 50);  // first line
    o.columns = {"calcium@cytosol", "nope"};
    try {
      plot_counts(dir.path, dir.path / "q.png", o);
      FAIL("unknown column must be an error");
    } catch (const InputError& e) {
      const std::string m = e.diagnostics().at(0).message;
      CHECK(m.find("no column 'nope'") != std::string::npos);
      CHECK(m.find("calcium@cytosol, glutamate@cleft, AMPAR.open") != std::string::npos);
    }
    CHECK(!fs::exists(dir.path / "q.png"));
  }

  TEST_CASE("movie without ffmpeg leaves a numbered PNG sequence") {
    TempDir dir;
    make_tiny_run(dir.path);
    // A second frame so the sequence has two images.
    PvdWriter pvd(dir.path / "frames.pvd");
    pvd.add(0.0015, "frames/00000.vtp");
    pvd.add(0.0030, "frames/00000.vtp");
    const std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    ::setenv("PATH", dir.path.c_str(), 1);
    MovieOptions o;
    o.render.width = 160;
    o.render.height = 120;
    o.orbit = true;
    const MovieResult r = make_movie(dir.path, dir.path / "m.mp4", o);
    ::setenv("PATH", old_path.c_str(), 1);
    CHECK(!r.encoded);
    CHECK(r.frames == 2);
    CHECK(r.written == dir.path / "m_frames");
    CHECK(fs::exists(dir.path / "m_frames" / "frame_00000.png"));
    CHECK(fs::exists(dir.path / "m_frames" / "frame_00001.png"));
    // The orbit turns the camera: the two frames (same molecules) differ.
    CHECK(slurp(dir.path / "m_frames" / "frame_00000.png") != slurp(dir.path / "m_frames" / "frame_00001.png"));
  }
}
