// SBML import and export of the well-mixed part (io/sbml.h): the shipped pathway
// round-trips to identical dynamics; foreign SBML in moles, litres and minutes is
// converted to the pathway's units exactly as the formulas in sbml.h say; what is not
// supported is refused naming the SBML element and its line.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "api/run.h"
#include "core/error.h"
#include "io/sbml.h"
#include "support/temp_dir.h"

namespace spinesim {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string scene_with_pathway(const std::string& pathway_file, double t_end) {
  std::ostringstream s;
  s << "simulation { dt_s: 1e-4 t_end_s: " << t_end << " seed: 9 grid_cell_um: 0.25 }\n"
    << "geometry { box { } }\n"
    << "output { counts_interval_s: " << t_end / 20 << " frame_interval_s: 0 render_png: false }\n"
    << "well_mixed_file: \"" << pathway_file << "\"\n";
  return s.str();
}

/// A foreign model: mole, litre and minute units; A and B given as concentrations.
std::string foreign_sbml(const std::string& extra_reaction = "", const std::string& extra_model = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="foreign" substanceUnits="mole" timeUnits="minute" volumeUnits="litre" extentUnits="mole">
    <listOfUnitDefinitions>
      <unitDefinition id="minute"><listOfUnits><unit kind="second" exponent="1" scale="0" multiplier="60"/></listOfUnits></unitDefinition>
    </listOfUnitDefinitions>
    <listOfCompartments>
      <compartment id="cell" spatialDimensions="3" size="2e-15" constant="true"/>
    </listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="cell" initialConcentration="1e-6" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="B" compartment="cell" initialAmount="3.3210778e-21" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
      <species id="C" compartment="cell" initialConcentration="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="kon" value="6e7" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="bind" reversible="false">
        <listOfReactants>
          <speciesReference species="A" stoichiometry="1" constant="true"/>
          <speciesReference species="B" stoichiometry="1" constant="true"/>
        </listOfReactants>
        <listOfProducts><speciesReference species="C" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>kon</ci><ci>A</ci><apply><divide/><ci>B</ci><ci>cell</ci></apply><ci>cell</ci></apply>
        </math></kineticLaw>
      </reaction>
      <reaction id="decay" reversible="false">
        <listOfReactants><speciesReference species="C" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>k</ci><ci>C</ci><ci>cell</ci></apply>
        </math><listOfLocalParameters><localParameter id="k" value="6"/></listOfLocalParameters></kineticLaw>
      </reaction>
)" + extra_reaction +
         R"(    </listOfReactions>
)" + extra_model +
         R"(  </model>
</sbml>
)";
}

}  // namespace

TEST_CASE("SBML: the shipped pathway exported and read back gives the same run") {
  testing::TempDir dir;
  const std::string pathway = std::string(SPINESIM_SOURCE_DIR) + "/scenes/pathways/spine_pathway.pbtxt";
  const std::string xml = export_sbml(pathway);
  REQUIRE(looks_like_xml(xml));
  CHECK(xml.find("level=\"3\" version=\"2\"") != std::string::npos);
  // Valid SBML by libSBML's own consistency rules, units included.
  const auto problems = sbml_consistency_problems(xml);
  for (const auto& p : problems) MESSAGE(p);
  CHECK(problems.empty());
  { std::ofstream(dir.path / "pathway.xml") << xml; }
  // The ketamine scene with its pathway file replaced by the SBML export.
  const std::string scene_file = std::string(SPINESIM_SOURCE_DIR) + "/scenes/ketamine_spine.pbtxt";
  std::string scene = read_text(scene_file);
  const std::string original = "\"pathways/spine_pathway.pbtxt\"";
  REQUIRE(scene.find(original) != std::string::npos);
  std::string via_sbml = scene;
  via_sbml.replace(via_sbml.find(original), original.size(), "\"" + (dir.path / "pathway.xml").string() + "\"");
  api::RunOptions options;
  options.seed = 4;
  options.t_end_s = 30;
  auto a = api::Run::from_text(scene, scene_file, options);
  auto b = api::Run::from_text(via_sbml, scene_file, options);
  CHECK(a.model().well_mixed.reactions.size() == 40);
  REQUIRE(b.model().well_mixed.reactions.size() == a.model().well_mixed.reactions.size());
  for (std::size_t r = 0; r < a.model().well_mixed.reactions.size(); ++r)
    CHECK(b.model().well_mixed.reactions[r].rate == a.model().well_mixed.reactions[r].rate);
  a.run_to_end();
  b.run_to_end();
  CHECK(a.stats().pool_reactions > 10000);
  CHECK(b.stats().pool_reactions == a.stats().pool_reactions);
  CHECK(b.count_columns() == a.count_columns());
  CHECK(b.count_rows() == a.count_rows());
  // Exporting the SBML again gives the same document (nothing lost on the way).
  { std::ofstream(dir.path / "scene_via_sbml.pbtxt") << scene_with_pathway("pathway.xml", 1); }
  std::string again = export_sbml((dir.path / "scene_via_sbml.pbtxt").string());
  const std::string id_again = "model id=\"scene_via_sbml\"", id = "model id=\"spine_pathway\"";
  REQUIRE(again.find(id_again) != std::string::npos);
  again.replace(again.find(id_again), id_again.size(), id);  // the model is named after the file
  CHECK(again == xml);
}

TEST_CASE("SBML: a foreign model in moles, litres and minutes is converted exactly") {
  testing::TempDir dir;
  { std::ofstream(dir.path / "foreign.xml") << foreign_sbml(); }
  auto run = api::Run::from_text(scene_with_pathway("foreign.xml", 1), (dir.path / "scene.pbtxt").string());
  const WellMixedModel& wm = run.model().well_mixed;
  REQUIRE(wm.pools.size() == 1);
  // 2e-15 L = 2 µm³.
  CHECK(wm.pools[0].volume_um3 == doctest::Approx(2.0).epsilon(1e-14));
  // A: 1 µM in 2 µm³ = 1204.43 molecules, rounded; B: 3.3210778e-21 mol = 2000.0 molecules.
  CHECK(run.model().well_mixed.species[0].initial_count == 1204);
  CHECK(run.model().well_mixed.species[1].initial_count == 2000);
  // kon = 6e7 /(M·min) = 1e6 /(M·s) = 1 /(µM·s): the law kon·[A]·([B]·... )·V is in mol/min.
  CHECK(wm.reactions[0].rate == doctest::Approx(1.0).epsilon(1e-12));
  // k = 6 /min with the law k·[C]·V (mol/min): 0.1 /s.
  CHECK(wm.reactions[1].rate == doctest::Approx(0.1).epsilon(1e-12));
}

TEST_CASE("SBML: unsupported content is refused naming the element and its line") {
  testing::TempDir dir;
  auto refuse = [&](const std::string& xml, const std::string& want) {
    { std::ofstream(dir.path / "bad.xml") << xml; }
    try {
      api::Run::from_text(scene_with_pathway("bad.xml", 1), (dir.path / "scene.pbtxt").string());
      FAIL("accepted: " << want);
    } catch (const InputError& e) {
      const std::string message = e.what();
      CAPTURE(message);
      CHECK(message.find(want) != std::string::npos);
      CHECK(std::regex_search(message, std::regex("bad\\.xml:[0-9]+:")));  // file:line
    }
  };
  const std::string mm = R"(      <reaction id="mm" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><divide/><apply><times/><ci>kon</ci><ci>A</ci></apply><apply><plus/><cn>1</cn><ci>A</ci></apply></apply>
        </math></kineticLaw>
      </reaction>
)";
  refuse(foreign_sbml(mm), "reaction 'mm' kineticLaw");
  const std::string other = R"(      <reaction id="other" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><times/><ci>kon</ci><ci>A</ci><ci>B</ci></apply>
        </math></kineticLaw>
      </reaction>
)";
  refuse(foreign_sbml(other), "each reactant must appear to the power of its stoichiometry");
  const std::string event = R"(    <listOfEvents><event id="kick" useValuesFromTriggerTime="true">
      <trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol><cn>1</cn></apply></math></trigger>
      <listOfEventAssignments><eventAssignment variable="A"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>0</cn></math></eventAssignment></listOfEventAssignments>
    </event></listOfEvents>
)";
  refuse(foreign_sbml("", event), "event 'kick'");
  const std::string rule = R"(    <listOfRules><assignmentRule variable="kon"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn>1</cn></math></assignmentRule></listOfRules>
)";
  refuse(foreign_sbml("", rule), "rule for 'kon'");
  std::string boundary = foreign_sbml();
  boundary.replace(boundary.find("boundaryCondition=\"false\""), 25, "boundaryCondition=\"true\" ");
  refuse(boundary, "species 'A'");
  refuse("<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\"><model id=\"x\">"
         "<listOfSpecies><species id=\"A\"/></listOfSpecies></model></sbml>",
         "bad.xml");
}

}  // namespace spinesim
