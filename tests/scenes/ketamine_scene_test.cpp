// The shipped ketamine scene, shortened for CI: 5 simulated minutes with the
// ketamine infusion moved to t = 0 (so the drug acts inside the window), written
// through the real counts writer and read back. Checks that counts.csv is
// well-formed and that every conservation law of the scheme holds at every row:
// the pathway (scenes/pathways/spine_pathway.pbtxt) only moves molecules between
// the forms of each protein, and AMPARs only between the PSD (agents) and the pool.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "io/counts_writer.h"
#include "io/ensemble_stats.h"
#include "io/scene_loader.h"
#include "support/temp_dir.h"

namespace spinesim {
namespace {

/// Runs a check at every output time.
class CallbackObserver final : public Observer {
 public:
  explicit CallbackObserver(std::function<void()> f) : f_(std::move(f)) {}
  void observe(double, const Simulator&) override { f_(); }

 private:
  std::function<void()> f_;
};

struct Table {
  CountsTable t;
  std::map<std::string, std::size_t> col;
  double at(std::size_t row, const std::string& name) const {
    const auto it = col.find(name);
    REQUIRE_MESSAGE(it != col.end(), "counts.csv has no column " << name);
    return t.rows[row][it->second];
  }
  double sum(std::size_t row, std::initializer_list<const char*> names) const {
    double s = 0;
    for (const char* n : names) s += at(row, n);
    return s;
  }
  /// Sum of every column whose name starts with `prefix` (agents of a species by region).
  double sum_prefix(std::size_t row, const std::string& prefix) const {
    double s = 0;
    for (const auto& [name, i] : col)
      if (name.rfind(prefix, 0) == 0) s += t.rows[row][i];
    return s;
  }
};

}  // namespace

TEST_CASE("ketamine scene, 5 min with the drug from t = 0: well-formed counts, conservation at every row") {
  testing::TempDir dir("spinesim_ketamine");
  SceneOverrides ov;
  ov.t_end_s = 300;
  ov.assignments.push_back(parse_field_assignment("clamp[2].infusion.start_s=0"));
  ov.assignments.push_back(parse_field_assignment("clamp[2].infusion.duration_s=120"));
  // Minis every ~10 s instead of ~100 s, so several fall inside the window.
  ov.assignments.push_back(parse_field_assignment("release[0].poisson_rate_hz=0.1"));
  const LoadedScene scene =
      load_scene(std::filesystem::path(SPINESIM_SOURCE_DIR) / "scenes" / "ketamine_spine.pbtxt", ov);
  const Model& m = scene.model;
  REQUIRE(m.well_mixed.species.size() > 20);
  Simulator sim(m, make_tbb_stepper(2));
  CountsWriter counts(m, dir.path / "counts.csv");
  sim.add_observer(&counts, m.counts_interval_s);
  sim.run();
  counts.flush();

  std::ifstream in(dir.path / "counts.csv");
  std::stringstream text;
  text << in.rdbuf();
  Table tab;
  tab.t = parse_counts_csv(text.str(), "counts.csv");  // throws on a ragged or non-numeric row
  for (std::size_t i = 0; i < tab.t.columns.size(); ++i) tab.col[tab.t.columns[i]] = i;
  // One row per 10 s from 0 to 300 s inclusive.
  REQUIRE(tab.t.times.size() == 31);
  for (std::size_t r = 0; r < tab.t.times.size(); ++r) CHECK(tab.t.times[r] == doctest::Approx(10.0 * r));

  const std::size_t last = tab.t.times.size() - 1;
  // Totals at t = 0 (from the pathway's µM × 602.214 × 0.03 µm³, rounded).
  const double eef2 = tab.sum(0, {"eEF2", "eEF2_P", "eEF2K_eEF2", "PP2A_eEF2_P"});
  const double eef2k = tab.sum(0, {"eEF2K", "eEF2K_CaM", "eEF2K_CaM_P", "eEF2K_P", "eEF2K_eEF2"});
  const double cam = tab.sum(0, {"CaM", "CaM_Ca1N", "CaM_Ca2N", "eEF2K_CaM", "eEF2K_CaM_P", "eEF2K_eEF2"});
  const double pp2a = tab.sum(0, {"PP2A", "PP2A_eEF2_P"});
  CHECK(eef2 == 9);   // 0.5 µM
  CHECK(eef2k == 1);  // 0.06 µM
  CHECK(cam == 542);  // 30 µM
  CHECK(pp2a == 2);   // 0.12 µM
  auto trkb_units = [&](std::size_t r) {
    return tab.sum(r, {"TrkB", "TrkB_BDNF"}) + 2 * tab.sum(r, {"TrkB_dimer", "TrkB_P", "TrkB_int"});
  };
  auto ampar_total = [&](std::size_t r) { return tab.sum_prefix(r, "AMPAR@") + tab.at(r, "AMPAR_int"); };
  const double trkb = trkb_units(0), ampar = ampar_total(0);
  CHECK(trkb == 5);
  CHECK(ampar == 80);
  double previous_ca = 0;
  for (std::size_t r = 0; r <= last; ++r) {
    CAPTURE(tab.t.times[r]);
    CHECK(tab.sum(r, {"eEF2", "eEF2_P", "eEF2K_eEF2", "PP2A_eEF2_P"}) == eef2);
    CHECK(tab.sum(r, {"eEF2K", "eEF2K_CaM", "eEF2K_CaM_P", "eEF2K_P", "eEF2K_eEF2"}) == eef2k);
    CHECK(tab.sum(r, {"CaM", "CaM_Ca1N", "CaM_Ca2N", "eEF2K_CaM", "eEF2K_CaM_P", "eEF2K_eEF2"}) == cam);
    CHECK(tab.sum(r, {"PP2A", "PP2A_eEF2_P"}) == pp2a);
    CHECK(tab.sum(r, {"CBP", "CaCBP"}) == tab.sum(0, {"CBP", "CaCBP"}));
    CHECK(tab.sum(r, {"PMCA", "CaPMCA"}) == tab.sum(0, {"PMCA", "CaPMCA"}));
    CHECK(tab.sum(r, {"NCX", "CaNCX"}) == tab.sum(0, {"NCX", "CaNCX"}));
    CHECK(trkb_units(r) == trkb);
    CHECK(ampar_total(r) == ampar);
    CHECK(tab.sum_prefix(r, "NMDAR@") == 20);
    CHECK(tab.sum_prefix(r, "mGluR5@") == 20);
    // Every BDNF made is either still a precursor or was released.
    CHECK(tab.at(r, "BDNF_made") == tab.at(r, "proBDNF") + tab.at(r, "BDNF_released"));
    // Cumulative Ca2+ through NMDARs never decreases; counts are never negative.
    CHECK(tab.at(r, "NMDAR.ca_ions") >= previous_ca);
    previous_ca = tab.at(r, "NMDAR.ca_ions");
    for (double v : tab.t.rows[r]) CHECK(std::isfinite(v));
  }
  // The drug is present and reaches the pores: the clamp column follows the profile
  // and blocked states are occupied at the end (the infusion peaked at 0.6 µM at 120 s).
  CHECK(tab.at(last, "clamp:ketamine_uM") > 0.5);
  CHECK(tab.at(last, "NMDAR.ca_ions") > 0);
  CHECK(sim.stats().pool_reactions > 1000000);
}

TEST_CASE("ketamine scene with the optional mTOR and MeCP2 modules switched on: they load and conserve") {
  testing::TempDir dir("spinesim_ketamine_modules");
  const std::filesystem::path src(SPINESIM_SOURCE_DIR);
  std::ifstream in(src / "scenes" / "ketamine_spine.pbtxt");
  std::stringstream text;
  text << in.rdbuf();
  std::string scene = text.str();
  // The scene's own switch: uncomment the two module lines; paths made absolute so
  // the copy loads from the temporary directory.
  for (const char* module : {"mtor_module", "mecp2_module"}) {
    const std::string line = std::string("# well_mixed_file: \"pathways/") + module + ".pbtxt\"";
    const auto at = scene.find(line);
    REQUIRE_MESSAGE(at != std::string::npos, "scenes/ketamine_spine.pbtxt no longer has the line " << line);
    scene.erase(at, 2);
  }
  for (const std::string from : {"\"../agents/", "\"pathways/"}) {
    const std::string to =
        "\"" + (from == "\"pathways/" ? (src / "scenes" / "pathways").string() : (src / "agents").string()) + "/";
    for (auto at = scene.find(from); at != std::string::npos; at = scene.find(from, at + to.size()))
      scene.replace(at, from.size(), to);
  }
  std::ofstream(dir.path / "scene.pbtxt") << scene;
  SceneOverrides ov;
  ov.t_end_s = 120;
  ov.assignments.push_back(parse_field_assignment("clamp[2].infusion.start_s=0"));
  const LoadedScene loaded = load_scene(dir.path / "scene.pbtxt", ov);
  const WellMixedModel& wm = loaded.model.well_mixed;
  const int s6k = wm.find_species("S6K"), mecp2 = wm.find_species("MeCP2_pS421");
  REQUIRE(s6k >= 0);
  REQUIRE(mecp2 >= 0);
  Simulator sim(loaded.model, make_tbb_stepper(1));
  auto total = [&](std::initializer_list<const char*> names) {
    std::int64_t n = 0;
    for (const char* name : names) n += sim.pool_count(wm.find_species(name));
    return n;
  };
  CallbackObserver check([&] {
    CHECK(total({"S6K", "S6K_active", "S6K_eEF2K"}) == 2);  // 0.1 µM × 18.07
    CHECK(total({"MeCP2", "MeCP2_pS421"}) == 18);           // 1 µM × 18.07
    CHECK(total({"eEF2K", "eEF2K_CaM", "eEF2K_CaM_P", "eEF2K_P", "eEF2K_eEF2", "S6K_eEF2K", "eEF2K_S6P"}) == 1);
  });
  sim.add_observer(&check, 10);
  sim.run();
}

}  // namespace spinesim
