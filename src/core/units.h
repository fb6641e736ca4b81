// Physical constants (SI 2019 exact values) and the unit conversions built on them:
// one home for each number, so a rate converted in the loader, the engine, SBML and
// the tests is converted the same way to the last bit.
#pragma once

namespace spinesim {

inline constexpr double kAvogadro_per_mol = 6.02214076e23;
inline constexpr double kElementaryCharge_C = 1.602176634e-19;
/// F = N_A·e, to the digits of CODATA 2018 (96 485.332 12 C/mol).
inline constexpr double kFaraday_C_per_mol = 96485.33212;
inline constexpr double kGasConstant_J_per_mol_K = 8.314462618;

/// Molecules in 1 µm³ at 1 µM: N_A · 10⁻⁶ mol/L · 10⁻¹⁵ L/µm³. Also the factor from a
/// second-order rate in 1/(µM·s) to µm³/s per molecule pair (divide by it).
inline constexpr double kMoleculesPerUMPerUm3 = 602.214076;
/// The same for rates in 1/(M·s): N_A · 10⁻¹⁵ L/µm³.
inline constexpr double kPerMolarToUm3 = 6.02214076e8;

}  // namespace spinesim
