// Mesh topology checks and safe repairs. Edges are gathered by sorting
// (undirected key, triangle, direction) records rather than hashing, so the
// results — including which triangles orient_outward flips — are deterministic.
#include "geometry/mesh_check.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <queue>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "geometry/predicates.h"
#include "geometry/spatial_grid.h"

namespace spinesim {

namespace {

using Tri = std::array<std::uint32_t, 3>;

/// One use of an undirected edge by a triangle; `forward` when the triangle walks
/// the edge from the smaller to the larger vertex index.
struct EdgeUse {
  std::uint64_t key;
  std::uint32_t tri;
  bool forward;
};

std::uint64_t edge_key(std::uint32_t a, std::uint32_t b) {
  const std::uint32_t lo = std::min(a, b), hi = std::max(a, b);
  return (static_cast<std::uint64_t>(lo) << 32) | hi;
}

std::vector<EdgeUse> collect_edges(const std::vector<Tri>& tris, const std::vector<bool>& skip) {
  std::vector<EdgeUse> uses;
  uses.reserve(tris.size() * 3);
  for (std::uint32_t t = 0; t < tris.size(); ++t) {
    if (skip[t]) continue;
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t a = tris[t][k], b = tris[t][(k + 1) % 3];
      uses.push_back({edge_key(a, b), t, a < b});
    }
  }
  // Ordered by (key, triangle): the uses are generated in triangle order, so a stable
  // LSD radix sort on the key (a byte at a time, skipping bytes that are the same in
  // every key) gives that order without comparisons — several times faster than
  // std::sort here, which dominated scene validation (and the scene fuzzer).
  std::vector<EdgeUse> sorted(uses.size());
  std::array<std::size_t, 256> count{};
  for (int shift = 0; shift < 64; shift += 8) {
    count.fill(0);
    for (const EdgeUse& u : uses) ++count[(u.key >> shift) & 0xff];
    if (uses.empty() || count[(uses[0].key >> shift) & 0xff] == uses.size()) continue;
    std::size_t sum = 0;
    for (std::size_t& c : count) sum += std::exchange(c, sum);
    for (const EdgeUse& u : uses) sorted[count[(u.key >> shift) & 0xff]++] = u;
    uses.swap(sorted);
  }
  return uses;
}

/// Calls f(begin, end) for each run of uses sharing one undirected edge.
template <class F>
void for_each_edge(const std::vector<EdgeUse>& uses, F&& f) {
  std::size_t i = 0;
  while (i < uses.size()) {
    std::size_t j = i + 1;
    while (j < uses.size() && uses[j].key == uses[i].key) ++j;
    f(i, j);
    i = j;
  }
}

struct UnionFind {
  std::vector<std::uint32_t> parent;
  explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
  std::uint32_t find(std::uint32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  void unite(std::uint32_t a, std::uint32_t b) { parent[find(a)] = find(b); }
};

/// Degenerate: a vertex index out of range or repeated, or a triangle so flat that
/// its normal is meaningless (sine of the largest-angle test below ~1e-12).
bool is_degenerate(const TriangleMesh& m, const Tri& t) {
  const auto n = m.vertices.size();
  if (t[0] >= n || t[1] >= n || t[2] >= n) return true;
  if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) return true;
  const Vec3 &a = m.vertices[t[0]], &b = m.vertices[t[1]], &c = m.vertices[t[2]];
  const double longest2 = std::max({norm2(b - a), norm2(c - b), norm2(a - c)});
  const double twice_area = norm(cross(b - a, c - a));
  return !(twice_area > 1e-12 * longest2);
}

double triple(const Vec3& a, const Vec3& b, const Vec3& c) {
  return dot(a, cross(b, c));
}

// Phrase identifying the one defect orient_outward can repair, so it can tell it apart.
constexpr const char* kOppositeWinding = " where neighbouring triangles have opposite winding";

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string fmt_point(const Vec3& p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "(%.4g, %.4g, %.4g) µm", p.x, p.y, p.z);
  return buf;
}

}  // namespace

MeshCheckReport check_closed_mesh(const TriangleMesh& mesh) {
  MeshCheckReport r;
  const auto& tris = mesh.triangles;
  std::vector<bool> skip(tris.size(), false);
  std::size_t bad_index = 0;
  for (std::size_t t = 0; t < tris.size(); ++t) {
    const auto& tri = tris[t];
    const auto n = mesh.vertices.size();
    if (tri[0] >= n || tri[1] >= n || tri[2] >= n) {
      // Out-of-range indices cannot take part in any geometric or edge test.
      skip[t] = true;
      ++bad_index;
      ++r.degenerate_triangles;
      continue;
    }
    if (is_degenerate(mesh, tri)) ++r.degenerate_triangles;
    const Vec3 &a = mesh.vertices[tri[0]], &b = mesh.vertices[tri[1]], &c = mesh.vertices[tri[2]];
    r.signed_volume_um3 += triple(a, b, c) / 6.0;
    r.area_um2 += 0.5 * norm(cross(b - a, c - a));
  }

  const auto uses = collect_edges(tris, skip);
  UnionFind uf(tris.size());
  for_each_edge(uses, [&](std::size_t b, std::size_t e) {
    const std::size_t count = e - b;
    if (count == 1) ++r.boundary_edges;
    if (count > 2) ++r.nonmanifold_edges;
    std::size_t fwd = 0;
    for (std::size_t i = b; i < e; ++i) {
      fwd += uses[i].forward ? 1 : 0;
      uf.unite(uses[b].tri, uses[i].tri);
    }
    if (fwd > 1 || count - fwd > 1) ++r.inconsistent_edges;
  });
  std::vector<bool> is_root(tris.size(), false);
  for (std::uint32_t t = 0; t < tris.size(); ++t)
    if (!skip[t]) is_root[uf.find(t)] = true;
  r.components = static_cast<std::size_t>(std::count(is_root.begin(), is_root.end(), true));

  r.closed = !tris.empty() && r.boundary_edges == 0 && r.nonmanifold_edges == 0;
  r.manifold = r.nonmanifold_edges == 0;
  r.consistently_oriented = r.inconsistent_edges == 0;

  if (tris.empty())
    r.problems.push_back("the mesh has no triangles: check that the file is a triangle mesh and not empty");
  if (r.boundary_edges > 0)
    r.problems.push_back(plural(r.boundary_edges, "boundary edge", "boundary edges") +
                         ": the surface has holes; close it in a mesh editor (e.g. MeshLab 'Close Holes') "
                         "so that every edge joins exactly two triangles");
  if (r.nonmanifold_edges > 0)
    r.problems.push_back(plural(r.nonmanifold_edges, "non-manifold edge", "non-manifold edges") +
                         " (shared by more than two triangles): the surface touches or intersects itself; "
                         "repair it (e.g. MeshLab 'Repair non Manifold Edges') or separate the touching parts");
  if (r.inconsistent_edges > 0)
    r.problems.push_back(plural(r.inconsistent_edges, "edge", "edges") + kOppositeWinding +
                         std::string(": the normals are inconsistent; "
                                     "this is repaired automatically when the mesh is otherwise closed and manifold "
                                     "(or use MeshLab 'Re-Orient all faces coherently')"));
  if (r.degenerate_triangles > 0) {
    std::string msg = plural(r.degenerate_triangles, "degenerate triangle", "degenerate triangles") +
                      " (zero area or repeated vertex): remove them (e.g. MeshLab 'Remove Zero Area Faces' "
                      "and 'Merge Close Vertices')";
    if (bad_index > 0)
      msg += "; " + std::to_string(bad_index) + " of them reference vertices that do not exist (corrupt file?)";
    r.problems.push_back(msg);
  }
  return r;
}

std::size_t orient_outward(TriangleMesh& mesh, const std::string& source_name) {
  const MeshCheckReport rep = check_closed_mesh(mesh);
  std::vector<std::string> fatal;
  for (const auto& p : rep.problems)
    if (p.find(kOppositeWinding) == std::string::npos) fatal.push_back(p);
  auto fail = [&](const std::vector<std::string>& problems) {
    std::string msg = "the mesh cannot be used as a closed surface: ";
    for (std::size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    Diagnostic d;
    d.file = source_name;
    d.message = msg;
    throw InputError(d);
  };
  if (!fatal.empty()) fail(fatal);

  auto& tris = mesh.triangles;
  const std::vector<bool> skip(tris.size(), false);
  const auto uses = collect_edges(tris, skip);
  // Closed and manifold: every edge has exactly two uses, so each triangle has three
  // neighbours; neighbour[t][k] is across edge (t[k], t[k+1]).
  std::vector<std::array<std::uint32_t, 3>> neighbour(tris.size());
  std::vector<std::array<bool, 3>> same_dir(tris.size());
  auto slot = [&](std::uint32_t t, std::uint64_t key) {
    for (int k = 0; k < 3; ++k)
      if (edge_key(tris[t][k], tris[t][(k + 1) % 3]) == key) return k;
    return 0;
  };
  for_each_edge(uses, [&](std::size_t b, std::size_t) {
    const EdgeUse &u = uses[b], &v = uses[b + 1];
    const bool same = u.forward == v.forward;
    const int ku = slot(u.tri, u.key), kv = slot(v.tri, v.key);
    neighbour[u.tri][ku] = v.tri;
    neighbour[v.tri][kv] = u.tri;
    same_dir[u.tri][ku] = same;
    same_dir[v.tri][kv] = same;
  });

  // flip[t]: whether t's winding must change relative to the seed of its component.
  constexpr std::int8_t kUnset = -1;
  std::vector<std::int8_t> flip(tris.size(), kUnset);
  std::size_t flipped = 0;
  for (std::uint32_t seed = 0; seed < tris.size(); ++seed) {
    if (flip[seed] != kUnset) continue;
    std::vector<std::uint32_t> members{seed};
    flip[seed] = 0;
    std::queue<std::uint32_t> q;
    q.push(seed);
    while (!q.empty()) {
      const std::uint32_t t = q.front();
      q.pop();
      for (int k = 0; k < 3; ++k) {
        const std::uint32_t n = neighbour[t][k];
        // Neighbours agree when they walk the shared edge in opposite directions.
        const std::int8_t want = static_cast<std::int8_t>(flip[t] ^ (same_dir[t][k] ? 1 : 0));
        if (flip[n] == kUnset) {
          flip[n] = want;
          members.push_back(n);
          q.push(n);
        } else if (flip[n] != want) {
          fail(
              {"the surface is non-orientable (like a Möbius strip or Klein bottle), so it has no inside; "
               "export a closed surface that bounds a volume"});
        }
      }
    }
    double volume = 0;
    for (auto t : members) {
      const auto& tri = tris[t];
      const double v = triple(mesh.vertices[tri[0]], mesh.vertices[tri[1]], mesh.vertices[tri[2]]) / 6.0;
      volume += flip[t] ? -v : v;
    }
    const std::int8_t outward = volume < 0 ? 1 : 0;
    for (auto t : members) {
      if ((flip[t] ^ outward) != 0) {
        std::swap(tris[t][1], tris[t][2]);
        ++flipped;
      }
    }
  }
  return flipped;
}

TriangleMesh weld_vertices(const TriangleMesh& mesh, double tol_um) {
  const std::size_t nv = mesh.vertices.size();
  std::vector<std::uint32_t> rep(nv);
  if (!(tol_um > 0)) {
    std::map<std::tuple<double, double, double>, std::uint32_t> seen;
    for (std::uint32_t i = 0; i < nv; ++i) {
      const Vec3& v = mesh.vertices[i];
      auto [it, inserted] = seen.emplace(std::make_tuple(v.x, v.y, v.z), i);
      rep[i] = it->second;
    }
  } else {
    // Uniform hash grid with cell = tol: any partner within tol is in the 27 cells around.
    auto cell = [&](double c) {
      const double q = std::floor(c / tol_um);
      constexpr double kLim = 4e18;
      return static_cast<std::int64_t>(std::clamp(q, -kLim, kLim));
    };
    struct KeyHash {
      std::size_t operator()(const std::array<std::int64_t, 3>& k) const {
        std::uint64_t h = 1469598103934665603ull;
        for (auto v : k) h = (h ^ static_cast<std::uint64_t>(v)) * 1099511628211ull;
        return static_cast<std::size_t>(h);
      }
    };
    std::unordered_map<std::array<std::int64_t, 3>, std::vector<std::uint32_t>, KeyHash> grid;
    const double tol2 = tol_um * tol_um;
    for (std::uint32_t i = 0; i < nv; ++i) {
      const Vec3& v = mesh.vertices[i];
      const std::array<std::int64_t, 3> c{cell(v.x), cell(v.y), cell(v.z)};
      std::uint32_t found = i;
      for (std::int64_t dx = -1; dx <= 1 && found == i; ++dx)
        for (std::int64_t dy = -1; dy <= 1 && found == i; ++dy)
          for (std::int64_t dz = -1; dz <= 1 && found == i; ++dz) {
            auto it = grid.find({c[0] + dx, c[1] + dy, c[2] + dz});
            if (it == grid.end()) continue;
            for (auto j : it->second)
              if (norm2(mesh.vertices[j] - v) <= tol2) {
                found = j;
                break;
              }
          }
      rep[i] = found;
      if (found == i) grid[c].push_back(i);
    }
  }

  TriangleMesh out;
  std::vector<std::uint32_t> new_index(nv, std::numeric_limits<std::uint32_t>::max());
  for (const auto& t : mesh.triangles) {
    if (t[0] >= nv || t[1] >= nv || t[2] >= nv) continue;
    const Tri r{rep[t[0]], rep[t[1]], rep[t[2]]};
    if (r[0] == r[1] || r[1] == r[2] || r[0] == r[2]) continue;
    Tri nt{};
    for (int k = 0; k < 3; ++k) {
      if (new_index[r[k]] == std::numeric_limits<std::uint32_t>::max()) {
        new_index[r[k]] = static_cast<std::uint32_t>(out.vertices.size());
        out.vertices.push_back(mesh.vertices[r[k]]);
      }
      nt[k] = new_index[r[k]];
    }
    out.triangles.push_back(nt);
  }
  return out;
}

bool point_inside(const TriangleMesh& mesh, const Vec3& p) {
  // Ray-crossing parity with exact predicates: each triangle is crossed properly (the
  // ray passes strictly through its interior), missed, or hit degenerately (through an
  // edge or corner, or p lies in its plane), which is recognised exactly and answered
  // by trying the next direction, so the parity never miscounts. Irrational-looking
  // directions make the degenerate case rare.
  static const Vec3 kDirections[] = {
      normalized(Vec3{0.5773502691896258, 0.7071067811865476, 0.4142135623730950}),
      normalized(Vec3{-0.3109, 0.8461, -0.4331}), normalized(Vec3{0.7071, -0.1234, 0.6958}),
      normalized(Vec3{-0.2213, -0.5591, -0.7993}), normalized(Vec3{0.1357, -0.9135, 0.3839})};
  const auto nv = mesh.vertices.size();
  Vec3 lo = p, hi = p;
  for (const auto& v : mesh.vertices) {
    lo = Vec3{std::min(lo.x, v.x), std::min(lo.y, v.y), std::min(lo.z, v.z)};
    hi = Vec3{std::max(hi.x, v.x), std::max(hi.y, v.y), std::max(hi.z, v.z)};
  }
  const double reach = 2 * norm(hi - lo) + 1;  // the far end q is outside every triangle's reach
  for (const Vec3& d : kDirections) {
    const Vec3 q = p + d * reach;
    bool inside = false, degenerate = false;
    for (const auto& t : mesh.triangles) {
      if (t[0] >= nv || t[1] >= nv || t[2] >= nv) continue;
      const Vec3 &a = mesh.vertices[t[0]], &b = mesh.vertices[t[1]], &c = mesh.vertices[t[2]];
      const int op = orient3d(a, b, c, p), oq = orient3d(a, b, c, q);
      if (op * oq > 0) continue;
      if (op == 0 || oq == 0) {
        // p in the triangle's plane (q is too far to be): a hit only if p lies in it.
        if (op == 0 && oq != 0 && segment_meets_triangle(p, p, a, b, c)) degenerate = true;
        if (oq == 0 && op != 0 && segment_meets_triangle(q, q, a, b, c)) degenerate = true;
        if (op == 0 && oq == 0 && segment_meets_triangle(p, q, a, b, c)) degenerate = true;
        continue;
      }
      const int s1 = orient3d(p, q, a, b), s2 = orient3d(p, q, b, c), s3 = orient3d(p, q, c, a);
      if ((s1 > 0 && s2 > 0 && s3 > 0) || (s1 < 0 && s2 < 0 && s3 < 0)) {
        inside = !inside;
      } else if (!((s1 < 0 || s2 < 0 || s3 < 0) && (s1 > 0 || s2 > 0 || s3 > 0))) {
        degenerate = true;  // through an edge or a corner
      }
      if (degenerate) break;
    }
    if (!degenerate) return inside;
  }
  return false;  // on the surface (or every direction grazed an edge)
}

namespace {

/// Triangles having c on exactly one side, wound so the normal points away from c.
std::vector<Tri> oriented_boundary(const Geometry& g, CompartmentId c) {
  std::vector<Tri> out;
  for (std::size_t t = 0; t < g.triangles.size(); ++t) {
    const auto& s = g.triangle_sides[t];
    if ((s[0] == c) == (s[1] == c)) continue;  // not touching c, or c on both sides (internal)
    Tri tri = g.triangles[t];
    if (s[0] == c) std::swap(tri[1], tri[2]);  // c in front: flip so the normal leaves c
    out.push_back(tri);
  }
  return out;
}

}  // namespace

std::vector<std::string> check_compartments_closed(const Geometry& g) {
  std::vector<std::string> problems;
  for (std::size_t c = 0; c < g.compartment_names.size(); ++c) {
    if (c >= g.compartment_bounded.size() || !g.compartment_bounded[c]) continue;
    const std::string who = "compartment '" + g.compartment_names[c] + "'";
    const auto tris = oriented_boundary(g, static_cast<CompartmentId>(c));
    if (tris.empty()) {
      problems.push_back(who +
                         " is marked bounded but no triangle has it on either side; "
                         "give its surfaces this compartment as inside, or remove it");
      continue;
    }
    bool bad_index = false;
    for (const auto& t : tris)
      if (t[0] >= g.vertices.size() || t[1] >= g.vertices.size() || t[2] >= g.vertices.size()) bad_index = true;
    if (bad_index) {
      problems.push_back(who + ": a boundary triangle references a vertex that does not exist (internal error)");
      continue;
    }
    const auto uses = collect_edges(tris, std::vector<bool>(tris.size(), false));
    std::size_t open = 0, over = 0, same = 0;
    Vec3 where_open, where_over, where_same;
    for_each_edge(uses, [&](std::size_t b, std::size_t e) {
      const auto a = static_cast<std::uint32_t>(uses[b].key >> 32);
      const auto z = static_cast<std::uint32_t>(uses[b].key & 0xffffffffu);
      const Vec3 mid = (g.vertices[a] + g.vertices[z]) * 0.5;
      if (e - b == 1) {
        if (open++ == 0) where_open = mid;
      } else if (e - b > 2) {
        if (over++ == 0) where_over = mid;
      } else if (uses[b].forward == uses[b + 1].forward) {
        if (same++ == 0) where_same = mid;
      }
    });
    if (open)
      problems.push_back(who + ": " + plural(open, "boundary edge", "boundary edges") + " (first near " +
                         fmt_point(where_open) +
                         "): its boundary has a gap; make the surfaces around it meet along shared vertices "
                         "and give every wall this compartment on one side");
    if (over)
      problems.push_back(who + ": " + plural(over, "edge", "edges") +
                         " shared by more than two of its boundary triangles (first near " + fmt_point(where_over) +
                         "): surfaces overlap; remove duplicated or intersecting walls");
    if (same)
      problems.push_back(who + ": " + plural(same, "edge", "edges") +
                         " where its walls disagree about which side it is on (first near " + fmt_point(where_same) +
                         "): check the front/back compartments of the triangles there");
  }
  return problems;
}

TriangleMesh extract_surface(const Geometry& g, const std::string& surface) {
  TriangleMesh out;
  const int s = g.find_surface(surface);
  if (s < 0) return out;
  std::vector<std::uint32_t> map(g.vertices.size(), std::numeric_limits<std::uint32_t>::max());
  for (std::size_t t = 0; t < g.triangles.size(); ++t) {
    if (g.triangle_surface[t] != s) continue;
    Tri nt{};
    for (int k = 0; k < 3; ++k) {
      const auto v = g.triangles[t][k];
      if (map[v] == std::numeric_limits<std::uint32_t>::max()) {
        map[v] = static_cast<std::uint32_t>(out.vertices.size());
        out.vertices.push_back(g.vertices[v]);
      }
      nt[k] = map[v];
    }
    out.triangles.push_back(nt);
  }
  return out;
}

double compartment_volume(const Geometry& g, CompartmentId c) {
  double v = 0;
  for (const auto& t : oriented_boundary(g, c)) v += triple(g.vertices[t[0]], g.vertices[t[1]], g.vertices[t[2]]) / 6.0;
  return v;
}

namespace {

std::array<Vec3, 3> corners(const TriangleMesh& mesh, std::uint32_t t) {
  const auto& tri = mesh.triangles[t];
  return {mesh.vertices[tri[0]], mesh.vertices[tri[1]], mesh.vertices[tri[2]]};
}

/// Signed distances of u's corners from the plane of w (µm; rounded).
std::array<double, 3> plane_distances(const std::array<Vec3, 3>& w, const std::array<Vec3, 3>& u) {
  Vec3 n = cross(w[1] - w[0], w[2] - w[0]);
  const double len = norm(n);
  if (len > 0) n = n / len;
  return {dot(u[0] - w[0], n), dot(u[1] - w[0], n), dot(u[2] - w[0], n)};
}

/// How far u reaches through the plane of w on its shallower side: the distance u
/// would have to move to stop crossing it.
double penetration(const std::array<Vec3, 3>& w, const std::array<Vec3, 3>& u) {
  const auto d = plane_distances(w, u);
  const double above = std::max({d[0], d[1], d[2], 0.0}), below = -std::min({d[0], d[1], d[2], 0.0});
  return std::min(above, below);
}

/// Describes a pair already known to meet: kind, a point where they meet, depth. The
/// kind comes from exact predicates; the point and depth are rounded, for reporting.
SelfIntersection describe_meeting(std::uint32_t s_index, std::uint32_t t_index, const std::array<Vec3, 3>& s,
                                  const std::array<Vec3, 3>& t) {
  SelfIntersection m;
  m.triangles[0] = s_index;
  m.triangles[1] = t_index;
  bool coplanar = true;
  for (int k = 0; k < 3; ++k)
    coplanar = coplanar && orient3d(s[0], s[1], s[2], t[k]) == 0 && orient3d(t[0], t[1], t[2], s[k]) == 0;
  // Points where an edge of one meets the other: where it pierces the other's plane, or
  // (coplanar) its ends that lie in the other triangle.
  std::vector<Vec3> points;
  auto gather = [&](const std::array<Vec3, 3>& u, const std::array<Vec3, 3>& w) {
    const auto d = plane_distances(w, u);
    for (int e = 0; e < 3; ++e) {
      const Vec3 &p = u[e], &q = u[(e + 1) % 3];
      if (!segment_meets_triangle(p, q, w[0], w[1], w[2])) continue;
      const double dp = d[e], dq = d[(e + 1) % 3];
      if (!coplanar && dp != dq) {
        points.push_back(p + (q - p) * (dp / (dp - dq)));
      } else {
        if (segment_meets_triangle(p, p, w[0], w[1], w[2])) points.push_back(p);
        if (segment_meets_triangle(q, q, w[0], w[1], w[2])) points.push_back(q);
      }
    }
  };
  gather(s, t);
  gather(t, s);
  if (points.empty()) {  // coplanar edges crossing with no corner inside: report the crossing edges' middle
    for (const auto& p : s) points.push_back(p);
    for (const auto& p : t) points.push_back(p);
  }
  Vec3 sum{};
  for (const auto& p : points) sum += p;
  m.where = sum / static_cast<double>(points.size());
  if (coplanar) {
    m.kind = SelfIntersection::Kind::kCoplanarOverlap;
  } else {
    m.depth_um = std::min(penetration(t, s), penetration(s, t));
    // Passing through means some corner lies strictly on each side of the other plane.
    auto straddles = [](const std::array<Vec3, 3>& w, const std::array<Vec3, 3>& u) {
      bool pos = false, neg = false;
      for (const auto& p : u) {
        const int o = orient3d(w[0], w[1], w[2], p);
        pos = pos || o > 0;
        neg = neg || o < 0;
      }
      return pos && neg;
    };
    m.kind = straddles(t, s) && straddles(s, t) ? SelfIntersection::Kind::kCross : SelfIntersection::Kind::kTouch;
  }
  return m;
}

/// Whether triangles s < t meet where a closed surface must not, given the vertex
/// indices they share (see check_self_intersections).
std::optional<SelfIntersection> intersect_pair(const TriangleMesh& mesh, std::uint32_t s, std::uint32_t t) {
  const auto& ts = mesh.triangles[s];
  const auto& tt = mesh.triangles[t];
  int shared = 0, s_shared[3] = {-1, -1, -1};  // s_shared[k]: corner of t equal to corner k of s
  for (int q = 0; q < 3; ++q)
    for (int w = 0; w < 3; ++w)
      if (ts[q] == tt[w]) {
        s_shared[q] = w;
        ++shared;
      }
  const auto a = corners(mesh, s), b = corners(mesh, t);
  bool meet = false;
  if (shared == 0) {
    meet = triangles_meet(a, b);
  } else if (shared == 1) {
    // Their intersection is convex and contains the shared corner v; if it holds any
    // other point, walking from v through it one leaves the intersection on an edge
    // opposite v of one triangle that lies in the other. So they meet beyond v exactly
    // when the edge opposite v in one meets the other triangle.
    int qs = 0;
    while (s_shared[qs] < 0) ++qs;
    const int qt = s_shared[qs];
    meet = segment_meets_triangle(a[(qs + 1) % 3], a[(qs + 2) % 3], b[0], b[1], b[2]) ||
           segment_meets_triangle(b[(qt + 1) % 3], b[(qt + 2) % 3], a[0], a[1], a[2]);
  } else if (shared == 2) {
    // Not coplanar: the planes meet in the shared edge's line, which each triangle meets
    // only in that edge. Coplanar: they overlap when folded onto the same side of it.
    int free_s = 0;
    while (s_shared[free_s] >= 0) ++free_s;
    int free_t = 0;
    while (free_t == s_shared[0] || free_t == s_shared[1] || free_t == s_shared[2]) ++free_t;
    const Vec3& u = a[(free_s + 1) % 3];
    const Vec3& w = a[(free_s + 2) % 3];
    if (orient3d(u, w, a[free_s], b[free_t]) == 0)
      for (int drop = 0; drop < 3 && !meet; ++drop) {
        // A projection that is not one-to-one on the plane flattens it to a line and
        // gives 0 for both; any non-zero pair comes from a faithful projection.
        const int i = (drop + 1) % 3, j = (drop + 2) % 3;
        meet = orient2d(u, w, a[free_s], i, j) * orient2d(u, w, b[free_t], i, j) > 0;
      }
  } else {
    meet = true;  // the same three corners twice
  }
  if (!meet) return std::nullopt;
  auto m = describe_meeting(s, t, a, b);
  return m;
}

}  // namespace

TriangleMesh intersecting_triangles(const TriangleMesh& mesh, const SelfIntersectionReport& r) {
  TriangleMesh out;
  for (const auto& pair : r.found)
    for (const std::uint32_t t : pair.triangles) {
      const auto base = static_cast<std::uint32_t>(out.vertices.size());
      for (const auto& v : corners(mesh, t)) out.vertices.push_back(v);
      out.triangles.push_back({base, base + 1, base + 2});
    }
  return out;
}

std::string SelfIntersection::describe() const {
  std::ostringstream out;
  out << "triangles " << triangles[0] << " and " << triangles[1];
  switch (kind) {
    case Kind::kCross:
      out << " cross near (" << where.x << ", " << where.y << ", " << where.z << ") µm, one reaching " << depth_um
          << " µm through the other's plane";
      break;
    case Kind::kTouch:
      out << " touch at (" << where.x << ", " << where.y << ", " << where.z
          << ") µm (0 µm apart: they meet on an edge or corner without passing through)";
      break;
    case Kind::kCoplanarOverlap:
      out << " lie in one plane and overlap near (" << where.x << ", " << where.y << ", " << where.z << ") µm";
      break;
  }
  return out.str();
}

SelfIntersectionReport check_self_intersections(const TriangleMesh& mesh, std::size_t limit) {
  SelfIntersectionReport r;
  const std::size_t n = mesh.triangles.size();
  const std::size_t nv = mesh.vertices.size();
  if (n < 2 || limit == 0) return r;
  // Bounding boxes of the valid, finite triangles.
  std::vector<Vec3> lo(n), hi(n);
  std::vector<std::uint32_t> valid;
  valid.reserve(n);
  Vec3 all_lo{1e300, 1e300, 1e300}, all_hi{-1e300, -1e300, -1e300};
  double extent_sum = 0;
  for (std::size_t t = 0; t < n; ++t) {
    const auto& tri = mesh.triangles[t];
    if (tri[0] >= nv || tri[1] >= nv || tri[2] >= nv) continue;
    const Vec3 &a = mesh.vertices[tri[0]], &b = mesh.vertices[tri[1]], &c = mesh.vertices[tri[2]];
    lo[t] = {std::min({a.x, b.x, c.x}), std::min({a.y, b.y, c.y}), std::min({a.z, b.z, c.z})};
    hi[t] = {std::max({a.x, b.x, c.x}), std::max({a.y, b.y, c.y}), std::max({a.z, b.z, c.z})};
    const Vec3 e = hi[t] - lo[t];
    if (!(std::isfinite(e.x) && std::isfinite(e.y) && std::isfinite(e.z))) continue;
    valid.push_back(static_cast<std::uint32_t>(t));
    all_lo = {std::min(all_lo.x, lo[t].x), std::min(all_lo.y, lo[t].y), std::min(all_lo.z, lo[t].z)};
    all_hi = {std::max(all_hi.x, hi[t].x), std::max(all_hi.y, hi[t].y), std::max(all_hi.z, hi[t].z)};
    extent_sum += std::max({e.x, e.y, e.z});
  }
  if (valid.size() < 2) return r;
  const Vec3 span = all_hi - all_lo;
  const double max_span = std::max({span.x, span.y, span.z});
  if (!(std::isfinite(max_span) && max_span > 0)) return r;
  // Cells about twice the mean triangle size (at most 128 per axis); coarsened until
  // the triangle-cell entries stay below a fixed budget.
  double h = std::max(2.0 * extent_sum / static_cast<double>(valid.size()), max_span / 128.0);
  auto cell_of = [&](double x, double o) { return static_cast<std::int64_t>(std::floor((x - o) / h)); };
  std::vector<std::pair<std::uint64_t, std::uint32_t>> entries;
  for (;;) {
    std::uint64_t total = 0;
    for (std::uint32_t t : valid) {
      total += static_cast<std::uint64_t>(cell_of(hi[t].x, all_lo.x) - cell_of(lo[t].x, all_lo.x) + 1) *
               static_cast<std::uint64_t>(cell_of(hi[t].y, all_lo.y) - cell_of(lo[t].y, all_lo.y) + 1) *
               static_cast<std::uint64_t>(cell_of(hi[t].z, all_lo.z) - cell_of(lo[t].z, all_lo.z) + 1);
    }
    if (total <= 16 * valid.size() + 4096) break;
    h *= 2;
  }
  const std::uint64_t dim = static_cast<std::uint64_t>(cell_of(all_hi.x + max_span, all_lo.x)) + 2;
  auto key = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return (static_cast<std::uint64_t>(i) * dim + static_cast<std::uint64_t>(j)) * dim + static_cast<std::uint64_t>(k);
  };
  for (std::uint32_t t : valid)
    for (auto i = cell_of(lo[t].x, all_lo.x); i <= cell_of(hi[t].x, all_lo.x); ++i)
      for (auto j = cell_of(lo[t].y, all_lo.y); j <= cell_of(hi[t].y, all_lo.y); ++j)
        for (auto k = cell_of(lo[t].z, all_lo.z); k <= cell_of(hi[t].z, all_lo.z); ++k)
          entries.push_back({key(i, j, k), t});
  std::sort(entries.begin(), entries.end());
  for (std::size_t b = 0; b < entries.size();) {
    std::size_t e = b;
    while (e < entries.size() && entries[e].first == entries[b].first) ++e;
    const std::uint64_t cell = entries[b].first;
    for (std::size_t x = b; x < e; ++x)
      for (std::size_t y = x + 1; y < e; ++y) {
        const std::uint32_t s = entries[x].second, t = entries[y].second;
        const Vec3 olo{std::max(lo[s].x, lo[t].x), std::max(lo[s].y, lo[t].y), std::max(lo[s].z, lo[t].z)};
        const Vec3 ohi{std::min(hi[s].x, hi[t].x), std::min(hi[s].y, hi[t].y), std::min(hi[s].z, hi[t].z)};
        if (olo.x > ohi.x || olo.y > ohi.y || olo.z > ohi.z) continue;
        // Test each pair once: in the cell holding the low corner of the boxes' overlap.
        if (key(cell_of(olo.x, all_lo.x), cell_of(olo.y, all_lo.y), cell_of(olo.z, all_lo.z)) != cell) continue;
        if (auto hit = intersect_pair(mesh, std::min(s, t), std::max(s, t))) {
          r.found.push_back(*hit);
          if (++r.pairs >= limit) return r;
        }
      }
    b = e;
  }
  return r;
}

std::optional<ThinGap> find_thin_gap(const TriangleMesh& mesh, double min_gap_um) {
  const auto& V = mesh.vertices;
  const auto& T = mesh.triangles;
  if (T.empty() || !(min_gap_um > 0)) return std::nullopt;
  // Cells of about twice the mean edge: a triangle's box (grown by the gap) covers a
  // few cells, and a vertex looks only in its own cell.
  double edge_sum = 0;
  for (const auto& t : T)
    for (int k = 0; k < 3; ++k) edge_sum += std::sqrt(norm2(V[t[k]] - V[t[(k + 1) % 3]]));
  const double h = std::max(2 * edge_sum / (3.0 * static_cast<double>(T.size())), 4 * min_gap_um);
  auto cell = [&](double x) { return static_cast<std::int64_t>(std::floor(x / h)); };
  auto key = [](std::int64_t i, std::int64_t j, std::int64_t k) {
    return (static_cast<std::uint64_t>(i) * 73856093u) ^ (static_cast<std::uint64_t>(j) * 19349663u) ^
           (static_cast<std::uint64_t>(k) * 83492791u);
  };
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> grid;
  for (std::uint32_t t = 0; t < T.size(); ++t) {
    Vec3 lo = V[T[t][0]], hi = lo;
    for (int k = 1; k < 3; ++k) {
      const Vec3& p = V[T[t][k]];
      lo = {std::min(lo.x, p.x), std::min(lo.y, p.y), std::min(lo.z, p.z)};
      hi = {std::max(hi.x, p.x), std::max(hi.y, p.y), std::max(hi.z, p.z)};
    }
    const std::int64_t i0 = cell(lo.x - min_gap_um), i1 = cell(hi.x + min_gap_um);
    const std::int64_t j0 = cell(lo.y - min_gap_um), j1 = cell(hi.y + min_gap_um);
    const std::int64_t k0 = cell(lo.z - min_gap_um), k1 = cell(hi.z + min_gap_um);
    // A huge triangle among small ones would cover millions of cells; such meshes are
    // checked by the nearest cells of their vertices only (bounded work, not exact).
    if ((i1 - i0 + 1) * (j1 - j0 + 1) * (k1 - k0 + 1) > 4096) continue;
    for (std::int64_t i = i0; i <= i1; ++i)
      for (std::int64_t j = j0; j <= j1; ++j)
        for (std::int64_t k = k0; k <= k1; ++k) grid[key(i, j, k)].push_back(t);
  }
  // One-ring of every vertex: the vertices it shares a triangle with (and itself).
  std::vector<std::vector<std::uint32_t>> ring(V.size());
  for (const auto& t : T)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) ring[t[a]].push_back(t[b]);
  for (auto& r : ring) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  std::vector<Vec3> unit_normal(T.size());
  std::vector<std::vector<std::uint32_t>> incident(V.size());
  for (std::uint32_t t = 0; t < T.size(); ++t) {
    const Vec3 n = cross(V[T[t][1]] - V[T[t][0]], V[T[t][2]] - V[T[t][0]]);
    const double len = std::sqrt(norm2(n));
    unit_normal[t] = len > 0 ? n / len : Vec3{0, 0, 0};
    for (int k = 0; k < 3; ++k) incident[T[t][k]].push_back(t);
  }
  std::optional<ThinGap> best;
  const double gap2 = min_gap_um * min_gap_um;
  for (std::uint32_t v = 0; v < V.size(); ++v) {
    if (ring[v].empty()) continue;  // not used by any triangle
    const auto it = grid.find(key(cell(V[v].x), cell(V[v].y), cell(V[v].z)));
    if (it == grid.end()) continue;
    for (std::uint32_t t : it->second) {
      const auto& tri = T[t];
      if (tri[0] == v || tri[1] == v || tri[2] == v) continue;
      // A triangle one edge away is near v along the mesh anyway; it closes a gap
      // only if it faces one of v's own triangles (a slab whose two faces share the
      // short edges of its rim), not if it continues the surface.
      const bool adjacent = std::binary_search(ring[v].begin(), ring[v].end(), tri[0]) ||
                            std::binary_search(ring[v].begin(), ring[v].end(), tri[1]) ||
                            std::binary_search(ring[v].begin(), ring[v].end(), tri[2]);
      if (adjacent) {
        bool facing = false;
        for (std::uint32_t u : incident[v]) facing = facing || dot(unit_normal[u], unit_normal[t]) < -0.9;
        if (!facing) continue;
      }
      const double d2 = point_triangle_distance2(V[v], V[tri[0]], V[tri[1]], V[tri[2]]);
      if (d2 < gap2 && (!best || d2 < best->distance_um * best->distance_um)) best = ThinGap{v, t, std::sqrt(d2)};
    }
  }
  return best;
}

}  // namespace spinesim
