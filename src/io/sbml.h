// SBML Level 3 core for the well-mixed part of a scene (libSBML, Debian's
// libsbml5-dev): a pathway (WellMixed message) exported as an SBML model and SBML
// models read back as pathways.
//
// Units. Exported models count molecules: substance and extent unit `item`, time
// `second`, volume `um3` (10⁻¹⁵ L). Species have hasOnlySubstanceUnits = true, so a
// species symbol in a kinetic law is its molecule count n. A pathway reaction with
// rate k and reactants R becomes the kinetic law (items/s)
//   no reactant:  k · Ω          one:  k · n_A          two:  k · n_A · n_B / Ω
// with Ω = 602.214076 · V the molecules per µM in the pool's volume V (µm³), written
// out as `602.214076 * pool` so any SBML tool computes the same deterministic rates
// (for A + A the law is k · n_A² / Ω; spinesim's SSA uses n(n − 1), the standard
// stochastic reading). What SBML core cannot say — a rate modulated by a clamp, an
// influx driven by agents' Ca²⁺ flux, agents leaving into a pool or made from one,
// parameter sources and units — travels in annotations in the namespace
// "urn:spinesim:sbml:1", so spinesim reads its own export back to the same pathway.
//
// Import accepts SBML L3 core (and L2, converted by libSBML) models whose kinetic
// laws are mass action: a product of constants (numbers, parameters, compartment
// sizes, to integer powers) and of the reactants' symbols, each to its
// stoichiometry. Units are converted from the model's substance (mole or item, any
// scale), volume (litre or m³) and time (second) units; species given in
// concentration (hasOnlySubstanceUnits = false) are converted too. Anything else —
// events, rules, algebraic constraints, delays, function definitions, non-constant
// parameters or compartments, boundary species, stoichiometry above 2, more than two
// reactant molecules, a kinetic law that is not mass action — is an error naming the
// SBML element (its id and line).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace spinesim::scene {
class WellMixed;
}

namespace spinesim {

/// The pathway as an SBML L3V2 document (text). `model_id` names the <model>.
/// Throws InputError when a name is not a valid SBML identifier.
std::string well_mixed_to_sbml(const scene::WellMixed& pathway, const std::string& model_id);

/// Reads an SBML document into `out`. Problems are appended to `errors` as
/// Diagnostics with `file`, the line of the element and the element (e.g.
/// "reaction 'r3' kineticLaw"); returns false when there were any.
bool well_mixed_from_sbml(const std::string& xml, const std::string& file, scene::WellMixed& out,
                          std::vector<Diagnostic>& errors);

/// `spinesim export-sbml`: the well-mixed part of FILE as SBML text. FILE is a pathway
/// (a WellMixed message, as scenes name in well_mixed_file) or a scene, whose pathway
/// files and inline well_mixed block are merged in load order. Throws InputError
/// (file, line, field) for unreadable or malformed input, or a scene without pools.
std::string export_sbml(const std::string& file);

/// libSBML's full consistency check (units included) of an SBML document: the
/// messages of its errors, empty when it is valid. (Exports draw warnings only for
/// parameters, whose units are free text kept in annotations.)
std::vector<std::string> sbml_consistency_problems(const std::string& xml);

/// True when `text` looks like an XML document (an SBML pathway, not protobuf text).
bool looks_like_xml(const std::string& text);

}  // namespace spinesim
