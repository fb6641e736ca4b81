// prototype
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "support/agent_helpers.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

std::string box_scene(const std::string& agent_file, const std::vector<std::string>& types, int n, double t_end,
                      std::uint64_t seed, const std::map<std::string, double>& clamps, double v_mV) {
  std::ostringstream s;
  s.precision(17);
  s << "name: \"agent_test\"\n"
    << "simulation { dt_s: 1e-4 t_end_s: " << t_end << " seed: " << seed << " }\n"
    << "geometry { box { } }\n"
    << "agent_file: \"" << agent_file << "\"\n"
    << "membrane_potential { holding_mV: " << v_mV << " }\n";
  for (const auto& t : types) {
    s << "species { name: \"A_" << t << "\" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: \"" << t << "\" }\n";
    s << "placement { species: \"A_" << t << "\" count: " << n << " region: \"box_wall\" }\n";
  }
  for (const auto& [name, c] : clamps) s << "clamp { species: \"" << name << "\" constant_uM: " << c << " }\n";
  return s.str();
}

double concentration_for(const std::string& ligand) {
  static const std::map<std::string, double> table{{"glutamate", 10},  {"Mg", 100},        {"ketamine", 10},
                                                   {"memantine", 10},  {"abp688", 0.002},  {"BDNF", 0.001},
                                                   {"CaM_Ca2N", 0.03}, {"eEF2K_active", 0.006}};
  auto it = table.find(ligand);
  return it == table.end() ? 1.0 : it->second;
}

}  // namespace

TEST_CASE("proto generic" * doctest::test_suite("stat")) {
  TempDir dir;
  for (const auto& entry : std::filesystem::directory_iterator(agents_dir())) {
    if (entry.path().extension() != ".pbtxt") continue;
    const std::string file = entry.path().string();
    // Pass 1: type and ligand names.
    LoadedScene probe = load_scene_text(dir, "probe.pbtxt", box_scene(file, {}, 0, 1, 1, {}, -70));
    std::vector<std::string> types;
    std::map<std::string, double> clamps;
    for (const auto& t : probe.model.agent_types) {
      types.push_back(t.name);
      for (const auto& tr : t.transitions)
        if (!tr.ligand.empty()) clamps[tr.ligand] = concentration_for(tr.ligand);
    }
    const int n = 1000;
    LoadedScene pre = load_scene_text(dir, "pre.pbtxt", box_scene(file, types, n, 1, 1, clamps, -70));
    for (std::size_t ti = 0; ti < pre.model.agent_types.size(); ++ti) {
      const AgentTypeDef& type = pre.model.agent_types[ti];
      const RateMatrix q = rate_matrix(pre.model, type, 0);
      std::vector<double> p0(type.states.size(), 0.0);
      p0[0] = 1;
      std::vector<double> exits(type.states.size());
      for (int i = 0; i < q.n; ++i) exits[i] = -q.at(i, i);
      auto rate_of = [&](const std::vector<double>& p) {
        double r = 0;
        for (int i = 0; i < q.n; ++i) r += p[i] * exits[i];
        return r;
      };
      double t = 0.5 / exits[0], events = 0;
      std::vector<double> prev = propagate(q, p0, t);
      events += n * t * (exits[0] + rate_of(prev)) / 2;
      while (true) {
        std::vector<double> next = propagate(q, prev, t);
        const double ev = n * t * (rate_of(prev) + rate_of(next)) / 2;
        double diff = 0;
        for (int i = 0; i < q.n; ++i) diff += std::fabs(next[i] - prev[i]);
        if (events + ev > 3e6) break;
        events += ev;
        t *= 2;
        prev = next;
        if (diff < 1e-3) break;
      }
      std::printf("%s: Lambda %.3g, q0 %.3g, t_max %.4g s, expected events %.3g\n", type.name.c_str(), q.max_exit(),
                  exits[0], t, events);
      for (int i = 0; i < q.n; ++i) std::printf("  %-10s %.4f\n", type.states[i].name.c_str(), prev[i]);
    }
  }
}
