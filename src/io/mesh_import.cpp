// Surface mesh import: VTK readers for .ply/.stl/.vtp, small exact parsers for
// .obj and .off (vtkOBJReader stores float32 points, which would move vertices by
// ~1e-8 relative and make spine.obj differ from Spine.off), then one shared step
// that triangulates, merges coincident vertices and drops unused ones so every
// format yields the same indexed TriangleMesh.
#include "io/mesh_import.h"

#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkExecutive.h>
#include <vtkNew.h>
#include <vtkPLYReader.h>
#include <vtkPolyData.h>
#include <vtkSTLReader.h>
#include <vtkSmartPointer.h>
#include <vtkTriangleFilter.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace spinesim {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSupported = ".obj, .ply, .stl, .vtp, .off";

[[noreturn]] void fail(const fs::path& file, const std::string& message, int line = 0) {
  Diagnostic d;
  d.file = file.string();
  d.line = line;
  d.message = message;
  throw InputError(std::move(d));
}

/// Collects the errors and warnings a VTK object reports; observed messages are
/// not printed to stderr.
class MessageSink : public vtkCommand {
 public:
  static MessageSink* New() { return new MessageSink; }
  void Execute(vtkObject*, unsigned long event, void* data) override {
    if (event == vtkCommand::ErrorEvent) ++errors;
    if (data != nullptr && first_message.empty()) first_message = static_cast<const char*>(data);
  }
  int errors = 0;
  std::string first_message;
};

/// Shortens a VTK error text ("ERROR: In .../vtkOBJReader.cxx, line 123\nvtkOBJReader (0x..): msg")
/// to its last line, which is the human-readable part.
std::string vtk_message_tail(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  auto nl = msg.find_last_of('\n');
  if (nl != std::string::npos) msg = msg.substr(nl + 1);
  auto colon = msg.find("): ");
  if (colon != std::string::npos) msg = msg.substr(colon + 3);
  return msg;
}

/// Indexed triangles with possibly duplicated or unused vertices.
struct RawMesh {
  std::vector<Vec3> vertices;
  std::vector<std::array<std::uint32_t, 3>> triangles;
};

/// Merges bit-equal (value-equal) vertices, drops unused vertices and collapsed triangles.
TriangleMesh finish(const fs::path& file, const RawMesh& raw) {
  for (const auto& v : raw.vertices) {
    if (!std::isfinite(v.x) || !std::isfinite(v.y) || !std::isfinite(v.z)) {
      fail(file, "mesh has a vertex with a non-finite coordinate (NaN or infinity); fix or re-export the mesh");
    }
  }
  std::vector<char> used(raw.vertices.size(), 0);
  for (const auto& t : raw.triangles) {
    for (auto i : t) used[i] = 1;
  }
  std::map<std::array<double, 3>, std::uint32_t> index_of;
  std::vector<std::uint32_t> remap(raw.vertices.size(), 0);
  TriangleMesh out;
  for (std::size_t i = 0; i < raw.vertices.size(); ++i) {
    if (!used[i]) continue;
    const Vec3& v = raw.vertices[i];
    auto [it, inserted] = index_of.try_emplace({v.x, v.y, v.z}, static_cast<std::uint32_t>(out.vertices.size()));
    if (inserted) out.vertices.push_back(v);
    remap[i] = it->second;
  }
  out.triangles.reserve(raw.triangles.size());
  for (const auto& t : raw.triangles) {
    std::array<std::uint32_t, 3> m{remap[t[0]], remap[t[1]], remap[t[2]]};
    if (m[0] == m[1] || m[1] == m[2] || m[0] == m[2]) continue;
    out.triangles.push_back(m);
  }
  if (out.triangles.empty()) {
    fail(file, "mesh has no non-degenerate triangles; export the surface as triangles or polygons");
  }
  return out;
}

RawMesh from_polydata(const fs::path& file, vtkPolyData* pd) {
  if (pd->GetNumberOfPolys() + pd->GetNumberOfStrips() == 0) {
    if (pd->GetNumberOfLines() + pd->GetNumberOfVerts() > 0) {
      fail(file, "mesh contains only lines or points, no surface faces; export the surface as triangles or polygons");
    }
    fail(file, "mesh has no faces; export the surface as triangles or polygons");
  }
  vtkNew<vtkTriangleFilter> tri;
  tri->SetInputData(pd);
  tri->PassVertsOff();
  tri->PassLinesOff();
  tri->Update();
  vtkPolyData* t = tri->GetOutput();

  RawMesh raw;
  const vtkIdType np = t->GetNumberOfPoints();
  raw.vertices.resize(static_cast<std::size_t>(np));
  for (vtkIdType i = 0; i < np; ++i) {
    double p[3];
    t->GetPoint(i, p);
    raw.vertices[static_cast<std::size_t>(i)] = {p[0], p[1], p[2]};
  }
  vtkCellArray* polys = t->GetPolys();
  raw.triangles.reserve(static_cast<std::size_t>(polys->GetNumberOfCells()));
  vtkNew<vtkIdList> ids;
  for (polys->InitTraversal(); polys->GetNextCell(ids);) {
    if (ids->GetNumberOfIds() != 3) continue;
    raw.triangles.push_back({static_cast<std::uint32_t>(ids->GetId(0)), static_cast<std::uint32_t>(ids->GetId(1)),
                             static_cast<std::uint32_t>(ids->GetId(2))});
  }
  return raw;
}

RawMesh read_with_vtk(const fs::path& file, vtkAlgorithm* reader, const std::string& format) {
  // Observers keep the reader's and its executive's messages off stderr.
  vtkNew<MessageSink> reader_sink;
  vtkNew<MessageSink> executive_sink;
  reader->AddObserver(vtkCommand::ErrorEvent, reader_sink);
  reader->AddObserver(vtkCommand::WarningEvent, reader_sink);
  reader->GetExecutive()->AddObserver(vtkCommand::ErrorEvent, executive_sink);
  reader->GetExecutive()->AddObserver(vtkCommand::WarningEvent, executive_sink);
  reader->Update();
  auto* pd = vtkPolyData::SafeDownCast(reader->GetOutputDataObject(0));
  if (reader_sink->errors + executive_sink->errors > 0 || pd == nullptr || pd->GetNumberOfPoints() == 0) {
    const std::string why =
        reader_sink->first_message.empty() ? "" : " (" + vtk_message_tail(reader_sink->first_message) + ")";
    fail(file, "cannot read the " + format + " mesh, or it is empty" + why +
                   "; check that the file is a valid, non-empty " + format + " surface mesh");
  }
  return from_polydata(file, pd);
}

/// vtkXMLPolyDataReader's internal XML parser prints to stderr on non-XML input,
/// out of reach of observers; reject files that do not start like a .vtp first.
void check_vtp_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find("<VTKFile") == std::string::npos || head.find("PolyData") == std::string::npos) {
    fail(file,
         "not a VTK XML PolyData file (no <VTKFile type=\"PolyData\"> header); export the mesh as .vtp, or use .obj, "
         ".ply, .stl or .off");
  }
}

std::vector<std::string_view> tokens(std::string_view s);

/// vtkPLYReader (VTK 9.1) dereferences missing words of a malformed header (e.g.
/// "property list uchar" without a name: SEGV in vtkPLY::equal_strings, found by
/// fuzz/fuzz_mesh.cpp); check the header's grammar before VTK sees the file.
void check_ply_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  static const char* const kTypes[] = {"char",  "uchar",  "short", "ushort",  "int",    "uint",
                                       "float", "double", "int8",  "uint8",   "int16",  "uint16",
                                       "int32", "uint32", "float32", "float64"};
  auto is_type = [](std::string_view t) {
    return std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* k) { return t == k; });
  };
  auto bad = [&](int line, const std::string& why) {
    fail(file, "malformed PLY header: " + why + "; re-export the mesh as PLY (ascii or binary) or use .obj/.off", line);
  };
  std::string line;
  int number = 0;
  bool element = false;
  std::size_t bytes = 0;
  while (std::getline(in, line)) {
    ++number;
    bytes += line.size() + 1;
    if (bytes > (1u << 16)) bad(number, "no end_header in the first 64 KiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto tok = tokens(line);
    if (number == 1) {
      if (tok.size() != 1 || tok[0] != "ply") bad(number, "the first line must be 'ply'");
      continue;
    }
    if (tok.empty()) continue;
    if (tok[0] == "end_header") {
      if (!element) bad(number, "no 'element' lines");
      return;
    }
    if (tok[0] == "comment" || tok[0] == "obj_info") continue;
    if (tok[0] == "format") {
      if (tok.size() != 3 || (tok[1] != "ascii" && tok[1] != "binary_little_endian" && tok[1] != "binary_big_endian"))
        bad(number, "expected 'format ascii|binary_little_endian|binary_big_endian 1.0'");
    } else if (tok[0] == "element") {
      if (tok.size() != 3 || !std::all_of(tok[2].begin(), tok[2].end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          tok[2].size() > 12)
        bad(number, "expected 'element NAME COUNT'");
      element = true;
    } else if (tok[0] == "property") {
      if (!element) bad(number, "'property' before any 'element'");
      const bool list = tok.size() >= 2 && tok[1] == "list";
      if (list ? (tok.size() != 5 || !is_type(tok[2]) || !is_type(tok[3])) : (tok.size() != 3 || !is_type(tok[1])))
        bad(number, "expected 'property TYPE NAME' or 'property list COUNT_TYPE TYPE NAME'");
    } else {
      bad(number, "unknown header line '" + std::string(tok[0]) + "'");
    }
  }
  bad(number, "the file ends before 'end_header'");
}

/// vtkSTLReader (VTK 9.1) can loop forever on an ASCII STL with NUL or other control
/// bytes (found by fuzz/fuzz_mesh.cpp); a file that VTK would read as ASCII (starts
/// with "solid" and is not sized like a binary STL) must be plain text.
void check_stl_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.compare(0, 5, "solid") != 0) return;
  if (bytes.size() >= 84) {
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[80 + k])) << (8 * k);
    if (bytes.size() == 84 + 50ull * n) return;  // binary STL whose header happens to start with "solid"
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v')
      fail(file, "ASCII STL contains a control byte (code " + std::to_string(c) + ") at byte " + std::to_string(i) +
                     "; the file is corrupt or binary with a 'solid' header of the wrong size");
  }
  if (bytes.find("endsolid") == std::string::npos)
    fail(file, "ASCII STL has no 'endsolid' line; the file is truncated");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

template <class T>
bool parse_number(std::string_view tok, T& value) {
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), value);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

/// Reads a Wavefront OBJ file: "v x y z [w]" vertices and "f a b c ..." faces whose
/// corners may be "v", "v/vt", "v//vn" or "v/vt/vn" (1-based, negative = relative
/// to the end). Other statements (vt, vn, o, g, s, usemtl, mtllib, ...) are ignored.
RawMesh read_obj(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file; check its permissions");
  RawMesh raw;
  std::size_t lines_or_points = 0;
  std::string line;
  int number = 0;
  std::vector<std::uint32_t> idx;
  while (std::getline(in, line)) {
    ++number;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    auto tok = tokens(line);
    if (tok.empty()) continue;
    if (tok[0] == "v") {
      Vec3 v;
      if (tok.size() < 4 || !parse_number(tok[1], v.x) || !parse_number(tok[2], v.y) || !parse_number(tok[3], v.z)) {
        fail(file, "expected a vertex line 'v x y z' (three numbers)", number);
      }
      raw.vertices.push_back(v);
    } else if (tok[0] == "f") {
      if (tok.size() < 4) {
        fail(file, "face has " + std::to_string(tok.size() - 1) + " vertices; faces need at least 3", number);
      }
      idx.clear();
      for (std::size_t j = 1; j < tok.size(); ++j) {
        std::string_view corner = tok[j].substr(0, tok[j].find('/'));
        long long v = 0;
        const auto nv = static_cast<long long>(raw.vertices.size());
        if (!parse_number(corner, v) || v == 0 || v > nv || v < -nv) {
          fail(file,
               "face vertex index '" + std::string(corner) + "' does not refer to a vertex defined above (1.." +
                   std::to_string(nv) + ", or negative to count back from the last vertex)",
               number);
        }
        idx.push_back(static_cast<std::uint32_t>(v > 0 ? v - 1 : nv + v));
      }
      for (std::size_t j = 1; j + 1 < idx.size(); ++j) raw.triangles.push_back({idx[0], idx[j], idx[j + 1]});
    } else if (tok[0] == "l" || tok[0] == "p") {
      ++lines_or_points;
    }
  }
  if (in.bad()) fail(file, "error while reading the file; check that it is readable");
  if (raw.triangles.empty()) {
    if (lines_or_points > 0) {
      fail(file, "mesh contains only lines or points, no surface faces; export the surface as triangles or polygons");
    }
    if (raw.vertices.empty())
      fail(file, "mesh is empty: no 'v' or 'f' lines; check that the file is a valid OBJ surface mesh");
    fail(file, "mesh has vertices but no faces ('f' lines); export the surface as triangles or polygons");
  }
  return raw;
}

/// Reads an OFF file: "OFF" header, "nv nf ne" counts, nv vertex lines, nf face lines.
RawMesh read_off(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file; check its permissions");
  // Non-empty, comment-stripped lines with their 1-based line numbers.
  std::vector<std::pair<int, std::string>> lines;
  {
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      auto hash = line.find('#');
      if (hash != std::string::npos) line.erase(hash);
      std::string_view t = trim(line);
      if (!t.empty()) lines.emplace_back(number, std::string(t));
    }
  }
  if (lines.empty()) fail(file, "OFF file is empty; expected an 'OFF' header line followed by counts");
  std::size_t k = 0;
  auto header = tokens(lines[0].second);
  if (header.empty() || header[0] != "OFF") {
    fail(file,
         "expected the header 'OFF' on the first line (COFF/NOFF/binary OFF are not supported); convert the file to "
         "plain ASCII OFF",
         lines[0].first);
  }
  std::vector<std::string_view> counts(header.begin() + 1, header.end());
  int counts_line = lines[0].first;
  ++k;
  if (counts.empty()) {
    if (k >= lines.size())
      fail(file, "OFF file ends after the header; expected a line 'vertex_count face_count edge_count'",
           lines[0].first);
    counts_line = lines[k].first;
    counts = tokens(lines[k].second);
    ++k;
  }
  long long nv = -1, nf = -1;
  if (counts.size() < 2 || !parse_number(counts[0], nv) || !parse_number(counts[1], nf) || nv < 0 || nf < 0) {
    fail(file, "expected 'vertex_count face_count edge_count' (non-negative integers) after the OFF header",
         counts_line);
  }
  RawMesh raw;
  raw.vertices.reserve(static_cast<std::size_t>(nv));
  for (long long i = 0; i < nv; ++i, ++k) {
    if (k >= lines.size()) {
      fail(file,
           "OFF file ends after " + std::to_string(i) + " of " + std::to_string(nv) +
               " vertices; check the vertex count on the counts line",
           lines.back().first);
    }
    auto tok = tokens(lines[k].second);
    Vec3 v;
    if (tok.size() < 3 || !parse_number(tok[0], v.x) || !parse_number(tok[1], v.y) || !parse_number(tok[2], v.z)) {
      fail(file, "expected a vertex line 'x y z' (three numbers)", lines[k].first);
    }
    raw.vertices.push_back(v);
  }
  for (long long f = 0; f < nf; ++f, ++k) {
    if (k >= lines.size()) {
      fail(file,
           "OFF file ends after " + std::to_string(f) + " of " + std::to_string(nf) +
               " faces; check the face count on the counts line",
           lines.back().first);
    }
    auto tok = tokens(lines[k].second);
    long long n = 0;
    if (tok.empty() || !parse_number(tok[0], n)) {
      fail(file, "expected a face line 'n i1 ... in' starting with the vertex count n", lines[k].first);
    }
    if (n < 3) {
      fail(file,
           "face has " + std::to_string(n) + " vertices; faces need at least 3 (lines and points are not surfaces)",
           lines[k].first);
    }
    if (static_cast<long long>(tok.size()) < n + 1) {
      fail(file, "face declares " + std::to_string(n) + " vertices but lists " + std::to_string(tok.size() - 1),
           lines[k].first);
    }
    std::vector<std::uint32_t> idx(static_cast<std::size_t>(n));
    for (long long j = 0; j < n; ++j) {
      long long v = -1;
      if (!parse_number(tok[static_cast<std::size_t>(j + 1)], v) || v < 0 || v >= nv) {
        fail(file,
             "face vertex index '" + std::string(tok[static_cast<std::size_t>(j + 1)]) + "' is not an integer in 0.." +
                 std::to_string(nv - 1) + " (OFF indices are 0-based)",
             lines[k].first);
      }
      idx[static_cast<std::size_t>(j)] = static_cast<std::uint32_t>(v);
    }
    for (std::size_t j = 1; j + 1 < idx.size(); ++j) raw.triangles.push_back({idx[0], idx[j], idx[j + 1]});
  }
  if (k < lines.size()) {
    fail(file, "unexpected content after the last face; check the vertex and face counts on the counts line",
         lines[k].first);
  }
  return raw;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

TriangleMesh read_surface_mesh(const fs::path& file) {
  std::error_code ec;
  auto status = fs::status(file, ec);
  if (!fs::exists(status)) {
    fail(file, "file not found; check the path, relative paths are resolved against the scene file's directory");
  }
  if (fs::is_directory(status)) fail(file, "is a directory, not a mesh file; give the path of a mesh file");
  const std::string ext = lower(file.extension().string());
  RawMesh raw;
  if (ext == ".off") {
    raw = read_off(file);
  } else if (ext == ".obj") {
    raw = read_obj(file);
  } else if (ext == ".ply") {
    check_ply_header(file);
    vtkNew<vtkPLYReader> r;
    r->SetFileName(file.c_str());
    raw = read_with_vtk(file, r, "PLY");
  } else if (ext == ".stl") {
    check_stl_text(file);
    vtkNew<vtkSTLReader> r;
    r->SetFileName(file.c_str());
    raw = read_with_vtk(file, r, "STL");
  } else if (ext == ".vtp") {
    check_vtp_header(file);
    vtkNew<vtkXMLPolyDataReader> r;
    r->SetFileName(file.c_str());
    raw = read_with_vtk(file, r, "VTK XML PolyData (.vtp)");
  } else {
    fail(file, "unsupported mesh format '" + file.extension().string() + "'; supported: " + kSupported);
  }
  return finish(file, raw);
}

}  // namespace spinesim
