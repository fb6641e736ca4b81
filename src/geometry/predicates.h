// Exact geometric predicates on double-precision coordinates.
//
// Mesh checks must give the right answer for every configuration, not only generic
// ones: a CAD-exported spine has thousands of coplanar facets, and a sign taken from a
// rounded determinant calls some of those pairs crossing (issue 17). Each predicate
// here first evaluates in floating point with Shewchuk's a-priori error bound
// ("Adaptive Precision Floating-Point Arithmetic and Fast Robust Geometric
// Predicates", Discrete Comput. Geom. 18, 1997, bounds A for orient2d/orient3d) and,
// only when the bound cannot certify the sign, re-evaluates exactly with
// Boost.Multiprecision integers (every double is an integer times a power of two, so
// the determinant of their differences is an exact integer). The exact path is slow
// (microseconds) but taken only for (near-)degenerate inputs.
//
// Inputs must be finite; the mesh readers reject NaN and infinity before any check.
#pragma once

#include <array>

#include "core/vec3.h"

namespace spinesim {

/// Sign (+1, 0, −1) of det[a − d; b − d; c − d] = (a − d) · ((b − d) × (c − d)):
/// positive when d lies on the side of plane abc that the normal (b − a) × (c − a)
/// points away from, i.e. when a, b, c appear clockwise seen from d. Exact.
int orient3d(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d);

/// Sign of (a − c) × (b − c) in the plane of coordinates (i, j) (0 = x, 1 = y, 2 = z):
/// +1 when a, b, c turn counter-clockwise. Exact.
int orient2d(const Vec3& a, const Vec3& b, const Vec3& c, int i, int j);

/// True when the closed segment [p, q] and the closed triangle (a, b, c) share a point.
/// Degenerate inputs (p = q, collinear or repeated triangle corners) are handled: a
/// degenerate triangle is the convex hull of its corners. Exact.
bool segment_meets_triangle(const Vec3& p, const Vec3& q, const Vec3& a, const Vec3& b, const Vec3& c);

/// True when the closed triangles share at least one point (touching counts), for every
/// configuration including coplanar and degenerate ones. Exact.
bool triangles_meet(const std::array<Vec3, 3>& s, const std::array<Vec3, 3>& t);

}  // namespace spinesim
