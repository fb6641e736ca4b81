#include "io/scene_loader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/input_file.h"
#include "core/units.h"
#include "geometry/intersect.h"
#include "geometry/mesh_check.h"
#include "geometry/spatial_grid.h"
#include "geometry/spine_builder.h"
#include "io/mesh_import.h"
#include "io/sbml.h"
#include "model/reaction_radii.h"
#include "model/reaction_radii_2d.h"
#include "schema/agent.pb.h"
#include "schema/scene.pb.h"

namespace spinesim {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
using scene::Scene;

namespace {
/// A number as a person would write it (%g): std::to_string prints 1e-300 as 0.000000.
std::string gnum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// One step of a field path: a field name and, for repeated fields, an index.
struct PathStep {
  const char* field;
  int index = -1;
};

/// Turns field paths into file:line:column diagnostics using the parser's record
/// of where each field was written.
class Locator {
 public:
  Locator(std::string file, const pb::TextFormat::ParseInfoTree* tree, const pb::Message* root)
      : file_(std::move(file)), tree_(tree), root_(root) {}

  Diagnostic at(const std::vector<PathStep>& path, std::string message) const {
    Diagnostic d;
    d.file = file_;
    d.message = std::move(message);
    // Walk the parsed message beside the location tree: the tree may only be asked
    // about entries that exist (protobuf aborts on an index out of range).
    const pb::Message* msg = root_;
    const pb::TextFormat::ParseInfoTree* tree = tree_;
    pb::TextFormat::ParseLocation best;  // the deepest location that exists
    for (std::size_t k = 0; k < path.size(); ++k) {
      const PathStep& s = path[k];
      if (!d.field.empty()) d.field += ".";
      d.field += s.field;
      if (s.index >= 0) d.field += "[" + std::to_string(s.index) + "]";
      const pb::FieldDescriptor* fd = msg ? msg->GetDescriptor()->FindFieldByName(s.field) : nullptr;
      if (!fd || !tree) {
        msg = nullptr;
        continue;
      }
      const pb::Reflection* refl = msg->GetReflection();
      const bool exists = fd->is_repeated() ? (s.index >= 0 && s.index < refl->FieldSize(*msg, fd))
                                            : (s.index < 0 && refl->HasField(*msg, fd));
      if (!exists) {
        msg = nullptr;
        continue;
      }
      const auto loc = tree->GetLocation(fd, s.index);
      if (loc.line >= 0) best = loc;
      if (fd->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
        tree = tree->GetTreeForNested(fd, s.index);
        msg = fd->is_repeated() ? &refl->GetRepeatedMessage(*msg, fd, s.index) : &refl->GetMessage(*msg, fd);
      } else {
        msg = nullptr;
      }
    }
    if (best.line >= 0) {
      d.line = best.line + 1;
      d.column = best.column + 1;
    }
    return d;
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  const pb::TextFormat::ParseInfoTree* tree_;
  const pb::Message* root_;
};

class ParseErrors : public pb::io::ErrorCollector {
 public:
  ParseErrors(std::string file, std::vector<Diagnostic>& out) : file_(std::move(file)), out_(out) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    out_.push_back({file_, line + 1, column + 1, "", message + hint(message)});
  }
  void AddWarning(int line, pb::io::ColumnNumber column, const std::string& message) override {
    out_.push_back({file_, line + 1, column + 1, "", "warning: " + message});
  }

 private:
  static std::string hint(const std::string& m) {
    if (m.find("no field named") != std::string::npos)
      return " (check the spelling against docs/scene-format.md or src/io/schema/scene.proto)";
    if (m.size() >= 5 && m.compare(m.size() - 5, 5, "got: ") == 0)
      return "(the file ends inside a block: add the missing '}')";
    return "";
  }
  std::string file_;
  std::vector<Diagnostic>& out_;
};

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Writes every unset optional field's default into `m` (recursively into present
// sub-messages), so the resolved scene shows exactly what ran.
void fill_defaults(pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  const pb::Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) {
      if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE)
        for (int k = 0; k < r->FieldSize(m, f); ++k) fill_defaults(*r->MutableRepeatedMessage(&m, f, k));
      continue;
    }
    if (f->containing_oneof()) {
      if (r->HasField(m, f) && f->type() == pb::FieldDescriptor::TYPE_MESSAGE) fill_defaults(*r->MutableMessage(&m, f));
      continue;
    }
    if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
      if (r->HasField(m, f)) fill_defaults(*r->MutableMessage(&m, f));
      continue;
    }
    if (r->HasField(m, f) || !f->has_default_value()) continue;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(&m, f, f->default_value_double());
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(&m, f, f->default_value_uint64());
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(&m, f, f->default_value_bool());
        break;
      case pb::FieldDescriptor::CPPTYPE_STRING:
        r->SetString(&m, f, f->default_value_string());
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnum(&m, f, f->default_value_enum());
        break;
      default:
        break;
    }
  }
}

Geometry box_geometry(double x, double y, double z) {
  const TriangleMesh m = box_mesh(x, y, z);
  Geometry g;
  g.add_surface(m, "box_wall", "box_wall", "box", "extracellular");
  return g;
}

/// Everything the compiler needs while it walks the scene.
class SceneCompiler {
 public:
  SceneCompiler(const Scene& s, const Locator& loc, const fs::path& scene_dir, std::vector<Diagnostic>& errors,
                std::vector<Diagnostic>& warnings, bool t_end_overridden)
      : s_(s), loc_(loc), dir_(scene_dir), errors_(errors), warnings_(warnings), t_end_overridden_(t_end_overridden) {}

  Model compile() {
    Model m;
    m.name = s_.name();
    compile_simulation(m);
    compile_geometry(m);
    compile_agent_types(m);
    compile_environment(m);
    compile_species(m);
    resolve_agent_ligands(m);
    compile_backgrounds(m);
    if (!geometry_ok_) return m;
    // Only point queries here: no wall clearances needed.
    grid_ = std::make_unique<SpatialGrid>(m.geometry, padded(m.geometry.bounds(), 0.1), 0.05, 1u << 20, false);
    compile_surface_classes(m);
    compile_placements(m);
    compile_releases(m);
    compile_reactions(m);
    compile_productions(m);
    compile_well_mixed(m);
    compile_output(m);
    check_molecule_budget(m);
    return m;
  }

  /// Absolute mesh paths for the resolved scene.
  std::map<std::string, std::string> resolved_files;
  /// Offending triangles of every surface that intersects itself or another surface.
  std::vector<MeshIntersections> mesh_intersections;

 private:
  void error(const std::vector<PathStep>& path, const std::string& msg) { errors_.push_back(loc_.at(path, msg)); }
  /// Compartment, region and surface names become counts.csv column names: commas and
  /// quotes are quoted there (RFC 4180), but a line break or other control character
  /// would split a header line for many CSV readers, so it is refused.
  bool check_place_name(const std::vector<PathStep>& path, const std::string& name) {
    for (unsigned char c : name)
      if (c < 0x20 || c == 0x7f) {
        error(path, "name contains a control character (code " + std::to_string(c) +
                        ", e.g. a line break or tab); use letters, digits, spaces or punctuation");
        return false;
      }
    return true;
  }
  /// Membrane molecules are placed uniformly by area on a region's triangles; a region
  /// whose triangles were all re-tagged by markers has none to place on.
  static bool has_membrane(const Model& m, int region) {
    for (TriangleIndex t = 0; t < m.geometry.triangle_count(); ++t)
      if (m.geometry.triangle_region[t] == region && m.geometry.area(t) > 0) return true;
    return false;
  }
  bool region_has_membrane(const Model& m, const std::vector<PathStep>& path, int region, const std::string& what) {
    if (has_membrane(m, region)) return true;
    std::string have;
    std::vector<std::uint8_t> seen(m.geometry.region_names.size(), 0);
    for (TriangleIndex t = 0; t < m.geometry.triangle_count(); ++t) seen[m.geometry.triangle_region[t]] = 1;
    for (std::size_t r = 0; r < seen.size(); ++r)
      if (seen[r]) have += " " + m.geometry.region_names[r];
    error(path, "region '" + m.geometry.region_names[static_cast<std::size_t>(region)] +
                    "' has no membrane left (markers re-tagged all its triangles), so " + what +
                    " cannot go there; regions with membrane:" + have);
    return false;
  }
  static Box3 padded(Box3 b, double pad) {
    b.lo -= Vec3{pad, pad, pad};
    b.hi += Vec3{pad, pad, pad};
    return b;
  }

  void compile_simulation(Model& m) {
    const auto& sim = s_.simulation();
    m.dt_s = sim.dt_s();
    m.t_end_s = sim.t_end_s();
    m.seed = sim.seed();
    m.grid_cell_um = sim.grid_cell_um();
    m.max_molecules = sim.max_molecules();
    m.temperature_C = sim.temperature_c();
    if (!(std::isfinite(m.temperature_C) && m.temperature_C > -50 && m.temperature_C < 100))
      error({{"simulation"}, {"temperature_C"}}, "temperature must be in °C between −50 and 100 (got " +
                                                     std::to_string(m.temperature_C) + "); was it given in kelvin?");
    if (m.max_molecules > 0xFFFFFFFFull)
      error({{"simulation"}, {"max_molecules"}}, "at most 4294967295 molecules (32-bit molecule ids)");
    if (!(std::isfinite(m.dt_s) && m.dt_s > 0))
      error({{"simulation"}, {"dt_s"}}, "time step must be > 0 s; 1e-6 (1 µs) suits glutamate in a 20 nm cleft");
    else if (m.dt_s > 1e-2)
      error({{"simulation"}, {"dt_s"}}, "time step " + std::to_string(m.dt_s) +
                                            " s is longer than 10 ms; Brownian steps that long cross a whole spine — "
                                            "use 1e-6 to 1e-4 s");
    if (!(std::isfinite(m.t_end_s) && m.t_end_s > 0))
      error({{"simulation"}, {"t_end_s"}}, "end time must be > 0 s (got " + std::to_string(m.t_end_s) + ")");
    if (!(std::isfinite(m.grid_cell_um) && m.grid_cell_um >= 0))
      error({{"simulation"}, {"grid_cell_um"}}, "grid cell size must be ≥ 0 µm (0 = automatic)");
  }

  void compile_geometry(Model& m) {
    if (!s_.has_geometry() || s_.geometry().shape_case() == scene::Geometry::SHAPE_NOT_SET) {
      error({{"geometry"}},
            "a scene needs a geometry: add geometry { spine { } } for the default spine, "
            "geometry { box { } } or geometry { meshes { surface { file: ... } } }");
      geometry_ok_ = false;
      return;
    }
    const auto& geo = s_.geometry();
    try {
      if (geo.has_spine()) {
        const auto& sp = geo.spine();
        SpineParams p;
        p.head_radius_um = sp.head_radius_um();
        p.neck_radius_um = sp.neck_radius_um();
        p.neck_length_um = sp.neck_length_um();
        p.shaft_radius_um = sp.shaft_radius_um();
        p.shaft_length_um = sp.shaft_length_um();
        p.psd_radius_um = sp.psd_radius_um();
        p.perisynaptic_width_um = sp.perisynaptic_width_um();
        p.cleft = sp.cleft();
        p.cleft_width_um = sp.cleft_width_um();
        p.bouton_height_um = sp.bouton_height_um();
        p.edge_length_um = sp.edge_length_um();
        m.geometry = build_spine(p);
      } else if (geo.has_box()) {
        const auto& b = geo.box();
        const double dims[3] = {b.x_um(), b.y_um(), b.z_um()};
        const char* names[3] = {"x_um", "y_um", "z_um"};
        for (int a = 0; a < 3; ++a)
          if (!(std::isfinite(dims[a]) && dims[a] >= kMinFeatureUm)) {
            error({{"geometry"}, {"box"}, {names[a]}},
                  "box edge length must be > 0 and at least " + gnum(kMinFeatureUm) +
                      " µm (1 nm; thinner than the reflection code resolves exactly), got " + gnum(dims[a]));
            geometry_ok_ = false;
          }
        if (geometry_ok_) m.geometry = box_geometry(dims[0], dims[1], dims[2]);
      } else {
        compile_meshes(m);
      }
    } catch (const InputError& e) {
      // Builder errors name the parameter; place them at the geometry block.
      for (Diagnostic d : e.diagnostics()) {
        const Diagnostic where = loc_.at({{"geometry"}}, "");
        if (d.file.empty()) {
          d.file = where.file;
          d.line = where.line;
          d.column = where.column;
        }
        errors_.push_back(d);
      }
      geometry_ok_ = false;
    }
    if (!geometry_ok_) return;
    // Exactly one compartment must lie outside every surface: the world box closes it.
    std::vector<int> outer;
    for (std::size_t c = 0; c < m.geometry.compartment_names.size(); ++c)
      if (!m.geometry.compartment_bounded[c]) outer.push_back(static_cast<int>(c));
    if (outer.size() != 1) {
      std::string names;
      for (int c : outer) names += (names.empty() ? "" : ", ") + m.geometry.compartment_names[c];
      error({{"geometry"}},
            outer.empty()
                ? "no compartment lies outside the surfaces; give the outermost surface an "
                  "'outside' compartment"
                : "compartments " + names + " all lie outside every surface; give these surfaces the same 'outside'");
      geometry_ok_ = false;
      return;
    }
    m.outer_compartment = outer[0];
    // The world box closing the outer compartment is a region of its own, without
    // triangles, so a surface_class can make it absorb (a neuropil sink).
    try {
      m.world_box_region = m.geometry.intern_region("world_box");
    } catch (const std::length_error& e) {
      error({{"geometry"}},
            std::string("too many regions: ") + e.what() + " (the world box needs one); reuse region names");
      geometry_ok_ = false;
      return;
    }
    m.world_padding_um = geo.world_padding_um();
    if (!(std::isfinite(m.world_padding_um) && m.world_padding_um >= 0 && m.world_padding_um <= 100))
      error({{"geometry"}, {"world_padding_um"}}, "world padding must be in [0, 100] µm");
    for (const auto& problem : check_compartments_closed(m.geometry)) {
      error({{"geometry"}}, problem);
      geometry_ok_ = false;
    }
  }

  fs::path resolve(const std::string& f) const {
    fs::path p(f);
    return p.is_absolute() ? p : dir_ / p;
  }

  void compile_meshes(Model& m) {
    const auto& mg = s_.geometry().meshes();
    if (mg.surface_size() == 0) {
      error({{"geometry"}, {"meshes"}}, "add at least one surface { file: \"...\" inside: \"cytosol\" }");
      geometry_ok_ = false;
      return;
    }
    std::set<std::string> surface_names;
    struct LoadedSurface {
      std::string name;
      int index;
      TriangleMesh mesh;
    };
    std::vector<LoadedSurface> loaded;
    for (int i = 0; i < mg.surface_size(); ++i) {
      const auto& ms = mg.surface(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"geometry"}, {"meshes"}, {"surface", i}, {f}}; };
      if (ms.file().empty()) {
        error(field("file"), "mesh file is required");
        geometry_ok_ = false;
        continue;
      }
      if (ms.inside().empty()) {
        error(field("inside"), "name the compartment enclosed by this surface, e.g. inside: \"cytosol\"");
        geometry_ok_ = false;
      }
      if (!(std::isfinite(ms.scale_to_um()) && ms.scale_to_um() > 0)) {
        error(field("scale_to_um"), "scale must be > 0");
        geometry_ok_ = false;
        continue;
      }
      const fs::path path = resolve(ms.file());
      resolved_files[ms.file()] = fs::absolute(path).lexically_normal().string();
      const std::string name = ms.name().empty() ? path.stem().string() : ms.name();
      if (!check_place_name(field("inside"), ms.inside()) || !check_place_name(field("outside"), ms.outside()) ||
          !check_place_name(field("region"), ms.region()) || !check_place_name(field("name"), name)) {
        geometry_ok_ = false;
        continue;
      }
      if (!surface_names.insert(name).second) {
        error(field("name"), "duplicate surface name '" + name + "'; give each surface a unique name");
        geometry_ok_ = false;
      }
      try {
        TriangleMesh mesh = read_surface_mesh(path);
        for (auto& v : mesh.vertices) v = v * ms.scale_to_um();
        const std::size_t flipped = orient_outward(mesh, path.string());
        if (flipped > 0)
          warnings_.push_back(loc_.at(field("file"), "warning: " + path.string() + ": " + std::to_string(flipped) +
                                                         " triangles had inconsistent or inward winding and were "
                                                         "flipped so normals point out of '" +
                                                         ms.inside() + "'"));
        if (const auto si = check_self_intersections(mesh, kIntersectionsKept); si.pairs > 0) {
          mesh_intersections.push_back({name, intersecting_triangles(mesh, si), si});
          error(field("file"),
                path.string() + ": the surface intersects itself: " + si.found[0].describe() +
                    (si.pairs > 1 ? std::string(" (and ") + (si.pairs >= kIntersectionsKept ? "at least " : "") +
                                        std::to_string(si.pairs - 1) + " more pair" + (si.pairs == 2 ? ")" : "s)")
                                  : std::string()) +
                    "; repair the mesh (e.g. MeshLab 'Select Self Intersecting Faces', "
                    "or PyMeshFix) so molecules cannot slip through, and see them with "
                    "`spinesim validate SCENE --intersections FILE.vtp`");
          geometry_ok_ = false;
        }
        if (geometry_ok_) {
          m.geometry.add_surface(mesh, name, ms.region().empty() ? name : ms.region(), ms.inside(), ms.outside());
          loaded.push_back({name, i, std::move(mesh)});
        }
      } catch (const std::length_error& e) {
        error(field("name"), std::string("too many regions or compartments: ") + e.what() +
                                 "; give surfaces shared region and compartment names");
        geometry_ok_ = false;
      } catch (const InputError& e) {
        for (const Diagnostic& d : e.diagnostics()) {
          Diagnostic at = loc_.at(field("file"), d.file + ": " + d.message);
          errors_.push_back(at);
        }
        geometry_ok_ = false;
      }
    }
    // Surfaces that cross or touch each other pinch or trap a compartment: molecules
    // reflect off whichever triangle they meet first. Checked pairwise, each pair as one
    // mesh whose index ranges keep the two apart (no shared vertices).
    for (std::size_t x = 0; x < loaded.size() && geometry_ok_; ++x)
      for (std::size_t y = x + 1; y < loaded.size() && geometry_ok_; ++y) {
        TriangleMesh both = loaded[x].mesh;
        const auto offset = static_cast<std::uint32_t>(both.vertices.size());
        const auto first_of_y = static_cast<std::uint32_t>(both.triangles.size());
        both.vertices.insert(both.vertices.end(), loaded[y].mesh.vertices.begin(), loaded[y].mesh.vertices.end());
        for (auto t : loaded[y].mesh.triangles) both.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
        const auto si = check_self_intersections(both, kIntersectionsKept);
        if (si.pairs == 0) continue;
        auto in_files = si;  // triangle indices as in each surface's own file
        for (auto& pair : in_files.found) pair.triangles[1] -= first_of_y;
        mesh_intersections.push_back(
            {loaded[x].name + " x " + loaded[y].name, intersecting_triangles(both, si), in_files});
        std::ostringstream msg;
        msg << "surfaces '" << loaded[x].name << "' and '" << loaded[y].name
            << "' meet: " << in_files.found[0].describe() << " (the first triangle in '" << loaded[x].name
            << "', the second in '" << loaded[y].name
            << "'); surfaces must neither cross nor touch: shrink, move or remesh one of them";
        error(std::vector<PathStep>{{"geometry"}, {"meshes"}, {"surface", loaded[y].index}, {"file"}}, msg.str());
        geometry_ok_ = false;
      }
    // Gaps thinner than the reflection code resolves (kMinFeatureUm), within one
    // surface or between two: one combined mesh, so a cleft between a spine and a
    // bouton is found as a thin slab is.
    if (geometry_ok_ && !loaded.empty()) {
      TriangleMesh all;
      std::vector<std::uint32_t> first_vertex, first_triangle;
      for (const LoadedSurface& l : loaded) {
        const auto offset = static_cast<std::uint32_t>(all.vertices.size());
        first_vertex.push_back(offset);
        first_triangle.push_back(static_cast<std::uint32_t>(all.triangles.size()));
        all.vertices.insert(all.vertices.end(), l.mesh.vertices.begin(), l.mesh.vertices.end());
        for (auto t : l.mesh.triangles) all.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
      }
      if (const auto gap = find_thin_gap(all, kMinFeatureUm)) {
        auto owner = [](const std::vector<std::uint32_t>& firsts, std::uint32_t i) {
          return static_cast<std::size_t>(std::upper_bound(firsts.begin(), firsts.end(), i) - firsts.begin()) - 1;
        };
        const std::size_t sv = owner(first_vertex, gap->vertex), st = owner(first_triangle, gap->triangle);
        const Vec3& p = all.vertices[gap->vertex];
        std::ostringstream msg;
        msg << "vertex " << gap->vertex - first_vertex[sv] << " of surface '" << loaded[sv].name << "' at (" << p.x
            << ", " << p.y << ", " << p.z << ") µm is " << gap->distance_um << " µm from triangle "
            << gap->triangle - first_triangle[st] << " of surface '" << loaded[st].name << "': a gap thinner than the "
            << kMinFeatureUm
            << " µm (1 nm) the reflection code resolves exactly (molecules would cross it while counts keep them "
               "inside); widen the gap to at least "
            << kMinFeatureUm << " µm or remesh";
        error(std::vector<PathStep>{{"geometry"}, {"meshes"}, {"surface", loaded[sv].index}, {"file"}}, msg.str());
        geometry_ok_ = false;
      }
    }
    // Which marker tagged each triangle: a marker that re-tags another's triangles
    // would silently undo part of the first (the later one wins), so overlaps are refused.
    std::vector<int> tagged_by(m.geometry.triangle_count(), -1);
    for (int i = 0; i < mg.marker_size() && geometry_ok_; ++i) {
      const auto& mk = mg.marker(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"geometry"}, {"meshes"}, {"marker", i}, {f}}; };
      const int surface = m.geometry.find_surface(mk.surface());
      if (surface < 0) {
        error(field("surface"), "no surface named '" + mk.surface() + "'");
        continue;
      }
      if (mk.region().empty()) {
        error(field("region"), "name the region to tag, e.g. region: \"psd\"");
        continue;
      }
      if (!check_place_name(field("region"), mk.region())) continue;
      try {
        const fs::path path = resolve(mk.file());
        resolved_files[mk.file()] = fs::absolute(path).lexically_normal().string();
        if (!(std::isfinite(mk.scale_to_um()) && mk.scale_to_um() > 0)) {
          error(field("scale_to_um"), "scale must be > 0");
          continue;
        }
        TriangleMesh marker = read_surface_mesh(path);
        for (auto& v : marker.vertices) v = v * mk.scale_to_um();
        orient_outward(marker, path.string());
        const RegionId region = m.geometry.intern_region(mk.region());
        std::size_t tagged = 0, overlap = 0;
        int overlapped = -1;
        for (TriangleIndex t = 0; t < m.geometry.triangle_count(); ++t)
          if (m.geometry.triangle_surface[t] == surface && point_inside(marker, m.geometry.centroid(t))) {
            if (tagged_by[t] >= 0) {
              if (overlapped < 0) overlapped = tagged_by[t];
              ++overlap;
              continue;
            }
            m.geometry.triangle_region[t] = region;
            tagged_by[t] = i;
            ++tagged;
          }
        if (overlap > 0)
          error(field("file"), "the marker overlaps marker[" + std::to_string(overlapped) + "] ('" +
                                   mg.marker(overlapped).region() + "') on " + std::to_string(overlap) +
                                   " triangle(s) of surface '" + mk.surface() +
                                   "'; a triangle belongs to one region: make the markers disjoint");
        else if (tagged == 0)
          error(field("file"), "the marker encloses no triangle centroid of surface '" + mk.surface() +
                                   "'; check that it overlaps the surface and uses the same units");
      } catch (const std::length_error& e) {
        error(field("region"), std::string("too many regions: ") + e.what() + "; reuse region names");
        geometry_ok_ = false;
      } catch (const InputError& e) {
        for (const Diagnostic& d : e.diagnostics())
          errors_.push_back(loc_.at(field("file"), d.file + ": " + d.message));
      }
    }
  }

  void compile_species(Model& m) {
    std::set<std::string> names;
    for (int i = 0; i < s_.species_size(); ++i) {
      const auto& sp = s_.species(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"species", i}, {f}}; };
      SpeciesDef def;
      def.name = sp.name();
      def.membrane = sp.kind() == scene::Species::MEMBRANE;
      def.diffusion_um2_per_s = sp.diffusion_um2_per_s();
      def.display_radius_um = sp.display_radius_um();
      if (!is_identifier(sp.name()))
        error(field("name"),
              "species name '" + sp.name() + "' must be letters, digits and '_' (it becomes a column name)");
      else if (!names.insert(sp.name()).second)
        error(field("name"), "duplicate species name '" + sp.name() + "'; each species needs a unique name");
      if (!sp.has_diffusion_um2_per_s())
        error(field("diffusion_um2_per_s"), "diffusion coefficient is required (µm²/s; 0 for immobile)");
      else if (!(std::isfinite(def.diffusion_um2_per_s) && def.diffusion_um2_per_s >= 0))
        error(field("diffusion_um2_per_s"),
              "diffusion coefficient must be ≥ 0 µm²/s (got " + std::to_string(def.diffusion_um2_per_s) + ")");
      else if (def.diffusion_um2_per_s >= 1000)
        error(field("diffusion_um2_per_s"),
              "diffusion coefficient " + std::to_string(def.diffusion_um2_per_s) +
                  " µm²/s is faster than any molecule here (free glutamate 760, Ca2+ 220 µm²/s); was it given in "
                  "nm²/s or cm²/s? The unit is µm²/s");
      if (sp.has_confine_to_region()) {
        if (!def.membrane)
          error(field("confine_to_region"), "only membrane species can be confined to a region");
        else if (geometry_ok_) {
          def.confine_region = m.geometry.find_region(sp.confine_to_region());
          if (def.confine_region < 0)
            error(field("confine_to_region"), "no region named '" + sp.confine_to_region() + "'" + region_list(m));
        }
      }
      if (!(std::isfinite(def.display_radius_um) && def.display_radius_um > 0))
        error(field("display_radius_um"), "display radius must be > 0 µm");
      def.capture_radius_um = sp.capture_radius_um();
      def.binds_from_back = sp.binding_side() == scene::Species::BACK;
      if (sp.has_agent_type()) {
        if (!def.membrane) error(field("agent_type"), "agents live on the membrane: give the species kind: MEMBRANE");
        for (std::size_t t = 0; t < m.agent_types.size(); ++t)
          if (m.agent_types[t].name == sp.agent_type()) def.agent_type = static_cast<int>(t);
        if (def.agent_type < 0) {
          std::string known;
          for (const auto& t : m.agent_types) known += " " + t.name;
          error(field("agent_type"),
                "no agent type named '" + sp.agent_type() + "' in the scene's agent_file list" +
                    (known.empty() ? std::string(" (none loaded: add agent_file: \"../agents/NAME.pbtxt\")")
                                   : "; known:" + known));
        }
        if (!(std::isfinite(def.capture_radius_um) && def.capture_radius_um > 0 && def.capture_radius_um < 0.1))
          error(field("capture_radius_um"), "capture radius must be in (0, 0.1) µm");
      }
      m.species.push_back(def);
    }
    if (m.species.size() > 60000) error({{"species"}}, "too many species");
    m.surface_behaviour.assign(m.geometry.region_names.size() * m.species.size(), SurfaceBehaviour::kReflect);
  }

  std::string region_list(const Model& m) const {
    std::string out = "; regions are:";
    for (const auto& r : m.geometry.region_names) out += " " + r;
    return out;
  }
  std::string compartment_list(const Model& m) const {
    std::string out = "; compartments are:";
    for (const auto& c : m.geometry.compartment_names) out += " " + c;
    return out;
  }

  int species_ref(const Model& m, const std::vector<PathStep>& path, const std::string& name) {
    const int s = m.find_species(name);
    if (s < 0) error(path, "unknown species '" + name + "'; declare it in a species { } block");
    return s;
  }

  void compile_surface_classes(Model& m) {
    for (int i = 0; i < s_.surface_class_size(); ++i) {
      const auto& sc = s_.surface_class(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"surface_class", i}, {f}}; };
      const int region = m.geometry.find_region(sc.region());
      if (region < 0) {
        error(field("region"), "no region named '" + sc.region() + "'" + region_list(m));
        continue;
      }
      std::vector<int> targets;
      if (sc.species().empty()) {
        for (std::size_t s = 0; s < m.species.size(); ++s)
          if (!m.species[s].membrane) targets.push_back(static_cast<int>(s));
      } else {
        const int s = species_ref(m, field("species"), sc.species());
        if (s < 0) continue;
        if (m.species[s].membrane) {
          error(field("species"),
                "surface classes apply to volume species; '" + sc.species() + "' is a membrane species");
          continue;
        }
        targets.push_back(s);
      }
      const auto type = static_cast<SurfaceBehaviour>(sc.type());
      if (region == m.world_box_region && type == SurfaceBehaviour::kTransmit) {
        error(field("type"), "nothing lies beyond the world box: make it REFLECTIVE or ABSORPTIVE");
        continue;
      }
      for (int s : targets) {
        const auto key = std::make_pair(region, s);
        if (auto it = surface_class_seen_.find(key); it != surface_class_seen_.end()) {
          error(field("region"), "surface_class[" + std::to_string(it->second) + "] already sets how '" +
                                     m.species[static_cast<std::size_t>(s)].name + "' meets region '" + sc.region() +
                                     "'; keep one");
          continue;
        }
        surface_class_seen_[key] = i;
        m.surface_behaviour[static_cast<std::size_t>(region) * m.species.size() + static_cast<std::size_t>(s)] = type;
      }
    }
  }

  /// Compartment containing p, or an error at `path` when it is on a wall or outside every surface.
  int bounded_compartment_at(const Model& m, const Vec3& p, const std::vector<PathStep>& path) {
    std::ostringstream where;
    where << "(" << p.x << ", " << p.y << ", " << p.z << ") µm";
    if (!(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z))) {
      error(path, "point " + where.str() +
                      " has a coordinate that is not a finite number (NaN or infinity); give "
                      "x_um, y_um and z_um in µm");
      return -1;
    }
    const int c = compartment_at(m.geometry, *grid_, p, m.outer_compartment);
    if (c < 0)
      error(path, "point " + where.str() + " lies on a surface; move it off the wall");
    else if (c == m.outer_compartment)
      error(path, "point " + where.str() + " lies outside the mesh (in '" + m.geometry.compartment_names[c] +
                      "', which is unbounded); choose a point inside a compartment");
    return c;
  }

  void compile_placements(Model& m) {
    for (int i = 0; i < s_.placement_size(); ++i) {
      const auto& pl = s_.placement(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"placement", i}, {f}}; };
      PlacementDef def;
      def.species = species_ref(m, field("species"), pl.species());
      def.count = pl.count();
      if (!pl.has_count()) error(field("count"), "count is required");
      if (def.species < 0) continue;
      const bool membrane = m.species[def.species].membrane;
      switch (pl.where_case()) {
        case scene::Placement::kCompartment:
          def.where = PlacementDef::Where::kCompartment;
          def.compartment = m.geometry.find_compartment(pl.compartment());
          if (membrane)
            error(field("compartment"), "'" + pl.species() + "' is a membrane species; place it with region:");
          else if (def.compartment < 0)
            error(field("compartment"), "no compartment named '" + pl.compartment() + "'" + compartment_list(m));
          else if (def.compartment == m.outer_compartment)
            error(field("compartment"),
                  "'" + pl.compartment() +
                      "' is unbounded (outside every surface); molecules "
                      "there would fill the world box — place them at a point or in a bounded compartment");
          break;
        case scene::Placement::kPoint:
          def.where = PlacementDef::Where::kPoint;
          def.point = {pl.point().x_um(), pl.point().y_um(), pl.point().z_um()};
          if (membrane)
            error(field("point"), "'" + pl.species() + "' is a membrane species; place it with region:");
          else
            def.compartment = bounded_compartment_at(m, def.point, field("point"));
          break;
        case scene::Placement::kRegion:
          def.where = PlacementDef::Where::kRegion;
          def.region = m.geometry.find_region(pl.region());
          if (!membrane)
            error(field("region"), "'" + pl.species() + "' is a volume species; place it with compartment: or point:");
          else if (def.region < 0)
            error(field("region"), "no region named '" + pl.region() + "'" + region_list(m));
          else if (!region_has_membrane(m, field("region"), def.region, "'" + pl.species() + "'"))
            ;
          else if (m.species[def.species].confine_region >= 0 && m.species[def.species].confine_region != def.region)
            error(field("region"), "'" + pl.species() + "' is confined to region '" +
                                       m.geometry.region_names[m.species[def.species].confine_region] +
                                       "'; place it there");
          break;
        default:
          error({{"placement", i}}, "say where: compartment: \"...\", point { x_um: ... } or region: \"...\"");
      }
      if (pl.has_state()) {
        const int type = m.species[def.species].agent_type;
        if (type < 0)
          error(field("state"), "'" + pl.species() + "' is not an agent; only agents have states");
        else {
          def.state = m.agent_types[type].find_state(pl.state());
          if (def.state < 0) {
            def.state = 0;
            error(field("state"), "agent type '" + m.agent_types[type].name + "' has no state '" + pl.state() + "'");
          }
        }
      }
      m.placements.push_back(def);
    }
  }

  void compile_releases(Model& m) {
    for (int i = 0; i < s_.release_size(); ++i) {
      const auto& r = s_.release(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"release", i}, {f}}; };
      ReleaseDef def;
      def.species = species_ref(m, field("species"), r.species());
      def.count = r.count();
      if (def.count < 1) error(field("count"), "a release needs count ≥ 1");
      if (def.species >= 0 && m.species[def.species].membrane)
        error(field("species"), "only volume species can be released at a point");
      if (!r.has_at())
        error(field("at"), "give the release point: at { x_um: ... y_um: ... z_um: ... }");
      else {
        def.at = {r.at().x_um(), r.at().y_um(), r.at().z_um()};
        def.compartment = bounded_compartment_at(m, def.at, field("at"));
      }
      for (int k = 0; k < r.time_s_size(); ++k) {
        const double t = r.time_s(k);
        if (t_end_overridden_ && std::isfinite(t) && t > m.t_end_s) {
          // A shortened run (--t-end) simply ends before this release.
          warnings_.push_back(loc_.at({{"release", i}, {"time_s", k}},
                                      "warning: release at " + std::to_string(t) + " s comes after --t-end; skipped"));
          continue;
        }
        if (!(std::isfinite(t) && t >= 0 && t <= m.t_end_s))
          error({{"release", i}, {"time_s", k}}, "release time " + std::to_string(t) +
                                                     " s must lie in [0, t_end_s = " + std::to_string(m.t_end_s) + "]");
        def.times_s.push_back(t);
      }
      if (r.has_train()) {
        const auto& tr = r.train();
        if (!(tr.has_interval_s() && std::isfinite(tr.interval_s()) && tr.interval_s() > 0))
          error({{"release", i}, {"train"}, {"interval_s"}}, "a train needs interval_s > 0");
        else if (!tr.has_count() || tr.count() < 1 || tr.count() > 10'000'000)
          error({{"release", i}, {"train"}, {"count"}}, "a train needs count between 1 and 10^7");
        // A NaN or negative start dropped the train's releases silently (no time
        // passed the t ≥ 0 test below).
        else if (!(std::isfinite(tr.start_s()) && tr.start_s() >= 0))
          error({{"release", i}, {"train"}, {"start_s"}},
                "a train's start must be a time ≥ 0 s (got " + gnum(tr.start_s()) + ")");
        else
          for (std::uint64_t k = 0; k < tr.count(); ++k) {
            const double t = tr.start_s() + static_cast<double>(k) * tr.interval_s();
            if (t <= m.t_end_s && t >= 0) def.times_s.push_back(t);
          }
      }
      def.poisson_rate_hz = r.poisson_rate_hz();
      if (!(std::isfinite(def.poisson_rate_hz) && def.poisson_rate_hz >= 0 && def.poisson_rate_hz < 1e6))
        error(field("poisson_rate_hz"), "spontaneous release rate must be in [0, 1e6) Hz");
      if (r.time_s_size() == 0 && !r.has_train() && def.poisson_rate_hz == 0)
        error(field("time_s"), "give release times (time_s: 0), a train { } or poisson_rate_hz");
      std::sort(def.times_s.begin(), def.times_s.end());
      m.releases.push_back(def);
    }
  }

  /// One parsed agent file, kept so that later checks can point into it.
  struct AgentFile {
    std::string path;
    scene::AgentLibrary library;
    pb::TextFormat::ParseInfoTree tree;
    std::unique_ptr<Locator> locator;
  };
  /// For each compiled agent type: the file and index it came from.
  struct AgentOrigin {
    std::size_t file;
    int index;
  };

  /// Reads the text-format file `name` (scene field `field`, index i) into `msg`,
  /// recording where each field was written. False, with errors reported, if the
  /// file is missing or does not parse.
  bool parse_side_file(const char* field, int i, const std::string& name, const InputFileKind& kind, pb::Message& msg,
                       pb::TextFormat::ParseInfoTree& tree) {
    const fs::path path = resolve(name);
    resolved_files[name] = fs::absolute(path).lexically_normal().string();
    std::string text;
    try {
      text = read_input_file(path, kind);
    } catch (const InputError& e) {
      for (const Diagnostic& d : e.diagnostics()) {
        std::string message = d.file + ": " + d.message;
        if (!fs::path(name).is_absolute()) message += " (paths are relative to the scene file)";
        error({{field, i}}, message);
      }
      return false;
    }
    if (&kind == &kPathwayFileKind && looks_like_xml(text)) {  // an SBML model (io/sbml.h)
      std::vector<Diagnostic> sbml_errors;
      if (!well_mixed_from_sbml(text, path.string(), static_cast<scene::WellMixed&>(msg), sbml_errors)) {
        errors_.insert(errors_.end(), sbml_errors.begin(), sbml_errors.end());
        return false;
      }
      return true;
    }
    pb::TextFormat::Parser parser;
    std::vector<Diagnostic> parse_errors;
    ParseErrors collector(path.string(), parse_errors);
    parser.RecordErrorsTo(&collector);
    parser.WriteLocationsTo(&tree);
    if (!parser.ParseFromString(text, &msg)) {
      errors_.insert(errors_.end(), parse_errors.begin(), parse_errors.end());
      return false;
    }
    return true;
  }

  void compile_agent_types(Model& m) {
    std::set<std::string> names;
    for (int i = 0; i < s_.agent_file_size(); ++i) {
      const fs::path path = resolve(s_.agent_file(i));
      auto file = std::make_unique<AgentFile>();
      file->path = path.string();
      if (!parse_side_file("agent_file", i, s_.agent_file(i), kAgentFileKind, file->library, file->tree)) continue;
      file->locator = std::make_unique<Locator>(path.string(), &file->tree, &file->library);
      const Locator& at = *file->locator;
      for (int k = 0; k < file->library.agent_type_size(); ++k) {
        const auto& t = file->library.agent_type(k);
        auto where = [&](std::vector<PathStep> rest) {
          std::vector<PathStep> path{{"agent_type", k}};
          path.insert(path.end(), rest.begin(), rest.end());
          return path;
        };
        auto fail = [&](std::vector<PathStep> rest, const std::string& msg) {
          errors_.push_back(at.at(where(rest), msg));
        };
        AgentTypeDef def;
        def.name = t.name();
        if (!is_identifier(t.name()))
          fail({{"name"}}, "agent type name '" + t.name() + "' must be letters, digits and '_'");
        else if (!names.insert(t.name()).second)
          fail({{"name"}}, "agent type '" + t.name() + "' is defined twice");
        if (t.state_size() == 0) fail({{"state"}}, "an agent type needs at least one state");
        // An agent's state is 16-bit in the world and in checkpoints: more states would
        // wrap onto state 0 and be counted there.
        if (static_cast<std::size_t>(t.state_size()) > kMaxNamedIds)
          fail({{"state", static_cast<int>(kMaxNamedIds)}},
               "agent type '" + t.name() + "' has " + std::to_string(t.state_size()) + " states; at most " +
                   std::to_string(kMaxNamedIds) + " (16-bit state ids): merge states or split the type");
        std::set<std::string> state_names;
        for (int j = 0; j < t.state_size(); ++j) {
          const auto& st = t.state(j);
          if (!is_identifier(st.name()))
            fail({{"state", j}, {"name"}}, "state name '" + st.name() + "' must be letters, digits and '_'");
          else if (!state_names.insert(st.name()).second)
            fail({{"state", j}, {"name"}}, "duplicate state '" + st.name() + "'");
          if (!(st.conductance_ps() >= 0 && std::isfinite(st.conductance_ps())))
            fail({{"state", j}, {"conductance_pS"}}, "conductance must be ≥ 0 pS");
          if (!(std::isfinite(st.reversal_mv()) && std::abs(st.reversal_mv()) <= 500))
            fail({{"state", j}, {"reversal_mV"}},
                 "reversal potential must be a number in [-500, 500] mV (got " + gnum(st.reversal_mv()) + ")");
          if (!(st.ca_fraction() >= 0 && st.ca_fraction() <= 1))
            fail({{"state", j}, {"ca_fraction"}}, "Ca2+ fraction must be in [0, 1]");
          if (st.conductance_ps() > 0 && !st.has_source())
            fail({{"state", j}, {"source"}}, "give the source of the conductance (every number in agents/ has one)");
          def.states.push_back({st.name(), st.conductance_ps(), st.reversal_mv(), st.ca_fraction(), st.internal()});
        }
        def.out.assign(def.states.size(), {});
        for (int j = 0; j < t.transition_size(); ++j) {
          const auto& tr = t.transition(j);
          AgentTransitionDef d;
          d.from = def.find_state(tr.from());
          d.to = def.find_state(tr.to());
          if (d.from < 0)
            fail({{"transition", j}, {"from"}}, "no state '" + tr.from() + "' in agent type '" + t.name() + "'");
          if (d.to < 0)
            fail({{"transition", j}, {"to"}}, "no state '" + tr.to() + "' in agent type '" + t.name() + "'");
          if (d.from >= 0 && d.from == d.to) fail({{"transition", j}, {"to"}}, "a transition must change the state");
          if (!tr.has_source() || tr.source().empty())
            fail({{"transition", j}, {"source"}}, "every transition needs a source for its numbers");
          if (tr.has_ligand() == tr.has_rate_per_s())
            fail({{"transition", j}}, "give exactly one of rate_per_s (first order) or ligand { } (binding)");
          if (tr.has_rate_per_s()) {
            d.rate = tr.rate_per_s();
            if (!(std::isfinite(d.rate) && d.rate >= 0))
              fail({{"transition", j}, {"rate_per_s"}}, "rate must be ≥ 0 per s");
          }
          if (tr.has_ligand()) {
            d.ligand = tr.ligand().species();
            d.rate = tr.ligand().kon_per_um_per_s();
            if (d.ligand.empty()) fail({{"transition", j}, {"ligand"}, {"species"}}, "name the ligand");
            if (!(std::isfinite(d.rate) && d.rate > 0))
              fail({{"transition", j}, {"ligand"}, {"kon_per_uM_per_s"}}, "kon must be > 0 per µM per s");
          }
          if (tr.has_voltage()) {
            const auto& v = tr.voltage();
            if (v.has_efold_mv()) {
              // |e-fold| below 1 mV makes exp(V/efold) overflow to inf (or 0) within the
              // potentials a scene can set; NaN would make every comparison false and
              // silently disable the transition.
              if (!(std::isfinite(v.efold_mv()) && std::abs(v.efold_mv()) >= 1))
                fail({{"transition", j}, {"voltage"}, {"efold_mV"}},
                     "e-fold voltage must be a number with |efold_mV| ≥ 1 mV (got " + gnum(v.efold_mv()) +
                         "; NMDAR's Mg2+ block uses 17 mV)");
              else
                d.voltage_per_mV = 1.0 / v.efold_mv();
            } else if (v.has_z_delta()) {
              if (!(std::isfinite(v.z_delta()) && std::abs(v.z_delta()) <= 10)) {
                fail({{"transition", j}, {"voltage"}, {"z_delta"}},
                     "z_delta (valence × electrical distance) must be a number in [-10, 10] (got " + gnum(v.z_delta()) +
                         "; Mg2+ block: about 0.8)");
              } else {
                // F/(R·T) in 1/mV at the scene's temperature.
                const double f_over_rt =
                    kFaraday_C_per_mol / (kGasConstant_J_per_mol_K * (m.temperature_C + 273.15)) / 1000.0;
                d.voltage_per_mV = v.z_delta() * f_over_rt;
              }
            }
          }
          if (d.from >= 0 && d.to >= 0) {
            def.out[static_cast<std::size_t>(d.from)].push_back(static_cast<int>(def.transitions.size()));
            def.transitions.push_back(d);
            transition_releases_.push_back(tr.releases());
          }
        }
        origins_.push_back({agent_files_.size(), k});
        m.agent_types.push_back(std::move(def));
      }
      agent_files_.push_back(std::move(file));
    }
  }

  void compile_environment(Model& m) {
    std::set<std::string> names;
    for (int i = 0; i < s_.clamp_size(); ++i) {
      const auto& c = s_.clamp(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"clamp", i}, {f}}; };
      ClampDef def;
      def.species = c.species();
      if (c.species().empty())
        error(field("species"), "name the clamped ligand, e.g. species: \"Mg\"");
      else if (!names.insert(c.species()).second)
        error(field("species"), "'" + c.species() + "' is clamped twice");
      def.profile = concentration_profile(c, {{"clamp", i}});
      m.clamps.push_back(def);
    }
    if (s_.has_membrane_potential()) {
      const auto& v = s_.membrane_potential();
      m.membrane_potential_mV =
          steps_profile(v.holding_mv(), v.time_s(), v.mv(), {{"membrane_potential"}}, "mV", -200, 200);
    }
  }

  /// The concentration profile (µM) of a Clamp or a Background: the same oneof of
  /// constant_uM, steps and infusion in both messages.
  template <class ProfileMessage>
  TimeProfile concentration_profile(const ProfileMessage& c, const std::vector<PathStep>& at) {
    auto sub = [&](const char* name) {
      auto p = at;
      p.push_back({name});
      return p;
    };
    TimeProfile profile;
    if (c.has_constant_um()) {
      profile = TimeProfile::constant_value(c.constant_um());
      if (!(std::isfinite(c.constant_um()) && c.constant_um() >= 0))
        error(sub("constant_uM"), "a concentration must be ≥ 0 µM (got " + std::to_string(c.constant_um()) + ")");
    } else if (c.has_steps()) {
      profile = steps_profile(c.steps().initial_um(), c.steps().time_s(), c.steps().um(), sub("steps"), "uM", 0, 1e9);
    } else if (c.has_infusion()) {
      const auto& f = c.infusion();
      profile.kind = TimeProfile::Kind::kInfusion;
      profile.start_s = f.start_s();
      profile.duration_s = f.duration_s();
      profile.peak = f.peak_um();
      profile.half_life_s = f.half_life_s();
      const std::vector<PathStep> inf = sub("infusion");
      auto field = [&](const char* name) {
        auto p = inf;
        p.push_back({name});
        return p;
      };
      if (!(std::isfinite(f.start_s()) && f.start_s() >= 0)) error(field("start_s"), "infusion start must be ≥ 0 s");
      if (!(f.has_duration_s() && std::isfinite(f.duration_s()) && f.duration_s() > 0))
        error(field("duration_s"), "infusion duration must be > 0 s");
      if (!(f.has_peak_um() && std::isfinite(f.peak_um()) && f.peak_um() >= 0))
        error(field("peak_uM"), "peak concentration must be ≥ 0 µM");
      if (!(f.has_half_life_s() && std::isfinite(f.half_life_s()) && f.half_life_s() > 0))
        error(field("half_life_s"), "elimination half-life must be > 0 s (e.g. ketamine ≈ 2.5 h = 9000 s)");
    } else {
      error(at, "give a profile: constant_uM, steps { } or infusion { }");
    }
    return profile;
  }

  /// Per agent type: whether a species of the scene follows it.
  static std::vector<std::uint8_t> used_agent_types(const Model& m) {
    std::vector<std::uint8_t> used(m.agent_types.size(), 0);
    for (const auto& sp : m.species)
      if (sp.agent_type >= 0) used[static_cast<std::size_t>(sp.agent_type)] = 1;
    return used;
  }

  /// Ambient concentrations of particle ligands (after the agents' ligands are
  /// resolved: a background must be one some agent binds as particles).
  void compile_backgrounds(Model& m) {
    const std::vector<std::uint8_t> used = used_agent_types(m);
    for (int i = 0; i < s_.background_size(); ++i) {
      const auto& b = s_.background(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"background", i}, {f}}; };
      BackgroundDef def;
      def.profile = concentration_profile(b, {{"background", i}});
      if (b.species().empty()) {
        error(field("species"), "name the ambient ligand, a volume species, e.g. species: \"glutamate\"");
        continue;
      }
      def.species = m.find_species(b.species());
      if (def.species < 0) {
        if (m.find_clamp(b.species()) >= 0)
          error(field("species"), "'" + b.species() +
                                      "' is a clamp, which already applies everywhere; a background is for a "
                                      "species that also has particles (declare it in a species { } block)");
        else
          error(field("species"), "unknown species '" + b.species() + "'; declare it in a species { } block");
        continue;
      }
      const SpeciesDef& sp = m.species[static_cast<std::size_t>(def.species)];
      if (sp.membrane || sp.diffusion_um2_per_s <= 0) {
        error(field("species"),
              "'" + b.species() + "' must be a diffusing volume species (agents bind it by collision)");
        continue;
      }
      if (!geometry_ok_) continue;
      if (b.compartment().empty()) {
        error(field("compartment"), "name the compartment the concentration fills" + compartment_list(m));
        continue;
      }
      def.compartment = m.geometry.find_compartment(b.compartment());
      if (def.compartment < 0) {
        error(field("compartment"), "no compartment named '" + b.compartment() + "'" + compartment_list(m));
        continue;
      }
      bool duplicate = false;
      for (const BackgroundDef& other : m.backgrounds)
        duplicate = duplicate || (other.species == def.species && other.compartment == def.compartment);
      if (duplicate) {
        error(field("compartment"), "'" + b.species() + "' already has a background in '" + b.compartment() + "'");
        continue;
      }
      bool bound = false;
      for (std::size_t t = 0; t < m.agent_types.size(); ++t)
        for (const AgentTransitionDef& tr : m.agent_types[t].transitions)
          bound = bound || (used[t] && tr.ligand_source == LigandSource::kParticle && tr.ligand_index == def.species);
      if (!bound)
        warnings_.push_back(loc_.at(field("species"), "warning: no agent of the scene binds '" + b.species() +
                                                          "'; this background has no effect"));
      m.backgrounds.push_back(def);
      background_entry_.push_back(i);
    }
    // One agent tracks where its bound ligands came from for one ligand species only.
    for (std::size_t t = 0; t < m.agent_types.size(); ++t) {
      if (!used[t]) continue;
      int first = -1;
      for (const AgentTransitionDef& tr : m.agent_types[t].transitions) {
        if (tr.ligand_source != LigandSource::kParticle || tr.ligand_index == first) continue;
        bool has_background = false;
        for (const BackgroundDef& b : m.backgrounds) has_background = has_background || b.species == tr.ligand_index;
        if (!has_background) continue;
        if (first >= 0) {
          const auto entry = std::find_if(m.backgrounds.begin(), m.backgrounds.end(),
                                          [&](const BackgroundDef& b) { return b.species == tr.ligand_index; });
          error({{"background", background_entry_[static_cast<std::size_t>(entry - m.backgrounds.begin())]}},
                "agent type '" + m.agent_types[t].name + "' binds two ligands with backgrounds ('" +
                    m.species[static_cast<std::size_t>(first)].name + "' and '" +
                    m.species[static_cast<std::size_t>(tr.ligand_index)].name +
                    "'); only one per agent type is supported");
          break;
        }
        first = tr.ligand_index;
      }
    }
  }

  /// Piecewise-constant profile with increasing times and values in [lo, hi].
  TimeProfile steps_profile(double initial, const pb::RepeatedField<double>& times,
                            const pb::RepeatedField<double>& values, const std::vector<PathStep>& at,
                            const char* value_field, double lo, double hi) {
    TimeProfile p;
    p.kind = TimeProfile::Kind::kSteps;
    p.initial = initial;
    auto sub = [&](const char* name, int index = -1) {
      auto path = at;
      path.push_back({name, index});
      return path;
    };
    if (!(std::isfinite(initial) && initial >= lo && initial <= hi))
      error(at, "initial value " + std::to_string(initial) + " is outside [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
    if (times.size() != values.size())
      error(sub("time_s"), "give one " + std::string(value_field) + " per time_s (" + std::to_string(times.size()) +
                               " times, " + std::to_string(values.size()) + " values)");
    for (int k = 0; k < times.size() && k < values.size(); ++k) {
      if (!(std::isfinite(times[k]) && times[k] >= 0)) error(sub("time_s", k), "times must be ≥ 0 s");
      if (k > 0 && !(times[k] > times[k - 1])) error(sub("time_s", k), "times must increase");
      if (!(std::isfinite(values[k]) && values[k] >= lo && values[k] <= hi))
        error(sub(value_field, k), "value " + std::to_string(values[k]) + " is outside [" + std::to_string(lo) + ", " +
                                       std::to_string(hi) + "]");
      p.times.push_back(times[k]);
      p.values.push_back(values[k]);
    }
    return p;
  }

  void resolve_agent_ligands(Model& m) {
    const std::vector<std::uint8_t> used = used_agent_types(m);
    // Largest membrane potential the scene imposes, for the capture-probability check.
    std::vector<double> potentials{m.membrane_potential_mV.kind == TimeProfile::Kind::kSteps
                                       ? m.membrane_potential_mV.initial
                                       : m.membrane_potential_mV.constant};
    potentials.insert(potentials.end(), m.membrane_potential_mV.values.begin(), m.membrane_potential_mV.values.end());
    std::size_t release_index = 0;
    for (std::size_t t = 0; t < m.agent_types.size(); ++t) {
      AgentTypeDef& type = m.agent_types[t];
      const AgentOrigin origin = origins_[t];
      const Locator& at = *agent_files_[origin.file]->locator;
      for (std::size_t j = 0; j < type.transitions.size(); ++j, ++release_index) {
        AgentTransitionDef& tr = type.transitions[j];
        const std::string& releases = transition_releases_[release_index];
        auto where = [&](const char* f) {
          return std::vector<PathStep>{{"agent_type", origin.index}, {"transition", static_cast<int>(j)}, {f}};
        };
        if (!releases.empty()) {
          const int s = m.find_species(releases);
          if (s >= 0 && !m.species[static_cast<std::size_t>(s)].membrane) tr.releases_species = s;
        }
        if (tr.ligand.empty()) continue;
        const int clamp = m.find_clamp(tr.ligand);
        const int species = m.find_species(tr.ligand);
        if (clamp >= 0 && species >= 0) {
          if (used[t])
            errors_.push_back(at.at(where("ligand"),
                                    "ligand '" + tr.ligand + "' is both clamped and a species in the scene; keep one"));
        } else if (clamp >= 0) {
          tr.ligand_source = LigandSource::kClamp;
          tr.ligand_index = clamp;
        } else if (species >= 0) {
          const SpeciesDef& lig = m.species[static_cast<std::size_t>(species)];
          if (lig.membrane || lig.diffusion_um2_per_s <= 0) {
            if (used[t])
              errors_.push_back(
                  at.at(where("ligand"), "ligand '" + tr.ligand + "' must be a diffusing volume species or a clamp"));
          } else {
            tr.ligand_source = LigandSource::kParticle;
            tr.ligand_index = species;
            // Check the per-hit probability stays below 1 for every agent species of this type.
            for (const auto& sp : m.species) {
              if (sp.agent_type != static_cast<int>(t)) continue;
              double worst = 0;
              for (double v : potentials)
                worst = std::max(
                    worst,
                    capture_probability(per_uM_per_s_to_um3_per_s(tr.rate) * std::exp(tr.voltage_per_mV * v), m.dt_s,
                                        lig.diffusion_um2_per_s, kPi * sp.capture_radius_um * sp.capture_radius_um));
              if (worst > 1)
                errors_.push_back(at.at(where("ligand"),
                                        "binding of '" + tr.ligand + "' by species '" + sp.name +
                                            "' needs a per-hit probability of " + std::to_string(worst) +
                                            " > 1 at this dt; raise its capture_radius_um or lower simulation.dt_s"));
            }
          }
        } else {
          tr.ligand_source = LigandSource::kAbsent;
          if (used[t])
            warnings_.push_back(at.at(where("ligand"), "warning: ligand '" + tr.ligand +
                                                           "' is neither clamped nor a species of the scene; this "
                                                           "transition never fires"));
        }
      }
    }
  }

  void compile_reactions(Model& m) {
    for (int i = 0; i < s_.reaction_size(); ++i) {
      const auto& r = s_.reaction(i);
      auto field = [&](const char* f, int k = -1) { return std::vector<PathStep>{{"reaction", i}, {f, k}}; };
      ReactionDef def;
      bool ok = true;
      // All species of a reaction live in the volume, or all on the membrane.
      bool membrane = false;
      if (r.reactant_size() > 0) {
        const int first = m.find_species(r.reactant(0));
        membrane = first >= 0 && m.species[static_cast<std::size_t>(first)].membrane;
      }
      auto volume_species = [&](const std::string& name, const std::vector<PathStep>& at) {
        const int sp = species_ref(m, at, name);
        if (sp < 0) return -1;
        const SpeciesDef& d = m.species[static_cast<std::size_t>(sp)];
        if (d.membrane != membrane) {
          error(at, "'" + name + "' is a " + (d.membrane ? "membrane" : "volume") + " species but '" + r.reactant(0) +
                        "' is not; a reaction's species are all volume or all membrane (ligands binding receptors "
                        "belong in an agent type)");
          return -1;
        }
        if (d.agent_type >= 0) {
          error(at, "'" + name + "' is an agent; its state changes belong in its agent type");
          return -1;
        }
        return sp;
      };
      for (int k = 0; k < r.reactant_size(); ++k) {
        const int sp = volume_species(r.reactant(k), field("reactant", k));
        ok = ok && sp >= 0;
        def.reactants.push_back(sp);
      }
      for (int k = 0; k < r.product_size(); ++k) {
        const int sp = volume_species(r.product(k), field("product", k));
        ok = ok && sp >= 0;
        def.products.push_back(sp);
      }
      if (r.reactant_size() < 1 || r.reactant_size() > 2) {
        error(field("reactant"), "a reaction has one or two reactants");
        continue;
      }
      if (r.product_size() > 2) {
        error(field("product"), "at most two products");
        continue;
      }
      if (!ok) continue;
      if (r.reactant_size() == 1) {
        if (!(r.has_rate_per_s() && std::isfinite(r.rate_per_s()) && r.rate_per_s() > 0))
          error(field("rate_per_s"), "a unimolecular reaction needs rate_per_s > 0");
        if (r.has_kon_per_um_per_s() || r.has_kon_um2_per_s())
          error(field("rate_per_s"), "kon is for two reactants; use rate_per_s");
        def.rate_per_s = r.rate_per_s();
        (membrane ? m.membrane_reactions : m.reactions).push_back(def);
        continue;
      }
      if (membrane) {
        compile_membrane_bimolecular(m, r, i, def);
        continue;
      }
      if (!(r.has_kon_per_um_per_s() && std::isfinite(r.kon_per_um_per_s()) && r.kon_per_um_per_s() > 0)) {
        error(field("kon_per_uM_per_s"), "a bimolecular reaction needs kon_per_uM_per_s > 0");
        continue;
      }
      const double d_sum = m.species[static_cast<std::size_t>(def.reactants[0])].diffusion_um2_per_s +
                           m.species[static_cast<std::size_t>(def.reactants[1])].diffusion_um2_per_s;
      if (d_sum <= 0) {
        error(field("reactant"), "at least one reactant must diffuse for a bimolecular reaction");
        continue;
      }
      // A + A: kon counts reaction events per volume as kon·[A]² (d[A]/dt = −2·kon·[A]²),
      // while the pair search meets each unordered pair once: the radius is for 2·kon.
      const bool same = def.reactants[0] == def.reactants[1];
      def.kon_um3_per_s = per_uM_per_s_to_um3_per_s(r.kon_per_um_per_s());
      const double k_pair = same ? 2 * def.kon_um3_per_s : def.kon_um3_per_s;
      if (!(m.dt_s > 0)) continue;  // reported with simulation.dt_s
      try {
        const std::string warning = rate_reproduction_warning(k_pair, d_sum, m.dt_s);
        if (!warning.empty()) warnings_.push_back(loc_.at(field("kon_per_uM_per_s"), "warning: " + warning));
        if (!(std::isfinite(r.koff_per_s()) && r.koff_per_s() >= 0)) {
          error(field("koff_per_s"), "koff must be a rate ≥ 0 per s (got " + gnum(r.koff_per_s()) + ")");
          continue;
        }
        if (r.koff_per_s() > 0) {
          if (def.products.size() != 1) {
            error(field("product"), "a reversible reaction A + B ⇌ C has exactly one product");
            continue;
          }
          if (!(r.geminate_probability() > 0 && r.geminate_probability() < 1)) {
            error(field("geminate_probability"),
                  "geminate probability must be in (0, 1): 0 would need products placed infinitely far apart");
            continue;
          }
          const ReversibleRadii radii = reversible_radii(k_pair, d_sum, m.dt_s, r.geminate_probability());
          if (!step_fits_geometry(m, field("kon_per_uM_per_s"), d_sum, radii.binding_um)) continue;
          def.binding_radius_um = radii.binding_um;
          def.koff_per_s = r.koff_per_s();
          def.unbinding_radius_um = radii.unbinding_um;
          m.reactions.push_back(def);
          ReactionDef back;
          back.reactants = def.products;
          back.products = def.reactants;
          back.rate_per_s = r.koff_per_s();
          back.unbinding_radius_um = radii.unbinding_um;
          m.reactions.push_back(back);
        } else {
          if (r.koff_per_s() < 0 || !std::isfinite(r.koff_per_s())) error(field("koff_per_s"), "koff must be ≥ 0");
          def.binding_radius_um = binding_radius(k_pair, d_sum, m.dt_s);
          if (!step_fits_geometry(m, field("kon_per_uM_per_s"), d_sum, def.binding_radius_um)) continue;
          m.reactions.push_back(def);
        }
      } catch (const std::exception& e) {
        error(field("kon_per_uM_per_s"), std::string("cannot calibrate a binding radius: ") + e.what());
      }
    }
  }

  /// Resource guard: a bimolecular reaction whose rms step √(2·D·dt) or binding radius
  /// exceeds a quarter of the geometry's smallest extent has no meaningful per-step
  /// binding probability (molecules cross the whole space in one step). Reports the
  /// numbers and the largest dt that fits; returns false when it reported.
  bool step_fits_geometry(const Model& m, const std::vector<PathStep>& at, double d_sum, double sigma_um) {
    const Box3 b = m.geometry.bounds();
    const Vec3 e = b.hi - b.lo;
    const double limit = 0.25 * std::min({e.x, e.y, e.z});
    const double step = std::sqrt(2 * d_sum * m.dt_s);
    if (!(limit > 0) || (step <= limit && sigma_um <= limit)) return true;
    std::ostringstream msg;
    msg << "at dt_s = " << m.dt_s << " s the reactants move an rms step sqrt(2 D dt) = " << step
        << " µm per step (D = " << d_sum << " µm²/s) and bind within " << sigma_um
        << " µm, more than a quarter of the geometry's smallest extent (" << 4 * limit
        << " µm): the per-step reaction probabilities are meaningless; use dt_s ≤ " << limit * limit / (2 * d_sum)
        << " s";
    error(at, msg.str());
    return false;
  }

  void compile_membrane_bimolecular(Model& m, const scene::Reaction& r, int i, ReactionDef def) {
    auto field = [&](const char* f) { return std::vector<PathStep>{{"reaction", i}, {f}}; };
    if (!(r.has_kon_um2_per_s() && std::isfinite(r.kon_um2_per_s()) && r.kon_um2_per_s() > 0)) {
      error(field("kon_um2_per_s"), "a membrane reaction needs kon_um2_per_s > 0 (2D rate constant)");
      return;
    }
    const double d_sum = m.species[static_cast<std::size_t>(def.reactants[0])].diffusion_um2_per_s +
                         m.species[static_cast<std::size_t>(def.reactants[1])].diffusion_um2_per_s;
    if (d_sum <= 0) {
      error(field("reactant"), "at least one reactant must diffuse for a bimolecular reaction");
      return;
    }
    if (!(m.dt_s > 0)) return;
    const bool same = def.reactants[0] == def.reactants[1];
    def.kon_um3_per_s = r.kon_um2_per_s();
    const double k_pair = same ? 2 * def.kon_um3_per_s : def.kon_um3_per_s;
    try {
      const std::string warning = rate_reproduction_warning_2d(k_pair, d_sum, m.dt_s);
      if (!warning.empty()) warnings_.push_back(loc_.at(field("kon_um2_per_s"), "warning: " + warning));
      if (!(std::isfinite(r.koff_per_s()) && r.koff_per_s() >= 0)) {
        error(field("koff_per_s"), "koff must be a rate ≥ 0 per s (got " + gnum(r.koff_per_s()) + ")");
        return;
      }
      if (r.koff_per_s() > 0) {
        if (def.products.size() != 1) {
          error(field("product"), "a reversible reaction A + B ⇌ C has exactly one product");
          return;
        }
        if (!(r.geminate_probability() > 0 && r.geminate_probability() < 1)) {
          error(field("geminate_probability"), "geminate probability must be in (0, 1)");
          return;
        }
        const ReversibleRadii2d radii = reversible_radii_2d(k_pair, d_sum, m.dt_s, r.geminate_probability());
        def.binding_radius_um = radii.binding_um;
        def.koff_per_s = r.koff_per_s();
        def.unbinding_radius_um = radii.unbinding_um;
        m.membrane_reactions.push_back(def);
        ReactionDef back;
        back.reactants = def.products;
        back.products = def.reactants;
        back.rate_per_s = r.koff_per_s();
        back.unbinding_radius_um = radii.unbinding_um;
        m.membrane_reactions.push_back(back);
      } else {
        def.binding_radius_um = binding_radius_2d(k_pair, d_sum, m.dt_s);
        m.membrane_reactions.push_back(def);
      }
    } catch (const std::exception& e) {
      error(field("kon_um2_per_s"), std::string("cannot calibrate a binding radius: ") + e.what());
    }
  }

  void compile_productions(Model& m) {
    for (int i = 0; i < s_.production_size(); ++i) {
      const auto& pr = s_.production(i);
      auto field = [&](const char* f) { return std::vector<PathStep>{{"production", i}, {f}}; };
      ProductionDef def;
      def.species = species_ref(m, field("species"), pr.species());
      def.rate_per_s = pr.rate_per_s();
      if (!(pr.has_rate_per_s() && std::isfinite(def.rate_per_s) && def.rate_per_s >= 0))
        error(field("rate_per_s"), "production rate must be ≥ 0 molecules per s");
      if (def.species < 0) continue;
      const bool membrane = m.species[static_cast<std::size_t>(def.species)].membrane;
      if (pr.where_case() == scene::Production::kCompartment) {
        def.compartment = m.geometry.find_compartment(pr.compartment());
        if (membrane)
          error(field("compartment"), "'" + pr.species() + "' is a membrane species; produce it on a region");
        else if (def.compartment < 0 || def.compartment == m.outer_compartment)
          error(field("compartment"), "no bounded compartment named '" + pr.compartment() + "'" + compartment_list(m));
      } else if (pr.where_case() == scene::Production::kRegion) {
        def.region = m.geometry.find_region(pr.region());
        if (!membrane)
          error(field("region"), "'" + pr.species() + "' is a volume species; produce it in a compartment");
        else if (def.region < 0)
          error(field("region"), "no region named '" + pr.region() + "'" + region_list(m));
        else
          region_has_membrane(m, field("region"), def.region, "produced '" + pr.species() + "'");
      } else {
        error({{"production", i}}, "say where: compartment: \"...\" or region: \"...\"");
      }
      m.productions.push_back(def);
    }
  }

  /// A WellMixed message from a pathway file or the scene, with where to report.
  struct PathwaySource {
    const scene::WellMixed* message;
    const Locator* locator;
    std::vector<PathStep> prefix;
    bool needs_sources;  ///< pathway files must cite every number
  };
  struct PathwayFile {
    scene::WellMixed message;
    pb::TextFormat::ParseInfoTree tree;
    std::unique_ptr<Locator> locator;
  };

  void compile_well_mixed(Model& m) {
    std::vector<PathwaySource> sources;
    for (int i = 0; i < s_.well_mixed_file_size(); ++i) {
      auto file = std::make_unique<PathwayFile>();
      if (!parse_side_file("well_mixed_file", i, s_.well_mixed_file(i), kPathwayFileKind, file->message, file->tree))
        continue;
      file->locator = std::make_unique<Locator>(resolve(s_.well_mixed_file(i)).string(), &file->tree, &file->message);
      sources.push_back({&file->message, file->locator.get(), {}, true});
      pathway_files_.push_back(std::move(file));
    }
    if (s_.has_well_mixed()) sources.push_back({&s_.well_mixed(), &loc_, {{"well_mixed"}}, false});
    WellMixedModel& wm = m.well_mixed;

    // Parameters: declared once, overridden by the scene's parameter { } values.
    std::map<std::string, double> params;
    for (const PathwaySource& src : sources)
      for (int i = 0; i < src.message->parameter_size(); ++i) {
        const auto& p = src.message->parameter(i);
        auto at = [&](const char* f) { return where(src, {{"parameter", i}, {f}}); };
        if (!is_identifier(p.name()))
          report(src, at("name"), "parameter name '" + p.name() + "' must be letters, digits and '_'");
        else if (params.count(p.name()))
          report(src, at("name"), "parameter '" + p.name() + "' is declared twice");
        else if (!p.has_value() || !std::isfinite(p.value()))
          report(src, at("value"), "give the parameter a finite default value");
        else
          params[p.name()] = p.value();
        if (src.needs_sources && p.source().empty())
          report(src, at("source"), "say where the number comes from ([placeholder] if nothing gives it)");
      }
    for (int i = 0; i < s_.parameter_size(); ++i) {
      const auto& p = s_.parameter(i);
      if (!params.count(p.name())) {
        std::string known;
        for (const auto& [n, v] : params) known += " " + n;
        error({{"parameter", i}, {"name"}}, "no parameter named '" + p.name() + "' is declared" +
                                                (known.empty() ? std::string(" (none are)") : "; declared:" + known));
      } else if (!p.has_value() || !std::isfinite(p.value())) {
        error({{"parameter", i}, {"value"}}, "give a finite value");
      } else {
        params[p.name()] = p.value();
      }
    }
    // A number given directly or through a parameter; NaN when missing (reported).
    auto number = [&](const PathwaySource& src, std::vector<PathStep> path, const char* param_field, bool has_value,
                      double value, const std::string& param) -> double {
      if (has_value) return value;
      if (param.empty()) return std::numeric_limits<double>::quiet_NaN();
      const auto it = params.find(param);
      if (it != params.end()) return it->second;
      path.push_back({param_field});
      report(src, where(src, path), "no parameter named '" + param + "'; declare it in a parameter { } block");
      return std::numeric_limits<double>::quiet_NaN();
    };

    std::map<std::string, int> pool_index;
    for (const PathwaySource& src : sources)
      for (int i = 0; i < src.message->pool_size(); ++i) {
        const auto& p = src.message->pool(i);
        auto at = [&](const char* f) { return where(src, {{"pool", i}, {f}}); };
        if (!is_identifier(p.name())) {
          report(src, at("name"), "pool name '" + p.name() + "' must be letters, digits and '_'");
          continue;
        }
        if (pool_index.count(p.name())) {
          report(src, at("name"), "pool '" + p.name() + "' is declared twice");
          continue;
        }
        const double v =
            number(src, {{"pool", i}}, "volume_parameter", p.has_volume_um3(), p.volume_um3(), p.volume_parameter());
        if (!(std::isfinite(v) && v > 0))
          report(src, at("volume_um3"),
                 "pool volume must be > 0 µm³ (a thin CA1 spine head is 0.03 µm³, docs/science/parameters.md §1)");
        pool_index[p.name()] = static_cast<int>(wm.pools.size());
        wm.pools.push_back({p.name(), std::isfinite(v) && v > 0 ? v : 1.0});
      }

    for (const PathwaySource& src : sources)
      for (int i = 0; i < src.message->species_size(); ++i) {
        const auto& ps = src.message->species(i);
        auto at = [&](std::vector<PathStep> rest) {
          rest.insert(rest.begin(), PathStep{"species", i});
          return where(src, rest);
        };
        PoolSpeciesDef def;
        def.name = ps.name();
        if (!is_identifier(ps.name())) {
          report(src, at({{"name"}}), "pool species name '" + ps.name() + "' must be letters, digits and '_'");
          continue;
        }
        if (wm.find_species(ps.name()) >= 0 || m.find_species(ps.name()) >= 0 || m.find_clamp(ps.name()) >= 0) {
          report(src, at({{"name"}}),
                 "'" + ps.name() + "' is already a species or clamp; pool species need names of their own");
          continue;
        }
        const auto pool = pool_index.find(ps.pool());
        if (pool == pool_index.end())
          report(src, at({{"pool"}}), "no pool named '" + ps.pool() + "'; declare it in a pool { } block");
        else
          def.pool = pool->second;
        if (ps.initial_case() == scene::PoolSpecies::kCount) {
          def.initial_count = ps.count();
          if (def.initial_count > m.max_molecules)
            report(src, at({{"count"}}), "initial count above simulation.max_molecules; is it in µM?");
        } else if (ps.initial_case() != scene::PoolSpecies::INITIAL_NOT_SET) {
          const double c = number(src, {{"species", i}}, "uM_parameter", ps.has_um(), ps.um(), ps.um_parameter());
          if (!(std::isfinite(c) && c >= 0 && c < 1e6)) {
            report(src, at({{"uM"}}), "initial concentration must be ≥ 0 and below 10⁶ µM");
          } else if (pool != pool_index.end()) {
            // Checked as a double first: a large pool at a high concentration would
            // overflow the 64-bit count (and show as negative in counts.csv).
            const double n = std::round(c * wm.pools[static_cast<std::size_t>(def.pool)].molecules_per_uM());
            if (!(n <= static_cast<double>(m.max_molecules)))
              report(src, at({{"uM"}}),
                     gnum(c) + " µM is " + gnum(n) + " molecules in pool '" + ps.pool() +
                         "', above simulation.max_molecules = " + std::to_string(m.max_molecules) +
                         "; lower the concentration or the pool volume, or raise the limit");
            else
              def.initial_count = static_cast<std::uint64_t>(n);
          }
        }
        if (ps.has_insert_as_agent()) {
          const auto& ins = ps.insert_as_agent();
          def.insert_species = m.find_species(ins.species());
          const SpeciesDef* sp =
              def.insert_species >= 0 ? &m.species[static_cast<std::size_t>(def.insert_species)] : nullptr;
          if (!sp || !sp->membrane || sp->agent_type < 0) {
            report(src, at({{"insert_as_agent"}, {"species"}}),
                   "'" + ins.species() + "' is not a membrane species with an agent_type");
            def.insert_species = -1;
          } else {
            def.insert_region = m.geometry.find_region(ins.region());
            if (def.insert_region < 0) {
              report(src, at({{"insert_as_agent"}, {"region"}}),
                     "no region named '" + ins.region() + "'" + region_list(m));
            } else if (!has_membrane(m, def.insert_region)) {
              report(src, at({{"insert_as_agent"}, {"region"}}),
                     "region '" + ins.region() +
                         "' has no membrane left (markers re-tagged all its triangles); insert the agents on a "
                         "region with triangles" +
                         region_list(m));
            }
            const AgentTypeDef& type = m.agent_types[static_cast<std::size_t>(sp->agent_type)];
            def.insert_state = ins.state().empty() ? 0 : type.find_state(ins.state());
            if (def.insert_state < 0) {
              report(src, at({{"insert_as_agent"}, {"state"}}),
                     "agent type '" + type.name + "' has no state '" + ins.state() + "'");
              def.insert_state = 0;
            }
            if (def.initial_count > 0)
              report(src, at({{"count"}}), "a species inserted as agents starts empty; place the agents instead");
          }
        }
        wm.species.push_back(def);
      }

    for (const PathwaySource& src : sources)
      for (int i = 0; i < src.message->reaction_size(); ++i) {
        const auto& rx = src.message->reaction(i);
        auto at = [&](std::vector<PathStep> rest) {
          rest.insert(rest.begin(), PathStep{"reaction", i});
          return where(src, rest);
        };
        PoolReactionDef def;
        def.name = rx.name();
        bool ok = true;
        auto pool_species = [&](const char* f, int k, const std::string& n) {
          const int s = wm.find_species(n);
          if (s < 0) {
            report(src, at({{f, k}}), "no pool species named '" + n + "'");
            ok = false;
          }
          return s;
        };
        for (int k = 0; k < rx.reactant_size(); ++k)
          def.reactants.push_back(pool_species("reactant", k, rx.reactant(k)));
        for (int k = 0; k < rx.product_size(); ++k) def.products.push_back(pool_species("product", k, rx.product(k)));
        if (rx.reactant_size() > 2) {
          report(src, at({{"reactant"}}), "at most two reactants (elementary mass-action steps)");
          ok = false;
        }
        if (rx.reactant_size() + rx.product_size() == 0) {
          report(src, at({}), "a reaction needs a reactant or a product");
          ok = false;
        }
        if (ok)
          for (int s : def.reactants)
            if (wm.species[static_cast<std::size_t>(s)].insert_species >= 0) {
              report(src, at({{"reactant"}}),
                     "'" + wm.species[static_cast<std::size_t>(s)].name +
                         "' becomes membrane agents when made; it cannot react in the pool");
              ok = false;
            }
        def.rate = number(src, {{"reaction", i}}, "rate_parameter", rx.has_rate(), rx.rate(), rx.rate_parameter());
        const bool unknown_parameter =
            !rx.has_rate() && !rx.rate_parameter().empty() && !params.count(rx.rate_parameter());
        if (unknown_parameter) {
          ok = false;  // reported by number()
        } else if (!(std::isfinite(def.rate) && def.rate >= 0)) {
          report(src, at({{"rate"}}), "give a rate ≥ 0 (µM/s, 1/s or 1/(µM·s) for 0, 1 or 2 reactants)");
          ok = false;
        }
        if (src.needs_sources && rx.source().empty())
          report(src, at({{"source"}}), "every rate needs a source ([placeholder] if nothing gives it)");
        if (!rx.influx_from().empty()) {
          def.influx_agent_species = m.find_species(rx.influx_from());
          const SpeciesDef* sp =
              def.influx_agent_species >= 0 ? &m.species[static_cast<std::size_t>(def.influx_agent_species)] : nullptr;
          if (!sp || sp->agent_type < 0) {
            report(src, at({{"influx_from"}}),
                   "'" + rx.influx_from() + "' is not a membrane species with an agent_type");
            ok = false;
          } else if (rx.reactant_size() > 0) {
            report(src, at({{"reactant"}}), "an influx reaction has no reactants");
            ok = false;
          }
        }
        if (!rx.modulator().empty()) {
          def.modulator_clamp = m.find_clamp(rx.modulator());
          if (def.modulator_clamp < 0) {
            report(src, at({{"modulator"}}), "no clamp named '" + rx.modulator() + "'; clamp it with clamp { }");
            ok = false;
          }
        }
        if (!rx.volume_of().empty()) {
          const auto pool = pool_index.find(rx.volume_of());
          if (pool == pool_index.end()) {
            report(src, at({{"volume_of"}}), "no pool named '" + rx.volume_of() + "'");
            ok = false;
          } else {
            def.volume_pool = pool->second;
          }
        } else if (ok) {
          const int first = def.reactants.empty() ? def.products[0] : def.reactants[0];
          def.volume_pool = wm.species[static_cast<std::size_t>(first)].pool;
        }
        if (ok) wm.reactions.push_back(def);
      }

    for (const PathwaySource& src : sources)
      for (int i = 0; i < src.message->agent_to_pool_size(); ++i) {
        const auto& e = src.message->agent_to_pool(i);
        auto at = [&](const char* f) { return where(src, {{"agent_to_pool", i}, {f}}); };
        AgentToPoolDef def;
        def.species = m.find_species(e.species());
        const SpeciesDef* sp = def.species >= 0 ? &m.species[static_cast<std::size_t>(def.species)] : nullptr;
        if (!sp || sp->agent_type < 0) {
          report(src, at("species"), "'" + e.species() + "' is not a membrane species with an agent_type");
          continue;
        }
        const AgentTypeDef& type = m.agent_types[static_cast<std::size_t>(sp->agent_type)];
        def.state = type.find_state(e.state());
        def.pool_species = wm.find_species(e.pool_species());
        if (def.state < 0) {
          report(src, at("state"), "agent type '" + type.name + "' has no state '" + e.state() + "'");
          continue;
        }
        if (def.pool_species < 0) {
          report(src, at("pool_species"), "no pool species named '" + e.pool_species() + "'");
          continue;
        }
        // Agents leave only by rate transitions: a capture happens inside a Brownian
        // step, where the membrane arrays must not change.
        for (const AgentTransitionDef& tr : type.transitions)
          if (tr.to == def.state && tr.ligand_source == LigandSource::kParticle)
            report(src, at("state"),
                   "state '" + e.state() + "' is reached by binding a diffusing ligand; " +
                       "link a state reached by a rate or a clamped ligand instead");
        wm.agent_to_pool.push_back(def);
      }
  }

  std::vector<PathStep> where(const PathwaySource& src, const std::vector<PathStep>& rest) const {
    std::vector<PathStep> path = src.prefix;
    path.insert(path.end(), rest.begin(), rest.end());
    return path;
  }
  void report(const PathwaySource& src, const std::vector<PathStep>& path, const std::string& msg) {
    errors_.push_back(src.locator->at(path, msg));
  }

  void check_molecule_budget(const Model& m) {
    // Known up front: placements, scheduled releases and pools' initial counts. Poisson
    // releases, products, productions and pool reactions are bounded at run time by
    // the same limit (Simulator::note_created).
    unsigned __int128 total = 0;
    for (const auto& p : m.placements) total += p.count;
    for (const auto& r : m.releases) total += static_cast<unsigned __int128>(r.count) * r.times_s.size();
    for (const auto& ps : m.well_mixed.species) total += ps.initial_count;
    if (total > m.max_molecules)
      error({{"simulation"}, {"max_molecules"}},
            "the scene would create " +
                std::to_string(
                    static_cast<unsigned long long>(std::min<unsigned __int128>(total, 0xFFFFFFFFFFFFFFFFull))) +
                " molecules, more than max_molecules = " + std::to_string(m.max_molecules) +
                "; lower the counts or raise the limit");
  }

  void compile_output(Model& m) {
    const auto& o = s_.output();
    m.counts_interval_s = o.counts_interval_s();
    m.frame_interval_s = o.frame_interval_s();
    m.render_png = o.render_png();
    if (!(std::isfinite(m.counts_interval_s) && m.counts_interval_s > 0))
      error({{"output"}, {"counts_interval_s"}}, "counts interval must be > 0 s");
    if (!(std::isfinite(m.frame_interval_s) && m.frame_interval_s >= 0))
      error({{"output"}, {"frame_interval_s"}}, "frame interval must be ≥ 0 s (0 = no frames)");
    // Guards against unit slips that would write millions of rows or files.
    if (m.counts_interval_s > 0 && m.t_end_s / m.counts_interval_s > 1e7)
      error({{"output"}, {"counts_interval_s"}},
            "this writes " + std::to_string(static_cast<long long>(m.t_end_s / m.counts_interval_s)) +
                " rows (more than 10^7); use a longer interval");
    if (m.frame_interval_s > 0 && m.t_end_s / m.frame_interval_s > 1e5)
      error({{"output"}, {"frame_interval_s"}},
            "this writes " + std::to_string(static_cast<long long>(m.t_end_s / m.frame_interval_s)) +
                " frames (more than 10^5); use a longer interval or 0 for none");
    if (o.count_species_size() == 0) {
      for (std::size_t s = 0; s < m.species.size(); ++s) m.count_species.push_back(static_cast<int>(s));
    }
    std::set<int> seen;
    for (int i = 0; i < o.count_species_size(); ++i) {
      const int s = species_ref(m, {{"output"}, {"count_species", i}}, o.count_species(i));
      if (s >= 0 && seen.insert(s).second) m.count_species.push_back(s);
    }
  }

  const Scene& s_;
  const Locator& loc_;
  fs::path dir_;
  std::vector<Diagnostic>& errors_;
  std::vector<Diagnostic>& warnings_;
  std::vector<int> background_entry_;  ///< per Model::backgrounds: index of its background { } in the scene
  bool geometry_ok_ = true;
  bool t_end_overridden_ = false;
  std::vector<std::unique_ptr<AgentFile>> agent_files_;
  std::vector<std::unique_ptr<PathwayFile>> pathway_files_;
  std::vector<AgentOrigin> origins_;
  std::vector<std::string> transition_releases_;           ///< per transition, in compile order
  std::map<std::pair<int, int>, int> surface_class_seen_;  ///< (region, species) → surface_class index
  std::unique_ptr<SpatialGrid> grid_;
};

struct Parsed {
  Scene scene;
  pb::TextFormat::ParseInfoTree tree;
  bool ok = false;
};

void parse_text(const std::string& text, const std::string& name, Parsed& out, std::vector<Diagnostic>& errors) {
  pb::TextFormat::Parser parser;
  ParseErrors collector(name, errors);
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&out.tree);
  out.ok = parser.ParseFromString(text, &out.scene);
  if (!out.ok && errors.empty()) errors.push_back({name, 0, 0, "", "malformed scene file"});
}

void parse(const fs::path& file, Parsed& out, std::vector<Diagnostic>& errors) {
  std::string text;
  try {
    text = read_input_file(file, kSceneFileKind);
  } catch (const InputError& e) {
    errors.insert(errors.end(), e.diagnostics().begin(), e.diagnostics().end());
    return;
  }
  parse_text(text, file.string(), out, errors);
}

/// Applies one FieldAssignment to `scene` by reflection; returns an empty string on
/// success, else what is wrong. `steps` receives the path as parsed (for locating it).
std::string apply_assignment(pb::Message& scene, const FieldAssignment& a, std::vector<std::string>& names,
                             std::vector<int>& indices) {
  // Parse "name[index].name…".
  const std::string& p = a.path;
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t j = i;
    while (j < p.size() && (std::isalnum(static_cast<unsigned char>(p[j])) || p[j] == '_')) ++j;
    if (j == i) return "malformed field path (expected NAME or NAME[INDEX] separated by '.')";
    names.push_back(p.substr(i, j - i));
    int index = -1;
    if (j < p.size() && p[j] == '[') {
      std::size_t k = j + 1;
      while (k < p.size() && std::isdigit(static_cast<unsigned char>(p[k]))) ++k;
      if (k == j + 1 || k >= p.size() || p[k] != ']' || k - j > 8)
        return "malformed index in field path (expected NAME[INDEX] with INDEX ≥ 0)";
      index = std::stoi(p.substr(j + 1, k - j - 1));
      j = k + 1;
    }
    indices.push_back(index);
    if (j == p.size()) break;
    if (p[j] != '.' || j + 1 == p.size()) return "malformed field path (expected NAME or NAME[INDEX] separated by '.')";
    i = j + 1;
  }
  if (names.empty()) return "empty field path";
  pb::Message* m = &scene;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const pb::Descriptor* d = m->GetDescriptor();
    const pb::Reflection* r = m->GetReflection();
    const pb::FieldDescriptor* f = d->FindFieldByName(names[k]);
    if (!f) {
      std::string known;
      for (int q = 0; q < d->field_count(); ++q) known += (q ? ", " : "") + d->field(q)->name();
      return "'" + names[k] + "' is not a field of " + d->name() + " (its fields: " + known + ")";
    }
    const bool last = k + 1 == names.size();
    const int index = indices[k];
    if (f->is_repeated()) {
      const int size = r->FieldSize(*m, f);
      if (index < 0) return "'" + names[k] + "' is repeated: give an index, e.g. " + names[k] + "[0]";
      if (index >= size)
        return "'" + names[k] + "[" + std::to_string(index) + "]' does not exist: the scene has " +
               std::to_string(size) + " " + names[k] + " entr" + (size == 1 ? "y" : "ies");
    } else if (index >= 0) {
      return "'" + names[k] + "' is not repeated: drop the [" + std::to_string(index) + "]";
    }
    if (!last) {
      if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE)
        return "'" + names[k] + "' is a number or text, not a block: nothing follows it in a path";
      if (!f->is_repeated() && f->containing_oneof() && !r->HasField(*m, f)) {
        const pb::FieldDescriptor* set = r->GetOneofFieldDescriptor(*m, f->containing_oneof());
        if (set) return "'" + names[k] + "' is not used by this scene (it sets '" + set->name() + "' instead)";
      }
      m = f->is_repeated() ? r->MutableRepeatedMessage(m, f, index) : r->MutableMessage(m, f);
      continue;
    }
    if (!f->is_repeated() && f->containing_oneof()) {
      const pb::FieldDescriptor* set = r->GetOneofFieldDescriptor(*m, f->containing_oneof());
      if (set && set != f)
        return "'" + names[k] + "' is not used by this scene (it sets '" + set->name() + "' instead)";
    }
    const std::string& v = a.value;
    errno = 0;
    char* end = nullptr;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !std::isfinite(x) || std::isspace(static_cast<unsigned char>(v[0])))
          return "'" + v + "' is not a finite number";
        if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT) {
          if (f->is_repeated())
            r->SetRepeatedFloat(m, f, index, static_cast<float>(x));
          else
            r->SetFloat(m, f, static_cast<float>(x));
        } else if (f->is_repeated()) {
          r->SetRepeatedDouble(m, f, index, x);
        } else {
          r->SetDouble(m, f, x);
        }
        return "";
      }
      case pb::FieldDescriptor::CPPTYPE_UINT32:
      case pb::FieldDescriptor::CPPTYPE_UINT64: {
        const bool is32 = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT32;
        const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0])) || *end != '\0' || errno == ERANGE ||
            (is32 && x > 0xFFFFFFFFull))
          return "'" + v + "' is not a whole number ≥ 0" + (is32 ? " below 2^32" : "") + " (the field is an integer)";
        if (is32) {
          if (f->is_repeated())
            r->SetRepeatedUInt32(m, f, index, static_cast<std::uint32_t>(x));
          else
            r->SetUInt32(m, f, static_cast<std::uint32_t>(x));
        } else if (f->is_repeated()) {
          r->SetRepeatedUInt64(m, f, index, x);
        } else {
          r->SetUInt64(m, f, x);
        }
        return "";
      }
      case pb::FieldDescriptor::CPPTYPE_INT32:
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        const bool is32 = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32;
        const long long x = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || std::isspace(static_cast<unsigned char>(v[0])) || *end != '\0' || errno == ERANGE ||
            (is32 && (x > 0x7FFFFFFFll || x < -0x80000000ll)))
          return "'" + v + "' is not a whole number (the field is an integer)";
        if (is32) {
          if (f->is_repeated())
            r->SetRepeatedInt32(m, f, index, static_cast<std::int32_t>(x));
          else
            r->SetInt32(m, f, static_cast<std::int32_t>(x));
        } else if (f->is_repeated()) {
          r->SetRepeatedInt64(m, f, index, x);
        } else {
          r->SetInt64(m, f, x);
        }
        return "";
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        return "'" + names[k] + "' is a block, not a number: name one of its numeric fields";
      default:
        return "'" + names[k] + "' is a " + f->cpp_type_name() + " field; only numeric fields can be set";
    }
  }
  return "";
}

}  // namespace

FieldAssignment parse_field_assignment(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw InputError(Diagnostic{"", 0, 0, "", "expected FIELD=VALUE (e.g. release[0].count=500), got '" + text + "'"});
  return {text.substr(0, eq), text.substr(eq + 1)};
}

static void apply_assignments(const fs::path& file, Parsed& parsed, const std::vector<FieldAssignment>& list,
                              std::vector<Diagnostic>& errors) {
  Locator loc(file.string(), &parsed.tree, &parsed.scene);
  for (const FieldAssignment& a : list) {
    std::vector<std::string> names;
    std::vector<int> indices;
    const std::string problem = apply_assignment(parsed.scene, a, names, indices);
    if (problem.empty()) continue;
    // Locate the longest prefix of the path that names real fields with matching
    // repeated-ness (the parser's location tree rejects anything else).
    std::vector<PathStep> steps;
    const pb::Descriptor* desc = Scene::descriptor();
    for (std::size_t k = 0; k < names.size() && desc; ++k) {
      const pb::FieldDescriptor* f = desc->FindFieldByName(names[k]);
      if (!f || f->is_repeated() != (indices[k] >= 0)) break;
      steps.push_back({names[k].c_str(), indices[k]});
      desc = f->message_type();
    }
    Diagnostic d = loc.at(steps, "cannot set " + a.path + "=" + a.value + ": " + problem);
    d.field = a.path;
    errors.push_back(std::move(d));
  }
}

static Model compile_checked(const fs::path& file, Parsed& parsed, std::vector<Diagnostic>& errors,
                             std::vector<Diagnostic>& warnings, std::map<std::string, std::string>* resolved_files,
                             bool t_end_overridden = false, std::vector<MeshIntersections>* intersections = nullptr) {
  Locator loc(file.string(), &parsed.tree, &parsed.scene);
  SceneCompiler compiler(parsed.scene, loc, file.parent_path(), errors, warnings, t_end_overridden);
  Model m = compiler.compile();
  if (resolved_files) *resolved_files = compiler.resolved_files;
  if (intersections) *intersections = std::move(compiler.mesh_intersections);
  if (m.name.empty()) m.name = file.stem().string();
  return m;
}

void validate_scene(const fs::path& file, std::vector<Diagnostic>& errors, std::vector<Diagnostic>& warnings,
                    std::vector<MeshIntersections>* intersections) {
  Parsed parsed;
  parse(file, parsed, errors);
  if (!parsed.ok) return;
  compile_checked(file, parsed, errors, warnings, nullptr, false, intersections);
}

void validate_scene_text(const std::string& text, const std::string& name, std::vector<Diagnostic>& errors,
                         std::vector<Diagnostic>& warnings) {
  Parsed parsed;
  parse_text(text, name, parsed, errors);
  if (!parsed.ok) return;
  compile_checked(fs::path(name), parsed, errors, warnings, nullptr);
}

static LoadedScene load_parsed(const fs::path& file, Parsed& parsed, const SceneOverrides& overrides);

LoadedScene load_scene(const fs::path& file, const SceneOverrides& overrides) {
  std::vector<Diagnostic> errors;
  Parsed parsed;
  parse(file, parsed, errors);
  if (!parsed.ok) throw InputError(errors);
  return load_parsed(file, parsed, overrides);
}

LoadedScene load_scene_text(const std::string& text, const fs::path& name, const SceneOverrides& overrides) {
  std::vector<Diagnostic> errors;
  Parsed parsed;
  parse_text(text, name.string(), parsed, errors);
  if (!parsed.ok) throw InputError(errors);
  return load_parsed(name, parsed, overrides);
}

static LoadedScene load_parsed(const fs::path& file, Parsed& parsed, const SceneOverrides& overrides) {
  std::vector<Diagnostic> errors, warnings;
  if (overrides.seed) parsed.scene.mutable_simulation()->set_seed(*overrides.seed);
  if (overrides.t_end_s) parsed.scene.mutable_simulation()->set_t_end_s(*overrides.t_end_s);
  apply_assignments(file, parsed, overrides.assignments, errors);
  if (!errors.empty()) throw InputError(errors);
  std::map<std::string, std::string> files;
  LoadedScene out;
  out.model = compile_checked(file, parsed, errors, warnings, &files, overrides.t_end_s.has_value());
  if (!errors.empty()) throw InputError(errors);
  out.warnings = warnings;
  Scene resolved = parsed.scene;
  fill_defaults(resolved);
  if (overrides.t_end_s) {
    // Releases skipped because of --t-end are left out, so the resolved scene runs as is.
    for (auto& r : *resolved.mutable_release()) {
      auto* times = r.mutable_time_s();
      times->erase(std::remove_if(times->begin(), times->end(), [&](double t) { return t > *overrides.t_end_s; }),
                   times->end());
    }
  }
  if (resolved.geometry().has_meshes()) {
    auto* mg = resolved.mutable_geometry()->mutable_meshes();
    for (auto& s : *mg->mutable_surface()) s.set_file(files[s.file()]);
    for (auto& mk : *mg->mutable_marker()) mk.set_file(files[mk.file()]);
  }
  for (auto& f : *resolved.mutable_well_mixed_file()) f = files[f];
  // Agent files too: the resolved scene must load from anywhere (a checkpoint of the
  // run API carries it without the original file's directory).
  for (auto& f : *resolved.mutable_agent_file())
    if (files.count(f)) f = files[f];
  if (resolved.name().empty()) resolved.set_name(out.model.name);
  pb::TextFormat::Printer printer;
  printer.PrintToString(resolved, &out.resolved_text);
  return out;
}

}  // namespace spinesim
