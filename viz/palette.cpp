#include "viz/palette.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace spinesim {

namespace {

constexpr std::array<Rgb, 9> kSpeciesPalette = {{
    {0.122, 0.467, 0.706},  // blue
    {1.000, 0.498, 0.055},  // orange
    {0.173, 0.627, 0.173},  // green
    {0.580, 0.404, 0.741},  // purple
    {0.090, 0.745, 0.812},  // cyan
    {0.890, 0.467, 0.761},  // pink
    {0.737, 0.741, 0.133},  // olive
    {0.549, 0.337, 0.294},  // brown
    {0.498, 0.498, 0.498},  // grey
}};

/// Base colours of agent types (closed states), in order of first appearance.
constexpr std::array<Rgb, 6> kAgentPalette = {{
    {0.160, 0.380, 0.700},  // blue
    {0.100, 0.560, 0.460},  // teal
    {0.450, 0.330, 0.700},  // violet
    {0.350, 0.450, 0.550},  // slate
    {0.600, 0.450, 0.200},  // ochre
    {0.250, 0.600, 0.250},  // green
}};

/// Dark hues for pore-blocked / trapped states, one per suffix.
constexpr std::array<Rgb, 5> kBlockPalette = {{
    {0.780, 0.080, 0.560},  // magenta
    {0.300, 0.300, 0.330},  // charcoal
    {0.480, 0.240, 0.080},  // brown
    {0.000, 0.400, 0.400},  // dark teal
    {0.400, 0.000, 0.500},  // purple
}};

constexpr Rgb kOpen = {1.000, 0.850, 0.000};

Rgb mix(const Rgb& a, const Rgb& b, double t) {
  return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t};
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// "_X" suffix of a state ("C0_Mg" -> "Mg"), or "" when none.
std::string block_suffix(const std::string& state) {
  const auto u = state.rfind('_');
  if (u == std::string::npos || u + 1 >= state.size()) return "";
  return state.substr(u + 1);
}

bool is_open(const std::string& state) {
  const std::string core = state.substr(0, state.find('_'));
  if (lower(core).find("open") != std::string::npos) return true;
  if (core.empty() || core[0] != 'O') return false;
  return std::all_of(core.begin() + 1, core.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

Rgb species_color(std::size_t species_index) {
  return kSpeciesPalette[species_index % kSpeciesPalette.size()];
}

std::vector<Rgb> species_colors(const std::vector<std::string>& names) {
  static const std::map<std::string, std::size_t> fixed = {
      {"glutamate", 0}, {"calcium", 1}, {"Ca", 1},       {"NMDAR", 2},     {"AMPAR", 3},
      {"mGluR5", 4},    {"ketamine", 5}, {"memantine", 6}, {"extrasynaptic_receptor", 7}};
  std::vector<bool> taken(kSpeciesPalette.size(), false);
  for (const auto& n : names)
    if (auto it = fixed.find(n); it != fixed.end()) taken[it->second] = true;
  std::vector<std::size_t> free;
  for (std::size_t k = 0; k < taken.size(); ++k)
    if (!taken[k]) free.push_back(k);
  if (free.empty()) free.push_back(kSpeciesPalette.size() - 1);
  std::vector<Rgb> out;
  std::size_t next = 0;
  for (const auto& n : names) {
    const auto it = fixed.find(n);
    out.push_back(kSpeciesPalette[it != fixed.end() ? it->second : free[next++ % free.size()]]);
  }
  return out;
}

RegionStyle region_style(const std::string& name, std::size_t region_index) {
  static const std::map<std::string, RegionStyle> known = {
      {"psd", {{0.800, 0.080, 0.080}, 1.00}},       {"perisynaptic", {{1.000, 0.700, 0.350}, 0.70}},
      {"head", {{0.620, 0.720, 0.900}, 0.30}},      {"neck", {{0.560, 0.780, 0.820}, 0.35}},
      {"shaft", {{0.720, 0.740, 0.820}, 0.30}},     {"shaft_end", {{0.550, 0.550, 0.580}, 0.40}},
      {"bouton", {{0.600, 0.860, 0.600}, 0.25}},    {"bouton_face", {{0.600, 0.860, 0.600}, 0.25}},
      {"cleft_rim", {{0.800, 0.800, 0.900}, 0.10}}, {"er", {{0.950, 0.900, 0.500}, 0.45}},
  };
  auto it = known.find(name);
  if (it != known.end()) return it->second;
  return {mix(kAgentPalette[region_index % kAgentPalette.size()], {1, 1, 1}, 0.45), 0.35};
}

std::string type_part(const std::string& name) {
  const auto colon = name.find(':');
  return colon == std::string::npos ? "" : name.substr(0, colon);
}

std::string state_part(const std::string& global_state_name) {
  const auto colon = global_state_name.find(':');
  return colon == std::string::npos ? global_state_name : global_state_name.substr(colon + 1);
}

std::vector<Rgb> state_colors(const std::vector<std::string>& state_names,
                              const std::map<std::string, Rgb>& type_base) {
  std::map<std::string, std::size_t> type_index;
  std::set<std::string> suffixes;
  for (std::size_t i = 1; i < state_names.size(); ++i) {
    const std::string type = type_part(state_names[i]);
    if (!type_index.count(type)) {
      const std::size_t next = type_index.size();
      type_index[type] = next;
    }
    const std::string suffix = block_suffix(state_part(state_names[i]));
    if (!suffix.empty()) suffixes.insert(suffix);
  }
  std::map<std::string, std::size_t> suffix_index;
  for (const auto& s : suffixes) {
    const std::size_t next = suffix_index.size();
    suffix_index[s] = next;
  }
  // Rank of each closed state within its type, to spread their lightness.
  std::map<std::string, std::size_t> closed_seen, closed_total;
  for (std::size_t i = 1; i < state_names.size(); ++i) {
    const std::string st = state_part(state_names[i]);
    if (block_suffix(st).empty() && !is_open(st)) ++closed_total[type_part(state_names[i])];
  }
  std::vector<Rgb> out(state_names.size(), Rgb{0.5, 0.5, 0.5});
  for (std::size_t i = 1; i < state_names.size(); ++i) {
    const std::string type = type_part(state_names[i]);
    const std::string st = state_part(state_names[i]);
    const std::string suffix = block_suffix(st);
    const auto given = type_base.find(type);
    const Rgb base = given != type_base.end() ? given->second : kAgentPalette[type_index[type] % kAgentPalette.size()];
    if (!suffix.empty()) {
      const Rgb dark = kBlockPalette[suffix_index[suffix] % kBlockPalette.size()];
      out[i] = is_open(st) ? mix(dark, {1, 1, 1}, 0.3) : dark;
    } else if (is_open(st)) {
      out[i] = mix(kOpen, base, 0.15);
    } else {
      const std::size_t rank = closed_seen[type]++;
      const std::size_t total = closed_total[type];
      const double t = total > 1 ? 0.45 * static_cast<double>(rank) / static_cast<double>(total - 1) : 0.0;
      out[i] = mix(base, {1, 1, 1}, t);
    }
  }
  return out;
}

TimeUnit time_unit_for(double t_max_s) {
  if (t_max_s <= 2) return {1e3, "time (ms)"};
  if (t_max_s <= 1200) return {1, "time (s)"};
  return {1.0 / 60, "time (min)"};
}

}  // namespace spinesim
