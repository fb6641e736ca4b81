#include "io/checkpoint.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "schema/checkpoint.pb.h"

namespace spinesim {

namespace fs = std::filesystem;
namespace pb = spinesim::checkpoint;

namespace {

template <class Field, class T>
void put(Field* field, const std::vector<T>& values) {
  field->Reserve(static_cast<int>(values.size()));
  for (const T& v : values) field->Add(v);
}
template <class T, class Field>
std::vector<T> get(const Field& field) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(field.size()));
  for (const auto& v : field) out.push_back(static_cast<T>(v));
  return out;
}

void to_proto(const RunState& s, pb::RunState& p) {
  const VolumeMolecules& v = s.world.volume;
  auto* pv = p.mutable_volume();
  put(pv->mutable_x(), v.x);
  put(pv->mutable_y(), v.y);
  put(pv->mutable_z(), v.z);
  put(pv->mutable_species(), v.species);
  put(pv->mutable_compartment(), v.compartment);
  put(pv->mutable_id(), v.id);
  put(pv->mutable_reaction_time(), v.reaction_time);
  const MembraneMolecules& m = s.world.membrane;
  auto* pm = p.mutable_membrane();
  put(pm->mutable_triangle(), m.triangle);
  put(pm->mutable_u(), m.u);
  put(pm->mutable_v(), m.v);
  put(pm->mutable_species(), m.species);
  put(pm->mutable_id(), m.id);
  put(pm->mutable_state(), m.state);
  put(pm->mutable_event(), m.event);
  put(pm->mutable_draws(), m.draws);
  put(pm->mutable_reaction_time(), m.reaction_time);
  put(pm->mutable_ambient_bound(), m.ambient_bound);
  put(pm->mutable_particle_bound(), m.particle_bound);
  p.set_next_id(s.world.next_id);
  p.set_step_count(s.world.step_count);
  put(p.mutable_absorbed(), s.world.absorbed);
  put(p.mutable_crossed(), s.world.crossed);
  put(p.mutable_ca_ions(), s.world.ca_ions);
  put(p.mutable_charge_pc(), s.world.charge_pC);
  put(p.mutable_ambient_bindings(), s.world.ambient_bindings);
  auto* q = p.mutable_queue();
  for (const auto& slot : s.queue.slots) {
    auto* e = q->add_slots();
    e->set_time(slot.time);
    e->set_sequence(slot.sequence);
    e->set_kind(slot.payload.kind);
    e->set_target(slot.payload.target);
    e->set_heap_pos(slot.heap_pos);
  }
  put(q->mutable_heap(), s.queue.heap);
  put(q->mutable_free(), s.queue.free);
  q->set_next_sequence(s.queue.next_sequence);
  p.set_time_s(s.time_s);
  p.set_diffusing(s.diffusing);
  p.set_anchor_s(s.anchor_s);
  p.set_steps_since_anchor(s.steps_since_anchor);
  put(p.mutable_agent_bound(), s.agent_bound);
  put(p.mutable_agent_window(), s.agent_window);
  p.set_flux_time_s(s.flux_time_s);
  put(p.mutable_ca_rate(), s.ca_rate);
  put(p.mutable_current_pa(), s.current_pA);
  put(p.mutable_poisson_count(), s.poisson_count);
  put(p.mutable_production_count(), s.production_count);
  p.set_next_reaction_valid(s.next_reaction_valid);
  p.set_next_volume_reaction(s.next_volume_reaction);
  p.set_next_membrane_reaction(s.next_membrane_reaction);
  put(p.mutable_observer_next_k(), s.observer_next_k);
  p.set_checkpoint_k(s.checkpoint_k);
  put(p.mutable_stats(), std::vector<std::uint64_t>{s.steps, s.events, s.jumps, s.molecule_steps, s.agent_transitions,
                                                    s.captures, s.reactions, s.pool_reactions});
  if (s.has_pools) {
    auto& w = *p.mutable_well_mixed();
    put(w.mutable_counts(), s.pools.counts);
    put(w.mutable_external(), s.pools.external);
    w.set_time(s.pools.time);
    w.set_next(s.pools.next);
    w.set_window(s.pools.window);
    w.set_next_is_window(s.pools.next_is_window);
    w.set_draws(s.pools.draws);
    w.set_fired(s.pools.fired);
    w.set_event(s.pool_event);
  }
}

RunState from_proto(const pb::RunState& p) {
  RunState s;
  VolumeMolecules& v = s.world.volume;
  const auto& pv = p.volume();
  v.x = get<double>(pv.x());
  v.y = get<double>(pv.y());
  v.z = get<double>(pv.z());
  v.species = get<std::uint16_t>(pv.species());
  v.compartment = get<std::uint16_t>(pv.compartment());
  v.id = get<std::uint32_t>(pv.id());
  v.reaction_time = get<double>(pv.reaction_time());
  MembraneMolecules& m = s.world.membrane;
  const auto& pm = p.membrane();
  m.triangle = get<std::uint32_t>(pm.triangle());
  m.u = get<double>(pm.u());
  m.v = get<double>(pm.v());
  m.species = get<std::uint16_t>(pm.species());
  m.id = get<std::uint32_t>(pm.id());
  m.state = get<std::uint16_t>(pm.state());
  m.event = get<std::uint32_t>(pm.event());
  m.draws = get<std::uint32_t>(pm.draws());
  m.reaction_time = get<double>(pm.reaction_time());
  m.ambient_bound = get<std::uint8_t>(pm.ambient_bound());
  m.particle_bound = get<std::uint8_t>(pm.particle_bound());
  s.world.next_id = p.next_id();
  s.world.step_count = p.step_count();
  s.world.absorbed = get<std::uint64_t>(p.absorbed());
  s.world.crossed = get<std::uint64_t>(p.crossed());
  s.world.ca_ions = get<double>(p.ca_ions());
  s.world.charge_pC = get<double>(p.charge_pc());
  s.world.ambient_bindings = get<std::uint64_t>(p.ambient_bindings());
  for (const auto& e : p.queue().slots()) {
    EventQueue::Slot slot;
    slot.time = e.time();
    slot.sequence = e.sequence();
    slot.payload = {e.kind(), e.target()};
    slot.heap_pos = e.heap_pos();
    s.queue.slots.push_back(slot);
  }
  s.queue.heap = get<EventHandle>(p.queue().heap());
  s.queue.free = get<EventHandle>(p.queue().free());
  s.queue.next_sequence = p.queue().next_sequence();
  s.time_s = p.time_s();
  s.diffusing = p.diffusing();
  s.anchor_s = p.anchor_s();
  s.steps_since_anchor = p.steps_since_anchor();
  s.agent_bound = get<double>(p.agent_bound());
  s.agent_window = get<double>(p.agent_window());
  s.flux_time_s = p.flux_time_s();
  s.ca_rate = get<double>(p.ca_rate());
  s.current_pA = get<double>(p.current_pa());
  s.poisson_count = get<std::uint64_t>(p.poisson_count());
  s.production_count = get<std::uint64_t>(p.production_count());
  s.next_reaction_valid = p.next_reaction_valid();
  s.next_volume_reaction = p.next_volume_reaction();
  s.next_membrane_reaction = p.next_membrane_reaction();
  s.observer_next_k = get<std::uint64_t>(p.observer_next_k());
  s.checkpoint_k = p.checkpoint_k();
  const auto stats = get<std::uint64_t>(p.stats());
  if (stats.size() == 8) {
    s.steps = stats[0];
    s.events = stats[1];
    s.jumps = stats[2];
    s.molecule_steps = stats[3];
    s.agent_transitions = stats[4];
    s.captures = stats[5];
    s.reactions = stats[6];
    s.pool_reactions = stats[7];
  }
  if (p.has_well_mixed()) {
    const auto& w = p.well_mixed();
    s.has_pools = true;
    s.pools.counts = get<std::int64_t>(w.counts());
    s.pools.external = get<double>(w.external());
    s.pools.time = w.time();
    s.pools.next = w.next();
    s.pools.window = w.window();
    s.pools.next_is_window = w.next_is_window();
    s.pools.draws = w.draws();
    s.pools.fired = w.fired();
    s.pool_event = w.event();
  }
  return s;
}

}  // namespace

std::string encode_checkpoint(const Checkpoint& cp, std::uint32_t format_version) {
  pb::Checkpoint p;
  p.set_program_version(cp.program_version);
  p.set_number(cp.number);
  p.set_scene_text(cp.scene_text);
  p.set_scene_file(cp.scene_file);
  p.set_command_line(cp.command_line);
  p.set_threads(static_cast<std::uint32_t>(cp.threads));
  p.set_checkpoint_every_s(cp.checkpoint_every_s);
  p.set_final_dir(cp.final_dir);
  p.set_quiet(cp.quiet);
  if (cp.seed_override) p.set_seed_override(*cp.seed_override);
  if (cp.t_end_override_s) p.set_t_end_override_s(*cp.t_end_override_s);
  to_proto(cp.state, *p.mutable_state());
  auto* o = p.mutable_observers();
  o->set_counts_csv(cp.counts_csv);
  o->set_counts_bytes(cp.counts_bytes);
  o->set_counts_crc32(cp.counts_crc32);
  o->set_frame_count(cp.frame_count);
  for (const auto& [t, f] : cp.pvd) {
    o->add_pvd_time(t);
    o->add_pvd_file(f);
  }
  pb::CheckpointFile file;
  file.set_format_version(format_version);
  if (!p.SerializeToString(file.mutable_payload()))
    throw IoError("cannot encode the checkpoint (is the run larger than protobuf's 2 GiB message limit?)");
  file.set_crc32(crc32(file.payload()));
  std::string bytes;
  if (!file.SerializeToString(&bytes)) throw IoError("cannot encode the checkpoint file");
  return bytes;
}

Checkpoint decode_checkpoint(const std::string& bytes, const fs::path& file) {
  pb::CheckpointFile f;
  if (bytes.empty() || !f.ParseFromString(bytes) || f.payload().empty())
    throw CorruptCheckpoint(file.string() + " is truncated or not a checkpoint file");
  if (crc32(f.payload()) != f.crc32())
    throw CorruptCheckpoint(file.string() + " is corrupt: its checksum does not match its contents");
  if (f.format_version() < kOldestCheckpointFormatVersion || f.format_version() > kCheckpointFormatVersion)
    throw CheckpointVersionError(
        file.string() + " has checkpoint format version " + std::to_string(f.format_version()) +
        ", but this spinesim reads versions " + std::to_string(kOldestCheckpointFormatVersion) + " to " +
        std::to_string(kCheckpointFormatVersion) + "; resume it with the spinesim that wrote it, or rerun the scene");
  pb::Checkpoint p;
  if (!p.ParseFromString(f.payload()))
    throw CorruptCheckpoint(file.string() + " is corrupt: its payload does not parse");
  Checkpoint cp;
  cp.program_version = p.program_version();
  cp.number = p.number();
  cp.scene_text = p.scene_text();
  cp.scene_file = p.scene_file();
  cp.command_line = p.command_line();
  cp.threads = static_cast<int>(p.threads());
  cp.checkpoint_every_s = p.checkpoint_every_s();
  cp.final_dir = p.final_dir();
  cp.quiet = p.quiet();
  if (p.has_seed_override()) cp.seed_override = p.seed_override();
  if (p.has_t_end_override_s()) cp.t_end_override_s = p.t_end_override_s();
  cp.state = from_proto(p.state());
  cp.counts_csv = p.observers().counts_csv();
  cp.counts_bytes = p.observers().counts_bytes();
  cp.counts_crc32 = p.observers().counts_crc32();
  cp.frame_count = p.observers().frame_count();
  if (p.observers().pvd_time_size() != p.observers().pvd_file_size())
    throw CorruptCheckpoint(file.string() + " is corrupt: frames.pvd entries are incomplete");
  for (int i = 0; i < p.observers().pvd_time_size(); ++i)
    cp.pvd.emplace_back(p.observers().pvd_time(i), p.observers().pvd_file(i));
  return cp;
}

fs::path checkpoint_path(const fs::path& dir, std::uint64_t number) {
  return dir / ("checkpoint." + std::to_string(number) + ".pb");
}

namespace {
/// N of checkpoint.N.pb, or 0.
std::uint64_t checkpoint_number(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string prefix = "checkpoint.", suffix = ".pb";
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return 0;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(digits);
}
}  // namespace

fs::path write_checkpoint(const fs::path& dir, const Checkpoint& cp) {
  const std::string bytes = encode_checkpoint(cp);
  const fs::path target = checkpoint_path(dir, cp.number);
  // Test hook for the kill-during-write tests: die with half the file written.
  static const char* crash = std::getenv("SPINESIM_TEST_CRASH_IN_CHECKPOINT");
  if (crash != nullptr && std::strtoull(crash, nullptr, 10) == cp.number) {
    std::ofstream out(temp_path_for(target), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    out.flush();
    std::raise(SIGKILL);
  }
  atomic_write(target, bytes);
  for (const fs::path& old : list_checkpoints(dir))
    if (checkpoint_number(old) + 1 < cp.number) {
      std::error_code ec;
      fs::remove(old, ec);
    }
  return target;
}

std::vector<fs::path> list_checkpoints(const fs::path& dir) {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (const std::uint64_t n = checkpoint_number(it->path()); n > 0 && it->is_regular_file())
      found.emplace_back(n, it->path());
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

Checkpoint load_newest_checkpoint(const fs::path& dir, fs::path& file, std::vector<std::string>& skipped) {
  const auto files = list_checkpoints(dir);
  if (files.empty())
    throw IoError("no checkpoint (checkpoint.N.pb) in " + dir.string() +
                  "; a run writes them with --checkpoint-every T or when stopped by SIGINT/SIGTERM");
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) {
      skipped.push_back(f.string() + " cannot be read; skipped");
      continue;
    }
    try {
      Checkpoint cp = decode_checkpoint(ss.str(), f);
      file = f;
      return cp;
    } catch (const CorruptCheckpoint& e) {
      skipped.push_back(std::string(e.what()) + "; skipped");
    }
  }
  throw IoError("no valid checkpoint in " + dir.string() + " (all " + std::to_string(files.size()) +
                " are corrupt or truncated)");
}

}  // namespace spinesim
