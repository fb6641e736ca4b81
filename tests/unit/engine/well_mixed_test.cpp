// Well-mixed pools: what the loader accepts and rejects (compile_well_mixed),
// parameters and their overrides, µM → molecule counts, and the engine's
// reproducibility promises for pools: a checkpointed and restored run continues
// bit-identically, and the thread count does not change the pool trajectory.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "engine/parallel/tbb_stepper.h"
#include "engine/pool_ssa.h"
#include "io/checkpoint.h"
#include "support/agent_helpers.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {

const char* kBox =
    "simulation { t_end_s: 0.1 grid_cell_um: 0.25 }\n"
    "geometry { box { } }\n"
    "output { frame_interval_s: 0 render_png: false }\n";

/// Two-state channel, a receptor that binds a ligand, and a receptor that is
/// endocytosed (state Int), for scenes below.
const char* kAgents = R"(
agent_type {
  name: "Chan"
  source: "test"
  state { name: "C" }
  state { name: "O" conductance_pS: 1 reversal_mV: 0 ca_fraction: 0.01 source: "test" }
  transition { from: "C" to: "O" ligand { species: "Glu" kon_per_uM_per_s: 10 } source: "test" }
  transition { from: "O" to: "C" rate_per_s: 200 source: "test" }
}
agent_type {
  name: "Cyc"
  source: "test"
  state { name: "A" }
  state { name: "Int" internal: true }
  transition { from: "A" to: "Int" rate_per_s: 20 source: "test" }
}
)";

/// Validates `text` (written with the agent file beside it) and returns the errors.
std::vector<Diagnostic> errors_of(const std::string& text) {
  TempDir dir;
  std::ofstream(dir.path() / "agents.pbtxt") << kAgents;
  const auto file = dir.path() / "scene.pbtxt";
  std::ofstream(file) << text;
  std::vector<Diagnostic> errors, warnings;
  validate_scene(file, errors, warnings);
  return errors;
}

/// Whether exactly one error was reported and it contains `text` (printed otherwise).
bool one_error_containing(const std::vector<Diagnostic>& errors, const std::string& text) {
  const bool ok = errors.size() == 1 && errors[0].format().find(text) != std::string::npos;
  if (!ok)
    for (const Diagnostic& d : errors) MESSAGE(d.format());
  return ok;
}

LoadedScene load(const TempDir& dir, const std::string& text, const SceneOverrides& ov = {}) {
  std::ofstream(dir.path() / "agents.pbtxt") << kAgents;
  const auto file = dir.path() / "scene.pbtxt";
  std::ofstream(file) << text;
  return load_scene(file, ov);
}

}  // namespace

TEST_CASE("pool loader: a pool species in an undeclared pool") {
  const auto e = errors_of(std::string(kBox) + R"(
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "nope" }
})");
  CHECK(one_error_containing(e, "no pool named 'nope'; declare it in a pool { } block"));
  REQUIRE(!e.empty());
  CHECK(e[0].field == "well_mixed.species[0].pool");
  CHECK(e[0].line == 7);
}

TEST_CASE("pool loader: duplicate names") {
  SUBCASE("pool declared twice") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed { pool { name: "cyt" volume_um3: 0.1 } pool { name: "cyt" volume_um3: 0.2 } })"),
                               "pool 'cyt' is declared twice"));
  }
  SUBCASE("pool species declared twice") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" }
  species { name: "X" pool: "cyt" }
})"),
                               "'X' is already a species or clamp; pool species need names of their own"));
  }
  SUBCASE("pool species named like a particle species") {
    const auto e = errors_of(std::string(kBox) + R"(
species { name: "Ca" diffusion_um2_per_s: 220 }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "Ca" pool: "cyt" }
})");
    CHECK(one_error_containing(e, "'Ca' is already a species or clamp"));
    REQUIRE(!e.empty());
    CHECK(e[0].field == "well_mixed.species[0].name");
  }
  SUBCASE("pool species named like a clamp") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
clamp { species: "drug" constant_uM: 1 }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "drug" pool: "cyt" }
})"),
                               "'drug' is already a species or clamp"));
  }
  SUBCASE("parameter declared twice") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed {
  parameter { name: "k" value: 1 }
  parameter { name: "k" value: 2 }
})"),
                               "parameter 'k' is declared twice"));
  }
}

TEST_CASE("pool loader: missing parameters") {
  SUBCASE("a rate_parameter nobody declared") {
    const auto e = errors_of(std::string(kBox) + R"(
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 5 }
  reaction { reactant: "X" rate_parameter: "k_decay" }
})");
    // Reported once, where the name is written.
    REQUIRE(e.size() == 1);
    CHECK(e[0].format().find("no parameter named 'k_decay'; declare it in a parameter { } block") != std::string::npos);
    CHECK(e[0].field == "well_mixed.reaction[0].rate_parameter");
    CHECK(e[0].line == 8);
  }
  SUBCASE("a scene value for an undeclared parameter lists the declared ones") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
parameter { name: "kdecay" value: 3 }
well_mixed {
  parameter { name: "k_decay" value: 1 }
  parameter { name: "v_cyt" value: 0.1 }
})"),
                               "no parameter named 'kdecay' is declared; declared: k_decay v_cyt"));
  }
  SUBCASE("a parameter without a value") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed { parameter { name: "k" } })"),
                               "give the parameter a finite default value"));
  }
}

TEST_CASE("pool loader: scene parameters override the pathway's defaults, and so does --sweep") {
  TempDir dir;
  const std::string pathway = R"(
well_mixed {
  parameter { name: "k_decay" value: 2 unit: "1/s" }
  parameter { name: "v_cyt" value: 0.1 unit: "um3" }
  parameter { name: "x0" value: 1 unit: "uM" }
  pool { name: "cyt" volume_parameter: "v_cyt" }
  species { name: "X" pool: "cyt" uM_parameter: "x0" }
  reaction { reactant: "X" rate_parameter: "k_decay" }
})";
  SUBCASE("defaults") {
    const LoadedScene s = load(dir, std::string(kBox) + pathway);
    REQUIRE(s.model.well_mixed.reactions.size() == 1);
    CHECK(s.model.well_mixed.reactions[0].rate == 2);
    CHECK(s.model.well_mixed.pools[0].volume_um3 == 0.1);
    CHECK(s.model.well_mixed.species[0].initial_count == 60);  // 60.22 molecules
  }
  SUBCASE("scene values") {
    const LoadedScene s = load(dir, std::string(kBox) +
                                        "parameter { name: \"k_decay\" value: 7.5 }\n"
                                        "parameter { name: \"v_cyt\" value: 0.5 }\n"
                                        "parameter { name: \"x0\" value: 2 }\n" +
                                        pathway);
    CHECK(s.model.well_mixed.reactions[0].rate == 7.5);
    CHECK(s.model.well_mixed.pools[0].volume_um3 == 0.5);
    CHECK(s.model.well_mixed.species[0].initial_count == 602);  // 602.214 molecules
  }
  SUBCASE("a sweep assignment") {
    SceneOverrides ov;
    ov.assignments.push_back(parse_field_assignment("parameter[0].value=11"));
    const LoadedScene s = load(dir, std::string(kBox) + "parameter { name: \"k_decay\" value: 7.5 }\n" + pathway, ov);
    CHECK(s.model.well_mixed.reactions[0].rate == 11);
  }
  SUBCASE("the overridden rate is the one that runs") {
    // X (60 molecules) decays at k = 1000/s instead of the default 2/s: after 0.1 s
    // none are left (P(any survives) = 60·e^(−100)); at 2/s about 49 would be.
    const LoadedScene s = load(dir, std::string(kBox) + "parameter { name: \"k_decay\" value: 1000 }\n" + pathway);
    Simulator sim(s.model, std::make_unique<SerialStepper>());
    sim.run();
    CHECK(sim.pool_count(0) == 0);
    CHECK(sim.stats().pool_reactions == 60);
  }
}

TEST_CASE("pool loader: bad volumes, reactions and links") {
  SUBCASE("zero volume") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed { pool { name: "cyt" volume_um3: 0 } })"),
                               "pool volume must be > 0 µm³"));
  }
  SUBCASE("negative volume through a parameter") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
parameter { name: "v" value: -0.1 }
well_mixed { parameter { name: "v" value: 0.1 } pool { name: "cyt" volume_parameter: "v" } })"),
                               "pool volume must be > 0 µm³"));
  }
  SUBCASE("no volume at all") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed { pool { name: "cyt" } })"),
                               "pool volume must be > 0 µm³"));
  }
  SUBCASE("an influx reaction with a reactant") {
    const auto e = errors_of(std::string(kBox) + R"(
agent_file: "agents.pbtxt"
clamp { species: "Glu" constant_uM: 1 }
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "Ca" pool: "cyt" }
  species { name: "B" pool: "cyt" }
  reaction { influx_from: "Chan" reactant: "B" product: "Ca" rate: 1 }
})");
    CHECK(one_error_containing(e, "an influx reaction has no reactants"));
  }
  SUBCASE("an influx from a species without an agent type") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
species { name: "Glu" diffusion_um2_per_s: 100 }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "Ca" pool: "cyt" }
  reaction { influx_from: "Glu" product: "Ca" rate: 1 }
})"),
                               "'Glu' is not a membrane species with an agent_type"));
  }
  SUBCASE("three reactants") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" }
  reaction { reactant: "X" reactant: "X" reactant: "X" rate: 1 }
})"),
                               "at most two reactants"));
  }
  SUBCASE("a species inserted as agents cannot react in the pool") {
    CHECK(one_error_containing(errors_of(std::string(kBox) + R"(
agent_file: "agents.pbtxt"
species { name: "Rec" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Cyc" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "New" pool: "cyt" insert_as_agent { species: "Rec" region: "box_wall" } }
  reaction { reactant: "New" rate: 1 }
})"),
                               "'New' becomes membrane agents when made; it cannot react in the pool"));
  }
  SUBCASE("agent_to_pool on a state reached by capturing a diffusing ligand") {
    const auto e = errors_of(std::string(kBox) + R"(
agent_file: "agents.pbtxt"
species { name: "Glu" diffusion_um2_per_s: 100 }
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "Gone" pool: "cyt" }
  agent_to_pool { species: "Chan" state: "O" pool_species: "Gone" }
})");
    CHECK(one_error_containing(e, "state 'O' is reached by binding a diffusing ligand"));
    REQUIRE(!e.empty());
    CHECK(e[0].field == "well_mixed.agent_to_pool[0].state");
  }
  SUBCASE("the same link is fine when the ligand is clamped") {
    CHECK(errors_of(std::string(kBox) + R"(
agent_file: "agents.pbtxt"
clamp { species: "Glu" constant_uM: 1 }
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "Gone" pool: "cyt" }
  agent_to_pool { species: "Chan" state: "O" pool_species: "Gone" }
})")
              .empty());
  }
}

TEST_CASE("pool loader: errors in a pathway file name that file, and its numbers need sources") {
  TempDir dir;
  std::ofstream(dir.path() / "pathway.pbtxt") << R"(parameter { name: "k" value: 1 source: "test" }
pool { name: "cyt" volume_um3: 0.1 }
species { name: "X" pool: "cyt" count: 3 }
reaction { reactant: "X" rate: 2 }
)";
  std::ofstream(dir.path() / "scene.pbtxt") << std::string(kBox) << "well_mixed_file: \"pathway.pbtxt\"\n";
  std::vector<Diagnostic> errors, warnings;
  validate_scene(dir.path() / "scene.pbtxt", errors, warnings);
  CHECK(one_error_containing(errors, "every rate needs a source"));
  REQUIRE(!errors.empty());
  CHECK(errors[0].file.find("pathway.pbtxt") != std::string::npos);
  CHECK(errors[0].line == 4);
  CHECK(errors[0].field == "reaction[0].source");
}

TEST_CASE("pool loader: µM become 602.214076 · V · c molecules, rounded to the nearest") {
  // (volume µm³, concentration µM) → llround(602.214076·V·c).
  const struct {
    double v, c;
    std::uint64_t n;
  } cases[] = {{1, 1, 602},         // 602.214
               {0.1, 1, 60},        // 60.22
               {1, 0.001, 1},       // 0.602: rounded up, not truncated
               {0.03, 0.1, 2},      // 1.807
               {0.5, 0.0249, 7},    // 7.4975: down
               {0.5, 0.02491, 8},   // 7.5005: up
               {2.5, 40, 60221},    // 60221.4
               {1e-3, 0.0001, 0}};  // 6e-5
  for (const auto& c : cases) {
    std::ostringstream s;
    s.precision(17);
    s << kBox << "well_mixed { pool { name: \"p\" volume_um3: " << c.v
      << " } species { name: \"X\" pool: \"p\" uM: " << c.c << " } }\n";
    TempDir dir;
    const LoadedScene scene = load(dir, s.str());
    INFO("V = " << c.v << " µm³, c = " << c.c << " µM: 602.214076·V·c = " << 602.214076 * c.v * c.c);
    CHECK(scene.model.well_mixed.pools[0].molecules_per_uM() == doctest::Approx(602.214076 * c.v).epsilon(1e-15));
    CHECK(scene.model.well_mixed.species[0].initial_count == c.n);
    // The run starts from that count.
    Simulator sim(scene.model, std::make_unique<SerialStepper>());
    CHECK(sim.pool_count(0) == static_cast<std::int64_t>(c.n));
  }
}

namespace {

/// A scene that uses every coupling of the pools at once: channels that bind a
/// diffusing ligand by collision and feed Ca2+ into a pool (influx), Ca2+ buffered
/// bimolecularly and removed, receptors that leave the membrane into a pool and come
/// back as new agents, a reaction modulated by an infusion (thinning) and one by a
/// stepped clamp, and a potential step (the influx rate changes at a breakpoint).
std::string coupled_scene(double t_end, std::uint64_t seed, int ligands) {
  std::ostringstream s;
  s.precision(17);
  s << "simulation { dt_s: 4e-5 t_end_s: " << t_end << " seed: " << seed << " }\n"
    << R"(geometry { box { } }
output { counts_interval_s: 0.01 frame_interval_s: 0 render_png: false }
agent_file: "agents.pbtxt"
membrane_potential { holding_mV: -70 time_s: 0.02 mV: -40 }
clamp { species: "drug" infusion { start_s: 0.005 duration_s: 0.02 peak_uM: 5 half_life_s: 0.01 } }
clamp { species: "pulse" steps { initial_uM: 1 time_s: 0.015 uM: 3 time_s: 0.03 uM: 0 } }
species { name: "Glu" diffusion_um2_per_s: 10 }
species { name: "Chan" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Chan" binding_side: BACK }
species { name: "Rec" kind: MEMBRANE diffusion_um2_per_s: 0.05 agent_type: "Cyc" }
placement { species: "Glu" count: )"
    << ligands << R"( compartment: "box" }
placement { species: "Chan" count: 200 region: "box_wall" }
placement { species: "Rec" count: 50 region: "box_wall" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.05 }
  species { name: "Ca" pool: "cyt" }
  species { name: "Buf" pool: "cyt" uM: 20 }
  species { name: "CaBuf" pool: "cyt" }
  species { name: "R" pool: "cyt" }
  species { name: "New" pool: "cyt" insert_as_agent { species: "Rec" region: "box_wall" state: "A" } }
  species { name: "S" pool: "cyt" count: 5000 }
  reaction { influx_from: "Chan" product: "Ca" rate: 1 }
  reaction { reactant: "Ca" reactant: "Buf" product: "CaBuf" rate: 100 }
  reaction { reactant: "CaBuf" product: "Ca" product: "Buf" rate: 500 }
  reaction { reactant: "Ca" rate: 300 }
  reaction { reactant: "R" product: "New" rate: 50 }
  reaction { reactant: "S" rate: 20 modulator: "drug" }
  reaction { reactant: "S" product: "R" rate: 1 modulator: "pulse" }
  agent_to_pool { species: "Rec" state: "Int" pool_species: "R" }
}
)";
  return s.str();
}

/// Pool counts and membrane agent counts at every output.
struct Trajectory final : Observer {
  std::vector<double> times;
  std::vector<std::vector<std::int64_t>> rows;
  void observe(double t, const Simulator& sim) override {
    times.push_back(t);
    std::vector<std::int64_t> row;
    for (std::size_t s = 0; s < sim.model().well_mixed.species.size(); ++s) row.push_back(sim.pool_count(int(s)));
    row.push_back(static_cast<std::int64_t>(sim.world().membrane.size()));
    row.push_back(static_cast<std::int64_t>(sim.world().volume.size()));
    rows.push_back(std::move(row));
  }
};

/// Everything about the end of a run that must not depend on how it got there.
struct Final {
  std::vector<std::int64_t> pools;
  std::vector<double> vx, vy, vz, mu, mv;
  std::vector<std::uint16_t> states;
  std::vector<std::uint32_t> ids, triangles;
  double ca_ions = 0;
  SchedulerStats stats;
  bool operator==(const Final& o) const {
    return pools == o.pools && vx == o.vx && vy == o.vy && vz == o.vz && mu == o.mu && mv == o.mv &&
           states == o.states && ids == o.ids && triangles == o.triangles && ca_ions == o.ca_ions &&
           stats.pool_reactions == o.stats.pool_reactions && stats.agent_transitions == o.stats.agent_transitions &&
           stats.captures == o.stats.captures && stats.steps == o.stats.steps;
  }
};

Final final_of(const Simulator& sim) {
  Final f;
  for (std::size_t s = 0; s < sim.model().well_mixed.species.size(); ++s) f.pools.push_back(sim.pool_count(int(s)));
  const World& w = sim.world();
  f.vx = w.volume.x;
  f.vy = w.volume.y;
  f.vz = w.volume.z;
  f.mu = w.membrane.u;
  f.mv = w.membrane.v;
  f.states = w.membrane.state;
  f.ids = w.membrane.id;
  f.triangles = w.membrane.triangle;
  f.ca_ions = sim.ca_ions(sim.model().find_species("Chan"));
  f.stats = sim.stats();
  return f;
}

}  // namespace

TEST_CASE("pools: a run checkpointed midway and restored into a fresh simulator ends bit-identically") {
  TempDir dir;
  const LoadedScene scene = load(dir, coupled_scene(0.04, 7, 3000));
  const Model& model = scene.model;

  Trajectory whole_traj;
  Simulator whole(model, std::make_unique<SerialStepper>());
  whole.add_observer(&whole_traj, 0.001);
  whole.run();
  const Final whole_end = final_of(whole);
  // The scene exercises what it should.
  CHECK(whole.stats().pool_reactions > 1000);
  CHECK(whole.stats().captures > 10);
  CHECK(whole.stats().agent_transitions > 50);
  CHECK(whole_end.pools[static_cast<std::size_t>(model.well_mixed.find_species("CaBuf"))] > 0);

  // The same run with checkpoints every 0.013 s (three: 0.013, 0.026, 0.039 s); keep
  // the second, passed through the checkpoint file format.
  Trajectory ck_traj;
  Simulator checkpointed(model, std::make_unique<SerialStepper>());
  checkpointed.add_observer(&ck_traj, 0.001);
  int taken = 0;
  std::string saved_bytes;
  double saved_time = 0;
  checkpointed.set_checkpoint(0.013, [&](const Simulator& s) {
    if (++taken != 2) return;
    Checkpoint cp;
    cp.state = s.save_state();
    saved_bytes = encode_checkpoint(cp);
    saved_time = s.time();
  });
  checkpointed.run();
  CHECK(taken == 3);
  // Taking checkpoints changes nothing.
  CHECK(final_of(checkpointed) == whole_end);
  CHECK(ck_traj.rows == whole_traj.rows);
  REQUIRE(!saved_bytes.empty());
  CHECK(saved_time == doctest::Approx(0.026).epsilon(1e-3));

  // A fresh simulator restored from the file continues to the same end.
  Trajectory resumed_traj;
  Simulator resumed(model, std::make_unique<SerialStepper>());
  resumed.add_observer(&resumed_traj, 0.001);
  const Checkpoint loaded = decode_checkpoint(saved_bytes, dir.path() / "checkpoint.pb");
  REQUIRE(loaded.state.has_pools);
  // As `spinesim resume` does, the resumed run keeps the checkpoint interval (the
  // pending checkpoint events in the restored queue are scheduled from it).
  resumed.set_checkpoint(0.013, [](const Simulator&) {});
  resumed.restore_state(loaded.state);
  resumed.run();
  CHECK(final_of(resumed) == whole_end);
  // Its outputs are the uninterrupted run's from the checkpoint on.
  REQUIRE(!resumed_traj.rows.empty());
  const std::size_t offset = whole_traj.rows.size() - resumed_traj.rows.size();
  // (The output at 0.026 s comes after the checkpoint taken at that time.)
  CHECK(resumed_traj.times.front() == doctest::Approx(0.026));
  for (std::size_t i = 0; i < resumed_traj.rows.size(); ++i) {
    INFO("output at t = " << resumed_traj.times[i]);
    CHECK(resumed_traj.times[i] == whole_traj.times[offset + i]);
    CHECK(resumed_traj.rows[i] == whole_traj.rows[offset + i]);
  }
}

TEST_CASE("pools: the same seed gives the same pool trajectory on 1 and 2 threads") {
  TempDir dir;
  const LoadedScene scene = load(dir, coupled_scene(0.03, 11, 5000));
  std::vector<Trajectory> traj(3);
  std::vector<Final> ends;
  for (int k = 0; k < 3; ++k) {
    std::unique_ptr<Stepper> stepper = k == 0 ? std::make_unique<SerialStepper>() : make_tbb_stepper(k);
    Simulator sim(scene.model, std::move(stepper));
    sim.add_observer(&traj[static_cast<std::size_t>(k)], 0.0005);
    sim.run();
    ends.push_back(final_of(sim));
  }
  CHECK(ends[0].stats.captures > 10);
  CHECK(ends[0].stats.pool_reactions > 1000);
  REQUIRE(traj[0].rows.size() == 61);
  CHECK(traj[1].rows == traj[0].rows);  // 1 thread
  CHECK(traj[2].rows == traj[0].rows);  // 2 threads
  CHECK(ends[1] == ends[0]);
  CHECK(ends[2] == ends[0]);
}

TEST_CASE("pools: a reaction that makes two agents at once places them independently") {
  // R → New + New with New inserted as an agent: two agents appear at the same
  // instant; each must get its own uniform position on the region.
  TempDir dir;
  const LoadedScene scene = load(dir, std::string(kBox) + R"(
agent_file: "agents.pbtxt"
species { name: "Rec" kind: MEMBRANE diffusion_um2_per_s: 0 agent_type: "Cyc" }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "R" pool: "cyt" count: 3 }
  species { name: "New" pool: "cyt" insert_as_agent { species: "Rec" region: "box_wall" state: "A" } }
  reaction { reactant: "R" product: "New" product: "New" rate: 1000 }
})");
  Simulator sim(scene.model, std::make_unique<SerialStepper>());
  sim.run();
  // All three R fired (P(one survives 0.1 s at 1000/s) = 3·e^(−100)): 6 agents
  // (some may be in state Int by now; nothing links Int to a pool, so they stay).
  CHECK(sim.pool_count(0) == 0);
  CHECK(sim.stats().pool_reactions == 3);
  const auto& m = sim.world().membrane;
  REQUIRE(m.size() == 6);
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = i + 1; j < m.size(); ++j) {
      INFO("agents " << i << " and " << j);
      CHECK(m.id[i] != m.id[j]);
      CHECK(!(m.triangle[i] == m.triangle[j] && m.u[i] == m.u[j] && m.v[i] == m.v[j]));
    }
}

TEST_CASE("pools: a thinning window that ends exactly at t_end does not stall the run") {
  // A modulated reaction with nothing to act on (S = 0) has no candidates: its
  // pending time is the end of its thinning window, a clamp breakpoint or t + 1 s.
  // Here those land exactly on t_end = 3 s: the step at 3 s, and the windows 1 → 2 → 3
  // that follow the end of the infusion at 1 s. The run must end (it used to push
  // the window end back at t_end forever) with every other pool reaction done.
  for (const char* clamp : {"steps { initial_uM: 1 time_s: 3 uM: 2 }",
                            "infusion { start_s: 0 duration_s: 1 peak_uM: 1 half_life_s: 0.5 }"}) {
    TempDir dir;
    const LoadedScene scene = load(dir, std::string(R"(simulation { t_end_s: 3 }
geometry { box { } }
output { frame_interval_s: 0 render_png: false }
clamp { species: "drug" )") + clamp + R"( }
well_mixed {
  pool { name: "cyt" volume_um3: 0.1 }
  species { name: "S" pool: "cyt" }
  species { name: "X" pool: "cyt" count: 5 }
  reaction { reactant: "S" rate: 1 modulator: "drug" }
  reaction { reactant: "X" rate: 1000 }
})");
    INFO("clamp " << clamp);
    Simulator sim(scene.model, std::make_unique<SerialStepper>());
    sim.run();
    CHECK(sim.time() == 3);
    CHECK(sim.pool_count(1) == 0);
    CHECK(sim.stats().pool_reactions == 5);
  }
}

TEST_CASE("pool SSA run-on: progress, the stop flag and the molecule budget (issue 16)") {
  TempDir dir;
  // X ⇌ Y at 10⁵/s with 1000 molecules: 10⁸ reactions per simulated second, and no other
  // event for 500 s, so everything happens inside one run-on of the SSA.
  const std::string fast = std::string(
                               "simulation { t_end_s: 1000 }\ngeometry { box { } }\n"
                               "output { counts_interval_s: 500 frame_interval_s: 0 render_png: false }\n") +
                           R"(well_mixed { pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 1000 } species { name: "Y" pool: "cyt" count: 0 }
  reaction { name: "f" reactant: "X" product: "Y" rate: 1e5 source: "test" }
  reaction { name: "b" reactant: "Y" product: "X" rate: 1e5 source: "test" } })";
  SUBCASE("progress is reported and the stop flag honoured inside the run-on") {
    const LoadedScene s = load(dir, fast);
    Simulator sim(s.model, std::make_unique<SerialStepper>());
    std::atomic<bool> stop{false};
    int reports = 0;
    sim.set_progress(
        [&](const Simulator& at) {
          ++reports;
          if (at.stats().pool_reactions > 100'000) stop = true;
        },
        0.0);
    int checkpoints = 0;
    sim.set_checkpoint(0, [&](const Simulator&) { ++checkpoints; });
    sim.set_stop_flag(&stop);
    sim.run();
    CHECK(sim.stopped());
    CHECK(checkpoints == 1);
    CHECK(reports > 1);
    CHECK(sim.time() < 1.0);  // stopped within the first simulated second, not at 500 s
    CHECK(sim.pool_count(0) + sim.pool_count(1) == 1000);
  }
  SUBCASE("a pool that grows past max_molecules stops the run with ResourceLimitError") {
    const LoadedScene s =
        load(dir, std::string("simulation { t_end_s: 10 max_molecules: 5000 }\n"
                              "geometry { box { } }\n"
                              "output { counts_interval_s: 5 frame_interval_s: 0 render_png: false }\n") +
                      R"(well_mixed { pool { name: "cyt" volume_um3: 0.1 }
  species { name: "X" pool: "cyt" count: 10 }
  reaction { name: "grow" reactant: "X" product: "X" product: "X" rate: 100 source: "test" } })");
    Simulator sim(s.model, std::make_unique<SerialStepper>());
    int checkpoints = 0;
    sim.set_checkpoint(0, [&](const Simulator&) { ++checkpoints; });
    try {
      sim.run();
      FAIL("the pool grew without bound and the run finished");
    } catch (const ResourceLimitError& e) {
      CHECK(std::string(e.what()).find("the run has 5001 molecules (0 in volume, 0 on membranes, 5001 in pools), "
                                       "more than simulation.max_molecules = 5000") != std::string::npos);
    }
    CHECK(checkpoints == 1);
    CHECK(sim.pool_count(0) == 5001);
  }
}

TEST_CASE("pool SSA: each candidate is the textbook direct method on the pools' documented stream") {
  // A reference implementation of Gillespie's direct method, written out here:
  // candidate k uses block k of stream (seed, 0xFFFFFFFF, k, kWellMixed); word 0
  // gives the waiting time −ln(u0)/a0 with a0 the sequential sum of propensities,
  // word 1 the first reaction j in order with u1·a0 ≤ a_1 + … + a_j. The engine's
  // sum tree must pick the same reaction and (up to rounding of a0) the same time.
  // 30 reactions (four groups of the 8-ary tree, so two levels): X ⇌ Y_i and
  // Y_i + Y_i → X; channels 8–10 have rate 0 and must never fire. 3000 firings.
  WellMixedModel m;
  m.pools.push_back({"cyt", 0.01});
  m.species.push_back({"X", 0, 400});
  const int channels = 12;
  for (int i = 0; i < channels; ++i) m.species.push_back({"Y" + std::to_string(i), 0, 0});
  for (int i = 0; i < channels; ++i) {
    const double k = i >= 8 && i <= 10 ? 0.0 : 1.0 + i;
    PoolReactionDef forward, back, dimer;
    forward.reactants = {0};
    forward.products = {1 + i};
    forward.rate = k;
    back.reactants = {1 + i};
    back.products = {0};
    back.rate = 0.5 * k;
    m.reactions.push_back(forward);
    m.reactions.push_back(back);
    if (i % 2 == 0) {
      dimer.reactants = {1 + i, 1 + i};
      dimer.products = {0, 0};
      dimer.rate = 0.1 * k;
      m.reactions.push_back(dimer);
    }
  }
  REQUIRE(m.reactions.size() == 30);
  const std::vector<ClampDef> no_clamps;
  const std::uint64_t seed = 29;
  WellMixedSystem pools(m, no_clamps, seed);
  pools.start(0);
  const double omega = m.pools[0].molecules_per_uM();
  std::vector<std::int64_t> n(m.species.size(), 0);
  n[0] = 400;
  double t = 0;
  for (std::uint64_t draw = 0; draw < 3000; ++draw) {
    std::vector<double> a(m.reactions.size());
    double a0 = 0;
    for (std::size_t r = 0; r < a.size(); ++r) {
      const PoolReactionDef& rx = m.reactions[r];
      const auto x = static_cast<double>(n[static_cast<std::size_t>(rx.reactants[0])]);
      a[r] = rx.reactants.size() == 1 ? rx.rate * x : rx.rate / omega * (x * (x - 1));
      a0 += a[r];
    }
    REQUIRE(a0 > 0);
    CounterRng rng({seed, 0xFFFFFFFFu, draw, Purpose::kWellMixed});
    t -= std::log(uniform_open0(rng())) / a0;
    double u = uniform_open0(rng()) * a0;
    std::size_t expected = 0;
    while (expected + 1 < a.size() && u > a[expected]) u -= a[expected++];
    CHECK(pools.next_time() == doctest::Approx(t).epsilon(1e-12));
    t = pools.next_time();
    const int fired = pools.fire();
    REQUIRE(fired == static_cast<int>(expected));
    for (int s : m.reactions[expected].reactants) --n[static_cast<std::size_t>(s)];
    for (int s : m.reactions[expected].products) ++n[static_cast<std::size_t>(s)];
    std::int64_t total = 0;
    for (std::size_t s = 0; s < n.size(); ++s) {
      REQUIRE(pools.count(static_cast<int>(s)) == n[s]);
      total += n[s];
    }
    CHECK(pools.total_count() == total);
  }
  for (int i = 8; i <= 10; ++i) CHECK(n[static_cast<std::size_t>(1 + i)] == 0);
}
