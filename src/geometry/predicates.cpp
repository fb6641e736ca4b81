#include "geometry/predicates.h"

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace spinesim {

namespace {

using boost::multiprecision::cpp_int;
using boost::multiprecision::int512_t;

constexpr double kEpsilon = std::numeric_limits<double>::epsilon() / 2;  // 2⁻⁵³, Shewchuk's ε
constexpr double kOrient2dBound = (3.0 + 16.0 * kEpsilon) * kEpsilon;
constexpr double kOrient3dBound = (7.0 + 56.0 * kEpsilon) * kEpsilon;
// The bounds assume no product underflows to a denormal. Below this magnitude of the
// permanent a product may have, so the exact path decides instead.
constexpr double kUnderflowGuard = 1e-250;

int sign_of(double x) {
  return (x > 0) - (x < 0);
}

/// The doubles as integers on one common power-of-two scale: x_k = out[k] · 2^e_min.
/// Differences, products and sums of these integers are exact, and the sign of any
/// homogeneous polynomial of them is the sign of the same polynomial of the doubles.
/// Returns false (leaving `out` untouched) when Int cannot hold them with `spare_bits`
/// to spare for the arithmetic that follows.
template <typename Int, std::size_t N>
bool common_scale(const std::array<double, N>& x, int spare_bits, std::array<Int, N>& out) {
  std::array<std::int64_t, N> mantissa{};
  std::array<int, N> exponent{};
  int e_min = std::numeric_limits<int>::max(), e_max = std::numeric_limits<int>::min();
  for (std::size_t k = 0; k < N; ++k) {
    if (x[k] == 0) continue;
    int e = 0;
    const double f = std::frexp(x[k], &e);  // x = f · 2^e, 0.5 ≤ |f| < 1
    mantissa[k] = static_cast<std::int64_t>(std::ldexp(f, 53));
    exponent[k] = e - 53;
    e_min = std::min(e_min, exponent[k]);
    e_max = std::max(e_max, exponent[k]);
  }
  if (e_max > e_min && e_max - e_min + 54 > std::numeric_limits<Int>::digits - spare_bits) return false;
  for (std::size_t k = 0; k < N; ++k) out[k] = mantissa[k] == 0 ? Int(0) : Int(mantissa[k]) << (exponent[k] - e_min);
  return true;
}

template <typename Int>
int orient3d_integer(const std::array<Int, 12>& v) {
  const Int adx = v[0] - v[9], ady = v[1] - v[10], adz = v[2] - v[11];
  const Int bdx = v[3] - v[9], bdy = v[4] - v[10], bdz = v[5] - v[11];
  const Int cdx = v[6] - v[9], cdy = v[7] - v[10], cdz = v[8] - v[11];
  const Int det = adx * (bdy * cdz - bdz * cdy) + ady * (bdz * cdx - bdx * cdz) + adz * (bdx * cdy - bdy * cdx);
  return det.sign();
}

int orient3d_exact(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d) {
  const std::array<double, 12> x{a.x, a.y, a.z, b.x, b.y, b.z, c.x, c.y, c.z, d.x, d.y, d.z};
  // Fixed-width integers (no allocation) whenever the coordinates span less than about
  // 2^110 — every real mesh; arbitrary width otherwise. Differences add 1 bit, the
  // triple products 3 more, the sum of six 3: 3·(width + 1) + 3 must fit.
  std::array<int512_t, 12> fixed;
  if (common_scale(x, 2 * 512 / 3 + 8, fixed)) return orient3d_integer(fixed);
  std::array<cpp_int, 12> big;
  common_scale(x, 0, big);
  return orient3d_integer(big);
}

int orient2d_exact(double ax, double ay, double bx, double by, double cx, double cy) {
  const std::array<double, 6> x{ax, ay, bx, by, cx, cy};
  auto det_sign = [](const auto& v) {
    const std::decay_t<decltype(v[0])> det = (v[0] - v[4]) * (v[3] - v[5]) - (v[1] - v[5]) * (v[2] - v[4]);
    return det.sign();
  };
  std::array<int512_t, 6> fixed;
  if (common_scale(x, 512 / 2 + 8, fixed)) return det_sign(fixed);
  std::array<cpp_int, 6> big;
  common_scale(x, 0, big);
  return det_sign(big);
}

/// Closed segments [p, q] and [r, s] in the (i, j) projection share a point.
bool segments_meet_2d(const Vec3& p, const Vec3& q, const Vec3& r, const Vec3& s, int i, int j) {
  // A point known collinear with [u, w] lies on it when it is inside its bounding box;
  // comparisons of doubles are exact.
  auto within = [&](const Vec3& u, const Vec3& w, const Vec3& x) {
    return std::min(u[i], w[i]) <= x[i] && x[i] <= std::max(u[i], w[i]) && std::min(u[j], w[j]) <= x[j] &&
           x[j] <= std::max(u[j], w[j]);
  };
  const int o1 = orient2d(p, q, r, i, j), o2 = orient2d(p, q, s, i, j);
  const int o3 = orient2d(r, s, p, i, j), o4 = orient2d(r, s, q, i, j);
  if (o1 * o2 < 0 && o3 * o4 < 0) return true;
  return (o1 == 0 && within(p, q, r)) || (o2 == 0 && within(p, q, s)) || (o3 == 0 && within(r, s, p)) ||
         (o4 == 0 && within(r, s, q));
}

/// Closed triangle (a, b, c) contains x in the (i, j) projection.
bool triangle_contains_2d(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& x, int i, int j) {
  if (orient2d(a, b, c, i, j) == 0)  // collinear corners: the triangle is its edges
    return segments_meet_2d(a, b, x, x, i, j) || segments_meet_2d(b, c, x, x, i, j) ||
           segments_meet_2d(c, a, x, x, i, j);
  const int s1 = orient2d(a, b, x, i, j), s2 = orient2d(b, c, x, i, j), s3 = orient2d(c, a, x, i, j);
  return !((s1 < 0 || s2 < 0 || s3 < 0) && (s1 > 0 || s2 > 0 || s3 > 0));
}

/// Closed segments [p, q] and [r, s] in space share a point.
bool segments_meet_3d(const Vec3& p, const Vec3& q, const Vec3& r, const Vec3& s) {
  if (orient3d(p, q, r, s) != 0) return false;  // segments that meet span a plane
  // Coplanar: a common point in space shows in every projection, and some projection
  // is one-to-one on their plane.
  for (int drop = 0; drop < 3; ++drop)
    if (!segments_meet_2d(p, q, r, s, (drop + 1) % 3, (drop + 2) % 3)) return false;
  return true;
}

bool collinear(const Vec3& a, const Vec3& b, const Vec3& c) {
  return orient2d(a, b, c, 0, 1) == 0 && orient2d(a, b, c, 1, 2) == 0 && orient2d(a, b, c, 2, 0) == 0;
}

bool segment_meets_triangle_2d(const Vec3& p, const Vec3& q, const Vec3& a, const Vec3& b, const Vec3& c, int i,
                               int j) {
  // A segment meeting a closed triangle either has an end inside or crosses its boundary.
  return triangle_contains_2d(a, b, c, p, i, j) || triangle_contains_2d(a, b, c, q, i, j) ||
         segments_meet_2d(p, q, a, b, i, j) || segments_meet_2d(p, q, b, c, i, j) || segments_meet_2d(p, q, c, a, i, j);
}

}  // namespace

int orient3d(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d) {
  const double adx = a.x - d.x, bdx = b.x - d.x, cdx = c.x - d.x;
  const double ady = a.y - d.y, bdy = b.y - d.y, cdy = c.y - d.y;
  const double adz = a.z - d.z, bdz = b.z - d.z, cdz = c.z - d.z;
  const double bdxcdy = bdx * cdy, cdxbdy = cdx * bdy;
  const double cdxady = cdx * ady, adxcdy = adx * cdy;
  const double adxbdy = adx * bdy, bdxady = bdx * ady;
  const double det = adz * (bdxcdy - cdxbdy) + bdz * (cdxady - adxcdy) + cdz * (adxbdy - bdxady);
  const double permanent = (std::fabs(bdxcdy) + std::fabs(cdxbdy)) * std::fabs(adz) +
                           (std::fabs(cdxady) + std::fabs(adxcdy)) * std::fabs(bdz) +
                           (std::fabs(adxbdy) + std::fabs(bdxady)) * std::fabs(cdz);
  if (std::isfinite(permanent) && permanent >= kUnderflowGuard && std::fabs(det) > kOrient3dBound * permanent)
    return sign_of(det);
  // Four points on one axis-aligned plane (common in boxes and flat caps): exactly 0,
  // without the slow path. (A zero permanent alone proves nothing: products can underflow.)
  if ((adx == 0 && bdx == 0 && cdx == 0) || (ady == 0 && bdy == 0 && cdy == 0) || (adz == 0 && bdz == 0 && cdz == 0))
    return 0;
  return orient3d_exact(a, b, c, d);
}

int orient2d(const Vec3& a, const Vec3& b, const Vec3& c, int i, int j) {
  const double left = (a[i] - c[i]) * (b[j] - c[j]);
  const double right = (a[j] - c[j]) * (b[i] - c[i]);
  const double det = left - right;
  const double sum = std::fabs(left) + std::fabs(right);
  if (std::isfinite(sum) && sum >= kUnderflowGuard && std::fabs(det) > kOrient2dBound * sum) return sign_of(det);
  // A zero factor in each product makes the determinant exactly 0 (differences of
  // doubles are zero only for equal values); a zero `sum` alone may be underflow.
  if ((a[i] == c[i] || b[j] == c[j]) && (a[j] == c[j] || b[i] == c[i])) return 0;
  return orient2d_exact(a[i], a[j], b[i], b[j], c[i], c[j]);
}

namespace {

/// segment_meets_triangle with op = orient3d(a, b, c, p) and oq = orient3d(a, b, c, q)
/// already known (triangles_meet reuses them across edges: the exact path is slow).
bool segment_meets_triangle_given(const Vec3& p, const Vec3& q, const Vec3& a, const Vec3& b, const Vec3& c, int op,
                                  int oq) {
  if (op * oq > 0) return false;  // both ends strictly on one side of the plane
  if (op == 0 && oq == 0) {
    // A degenerate triangle spans no plane (op and oq vanish for any p, q): it is the
    // union of its three edges.
    if (collinear(a, b, c))
      return segments_meet_3d(p, q, a, b) || segments_meet_3d(p, q, b, c) || segments_meet_3d(p, q, c, a);
    // Everything lies in one plane. Some coordinate projection is one-to-one on any plane, and a common point in
    // space is a common point in every projection; so the objects meet exactly when
    // they meet in all three projections, with no need to pick the right one.
    for (int drop = 0; drop < 3; ++drop)
      if (!segment_meets_triangle_2d(p, q, a, b, c, (drop + 1) % 3, (drop + 2) % 3)) return false;
    return true;
  }
  // The segment reaches the plane at one point (an end, when op or oq is 0); it lies in
  // the closed triangle exactly when the line pq passes no edge on the outside, i.e.
  // the three edge orientations seen along pq have no two strictly opposite signs.
  // A non-zero op or oq means a, b, c are not collinear, so the triangle is proper here.
  const int s1 = orient3d(p, q, a, b), s2 = orient3d(p, q, b, c), s3 = orient3d(p, q, c, a);
  return !((s1 < 0 || s2 < 0 || s3 < 0) && (s1 > 0 || s2 > 0 || s3 > 0));
}

}  // namespace

bool segment_meets_triangle(const Vec3& p, const Vec3& q, const Vec3& a, const Vec3& b, const Vec3& c) {
  return segment_meets_triangle_given(p, q, a, b, c, orient3d(a, b, c, p), orient3d(a, b, c, q));
}

bool triangles_meet(const std::array<Vec3, 3>& s, const std::array<Vec3, 3>& t) {
  // Each corner of one against the other's plane, once.
  std::array<int, 3> s_vs_t{}, t_vs_s{};
  for (int k = 0; k < 3; ++k) {
    s_vs_t[k] = orient3d(t[0], t[1], t[2], s[k]);
    t_vs_s[k] = orient3d(s[0], s[1], s[2], t[k]);
  }
  // Quick exit: all of one triangle strictly on one side of the other's plane.
  auto one_side = [](const std::array<int, 3>& o) {
    return (o[0] > 0 && o[1] > 0 && o[2] > 0) || (o[0] < 0 && o[1] < 0 && o[2] < 0);
  };
  if (one_side(s_vs_t) || one_side(t_vs_s)) return false;
  // The intersection of two convex sets is convex; each point of its boundary lies on
  // the boundary of s or of t, i.e. on an edge of one that meets the other. So the
  // triangles meet exactly when some edge of one meets the other triangle (this holds
  // for coplanar and degenerate triangles alike).
  for (int e = 0; e < 3; ++e) {
    const int f = (e + 1) % 3;
    if (segment_meets_triangle_given(s[e], s[f], t[0], t[1], t[2], s_vs_t[e], s_vs_t[f])) return true;
    if (segment_meets_triangle_given(t[e], t[f], s[0], s[1], s[2], t_vs_s[e], t_vs_s[f])) return true;
  }
  return false;
}

}  // namespace spinesim
