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
#include <queue>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/error.h"
#include "geometry/intersect.h"

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
  // Irrational-ish components: a ray through a vertex or along an edge of a mesh
  // built on a regular grid would need a coincidence of these ratios.
  const Vec3 d = normalized(Vec3{0.5773502691896258, 0.7071067811865476, 0.4142135623730950});
  bool inside = false;
  const auto nv = mesh.vertices.size();
  for (const auto& t : mesh.triangles) {
    if (t[0] >= nv || t[1] >= nv || t[2] >= nv) continue;
    // Möller–Trumbore, counting hits with t > 0.
    const Vec3& a = mesh.vertices[t[0]];
    const Vec3 e1 = mesh.vertices[t[1]] - a, e2 = mesh.vertices[t[2]] - a;
    const Vec3 pv = cross(d, e2);
    const double det = dot(e1, pv);
    if (det == 0) continue;
    const double inv = 1.0 / det;
    const Vec3 tv = p - a;
    const double u = dot(tv, pv) * inv;
    if (u < 0 || u > 1) continue;
    const Vec3 qv = cross(tv, e1);
    const double v = dot(d, qv) * inv;
    if (v < 0 || u + v > 1) continue;
    if (dot(e2, qv) * inv > 0) inside = !inside;
  }
  return inside;
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
  auto packed = [&](std::uint32_t t) {
    const auto& tri = mesh.triangles[t];
    const Vec3& a = mesh.vertices[tri[0]];
    return std::array<Vec3, 3>{a, mesh.vertices[tri[1]] - a, mesh.vertices[tri[2]] - a};
  };
  // True when an edge of triangle s passes through triangle t; `at` gets the point.
  auto edge_crosses = [&](std::uint32_t s, std::uint32_t t, Vec3& at) {
    const auto tri = packed(t);
    for (int e = 0; e < 3; ++e) {
      const Vec3& p = mesh.vertices[mesh.triangles[s][e]];
      const Vec3 d = mesh.vertices[mesh.triangles[s][(e + 1) % 3]] - p;
      double u = 0;
      if (segment_hits_triangle(tri, p, d, 0.0, u)) {
        at = p + d * u;
        return true;
      }
    }
    return false;
  };
  for (std::size_t b = 0; b < entries.size();) {
    std::size_t e = b;
    while (e < entries.size() && entries[e].first == entries[b].first) ++e;
    const std::uint64_t cell = entries[b].first;
    for (std::size_t x = b; x < e; ++x)
      for (std::size_t y = x + 1; y < e; ++y) {
        const std::uint32_t s = entries[x].second, t = entries[y].second;
        const auto& ts = mesh.triangles[s];
        const auto& tt = mesh.triangles[t];
        bool shared = false;
        for (int q = 0; q < 3; ++q)
          for (int w = 0; w < 3; ++w) shared = shared || ts[q] == tt[w];
        if (shared) continue;
        const Vec3 olo{std::max(lo[s].x, lo[t].x), std::max(lo[s].y, lo[t].y), std::max(lo[s].z, lo[t].z)};
        const Vec3 ohi{std::min(hi[s].x, hi[t].x), std::min(hi[s].y, hi[t].y), std::min(hi[s].z, hi[t].z)};
        if (olo.x > ohi.x || olo.y > ohi.y || olo.z > ohi.z) continue;
        // Test each pair once: in the cell holding the low corner of the boxes' overlap.
        if (key(cell_of(olo.x, all_lo.x), cell_of(olo.y, all_lo.y), cell_of(olo.z, all_lo.z)) != cell) continue;
        Vec3 at{};
        if (edge_crosses(s, t, at) || edge_crosses(t, s, at)) {
          if (r.pairs == 0) {
            r.first[0] = std::min(s, t);
            r.first[1] = std::max(s, t);
            r.where = at;
          }
          if (++r.pairs >= limit) return r;
        }
      }
    b = e;
  }
  return r;
}

}  // namespace spinesim
