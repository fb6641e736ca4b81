#include "viz/web_export.h"

#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkFieldData.h>
#include <vtkIdList.h>
#include <vtkNew.h>
#include <vtkPointData.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <string_view>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/palette.h"
#include "viz/vtk_export.h"
#include "viz/vtp_read.h"
#include "viz/web_viewer_bundle.h"

namespace spinesim {

namespace fs = std::filesystem;

// The viewer decodes the arrays as little-endian typed arrays (what every browser
// platform uses).
static_assert(std::endian::native == std::endian::little, "export-web writes little-endian binary arrays");

namespace {

template <class T>
std::string base64(const std::vector<T>& values) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  const std::size_t n = values.size() * sizeof(T);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const unsigned v = (unsigned{bytes[i]} << 16) | (i + 1 < n ? unsigned{bytes[i + 1]} << 8 : 0u) |
                       (i + 2 < n ? unsigned{bytes[i + 2]} : 0u);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return out;
}

/// A JSON string; '<' is escaped too, so no name can close the <script> it sits in.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || c == '<') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string json_rgb(const Rgb& c) {
  return "[" + json_number(c[0]) + "," + json_number(c[1]) + "," + json_number(c[2]) + "]";
}

std::string html_text(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

/// Membrane triangles and their region ids, as the JSON "mesh" and "regions" members.
std::string mesh_json(const fs::path& mesh_file) {
  auto mesh = read_vtp(mesh_file, "mesh.vtp");
  if (mesh->GetNumberOfPoints() == 0 || mesh->GetNumberOfPolys() == 0) {
    fail_in_file(mesh_file, "mesh.vtp has no triangles; re-run the simulation to regenerate it");
  }
  std::vector<float> points(static_cast<std::size_t>(3 * mesh->GetNumberOfPoints()));
  for (vtkIdType i = 0; i < mesh->GetNumberOfPoints(); ++i) {
    double p[3];
    mesh->GetPoint(i, p);
    for (int a = 0; a < 3; ++a) points[static_cast<std::size_t>(3 * i + a)] = static_cast<float>(p[a]);
  }
  vtkDataArray* region = mesh->GetCellData()->GetArray("region_id");
  std::vector<std::uint32_t> triangles;
  std::vector<std::int32_t> triangle_region;
  vtkCellArray* polys = mesh->GetPolys();
  vtkNew<vtkIdList> ids;
  vtkIdType cell = 0;
  for (polys->InitTraversal(); polys->GetNextCell(ids); ++cell) {
    if (ids->GetNumberOfIds() != 3)
      fail_in_file(mesh_file, "mesh.vtp has a polygon that is not a triangle; re-run the simulation to regenerate it");
    for (int k = 0; k < 3; ++k) triangles.push_back(static_cast<std::uint32_t>(ids->GetId(k)));
    triangle_region.push_back(region != nullptr ? static_cast<std::int32_t>(region->GetComponent(cell, 0)) : 0);
  }
  auto region_names = names_of(mesh, "region_names");
  std::int32_t max_region = 0;
  for (const auto r : triangle_region) max_region = std::max(max_region, r);
  while (region_names.size() <= static_cast<std::size_t>(max_region)) {
    region_names.push_back("region " + std::to_string(region_names.size()));
  }
  std::string regions = "[";
  for (std::size_t r = 0; r < region_names.size(); ++r) {
    const RegionStyle style = region_style(region_names[r], r);
    if (r > 0) regions += ",";
    regions += "{\"name\":" + json_string(region_names[r]) + ",\"color\":" + json_rgb(style.color) +
               ",\"opacity\":" + json_number(style.opacity) + "}";
  }
  regions += "]";
  return "\"mesh\":{\"points\":\"" + base64(points) + "\",\"triangles\":\"" + base64(triangles) +
         "\",\"triangle_region\":\"" + base64(triangle_region) + "\"},\"regions\":" + regions;
}

/// The frames of frames.pvd that are kept with `stride`: 0, stride, ... and the last.
std::vector<std::size_t> kept_frames(std::size_t count, std::size_t stride) {
  std::vector<std::size_t> kept;
  for (std::size_t k = 0; k < count; k += stride) kept.push_back(k);
  if (!kept.empty() && kept.back() != count - 1) kept.push_back(count - 1);
  return kept;
}

std::string html_page(const std::string& title, const std::string& data_json) {
  std::string script = web_viewer_script();
  // A literal "</script" inside the bundle would end the element early.
  for (std::size_t p = 0; (p = script.find("</script", p)) != std::string::npos; p += 2) script.replace(p, 2, "<\\/");
  std::string page;
  page.reserve(data_json.size() + script.size() + 4096);
  page += R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>)";
  page += html_text(title);
  page += R"(</title>
<style>
html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; color: #222; }
body { display: grid; grid-template-columns: 1fr 220px; grid-template-rows: 1fr auto; height: 100vh; }
#view { grid-column: 1; grid-row: 1; position: relative; overflow: hidden; min-height: 200px; }
#legend { grid-column: 2; grid-row: 1 / span 2; overflow-y: auto; padding: 6px 10px; border-left: 1px solid #ccc; }
#legend h3 { font-size: 13px; margin: 10px 0 4px; }
#legend .row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
#legend .swatch { width: 12px; height: 12px; border: 1px solid #555; flex: none; }
#legend .count { margin-left: auto; color: #666; }
#controls { grid-column: 1; grid-row: 2; display: flex; align-items: center; gap: 10px; padding: 6px 10px; border-top: 1px solid #ccc; }
#frame { flex: 1; }
#status { color: #a00; }
</style>
</head>
<body>
<div id="view"></div>
<div id="legend"></div>
<div id="controls"><button id="play" type="button">&#9654; play</button><button id="view-psd" type="button">PSD view</button><button id="view-whole" type="button">whole spine</button><input id="frame" type="range" min="0" max="0" step="1" value="0" aria-label="frame"><span id="time"></span><span id="status" data-state="loading"></span></div>
<script>
// Counted before the viewer runs, so the headless test sees every error.
window.spinesimErrors = [];
const spinesimError = (message) => { window.spinesimErrors.push(message); document.getElementById('status').dataset.errors = window.spinesimErrors.join(' | '); };
window.addEventListener('error', (e) => spinesimError(String(e.message)));
window.addEventListener('unhandledrejection', (e) => spinesimError(String(e.reason)));
const spinesimConsoleError = console.error.bind(console);
console.error = (...a) => { spinesimError(a.map(String).join(' ')); spinesimConsoleError(...a); };
</script>
<script id="spinesim-data" type="application/json">)";
  page += data_json;
  page += "</script>\n<script>\n";
  page += script;
  page += "\n</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace

std::string web_viewer_script() {
  std::string s;
  for (const std::string_view chunk : embedded_text::kWebViewerBundle) s += chunk;
  return s;
}

WebExportResult export_web(const fs::path& run_dir, const fs::path& html, const WebExportOptions& options) {
  if (options.stride == 0) fail_in_file(html, "the frame stride must be at least 1");
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) {
    fail_in_file(
        run_dir,
        "not a directory; pass a run directory written by `spinesim run` (it holds mesh.vtp, frames.pvd and frames/)");
  }
  const fs::path pvd_file = run_dir / "frames.pvd";
  if (!fs::is_regular_file(pvd_file, ec)) {
    fail_in_file(pvd_file,
                 "frames.pvd not found; run the scene with output.frame_interval_s > 0 so that it writes frames");
  }
  const auto entries = read_pvd(pvd_file);
  if (entries.empty()) fail_in_file(pvd_file, "frames.pvd lists no frames; wait for the run to write its first output");

  WebExportResult result;
  result.run_frames = entries.size();
  std::string data = "{\"version\":1," + mesh_json(run_dir / "mesh.vtp");

  std::vector<std::string> species_names, state_names;
  std::vector<double> species_radius;
  std::map<std::string, Rgb> type_base;
  std::string frames_json = "[";
  const auto kept = kept_frames(entries.size(), options.stride);
  for (std::size_t j = 0; j < kept.size(); ++j) {
    const PvdEntry& entry = entries[kept[j]];
    const fs::path file = run_dir / entry.file;
    auto frame = read_vtp(file, "frame file " + entry.file + " (listed in frames.pvd)");
    const vtkIdType n = frame->GetNumberOfPoints();
    result.molecules += static_cast<std::uint64_t>(n);
    if (result.molecules > options.max_points) {
      fail_in_file(file,
                   "the first " + std::to_string(j + 1) + " of " + std::to_string(kept.size()) +
                       " frames to export already hold " + std::to_string(result.molecules) +
                       " molecule positions, more than --max-points " + std::to_string(options.max_points) +
                       " allows (about 21 bytes of HTML each); keep fewer frames with --stride K (every K-th frame) "
                       "or raise --max-points");
    }
    const auto species = names_of(frame, "species_names");
    const auto states = names_of(frame, "state_names");
    if (j == 0) {
      species_names = species;
      state_names = states.empty() ? std::vector<std::string>{"molecule"} : states;
      if (species_names.size() > 65535 || state_names.size() > 65535) {
        fail_in_file(file, "more than 65535 species or agent states; the viewer stores their indices in 16 bits");
      }
      vtkDataArray* radius = frame->GetFieldData()->GetArray("species_display_radius_um");
      for (std::size_t s = 0; s < species_names.size(); ++s) {
        const double r = radius != nullptr && static_cast<vtkIdType>(s) < radius->GetNumberOfTuples()
                             ? radius->GetComponent(static_cast<vtkIdType>(s), 0)
                             : 0.0;
        species_radius.push_back(r > 0 ? r : kDefaultMoleculeRadiusUm);
      }
    } else if (species != species_names || (!states.empty() && states != state_names)) {
      fail_in_file(
          file,
          "its species_names or state_names differ from those of the first frame " + entries[kept[0]].file +
              "; the run directory mixes frames of different runs, re-run the simulation into an empty directory");
    }
    for (const auto& [type, rgb] : agent_type_colors(frame, state_names, species_colors(species_names))) {
      type_base.emplace(type, rgb);
    }
    vtkDataArray* species_id = frame->GetPointData()->GetArray("species");
    vtkDataArray* state_id = frame->GetPointData()->GetArray("state");
    if (n > 0 && (species_id == nullptr || state_id == nullptr)) {
      fail_in_file(file, "the frame has no 'species' or 'state' point array; re-run the simulation to regenerate it");
    }
    std::vector<float> positions(static_cast<std::size_t>(3 * n));
    std::vector<std::uint16_t> species_of(static_cast<std::size_t>(n)), state_of(static_cast<std::size_t>(n));
    for (vtkIdType i = 0; i < n; ++i) {
      double p[3];
      frame->GetPoint(i, p);
      for (int a = 0; a < 3; ++a) positions[static_cast<std::size_t>(3 * i + a)] = static_cast<float>(p[a]);
      const double s = species_id->GetComponent(i, 0);
      const double st = state_id->GetComponent(i, 0);
      if (s < 0 || s >= static_cast<double>(species_names.size()) || st < 0 ||
          st >= static_cast<double>(state_names.size())) {
        fail_in_file(
            file, "molecule " + std::to_string(i) + " has species " + json_number(s) + " and state " + json_number(st) +
                      ", outside the frame's tables of " + std::to_string(species_names.size()) + " species and " +
                      std::to_string(state_names.size()) + " states; the file is corrupt, re-run the simulation");
      }
      species_of[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(s);
      state_of[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(st);
    }
    if (j > 0) frames_json += ",";
    frames_json += "{\"time_s\":" + json_number(entry.time_s) + ",\"positions\":\"" + base64(positions) +
                   "\",\"species\":\"" + base64(species_of) + "\",\"state\":\"" + base64(state_of) + "\"}";
  }
  frames_json += "]";
  result.frames = kept.size();

  const auto species_rgb = species_colors(species_names);
  data += ",\"species\":[";
  for (std::size_t s = 0; s < species_names.size(); ++s) {
    if (s > 0) data += ",";
    data += "{\"name\":" + json_string(species_names[s]) + ",\"color\":" + json_rgb(species_rgb[s]) +
            ",\"radius_um\":" + json_number(species_radius[s]) + "}";
  }
  const auto state_rgb = state_colors(state_names, type_base);
  data += "],\"states\":[";
  for (std::size_t st = 0; st < state_names.size(); ++st) {
    if (st > 0) data += ",";
    data += "{\"name\":" + json_string(state_names[st]) + ",\"color\":" + json_rgb(state_rgb[st]) + "}";
  }
  data += "],\"frames\":" + frames_json + "}";

  fs::path run_name = fs::absolute(run_dir).lexically_normal();
  if (run_name.filename().empty()) run_name = run_name.parent_path();  // "runs/demo/"
  const std::string page = html_page("spinesim: " + run_name.filename().string(), data);
  atomic_write(html, page);
  result.bytes = page.size();
  return result;
}

}  // namespace spinesim
