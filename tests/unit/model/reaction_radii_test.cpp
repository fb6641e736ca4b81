// Andrews & Bray (2004) reaction-radius calibration: limits, inversion, published values, reversible
// treatment and the user-facing warning.
#include "model/reaction_radii.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

using namespace spinesim;

namespace {
constexpr double kPi = std::numbers::pi;
// Units where the rms step s = sqrt(2 D dt) is 1 µm and dt = 1 s, so radii are in units of s and
// k·dt/σ³ is Andrews & Bray's reduced rate.
constexpr double kD = 0.5, kDt = 1.0;
double reduced_rate_over_sigma3(double sigma) {
  return rate_for_binding_radius(sigma, kD, kDt) / (sigma * sigma * sigma);
}
}  // namespace

TEST_CASE("activation limit: s >> sigma_b gives k -> (4 pi / 3) sigma_b^3 / dt") {
  // Realistic units: D = 1 µm²/s, dt = 1e-6 s → s = 1.414e-3 µm.
  const double d = 1, dt = 1e-6, s = rms_step_um(d, dt);
  CHECK(s == doctest::Approx(std::sqrt(2e-6)).epsilon(1e-14));
  for (double ratio : {0.01, 0.05}) {
    const double sigma = ratio * s;
    const double act = 4 * kPi / 3 * sigma * sigma * sigma / dt;
    CHECK(rate_for_binding_radius(sigma, d, dt) / act == doctest::Approx(1).epsilon(0.01));
  }
  CHECK(rate_for_binding_radius(1e-4 * s, d, dt) / (4 * kPi / 3 * std::pow(1e-4 * s, 3) / dt) ==
        doctest::Approx(1).epsilon(1e-9));
}

TEST_CASE("Smoluchowski limit: s << sigma_b gives k -> 4 pi D sigma_b") {
  const double d = 330, dt = 1e-9, s = rms_step_um(d, dt);
  for (double ratio : {200.0, 1000.0}) {
    const double sigma = ratio * s;
    CHECK(rate_for_binding_radius(sigma, d, dt) / (4 * kPi * d * sigma) == doctest::Approx(1).epsilon(0.01));
  }
  // Next order: the discrete-step walk absorbs as a sphere of radius σ_b − c·s with
  // c = −ζ(1/2)/√(2π) = 0.582597 (the Gaussian random walk's boundary offset).
  const double c = 1.4603545088095868 / std::sqrt(2 * kPi);
  for (double ratio : {30.0, 200.0}) {
    const double sigma = ratio * s;
    CHECK(rate_for_binding_radius(sigma, d, dt) / (4 * kPi * d * (sigma - c * s)) == doctest::Approx(1).epsilon(1e-5));
  }
}

TEST_CASE("agrees with Andrews & Bray's tabulated steady-state rates (Smoldyn rxnparam.c)") {
  // Reduced rates k·dt/σ_b³ versus ln(s/σ_b), from the tables of Smoldyn's numrxnrate
  // (github.com/ssandrews/Smoldyn, source/lib/rxnparam.c: `yi` irreversible, `yr` reversible rows
  // σ_u/σ_b = 1 and e^0.2), which tabulate Andrews & Bray's iterated-rdf results (stated error < 2.4%).
  struct Row {
    double ln_s_over_sigma, table;
  };
  for (const Row r :
       {Row{3.0, 4.188584}, Row{1.0, 4.054173}, Row{0.0, 2.7239775}, Row{-1.0, 0.668167}, Row{-2.0, 0.1061375}}) {
    CAPTURE(r.ln_s_over_sigma);
    CHECK(reduced_rate_over_sigma3(std::exp(-r.ln_s_over_sigma)) == doctest::Approx(r.table).epsilon(0.005));
  }
  const double sigma = 1.0;  // s = σ_b
  CHECK(reversible_rate_for_radii(sigma, sigma, kD, kDt) == doctest::Approx(4.036667).epsilon(0.005));
  CHECK(reversible_rate_for_radii(sigma, std::exp(0.2) * sigma, kD, kDt) == doctest::Approx(3.889954).epsilon(0.005));
  // σ_u = 0 (Smoldyn table `yb`, first row): products placed on top of each other.
  CHECK(reversible_rate_for_radii(sigma, 0.0, kD, kDt) == doctest::Approx(4.473512).epsilon(0.005));
  // The table entry at s = σ_b is what largest_rate_within_rms_step returns in these units.
  CHECK(largest_rate_within_rms_step(kD, kDt) == doctest::Approx(2.7239775).epsilon(1e-4));
}

TEST_CASE("binding_radius inverts rate_for_binding_radius") {
  const double d = 330, dt = 1e-6, s = rms_step_um(d, dt);
  for (double reduced = 1e-7; reduced < 1e6; reduced *= 17.3) {
    const double k = reduced * s * s * s / dt;
    const double sigma = binding_radius(k, d, dt);
    CAPTURE(reduced);
    CHECK(rate_for_binding_radius(sigma, d, dt) == doctest::Approx(k).epsilon(1e-6));
    CHECK(std::abs(rate_for_binding_radius(sigma, d, dt) / k - 1) < 1e-9);
  }
  for (double ratio : {1e-3, 0.3, 1.0, 3.0, 300.0}) {
    const double sigma = ratio * s;
    CHECK(binding_radius(rate_for_binding_radius(sigma, d, dt), d, dt) == doctest::Approx(sigma).epsilon(1e-9));
  }
}

TEST_CASE("monotonicity") {
  double previous = 0;
  for (double sigma = 1e-3; sigma < 1e3; sigma *= 1.37) {
    const double k = rate_for_binding_radius(sigma, kD, kDt);
    CHECK(k > previous);
    // Bounds used to bracket the inversion: κ ≤ min(2πσ, 4πσ³/3).
    CHECK(k <= 2 * kPi * sigma);
    CHECK(k <= 4 * kPi / 3 * sigma * sigma * sigma);
    previous = k;
  }
  // At fixed k, σ_b grows with dt (from the Smoluchowski radius toward the activation radius).
  const double k = per_molar_per_s_to_um3_per_s(1e8), d = 100;
  double previous_sigma = 0;
  for (double dt = 1e-10; dt < 1e-2; dt *= 10) {
    const double sigma = binding_radius(k, d, dt);
    CHECK(sigma > previous_sigma);
    CHECK(sigma >= k / (4 * kPi * d));
    CHECK(sigma >= std::cbrt(3 * k * dt / (4 * kPi)));
    previous_sigma = sigma;
  }
}

TEST_CASE("reversible radii: fixed geminate probability") {
  const double d = 2, dt = 1e-4, s = rms_step_um(d, dt);
  for (double p : {0.05, 0.2, 0.5}) {
    const double kon = 40 * s * s * s / dt;  // reduced rate 40: σ_b ≈ 7 s
    const ReversibleRadii r = reversible_radii(kon, d, dt, p);
    CAPTURE(p);
    CHECK(r.geminate_probability == doctest::Approx(p).epsilon(1e-9));
    CHECK(geminate_probability(r.binding_um, r.unbinding_um, d, dt) == doctest::Approx(p).epsilon(1e-9));
    // The rdf with the explicit unbinding source reproduces kon.
    CHECK(reversible_rate_for_radii(r.binding_um, r.unbinding_um, d, dt) == doctest::Approx(kon).epsilon(1e-6));
    // The irreversible rate of σ_b is kon (1 − p_gem).
    CHECK(rate_for_binding_radius(r.binding_um, d, dt) == doctest::Approx(kon * (1 - p)).epsilon(1e-9));
    // Smoluchowski-like regime: p_gem ≈ σ_eff/σ_u with σ_eff = k_irr/(4πD).
    CHECK(r.unbinding_um == doctest::Approx(kon * (1 - p) / (4 * kPi * d) / p).epsilon(0.02));
  }
  // Higher p_gem needs σ_u < σ_b.
  const ReversibleRadii close = reversible_radii(100 * s * s * s / dt, d, dt, 0.9);
  CHECK(close.unbinding_um < close.binding_um);
  CHECK(reversible_rate_for_radii(close.binding_um, close.unbinding_um, d, dt) ==
        doctest::Approx(100 * s * s * s / dt).epsilon(1e-6));
  // p_gem = 1 − k_irr/k_rev for arbitrary radii (the identity the implementation relies on).
  for (double su : {0.0, 0.5, 1.0, 2.5}) {
    CHECK(1 - reduced_rate_over_sigma3(1.0) / reversible_rate_for_radii(1.0, su, kD, kDt) ==
          doctest::Approx(geminate_probability(1.0, su, kD, kDt)).epsilon(1e-8));
  }
}

TEST_CASE("reversible radii: unattainable geminate probability at a large dt throws") {
  // Glutamate-like: σ_b ≪ s, so even σ_u = 0 rebinds rarely.
  const double kon = per_molar_per_s_to_um3_per_s(1e7);
  CHECK_THROWS_AS(reversible_radii(kon, 330, 1e-6, 0.2), std::invalid_argument);
  try {
    reversible_radii(kon, 330, 1e-6, 0.2);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("time step is too large") != std::string::npos);
  }
  const ReversibleRadii small = reversible_radii(kon, 330, 1e-6, 1e-4);
  CHECK(small.geminate_probability == doctest::Approx(1e-4).epsilon(1e-8));
  CHECK_THROWS_AS(reversible_radii(kon, 330, 1e-6, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(reversible_radii(kon, 330, 1e-6, 1.0), std::invalid_argument);
}

TEST_CASE("rate reproduction warning") {
  // Glutamate-like: D = 330 µm²/s, dt = 1 µs, k = 1e7 /(M s): σ_b ≈ 1.6 nm ≪ s ≈ 26 nm.
  const double k_glu = per_molar_per_s_to_um3_per_s(1e7);
  CHECK(rate_reproduction_warning(k_glu, 330, 1e-6).empty());
  CHECK(binding_radius(k_glu, 330, 1e-6) == doctest::Approx(std::cbrt(3 * k_glu * 1e-6 / (4 * kPi))).epsilon(0.01));
  // 1e10 /(M s) with D = 1 µm²/s needs a 1.3 µm reaction radius: faster than diffusion allows.
  const std::string w = rate_reproduction_warning(per_molar_per_s_to_um3_per_s(1e10), 1, 1e-6);
  CHECK_FALSE(w.empty());
  CHECK(w.find("Smoluchowski") != std::string::npos);
  CHECK(w.find("rms step") != std::string::npos);
  // Threshold: exactly the largest rate whose σ_b fits in one rms step.
  const double d = 10, dt = 1e-7, kmax = largest_rate_within_rms_step(d, dt);
  CHECK(binding_radius(kmax, d, dt) == doctest::Approx(rms_step_um(d, dt)).epsilon(1e-9));
  CHECK(rate_reproduction_warning(0.999 * kmax, d, dt).empty());
  CHECK_FALSE(rate_reproduction_warning(1.001 * kmax, d, dt).empty());
}

TEST_CASE("unit helpers and input validation") {
  CHECK(per_molar_per_s_to_um3_per_s(6.02214076e8) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(per_uM_per_s_to_um3_per_s(602.214076) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(per_uM_per_s_to_um3_per_s(1.0) == doctest::Approx(per_molar_per_s_to_um3_per_s(1e6)).epsilon(1e-15));
  CHECK_THROWS_AS(binding_radius(0, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(binding_radius(1, -1, 1), std::invalid_argument);
  CHECK_THROWS_AS(binding_radius(1, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(binding_radius(std::nan(""), 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(rate_for_binding_radius(0, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(rate_reproduction_warning(1, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(reversible_radii(-1, 1, 1, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(reversible_rate_for_radii(1, -1, 1, 1), std::invalid_argument);
  CHECK_THROWS_AS(geminate_probability(1, std::nan(""), 1, 1), std::invalid_argument);
}
