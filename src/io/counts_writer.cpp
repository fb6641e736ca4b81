#include "io/counts_writer.h"

#include <cstdio>

#include "core/atomic_file.h"

namespace spinesim {

std::string format_time(double t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", t);
  return buf;
}

CountsWriter::CountsWriter(const Model& model, std::filesystem::path file)
    : model_(model), file_(std::move(file)), last_flush_(std::chrono::steady_clock::now()) {
  const Geometry& g = model.geometry;
  for (int s : model.count_species) {
    const SpeciesDef& sp = model.species[s];
    if (!sp.membrane) {
      for (std::size_t c = 0; c < g.compartment_names.size(); ++c) {
        spec_.push_back({Column::kVolume, s, static_cast<int>(c)});
        columns_.push_back(sp.name + "@" + g.compartment_names[c]);
      }
    } else {
      for (std::size_t r = 0; r < g.region_names.size(); ++r) {
        if (sp.confine_region >= 0 && sp.confine_region != static_cast<int>(r)) continue;
        spec_.push_back({Column::kMembrane, s, static_cast<int>(r)});
        columns_.push_back(sp.name + "@" + g.region_names[r]);
      }
    }
  }
  for (std::size_t r = 0; r < g.region_names.size(); ++r)
    for (int s : model.count_species) {
      const auto b = model.behaviour(static_cast<RegionId>(r), s);
      if (b == SurfaceBehaviour::kAbsorb) {
        spec_.push_back({Column::kAbsorbed, s, static_cast<int>(r)});
        columns_.push_back("absorbed:" + model.species[s].name + "@" + g.region_names[r]);
      } else if (b == SurfaceBehaviour::kTransmit) {
        spec_.push_back({Column::kCrossed, s, static_cast<int>(r)});
        columns_.push_back("crossed:" + model.species[s].name + "@" + g.region_names[r]);
      }
    }
  text_ = "time_s";
  for (const auto& c : columns_) text_ += "," + c;
  text_ += "\n";
  flush();
}

void CountsWriter::observe(double time_s, const Simulator& sim) {
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
  text_ += format_time(time_s);
  for (const Column& c : spec_) {
    std::uint64_t v = 0;
    switch (c.kind) {
      case Column::kVolume:
        v = vol[c.species * g.compartment_names.size() + c.place];
        break;
      case Column::kMembrane:
        v = mem[c.species * g.region_names.size() + c.place];
        break;
      case Column::kAbsorbed:
        v = w.absorbed[c.place * n_species + c.species];
        break;
      case Column::kCrossed:
        v = w.crossed[c.place * n_species + c.species];
        break;
    }
    text_ += "," + std::to_string(v);
  }
  text_ += "\n";
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_flush_).count() > 5.0 || time_s >= model_.t_end_s) flush();
}

void CountsWriter::flush() {
  atomic_write(file_, text_);
  last_flush_ = std::chrono::steady_clock::now();
}

}  // namespace spinesim
