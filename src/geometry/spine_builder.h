// Parametric dendritic spine: a dendrite shaft (cylinder along x), a thin neck
// (cylinder along +y rising from the exact shaft-neck intersection curve) and a
// spherical head cut flat at the top by the postsynaptic density, meshed as one
// watertight surface with shared vertices wherever pieces meet; optionally a
// synaptic cleft and a presynaptic bouton above the PSD. Lets users run the
// standard CA1 thin-spine scenario without a reconstructed mesh, and gives tests a
// geometry whose volumes and areas are known analytically.
#pragma once

#include "geometry/geometry.h"

namespace spinesim {

/// Shape of the parametric spine; lengths in µm. Defaults: CA1 thin spine
/// (docs/science/parameters.md §1).
struct SpineParams {
  double head_radius_um = 0.2;    ///< sphere radius, before its top is cut flat at the PSD
  double neck_radius_um = 0.05;   ///< neck diameter 0.10 µm
  double neck_length_um = 0.5;    ///< from the shaft top (y = shaft radius) to where the neck meets the sphere
  double shaft_radius_um = 0.25;  ///< shaft diameter 0.5 µm
  double shaft_length_um = 1.5;   ///< along x, centred at the origin
  double psd_radius_um = 0.125;   ///< PSD disc diameter 0.25 µm (area ≈ 0.05 µm²)
  /// Width of the "perisynaptic" ring of head membrane around the PSD (mGluR5 sits
  /// within ~60 nm of the PSD edge); 0 gives an empty region.
  double perisynaptic_width_um = 0.06;
  bool cleft = false;             ///< also build the cleft and presynaptic bouton above the PSD
  double cleft_width_um = 0.02;   ///< PSD-to-bouton distance
  double bouton_height_um = 0.3;  ///< height of the cylindrical bouton (radius = psd_radius_um)
  double edge_length_um = 0.03;   ///< target triangle edge length
};

/// Builds the spine geometry. Frame: shaft axis = x, neck/head axis = +y, PSD at the
/// top of the head facing +y. Surface "spine_membrane" (regions "shaft", "shaft_end",
/// "neck", "head", "perisynaptic", "psd") separates "cytosol" (inside, bounded) from
/// "extracellular" (outside, unbounded). With `cleft`: compartments "cleft" and
/// "bouton" (bounded); the PSD triangles then have the cleft in front; open surface
/// "cleft_rim" (region "cleft_rim", front extracellular, back cleft); closed surface
/// "bouton_membrane" (region "bouton_face" facing the cleft, region "bouton" for the
/// rest, front extracellular). Vertices are shared wherever surfaces meet.
/// Throws InputError naming the field (e.g. "geometry.spine.neck_radius_um") when the
/// parameters are impossible or would give an unusable mesh, saying what to change.
Geometry build_spine(const SpineParams& p);

}  // namespace spinesim
