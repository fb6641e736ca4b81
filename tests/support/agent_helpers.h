// Helpers for statistical tests of agents (tests/stat/agent_test.cpp): scenes
// written to a temporary directory and loaded with the real scene loader, an
// observer that samples agent states, and the exact solution of an agent type's
// own rate matrix (uniformization in double precision, stationary distribution).
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/simulator.h"
#include "io/scene_loader.h"
#include "model/model.h"

namespace spinesim::testing {

/// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = std::filesystem::temp_directory_path() / ("spinesim_agent_test_" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) return;
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Writes `text` as `name` in `dir` and loads it with the real scene loader.
inline LoadedScene load_scene_text(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::filesystem::path file = dir.path() / name;
  {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  return load_scene(file);
}

/// The repository's agents/ directory.
inline std::filesystem::path agents_dir() {
  return std::filesystem::path(SPINESIM_SOURCE_DIR) / "agents";
}

/// Calls a function at every output time of a run.
class SamplingObserver final : public Observer {
 public:
  explicit SamplingObserver(std::function<void(double, const Simulator&)> f) : f_(std::move(f)) {}
  void observe(double t, const Simulator& sim) override { f_(t, sim); }

 private:
  std::function<void(double, const Simulator&)> f_;
};

/// Dense generator matrix (row i: rates out of state i; diagonal = −exit rate).
struct RateMatrix {
  int n = 0;
  std::vector<double> q;  ///< row-major n×n
  double at(int i, int j) const { return q[static_cast<std::size_t>(i * n + j)]; }
  double& at(int i, int j) { return q[static_cast<std::size_t>(i * n + j)]; }
  double max_exit() const {
    double m = 0;
    for (int i = 0; i < n; ++i) m = std::max(m, -at(i, i));
    return m;
  }
};

/// Rate of one transition at time t with the engine's semantics (Simulator::transition_rate),
/// recomputed here independently: k = rate × [clamp](t) × exp(voltage_per_mV · V(t));
/// a ligand that is neither clamped nor a particle (kAbsent) gives 0.
inline double clamped_rate(const Model& m, const AgentTransitionDef& tr, double t) {
  double k = tr.rate;
  switch (tr.ligand_source) {
    case LigandSource::kNone:
      break;
    case LigandSource::kClamp:
      k *= m.clamps[static_cast<std::size_t>(tr.ligand_index)].profile.at(t);
      break;
    case LigandSource::kParticle:
    case LigandSource::kAbsent:
      return 0;
  }
  if (tr.voltage_per_mV != 0) k *= std::exp(tr.voltage_per_mV * m.membrane_potential_mV.at(t));
  return k;
}

/// The agent type's rate matrix at the clamps and potential of time t.
inline RateMatrix rate_matrix(const Model& m, const AgentTypeDef& type, double t) {
  RateMatrix r;
  r.n = static_cast<int>(type.states.size());
  r.q.assign(static_cast<std::size_t>(r.n * r.n), 0.0);
  for (const AgentTransitionDef& tr : type.transitions) {
    const double k = clamped_rate(m, tr, t);
    r.at(tr.from, tr.to) += k;
    r.at(tr.from, tr.from) -= k;
  }
  return r;
}

/// p ← p·exp(Q·t) by uniformization: exp(Qt) = Σ_k Pois(k; Λt)·(I + Q/Λ)^k, with Λ the
/// largest exit rate. t is cut into chunks with Λ·h ≤ 400 so the Poisson weights
/// (≥ e^−400 ≈ 1e-174) never underflow; each chunk's series is summed until the
/// Poisson tail, bounded by the geometric series w_k·(k+1)/(k+1−Λh) once k > Λh, is
/// below 1e-16. All terms are non-negative (no cancellation).
inline std::vector<double> propagate(const RateMatrix& r, std::vector<double> p, double t) {
  const double lambda = r.max_exit();
  if (lambda <= 0 || t <= 0) return p;
  const int n = r.n;
  const auto chunks = static_cast<long>(std::ceil(lambda * t / 400.0));
  const double h = t / static_cast<double>(chunks);
  const double lh = lambda * h;
  // Sparse (I + Q/Λ): off-diagonal edges and the diagonal.
  struct Edge {
    int from, to;
    double w;
  };
  std::vector<Edge> edges;
  std::vector<double> diag(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    diag[static_cast<std::size_t>(i)] = 1.0 + r.at(i, i) / lambda;
    for (int j = 0; j < n; ++j)
      if (i != j && r.at(i, j) != 0) edges.push_back({i, j, r.at(i, j) / lambda});
  }
  std::vector<double> v, next(static_cast<std::size_t>(n)), acc(static_cast<std::size_t>(n));
  for (long c = 0; c < chunks; ++c) {
    v = p;
    double w = std::exp(-lh);
    for (int i = 0; i < n; ++i) acc[static_cast<std::size_t>(i)] = w * v[static_cast<std::size_t>(i)];
    for (int k = 1; !(k > lh + 1 && w * (k + 1) / (k + 1 - lh) < 1e-16); ++k) {
      for (int i = 0; i < n; ++i)
        next[static_cast<std::size_t>(i)] = v[static_cast<std::size_t>(i)] * diag[static_cast<std::size_t>(i)];
      for (const Edge& e : edges) next[static_cast<std::size_t>(e.to)] += v[static_cast<std::size_t>(e.from)] * e.w;
      v.swap(next);
      w *= lh / k;
      for (int i = 0; i < n; ++i) acc[static_cast<std::size_t>(i)] += w * v[static_cast<std::size_t>(i)];
    }
    p = acc;
  }
  return p;
}

/// Stationary distribution π (πQ = 0, Σπ = 1) by Gaussian elimination with partial
/// pivoting; requires a single closed communicating class.
inline std::vector<double> stationary(const RateMatrix& r) {
  const int n = r.n;
  // Solve Qᵀπ = 0 with the last equation replaced by Σπ = 1.
  std::vector<double> a(static_cast<std::size_t>(n * (n + 1)), 0.0);
  auto A = [&](int i, int j) -> double& { return a[static_cast<std::size_t>(i * (n + 1) + j)]; };
  for (int i = 0; i < n - 1; ++i)
    for (int j = 0; j < n; ++j) A(i, j) = r.at(j, i);
  for (int j = 0; j < n; ++j) A(n - 1, j) = 1.0;
  A(n - 1, n) = 1.0;
  for (int col = 0; col < n; ++col) {
    int piv = col;
    for (int i = col + 1; i < n; ++i)
      if (std::fabs(A(i, col)) > std::fabs(A(piv, col))) piv = i;
    if (std::fabs(A(piv, col)) < 1e-300) throw std::runtime_error("singular generator");
    if (piv != col)
      for (int j = 0; j <= n; ++j) std::swap(A(piv, j), A(col, j));
    for (int i = 0; i < n; ++i) {
      if (i == col) continue;
      const double f = A(i, col) / A(col, col);
      if (f == 0) continue;
      for (int j = col; j <= n; ++j) A(i, j) -= f * A(col, j);
    }
  }
  std::vector<double> pi(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) pi[static_cast<std::size_t>(i)] = A(i, n) / A(i, i);
  return pi;
}

}  // namespace spinesim::testing
