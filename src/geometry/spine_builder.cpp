// Meshing of the parametric spine. Every piece is built from closed vertex rings
// that are stitched pairwise; rings are labelled by a periodic parameter t ∈ [0,1)
// (angle / 2π), and the stitcher walks both rings in t order, so rings of
// different vertex counts join without T-junctions or overlapping triangles.
//
// The shaft is meshed in its unrolled (x, s = arc length) domain: a regular grid
// everywhere except a rectangular patch of cells around the neck, which is
// replaced by rings interpolated between the neck's bottom ring (the exact
// shaft-neck intersection curve) and the rectangle's boundary grid vertices.
// Triangle orientation is decided per triangle from a known outward direction of
// its piece (radial for cylinders and spheres, axial for discs), which is
// unambiguous because no triangle is nearly tangent to that direction.
#include "geometry/spine_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "geometry/mesh_check.h"

namespace spinesim {

namespace {

constexpr const char* kFieldPrefix = "geometry.spine.";
/// Above this the mesh is too fine to be useful for a single spine (and slow to build).
constexpr double kMaxTriangles = 4e6;
/// Fewest vertices on any ring: keeps thin necks round (polygon area error < 5%).
constexpr int kMinRing = 12;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// A closed loop of vertex indices with their parameters t, ascending in [0, 1).
struct Ring {
  std::vector<std::uint32_t> v;
  std::vector<double> t;
};

/// Labels and outward direction shared by all triangles of one piece.
struct Piece {
  RegionId region;
  SurfaceId surface;
  std::array<CompartmentId, 2> sides;      ///< [front, back]
  std::function<Vec3(const Vec3&)> front;  ///< direction the normal should point at a centroid
};

class Mesher {
 public:
  Geometry g;

  std::uint32_t vertex(const Vec3& p) {
    g.vertices.push_back(p);
    return static_cast<std::uint32_t>(g.vertices.size() - 1);
  }

  void triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c, const Piece& piece) {
    const Vec3 &pa = g.vertices[a], &pb = g.vertices[b], &pc = g.vertices[c];
    const Vec3 n = cross(pb - pa, pc - pa);
    if (dot(n, piece.front((pa + pb + pc) / 3.0)) < 0) std::swap(b, c);
    g.triangles.push_back({a, b, c});
    g.triangle_region.push_back(piece.region);
    g.triangle_surface.push_back(piece.surface);
    g.triangle_sides.push_back(piece.sides);
  }

  /// Triangulates the band between two rings. At each step it adds the triangle with
  /// the shorter new diagonal (better shapes at corners), unless that would let one
  /// ring run more than a step ahead of the other in t, which keeps the band from
  /// folding over. Both rings start at their smallest t.
  void stitch(const Ring& a, const Ring& b, const Piece& piece) {
    const std::size_t na = a.v.size(), nb = b.v.size();
    auto ta = [&](std::size_t k) { return k < na ? a.t[k] : a.t[k - na] + 1.0; };
    auto tb = [&](std::size_t k) { return k < nb ? b.t[k] : b.t[k - nb] + 1.0; };
    auto pa = [&](std::size_t k) { return g.vertices[a.v[k % na]]; };
    auto pb = [&](std::size_t k) { return g.vertices[b.v[k % nb]]; };
    std::size_t i = 0, j = 0;
    while (i < na || j < nb) {
      bool advance_a;
      if (j == nb) {
        advance_a = true;
      } else if (i == na) {
        advance_a = false;
      } else if (ta(i + 1) > tb(j + 2)) {
        advance_a = false;
      } else if (tb(j + 1) > ta(i + 2)) {
        advance_a = true;
      } else {
        advance_a = norm2(pa(i + 1) - pb(j)) <= norm2(pb(j + 1) - pa(i));
      }
      if (advance_a) {
        triangle(a.v[i % na], a.v[(i + 1) % na], b.v[j % nb], piece);
        ++i;
      } else {
        triangle(a.v[i % na], b.v[(j + 1) % nb], b.v[j % nb], piece);
        ++j;
      }
    }
  }

  /// Ring of n new vertices at parameters (k + offset)/n, positioned by at(t).
  Ring ring(int n, double offset, const std::function<Vec3(double)>& at) {
    Ring r;
    for (int k = 0; k < n; ++k) {
      const double t = (k + offset) / n;
      r.v.push_back(vertex(at(t)));
      r.t.push_back(t);
    }
    return r;
  }

  /// Fills a flat disc of radius R whose boundary ring lies at angle 2πt in the
  /// (e1, e2) frame around `center`, with concentric rings about h apart.
  void disc(const Ring& boundary, const Vec3& center, const Vec3& e1, const Vec3& e2, double R, double h,
            const Piece& piece) {
    const int K = std::max(1, static_cast<int>(std::lround(R / h)));
    const auto nb = static_cast<double>(boundary.v.size());
    Ring outer = boundary;
    for (int k = K - 1; k >= 1; --k) {
      const double r = R * k / K;
      const int n = std::max(6, static_cast<int>(std::lround(nb * k / K)));
      Ring inner = ring(n, 0.5 * ((K - k) % 2), [&](double t) {
        const double a = 2 * kPi * t;
        return center + r * (std::cos(a) * e1 + std::sin(a) * e2);
      });
      stitch(outer, inner, piece);
      outer = std::move(inner);
    }
    const std::uint32_t c = vertex(center);
    const std::size_t n = outer.v.size();
    for (std::size_t k = 0; k < n; ++k) triangle(c, outer.v[k], outer.v[(k + 1) % n], piece);
  }
};

void validate(const SpineParams& p) {
  std::vector<Diagnostic> errs;
  auto bad = [&](const char* field, const std::string& msg) {
    Diagnostic d;
    d.field = std::string(kFieldPrefix) + field;
    d.message = msg;
    errs.push_back(d);
  };
  auto positive = [&](const char* field, double v) {
    if (!(v > 0) || !std::isfinite(v)) {
      bad(field, "must be a positive length in µm, got " + num(v));
      return false;
    }
    if (v < kMinFeatureUm) {
      bad(field, "is " + num(v) + " µm, thinner than the " + num(kMinFeatureUm) +
                     " µm (1 nm) the reflection code resolves exactly (molecules would cross the far wall); "
                     "use at least " +
                     num(kMinFeatureUm) + " µm");
      return false;
    }
    return true;
  };
  bool ok = positive("head_radius_um", p.head_radius_um);
  ok &= positive("neck_radius_um", p.neck_radius_um);
  ok &= positive("neck_length_um", p.neck_length_um);
  ok &= positive("shaft_radius_um", p.shaft_radius_um);
  ok &= positive("shaft_length_um", p.shaft_length_um);
  ok &= positive("psd_radius_um", p.psd_radius_um);
  ok &= positive("edge_length_um", p.edge_length_um);
  if (!(p.perisynaptic_width_um >= 0) || !std::isfinite(p.perisynaptic_width_um)) {
    bad("perisynaptic_width_um", "must be a length >= 0 µm, got " + num(p.perisynaptic_width_um));
    ok = false;
  }
  if (p.cleft) {
    ok &= positive("cleft_width_um", p.cleft_width_um);
    ok &= positive("bouton_height_um", p.bouton_height_um);
  }
  if (ok) {
    if (p.neck_radius_um >= 0.95 * p.head_radius_um)
      bad("neck_radius_um", "the neck (radius " + num(p.neck_radius_um) +
                                " µm) must be narrower than the head (radius " + num(p.head_radius_um) +
                                " µm); use a neck radius below " + num(0.95 * p.head_radius_um) +
                                " µm or a larger head_radius_um");
    if (p.neck_radius_um > 0.5 * p.shaft_radius_um)
      bad("neck_radius_um", "the neck (radius " + num(p.neck_radius_um) + " µm) is too wide for the shaft (radius " +
                                num(p.shaft_radius_um) + " µm): it must be at most half the shaft radius, i.e. <= " +
                                num(0.5 * p.shaft_radius_um) + " µm; reduce it or increase shaft_radius_um");
    if (p.psd_radius_um >= 0.95 * p.head_radius_um)
      bad("psd_radius_um", "the PSD (radius " + num(p.psd_radius_um) + " µm) must be smaller than the head (radius " +
                               num(p.head_radius_um) + " µm) it is cut from; use a PSD radius below " +
                               num(0.95 * p.head_radius_um) + " µm or a larger head_radius_um");
    const double coarsest = 0.5 * std::min({p.shaft_radius_um, p.head_radius_um, p.psd_radius_um * 2});
    if (p.edge_length_um > coarsest)
      bad("edge_length_um", "an edge length of " + num(p.edge_length_um) +
                                " µm is too coarse for this spine; use at most " + num(coarsest) + " µm");
    // Rough count: ~2.3 triangles per h² of membrane area. The cleft rim (a cylinder of
    // the PSD's radius, cleft_width_um tall) counts too: without it a cleft of 9e4 µm
    // (a unit mistake found by fuzz/fuzz_scene.cpp) passed and took 15 GB to validate.
    const double cleft_rim = p.cleft ? 2 * kPi * p.psd_radius_um * p.cleft_width_um : 0.0;
    const double area = 2 * kPi * p.shaft_radius_um * (p.shaft_length_um + p.shaft_radius_um) +
                        2 * kPi * p.neck_radius_um * p.neck_length_um + 4 * kPi * p.head_radius_um * p.head_radius_um +
                        (p.cleft ? 2 * kPi * p.psd_radius_um * (p.psd_radius_um + p.bouton_height_um) : 0.0) +
                        cleft_rim;
    const double estimate = 2.3 * area / (p.edge_length_um * p.edge_length_um);
    if (estimate > kMaxTriangles)
      bad(cleft_rim > 0.5 * area ? "cleft_width_um" : "edge_length_um",
          "an edge length of " + num(p.edge_length_um) + " µm would give about " + num(estimate) +
              " triangles; use at least " + num(p.edge_length_um * std::sqrt(estimate / kMaxTriangles)) + " µm" +
              (cleft_rim > 0.5 * area
                   ? ", or check cleft_width_um (" + num(p.cleft_width_um) +
                         " µm; synaptic clefts are 0.01–0.03 µm wide): its rim is most of the membrane"
                   : std::string()));
  }
  if (!errs.empty()) throw InputError(errs);
}

}  // namespace

Geometry build_spine(const SpineParams& p) {
  validate(p);
  const double Rs = p.shaft_radius_um, L = p.shaft_length_um, rn = p.neck_radius_um, ln = p.neck_length_um;
  const double Rh = p.head_radius_um, rpsd = p.psd_radius_um, h = p.edge_length_um;

  Mesher m;
  Geometry& g = m.g;
  const CompartmentId cyto = g.intern_compartment("cytosol");
  const CompartmentId ext = g.intern_compartment("extracellular");
  g.compartment_bounded[cyto] = true;
  g.compartment_bounded[ext] = false;
  CompartmentId cleft = 0, bouton = 0;
  if (p.cleft) {
    cleft = g.intern_compartment("cleft");
    bouton = g.intern_compartment("bouton");
    g.compartment_bounded[cleft] = true;
    g.compartment_bounded[bouton] = true;
  }
  const SurfaceId membrane = g.intern_surface("spine_membrane");
  const RegionId r_shaft = g.intern_region("shaft");
  const RegionId r_end = g.intern_region("shaft_end");
  const RegionId r_neck = g.intern_region("neck");
  const RegionId r_head = g.intern_region("head");
  const RegionId r_peri = g.intern_region("perisynaptic");
  const RegionId r_psd = g.intern_region("psd");

  auto radial_y = [](const Vec3& c) { return Vec3{c.x, 0, c.z}; };  // away from the y axis
  const Piece shaft{r_shaft, membrane, {ext, cyto}, [](const Vec3& c) { return Vec3{0, c.y, c.z}; }};
  const Piece shaft_end{r_end, membrane, {ext, cyto}, [](const Vec3& c) { return Vec3{c.x, 0, 0}; }};
  const Piece neck{r_neck, membrane, {ext, cyto}, radial_y};

  // ---- Shaft grid in the unrolled domain: x_i = -L/2 + i dx, s_j = j ds (periodic in j).
  int nx = std::max(2, static_cast<int>(std::ceil(L / h)));
  nx += nx % 2;  // even, so x = 0 (the neck axis) is a grid line
  const int nc = std::max(kMinRing, static_cast<int>(std::ceil(2 * kPi * Rs / h)));
  const double dx = L / nx, ds = 2 * kPi * Rs / nc;
  auto shaft_point = [&](double x, double s) { return Vec3{x, Rs * std::cos(s / Rs), Rs * std::sin(s / Rs)}; };

  // Patch of cells replaced around the neck: the hole plus a margin of about one neck
  // radius (at least one edge length) so the rings between them are well shaped.
  const double margin = std::max(rn, h);
  const double hole_s = Rs * std::asin(rn / Rs);  // half extent of the hole along s
  const int mx = static_cast<int>(std::ceil((rn + margin) / dx));
  const int ms = static_cast<int>(std::ceil((hole_s + margin) / ds));
  if (2 * mx + 2 > nx) {
    Diagnostic d;
    d.field = std::string(kFieldPrefix) + "shaft_length_um";
    d.message = "the shaft (length " + num(L) + " µm) is too short to hold a neck of radius " + num(rn) +
                " µm at this edge length; use a shaft length of at least " + num(2 * (rn + margin + 2 * h)) + " µm";
    throw InputError(d);
  }
  if (2 * ms + 2 > nc) {
    Diagnostic d;
    d.field = std::string(kFieldPrefix) + "neck_radius_um";
    d.message = "the neck (radius " + num(rn) + " µm) is too wide for the shaft (radius " + num(Rs) +
                " µm) at this edge length; use a thinner neck, a thicker shaft or a smaller edge_length_um";
    throw InputError(d);
  }
  const int ic = nx / 2;
  auto jwrap = [&](int j) { return ((j % nc) + nc) % nc; };
  auto jsigned = [&](int j) { return j >= nc / 2 ? j - nc : j; };
  auto in_patch_cell = [&](int i, int j) {
    const int js = jsigned(j);
    return i >= ic - mx && i < ic + mx && js >= -ms && js < ms;
  };
  std::vector<std::vector<std::uint32_t>> grid(nx + 1, std::vector<std::uint32_t>(nc, 0));
  for (int i = 0; i <= nx; ++i)
    for (int j = 0; j < nc; ++j) {
      const int js = jsigned(j);
      if (i > ic - mx && i < ic + mx && js > -ms && js < ms) continue;  // strictly inside the patch
      grid[i][j] = m.vertex(shaft_point(-0.5 * L + i * dx, js * ds));
    }
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < nc; ++j) {
      if (in_patch_cell(i, j)) continue;
      const int j1 = jwrap(j + 1);
      const std::uint32_t a = grid[i][j], b = grid[i + 1][j], c = grid[i + 1][j1], d = grid[i][j1];
      // Alternate the diagonal so the grid has no preferred direction.
      if ((i + j) % 2 == 0) {
        m.triangle(a, b, c, shaft);
        m.triangle(a, c, d, shaft);
      } else {
        m.triangle(a, b, d, shaft);
        m.triangle(b, c, d, shaft);
      }
    }

  // Patch boundary, counter-clockwise in (x, s) from (ax, 0); t = polar angle / 2π.
  const double ax = mx * dx, as = ms * ds;
  Ring boundary;
  auto push_boundary = [&](int i, int js) {
    boundary.v.push_back(grid[i][jwrap(js)]);
    double t = std::atan2(js * ds, (i - ic) * dx) / (2 * kPi);
    if (t < 0) t += 1.0;
    boundary.t.push_back(t);
  };
  for (int js = 0; js < ms; ++js) push_boundary(ic + mx, js);
  for (int i = ic + mx; i > ic - mx; --i) push_boundary(i, ms);
  for (int js = ms; js > -ms; --js) push_boundary(ic - mx, js);
  for (int i = ic - mx; i < ic + mx; ++i) push_boundary(i, -ms);
  for (int js = -ms; js < 0; ++js) push_boundary(ic + mx, js);

  // Hole = neck bottom ring on the exact intersection curve: x = rn cos φ, z = rn sin φ,
  // y = sqrt(Rs² − z²); in the unrolled domain s = Rs asin(z / Rs).
  const int n_neck = std::max(kMinRing, static_cast<int>(std::ceil(2 * kPi * rn / h)));
  auto hole_xs = [&](double t) {
    const double phi = 2 * kPi * t;
    return std::array<double, 2>{rn * std::cos(phi), Rs * std::asin(rn * std::sin(phi) / Rs)};
  };
  auto rect_xs = [&](double t) {
    const double th = 2 * kPi * t, c = std::cos(th), s = std::sin(th);
    const double k =
        std::min(std::abs(c) > 1e-15 ? ax / std::abs(c) : 1e300, std::abs(s) > 1e-15 ? as / std::abs(s) : 1e300);
    return std::array<double, 2>{k * c, k * s};
  };
  Ring hole = m.ring(n_neck, 0.0, [&](double t) {
    const double phi = 2 * kPi * t;
    const double z = rn * std::sin(phi);
    return Vec3{rn * std::cos(phi), std::sqrt(Rs * Rs - z * z), z};
  });
  {
    // Rings graded from the hole's edge length e0 to the grid's e1: the edge length
    // grows linearly with distance from the hole and the ring spacing follows it.
    const double e0 = 2 * kPi * rn / n_neck, e1 = 0.5 * (dx + ds);
    const double gap = 0.5 * (ax + as) - rn;
    std::vector<double> marks{0.0};
    for (double d = 0; d < gap;) {
      d += e0 + (e1 - e0) * d / gap;
      marks.push_back(d);
    }
    if (marks.size() > 2 && marks.back() - gap > 0.5 * (marks.back() - marks[marks.size() - 2])) marks.pop_back();
    const int K = static_cast<int>(marks.size()) - 1;
    const double p_hole = 2 * kPi * rn, p_rect = 4 * (ax + as);
    const int nb = static_cast<int>(boundary.v.size());
    Ring inner = hole;
    int n_prev = n_neck;
    for (int k = 1; k < K; ++k) {
      const double lam = marks[k] / marks.back();
      const double edge = e0 + (e1 - e0) * lam;
      const int n = std::clamp(static_cast<int>(std::lround(((1 - lam) * p_hole + lam * p_rect) / edge)), n_prev, nb);
      n_prev = n;
      Ring next = m.ring(n, 0.5 * (k % 2), [&](double t) {
        const auto hxs = hole_xs(t), rxs = rect_xs(t);
        return shaft_point((1 - lam) * hxs[0] + lam * rxs[0], (1 - lam) * hxs[1] + lam * rxs[1]);
      });
      m.stitch(inner, next, shaft);
      inner = std::move(next);
    }
    m.stitch(inner, boundary, shaft);
  }

  // Shaft end caps.
  for (int i : {0, nx}) {
    Ring cap;
    for (int j = 0; j < nc; ++j) {
      cap.v.push_back(grid[i][j]);
      cap.t.push_back(static_cast<double>(j) / nc);
    }
    m.disc(cap, Vec3{-0.5 * L + i * dx, 0, 0}, Vec3{0, 1, 0}, Vec3{0, 0, 1}, Rs, h, shaft_end);
  }

  // ---- Neck: rings at the same angles, y interpolated from the intersection curve
  // to the junction with the sphere at y = Rs + ln.
  const double y_junction = Rs + ln;
  Ring neck_top = hole;
  {
    // Ring spacing no coarser than ~the ring's own edge, so thin necks get no slivers.
    const double step = std::min(h, 1.25 * 2 * kPi * rn / n_neck);
    const int K = std::max(1, static_cast<int>(std::lround(ln / step)));
    Ring below = hole;
    for (int k = 1; k <= K; ++k) {
      const double lam = static_cast<double>(k) / K;
      Ring next = m.ring(n_neck, 0.0, [&](double t) {
        const double phi = 2 * kPi * t, z = rn * std::sin(phi);
        const double y0 = std::sqrt(Rs * Rs - z * z);
        return Vec3{rn * std::cos(phi), y0 + (y_junction - y0) * lam, z};
      });
      m.stitch(below, next, neck);
      below = std::move(next);
    }
    neck_top = below;
  }

  // ---- Head: sphere rings by polar angle α from the −y pole, from the neck junction
  // (radius rn) to the PSD rim (radius r_psd) at y_top.
  const double y_c = y_junction + std::sqrt(Rh * Rh - rn * rn);
  const double y_top = y_c + std::sqrt(Rh * Rh - rpsd * rpsd);
  const Vec3 head_center{0, y_c, 0};
  const Piece head{r_head, membrane, {ext, cyto}, [head_center](const Vec3& c) { return c - head_center; }};
  const int n_psd = std::max(kMinRing, static_cast<int>(std::ceil(2 * kPi * rpsd / h)));
  auto circle = [](double r, double y) {
    return [r, y](double t) {
      const double a = 2 * kPi * t;
      return Vec3{r * std::cos(a), y, r * std::sin(a)};
    };
  };
  Ring psd_rim;
  {
    const double a0 = std::asin(rn / Rh), a1 = kPi - std::asin(rpsd / Rh);
    // Graded spacing: near the neck (and a small PSD) the rings have few vertices, so
    // the step along the sphere shrinks to match their edge length.
    auto local_step = [&](double a) {
      const double r = Rh * std::sin(a);
      return std::min(h, 1.25 * 2 * kPi * r / kMinRing) / Rh;
    };
    std::vector<double> marks{0.0};
    for (double a = a0; a < a1;) {
      a += local_step(a);
      marks.push_back(a - a0);
    }
    // Drop a last step that overshoots by more than half, then rescale to end at a1.
    if (marks.size() > 2 && marks.back() - (a1 - a0) > 0.5 * (marks.back() - marks[marks.size() - 2])) marks.pop_back();
    const int M = std::max(2, static_cast<int>(marks.size()) - 1);
    if (static_cast<int>(marks.size()) - 1 < M) marks = {0.0, 0.5, 1.0};
    const double scale = (a1 - a0) / marks.back();
    Ring below = neck_top;
    for (int k = 1; k < M; ++k) {
      const double a = a0 + marks[k] * scale;
      const double r = Rh * std::sin(a);
      const int n = std::max(kMinRing, static_cast<int>(std::lround(2 * kPi * r / h)));
      Ring next = m.ring(n, 0.5 * (k % 2), circle(r, y_c - Rh * std::cos(a)));
      m.stitch(below, next, head);
      below = std::move(next);
    }
    psd_rim = m.ring(n_psd, 0.0, circle(rpsd, y_top));
    m.stitch(below, psd_rim, head);
  }
  // Perisynaptic ring: head triangles in the upper hemisphere (the neck side of the
  // head is also close to the axis) whose centroid is near the PSD edge.
  const double peri_r = rpsd + p.perisynaptic_width_um;
  for (std::size_t t = 0; t < g.triangles.size(); ++t) {
    if (g.triangle_region[t] != r_head) continue;
    const Vec3 c = g.centroid(static_cast<TriangleIndex>(t));
    if (c.y > y_c && c.x * c.x + c.z * c.z < peri_r * peri_r) g.triangle_region[t] = r_peri;
  }

  // ---- PSD: flat disc closing the head; faces the cleft when there is one.
  const Piece psd{r_psd, membrane, {p.cleft ? cleft : ext, cyto}, [](const Vec3&) { return Vec3{0, 1, 0}; }};
  const Vec3 ex{1, 0, 0}, ez{0, 0, 1};
  m.disc(psd_rim, Vec3{0, y_top, 0}, ex, ez, rpsd, h, psd);

  if (p.cleft) {
    const double w = p.cleft_width_um, y_b0 = y_top + w, y_b1 = y_b0 + p.bouton_height_um;
    const SurfaceId s_rim = g.intern_surface("cleft_rim");
    const SurfaceId s_bouton = g.intern_surface("bouton_membrane");
    const Piece rim{g.intern_region("cleft_rim"), s_rim, {ext, cleft}, radial_y};
    const Piece face{g.intern_region("bouton_face"), s_bouton, {cleft, bouton}, [](const Vec3&) {
                       return Vec3{0, -1, 0};
                     }};
    const RegionId r_bouton = g.intern_region("bouton");
    const Piece side{r_bouton, s_bouton, {ext, bouton}, radial_y};
    const Piece top{r_bouton, s_bouton, {ext, bouton}, [](const Vec3&) { return Vec3{0, 1, 0}; }};
    // Cleft rim and bouton wall use the PSD rim's angles so all three rims share vertices.
    auto wall = [&](const Ring& start, double y0, double y1, const Piece& piece) {
      const int K = std::max(1, static_cast<int>(std::lround((y1 - y0) / h)));
      Ring below = start;
      for (int k = 1; k <= K; ++k) {
        Ring next = m.ring(n_psd, 0.0, circle(rpsd, y0 + (y1 - y0) * k / K));
        m.stitch(below, next, piece);
        below = std::move(next);
      }
      return below;
    };
    const Ring face_rim = wall(psd_rim, y_top, y_b0, rim);
    m.disc(face_rim, Vec3{0, y_b0, 0}, ex, ez, rpsd, h, face);
    const Ring top_rim = wall(face_rim, y_b0, y_b1, side);
    m.disc(top_rim, Vec3{0, y_b1, 0}, ex, ez, rpsd, h, top);
  }

  // Safety net: a parameter combination the mesher handles badly must not yield a
  // silently broken surface.
  const MeshCheckReport rep = check_closed_mesh(extract_surface(g, "spine_membrane"));
  std::vector<std::string> problems = rep.problems;
  if (rep.signed_volume_um3 <= 0) problems.push_back("the membrane encloses no positive volume");
  for (auto& s : check_compartments_closed(g)) problems.push_back(std::move(s));
  if (!problems.empty()) {
    Diagnostic d;
    d.field = "geometry.spine";
    d.message = "these parameters produce an invalid mesh (";
    for (std::size_t i = 0; i < problems.size(); ++i) d.message += (i ? "; " : "") + problems[i];
    d.message += "); use a smaller edge_length_um or less extreme proportions";
    throw InputError(d);
  }
  return g;
}

}  // namespace spinesim
