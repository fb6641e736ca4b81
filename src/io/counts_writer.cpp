#include "io/counts_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/crc32.h"
#include "core/error.h"
#include "io/csv.h"

namespace spinesim {

std::string format_time(double t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", t);
  return buf;
}

std::string format_count(double value, bool integer) {
  return integer ? std::to_string(static_cast<long long>(value)) : format_time(value);
}

std::string counts_csv_header(const std::vector<std::string>& columns) {
  std::string h = "time_s";
  for (const auto& c : columns) h += "," + csv_cell(c);
  return h + "\n";
}

CountColumns::CountColumns(const Model& model) : model_(model) {
  for (const auto& type : model.agent_types) max_states_ = std::max(max_states_, type.states.size());
  const Geometry& g = model.geometry;
  for (int s : model.count_species) {
    const SpeciesDef& sp = model.species[s];
    if (!sp.membrane) {
      for (std::size_t c = 0; c < g.compartment_names.size(); ++c) {
        spec_.push_back({Column::kVolume, s, static_cast<int>(c)});
        names_.push_back(sp.name + "@" + g.compartment_names[c]);
      }
    } else {
      for (std::size_t r = 0; r < g.region_names.size(); ++r) {
        if (sp.confine_region >= 0 && sp.confine_region != static_cast<int>(r)) continue;
        if (static_cast<int>(r) == model.world_box_region) continue;  // no membrane there
        spec_.push_back({Column::kMembrane, s, static_cast<int>(r)});
        names_.push_back(sp.name + "@" + g.region_names[r]);
      }
      if (sp.agent_type >= 0) {
        const AgentTypeDef& type = model.agent_types[static_cast<std::size_t>(sp.agent_type)];
        for (std::size_t st = 0; st < type.states.size(); ++st) {
          spec_.push_back({Column::kAgentState, s, static_cast<int>(st)});
          names_.push_back(sp.name + "." + type.states[st].name);
        }
        bool conducts = false;
        for (const auto& st : type.states) conducts = conducts || st.conductance_pS > 0;
        if (conducts) {
          spec_.push_back({Column::kOpen, s, 0});
          names_.push_back(sp.name + ".open");
          spec_.push_back({Column::kCurrent, s, 0});
          names_.push_back(sp.name + ".current_pA");
          spec_.push_back({Column::kCaIons, s, 0});
          names_.push_back(sp.name + ".ca_ions");
        }
        bool sees_background = false;
        for (const auto& tr : type.transitions)
          for (const auto& bg : model.backgrounds)
            sees_background =
                sees_background || (tr.ligand_source == LigandSource::kParticle && tr.ligand_index == bg.species);
        if (sees_background) {
          spec_.push_back({Column::kAmbientBindings, s, 0});
          names_.push_back(sp.name + ".ambient_bindings");
        }
      }
    }
  }
  for (std::size_t r = 0; r < g.region_names.size(); ++r)
    for (int s : model.count_species) {
      const auto b = model.behaviour(static_cast<RegionId>(r), s);
      if (b == SurfaceBehaviour::kAbsorb) {
        spec_.push_back({Column::kAbsorbed, s, static_cast<int>(r)});
        names_.push_back("absorbed:" + model.species[s].name + "@" + g.region_names[r]);
      } else if (b == SurfaceBehaviour::kTransmit) {
        spec_.push_back({Column::kCrossedIn, s, static_cast<int>(r)});
        names_.push_back("crossed_in:" + model.species[s].name + "@" + g.region_names[r]);
        spec_.push_back({Column::kCrossedOut, s, static_cast<int>(r)});
        names_.push_back("crossed_out:" + model.species[s].name + "@" + g.region_names[r]);
      }
    }
  // Pool species by name; a profile clamp's concentration (µM), so plots show the drug.
  for (std::size_t s = 0; s < model.well_mixed.species.size(); ++s)
    if (model.well_mixed.species[s].insert_species < 0) {
      spec_.push_back({Column::kPool, static_cast<int>(s), 0});
      names_.push_back(model.well_mixed.species[s].name);
    }
  for (std::size_t c = 0; c < model.clamps.size(); ++c)
    if (model.clamps[c].profile.kind != TimeProfile::Kind::kConstant) {
      spec_.push_back({Column::kClamp, static_cast<int>(c), 0});
      names_.push_back("clamp:" + model.clamps[c].species + "_uM");
    }
  for (std::size_t b = 0; b < model.backgrounds.size(); ++b)
    if (model.backgrounds[b].profile.kind != TimeProfile::Kind::kConstant) {
      spec_.push_back({Column::kBackground, static_cast<int>(b), 0});
      names_.push_back("background:" + model.species[static_cast<std::size_t>(model.backgrounds[b].species)].name +
                       "@" + g.compartment_names[static_cast<std::size_t>(model.backgrounds[b].compartment)] + "_uM");
    }
}

bool CountColumns::is_integer(std::size_t column) const {
  const auto kind = spec_[column].kind;
  return kind != Column::kCurrent && kind != Column::kCaIons && kind != Column::kClamp && kind != Column::kBackground;
}

const char* CountColumns::unit(std::size_t column) const {
  switch (spec_[column].kind) {
    case Column::kCurrent:
      return "pA";
    case Column::kCaIons:
      return "ions (cumulative)";
    case Column::kClamp:
    case Column::kBackground:
      return "µM";
    default:
      return "count";
  }
}

void CountColumns::values(double time_s, const Simulator& sim, std::vector<double>& out) const {
  const World& w = sim.world();
  const Geometry& g = model_.geometry;
  const std::size_t n_species = model_.species.size();
  // Tally once per row: (species, compartment) for volume, (species, region) for membrane.
  std::vector<std::uint64_t> vol(n_species * g.compartment_names.size(), 0);
  std::vector<std::uint64_t> mem(n_species * g.region_names.size(), 0);
  for (std::size_t i = 0; i < w.volume.size(); ++i)
    ++vol[w.volume.species[i] * g.compartment_names.size() + w.volume.compartment[i]];
  for (std::size_t i = 0; i < w.membrane.size(); ++i)
    ++mem[w.membrane.species[i] * g.region_names.size() + g.triangle_region[w.membrane.triangle[i]]];
  // Agents per (species, state), and open channels per species.
  std::vector<std::uint64_t> in_state(n_species * max_states_, 0), open(n_species, 0);
  for (std::size_t i = 0; i < w.membrane.size(); ++i) {
    const int type = model_.species[w.membrane.species[i]].agent_type;
    if (type < 0) continue;
    ++in_state[w.membrane.species[i] * max_states_ + w.membrane.state[i]];
    const AgentStateDef& st = model_.agent_types[static_cast<std::size_t>(type)].states[w.membrane.state[i]];
    if (st.conductance_pS > 0 && !st.internal) ++open[w.membrane.species[i]];
  }
  out.resize(spec_.size());
  for (std::size_t k = 0; k < spec_.size(); ++k) {
    const Column& c = spec_[k];
    std::uint64_t v = 0;
    switch (c.kind) {
      case Column::kCurrent:
        out[k] = sim.current_pA(c.species);
        continue;
      case Column::kCaIons:
        out[k] = sim.ca_ions(c.species);
        continue;
      case Column::kPool:
        out[k] = static_cast<double>(sim.pool_count(c.species));
        continue;
      case Column::kClamp:
        out[k] = sim.clamp_uM(c.species, time_s);
        continue;
      case Column::kBackground:
        out[k] = model_.backgrounds[static_cast<std::size_t>(c.species)].profile.at(time_s);
        continue;
      case Column::kAmbientBindings:
        v = sim.ambient_bindings(c.species);
        break;
      case Column::kVolume:
        v = vol[c.species * g.compartment_names.size() + c.place];
        break;
      case Column::kMembrane:
        v = mem[c.species * g.region_names.size() + c.place];
        break;
      case Column::kAbsorbed:
        v = w.absorbed[c.place * n_species + c.species];
        break;
      case Column::kCrossedIn:
        v = w.crossed[2 * (c.place * n_species + c.species)];
        break;
      case Column::kCrossedOut:
        v = w.crossed[2 * (c.place * n_species + c.species) + 1];
        break;
      case Column::kAgentState:
        v = in_state[c.species * max_states_ + c.place];
        break;
      case Column::kOpen:
        v = open[c.species];
        break;
    }
    out[k] = static_cast<double>(v);
  }
}

namespace {

std::string describe_errno(int err) {
  return std::strerror(err);
}

}  // namespace

CountsWriter::CountsWriter(const Model& model, std::filesystem::path file)
    : model_(model), file_(std::move(file)), columns_(model), last_flush_(std::chrono::steady_clock::now()) {
  open_for_append(true);
  pending_ = counts_csv_header(columns_.names());
  flush();
}

CountsWriter::CountsWriter(const Model& model, std::filesystem::path file, const std::string& text_so_far)
    : model_(model), file_(std::move(file)), columns_(model), last_flush_(std::chrono::steady_clock::now()) {
  open_for_append(true);
  pending_ = text_so_far;
  flush();
}

CountsWriter::CountsWriter(const Model& model, std::filesystem::path file, const CountsPrefix& prefix)
    : model_(model), file_(std::move(file)), columns_(model), last_flush_(std::chrono::steady_clock::now()) {
  const std::string restore =
      "; restore the counts.csv of that run, or start the run again with --overwrite (its other outputs are "
      "untouched until then)";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(file_, ec)))
    throw IoError(file_.string() +
                  " is missing or not a regular file, but the checkpoint continues the run that wrote it" + restore);
  open_for_append(false);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw IoError("cannot read " + file_.string() + ": " + describe_errno(errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < prefix.bytes)
    throw IoError(file_.string() + " has " + std::to_string(size) + " bytes, fewer than the " +
                  std::to_string(prefix.bytes) + " the checkpoint saw: it was cut or replaced after the checkpoint" +
                  restore);
  // The checkpoint's rows must still be there, unchanged: the resumed run appends to them.
  std::uint32_t crc = 0;
  std::string block(1 << 16, '\0');
  for (std::uint64_t done = 0; done < prefix.bytes;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), prefix.bytes - done));
    const ssize_t got = ::pread(fd_, block.data(), want, static_cast<off_t>(done));
    if (got <= 0) throw IoError("cannot read " + file_.string() + ": " + describe_errno(got < 0 ? errno : EIO));
    crc = crc32_extend(crc, std::string_view(block.data(), static_cast<std::size_t>(got)));
    done += static_cast<std::uint64_t>(got);
  }
  if (crc != prefix.crc32)
    throw IoError(file_.string() + " was changed after the checkpoint: its first " + std::to_string(prefix.bytes) +
                  " bytes are not the rows the checkpoint saw" + restore);
  // Rows after the checkpoint come again, identically, from the resumed run.
  if (size > prefix.bytes && ::ftruncate(fd_, static_cast<off_t>(prefix.bytes)) != 0)
    throw IoError("cannot cut " + file_.string() + " back to the checkpoint: " + describe_errno(errno));
  on_disk_ = prefix;
}

CountsWriter::~CountsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void CountsWriter::open_for_append(bool fresh) {
  if (fresh) {
    // Like the rename of an atomic write: whatever had the name (a file, a link) is
    // replaced, never written through.
    if (::unlink(file_.c_str()) != 0 && errno != ENOENT)
      throw IoError("cannot replace " + file_.string() + ": " + describe_errno(errno));
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  } else {
    fd_ = ::open(file_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd_ < 0) throw IoError("cannot write " + file_.string() + ": " + describe_errno(errno));
}

void CountsWriter::observe(double time_s, const Simulator& sim) {
  columns_.values(time_s, sim, row_);
  pending_ += format_time(time_s);
  for (std::size_t k = 0; k < row_.size(); ++k) {
    pending_ += "," + format_count(row_[k], columns_.is_integer(k));
  }
  pending_ += "\n";
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_flush_).count() > 5.0 || time_s >= model_.t_end_s) flush();
}

void CountsWriter::append_now(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(on_disk_.bytes + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      // Cut a partly written row back off: the file keeps ending with a whole row.
      [[maybe_unused]] const int cut = ::ftruncate(fd_, static_cast<off_t>(on_disk_.bytes));
      throw IoError("cannot write " + file_.string() + ": " + describe_errno(err));
    }
    done += static_cast<std::size_t>(n);
  }
}

void CountsWriter::flush() {
  if (!pending_.empty()) {
    append_now(pending_);
    on_disk_.crc32 = crc32_extend(on_disk_.crc32, pending_);
    on_disk_.bytes += pending_.size();
    pending_.clear();
  }
  if (::fsync(fd_) != 0) throw IoError("cannot flush " + file_.string() + " to disk: " + describe_errno(errno));
  last_flush_ = std::chrono::steady_clock::now();
}

}  // namespace spinesim
