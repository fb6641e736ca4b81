// Agents against theory. Every scheme in agents/ against the exact solution of its
// own rate matrix; the NMDAR's Mg2+ block, ketamine and memantine block and the
// Gideons et al. 2014 rest finding; binding of a diffusing ligand by collision.
//
// The scenes are written to a temporary directory and loaded with the real scene
// loader (agents/*.pbtxt compiled exactly as `spinesim run` compiles them). Agents
// sit still (D = 0) on the wall of a 1 µm box and every ligand is clamped, so the
// runs are purely event driven and agents are independent: each agent is one
// independent draw of the scheme's continuous-time Markov chain. The theory is
// that chain's own rate matrix Q, built from the compiled AgentTypeDef with the
// engine's rate semantics (k = rate × [clamp] × exp(voltage_per_mV·V)), solved in
// double precision (uniformization for P(0)·exp(Qt), Gaussian elimination for the
// stationary distribution π).
//
// Ratio estimates R = Σa/Σb over agents (a, b: per-agent sums over sample times,
// e.g. samples open-and-unblocked and samples open) have the delta-method standard
// error SE = sqrt(Σ_j (a_j − R·b_j)² / (N(N−1))) / mean(b): agents are independent,
// so this SE includes every correlation between one agent's samples in time.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "support/agent_helpers.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

/// A 1 µm box with `n` immobile agents of each type on its wall, the given clamps
/// (constant, µM) and holding potential. `extra` is appended verbatim.
std::string box_scene(const std::string& agent_file, const std::vector<std::string>& types, int n, double t_end,
                      std::uint64_t seed, const std::map<std::string, double>& clamps, double v_mV,
                      const std::string& extra = "") {
  std::ostringstream s;
  s.precision(17);
  s << "name: \"agent_test\"\n"
    << "simulation { dt_s: 1e-4 t_end_s: " << t_end << " seed: " << seed << " }\n"
    << "geometry { box { } }\n"
    << "agent_file: \"" << agent_file << "\"\n"
    << "membrane_potential { holding_mV: " << v_mV << " }\n"
    << "output { counts_interval_s: " << t_end << " frame_interval_s: 0 render_png: false }\n";
  for (const auto& t : types) {
    s << "species { name: \"A_" << t << "\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"" << t << "\" }\n";
    s << "placement { species: \"A_" << t << "\" count: " << n << " region: \"box_wall\" }\n";
  }
  for (const auto& [name, c] : clamps) s << "clamp { species: \"" << name << "\" constant_uM: " << c << " }\n";
  s << extra;
  return s.str();
}

struct Ratio {
  double value = 0, se = 0;
};

/// R = Σa/Σb with its delta-method SE over independent agents (see the file header).
Ratio ratio_estimate(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double sa = 0, sb = 0;
  for (std::size_t j = 0; j < a.size(); ++j) {
    sa += a[j];
    sb += b[j];
  }
  Ratio r;
  r.value = sa / sb;
  double ss = 0;
  for (std::size_t j = 0; j < a.size(); ++j) ss += (a[j] - r.value * b[j]) * (a[j] - r.value * b[j]);
  r.se = std::sqrt(ss / (n * (n - 1))) / (sb / n);
  return r;
}

/// Runs `runs` independent copies of `model` (seeds seed, seed+1, …; agents are
/// independent, so R runs of n agents are one sample of R·n agents) and calls
/// `sample(global agent index, state)` for every agent at t = first, first + every, …
/// ≤ t_end. Smaller runs keep each event's cost low (the scheduler's per-event work
/// grows with the number of molecules when nothing diffuses).
void sample_runs(Model model, int runs, std::uint64_t seed, double first, double every,
                 const std::function<void(std::size_t, int)>& sample) {
  std::size_t base = 0;
  for (int r = 0; r < runs; ++r) {
    model.seed = seed + static_cast<std::uint64_t>(r);
    Simulator sim(model, std::make_unique<SerialStepper>());
    SamplingObserver obs([&](double t, const Simulator& s) {
      if (t < first * (1 - 1e-12)) return;
      const auto& m = s.world().membrane;
      for (std::size_t a = 0; a < m.size(); ++a) sample(base + a, m.state[a]);
    });
    sim.add_observer(&obs, every);
    sim.run();
    base += sim.world().membrane.size();
  }
}

/// Ligand concentrations (µM) of the generic test, chosen so the ligand's
/// transitions matter within the simulated time; see that test.
double generic_concentration(const std::string& ligand) {
  static const std::map<std::string, double> table{
      {"glutamate", 30}, {"Mg", 100},     {"ketamine", 10},   {"memantine", 10},
      {"abp688", 0.002}, {"BDNF", 0.001}, {"CaM_Ca2N", 0.03}, {"eEF2K_active", 0.006}};
  const auto it = table.find(ligand);
  return it == table.end() ? 1.0 : it->second;
}

double elapsed_s(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const std::string kNmdarFile = (agents_dir() / "nmdar.pbtxt").string();

/// Indices of the NMDAR's states whose names satisfy `pred`.
std::vector<int> states_where(const AgentTypeDef& type, const std::function<bool(const std::string&)>& pred) {
  std::vector<int> out;
  for (std::size_t i = 0; i < type.states.size(); ++i)
    if (pred(type.states[i].name)) out.push_back(static_cast<int>(i));
  return out;
}

double sum_of(const std::vector<double>& p, const std::vector<int>& idx) {
  double s = 0;
  for (int i : idx) s += p[static_cast<std::size_t>(i)];
  return s;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST_CASE("every scheme in agents/ follows P(t) = P(0) exp(Qt) of its own rate matrix" * doctest::test_suite("stat")) {
  // Stochastic test. Theory: N independent agents, all starting in the type's first
  // state, so the count in state i at time t is Binomial(N, p_i(t)) exactly, with
  // p(t) = e_0·exp(Q·t) (Q from the compiled type, all ligands clamped, V = −70 mV).
  // Sample: N = 1000 agents per type, seed 101; 7 times, log-spaced from
  // min(0.5/q_0, t_max/1000) (q_0: exit rate of the first state; the fast part) to
  // t_max, where t_max is the first doubling of 0.5/q_0 at which p(t) is within 0.01
  // (L1) of π, or the last before the expected number of events (N·∫Σp_i·q_i dt)
  // would exceed 2·10⁶ (the slow part, as far as run time allows).
  // Tolerance per state and time: |n_i − N·p_i| ≤ 4·sqrt(N·p_i·(1 − p_i)) + 1, i.e.
  // 4 SE plus one count for the discreteness of small counts (e.g. N·p_i = 0.1
  // allows n ≤ 2: P(Poisson(0.1) ≥ 3) = 1.5e-4; N·p_i = 1 allows n ≤ 5: P = 6e-4,
  // the worst case; for N·p_i ≳ 20 the normal 6e-5). With ~300 comparisons over all
  // files, P(any false failure) is a few % for an arbitrary seed; the seed is fixed,
  // so the outcome is deterministic.
  // Clamps (µM): glutamate 30 (≈ 10× the NMDAR EC50; AMPARs reach the doubly
  // liganded and desensitized states, yet C0 stays common enough to internalize); Mg 100 (Mg/K_Mg(−70) ≈ 3: blocked and
  // unblocked open NMDARs both common; 1 mM would slow drug entry 10-fold); ketamine 10, memantine 10 (≈ 10× IC50, so
  // drug states fill within the event budget); abp688 0.002, BDNF 0.001 (≈ K_d);
  // CaM_Ca2N 0.03 (≈ half-activation of eEF2K); eEF2K_active 0.006 (p-eEF2 ≈ 80 %);
  // any other ligand 1.
  const int n = 1000;
  const double budget_events = 2e6;
  const std::uint64_t seed = 101;
  TempDir dir;
  int files = 0, types_tested = 0;
  for (const auto& entry : std::filesystem::directory_iterator(agents_dir())) {
    if (entry.path().extension() != ".pbtxt") continue;
    ++files;
    const std::string file = entry.path().string();
    // The file's type and ligand names, from a scene without agents.
    const LoadedScene probe = load_scene_text(dir, "probe.pbtxt", box_scene(file, {}, 0, 1, seed, {}, -70));
    std::vector<std::string> names;
    std::map<std::string, double> clamps;
    for (const auto& t : probe.model.agent_types) {
      names.push_back(t.name);
      for (const auto& tr : t.transitions)
        if (!tr.ligand.empty()) clamps[tr.ligand] = generic_concentration(tr.ligand);
    }
    const LoadedScene scene = load_scene_text(dir, "scene.pbtxt", box_scene(file, names, n, 1, seed, clamps, -70));
    for (std::size_t ti = 0; ti < scene.model.agent_types.size(); ++ti) {
      const AgentTypeDef& type = scene.model.agent_types[ti];
      ++types_tested;
      for (const auto& tr : type.transitions) REQUIRE(tr.ligand_source != LigandSource::kAbsent);
      const RateMatrix q = rate_matrix(scene.model, type, 0);
      const int ns = q.n;
      std::vector<double> p0(static_cast<std::size_t>(ns), 0.0);
      p0[0] = 1;
      auto event_rate = [&](const std::vector<double>& p) {
        double r = 0;
        for (int i = 0; i < ns; ++i) r -= p[static_cast<std::size_t>(i)] * q.at(i, i);
        return r;
      };
      std::vector<double> pi;
      try {
        pi = stationary(q);
      } catch (const std::exception&) {
        pi.clear();  // several closed classes: stop on the event budget alone
      }
      const double q0 = -q.at(0, 0);
      REQUIRE(q0 > 0);
      double t_max = 0.5 / q0, events = 0;
      std::vector<double> p = propagate(q, p0, t_max);
      events += n * t_max * (q0 + event_rate(p)) / 2;
      for (;;) {
        double dist = 0;
        for (int i = 0; i < ns && !pi.empty(); ++i)
          dist += std::fabs(p[static_cast<std::size_t>(i)] - pi[static_cast<std::size_t>(i)]);
        if (!pi.empty() && dist < 0.01) break;
        const std::vector<double> next = propagate(q, p, t_max);
        const double more = n * t_max * (event_rate(p) + event_rate(next)) / 2;
        if (events + more > budget_events) break;
        events += more;
        t_max *= 2;
        p = next;
      }
      const double t_min = std::min(0.5 / q0, t_max / 1000);
      std::vector<double> times;
      for (int k = 0; k < 7; ++k) times.push_back(t_min * std::pow(t_max / t_min, k / 6.0));
      times.back() = t_max;

      // Run this type alone.
      Model model = scene.model;
      for (auto& pl : model.placements)
        if (model.species[static_cast<std::size_t>(pl.species)].agent_type != static_cast<int>(ti)) pl.count = 0;
      model.t_end_s = t_max;
      Simulator sim(model, std::make_unique<SerialStepper>());
      std::vector<std::vector<int>> counts(times.size(), std::vector<int>(static_cast<std::size_t>(ns), 0));
      std::vector<std::unique_ptr<SamplingObserver>> observers;
      for (std::size_t k = 0; k < times.size(); ++k) {
        // An observer with interval t_k fires first at t_k (then at multiples; ignored).
        observers.push_back(std::make_unique<SamplingObserver>([&, k](double t, const Simulator& s) {
          if (std::fabs(t - times[k]) > 1e-9 * times[k]) return;
          const auto& m = s.world().membrane;
          for (std::size_t a = 0; a < m.size(); ++a) ++counts[k][m.state[a]];
        }));
        sim.add_observer(observers.back().get(), times[k]);
      }
      const auto w0 = std::chrono::steady_clock::now();
      sim.run();
      std::printf("[agent P(t)] %s (%s): N %d, t %.3g .. %.4g s, %llu events in %.2f s\n", type.name.c_str(),
                  entry.path().filename().string().c_str(), n, t_min, t_max,
                  static_cast<unsigned long long>(sim.stats().events), elapsed_s(w0));

      std::vector<double> pt = p0;
      double t_prev = 0, worst_z = 0;
      std::string worst;
      std::vector<double> peak(static_cast<std::size_t>(ns), 0.0);
      for (std::size_t k = 0; k < times.size(); ++k) {
        pt = propagate(q, pt, times[k] - t_prev);
        t_prev = times[k];
        int total = 0;
        for (int i = 0; i < ns; ++i) {
          const double pi_t = pt[static_cast<std::size_t>(i)];
          const int c = counts[k][static_cast<std::size_t>(i)];
          total += c;
          peak[static_cast<std::size_t>(i)] = std::max(peak[static_cast<std::size_t>(i)], n * pi_t);
          const double se = std::sqrt(n * pi_t * (1 - pi_t));
          const double tol = 4 * se + 1;
          const double dev = std::fabs(c - n * pi_t);
          if (dev / tol > worst_z) {
            worst_z = dev / tol;
            worst = type.states[static_cast<std::size_t>(i)].name + " at t = " + std::to_string(times[k]);
          }
          INFO("stochastic test: " << type.name << " state " << type.states[static_cast<std::size_t>(i)].name
                                   << " at t = " << times[k] << " s: " << c << " of " << n << " vs N·p = " << n * pi_t
                                   << " ± " << se << " (tolerance " << tol << ")");
          CHECK(dev <= tol);
        }
        CHECK(total == n);  // every observation found all agents
      }
      std::string unvisited;
      for (int i = 0; i < ns; ++i)
        if (peak[static_cast<std::size_t>(i)] < 1) unvisited += " " + type.states[static_cast<std::size_t>(i)].name;
      std::printf(
          "[agent P(t)] %s: largest |n − N·p| / tolerance %.2f (%s); states with expected count < 1 at all times:%s\n",
          type.name.c_str(), worst_z, worst.c_str(), unvisited.empty() ? " none" : unvisited.c_str());
    }
  }
  CHECK(files >= 6);
  CHECK(types_tested >= 6);
}

TEST_CASE("NMDAR Mg2+ block: Woodhull form of the scheme (Kampa 2004); Jahr-Stevens 1990 shown" *
          doctest::test_suite("stat")) {
  // Stochastic test. Theory: with glutamate saturating (1000 µM) and 1 mM Mg2+, the
  // open channels' Mg2+ site is in equilibrium: blocked-open states are the open
  // states times [Mg]/K_Mg(V) (detailed balance; blocked channels gate like
  // unblocked ones), so the unblocked fraction of open channels is
  //   U(V) = 1 / (1 + [Mg]/K_Mg(V)),  K_Mg(V) = k_unblock(V)/k_block(V)
  //        = 5400·e^(V/47) / (0.61·e^(−V/17)) µM  (the file's Kampa et al. 2004 rates).
  // Checked exactly (to 1e-9) against the stationary distribution of the full
  // 28-state matrix, then the simulation against U(V). Jahr & Stevens 1990,
  // U_JS = 1/(1 + [Mg]/3.57 mM·e^(−0.062·V)), is printed alongside; the scheme is not
  // built on it, so only the agreement the parameter page's table (docs/science/parameters.md §4b) shows is asserted:
  // U within a factor 2 of U_JS at each V (the sheet: 1.4 vs 2.4 %, 6.8 vs 8.0 %,
  // 26 vs 23 %, 64 vs 51 % at −80, −60, −40, −20 mV).
  // Sample: N = 500 agents (2 runs of 250, seeds 201.. per V), all starting in C0;
  // warm-up 0.2 s (|p(0.2 s) − π|₁ < 1e-3, checked), then every 0.5 ms to 1.2 s
  // (2000 samples). Estimator: R = Σ(samples open, unblocked) / Σ(samples open),
  // delta-method SE over agents (file header). Tolerance 4 SE.
  const double mg = 1000, glu = 1000, warmup = 0.2, t_end = 1.2, every = 5e-4;
  const int runs = 2, n_per_run = 250;
  TempDir dir;
  std::printf("[NMDAR Mg block] 1 mM Mg2+, saturating glutamate; unblocked fraction of open channels\n");
  std::printf("[NMDAR Mg block]   V (mV)   simulated          scheme (Kampa)   Jahr-Stevens\n");
  std::uint64_t seed = 201;
  for (double v : {-80.0, -60.0, -40.0, -20.0}) {
    const auto w0 = std::chrono::steady_clock::now();
    const LoadedScene scene = load_scene_text(
        dir, "mg.pbtxt", box_scene(kNmdarFile, {"NMDAR"}, n_per_run, t_end, seed, {{"glutamate", glu}, {"Mg", mg}}, v));
    const Model& model = scene.model;
    const AgentTypeDef& type = model.agent_types[0];
    const std::vector<int> open = states_where(type, [](const std::string& s) { return s == "O1" || s == "O2"; });
    const std::vector<int> open_mg =
        states_where(type, [](const std::string& s) { return s == "O1_Mg" || s == "O2_Mg"; });
    REQUIRE(open.size() == 2);
    REQUIRE(open_mg.size() == 2);
    // K_Mg(V) from the file's own O1 <-> O1_Mg transitions.
    double k_block = 0, k_unblock = 0;
    for (const auto& tr : type.transitions) {
      if (tr.from == open[0] && tr.to == open_mg[0]) k_block = clamped_rate(model, tr, 0) / mg;
      if (tr.from == open_mg[0] && tr.to == open[0]) k_unblock = clamped_rate(model, tr, 0);
    }
    REQUIRE(k_block > 0);
    const double kampa_k = 5400 * std::exp(v / 47) / (0.61 * std::exp(-v / 17));
    CHECK(k_unblock / k_block == doctest::Approx(kampa_k).epsilon(1e-9));
    const double u_theory = 1 / (1 + mg * k_block / k_unblock);
    const RateMatrix q = rate_matrix(model, type, 0);
    const std::vector<double> pi = stationary(q);
    const double u_pi = sum_of(pi, open) / (sum_of(pi, open) + sum_of(pi, open_mg));
    CHECK(u_pi == doctest::Approx(u_theory).epsilon(1e-9));
    std::vector<double> p0(type.states.size(), 0.0);
    p0[0] = 1;
    const std::vector<double> pw = propagate(q, p0, warmup);
    double dist = 0;
    for (std::size_t i = 0; i < pi.size(); ++i) dist += std::fabs(pw[i] - pi[i]);
    REQUIRE(dist < 1e-3);

    std::vector<double> a(static_cast<std::size_t>(runs * n_per_run), 0.0), b(a.size(), 0.0);
    std::vector<std::uint8_t> is_open(type.states.size(), 0), is_blocked(type.states.size(), 0);
    for (int i : open) is_open[static_cast<std::size_t>(i)] = 1;
    for (int i : open_mg) is_blocked[static_cast<std::size_t>(i)] = 1;
    sample_runs(model, runs, seed, warmup, every, [&](std::size_t j, int s) {
      a[j] += is_open[static_cast<std::size_t>(s)];
      b[j] += is_open[static_cast<std::size_t>(s)] + is_blocked[static_cast<std::size_t>(s)];
    });
    const Ratio r = ratio_estimate(a, b);
    const double u_js = 1 / (1 + mg / 3570 * std::exp(-0.062 * v));
    std::printf("[NMDAR Mg block]   %5.0f    %6.3f ± %5.3f %%   %6.3f %%         %6.3f %%   (%.2f s)\n", v,
                100 * r.value, 100 * r.se, 100 * u_theory, 100 * u_js, elapsed_s(w0));
    INFO("stochastic test: V = " << v << " mV: unblocked fraction " << r.value << " ± " << r.se << " vs " << u_theory
                                 << " (Jahr-Stevens " << u_js << ")");
    CHECK(std::fabs(r.value - u_theory) < 4 * r.se);
    CHECK(std::max(r.value / u_js, u_js / r.value) < 2);
    seed += runs;
  }
}

namespace {
/// Expected value of a ratio-of-sums estimator Σ_t num(t) / Σ_t den(t) over sample
/// times first, first + every, … ≤ t_end, from p(t) = p0·exp(Qt).
double expected_ratio(const RateMatrix& q, std::vector<double> p, double first, double every, double t_end,
                      const std::vector<int>& num, const std::vector<int>& den) {
  p = propagate(q, p, first);
  double sn = 0, sd = 0;
  for (double t = first; t <= t_end * (1 + 1e-12); t += every) {
    sn += sum_of(p, num);
    sd += sum_of(p, den);
    p = propagate(q, p, every);
  }
  return sn / sd;
}
}  // namespace

TEST_CASE("NMDAR ketamine and memantine: steady-state block of open channels at the Gilling 2009 IC50" *
          doctest::test_suite("stat")) {
  // Stochastic test. Theory: at saturating glutamate (1000 µM), Mg2+-free, −70 mV,
  // the fraction of open channels holding the drug, B = Σπ(O1_D, O2_D)/Σπ(O1, O2,
  // O1_D, O2_D), is 50 % at the drug's IC50: ketamine 0.71 µM (Gilling et al. 2009),
  // memantine 1.0 µM (Gilling 2009: ~1 µM) — the numbers agents/nmdar.pbtxt was tuned
  // to. For ketamine B = [ket]/([ket] + K_d(−70)) with K_d(−70) = koff(−70)/kon(−70)
  // from the file; memantine's one-way untrapping branch breaks detailed balance, so
  // its B comes from the stationary distribution π of the full matrix. Checked
  // exactly: |B_π − 0.5| < 0.01 (the file's tuning), and the simulation against the
  // scheme's own expectation over the sampling window (from p(t) = e_C0·exp(Qt),
  // which also includes what is left of the onset) at 4 SE; the window is chosen
  // late enough that this expectation is within 0.5 SE of B_π (checked), so the
  // simulation measures the steady state.
  // Sample: N = 400 agents (2 runs of 200) per drug, seeds 301.., all in C0 at t = 0;
  // samples every 20 ms from `first` to `t_end` (ketamine: 12..22 s, onset
  // τ ≈ 3.3 s at 0.71 µM; memantine: 6..16 s, τ ≈ 1.6 s at 1 µM). Estimator: ratio
  // of sums over agents, delta-method SE (file header). Tolerance 4 SE.
  struct Drug {
    const char* name;
    const char* suffix;
    double ic50_uM, first, t_end;
  };
  const Drug drugs[] = {{"ketamine", "_Ket", 0.71, 12, 22}, {"memantine", "_Mem", 1.0, 6, 16}};
  const int runs = 2, n_per_run = 200;
  const double every = 0.02;
  TempDir dir;
  std::uint64_t seed = 301;
  for (const Drug& d : drugs) {
    const auto w0 = std::chrono::steady_clock::now();
    const LoadedScene scene = load_scene_text(dir, "drug.pbtxt",
                                              box_scene(kNmdarFile, {"NMDAR"}, n_per_run, d.t_end, seed,
                                                        {{"glutamate", 1000}, {"Mg", 0}, {d.name, d.ic50_uM}}, -70));
    const Model& model = scene.model;
    const AgentTypeDef& type = model.agent_types[0];
    const std::string suffix = d.suffix;
    const std::vector<int> open = states_where(type, [](const std::string& s) { return s == "O1" || s == "O2"; });
    const std::vector<int> blocked =
        states_where(type, [&](const std::string& s) { return s == "O1" + suffix || s == "O2" + suffix; });
    std::vector<int> both = open;
    both.insert(both.end(), blocked.begin(), blocked.end());
    REQUIRE(open.size() == 2);
    REQUIRE(blocked.size() == 2);
    const RateMatrix q = rate_matrix(model, type, 0);
    const std::vector<double> pi = stationary(q);
    const double b_pi = sum_of(pi, blocked) / sum_of(pi, both);
    std::vector<double> p0(type.states.size(), 0.0);
    p0[0] = 1;
    const double b_window = expected_ratio(q, p0, d.first, every, d.t_end, blocked, both);

    std::vector<double> a(static_cast<std::size_t>(runs * n_per_run), 0.0), b(a.size(), 0.0);
    std::vector<std::uint8_t> in_open(type.states.size(), 0), in_blocked(type.states.size(), 0);
    for (int i : open) in_open[static_cast<std::size_t>(i)] = 1;
    for (int i : blocked) in_blocked[static_cast<std::size_t>(i)] = 1;
    sample_runs(model, runs, seed, d.first, every, [&](std::size_t j, int s) {
      a[j] += in_blocked[static_cast<std::size_t>(s)];
      b[j] += in_open[static_cast<std::size_t>(s)] + in_blocked[static_cast<std::size_t>(s)];
    });
    const Ratio r = ratio_estimate(a, b);
    std::printf(
        "[NMDAR %s] %.2f uM, Mg-free, -70 mV: blocked fraction of open channels %.2f ± %.2f %% (window "
        "expectation %.2f %%, steady state %.2f %%, target 50 %%) (%.2f s)\n",
        d.name, d.ic50_uM, 100 * r.value, 100 * r.se, 100 * b_window, 100 * b_pi, elapsed_s(w0));
    CHECK(std::fabs(b_pi - 0.5) < 0.01);
    CHECK(std::fabs(b_window - b_pi) < 0.5 * r.se);
    INFO("stochastic test: " << d.name << " block " << r.value << " ± " << r.se << " vs " << b_window);
    CHECK(std::fabs(r.value - b_window) < 4 * r.se);
    seed += runs;
  }
}

TEST_CASE("resting NMDARs in 1 mM Mg2+ with minis: ketamine blocks far more than memantine (Gideons 2014)" *
          doctest::test_suite("stat")) {
  // Stochastic test of the qualitative finding of Gideons et al. 2014: at rest
  // (−70 mV, 1 mM Mg2+) with spontaneous release, ketamine blocks NMDARs far more than
  // memantine at equal nominal potency. Nothing in the scheme says so directly; it
  // has to emerge from trapping (ketamine stays in closed channels, memantine leaves
  // with the last glutamate in q = 18.7 % of deactivations) and from Mg2+ competing
  // for the open pore (97 % of open time Mg2+-blocked at −70 mV).
  // Minis: glutamate clamped at 1 mM for 1 ms (a cleft transient), every 200 ms (5 Hz)
  // from 50 ms, no glutamate in between; measured: fraction of NMDARs with the drug
  // in the pore (any of its 7 states) at T = 20 s, all starting in C0.
  // Drugs at equal nominal potency, each at 10× its Mg-free IC50 (ketamine 7.1 µM,
  // memantine 10 µM): at 1× the effect is the same (exact, checked below: 1.1 % vs
  // 0.13 %) but ~100 ketamine bindings would need 10× the run time to resolve.
  // Theory: the exact p(T) through the pulse train (Q constant between steps).
  // Sample: N = 1000 agents per drug (5 runs of 200, seeds 401..), each a
  // Binomial(N, p) draw; tolerance for each drug |n − N·p| ≤ 4·sqrt(N·p·(1 − p)) + 1.
  // Margin: with p_K ≈ 0.106 and p_M ≈ 0.013, SE of f_K − f_M is
  // sqrt((p_K(1 − p_K) + p_M(1 − p_M))/N) ≈ 0.010, the expected difference ≈ 9 SE;
  // asserted: f_K − f_M > 4 SE (resolved) and f_K > 3·f_M ("far more").
  const double v = -70, mg = 1000, f_hz = 5, first_pulse = 0.05, pulse = 1e-3, glu_pulse = 1000, t_end = 20;
  const int runs = 5, n_per_run = 200, n = runs * n_per_run;
  std::ostringstream steps;
  steps.precision(17);
  steps << "clamp { species: \"glutamate\" steps { initial_uM: 0";
  int pulses = 0;
  for (double t = first_pulse; t + pulse < t_end; t = first_pulse + ++pulses / f_hz)
    steps << " time_s: " << t << " uM: " << glu_pulse << " time_s: " << t + pulse << " uM: 0";
  steps << " } }\n";
  struct Drug {
    const char* name;
    const char* suffix;
    double ic50_uM;
  };
  const Drug drugs[] = {{"ketamine", "_Ket", 0.71}, {"memantine", "_Mem", 1.0}};
  TempDir dir;
  auto scene_for = [&](const Drug& d, double multiple, std::uint64_t seed) {
    return load_scene_text(dir, "rest.pbtxt",
                           box_scene(kNmdarFile, {"NMDAR"}, n_per_run, t_end, seed,
                                     {{"Mg", mg}, {d.name, multiple * d.ic50_uM}}, v, steps.str()));
  };
  // Exact drug-bound fraction at t_end through the pulse train.
  auto exact = [&](const Model& model, const std::vector<int>& bound) {
    const AgentTypeDef& type = model.agent_types[0];
    std::vector<double> p(type.states.size(), 0.0);
    p[0] = 1;
    std::vector<double> cuts{0};
    for (const ClampDef& c : model.clamps) cuts.insert(cuts.end(), c.profile.times.begin(), c.profile.times.end());
    std::sort(cuts.begin(), cuts.end());
    cuts.push_back(t_end);
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
      if (cuts[i + 1] > cuts[i]) p = propagate(rate_matrix(model, type, cuts[i]), p, cuts[i + 1] - cuts[i]);
    return sum_of(p, bound);
  };
  std::uint64_t seed = 401;
  double frac[2], theory[2], theory_1x[2];
  for (int k = 0; k < 2; ++k) {
    const Drug& d = drugs[k];
    const auto w0 = std::chrono::steady_clock::now();
    const LoadedScene scene = scene_for(d, 10, seed);
    const Model& model = scene.model;
    const AgentTypeDef& type = model.agent_types[0];
    const std::string suffix = d.suffix;
    const std::vector<int> bound = states_where(type, [&](const std::string& s) { return has_suffix(s, suffix); });
    REQUIRE(bound.size() == 7);
    theory[k] = exact(model, bound);
    theory_1x[k] = exact(scene_for(d, 1, seed).model, bound);
    int count = 0, total = 0;
    std::vector<std::uint8_t> is_bound(type.states.size(), 0);
    for (int i : bound) is_bound[static_cast<std::size_t>(i)] = 1;
    sample_runs(model, runs, seed, t_end, t_end, [&](std::size_t, int s) {
      count += is_bound[static_cast<std::size_t>(s)];
      ++total;
    });
    REQUIRE(total == n);
    frac[k] = static_cast<double>(count) / n;
    std::printf(
        "[NMDAR at rest] %-9s %5.2f uM (10x IC50): drug-bound after %g s of 5 Hz minis: %5.2f %% (%d of %d), "
        "scheme %5.2f %%; at 1x IC50 the scheme gives %.3f %% (%.2f s)\n",
        d.name, 10 * d.ic50_uM, t_end, 100 * frac[k], count, n, 100 * theory[k], 100 * theory_1x[k], elapsed_s(w0));
    const double se = std::sqrt(n * theory[k] * (1 - theory[k]));
    INFO("stochastic test: " << d.name << ": " << count << " of " << n << " bound vs N·p = " << n * theory[k] << " ± "
                             << se);
    CHECK(std::fabs(count - n * theory[k]) <= 4 * se + 1);
    seed += runs;
  }
  const double se_diff =
      std::sqrt((theory[0] * (1 - theory[0]) + theory[1] * (1 - theory[1])) / static_cast<double>(n));
  std::printf("[NMDAR at rest] ketamine - memantine = %.2f %% (%.1f SE); ratio %.1f (scheme %.1f; at 1x IC50 %.1f)\n",
              100 * (frac[0] - frac[1]), (frac[0] - frac[1]) / se_diff, frac[0] / std::max(frac[1], 1e-9),
              theory[0] / theory[1], theory_1x[0] / theory_1x[1]);
  INFO("stochastic test: ketamine " << frac[0] << " vs memantine " << frac[1] << ", SE of the difference " << se_diff);
  CHECK(frac[0] - frac[1] > 4 * se_diff);
  CHECK(frac[0] > 3 * frac[1]);
  CHECK(theory_1x[0] > 5 * theory_1x[1]);  // exact: the same finding at each drug's IC50
}

TEST_CASE("collision binding: membrane receptors bind a diffusing ligand at kon, 1 - exp(-kon c T)" *
          doctest::test_suite("stat")) {
  // Stochastic test of the per-hit binding probability of a volume ligand that
  // meets a receptor's capture disc: p = kon·sqrt(π·dt/D)/(π·r²) (rebuild_capture_index).
  // Theory: a Brownian step of a molecule at uniform concentration c crosses a
  // plane with frequency c·sqrt(D·dt/π) per unit area per step (the mean of the
  // positive part of N(0, 2D·dt)), so a disc of area π·r² binds at
  // p·c·π·r²·sqrt(D/(π·dt)) = kon·c per unit time, and the bound fraction of
  // receptors R + L → RL after T is 1 − exp(−kon·c·T). The ligand bound is removed,
  // so the closed-system mass-action solution (a = ligand, b = receptors,
  // k = kon/V): bound = a·b·(e^((a−b)kT) − 1)/(a·e^((a−b)kT) − b) is asserted; it
  // differs from 1 − exp(−kon·c₀·T) by the 1 % depletion (both printed).
  // Geometry: two unit cubes sharing the square x = 1 ("partition", front side =
  // the right cube); N_R = 1000 receptors (R --glutamate, kon = 10 µM⁻¹s⁻¹--> RL)
  // on the partition, immobile, capture radius r = 0.01 µm; 60000 glutamate
  // uniform in the right cube (c₀ = 99.6 µM), D = 200 µm²/s, dt = 2 µs (step SD
  // 28 nm per axis): p = kon·sqrt(π·dt/D)/(π·r²)
  //   = (0.016605 µm³/s)·(1.7725e-4 s/µm)/(3.1416e-4 µm²) = 9.37e-3.
  // T = 1 ms (500 steps; kon·c₀·T = 0.996). Seed 501. The bound count is Binomial(N_R, f)
  // (receptors compete for ligand only through the 1 % depletion); tolerance
  // |n − N_R·f| ≤ 4·sqrt(N_R·f·(1 − f)) (±0.061 on f ≈ 0.63, i.e. ±16 % on kon).
  const double d_glu = 200, dt = 2e-6, r_capture = 0.01, kon = 10, t_end = 1e-3;
  const int n_receptors = 1000, n_glutamate = 60000;
  const Model m = collision_model(d_glu, dt, r_capture, kon, t_end, 501, n_receptors, n_glutamate);

  const double kon_um3 = kon / 602.214076;
  const double p_hit = kon_um3 * std::sqrt(kPi * dt / d_glu) / (kPi * r_capture * r_capture);
  const double volume = 1.0;
  const double c0_uM = n_glutamate / volume / 602.214076;
  const double a = n_glutamate, b = n_receptors, k = kon_um3 / volume;
  const double e = std::exp((a - b) * k * t_end);
  const double f_theory = a * (e - 1) / (a * e - b);  // bound / b
  const double f_naive = 1 - std::exp(-kon * c0_uM * t_end);

  const auto w0 = std::chrono::steady_clock::now();
  Simulator sim(m, std::make_unique<SerialStepper>());
  int bound = 0, total = 0;
  SamplingObserver obs([&](double t, const Simulator& s) {
    if (t < t_end) return;
    const auto& mem = s.world().membrane;
    for (std::size_t i = 0; i < mem.size(); ++i) {
      ++total;
      bound += mem.state[i] == 1;
    }
  });
  sim.add_observer(&obs, t_end);
  sim.run();
  REQUIRE(total == n_receptors);
  const double f = static_cast<double>(bound) / n_receptors;
  const double se = std::sqrt(f_theory * (1 - f_theory) / n_receptors);
  std::printf(
      "[collision binding] D %g um2/s, dt %g s, r %g um, kon %g /uM/s, c0 %.1f uM: p per hit %.3e; "
      "bound after %g ms %.3f ± %.3f vs mass action %.3f (1 - exp(-kon c0 T) = %.3f); "
      "%llu captures, %zu glutamate left (%.2f s)\n",
      d_glu, dt, r_capture, kon, c0_uM, p_hit, 1e3 * t_end, f, se, f_theory, f_naive,
      static_cast<unsigned long long>(sim.stats().captures), sim.world().volume.size(), elapsed_s(w0));
  CHECK(sim.stats().captures == static_cast<std::uint64_t>(bound));
  CHECK(sim.world().volume.size() == static_cast<std::size_t>(n_glutamate - bound));
  INFO("stochastic test: bound fraction " << f << " vs " << f_theory << " ± " << se);
  CHECK(std::fabs(f - f_theory) <= 4 * se);
}
