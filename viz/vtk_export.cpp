// VTK XML export of geometry and molecule frames, and the .pvd frame index.
// Files are raw binary (no compression, no encoding) so identical input gives
// identical bytes, and every file is written via atomic_write_with.
#include "viz/vtk_export.h"

#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkCommand.h>
#include <vtkDoubleArray.h>
#include <vtkExecutive.h>
#include <vtkFieldData.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkTypeInt32Array.h>
#include <vtkTypeInt64Array.h>
#include <vtkTypeUInt64Array.h>
#include <vtkXMLPolyDataWriter.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/xml_escape.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

/// Records whether a VTK object reported an error (and keeps it off stderr).
class ErrorSink : public vtkCommand {
 public:
  static ErrorSink* New() { return new ErrorSink; }
  void Execute(vtkObject*, unsigned long event, void* data) override {
    if (event == vtkCommand::ErrorEvent && message.empty()) {
      message = data != nullptr ? static_cast<const char*>(data) : "unknown VTK error";
    }
  }
  std::string message;
};

vtkSmartPointer<vtkStringArray> string_array(const char* name, const std::vector<std::string>& values) {
  auto a = vtkSmartPointer<vtkStringArray>::New();
  a->SetName(name);
  a->SetNumberOfValues(static_cast<vtkIdType>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) a->SetValue(static_cast<vtkIdType>(i), values[i]);
  return a;
}

template <class T>
vtkSmartPointer<vtkTypeInt32Array> int32_array(const char* name, const std::vector<T>& values) {
  auto a = vtkSmartPointer<vtkTypeInt32Array>::New();
  a->SetName(name);
  a->SetNumberOfValues(static_cast<vtkIdType>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i)
    a->SetValue(static_cast<vtkIdType>(i), static_cast<std::int32_t>(values[i]));
  return a;
}

vtkSmartPointer<vtkPoints> points_of(const std::vector<Vec3>& positions) {
  vtkNew<vtkDoubleArray> xyz;
  xyz->SetNumberOfComponents(3);
  xyz->SetNumberOfTuples(static_cast<vtkIdType>(positions.size()));
  for (std::size_t i = 0; i < positions.size(); ++i) {
    const double p[3] = {positions[i].x, positions[i].y, positions[i].z};
    xyz->SetTypedTuple(static_cast<vtkIdType>(i), p);
  }
  auto pts = vtkSmartPointer<vtkPoints>::New();
  pts->SetDataTypeToDouble();
  pts->SetData(xyz);
  return pts;
}

vtkSmartPointer<vtkCellArray> polys_of(const std::vector<std::array<std::uint32_t, 3>>& triangles) {
  const auto n = static_cast<vtkIdType>(triangles.size());
  vtkNew<vtkTypeInt64Array> offsets;
  vtkNew<vtkTypeInt64Array> conn;
  offsets->SetNumberOfValues(n + 1);
  conn->SetNumberOfValues(3 * n);
  for (vtkIdType t = 0; t <= n; ++t) offsets->SetValue(t, 3 * t);
  for (vtkIdType t = 0; t < n; ++t) {
    for (int k = 0; k < 3; ++k)
      conn->SetValue(3 * t + k, triangles[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
  }
  auto polys = vtkSmartPointer<vtkCellArray>::New();
  polys->SetData(offsets, conn);
  return polys;
}

void write_polydata(vtkPolyData* pd, const fs::path& file) {
  atomic_write_with(file, [&](const fs::path& tmp) {
    vtkNew<vtkXMLPolyDataWriter> w;
    vtkNew<ErrorSink> sink;
    w->AddObserver(vtkCommand::ErrorEvent, sink);
    w->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, sink);
    w->SetInputData(pd);
    w->SetFileName(tmp.c_str());
    w->SetDataModeToAppended();
    w->EncodeAppendedDataOff();
    w->SetCompressorTypeToNone();
    w->SetHeaderTypeToUInt64();
    w->SetIdTypeToInt64();
    w->SetByteOrderToLittleEndian();
    if (w->Write() != 1 || !sink->message.empty()) {
      throw IoError("cannot write " + file.string() +
                    " (check that the directory exists, is writable and the disk is not full)");
    }
  });
}

std::string xml_unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      static const std::pair<const char*, char> table[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool done = false;
      for (const auto& [ent, ch] : table) {
        if (s.compare(i, std::char_traits<char>::length(ent), ent) == 0) {
          out += ch;
          i += std::char_traits<char>::length(ent) - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += s[i];
  }
  return out;
}

/// Value of attribute `name` in the tag text `tag`, or false when absent.
bool attribute(const std::string& tag, const std::string& name, std::string& value) {
  std::size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string::npos) {
    const bool starts = pos > 0 && std::isspace(static_cast<unsigned char>(tag[pos - 1]));
    std::size_t p = pos + name.size();
    while (p < tag.size() && std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
    if (starts && p < tag.size() && tag[p] == '=') {
      ++p;
      while (p < tag.size() && std::isspace(static_cast<unsigned char>(tag[p]))) ++p;
      if (p < tag.size() && (tag[p] == '"' || tag[p] == '\'')) {
        const char q = tag[p];
        const std::size_t end = tag.find(q, p + 1);
        if (end == std::string::npos) return false;
        value = xml_unescape(tag.substr(p + 1, end - p - 1));
        return true;
      }
    }
    pos += name.size();
  }
  return false;
}

}  // namespace

void write_mesh_vtp(const Geometry& g, const fs::path& file) {
  vtkNew<vtkPolyData> pd;
  pd->SetPoints(points_of(g.vertices));

  pd->SetPolys(polys_of(g.triangles));

  std::vector<std::int32_t> front(g.triangle_sides.size()), back(g.triangle_sides.size());
  for (std::size_t t = 0; t < g.triangle_sides.size(); ++t) {
    front[t] = g.triangle_sides[t][0];
    back[t] = g.triangle_sides[t][1];
  }
  pd->GetCellData()->AddArray(int32_array("region_id", g.triangle_region));
  pd->GetCellData()->AddArray(int32_array("surface_id", g.triangle_surface));
  pd->GetCellData()->AddArray(int32_array("front_compartment", front));
  pd->GetCellData()->AddArray(int32_array("back_compartment", back));

  vtkNew<vtkFieldData> fd;
  fd->AddArray(string_array("region_names", g.region_names));
  fd->AddArray(string_array("surface_names", g.surface_names));
  fd->AddArray(string_array("compartment_names", g.compartment_names));
  pd->SetFieldData(fd);

  write_polydata(pd, file);
}

void write_triangles_vtp(const TriangleMesh& mesh,
                         const std::vector<std::pair<std::string, std::vector<std::int32_t>>>& cell_arrays,
                         const std::vector<std::pair<std::string, std::vector<std::string>>>& field_strings,
                         const fs::path& file) {
  vtkNew<vtkPolyData> pd;
  pd->SetPoints(points_of(mesh.vertices));
  pd->SetPolys(polys_of(mesh.triangles));
  for (const auto& [name, values] : cell_arrays) pd->GetCellData()->AddArray(int32_array(name.c_str(), values));
  vtkNew<vtkFieldData> fd;
  for (const auto& [name, values] : field_strings) fd->AddArray(string_array(name.c_str(), values));
  pd->SetFieldData(fd);
  write_polydata(pd, file);
}

void write_frame_vtp(const Snapshot& s, const fs::path& file) {
  vtkNew<vtkPolyData> pd;
  pd->SetPoints(points_of(s.positions));
  const auto n = static_cast<vtkIdType>(s.size());

  vtkNew<vtkTypeInt64Array> offsets;
  vtkNew<vtkTypeInt64Array> conn;
  offsets->SetNumberOfValues(n + 1);
  conn->SetNumberOfValues(n);
  for (vtkIdType i = 0; i <= n; ++i) offsets->SetValue(i, i);
  for (vtkIdType i = 0; i < n; ++i) conn->SetValue(i, i);
  vtkNew<vtkCellArray> verts;
  verts->SetData(offsets, conn);
  pd->SetVerts(verts);

  pd->GetPointData()->AddArray(int32_array("species", s.species));
  pd->GetPointData()->AddArray(int32_array("state", s.state));
  pd->GetPointData()->AddArray(int32_array("region", s.region));
  pd->GetPointData()->AddArray(int32_array("compartment", s.compartment));
  vtkNew<vtkTypeUInt64Array> ids;
  ids->SetName("id");
  ids->SetNumberOfValues(static_cast<vtkIdType>(s.ids.size()));
  for (std::size_t i = 0; i < s.ids.size(); ++i) ids->SetValue(static_cast<vtkIdType>(i), s.ids[i]);
  pd->GetPointData()->AddArray(ids);

  vtkNew<vtkFieldData> fd;
  vtkNew<vtkDoubleArray> time;
  time->SetName("time_s");
  time->SetNumberOfValues(1);
  time->SetValue(0, s.time_s);
  fd->AddArray(time);
  fd->AddArray(string_array("species_names", s.species_names));
  vtkNew<vtkDoubleArray> radius;
  radius->SetName("species_display_radius_um");
  radius->SetNumberOfValues(static_cast<vtkIdType>(s.species_display_radius_um.size()));
  for (std::size_t i = 0; i < s.species_display_radius_um.size(); ++i)
    radius->SetValue(static_cast<vtkIdType>(i), s.species_display_radius_um[i]);
  fd->AddArray(radius);
  fd->AddArray(string_array("state_names", s.state_names));
  fd->AddArray(string_array("region_names", s.region_names));
  fd->AddArray(string_array("compartment_names", s.compartment_names));
  pd->SetFieldData(fd);

  write_polydata(pd, file);
}

PvdWriter::PvdWriter(fs::path pvd_file) : pvd_file_(std::move(pvd_file)) {
  rewrite();
}

PvdWriter::PvdWriter(fs::path pvd_file, const std::vector<std::pair<double, std::string>>& entries)
    : pvd_file_(std::move(pvd_file)) {
  for (const auto& [t, f] : entries) entries_.push_back({t, f});
  rewrite();
}

std::vector<std::pair<double, std::string>> PvdWriter::entries() const {
  std::vector<std::pair<double, std::string>> out;
  for (const auto& e : entries_) out.emplace_back(e.time_s, e.file);
  return out;
}

void PvdWriter::add(double time_s, const std::string& relative_vtp_path) {
  entries_.push_back({time_s, relative_vtp_path});
  rewrite();
}

void PvdWriter::rewrite() const {
  std::string xml =
      "<?xml version=\"1.0\"?>\n"
      "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n"
      "  <Collection>\n";
  for (const auto& e : entries_) {
    char t[64];
    std::snprintf(t, sizeof t, "%.9g", e.time_s);
    xml += "    <DataSet timestep=\"";
    xml += t;
    xml += "\" group=\"\" part=\"0\" file=\"" + xml_escape(e.file) + "\"/>\n";
  }
  xml += "  </Collection>\n</VTKFile>\n";
  atomic_write(pvd_file_, xml);
}

std::vector<PvdEntry> read_pvd(const fs::path& pvd_file) {
  auto fail = [&](const std::string& message) {
    Diagnostic d;
    d.file = pvd_file.string();
    d.message = message;
    throw InputError(std::move(d));
  };
  std::ifstream in(pvd_file, std::ios::binary);
  if (!in)
    fail("cannot open the frame index; check that the run directory is complete (it is written by the simulation)");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (text.find("Collection") == std::string::npos) {
    fail("not a ParaView collection (.pvd) file: no <Collection> element");
  }
  std::vector<PvdEntry> out;
  std::size_t pos = 0;
  while ((pos = text.find("<DataSet", pos)) != std::string::npos) {
    const std::size_t end = text.find('>', pos);
    if (end == std::string::npos) fail("unterminated <DataSet> element; the file is truncated or corrupt");
    const std::string tag = text.substr(pos, end - pos);
    PvdEntry e;
    std::string ts;
    if (!attribute(tag, "file", e.file) || e.file.empty()) fail("a <DataSet> element has no file attribute");
    if (attribute(tag, "timestep", ts)) {
      char* stop = nullptr;
      e.time_s = std::strtod(ts.c_str(), &stop);
      if (stop == ts.c_str()) fail("a <DataSet> element has a non-numeric timestep '" + ts + "'");
    }
    out.push_back(std::move(e));
    pos = end;
  }
  return out;
}

}  // namespace spinesim
