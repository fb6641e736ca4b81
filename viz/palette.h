// Colours shared by renders, plots and their tests: one fixed colour per species
// index, per region name and per global agent-state name ("TYPE:STATE"), so a
// species or a state has the same colour in every picture of a run.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace spinesim {

using Rgb = std::array<double, 3>;  ///< components in [0, 1]

/// Categorical colour k (Tableau-10 order without its red, which is the PSD's); plots
/// colour their columns by it.
Rgb species_color(std::size_t species_index);

/// The colour of each species of a scene, by name, so a species looks the same in every
/// scene's pictures: the project's species have fixed colours (glutamate blue, calcium
/// orange, NMDAR green, AMPAR purple, mGluR5 cyan, ketamine pink, memantine olive,
/// extrasynaptic receptors brown); any other species takes, in order, the palette
/// colours none of the named ones in this scene uses (repeating when they run out).
std::vector<Rgb> species_colors(const std::vector<std::string>& names);

/// How a membrane region is drawn.
struct RegionStyle {
  Rgb color;
  double opacity;
};

/// Known parametric-spine region names get fixed styles: psd dark red (opaque),
/// perisynaptic orange, head / neck / shaft three tints of blue-grey, bouton green;
/// any other name a palette colour chosen by `region_index`.
RegionStyle region_style(const std::string& name, std::size_t region_index);

/// The colour of each entry of a frame's global state table (index 0 = plain
/// molecule, then "TYPE:STATE"). Derived from the table alone, so the colours are the
/// same in every frame of a run:
///  - closed / other states: the agent type's base colour (from `type_base`, e.g. the
///    colour of the species that carries the type; else a fixed palette by order of
///    first appearance), lighter for later states;
///  - open states (STATE is "O", "O1", "O2", ... or contains "open"): bright yellow;
///  - blocked or trapped states (STATE has a suffix "_X", e.g. C0_Mg, O1_Ket): one
///    dark hue per suffix X (suffixes sorted by name), lighter when open-blocked.
std::vector<Rgb> state_colors(const std::vector<std::string>& state_names,
                              const std::map<std::string, Rgb>& type_base = {});

/// The time unit of a plot's axis: ms for runs up to 2 s, s up to 20 min, then min,
/// so a 2 h run reads in minutes and a quantum in milliseconds.
struct TimeUnit {
  double per_second;  ///< axis value = time_s · per_second
  const char* label;  ///< e.g. "time (min)"
};
TimeUnit time_unit_for(double t_max_s);

/// The TYPE part of "TYPE:STATE" (empty when there is no ':').
std::string type_part(const std::string& global_state_name);

/// The STATE part of "TYPE:STATE" (the whole name when there is no ':').
std::string state_part(const std::string& global_state_name);

}  // namespace spinesim
