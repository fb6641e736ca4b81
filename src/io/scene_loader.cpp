#include "io/scene_loader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "geometry/intersect.h"
#include "geometry/mesh_check.h"
#include "geometry/spatial_grid.h"
#include "geometry/spine_builder.h"
#include "io/mesh_import.h"
#include "schema/scene.pb.h"

namespace spinesim {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
using scene::Scene;

namespace {

/// One step of a field path: a field name and, for repeated fields, an index.
struct PathStep {
  const char* field;
  int index = -1;
};

/// Turns field paths into file:line:column diagnostics using the parser's record
/// of where each field was written.
class Locator {
 public:
  Locator(std::string file, const pb::TextFormat::ParseInfoTree* tree) : file_(std::move(file)), tree_(tree) {}

  Diagnostic at(const std::vector<PathStep>& path, std::string message) const {
    Diagnostic d;
    d.file = file_;
    d.message = std::move(message);
    const pb::Descriptor* desc = Scene::descriptor();
    const pb::TextFormat::ParseInfoTree* tree = tree_;
    pb::TextFormat::ParseLocation best;  // the deepest location that exists
    for (std::size_t k = 0; k < path.size(); ++k) {
      const PathStep& s = path[k];
      if (!d.field.empty()) d.field += ".";
      d.field += s.field;
      if (s.index >= 0) d.field += "[" + std::to_string(s.index) + "]";
      const pb::FieldDescriptor* fd = desc ? desc->FindFieldByName(s.field) : nullptr;
      if (!fd || !tree) {
        desc = nullptr;
        continue;
      }
      const auto loc = tree->GetLocation(fd, s.index);
      if (loc.line >= 0) best = loc;
      if (fd->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
        tree = tree->GetTreeForNested(fd, s.index);
        desc = fd->message_type();
      } else {
        desc = nullptr;
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
  TriangleMesh m;
  for (int k = 0; k < 8; ++k) m.vertices.push_back({(k & 1) ? x : 0.0, (k & 2) ? y : 0.0, (k & 4) ? z : 0.0});
  // Outward winding for each face of the unit cube's corner numbering above.
  m.triangles = {{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
                 {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}};
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
    compile_species(m);
    if (!geometry_ok_) return m;
    grid_ = std::make_unique<SpatialGrid>(m.geometry, padded(m.geometry.bounds(), 0.1), 0.05, 1u << 20);
    compile_surface_classes(m);
    compile_placements(m);
    compile_releases(m);
    compile_output(m);
    return m;
  }

  /// Absolute mesh paths for the resolved scene.
  std::map<std::string, std::string> resolved_files;

 private:
  void error(const std::vector<PathStep>& path, const std::string& msg) { errors_.push_back(loc_.at(path, msg)); }
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
          if (!(std::isfinite(dims[a]) && dims[a] > 0)) {
            error({{"geometry"}, {"box"}, {names[a]}}, "box edge length must be > 0 µm");
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
        if (geometry_ok_)
          m.geometry.add_surface(mesh, name, ms.region().empty() ? name : ms.region(), ms.inside(), ms.outside());
      } catch (const InputError& e) {
        for (const Diagnostic& d : e.diagnostics()) {
          Diagnostic at = loc_.at(field("file"), d.file + ": " + d.message);
          errors_.push_back(at);
        }
        geometry_ok_ = false;
      }
    }
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
      try {
        const fs::path path = resolve(mk.file());
        resolved_files[mk.file()] = fs::absolute(path).lexically_normal().string();
        TriangleMesh marker = read_surface_mesh(path);
        for (auto& v : marker.vertices) v = v * mk.scale_to_um();
        orient_outward(marker, path.string());
        const RegionId region = m.geometry.intern_region(mk.region());
        std::size_t tagged = 0;
        for (TriangleIndex t = 0; t < m.geometry.triangle_count(); ++t)
          if (m.geometry.triangle_surface[t] == surface && point_inside(marker, m.geometry.centroid(t))) {
            m.geometry.triangle_region[t] = region;
            ++tagged;
          }
        if (tagged == 0)
          error(field("file"), "the marker encloses no triangle centroid of surface '" + mk.surface() +
                                   "'; check that it overlaps the surface and uses the same units");
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
      for (int s : targets) m.surface_behaviour[static_cast<std::size_t>(region) * m.species.size() + s] = type;
    }
  }

  /// Compartment containing p, or an error at `path` when it is on a wall or outside every surface.
  int bounded_compartment_at(const Model& m, const Vec3& p, const std::vector<PathStep>& path) {
    const int c = compartment_at(m.geometry, *grid_, p, m.outer_compartment);
    std::ostringstream where;
    where << "(" << p.x << ", " << p.y << ", " << p.z << ") µm";
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
          else if (m.species[def.species].confine_region >= 0 && m.species[def.species].confine_region != def.region)
            error(field("region"), "'" + pl.species() + "' is confined to region '" +
                                       m.geometry.region_names[m.species[def.species].confine_region] +
                                       "'; place it there");
          break;
        default:
          error({{"placement", i}}, "say where: compartment: \"...\", point { x_um: ... } or region: \"...\"");
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
      if (r.time_s_size() == 0) error(field("time_s"), "give at least one release time, e.g. time_s: 0");
      std::sort(def.times_s.begin(), def.times_s.end());
      m.releases.push_back(def);
    }
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
  bool geometry_ok_ = true;
  bool t_end_overridden_ = false;
  std::unique_ptr<SpatialGrid> grid_;
};

struct Parsed {
  Scene scene;
  pb::TextFormat::ParseInfoTree tree;
  bool ok = false;
};

void parse(const fs::path& file, Parsed& out, std::vector<Diagnostic>& errors) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    errors.push_back(
        {file.string(), 0, 0, "",
         fs::exists(file) ? "cannot read the scene file (permissions?)" : "scene file not found; check the path"});
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  pb::TextFormat::Parser parser;
  ParseErrors collector(file.string(), errors);
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&out.tree);
  out.ok = parser.ParseFromString(ss.str(), &out.scene);
  if (!out.ok && errors.empty()) errors.push_back({file.string(), 0, 0, "", "malformed scene file"});
}

}  // namespace

static Model compile_checked(const fs::path& file, Parsed& parsed, std::vector<Diagnostic>& errors,
                             std::vector<Diagnostic>& warnings, std::map<std::string, std::string>* resolved_files,
                             bool t_end_overridden = false) {
  Locator loc(file.string(), &parsed.tree);
  SceneCompiler compiler(parsed.scene, loc, file.parent_path(), errors, warnings, t_end_overridden);
  Model m = compiler.compile();
  if (resolved_files) *resolved_files = compiler.resolved_files;
  if (m.name.empty()) m.name = file.stem().string();
  return m;
}

void validate_scene(const fs::path& file, std::vector<Diagnostic>& errors, std::vector<Diagnostic>& warnings) {
  Parsed parsed;
  parse(file, parsed, errors);
  if (!parsed.ok) return;
  compile_checked(file, parsed, errors, warnings, nullptr);
}

LoadedScene load_scene(const fs::path& file, const SceneOverrides& overrides) {
  std::vector<Diagnostic> errors, warnings;
  Parsed parsed;
  parse(file, parsed, errors);
  if (!parsed.ok) throw InputError(errors);
  if (overrides.seed) parsed.scene.mutable_simulation()->set_seed(*overrides.seed);
  if (overrides.t_end_s) parsed.scene.mutable_simulation()->set_t_end_s(*overrides.t_end_s);
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
  if (resolved.name().empty()) resolved.set_name(out.model.name);
  pb::TextFormat::Printer printer;
  printer.PrintToString(resolved, &out.resolved_text);
  return out;
}

}  // namespace spinesim
