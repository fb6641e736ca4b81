// The oneTBB stepper must reproduce the serial reference stepper bit for bit, with
// absorbing and transparent surfaces and membrane walkers present.
#include <doctest/doctest.h>

#include <cstring>

#include "engine/parallel/tbb_stepper.h"
#include "engine/simulator.h"
#include "support/models.h"

using namespace spinesim;
using namespace spinesim::testing;

namespace {
Model busy_spine_model() {
  SpineParams p;
  p.cleft = true;
  Model m = single_species_model(build_spine(p), "glu", false, 330.0, 1e-6, 31);
  SpeciesDef r;
  r.name = "receptor";
  r.membrane = true;
  r.diffusion_um2_per_s = 0.1;
  m.species.push_back(r);
  const Geometry& g = m.geometry;
  m.surface_behaviour.assign(g.region_names.size() * m.species.size(), SurfaceBehaviour::kReflect);
  // Glutamate escapes at the cleft rim (absorbed) and the shaft ends pass molecules out.
  m.surface_behaviour[g.find_region("cleft_rim") * m.species.size() + 0] = SurfaceBehaviour::kAbsorb;
  m.surface_behaviour[g.find_region("shaft_end") * m.species.size() + 0] = SurfaceBehaviour::kTransmit;
  m.placements.push_back({0, 6000, PlacementDef::Where::kCompartment, g.find_compartment("cleft"), {}, -1});
  m.placements.push_back({0, 6000, PlacementDef::Where::kCompartment, g.find_compartment("cytosol"), {}, -1});
  m.placements.push_back({1, 3000, PlacementDef::Where::kRegion, -1, {}, g.find_region("psd")});
  m.placements.push_back({1, 3000, PlacementDef::Where::kRegion, -1, {}, g.find_region("head")});
  return m;
}

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}
}  // namespace

TEST_CASE("serial and oneTBB steppers give identical worlds" * doctest::test_suite("threads")) {
  const Model m = busy_spine_model();
  Simulator serial(m, std::make_unique<SerialStepper>());
  Simulator two(m, make_tbb_stepper(2));
  Simulator four(m, make_tbb_stepper(4));
  for (Simulator* s : {&serial, &two, &four}) {
    World& w = s->mutable_world();
    Stepper& st = const_cast<Stepper&>(s->stepper());
    for (int k = 0; k < 300; ++k) st.step(s->diffusion_context(), w);
  }
  const World& a = serial.world();
  CHECK(a.absorbed[m.geometry.find_region("cleft_rim") * 2] > 0);  // the test exercises absorption
  for (const Simulator* s : {&two, &four}) {
    const World& b = s->world();
    CHECK(same_bytes(a.volume.x, b.volume.x));
    CHECK(same_bytes(a.volume.y, b.volume.y));
    CHECK(same_bytes(a.volume.z, b.volume.z));
    CHECK(same_bytes(a.volume.id, b.volume.id));
    CHECK(same_bytes(a.volume.compartment, b.volume.compartment));
    CHECK(same_bytes(a.membrane.triangle, b.membrane.triangle));
    CHECK(same_bytes(a.membrane.u, b.membrane.u));
    CHECK(same_bytes(a.membrane.v, b.membrane.v));
    CHECK(a.absorbed == b.absorbed);
    CHECK(a.crossed == b.crossed);
  }
}
