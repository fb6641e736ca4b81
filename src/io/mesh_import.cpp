// Surface mesh import: small exact parsers for .obj, .off, .ply and .stl (VTK's
// readers store float32 points, which would move vertices by ~1e-8 relative and make
// spine.obj differ from Spine.off, and its PLY and STL readers crashed, hung or
// allocated gigabytes on fuzzed input), VTK's XML reader for .vtp, then one shared
// step that checks indices, merges coincident vertices and drops unused ones so every
// format yields the same indexed TriangleMesh. Every parser works on the file's bytes
// in memory (parse_surface_mesh), so the fuzz target needs no temporary files.
#include "io/mesh_import.h"

#include <vtkCellArray.h>
#include <vtkCommand.h>
#include <vtkExecutive.h>
#include <vtkNew.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>
#include <vtkTriangleFilter.h>
#include <vtkXMLDataElement.h>
#include <vtkXMLDataParser.h>
#include <vtkXMLPolyDataReader.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/input_file.h"

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
    for (auto i : t) {
      if (i >= raw.vertices.size())
        fail(file, "a face uses vertex " + std::to_string(i) + " of " + std::to_string(raw.vertices.size()) +
                       " (indices past the last vertex); the file is corrupt, re-export the mesh");
      used[i] = 1;
    }
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
void check_vtp_header(std::string_view data, const fs::path& file) {
  const std::string_view head = data.substr(0, 4096);
  if (head.find("<VTKFile") == std::string::npos || head.find("PolyData") == std::string::npos) {
    fail(file,
         "not a VTK XML PolyData file (no <VTKFile type=\"PolyData\"> header); export the mesh as .vtp, or use .obj, "
         ".ply, .stl or .off");
  }
  // vtkXMLPolyDataReader (VTK 9.1) leaks the points array when it does not have three
  // components (found by fuzz/fuzz_mesh.cpp). Parse the XML with the reader's own
  // parser first (so attributes mean exactly what they mean to the reader) and refuse
  // such files before the reader sees them.
  std::istringstream in{std::string(data)};
  vtkNew<vtkXMLDataParser> parser;
  vtkNew<MessageSink> sink;
  parser->AddObserver(vtkCommand::ErrorEvent, sink);
  parser->AddObserver(vtkCommand::WarningEvent, sink);
  parser->SetStream(&in);
  vtkXMLDataElement* root = parser->Parse() != 0 && sink->errors == 0 ? parser->GetRootElement() : nullptr;
  if (root == nullptr) {
    const std::string why = sink->first_message.empty() ? "" : " (" + vtk_message_tail(sink->first_message) + ")";
    fail(file,
         "VTK XML PolyData file is not well-formed XML" + why + "; the file is corrupt or truncated, re-export it");
  }
  auto named = [](vtkXMLDataElement* e, const char* name) {
    return e != nullptr && e->GetName() != nullptr && std::strcmp(e->GetName(), name) == 0;
  };
  for (int i = 0; i < root->GetNumberOfNestedElements(); ++i) {
    vtkXMLDataElement* poly = root->GetNestedElement(i);
    if (!named(poly, "PolyData")) continue;
    for (int j = 0; j < poly->GetNumberOfNestedElements(); ++j) {
      vtkXMLDataElement* piece = poly->GetNestedElement(j);
      if (!named(piece, "Piece")) continue;
      for (int k = 0; k < piece->GetNumberOfNestedElements(); ++k) {
        vtkXMLDataElement* points = piece->GetNestedElement(k);
        if (!named(points, "Points") || points->GetNumberOfNestedElements() == 0) continue;
        vtkXMLDataElement* array = points->GetNestedElement(0);
        int components = 0;
        if (!named(array, "DataArray") || array->GetScalarAttribute("NumberOfComponents", components) == 0 ||
            components != 3)
          fail(file,
               "the <Points> DataArray of a VTK XML PolyData file must have NumberOfComponents=\"3\" (x, y, z); "
               "the file is corrupt, re-export the mesh");
      }
    }
  }
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

/// Calls f(line, number) for every line of `data` as std::getline would split it
/// ('\n' ends a line, a last line without one still counts, '\r' is kept).
template <class F>
void for_each_line(std::string_view data, F&& f) {
  std::size_t pos = 0;
  int number = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos) eol = data.size();
    f(data.substr(pos, eol - pos), ++number);
    pos = eol + 1;
  }
}

/// Reads STL with our own strict parser (VTK 9.1's vtkSTLReader looped forever on
/// an ASCII STL with NUL bytes and allocated 9 GB for a file it took as binary with a
/// garbage triangle count, both found by fuzz/fuzz_mesh.cpp). A binary STL is an
/// 80-byte header, a little-endian uint32 triangle count and 50 bytes per triangle
/// (normal, three float32 corners, a 2-byte attribute): a file whose size matches
/// its count is binary, whatever its header says (many exporters begin binary
/// headers with "solid"). Anything else must be ASCII text: 'solid [name]', then
/// facets 'facet normal nx ny nz / outer loop / vertex x y z (three times) / endloop /
/// endfacet', then 'endsolid [name]'; several solids may follow each other. Normals
/// are ignored (orientation comes from the winding); ASCII coordinates keep full
/// double precision.
RawMesh read_stl(std::string_view data, const fs::path& file) {
  RawMesh raw;
  if (data.size() >= 84) {
    std::uint32_t n = 0;
    for (int k = 0; k < 4; ++k) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[80 + k])) << (8 * k);
    if (data.size() == 84 + 50ull * n) {
      raw.vertices.reserve(3ull * n);
      raw.triangles.reserve(n);
      for (std::uint32_t t = 0; t < n; ++t) {
        const char* rec = data.data() + 84 + 50ull * t;
        for (int c = 0; c < 3; ++c) {
          float xyz[3];
          for (int d = 0; d < 3; ++d) {
            std::uint32_t bits = 0;
            for (int k = 0; k < 4; ++k)
              bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(rec[12 + 12 * c + 4 * d + k])) << (8 * k);
            std::memcpy(&xyz[d], &bits, sizeof bits);
          }
          raw.vertices.push_back({xyz[0], xyz[1], xyz[2]});
        }
        const auto base = static_cast<std::uint32_t>(3 * t);
        raw.triangles.push_back({base, base + 1, base + 2});
      }
      return raw;
    }
  }
  if (data.substr(0, 5) != "solid")
    fail(file,
         "not an STL file: a binary STL's size must be 84 + 50 × its triangle count, and an ASCII STL starts "
         "with 'solid'; re-export the mesh");
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v') || c > 0x7E)
      fail(file, "ASCII STL contains a non-text byte (code " + std::to_string(c) + ") at byte " + std::to_string(i) +
                     "; the file is corrupt, or binary with a size that does not match its triangle count");
  }
  // Tokens with their line numbers; the rest of a 'solid'/'endsolid' line is its name.
  struct Token {
    std::string_view text;
    int line;
  };
  std::vector<Token> tok;
  for_each_line(data, [&](std::string_view line, int number) {
    const auto words = tokens(line);
    if (!words.empty() && (words[0] == "solid" || words[0] == "endsolid")) {
      tok.push_back({words[0], number});
      return;
    }
    for (auto w : words) tok.push_back({w, number});
  });
  std::size_t k = 0;
  auto line_at = [&](std::size_t i) { return i < tok.size() ? tok[i].line : (tok.empty() ? 0 : tok.back().line); };
  auto expect = [&](std::string_view word, const char* context) {
    if (k >= tok.size())
      fail(file,
           std::string("ASCII STL ends where '") + std::string(word) + "' was expected (" + context +
               "); the file is truncated",
           line_at(k));
    if (tok[k].text != word)
      fail(file,
           "malformed ASCII STL: expected '" + std::string(word) + "' (" + context + "), found '" +
               std::string(tok[k].text.substr(0, 40)) + "'; re-export the mesh",
           tok[k].line);
    ++k;
  };
  auto number = [&](const char* what) {
    double v = 0;
    if (k >= tok.size())
      fail(file, std::string("ASCII STL ends inside ") + what + "; the file is truncated", line_at(k));
    if (!parse_number(tok[k].text, v))
      fail(file,
           std::string("malformed ASCII STL: '") + std::string(tok[k].text.substr(0, 40)) + "' in " + what +
               " is not a number",
           tok[k].line);
    ++k;
    return v;
  };
  while (k < tok.size()) {
    expect("solid", "a solid begins with 'solid [name]'");
    while (k < tok.size() && tok[k].text == "facet") {
      ++k;
      expect("normal", "'facet normal nx ny nz'");
      for (int d = 0; d < 3; ++d) (void)number("a facet normal");
      expect("outer", "'outer loop' after the facet normal");
      expect("loop", "'outer loop' after the facet normal");
      const auto base = static_cast<std::uint32_t>(raw.vertices.size());
      for (int c = 0; c < 3; ++c) {
        expect("vertex", "a facet has exactly three 'vertex x y z' lines");
        Vec3 v;
        v.x = number("a vertex");
        v.y = number("a vertex");
        v.z = number("a vertex");
        raw.vertices.push_back(v);
      }
      expect("endloop", "a facet has exactly three 'vertex x y z' lines, then 'endloop'");
      expect("endfacet", "'endfacet' after 'endloop'");
      raw.triangles.push_back({base, base + 1, base + 2});
    }
    expect("endsolid", "'facet' or 'endsolid'");
  }
  if (raw.triangles.empty()) fail(file, "STL has no facets; export the surface as triangles");
  return raw;
}

/// Reads a Wavefront OBJ file: "v x y z [w]" vertices and "f a b c ..." faces whose
/// corners may be "v", "v/vt", "v//vn" or "v/vt/vn" (1-based, negative = relative
/// to the end). Other statements (vt, vn, o, g, s, usemtl, mtllib, ...) are ignored.
RawMesh read_obj(std::string_view data, const fs::path& file) {
  RawMesh raw;
  std::size_t lines_or_points = 0;
  std::vector<std::uint32_t> idx;
  for_each_line(data, [&](std::string_view line, int number) {
    line = line.substr(0, line.find('#'));
    auto tok = tokens(line);
    if (tok.empty()) return;
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
  });
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
RawMesh read_off(std::string_view data, const fs::path& file) {
  // Non-empty, comment-stripped lines with their 1-based line numbers.
  std::vector<std::pair<int, std::string_view>> lines;
  for_each_line(data, [&](std::string_view line, int number) {
    std::string_view t = trim(line.substr(0, line.find('#')));
    if (!t.empty()) lines.emplace_back(number, t);
  });
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
  // Every vertex takes a line of its own: a count beyond the lines left is corrupt
  // (reported below as a truncated file) and must not drive the allocation (fuzzing
  // found a 12 GB reserve).
  RawMesh raw;
  raw.vertices.reserve(static_cast<std::size_t>(std::min<long long>(nv, static_cast<long long>(lines.size() - k))));
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

/// Reads PLY (ascii, binary_little_endian, binary_big_endian) with our own exact
/// parser: vtkPLYReader (VTK 9.1) dereferences missing words of a malformed header
/// (SEGV in vtkPLY::equal_strings) and frees a bad pointer on malformed data under a
/// valid header, both found by fuzz/fuzz_mesh.cpp. Coordinates keep their full
/// precision (VTK reads them as float). Vertices come from element "vertex"
/// (properties x, y, z), polygons from element "face" (list vertex_indices or
/// vertex_index), fan-triangulated; other elements and properties are skipped.
RawMesh read_ply(std::string_view data, const fs::path& file) {
  auto bad = [&](int line, const std::string& why) {
    fail(file, "malformed PLY: " + why + "; re-export the mesh as PLY (ascii or binary) or use .obj/.off", line);
  };
  struct Property {
    std::string name, type, count_type;
    bool list = false;
  };
  struct Element {
    std::string name;
    std::uint64_t count = 0;
    std::vector<Property> props;
  };
  static const std::pair<const char*, int> kTypes[] = {{"char", 1},  {"uchar", 1},  {"short", 2},   {"ushort", 2},
                                                       {"int", 4},   {"uint", 4},   {"float", 4},   {"double", 8},
                                                       {"int8", 1},  {"uint8", 1},  {"int16", 2},   {"uint16", 2},
                                                       {"int32", 4}, {"uint32", 4}, {"float32", 4}, {"float64", 8}};
  auto size_of = [](std::string_view t) {
    for (const auto& [name, size] : kTypes)
      if (t == name) return size;
    return 0;
  };
  // Header.
  std::vector<Element> elements;
  std::string format;
  std::size_t pos = 0;
  int number = 0;
  bool ended = false;
  while (pos < data.size() && !ended) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string::npos) eol = data.size();
    std::string line(data.substr(pos, eol - pos));
    pos = eol + 1;
    ++number;
    if (pos > (1u << 16) && !ended) bad(number, "no end_header in the first 64 KiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto tok = tokens(line);
    if (number == 1) {
      if (tok.size() != 1 || tok[0] != "ply") bad(number, "the first line must be 'ply'");
      continue;
    }
    if (tok.empty() || tok[0] == "comment" || tok[0] == "obj_info") continue;
    if (tok[0] == "end_header") {
      ended = true;
    } else if (tok[0] == "format") {
      if (tok.size() != 3 || (tok[1] != "ascii" && tok[1] != "binary_little_endian" && tok[1] != "binary_big_endian"))
        bad(number, "expected 'format ascii|binary_little_endian|binary_big_endian 1.0'");
      format = std::string(tok[1]);
    } else if (tok[0] == "element") {
      long long count = -1;
      if (tok.size() != 3 || !parse_number(tok[2], count) || count < 0) bad(number, "expected 'element NAME COUNT'");
      elements.push_back({std::string(tok[1]), static_cast<std::uint64_t>(count), {}});
    } else if (tok[0] == "property") {
      if (elements.empty()) bad(number, "'property' before any 'element'");
      Property p;
      p.list = tok.size() >= 2 && tok[1] == "list";
      if (p.list ? (tok.size() != 5 || !size_of(tok[2]) || !size_of(tok[3])) : (tok.size() != 3 || !size_of(tok[1])))
        bad(number, "expected 'property TYPE NAME' or 'property list COUNT_TYPE TYPE NAME'");
      if (p.list) {
        p.count_type = std::string(tok[2]);
        p.type = std::string(tok[3]);
        p.name = std::string(tok[4]);
      } else {
        p.type = std::string(tok[1]);
        p.name = std::string(tok[2]);
      }
      elements.back().props.push_back(p);
    } else {
      bad(number, "unknown header line '" + std::string(tok[0]) + "'");
    }
  }
  if (!ended) bad(number, "the file ends before 'end_header'");
  if (format.empty()) bad(number, "no 'format' line");
  // Every element needs at least one byte (or character) per instance: counts larger
  // than the file are corrupt and must not drive allocations.
  for (const auto& e : elements)
    if (e.count > data.size()) bad(number, "element '" + e.name + "' claims " + std::to_string(e.count) + " items");

  // Data: one reader for the three encodings, returning each scalar as a double.
  const bool ascii = format == "ascii";
  const bool swap = format == "binary_big_endian";
  std::size_t cursor = pos;
  auto next_value = [&](const std::string& type, const std::string& where) -> double {
    if (ascii) {
      while (cursor < data.size() && std::isspace(static_cast<unsigned char>(data[cursor]))) ++cursor;
      const std::size_t start = cursor;
      while (cursor < data.size() && !std::isspace(static_cast<unsigned char>(data[cursor]))) ++cursor;
      double v = 0;
      if (start == cursor) bad(0, "the file ends inside " + where);
      if (!parse_number(std::string_view(data).substr(start, cursor - start), v)) bad(0, "bad number in " + where);
      return v;
    }
    const int size = size_of(type);
    if (cursor + static_cast<std::size_t>(size) > data.size()) bad(0, "the file ends inside " + where);
    unsigned char b[8];
    std::memcpy(b, data.data() + cursor, static_cast<std::size_t>(size));
    cursor += static_cast<std::size_t>(size);
    if (swap) std::reverse(b, b + size);
    auto as = [&](auto zero) {
      decltype(zero) x;
      std::memcpy(&x, b, sizeof x);
      return static_cast<double>(x);
    };
    if (type == "char" || type == "int8") return as(std::int8_t{});
    if (type == "uchar" || type == "uint8") return as(std::uint8_t{});
    if (type == "short" || type == "int16") return as(std::int16_t{});
    if (type == "ushort" || type == "uint16") return as(std::uint16_t{});
    if (type == "int" || type == "int32") return as(std::int32_t{});
    if (type == "uint" || type == "uint32") return as(std::uint32_t{});
    if (type == "float" || type == "float32") return as(float{});
    return as(double{});
  };
  RawMesh raw;
  bool have_vertices = false;
  for (const Element& e : elements) {
    const bool vertex = e.name == "vertex", face = e.name == "face";
    int ix = -1, iy = -1, iz = -1;
    for (std::size_t k = 0; k < e.props.size(); ++k) {
      if (e.props[k].name == "x") ix = static_cast<int>(k);
      if (e.props[k].name == "y") iy = static_cast<int>(k);
      if (e.props[k].name == "z") iz = static_cast<int>(k);
    }
    if (vertex) {
      if (ix < 0 || iy < 0 || iz < 0) bad(0, "element 'vertex' needs properties x, y and z");
      have_vertices = true;
    }
    for (std::uint64_t item = 0; item < e.count; ++item) {
      const std::string where = "element '" + e.name + "' item " + std::to_string(item);
      Vec3 p;
      for (std::size_t k = 0; k < e.props.size(); ++k) {
        const Property& prop = e.props[k];
        if (!prop.list) {
          const double v = next_value(prop.type, where);
          if (static_cast<int>(k) == ix) p.x = v;
          if (static_cast<int>(k) == iy) p.y = v;
          if (static_cast<int>(k) == iz) p.z = v;
          continue;
        }
        const double n = next_value(prop.count_type, where);
        if (!(n >= 0 && n <= 1e6 && n == std::floor(n))) bad(0, "bad list length in " + where);
        std::vector<std::uint32_t> idx;
        for (int j = 0; j < static_cast<int>(n); ++j) {
          const double v = next_value(prop.type, where);
          if (face && (prop.name == "vertex_indices" || prop.name == "vertex_index")) {
            if (!(v >= 0 && v == std::floor(v) && v < 4294967295.0)) bad(0, "bad vertex index in " + where);
            idx.push_back(static_cast<std::uint32_t>(v));
          }
        }
        if (!idx.empty()) {
          if (idx.size() < 3) bad(0, where + " has fewer than 3 vertices (lines and points are not surfaces)");
          for (std::size_t j = 1; j + 1 < idx.size(); ++j) raw.triangles.push_back({idx[0], idx[j], idx[j + 1]});
        }
      }
      if (vertex) raw.vertices.push_back(p);
    }
  }
  if (!have_vertices) bad(0, "no element 'vertex'");
  for (const auto& t : raw.triangles)
    for (std::uint32_t v : t)
      if (v >= raw.vertices.size())
        bad(0, "a face uses vertex " + std::to_string(v) + " of " + std::to_string(raw.vertices.size()));
  return raw;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

TriangleMesh parse_surface_mesh(std::string_view data, const fs::path& file) {
  const std::string ext = lower(file.extension().string());
  RawMesh raw;
  if (ext == ".off") {
    raw = read_off(data, file);
  } else if (ext == ".obj") {
    raw = read_obj(data, file);
  } else if (ext == ".ply") {
    raw = read_ply(data, file);
  } else if (ext == ".stl") {
    raw = read_stl(data, file);
  } else if (ext == ".vtp") {
    check_vtp_header(data, file);
    vtkNew<vtkXMLPolyDataReader> r;
    r->ReadFromInputStringOn();
    r->SetInputString(std::string(data));
    raw = read_with_vtk(file, r, "VTK XML PolyData (.vtp)");
  } else {
    fail(file, "unsupported mesh format '" + file.extension().string() + "'; supported: " + kSupported);
  }
  return finish(file, raw);
}

TriangleMesh read_surface_mesh(const fs::path& file) {
  const std::string ext = lower(file.extension().string());
  const bool supported = ext == ".off" || ext == ".obj" || ext == ".ply" || ext == ".stl" || ext == ".vtp";
  std::error_code ec;
  const auto status = fs::status(file, ec);
  // An existing file of another format is refused before it is read; anything else
  // goes to the reader, which says why it cannot be opened.
  if (fs::is_regular_file(status) && !supported)
    fail(file, "unsupported mesh format '" + file.extension().string() + "'; supported: " + kSupported);
  std::string data;
  try {
    data = read_input_file(file, kMeshFileKind);
  } catch (const InputError& e) {
    Diagnostic d = e.diagnostics().front();
    if (ec == std::errc::no_such_file_or_directory)
      d.message += ", relative paths are resolved against the scene file's directory";
    throw InputError(std::move(d));
  }
  if (!supported) fail(file, "unsupported mesh format '" + file.extension().string() + "'; supported: " + kSupported);
  return parse_surface_mesh(data, file);
}

}  // namespace spinesim
