// Unit tests for the parametric spine mesher: topology (closed, manifold, outward,
// shared vertices), volumes and areas against closed-form values, region and
// compartment labelling, the optional cleft/bouton, and parameter validation.
#include "geometry/spine_builder.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "geometry/mesh_check.h"

using namespace spinesim;

namespace {

/// Analytic volume (µm³) of the spine's cytosol:
///   shaft  V_s = π Rs² L
///   neck   V_n = π rn² (Rs + ln) − ∬_{x²+z²≤rn²} sqrt(Rs² − z²) dA
///          (the cylinder between the shaft surface y = sqrt(Rs² − z²) and the plane
///          y = Rs + ln where it meets the sphere); with z = rn sin θ the integral is
///          ∫_{−π/2}^{π/2} 2 rn² cos²θ sqrt(Rs² − rn² sin²θ) dθ (smooth; Simpson's rule)
///   head   V_h = π [Rh² u − u³/3] from u_a = −sqrt(Rh² − rn²) to u_b = sqrt(Rh² − r_psd²)
///          (sphere slice between the neck junction and the PSD plane, u = y − y_c)
struct AnalyticSpine {
  double shaft, neck, head;
  double total() const { return shaft + neck + head; }
};

AnalyticSpine analytic(const SpineParams& p) {
  const double Rs = p.shaft_radius_um, rn = p.neck_radius_um, Rh = p.head_radius_um, rp = p.psd_radius_um;
  AnalyticSpine a{};
  a.shaft = kPi * Rs * Rs * p.shaft_length_um;
  const int n = 2000;  // even
  double integral = 0;
  for (int i = 0; i <= n; ++i) {
    const double th = -kPi / 2 + kPi * i / n;
    const double f =
        2 * rn * rn * std::cos(th) * std::cos(th) * std::sqrt(Rs * Rs - rn * rn * std::sin(th) * std::sin(th));
    integral += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
  }
  integral *= (kPi / n) / 3;
  a.neck = kPi * rn * rn * (Rs + p.neck_length_um) - integral;
  auto prim = [&](double u) { return Rh * Rh * u - u * u * u / 3; };
  a.head = kPi * (prim(std::sqrt(Rh * Rh - rp * rp)) - prim(-std::sqrt(Rh * Rh - rn * rn)));
  return a;
}

double region_area(const Geometry& g, const std::string& name) {
  const int r = g.find_region(name);
  double a = 0;
  for (std::size_t t = 0; t < g.triangle_count(); ++t)
    if (g.triangle_region[t] == r) a += g.area(static_cast<TriangleIndex>(t));
  return a;
}

double min_angle_deg(const Geometry& g) {
  double worst = 180;
  for (std::size_t t = 0; t < g.triangle_count(); ++t)
    for (int k = 0; k < 3; ++k) {
      const auto i = static_cast<TriangleIndex>(t);
      const Vec3 a = g.vertex(i, k), b = g.vertex(i, (k + 1) % 3), c = g.vertex(i, (k + 2) % 3);
      worst = std::min(worst, std::acos(dot(normalized(b - a), normalized(c - a))) * 180 / kPi);
    }
  return worst;
}

/// The message of the InputError thrown by build_spine(p), or "" when none is thrown.
std::string build_error(const SpineParams& p) {
  try {
    build_spine(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("build_spine defaults: closed, consistently oriented, outward membrane") {
  const SpineParams p;
  const Geometry g = build_spine(p);
  REQUIRE(g.find_surface("spine_membrane") == 0);
  CHECK(g.surface_names.size() == 1);
  for (const char* r : {"shaft", "shaft_end", "neck", "head", "perisynaptic", "psd"}) {
    INFO(r);
    CHECK(region_area(g, r) > 0);
  }
  TriangleMesh m = extract_surface(g, "spine_membrane");
  CHECK(m.triangles.size() == g.triangle_count());
  const auto rep = check_closed_mesh(m);
  CHECK(rep.problems.empty());
  CHECK(rep.closed);
  CHECK(rep.manifold);
  CHECK(rep.consistently_oriented);
  CHECK(rep.degenerate_triangles == 0);
  CHECK(rep.components == 1);
  CHECK(rep.signed_volume_um3 > 0);
  CHECK(orient_outward(m, "spine") == 0);  // already outward: nothing to flip
  // Shared vertices everywhere: no two vertices at the same place.
  CHECK(weld_vertices(m, 1e-7).vertices.size() == m.vertices.size());
  CHECK(check_compartments_closed(g).empty());
  // Triangle shape: measured ≥ 30° at defaults; 20° leaves room for tuning.
  CHECK(min_angle_deg(g) > 20);
  MESSAGE("default spine: " << g.triangle_count() << " triangles, " << g.vertices.size() << " vertices, volume "
                            << rep.signed_volume_um3 << " µm³, area " << rep.area_um2 << " µm²");
}

TEST_CASE("build_spine defaults: volumes and areas match closed-form values") {
  const SpineParams p;
  const Geometry g = build_spine(p);
  const auto a = analytic(p);
  const int cyto = g.find_compartment("cytosol");
  REQUIRE(cyto >= 0);
  const double v = compartment_volume(g, static_cast<CompartmentId>(cyto));
  MESSAGE("analytic: shaft " << a.shaft << " neck " << a.neck << " head " << a.head << " total " << a.total()
                             << " µm³; mesh " << v << " µm³");
  // Inscribed polygons make the mesh slightly smaller (≈ −0.35 % at defaults).
  CHECK(v == doctest::Approx(a.total()).epsilon(0.015));
  CHECK(v < a.total());
  // Head volume alone, near the 0.03 µm³ thin-spine figure of docs/science/parameters.md §1.
  CHECK(a.head == doctest::Approx(0.0324).epsilon(0.01));

  const double r = p.psd_radius_um;
  CHECK(region_area(g, "psd") == doctest::Approx(kPi * r * r).epsilon(0.02));
  // Perisynaptic zone ≈ spherical zone between radii r_psd and r_psd + width (centroid
  // classification makes its edge ragged).
  const double Rh = p.head_radius_um, ro = r + p.perisynaptic_width_um;
  const double zone = 2 * kPi * Rh * (std::sqrt(Rh * Rh - r * r) - std::sqrt(Rh * Rh - ro * ro));
  CHECK(region_area(g, "perisynaptic") == doctest::Approx(zone).epsilon(0.15));
  // Shaft side + caps.
  const double Rs = p.shaft_radius_um;
  CHECK(region_area(g, "shaft_end") == doctest::Approx(2 * kPi * Rs * Rs).epsilon(0.02));
}

TEST_CASE("build_spine defaults: labels, frame and point_inside") {
  const SpineParams p;
  const Geometry g = build_spine(p);
  const int cyto = g.find_compartment("cytosol"), ext = g.find_compartment("extracellular");
  REQUIRE(cyto >= 0);
  REQUIRE(ext >= 0);
  CHECK(g.compartment_bounded[cyto]);
  CHECK_FALSE(g.compartment_bounded[ext]);
  CHECK(g.find_compartment("cleft") < 0);
  for (std::size_t t = 0; t < g.triangle_count(); ++t) {
    CHECK(g.triangle_sides[t][0] == ext);
    CHECK(g.triangle_sides[t][1] == cyto);
  }
  const double Rs = p.shaft_radius_um, rn = p.neck_radius_um, Rh = p.head_radius_um, rp = p.psd_radius_um;
  const double y_c = Rs + p.neck_length_um + std::sqrt(Rh * Rh - rn * rn);
  const double y_top = y_c + std::sqrt(Rh * Rh - rp * rp);
  const int psd = g.find_region("psd"), peri = g.find_region("perisynaptic");
  for (std::size_t t = 0; t < g.triangle_count(); ++t) {
    const auto i = static_cast<TriangleIndex>(t);
    const Vec3 c = g.centroid(i);
    if (g.triangle_region[t] == psd) {
      CHECK(c.y == doctest::Approx(y_top));
      CHECK(g.raw_normal(i).y > 0);
    }
    if (g.triangle_region[t] == peri) {
      CHECK(c.y > y_c);
      CHECK(std::hypot(c.x, c.z) < rp + p.perisynaptic_width_um);
    }
  }
  const Box3 b = g.bounds();
  CHECK(b.lo.x == doctest::Approx(-p.shaft_length_um / 2));
  CHECK(b.hi.x == doctest::Approx(p.shaft_length_um / 2));
  CHECK(b.lo.y >= -Rs - 1e-12);  // the bottom grid line need not sit exactly at -Rs
  CHECK(b.lo.y < -0.99 * Rs);
  CHECK(b.hi.y == doctest::Approx(y_top));

  const TriangleMesh m = extract_surface(g, "spine_membrane");
  CHECK(point_inside(m, {0, 0, 0}));                                     // shaft centre
  CHECK(point_inside(m, {0.6, 0.1, -0.1}));                              // off-centre in the shaft
  CHECK(point_inside(m, {0, Rs + p.neck_length_um / 2, 0}));             // neck
  CHECK(point_inside(m, {0, y_c, 0}));                                   // head centre
  CHECK(point_inside(m, {0, y_top - 0.005, 0}));                         // just under the PSD
  CHECK_FALSE(point_inside(m, {0, y_top + 0.005, 0}));                   // just above it
  CHECK_FALSE(point_inside(m, {2 * rn, Rs + p.neck_length_um / 2, 0}));  // beside the neck
  CHECK_FALSE(point_inside(m, {p.shaft_length_um, 0, 0}));               // beyond the shaft end
  CHECK_FALSE(point_inside(m, {0, -Rs - 0.01, 0}));                      // under the shaft
}

TEST_CASE("build_spine with cleft: compartments closed, cleft and bouton volumes") {
  SpineParams p;
  p.cleft = true;
  const Geometry g = build_spine(p);
  CHECK(check_compartments_closed(g).empty());
  const int cyto = g.find_compartment("cytosol"), ext = g.find_compartment("extracellular");
  const int cleft = g.find_compartment("cleft"), bouton = g.find_compartment("bouton");
  REQUIRE(cleft >= 0);
  REQUIRE(bouton >= 0);
  CHECK(g.compartment_bounded[cyto]);
  CHECK(g.compartment_bounded[cleft]);
  CHECK(g.compartment_bounded[bouton]);
  CHECK_FALSE(g.compartment_bounded[ext]);

  const double r = p.psd_radius_um;
  const double v_cleft = compartment_volume(g, static_cast<CompartmentId>(cleft));
  const double v_bouton = compartment_volume(g, static_cast<CompartmentId>(bouton));
  MESSAGE("cleft " << v_cleft << " µm³ (π r² w = " << kPi * r * r * p.cleft_width_um << "), bouton " << v_bouton
                   << " µm³, triangles " << g.triangle_count());
  CHECK(v_cleft == doctest::Approx(kPi * r * r * p.cleft_width_um).epsilon(0.02));
  CHECK(v_bouton == doctest::Approx(kPi * r * r * p.bouton_height_um).epsilon(0.02));
  CHECK(compartment_volume(g, static_cast<CompartmentId>(cyto)) == doctest::Approx(analytic(p).total()).epsilon(0.015));

  // Side labels per region.
  const int psd = g.find_region("psd"), rim = g.find_region("cleft_rim"), face = g.find_region("bouton_face"),
            bout = g.find_region("bouton");
  REQUIRE(rim >= 0);
  REQUIRE(face >= 0);
  REQUIRE(bout >= 0);
  for (std::size_t t = 0; t < g.triangle_count(); ++t) {
    const auto s = g.triangle_sides[t];
    const int reg = g.triangle_region[t];
    if (reg == psd) CHECK((s[0] == cleft && s[1] == cyto));
    if (reg == rim) CHECK((s[0] == ext && s[1] == cleft));
    if (reg == face) CHECK((s[0] == cleft && s[1] == bouton));
    if (reg == bout) CHECK((s[0] == ext && s[1] == bouton));
  }
  CHECK(region_area(g, "bouton_face") == doctest::Approx(kPi * r * r).epsilon(0.02));
  CHECK(region_area(g, "cleft_rim") == doctest::Approx(2 * kPi * r * p.cleft_width_um).epsilon(0.02));

  // Bouton membrane is its own closed, outward surface; the rim is open (it ends on the
  // PSD and the bouton face, sharing their rim vertices).
  const auto bm = check_closed_mesh(extract_surface(g, "bouton_membrane"));
  CHECK(bm.problems.empty());
  CHECK(bm.signed_volume_um3 == doctest::Approx(v_bouton));
  const auto rm = check_closed_mesh(extract_surface(g, "cleft_rim"));
  CHECK(rm.boundary_edges > 0);
  CHECK(rm.manifold);
  CHECK(rm.consistently_oriented);
  // No duplicated vertices anywhere (rims are shared, not coincident copies).
  TriangleMesh all{g.vertices, g.triangles};
  CHECK(weld_vertices(all, 1e-7).vertices.size() == g.vertices.size());
}

TEST_CASE("build_spine: other shapes stay closed and accurate") {
  SpineParams mushroom;
  mushroom.head_radius_um = 0.4;
  mushroom.neck_radius_um = 0.1;
  mushroom.neck_length_um = 0.43;
  mushroom.psd_radius_um = 0.31;
  mushroom.cleft = true;
  SpineParams fine;
  fine.edge_length_um = 0.012;
  SpineParams stubby;
  stubby.neck_length_um = 0.05;
  stubby.neck_radius_um = 0.02;
  stubby.edge_length_um = 0.05;
  for (const SpineParams& p : {mushroom, fine, stubby}) {
    const Geometry g = build_spine(p);
    const auto rep = check_closed_mesh(extract_surface(g, "spine_membrane"));
    CHECK(rep.problems.empty());
    CHECK(check_compartments_closed(g).empty());
    CHECK(rep.signed_volume_um3 == doctest::Approx(analytic(p).total()).epsilon(0.02));
    CHECK(min_angle_deg(g) > 15);
  }
}

TEST_CASE("build_spine: impossible parameters throw InputError naming the field") {
  SpineParams p;
  p.neck_radius_um = 0.3;  // wider than the head (0.2) and more than half the shaft radius
  std::string e = build_error(p);
  CHECK(e.find("geometry.spine.neck_radius_um") != std::string::npos);
  CHECK(e.find("narrower than the head") != std::string::npos);

  p = SpineParams{};
  p.psd_radius_um = 0.2;  // = head radius
  CHECK(build_error(p).find("geometry.spine.psd_radius_um") != std::string::npos);

  p = SpineParams{};
  p.head_radius_um = -1;
  CHECK(build_error(p).find("geometry.spine.head_radius_um: must be a positive length") != std::string::npos);

  p = SpineParams{};
  p.edge_length_um = 0;
  CHECK(build_error(p).find("geometry.spine.edge_length_um") != std::string::npos);

  p = SpineParams{};
  p.edge_length_um = 1e-4;  // hundreds of millions of triangles
  CHECK(build_error(p).find("geometry.spine.edge_length_um") != std::string::npos);

  p = SpineParams{};
  p.shaft_length_um = 0.15;
  CHECK(build_error(p).find("geometry.spine.shaft_length_um") != std::string::npos);

  p = SpineParams{};
  p.cleft = true;
  p.cleft_width_um = 0;
  CHECK(build_error(p).find("geometry.spine.cleft_width_um") != std::string::npos);
  p.cleft = false;  // cleft parameters are ignored without a cleft
  CHECK(build_error(p).empty());

  // Every problem is reported, not only the first.
  p = SpineParams{};
  p.neck_length_um = 0;
  p.shaft_radius_um = std::nan("");
  try {
    build_spine(p);
    FAIL("expected InputError");
  } catch (const InputError& err) {
    CHECK(err.diagnostics().size() == 2);
  }
}
